using CcaSim.Platform.Execution;

namespace CcaSim.Rmm.Recs;

/// <summary>
/// The GICv3 virtual interface bits the RMM exchanges with the host (§3.10 rec_gicv3, §4.3 gicv3_*), as TF-RMM's
/// gic_copy_state_from_rec_entry / gic_copy_state_to_rec_exit move them between rec_enter, the REC and rec_exit.
/// </summary>
internal static class GicMaintenance
{
    /// <summary>ICH_HCR_EL2 bits a host may set: UIE, LRENPIE, NPIE, VGrp0EIE, VGrp0DIE, VGrp1EIE, VGrp1DIE, TDIR.</summary>
    public const ulong HcrHostBits = 0xFE | (1UL << 14);

    /// <summary>ICH_HCR_EL2.En: the RMM always enables the virtual CPU interface while a REC runs.</summary>
    public const ulong HcrEn = 1;

    /// <summary>ICH_HCR_EL2.EOIcount [31:27]: reported back to the host with the host's own bits.</summary>
    public const ulong HcrEoiCount = 0x1FUL << 27;

    private const ulong HcrUie = 1UL << 1;
    private const ulong HcrLrenpie = 1UL << 2;
    private const ulong HcrNpie = 1UL << 3;
    private const ulong HcrVGrp0Eie = 1UL << 4;
    private const ulong HcrVGrp0Die = 1UL << 5;
    private const ulong HcrVGrp1Eie = 1UL << 6;
    private const ulong HcrVGrp1Die = 1UL << 7;
    private const ulong LrHw = 1UL << 61;
    private const ulong LrEoi = 1UL << 41;
    private const ulong VmcrVeng0 = 1UL << 0;
    private const ulong VmcrVeng1 = 1UL << 1;

    /// <summary>
    /// The REC's ICH_HCR_EL2 after an entry: the host's bits replace the previous ones; what the hardware keeps
    /// (EOIcount) stays; En is set.
    /// </summary>
    public static ulong HcrOnEntry(ulong current, ulong fromHost) => (current & ~HcrHostBits) | (fromHost & HcrHostBits) | HcrEn;

    /// <summary>exit.gicv3_hcr: only EOIcount and the host's bits leave the RMM (En is the RMM's own).</summary>
    public static ulong HcrOnExit(ulong current) => current & (HcrEoiCount | HcrHostBits);

    /// <summary>
    /// ICH_MISR_EL2 for <paramref name="gic"/>, bit by bit as the GICv3 architecture derives it from the list
    /// registers, ICH_HCR_EL2 and ICH_VMCR_EL2: EOI (an invalid LR with HW = 0 and EOI = 1), U (UIE and at most one
    /// valid LR), LRENP (LRENPIE and EOIcount ≠ 0), NP (NPIE and no LR pending), and the four group enable/disable
    /// conditions.
    /// </summary>
    public static ulong Misr(GicCpuInterfaceState gic)
    {
        ArgumentNullException.ThrowIfNull(gic);
        bool eoi = false;
        bool anyPending = false;
        int valid = 0;
        int count = Math.Min(gic.NumListRegisters, GicCpuInterfaceState.MaxListRegisters);
        for (int i = 0; i < count; i++)
        {
            ulong lr = gic.Lrs[i];
            ulong state = lr >> 62;
            if (state == 0)
            {
                eoi |= (lr & LrHw) == 0 && (lr & LrEoi) != 0;
                continue;
            }

            valid++;
            anyPending |= (state & 1) != 0;
        }

        ulong hcr = gic.Hcr;
        bool veng0 = (gic.Vmcr & VmcrVeng0) != 0;
        bool veng1 = (gic.Vmcr & VmcrVeng1) != 0;
        ulong misr = 0;
        misr |= eoi ? 1UL << 0 : 0;
        misr |= (hcr & HcrUie) != 0 && valid <= 1 ? 1UL << 1 : 0;
        misr |= (hcr & HcrLrenpie) != 0 && (hcr & HcrEoiCount) != 0 ? 1UL << 2 : 0;
        misr |= (hcr & HcrNpie) != 0 && !anyPending ? 1UL << 3 : 0;
        misr |= (hcr & HcrVGrp0Eie) != 0 && veng0 ? 1UL << 4 : 0;
        misr |= (hcr & HcrVGrp0Die) != 0 && !veng0 ? 1UL << 5 : 0;
        misr |= (hcr & HcrVGrp1Eie) != 0 && veng1 ? 1UL << 6 : 0;
        misr |= (hcr & HcrVGrp1Die) != 0 && !veng1 ? 1UL << 7 : 0;
        return misr;
    }
}
