using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace CcaSim.Cli.Commands;

/// <summary>
/// <c>--help</c> as System.CommandLine prints it, followed by a command's own text (the script syntax and
/// <c>E</c> codes of <c>rmm</c>, the exit codes of every command).
/// </summary>
internal sealed class HelpWithAppendix : SynchronousCommandLineAction
{
    private readonly SynchronousCommandLineAction _inner;
    private readonly IReadOnlyDictionary<string, Func<string>> _appendices;

    private HelpWithAppendix(SynchronousCommandLineAction inner, IReadOnlyDictionary<string, Func<string>> appendices)
    {
        _inner = inner;
        _appendices = appendices;
    }

    /// <summary>
    /// Makes the root's help option print, after the usual help, the appendix of the command asked about (built only
    /// when help is asked for, not on every start).
    /// </summary>
    public static void Install(RootCommand root, IReadOnlyDictionary<string, Func<string>> appendices)
    {
        foreach (Option option in root.Options)
        {
            if (option is HelpOption { Action: SynchronousCommandLineAction inner } help)
            {
                help.Action = new HelpWithAppendix(inner, appendices);
            }
        }
    }

    public override int Invoke(ParseResult parseResult)
    {
        int result = _inner.Invoke(parseResult);
        TextWriter output = parseResult.InvocationConfiguration.Output;
        if (_appendices.TryGetValue(parseResult.CommandResult.Command.Name, out Func<string>? appendix))
        {
            output.WriteLine(appendix());
            output.WriteLine();
        }

        output.WriteLine(ExitCodes.HelpText);
        return result;
    }
}
