namespace CcaSim.Cli.Console;

/// <summary>How <c>ccasim rmm</c> presents and judges its results (<c>--explain</c>, <c>--strict</c>).</summary>
internal sealed record RmmConsoleOptions
{
    /// <summary>Annotate each result line with spec names (<see cref="ResultNames"/>).</summary>
    public bool Explain { get; init; }

    /// <summary>Judge every result line from the first, for <c>--strict</c> (<see cref="Transcript.Offences"/>).</summary>
    public bool Strict { get; init; }
}
