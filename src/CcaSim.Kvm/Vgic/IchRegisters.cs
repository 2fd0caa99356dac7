using CcaSim.Platform.Execution;

namespace CcaSim.Kvm.Vgic;

/// <summary>
/// ICH_LR&lt;n&gt;_EL2, the list-register format KVM writes into <c>rec_enter.gicv3_lrs</c> and reads back from
/// <c>rec_exit.gicv3_lrs</c> (kvm-realm-abi.md §2.16, §2.21): State[63:62], HW[61], Group[60], Priority[55:48],
/// pINTID[44:32] (EOI is bit 41 when HW = 0), vINTID[31:0].
/// </summary>
public static class IchLr
{
    public const ulong PendingBit = 1UL << 62;
    public const ulong ActiveBit = 1UL << 63;
    public const ulong StateMask = PendingBit | ActiveBit;
    public const ulong Hw = 1UL << 61;
    public const ulong Group1 = 1UL << 60;

    /// <summary>With HW = 0, ask for a maintenance interrupt on EOI; KVM sets it on level-sensitive interrupts.</summary>
    public const ulong Eoi = 1UL << 41;
    public const int PriorityShift = 48;
    public const ulong PriorityMask = 0xFFUL << PriorityShift;
    public const ulong VintidMask = 0xFFFF_FFFF;

    public static uint Vintid(ulong lr) => (uint)(lr & VintidMask);

    public static byte Priority(ulong lr) => (byte)((lr & PriorityMask) >> PriorityShift);

    public static bool IsPending(ulong lr) => (lr & PendingBit) != 0;

    public static bool IsActive(ulong lr) => (lr & ActiveBit) != 0;

    /// <summary>State 00: the guest acknowledged and completed the interrupt (or the entry was never used).</summary>
    public static bool IsInvalid(ulong lr) => (lr & StateMask) == 0;
}

/// <summary>ICH_HCR_EL2 bits, and the subset an RMM v1.0 accepts in <c>rec_enter.gicv3_hcr</c>.</summary>
public static class IchHcr
{
    public const ulong En = 1UL << 0;
    public const ulong Uie = 1UL << 1;
    public const ulong LrEnpIe = 1UL << 2;
    public const ulong NpIe = 1UL << 3;
    public const ulong VGrp0EIe = 1UL << 4;
    public const ulong VGrp0DIe = 1UL << 5;
    public const ulong VGrp1EIe = 1UL << 6;
    public const ulong VGrp1DIe = 1UL << 7;
    public const ulong Tdir = 1UL << 14;

    /// <summary>
    /// RMI_PERMITTED_GICV3_HCR_BITS of the v12 series: KVM masks its ICH_HCR_EL2 image with this before REC entry
    /// because the RMM rejects any other bit (RMI_REC_ENTER → ERROR_REC). En is not in it: the RMM, being EL2 for
    /// the realm, enables the virtual CPU interface itself.
    /// </summary>
    public const ulong RmiPermitted = Uie | LrEnpIe | NpIe | VGrp0EIe | VGrp0DIe | VGrp1EIe | VGrp1DIe | Tdir;
}

/// <summary>ICH_VMCR_EL2 fields the host needs: the realm's priority mask, returned in <c>rec_exit.gicv3_vmcr</c>.</summary>
public static class IchVmcr
{
    public const int VpmrShift = 24;

    public static byte PriorityMask(ulong vmcr) => (byte)(vmcr >> VpmrShift);
}

/// <summary>
/// The generic-timer PPIs KVM drives from the timer state a realm exit reports (kvm-realm-abi.md §2.11, §2.16):
/// each is a level interrupt asserted while the timer condition holds and the output is not masked.
/// </summary>
public static class TimerPpi
{
    /// <summary>CNTV (EL1 virtual timer) PPI, INTID 27.</summary>
    public const int Virtual = 27;

    /// <summary>CNTP (EL1 physical timer) PPI, INTID 30.</summary>
    public const int Physical = 30;

    public const ulong CtlEnable = TimerControl.Enable;
    public const ulong CtlImask = TimerControl.Imask;
    public const ulong CtlIstatus = TimerControl.Istatus;

    /// <summary>CNT{V,P}_CTL_EL0 → line level: ENABLE and ISTATUS set, IMASK clear.</summary>
    public static bool IsAsserted(ulong cntCtl) => TimerControl.IsAsserted(cntCtl);
}
