using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm.Realms;

/// <summary>Realm states (rmm-1.0.md §5.2). A destroyed realm has no RD at all.</summary>
public enum RealmState : byte
{
    New = 0,
    Active = 1,
    SystemOff = 2,
}

/// <summary>A Realm Descriptor: what the RD granule holds.</summary>
internal sealed class Realm
{
    public const int MeasurementSlots = 5;
    public const int MeasurementSize = 64;

    public Realm(ulong rdPa) => Pa = rdPa;

    public ulong Pa { get; }

    public RealmState State { get; private set; }

    public int S2sz { get; init; }

    public int StartLevel { get; init; }

    public int NumRootRtts { get; init; }

    public ulong RttBase { get; init; }

    public bool Lpa2 { get; init; }

    public ushort Vmid { get; init; }

    public RmiHashAlgorithm HashAlgorithm { get; init; }

    public bool SveEnabled { get; init; }

    public int SveVl { get; init; }

    public bool PmuEnabled { get; init; }

    public int PmuNumCtrs { get; init; }

    public int NumBps { get; init; }

    public int NumWps { get; init; }

    public byte[] Rpv { get; init; } = new byte[64];

    /// <summary>Slot 0 is the RIM, 1..4 the REMs; each 64 bytes, digest in the first hash-length bytes.</summary>
    public byte[][] Measurements { get; } = [new byte[64], new byte[64], new byte[64], new byte[64], new byte[64]];

    /// <summary>Index the next REC must have; never decremented (rmm-1.0.md §11.2).</summary>
    public ulong RecCount { get; set; }

    /// <summary>Number of RECs that exist (the RD reference count).</summary>
    public ulong LiveRecs { get; set; }

    public RttTable[] Roots { get; set; } = [];

    /// <summary>The realm's stage 2 as engines and RSI handlers see it (built on first entry).</summary>
    public RealmStage2? Stage2 { get; set; }

    public ulong IpaSize => 1UL << S2sz;

    /// <summary>First unprotected IPA: the protected address range is [0, 2^(s2sz−1)).</summary>
    public ulong ParEnd => 1UL << (S2sz - 1);

    public int HashSize => HashAlgorithm == RmiHashAlgorithm.Sha256 ? 32 : 64;

    public bool IsProtected(ulong ipa) => ipa < ParEnd;

    /// <summary>The one transition function of realm state: NEW → ACTIVE → SYSTEM_OFF.</summary>
    public void TransitionTo(RealmState next)
    {
        bool legal = (State, next) is (RealmState.New, RealmState.Active) or (RealmState.Active, RealmState.SystemOff);
        if (!legal)
        {
            throw new InvalidOperationException($"illegal realm transition {State}->{next}");
        }

        State = next;
    }

    /// <summary>
    /// Walks from the root towards <paramref name="targetLevel"/>, following TABLE entries only; stops at the
    /// first non-table entry. <paramref name="ipa"/> must be below 2^s2sz.
    /// </summary>
    public RttWalk Walk(ulong ipa, int targetLevel, Func<ulong, RttTable> tableAt)
    {
        ulong rootIndex = ipa >> S2Geometry.Shift(StartLevel);
        RttTable table = Roots[rootIndex / S2Geometry.EntriesPerTable];
        int index = (int)(rootIndex % S2Geometry.EntriesPerTable);
        int level = StartLevel;
        while (level < targetLevel)
        {
            RttEntry entry = table[index];
            if (entry.Hipas != Hipas.Table)
            {
                break;
            }

            table = tableAt(entry.Address);
            level++;
            index = S2Geometry.Index(ipa, level);
        }

        return new RttWalk(table, index, level);
    }
}
