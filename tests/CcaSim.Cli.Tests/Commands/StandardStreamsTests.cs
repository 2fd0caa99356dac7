namespace CcaSim.Cli.Tests.Commands;

/// <summary>
/// Standard streams the shell closed (<c>&gt;&amp;-</c>, <c>&lt;&amp;-</c>, <c>2&gt;&amp;-</c>) or opened the wrong way: the runtime
/// reuses a closed descriptor for its own pipes, so ccasim must neither write into nor wait on them. Each case ends
/// with its documented exit code, never 70 (internal error), an abort or a hang.
/// </summary>
public sealed class StandardStreamsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ccasim-streams-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("{ CCASIM rmm SCRIPT; echo done; } > OUT", "B 80000000\nV 0\ndone\n")]
    [InlineData("{ CCASIM rmm SCRIPT; CCASIM rmm SCRIPT; } > OUT", "B 80000000\nV 0\nB 80000000\nV 0\n")]
    [InlineData("echo 'smc RMI_VERSION 0x20000' | CCASIM rmm --strict > OUT 2>&1", "R 1 10000 10000 0 0\nccasim rmm: --strict: 1 unexpected result(s); first at script line 1: R 1 10000 10000 0 0\n")]
    [InlineData("CCASIM rmm --strict SCRIPT2 > OUT 2>&1", "R 1 10000 10000 0 0\nccasim rmm: --strict: 1 unexpected result(s); first at script line 1: R 1 10000 10000 0 0\n")]
    [InlineData("{ CCASIM rmm; cat; } < SCRIPT > OUT", "B 80000000\nV 0\n")]
    public void StandardStreamsThatAreRegularFiles_ShareTheirOffsetWithOtherUsers(string command, string expected)
    {
        // A FileStream over descriptor 0 or 1 reads and writes at its own position: it would overwrite what others
        // wrote to the same file, and leave a later reader to read the script again.
        string script = Path.Combine(_dir, "s.rmm");
        string output = Path.Combine(_dir, "out");
        File.WriteAllText(script, "base\nr64 g0\n");
        string script2 = Path.Combine(_dir, "s2.rmm");
        File.WriteAllText(script2, "smc RMI_VERSION 0x20000\n");

        CcasimProcess.Shell(command.Replace("SCRIPT2", $"'{script2}'", StringComparison.Ordinal).Replace("SCRIPT", $"'{script}'", StringComparison.Ordinal).Replace("OUT", $"'{output}'", StringComparison.Ordinal));

        Assert.Equal(expected, File.ReadAllText(output));
    }

    [Theory]
    [InlineData("echo base | CCASIM rmm >&-")]
    [InlineData("CCASIM platform-key >&-")]
    [InlineData("CCASIM rmm --help >&-")]
    [InlineData("CCASIM platform-key 1</dev/null")]
    public void StandardOutputClosedOrReadOnly_IsOneLineAndExit3(string command)
    {
        (int code, _, string error) = CcasimProcess.Shell(command);

        Assert.Equal(3, code);
        Assert.Matches("^ccasim( rmm)?: cannot write standard output: [^\n]+\n$", error);
    }

    [Fact]
    public void Rmm_StandardInputNotOpenForReading_IsOneLineAndExit3()
    {
        (int code, string output, string error) = CcasimProcess.Shell("CCASIM rmm 0>/dev/null");

        Assert.Equal(3, code);
        Assert.Equal("", output);
        Assert.Equal("ccasim rmm: cannot read standard input: it is not open for reading\n", error);
    }

    [Fact]
    public void Rmm_BlockedOnAStalledOutputPipe_EndsOnASecondSigterm()
    {
        // The first SIGTERM asks the run to stop at the end of its line; a run blocked in a write never gets there.
        string script = Path.Combine(_dir, "long.rmm");
        File.WriteAllText(script, string.Concat(Enumerable.Repeat("base\n", 200_000)));
        using System.Diagnostics.Process p = CcasimProcess.Start("rmm", script);

        // Nobody reads its standard output, so the pipe fills and the run blocks writing into it.
        for (int i = 0; i < 500 && !p.HasExited && !File.ReadAllText($"/proc/{p.Id}/wchan").Contains("pipe", StringComparison.Ordinal); i++)
        {
            Thread.Sleep(20);
        }

        Signal(p.Id);
        Thread.Sleep(200);
        Signal(p.Id);

        bool ended = p.WaitForExit(60_000);
        if (!ended)
        {
            p.Kill();
        }

        Assert.True(ended, "ccasim rmm ignored a second SIGTERM");
    }

    private static void Signal(int pid)
    {
        using var kill = System.Diagnostics.Process.Start("kill", ["-TERM", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    [Fact]
    public void Rmm_StandardInputClosed_IsOneLineAndExit3_NotAHang()
    {
        (int code, string output, string error) = CcasimProcess.Shell("timeout 60 CCASIM rmm <&-");

        Assert.Equal(3, code);
        Assert.Equal("", output);
        Assert.Equal("ccasim rmm: cannot read standard input: it is closed\n", error);
    }

    [Fact]
    public void Verify_DevStdinWhenStandardInputIsClosed_IsOneLineAndExit3_NotAHang()
    {
        (int code, _, string error) = CcasimProcess.Shell("timeout 60 CCASIM verify /dev/stdin <&-");

        Assert.Equal(3, code);
        Assert.Equal("ccasim verify: cannot read token '/dev/stdin': standard input is closed\n", error);
    }

    [Theory]
    [InlineData("CCASIM bogus 2>&-", 2)]
    [InlineData("CCASIM rmm --pool-size 0 2>&-", 2)]
    [InlineData("CCASIM rmm --pool-size 0 2>/dev/full", 2)]
    [InlineData("CCASIM verify /nonexistent-ccasim 2>&-", 2)]
    [InlineData("echo base | CCASIM rmm 2>&-", 0)]
    public void StandardErrorClosedOrFull_KeepsTheDocumentedExitCode(string command, int exit)
    {
        (int code, string output, _) = CcasimProcess.Shell(command);

        Assert.Equal(exit, code);
        Assert.Equal(exit == 0 ? "B 80000000\n" : "", output);
    }

    [Fact]
    public void Rmm_OutputPipeClosedByTheReader_StopsQuietlyWithTheSigpipeStatus()
    {
        // head exits after one byte; the runtime's console stream would drop every later write (EPIPE) and run the
        // rest of the script for nothing, then exit 0. A Unix tool dies of SIGPIPE there: no message, status 141.
        (_, _, string error) = CcasimProcess.Shell(
            "( yes 'dump g0 4096' 2>/dev/null | head -n 20000 2>/dev/null | CCASIM rmm; echo \"rc=$?\" >&2 ) | head -c 1 > /dev/null");

        Assert.Equal("rc=141\n", error);
    }
}
