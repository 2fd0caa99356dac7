namespace CcaSim.Cli.Tests.Commands;

/// <summary>
/// Standard streams the shell closed (<c>&gt;&amp;-</c>, <c>&lt;&amp;-</c>, <c>2&gt;&amp;-</c>) or opened the wrong way: the runtime
/// reuses a closed descriptor for its own pipes, so ccasim must neither write into nor wait on them. Each case ends
/// with its documented exit code, never 70 (internal error), an abort or a hang.
/// </summary>
public sealed class StandardStreamsTests
{
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
