using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>KVM_ARM_RMI_POPULATE in its v12 form (kvm-realm-abi.md §2.6, §4.6), with exact errnos.</summary>
public sealed class RealmPopulateTests
{
    private const ulong Page = RealmProbe.Page;
    private const ulong Ram = RealmVmm.RamBase;

    [Fact]
    public void Populate_OnNormalVm_ReturnsEperm()
    {
        var bed = new KvmTestBed();
        int vm = (int)bed.Kvm.CreateVm(bed.KvmFd, KvmVmType.Make(KvmVmType.ArmNormal, 40)).ReturnValue;

        KvmResult result = bed.Kvm.ArmRmiPopulate(vm, new KvmArmRmiPopulate { Base = Ram, Size = Page });

        Assert.Equal(Errno.EPERM, result.Error);
        Assert.Equal(0, bed.Kvm.Close(vm).ReturnValue);
        bed.AssertNoLeaks();
    }

    public static TheoryData<ulong, ulong, uint, uint> MalformedArguments() => new()
    {
        { Ram, Page, KvmArmRmiPopulateFlags.Measure, 1 },            // reserved ≠ 0
        { Ram, Page, 1u << 1, 0 },                                  // unknown flag bit
        { Ram, Page, 1u << 31, 0 },
        { Ram + 0x800, Page, KvmArmRmiPopulateFlags.Measure, 0 },   // misaligned base
        { Ram, 0x100, KvmArmRmiPopulateFlags.Measure, 0 },          // misaligned base + size
        { Ram + 0x800, Page + 0x800, 0, 0 },                        // base misaligned although base + size is aligned
    };

    [Theory]
    [MemberData(nameof(MalformedArguments))]
    public void Populate_WithMalformedArguments_ReturnsEinval_AndCreatesNoRealmDescriptor(ulong gpa, ulong size, uint flags, uint reserved)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        KvmResult result = RealmProbe.Populate(vmm, gpa, size, flags: flags, reserved: reserved);

        Assert.Equal(Errno.EINVAL, result.Error);
        Assert.Equal(RealmState.None, vmm.Vm.Realm!.State);
        Assert.Equal(0, bed.Kvm.Vmids.InUse);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void FirstPopulate_CreatesTheRealmDescriptor_InStateNew_WithAVmid()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        KvmRealm realm = vmm.Vm.Realm!;
        Assert.Equal(RealmState.None, realm.State);

        KvmResult result = RealmProbe.Populate(vmm, Ram, Page);

        Assert.Equal((long)Page, result.ReturnValue);
        Assert.Equal(RealmState.New, realm.State);
        Assert.Equal(0, realm.Vmid);
        Assert.NotEqual(0UL, realm.Rd);
        Assert.Equal(1, bed.Kvm.Vmids.InUse);
        Assert.Equal(1, bed.Rmm.VmidsInUse);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_OfSharedRange_ReturnsEinval_AfterCreatingTheRealm()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, attributes: false);

        KvmResult result = RealmProbe.Populate(vmm, Ram, Page);

        // realm_ensure_created runs before kvm_gmem_populate looks at attributes (§2.6).
        Assert.Equal(Errno.EINVAL, result.Error);
        Assert.Equal(RealmState.New, vmm.Vm.Realm!.State);
        Assert.Equal(0, vmm.Vm.Realm.PrivatePageCount);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_WhenOnlyALaterPageIsShared_ReturnsTheBytesDoneBeforeIt()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.SetPrivate(Ram + (2 * Page), Page, false);

        KvmResult result = RealmProbe.Populate(vmm, Ram, 4 * Page);

        Assert.Equal((long)(2 * Page), result.ReturnValue);
        Assert.Equal(2, vmm.Vm.Realm!.PrivatePageCount);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_OutsideEveryMemslot_ReturnsEinval()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.SetPrivate(Ram + vmm.RamSize, Page, true);

        KvmResult result = RealmProbe.Populate(vmm, Ram + vmm.RamSize, Page, source: vmm.Uaddr);

        Assert.Equal(Errno.EINVAL, result.Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_InAMemslotWithoutGuestMemfd_ReturnsEinval()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        const ulong gpa = 0x4000_0000;
        ulong uaddr = (ulong)bed.Kvm.Process.Mmap(Page).ReturnValue;
        var slot = new KvmUserspaceMemoryRegion2 { Slot = 1, GuestPhysAddr = gpa, MemorySize = Page, UserspaceAddr = uaddr };
        Assert.Equal(0, bed.Kvm.SetUserMemoryRegion2(vmm.VmFd, slot).ReturnValue);
        vmm.SetPrivate(gpa, Page, true);

        KvmResult result = RealmProbe.Populate(vmm, gpa, Page, source: uaddr);

        Assert.Equal(Errno.EINVAL, result.Error);
        vmm.Close();
        Assert.Equal(0, bed.Kvm.Process.Munmap(uaddr).ReturnValue);
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_PastTheSlotEnd_IsClippedAndReturnsThePartialByteCount()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, ramSize: 8 * Page);
        vmm.SetPrivate(Ram + (8 * Page), 4 * Page, true);
        ulong staging = (ulong)bed.Kvm.Process.Mmap(8 * Page).ReturnValue;

        KvmResult result = RealmProbe.Populate(vmm, Ram + (6 * Page), 8 * Page, source: staging);

        Assert.Equal((long)(2 * Page), result.ReturnValue);
        Assert.Equal(2, vmm.Vm.Realm!.PrivatePageCount);
        vmm.Close();
        Assert.Equal(0, bed.Kvm.Process.Munmap(staging).ReturnValue);
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_OfAnAlreadyPopulatedPage_ReturnsEexist()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Populate(Ram, Page);

        KvmResult again = RealmProbe.Populate(vmm, Ram, Page);

        Assert.Equal(Errno.EEXIST, again.Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_RunningIntoAPopulatedPage_ReturnsTheBytesDoneBeforeIt()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Populate(Ram + (3 * Page), Page);

        KvmResult result = RealmProbe.Populate(vmm, Ram, 8 * Page);

        Assert.Equal((long)(3 * Page), result.ReturnValue);
        Assert.Equal(4, vmm.Vm.Realm!.PrivatePageCount);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_AfterActivation_ReturnsEbusy()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Populate(Ram, Page);
        RealmProbe.RunToIdle(vmm);

        KvmResult result = RealmProbe.Populate(vmm, Ram + Page, Page);

        Assert.Equal(Errno.EBUSY, result.Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_OfDeadRealm_ReturnsEnxio()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, irqchip: false);
        Assert.Equal(Errno.EOPNOTSUPP, vmm.RunVcpu().Error);
        Assert.Equal(RealmState.Dead, vmm.Vm.Realm!.State);

        KvmResult result = RealmProbe.Populate(vmm, Ram, Page);

        Assert.Equal(Errno.ENXIO, result.Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Theory]
    [InlineData(KvmArmRmiPopulateFlags.Measure)]
    [InlineData(0u)]
    public void Populate_MeasuredOrNot_CopiesTheSourceIntoRipasRamPages(uint flags)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        byte[] image = [.. Enumerable.Range(0, (int)(2 * Page)).Select(i => (byte)(i * 7))];
        vmm.Stage(Ram, image);

        KvmResult result = RealmProbe.Populate(vmm, Ram, 2 * Page, flags: flags);

        Assert.Equal((long)(2 * Page), result.ReturnValue);
        var seen = new byte[2 * Page];
        Assert.True(bed.Rmm.TryReadRealmMemory(vmm.Vm.Realm!.Rd, Ram, seen));
        Assert.Equal(image, seen);
        Assert.Equal(RmiRipas.Ram, RealmProbe.RipasOf(bed, vmm, Ram));
        Assert.Equal(RmiRttState.Assigned, RealmProbe.ReadEntry(bed, vmm, Ram + Page).State);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_WithMisalignedSourceUaddr_CopiesFromTheStartOfItsPage()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        byte[] image = [.. Enumerable.Range(0, (int)Page).Select(i => (byte)(i + 1))];
        vmm.Stage(Ram, image);

        KvmResult result = RealmProbe.Populate(vmm, Ram, Page, source: vmm.Uaddr + 0x123);

        Assert.Equal((long)Page, result.ReturnValue);
        var seen = new byte[Page];
        Assert.True(bed.Rmm.TryReadRealmMemory(vmm.Vm.Realm!.Rd, Ram, seen));
        Assert.Equal(image, seen);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_FromUnmappedSourceUaddr_ReturnsEfault_AndLeavesThePageUnprepared()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        KvmResult result = RealmProbe.Populate(vmm, Ram, Page, source: 0x1000);

        Assert.Equal(Errno.EFAULT, result.Error);
        GuestMemfdFile gmem = bed.Kvm.GuestMemfdOf(vmm.GmemFd)!;
        Assert.NotEqual(GmemPageState.Prepared, gmem.GetPageState(0));
        Assert.Equal((long)Page, RealmProbe.Populate(vmm, Ram, Page).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Populate_AdvancingByTheReturnedCount_PopulatesAWholeImage()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        vmm.Populate(Ram, 64 * Page);

        Assert.Equal(64, vmm.Vm.Realm!.PrivatePageCount);
        Assert.Equal(64UL, bed.Kvm.GuestMemfdOf(vmm.GmemFd)!.CountPages(GmemPageState.Prepared));
        vmm.Close();
        bed.AssertNoLeaks();
    }
}
