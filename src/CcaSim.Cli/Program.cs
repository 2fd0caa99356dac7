using System.CommandLine;
using System.CommandLine.Invocation;
using CcaSim.Cli.Commands;

namespace CcaSim.Cli;

internal static class Program
{
    public static int Main(string[] args)
    {
        var root = new RootCommand("CcaSim: Arm CCA (RMM 1.0, Linux KVM v12 realms) as runnable software.")
        {
            RmmCommand.Create(),
            VerifyCommand.Create(),
            PlatformKeyCommand.Create(),
            RunCommand.Create(),
            MeasureCommand.Create(),
            DemoCommand.Create(),
        };
        var appendices = new Dictionary<string, Func<string>>(StringComparer.Ordinal) { ["rmm"] = RmmCommand.ScriptSyntax };
        foreach ((string command, string examples) in HelpExamples.ByCommand)
        {
            appendices[command] = () => examples.TrimEnd();
        }

        HelpWithAppendix.Install(root, appendices);

        StandardStreams.Install();
        try
        {
            ParseResult parse = root.Parse(args);
            if (parse.Action is ParseErrorAction && parse.Errors.Count > 0)
            {
                // One line naming the option and value, not the full help (issue 10).
                string command = parse.CommandResult.Command == root ? "ccasim" : $"ccasim {parse.CommandResult.Command.Name}";
                string problem = parse.CommandResult.Command != root ? string.Join("; ", parse.Errors.Select(e => e.Message))
                    : args.Length == 0 ? "no command given"
                    : !args[0].StartsWith('-') ? $"unknown command '{args[0]}'"
                    : string.Join("; ", parse.Errors.Select(e => e.Message));
                string commands = string.Join(", ", root.Subcommands.Select(c => c.Name));
                ReportError(parse.CommandResult.Command == root
                    ? $"ccasim: {problem}; the commands are {commands} (see 'ccasim --help')"
                    : $"{command}: {problem} (see '{command} --help')");
                return ExitCodes.Usage;
            }

            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Help and verify's report go through the console's writer; a full or failing device ends up here.
            return OutputFailed("ccasim", e);
        }
#pragma warning disable CA1031 // The last-resort net: a bug must still end as one line, never a stack trace.
        catch (Exception e)
#pragma warning restore CA1031
        {
            ReportError($"ccasim: internal error: {e.GetType().Name}: {Cli.Console.OutputFiles.OneLine(e.Message)}");
            return ExitCodes.Internal;
        }
    }

    /// <summary>
    /// Standard output could not be written: a closed pipe (EPIPE) ends quietly with <see cref="ExitCodes.BrokenPipe"/>,
    /// anything else is one line naming the reason (EBADF, raised as UnauthorizedAccessException, when standard output
    /// is open but not for writing: 1&lt;/dev/null) and <see cref="ExitCodes.Io"/>.
    /// </summary>
    public static int OutputFailed(string who, Exception e)
    {
        if (e is IOException io && ExitCodes.IsBrokenPipe(io))
        {
            return ExitCodes.BrokenPipe;
        }

        ReportError(e is UnauthorizedAccessException
            ? $"{who}: cannot write standard output: it is not open for writing"
            : $"{who}: cannot write standard output: {Cli.Console.OutputFiles.OneLine(e.Message)}");
        return ExitCodes.Io;
    }

    /// <summary>Writes one line to standard error; a standard error that cannot be written loses it quietly.</summary>
    public static void ReportError(string line)
    {
        try
        {
            System.Console.Error.WriteLine(line);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            // Nowhere left to say it (full, closed or read-only standard error); the exit code still does.
        }
    }
}
