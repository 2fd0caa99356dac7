using System.Buffers.Binary;
using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Tests.Realm;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using CcaSim.Rmm;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>
/// The vCPU register ioctls on KvmHost (kvm-realm-abi.md §2.5, §2.9): KVM_SET/GET_ONE_REG, KVM_GET_REG_LIST and
/// KVM_ARM_VCPU_FINALIZE through VMM memory, and the realm parameters the RD takes from those registers.
/// </summary>
public sealed class VcpuRegisterIoctlTests
{
    private const ulong Page = 4096;
    private const ulong Ram = RealmVmm.RamBase;

    /// <summary>RMM limits with room below them: 6 breakpoints, 4 watchpoints, 31 PMU counters, SVE up to VQ 4.</summary>
    private static RmmConfig RoomyRmm => new()
    {
        Features = FeatureRegister0.ReferenceHostBuild with { NumBps = 5, NumWps = 3, SveEnabled = true, SveVl = 3 },
    };

    private static uint Features(params int[] features) => features.Aggregate(0u, (w, f) => w | KvmVcpuFeature.Bit(f));

    [Fact]
    public void RegisterIoctls_BeforeVcpuInit_ReturnEnoexec()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, initialisedVcpus: 0);
        int fd = vmm.VcpuFds[0];
        ulong scratch = (ulong)bed.Kvm.Process.Mmap(Page).ReturnValue;

        Assert.Equal(Errno.ENOEXEC, bed.Kvm.SetOneReg(fd, new KvmOneReg { Id = ArmRegisterId.Pc, Addr = scratch }).Error);
        Assert.Equal(Errno.ENOEXEC, bed.Kvm.GetOneReg(fd, new KvmOneReg { Id = ArmRegisterId.Pc, Addr = scratch }).Error);
        Assert.Equal(Errno.ENOEXEC, bed.Kvm.GetRegList(fd, scratch).Error);
        Assert.Equal(Errno.ENOEXEC, bed.Kvm.ArmVcpuFinalize(fd, KvmVcpuFeature.Sve).Error);
        Assert.Equal(Errno.ENOEXEC, bed.Kvm.Run(fd).Error);

        Assert.Equal(0, bed.Kvm.Process.Munmap(scratch).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    public static TheoryData<string, ulong, Errno> RealmSetRules => new()
    {
        { "X0", ArmRegisterId.X(0), Errno.None },
        { "X30", ArmRegisterId.X(30), Errno.None },
        { "PC", ArmRegisterId.Pc, Errno.None },
        { "SP", ArmRegisterId.Sp, Errno.EINVAL },
        { "PSTATE", ArmRegisterId.Pstate, Errno.EINVAL },
        { "SP_EL1", ArmRegisterId.SpEl1, Errno.EINVAL },
        { "ELR_EL1", ArmRegisterId.ElrEl1, Errno.EINVAL },
        { "PSCI_VERSION", ArmRegisterId.PsciVersion, Errno.EINVAL },
        { "sysreg outside the list (MPIDR_EL1)", ArmRegisterId.SysRegId(3, 0, 0, 0, 5), Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(RealmSetRules))]
    public void SetOneReg_OnARealm_AcceptsOnlyGprsPcAndTheConfigurationRegisters(string name, ulong id, Errno expected)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        KvmResult r = vmm.SetReg(0, id, 0x8000_1000);

        Assert.True(expected == r.Error, $"{name}: expected -{expected}, got {r}");
        if (expected == Errno.None)
        {
            Assert.Equal(0x8000_1000UL, vmm.GetReg(0, id));
        }

        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void OneReg_WithAnUnmappedValueAddress_ReturnsEfault_AndChangesNothing()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(3), 77).ReturnValue);
        const ulong Unmapped = 0x1000;

        Assert.Equal(Errno.EFAULT, bed.Kvm.SetOneReg(vmm.VcpuFds[0], new KvmOneReg { Id = ArmRegisterId.X(3), Addr = Unmapped }).Error);
        Assert.Equal(Errno.EFAULT, bed.Kvm.GetOneReg(vmm.VcpuFds[0], new KvmOneReg { Id = ArmRegisterId.X(3), Addr = Unmapped }).Error);

        Assert.Equal(77UL, vmm.GetReg(0, ArmRegisterId.X(3)));
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Theory]
    [InlineData(false, 76)]
    [InlineData(true, 77)]
    public void GetRegList_ReportsTheCountWithE2big_ThenListsTheRealmRegisters(bool pmu, int count)
    {
        var bed = new KvmTestBed();
        uint features = pmu ? Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3) : Features(KvmVcpuFeature.Psci02);
        var vmm = new RealmVmm(bed, vcpuFeatures: features);
        ulong list = (ulong)bed.Kvm.Process.Mmap(Page).ReturnValue;

        Assert.Equal(Errno.E2BIG, bed.Kvm.GetRegList(vmm.VcpuFds[0], list).Error);
        ulong n = ReadU64(bed, list);
        Assert.Equal((ulong)count, n);
        Assert.Equal(0, bed.Kvm.GetRegList(vmm.VcpuFds[0], list).ReturnValue);

        ulong[] ids = [.. Enumerable.Range(0, count).Select(i => ReadU64(bed, list + 8 + ((ulong)i * 8)))];
        Assert.Equal(ArmRegisterId.X(0), ids[0]);
        Assert.Contains(ArmRegisterId.Pc, ids);
        Assert.Contains(ArmRegisterId.IdAa64Dfr0El1, ids);
        Assert.Equal(pmu, ids.Contains(ArmRegisterId.PmcrEl0));
        Assert.DoesNotContain(ArmRegisterId.PsciVersion, ids);
        Assert.DoesNotContain(ArmRegisterId.SveVls, ids);
        Assert.Equal(0, bed.Kvm.Process.Munmap(list).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void GetRegList_WithAnUnmappedList_ReturnsEfault()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        Assert.Equal(Errno.EFAULT, bed.Kvm.GetRegList(vmm.VcpuFds[0], 0x1000).Error);

        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SveVcpu_BeforeFinalize_RefusesRegListAndRun_ThenRunsWithTheChosenVectorLength()
    {
        var bed = new KvmTestBed(RoomyRmm);
        var vmm = new RealmVmm(bed, vcpuFeatures: Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.Sve));
        int fd = vmm.VcpuFds[0];
        ulong list = (ulong)bed.Kvm.Process.Mmap(Page).ReturnValue;

        Assert.Equal(Errno.EPERM, bed.Kvm.GetRegList(fd, list).Error);
        Assert.Equal(Errno.EPERM, bed.Kvm.Run(fd).Error);
        Assert.Equal(RealmState.None, vmm.Vm.Realm!.State);

        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.SveVls, VcpuTestKit.Vls(1, 2)).ReturnValue);
        Assert.Equal(0, bed.Kvm.ArmVcpuFinalize(fd, KvmVcpuFeature.Sve).ReturnValue);
        Assert.Equal(Errno.EPERM, bed.Kvm.ArmVcpuFinalize(fd, KvmVcpuFeature.Sve).Error);
        Assert.True(bed.Kvm.Process.TryWrite(list, BitConverter.GetBytes(128UL)));
        Assert.Equal(0, bed.Kvm.GetRegList(fd, list).ReturnValue);
        Assert.Equal(45UL, ReadU64(bed, list)); // 43 core registers (no V0–V31 with SVE), SVE_VLS, ID_AA64DFR0_EL1
        RealmProbe.RunToIdle(vmm);

        // sve_vl is VQ − 1 of the largest length the VMM left in KVM_REG_ARM64_SVE_VLS (§2.5).
        var realm = bed.Rmm.RealmAt(vmm.Vm.Realm.Rd)!;
        Assert.True(realm.SveEnabled);
        Assert.Equal(1, realm.SveVl);
        Assert.Equal(0, bed.Kvm.Process.Munmap(list).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_WithAnSveVcpuNotFinalised_ReturnsEinval_AndCreatesNoRealm()
    {
        var bed = new KvmTestBed(RoomyRmm);
        var vmm = new RealmVmm(bed, vcpuFeatures: Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.Sve));
        var args = new KvmArmRmiPopulate { Base = Ram, Size = Page, SourceUaddr = vmm.Uaddr, Flags = KvmArmRmiPopulateFlags.Measure };

        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmRmiPopulate(vmm.VmFd, args).Error);

        Assert.Equal(RealmState.None, vmm.Vm.Realm!.State);
        Assert.Equal(0, bed.Kvm.Vmids.InUse);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void RealmDescriptor_TakesBreakpointsWatchpointsAndPmuCountersFromTheVcpuRegisters()
    {
        var bed = new KvmTestBed(RoomyRmm);
        var vmm = new RealmVmm(bed, vcpuFeatures: Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3));
        ulong dfr0 = vmm.GetReg(0, ArmRegisterId.IdAa64Dfr0El1);
        Assert.Equal(5, IdAa64Dfr0.Brps(dfr0));
        Assert.Equal(3, IdAa64Dfr0.Wrps(dfr0));

        ulong lowered = IdAa64Dfr0.With(IdAa64Dfr0.With(IdAa64Dfr0.With(dfr0, IdAa64Dfr0.BrpsShift, 2), IdAa64Dfr0.WrpsShift, 1), IdAa64Dfr0.CtxCmpsShift, 1);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.IdAa64Dfr0El1, lowered).ReturnValue);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.PmcrEl0, 4UL << VcpuRegisterFile.PmcrNShift).ReturnValue);
        vmm.Populate(Ram, Page);

        var realm = bed.Rmm.RealmAt(vmm.Vm.Realm!.Rd)!;
        Assert.Equal(2, realm.NumBps);
        Assert.Equal(1, realm.NumWps);
        Assert.True(realm.PmuEnabled);
        Assert.Equal(4, realm.PmuNumCtrs);
        Assert.False(realm.SveEnabled);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void LateConfigWrites_AfterTheRealmDescriptorExists_AreRefusedOrIgnored()
    {
        var bed = new KvmTestBed(RoomyRmm);
        var vmm = new RealmVmm(bed, vcpuFeatures: Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3));
        vmm.Populate(Ram, Page);
        ulong dfr0 = vmm.GetReg(0, ArmRegisterId.IdAa64Dfr0El1);
        ulong pmcr = vmm.GetReg(0, ArmRegisterId.PmcrEl0);

        Assert.Equal(Errno.EBUSY, vmm.SetReg(0, ArmRegisterId.IdAa64Dfr0El1, IdAa64Dfr0.With(dfr0, IdAa64Dfr0.BrpsShift, 1)).Error);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.IdAa64Dfr0El1, dfr0).ReturnValue);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.PmcrEl0, 2UL << VcpuRegisterFile.PmcrNShift).ReturnValue);

        Assert.Equal(dfr0, vmm.GetReg(0, ArmRegisterId.IdAa64Dfr0El1));
        Assert.Equal(pmcr & VcpuRegisterFile.PmcrNMask, vmm.GetReg(0, ArmRegisterId.PmcrEl0) & VcpuRegisterFile.PmcrNMask);
        Assert.Equal(31, bed.Rmm.RealmAt(vmm.Vm.Realm!.Rd)!.PmuNumCtrs);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SveVls_AfterTheRealmDescriptorExists_ReturnsEperm()
    {
        var bed = new KvmTestBed(RoomyRmm);
        var vmm = new RealmVmm(bed, vcpuFeatures: Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.Sve));
        Assert.Equal(0, bed.Kvm.ArmVcpuFinalize(vmm.VcpuFds[0], KvmVcpuFeature.Sve).ReturnValue);
        vmm.Populate(Ram, Page);

        Assert.Equal(Errno.EPERM, vmm.SetReg(0, ArmRegisterId.SveVls, VcpuTestKit.Vls(1)).Error);

        Assert.Equal(3, bed.Rmm.RealmAt(vmm.Vm.Realm!.Rd)!.SveVl);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void ArmVcpuInit_OfASecondVcpuWithOtherFeatures_ReturnsEinval_BecauseTheSetIsVmWide()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, vcpus: 2, initialisedVcpus: 1, irqchip: false);
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        init.Features[0] = Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.PmuV3);

        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmVcpuInit(vmm.VcpuFds[1], init).Error);

        init.Features[0] = Features(KvmVcpuFeature.Psci02, KvmVcpuFeature.PowerOff);
        Assert.Equal(0, bed.Kvm.ArmVcpuInit(vmm.VcpuFds[1], init).ReturnValue);
        Assert.True(vmm.Vcpu(1).IsPoweredOff);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void GetRegWritableMasks_ReportsTheDebugFieldsOfIdAa64Dfr0_AndZeroEverywhereElse()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        ulong masks = (ulong)bed.Kvm.Process.Mmap(2 * Page).ReturnValue;
        Assert.True(bed.Kvm.Process.TryWrite(masks, Enumerable.Repeat((byte)0xFF, (int)(2 * Page)).ToArray()));

        Assert.Equal(0, bed.Kvm.ArmGetRegWritableMasks(vmm.VmFd, new KvmRegMaskRange { Addr = masks }).ReturnValue);

        ulong[] got = [.. Enumerable.Range(0, KvmArmFeatureIdRange.Size).Select(i => ReadU64(bed, masks + ((ulong)i * 8)))];
        int dfr0 = KvmArmFeatureIdRange.Index(op1: 0, crm: 5, op2: 0);
        Assert.Equal(0xF0F0_FF0FUL, got[dfr0]); // DebugVer, PMUVer, BRPs, WRPs, CTX_CMPs
        Assert.All(got.Where((_, i) => i != dfr0), m => Assert.Equal(0UL, m));
        Assert.Equal(ulong.MaxValue, ReadU64(bed, masks + (KvmArmFeatureIdRange.Size * 8)));
        Assert.Equal(0, bed.Kvm.Process.Munmap(masks).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void GetRegWritableMasks_WithAnotherRangeOrReservedBits_ReturnsEinval_AndUnmappedReturnsEfault()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        ulong masks = (ulong)bed.Kvm.Process.Mmap(2 * Page).ReturnValue;
        var reserved = new KvmRegMaskRange { Addr = masks };
        reserved.Reserved[12] = 1;

        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmGetRegWritableMasks(vmm.VmFd, new KvmRegMaskRange { Addr = masks, Range = 1 }).Error);
        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmGetRegWritableMasks(vmm.VmFd, reserved).Error);
        Assert.Equal(Errno.EFAULT, bed.Kvm.ArmGetRegWritableMasks(vmm.VmFd, new KvmRegMaskRange { Addr = 0x1000 }).Error);
        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmGetRegWritableMasks(vmm.VcpuFds[0], new KvmRegMaskRange { Addr = masks }).Error);

        Assert.Equal(0, bed.Kvm.Process.Munmap(masks).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SetCounterOffset_OnARealm_ReturnsEinval()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmSetCounterOffset(vmm.VmFd, new KvmArmCounterOffset { CounterOffset = 1000 }).Error);

        Assert.Equal(0UL, bed.Kvm.VmOf(vmm.VmFd)!.CounterOffset);
        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmSetCounterOffset(vmm.VcpuFds[0], default).Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SetCounterOffset_OnANormalVm_RecordsIt_UnlessReservedIsSet()
    {
        var bed = new KvmTestBed();
        int vm = (int)bed.Kvm.CreateVm(bed.KvmFd, 0).ReturnValue;

        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmSetCounterOffset(vm, new KvmArmCounterOffset { CounterOffset = 5, Reserved = 1 }).Error);
        Assert.Equal(0UL, bed.Kvm.VmOf(vm)!.CounterOffset);
        Assert.Equal(0, bed.Kvm.ArmSetCounterOffset(vm, new KvmArmCounterOffset { CounterOffset = 5 }).ReturnValue);
        Assert.Equal(5UL, bed.Kvm.VmOf(vm)!.CounterOffset);

        Assert.Equal(0, bed.Kvm.Close(vm).ReturnValue);
        Assert.Equal(Errno.EBADF, bed.Kvm.ArmSetCounterOffset(vm, default).Error);
        bed.AssertNoLeaks();
    }

    [Fact]
    public void PreferredTarget_IsGenericV8WithoutFeatures_AndInitAcceptsIt()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, initialisedVcpus: 0, irqchip: false);

        Assert.Equal(0, bed.Kvm.ArmPreferredTarget(vmm.VmFd, out KvmVcpuInit init).ReturnValue);

        Assert.Equal(KvmArmTarget.GenericV8, init.Target);
        Assert.Equal(0u, init.Features[0]);
        init.Features[0] = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02);
        Assert.Equal(0, bed.Kvm.ArmVcpuInit(vmm.VcpuFds[0], init).ReturnValue);
        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmPreferredTarget(vmm.VcpuFds[0], out _).Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void GetVcpuEvents_OnARealmVcpu_ReportsNothingPending_EvenAfterAnSeaWasQueued()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        bed.Script.EnqueueRead((1UL << 32) | 0x0900_0000, 4, 5);
        Assert.Equal(0, vmm.RunVcpu().ReturnValue);

        // v12 takes an SEA only in place of an MMIO completion already made: a KVM_RUN with immediate_exit makes it.
        vmm.Run(0).ImmediateExit = true;
        Assert.Equal(Errno.EINTR, vmm.RunVcpu().Error);
        Assert.Equal(0, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], new KvmVcpuEvents { ExtDabtPending = 1 }).ReturnValue);

        Assert.Equal(0, bed.Kvm.GetVcpuEvents(vmm.VcpuFds[0], out KvmVcpuEvents events).ReturnValue);

        Assert.Equal(0, events.SerrorPending);
        Assert.Equal(0, events.ExtDabtPending);
        Assert.Equal(Errno.EINVAL, bed.Kvm.GetVcpuEvents(vmm.VmFd, out _).Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    private static ulong ReadU64(KvmTestBed bed, ulong uaddr)
    {
        byte[] b = new byte[8];
        Assert.True(bed.Kvm.Process.TryRead(uaddr, b));
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }
}
