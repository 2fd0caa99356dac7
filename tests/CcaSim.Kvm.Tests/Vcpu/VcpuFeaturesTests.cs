using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using static CcaSim.Kvm.Tests.Vcpu.VcpuTestKit;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>KVM_ARM_VCPU_INIT and KVM_ARM_VCPU_FINALIZE rules (6.6 arm.c/reset.c, kvm-realm-abi.md §2.3).</summary>
public sealed class VcpuFeaturesTests
{
    public enum Machine
    {
        Realm,
        RealmWithoutPmu,
        RealmWithoutSve,
        Normal,
        NormalWithoutAarch32,
        NormalWithoutPtrAuth,
    }

    private static VmRegisterConfig Vm(Machine m) => m switch
    {
        Machine.Realm => RealmVm(HostLimits),
        Machine.RealmWithoutPmu => RealmVm(HostLimits with { PmuSupported = false }),
        Machine.RealmWithoutSve => RealmVm(HostLimits with { SveSupported = false }),
        Machine.Normal => NormalVm(),
        Machine.NormalWithoutAarch32 => NormalVm(HostLimits with { HostHasAArch32 = false }),
        Machine.NormalWithoutPtrAuth => NormalVm(HostLimits with { HostHasPtrAuth = false }),
        _ => throw new ArgumentOutOfRangeException(nameof(m)),
    };

    public static TheoryData<Machine, int[], Errno> FeatureRules => new()
    {
        { Machine.Realm, [], Errno.None },
        { Machine.Realm, [KvmVcpuFeature.PowerOff], Errno.None },
        { Machine.Realm, [KvmVcpuFeature.Psci02], Errno.None },
        { Machine.Realm, [KvmVcpuFeature.El1Aarch32], Errno.EINVAL },
        { Machine.Normal, [KvmVcpuFeature.El1Aarch32], Errno.None },
        { Machine.NormalWithoutAarch32, [KvmVcpuFeature.El1Aarch32], Errno.EINVAL },
        { Machine.Realm, [KvmVcpuFeature.PmuV3], Errno.None },
        { Machine.RealmWithoutPmu, [KvmVcpuFeature.PmuV3], Errno.EINVAL },
        { Machine.Realm, [KvmVcpuFeature.Sve], Errno.None },
        { Machine.RealmWithoutSve, [KvmVcpuFeature.Sve], Errno.EINVAL },
        { Machine.Realm, [KvmVcpuFeature.PtrAuthAddress], Errno.EINVAL },
        { Machine.Realm, [KvmVcpuFeature.PtrAuthGeneric], Errno.EINVAL },
        { Machine.Realm, [KvmVcpuFeature.PtrAuthAddress, KvmVcpuFeature.PtrAuthGeneric], Errno.None },
        { Machine.Normal, [KvmVcpuFeature.PtrAuthAddress, KvmVcpuFeature.PtrAuthGeneric], Errno.None },
        { Machine.NormalWithoutPtrAuth, [KvmVcpuFeature.PtrAuthAddress, KvmVcpuFeature.PtrAuthGeneric], Errno.EINVAL },
        { Machine.Realm, [KvmVcpuFeature.HasEl2], Errno.ENOENT },
        { Machine.Realm, [KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3, KvmVcpuFeature.Sve, KvmVcpuFeature.PtrAuthAddress, KvmVcpuFeature.PtrAuthGeneric], Errno.None },
    };

    [Theory]
    [MemberData(nameof(FeatureRules))]
    public void Init_WithFeatures_FollowsTheFeatureRules(Machine machine, int[] features, Errno expected)
    {
        var vcpu = new VcpuRegisterFile(Vm(machine));

        KvmResult r = vcpu.Init(Init(features));

        Assert.Equal(expected, r.Error);
        Assert.Equal(expected == Errno.None, vcpu.Features.IsInitialized);
    }

    public static TheoryData<uint> OtherTargets => [0, 1, 2, 3, 4, 6, 0xFFFF_FFFF];

    [Theory]
    [MemberData(nameof(OtherTargets))]
    public void Init_WithATargetOtherThanGenericV8_ReturnsEinval(uint target)
    {
        var vcpu = new VcpuRegisterFile(RealmVm());
        KvmVcpuInit init = Init(KvmVcpuFeature.Psci02);
        init.Target = target;

        Assert.Equal(Errno.EINVAL, vcpu.Init(init).Error);
    }

    public static TheoryData<int> UnknownFeatureBits => [.. Enumerable.Range(KvmVcpuFeature.MaxFeatures, 32 - KvmVcpuFeature.MaxFeatures)];

    [Theory]
    [MemberData(nameof(UnknownFeatureBits))]
    public void Init_WithAFeatureBitBeyondMaxFeatures_ReturnsEnoent(int bit)
    {
        var vcpu = new VcpuRegisterFile(RealmVm());

        Assert.Equal(Errno.ENOENT, vcpu.Init(Init(KvmVcpuFeature.Psci02, bit)).Error);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    [InlineData(6)]
    public void Init_WithANonzeroUpperFeatureWord_ReturnsEnoent(int word)
    {
        var vcpu = new VcpuRegisterFile(RealmVm());
        KvmVcpuInit init = Init(KvmVcpuFeature.Psci02);
        init.Features[word] = 1;

        Assert.Equal(Errno.ENOENT, vcpu.Init(init).Error);
    }

    [Fact]
    public void Init_ExposesTheFeaturesRealmCreationChecks()
    {
        VcpuRegisterFile plain = RealmVcpu();
        VcpuRegisterFile full = RealmVcpu(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3, KvmVcpuFeature.Sve);

        Assert.False(plain.Features.HasPsci02 || plain.Features.HasPmu || plain.Features.HasSve);
        Assert.True(full.Features.HasPsci02 && full.Features.HasPmu && full.Features.HasSve);
    }

    [Fact]
    public void Init_WithPowerOff_StartsStoppedButDoesNotRecordTheBit()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.PowerOff, KvmVcpuFeature.Psci02);

        Assert.True(vcpu.Features.StartsPoweredOff);
        Assert.Equal(KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02), vcpu.Features.Features);
        Assert.Equal(KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02), vcpu.Vm.VcpuFeatureSet);
    }

    [Fact]
    public void Init_AgainWithSameFeatures_ResetsTheRegisters()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02);
        Assert.True(Set64(vcpu, ArmRegisterId.X(3), 0x1234).IsSuccess);
        Assert.True(Set64(vcpu, ArmRegisterId.Pc, 0x8008_0000).IsSuccess);

        KvmResult r = vcpu.Init(Init(KvmVcpuFeature.Psci02, KvmVcpuFeature.PowerOff));

        Assert.True(r.IsSuccess);
        Assert.Equal(0UL, vcpu.GetX(3));
        Assert.Equal(0UL, vcpu.Pc);
        Assert.Equal(VcpuRegisterFile.ResetPstateEl1, vcpu.Pstate);
        Assert.True(vcpu.Features.StartsPoweredOff);
    }

    [Fact]
    public void Init_AgainWithDifferentFeatures_ReturnsEinvalAndKeepsState()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02);
        Assert.True(Set64(vcpu, ArmRegisterId.X(0), 7).IsSuccess);

        KvmResult r = vcpu.Init(Init(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3));

        Assert.Equal(Errno.EINVAL, r.Error);
        Assert.Equal(7UL, vcpu.GetX(0));
        Assert.False(vcpu.Features.HasPmu);
    }

    [Fact]
    public void Init_OfASecondVcpuWithOtherFeatures_ReturnsEinval()
    {
        VmRegisterConfig vm = RealmVm();
        _ = NewVcpu(vm, KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);
        var second = new VcpuRegisterFile(vm);

        Assert.Equal(Errno.EINVAL, second.Init(Init(KvmVcpuFeature.Psci02)).Error);
        Assert.True(second.Init(Init(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3)).IsSuccess);
    }

    [Fact]
    public void Init_ThatFails_LeavesTheVmFeatureSetOpen()
    {
        VmRegisterConfig vm = RealmVm(RmmLimits with { SveSupported = false });
        var vcpu = new VcpuRegisterFile(vm);

        Assert.Equal(Errno.EINVAL, vcpu.Init(Init(KvmVcpuFeature.Sve)).Error);
        Assert.Null(vm.VcpuFeatureSet);
        Assert.True(vcpu.Init(Init(KvmVcpuFeature.Psci02)).IsSuccess);
    }

    [Theory]
    [InlineData(false, VcpuRegisterFile.ResetPstateEl1)]
    [InlineData(true, VcpuRegisterFile.ResetPstateSvc)]
    public void Init_ResetsPstateForTheExecutionState(bool aarch32, ulong pstate)
    {
        VcpuRegisterFile vcpu = aarch32 ? NewVcpu(NormalVm(), KvmVcpuFeature.El1Aarch32) : RealmVcpu();

        Assert.Equal(pstate, vcpu.Pstate);
    }

    [Fact]
    public void ResetPstates_AreEl1hAndSvcWithInterruptsMasked()
    {
        Assert.Equal(0x3C5UL, VcpuRegisterFile.ResetPstateEl1);
        Assert.Equal(0x1D3UL, VcpuRegisterFile.ResetPstateSvc);
    }

    public static TheoryData<int[], int, Errno> FinalizeRules => new()
    {
        { [KvmVcpuFeature.Sve], KvmVcpuFeature.Sve, Errno.None },
        { [], KvmVcpuFeature.Sve, Errno.EINVAL },
        { [KvmVcpuFeature.Sve], KvmVcpuFeature.PmuV3, Errno.EINVAL },
        { [KvmVcpuFeature.Sve], 9, Errno.EINVAL },
        { [KvmVcpuFeature.Sve], -1, Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(FinalizeRules))]
    public void Finalize_FollowsTheSveRules(int[] features, int what, Errno expected)
    {
        VcpuRegisterFile vcpu = RealmVcpu(features);

        Assert.Equal(expected, vcpu.Features.Finalize(what).Error);
        Assert.Equal(expected == Errno.None, vcpu.Features.IsSveFinalized);
    }

    [Fact]
    public void Finalize_Twice_ReturnsEperm()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Sve);
        Assert.True(vcpu.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);

        Assert.Equal(Errno.EPERM, vcpu.Features.Finalize(KvmVcpuFeature.Sve).Error);
    }

    [Theory]
    [InlineData(false, false, true)]
    [InlineData(true, false, false)]
    [InlineData(true, true, true)]
    public void IsFinalized_NeedsSveFinalisationOnlyOnSveVcpus(bool sve, bool finalize, bool expected)
    {
        VcpuRegisterFile vcpu = sve ? RealmVcpu(KvmVcpuFeature.Sve) : RealmVcpu();
        if (finalize)
        {
            Assert.True(vcpu.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);
        }

        Assert.Equal(expected, vcpu.Features.IsFinalized);
    }
}
