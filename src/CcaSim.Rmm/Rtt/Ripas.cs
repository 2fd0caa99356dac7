namespace CcaSim.Rmm.Rtt;

/// <summary>Realm IPA state (RmiRipas, rmm-1.0.md §4.5).</summary>
public enum Ripas : byte
{
    Empty = 0,
    Ram = 1,
    Destroyed = 2,
}

/// <summary>
/// Host IPA state of an RTT entry (rmm-1.0.md §5.4). Protected IPAs use UNASSIGNED/ASSIGNED (with a RIPAS),
/// unprotected IPAs UNASSIGNED_NS/ASSIGNED_NS; TABLE points at the next-level RTT.
/// </summary>
public enum Hipas : byte
{
    Unassigned = 0,
    Assigned = 1,
    Table = 2,
    UnassignedNs = 3,
    AssignedNs = 4,
}
