using System.Runtime.InteropServices;

namespace CcaSim.Cpu.Unicorn;

/// <summary>
/// What the UC_HOOK_BLOCK callback reads and writes, in unmanaged memory so that a native stub can use it. The
/// hook's user data points here. Layout is fixed: the stub addresses the fields by offset.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
internal struct BlockCounter
{
    /// <summary>Offset 0: instructions counted so far (TB size / 4 per executed TB).</summary>
    public ulong Executed;

    /// <summary>
    /// Offset 8: while <see cref="Executed"/> is below it the stub counts on its own; at or above it every block goes
    /// to the managed callback (the budget reached, or 0 while the managed callback must see every block).
    /// </summary>
    public ulong Limit;

    /// <summary>Offset 16: start of the last counted TB (the fault locator replays it).</summary>
    public ulong TbStart;

    /// <summary>Offset 24: size in bytes of the last counted TB.</summary>
    public uint TbSize;

    private uint _padding;

    /// <summary>Offset 32: the managed callback the stub tail-jumps to.</summary>
    public nint Slow;

    /// <summary>Offset 40: GCHandle of the owning vCPU, for the managed callback.</summary>
    public nint Owner;
}

/// <summary>
/// A native x86-64 UC_HOOK_BLOCK callback emitted at run time: a managed callback per translation block costs
/// about 7 ns against 2 ns for a C one (unicorn-2.0.1.md §6, §11), which made counting instructions for virtual time
/// the engine's main overhead. The stub does exactly what the managed callback does below the budget (records the
/// TB, adds size / 4) and tail-jumps to the managed callback, with the same arguments, otherwise; so the counts,
/// and the stops, are the same on either path. One page per process, shared by every vCPU (the state is the hook's
/// user data). Where it cannot be had (not x86-64 Linux, mmap or mprotect refused), the managed callback is
/// registered directly and <see cref="Description"/> says why.
/// </summary>
internal static unsafe partial class BlockCounterStub
{
    private const int ProtRead = 1;
    private const int ProtWrite = 2;
    private const int ProtExec = 4;
    private const int MapPrivate = 0x02;
    private const int MapAnonymous = 0x20;
    private const nuint PageSize = 4096;

    // SysV x86-64, void cb(uc_engine *uc /*rdi*/, uint64_t address /*rsi*/, uint32_t size /*edx*/, void *user /*rcx*/):
    //   mov rax,[rcx]; cmp rax,[rcx+8]; jae slow
    //   mov [rcx+16],rsi; mov [rcx+24],edx; shr edx,2; add rax,rdx; mov [rcx],rax; ret
    //   slow: jmp qword [rcx+32]
    private static ReadOnlySpan<byte> Code =>
    [
        0x48, 0x8B, 0x01,
        0x48, 0x3B, 0x41, 0x08,
        0x73, 0x11,
        0x48, 0x89, 0x71, 0x10,
        0x89, 0x51, 0x18,
        0xC1, 0xEA, 0x02,
        0x48, 0x01, 0xD0,
        0x48, 0x89, 0x01,
        0xC3,
        0xFF, 0x61, 0x20,
    ];

    private static readonly Lock Gate = new();
    private static bool _initialised;
    private static nint _stub;
    private static string _description = "";

    /// <summary>The stub's entry point, or 0 when the managed callback counts (see <see cref="Description"/>).</summary>
    public static nint Entry
    {
        get
        {
            Initialise();
            return _stub;
        }
    }

    /// <summary>One line: how the engine counts instructions, and if by the managed callback, why.</summary>
    public static string Description
    {
        get
        {
            Initialise();
            return _description;
        }
    }

    private static void Initialise()
    {
        if (_initialised)
        {
            return;
        }

        lock (Gate)
        {
            if (!_initialised)
            {
                _stub = Emit(out _description);
                _initialised = true;
            }
        }
    }

    private static nint Emit(out string description)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture != Architecture.X64)
        {
            description = $"managed BLOCK callback (the native counter is x86-64 Linux only; this is {RuntimeInformation.OSDescription} {RuntimeInformation.ProcessArchitecture})";
            return 0;
        }

        nint page;
        try
        {
            page = mmap(0, PageSize, ProtRead | ProtWrite, MapPrivate | MapAnonymous, -1, 0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            description = $"managed BLOCK callback (libc mmap unavailable: {e.Message})";
            return 0;
        }

        if (page == -1)
        {
            description = $"managed BLOCK callback (mmap of a code page refused, errno {Marshal.GetLastPInvokeError()})";
            return 0;
        }

        Code.CopyTo(new Span<byte>((void*)page, Code.Length));
        if (mprotect(page, PageSize, ProtRead | ProtExec) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            _ = munmap(page, PageSize);
            description = $"managed BLOCK callback (mprotect to READ|EXEC refused, errno {errno})";
            return 0;
        }

        description = "native x86-64 BLOCK counter stub";
        return page;
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial nint mmap(nint address, nuint length, int protection, int flags, int fd, nint offset);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int mprotect(nint address, nuint length, int protection);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int munmap(nint address, nuint length);
}
