using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_RTT_CREATE (rd, rtt, ipa, level) (§3.14), ACS order: rd_* → INPUT; level_bound → INPUT; ipa_align
    /// (to the new table's span) → INPUT; ipa_bound → INPUT; rtt_align/bound/state/bound2 → INPUT;
    /// rtt_walk → ERROR_RTT(level reached); rtte_state (parent already TABLE) → ERROR_RTT(level − 1).
    /// The new table "unfolds" the parent entry.
    /// </summary>
    private ulong RmiRttCreate(in SmcRegisters a)
    {
        ulong rttPa = a[2];
        ulong ipa = a[3];
        long level = Level(a[4]);
        Realm? realm = FindRealm(a[1]);
        if (realm is null)
        {
            return ErrorInput;
        }

        if (!IsValidChildTable(realm, level, ipa))
        {
            return ErrorInput;
        }

        int childLevel = (int)level;
        if (!IsDelegated(rttPa) || (rttPa >= PaLimitWithoutLpa2 && !realm.Lpa2))
        {
            return ErrorInput;
        }

        RttWalk walk = Walk(realm, ipa, childLevel - 1);
        if (walk.Level != childLevel - 1)
        {
            return ErrorRtt(walk.Level);
        }

        RttEntry parent = walk.Entry;
        if (parent.Hipas == Hipas.Table)
        {
            return ErrorRtt(childLevel - 1);
        }

        var child = new RttTable(realm, rttPa, childLevel, ipa);
        ulong span = S2Geometry.Span(childLevel);
        switch (parent.Hipas)
        {
            case Hipas.Unassigned:
            case Hipas.UnassignedNs:
                child.Fill(parent);
                break;
            case Hipas.Assigned:
            case Hipas.AssignedNs:
                for (int i = 0; i < S2Geometry.EntriesPerTable; i++)
                {
                    child.Set(i, parent.WithAddress(parent.Address + ((ulong)i * span)));
                }

                break;
        }

        _granules.Transition(rttPa, GranuleState.Delegated, GranuleState.Rtt, child);
        // Unfolding into a table keeps every translation (the child repeats the parent entry): no Stage2Changed.
        walk.Table.Set(walk.Index, RttEntry.Table(rttPa));
        return Success;
    }

    /// <summary>
    /// The checks RTT_DESTROY and RTT_FOLD share (§3.15, §3.16): rd_*, level_bound, ipa_align, ipa_bound → INPUT;
    /// rtt_walk → ERROR_RTT(level reached); rtte_state (parent not TABLE) → ERROR_RTT(level − 1).
    /// On success <paramref name="child"/> is the table the parent entry points at.
    /// </summary>
    private ulong FindChildTable(in SmcRegisters a, out Realm? realm, out RttWalk walk, out RttTable? child)
    {
        ulong ipa = a[2];
        long level = Level(a[3]);
        walk = default;
        child = null;
        realm = FindRealm(a[1]);
        if (realm is null)
        {
            return ErrorInput;
        }

        if (!IsValidChildTable(realm, level, ipa))
        {
            return ErrorInput;
        }

        int childLevel = (int)level;
        walk = Walk(realm, ipa, childLevel - 1);
        if (walk.Level != childLevel - 1)
        {
            return ErrorRtt(walk.Level);
        }

        if (walk.Entry.Hipas != Hipas.Table)
        {
            return ErrorRtt(childLevel - 1);
        }

        child = TableAt(walk.Entry.Address);
        return Success;
    }

    /// <summary>
    /// level_bound, ipa_align, ipa_bound of the table commands (§3.14–§3.16): a child level in (start, 3],
    /// an IPA aligned to the child table's span (an entry of level − 1) inside the IPA space.
    /// </summary>
    private static bool IsValidChildTable(Realm realm, long level, ulong ipa) =>
        level > realm.StartLevel && level <= 3 && S2Geometry.IsAligned(ipa, (int)level - 1) && ipa < realm.IpaSize;
}
