using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Tests;

/// <summary>Assembles tiny AArch64 payloads at test time (cached by content hash under the test output directory).</summary>
internal static class Assembler
{
    public const ulong LoadAddress = 0x8008_0000;

    private static readonly Lock Gate = new();

    public static byte[] Assemble(string source, ulong address = LoadAddress)
    {
        string text = $".text\n.global _start\n_start:\n{source}\n";
        string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(text + address.ToString("x", null))))[..16];
        string directory = Path.Combine(AppContext.BaseDirectory, "asm-cache");
        string binary = Path.Combine(directory, hash + ".bin");
        lock (Gate)
        {
            if (File.Exists(binary))
            {
                return File.ReadAllBytes(binary);
            }

            Directory.CreateDirectory(directory);
            string stem = Path.Combine(directory, hash);
            File.WriteAllText(stem + ".s", text);
            Tool("aarch64-linux-gnu-as", $"-march=armv8.2-a+lse -o {stem}.o {stem}.s");
            Tool("aarch64-linux-gnu-ld", $"-Ttext=0x{address:x} -e 0x{address:x} -o {stem}.elf {stem}.o");
            Tool("aarch64-linux-gnu-objcopy", $"-O binary {stem}.elf {binary}");
            return File.ReadAllBytes(binary);
        }
    }

    private static void Tool(string name, string arguments)
    {
        ProcessStartInfo start = new(name, arguments) { RedirectStandardError = true, RedirectStandardOutput = true };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            throw new InvalidOperationException($"{name} not found: install gcc-aarch64-linux-gnu (scripts/setup.sh)");
        }

        string errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{name} {arguments} failed: {errors}");
        }
    }
}

/// <summary>A stage 2 of a few pinned host pages; everything else is Unmapped unless given another kind.</summary>
internal sealed unsafe class FakeMemory : IRealmMemory, IDisposable
{
    private readonly Dictionary<ulong, nint> _pages = [];
    private readonly Dictionary<ulong, Stage2PageKind> _kinds = [];
    private readonly HashSet<ulong> _readOnly = [];

    public int Lookups { get; private set; }

    public void Map(ulong ipa, ulong size = 4096, bool writable = true)
    {
        for (ulong page = ipa & ~0xFFFUL; page < ipa + size; page += 4096)
        {
            if (!_pages.ContainsKey(page))
            {
                nint memory = (nint)NativeMemory.AlignedAlloc(4096, 4096);
                new Span<byte>((void*)memory, 4096).Clear();
                _pages[page] = memory;
            }

            if (!writable)
            {
                _readOnly.Add(page);
            }
        }
    }

    public void Unmap(ulong ipa) => _pages.Remove(ipa & ~0xFFFUL); // leaked on purpose: the engine may still point at it until Stage2Changed

    public void SetKind(ulong ipa, Stage2PageKind kind) => _kinds[ipa & ~0xFFFUL] = kind;

    public void Load(ulong ipa, byte[] bytes)
    {
        Map(ipa, (ulong)bytes.Length);
        Assert.True(TryWrite(ipa, bytes));
    }

    public ulong Read64(ulong ipa)
    {
        Span<byte> buffer = stackalloc byte[8];
        Assert.True(TryRead(ipa, buffer));
        return BitConverter.ToUInt64(buffer);
    }

    public void Write64(ulong ipa, ulong value) => Assert.True(TryWrite(ipa, BitConverter.GetBytes(value)));

    public bool TryRead(ulong ipa, Span<byte> destination)
    {
        for (int i = 0; i < destination.Length; i++)
        {
            ulong a = ipa + (ulong)i;
            if (!_pages.TryGetValue(a & ~0xFFFUL, out nint page))
            {
                return false;
            }

            destination[i] = ((byte*)page)[a & 0xFFF];
        }

        return true;
    }

    public bool TryWrite(ulong ipa, ReadOnlySpan<byte> source)
    {
        for (int i = 0; i < source.Length; i++)
        {
            ulong a = ipa + (ulong)i;
            if (!_pages.TryGetValue(a & ~0xFFFUL, out nint page))
            {
                return false;
            }

            ((byte*)page)[a & 0xFFF] = source[i];
        }

        return true;
    }

    public Stage2Page Lookup(ulong ipa)
    {
        Lookups++;
        ulong page = ipa & ~0xFFFUL;
        if (_pages.TryGetValue(page, out nint host))
        {
            return new Stage2Page(Stage2PageKind.Mapped, host, !_readOnly.Contains(page), true);
        }

        return new Stage2Page(_kinds.TryGetValue(page, out Stage2PageKind kind) ? kind : Stage2PageKind.Unmapped);
    }

    public void Dispose()
    {
        foreach (nint page in _pages.Values)
        {
            NativeMemory.AlignedFree((void*)page);
        }

        _pages.Clear();
    }
}

/// <summary>A payload loaded at <see cref="Assembler.LoadAddress"/> with a context at EL1h, MMU off.</summary>
internal sealed class Machine : IDisposable
{
    public const ulong Data = 0x8010_0000;
    public const ulong Stack = 0x8020_0000;
    public const ulong Mmio = 0x0100_0000;

    public Machine(string source, bool nativeBlockCounter = true, CcaSim.Platform.Tracing.ITraceSink? trace = null)
    {
        Memory.Load(Assembler.LoadAddress, Assembler.Assemble(source));
        Memory.Map(Data, 0x2000);
        Memory.Map(Stack - 0x2000, 0x2000);
        Context.Pc = Assembler.LoadAddress;
        Context.Pstate = 0x3C5;
        Context.SpEl1 = Stack;
        Context.SpEl0 = Stack - 0x1000;
        Context.MarkModified();
        Engine = new CcaSim.Cpu.Engine.UnicornEngine(Clock, nativeBlockCounter, trace is null ? null : new CcaSim.Platform.Tracing.TracePort(Clock) { Sink = trace });
    }

    public VirtualClock Clock { get; } = new();

    public FakeMemory Memory { get; } = new();

    public RealmVcpuContext Context { get; } = new();

    public CcaSim.Cpu.Engine.UnicornEngine Engine { get; }

    public RealmEvent Run() => Engine.Run(Context, Memory);

    /// <summary>Runs until an event other than <paramref name="skip"/>.</summary>
    public RealmEvent RunUntilNot(RealmEventKind skip)
    {
        RealmEvent e;
        do
        {
            e = Run();
        }
        while (e.Kind == skip);
        return e;
    }


    public void Dispose()
    {
        Engine.Dispose();
        Memory.Dispose();
    }
}
