using System.Buffers.Binary;
using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Memslots;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Rmm.Granules;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>
/// Realm ports of the selftests of kvm-realm-abi.md §4.5 that need a running guest: private_mem_conversions_test,
/// private_mem_kvm_exits_test and the two-slots-on-one-guest_memfd layout. The x86 tests convert with a hypercall;
/// a realm converts with RSI_IPA_STATE_SET, which reaches the VMM as KVM_EXIT_MEMORY_FAULT (§2.13).
/// </summary>
public sealed class PrivateMemSelftestTests
{
    private const ulong Page = RealmProbe.Page;
    private const ulong Ram = RealmVmm.RamBase;
    private const ulong Punch = (ulong)(FallocateMode.KeepSize | FallocateMode.PunchHole);
    private const ulong Allocate = (ulong)FallocateMode.KeepSize;

    [Fact]
    public void Conversions_DataTheGuestWritesPrivately_NeverReachesTheHost()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        for (ulong i = 0; i < 4; i++)
        {
            bed.Script.EnqueueWrite(Ram + (i * Page), 8, 1, 0xC0DE_0000 + i);
        }

        RealmProbe.RunToIdle(vmm);

        GuestMemfdFile gmem = bed.Kvm.GuestMemfdOf(vmm.GmemFd)!;
        Memslot slot = vmm.Vm.Memslots.Find(Ram >> 12)!;
        for (ulong i = 0; i < 4; i++)
        {
            Assert.Equal(0UL, ReadUser(bed, vmm.Uaddr + (i * Page)));
            Assert.True(gmem.GetPfn(slot.Binding!, (Ram >> 12) + i, forPopulate: false, out ulong pa).IsSuccess);
            Assert.Equal(pa, RealmProbe.ReadEntry(bed, vmm, Ram + (i * Page)).Address);
            Assert.Throws<GranuleProtectionFaultException>(() => bed.Platform.HostMemory.Read64(pa));
        }

        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Conversions_PrivateToSharedAndBack_WithAttributeFlipsPunchAndReallocate()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        ulong shared = vmm.Vm.Realm!.SharedBit;
        List<(ulong Ipa, ulong Value, RealmFault Fault)> reads = RealmProbe.RecordReads(bed.Script);
        for (ulong i = 0; i < 4; i++)
        {
            bed.Script.EnqueueWrite(Ram + (i * Page), 8, 1, 0x9000 + i);
        }

        RealmProbe.RunToIdle(vmm);
        ulong[] privatePas = [.. Enumerable.Range(0, 4).Select(i => RealmProbe.ReadEntry(bed, vmm, Ram + ((ulong)i * Page)).Address)];

        // To shared: the guest asks, the VMM flips the attribute and punches the private backing.
        RealmProbe.EnqueueIpaStateSet(bed.Script, Ram, Ram + (4 * Page), RmiRipas.Empty);
        Assert.Equal(Errno.EFAULT, vmm.RunVcpu().Error);
        Assert.Equal(KvmExitReason.MemoryFault, vmm.Run(0).ExitReason);
        Assert.Equal(new KvmRunMemoryFault { Flags = 0, Gpa = Ram, Size = 4 * Page }, vmm.Run(0).MemoryFault);
        vmm.SetPrivate(Ram, 4 * Page, false);
        Assert.All(privatePas, pa => Assert.Equal(GranuleState.Undelegated, bed.Rmm.GranuleStateOf(pa)));
        Assert.True(RealmProbe.Fallocate(vmm, FallocateMode.KeepSize | FallocateMode.PunchHole, 0, 4 * Page).IsSuccess);
        for (ulong i = 0; i < 4; i++)
        {
            WriteUser(bed, vmm.Uaddr + (i * Page), 0x5A00 + i);
            bed.Script.EnqueueRead((Ram + (i * Page)) | shared, 8, 2);
        }

        bed.Script.EnqueueWrite((Ram + Page) | shared, 8, 1, 0x6E57);
        RealmProbe.RunToIdle(vmm);

        Assert.Equal(RmiRipas.Empty, RealmProbe.RipasOf(bed, vmm, Ram));
        Assert.Equal([0x5A00UL, 0x5A01, 0x5A02, 0x5A03], reads.Select(r => r.Value));
        Assert.Equal(0x6E57UL, ReadUser(bed, vmm.Uaddr + Page));
        Assert.Equal(4, vmm.Vm.Realm.SharedPageCount);

        // Even pages back to private: each its own request; the VMM flips the attribute and re-allocates.
        reads.Clear();
        foreach (ulong i in new ulong[] { 0, 2 })
        {
            ulong gpa = Ram + (i * Page);
            RealmProbe.EnqueueIpaStateSet(bed.Script, gpa, gpa + Page, RmiRipas.Ram);
            Assert.Equal(Errno.EFAULT, vmm.RunVcpu().Error);
            Assert.Equal(new KvmRunMemoryFault { Flags = KvmMemoryExitFlag.Private, Gpa = gpa, Size = Page }, vmm.Run(0).MemoryFault);
            vmm.SetPrivate(gpa, Page, true);
            Assert.Equal(RmiRttState.Unassigned, RealmProbe.ReadEntry(bed, vmm, gpa | shared).State);
            Assert.True(RealmProbe.Fallocate(vmm, FallocateMode.KeepSize, i * Page, Page).IsSuccess);
        }

        for (ulong i = 0; i < 4; i++)
        {
            bed.Script.EnqueueRead(i % 2 == 0 ? Ram + (i * Page) : (Ram + (i * Page)) | shared, 8, 2);
        }

        bed.Script.EnqueueWrite(Ram, 8, 1, 0x5EC2E7);
        RealmProbe.RunToIdle(vmm);

        // Private pages come back zeroed; odd pages kept their host-visible data; the private write stays private.
        Assert.Equal([0UL, 0x6E57, 0, 0x5A03], reads.Select(r => r.Value));
        Assert.All(reads, r => Assert.Equal(RealmFault.None, r.Fault));
        Assert.Equal(RmiRipas.Ram, RealmProbe.RipasOf(bed, vmm, Ram + (2 * Page)));
        Assert.Equal(RmiRipas.Empty, RealmProbe.RipasOf(bed, vmm, Ram + (3 * Page)));
        Assert.Equal(0x5A00UL, ReadUser(bed, vmm.Uaddr));
        Assert.Equal(2, vmm.Vm.Realm.SharedPageCount);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void Conversions_AfterClosingTheVmFd_PunchAndAllocateOnTheGuestMemfdStillSucceed()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        bed.Script.EnqueueWrite(Ram, 8, 1, 1);
        RealmProbe.RunToIdle(vmm);
        vmm.VcpuFds.ForEach(fd => Assert.Equal(0, bed.Kvm.Close(fd).ReturnValue));
        Assert.Equal(0, bed.Kvm.Close(vmm.GicFd).ReturnValue);
        Assert.Equal(0, bed.Kvm.Close(vmm.VmFd).ReturnValue);
        GuestMemfdFile gmem = bed.Kvm.GuestMemfdOf(vmm.GmemFd)!;

        Assert.True(gmem.Fallocate((FallocateMode)Punch, 0, (long)vmm.RamSize).IsSuccess);
        Assert.True(gmem.Fallocate((FallocateMode)Allocate, 0, (long)vmm.RamSize).IsSuccess);

        Assert.Equal(vmm.RamSize / Page, gmem.CountPages(GmemPageState.Allocated));
        Assert.Equal(0, bed.Kvm.Close(vmm.GmemFd).ReturnValue);
        Assert.Equal(0, bed.Kvm.Process.Munmap(vmm.Uaddr).ReturnValue);
        bed.AssertNoLeaks();
    }

    /// <summary>
    /// private_mem_kvm_exits_test (a). x86 reports KVM_EXIT_MEMORY_FAULT(PRIVATE) because it checks the attribute
    /// before the memslot. v12 arm64 looks the slot up first (§2.12): with no slot the abort goes down the MMIO
    /// path; an abort at a protected IPA carries no valid syndrome, so io_mem_abort asks for an SEA through
    /// rec_enter.flags (§2.14). The RMM only injects an SEA after an abort at an unprotected IPA (TF-RMM
    /// complete_sea_insertion), so RMI_REC_ENTER fails ERROR_REC and KVM_RUN returns -ENXIO (§2.11) — on every
    /// retry, since the guest re-executes the load. User space never sees a MEMORY_FAULT exit.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KvmExits_DeletingThePrivateMemslotWhileTheGuestReadsAPrivateGfn_FailsKvmRunWithEnxio(bool touchedBefore)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        ulong gpa = Ram + (7 * Page);
        if (touchedBefore)
        {
            bed.Script.EnqueueWrite(gpa, 8, 1, 0xFEED);
        }

        RealmProbe.RunToIdle(vmm);
        ulong? pa = touchedBefore ? RealmProbe.ReadEntry(bed, vmm, gpa).Address : null;
        List<(ulong Ipa, ulong Value, RealmFault Fault)> reads = RealmProbe.RecordReads(bed.Script);
        Assert.Equal(0, bed.Kvm.SetUserMemoryRegion2(vmm.VmFd, new KvmUserspaceMemoryRegion2 { Slot = 0, Flags = (uint)KvmMemoryRegionOptions.GuestMemfd }).ReturnValue);
        bed.Script.EnqueueRead(gpa, 8, 2);

        KvmResult run = vmm.RunVcpu();

        Assert.Equal(Errno.ENXIO, run.Error);
        Assert.NotEqual(KvmExitReason.MemoryFault, vmm.Run(0).ExitReason);
        Assert.Empty(reads);
        Assert.Equal(Errno.ENXIO, vmm.RunVcpu().Error);
        Assert.Empty(reads);
        Assert.Equal(0, vmm.Vm.Realm!.PrivatePageCount);
        if (pa is ulong data)
        {
            Assert.Equal(Pas.NonSecure, bed.Platform.Gpt[data]);
        }

        vmm.Close();
        bed.AssertNoLeaks();
    }

    /// <summary>
    /// private_mem_kvm_exits_test (b): PRIVATE attribute on a slot without guest_memfd. INIT_RIPAS never covers
    /// such a slot (§2.7), so a read at first hits RIPAS EMPTY and the RMM gives the realm an external abort
    /// without exiting. Once the guest has accepted the range as RAM, the private fault reaches KVM, which has no
    /// MEMORY_FAULT exit for it on arm64 and fails KVM_RUN with -EINVAL (§2.12).
    /// </summary>
    [Fact]
    public void KvmExits_PrivateAccessToASlotWithoutGuestMemfd_IsAnAbortThenEinval()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        const ulong gpa = 0x4000_0000;
        ulong uaddr = (ulong)bed.Kvm.Process.Mmap(4 * Page).ReturnValue;
        Assert.Equal(0, bed.Kvm.SetUserMemoryRegion2(vmm.VmFd, new KvmUserspaceMemoryRegion2 { Slot = 1, GuestPhysAddr = gpa, MemorySize = 4 * Page, UserspaceAddr = uaddr }).ReturnValue);
        vmm.SetPrivate(gpa, 4 * Page, true);
        List<(ulong Ipa, ulong Value, RealmFault Fault)> reads = RealmProbe.RecordReads(bed.Script);
        bed.Script.EnqueueRead(gpa, 8, 2);

        RealmProbe.RunToIdle(vmm);

        Assert.Equal(RealmFault.SynchronousExternalAbort, Assert.Single(reads).Fault);
        RealmProbe.EnqueueIpaStateSet(bed.Script, gpa, gpa + (4 * Page), RmiRipas.Ram);
        bed.Script.EnqueueRead(gpa + Page, 8, 2);
        Assert.Equal(Errno.EFAULT, vmm.RunVcpu().Error);
        Assert.Equal(new KvmRunMemoryFault { Flags = KvmMemoryExitFlag.Private, Gpa = gpa, Size = 4 * Page }, vmm.Run(0).MemoryFault);

        KvmResult run = vmm.RunVcpu();

        Assert.Equal(Errno.EINVAL, run.Error);
        Assert.Single(reads);
        Assert.Equal(RmiRipas.Ram, RealmProbe.RipasOf(bed, vmm, gpa + Page));
        Assert.Equal(0, vmm.Vm.Realm!.PrivatePageCount);
        vmm.Close();
        Assert.Equal(0, bed.Kvm.Process.Munmap(uaddr).ReturnValue);
        bed.AssertNoLeaks();
    }

    /// <summary>
    /// set_memory_region_test's layout with a running realm: two slots on one 8 MiB guest_memfd at offsets 0 and
    /// 4 MiB. Every lookup in the second slot uses file index gfn − base_gfn + pgoff (§5.1), and a punch hole at
    /// file offset 4 MiB zaps only that slot.
    /// </summary>
    [Fact]
    public void MultiSlotFile_SecondSlotUsesOffsetAdjustedIndices_AndPunchAtItsOffsetZapsOnlyIt()
    {
        const ulong half = 4UL << 20;
        const ulong secondGpa = Ram + (16UL << 20);
        const ulong pgoff = half / Page;
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, ramSize: 2 * half);
        KvmHost kvm = bed.Kvm;
        Assert.Equal(0, kvm.SetUserMemoryRegion2(vmm.VmFd, new KvmUserspaceMemoryRegion2 { Slot = 0, Flags = (uint)KvmMemoryRegionOptions.GuestMemfd }).ReturnValue);
        Assert.Equal(0, kvm.SetUserMemoryRegion2(vmm.VmFd, GmemSlot(0, Ram, half, vmm.Uaddr, vmm.GmemFd, 0)).ReturnValue);
        Assert.Equal(0, kvm.SetUserMemoryRegion2(vmm.VmFd, GmemSlot(1, secondGpa, half, vmm.Uaddr + half, vmm.GmemFd, half)).ReturnValue);
        vmm.SetPrivate(secondGpa, half, true);
        GuestMemfdFile gmem = kvm.GuestMemfdOf(vmm.GmemFd)!;
        Memslot second = vmm.Vm.Memslots.Find(secondGpa >> 12)!;
        ulong baseGfn = secondGpa >> 12;
        Assert.Equal(pgoff, second.Binding!.Pgoff);

        WriteUser(bed, vmm.Uaddr + half + (2 * Page), 0xAB);
        Assert.Equal((long)Page, RealmProbe.Populate(vmm, secondGpa + (2 * Page), Page, source: vmm.Uaddr + half + (2 * Page)).ReturnValue);
        Assert.Equal(GmemPageState.Prepared, gmem.GetPageState(pgoff + 2));
        Assert.Equal(GmemPageState.Absent, gmem.GetPageState(2));
        bed.Script.EnqueueWrite(secondGpa + (5 * Page), 8, 1, 0x51);
        bed.Script.EnqueueWrite(Ram + (5 * Page), 8, 1, 0x50);
        RealmProbe.RunToIdle(vmm);

        Assert.Equal(GmemPageState.Prepared, gmem.GetPageState(pgoff + 5));
        Assert.Equal(GmemPageState.Prepared, gmem.GetPageState(5));
        foreach (ulong page in new ulong[] { 2, 5 })
        {
            Assert.True(gmem.GetPfn(second.Binding, baseGfn + page, forPopulate: false, out ulong pa).IsSuccess);
            Assert.Equal(pgoff + page, gmem.GetPfn(second.Binding, baseGfn + page, forPopulate: false, out _).Value);
            Assert.Equal(pa, RealmProbe.ReadEntry(bed, vmm, secondGpa + (page * Page)).Address);
        }

        ulong firstPa = RealmProbe.ReadEntry(bed, vmm, Ram + (5 * Page)).Address;
        ulong[] secondPas = [RealmProbe.ReadEntry(bed, vmm, secondGpa + (2 * Page)).Address, RealmProbe.ReadEntry(bed, vmm, secondGpa + (5 * Page)).Address];

        Assert.True(RealmProbe.Fallocate(vmm, FallocateMode.KeepSize | FallocateMode.PunchHole, half, half).IsSuccess);

        Assert.True(vmm.Vm.Realm!.IsPrivateMapped((Ram >> 12) + 5));
        Assert.Equal(GranuleState.Data, bed.Rmm.GranuleStateOf(firstPa));
        Assert.False(vmm.Vm.Realm.IsPrivateMapped(baseGfn + 2));
        Assert.False(vmm.Vm.Realm.IsPrivateMapped(baseGfn + 5));
        Assert.All(secondPas, pa => Assert.Equal(Pas.NonSecure, bed.Platform.Gpt[pa]));
        Assert.Equal(GmemPageState.Absent, gmem.GetPageState(pgoff + 5));
        Assert.Equal(GmemPageState.Prepared, gmem.GetPageState(5));
        vmm.Close();
        bed.AssertNoLeaks();
    }

    private static KvmUserspaceMemoryRegion2 GmemSlot(uint id, ulong gpa, ulong size, ulong uaddr, int gmemFd, ulong offset) => new()
    {
        Slot = id,
        Flags = (uint)KvmMemoryRegionOptions.GuestMemfd,
        GuestPhysAddr = gpa,
        MemorySize = size,
        UserspaceAddr = uaddr,
        GuestMemfd = (uint)gmemFd,
        GuestMemfdOffset = offset,
    };

    private static ulong ReadUser(KvmTestBed bed, ulong uaddr)
    {
        Span<byte> b = stackalloc byte[8];
        Assert.True(bed.Kvm.Process.TryRead(uaddr, b));
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    private static void WriteUser(KvmTestBed bed, ulong uaddr, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        Assert.True(bed.Kvm.Process.TryWrite(uaddr, b));
    }
}
