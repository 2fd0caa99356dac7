using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const int RealmConfigIpaWidth = 0x000;
    private const int RealmConfigHashAlgo = 0x008;
    private const int RealmConfigRpv = 0x200;

    /// <summary>
    /// RSI_REALM_CONFIG (§6, §4.6): addr_align, addr_bound → ERROR_INPUT; a RIPAS EMPTY page → ERROR_INPUT; an
    /// unmapped page → stage-2 fault exit. Writes ipa_width, hash_algo and the RPV; the rest of the granule is untouched.
    /// </summary>
    private static bool RsiRealmConfig(Rec rec, RealmStage2 stage2)
    {
        ulong ipa = rec.Context.X[1];
        Realms.Realm realm = rec.Realm;
        if (!IsProtectedRange(realm, ipa, Measurements.GranuleSize, Measurements.GranuleSize))
        {
            return Fail(rec);
        }

        switch (stage2.Translate(ipa, out _, out int level))
        {
            case Stage2Access.Empty:
                return Fail(rec);
            case Stage2Access.Unmapped:
                return ExitWithStage2Fault(rec, ipa, level);
        }

        Span<byte> width = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(width, (ulong)realm.S2sz);
        stage2.TryWrite(ipa + RealmConfigIpaWidth, width);
        stage2.TryWrite(ipa + RealmConfigHashAlgo, [(byte)realm.HashAlgorithm]);
        stage2.TryWrite(ipa + RealmConfigRpv, realm.Rpv);
        return Complete(rec, RsiStatus.Success);
    }
}
