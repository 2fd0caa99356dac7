// TEMPORARY: the minimum of the Arch API (written concurrently in src/CcaSim.Cpu/Arch/ by another helper) the
// engine is coded against. The lead deletes this file when the real Arch classes are merged.
using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Arch;

public readonly record struct SysReg(int Op0, int Op1, int CRn, int CRm, int Op2)
{
    public static SysReg IccSgi1rEl1 => new(3, 0, 12, 11, 5);
    public static SysReg IccAsgi1rEl1 => new(3, 0, 12, 11, 6);
    public static SysReg IccSgi0rEl1 => new(3, 0, 12, 11, 7);
    public static SysReg MpidrEl1 => new(3, 0, 0, 0, 5);
}

public enum SysRegWrite
{
    NotGic,
    Done,
    TrapToOwner,
}

public static class GicCpuInterface
{
    public static bool TryRead(RealmVcpuContext ctx, SysReg reg, out ulong value)
    {
        value = 0;
        return false;
    }

    public static SysRegWrite Write(RealmVcpuContext ctx, SysReg reg, ulong value) =>
        reg == SysReg.IccSgi1rEl1 || reg == SysReg.IccAsgi1rEl1 || reg == SysReg.IccSgi0rEl1
            ? SysRegWrite.TrapToOwner
            : SysRegWrite.NotGic;

    public static bool VirtualIrqPending(RealmVcpuContext ctx) => false;
}

public static class GenericTimer
{
    private static readonly SysReg CntFrq = new(3, 3, 14, 0, 0);
    private static readonly SysReg CntPct = new(3, 3, 14, 0, 1);
    private static readonly SysReg CntVct = new(3, 3, 14, 0, 2);
    private static readonly SysReg CntpCtl = new(3, 3, 14, 2, 1);
    private static readonly SysReg CntpCval = new(3, 3, 14, 2, 2);
    private static readonly SysReg CntvCtl = new(3, 3, 14, 3, 1);
    private static readonly SysReg CntvCval = new(3, 3, 14, 3, 2);

    public static bool TryRead(RealmVcpuContext ctx, VirtualClock clock, SysReg reg, out ulong value)
    {
        value = 0;
        if (reg == CntFrq) value = VirtualClock.CounterFrequency;
        else if (reg == CntPct) value = clock.Now;
        else if (reg == CntVct) value = clock.Now - ctx.CntvOff;
        else if (reg == CntpCtl) value = Ctl(ctx.CntpCtl, clock.Now >= ctx.CntpCval);
        else if (reg == CntpCval) value = ctx.CntpCval;
        else if (reg == CntvCtl) value = Ctl(ctx.CntvCtl, clock.Now - ctx.CntvOff >= ctx.CntvCval);
        else if (reg == CntvCval) value = ctx.CntvCval;
        else return false;
        return true;
    }

    public static bool TryWrite(RealmVcpuContext ctx, VirtualClock clock, SysReg reg, ulong value)
    {
        if (reg == CntpCtl) ctx.CntpCtl = value & 3;
        else if (reg == CntpCval) ctx.CntpCval = value;
        else if (reg == CntvCtl) ctx.CntvCtl = value & 3;
        else if (reg == CntvCval) ctx.CntvCval = value;
        else return reg == CntFrq || reg == CntPct || reg == CntVct;
        return true;
    }

    public static ulong NextDeadline(RealmVcpuContext ctx)
    {
        ulong deadline = ulong.MaxValue;
        if ((ctx.CntpCtl & 3) == 1) deadline = ctx.CntpCval;
        if ((ctx.CntvCtl & 3) == 1) deadline = Math.Min(deadline, ctx.CntvCval + ctx.CntvOff);
        return deadline;
    }

    public static bool FiringWithoutListRegister(RealmVcpuContext ctx, VirtualClock clock) =>
        NextDeadline(ctx) <= clock.Now;

    private static ulong Ctl(ulong ctl, bool met) => (ctl & 3) | ((ctl & 1) != 0 && met ? 4UL : 0);
}

/// <summary>One decoded load/store: what a data abort's ISS describes.</summary>
public readonly record struct LoadStore(
    int Size,
    bool IsWrite,
    int Rt,
    int Rn,
    bool SignExtend,
    bool SixtyFour,
    bool AcquireRelease,
    bool Pair,
    bool Writeback,
    bool Isv,
    bool PostIndex,
    long Offset,
    int Rm,
    int ExtendOption,
    int Shift,
    int Rt2)
{
    /// <summary>The address the access uses; <paramref name="reg"/>(n) gives Xn for 0..30 and SP for 31.</summary>
    public ulong EffectiveAddress(Func<int, ulong> reg)
    {
        ulong baseAddress = reg(Rn);
        if (PostIndex)
        {
            return baseAddress;
        }

        if (Rm < 0)
        {
            return baseAddress + (ulong)Offset;
        }

        ulong index = Rm == 31 ? 0 : reg(Rm);
        index = ExtendOption switch
        {
            0b010 => (uint)index,
            0b110 => (ulong)(long)(int)(uint)index,
            _ => index,
        };
        return baseAddress + (index << Shift);
    }

    /// <summary>Registers the access writes besides memory: the loaded Rt (and Rt2), the written-back base.</summary>
    public bool Writes(int register) =>
        (!IsWrite && (register == Rt || (Pair && register == Rt2))) || (Writeback && register == Rn);

    public bool Reads(int register) => register == Rn || register == Rm;
}

public static class A64Decoder
{
    public static bool TryDecodeLoadStore(uint insn, out LoadStore access)
    {
        access = default;
        int rt = (int)(insn & 31);
        int rn = (int)((insn >> 5) & 31);
        bool simd = ((insn >> 26) & 1) != 0;
        if ((insn & 0x3B000000) == 0x39000000 || (insn & 0x3B200000) == 0x38000000 || (insn & 0x3B200C00) == 0x38200800)
        {
            int size = (int)(insn >> 30);
            int opc = (int)((insn >> 22) & 3);
            int scale = simd ? ((opc & 2) << 1) | size : size;
            bool isWrite = simd ? (opc & 1) == 0 : opc == 0;
            bool signExtend = !simd && opc >= 2;
            if (!simd && size == 3 && opc >= 2)
            {
                return false; // PRFM, unallocated
            }

            bool sixtyFour = !simd && (isWrite ? size == 3 : (size == 3 || opc == 2));
            bool unsignedOffset = (insn & 0x3B000000) == 0x39000000;
            bool registerOffset = !unsignedOffset && (insn & 0x3B200C00) == 0x38200800;
            int mode = (int)((insn >> 10) & 3);
            bool writeback = !unsignedOffset && !registerOffset && (mode == 1 || mode == 3);
            long offset = unsignedOffset ? (long)((insn >> 10) & 0xFFF) << scale : SignExtend9(insn >> 12);
            int rm = registerOffset ? (int)((insn >> 16) & 31) : -1;
            int option = (int)((insn >> 13) & 7);
            int shift = ((insn >> 12) & 1) != 0 ? scale : 0;
            access = new LoadStore(1 << scale, isWrite, rt, rn, signExtend, sixtyFour, false, false, writeback,
                !simd && !writeback, !unsignedOffset && !registerOffset && mode == 1, offset, rm, option, shift, -1);
            return true;
        }

        if ((insn & 0x3A000000) == 0x28000000)
        {
            int opc = (int)(insn >> 30);
            int scale = simd ? 2 + opc : 2 + (opc >> 1);
            int mode = (int)((insn >> 23) & 3);
            long imm7 = ((long)((insn >> 15) & 0x7F) << 57) >> 57;
            access = new LoadStore(1 << scale, ((insn >> 22) & 1) == 0, rt, rn, !simd && opc == 1, !simd && opc >= 1,
                false, true, mode is 1 or 3, false, mode == 1, imm7 << scale, -1, 0, 0, (int)((insn >> 10) & 31));
            return true;
        }

        if ((insn & 0x3F000000) == 0x08000000)
        {
            int size = (int)(insn >> 30);
            bool ordered = ((insn >> 23) & 1) != 0 && ((insn >> 21) & 1) == 0;
            bool pair = ((insn >> 21) & 1) != 0;
            access = new LoadStore(1 << size, ((insn >> 22) & 1) == 0, rt, rn, false, size == 3, ordered || ((insn >> 15) & 1) != 0,
                pair, false, ordered, false, 0, -1, 0, 0, pair ? (int)((insn >> 10) & 31) : -1);
            return true;
        }

        return false;
    }

    public static ulong DataAbortIss(in LoadStore access)
    {
        ulong iss = access.IsWrite ? 1UL << 6 : 0;
        if (!access.Isv)
        {
            return iss;
        }

        iss |= 1UL << 24;
        iss |= (ulong)System.Numerics.BitOperations.Log2((uint)access.Size) << 22;
        iss |= access.SignExtend ? 1UL << 21 : 0;
        iss |= (ulong)access.Rt << 16;
        iss |= access.SixtyFour ? 1UL << 15 : 0;
        iss |= access.AcquireRelease ? 1UL << 14 : 0;
        return iss;
    }

    private static long SignExtend9(uint value) => ((long)(value & 0x1FF) << 55) >> 55;
}
