using CcaSim.Rmm.Realms;

namespace CcaSim.Rmm.Rtt;

/// <summary>
/// One Realm Translation Table granule: 512 entries (16 used at level −1). <see cref="BaseIpa"/> is the IPA
/// mapped by entry 0. <see cref="LiveCount"/> counts live entries (ASSIGNED, ASSIGNED_NS, TABLE), the reference
/// count TF-RMM keeps on RTT granules, so "is this table live" never scans.
/// </summary>
internal sealed class RttTable
{
    public RttTable(Realm realm, ulong pa, int level, ulong baseIpa)
    {
        Realm = realm;
        Pa = pa;
        Level = level;
        BaseIpa = baseIpa;
    }

    public Realm Realm { get; }

    public ulong Pa { get; }

    public int Level { get; }

    public ulong BaseIpa { get; }

    public int LiveCount { get; private set; }

    public RttEntry this[int index] => new(_entries[index]);

    /// <summary>First IPA past this table's span.</summary>
    public ulong EndIpa => BaseIpa + (S2Geometry.Span(Level) * S2Geometry.EntriesPerTable);

    public ulong EntryIpa(int index) => BaseIpa + ((ulong)index * S2Geometry.Span(Level));

    /// <summary>The one transition function for entries: writes the new entry and keeps the live count.</summary>
    public void Set(int index, RttEntry entry)
    {
        RttEntry old = new(_entries[index]);
        LiveCount += (entry.IsLive ? 1 : 0) - (old.IsLive ? 1 : 0);
        _entries[index] = entry.Raw;
    }

    public void Fill(RttEntry entry)
    {
        Array.Fill(_entries, entry.Raw);
        LiveCount = entry.IsLive ? S2Geometry.EntriesPerTable : 0;
    }

    private readonly ulong[] _entries = new ulong[S2Geometry.EntriesPerTable];
}

/// <summary>Where an RTT walk stopped: the last table reached, the entry's index in it and that table's level.</summary>
internal readonly record struct RttWalk(RttTable Table, int Index, int Level)
{
    public RttEntry Entry => Table[Index];

    /// <summary>IPA of the start of the entry reached.</summary>
    public ulong EntryIpa => Table.EntryIpa(Index);
}
