using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Rmm.Granules;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>Teardown on the last close (kvm-realm-abi.md §2.17) and guest_memfd punch-hole invalidation (§4.1, §2.12).</summary>
public sealed class RealmTeardownTests
{
    private const ulong Page = RealmProbe.Page;
    private const ulong Ram = RealmVmm.RamBase;

    public enum TeardownCase
    {
        None,
        New,
        Active,
        DeadWithoutIrqchip,
        DeadWithOneRecCreated,
    }

    [Theory]
    [InlineData(TeardownCase.None, false)]
    [InlineData(TeardownCase.New, false)]
    [InlineData(TeardownCase.Active, false)]
    [InlineData(TeardownCase.DeadWithoutIrqchip, false)]
    [InlineData(TeardownCase.DeadWithOneRecCreated, false)]
    [InlineData(TeardownCase.None, true)]
    [InlineData(TeardownCase.New, true)]
    [InlineData(TeardownCase.Active, true)]
    [InlineData(TeardownCase.DeadWithoutIrqchip, true)]
    [InlineData(TeardownCase.DeadWithOneRecCreated, true)]
    public void ClosingEveryFd_ReturnsEveryGranuleToNonSecure_AndFreesTheVmid(TeardownCase state, bool vmFdFirst)
    {
        var bed = new KvmTestBed();
        long freeBefore = bed.Kvm.Pages.FreePages;
        var vmm = new RealmVmm(bed, vcpus: 2, irqchip: state != TeardownCase.DeadWithoutIrqchip, initialisedVcpus: state == TeardownCase.DeadWithOneRecCreated ? 1 : 2);
        RealmState expected = Prepare(bed, vmm, state);
        Assert.Equal(expected, vmm.Vm.Realm!.State);
        Assert.Equal(state == TeardownCase.None, !bed.Platform.Gpt.NonSecureExceptions().Any());
        var vm = vmm.Vm;

        if (vmFdFirst)
        {
            Assert.Equal(0, bed.Kvm.Close(vmm.VmFd).ReturnValue);
            vmm.VcpuFds.ForEach(fd => Assert.Equal(0, bed.Kvm.Close(fd).ReturnValue));
            if (vmm.GicFd != 0)
            {
                Assert.Equal(0, bed.Kvm.Close(vmm.GicFd).ReturnValue);
            }

            Assert.False(vm.IsDestroyed);
            Assert.Equal(0, bed.Kvm.Close(vmm.GmemFd).ReturnValue);
            Assert.Equal(0, bed.Kvm.Process.Munmap(vmm.Uaddr).ReturnValue);
        }
        else
        {
            vmm.Close();
        }

        Assert.True(vm.IsDestroyed);
        bed.AssertNoLeaks();
        Assert.Equal(freeBefore, bed.Kvm.Pages.FreePages);
    }

    [Fact]
    public void ClosingTheVmFd_WhileTheGuestMemfdIsOpen_KeepsTheVmAlive()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Populate(Ram, 2 * Page);
        RealmProbe.RunToIdle(vmm);
        var vm = vmm.Vm;
        GuestMemfdFile gmem = bed.Kvm.GuestMemfdOf(vmm.GmemFd)!;

        vmm.VcpuFds.ForEach(fd => Assert.Equal(0, bed.Kvm.Close(fd).ReturnValue));
        Assert.Equal(0, bed.Kvm.Close(vmm.GicFd).ReturnValue);
        Assert.Equal(0, bed.Kvm.Close(vmm.VmFd).ReturnValue);

        Assert.False(vm.IsDestroyed);
        Assert.Equal(RealmState.Active, vm.Realm!.State);
        Assert.Equal(1, bed.Kvm.Vmids.InUse);
        Assert.Equal(2, vm.Realm.PrivatePageCount);
        Assert.True(gmem.Fallocate(FallocateMode.KeepSize | FallocateMode.PunchHole, 0, (long)Page).IsSuccess);
        Assert.Equal(1, vm.Realm.PrivatePageCount);
        Assert.Equal(0, bed.Kvm.Close(vmm.GmemFd).ReturnValue);
        Assert.True(vm.IsDestroyed);
        Assert.Equal(RealmState.Dead, vm.Realm.State);
        Assert.Equal(0, bed.Kvm.Process.Munmap(vmm.Uaddr).ReturnValue);
        bed.AssertNoLeaks();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void TheVgicDeviceFd_HoldsTheVm_TheRealmLivesUntilItIsClosed(bool activated)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Populate(Ram, 2 * Page);
        if (activated)
        {
            RealmProbe.RunToIdle(vmm);
        }

        var vm = vmm.Vm;
        RealmState state = vm.Realm!.State;
        ulong rd = vm.Realm.Rd;

        // Releasing the guest_memfd may give its private pages back (kvm_gmem_release); the realm itself must stay.
        Assert.Equal(0, bed.Kvm.Close(vmm.GmemFd).ReturnValue);
        var realmGranules = bed.Platform.Gpt.NonSecureExceptions().Select(e => e.Pa).ToList();
        vmm.VcpuFds.ForEach(fd => Assert.Equal(0, bed.Kvm.Close(fd).ReturnValue));
        Assert.Equal(0, bed.Kvm.Close(vmm.VmFd).ReturnValue);
        Assert.Equal(0, bed.Kvm.Process.Munmap(vmm.Uaddr).ReturnValue);

        // kvm_ioctl_create_device took a reference for the device fd: nothing is torn down yet.
        Assert.False(vm.IsDestroyed);
        Assert.Equal(state, vm.Realm.State);
        Assert.Equal(GranuleState.Rd, bed.Rmm.GranuleStateOf(rd));
        Assert.Equal(1, bed.Kvm.Vmids.InUse);
        Assert.Equal(1, bed.Rmm.VmidsInUse);
        Assert.Equal(realmGranules, bed.Platform.Gpt.NonSecureExceptions().Select(e => e.Pa));
        Assert.All(realmGranules, pa => Assert.NotEqual(GranuleState.Undelegated, bed.Rmm.GranuleStateOf(pa)));
        Assert.Equal(0, bed.Kvm.HasDeviceAttr(vmm.GicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupCtrl, Attr = KvmVgicAttr.CtrlInit }).ReturnValue);

        Assert.Equal(0, bed.Kvm.Close(vmm.GicFd).ReturnValue);

        Assert.True(vm.IsDestroyed);
        Assert.Equal(Errno.EBADF, bed.Kvm.HasDeviceAttr(vmm.GicFd, default).Error);
        bed.AssertNoLeaks();
    }

    [Fact]
    public void PunchHole_OnPopulatedPage_DestroysItAndReturnsTheGranuleToNonSecure()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Stage(Ram, Enumerable.Repeat((byte)0xA5, (int)(2 * Page)).ToArray());
        vmm.Populate(Ram, 2 * Page);
        ulong pa = RealmProbe.ReadEntry(bed, vmm, Ram).Address;
        Assert.Equal(GranuleState.Data, bed.Rmm.GranuleStateOf(pa));

        Assert.True(RealmProbe.Fallocate(vmm, FallocateMode.KeepSize | FallocateMode.PunchHole, 0, Page).IsSuccess);

        Assert.Equal(Pas.NonSecure, bed.Platform.Gpt[pa]);
        Assert.Equal(GranuleState.Undelegated, bed.Rmm.GranuleStateOf(pa));
        Assert.False(vmm.Vm.Realm!.IsPrivateMapped(Ram >> 12));
        Assert.True(vmm.Vm.Realm.IsPrivateMapped((Ram >> 12) + 1));
        Assert.Equal(GmemPageState.Absent, bed.Kvm.GuestMemfdOf(vmm.GmemFd)!.GetPageState(0));

        // RMM 1.0: DATA_DESTROY of a RAM page leaves it DESTROYED; INIT_RIPAS skips it (§2.7) and the guest must
        // accept it again (RSI_IPA_STATE_SET with CHANGE_DESTROYED) before it can touch it.
        Assert.Equal(RmiRipas.Destroyed, RealmProbe.RipasOf(bed, vmm, Ram));
        RealmProbe.RunToIdle(vmm);
        Assert.Equal(RmiRipas.Destroyed, RealmProbe.RipasOf(bed, vmm, Ram));
        ExpectZeroAfterReaccepting(bed, vmm, Ram, 0xA5A5_A5A5_A5A5_A5A5);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void AccessToADestroyedPage_WithoutReaccepting_EndsKvmRunWithEintrInsteadOfSpinning()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Populate(Ram, Page);
        RealmProbe.RunToIdle(vmm);
        Assert.True(RealmProbe.Fallocate(vmm, FallocateMode.KeepSize | FallocateMode.PunchHole, 0, Page).IsSuccess);
        List<(ulong Ipa, ulong Value, RealmFault Fault)> reads = RealmProbe.RecordReads(bed.Script);
        bed.Script.EnqueueRead(Ram, 8, 2);
        int entries = bed.Engine.Entries.Count;

        Assert.Equal(Errno.EINTR, vmm.RunVcpu().Error);

        // The first fault maps a zeroed page (still DESTROYED); every later one finds it mapped and cannot help.
        Assert.Equal(KvmExitReason.Intr, vmm.Run(0).ExitReason);
        Assert.Empty(reads);
        Assert.Equal(RmiRipas.Destroyed, RealmProbe.RipasOf(bed, vmm, Ram));
        Assert.Equal(RmiRttState.Assigned, RealmProbe.ReadEntry(bed, vmm, Ram).State);
        Assert.Equal(1 + CcaSim.Kvm.Run.RealmRunLoop.MaxSpinningFaults, bed.Engine.Entries.Count - entries);
        Assert.Equal(Errno.EINTR, vmm.RunVcpu().Error);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void PunchHole_OnFaultedPage_DestroysIt_AndTheGuestReadsZeroAfterReaccepting()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        ulong gpa = Ram + (3 * Page);
        bed.Script.EnqueueWrite(gpa, 8, 1, 0x1122_3344_5566_7788);
        RealmProbe.RunToIdle(vmm);
        ulong pa = RealmProbe.ReadEntry(bed, vmm, gpa).Address;
        Assert.Equal(GranuleState.Data, bed.Rmm.GranuleStateOf(pa));

        Assert.True(RealmProbe.Fallocate(vmm, FallocateMode.KeepSize | FallocateMode.PunchHole, 3 * Page, Page).IsSuccess);

        Assert.Equal(Pas.NonSecure, bed.Platform.Gpt[pa]);
        Assert.Equal(GranuleState.Undelegated, bed.Rmm.GranuleStateOf(pa));
        Assert.Equal(RmiRttState.Unassigned, RealmProbe.ReadEntry(bed, vmm, gpa).State);
        Assert.Equal(0, bed.Kvm.GuestMemfdOf(vmm.GmemFd)!.BackedPages);
        ExpectZeroAfterReaccepting(bed, vmm, gpa, 0x1122_3344_5566_7788);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    /// <summary>The guest re-accepts a destroyed page (a RIPAS change exit the VMM acknowledges by re-running) and reads it.</summary>
    private static void ExpectZeroAfterReaccepting(KvmTestBed bed, RealmVmm vmm, ulong gpa, ulong old)
    {
        List<(ulong Ipa, ulong Value, RealmFault Fault)> reads = RealmProbe.RecordReads(bed.Script);
        RealmProbe.EnqueueIpaStateSet(bed.Script, gpa, gpa + Page, RmiRipas.Ram);
        bed.Script.EnqueueRead(gpa, 8, 2);

        Assert.Equal(Errno.EFAULT, vmm.RunVcpu().Error);
        Assert.Equal(KvmExitReason.MemoryFault, vmm.Run(0).ExitReason);
        Assert.Equal(KvmMemoryExitFlag.Private, vmm.Run(0).MemoryFault.Flags);
        RealmProbe.RunToIdle(vmm);

        (ulong ipa, ulong value, RealmFault fault) = Assert.Single(reads);
        Assert.Equal(gpa, ipa);
        Assert.Equal(RealmFault.None, fault);
        Assert.NotEqual(old, value);
        Assert.Equal(0UL, value);
    }

    private static RealmState Prepare(KvmTestBed bed, RealmVmm vmm, TeardownCase state)
    {
        switch (state)
        {
            case TeardownCase.None:
                return RealmState.None;
            case TeardownCase.New:
                vmm.Populate(Ram, 4 * Page);
                return RealmState.New;
            case TeardownCase.Active:
                vmm.Populate(Ram, 4 * Page);
                vmm.SetPrivate(Ram + (8 * Page), Page, false);
                bed.Script.EnqueueWrite(Ram + (5 * Page), 8, 1, 42);
                bed.Script.EnqueueWrite(Ram + (4 * Page) + (2UL << 20), 4, 1, 43);
                bed.Script.EnqueueWrite((Ram + (8 * Page)) | vmm.Vm.Realm!.SharedBit, 8, 1, 44);
                RealmProbe.RunToIdle(vmm);
                Assert.Equal(6, vmm.Vm.Realm.PrivatePageCount);
                Assert.Equal(1, vmm.Vm.Realm.SharedPageCount);
                return RealmState.Active;
            case TeardownCase.DeadWithoutIrqchip:
                vmm.Populate(Ram, Page);
                Assert.Equal(Errno.EOPNOTSUPP, vmm.RunVcpu().Error);
                return RealmState.Dead;
            default:
                // vCPU 1 was created but never initialised: no PSCI 0.2, so its REC is refused after vCPU 0's.
                Assert.Equal(Errno.EINVAL, vmm.RunVcpu().Error);
                Assert.NotEqual(0UL, vmm.Vcpu(0).RecPa);
                return RealmState.Dead;
        }
    }
}
