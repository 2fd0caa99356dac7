using System.Numerics;
using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Arch;

/// <summary>What a guest write to a system register came to (<see cref="GicCpuInterface.Write"/>).</summary>
public enum SysRegWrite
{
    /// <summary>Not a GIC CPU-interface register: the caller handles it.</summary>
    NotGic,

    /// <summary>Emulated on the context's GIC state; the instruction is complete.</summary>
    Done,

    /// <summary>An SGI generation register (ICC_SGI1R/ASGI1R/SGI0R_EL1): it goes to the vCPU's owner (the hypervisor).</summary>
    TrapToOwner,

    /// <summary>A GIC register that cannot be written (IAR, HPPIR, RPR): the MSR is UNDEFINED (GIC spec, ICV register access rules).</summary>
    Undefined,
}

/// <summary>
/// The GICv3 virtual CPU interface (ICV_* registers as the guest reaches them through the ICC_* encodings) operating on
/// a vCPU's ICH_LR/ICH_AP1R0/ICH_VMCR/ICH_HCR state, as the GIC architecture (IHI0069, "The virtual CPU
/// interface" and the ICH_*/ICV_* register descriptions) defines it. The semantics follow KVM's trapped-access emulation of
/// the same interface (arch/arm64/kvm/hyp/vgic-v3-sr.c), which models the hardware exactly. The interface
/// implements 5 priority bits (ICH_VTR_EL2.PRIbits = 4, PREbits = 4: priorities 0x00..0xF8 in steps of 8, one
/// ICH_AP1R0 bit per preemption level). All operations are allocation-free.
/// </summary>
public static class GicCpuInterface
{
    /// <summary>INTID 1023: no interrupt (GIC spec, "Special INTIDs").</summary>
    public const uint SpuriousIntid = 1023;

    /// <summary>Idle running priority: nothing active (GIC spec ICC_RPR_EL1).</summary>
    public const byte IdlePriority = 0xFF;

    /// <summary>Implemented priority bits (ICH_VTR_EL2.PRIbits + 1).</summary>
    public const int PriorityBits = 5;

    // The lowest BPR value with PriorityBits bits of priority: group priority keeps every implemented bit
    // (GIC spec, "Priority grouping").
    private const int BprMin = 8 - PriorityBits;
    private const uint PriorityMask = 0xFFu << BprMin & 0xFF;

    // ICH_LR<n>_EL2 (GIC spec, ICH_LR<n>_EL2).
    public const ulong LrVintidMask = 0xFFFF_FFFF;
    public const int LrPintidShift = 32;
    public const ulong LrPintidMask = 0x1FFFUL << LrPintidShift;
    public const ulong LrEoi = 1UL << 41;
    public const int LrPriorityShift = 48;
    public const ulong LrPriorityMask = 0xFFUL << LrPriorityShift;
    public const ulong LrGroup = 1UL << 60;
    public const ulong LrHw = 1UL << 61;
    public const ulong LrPending = 1UL << 62;
    public const ulong LrActive = 1UL << 63;
    public const ulong LrStateMask = LrPending | LrActive;

    // ICH_VMCR_EL2 (GIC spec, ICH_VMCR_EL2).
    public const int VmcrPmrShift = 24;
    public const ulong VmcrPmrMask = 0xFFUL << VmcrPmrShift;
    public const int VmcrBpr0Shift = 21;
    public const ulong VmcrBpr0Mask = 0x7UL << VmcrBpr0Shift;
    public const int VmcrBpr1Shift = 18;
    public const ulong VmcrBpr1Mask = 0x7UL << VmcrBpr1Shift;
    public const ulong VmcrEoim = 1UL << 9;
    public const ulong VmcrCbpr = 1UL << 4;
    public const ulong VmcrFiqEn = 1UL << 3;
    public const ulong VmcrAckCtl = 1UL << 2;
    public const ulong VmcrEng1 = 1UL << 1;
    public const ulong VmcrEng0 = 1UL << 0;

    // ICH_HCR_EL2 (GIC spec, ICH_HCR_EL2).
    public const ulong HcrEn = 1UL << 0;
    public const ulong HcrUie = 1UL << 1;
    public const ulong HcrLrenpie = 1UL << 2;
    public const ulong HcrNpie = 1UL << 3;
    public const ulong HcrVGrp0Eie = 1UL << 4;
    public const ulong HcrVGrp0Die = 1UL << 5;
    public const ulong HcrVGrp1Eie = 1UL << 6;
    public const ulong HcrVGrp1Die = 1UL << 7;
    public const int HcrEoiCountShift = 27;
    public const ulong HcrEoiCountMask = 0x1FUL << HcrEoiCountShift;

    // ICH_MISR_EL2 (GIC spec, ICH_MISR_EL2).
    public const ulong MisrEoi = 1UL << 0;
    public const ulong MisrU = 1UL << 1;
    public const ulong MisrLrenp = 1UL << 2;
    public const ulong MisrNp = 1UL << 3;
    public const ulong MisrVGrp0E = 1UL << 4;
    public const ulong MisrVGrp0D = 1UL << 5;
    public const ulong MisrVGrp1E = 1UL << 6;
    public const ulong MisrVGrp1D = 1UL << 7;

    // ICC_CTLR_EL1 as the virtual interface reports it (ICV_CTLR_EL1): PRIbits from ICH_VTR
    // (4 = five bits), IDbits 0 (16-bit INTIDs, what KVM's vGIC advertises), A3V 1, SEIS 0.
    private const ulong CtlrCbpr = 1UL << 0;
    private const ulong CtlrEoiMode = 1UL << 1;
    private const ulong CtlrFixed = ((ulong)(PriorityBits - 1) << 8) | (0UL << 11) | (1UL << 15);

    /// <summary>ICC_SRE_EL1 reads SRE, DFB, DIB as 1: the virtual interface is system-register only (GIC spec, ICC_SRE_EL1).</summary>
    public const ulong SreValue = 0x7;

    /// <summary>
    /// Emulates an MRS of <paramref name="reg"/>. False when it is not a GIC CPU-interface register the guest can
    /// read (write-only ones, EOIR/DIR/SGI*R, included: their MRS is UNDEFINED).
    /// </summary>
    public static bool TryRead(RealmVcpuContext ctx, SysReg reg, out ulong value)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        GicCpuInterfaceState gic = ctx.Gic;
        value = 0;
        if (reg.Op0 != 3 || reg.Op1 != 0)
        {
            return false;
        }

        if (reg == SysReg.ICC_PMR_EL1)
        {
            value = (gic.Vmcr & VmcrPmrMask) >> VmcrPmrShift;
            return true;
        }

        if (reg.CRn != 12)
        {
            return false;
        }

        switch (reg.CRm, reg.Op2)
        {
            case (12, 0):
                value = Acknowledge(gic, group1: true);
                return true;
            case (8, 0):
                value = Acknowledge(gic, group1: false);
                return true;
            case (12, 2):
                value = HighestPending(gic, group1: true);
                return true;
            case (8, 2):
                value = HighestPending(gic, group1: false);
                return true;
            case (12, 3):
                value = Bpr1(gic.Vmcr);
                return true;
            case (8, 3):
                value = Bpr0(gic.Vmcr);
                return true;
            case (12, 4):
                value = CtlrFixed
                    | ((gic.Vmcr & VmcrEoim) != 0 ? CtlrEoiMode : 0)
                    | ((gic.Vmcr & VmcrCbpr) != 0 ? CtlrCbpr : 0);
                return true;
            case (12, 5):
                value = SreValue;
                return true;
            case (12, 6):
                value = (gic.Vmcr & VmcrEng0) != 0 ? 1UL : 0;
                return true;
            case (12, 7):
                value = (gic.Vmcr & VmcrEng1) != 0 ? 1UL : 0;
                return true;
            case (9, 0):
                value = gic.Ap1r0 & 0xFFFF_FFFF;
                return true;
            case (9, >= 1 and <= 3):
            case (8, >= 4 and <= 7):
                // AP0R0..3 and AP1R1..3: the state holds no group-0 active priorities, and with 5 priority bits
                // only AP1R0 exists; RAZ/WI (see docs/FIDELITY.md).
                return true;
            case (11, 3):
                value = RunningPriority(gic);
                return true;
            default:
                return false;
        }
    }

    /// <summary>Emulates an MSR of <paramref name="value"/> to <paramref name="reg"/>.</summary>
    public static SysRegWrite Write(RealmVcpuContext ctx, SysReg reg, ulong value)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        GicCpuInterfaceState gic = ctx.Gic;
        if (reg.Op0 != 3 || reg.Op1 != 0)
        {
            return SysRegWrite.NotGic;
        }

        if (reg == SysReg.ICC_PMR_EL1)
        {
            // Unimplemented low priority bits are RAZ/WI (GIC spec ICC_PMR_EL1).
            gic.Vmcr = (gic.Vmcr & ~VmcrPmrMask) | ((value & PriorityMask) << VmcrPmrShift);
            return SysRegWrite.Done;
        }

        if (reg.CRn != 12)
        {
            return SysRegWrite.NotGic;
        }

        switch (reg.CRm, reg.Op2)
        {
            case (12, 1):
                EndOfInterrupt(gic, (uint)value, group1: true);
                return SysRegWrite.Done;
            case (8, 1):
                EndOfInterrupt(gic, (uint)value, group1: false);
                return SysRegWrite.Done;
            case (11, 1):
                Deactivate(gic, (uint)value);
                return SysRegWrite.Done;
            case (12, 3):
                // Writes are ignored while CBPR shares BPR0 (GIC spec ICC_BPR1_EL1); values below the minimum
                // read back as the minimum.
                if ((gic.Vmcr & VmcrCbpr) == 0)
                {
                    ulong bpr1 = Math.Max(value & 7, BprMin);
                    gic.Vmcr = (gic.Vmcr & ~VmcrBpr1Mask) | (bpr1 << VmcrBpr1Shift);
                }

                return SysRegWrite.Done;
            case (8, 3):
                ulong bpr0 = Math.Max(value & 7, BprMin - 1);
                gic.Vmcr = (gic.Vmcr & ~VmcrBpr0Mask) | (bpr0 << VmcrBpr0Shift);
                return SysRegWrite.Done;
            case (12, 4):
                // Only EOImode and CBPR are writable in the virtual ICC_CTLR_EL1.
                ulong vmcr = gic.Vmcr & ~(VmcrEoim | VmcrCbpr);
                vmcr |= (value & CtlrEoiMode) != 0 ? VmcrEoim : 0;
                vmcr |= (value & CtlrCbpr) != 0 ? VmcrCbpr : 0;
                gic.Vmcr = vmcr;
                return SysRegWrite.Done;
            case (12, 5):
                // SRE, DFB and DIB are fixed at 1: writes are ignored.
                return SysRegWrite.Done;
            case (12, 6):
                gic.Vmcr = (value & 1) != 0 ? gic.Vmcr | VmcrEng0 : gic.Vmcr & ~VmcrEng0;
                return SysRegWrite.Done;
            case (12, 7):
                gic.Vmcr = (value & 1) != 0 ? gic.Vmcr | VmcrEng1 : gic.Vmcr & ~VmcrEng1;
                return SysRegWrite.Done;
            case (9, 0):
                gic.Ap1r0 = value & 0xFFFF_FFFF;
                return SysRegWrite.Done;
            case (9, >= 1 and <= 3):
            case (8, >= 4 and <= 7):
                return SysRegWrite.Done;
            case (11, 5):
            case (11, 6):
            case (11, 7):
                return SysRegWrite.TrapToOwner;
            case (12, 0):
            case (8, 0):
            case (12, 2):
            case (8, 2):
            case (11, 3):
                return SysRegWrite.Undefined;
            default:
                return SysRegWrite.NotGic;
        }
    }

    /// <summary>
    /// True iff the virtual CPU interface signals a virtual IRQ: ICH_HCR_EL2.En is set and the highest-priority
    /// pending interrupt of an enabled group is group 1, below the priority mask and of higher group priority than
    /// the running priority (GIC spec, "Virtual interrupt signaling").
    /// </summary>
    public static bool VirtualIrqPending(RealmVcpuContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        return Signalled(ctx.Gic, group1: true);
    }

    /// <summary>The same for a virtual FIQ: a deliverable group-0 interrupt (group 0 is always an FIQ with SRE set).</summary>
    public static bool VirtualFiqPending(RealmVcpuContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        return Signalled(ctx.Gic, group1: false);
    }

    /// <summary>
    /// The vINTID of the highest-priority pending interrupt in the list registers whose group is enabled (ties go
    /// to the lowest-numbered LR), or 1023 when there is none; priority mask and running priority do not filter it,
    /// as for ICC_HPPIR (GIC spec, ICV_HPPIR1_EL1).
    /// </summary>
    public static int HighestPendingIntid(RealmVcpuContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        int lr = HighestPriorityLr(ctx.Gic);
        return lr < 0 ? (int)SpuriousIntid : (int)(ctx.Gic.Lrs[lr] & LrVintidMask);
    }

    /// <summary>True when <paramref name="intid"/> is pending, active or both in an implemented list register.</summary>
    public static bool IsPendingOrActive(RealmVcpuContext ctx, uint intid)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        GicCpuInterfaceState gic = ctx.Gic;
        int count = ListRegisterCount(gic);
        for (int i = 0; i < count; i++)
        {
            ulong lr = gic.Lrs[i];
            if ((lr & LrStateMask) != 0 && (lr & LrVintidMask) == intid)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// ICH_MISR_EL2 from the current state (GIC spec, ICH_MISR_EL2): EOI when ICH_EISR_EL2 is non-zero (an LR invalid with
    /// HW 0 and EOI 1), U when UIE and at most one LR is valid, LRENP when LRENPIE and EOIcount is non-zero, NP when
    /// NPIE and no LR is in the pending state, VGrp0E/D and VGrp1E/D from the HCR enables and the VMCR group enables.
    /// </summary>
    public static ulong ComputeMisr(RealmVcpuContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        GicCpuInterfaceState gic = ctx.Gic;
        ulong hcr = gic.Hcr;
        ulong vmcr = gic.Vmcr;
        int count = ListRegisterCount(gic);
        int valid = 0;
        bool anyPending = false;
        bool eoi = false;
        for (int i = 0; i < count; i++)
        {
            ulong lr = gic.Lrs[i];
            ulong state = lr & LrStateMask;
            if (state != 0)
            {
                valid++;
            }
            else if ((lr & LrHw) == 0 && (lr & LrEoi) != 0)
            {
                eoi = true;
            }

            anyPending |= state == LrPending;
        }

        ulong misr = 0;
        misr |= eoi ? MisrEoi : 0;
        misr |= (hcr & HcrUie) != 0 && valid <= 1 ? MisrU : 0;
        misr |= (hcr & HcrLrenpie) != 0 && (hcr & HcrEoiCountMask) != 0 ? MisrLrenp : 0;
        misr |= (hcr & HcrNpie) != 0 && !anyPending ? MisrNp : 0;
        misr |= (hcr & HcrVGrp0Eie) != 0 && (vmcr & VmcrEng0) != 0 ? MisrVGrp0E : 0;
        misr |= (hcr & HcrVGrp0Die) != 0 && (vmcr & VmcrEng0) == 0 ? MisrVGrp0D : 0;
        misr |= (hcr & HcrVGrp1Eie) != 0 && (vmcr & VmcrEng1) != 0 ? MisrVGrp1E : 0;
        misr |= (hcr & HcrVGrp1Die) != 0 && (vmcr & VmcrEng1) == 0 ? MisrVGrp1D : 0;
        return misr;
    }

    /// <summary>ICC_RPR_EL1: the highest active priority (lowest set ICH_AP1R0 bit scaled to 8 bits), 0xFF when idle.</summary>
    public static byte RunningPriority(RealmVcpuContext ctx)
    {
        ArgumentNullException.ThrowIfNull(ctx);
        return RunningPriority(ctx.Gic);
    }

    private static byte RunningPriority(GicCpuInterfaceState gic)
    {
        uint ap = (uint)gic.Ap1r0;
        return ap == 0 ? IdlePriority : (byte)(BitOperations.TrailingZeroCount(ap) << BprMin);
    }

    private static int ListRegisterCount(GicCpuInterfaceState gic) =>
        Math.Clamp(gic.NumListRegisters, 0, GicCpuInterfaceState.MaxListRegisters);

    private static uint Bpr0(ulong vmcr) => (uint)((vmcr & VmcrBpr0Mask) >> VmcrBpr0Shift);

    // With CBPR set, group 1 uses BPR0 plus one, saturating at 7 (GIC spec ICC_BPR1_EL1, ICC_CTLR_EL1.CBPR).
    private static uint Bpr1(ulong vmcr) =>
        (vmcr & VmcrCbpr) != 0 ? Math.Min(Bpr0(vmcr) + 1, 7) : (uint)((vmcr & VmcrBpr1Mask) >> VmcrBpr1Shift);

    // Group priority of a priority: the bits above the binary point. Group 0 splits at BPR0 + 1, group 1 at BPR1
    // (GIC spec, "Priority grouping").
    private static uint GroupPriority(uint priority, ulong vmcr, bool group1)
    {
        int bpr = group1 ? (int)Bpr1(vmcr) : (int)Bpr0(vmcr) + 1;
        return priority & (0xFFu << bpr) & 0xFF;
    }

    private static uint Priority(ulong lr) => (uint)((lr & LrPriorityMask) >> LrPriorityShift);

    // The highest-priority LR in the pending (not pending+active) state whose group is enabled; the lowest index wins
    // ties. -1 when none.
    private static int HighestPriorityLr(GicCpuInterfaceState gic)
    {
        ulong vmcr = gic.Vmcr;
        int count = ListRegisterCount(gic);
        uint best = IdlePriority;
        int found = -1;
        for (int i = 0; i < count; i++)
        {
            ulong lr = gic.Lrs[i];
            if ((lr & LrStateMask) != LrPending)
            {
                continue;
            }

            bool group1 = (lr & LrGroup) != 0;
            if ((group1 ? vmcr & VmcrEng1 : vmcr & VmcrEng0) == 0)
            {
                continue;
            }

            uint priority = Priority(lr);
            if (priority < best)
            {
                best = priority;
                found = i;
            }
        }

        return found;
    }

    private static bool Deliverable(GicCpuInterfaceState gic, ulong lr, bool group1)
    {
        if (((lr & LrGroup) != 0) != group1)
        {
            return false;
        }

        uint priority = Priority(lr);
        uint pmr = (uint)((gic.Vmcr & VmcrPmrMask) >> VmcrPmrShift);
        return priority < pmr && GroupPriority(priority, gic.Vmcr, group1) < RunningPriority(gic);
    }

    private static bool Signalled(GicCpuInterfaceState gic, bool group1)
    {
        if ((gic.Hcr & HcrEn) == 0)
        {
            return false;
        }

        int lr = HighestPriorityLr(gic);
        return lr >= 0 && Deliverable(gic, gic.Lrs[lr], group1);
    }

    // ICV_IAR0/1_EL1: acknowledge the highest-priority pending interrupt if it is of the register's group, below the
    // priority mask and preempts the running priority: pending -> active, its group priority becomes active.
    // Group-0 acknowledges always read 1023: the context holds no ICH_AP0R state to record them (docs/FIDELITY.md).
    // With ICH_HCR_EL2.En clear the virtual interface is disabled and an IAR read returns a spurious INTID (GIC
    // spec, ICH_HCR_EL2.En).
    private static uint Acknowledge(GicCpuInterfaceState gic, bool group1)
    {
        int index = HighestPriorityLr(gic);
        if (index < 0 || !group1 || (gic.Hcr & HcrEn) == 0)
        {
            return SpuriousIntid;
        }

        ulong lr = gic.Lrs[index];
        if (!Deliverable(gic, lr, group1))
        {
            return SpuriousIntid;
        }

        gic.Lrs[index] = (lr & ~LrStateMask) | LrActive;
        uint level = GroupPriority(Priority(lr), gic.Vmcr, group1) >> BprMin;
        gic.Ap1r0 |= 1UL << (int)level;
        return (uint)(lr & LrVintidMask);
    }

    // ICV_HPPIR0/1_EL1: the highest-priority pending interrupt's vINTID when it is of the register's group.
    private static uint HighestPending(GicCpuInterfaceState gic, bool group1)
    {
        int index = HighestPriorityLr(gic);
        if (index < 0)
        {
            return SpuriousIntid;
        }

        ulong lr = gic.Lrs[index];
        return ((lr & LrGroup) != 0) == group1 ? (uint)(lr & LrVintidMask) : SpuriousIntid;
    }

    // ICV_EOIR0/1_EL1 (GIC spec, "Priority drop and interrupt deactivation"): always drops the highest active
    // priority; with EOImode 0 it also deactivates the LR holding the INTID, when that LR is active, of the
    // register's group and at the dropped priority. An EOI that matches no active LR counts in ICH_HCR.EOIcount.
    private static void EndOfInterrupt(GicCpuInterfaceState gic, uint intid, bool group1)
    {
        uint dropped = DropPriority(gic);
        int index = FindActiveLr(gic, intid);
        if (index < 0)
        {
            if (!IsLpi(intid))
            {
                BumpEoiCount(gic);
            }

            return;
        }

        if ((gic.Vmcr & VmcrEoim) != 0 && !IsLpi(intid))
        {
            return;
        }

        ulong lr = gic.Lrs[index];
        if (((lr & LrGroup) != 0) != group1 || GroupPriority(Priority(lr), gic.Vmcr, group1) != dropped)
        {
            return;
        }

        gic.Lrs[index] = lr & ~LrActive;
    }

    // ICV_DIR_EL1: deactivation alone, effective only with EOImode 1 (GIC spec ICC_DIR_EL1).
    private static void Deactivate(GicCpuInterfaceState gic, uint intid)
    {
        if ((gic.Vmcr & VmcrEoim) == 0 || IsLpi(intid))
        {
            return;
        }

        int index = FindActiveLr(gic, intid);
        if (index < 0)
        {
            BumpEoiCount(gic);
            return;
        }

        gic.Lrs[index] &= ~LrActive;
    }

    private static uint DropPriority(GicCpuInterfaceState gic)
    {
        uint ap = (uint)gic.Ap1r0;
        if (ap == 0)
        {
            return IdlePriority;
        }

        int level = BitOperations.TrailingZeroCount(ap);
        gic.Ap1r0 &= ~(1UL << level);
        return (uint)(level << BprMin);
    }

    private static int FindActiveLr(GicCpuInterfaceState gic, uint intid)
    {
        int count = ListRegisterCount(gic);
        for (int i = 0; i < count; i++)
        {
            ulong lr = gic.Lrs[i];
            if ((lr & LrVintidMask) == intid && (lr & LrActive) != 0)
            {
                return i;
            }
        }

        return -1;
    }

    private static bool IsLpi(uint intid) => intid >= 8192;

    // EOIcount is a 5-bit wrapping counter (GIC spec ICH_HCR_EL2.EOIcount).
    private static void BumpEoiCount(GicCpuInterfaceState gic)
    {
        ulong count = (((gic.Hcr & HcrEoiCountMask) >> HcrEoiCountShift) + 1) & 0x1F;
        gic.Hcr = (gic.Hcr & ~HcrEoiCountMask) | (count << HcrEoiCountShift);
    }
}
