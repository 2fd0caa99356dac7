using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>KVM_ARM_VCPU_INIT and KVM_SET_VCPU_EVENTS on realm vCPUs (kvm-realm-abi.md §2.3, §2.14).</summary>
public sealed class VcpuIoctlTests
{
    [Theory]
    [InlineData(KvmArmTarget.GenericV8, 1u << KvmVcpuFeature.Psci02, 0)]
    [InlineData(KvmArmTarget.GenericV8, 0u, 0)]
    [InlineData(KvmArmTarget.GenericV8, (1u << KvmVcpuFeature.Psci02) | (1u << KvmVcpuFeature.PmuV3), 0)]
    [InlineData(4u, 1u << KvmVcpuFeature.Psci02, (int)Errno.EINVAL)]
    [InlineData(KvmArmTarget.GenericV8, 1u << KvmVcpuFeature.El1Aarch32, (int)Errno.EINVAL)]
    [InlineData(KvmArmTarget.GenericV8, 1u << KvmVcpuFeature.HasEl2, (int)Errno.ENOENT)]
    [InlineData(KvmArmTarget.GenericV8, 1u << 9, (int)Errno.ENOENT)]
    [InlineData(KvmArmTarget.GenericV8, 1u << KvmVcpuFeature.PtrAuthAddress, (int)Errno.EINVAL)]
    [InlineData(KvmArmTarget.GenericV8, 1u << KvmVcpuFeature.Sve, (int)Errno.EINVAL)]
    public void ArmVcpuInit_OnARealm_FollowsTheFeatureRules(uint target, uint features, int errno)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, vcpus: 0, irqchip: false);
        int fd = (int)bed.Kvm.CreateVcpu(vmm.VmFd, 0).ReturnValue;
        var init = new KvmVcpuInit { Target = target };
        init.Features[0] = features;

        Assert.Equal(-errno, bed.Kvm.ArmVcpuInit(fd, init).ReturnValue);

        Assert.Equal(0, bed.Kvm.Close(fd).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void ArmVcpuInit_AgainWithOtherFeatures_ReturnsEinval()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        init.Features[0] = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02) | KvmVcpuFeature.Bit(KvmVcpuFeature.PmuV3);

        Assert.Equal(Errno.EINVAL, bed.Kvm.ArmVcpuInit(vmm.VcpuFds[0], init).Error);

        init.Features[0] = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02);
        Assert.Equal(0, bed.Kvm.ArmVcpuInit(vmm.VcpuFds[0], init).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SetVcpuEvents_ExtDabtWithoutPendingMmio_ReturnsEinval_AndSerrorAlways()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        Assert.Equal(Errno.EINVAL, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], new KvmVcpuEvents { ExtDabtPending = 1 }).Error);
        Assert.Equal(Errno.EINVAL, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], new KvmVcpuEvents { SerrorPending = 1 }).Error);
        Assert.Equal(0, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], default).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SetVcpuEvents_ExtDabtRightAfterAnMmioExit_ReturnsEinval_BecauseKvmHasNotCompletedItYet()
    {
        // v12 checks REC_ENTER_FLAG_EMULATED_MMIO, which only kvm_handle_mmio_return sets, at the next KVM_RUN;
        // handle_rec_exit cleared rec_enter.flags when the MMIO exit came in.
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        bed.Script.EnqueueRead(Device, 4, 5);
        var completed = new List<(ulong[] X, Platform.Execution.RealmFault Fault)>();
        bed.Script.StepCompleted += (step, x, fault) => completed.Add((x, fault));

        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        Assert.Equal(KvmExitReason.Mmio, vmm.Run(0).ExitReason);
        Assert.Equal(Errno.EINVAL, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], new KvmVcpuEvents { ExtDabtPending = 1 }).Error);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(vmm.Run(0).MmioData, 0x77);
        Assert.Equal(Errno.EINTR, vmm.RunVcpu().Error);

        var read = Assert.Single(completed);
        Assert.Equal(Platform.Execution.RealmFault.None, read.Fault);
        Assert.Equal(0x77UL, read.X[5]);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SetVcpuEvents_ExtDabtAfterAnImmediateExitCompletedTheMmio_InjectsAnSeaInsteadOfTheData_AndOnlyOnce()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        bed.Script.EnqueueRead(Device, 4, 5);
        var completed = new List<(ulong[] X, Platform.Execution.RealmFault Fault)>();
        bed.Script.StepCompleted += (step, x, fault) => completed.Add((x, fault));

        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(vmm.Run(0).MmioData, 0x77);
        vmm.Run(0).ImmediateExit = true;
        Assert.Equal(Errno.EINTR, vmm.RunVcpu().Error);
        vmm.Run(0).ImmediateExit = false;
        Assert.Equal(0, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], new KvmVcpuEvents { ExtDabtPending = 1 }).ReturnValue);
        Assert.Equal(Errno.EINVAL, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], new KvmVcpuEvents { ExtDabtPending = 1 }).Error);
        Assert.Equal(Errno.EINTR, vmm.RunVcpu().Error);

        var read = Assert.Single(completed);
        Assert.Equal(Platform.Execution.RealmFault.SynchronousExternalAbort, read.Fault);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    /// <summary>A device IPA in the unprotected half of a 33-bit realm that no memslot covers.</summary>
    private const ulong Device = (1UL << 32) | 0x0900_0000;
}
