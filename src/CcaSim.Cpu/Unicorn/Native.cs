using System.Runtime.InteropServices;

namespace CcaSim.Cpu.Unicorn;

/// <summary>
/// The part of Unicorn's C API the engine uses (unicorn-2.0.1.md, "Recommended binding surface"). Blittable
/// signatures only; the variadic uc_hook_add and uc_ctl are declared as fixed-arity overloads (G2: correct on
/// Linux x64 SysV and AArch64, which pass variadic integer arguments like fixed ones).
/// </summary>
internal static unsafe partial class Native
{
    /// <summary>The name every import uses; <see cref="UnicornLibrary"/> resolves it to the file actually loaded.</summary>
    internal const string LibraryName = "libunicorn.so.2";

    [LibraryImport(LibraryName)]
    internal static partial uint uc_version(uint* major, uint* minor);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_open(int arch, int mode, nint* uc);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_close(nint uc);

    [LibraryImport(LibraryName)]
    internal static partial byte* uc_strerror(UcErr code);

    [LibraryImport(LibraryName, EntryPoint = "uc_ctl")]
    internal static partial UcErr uc_ctl(nint uc, uint control, long argument);

    [LibraryImport(LibraryName, EntryPoint = "uc_ctl")]
    internal static partial UcErr uc_ctl(nint uc, uint control, ulong begin, ulong end);

    [LibraryImport(LibraryName, EntryPoint = "uc_ctl")]
    internal static partial UcErr uc_ctl(nint uc, uint control, void* output);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_reg_read(nint uc, int regId, void* value);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_reg_write(nint uc, int regId, void* value);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_reg_read_batch(nint uc, int* regIds, void** values, int count);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_reg_write_batch(nint uc, int* regIds, void** values, int count);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_mem_map(nint uc, ulong address, nuint size, uint perms);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_mem_map_ptr(nint uc, ulong address, nuint size, uint perms, void* host);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_mem_unmap(nint uc, ulong address, nuint size);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_mem_read(nint uc, ulong address, void* bytes, nuint size);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_mem_write(nint uc, ulong address, void* bytes, nuint size);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_emu_start(nint uc, ulong begin, ulong until, ulong timeout, nuint count);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_emu_stop(nint uc);

    [LibraryImport(LibraryName, EntryPoint = "uc_hook_add")]
    internal static partial UcErr uc_hook_add(nint uc, nuint* hook, int type, void* callback, nint userData, ulong begin, ulong end);

    /// <summary>UC_HOOK_INSN: the variadic tail carries the instruction class (G2).</summary>
    [LibraryImport(LibraryName, EntryPoint = "uc_hook_add")]
    internal static partial UcErr uc_hook_add_insn(nint uc, nuint* hook, int type, void* callback, nint userData, ulong begin, ulong end, int instruction);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_hook_del(nint uc, nuint hook);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_context_alloc(nint uc, nint* context);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_context_save(nint uc, nint context);

    [LibraryImport(LibraryName)]
    internal static partial UcErr uc_context_free(nint context);

    [LibraryImport(LibraryName)]
    internal static partial nuint uc_context_size(nint uc);

    internal static string ErrorText(UcErr code)
    {
        byte* text = uc_strerror(code);
        return text == null ? code.ToString() : Marshal.PtrToStringUTF8((nint)text) ?? code.ToString();
    }
}

/// <summary>uc_err (unicorn.h; 2.1.x appends OVERFLOW after EXCEPTION).</summary>
internal enum UcErr
{
    Ok = 0,
    NoMem = 1,
    Arch = 2,
    Handle = 3,
    Mode = 4,
    Version = 5,
    ReadUnmapped = 6,
    WriteUnmapped = 7,
    FetchUnmapped = 8,
    Hook = 9,
    InsnInvalid = 10,
    Map = 11,
    WriteProt = 12,
    ReadProt = 13,
    FetchProt = 14,
    Arg = 15,
    ReadUnaligned = 16,
    WriteUnaligned = 17,
    FetchUnaligned = 18,
    HookExist = 19,
    Resource = 20,
    Exception = 21,
    Overflow = 22,
}

/// <summary>uc_arm64_cp_reg: field order crn, crm, op0, op1, op2, then the value at offset 24 (32 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct CpReg
{
    public uint CRn;
    public uint CRm;
    public uint Op0;
    public uint Op1;
    public uint Op2;
    private uint _padding;
    public ulong Value;

    public CpReg(uint op0, uint op1, uint crn, uint crm, uint op2)
    {
        CRn = crn;
        CRm = crm;
        Op0 = op0;
        Op1 = op1;
        Op2 = op2;
        _padding = 0;
        Value = 0;
    }
}

/// <summary>Constants of unicorn.h and arm64.h used by the engine.</summary>
internal static class Uc
{
    public const int ArchArm64 = 2;
    public const int ModeArm = 0;

    public const uint ProtRead = 1;
    public const uint ProtWrite = 2;
    public const uint ProtExec = 4;
    public const uint ProtAll = 7;

    public const int HookIntr = 1;
    public const int HookInsn = 2;
    public const int HookCode = 4;
    public const int HookBlock = 8;
    public const int HookMemReadUnmapped = 16;
    public const int HookMemWriteUnmapped = 32;
    public const int HookMemFetchUnmapped = 64;
    public const int HookMemUnmapped = 112;
    public const int HookMemReadProt = 128;
    public const int HookMemWriteProt = 256;
    public const int HookMemFetchProt = 512;
    public const int HookMemProt = 896;

    public const int MemRead = 16;
    public const int MemWrite = 17;
    public const int MemFetch = 18;
    public const int MemReadUnmapped = 19;
    public const int MemWriteUnmapped = 20;
    public const int MemFetchUnmapped = 21;
    public const int MemWriteProt = 22;
    public const int MemReadProt = 23;
    public const int MemFetchProt = 24;

    public const int InsMrs = 1;
    public const int InsMsr = 2;
    public const int InsSys = 3;
    public const int InsSysl = 4;

    public const long CpuModelMax = 3;

    /// <summary>uc_ctl codes: type | nr &lt;&lt; 26 | rw &lt;&lt; 30 (1 = write, 2 = read).</summary>
    public const uint CtlCpuModelWrite = 0x44000007;
    public const uint CtlCpuModelRead = 0x84000007;
    public const uint CtlTbRemoveCache = 0x48000009;
    public const uint CtlTbFlush = 0x4000000a;

    // Register ids (arm64.h). X29 and X30 are not in the X0.. run (G3).
    public const int RegX29 = 1;
    public const int RegX30 = 2;
    public const int RegNzcv = 3;
    public const int RegSp = 4;
    public const int RegXzr = 7;
    public const int RegQ0 = 104;
    public const int RegX0 = 199;
    public const int RegV0 = 228;
    public const int RegPc = 260;
    public const int RegCpacrEl1 = 261;
    public const int RegTpidrEl0 = 262;
    public const int RegTpidrroEl0 = 263;
    public const int RegTpidrEl1 = 264;
    public const int RegPstate = 265;
    public const int RegElrEl1 = 267;
    public const int RegSpEl0 = 270;
    public const int RegSpEl1 = 271;
    public const int RegTtbr0El1 = 274;
    public const int RegTtbr1El1 = 275;
    public const int RegEsrEl1 = 277;
    public const int RegFarEl1 = 281;
    public const int RegParEl1 = 284;
    public const int RegMairEl1 = 285;
    public const int RegVbarEl1 = 287;
    public const int RegCpReg = 290;
    public const int RegFpcr = 291;
    public const int RegFpsr = 292;

    // Exception numbers reported to UC_HOOK_INTR (target/arm/cpu.h EXCP_*).
    public const uint ExcpUdef = 1;
    public const uint ExcpSwi = 2;
    public const uint ExcpPrefetchAbort = 3;
    public const uint ExcpDataAbort = 4;
    public const uint ExcpBkpt = 7;
    public const uint ExcpHvc = 11;
    public const uint ExcpHypTrap = 12;
    public const uint ExcpSmc = 13;

    /// <summary>The uc register id of Xn (G3: X29 = 1, X30 = 2, XZR = 7).</summary>
    public static int XRegId(int n) => n switch
    {
        < 29 => RegX0 + n,
        29 => RegX29,
        30 => RegX30,
        _ => RegXzr,
    };

    /// <summary>Xn of a uc register id (the inverse of <see cref="XRegId"/>); 31 for XZR, -1 otherwise.</summary>
    public static int XIndex(int regId) => regId switch
    {
        >= RegX0 and < RegX0 + 29 => regId - RegX0,
        RegX29 => 29,
        RegX30 => 30,
        RegXzr => 31,
        _ => -1,
    };
}
