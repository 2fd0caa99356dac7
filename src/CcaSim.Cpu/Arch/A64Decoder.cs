using System.Numerics;

namespace CcaSim.Cpu.Arch;

/// <summary>How a load/store forms its address (Arm ARM C1.3.3 "Load/Store addressing modes").</summary>
public enum AddressingMode : byte
{
    /// <summary>[Xn|SP, #imm] (also [Xn|SP] with imm 0): no writeback.</summary>
    Offset,

    /// <summary>[Xn|SP, #imm]!: the access is at base + imm, which is written back.</summary>
    PreIndex,

    /// <summary>[Xn|SP], #imm: the access is at base; base + imm is written back.</summary>
    PostIndex,

    /// <summary>[Xn|SP], Xm (SIMD structure loads/stores): the access is at base; base + Xm is written back.</summary>
    PostIndexRegister,

    /// <summary>[Xn|SP, (W|X)m{, extend {#amount}}]: base plus the extended and shifted index register.</summary>
    RegisterOffset,

    /// <summary>PC-relative literal: PC + imm.</summary>
    Literal,
}

/// <summary>
/// A decoded A64 load or store: what it accesses, through which registers, and how the address is formed. For the
/// syndrome of a stage-2 data abort it carries exactly what ESR_ELx ISS needs (ISV, SAS, SSE, SRT, SF, AR, WnR).
/// </summary>
public readonly record struct LoadStore
{
    /// <summary>Bytes one register transfers (the element size of a SIMD structure access): SAS is log2 of this.</summary>
    public int Size { get; init; }

    /// <summary>Bytes the whole instruction accesses from <see cref="EffectiveAddress"/> on (both registers of a pair).</summary>
    public int TotalSize { get; init; }

    /// <summary>A store (WnR). Atomic read-modify-writes report false: they read first (see <see cref="IsAtomic"/>).</summary>
    public bool IsWrite { get; init; }

    /// <summary>The (first) transfer register, 31 meaning XZR/WZR for a general-purpose register.</summary>
    public int Rt { get; init; }

    /// <summary>The second register of a pair; -1 when there is none.</summary>
    public int Rt2 { get; init; }

    /// <summary>The base register; 31 means SP. Unused (0) for a literal load.</summary>
    public int Rn { get; init; }

    /// <summary>The index register of <see cref="AddressingMode.RegisterOffset"/>/<see cref="AddressingMode.PostIndexRegister"/> (31 = XZR); -1 when there is none.</summary>
    public int Rm { get; init; }

    /// <summary>The status register of a store-exclusive, or the compare/source register of an atomic; -1 when there is none.</summary>
    public int Rs { get; init; }

    public AddressingMode Addressing { get; init; }

    /// <summary>The immediate byte offset (already scaled): added for Offset/PreIndex/Literal, written back for PostIndex.</summary>
    public long Offset { get; init; }

    /// <summary>The index extend of RegisterOffset (the instruction's option field: 2 UXTW, 3 LSL/UXTX, 6 SXTW, 7 SXTX).</summary>
    public int Extend { get; init; }

    /// <summary>The index left shift of RegisterOffset.</summary>
    public int Shift { get; init; }

    /// <summary>A load whose value is sign-extended into the register (SSE).</summary>
    public bool SignExtend { get; init; }

    /// <summary>The general-purpose register is 64-bit (SF): X for loads into X and stores from X.</summary>
    public bool SixtyFourBitDest { get; init; }

    /// <summary>Acquire/release semantics (AR): LDAR, STLR, LDAPR, LDAPUR, STLUR, and the acquire/release exclusives and atomics.</summary>
    public bool AcquireRelease { get; init; }

    /// <summary>Two registers (LDP/STP, LDXP/STXP, CASP).</summary>
    public bool Pair { get; init; }

    /// <summary>The base register is written back (pre/post-index).</summary>
    public bool Writeback { get; init; }

    /// <summary>The transfer registers are SIMD&amp;FP registers.</summary>
    public bool IsSimdFp { get; init; }

    /// <summary>An atomic read-modify-write (LSE LD&lt;op&gt;, SWP, CAS, CASP).</summary>
    public bool IsAtomic { get; init; }

    /// <summary>A load/store-exclusive (LDXR, STXR, LDAXR, STLXR and their pairs).</summary>
    public bool IsExclusive { get; init; }

    /// <summary>An unprivileged access (LDTR/STTR family).</summary>
    public bool IsUnprivileged { get; init; }

    /// <summary>A SIMD structure load/store (LD1..LD4, ST1..ST4, LDnR).</summary>
    public bool IsStructure { get; init; }

    /// <summary>
    /// ESR_ELx.ISV for a stage-2 abort on this access (Arm ARM, ISS encoding for a Data Abort): 1 only for a
    /// load or store of a single general-purpose register (including XZR and the acquire/release forms LDAR, STLR,
    /// LDAPR, LDAPUR, STLUR; including unprivileged and register-offset forms), and never with writeback. Pairs,
    /// SIMD&amp;FP, structures, atomics and exclusives report ISV 0 (their effects are more than one register
    /// transfer: a status register, a read-modify-write), as KVM expects (it refuses to emulate such MMIO).
    /// </summary>
    public bool IsValidSyndrome => !Pair && !Writeback && !IsSimdFp && !IsAtomic && !IsExclusive && !IsStructure;

    /// <summary>
    /// The address of the (first) access: for pre-index base + imm, for post-index the base, for a literal PC + imm,
    /// for a register offset base + (extend(Xm) &lt;&lt; shift). <paramref name="x"/> is x0..x30; Rn 31 is SP.
    /// </summary>
    public ulong EffectiveAddress(ReadOnlySpan<ulong> x, ulong sp, ulong pc)
    {
        if (Addressing == AddressingMode.Literal)
        {
            return pc + (ulong)Offset;
        }

        ulong b = Rn == 31 ? sp : x[Rn];
        switch (Addressing)
        {
            case AddressingMode.Offset:
            case AddressingMode.PreIndex:
                return b + (ulong)Offset;
            case AddressingMode.RegisterOffset:
                ulong index = Rm == 31 ? 0 : x[Rm];
                return b + (A64Decoder.ExtendRegister(index, Extend) << Shift);
            default:
                return b;
        }
    }
}

/// <summary>The exception-generating instructions an engine reports (Arm ARM C4.1.x "Exception generation").</summary>
public enum ExceptionInstructionKind : byte
{
    Svc,
    Hvc,
    Smc,
    Brk,
}

/// <summary>A decoded SVC/HVC/SMC/BRK with its 16-bit immediate.</summary>
public readonly record struct ExceptionInstruction(ExceptionInstructionKind Kind, ushort Immediate)
{
    /// <summary>ESR_ELx.EC of the exception it takes (SVC 0x15, HVC 0x16, SMC 0x17, BRK 0x3C; Arm ARM ESR_ELx).</summary>
    public uint ExceptionClass => Kind switch
    {
        ExceptionInstructionKind.Svc => 0x15,
        ExceptionInstructionKind.Hvc => 0x16,
        ExceptionInstructionKind.Smc => 0x17,
        _ => 0x3C,
    };

    /// <summary>ESR_ELx.ISS: imm16 in ISS[15:0] for all four (Arm ARM, ISS encodings for SVC/HVC/SMC and BRK).</summary>
    public uint Iss => Immediate;
}

/// <summary>
/// Decodes A64 loads/stores (every class of Arm ARM C4.1.x "Loads and Stores") and exception-generating
/// instructions from their 32-bit words, allocation-free: what a stage-2 data abort's syndrome needs and where the
/// access goes.
/// </summary>
public static class A64Decoder
{
    /// <summary>
    /// Decodes <paramref name="insn"/> when it is a load or store that accesses memory. False for every other
    /// instruction, for unallocated encodings and for prefetches (PRFM/PRFUM access nothing). LDRAA/LDRAB report
    /// the address before authentication. MTE tag stores and LS64 are not decoded.
    /// </summary>
    public static bool TryDecodeLoadStore(uint insn, out LoadStore ls)
    {
        ls = default;

        // Loads and stores: op0 bits [28:25] = x1x0.
        if ((insn & 0x0A000000) != 0x08000000)
        {
            return false;
        }

        if ((insn & 0xBF000000) == 0x0C000000 || (insn & 0xBF000000) == 0x0D000000)
        {
            return (insn & (1u << 24)) == 0 ? MultipleStructures(insn, out ls) : SingleStructure(insn, out ls);
        }

        if ((insn & 0x3F000000) == 0x08000000)
        {
            return ExclusiveOrOrdered(insn, out ls);
        }

        if ((insn & 0x3F200C00) == 0x19000000)
        {
            return Rcpc2Unscaled(insn, out ls);
        }

        if ((insn & 0x3B000000) == 0x18000000)
        {
            return Literal(insn, out ls);
        }

        if ((insn & 0x38000000) == 0x28000000)
        {
            return RegisterPair(insn, out ls);
        }

        if ((insn & 0x3B000000) == 0x39000000)
        {
            return UnsignedOffset(insn, out ls);
        }

        if ((insn & 0x3B000000) == 0x38000000)
        {
            if ((insn & (1u << 21)) == 0)
            {
                return Immediate9(insn, out ls);
            }

            return ((insn >> 10) & 3) switch
            {
                2 => RegisterOffset(insn, out ls),
                0 => AtomicMemory(insn, out ls),
                _ => PointerAuthenticated(insn, out ls),
            };
        }

        return false;
    }

    /// <summary>
    /// The ISS bits of a data abort on <paramref name="ls"/>: ISV[24], SAS[23:22], SSE[21], SRT[20:16], SF[15],
    /// AR[14] (only when ISV is 1, else RES0) and WnR[6]. The caller adds EC, IL and the fault status code.
    /// </summary>
    public static ulong DataAbortIss(in LoadStore ls)
    {
        ulong iss = ls.IsWrite ? 1UL << 6 : 0;
        if (!ls.IsValidSyndrome)
        {
            return iss;
        }

        iss |= 1UL << 24;
        iss |= (ulong)BitOperations.Log2((uint)ls.Size) << 22;
        iss |= ls.SignExtend ? 1UL << 21 : 0;
        iss |= (ulong)(ls.Rt & 0x1F) << 16;
        iss |= ls.SixtyFourBitDest ? 1UL << 15 : 0;
        iss |= ls.AcquireRelease ? 1UL << 14 : 0;
        return iss;
    }

    /// <summary>Decodes SVC, HVC, SMC and BRK (encoding "11010100 opc imm16 000 LL"). False for anything else.</summary>
    public static bool TryDecodeException(uint insn, out ExceptionInstruction exception)
    {
        exception = default;
        if ((insn & 0xFF00001C) != 0xD4000000)
        {
            return false;
        }

        ushort imm16 = (ushort)((insn >> 5) & 0xFFFF);
        uint opc = (insn >> 21) & 7;
        uint ll = insn & 3;
        ExceptionInstructionKind? kind = (opc, ll) switch
        {
            (0, 1) => ExceptionInstructionKind.Svc,
            (0, 2) => ExceptionInstructionKind.Hvc,
            (0, 3) => ExceptionInstructionKind.Smc,
            (1, 0) => ExceptionInstructionKind.Brk,
            _ => null,
        };
        if (kind is null)
        {
            return false;
        }

        exception = new ExceptionInstruction(kind.Value, imm16);
        return true;
    }

    /// <summary>ExtendReg of the Arm ARM pseudocode for the load/store option field (UXTW, LSL/UXTX, SXTW, SXTX).</summary>
    internal static ulong ExtendRegister(ulong value, int option) => option switch
    {
        2 => (uint)value,
        6 => (ulong)(long)(int)(uint)value,
        _ => value,
    };

    private static int Field(uint insn, int shift, uint mask) => (int)((insn >> shift) & mask);

    private static long SignExtend(uint value, int bits) => (long)((ulong)value << (64 - bits)) >> (64 - bits);

    // The register type of a single-register load/store from size, V and opc (Arm ARM, "Load/store register"
    // encoding tables): bytes, load or store, sign extension, 64-bit register. False for prefetch and unallocated.
    private static bool RegisterType(uint size, bool simd, uint opc, out int bytes, out bool load, out bool signExtend, out bool sf)
    {
        signExtend = false;
        sf = false;
        load = (opc & 1) != 0;
        bytes = 1 << (int)size;
        if (simd)
        {
            if ((opc & 2) != 0)
            {
                if (size != 0)
                {
                    return false;
                }

                bytes = 16;
            }

            return true;
        }

        switch (opc)
        {
            case 0:
            case 1:
                sf = size == 3;
                return true;
            case 2:
                // size 11 is PRFM; otherwise LDRSB/LDRSH/LDRSW into an X register.
                load = true;
                signExtend = true;
                sf = true;
                return size != 3;
            default:
                // LDRSB/LDRSH into a W register; size 1x unallocated.
                load = true;
                signExtend = true;
                return size < 2;
        }
    }

    private static bool UnsignedOffset(uint insn, out LoadStore ls)
    {
        ls = default;
        bool simd = (insn & (1u << 26)) != 0;
        if (!RegisterType(insn >> 30, simd, (insn >> 22) & 3, out int bytes, out bool load, out bool sse, out bool sf))
        {
            return false;
        }

        ls = Single(insn, bytes, load, sse, sf, simd) with
        {
            Offset = (long)((insn >> 10) & 0xFFF) * bytes,
        };
        return true;
    }

    private static bool Immediate9(uint insn, out LoadStore ls)
    {
        ls = default;
        bool simd = (insn & (1u << 26)) != 0;
        uint kind = (insn >> 10) & 3;
        if (kind == 2 && simd)
        {
            return false;
        }

        if (!RegisterType(insn >> 30, simd, (insn >> 22) & 3, out int bytes, out bool load, out bool sse, out bool sf))
        {
            return false;
        }

        long imm = SignExtend((insn >> 12) & 0x1FF, 9);
        ls = Single(insn, bytes, load, sse, sf, simd) with
        {
            Offset = imm,
            Addressing = kind switch
            {
                1 => AddressingMode.PostIndex,
                3 => AddressingMode.PreIndex,
                _ => AddressingMode.Offset,
            },
            Writeback = kind is 1 or 3,
            IsUnprivileged = kind == 2,
        };
        return true;
    }

    private static bool RegisterOffset(uint insn, out LoadStore ls)
    {
        ls = default;
        int option = Field(insn, 13, 7);
        if ((option & 2) == 0)
        {
            return false;
        }

        bool simd = (insn & (1u << 26)) != 0;
        if (!RegisterType(insn >> 30, simd, (insn >> 22) & 3, out int bytes, out bool load, out bool sse, out bool sf))
        {
            return false;
        }

        bool scaled = (insn & (1u << 12)) != 0;
        ls = Single(insn, bytes, load, sse, sf, simd) with
        {
            Addressing = AddressingMode.RegisterOffset,
            Rm = Field(insn, 16, 0x1F),
            Extend = option,
            Shift = scaled ? BitOperations.Log2((uint)bytes) : 0,
        };
        return true;
    }

    private static bool Literal(uint insn, out LoadStore ls)
    {
        ls = default;
        bool simd = (insn & (1u << 26)) != 0;
        uint opc = insn >> 30;
        int bytes;
        bool sse = false;
        bool sf = false;
        if (simd)
        {
            if (opc == 3)
            {
                return false;
            }

            bytes = 4 << (int)opc;
        }
        else
        {
            switch (opc)
            {
                case 0:
                    bytes = 4;
                    break;
                case 1:
                    bytes = 8;
                    sf = true;
                    break;
                case 2:
                    bytes = 4;
                    sse = true;
                    sf = true;
                    break;
                default:
                    return false; // PRFM (literal)
            }
        }

        ls = Single(insn, bytes, load: true, sse, sf, simd) with
        {
            Addressing = AddressingMode.Literal,
            Rn = 0,
            Offset = SignExtend((insn >> 5) & 0x7FFFF, 19) * 4,
        };
        return true;
    }

    private static bool RegisterPair(uint insn, out LoadStore ls)
    {
        ls = default;
        bool simd = (insn & (1u << 26)) != 0;
        bool load = (insn & (1u << 22)) != 0;
        uint opc = insn >> 30;
        uint mode = (insn >> 23) & 3;
        int bytes;
        bool sse = false;
        bool sf = false;
        if (simd)
        {
            if (opc == 3)
            {
                return false;
            }

            bytes = 4 << (int)opc;
        }
        else
        {
            switch (opc)
            {
                case 0:
                    bytes = 4;
                    break;
                case 1:
                    // LDPSW; with L = 0 this is STGP (MTE), and LDPSW has no non-temporal form.
                    if (!load || mode == 0)
                    {
                        return false;
                    }

                    bytes = 4;
                    sse = true;
                    sf = true;
                    break;
                case 2:
                    bytes = 8;
                    sf = true;
                    break;
                default:
                    return false;
            }
        }

        ls = Single(insn, bytes, load, sse, sf, simd) with
        {
            TotalSize = 2 * bytes,
            Rt2 = Field(insn, 10, 0x1F),
            Pair = true,
            Offset = SignExtend((insn >> 15) & 0x7F, 7) * bytes,
            Addressing = mode switch
            {
                1 => AddressingMode.PostIndex,
                3 => AddressingMode.PreIndex,
                _ => AddressingMode.Offset,
            },
            Writeback = mode is 1 or 3,
        };
        return true;
    }

    // Load/store exclusive, load-acquire/store-release, CAS and CASP (Arm ARM, "Load/store exclusive" and
    // "Load/store ordered" and "Compare and swap" encodings: size o2 L o1 Rs o0 Rt2).
    private static bool ExclusiveOrOrdered(uint insn, out LoadStore ls)
    {
        ls = default;
        uint size = insn >> 30;
        bool o2 = (insn & (1u << 23)) != 0;
        bool load = (insn & (1u << 22)) != 0;
        bool o1 = (insn & (1u << 21)) != 0;
        bool o0 = (insn & (1u << 15)) != 0;
        int rs = Field(insn, 16, 0x1F);
        int rt2 = Field(insn, 10, 0x1F);
        int bytes = 1 << (int)size;
        LoadStore single = Single(insn, bytes, load, signExtend: false, sf: size == 3, simd: false);
        switch (o2, o1)
        {
            case (false, false):
                // LDXR/LDAXR, STXR/STLXR: a store reports its status in Ws. The unused Rs of a load and Rt2 are
                // should-be-one fields: other values are CONSTRAINED UNPREDICTABLE, decoded as the instruction.
                ls = single with { IsExclusive = true, AcquireRelease = o0, Rs = load ? -1 : rs };
                return true;
            case (false, true) when size >= 2:
                // LDXP/LDAXP, STXP/STLXP: two W or X registers.
                ls = single with
                {
                    IsExclusive = true,
                    AcquireRelease = o0,
                    Rs = load ? -1 : rs,
                    Pair = true,
                    Rt2 = rt2,
                    Size = size == 3 ? 8 : 4,
                    TotalSize = size == 3 ? 16 : 8,
                };
                return true;
            case (false, true):
                // CASP/CASPA/CASPL/CASPAL: an even register pair each for compare and for new value (an odd Rs
                // or Rt is UNDEFINED).
                if (rt2 != 31 || (rs & 1) != 0 || (Field(insn, 0, 0x1F) & 1) != 0)
                {
                    return false;
                }

                int pairBytes = (size & 1) != 0 ? 8 : 4;
                ls = single with
                {
                    IsAtomic = true,
                    IsWrite = false,
                    AcquireRelease = load || o0,
                    Rs = rs,
                    Pair = true,
                    Rt2 = Field(insn, 0, 0x1F) + 1,
                    Size = pairBytes,
                    TotalSize = 2 * pairBytes,
                    SixtyFourBitDest = pairBytes == 8,
                };
                return true;
            case (true, false):
                // LDAR/LDLAR, STLR/STLLR: single register, ordered (Rs and Rt2 should be one, as above).
                ls = single with { AcquireRelease = true };
                return true;
            default:
                // CAS/CASA/CASL/CASAL (B, H, W, X).
                if (rt2 != 31)
                {
                    return false;
                }

                ls = single with { IsAtomic = true, IsWrite = false, AcquireRelease = load || o0, Rs = rs };
                return true;
        }
    }

    // LSE atomic memory operations, SWP and LDAPR (Arm ARM, "Atomic memory operations": size V A R Rs o3 opc).
    private static bool AtomicMemory(uint insn, out LoadStore ls)
    {
        ls = default;
        if ((insn & (1u << 26)) != 0)
        {
            return false;
        }

        uint size = insn >> 30;
        bool acquire = (insn & (1u << 23)) != 0;
        bool release = (insn & (1u << 22)) != 0;
        bool o3 = (insn & (1u << 15)) != 0;
        uint opc = (insn >> 12) & 7;
        int rs = Field(insn, 16, 0x1F);
        LoadStore single = Single(insn, 1 << (int)size, load: true, signExtend: false, sf: size == 3, simd: false);
        if (!o3 || opc == 0)
        {
            // LDADD, LDCLR, LDEOR, LDSET, LDSMAX, LDSMIN, LDUMAX, LDUMIN (ST<op> when Rt is 31), SWP.
            ls = single with { IsAtomic = true, AcquireRelease = acquire || release, Rs = rs };
            return true;
        }

        if (opc == 4 && acquire && !release && rs == 31)
        {
            ls = single with { AcquireRelease = true };
            return true;
        }

        return false;
    }

    // LDAPUR*/STLUR (FEAT_LRCPC2): unscaled signed offset, acquire/release.
    private static bool Rcpc2Unscaled(uint insn, out LoadStore ls)
    {
        ls = default;
        uint size = insn >> 30;
        uint opc = (insn >> 22) & 3;
        bool load = opc != 0;
        bool sse = opc >= 2;
        bool sf = opc switch
        {
            0 or 1 => size == 3,
            2 => true,
            _ => false,
        };
        if ((opc == 2 && size == 3) || (opc == 3 && size >= 2))
        {
            return false;
        }

        ls = Single(insn, 1 << (int)size, load, sse, sf, simd: false) with
        {
            AcquireRelease = true,
            Offset = SignExtend((insn >> 12) & 0x1FF, 9),
        };
        return true;
    }

    // LDRAA/LDRAB (FEAT_PAuth): 64-bit load at base + SignExtend(S:imm9) * 8, optionally pre-indexed.
    private static bool PointerAuthenticated(uint insn, out LoadStore ls)
    {
        ls = default;
        if ((insn >> 30) != 3 || (insn & (1u << 26)) != 0)
        {
            return false;
        }

        uint imm10 = (((insn >> 22) & 1) << 9) | ((insn >> 12) & 0x1FF);
        bool writeback = (insn & (1u << 11)) != 0;
        ls = Single(insn, 8, load: true, signExtend: false, sf: true, simd: false) with
        {
            Offset = SignExtend(imm10, 10) * 8,
            Addressing = writeback ? AddressingMode.PreIndex : AddressingMode.Offset,
            Writeback = writeback,
        };
        return true;
    }

    // LD1/LD2/LD3/LD4 and ST1..ST4 (multiple structures): opcode gives the register count.
    private static bool MultipleStructures(uint insn, out LoadStore ls)
    {
        ls = default;
        bool post = (insn & (1u << 23)) != 0;
        if ((insn & (1u << 21)) != 0 || (!post && Field(insn, 16, 0x1F) != 0))
        {
            return false;
        }

        int opcode = Field(insn, 12, 0xF);
        int registers = opcode switch
        {
            0b0000 or 0b0010 => 4,
            0b0100 or 0b0110 => 3,
            0b0111 => 1,
            0b1000 or 0b1010 => 2,
            _ => 0,
        };
        // LD2/LD3/LD4 (interleaved) have no 1D arrangement: size 11 with Q 0 is reserved.
        bool interleaved = opcode is 0b0000 or 0b0100 or 0b1000;
        if (registers == 0 || (interleaved && Field(insn, 10, 3) == 3 && (insn & (1u << 30)) == 0))
        {
            return false;
        }

        int total = registers * ((insn & (1u << 30)) != 0 ? 16 : 8);
        ls = Structure(insn, 1 << Field(insn, 10, 3), total, post);
        return true;
    }

    // LD1..LD4 / ST1..ST4 (single structure, one lane) and LD1R..LD4R (replicate).
    private static bool SingleStructure(uint insn, out LoadStore ls)
    {
        ls = default;
        bool post = (insn & (1u << 23)) != 0;
        bool load = (insn & (1u << 22)) != 0;
        if (!post && Field(insn, 16, 0x1F) != 0)
        {
            return false;
        }

        int opcode = Field(insn, 13, 7);
        int selem = (((opcode & 1) << 1) | Field(insn, 21, 1)) + 1;
        int size = Field(insn, 10, 3);
        bool s = (insn & (1u << 12)) != 0;
        int esize;
        switch (opcode >> 1)
        {
            case 0:
                esize = 1;
                break;
            case 1:
                if ((size & 1) != 0)
                {
                    return false;
                }

                esize = 2;
                break;
            case 2:
                if (size == 0)
                {
                    esize = 4;
                }
                else if (size == 1 && !s)
                {
                    esize = 8;
                }
                else
                {
                    return false;
                }

                break;
            default:
                if (!load || s)
                {
                    return false;
                }

                esize = 1 << size;
                break;
        }

        ls = Structure(insn, esize, selem * esize, post);
        return true;
    }

    private static LoadStore Structure(uint insn, int elementBytes, int total, bool post)
    {
        int rm = Field(insn, 16, 0x1F);
        bool immediate = rm == 31;
        return new LoadStore
        {
            Size = elementBytes,
            TotalSize = total,
            IsWrite = (insn & (1u << 22)) == 0,
            Rt = Field(insn, 0, 0x1F),
            Rt2 = -1,
            Rn = Field(insn, 5, 0x1F),
            Rm = post && !immediate ? rm : -1,
            Rs = -1,
            Addressing = !post ? AddressingMode.Offset : immediate ? AddressingMode.PostIndex : AddressingMode.PostIndexRegister,
            Offset = post && immediate ? total : 0,
            Writeback = post,
            IsSimdFp = true,
            IsStructure = true,
        };
    }

    private static LoadStore Single(uint insn, int bytes, bool load, bool signExtend, bool sf, bool simd) => new()
    {
        Size = bytes,
        TotalSize = bytes,
        IsWrite = !load,
        Rt = Field(insn, 0, 0x1F),
        Rt2 = -1,
        Rn = Field(insn, 5, 0x1F),
        Rm = -1,
        Rs = -1,
        Addressing = AddressingMode.Offset,
        SignExtend = signExtend,
        SixtyFourBitDest = sf,
        IsSimdFp = simd,
    };
}
