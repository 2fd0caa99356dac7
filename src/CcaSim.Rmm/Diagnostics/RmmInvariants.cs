using CcaSim.Platform.Memory;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// Checks the RMM's global invariants and returns every violation found (none when healthy):
    /// no granule the RMM owns is readable by the host; the GPT agrees with granule states; DELEGATED granules
    /// read as zero; every granule's state agrees with the objects that reference it (RTT trees, RECs, aux);
    /// no object references a granule in another state; live counts, REC counts and VMIDs agree.
    /// Cost is proportional to the RMM's objects, not to the memory pool.
    /// </summary>
    public IReadOnlyList<string> CheckInvariants(GranuleProtectionTable gpt, MemoryAccessor hostMemory)
    {
        ArgumentNullException.ThrowIfNull(gpt);
        ArgumentNullException.ThrowIfNull(hostMemory);
        var errors = new List<string>();
        var referenced = new Dictionary<ulong, int>();
        var vmids = new HashSet<int>();
        var recsPerRealm = new Dictionary<Realm, ulong>();

        void Ref(ulong pa, GranuleState expected, object? owner, string what)
        {
            referenced[pa] = referenced.GetValueOrDefault(pa) + 1;
            if (!_granules.IsValidAddress(pa) || _granules.StateOf(pa) != expected)
            {
                errors.Add($"{what} references 0x{pa:x}, which is not {expected}");
            }
            else if (owner is not null && !ReferenceEquals(_granules.OwnerOf(pa), owner))
            {
                errors.Add($"{what} references 0x{pa:x}, owned by another object");
            }
        }

        foreach ((ulong pa, GranuleState state, object? owner) in _granules.NonUndelegated())
        {
            if (gpt[pa] != Pas.Realm)
            {
                errors.Add($"granule 0x{pa:x} is {state} but its PAS is {gpt[pa]}");
            }

            if (hostMemory.Check(pa, PhysicalMemory.GranuleSize) != MemoryAccessStatus.GranuleProtectionFault)
            {
                errors.Add($"granule 0x{pa:x} is {state} but the host can access it");
            }

            switch (state)
            {
                case GranuleState.Delegated when !_memory.IsGranuleZero(pa):
                    errors.Add($"DELEGATED granule 0x{pa:x} does not read as zero");
                    break;
                case GranuleState.Rd:
                    CheckRealm((Realm)owner!, Ref, errors, vmids);
                    break;
                case GranuleState.Rec:
                    var rec = (Rec)owner!;
                    recsPerRealm[rec.Realm] = recsPerRealm.GetValueOrDefault(rec.Realm) + 1;
                    if (!ReferenceEquals(FindRealm(rec.Realm.Pa), rec.Realm))
                    {
                        errors.Add($"REC 0x{pa:x} belongs to a realm that no longer exists");
                    }

                    foreach (ulong aux in rec.Aux)
                    {
                        Ref(aux, GranuleState.RecAux, rec, $"REC 0x{pa:x}");
                    }

                    break;
            }
        }

        foreach ((ulong pa, Pas pas) in gpt.NonSecureExceptions())
        {
            if (pas == Pas.Realm && _granules.StateOf(pa) == GranuleState.Undelegated)
            {
                errors.Add($"granule 0x{pa:x} is Realm PAS but UNDELEGATED");
            }
        }

        foreach ((ulong pa, GranuleState state, _) in _granules.NonUndelegated())
        {
            int expectedRefs = state is GranuleState.Rtt or GranuleState.Data or GranuleState.RecAux ? 1 : 0;
            int refs = referenced.GetValueOrDefault(pa);
            if (refs != expectedRefs)
            {
                errors.Add($"{state} granule 0x{pa:x} is referenced {refs} times (expected {expectedRefs})");
            }
        }

        foreach ((ulong pa, GranuleState state, object? owner) in _granules.NonUndelegated())
        {
            if (state == GranuleState.Rd)
            {
                var realm = (Realm)owner!;
                ulong recs = recsPerRealm.GetValueOrDefault(realm);
                if (recs != realm.LiveRecs || realm.RecCount < recs)
                {
                    errors.Add($"realm 0x{pa:x} counts {realm.LiveRecs} RECs (next index {realm.RecCount}) but {recs} exist");
                }
            }
        }

        foreach (int v in vmids)
        {
            if (!_vmidInUse[v])
            {
                errors.Add($"VMID {v} is used by a realm but not allocated");
            }
        }

        if (_vmidsAllocated != vmids.Count)
        {
            errors.Add($"{_vmidsAllocated} VMIDs are allocated but {vmids.Count} realms exist");
        }

        return errors;
    }

    private void CheckRealm(Realm realm, Action<ulong, GranuleState, object?, string> reference, List<string> errors, HashSet<int> vmids)
    {
        if (!vmids.Add(realm.Vmid))
        {
            errors.Add($"VMID {realm.Vmid} is used by two realms");
        }

        foreach (RttTable root in realm.Roots)
        {
            reference(root.Pa, GranuleState.Rtt, root, $"realm 0x{realm.Pa:x}");
            CheckTable(realm, root, reference, errors);
        }
    }

    private void CheckTable(Realm realm, RttTable table, Action<ulong, GranuleState, object?, string> reference, List<string> errors)
    {
        int live = 0;
        string where = $"RTT 0x{table.Pa:x} (L{table.Level})";
        if (!ReferenceEquals(table.Realm, realm))
        {
            errors.Add($"{where} is reached from a realm that does not own it");
        }

        int entries = table.Level == S2Geometry.MinLevelLpa2 ? 16 : S2Geometry.EntriesPerTable;
        for (int i = 0; i < S2Geometry.EntriesPerTable; i++)
        {
            RttEntry e = table[i];
            live += e.IsLive ? 1 : 0;
            if (i >= entries || table.EntryIpa(i) >= realm.IpaSize)
            {
                continue;
            }

            bool isProtected = realm.IsProtected(table.EntryIpa(i));
            if (isProtected ? e.Hipas is Hipas.UnassignedNs or Hipas.AssignedNs : e.Hipas is Hipas.Unassigned or Hipas.Assigned)
            {
                errors.Add($"{where} entry {i} is {e.Hipas} at IPA 0x{table.EntryIpa(i):x}");
            }

            switch (e.Hipas)
            {
                case Hipas.Table:
                    object? child = _granules.IsValidAddress(e.Address) ? _granules.OwnerOf(e.Address) : null;
                    reference(e.Address, GranuleState.Rtt, null, where);
                    if (child is RttTable t)
                    {
                        if (t.Level != table.Level + 1 || t.BaseIpa != table.EntryIpa(i))
                        {
                            errors.Add($"{where} entry {i} points at an RTT of level {t.Level} base 0x{t.BaseIpa:x}");
                        }

                        CheckTable(realm, t, reference, errors);
                    }

                    break;
                case Hipas.Assigned:
                    if (table.Level < 1)
                    {
                        errors.Add($"{where} holds an ASSIGNED block at level {table.Level}");
                    }

                    for (ulong off = 0; off < S2Geometry.Span(table.Level); off += PhysicalMemory.GranuleSize)
                    {
                        reference(e.Address + off, GranuleState.Data, realm, where);
                    }

                    break;
            }
        }

        if (live != table.LiveCount)
        {
            errors.Add($"{where} counts {table.LiveCount} live entries but holds {live}");
        }
    }
}
