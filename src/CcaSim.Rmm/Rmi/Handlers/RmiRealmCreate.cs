using System.Buffers.Binary;
using CcaSim.Platform.Memory;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>
    /// RMI_REALM_CREATE (§3.4). Every failure is ERROR_INPUT; checked in the ACS order: params_align/bound/pas,
    /// params_valid, params_supp, alias, rd_*, rtt_align/num_level/state, vmid_valid.
    /// </summary>
    private ulong RmiRealmCreate(in SmcRegisters a)
    {
        ulong rd = a[1];
        ulong paramsPa = a[2];
        if (!IsNsGranule(paramsPa))
        {
            return ErrorInput;
        }

        ReadOnlySpan<byte> p = ReadNs(paramsPa);
        ulong flags = U64(p, RealmParamsLayout.Flags);
        byte s2sz = p[RealmParamsLayout.S2sz];
        byte sveVl = p[RealmParamsLayout.SveVl];
        byte numBps = p[RealmParamsLayout.NumBps];
        byte numWps = p[RealmParamsLayout.NumWps];
        byte pmuNumCtrs = p[RealmParamsLayout.PmuNumCtrs];
        byte hashAlgo = p[RealmParamsLayout.HashAlgo];
        ushort vmid = BinaryPrimitives.ReadUInt16LittleEndian(p[RealmParamsLayout.Vmid..]);
        ulong rttBase = U64(p, RealmParamsLayout.RttBase);
        long levelStart = (long)U64(p, RealmParamsLayout.RttLevelStart);
        uint numStart = BinaryPrimitives.ReadUInt32LittleEndian(p[RealmParamsLayout.RttNumStart..]);
        bool lpa2 = (flags & RealmParamsLayout.FlagLpa2) != 0;
        bool sve = (flags & RealmParamsLayout.FlagSve) != 0;
        bool pmu = (flags & RealmParamsLayout.FlagPmu) != 0;

        // params_valid: malformed values.
        if (hashAlgo > (byte)RmiHashAlgorithm.Sha512 || numBps == 0 || numWps == 0 || s2sz < 32 || s2sz > (lpa2 ? 52 : 48))
        {
            return ErrorInput;
        }

        int roots = levelStart is >= -1 and <= 3 ? S2Geometry.RootCount(s2sz, (int)levelStart, lpa2) : 0;
        if (roots == 0)
        {
            return ErrorInput;
        }

        // params_supp: valid but not offered by feature register 0.
        FeatureRegister0 f = Config.Features;
        bool hashOffered = hashAlgo == (byte)RmiHashAlgorithm.Sha256 ? f.HashSha256 : f.HashSha512;
        if ((lpa2 && !f.Lpa2) || s2sz > f.S2sz || numBps > f.NumBps || numWps > f.NumWps || !hashOffered
            || (sve && (!f.SveEnabled || sveVl > f.SveVl))
            || (pmu && (!f.PmuEnabled || pmuNumCtrs > f.PmuNumCtrs || (pmuNumCtrs == 0 && !Config.FeatHpmn0))))
        {
            return ErrorInput;
        }

        // alias: the RD may not be one of the root RTT granules.
        if (rd >= rttBase && rd - rttBase < (ulong)numStart * PhysicalMemory.GranuleSize)
        {
            return ErrorInput;
        }

        if (!IsDelegated(rd))
        {
            return ErrorInput;
        }

        // rtt_align, rtt_num_level, rtt_state.
        if (!_granules.IsValidAddress(rttBase) || numStart != roots)
        {
            return ErrorInput;
        }

        for (uint i = 0; i < numStart; i++)
        {
            if (!IsDelegated(rttBase + (i * PhysicalMemory.GranuleSize)))
            {
                return ErrorInput;
            }
        }

        if (vmid >= _vmidInUse.Length || _vmidInUse[vmid])
        {
            return ErrorInput;
        }

        var realm = new Realm(rd)
        {
            S2sz = s2sz,
            StartLevel = (int)levelStart,
            NumRootRtts = roots,
            RttBase = rttBase,
            Lpa2 = lpa2,
            Vmid = vmid,
            HashAlgorithm = (RmiHashAlgorithm)hashAlgo,
            SveEnabled = sve,
            SveVl = sveVl,
            PmuEnabled = pmu,
            PmuNumCtrs = pmuNumCtrs,
            NumBps = numBps,
            NumWps = numWps,
            Rpv = p.Slice(RealmParamsLayout.Rpv, RealmParamsLayout.RpvSize).ToArray(),
        };

        realm.Roots = new RttTable[roots];
        ulong rootSpan = S2Geometry.Span(realm.StartLevel) * S2Geometry.EntriesPerTable;
        for (int i = 0; i < roots; i++)
        {
            ulong pa = rttBase + ((ulong)i * PhysicalMemory.GranuleSize);
            var table = new RttTable(realm, pa, realm.StartLevel, (ulong)i * rootSpan);
            table.Fill(RttEntry.Unassigned(Ripas.Empty));
            for (int e = 0; e < S2Geometry.EntriesPerTable; e++)
            {
                if (!realm.IsProtected(table.EntryIpa(e)))
                {
                    table.Set(e, RttEntry.UnassignedNs);
                }
            }

            realm.Roots[i] = table;
            _granules.Transition(pa, GranuleState.Delegated, GranuleState.Rtt, table);
        }

        Measurements.InitRim(realm.HashAlgorithm, flags, s2sz, sveVl, numBps, numWps, pmuNumCtrs, realm.Measurements[0]);
        _vmidInUse[vmid] = true;
        _vmidsAllocated++;
        _granules.Transition(rd, GranuleState.Delegated, GranuleState.Rd, realm);
        return Success;
    }
}
