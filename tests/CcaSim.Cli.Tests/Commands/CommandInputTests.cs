using CcaSim.Attestation;
using CcaSim.Cli.Console;

namespace CcaSim.Cli.Tests.Commands;

/// <summary>
/// Issue 10 §2 at the command line: every bad input, file or device gives one clear line on stderr (never a .NET
/// stack trace) and the documented exit code: 0 done, 1 token failed, 2 usage, 3 I/O.
/// </summary>
public sealed class CommandInputTests : IDisposable
{
    private static readonly byte[] s_challenge = Filled(64, 0x11);
    private static readonly byte[] s_rim = Filled(32, 0x33);
    private static readonly byte[][] s_rems = [Filled(32, 0x41), Filled(32, 0x42), Filled(32, 0x43), Filled(32, 0x44)];
    private readonly string _dir = Directory.CreateTempSubdirectory("ccasim-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData(2, "ccasim: no command given; the commands are rmm, verify, platform-key, run, measure, demo (see 'ccasim --help')")]
    [InlineData(2, "ccasim: unknown command 'bogus'; the commands are rmm, verify, platform-key, run, measure, demo (see 'ccasim --help')", "bogus")]
    [InlineData(2, "ccasim rmm: Unrecognized command or argument 'b.rmm'. (see 'ccasim rmm --help')", "rmm", "a.rmm", "b.rmm")]
    [InlineData(2, "ccasim rmm: script file name is empty", "rmm", "")]
    [InlineData(2, "ccasim rmm: --s2sz 'abc' is not a number (see 'ccasim rmm --help')", "rmm", "--s2sz", "abc")]
    [InlineData(2, "ccasim rmm: --lpa2 'maybe' is not true or false (see 'ccasim rmm --help')", "rmm", "--lpa2", "maybe")]
    [InlineData(2, "ccasim rmm: --vmid-bits '8x' is not a number (see 'ccasim rmm --help')", "rmm", "--vmid-bits", "8x")]
    [InlineData(2, "ccasim rmm: --vmid-bits '2147483648' is out of range (see 'ccasim rmm --help')", "rmm", "--vmid-bits", "2147483648")]
    [InlineData(2, "ccasim rmm: --s2sz '0x100000000' is out of range (see 'ccasim rmm --help')", "rmm", "--s2sz", "0x100000000")]
    [InlineData(2, "ccasim rmm: --gic-lrs '-' is not a number (see 'ccasim rmm --help')", "rmm", "--gic-lrs", "-")]
    [InlineData(2, "ccasim rmm: unknown option '--bogus'", "rmm", "--bogus")]
    [InlineData(2, "ccasim rmm: script '/nonexistent-ccasim' does not exist", "rmm", "/nonexistent-ccasim")]
    [InlineData(2, "ccasim rmm: --host-memory-limit 'lots' is not a size", "rmm", "--host-memory-limit", "lots")]
    [InlineData(2, "ccasim rmm: --pool-size '-1' is not a size", "rmm", "--pool-size", "-1")]
    [InlineData(2, "ccasim rmm: --pool-base '-4096' is not an address", "rmm", "--pool-base", "-4096")]
    [InlineData(2, "ccasim rmm: --host-memory-limit '-1' is not a size", "rmm", "--host-memory-limit", "-1")]
    [InlineData(2, "ccasim rmm: --max-recs-order must be 1..15\n", "rmm", "--max-recs-order", "16")]
    [InlineData(2, "ccasim rmm: --max-recs-order must be 1..15\n", "rmm", "--max-recs-order", "0")]
    [InlineData(2, "ccasim rmm: script '--pool-size' does not exist", "rmm", "--", "--pool-size")]
    [InlineData(2, "ccasim verify: token file name is empty", "verify", "")]
    [InlineData(2, "ccasim verify: token '/nonexistent-ccasim' does not exist", "verify", "/nonexistent-ccasim")]
    [InlineData(2, "ccasim verify: platform key '/nonexistent-ccasim' does not exist", "verify", "--platform-key", "/nonexistent-ccasim", "/dev/null")]
    [InlineData(2, "ccasim verify: --challenge is 2 bytes; it must be 64 bytes", "verify", "--challenge", "0011", "/dev/null")]
    [InlineData(2, "ccasim verify: --rpv is 1 bytes; it must be 64 bytes", "verify", "--rpv", "ff", "/dev/null")]
    [InlineData(2, "ccasim verify: --rim is 3 bytes; it must be 32 or 48 or 64 bytes", "verify", "--rim", "0xabcdef", "/dev/null")]
    [InlineData(2, "ccasim verify: --rem (REM2) is 1 bytes; it must be 32 or 48 or 64 bytes", "verify", "--rem", "-", "--rem", "01", "/dev/null")]
    [InlineData(2, "ccasim verify: --challenge 'xyz' is not hex", "verify", "--challenge", "xyz", "/dev/null")]
    [InlineData(2, "ccasim platform-key: key file '/nonexistent-ccasim' does not exist", "platform-key", "--platform-key-pem", "/nonexistent-ccasim")]
    [InlineData(1, "ccasim verify: token '/dev/zero' is larger than 65536 bytes; not a token", "verify", "/dev/zero")]
    [InlineData(2, "ccasim verify: platform key '/dev/zero' is larger than", "verify", "--platform-key", "/dev/zero", "/dev/null")]
    [InlineData(3, "ccasim verify: cannot read token '/proc/self/mem': Input/output error\n", "verify", "/proc/self/mem")]
    public void BadInput_GivesOneLineAndItsExitCode(int exit, string message, params string[] args)
    {
        (int code, string output, string error) = CcasimProcess.Run("", args);

        Assert.Equal(exit, code);
        Assert.StartsWith(message, error, StringComparison.Ordinal);
        AssertOneLineNoTrace(error);
        Assert.Equal("", output);
    }

    [Theory]
    [InlineData("verify", "--platform-key", "garbage\n", "ccasim verify: platform key '{0}' is not an EC key in PEM: no PEM-encoded key found in it\n")]
    [InlineData("verify", "--platform-key", "", "ccasim verify: platform key '{0}' is not an EC key in PEM: no PEM-encoded key found in it\n")]
    [InlineData("verify", "--platform-key", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "ccasim verify: platform key '{0}' is not an EC key in PEM: ")]
    [InlineData("platform-key", "--platform-key-pem", "garbage\n", "ccasim platform-key: key file '{0}' is not a P-384 private key in PEM: no PEM-encoded key found in it\n")]
    [InlineData("platform-key", "--rak-pem", "", "ccasim platform-key: key file '{0}' is not a P-384 private key in PEM: no PEM-encoded key found in it\n")]
    public void KeyFile_ThatIsNoKey_IsAUsageErrorInPlainWords(string command, string option, string content, string message)
    {
        string file = Path.Combine(_dir, "key.pem");
        File.WriteAllText(file, content);
        string[] args = command == "verify" ? [command, option, file, "/dev/null"] : [command, option, file];

        (int code, string output, string error) = CcasimProcess.Run("", args);

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith(string.Format(System.Globalization.CultureInfo.InvariantCulture, message, file), error, StringComparison.Ordinal);
        Assert.DoesNotContain("(Parameter", error, StringComparison.Ordinal);
        Assert.DoesNotContain("not the path", error, StringComparison.Ordinal);
        AssertOneLineNoTrace(error);
    }

    [Theory]
    [InlineData("rmm")]
    [InlineData("verify")]
    [InlineData("platform-key")]
    public void Directory_GivenAsScriptTokenOrKey_IsNamedAsADirectory(string command)
    {
        string[] args = command switch
        {
            "rmm" => ["rmm", _dir],
            "verify" => ["verify", _dir],
            _ => ["platform-key", "--rak-pem", _dir],
        };

        (int code, _, string error) = CcasimProcess.Run("", args);

        Assert.Equal(2, code);
        Assert.Contains($"'{_dir}' is a directory, not a file", error, StringComparison.Ordinal);
        AssertOneLineNoTrace(error);
    }

    [Fact]
    public void Lpa2_WithValue0_TakesItAsTheValueNotAsTheScript()
    {
        (int code, string output, string error) = CcasimProcess.Run("smc RMI_FEATURES 0\n", "rmm", "--lpa2", "0");

        Assert.Equal(0, code);
        Assert.Equal("", error);
        ulong features = Convert.ToUInt64(output.Split(' ')[2], 16);
        Assert.Equal(0UL, (features >> 9) & 1); // LPA2, FeatureRegister0 bit 9 (rmm-1.0.md §4.4)
    }

    [Fact]
    public void Verify_TokenOver2GiB_IsRefusedAfterReadingOnlyTheCap()
    {
        string big = Path.Combine(_dir, "big.cbor");
        using (var f = new FileStream(big, FileMode.CreateNew))
        {
            f.SetLength((2L << 30) + 10);
        }

        (int code, _, string error) = CcasimProcess.Run("", "verify", big);

        Assert.Equal(1, code);
        Assert.Equal($"ccasim verify: token '{big}' is larger than 65536 bytes; not a token\n", error);
    }

    [Theory]
    [InlineData("symlink")]
    [InlineData("stdin")]
    [InlineData("dash")]
    public void Verify_ThroughASymlinkOrStdin_ReportsTheBytesRead(string how)
    {
        byte[] token = Token();
        string file = Path.Combine(_dir, "token.cbor");
        File.WriteAllBytes(file, token);
        string link = Path.Combine(_dir, "link.cbor");
        File.CreateSymbolicLink(link, file);

        (int code, string output, string error) = how switch
        {
            "symlink" => CcasimProcess.Run("", "verify", link),
            "stdin" => CcasimProcess.Shell($"CCASIM verify /dev/stdin < '{file}'"),
            _ => CcasimProcess.Shell($"CCASIM verify - < '{file}'"),
        };

        Assert.Equal(0, code);
        Assert.Equal("", error);
        Assert.StartsWith($"OK Rel0 token, {token.Length} bytes\n", output, StringComparison.Ordinal);
    }

    [Fact]
    public void Verify_RemBeforeTheToken_LeavesTheTokenAsTheArgument_AndNumbersRemsFrom1()
    {
        string file = Path.Combine(_dir, "token.cbor");
        File.WriteAllBytes(file, Token());
        string wrong = new('0', 64);

        (int code, string output, string error) = CcasimProcess.Run("", "verify", "--rem", wrong, file);

        Assert.Equal(1, code);
        Assert.Equal("", error);
        Assert.Equal($"FAIL ExpectedExtensibleMeasurement: REM1 is {Convert.ToHexStringLower(s_rems[0])}, expected {wrong}\n", output);
    }

    [Fact]
    public void Verify_RemsRepeatedOrCommaSeparated_AreREM1ToREM4InOrder()
    {
        string file = Path.Combine(_dir, "token.cbor");
        File.WriteAllBytes(file, Token());
        string[] hex = [.. s_rems.Select(Convert.ToHexStringLower)];

        (int code, string output, _) = CcasimProcess.Run("", "verify", "--rem", $"{hex[0]},-", "--rem", hex[2], "--rem", hex[3], file);

        Assert.Equal(0, code);
        Assert.Contains($"  REM3 {hex[2]}\n", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CCASIM rmm --help > /dev/full")]
    [InlineData("echo base | CCASIM rmm > /dev/full")]
    [InlineData("CCASIM platform-key > /dev/full")]
    [InlineData("CCASIM verify /dev/zero --challenge 00 > /dev/full")]
    public void StandardOutputOnAFullDevice_IsOneLineAndExit3(string command)
    {
        (int code, _, string error) = CcasimProcess.Shell(command);

        // verify stops at the usage error before writing anything; the others fail writing.
        int expected = command.Contains("verify", StringComparison.Ordinal) ? 2 : 3;
        Assert.Equal(expected, code);
        AssertOneLineNoTrace(error);
        if (expected == 3)
        {
            Assert.EndsWith("cannot write standard output: No space left on device\n", error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_ReportOnAFullDevice_IsOneLineAndExit3()
    {
        string file = Path.Combine(_dir, "token.cbor");
        File.WriteAllBytes(file, Token());

        (int code, _, string error) = CcasimProcess.Shell($"CCASIM verify '{file}' > /dev/full");

        Assert.Equal(3, code);
        Assert.Equal("ccasim: cannot write standard output: No space left on device\n", error);
    }

    [Fact]
    public async Task Rmm_ScriptOfDevZero_ReportsTheEndlessLineAtOnce()
    {
        using System.Diagnostics.Process p = CcasimProcess.Start("rmm", "/dev/zero");
        try
        {
            // The line never ends; its E line must still come out (a guard against a hang, not a timing check).
            string? line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Equal("E toolong 1", line);
        }
        finally
        {
            p.Kill();
            p.WaitForExit();
        }
    }

    [Fact]
    public async Task Rmm_ThroughAPipe_WritesEachResultBeforeTheInputEnds()
    {
        using System.Diagnostics.Process p = CcasimProcess.Start("rmm");
        try
        {
            p.StandardInput.Write("base\n");
            p.StandardInput.Flush();
            // A guard against a hang, not a timing check: the line must come while input is still open.
            string? line = await p.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(120));
            Assert.Equal("B 80000000", line);

            p.StandardInput.Write("rsi RSI_VERSION\n");
            p.StandardInput.Close();
            Assert.Equal("E unrun 1", p.StandardOutput.ReadLine());
            p.WaitForExit();
            Assert.Equal(0, p.ExitCode);
        }
        finally
        {
            if (!p.HasExited)
            {
                p.Kill();
            }
        }
    }

    [Fact]
    public void Rmm_Help_ShowsTheScriptSyntaxEveryECodeAndTheExitCodes()
    {
        (int code, string output, _) = CcasimProcess.Run("", "rmm", "--help");

        Assert.Equal(0, code);
        Assert.Contains("smc FID [a0..a5]", output, StringComparison.Ordinal);
        foreach ((string errorCode, string meaning) in ErrorCodes.All)
        {
            Assert.Contains($"E {errorCode.PadRight(9)}{meaning}", output, StringComparison.Ordinal);
        }

        Assert.Contains("Exit codes: 0 done", output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("run", "ccasim run -k .build/guests/hello.bin --realm -c 2")]
    [InlineData("measure", "--json > hello.ref.json")]
    [InlineData("verify", "ccasim verify --rim hello.ref.json hello.cbor")]
    [InlineData("demo", "ccasim demo")]
    public void UserCommands_Help_EndsWithExamplesAndTheExitCodes(string command, string example)
    {
        (int code, string output, _) = CcasimProcess.Run("", command, "--help");

        Assert.Equal(0, code);
        int examples = output.IndexOf("Examples:\n", StringComparison.Ordinal);
        Assert.True(examples > output.IndexOf("Options:", StringComparison.Ordinal), output);
        Assert.Contains(example, output[examples..], StringComparison.Ordinal);
        Assert.True(output.IndexOf("Exit codes: 0 done", StringComparison.Ordinal) > examples, output);
    }

    [Fact]
    public void Readme_DocumentsEveryECode()
    {
        string readme = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "README.md"));

        foreach ((string errorCode, _) in ErrorCodes.All)
        {
            Assert.Contains($"| `E {errorCode} ", readme, StringComparison.Ordinal);
        }
    }

    private static void AssertOneLineNoTrace(string error)
    {
        Assert.Equal(1, error.Count(c => c == '\n'));
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", error, StringComparison.Ordinal);
    }

    private static byte[] Token()
    {
        PlatformDescription platform = PlatformDescription.Default;
        return platform.CreateToken(platform.CreateRealmClaims(s_challenge, Filled(64, 0x22), RealmHashAlgorithm.Sha256, s_rim, s_rems));
    }

    private static byte[] Filled(int length, byte value)
    {
        byte[] b = new byte[length];
        b.AsSpan().Fill(value);
        return b;
    }
}
