using System.Globalization;
using System.Text;
using CcaSim.Cli.Console;
using CcaSim.Platform;
using CcaSim.Rmm;

namespace CcaSim.Cli.Tests.Console;

/// <summary>
/// Seeded random scripts, plausible and implausible lines mixed, run through the console in-process: nothing
/// throws, every well-formed smc line prints exactly one R line (a malformed one exactly one E line and no R),
/// no other line prints an R line, the RMM's invariants hold after every line, and the output is printable.
/// </summary>
public sealed class RandomScriptTests
{
    private const int LinesPerScript = 3000;

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(3, false)]
    [InlineData(20261207, true)]
    public void RandomScript_NothingThrows_EverySmcGetsOneResult_InvariantsHoldAfterEveryLine(int seed, bool explain)
    {
        List<ScriptLine> script = new RandomScript(seed).Generate(LinesPerScript);
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 64UL << 20 });
        RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts);
        var output = new StringWriter();
        var console = new RmmConsole(platform, rmm, output, new RmmConsoleOptions { Explain = explain });
        var problems = new List<string>();
        int consumed = 0;
        int executed = 0;
        console.LineCompleted = number =>
        {
            executed++;
            ScriptLine line = script[(int)number - 1];
            string printed = output.GetStringBuilder().ToString(consumed, output.GetStringBuilder().Length - consumed);
            consumed += printed.Length;
            string[] results = printed.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            int r = results.Count(l => l.StartsWith("R ", StringComparison.Ordinal));
            int e = results.Count(l => l.StartsWith("E ", StringComparison.Ordinal) && !l.StartsWith("E expect ", StringComparison.Ordinal));
            (int wantR, int wantE) = line.Kind switch
            {
                LineKind.Smc => (1, 0),
                LineKind.BadSmc => (0, 1),
                _ => (0, -1),
            };
            if (r != wantR || (wantE >= 0 && e != wantE))
            {
                problems.Add($"line {number} '{line.Text}' printed {r} R and {e} E lines: {printed}");
            }

            IReadOnlyList<string> broken = rmm.CheckInvariants(platform.Gpt, platform.HostMemory);
            if (broken.Count > 0)
            {
                problems.Add($"after line {number} '{line.Text}': {string.Join("; ", broken)}");
            }
        };

        console.Run(new StringReader(string.Join('\n', script.Select(l => l.Text))));

        Assert.Empty(problems.Take(5));
        Assert.True(executed > LinesPerScript / 2, $"only {executed} lines executed");

        // The plausible part did reach deep states: realms ran and their calls completed.
        string all = output.ToString();
        Assert.Contains("\nR 0 ", all, StringComparison.Ordinal);
        Assert.Contains("\nRSI ", all, StringComparison.Ordinal);

        // Whatever the script held, the output is printable lines: no CR, ESC, NUL or invisible character echoed.
        Assert.DoesNotContain(all, c => c != '\n' && Printable.NeedsEscape(c));
    }

    [Fact]
    public void RandomScript_IsDeterministicForASeed()
    {
        Assert.Equal(new RandomScript(7).Generate(500), new RandomScript(7).Generate(500));
    }

    internal enum LineKind
    {
        /// <summary>A well-formed smc line: exactly one R line.</summary>
        Smc,

        /// <summary>An smc line with a malformed token: exactly one E line, no R line.</summary>
        BadSmc,

        /// <summary>Anything else: no R line.</summary>
        Other,
    }

    internal readonly record struct ScriptLine(string Text, LineKind Kind);

    /// <summary>
    /// Realms live in slots: slot s uses granules 200+40s.. (RD, root, RTTs L1-L3, data, REC, 16 aux) and NS
    /// granules 500+s (realm params), 510+s (REC params), 520+s (run), 530 (data source).
    /// </summary>
    private sealed class RandomScript(int seed)
    {
        private static readonly string[] s_rmi = [.. FunctionNames.RmiNames];
        private static readonly string[] s_realmCalls =
        [
            "RSI_VERSION", "RSI_FEATURES", "RSI_MEASUREMENT_READ", "RSI_MEASUREMENT_EXTEND", "RSI_ATTESTATION_TOKEN_INIT",
            "RSI_ATTESTATION_TOKEN_CONTINUE", "RSI_REALM_CONFIG", "RSI_IPA_STATE_SET", "RSI_IPA_STATE_GET", "RSI_HOST_CALL",
            "PSCI_VERSION", "PSCI_FEATURES", "PSCI_CPU_ON_64", "PSCI_AFFINITY_INFO_64", "PSCI_CPU_SUSPEND_64", "PSCI_CPU_OFF",
            "PSCI_SYSTEM_OFF", "SMCCC_VERSION",
        ];

        private static readonly string[] s_expectations = ["SUCCESS", "ERROR_INPUT", "ERROR_RTT", "ERROR_RTT(1)", "R 0", "R 1 0", "V 5", "E gpf", "RSI_SUCCESS", "*", "E"];

        private readonly Random _random = new(seed);
        private readonly List<ScriptLine> _lines = [];

        public List<ScriptLine> Generate(int count)
        {
            while (_lines.Count < count)
            {
                switch (_random.Next(13))
                {
                    case 0 or 1:
                        BuildRealm(_random.Next(4));
                        break;
                    case 2 or 3:
                        Enter(_random.Next(4));
                        break;
                    case 4:
                        if (_random.Next(2) == 0)
                        {
                            Destroy(_random.Next(4));
                        }
                        else
                        {
                            Tables(_random.Next(4));
                        }

                        break;
                    case 5 or 6:
                        Smc(Pick(s_rmi), Args(_random.Next(7)));
                        break;
                    case 7:
                        Smc(Hex(_random.Next(3) == 0 ? (ulong)_random.NextInt64() : 0xC400_0140UL + (ulong)_random.Next(0x80)), Args(_random.Next(7)));
                        break;
                    case 8:
                        Add($"smc {Pick(s_rmi)} {string.Join(' ', Args(_random.Next(6)))} {Pick(["g-1", "0xzz", "g", "99999999999999999999999", "0x", "g1+", "-", "realm_pcx"])}", LineKind.BadSmc);
                        break;
                    case 9:
                        Add(Garbage(), LineKind.Other);
                        break;
                    case 10:
                        Memory();
                        break;
                    case 11:
                        Edge();
                        break;
                    default:
                        Add($"rsi {(_random.Next(4) == 0 ? Hex((ulong)_random.NextInt64()) : Pick(s_realmCalls))} {string.Join(' ', Args(_random.Next(12)))}", LineKind.Other);
                        break;
                }
            }

            return _lines[..count];
        }

        private void BuildRealm(int s)
        {
            int b = 200 + (40 * s);
            int p = 500 + s;
            for (int g = b; g <= b + 29; g++)
            {
                Smc("RMI_GRANULE_DELEGATE", $"g{g}");
            }

            Add($"zero g{p}", LineKind.Other);
            Add($"w64 g{p}+0x8 {Pick(["48", "48", "40", "33", "52", "0"])}", LineKind.Other);
            Add($"w64 g{p}+0x18 1", LineKind.Other);
            Add($"w64 g{p}+0x20 1", LineKind.Other);
            Add($"w64 g{p}+0x800 {s + 1}", LineKind.Other);
            Add($"w64 g{p}+0x808 g{b + 1}", LineKind.Other);
            Add($"w64 g{p}+0x810 {Pick(["0", "0", "1"])}", LineKind.Other);
            Add($"w64 g{p}+0x818 1", LineKind.Other);
            Smc("RMI_REALM_CREATE", $"g{b}", $"g{p}");
            Smc("RMI_RTT_CREATE", $"g{b}", $"g{b + 2}", "0", "1");
            Smc("RMI_RTT_CREATE", $"g{b}", $"g{b + 3}", "0", "2");
            Smc("RMI_RTT_CREATE", $"g{b}", $"g{b + 4}", "0", "3");
            Smc("RMI_RTT_INIT_RIPAS", $"g{b}", "0x1000", Pick(["0x4000", "0x200000", "0x3000"]));
            Smc("RMI_DATA_CREATE", $"g{b}", $"g{b + 5}", "0x1000", "g530", Pick(["0", "1"]));
            int r = 510 + s;
            Add($"zero g{r}", LineKind.Other);
            Add($"w64 g{r} {Pick(["1", "1", "0"])}", LineKind.Other);
            Add($"w64 g{r}+0x200 realm_pc", LineKind.Other);
            Add($"w64 g{r}+0x800 16", LineKind.Other);
            for (int i = 0; i < 16; i++)
            {
                Add($"w64 g{r}+0x{0x808 + (8 * i):x} g{b + 7 + i}", LineKind.Other);
            }

            Smc("RMI_REC_CREATE", $"g{b}", $"g{b + 6}", $"g{r}");
            if (_random.Next(4) != 0)
            {
                Smc("RMI_REALM_ACTIVATE", $"g{b}");
            }
        }

        private void Enter(int s)
        {
            int b = 200 + (40 * s);
            for (int i = _random.Next(5); i > 0; i--)
            {
                string call = Pick(s_realmCalls);
                string args = call switch
                {
                    "RSI_IPA_STATE_SET" => $"{Pick(["0x1000", "0x2000", "0x5000"])} {Pick(["0x3000", "0x6000", "0x1000"])} {_random.Next(3)} 0",
                    "RSI_HOST_CALL" or "RSI_REALM_CONFIG" => Pick(["0x1000", "0x1f00", "0x2000", "0x123"]),
                    "RSI_ATTESTATION_TOKEN_CONTINUE" => $"{Pick(["0x1000", "0x2000"])} 0 {Pick(["0x1000", "0x100", "0"])}",
                    "PSCI_CPU_ON_64" => $"{_random.Next(3)} realm_pc 0",
                    _ => string.Join(' ', Args(_random.Next(4))),
                };
                Add($"rsi {call} {args}", LineKind.Other);
            }

            if (_random.Next(5) == 0)
            {
                Add("irq 1", LineKind.Other);
            }

            Add($"w64 g{520 + s} {Pick(["0", "1", "16", "4"])}", LineKind.Other);
            Smc("RMI_REC_ENTER", $"g{b + 6}", $"g{520 + s}");
            Add($"r64 g{520 + s}+0x{Pick(["800", "900", "d00", "d08", "a00", "e00"])}", LineKind.Other);
            if (_random.Next(3) == 0)
            {
                Smc("RMI_RTT_SET_RIPAS", $"g{b}", $"g{b + 6}", Pick(["0x1000", "0x5000", "0x2000"]), Pick(["0x6000", "0x3000"]));
            }

            if (_random.Next(4) == 0)
            {
                Smc("RMI_PSCI_COMPLETE", $"g{b + 6}", $"g{b + 6}", Pick(["0", "0xfffffffffffffffd"]));
            }

            Add("irq 0", LineKind.Other);
        }

        /// <summary>Unprotected mappings, a fold and DATA_CREATE_UNKNOWN, with the slot's spare granules b+23..b+29.</summary>
        private void Tables(int s)
        {
            int b = 200 + (40 * s);
            const string Ns = "0x800000000000";
            Smc("RMI_RTT_CREATE", $"g{b}", $"g{b + 23}", Ns, "1");
            Smc("RMI_RTT_CREATE", $"g{b}", $"g{b + 24}", Ns, "2");
            Smc("RMI_RTT_CREATE", $"g{b}", $"g{b + 25}", Ns, "3");
            for (int i = _random.Next(4); i > 0; i--)
            {
                string ipa = $"0x{0x8000_0000_0000UL + (0x1000UL * (ulong)_random.Next(3)):x}";
                Smc("RMI_RTT_MAP_UNPROTECTED", $"g{b}", ipa, "3", $"g{600 + _random.Next(8)}+{Pick(["0", "0x44", "0x4c", "0x10", "0x1"])}");
                Smc("RMI_RTT_READ_ENTRY", $"g{b}", ipa, Pick(["3", "2"]));
                if (_random.Next(2) == 0)
                {
                    Smc("RMI_RTT_UNMAP_UNPROTECTED", $"g{b}", ipa, "3");
                }
            }

            Smc("RMI_RTT_CREATE", $"g{b}", $"g{b + 26}", "0x200000", "3");
            Smc("RMI_RTT_FOLD", $"g{b}", Pick(["0x200000", "0x0", Ns]), Pick(["3", "2"]));
            Smc("RMI_DATA_CREATE_UNKNOWN", $"g{b}", $"g{b + 27}", Pick(["0x2000", "0x201000", "0x1000"]));
            Smc("RMI_DATA_DESTROY", $"g{b}", Pick(["0x2000", "0x201000"]));
            Smc("RMI_RTT_DESTROY", $"g{b}", Pick([Ns, "0x200000"]), "3");
        }

        private void Destroy(int s)
        {
            int b = 200 + (40 * s);
            Smc("RMI_REC_DESTROY", $"g{b + 6}");
            Smc("RMI_DATA_DESTROY", $"g{b}", "0x1000");
            Smc("RMI_RTT_DESTROY", $"g{b}", "0", "3");
            Smc("RMI_RTT_DESTROY", $"g{b}", "0", "2");
            Smc("RMI_RTT_DESTROY", $"g{b}", "0", "1");
            Smc("RMI_REALM_DESTROY", $"g{b}");
            for (int g = b; g <= b + 29; g++)
            {
                if (_random.Next(8) != 0)
                {
                    Smc("RMI_GRANULE_UNDELEGATE", $"g{g}");
                }
            }
        }

        private void Memory()
        {
            string addr = Value();
            Add(_random.Next(6) switch
            {
                0 => $"w64 {addr} {Value()}",
                1 => $"r64 {addr}",
                2 => $"zero {addr}",
                3 => $"dump {addr} {Pick(["8", "0", "4096", "0x100001", "0xffffffffffffffff"])}",
                4 => $"rdump g{200 + (40 * _random.Next(4))} {Pick(["0x1000", "0x1ff8", "0", "0xffffffffffff"])} {Pick(["8", "0x1000", "0x200000"])}",
                _ => Pick(["base", "irq 1", "irq 0", "irq 2", "base 1", "r64", "w64 1 2 3"]),
            }, LineKind.Other);
        }

        /// <summary>
        /// The kinds of line that broke the console before (issue 10 and after): odd whitespace and invisible
        /// characters, too many words, SVE-hinted and lower-case FIDs, malformed expectations, files that cannot be
        /// written, accesses at the pool's end and IPAs near 2^64, overlong lines.
        /// </summary>
        private void Edge()
        {
            string fid = Pick(s_rmi);
            switch (_random.Next(9))
            {
                case 0:
                    Add($"smc{Pick(["\v", "\f", "\u00a0", "\t", "\u3000"])}{fid}{Pick([" ", "\r", "\u2028", "\u0085"])}{string.Join(' ', Args(_random.Next(4)))}", LineKind.Smc);
                    break;
                case 1:
                    Add($"smc {fid} {string.Join(' ', Args(7 + _random.Next(30)))}", LineKind.BadSmc);
                    break;
                case 2:
                    Add($"smc {Pick([fid.ToLowerInvariant(), fid + "\u200b", "\ufeff" + fid, fid + "\ud800"])} 0", LineKind.BadSmc);
                    break;
                case 3:
                    Smc(Hex(0xC401_0140UL + (ulong)_random.Next(0x40)), Args(_random.Next(4)));
                    break;
                case 4:
                    _lines.Add(new ScriptLine($"smc {fid} {Value()} {Pick(["=>", "=> R", "=> ERROR_RTT(", "=> ERROR_RTT(99999999999)", "=> => R 0", "=> r 0", "=> \u0000", "=> E\rx"])}", LineKind.Smc));
                    break;
                case 5:
                    Add($"rdump g{200 + (40 * _random.Next(4))} {Pick(["0x1000", "0xfffffffffffff000", "0xffffffffffffffff"])} {Pick(["8", "0", "0x100000"])} {Pick(["/dev/null", "/dev/full", "/nonexistent-ccasim-dir/x", "/proc", "a\u0001b"])}", LineKind.Other);
                    break;
                case 6:
                    // The 64 MiB pool ends at granule 16384.
                    Add(Pick(["dump g16383+4095 2", "dump g16383+4088 8", "zero g16383", "zero g16383+4095", "w64 g16383+4092 1", "w64 g0+4093 1", "r64 g16383+4089", "dump g16384 0", "dump 0xffffffffffffffff 1"]), LineKind.Other);
                    break;
                case 7:
                    Add($"rsi {Pick(s_realmCalls)} {string.Join(' ', Args(10 + _random.Next(3)))}", LineKind.Other);
                    break;
                default:
                    Add(new string(Pick(['a', ' ', '#']), ScriptReader.MaxLineLength + _random.Next(2)), LineKind.Other);
                    break;
            }
        }

        private string Garbage()
        {
            const string alphabet = "abcdefgxyz0123456789_+-=>#\t \0\u00e9\u4e2d\u0001\u007f@$%()[]{}\\\"'\r\v\f\u00a0\u200b\ufeff\u2028\u0085\ud800\u001b";
            var sb = new StringBuilder();
            for (int i = _random.Next(1, 80); i > 0; i--)
            {
                sb.Append(alphabet[_random.Next(alphabet.Length)]);
            }

            // A garbage line must not start an smc (the R count would depend on luck) or hide a line break.
            string text = sb.ToString();
            return text.TrimStart().StartsWith("smc", StringComparison.Ordinal) ? "x" + text : text;
        }

        private string[] Args(int n)
        {
            string[] args = new string[n];
            for (int i = 0; i < n; i++)
            {
                args[i] = Value();
            }

            return args;
        }

        private string Value() => _random.Next(10) switch
        {
            0 or 1 or 2 => $"g{_random.Next(600)}",
            3 => $"g{_random.Next(600)}+0x{_random.Next(0x1000):x}",
            4 => Pick(["0", "1", "2", "3", "0x1000", "0x3000", "0x800000000000", "realm_pc"]),
            5 => Hex(ulong.MaxValue - (ulong)_random.Next(4)),
            6 => $"g{_random.NextInt64(1L << 40)}",
            7 => _random.Next(100).ToString(CultureInfo.InvariantCulture),
            8 => "-" + _random.Next(1, 10).ToString(CultureInfo.InvariantCulture),
            _ => Hex((ulong)_random.NextInt64() << _random.Next(2)),
        };

        private void Smc(string fid, params string[] args) => Add($"smc {fid} {string.Join(' ', args)}", LineKind.Smc);

        private void Add(string text, LineKind kind)
        {
            // Some lines carry an expectation (right or wrong): the transcript must cope with either.
            if (_random.Next(10) == 0)
            {
                text += $" => {Pick(s_expectations)}";
            }

            _lines.Add(new ScriptLine(text, kind));
        }

        private T Pick<T>(T[] items) => items[_random.Next(items.Length)];

        private static string Hex(ulong v) => $"0x{v:x}";
    }
}
