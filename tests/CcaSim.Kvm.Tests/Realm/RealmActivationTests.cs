using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>Activation on the first KVM_RUN (kvm-realm-abi.md §2.3, §2.7, §2.8).</summary>
public sealed class RealmActivationTests
{
    private const ulong Page = RealmProbe.Page;
    private const ulong Ram = RealmVmm.RamBase;

    [Fact]
    public void FirstRun_WithoutIrqchip_ReturnsEopnotsupp_AndLeavesTheRealmDead()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, irqchip: false);

        KvmResult run = vmm.RunVcpu();

        Assert.Equal(Errno.EOPNOTSUPP, run.Error);
        Assert.Equal(RealmState.Dead, vmm.Vm.Realm!.State);
        Assert.Empty(bed.Engine.Entries);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void RunAfterFailedActivation_ReturnsEinval_AndNeverEntersTheRealm()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, irqchip: false);
        Assert.Equal(Errno.EOPNOTSUPP, vmm.RunVcpu().Error);

        // A GICv3 cannot be added any more once a vCPU has run (vgic-kvm-device.c).
        var gic = new KvmCreateDevice { Type = (uint)KvmDeviceType.ArmVgicV3 };
        Assert.Equal(Errno.EBUSY, bed.Kvm.CreateDevice(vmm.VmFd, ref gic).Error);

        KvmResult again = vmm.RunVcpu();

        Assert.Equal(Errno.EINVAL, again.Error);
        Assert.Equal(Errno.EINVAL, vmm.RunVcpu().Error);
        Assert.Equal(RealmState.Dead, vmm.Vm.Realm!.State);
        Assert.Empty(bed.Engine.Entries);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void FirstRun_WithVcpusLackingPsci02_ReturnsEinval_AndLeavesTheRealmDead()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, vcpus: 2, vcpuFeatures: 0);

        KvmResult run = vmm.RunVcpu();

        Assert.Equal(Errno.EINVAL, run.Error);
        Assert.Equal(RealmState.Dead, vmm.Vm.Realm!.State);
        Assert.Equal(Errno.EINVAL, vmm.RunVcpu().Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void FirstRun_WithNothingPopulated_CreatesTheRealmDescriptorItself()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        Assert.Equal(RealmState.None, vmm.Vm.Realm!.State);

        RealmProbe.RunToIdle(vmm);

        Assert.Equal(RealmState.Active, vmm.Vm.Realm.State);
        Assert.Equal(0, vmm.Vm.Realm.Vmid);
        Assert.Equal(1, bed.Rmm.VmidsInUse);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void CreateVcpu_AfterTheFirstRun_ReturnsEbusy()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        RealmProbe.RunToIdle(vmm);

        KvmResult created = bed.Kvm.CreateVcpu(vmm.VmFd, 1);

        Assert.Equal(Errno.EBUSY, created.Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SecondVcpuFirstRun_OfDeadRealm_DoesNotRetryActivation()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, vcpus: 2, irqchip: false);
        Assert.Equal(Errno.EOPNOTSUPP, vmm.RunVcpu(0).Error);

        KvmResult run = vmm.RunVcpu(1);

        // realm_ensure_created refuses a DEAD realm (§2.4): the activation is not tried again.
        Assert.Equal(Errno.ENXIO, run.Error);
        Assert.Equal(RealmState.Dead, vmm.Vm.Realm!.State);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Activation_InitRipasCoversEveryGuestMemfdSlot_AndLeavesOtherSlotsEmpty()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, ramSize: 16 * Page);
        const ulong secondGpa = 0x9000_0000;
        const ulong plainGpa = 0x4000_0000;
        int gmem2 = (int)bed.Kvm.CreateGuestMemfd(vmm.VmFd, new KvmCreateGuestMemfd { Size = 8 * Page }).ReturnValue;
        ulong uaddr2 = (ulong)bed.Kvm.Process.Mmap(8 * Page).ReturnValue;
        ulong uaddr3 = (ulong)bed.Kvm.Process.Mmap(4 * Page).ReturnValue;
        Assert.Equal(0, bed.Kvm.SetUserMemoryRegion2(vmm.VmFd, new KvmUserspaceMemoryRegion2
        {
            Slot = 1,
            Flags = (uint)KvmMemoryRegionOptions.GuestMemfd,
            GuestPhysAddr = secondGpa,
            MemorySize = 8 * Page,
            UserspaceAddr = uaddr2,
            GuestMemfd = (uint)gmem2,
        }).ReturnValue);
        Assert.Equal(0, bed.Kvm.SetUserMemoryRegion2(vmm.VmFd, new KvmUserspaceMemoryRegion2
        {
            Slot = 2,
            GuestPhysAddr = plainGpa,
            MemorySize = 4 * Page,
            UserspaceAddr = uaddr3,
        }).ReturnValue);
        vmm.Populate(Ram + (5 * Page), Page);

        RealmProbe.RunToIdle(vmm);

        for (ulong i = 0; i < 16; i++)
        {
            Assert.Equal(RmiRipas.Ram, RealmProbe.RipasOf(bed, vmm, Ram + (i * Page)));
        }

        for (ulong i = 0; i < 8; i++)
        {
            Assert.Equal(RmiRipas.Ram, RealmProbe.RipasOf(bed, vmm, secondGpa + (i * Page)));
        }

        for (ulong i = 0; i < 4; i++)
        {
            Assert.Equal(RmiRipas.Empty, RealmProbe.RipasOf(bed, vmm, plainGpa + (i * Page)));
        }

        // Just outside the slots nothing changed either.
        Assert.Equal(RmiRipas.Empty, RealmProbe.RipasOf(bed, vmm, Ram + (16 * Page)));
        Assert.Equal(RmiRipas.Empty, RealmProbe.RipasOf(bed, vmm, secondGpa + (8 * Page)));
        Assert.Equal(RmiRttState.Assigned, RealmProbe.ReadEntry(bed, vmm, Ram + (5 * Page)).State);
        Assert.Equal(0, bed.Kvm.Close(gmem2).ReturnValue);
        vmm.Close();
        Assert.Equal(0, bed.Kvm.Process.Munmap(uaddr2).ReturnValue);
        Assert.Equal(0, bed.Kvm.Process.Munmap(uaddr3).ReturnValue);
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Activation_CreatesARecPerVcpu_AndOnlyVcpuZeroRunsFirst()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, vcpus: 3);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.Pc, Ram + 0x1000).ReturnValue);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(0), 0xD7B).ReturnValue);

        RealmProbe.RunToIdle(vmm);

        Assert.All(vmm.Vm.Vcpus, v => Assert.NotEqual(0UL, v.RecPa));
        Assert.Equal(3, bed.Rmm.GranuleCount(CcaSim.Rmm.Granules.GranuleState.Rec));
        (ulong mpidr, ulong pc, ulong[] x) = Assert.Single(bed.Engine.Entries);
        Assert.Equal(0UL, mpidr & 0xFF_FFFF);
        Assert.Equal(Ram + 0x1000, pc);
        Assert.Equal(0xD7BUL, x[0]);
        vmm.Close();
        bed.AssertNoLeaks();
    }
}
