using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using CcaSim.Cpu.Arch;
using CcaSim.Cpu.Engine;
using CcaSim.Platform.Execution;
using CcaSim.Vmm;

namespace CcaSim.Bench;

/// <summary>
/// <c>guest</c>: the issue-11 figures that need the whole stack or virtual interrupts. (b) RSI_VERSION round trips
/// per second from a realm booted through KVM (the RMM answers them; with and without its inline fast path);
/// (c) virtual-timer interrupts delivered per second (the engine with an owner that injects the PPI through a list
/// register, as KVM does for a normal VM); (d) wall time from KVM_CREATE_VM to the <c>hello</c> payload's first UART
/// byte and to its SYSTEM_OFF, as a realm and as a normal VM; and the whole <c>bench</c> payload as a realm. The
/// guests boot through <see cref="CcaSimMachine"/>, the VMM <c>ccasim run</c> uses.
/// </summary>
internal static unsafe class GuestBench
{
    private const int RsiCalls = 1_000_000;
    private const int TimerIrqs = 100_000;

    // 1,000,000 × { x0 = RSI_VERSION, x1 = 1.0, smc }, then PSCI SYSTEM_OFF (aarch64-linux-gnu-as of a 9-line loop).
    private static readonly uint[] RsiLoop =
    [
        0x58000153, 0x58000160, 0xd2a00021, 0xd4000003, 0xf1000673, 0x54ffff81, 0x58000100, 0xd4000003, 0x14000000,
        0x00000000, 0x000f4240, 0x00000000, 0xc4000190, 0x00000000, 0x84000008, 0x00000000,
    ];

    // VBAR = vectors; CNTV_CVAL = now + 64 ticks, enabled; IRQs unmasked; spin until x20 == 100,000; smc.
    // IRQ vector (VBAR + 0x280): IAR1 → x1, x20++, CVAL = now + 64, EOIR1 x1, eret.
    private static readonly uint[] TimerMain =
    [
        0x10004000, 0xd518c000, 0xd2800014, 0x58000175, 0xd53be040, 0x91010000, 0xd51be340, 0xd2800020, 0xd51be320,
        0xd50342ff, 0xeb15029f, 0x54ffffe1, 0xd50342df, 0xd4000003, 0x000186a0, 0x00000000,
    ];

    private static readonly uint[] TimerVector = [0xd538cc01, 0x91000694, 0xd53be040, 0x91010000, 0xd51be340, 0xd518cc21, 0xd69f03e0];

    public static void Run(string root, int runs)
    {
        Console.WriteLine($"Unicorn {UnicornEngine.LibraryDescription}; {UnicornEngine.InstructionCounting}");
        string guests = Path.Combine(root, ".build", "guests");
        byte[] rsi = MemoryMarshal.AsBytes(RsiLoop.AsSpan()).ToArray();
        for (int run = 0; run < Math.Max(1, runs); run++)
        {
            (double seconds, _, _) = Boot(rsi, realm: true, fastPath: true);
            (double slow, _, _) = Boot(rsi, realm: true, fastPath: false);
            Console.WriteLine($"RSI_VERSION from a realm through KVM: {RsiCalls / seconds / 1e6:F2} M/s (inline fast path), {RsiCalls / slow / 1e6:F2} M/s (an engine exit per call)");
            Console.WriteLine($"virtual timer interrupts: {TimerIrqs / TimerInterrupts() / 1e3:F0} k/s");
            foreach (bool realm in new[] { true, false })
            {
                string hello = Path.Combine(guests, "hello.bin");
                if (!File.Exists(hello))
                {
                    Console.WriteLine($"{hello} missing: build tests/CcaSim.Guests.Tests or run make -C guests O=$PWD/.build/guests");
                    break;
                }

                (double total, double first, string transcript) = Boot(File.ReadAllBytes(hello), realm, fastPath: true);
                Console.WriteLine($"hello as a {(realm ? "realm" : "normal VM")}: KVM_CREATE_VM to first UART byte {first * 1e3:F1} ms, to SYSTEM_OFF {total * 1e3:F1} ms ({transcript.Length} bytes printed)");
            }

            string benchImage = Path.Combine(guests, "bench.bin");
            if (File.Exists(benchImage))
            {
                (double total, _, string transcript) = Boot(File.ReadAllBytes(benchImage), realm: true, fastPath: true);
                Console.WriteLine($"bench payload as a realm (80 M register-loop + 2 M load/store iterations + 200,000 RSI_VERSION): {total * 1e3:F0} ms, {transcript.Trim()}");
            }
        }
    }

    /// <summary>
    /// Boots <paramref name="image"/> (a flat binary, as <c>ccasim run -k</c> takes it, with 32 MiB and one vCPU)
    /// through <see cref="CcaSimMachine"/>; seconds to SYSTEM_OFF and to the first UART byte (0: none). Both are
    /// timed from the moment the machine hands its engine to the RMM and KVM (<see cref="MachineOptions.WrapEngine"/>),
    /// so the platform, RMM and engine set-up before KVM_CREATE_VM stays out of the figures, as it always has.
    /// </summary>
    private static (double Total, double FirstByte, string Transcript) Boot(byte[] image, bool realm, bool fastPath)
    {
        string kernel = Path.Combine(Path.GetTempPath(), $"ccasim-bench-{Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}.bin");
        File.WriteAllBytes(kernel, image);
        try
        {
            long start = 0;
            long firstByte = 0;
            var options = new MachineOptions
            {
                Vm = new VmOptions { Kernel = kernel, MemoryMiB = 32, Realm = realm },
                ConsoleOutput = null,
                WrapEngine = engine =>
                {
                    start = Stopwatch.GetTimestamp();
                    return fastPath ? engine : new WithoutFastPath(engine);
                },
                Events = e =>
                {
                    if (firstByte == 0 && e is { Kind: VmmEventKind.Mmio, IsWrite: true, Detail: "uart" })
                    {
                        firstByte = Stopwatch.GetTimestamp();
                    }
                },
            };
            VmRunResult result = CcaSimMachine.Run(options);
            double total = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (result.Outcome != VmOutcome.PoweredOff)
            {
                throw new InvalidOperationException($"guest ended {result.Outcome}: {result.Message}\n{result.Transcript}");
            }

            double first = firstByte == 0 ? 0 : Stopwatch.GetElapsedTime(start, firstByte).TotalSeconds;
            return (total, first, result.Transcript);
        }
        finally
        {
            File.Delete(kernel);
        }
    }

    /// <summary>
    /// Timer interrupts at the engine, the owner injecting PPI 27 into a list register whenever the engine stops for
    /// a timer without one (KVM's normal-VM path, without the ioctl layer).
    /// </summary>
    private static double TimerInterrupts()
    {
        const ulong load = 0x8008_0000;
        nint page = (nint)NativeMemory.AlignedAlloc(8192, 4096);
        try
        {
            new Span<byte>((void*)page, 8192).Clear();
            TimerMain.CopyTo(new Span<uint>((void*)page, TimerMain.Length));
            TimerVector.CopyTo(new Span<uint>((void*)(page + 0xA80), TimerVector.Length));
            var memory = new TwoPages(load, page);
            var clock = new VirtualClock();
            using var engine = new UnicornEngine(clock);
            var ctx = new RealmVcpuContext { Pc = load, Pstate = 0x3C5 };
            ctx.Gic.NumListRegisters = 4;
            ctx.Gic.Hcr = GicCpuInterface.HcrEn;
            ctx.Gic.Vmcr = GicCpuInterface.VmcrEng1 | (0xF0UL << GicCpuInterface.VmcrPmrShift);
            ctx.MarkModified();
            long start = Stopwatch.GetTimestamp();
            int injected = 0;
            while (true)
            {
                clock.BeginSlice();
                RealmEvent e = engine.Run(ctx, memory);
                if (e.Kind == RealmEventKind.Smc)
                {
                    break;
                }

                if (e.Kind != RealmEventKind.Irq)
                {
                    throw new InvalidOperationException($"timer run stopped with {e.Kind} at 0x{ctx.Pc:x}");
                }

                if (GenericTimer.FiringWithoutListRegister(ctx, clock))
                {
                    ctx.Gic.Lrs[0] = 27 | GicCpuInterface.LrPending | GicCpuInterface.LrGroup | (0xA0UL << GicCpuInterface.LrPriorityShift);
                    injected++;
                }
            }

            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            if (ctx.X[20] != TimerIrqs || injected < TimerIrqs)
            {
                throw new InvalidOperationException($"the guest counted {ctx.X[20]} interrupts, {injected} injected");
            }

            return seconds;
        }
        finally
        {
            NativeMemory.AlignedFree((void*)page);
        }
    }

    /// <summary>The engine without the fast-path overload: every realm call comes back as an Smc event.</summary>
    private sealed class WithoutFastPath(IRealmEngine inner) : IRealmEngine
    {
        public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory) => inner.Run(context, memory);

        public void Stage2Changed(IRealmMemory memory, ulong ipa, ulong size) => inner.Stage2Changed(memory, ipa, size);

        public void Flush(RealmVcpuContext context) => inner.Flush(context);

        public void Release(RealmVcpuContext context) => inner.Release(context);

        public void Release(IRealmMemory memory) => inner.Release(memory);
    }

    private sealed class TwoPages(ulong ipa, nint host) : IRealmMemory
    {
        public bool TryRead(ulong address, Span<byte> destination) => false;

        public bool TryWrite(ulong address, ReadOnlySpan<byte> source) => false;

        public Stage2Page Lookup(ulong address) => ((address & ~0xFFFUL) - ipa) switch
        {
            0 => new Stage2Page(Stage2PageKind.Mapped, host, true, true),
            0x1000 => new Stage2Page(Stage2PageKind.Mapped, host + 0x1000, true, true),
            _ => new Stage2Page(Stage2PageKind.Unmapped),
        };
    }
}
