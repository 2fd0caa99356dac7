using System.Diagnostics;
using System.Globalization;
using System.Text;
using CcaSim.Kvm;
using CcaSim.Kvm.MemoryAttributes;
using CcaSim.Kvm.Uapi;
using CcaSim.Platform;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Bench;

/// <summary>
/// RMI throughput harness. <c>inproc</c>: runs each workload against the RMM in-process (SMCs through the
/// monitor, no parsing) and prints the median commands/s. <c>scripts</c>: times <c>./ccasim rmm</c> (the launcher,
/// so whichever build it made: NativeAOT, or ReadyToRun as its fallback) on the generated scripts, process start and
/// output included, then the start-up alone. <c>gen</c>: writes the scripts. <c>attributes</c>:
/// KVM_SET_MEMORY_ATTRIBUTES over 1 TiB (to PRIVATE, the populate-style range query, back to shared).
/// <c>realm</c>: populate throughput and create-to-first-entry latency of a 256 MiB realm through KVM.
/// <c>cpu</c>, <c>guest</c>: the CPU engine's figures (<see cref="CpuBench"/>, <see cref="GuestBench"/>).
/// </summary>
internal static class Program
{
    private static int Main(string[] args)
    {
        string mode = args.Length > 0 ? args[0] : "inproc";
        int runs = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 7;
        string root = FindRoot();
        switch (mode)
        {
            case "attributes":
                Attributes(runs);
                return 0;
            case "realm":
                RealmBench.Run(runs);
                return 0;
            case "cpu":
                CpuBench.Run(runs);
                return 0;
            case "guest":
                GuestBench.Run(root, runs);
                return 0;
            case "gen":
                Generate(Path.Combine(root, "bench", "scripts"));
                return 0;
            case "inproc":
                InProcess("delegate-pairs", Workloads.DelegatePairs().ToArray(), runs);
                InProcess("realm-lifecycles", Workloads.Lifecycles().ToArray(), runs);
                return 0;
            case "scripts":
                Script(root, "delegate-pairs.rmm", runs);
                Script(root, "realm-lifecycles.rmm", runs);
                StartUp(root, runs);
                return 0;
            default:
                Console.Error.WriteLine("usage: bench [inproc|scripts|gen|attributes|realm|cpu|guest] [runs]");
                return 2;
        }
    }

    private static void InProcess(string name, Step[] steps, int runs)
    {
        var times = new List<double>();
        long smcs = steps.Count(s => !s.IsWrite);
        for (int run = 0; run < runs + 1; run++)
        {
            var platform = new CcaPlatform();
            RealmManagementMonitor.Boot(platform.Monitor);
            ulong poolBase = platform.Memory.Base;
            var sw = Stopwatch.StartNew();
            foreach (Step s in steps)
            {
                if (s.IsWrite)
                {
                    platform.HostMemory.Write64(Resolve(s.Args[0], poolBase), Resolve(s.Args[1], poolBase));
                    continue;
                }

                SmcRegisters r = default;
                r[0] = s.Fid;
                for (int i = 0; i < s.Args.Length; i++)
                {
                    r[i + 1] = Resolve(s.Args[i], poolBase);
                }

                platform.Monitor.Smc(ref r);
                if (r[0] != 0)
                {
                    throw new InvalidOperationException($"{name}: {(RmiFunctionId)s.Fid} returned 0x{r[0]:x}");
                }
            }

            sw.Stop();
            if (run > 0)
            {
                times.Add(sw.Elapsed.TotalSeconds);
            }
        }

        times.Sort();
        double median = times[times.Count / 2];
        Console.WriteLine($"{name,-18} in-process  {smcs,8} SMCs  median {median * 1000,8:F1} ms  {smcs / median,12:N0} commands/s  (runs {runs}, min {times[0] * 1000:F1} ms)");
    }

    /// <summary>
    /// 1 TiB of guest memory (2^28 gfns) marked PRIVATE, checked with the five-argument query kvm_gmem_populate
    /// uses (mask = attrs = PRIVATE), and flipped back to shared; each run a fresh store, each phase repeated so a
    /// single operation is above the timer's resolution. The per-page xarray of Linux would store 2^28 entries.
    /// </summary>
    private static void Attributes(int runs)
    {
        const int Iterations = 1000;
        const ulong Base = 0x8000_0000;
        const ulong Size = 1UL << 40;
        ulong startGfn = Base >> 12;
        ulong endGfn = (Base + Size) >> 12;
        var toPrivate = new KvmMemoryAttributes { Address = Base, Size = Size, Attributes = KvmMemoryAttributeBits.Private };
        var toShared = toPrivate with { Attributes = 0 };
        var set = new List<double>();
        var query = new List<double>();
        var flip = new List<double>();
        int maxRanges = 0;
        for (int run = 0; run < runs + 1; run++)
        {
            var store = new MemoryAttributeStore(KvmMemoryAttributeBits.Private);
            long tSet = 0, tQuery = 0, tFlip = 0;
            for (int i = 0; i < Iterations; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                KvmResult a = store.SetMemoryAttributes(toPrivate);
                long t1 = Stopwatch.GetTimestamp();
                bool all = store.RangeHasAttributes(startGfn, endGfn, KvmMemoryAttributeBits.Private, KvmMemoryAttributeBits.Private);
                long t2 = Stopwatch.GetTimestamp();
                maxRanges = Math.Max(maxRanges, store.RangeCount);
                KvmResult b = store.SetMemoryAttributes(toShared);
                long t3 = Stopwatch.GetTimestamp();
                if (!a.IsSuccess || !b.IsSuccess || !all || store.RangeCount != 0)
                {
                    throw new InvalidOperationException($"attributes: set {a}, query {all}, flip {b}, {store.RangeCount} ranges left");
                }

                tSet += t1 - t0;
                tQuery += t2 - t1;
                tFlip += t3 - t2;
            }

            if (run > 0)
            {
                set.Add(Stopwatch.GetElapsedTime(0, tSet).TotalMicroseconds / Iterations);
                query.Add(Stopwatch.GetElapsedTime(0, tQuery).TotalMicroseconds / Iterations);
                flip.Add(Stopwatch.GetElapsedTime(0, tFlip).TotalMicroseconds / Iterations);
            }
        }

        static double Median(List<double> xs)
        {
            xs.Sort();
            return xs[xs.Count / 2];
        }

        Console.WriteLine($"attributes 1 TiB ({endGfn - startGfn:N0} gfns, {maxRanges} range)  median per op: set PRIVATE {Median(set),7:F3} us  query {Median(query),7:F3} us  back to shared {Median(flip),7:F3} us  (runs {runs} x {Iterations})");
    }

    private static void Script(string root, string file, int runs)
    {
        string script = Path.Combine(root, "bench", "scripts", file);
        double[] times = Time(root, ["rmm", script], runs, checkLines: true);
        int lines = File.ReadLines(script).Count(l => l.StartsWith("smc", StringComparison.Ordinal));
        Console.WriteLine($"{file,-22} ./ccasim rmm  {lines,8} SMCs  median wall {times[times.Length / 2] * 1000,8:F0} ms  (runs {runs}, min {times[0] * 1000:F0} ms, max {times[^1] * 1000:F0} ms, {Build(root)})");
    }

    /// <summary>Process start with nothing to do: <c>--version</c>, and <c>rmm</c> on an empty script (which also boots the platform and RMM).</summary>
    private static void StartUp(string root, int runs)
    {
        string empty = Path.Combine(Path.GetTempPath(), "ccasim-bench-empty.rmm");
        File.WriteAllText(empty, string.Empty);
        foreach (string[] args in new[] { new[] { "--version" }, new[] { "rmm", empty } })
        {
            double[] times = Time(root, args, runs, checkLines: false);
            string name = args[0] == "rmm" ? "rmm EMPTY" : args[0];
            Console.WriteLine($"start-up ./ccasim {name,-12} median wall {times[times.Length / 2] * 1000,8:F1} ms  (runs {runs}, min {times[0] * 1000:F1} ms, max {times[^1] * 1000:F1} ms, {Build(root)})");
        }

        File.Delete(empty);
    }

    private static string Build(string root) =>
        File.Exists(Path.Combine(root, ".build", "ccasim", "ccasim.dll")) ? "ReadyToRun" : "NativeAOT";

    private static double[] Time(string root, string[] args, int runs, bool checkLines)
    {
        string ccasim = Path.Combine(root, "ccasim");
        Run(ccasim, args, checkLines); // warm: builds if stale
        var times = new double[runs];
        for (int i = 0; i < runs; i++)
        {
            var sw = Stopwatch.StartNew();
            Run(ccasim, args, checkLines);
            times[i] = sw.Elapsed.TotalSeconds;
        }

        Array.Sort(times);
        return times;
    }

    private static void Run(string ccasim, string[] args, bool checkLines)
    {
        var psi = new ProcessStartInfo(ccasim, args) { RedirectStandardOutput = true, UseShellExecute = false };
        using Process p = Process.Start(psi)!;
        int errors = 0;
        string? line;
        while ((line = p.StandardOutput.ReadLine()) is not null)
        {
            if (checkLines && !line.StartsWith("R 0 ", StringComparison.Ordinal))
            {
                errors++;
            }
        }

        p.WaitForExit();
        if (p.ExitCode != 0 || errors != 0)
        {
            throw new InvalidOperationException($"ccasim {string.Join(' ', args)}: exit {p.ExitCode}, {errors} unexpected lines");
        }
    }

    private static void Generate(string dir)
    {
        Directory.CreateDirectory(dir);
        Write(Path.Combine(dir, "delegate-pairs.rmm"), "100,000 RMI_GRANULE_DELEGATE + RMI_GRANULE_UNDELEGATE pairs over distinct granules.", Workloads.DelegatePairs());
        Write(Path.Combine(dir, "realm-lifecycles.rmm"), "2,000 realm lifecycles: delegate, REALM_CREATE, RTTs at levels 1-3, INIT_RIPAS, DATA_CREATE,\n# REC_CREATE with 16 aux granules, then everything destroyed in reverse and undelegated.", Workloads.Lifecycles());
    }

    private static void Write(string path, string title, IEnumerable<Step> steps)
    {
        using var w = new StreamWriter(path, false, new UTF8Encoding(false));
        w.Write($"# {title}\n# Generated by `dotnet run --project bench/CcaSim.Bench -c Release -- gen`; every line prints R 0 ...\n");
        foreach (Step s in steps)
        {
            w.Write(s.IsWrite ? "w64" : $"smc {FunctionName((RmiFunctionId)s.Fid)}");
            foreach (ulong a in s.Args)
            {
                w.Write(' ');
                w.Write(Format(a));
            }

            w.Write('\n');
        }
    }

    private static string Format(ulong a)
    {
        if ((a & Workloads.Granule) == 0)
        {
            return a < 10 ? a.ToString(CultureInfo.InvariantCulture) : $"0x{a:x}";
        }

        ulong rel = a & ~Workloads.Granule;
        ulong offset = rel & 0xFFF;
        return offset == 0 ? $"g{rel >> 12}" : $"g{rel >> 12}+0x{offset:x}";
    }

    private static string FunctionName(RmiFunctionId id)
    {
        var sb = new StringBuilder();
        string n = id.ToString();
        for (int i = 0; i < n.Length; i++)
        {
            if (i > 0 && char.IsUpper(n[i]))
            {
                sb.Append('_');
            }

            sb.Append(char.ToUpperInvariant(n[i]));
        }

        return sb.ToString();
    }

    private static ulong Resolve(ulong a, ulong poolBase) => (a & Workloads.Granule) != 0 ? poolBase + (a & ~Workloads.Granule) : a;

    private static string FindRoot()
    {
        string? dir = AppContext.BaseDirectory;
        while (dir is not null && !File.Exists(Path.Combine(dir, "CcaSim.sln")))
        {
            dir = Path.GetDirectoryName(dir);
        }

        return dir ?? throw new InvalidOperationException("run from inside the CcaSim repository");
    }
}
