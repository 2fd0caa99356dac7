using System.Runtime.InteropServices;

namespace CcaSim.Cpu.Disassembly;

/// <summary>
/// A64 disassembly through the system's Capstone (Debian 12: libcapstone4, 4.0.2; Capstone 5 also works), for traces
/// of faulting instructions. A minimal binding: the library is loaded with <see cref="NativeLibrary"/> and its four
/// entry points (cs_version, cs_open, cs_disasm, cs_free) are called through unmanaged function pointers, which is
/// trim- and NativeAOT-safe and leaves the assembly's DllImport resolver to Unicorn. Capstone.NET
/// (Gee.External.Capstone 2.3.0) was not used: its package ships no Linux native library (its maintainer says the
/// native library is to be built or installed separately, 9ee1/Capstone.NET#30), so here it would need the same
/// name-mapping resolver plus a managed layer of its own for four calls. Without the library nothing fails:
/// <see cref="TryDisassemble"/> returns null.
/// </summary>
public static unsafe class A64Disassembler
{
    private const int CsArchArm64 = 1; // CS_ARCH_ARM64 in Capstone 4 and 5
    private const int CsModeLittleEndian = 0;

    private static readonly Lock Gate = new();
    private static bool _loaded;
    private static nuint _handle;
    private static delegate* unmanaged[Cdecl]<nuint, byte*, nuint, ulong, nuint, nint*, nuint> _disasm;
    private static delegate* unmanaged[Cdecl]<nint, nuint, void> _free;
    private static int _mnemonicOffset;
    private static int _operandsOffset;

    /// <summary>Library names tried in order: Debian's Capstone 4 and 5 sonames, then the unversioned development link.</summary>
    private static readonly string[] LibraryNames = ["libcapstone.so.4", "libcapstone.so.5", "libcapstone.so"];

    /// <summary>True when Capstone could be loaded and opened for A64.</summary>
    public static bool IsAvailable
    {
        get
        {
            EnsureLoaded();
            return _handle != 0;
        }
    }

    /// <summary>What the trace says when <see cref="IsAvailable"/> is false.</summary>
    public const string Unavailable = "disassembly unavailable (install libcapstone4: scripts/setup.sh)";

    /// <summary>
    /// The instruction <paramref name="word"/> at <paramref name="address"/> in assembler syntax ("ldr x0, [x1]"),
    /// or null when Capstone is missing or the word is not a valid A64 instruction.
    /// </summary>
    public static string? TryDisassemble(uint word, ulong address = 0)
    {
        EnsureLoaded();
        if (_handle == 0)
        {
            return null;
        }

        lock (Gate)
        {
            nint insn = 0;
            nuint count = _disasm(_handle, (byte*)&word, 4, address, 1, &insn);
            if (count == 0 || insn == 0)
            {
                // UDF #imm16 (bits 31:16 zero, Arm ARM C6.2 "UDF") is what the exceptions payload and zeroed memory
                // fault on; Capstone 4 predates it and decodes nothing. Capstone 5's spelling.
                uint imm = word & 0xFFFF;
                return word >> 16 != 0 ? null : imm <= 9 ? $"udf #{imm}" : $"udf #0x{imm:x}";
            }

            try
            {
                // cs_insn's mnemonic[32] and op_str[160] are NUL-terminated by Capstone.
                string mnemonic = Marshal.PtrToStringUTF8(insn + _mnemonicOffset) ?? "";
                string operands = Marshal.PtrToStringUTF8(insn + _operandsOffset) ?? "";
                return operands.Length == 0 ? mnemonic : $"{mnemonic} {operands}";
            }
            finally
            {
                _free(insn, count);
            }
        }
    }

    private static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_loaded)
            {
                return;
            }

            _loaded = true;
            foreach (string name in LibraryNames)
            {
                if (NativeLibrary.TryLoad(name, out nint library) && TryOpen(library))
                {
                    return;
                }
            }
        }
    }

    private static bool TryOpen(nint library)
    {
        if (!NativeLibrary.TryGetExport(library, "cs_version", out nint version)
            || !NativeLibrary.TryGetExport(library, "cs_open", out nint open)
            || !NativeLibrary.TryGetExport(library, "cs_disasm", out nint disasm)
            || !NativeLibrary.TryGetExport(library, "cs_free", out nint free))
        {
            return false;
        }

        // cs_insn: id (u32), address (u64), size (u16), bytes[16] (Capstone 4) or bytes[24] (Capstone 5), then
        // mnemonic[32] and op_str[160]. Other major versions changed the structure and are not used.
        int major = 0, minor = 0;
        _ = ((delegate* unmanaged[Cdecl]<int*, int*, uint>)version)(&major, &minor);
        int bytes = major switch
        {
            4 => 16,
            5 => 24,
            _ => 0,
        };
        if (bytes == 0)
        {
            return false;
        }

        nuint handle = 0;
        if (((delegate* unmanaged[Cdecl]<int, int, nuint*, int>)open)(CsArchArm64, CsModeLittleEndian, &handle) != 0)
        {
            return false;
        }

        _mnemonicOffset = 18 + bytes;
        _operandsOffset = _mnemonicOffset + 32;
        _disasm = (delegate* unmanaged[Cdecl]<nuint, byte*, nuint, ulong, nuint, nint*, nuint>)disasm;
        _free = (delegate* unmanaged[Cdecl]<nint, nuint, void>)free;
        _handle = handle;
        return true;
    }
}
