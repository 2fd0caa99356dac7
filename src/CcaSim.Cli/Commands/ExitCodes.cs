namespace CcaSim.Cli.Commands;

/// <summary>Exit codes of every <c>ccasim</c> command (listed in <c>--help</c> and the README).</summary>
internal static class ExitCodes
{
    /// <summary>Done: the script ran to its end (its <c>E</c> lines are results, not failures), or the token verified.</summary>
    public const int Ok = 0;

    /// <summary><c>verify</c>: the token failed a check, or is not a token at all (e.g. larger than the cap); <c>rmm --strict</c>: a result the script did not expect.</summary>
    public const int Failed = 1;

    /// <summary>The command line is wrong: an unknown or malformed option, or a named file that is missing, a directory or unreadable.</summary>
    public const int Usage = 2;

    /// <summary>Input could not be read or output could not be written (I/O error, full device) after the command started.</summary>
    public const int Io = 3;

    /// <summary>
    /// Standard output's reader went away (<c>ccasim rmm big.rmm | head</c>): the run stops without a message, as a Unix
    /// tool killed by SIGPIPE does, and with the status a shell shows for one (128 + SIGPIPE).
    /// </summary>
    public const int BrokenPipe = 141;

    /// <summary>EPIPE: .NET reports the errno as the exception's HResult on Unix.</summary>
    public static bool IsBrokenPipe(IOException e) => e.HResult == 32;

    /// <summary><c>run</c>: the VM could not be built: a malformed image, an image that does not fit, or a configuration KVM or the RMM refuses.</summary>
    public const int VmNotBuilt = 4;

    /// <summary><c>run --token-out</c>: the guest exited 0 but printed no well-formed attestation token.</summary>
    public const int NoToken = 5;

    /// <summary><c>run</c>: the guest was still running at the <c>--max-instructions</c> budget or the <c>--timeout</c> (as timeout(1) exits).</summary>
    public const int RunLimit = 124;

    /// <summary><c>run</c>: the VM failed: the guest reported a crash, KVM_RUN failed, or an exit the VMM does not handle.</summary>
    public const int VmFailed = 125;

    /// <summary>A bug in ccasim: an unexpected exception, reported as one line (EX_SOFTWARE).</summary>
    public const int Internal = 70;

    /// <summary>rmm stopped by SIGINT or SIGTERM between two lines: 128 + the signal's number, as a shell reports it.</summary>
    public static int Interrupted(System.Runtime.InteropServices.PosixSignal signal) =>
        signal == System.Runtime.InteropServices.PosixSignal.SIGINT ? 130 : 143;

    public const string HelpText =
        "Exit codes: 0 done (rmm: ran to end of input; verify: token OK), run/demo: the guest's own exit status (EXIT: STATUS=n, else 0 on power-off), 1 verify: token failed a check, rmm --strict: an unexpected E line or error status, "
        + "2 usage error (bad option, missing/unreadable file), 3 I/O failure (input unreadable, output unwritable), 4 run: the VM could not be built (malformed image, configuration refused), 5 run --token-out: no token printed, 124 run: --max-instructions or --timeout reached, 125 run: the VM failed (crash, KVM_RUN error), 130/143 rmm interrupted (SIGINT/SIGTERM), 141 rmm: the reader of standard output went away (| head), 70 internal error.";
}
