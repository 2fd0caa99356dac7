namespace CcaSim.Rmm.Rtt;

/// <summary>
/// One RTT entry, packed into 64 bits: HIPAS in [58:56], RIPAS in [61:60], output address in [51:12] and, for
/// ASSIGNED_NS, the host's MemAttr[4:2] and S2AP[7:6] in their descriptor positions.
/// </summary>
internal readonly record struct RttEntry(ulong Raw)
{
    public const ulong AddressMask = 0x000F_FFFF_FFFF_F000;
    public const ulong NsAttributeMask = 0xDC; // MemAttr[4:2] | S2AP[7:6]

    public Hipas Hipas => (Hipas)((Raw >> 56) & 0x7);

    public Ripas Ripas => (Ripas)((Raw >> 60) & 0x3);

    public ulong Address => Raw & AddressMask;

    public ulong NsAttributes => Raw & NsAttributeMask;

    /// <summary>ASSIGNED (any RIPAS), ASSIGNED_NS and TABLE entries are live (rmm-1.0.md §3.13).</summary>
    public bool IsLive => Hipas is Hipas.Assigned or Hipas.AssignedNs or Hipas.Table;

    public static RttEntry Unassigned(Ripas ripas) => Make(Hipas.Unassigned, ripas, 0);

    public static RttEntry Assigned(Ripas ripas, ulong pa) => Make(Hipas.Assigned, ripas, pa);

    public static RttEntry Table(ulong rttPa) => Make(Hipas.Table, Ripas.Empty, rttPa);

    public static RttEntry UnassignedNs => Make(Hipas.UnassignedNs, Ripas.Empty, 0);

    public static RttEntry AssignedNs(ulong oa, ulong attributes) => new(Make(Hipas.AssignedNs, Ripas.Empty, oa).Raw | (attributes & NsAttributeMask));

    /// <summary>The same entry moved to a new output address (unfold/fold of blocks).</summary>
    public RttEntry WithAddress(ulong pa) => new((Raw & ~AddressMask) | (pa & AddressMask));

    private static RttEntry Make(Hipas hipas, Ripas ripas, ulong pa) =>
        new(((ulong)hipas << 56) | ((ulong)ripas << 60) | (pa & AddressMask));
}
