using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const ulong DataFlagMeasureContent = 1;
    private const ulong PaLimitWithoutLpa2 = 1UL << 48;

    /// <summary>
    /// RMI_DATA_CREATE (rd, data, ipa, src, flags) and RMI_DATA_CREATE_UNKNOWN (rd, data, ipa) (§3.11). Order:
    /// [flags, src_*] → INPUT; data_align/bound/state → INPUT; rd_* → INPUT; [realm_state → ERROR_REALM];
    /// ipa_align/ipa_bound → INPUT; data_bound2 → INPUT; rtt_walk → ERROR_RTT(level reached); rtte_state →
    /// ERROR_RTT(3). realm_state before the ipa and data_bound2 checks is TF-RMM's order (the spec leaves them
    /// unordered). DATA_CREATE forces RIPAS RAM and measures; DATA_CREATE_UNKNOWN keeps the RIPAS and works in any
    /// realm state.
    /// </summary>
    private ulong RmiDataCreate(in SmcRegisters a, bool measured)
    {
        ulong rd = a[1];
        ulong data = a[2];
        ulong ipa = a[3];
        ulong src = a[4];
        ulong flags = a[5];
        if (measured && (flags > DataFlagMeasureContent || !IsNsGranule(src)))
        {
            return ErrorInput;
        }

        if (!IsDelegated(data))
        {
            return ErrorInput;
        }

        Realm? realm = FindRealm(rd);
        if (realm is null)
        {
            return ErrorInput;
        }

        if (measured && realm.State != RealmState.New)
        {
            return ErrorRealm();
        }

        if (!S2Geometry.IsAligned(ipa, 3) || !realm.IsProtected(ipa) || (data >= PaLimitWithoutLpa2 && !realm.Lpa2))
        {
            return ErrorInput;
        }

        RttWalk walk = Walk(realm, ipa, 3);
        if (walk.Level != 3)
        {
            return ErrorRtt(walk.Level);
        }

        RttEntry entry = walk.Entry;
        if (entry.Hipas != Hipas.Unassigned)
        {
            return ErrorRtt(3);
        }

        Ripas ripas = entry.Ripas;
        if (measured)
        {
            // Measuring the source before copying it is the same digest (the copy is exact) but reads the page
            // from memory once: hashing streams it into the cache and the copy then comes from there.
            ReadOnlySpan<byte> contents = ReadNs(src);
            Measurements.ExtendData(realm.HashAlgorithm, realm.Measurements[0], ipa, flags == DataFlagMeasureContent, contents);
            if (contents.ContainsAnyExcept((byte)0))
            {
                contents.CopyTo(_memory.MapGranule(data));
            }

            ripas = Ripas.Ram;
        }

        _granules.Transition(data, GranuleState.Delegated, GranuleState.Data, realm);
        walk.Table.Set(walk.Index, RttEntry.Assigned(ripas, data));
        return Success;
    }
}
