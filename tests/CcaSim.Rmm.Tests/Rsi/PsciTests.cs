using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// PSCI and SMCCC calls from the realm (rmm-1.0.md §7, §5.7) and their completion by RMI_PSCI_COMPLETE (§3.22).
/// Calls the RMM answers alone return to the realm without an exit; CPU_ON / AFFINITY_INFO of another vCPU exit with
/// PSCI and wait for the host; CPU_OFF, CPU_SUSPEND and SYSTEM_OFF/RESET are reported with a PSCI exit.
/// </summary>
public sealed class PsciTests
{
    private const ulong Version = 0x8400_0000;
    private const ulong CpuSuspend32 = 0x8400_0001;
    private const ulong CpuOff = 0x8400_0002;
    private const ulong CpuOn32 = 0x8400_0003;
    private const ulong AffinityInfo32 = 0x8400_0004;
    private const ulong SystemOff = 0x8400_0008;
    private const ulong SystemReset = 0x8400_0009;
    private const ulong Features = 0x8400_000A;
    private const ulong CpuSuspend64 = 0xC400_0001;
    private const ulong CpuOn64 = 0xC400_0003;
    private const ulong AffinityInfo64 = 0xC400_0004;
    private const ulong SmcccVersion = 0x8000_0000;

    private const ulong Success = 0;
    private const ulong NotSupported = unchecked((ulong)-1L);
    private const ulong InvalidParams = unchecked((ulong)-2L);
    private const ulong Denied = unchecked((ulong)-3L);
    private const ulong AlreadyOn = unchecked((ulong)-4L);
    private const ulong InvalidAddress = unchecked((ulong)-9L);
    private const ulong AffinityOn = 0;
    private const ulong AffinityOff = 1;

    private const ulong Entry = RealmSide.Ram + 0x5000;
    private const ulong ContextId = 0xC0DE_0000_1234;

    [Fact]
    public void PsciVersion_Returns1_1()
    {
        var realm = new RealmSide();

        Assert.Equal(0x1_0001UL, realm.CallInside(Version, RealmSide.Args())[0]);
    }

    [Fact]
    public void SmcccVersion_Returns1_2()
    {
        var realm = new RealmSide();

        Assert.Equal(0x1_0002UL, realm.CallInside(SmcccVersion, RealmSide.Args())[0]);
    }

    /// <summary>
    /// PSCI_FEATURES (§7): the functions the RMM implements (in the widths it implements) and SMCCC_VERSION, but not
    /// PSCI_VERSION (as TF-RMM rel0). The queried id is W1: bits [63:32] of x1 are ignored.
    /// </summary>
    public static TheoryData<string, ulong, ulong> FeatureRows => new()
    {
        { "PSCI_VERSION_is_not_listed", Version, NotSupported },
        { "CPU_OFF_with_x1_upper_bits_set", 0xFFFF_FFFF_0000_0000 | CpuOff, Success },
        { "CPU_ON_64_with_x1_upper_bits_set", 0x1_0000_0000 | CpuOn64, Success },
        { "MIGRATE_with_x1_upper_bits_set", 0x1_0000_0000 | 0x8400_0005, NotSupported },
        { "CPU_SUSPEND_32", CpuSuspend32, Success },
        { "CPU_SUSPEND_64", CpuSuspend64, Success },
        { "CPU_OFF", CpuOff, Success },
        { "CPU_ON_32", CpuOn32, Success },
        { "CPU_ON_64", CpuOn64, Success },
        { "AFFINITY_INFO_32", AffinityInfo32, Success },
        { "AFFINITY_INFO_64", AffinityInfo64, Success },
        { "SYSTEM_OFF", SystemOff, Success },
        { "SYSTEM_RESET", SystemReset, Success },
        { "PSCI_FEATURES", Features, Success },
        { "SMCCC_VERSION", SmcccVersion, Success },
        { "MIGRATE", 0x8400_0005, NotSupported },
        { "MIGRATE_INFO_TYPE", 0x8400_0006, NotSupported },
        { "SYSTEM_SUSPEND_64", 0xC400_000E, NotSupported },
        { "CPU_OFF_64_does_not_exist", 0xC400_0002, NotSupported },
        { "SYSTEM_OFF_64_does_not_exist", 0xC400_0008, NotSupported },
        { "PSCI_FEATURES_64_does_not_exist", 0xC400_000A, NotSupported },
        { "RSI_VERSION", (ulong)RsiFunctionId.RsiVersion, NotSupported },
        { "SMCCC_ARCH_FEATURES", 0x8000_0001, NotSupported },
        { "zero", 0, NotSupported },
    };

    [Theory]
    [MemberData(nameof(FeatureRows))]
    public void PsciFeatures_ReportsImplementedFunctions(string function, ulong fid, ulong expected)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(Features, RealmSide.Args(fid));

        Assert.True(expected == x[0], $"{function}: 0x{x[0]:x}");
    }

    /// <summary>CPU_ON failures answered by the RMM without an exit (§7), in order: entry, target, itself.</summary>
    public static TheoryData<string, ulong, ulong, ulong> CpuOnFailures => new()
    {
        { "entry_unprotected", 1, RealmSide.Unprotected, InvalidAddress },
        { "entry_outside_ipa_space", 1, RealmSide.IpaEnd, InvalidAddress },
        { "target_unknown_mpidr", 2, Entry, InvalidParams },
        { "target_mpidr_aff1", 0x100, Entry, InvalidParams },
        { "target_unknown_mpidr_with_reserved_bits", (1UL << 40) | 2, Entry, InvalidParams },
        { "target_is_caller_with_reserved_bits", 1UL << 40, Entry, AlreadyOn },
        { "target_is_caller_with_aff0_bits_7_4", 0xF0, Entry, AlreadyOn },
        { "target_is_caller", 0, Entry, AlreadyOn },
        { "target_is_caller_with_mpidr_res1", 0x8000_0000, Entry, AlreadyOn },
        { "entry_unprotected_and_target_unknown", 2, RealmSide.Unprotected, InvalidAddress },
        { "entry_unprotected_and_target_is_caller", 0, RealmSide.Unprotected, InvalidAddress },
    };

    [Theory]
    [MemberData(nameof(CpuOnFailures))]
    public void CpuOn_WhenConditionFails_ReturnsErrorWithoutExit(string condition, ulong mpidr, ulong entry, ulong expected)
    {
        foreach (ulong fid in new[] { CpuOn32, CpuOn64 })
        {
            var realm = new RealmSide(null, false);

            ulong[] x = realm.CallInside(fid, RealmSide.Args(mpidr, entry, ContextId));

            Assert.True(expected == x[0], $"{condition} 0x{fid:x}: 0x{x[0]:x}");
            Assert.Null(realm.Host.Rmm.RecAt(realm.Rec)!.PendingPsci);
            RealmSide.Expect(realm.Enter(realm.Recs[1].Pa), RmiStatus.ErrorRec);
        }
    }

    [Theory]
    [InlineData(CpuOn32, 1UL)]
    [InlineData(CpuOn64, 1UL)]
    [InlineData(CpuOn64, 0x8000_0001UL)]
    [InlineData(CpuOn64, (1UL << 40) | 0xF1UL)]
    public void CpuOn_OfAnOffRec_ExitsThenTargetRunsFromEntryWithContextId(ulong fid, ulong mpidr)
    {
        var realm = new RealmSide(null, false);
        ulong target = realm.Recs[1].Pa;
        realm.Call(fid, RealmSide.Args(mpidr, Entry, ContextId));

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.Psci, exit.Reason);
        Assert.Equal(fid, exit.Gprs[0]);
        Assert.Equal(mpidr, exit.Gprs[1]);
        Assert.Empty(realm.Completed);
        RealmSide.Expect(realm.Enter(), RmiStatus.ErrorRec);
        RealmSide.Expect(realm.Enter(target), RmiStatus.ErrorRec);

        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, target, Success), RmiStatus.Success);

        Assert.Equal(RecExitReason.Fiq, realm.EnterOk(target).Reason);
        EngineRun first = realm.Engine.Runs[^1];
        Assert.Same(realm.Host.Rmm.RecAt(target)!.Context, first.Context);
        Assert.Equal(Entry, first.Pc);
        Assert.Equal(ContextId, first.X[0]);
        Assert.All(first.X[1..], v => Assert.Equal(0UL, v));

        Assert.Equal(RecExitReason.Fiq, realm.EnterOk().Reason);
        CompletedCall done = Assert.Single(realm.Completed);
        Assert.Equal([Success, 0UL, 0UL, 0UL], done.X[..4]);
        Assert.Equal(RealmSide.Args(mpidr, Entry, ContextId)[3..8], done.X[4..9]);
    }

    [Fact]
    public void CpuOn_WhenHostDenies_ReturnsDeniedAndTargetStaysOff()
    {
        var realm = new RealmSide(null, false);
        ulong target = realm.Recs[1].Pa;
        realm.Call(CpuOn64, 1, Entry, ContextId);
        realm.EnterOk();

        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, target, Denied), RmiStatus.Success);
        realm.EnterOk();

        Assert.Equal([Denied, 0UL, 0UL, 0UL], realm.Last.X[..4]);
        RealmSide.Expect(realm.Enter(target), RmiStatus.ErrorRec);
    }

    [Fact]
    public void CpuOn_OfARecAlreadyOn_ReturnsAlreadyOnAfterTheHostCompletes()
    {
        var realm = new RealmSide(null, true);
        ulong target = realm.Recs[1].Pa;
        realm.Call(CpuOn64, 1, Entry, ContextId);
        Assert.Equal(RecExitReason.Psci, realm.EnterOk().Reason);

        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, target, Denied), RmiStatus.ErrorInput);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, target, Success), RmiStatus.Success);
        realm.EnterOk();

        Assert.Equal(AlreadyOn, realm.Last.X[0]);
        Assert.Equal(RealmSide.RecPc, realm.Host.Rmm.RecAt(target)!.Context.Pc);
    }

    [Fact]
    public void AffinityInfo_OfItself_ReturnsOnWithoutExit()
    {
        var realm = new RealmSide(null, false);

        Assert.Equal(AffinityOn, realm.CallInside(AffinityInfo64, RealmSide.Args(0, 0))[0]);
        Assert.Equal(AffinityOn, realm.CallInside(AffinityInfo32, RealmSide.Args(0x8000_0000, 0))[0]);
        Assert.Equal(AffinityOn, realm.CallInside(AffinityInfo64, RealmSide.Args((1UL << 48) | 0xF0, 0))[0]);
    }

    public static TheoryData<string, ulong, ulong> AffinityInfoFailures => new()
    {
        { "lowest_level_1", 1, 1 },
        { "lowest_level_1_self", 0, 1 },
        { "target_unknown", 2, 0 },
        { "target_unknown_with_reserved_bits", (1UL << 48) | 2, 0 },
    };

    [Theory]
    [MemberData(nameof(AffinityInfoFailures))]
    public void AffinityInfo_WhenConditionFails_ReturnsInvalidParams(string condition, ulong mpidr, ulong level)
    {
        var realm = new RealmSide(null, false);

        ulong[] x = realm.CallInside(AffinityInfo64, RealmSide.Args(mpidr, level));

        Assert.True(InvalidParams == x[0], condition);
    }

    [Theory]
    [InlineData(AffinityInfo32, false, AffinityOff)]
    [InlineData(AffinityInfo64, false, AffinityOff)]
    [InlineData(AffinityInfo64, true, AffinityOn)]
    public void AffinityInfo_OfAnotherRec_ExitsAndReturnsWhatTheRmmKnows(ulong fid, bool targetOn, ulong expected)
    {
        var realm = new RealmSide(null, targetOn);
        realm.Call(fid, 1, 0);

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.Psci, exit.Reason);
        Assert.Equal([fid, 1UL, 0UL], exit.Gprs[..3]);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, realm.Recs[1].Pa, Denied), RmiStatus.ErrorInput);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Rec, realm.Recs[1].Pa, Success), RmiStatus.Success);
        realm.EnterOk();
        Assert.Equal([expected, 0UL, 0UL, 0UL], realm.Last.X[..4]);
    }

    [Fact]
    public void CpuOff_ExitsWithPsciAndTheRecIsNoLongerRunnable()
    {
        var realm = new RealmSide(null, true);
        realm.Call(CpuOff, RealmSide.Args());

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.Psci, exit.Reason);
        Assert.Equal(CpuOff, exit.Gprs[0]);
        Assert.All(exit.Gprs[1..], g => Assert.Equal(0UL, g));
        RealmSide.Expect(realm.Enter(), RmiStatus.ErrorRec);
        RealmSide.Expect(realm.Enter(realm.Recs[1].Pa), RmiStatus.Success);

        // Another vCPU can bring it back with CPU_ON.
        realm.Call(CpuOn64, 0, Entry, ContextId);
        Assert.Equal(RecExitReason.Psci, realm.EnterOk(realm.Recs[1].Pa).Reason);
        RealmSide.Expect(realm.Host.Smc(RmiFunctionId.RmiPsciComplete, realm.Recs[1].Pa, realm.Rec, Success), RmiStatus.Success);
        RealmSide.Expect(realm.Enter(), RmiStatus.Success);
        Assert.Equal(Entry, realm.Engine.Runs[^1].Pc);
    }

    [Theory]
    [InlineData(CpuSuspend32)]
    [InlineData(CpuSuspend64)]
    public void CpuSuspend_ExitsWithPsciAndReturnsSuccessOnReentry(ulong fid)
    {
        var realm = new RealmSide();
        realm.Call(fid, RealmSide.Args(0x1_0000, Entry, ContextId));

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.Psci, exit.Reason);
        Assert.Equal(fid, exit.Gprs[0]);
        Assert.All(exit.Gprs[1..], g => Assert.Equal(0UL, g));
        Assert.Equal(RecExitReason.Fiq, realm.EnterOk().Reason);
        CompletedCall done = Assert.Single(realm.Completed);
        Assert.Equal(Success, done.X[0]);
    }

    [Theory]
    [InlineData(SystemOff)]
    [InlineData(SystemReset)]
    public void SystemOffOrReset_ExitsWithPsciAndFurtherEntriesFailWithErrorRealm1(ulong fid)
    {
        var realm = new RealmSide(null, true);
        realm.Call(fid, RealmSide.Args());

        RecExitView exit = realm.EnterOk();

        Assert.Equal(RecExitReason.Psci, exit.Reason);
        Assert.Equal(fid, exit.Gprs[0]);
        Assert.All(exit.Gprs[1..], g => Assert.Equal(0UL, g));
        Assert.Equal(RealmState.SystemOff, realm.RealmState.State);
        RealmSide.Expect(realm.Enter(), RmiStatus.ErrorRealm, 1);
        RealmSide.Expect(realm.Enter(realm.Recs[1].Pa), RmiStatus.ErrorRealm, 1);
    }

    [Theory]
    [InlineData(0x8400_0005UL)]
    [InlineData(0x8400_000CUL)]
    [InlineData(0x8400_001FUL)]
    [InlineData(0xC400_0002UL)]
    [InlineData(0xC400_0012UL)]
    [InlineData(0xC400_001FUL)]
    public void UnknownPsciFunction_ReturnsNotSupportedWithoutExit(ulong fid)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(fid, RealmSide.Args(1, Entry, ContextId));

        Assert.Equal(NotSupported, x[0]);
        Assert.Null(realm.Host.Rmm.RecAt(realm.Rec)!.PendingPsci);
    }

    [Theory]
    [InlineData(0x8000_0001UL)]
    [InlineData(0x8400_0020UL)]
    [InlineData(0xC400_0020UL)]
    [InlineData(0x8200_0000UL)]
    [InlineData(0xC400_0150UL)]
    [InlineData(0xC400_019AUL)]
    [InlineData(0xC400_01AFUL)]
    [InlineData(0xC400_01B0UL)]
    [InlineData(0x0UL)]
    [InlineData(0xC401_0150UL)] // an RMI id with the SVE hint is still not a realm call
    [InlineData(0xC401_01B0UL)]
    public void UnknownFunction_ReturnsSmcUnknownWithoutExit(ulong fid)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(fid, RealmSide.Args(1, 2, 3));

        Assert.Equal(SecureMonitor.SmcUnknown, x[0]);
        Assert.Equal(RealmSide.Args(1, 2, 3)[3..8], x[4..9]);
    }
}
