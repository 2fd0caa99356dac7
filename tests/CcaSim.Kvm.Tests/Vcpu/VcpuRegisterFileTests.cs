using System.Buffers.Binary;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using static CcaSim.Kvm.Tests.Vcpu.VcpuTestKit;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>KVM_{GET,SET}_ONE_REG and KVM_GET_REG_LIST, with the realm restrictions of kvm-realm-abi.md §2.9.</summary>
public sealed class VcpuRegisterFileTests
{
    private static readonly int[] AllRealmFeatures = [KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3, KvmVcpuFeature.Sve];

    public static TheoryData<string, ulong> RealmSettableIds
    {
        get
        {
            var data = new TheoryData<string, ulong>();
            for (int n = 0; n <= 30; n++)
            {
                data.Add($"X{n}", ArmRegisterId.X(n));
            }

            data.Add("PC", ArmRegisterId.Pc);
            data.Add("PMCR_EL0", ArmRegisterId.PmcrEl0);
            data.Add("ID_AA64DFR0_EL1", ArmRegisterId.IdAa64Dfr0El1);
            data.Add("SVE_VLS", ArmRegisterId.SveVls);
            return data;
        }
    }

    [Theory]
    [MemberData(nameof(RealmSettableIds))]
    public void SetOneReg_OnRealmWithListedRegister_Succeeds(string name, ulong id)
    {
        VcpuRegisterFile vcpu = RealmVcpu(AllRealmFeatures);
        byte[] value = Buffer(id);
        Assert.True(vcpu.GetOneReg(id, value).IsSuccess, name);

        Assert.True(vcpu.SetOneReg(id, value).IsSuccess, name);
    }

    public static TheoryData<string, ulong> RealmUnsettableIds
    {
        get
        {
            var data = new TheoryData<string, ulong>
            {
                { "SP", ArmRegisterId.Sp },
                { "PSTATE", ArmRegisterId.Pstate },
                { "SP_EL1", ArmRegisterId.SpEl1 },
                { "ELR_EL1", ArmRegisterId.ElrEl1 },
                { "V0", ArmRegisterId.V(0) },
                { "V31", ArmRegisterId.V(31) },
                { "FPSR", ArmRegisterId.Fpsr },
                { "FPCR", ArmRegisterId.Fpcr },
                { "PSCI_VERSION", ArmRegisterId.PsciVersion },
                { "MIDR_EL1", ArmRegisterId.SysRegId(3, 0, 0, 0, 0) },
                { "CNTV_CTL_EL0", ArmRegisterId.SysRegId(3, 3, 14, 3, 1) },
                { "SVE Z0", ArmRegisterId.SveZReg(0, 0) },
                { "CCSIDR demux", ArmRegisterId.Arm64 | ArmRegisterId.SizeU32 | ArmRegisterId.Demux },
                { "STD_BMAP", ArmRegisterId.Arm64 | ArmRegisterId.SizeU64 | ArmRegisterId.FirmwareFeatureBitmap },
                { "PMCR_EL0 as U32", ArmRegisterId.PmcrEl0 & ~ArmRegisterId.SizeMask | ArmRegisterId.SizeU32 },
            };
            for (int i = 0; i < CoreOffset.SpsrCount; i++)
            {
                data.Add($"SPSR[{i}]", ArmRegisterId.Spsr(i));
            }

            return data;
        }
    }

    [Theory]
    [MemberData(nameof(RealmUnsettableIds))]
    public void SetOneReg_OnRealmWithUnlistedRegister_ReturnsEinval(string name, ulong id)
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);
        byte[] current = Buffer(id);
        _ = vcpu.GetOneReg(id, current);

        Assert.True(vcpu.SetOneReg(id, current).Error == Errno.EINVAL, name);
    }

    public static TheoryData<string, ulong> NormalOnlySettableIds => new()
    {
        { "SP", ArmRegisterId.Sp },
        { "SP_EL1", ArmRegisterId.SpEl1 },
        { "ELR_EL1", ArmRegisterId.ElrEl1 },
        { "SPSR[2]", ArmRegisterId.Spsr(2) },
        { "V7", ArmRegisterId.V(7) },
        { "FPSR", ArmRegisterId.Fpsr },
        { "FPCR", ArmRegisterId.Fpcr },
    };

    [Theory]
    [MemberData(nameof(NormalOnlySettableIds))]
    public void SetOneReg_OnNormalVmWithCoreRegister_RoundTrips(string name, ulong id)
    {
        VcpuRegisterFile vcpu = NewVcpu(NormalVm(), KvmVcpuFeature.Psci02);
        byte[] value = Buffer(id);
        value.AsSpan().Fill(0x5A);
        byte[] back = Buffer(id);

        Assert.True(vcpu.SetOneReg(id, value).IsSuccess, name);
        Assert.True(vcpu.GetOneReg(id, back).IsSuccess, name);
        Assert.Equal(value, back);
    }

    [Fact]
    public void SetOneReg_OnRealmGpr_IsWhatRecCreationReads()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02);

        Assert.True(Set64(vcpu, ArmRegisterId.X(0), 0x8800_0000).IsSuccess);
        Assert.True(Set64(vcpu, ArmRegisterId.Pc, 0x8008_0000).IsSuccess);

        Assert.Equal(0x8800_0000UL, vcpu.GetX(0));
        Assert.Equal(0x8008_0000UL, vcpu.Pc);
    }

    [Fact]
    public void GetOneReg_OnRealm_ReadsEveryListedRegister()
    {
        VcpuRegisterFile vcpu = RealmVcpu(AllRealmFeatures);

        foreach (ulong id in vcpu.RegisterList())
        {
            Assert.True(vcpu.GetOneReg(id, Buffer(id)).IsSuccess, $"0x{id:X16}");
        }
    }

    [Fact]
    public void GetOneReg_OnRealm_ReadsUnsettableCoreRegistersToo()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02);

        Assert.Equal(VcpuRegisterFile.ResetPstateEl1, Get64(vcpu, ArmRegisterId.Pstate));
        Assert.Equal(0UL, Get64(vcpu, ArmRegisterId.Sp));
    }

    public static TheoryData<string, ulong, Errno> UnknownIds => new()
    {
        { "MIDR_EL1 (not modelled)", ArmRegisterId.SysRegId(3, 0, 0, 0, 0), Errno.ENOENT },
        { "ID_AA64DFR0_EL1 as U32", ArmRegisterId.IdAa64Dfr0El1 & ~ArmRegisterId.SizeMask | ArmRegisterId.SizeU32, Errno.ENOENT },
        { "PSCI_VERSION as U32", ArmRegisterId.PsciVersion & ~ArmRegisterId.SizeMask | ArmRegisterId.SizeU32, Errno.ENOENT },
        { "firmware register 9", ArmRegisterId.PsciVersion | 9, Errno.ENOENT },
        { "SVE Z0 (not modelled)", ArmRegisterId.SveZReg(0, 0), Errno.ENOENT },
        { "SVE_VLS without SVE", ArmRegisterId.SveVls, Errno.ENOENT },
        { "coproc 0x20", ArmRegisterId.Arm64 | ArmRegisterId.SizeU64 | (0x20UL << 16), Errno.ENOENT },
        { "core offset past kvm_regs", ArmRegisterId.CoreReg(300, ArmRegisterId.SizeU64), Errno.ENOENT },
        { "core U32 ending on the last word", ArmRegisterId.CoreReg(215, ArmRegisterId.SizeU32), Errno.ENOENT },
        { "core odd offset", ArmRegisterId.CoreReg(1, ArmRegisterId.SizeU64), Errno.EINVAL },
        { "core gap after SPSR", ArmRegisterId.CoreReg(82, ArmRegisterId.SizeU64), Errno.EINVAL },
        { "core reserved fpsimd word", ArmRegisterId.CoreReg(214, ArmRegisterId.SizeU32), Errno.EINVAL },
        { "X0 as U32", ArmRegisterId.CoreReg(0, ArmRegisterId.SizeU32), Errno.EINVAL },
        { "V0 as U64", ArmRegisterId.CoreReg(CoreOffset.V0, ArmRegisterId.SizeU64), Errno.EINVAL },
        { "V0 misaligned", ArmRegisterId.CoreReg(CoreOffset.V0 + 2, ArmRegisterId.SizeU128), Errno.EINVAL },
        { "arm32 arch", 0x4030_0000_0010_0000, Errno.EINVAL },
        { "reserved bit 32", ArmRegisterId.X(0) | (1UL << 32), Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(UnknownIds))]
    public void GetOneReg_WithUnknownOrMalformedId_ReturnsTheKernelErrno(string name, ulong id, Errno expected)
    {
        VcpuRegisterFile vcpu = NewVcpu(NormalVm(), KvmVcpuFeature.Psci02);

        KvmResult r = vcpu.GetOneReg(id, Buffer(id));

        Assert.True(expected == r.Error, $"{name}: {r}");
    }

    [Theory]
    [MemberData(nameof(UnknownIds))]
    public void SetOneReg_OnNormalVmWithUnknownOrMalformedId_ReturnsTheKernelErrno(string name, ulong id, Errno expected)
    {
        VcpuRegisterFile vcpu = NewVcpu(NormalVm(), KvmVcpuFeature.Psci02);

        KvmResult r = vcpu.SetOneReg(id, Buffer(id));

        Assert.True(expected == r.Error, $"{name}: {r}");
    }

    public static TheoryData<string, ulong, int> WrongLengths => new()
    {
        { "X0 with 4 bytes", ArmRegisterId.X(0), 4 },
        { "X0 with 16 bytes", ArmRegisterId.X(0), 16 },
        { "PC with 0 bytes", ArmRegisterId.Pc, 0 },
        { "V0 with 8 bytes", ArmRegisterId.V(0), 8 },
        { "FPSR with 8 bytes", ArmRegisterId.Fpsr, 8 },
        { "ID_AA64DFR0_EL1 with 4 bytes", ArmRegisterId.IdAa64Dfr0El1, 4 },
        { "PMCR_EL0 with 9 bytes", ArmRegisterId.PmcrEl0, 9 },
        { "SVE_VLS with 8 bytes", ArmRegisterId.SveVls, 8 },
        { "unknown sysreg with 4 bytes", ArmRegisterId.SysRegId(3, 0, 0, 0, 0), 4 },
    };

    [Theory]
    [MemberData(nameof(WrongLengths))]
    public void OneReg_WithValueSizeNotMatchingTheId_ReturnsEinval(string name, ulong id, int length)
    {
        VcpuRegisterFile vcpu = RealmVcpu(AllRealmFeatures);

        Assert.True(vcpu.GetOneReg(id, new byte[length]).Error == Errno.EINVAL, name);
        Assert.True(vcpu.SetOneReg(id, new byte[length]).Error == Errno.EINVAL, name);
    }

    [Fact]
    public void OneReg_BeforeInit_IsAModelBug()
    {
        var vcpu = new VcpuRegisterFile(RealmVm());

        Assert.Throws<InvalidOperationException>(() => vcpu.GetOneReg(ArmRegisterId.X(0), new byte[8]));
        Assert.Throws<InvalidOperationException>(() => vcpu.SetOneReg(ArmRegisterId.X(0), new byte[8]));
        Assert.Throws<InvalidOperationException>(() => vcpu.RegisterList());
    }

    [Fact]
    public void PmcrEl0_WithoutPmu_IsHidden()
    {
        VcpuRegisterFile vcpu = NewVcpu(NormalVm(), KvmVcpuFeature.Psci02);

        Assert.Equal(Errno.ENOENT, vcpu.GetOneReg(ArmRegisterId.PmcrEl0, new byte[8]).Error);
        Assert.Equal(Errno.ENOENT, Set64(vcpu, ArmRegisterId.PmcrEl0, 0).Error);
        Assert.DoesNotContain(ArmRegisterId.PmcrEl0, vcpu.RegisterList());
    }

    [Theory]
    [InlineData(false, VcpuRegisterFile.PmcrLc)]
    [InlineData(true, 0UL)]
    public void PmcrEl0_ResetsToLcAndTheMaximumN(bool hostAarch32, ulong lc)
    {
        VmRegisterConfig vm = RealmVm(RmmLimits with { HostHasAArch32 = hostAarch32 });
        VcpuRegisterFile vcpu = NewVcpu(vm, KvmVcpuFeature.PmuV3);

        Assert.Equal(lc | (8UL << VcpuRegisterFile.PmcrNShift), Get64(vcpu, ArmRegisterId.PmcrEl0));
    }

    [Fact]
    public void PmcrEl0_KeepsOnlyItsLowByte()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.PmuV3);

        Assert.True(Set64(vcpu, ArmRegisterId.PmcrEl0, 0xFFFF_FFFF_FFFF_0000 | (8UL << VcpuRegisterFile.PmcrNShift) | 0x3).IsSuccess);

        Assert.Equal(0x3UL | VcpuRegisterFile.PmcrLc | (8UL << VcpuRegisterFile.PmcrNShift), Get64(vcpu, ArmRegisterId.PmcrEl0));
    }

    public static TheoryData<string, ulong, bool, Errno> PstateModes => new()
    {
        { "EL1h", 0x3C5, false, Errno.None },
        { "EL1t", 0x3C4, false, Errno.None },
        { "EL0t", 0x0, false, Errno.None },
        { "EL2h without nested virt", 0x9, false, Errno.EINVAL },
        { "AArch32 SVC on an AArch64 vCPU", 0x13, false, Errno.EINVAL },
        { "AArch32 USR with AArch32 EL0", 0x10, false, Errno.None },
        { "AArch32 SVC on an AArch32 vCPU", 0x1D3, true, Errno.None },
        { "EL1h on an AArch32 vCPU", 0x5, true, Errno.EINVAL },
        { "reserved mode", 0x1, false, Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(PstateModes))]
    public void SetPstate_OnNormalVm_ChecksTheMode(string name, ulong pstate, bool aarch32, Errno expected)
    {
        VcpuRegisterFile vcpu = aarch32 ? NewVcpu(NormalVm(), KvmVcpuFeature.El1Aarch32) : NewVcpu(NormalVm());

        Assert.True(expected == Set64(vcpu, ArmRegisterId.Pstate, pstate).Error, name);
    }

    [Fact]
    public void Vregs_OnSveVcpu_AreNeitherListedNorAccessible()
    {
        VcpuRegisterFile vcpu = NewVcpu(NormalVm(), KvmVcpuFeature.Sve);

        Assert.Equal(Errno.EINVAL, vcpu.GetOneReg(ArmRegisterId.V(0), new byte[16]).Error);
        Assert.DoesNotContain(ArmRegisterId.V(0), vcpu.RegisterList());
    }

    [Fact]
    public void SveVls_ResetsToEveryVqUpToTheLimit()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Sve);
        byte[] vls = new byte[64];

        Assert.True(vcpu.GetOneReg(ArmRegisterId.SveVls, vls).IsSuccess);
        Assert.Equal(Vls(1, 2, 3, 4), vls);
        Assert.Equal(4, vcpu.SveMaxVq);
    }

    public static TheoryData<string, int[], Errno> VlsWrites => new()
    {
        { "VQ 1..2", [1, 2], Errno.None },
        { "VQ 1 only", [1], Errno.None },
        { "all four", [1, 2, 3, 4], Errno.None },
        { "a gap", [1, 3], Errno.EINVAL },
        { "not starting at 1", [2], Errno.EINVAL },
        { "empty", [], Errno.EINVAL },
        { "above the RMM's SVE_VL", [1, 2, 3, 4, 5], Errno.EINVAL },
        { "VQ 512", [512], Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(VlsWrites))]
    public void SetSveVls_AcceptsOnlyAContiguousSetWithinTheLimit(string name, int[] vqs, Errno expected)
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Sve);

        KvmResult r = vcpu.SetOneReg(ArmRegisterId.SveVls, Vls(vqs));

        Assert.True(expected == r.Error, $"{name}: {r}");
        Assert.Equal(expected == Errno.None ? vqs.Max() : 4, vcpu.SveMaxVq);
    }

    [Fact]
    public void SetSveVls_AfterFinalize_ReturnsEperm()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Sve);
        Assert.True(vcpu.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);

        Assert.Equal(Errno.EPERM, vcpu.SetOneReg(ArmRegisterId.SveVls, Vls(1)).Error);
    }

    [Fact]
    public void SetSveVls_AfterFreeze_ReturnsEperm()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Sve);
        vcpu.Vm.Freeze();

        Assert.Equal(Errno.EPERM, vcpu.SetOneReg(ArmRegisterId.SveVls, Vls(1)).Error);
        Assert.Equal(4, vcpu.SveMaxVq);
    }

    [Fact]
    public void SetIdAa64Dfr0_AfterFreeze_ReturnsEbusyThroughSetOneReg()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02);
        ulong current = Get64(vcpu, ArmRegisterId.IdAa64Dfr0El1);
        vcpu.Vm.Freeze();

        Assert.True(Set64(vcpu, ArmRegisterId.IdAa64Dfr0El1, current).IsSuccess);
        Assert.Equal(Errno.EBUSY, Set64(vcpu, ArmRegisterId.IdAa64Dfr0El1, IdAa64Dfr0.With(current, IdAa64Dfr0.BrpsShift, 1)).Error);
    }

    [Fact]
    public void SveMaxVq_SurvivesAResetOnceFinalised()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Sve);
        Assert.True(vcpu.SetOneReg(ArmRegisterId.SveVls, Vls(1, 2)).IsSuccess);
        Assert.True(vcpu.Features.Finalize(KvmVcpuFeature.Sve).IsSuccess);

        Assert.True(vcpu.Init(Init(KvmVcpuFeature.Sve)).IsSuccess);

        Assert.Equal(2, vcpu.SveMaxVq);
    }

    [Theory]
    [InlineData(true, VmRegisterConfig.PsciVersion11)]
    [InlineData(false, VmRegisterConfig.PsciVersion01)]
    public void PsciVersion_DependsOnThePsci02Feature(bool psci02, uint version)
    {
        VcpuRegisterFile vcpu = psci02 ? NewVcpu(NormalVm(), KvmVcpuFeature.Psci02) : NewVcpu(NormalVm());

        Assert.Equal(version, Get64(vcpu, ArmRegisterId.PsciVersion));
    }

    [Theory]
    [InlineData(true, VmRegisterConfig.PsciVersion10, Errno.None)]
    [InlineData(true, VmRegisterConfig.PsciVersion02, Errno.None)]
    [InlineData(true, VmRegisterConfig.PsciVersion01, Errno.EINVAL)]
    [InlineData(false, VmRegisterConfig.PsciVersion01, Errno.None)]
    [InlineData(false, VmRegisterConfig.PsciVersion11, Errno.EINVAL)]
    [InlineData(true, 0x0001_0002U, Errno.EINVAL)]
    public void SetPsciVersion_OnNormalVm_FollowsSetFwReg(bool psci02, uint version, Errno expected)
    {
        VcpuRegisterFile vcpu = psci02 ? NewVcpu(NormalVm(), KvmVcpuFeature.Psci02) : NewVcpu(NormalVm());

        Assert.Equal(expected, Set64(vcpu, ArmRegisterId.PsciVersion, version).Error);
    }

    [Fact]
    public void RegisterList_OnRealm_IsCoreRegistersThenTheTwoSysregs()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);

        IReadOnlyList<ulong> ids = vcpu.RegisterList();

        Assert.Equal(CoreIds(withVregs: true).Append(ArmRegisterId.IdAa64Dfr0El1).Append(ArmRegisterId.PmcrEl0), ids);
        Assert.Equal(77, ids.Count);
    }

    [Fact]
    public void RegisterList_OnSveRealm_HasSveVlsButNoVregsOrZregs()
    {
        VcpuRegisterFile vcpu = RealmVcpu(AllRealmFeatures);

        IReadOnlyList<ulong> ids = vcpu.RegisterList();

        Assert.Equal(CoreIds(withVregs: false).Append(ArmRegisterId.SveVls).Append(ArmRegisterId.IdAa64Dfr0El1).Append(ArmRegisterId.PmcrEl0), ids);
        Assert.DoesNotContain(ids, id => ArmRegisterId.Coproc(id) == ArmRegisterId.Sve && id != ArmRegisterId.SveVls);
    }

    [Fact]
    public void RegisterList_OnRealmWithoutPmu_OmitsPmcr()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02);

        Assert.Equal(CoreIds(withVregs: true).Append(ArmRegisterId.IdAa64Dfr0El1), vcpu.RegisterList());
    }

    [Fact]
    public void RegisterList_OnRealm_HasNoFirmwareDemuxOrTimerRegisters()
    {
        IReadOnlyList<ulong> ids = RealmVcpu(AllRealmFeatures).RegisterList();

        Assert.DoesNotContain(ids, id => ArmRegisterId.Coproc(id) is ArmRegisterId.Firmware or ArmRegisterId.FirmwareFeatureBitmap or ArmRegisterId.Demux);
        Assert.DoesNotContain(ArmRegisterId.SysRegId(3, 3, 14, 3, 1), ids);
    }

    [Fact]
    public void RegisterList_OnNormalVm_AddsThePsciVersion()
    {
        VcpuRegisterFile vcpu = NewVcpu(NormalVm(), KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);

        Assert.Equal(CoreIds(withVregs: true).Append(ArmRegisterId.PsciVersion).Append(ArmRegisterId.IdAa64Dfr0El1).Append(ArmRegisterId.PmcrEl0), vcpu.RegisterList());
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(1UL)]
    [InlineData(76UL)]
    public void CopyRegList_WithTooSmallN_ReturnsE2bigAndTheNeededCount(ulong n)
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);
        ulong[] indices = new ulong[100];

        KvmResult r = vcpu.CopyRegList(ref n, indices);

        Assert.Equal(Errno.E2BIG, r.Error);
        Assert.Equal(77UL, n);
        Assert.All(indices, i => Assert.Equal(0UL, i));
    }

    [Theory]
    [InlineData(77UL)]
    [InlineData(500UL)]
    public void CopyRegList_WithEnoughRoom_CopiesTheListAndSetsN(ulong n)
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);
        ulong[] indices = new ulong[100];

        KvmResult r = vcpu.CopyRegList(ref n, indices);

        Assert.True(r.IsSuccess);
        Assert.Equal(77UL, n);
        Assert.Equal(vcpu.RegisterList(), indices.Take(77));
    }

    [Fact]
    public void CopyRegList_OnUnfinalisedSveVcpu_ReturnsEpermAndLeavesN()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Sve);
        ulong n = 3;

        KvmResult r = vcpu.CopyRegList(ref n, new ulong[100]);

        Assert.Equal(Errno.EPERM, r.Error);
        Assert.Equal(3UL, n);
    }

    [Fact]
    public void CopyRegList_IntoAShortUserArray_ReturnsEfault()
    {
        VcpuRegisterFile vcpu = RealmVcpu(KvmVcpuFeature.Psci02);
        ulong n = 1000;

        Assert.Equal(Errno.EFAULT, vcpu.CopyRegList(ref n, new ulong[10]).Error);
    }

    [Fact]
    public void ResetValues_AreZeroExceptPstate()
    {
        VcpuRegisterFile vcpu = NewVcpu(NormalVm(), KvmVcpuFeature.Psci02);

        foreach (ulong id in vcpu.RegisterList().Where(id => ArmRegisterId.Coproc(id) == ArmRegisterId.Core && id != ArmRegisterId.Pstate))
        {
            byte[] value = Buffer(id);
            Assert.True(vcpu.GetOneReg(id, value).IsSuccess);
            Assert.All(value, b => Assert.Equal(0, b));
        }

        Assert.Equal(0x3C5UL, BinaryPrimitives.ReadUInt64LittleEndian(GetBytes(vcpu, ArmRegisterId.Pstate)));
    }

    private static byte[] GetBytes(VcpuRegisterFile vcpu, ulong id)
    {
        byte[] b = Buffer(id);
        Assert.True(vcpu.GetOneReg(id, b).IsSuccess);
        return b;
    }

    private static IEnumerable<ulong> CoreIds(bool withVregs)
    {
        for (int n = 0; n <= 30; n++)
        {
            yield return ArmRegisterId.X(n);
        }

        yield return ArmRegisterId.Sp;
        yield return ArmRegisterId.Pc;
        yield return ArmRegisterId.Pstate;
        yield return ArmRegisterId.SpEl1;
        yield return ArmRegisterId.ElrEl1;
        for (int i = 0; i < CoreOffset.SpsrCount; i++)
        {
            yield return ArmRegisterId.Spsr(i);
        }

        if (withVregs)
        {
            for (int n = 0; n < 32; n++)
            {
                yield return ArmRegisterId.V(n);
            }
        }

        yield return ArmRegisterId.Fpsr;
        yield return ArmRegisterId.Fpcr;
    }
}
