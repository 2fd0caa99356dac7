using CcaSim.Cli.Console;
using CcaSim.Platform;
using CcaSim.Platform.Memory;
using CcaSim.Rmm;

namespace CcaSim.Cli.Tests.Console;

/// <summary>Issue 10 §2: whatever the input, one clear line and the run goes on.</summary>
public sealed class RmmConsoleInputTests
{
    [Theory]
    [InlineData("smc RMI_VERSION 0x10000 # note", "R 0 10000 10000 0 0")]
    [InlineData("smc RMI_VERSION 0x10000# note", "R 0 10000 10000 0 0")]
    [InlineData("base\t#", "B 80000000")]
    public void Run_TrailingComment_IsIgnored(string line, string expected)
    {
        (string output, RmmConsole console) = Run(line);

        Assert.Equal([expected], Lines(output));
        Assert.Equal(0, console.Errors);
    }

    [Theory]
    [InlineData("r64 g4503599627370496", "g4503599627370496")]
    [InlineData("smc RMI_GRANULE_DELEGATE g4503599627370496", "g4503599627370496")]
    [InlineData("w64 g4503599627370496 1", "g4503599627370496")]
    [InlineData("r64 g4503599627369984", "g4503599627369984")]
    [InlineData("r64 g1+0xffffffffffffffff", "g1+0xffffffffffffffff")]
    [InlineData("r64 0x10000000000000000", "0x10000000000000000")]
    [InlineData("r64 18446744073709551616", "18446744073709551616")]
    public void Value_ThatOverflows64Bits_IsBadArgAndChangesNothing(string line, string arg)
    {
        (string output, RmmConsole console) = Run(line + "\nr64 g0");

        Assert.Equal([$"E badarg {arg}", "V 0"], Lines(output));
        Assert.Equal(Pas.NonSecure, console.Platform.Gpt[console.Platform.Memory.Base]);
        Assert.Equal(0, console.Platform.Memory.CommittedGranules);
    }

    [Fact]
    public void Value_LargestGranuleBelow2To64_IsStillAnAddress()
    {
        // g(2^52 - 1 - base/4096) + 0xff8 is the last doubleword below 2^64: outside the pool, but an address.
        ulong last = (ulong.MaxValue - 0x8000_0000UL) >> 12;

        (string output, _) = Run($"r64 g{last}+0xff8");

        Assert.Equal([$"E range {0x8000_0000UL + (last << 12) + 0xff8:x}"], Lines(output));
    }

    [Fact]
    public void Run_OverlongLine_PrintsTooLongWithItsNumberAndGoesOn()
    {
        string script = "base\n" + new string('a', ScriptReader.MaxLineLength + 1) + "\nbase\n" + new string(' ', ScriptReader.MaxLineLength) + "\nbase";

        (string output, RmmConsole console) = Run(script);

        Assert.Equal(["B 80000000", "E toolong 2", "B 80000000", "B 80000000"], Lines(output));
        Assert.Equal(1, console.Errors);
    }

    [Fact]
    public void Run_LineOfManyMegabytes_IsSkippedWithoutHoldingIt()
    {
        // 64 MiB of one line: read in chunks and dropped; one E line, then the next line runs.
        using var input = new GeneratedReader(64L << 20, "\nbase\n");

        (string output, _) = Run(input);

        Assert.Equal(["E toolong 1", "B 80000000"], Lines(output));
        Assert.True(input.Consumed, "the whole line was read past");
    }

    [Fact]
    public void Run_OverlongLastLineWithoutNewline_PrintsTooLong()
    {
        (string output, _) = Run("base\n" + new string('x', ScriptReader.MaxLineLength + 10));

        Assert.Equal(["B 80000000", "E toolong 2"], Lines(output));
    }

    [Theory]
    [InlineData("\uFEFFbase\n")]
    [InlineData("\uFEFF\nbase\n")]
    [InlineData("base\r\n")]
    public void Run_ByteOrderMarkAndCarriageReturns_AreNotPartOfTheCommand(string script)
    {
        (string output, RmmConsole console) = Run(script);

        Assert.Equal(["B 80000000"], Lines(output));
        Assert.Equal(0, console.Errors);
    }

    [Fact]
    public void Run_ByteOrderMarkAfterTheStart_IsAnUnknownWord()
    {
        (string output, _) = Run("base\n\uFEFFbase\n");

        Assert.Equal(["B 80000000", "E unknown \\ufeffbase"], Lines(output));
    }

    [Theory]
    [InlineData("smc RMI_VERSION\0 0x10000", "E badarg RMI_VERSION\\x00")]
    [InlineData("\u001b[31mred", "E unknown \\x1b[31mred")]
    [InlineData("\u200bbase", "E unknown \\u200bbase")]
    [InlineData("base\u200ex", "E unknown base\\u200ex")]
    [InlineData("smc RMI_VERSION 0x10000\u0007", "E badarg 0x10000\\x07")]
    public void Run_ControlOrInvisibleCharacterInAWord_IsEscapedInTheELine(string line, string expected)
    {
        // Echoed raw, a CR or an escape sequence rewrites the terminal line, and an invisible character makes
        // "E unknown base" look like a valid command.
        (string output, RmmConsole console) = Run(line);

        Assert.Equal([expected], Lines(output));
        Assert.Equal(1, console.Errors);
    }

    [Theory]
    [InlineData("smc\vRMI_VERSION\v0x10000", "R 0 10000 10000 0 0")]
    [InlineData("smc\fRMI_VERSION 0x10000", "R 0 10000 10000 0 0")]
    [InlineData("smc\u00a0RMI_VERSION\u3000 0x10000", "R 0 10000 10000 0 0")]
    [InlineData("smc RMI_VERSION 0x10000\rbase", "E badarg base")]
    [InlineData("base\u2028\u0085", "B 80000000")]
    [InlineData("smc RMI_VERSION 0x10000 =>\vR\u00a00", "R 0 10000 10000 0 0")]
    public void Run_AnyWhitespace_SeparatesWords(string line, string expected)
    {
        (string output, _) = Run(line);

        Assert.Equal([expected], Lines(output));
    }

    [Fact]
    public void Rsi_QueuedWithNoLaterRecEnter_IsReportedAtEndOfInput()
    {
        (string output, RmmConsole console) = Run("rsi RSI_VERSION 0x10000\nrsi PSCI_VERSION\nbase");

        Assert.Equal(["B 80000000", "E unrun 2"], Lines(output));
        Assert.Equal(1, console.Errors);
    }

    [Theory]
    [InlineData("rdump g0 0 8", "E notrd g0")]
    [InlineData("rdump g7 0x1000 8 /tmp/never-written", "E notrd g7")]
    [InlineData("rdump 0x1000 0 8", "E notrd 0x1000")]
    [InlineData("rdump g0+8 0 8", "E notrd g0+8")]
    public void Rdump_OfSomethingThatIsNotAnRd_PrintsNotRd(string line, string expected)
    {
        (string output, RmmConsole console) = Run(line);

        Assert.Equal([expected], Lines(output));
        Assert.Equal(1, console.Errors);
    }

    [Theory]
    [InlineData("/tmp/a\0b", "E io file name contains a NUL character")]
    [InlineData("/proc", "E io '/proc' is a directory")]
    [InlineData("/nonexistent-ccasim-dir/x.bin", "E io cannot write '/nonexistent-ccasim-dir/x.bin': ")]
    public void Rdump_ToAFileThatCannotBeWritten_PrintsIoAndGoesOn(string file, string expectedStart)
    {
        // The worked example leaves an RD at g0 with a measured data granule at IPA 0x3000.
        string script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "worked-example.rmm"));

        (string output, _) = Run(script + $"\nrdump g0 0x3000 8 {file}\nrdump g0 0x3000 2\n");
        string[] lines = Lines(output);

        Assert.StartsWith(expectedStart, lines[^2], StringComparison.Ordinal);
        Assert.DoesNotContain('\n', lines[^2]);
        Assert.StartsWith("D ", lines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void HostWrites_IntoMoreSlabsThanTheHostMemoryLimit_PrintNoMemAndTheRunGoesOn()
    {
        // A 1 TiB pool, writes into distinct 2 MiB regions: storage runs out at the limit, not the process.
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 40, MaxCommittedBytes = 16UL << 20 });
        var script = new System.Text.StringBuilder();
        for (int i = 0; i < 20_000; i++)
        {
            script.Append("w64 g").Append(i * 512).Append(" 1\n");
        }

        script.Append("w64 g1 7\nr64 g1\n");

        (string output, RmmConsole console) = Run(script.ToString(), platform);
        string[] lines = Lines(output);

        Assert.Equal(20_000 - 8, lines.Count(l => l.StartsWith("E nomem ", StringComparison.Ordinal)));
        Assert.Equal($"E nomem {platform.Memory.Base + (8UL * 512 * 4096):x}", lines[0]);
        Assert.Equal("V 7", lines[^1]);
        Assert.Equal(8, platform.Memory.CommittedSlabs);
        Assert.Equal(20_000 - 8, console.Errors);
    }

    [Theory]
    [InlineData(true, 4)]
    [InlineData(false, 1)]
    public void Run_FlushEachLine_FlushesAfterEveryCommand(bool flushEachLine, int expectedFlushes)
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        var output = new FlushCountingWriter();
        var console = new RmmConsole(platform, RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts), output) { FlushEachLine = flushEachLine };

        console.Run(new StringReader("base\n# comment\nbase\nr64 g0\n"));

        Assert.Equal(expectedFlushes, output.Flushes);
        Assert.Equal("B 80000000\nB 80000000\nV 0\n", output.ToString());
    }

    [Fact]
    public void Run_StoppedBetweenLines_WritesTheResultsSoFarAndReportsNoUnrunCalls()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        using var stop = new CancellationTokenSource();
        var output = new StringWriter();
        var console = new RmmConsole(platform, RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts), output) { Stop = stop.Token };

        // The reader stands in for SIGINT arriving while line 3 runs.
        console.Run(new CallbackReader("base\nrsi RSI_VERSION\nbase\nbase\nbase\n", afterLines: 3, stop.Cancel));

        Assert.Equal(["B 80000000", "B 80000000"], Lines(output.ToString()));
        Assert.Equal(3, console.LinesRun);
    }

    [Fact]
    public void Run_StoppedInALineThatNeverEnds_Returns()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        using var stop = new CancellationTokenSource();
        var output = new StringWriter();
        var console = new RmmConsole(platform, RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts), output) { Stop = stop.Token };

        // /dev/zero under SIGTERM: the signal arrives while the overlong line is being skipped.
        console.Run(new EndlessReader(readsBeforeStop: 100, stop.Cancel));

        Assert.Equal(["E toolong 1"], Lines(output.ToString()));
    }

    [Fact]
    public void Run_InputFailingPartWay_RunsTheLinesReadAndReportsTheError()
    {
        (string output, RmmConsole console) = Run(new FailingReader("base\nbase\n"));

        Assert.Equal(["B 80000000", "B 80000000"], Lines(output));
        Assert.Equal("Input/output error", console.InputError);
    }

    [Fact]
    public void Run_OutputFailing_LeavesAsIOException()
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        var console = new RmmConsole(platform, RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts), new FullDeviceWriter());

        Assert.Throws<IOException>(() => console.Run(new StringReader("base\n")));
    }

    [Fact]
    public void ErrorCodes_EveryCodeTheConsoleCanPrint_IsInTheCatalogueOnce()
    {
        string[] codes = [.. ErrorCodes.All.Select(e => e.Code)];

        Assert.Equal(codes.Length, codes.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(
            ["unknown", "arity", "badarg", "gpf", "range", "nomem", "unmapped", "notrd", "io", "toolong", "unrun"],
            codes);
    }

    private static (string Output, RmmConsole Console) Run(string script, CcaPlatform? platform = null) => Run(new StringReader(script), platform);

    private static (string Output, RmmConsole Console) Run(TextReader input, CcaPlatform? platform = null)
    {
        platform ??= new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts);
        var output = new StringWriter();
        var console = new RmmConsole(platform, rmm, output);
        console.Run(input);
        return (output.ToString(), console);
    }

    private static string[] Lines(string output) => output.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>A line of <c>length</c> 'a's, then <c>tail</c>, produced on demand (never held whole).</summary>
    private sealed class GeneratedReader(long length, string tail) : TextReader
    {
        private long _left = length;
        private int _tail;

        public bool Consumed => _left == 0;

        public override int Read(char[] buffer, int index, int count)
        {
            if (_left > 0)
            {
                int n = (int)Math.Min(count, _left);
                buffer.AsSpan(index, n).Fill('a');
                _left -= n;
                return n;
            }

            int m = Math.Min(count, tail.Length - _tail);
            tail.CopyTo(_tail, buffer, index, m);
            _tail += m;
            return m;
        }
    }

    /// <summary>Hands out its text a line a read, and calls <c>callback</c> as it hands out line <c>afterLines</c>.</summary>
    private sealed class CallbackReader(string text, int afterLines, Action callback) : TextReader
    {
        private readonly string[] _lines = text.Split('\n');
        private int _next;

        public override int Read(char[] buffer, int index, int count)
        {
            if (_next >= _lines.Length - 1)
            {
                return 0;
            }

            if (_next == afterLines - 1)
            {
                callback();
            }

            string line = _lines[_next++] + "\n";
            line.CopyTo(0, buffer, index, line.Length);
            return line.Length;
        }
    }

    [Theory]
    [InlineData("rdump g0 0x2ff8 16", "E unmapped 2ff8")]
    [InlineData("rdump g0 0x3ff8 16", "E unmapped 4000")]
    [InlineData("rdump g0 0x3000 0x100000", "E unmapped 4000")]
    [InlineData("rdump g0 0xfffffffffffffff8 16", "E unmapped fffffffffffffff8")]
    public void Rdump_ReachingAnUnmappedIpa_NamesTheFirstUnmappedIpa(string line, string expected)
    {
        // The worked example maps one data granule, at IPA 0x3000: a range that starts there and runs past it
        // must name 0x4000, not its (mapped) start.
        string script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "worked-example.rmm"));

        (string output, _) = Run(script + $"\n{line}\n");

        Assert.Equal(expected, Lines(output)[^1]);
    }

    [Fact]
    public void Rdump_ToAFullDevice_NamesThePathOnce()
    {
        string script = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "examples", "worked-example.rmm"));

        (string output, _) = Run(script + "\nrdump g0 0x3000 8 /dev/full\n");

        Assert.Equal("E io cannot write '/dev/full': No space left on device", Lines(output)[^1]);
    }

    /// <summary>Hands out its text, then fails as a device with an I/O error does.</summary>
    private sealed class EndlessReader(int readsBeforeStop, Action stop) : TextReader
    {
        private int _reads;

        public override int Read(char[] buffer, int index, int count)
        {
            if (++_reads == readsBeforeStop)
            {
                stop();
            }
            else if (_reads > readsBeforeStop + 1000)
            {
                // Fails the test instead of hanging it: the reader went on reading long after the stop.
                throw new InvalidOperationException("still reading 1000 reads after the stop");
            }

            buffer.AsSpan(index, count).Clear();
            return count;
        }
    }

    private sealed class FailingReader(string text) : TextReader
    {
        private bool _done;

        public override int Read(char[] buffer, int index, int count)
        {
            if (_done)
            {
                throw new IOException("Input/output error");
            }

            _done = true;
            text.CopyTo(0, buffer, index, text.Length);
            return text.Length;
        }
    }

    private sealed class FlushCountingWriter : StringWriter
    {
        public int Flushes { get; private set; }

        public override void Flush()
        {
            Flushes++;
            base.Flush();
        }
    }

    /// <summary>A writer on a full device: every write fails.</summary>
    private sealed class FullDeviceWriter : TextWriter
    {
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;

        public override void Write(char value) => throw new IOException("No space left on device");

        public override void Write(string? value) => throw new IOException("No space left on device");

        public override void Write(char[] buffer, int index, int count) => throw new IOException("No space left on device");
    }
}
