using System.Diagnostics;
using System.Runtime.InteropServices;
using CcaSim.Cpu.Engine;
using CcaSim.Cpu.Unicorn;
using CcaSim.Platform.Execution;

namespace CcaSim.Bench;

/// <summary>
/// <c>cpu</c>: guest MIPS of an integer loop and a load/store loop through <see cref="UnicornEngine"/> (hooks:
/// INTR, BLOCK counting, MEM_UNMAPPED, MRS/MSR) against bare Unicorn (no hooks) in the same process, and SMC round
/// trips per second through <see cref="IRealmEngine.Run(RealmVcpuContext, IRealmMemory)"/> (RSI_VERSION-like: exit, owner answers x0, re-entry).
/// </summary>
internal static unsafe class CpuBench
{
    private const ulong Code = 0x8008_0000;
    private const ulong Data = 0x8010_0000;
    private const ulong IntLoop = Code;          // 50 M iterations of add/eor/subs/b.ne, then smc
    private const ulong LdStLoop = Code + 28;    // 20 M iterations of ldr/add/str/subs/b.ne, then smc
    private const ulong SmcLoop = Code + 64;     // smc; b .-4
    private const double IntInstructions = 50_000_000.0 * 4;
    private const double LdStInstructions = 20_000_000.0 * 5;

    private static readonly uint[] Payload =
    [
        0xd2a05f41, 0xf29e1001, 0x91000442, 0xca020063, 0xf1000421, 0x54ffffa1, 0xd4000003,
        0xd2b00200, 0xd2a02621, 0xf285a001, 0xf9400002, 0x91000442, 0xf9000002, 0xf1000421, 0x54ffff81, 0xd4000003,
        0xd4000003, 0x17ffffff,
    ];

    public static void Run(int runs)
    {
        Console.WriteLine($"Unicorn {UnicornLibrary.Version} from {UnicornLibrary.Path}; {UnicornEngine.InstructionCounting}");
        using Pages pages = new();
        for (int run = 0; run < Math.Max(1, runs); run++)
        {
            double bareInt = IntInstructions / Bare(pages, IntLoop) / 1e6;
            double engineInt = IntInstructions / Engine(pages, IntLoop, true) / 1e6;
            double managedInt = IntInstructions / Engine(pages, IntLoop, false) / 1e6;
            double bareLdSt = LdStInstructions / Bare(pages, LdStLoop) / 1e6;
            double engineLdSt = LdStInstructions / Engine(pages, LdStLoop, true) / 1e6;
            double managedLdSt = LdStInstructions / Engine(pages, LdStLoop, false) / 1e6;
            Console.WriteLine($"integer loop : engine {engineInt,6:F0} MIPS (managed counter {managedInt,6:F0})  bare {bareInt,6:F0} MIPS  ratio {engineInt / bareInt:F2} (managed {managedInt / bareInt:F2})");
            Console.WriteLine($"ld/st loop   : engine {engineLdSt,6:F0} MIPS (managed counter {managedLdSt,6:F0})  bare {bareLdSt,6:F0} MIPS  ratio {engineLdSt / bareLdSt:F2} (managed {managedLdSt / bareLdSt:F2})");
            Console.WriteLine($"SMC round trips through Run(): {SmcRoundTrips(pages, 2_000_000) / 1e6:F2} M/s; answered inline by a trivial IRealmSmcFastPath: {InlineSmcs(pages, 2_000_000) / 1e6:F2} M/s");
        }
    }

    private static double Engine(Pages pages, ulong entry, bool nativeCounter)
    {
        VirtualClock clock = new();
        using UnicornEngine engine = new(clock, nativeCounter);
        RealmVcpuContext ctx = new() { Pc = entry, Pstate = 0x3C5 };
        ctx.MarkModified();
        Stopwatch watch = Stopwatch.StartNew();
        RealmEvent e = engine.Run(ctx, pages);
        double seconds = watch.Elapsed.TotalSeconds;
        if (e.Kind != RealmEventKind.Smc)
        {
            throw new InvalidOperationException($"engine run ended with {e.Kind}");
        }

        // Both counters must count the same: every executed instruction, the final SMC included.
        double expected = entry == IntLoop ? IntInstructions + 3 : LdStInstructions + 4;
        if (engine.InstructionsExecuted(ctx) != (ulong)expected)
        {
            throw new InvalidOperationException($"counted {engine.InstructionsExecuted(ctx)} instructions, expected {expected}");
        }

        return seconds;
    }

    private static double Bare(Pages pages, ulong entry)
    {
        nint uc;
        Check(Native.uc_open(Uc.ArchArm64, Uc.ModeArm, &uc));
        try
        {
            Check(Native.uc_ctl(uc, Uc.CtlCpuModelWrite, Uc.CpuModelMax));
            Check(Native.uc_mem_map_ptr(uc, Code, 4096, Uc.ProtAll, (void*)pages.Code));
            Check(Native.uc_mem_map_ptr(uc, Data, 4096, Uc.ProtRead | Uc.ProtWrite | Uc.ProtExec, (void*)pages.Data));
            Stopwatch watch = Stopwatch.StartNew();
            // No INTR hook: the final SMC ends the run with UC_ERR_EXCEPTION.
            UcErr error = Native.uc_emu_start(uc, entry, 0, 0, 0);
            double seconds = watch.Elapsed.TotalSeconds;
            if (error != UcErr.Exception)
            {
                throw new InvalidOperationException($"bare run ended with {error}");
            }

            return seconds;
        }
        finally
        {
            _ = Native.uc_close(uc);
        }
    }

    private static double SmcRoundTrips(Pages pages, int count)
    {
        VirtualClock clock = new();
        using UnicornEngine engine = new(clock);
        RealmVcpuContext ctx = new() { Pc = SmcLoop, Pstate = 0x3C5 };
        ctx.MarkModified();
        _ = engine.Run(ctx, pages); // warm-up: engine creation, first translation
        Stopwatch watch = Stopwatch.StartNew();
        for (int i = 0; i < count; i++)
        {
            ctx.X[0] = 0x10000; // the owner's answer to RSI_VERSION
            _ = engine.Run(ctx, pages);
        }

        return count / watch.Elapsed.TotalSeconds;
    }

    private static double InlineSmcs(Pages pages, int count)
    {
        VirtualClock clock = new();
        using UnicornEngine engine = new(clock);
        RealmVcpuContext ctx = new() { Pc = SmcLoop, Pstate = 0x3C5 };
        ctx.MarkModified();
        CountingFastPath fastPath = new(count);
        _ = engine.Run(ctx, pages, new CountingFastPath(1)); // warm-up
        Stopwatch watch = Stopwatch.StartNew();
        RealmEvent e = engine.Run(ctx, pages, fastPath);
        double seconds = watch.Elapsed.TotalSeconds;
        if (e.Kind != RealmEventKind.Smc || fastPath.Left != 0)
        {
            throw new InvalidOperationException($"inline SMC run ended with {e.Kind}, {fastPath.Left} left");
        }

        return count / seconds;
    }

    /// <summary>Answers x0 = 0x10000 for <see cref="Left"/> SMCs, then lets the next one exit.</summary>
    private sealed class CountingFastPath(int count) : IRealmSmcFastPath
    {
        public int Left { get; private set; } = count;

        public bool Handles(ulong x0) => Left > 0;

        public void Answer(RealmVcpuContext context)
        {
            context.X[0] = 0x10000;
            Left--;
        }
    }

    private static void Check(UcErr error)
    {
        if (error != UcErr.Ok)
        {
            throw new InvalidOperationException(Native.ErrorText(error));
        }
    }

    /// <summary>A code page and a data page, pinned, as a stage 2.</summary>
    private sealed class Pages : IRealmMemory, IDisposable
    {
        public Pages()
        {
            Code = (nint)NativeMemory.AlignedAlloc(4096, 4096);
            Data = (nint)NativeMemory.AlignedAlloc(4096, 4096);
            new Span<byte>((void*)Code, 4096).Clear();
            new Span<byte>((void*)Data, 4096).Clear();
            Payload.CopyTo(new Span<uint>((void*)Code, Payload.Length));
        }

        public nint Code { get; }

        public nint Data { get; }

        public bool TryRead(ulong ipa, Span<byte> destination) => false;

        public bool TryWrite(ulong ipa, ReadOnlySpan<byte> source) => false;

        public Stage2Page Lookup(ulong ipa) => (ipa & ~0xFFFUL) switch
        {
            CpuBench.Code => new Stage2Page(Stage2PageKind.Mapped, Code, true, true),
            CpuBench.Data => new Stage2Page(Stage2PageKind.Mapped, Data, true, true),
            _ => new Stage2Page(Stage2PageKind.Unmapped),
        };

        public void Dispose()
        {
            NativeMemory.AlignedFree((void*)Code);
            NativeMemory.AlignedFree((void*)Data);
        }
    }
}
