using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CcaSim.Cpu.Unicorn;

namespace CcaSim.Cpu.Tests.Unicorn;

/// <summary>
/// One uc engine driven straight through the engine's binding (<see cref="Native"/>), for pinning library
/// behaviour the engine hides. A payload is assembled at <see cref="Code"/> into pinned host memory mapped with
/// uc_mem_map_ptr, so the host can patch it behind Unicorn's back (G5, G14). Callbacks never unwind into C:
/// a managed failure is recorded, the engine stopped, and <see cref="Start"/> rethrows it.
/// </summary>
internal sealed unsafe class RawUnicorn : IDisposable
{
    public const ulong Code = 0x4000_0000;
    public const ulong CodeSize = 0x10000;

    /// <summary>SCR_EL3 = NS|HCE|RW and HCR_EL2 = RW|IMO|FMO: the engine's per-engine init (G4).</summary>
    public const ulong ScrInit = 0x501;
    public const ulong HcrInit = (1UL << 31) | (1UL << 4) | (1UL << 3);
    public const ulong HcrVi = 1UL << 7;

    private GCHandle _self;
    private readonly byte* _memory;
    private Exception? _callbackError;

    public RawUnicorn(string source, bool init = true, bool modelMax = true)
    {
        UnicornLibrary.Load();
        nint uc;
        Check(Native.uc_open(Uc.ArchArm64, Uc.ModeArm, &uc));
        Handle = uc;
        if (modelMax)
        {
            Check(Native.uc_ctl(Handle, Uc.CtlCpuModelWrite, Uc.CpuModelMax));
        }

        if (init)
        {
            SetSys(Scr, ScrInit);
            SetSys(Hcr, HcrInit);
        }

        _memory = (byte*)NativeMemory.AlignedAlloc((nuint)CodeSize, 4096);
        new Span<byte>(_memory, (int)CodeSize).Clear();
        byte[] image = Assembler.Assemble(source, Code);
        image.CopyTo(new Span<byte>(_memory, (int)CodeSize));
        Check(Native.uc_mem_map_ptr(Handle, Code, (nuint)CodeSize, Uc.ProtAll, _memory));
        _self = GCHandle.Alloc(this);
    }

    public static readonly CpReg Scr = new(3, 6, 1, 1, 0);
    public static readonly CpReg Hcr = new(3, 4, 1, 1, 0);
    public static readonly CpReg SpsrEl1 = new(3, 0, 4, 0, 0);
    public static readonly CpReg IccIar1 = new(3, 0, 12, 12, 0);

    public nint Handle { get; }

    /// <summary>The host's view of the code region (patching it is invisible to translated code, G14).</summary>
    public Span<byte> Memory => new(_memory, (int)CodeSize);

    /// <summary>Every UC_HOOK_INTR call: intno and PC at the time.</summary>
    public List<(uint Intno, ulong Pc)> Interrupts { get; } = [];

    /// <summary>Called after recording; the default stops the engine (a stop from INTR is exact, G6).</summary>
    public Action<RawUnicorn, uint>? OnInterrupt { get; set; }

    public Func<RawUnicorn, int, CpReg, uint>? OnInstruction { get; set; }

    public Action<RawUnicorn, ulong>? OnBlock { get; set; }

    public int InstructionHookCalls { get; private set; }

    public void Stop() => Check(Native.uc_emu_stop(Handle));

    public UcErr Start(ulong begin, ulong until = 0, nuint count = 0)
    {
        UcErr result = Native.uc_emu_start(Handle, begin, until, 0, count);
        if (_callbackError is { } failure)
        {
            _callbackError = null;
            throw new InvalidOperationException("a Unicorn callback failed", failure);
        }

        return result;
    }

    public ulong Reg(int id)
    {
        ulong value;
        Check(Native.uc_reg_read(Handle, id, &value));
        return value;
    }

    public void SetReg(int id, ulong value) => Check(Native.uc_reg_write(Handle, id, &value));

    public ulong X(int n) => Reg(Uc.XRegId(n));

    public ulong Pc => Reg(Uc.RegPc);

    public ulong Sys(CpReg register)
    {
        Check(TryReadSys(register, out ulong value));
        return value;
    }

    public UcErr TryReadSys(CpReg register, out ulong value)
    {
        CpReg r = register;
        UcErr result = Native.uc_reg_read(Handle, Uc.RegCpReg, &r);
        value = r.Value;
        return result;
    }

    public void SetSys(CpReg register, ulong value)
    {
        CpReg r = register;
        r.Value = value;
        Check(Native.uc_reg_write(Handle, Uc.RegCpReg, &r));
    }

    // uc_hook_add stores the new hook's handle through its second argument, so that must point somewhere.
    public void HookInterrupts()
    {
        nuint hook;
        Check(Native.uc_hook_add(Handle, &hook, Uc.HookIntr, (delegate* unmanaged[Cdecl]<nint, uint, nint, void>)&Interrupt, User, 1, 0));
    }

    /// <summary>UC_HOOK_INSN for one instruction class, through the fixed-arity overload of the variadic uc_hook_add (G2).</summary>
    public void HookInstruction(int instructionClass)
    {
        nuint hook;
        Check(Native.uc_hook_add_insn(Handle, &hook, Uc.HookInsn, (delegate* unmanaged[Cdecl]<nint, int, CpReg*, nint, uint>)&Instruction, User, 1, 0, instructionClass));
    }

    public void HookBlocks()
    {
        nuint hook;
        Check(Native.uc_hook_add(Handle, &hook, Uc.HookBlock, (delegate* unmanaged[Cdecl]<nint, ulong, uint, nint, void>)&Block, User, 1, 0));
    }

    public void MapShared(ulong address, void* host, nuint size) =>
        Check(Native.uc_mem_map_ptr(Handle, address, size, Uc.ProtRead | Uc.ProtWrite, host));

    public void RemoveCache(ulong begin, ulong end) => Check(Native.uc_ctl(Handle, Uc.CtlTbRemoveCache, begin, end));

    public static void Check(UcErr result)
    {
        if (result != UcErr.Ok)
        {
            throw new InvalidOperationException($"Unicorn: {result} ({Native.ErrorText(result)})");
        }
    }

    private nint User => GCHandle.ToIntPtr(_self);

    private static RawUnicorn From(nint user) => (RawUnicorn)GCHandle.FromIntPtr(user).Target!;

    private void Fail(Exception failure)
    {
        _callbackError ??= failure;
        _ = Native.uc_emu_stop(Handle);
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Interrupt(nint uc, uint intno, nint user)
    {
        RawUnicorn self = From(user);
        try
        {
            self.Interrupts.Add((intno, self.Pc));
            if (self.OnInterrupt is { } handler)
            {
                handler(self, intno);
            }
            else
            {
                self.Stop();
            }
        }
        catch (Exception failure)
        {
            self.Fail(failure);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static uint Instruction(nint uc, int rt, CpReg* register, nint user)
    {
        RawUnicorn self = From(user);
        try
        {
            self.InstructionHookCalls++;
            return self.OnInstruction is { } handler ? handler(self, rt, *register) : 0;
        }
        catch (Exception failure)
        {
            self.Fail(failure);
            return 1;
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Block(nint uc, ulong address, uint size, nint user)
    {
        RawUnicorn self = From(user);
        try
        {
            self.OnBlock?.Invoke(self, address);
        }
        catch (Exception failure)
        {
            self.Fail(failure);
        }
    }

    public void Dispose()
    {
        _ = Native.uc_close(Handle);
        NativeMemory.AlignedFree(_memory);
        if (_self.IsAllocated)
        {
            _self.Free();
        }
    }
}
