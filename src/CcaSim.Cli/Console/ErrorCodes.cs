namespace CcaSim.Cli.Console;

/// <summary>
/// The <c>E</c> results of <c>ccasim rmm</c>, code and meaning: the one catalogue that the console prints from,
/// <c>ccasim rmm --help</c> lists and the README mirrors.
/// </summary>
internal static class ErrorCodes
{
    public const string Unknown = "unknown";
    public const string Arity = "arity";
    public const string BadArg = "badarg";
    public const string Gpf = "gpf";
    public const string Range = "range";
    public const string NoMem = "nomem";
    public const string Unmapped = "unmapped";
    public const string NotRd = "notrd";
    public const string Io = "io";
    public const string TooLong = "toolong";
    public const string Unrun = "unrun";

    /// <summary>Every code with what it means and what follows it on the line, in the order help lists them.</summary>
    public static IReadOnlyList<(string Code, string Meaning)> All { get; } =
    [
        (Unknown, "WORD: the line's first word is not a command"),
        (Arity, "WORD: the command has too few or too many arguments"),
        (BadArg, "ARG: an argument is not a number, name or address, overflows 64 bits, or is out of the command's range"),
        (Gpf, "ADDR: the host access touches a granule the host may not (granule protection fault); nothing changed"),
        (Range, "ADDR: the host access is outside the memory pool; nothing changed"),
        (NoMem, "ADDR: the simulator's host memory limit (--host-memory-limit) is reached; nothing changed"),
        (Unmapped, "IPA: rdump reached an IPA the realm has no memory at"),
        (NotRd, "ADDR: rdump's first argument is not a realm descriptor (RD) granule"),
        (Io, "MESSAGE: rdump could not write its file"),
        (TooLong, $"N: input line N is longer than {ScriptReader.MaxLineLength} characters; it was skipped"),
        (Unrun, "N: at end of input, N queued rsi calls never ran (no RMI_REC_ENTER after them)"),
    ];
}
