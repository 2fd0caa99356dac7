using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// Register rules of realm calls (rmm-1.0.md §1, §11 item 10): a result register the handler does not write — from
/// x4 up — keeps the value the realm had in it. Every row passes junk in x1..x10 beyond its arguments and checks
/// x4..x8 after the call, on success and on error paths.
/// </summary>
public sealed class RegisterRulesTests
{
    private const ulong B = Attest.Buffer;

    public static TheoryData<string, ulong, ulong[], ulong> Calls => new()
    {
        { "RSI_VERSION", (ulong)RsiFunctionId.RsiVersion, [0x1_0000], 0 },
        { "RSI_VERSION_error", (ulong)RsiFunctionId.RsiVersion, [0x2_0000], 1 },
        { "RSI_FEATURES", (ulong)RsiFunctionId.RsiFeatures, [0], 0 },
        { "RSI_MEASUREMENT_READ_error", (ulong)RsiFunctionId.RsiMeasurementRead, [5], 1 },
        { "RSI_MEASUREMENT_EXTEND", (ulong)RsiFunctionId.RsiMeasurementExtend, [1, 64], 0 },
        { "RSI_MEASUREMENT_EXTEND_error", (ulong)RsiFunctionId.RsiMeasurementExtend, [0, 64], 1 },
        { "RSI_ATTESTATION_TOKEN_INIT", (ulong)RsiFunctionId.RsiAttestationTokenInit, [], 0 },
        { "RSI_ATTESTATION_TOKEN_CONTINUE_error_state", (ulong)RsiFunctionId.RsiAttestationTokenContinue, [B, 0, 0x1000], 2 },
        { "RSI_ATTESTATION_TOKEN_CONTINUE_error_input", (ulong)RsiFunctionId.RsiAttestationTokenContinue, [B + 1, 0, 0x1000], 1 },
        { "RSI_REALM_CONFIG", (ulong)RsiFunctionId.RsiRealmConfig, [B], 0 },
        { "RSI_REALM_CONFIG_error", (ulong)RsiFunctionId.RsiRealmConfig, [RealmSide.EmptyPage], 1 },
        { "RSI_IPA_STATE_GET", (ulong)RsiFunctionId.RsiIpaStateGet, [RealmSide.Ram, RealmSide.L3TableEnd], 0 },
        { "RSI_IPA_STATE_GET_error", (ulong)RsiFunctionId.RsiIpaStateGet, [RealmSide.Ram + 1, RealmSide.L3TableEnd], 1 },
        { "RSI_IPA_STATE_SET_error", (ulong)RsiFunctionId.RsiIpaStateSet, [RealmSide.Ram, RealmSide.Ram + 0x1000, 2], 1 },
        { "RSI_HOST_CALL_error", (ulong)RsiFunctionId.RsiHostCall, [B + 0x80], 1 },
        { "PSCI_VERSION", 0x8400_0000, [], 0x1_0001 },
        { "PSCI_FEATURES", 0x8400_000A, [0x8400_0002], 0 },
        { "PSCI_AFFINITY_INFO_self", 0xC400_0004, [0, 0], 0 },
        { "PSCI_CPU_ON_error", 0xC400_0003, [5, B, 0], unchecked((ulong)-2L) },
        { "SMCCC_VERSION", 0x8000_0000, [], 0x1_0002 },
        { "unknown", 0xC400_0200, [], ulong.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public void RealmCall_KeepsX4UpwardsUnlessWritten(string call, ulong fid, ulong[] args, ulong x0)
    {
        var realm = new RealmSide();
        ulong[] registers = RealmSide.Args(args);

        ulong[] x = realm.CallInside(fid, registers);

        Assert.True(x0 == x[0], $"{call}: x0 = 0x{x[0]:x}");
        Assert.Equal(registers[3..8], x[4..9]);
    }

    [Fact]
    public void IpaStateSet_OnCompletion_KeepsX4Upwards()
    {
        var realm = new RealmSide();
        ulong[] registers = RealmSide.Args(RealmSide.RipasEnd, RealmSide.RipasEnd + 0x1000, 1, 0);
        realm.Call(RsiFunctionId.RsiIpaStateSet, registers);
        realm.EnterOk();

        realm.EnterOk();

        Assert.Equal(registers[3..8], realm.Last.X[4..9]);
    }

    [Fact]
    public void PsciComplete_KeepsX4Upwards()
    {
        var realm = new RealmSide(null, false);
        ulong[] registers = RealmSide.Args(1, RealmSide.Ram, 0x42);
        realm.Call(0xC400_0003, registers);
        realm.EnterOk();
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, realm.Recs[1].Pa, 0), RmiStatus.Success);

        realm.EnterOk();

        Assert.Equal([0UL, 0UL, 0UL, 0UL], realm.Last.X[..4]);
        Assert.Equal(registers[3..8], realm.Last.X[4..9]);
    }
}
