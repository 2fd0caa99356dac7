using CcaSim.Cli.Commands;
using CcaSim.Cli.Tests.Commands;

namespace CcaSim.Cli.Tests.Run;

/// <summary>Issue 12 items 2 and 5 as a user sees them: <c>ccasim run</c> and <c>ccasim demo</c> as real processes.</summary>
public sealed class RunProcessTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ccasim-run-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void Run_HelloRealmWithTokenOut_StreamsTheUartExitsZeroAndWritesATokenVerifyAccepts()
    {
        string token = Path.Combine(_dir, "token.cbor");

        (int code, string output, string error) = CcasimProcess.Run("", "run", "-k", GuestFiles.Bin("hello"), "--realm", "-c", "2", "--token-out", token, "--max-instructions", "200000000");

        Assert.Equal(0, code);
        Assert.StartsWith("Hello from a CcaSim guest\nrunning in a realm\n", output, StringComparison.Ordinal);
        Assert.EndsWith("EXIT: STATUS=0\n", output, StringComparison.Ordinal);
        Assert.Contains("ccasim run: the guest powered off (exit status 0)", error, StringComparison.Ordinal);
        string rim = output.Split('\n').Single(l => l.StartsWith("RIM: ", StringComparison.Ordinal))[5..];
        (int verifyCode, string verified, _) = CcasimProcess.Run("", "verify", "--rim", rim, token);
        Assert.Equal(0, verifyCode);
        Assert.StartsWith("OK Rel0 token, ", verified, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_Quiet_PrintsNothingOfItsOwn()
    {
        (int code, string output, string error) = CcasimProcess.Run("", "run", "-k", GuestFiles.Bin("hello"), "--quiet", "--max-instructions", "200000000");

        Assert.Equal(0, code);
        Assert.Equal("Hello from a CcaSim guest\nrunning in a normal VM\nEXIT: STATUS=0\n", output);
        Assert.Equal("", error);
    }

    [Theory]
    [InlineData(ExitCodes.Usage, "--cpus 0", "-c", "0")]
    [InlineData(ExitCodes.Usage, "--kernel image '/nonexistent.bin' does not exist", "-k", "/nonexistent.bin")]
    [InlineData(ExitCodes.Usage, "--measurement-algo 'md5'", "--realm", "--measurement-algo", "md5")]
    [InlineData(ExitCodes.VmNotBuilt, "give the VM more memory (--mem)", "-m", "1")]
    public void Run_BadInput_IsOneLineOnStandardErrorWithItsExitCode(int expectedCode, string expected, params string[] args)
    {
        string[] full = ["run", .. args.Contains("-k") ? [] : new[] { "-k", GuestFiles.Bin("hello") }, .. args, "--quiet"];

        (int code, string output, string error) = CcasimProcess.Run("", full);

        Assert.Equal(expectedCode, code);
        Assert.Equal("", output);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.Equal(1, error.Count(c => c == '\n'));
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "ccasim run: cannot write standard output: No space left on device\n")]
    [InlineData("run --realm", "ccasim run: cannot write standard output: No space left on device\n")]
    [InlineData("measure", "ccasim measure: cannot write standard output: No space left on device\n")]
    public void StandardOutputOnAFullDevice_IsOneLineAndExit3(string command, string expected)
    {
        (int code, _, string error) = CcasimProcess.Shell($"CCASIM {command} -k '{GuestFiles.Bin("hello")}' {(command == "measure" ? "" : "-q")} > /dev/full");

        Assert.Equal(ExitCodes.Io, code);
        Assert.Equal(expected, error);
    }

    [Fact]
    public void Run_RunawayGuest_EndsAtMaxInstructionsWithItsOwnExitCode()
    {
        string spin = Path.Combine(_dir, "spin.bin");
        File.WriteAllBytes(spin, GuestFiles.Spin);

        (int code, string output, string error) = CcasimProcess.Run("", "run", "-k", spin, "--realm", "--max-instructions", "100000", "--quiet");

        Assert.Equal(ExitCodes.RunLimit, code);
        Assert.Equal("", output);
        Assert.Equal("ccasim run: the guest was still running after 100000 instructions of virtual time (--max-instructions)\n", error);
    }

    [Fact]
    public void Run_TokenOutOfAGuestWithoutToken_SaysSoAndWritesNothing()
    {
        string token = Path.Combine(_dir, "none.cbor");

        (int code, _, string error) = CcasimProcess.Run("", "run", "-k", GuestFiles.Bin("hello"), "--token-out", token, "--quiet");

        Assert.Equal(ExitCodes.NoToken, code);
        Assert.Contains("no attestation token", error, StringComparison.Ordinal);
        Assert.False(File.Exists(token));
    }

    [Fact]
    public void Run_Trace_WritesChromeTraceEventsPerVcpuOnTheVirtualTimeLine()
    {
        string trace = Path.Combine(_dir, "trace.json");

        (int code, _, _) = CcasimProcess.Run("", "run", "-k", GuestFiles.Bin("hello"), "--realm", "-c", "2", "--trace", trace, "--quiet");

        Assert.Equal(0, code);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(trace));
        System.Text.Json.JsonElement[] events = [.. doc.RootElement.GetProperty("traceEvents").EnumerateArray()];
        string[] tracks = [.. events.Where(e => e.GetProperty("name").GetString() == "thread_name").Select(e => e.GetProperty("args").GetProperty("name").GetString()!)];
        Assert.Contains("vCPU 0", tracks);
        Assert.Contains("vCPU 1", tracks);
        Assert.Contains(events, e => e.GetProperty("name").GetString() == "populate kernel" && e.GetProperty("args").GetProperty("address").GetString() == "0x80080000");
        Assert.Contains(events, e => e.GetProperty("name").GetString() == "MMIO write uart");
        System.Text.Json.JsonElement last = events.Last(e => e.GetProperty("ph").GetString() == "X" && e.GetProperty("name").GetString()!.StartsWith("KVM_RUN", StringComparison.Ordinal));
        Assert.Equal("SystemEvent", last.GetProperty("args").GetProperty("exit").GetString());
        double[] times = [.. events.Where(e => e.TryGetProperty("ts", out _)).Select(e => e.GetProperty("ts").GetDouble())];
        Assert.Equal(times.Order(), times);
    }

    private static System.Text.Json.JsonElement[] TraceOf(string payload, string trace, params string[] mode)
    {
        (int code, _, string error) = CcasimProcess.Run("", ["run", "-k", GuestFiles.Bin(payload), .. mode, "--trace", trace, "--quiet"]);
        Assert.True(code == 0, error);
        using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllBytes(trace));
        return [.. doc.RootElement.GetProperty("traceEvents").EnumerateArray().Select(e => e.Clone())];
    }

    private static string Name(System.Text.Json.JsonElement e) => e.GetProperty("name").GetString()!;

    private static string Arg(System.Text.Json.JsonElement e, string name) =>
        e.GetProperty("args").TryGetProperty(name, out System.Text.Json.JsonElement v) ? v.ToString() : "";

    [Fact]
    public void Run_TraceOfARealm_ShowsRmiCallsRsiAndPsciCallsRecExitsAndMmioInTimeOrder()
    {
        System.Text.Json.JsonElement[] events = TraceOf("hello", Path.Combine(_dir, "realm.json"), "--realm");

        string[] tracks = [.. events.Where(e => Name(e) == "thread_name").Select(e => Arg(e, "name"))];
        Assert.Contains("host (RMI calls by KVM)", tracks);
        foreach (string rmi in new[] { "RMI_REALM_CREATE", "RMI_DATA_CREATE", "RMI_REC_CREATE", "RMI_REALM_ACTIVATE", "RMI_REC_ENTER" })
        {
            Assert.Contains(events, e => Name(e) == rmi && Arg(e, "status") == "RMI_SUCCESS");
        }

        Assert.Contains(events, e => Name(e) == "RSI_VERSION" && Arg(e, "result") == "RSI_SUCCESS");
        Assert.Contains(events, e => Name(e) == "RSI_ATTESTATION_TOKEN_INIT");
        Assert.Contains(events, e => Name(e) == "RSI_ATTESTATION_TOKEN_CONTINUE");
        Assert.Contains(events, e => Name(e) == "PSCI_SYSTEM_OFF");
        Assert.Contains(events, e => Name(e) == "REC run → RMI_EXIT_PSCI");
        System.Text.Json.JsonElement mmio = events.First(e => Name(e) == "REC run → RMI_EXIT_SYNC" && Arg(e, "ipa") == "0x101000000"); // the UART, through the unprotected alias of a 33-bit IPA space
        Assert.Equal("RMI_EXIT_SYNC", Arg(mmio, "exit"));
        Assert.StartsWith("0x91", Arg(mmio, "esr"), StringComparison.Ordinal); // EC 0x24 (a data abort) with ISV
        Assert.Equal("strb w1, [x0]", Arg(mmio, "disassembly"));
        Assert.True(mmio.GetProperty("args").GetProperty("instructions").GetUInt64() > 0);
        Assert.Contains(events, e => Name(e) == "MMIO write uart");
        double[] times = [.. events.Where(e => e.TryGetProperty("ts", out _)).Select(e => e.GetProperty("ts").GetDouble())];
        Assert.Equal(times.Order(), times);
    }

    [Theory]
    [InlineData("--realm")]
    [InlineData("")]
    public void Run_TraceOfTheIrqTimerPayload_ShowsTimerPpisAndTheInterruptsTaken(string mode)
    {
        System.Text.Json.JsonElement[] events = TraceOf("irq-timer", Path.Combine(_dir, "irq.json"), mode.Length == 0 ? [] : [mode]);

        Assert.Contains(events, e => Name(e) == "CNTV timer fired (PPI 27)");
        Assert.Contains(events, e => Name(e) == "IRQ 27 taken" && Arg(e, "intid") == "27");
        Assert.Contains(events, e => Name(e) == (mode == "--realm" ? "REC run → RMI_EXIT_IRQ" : "guest run → Irq"));
    }

    [Fact]
    public void Run_TraceOfTheExceptionsPayload_DisassemblesTheFaultingInstructions()
    {
        System.Text.Json.JsonElement[] events = TraceOf("exceptions", Path.Combine(_dir, "exceptions.json"), "--realm");

        // Its stage-1 aborts are taken by the guest (EC 0x25), its MMIO by the host (a REC exit at the UART).
        Assert.Contains(events, e => Name(e) == "guest exception EC 0x25" && Arg(e, "disassembly").StartsWith("ldr ", StringComparison.Ordinal));
        Assert.Contains(events, e => Name(e) == "guest exception EC 0x00" && Arg(e, "instruction") != "");
        Assert.Contains(events, e => Name(e) == "REC run → RMI_EXIT_SYNC" && Arg(e, "ipa").StartsWith("0x10100000", StringComparison.Ordinal)
            && (Arg(e, "disassembly").StartsWith("ldrb ", StringComparison.Ordinal) || Arg(e, "disassembly").StartsWith("strb ", StringComparison.Ordinal)));
    }

    [Fact]
    public void Run_TraceIntoAMissingDirectory_IsAUsageErrorNamingTheFile()
    {
        string trace = Path.Combine(_dir, "no", "such", "trace.json");

        (int code, string output, string error) = CcasimProcess.Run("", "run", "-k", GuestFiles.Bin("hello"), "--trace", trace);

        Assert.Equal(ExitCodes.Usage, code);
        Assert.Equal("", output);
        Assert.StartsWith($"ccasim run: --trace: cannot create '{trace}'", error, StringComparison.Ordinal);
        Assert.Equal(1, error.Count(c => c == '\n'));
    }

    [Fact]
    public void Demo_BootsHelloAsARealm_PredictsItsRimVerifiesItsTokenAndExitsZero()
    {
        (int code, string output, string error) = CcasimProcess.Run("", "demo");

        Assert.Equal(0, code);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.StartsWith("Hello from a CcaSim guest\nrunning in a realm\n", output, StringComparison.Ordinal);
        string rim = output.Split('\n').Single(l => l.StartsWith("RIM: ", StringComparison.Ordinal))[5..];
        Assert.Contains("predicted rim: " + rim + "\n", output, StringComparison.Ordinal);
        Assert.Contains("booted rim:    " + rim + " (as predicted)\n", output, StringComparison.Ordinal);
        Assert.Contains("token:         OK: ", output, StringComparison.Ordinal);
        Assert.Contains("realm:         hello.bin, 2 vCPUs", output, StringComparison.Ordinal);
        Assert.Contains("exit:          0 (the guest powered off)", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_WhenTheCpuEnginesLibraryCannotBeLoaded_SaysSoInOneLineAndExits4()
    {
        string hello = GuestFiles.Bin("hello");

        var start = new System.Diagnostics.ProcessStartInfo(CcasimProcess.Dotnet) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string a in new[] { Path.Combine(AppContext.BaseDirectory, "ccasim.dll"), "run", "-q", "-k", hello })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["CCASIM_UNICORN"] = "/nonexistent/libunicorn.so.2";
        using var p = System.Diagnostics.Process.Start(start)!;
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        string error = await p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        (int code, string output) = (p.ExitCode, await stdout);

        Assert.Equal(ExitCodes.VmNotBuilt, code);
        Assert.Equal("", output);
        Assert.Equal("ccasim run: CCASIM_UNICORN=/nonexistent/libunicorn.so.2: cannot load it as libunicorn.so.2\n", error);
    }
}
