using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using static CcaSim.Kvm.Tests.Vcpu.VcpuTestKit;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>The VM-wide realm parameters of kvm-realm-abi.md §2.9 and their freeze at RD creation (§2.5).</summary>
public sealed class VmRegisterConfigTests
{
    [Fact]
    public void FromRmiFeatureRegister0_DecodesTheReferenceHostBuild()
    {
        RealmRegisterLimits l = RealmRegisterLimits.FromRmiFeatureRegister0(0x283_FC10_4130);

        Assert.Equal(new RealmRegisterLimits(NumBps: 1, NumWps: 1, PmuSupported: true, PmuNumCtrs: 31, SveSupported: false, SveMaxVq: 1), l);
    }

    [Fact]
    public void FromRmiFeatureRegister0_TurnsSveVlIntoVq()
    {
        ulong feat0 = 48 | (1UL << 9) | (3UL << 10) | (5UL << 14) | (3UL << 20) | (1UL << 26) | (8UL << 27);

        Assert.Equal(RmmLimits, RealmRegisterLimits.FromRmiFeatureRegister0(feat0));
    }

    [Theory]
    [InlineData(5, 1, 1)]
    [InlineData(1, 3, 1)]
    [InlineData(2, 2, 2)]
    public void RealmReset_TakesBpsAndWpsFromTheRmmAndClampsCtxCmps(int numBps, int hostCtx, int ctx)
    {
        VmRegisterConfig vm = RealmVm(RmmLimits with { NumBps = numBps, HostCtxCmps = hostCtx });
        _ = NewVcpu(vm, KvmVcpuFeature.Psci02);

        Assert.Equal(numBps, IdAa64Dfr0.Brps(vm.IdAa64Dfr0El1));
        Assert.Equal(3, IdAa64Dfr0.Wrps(vm.IdAa64Dfr0El1));
        Assert.Equal(ctx, IdAa64Dfr0.CtxCmps(vm.IdAa64Dfr0El1));
        Assert.Equal(numBps, vm.NumBps);
        Assert.Equal(3, vm.NumWps);
    }

    [Fact]
    public void NormalReset_KeepsTheHostCtxCmps()
    {
        VmRegisterConfig vm = NormalVm(HostLimits with { NumBps = 1, HostCtxCmps = 3 });

        Assert.Equal(3, IdAa64Dfr0.CtxCmps(vm.IdAa64Dfr0El1));
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, IdAa64Dfr0.PmuVerImp)]
    public void Reset_ReportsPmuVerOnlyForAPmuVm(bool pmu, int pmuVer)
    {
        VmRegisterConfig vm = RealmVm();
        _ = pmu ? NewVcpu(vm, KvmVcpuFeature.PmuV3) : NewVcpu(vm);

        Assert.Equal(pmuVer, IdAa64Dfr0.PmuVer(vm.IdAa64Dfr0El1));
        Assert.Equal(IdAa64Dfr0.DebugVerImp, IdAa64Dfr0.DebugVer(vm.IdAa64Dfr0El1));
        Assert.Equal(pmu, vm.HasPmu);
    }

    /// <summary>Rows: (DebugVer, PMUVer, BRPs, WRPs, CTX_CMPs) written over a reset of (6, 1, 5, 3, 2); expected errno.</summary>
    public static TheoryData<string, int, int, int, int, int, Errno> Dfr0Writes => new()
    {
        { "the reset value", 6, 1, 5, 3, 2, Errno.None },
        { "fewer breakpoints", 6, 1, 2, 3, 2, Errno.None },
        { "fewer watchpoints", 6, 1, 5, 1, 2, Errno.None },
        { "fewer context comparators", 6, 1, 5, 3, 0, Errno.None },
        { "no PMU", 6, 0, 5, 3, 2, Errno.None },
        { "BRPs zero", 6, 1, 0, 3, 0, Errno.EINVAL },
        { "WRPs zero", 6, 1, 5, 0, 2, Errno.EINVAL },
        { "CTX_CMPs above BRPs", 6, 1, 1, 3, 2, Errno.EINVAL },
        { "BRPs above the RMM's", 6, 1, 6, 3, 2, Errno.EINVAL },
        { "WRPs above the RMM's", 6, 1, 5, 4, 2, Errno.EINVAL },
        { "CTX_CMPs above the reset", 6, 1, 5, 3, 3, Errno.EINVAL },
        { "DebugVer below IMP", 5, 1, 5, 3, 2, Errno.EINVAL },
        { "DebugVer above Armv8.0", 7, 1, 5, 3, 2, Errno.EINVAL },
        { "PMUVer above the host's", 6, 2, 5, 3, 2, Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(Dfr0Writes))]
    public void SetIdAa64Dfr0_FollowsTheFieldRules(string row, int debugVer, int pmuVer, int brps, int wrps, int ctx, Errno expected)
    {
        VmRegisterConfig vm = PmuRealm();
        ulong before = vm.IdAa64Dfr0El1;
        ulong value = IdAa64Dfr0.Make(debugVer, pmuVer, brps, wrps, ctx);

        KvmResult r = vm.SetIdAa64Dfr0El1(value);

        Assert.True(expected == r.Error, $"{row}: {r}");
        Assert.Equal(expected == Errno.None ? value : before, vm.IdAa64Dfr0El1);
    }

    [Fact]
    public void SetIdAa64Dfr0_WithImpDefPmuVer_StoresNoPmu()
    {
        VmRegisterConfig vm = PmuRealm();

        KvmResult r = vm.SetIdAa64Dfr0El1(IdAa64Dfr0.Make(6, IdAa64Dfr0.PmuVerImpDef, 5, 3, 2));

        Assert.True(r.IsSuccess);
        Assert.Equal(0, IdAa64Dfr0.PmuVer(vm.IdAa64Dfr0El1));
    }

    [Theory]
    [InlineData(4)]
    [InlineData(16)]
    [InlineData(36)]
    [InlineData(63)]
    public void SetIdAa64Dfr0_ChangingANonWritableField_ReturnsEinval(int bit)
    {
        VmRegisterConfig vm = PmuRealm();

        Assert.Equal(Errno.EINVAL, vm.SetIdAa64Dfr0El1(vm.IdAa64Dfr0El1 | (1UL << bit)).Error);
    }

    [Fact]
    public void SetIdAa64Dfr0_LowersWhatRealmCreationReads()
    {
        VmRegisterConfig vm = PmuRealm();

        Assert.True(vm.SetIdAa64Dfr0El1(IdAa64Dfr0.Make(6, 1, 2, 1, 1)).IsSuccess);

        Assert.Equal(2, vm.NumBps);
        Assert.Equal(1, vm.NumWps);
    }

    public static TheoryData<string, ulong, Errno> FrozenDfr0Writes => new()
    {
        { "the current value", IdAa64Dfr0.Make(6, 1, 5, 3, 2), Errno.None },
        { "a lower but valid value", IdAa64Dfr0.Make(6, 1, 2, 3, 2), Errno.EBUSY },
        { "a value above the limit", IdAa64Dfr0.Make(6, 1, 6, 3, 2), Errno.EBUSY },
        { "BRPs zero (field check comes first)", IdAa64Dfr0.Make(6, 1, 0, 3, 0), Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(FrozenDfr0Writes))]
    public void SetIdAa64Dfr0_AfterFreeze_AcceptsOnlyTheCurrentValue(string row, ulong value, Errno expected)
    {
        VmRegisterConfig vm = PmuRealm();
        ulong before = vm.IdAa64Dfr0El1;
        vm.Freeze();

        KvmResult r = vm.SetIdAa64Dfr0El1(value);

        Assert.True(expected == r.Error, $"{row}: {r}");
        Assert.Equal(before, vm.IdAa64Dfr0El1);
    }

    [Theory]
    [InlineData(8, 8)]
    [InlineData(3, 3)]
    [InlineData(0, 0)]
    [InlineData(9, 8)]
    [InlineData(31, 8)]
    public void PmcrN_TakesValuesUpToTheRmmMaximum_AndSilentlyIgnoresMore(int written, int stored)
    {
        VmRegisterConfig vm = RealmVm();
        VcpuRegisterFile vcpu = NewVcpu(vm, KvmVcpuFeature.PmuV3);

        KvmResult r = Set64(vcpu, ArmRegisterId.PmcrEl0, (ulong)written << VcpuRegisterFile.PmcrNShift);

        Assert.True(r.IsSuccess);
        Assert.Equal(stored, vm.PmuNumCtrs);
        Assert.Equal((ulong)stored, (Get64(vcpu, ArmRegisterId.PmcrEl0) & VcpuRegisterFile.PmcrNMask) >> VcpuRegisterFile.PmcrNShift);
    }

    [Fact]
    public void PmcrN_AfterFreeze_IsSilentlyIgnored_WhileTheLowBitsStillChange()
    {
        VmRegisterConfig vm = RealmVm();
        VcpuRegisterFile vcpu = NewVcpu(vm, KvmVcpuFeature.PmuV3);
        vm.Freeze();

        KvmResult r = Set64(vcpu, ArmRegisterId.PmcrEl0, (2UL << VcpuRegisterFile.PmcrNShift) | 0x1);

        Assert.True(r.IsSuccess);
        Assert.Equal(8, vm.PmuNumCtrs);
        Assert.Equal(1UL, Get64(vcpu, ArmRegisterId.PmcrEl0) & 0x1);
    }

    [Fact]
    public void PmcrN_IsOneValueForAllVcpus()
    {
        VmRegisterConfig vm = RealmVm();
        VcpuRegisterFile a = NewVcpu(vm, KvmVcpuFeature.PmuV3);
        VcpuRegisterFile b = NewVcpu(vm, KvmVcpuFeature.PmuV3);

        Assert.True(Set64(a, ArmRegisterId.PmcrEl0, 4UL << VcpuRegisterFile.PmcrNShift).IsSuccess);

        Assert.Equal(4UL, Get64(b, ArmRegisterId.PmcrEl0) >> VcpuRegisterFile.PmcrNShift);
    }

    [Theory]
    [InlineData(true, 4, 4)]
    [InlineData(true, 20, RealmRegisterLimits.ArchMaxVq)]
    [InlineData(false, 4, 0)]
    public void MaxSveVq_FollowsTheLimits(bool sve, int limit, int expected) =>
        Assert.Equal(expected, RealmVm(RmmLimits with { SveSupported = sve, SveMaxVq = limit }).MaxSveVq);

    [Fact]
    public void SveVectorQuadwords_WithoutSve_IsZero()
    {
        VmRegisterConfig vm = RealmVm();
        VcpuRegisterFile vcpu = NewVcpu(vm, KvmVcpuFeature.Psci02);

        Assert.Equal(0, vm.SveVectorQuadwords([vcpu]).Value);
    }

    [Fact]
    public void SveVectorQuadwords_WithAnUnfinalisedVcpu_ReturnsEinval()
    {
        VmRegisterConfig vm = RealmVm();
        VcpuRegisterFile a = NewVcpu(vm, KvmVcpuFeature.Sve);
        VcpuRegisterFile b = NewVcpu(vm, KvmVcpuFeature.Sve);
        Assert.True(a.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);

        Assert.Equal(Errno.EINVAL, vm.SveVectorQuadwords([a, b]).Error);
    }

    [Fact]
    public void SveVectorQuadwords_WithDifferentLengths_ReturnsEinval()
    {
        VmRegisterConfig vm = RealmVm();
        VcpuRegisterFile a = NewVcpu(vm, KvmVcpuFeature.Sve);
        VcpuRegisterFile b = NewVcpu(vm, KvmVcpuFeature.Sve);
        Assert.True(b.SetOneReg(ArmRegisterId.SveVls, Vls(1, 2)).IsSuccess);
        Assert.True(a.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);
        Assert.True(b.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);

        Assert.Equal(Errno.EINVAL, vm.SveVectorQuadwords([a, b]).Error);
    }

    [Fact]
    public void SveVectorQuadwords_WhenAllAgree_IsTheirVq()
    {
        VmRegisterConfig vm = RealmVm();
        VcpuRegisterFile a = NewVcpu(vm, KvmVcpuFeature.Sve);
        VcpuRegisterFile b = NewVcpu(vm, KvmVcpuFeature.Sve);
        foreach (VcpuRegisterFile v in new[] { a, b })
        {
            Assert.True(v.SetOneReg(ArmRegisterId.SveVls, Vls(1, 2, 3)).IsSuccess);
            Assert.True(v.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);
        }

        Assert.Equal(3, vm.SveVectorQuadwords([a, b]).Value);
    }

    private static VmRegisterConfig PmuRealm()
    {
        VmRegisterConfig vm = RealmVm(RmmLimits with { HostCtxCmps = 2 });
        _ = NewVcpu(vm, KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);
        return vm;
    }
}
