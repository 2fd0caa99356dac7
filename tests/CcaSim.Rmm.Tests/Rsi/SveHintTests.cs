using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// Realm SMCs carry their function id in W0, and bit 16 is the SMCCC SVE hint (rmm-1.0.md §1): the RMM strips it
/// and decodes the rest, for realm calls as for host calls.
/// </summary>
public sealed class SveHintTests
{
    private const ulong SveHint = 1UL << 16;
    private const ulong V10 = 0x1_0000;

    /// <summary>A call, the same call with the hint (or junk above W0), and the x0..x2 both must return.</summary>
    public static TheoryData<string, ulong, ulong, ulong, ulong, ulong> Calls => new()
    {
        { "RSI_VERSION", (ulong)RsiFunctionId.RsiVersion | SveHint, V10, (ulong)RsiStatus.Success, V10, V10 },
        { "RSI_VERSION, junk above W0", (ulong)RsiFunctionId.RsiVersion | (0xFFFF_FFFFUL << 32), V10, (ulong)RsiStatus.Success, V10, V10 },
        { "RSI_VERSION, hint and junk above W0", (ulong)RsiFunctionId.RsiVersion | SveHint | (1UL << 40), V10, (ulong)RsiStatus.Success, V10, V10 },
        { "RSI_FEATURES", (ulong)RsiFunctionId.RsiFeatures | SveHint, 0, (ulong)RsiStatus.Success, 0, 0 },
        { "RSI_MEASUREMENT_READ index 5", (ulong)RsiFunctionId.RsiMeasurementRead | SveHint, 5, (ulong)RsiStatus.ErrorInput, 0, 0 },
        { "PSCI_VERSION", 0x8400_0000UL | SveHint, 0, 0x1_0001, 0, 0 },
        { "PSCI_FEATURES of CPU_ON", 0x8400_000AUL | SveHint, 0xC400_0003, 0, 0, 0 },
        { "SMCCC_VERSION", 0x8000_0000UL | SveHint, 0, 0x1_0002, 0, 0 },
        { "unknown RSI id stays unknown", 0xC400_01A0UL | SveHint, 0, SecureMonitor.SmcUnknown, 0, 0 },
    };

    [Theory]
    [MemberData(nameof(Calls))]
    public void RealmCall_WithSveHintOrBitsAboveW0_IsHandledAsTheCallWithoutThem(string call, ulong fid, ulong x1, ulong x0, ulong r1, ulong r2)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(fid, RealmSide.Args(x1));

        Assert.True(x0 == x[0], $"{call}: x0 = {x[0]:X}");
        Assert.Equal((r1, r2), (x[1], x[2]));
    }

    [Fact]
    public void PsciCpuOn_WithSveHint_ExitsToTheHostWithTheFunctionIdWithoutTheHint()
    {
        const ulong cpuOn64 = 0xC400_0003;
        var realm = new RealmSide(null, false);
        realm.Call(cpuOn64 | SveHint, RealmSide.Args(1, 0x9_0000, 0x77));

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.Psci, exit.Reason);
        Assert.Equal((cpuOn64, 1UL), (exit.Gprs[0], exit.Gprs[1]));
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, realm.Recs[1].Pa, 0), RmiStatus.Success);
    }
}
