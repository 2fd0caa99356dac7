using System.Buffers.Binary;
using CcaSim.Kvm.Rmi;
using CcaSim.Kvm.Run;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using CcaSim.Platform.Execution;
using CcaSim.Rmm.Granules;

namespace CcaSim.Kvm.Tests.Run;

/// <summary>
/// Every realm exit of KVM_RUN end to end — scripted realm, real RMM, KVM — with the kvm_run fields and the
/// ioctl's return value checked exactly (kvm-realm-abi.md §2.11–§2.16, §4.4). The realm's side is observed through
/// the registers it holds when each scripted step completes.
/// </summary>
public sealed class RealmExitTests
{
    private const ulong RsiIpaStateSet = 0xC400_0197;
    private const ulong RsiIpaStateGet = 0xC400_0198;
    private const ulong RsiHostCall = 0xC400_0199;
    private const ulong PsciCpuOff = 0x8400_0002;
    private const ulong PsciCpuOn = 0x8400_0003;
    private const ulong PsciAffinityInfo = 0x8400_0004;
    private const ulong PsciSystemOff = 0x8400_0008;
    private const ulong PsciSystemReset = 0x8400_0009;

    private const ulong PsciSuccess = 0;
    private const ulong PsciAlreadyOn = unchecked((ulong)-4L);
    private const ulong PsciAffinityOff = 1;
    private const ulong SmcccNotSupported = ulong.MaxValue;

    /// <summary>An SMCCC vendor-specific hypervisor service id: nothing KVM implements.</summary>
    private const ulong VendorHypCall = 0xC600_0001;

    /// <summary>A device GPA below RAM that no memslot covers.</summary>
    private const ulong DeviceGpa = 0x0900_0000;

    /// <summary>Protected IPA space no memslot covers (RIPAS EMPTY until the realm asks otherwise).</summary>
    private const ulong HoleGpa = 0x4000_0000;

    private const ulong Page = 4096;

    private static long Err(Errno errno) => -(long)errno;

    // ---- MMIO (§2.14) ----

    [Fact]
    public void MmioWrite_ToUnprotectedAliasOutsideMemslots_ExitsWithStrippedGpaAndCompletesOnNextRun()
    {
        var (bed, vmm, steps) = Start();
        ulong shared = vmm.Vm.Realm!.SharedBit;
        bed.Script.EnqueueWrite((DeviceGpa + 0x10) | shared, 4, 3, 0xDEAD_BEEF_CAFE_F00D);
        bed.Script.Enqueue(RsiIpaStateGet, RealmVmm.RamBase, RealmVmm.RamBase + Page);

        KvmResult first = vmm.RunVcpu();

        KvmRun run = vmm.Run(0);
        Assert.Equal(0, first.ReturnValue);
        Assert.Equal(KvmExitReason.Mmio, run.ExitReason);
        Assert.Equal(DeviceGpa + 0x10, run.MmioPhysAddr);
        Assert.Equal(4u, run.MmioLen);
        Assert.True(run.MmioIsWrite);
        Assert.Equal(0xCAFE_F00DUL, BinaryPrimitives.ReadUInt64LittleEndian(run.MmioData));
        Assert.Empty(steps);

        KvmResult second = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
        Assert.Equal(KvmExitReason.Intr, run.ExitReason);
        Assert.Equal(2, steps.Count);
        Assert.Equal(RealmStepKind.Write, steps[0].Step.Kind);
        Assert.Equal(RealmFault.None, steps[0].Fault);
        Assert.Equal(RsiIpaStateGet, steps[1].Step.FunctionId);
        Assert.Equal(0UL, steps[1].X[0]);
        Finish(bed, vmm);
    }

    [Theory]
    [InlineData(1, 0xFFUL)]
    [InlineData(2, 0xFFFFUL)]
    [InlineData(4, 0xFFFF_FFFFUL)]
    [InlineData(8, ulong.MaxValue)]
    public void MmioRead_VmmDataReachesTheRealmRegisterMaskedToTheAccessSize(int size, ulong mask)
    {
        var (bed, vmm, steps) = Start();
        ulong shared = vmm.Vm.Realm!.SharedBit;
        bed.Script.EnqueueRead((DeviceGpa + 0x20) | shared, size, 7);

        KvmResult first = vmm.RunVcpu();

        KvmRun run = vmm.Run(0);
        Assert.Equal(0, first.ReturnValue);
        Assert.Equal(KvmExitReason.Mmio, run.ExitReason);
        Assert.Equal(DeviceGpa + 0x20, run.MmioPhysAddr);
        Assert.Equal((uint)size, run.MmioLen);
        Assert.False(run.MmioIsWrite);
        Assert.Equal(0UL, BinaryPrimitives.ReadUInt64LittleEndian(run.MmioData));

        const ulong Value = 0x1122_3344_5566_7788;
        BinaryPrimitives.WriteUInt64LittleEndian(run.MmioData, Value);
        KvmResult second = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
        var read = Assert.Single(steps);
        Assert.Equal(RealmFault.None, read.Fault);
        Assert.Equal(Value & mask, read.X[7]);
        Finish(bed, vmm);
    }

    [Fact]
    public void ImmediateExit_AfterAnMmioRead_ReturnsEintrKeepingTheExit_AndTheNextRunStillCompletesIt()
    {
        var (bed, vmm, steps) = Start();
        bed.Script.EnqueueRead((DeviceGpa + 0x20) | vmm.Vm.Realm!.SharedBit, 4, 3);
        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        KvmRun run = vmm.Run(0);
        BinaryPrimitives.WriteUInt64LittleEndian(run.MmioData, 0xCAFE);
        int entries = bed.Engine.Entries.Count;

        run.ImmediateExit = true;
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);

        Assert.Equal(KvmExitReason.Mmio, run.ExitReason);
        Assert.Equal(entries, bed.Engine.Entries.Count);
        Assert.Empty(steps);
        run.ImmediateExit = false;
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        Assert.Equal(0xCAFEUL, Assert.Single(steps).X[3]);
        Finish(bed, vmm);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void ImmediateExit_AfterAnMmioRead_CompletesItWithTheDataOfThatCall_AndLaterWritesAreIgnored(int immediateExits)
    {
        var (bed, vmm, steps) = Start();
        bed.Script.EnqueueRead((DeviceGpa + 0x20) | vmm.Vm.Realm!.SharedBit, 4, 3);
        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        KvmRun run = vmm.Run(0);
        run.ImmediateExit = true;
        ulong data = 0x1111;
        for (int i = 0; i < immediateExits; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(run.MmioData, data + (ulong)i);
            Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        }

        // kvm_arch_vcpu_ioctl_run took mmio.data at the first -EINTR call; the completion is done once.
        BinaryPrimitives.WriteUInt64LittleEndian(run.MmioData, 0xBAD);
        run.ImmediateExit = false;
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);

        Assert.Equal(data, Assert.Single(steps).X[3]);
        Finish(bed, vmm);
    }

    /// <summary>
    /// What the VMM leaves in kvm_run.exit_reason after an MMIO exit: kept (null), or overwritten with another
    /// value before the next KVM_RUN, as a VMM reusing the field would.
    /// </summary>
    public static TheoryData<bool, uint?> MmioExitReasonRows => new()
    {
        { false, null },
        { true, null },
        { false, (uint)KvmExitReason.Unknown },
        { true, (uint)KvmExitReason.Unknown },
        { false, (uint)KvmExitReason.Intr },
        { true, (uint)KvmExitReason.Hypercall },
        { false, 0xFFFF_FFFFu },
    };

    [Theory]
    [MemberData(nameof(MmioExitReasonRows))]
    public void MmioExit_IsCompletedOnTheNextRunOnlyIfExitReasonIsStillMmio_ElseTheRealmRepeatsTheAccess(bool write, uint? overwrite)
    {
        var (bed, vmm, steps) = Start();
        ulong ipa = (DeviceGpa + 0x40) | vmm.Vm.Realm!.SharedBit;
        if (write)
        {
            bed.Script.EnqueueWrite(ipa, 4, 3, 0xAABB_CCDD);
        }
        else
        {
            bed.Script.EnqueueRead(ipa, 4, 3);
        }

        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        KvmRun run = vmm.Run(0);
        BinaryPrimitives.WriteUInt64LittleEndian(run.MmioData, 0x1234);
        if (overwrite is uint reason)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(run.Bytes.AsSpan(8), reason);
        }

        int entries = bed.Engine.Entries.Count;
        KvmResult second = vmm.RunVcpu();

        // kvm_arch_vcpu_ioctl_run calls kvm_handle_mmio_return only for exit_reason == KVM_EXIT_MMIO; without it
        // no EMULATED_MMIO reaches rec_enter, the RMM leaves the PC on the access and the realm exits again.
        Assert.Equal(entries + 1, bed.Engine.Entries.Count);
        if (overwrite is null)
        {
            Assert.Equal(RmiRecRun.EnterFlagEmulatedMmio | RmiRecRun.EnterFlagTrapWfi, EnterFlags(bed, vmm));
            Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
            var done = Assert.Single(steps);
            Assert.Equal(RealmFault.None, done.Fault);
            Assert.Equal(write ? 0xAABB_CCDDUL : 0x1234UL, done.X[3]);
            Finish(bed, vmm);
            return;
        }

        // Only the WFI trap KVM always asks for (HCR_EL2.TWI).
        Assert.Equal(RmiRecRun.EnterFlagTrapWfi, EnterFlags(bed, vmm));
        Assert.Equal(0, second.ReturnValue);
        Assert.Equal(KvmExitReason.Mmio, run.ExitReason);
        Assert.Equal(DeviceGpa + 0x40, run.MmioPhysAddr);
        Assert.Equal(4u, run.MmioLen);
        Assert.Equal(write, run.MmioIsWrite);
        Assert.Empty(steps);

        // The repeated exit completes as any other once the VMM leaves exit_reason alone.
        BinaryPrimitives.WriteUInt64LittleEndian(run.MmioData, 0x5678);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        var repeated = Assert.Single(steps);
        Assert.Equal(RealmFault.None, repeated.Fault);
        Assert.Equal(write ? 0xAABB_CCDDUL : 0x5678UL, repeated.X[3]);
        Finish(bed, vmm);
    }

    [Fact]
    public void ImmediateExit_WithExitReasonOverwritten_DoesNotCompleteTheMmio_SoExtDabtIsRefused()
    {
        var (bed, vmm, steps) = Start();
        bed.Script.EnqueueRead((DeviceGpa + 0x20) | vmm.Vm.Realm!.SharedBit, 4, 3);
        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        KvmRun run = vmm.Run(0);
        BinaryPrimitives.WriteUInt32LittleEndian(run.Bytes.AsSpan(8), (uint)KvmExitReason.Unknown);
        run.ImmediateExit = true;

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        Assert.Equal(Errno.EINVAL, bed.Kvm.SetVcpuEvents(vmm.VcpuFds[0], new KvmVcpuEvents { ExtDabtPending = 1 }).Error);

        run.ImmediateExit = false;
        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        Assert.Equal(KvmExitReason.Mmio, run.ExitReason);
        Assert.Empty(steps);
        Finish(bed, vmm);
    }

    // ---- RIPAS change (§2.13) ----

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void RipasChangeToEmpty_ExitsMemoryFaultThenNextRunSetsRipasAndDestroysPrivatePages(bool vmmFlipsAttributes)
    {
        var (bed, vmm, steps) = Start(populatePages: 2);
        List<ulong> dataPages = DataGranules(bed);
        Assert.Equal(2, dataPages.Count);
        ulong top = RealmVmm.RamBase + (2 * Page);

        // CHANGE_DESTROYED, as a Linux guest asks when it shares memory: a VMM that flips the attributes first
        // destroys the pages (RIPAS DESTROYED) before KVM changes their RIPAS.
        bed.Script.Enqueue(RsiIpaStateSet, RealmVmm.RamBase, top, 0, 1);
        bed.Script.EnqueueRead(RealmVmm.RamBase, 8, 3);

        KvmResult first = vmm.RunVcpu();

        KvmRun run = vmm.Run(0);
        Assert.Equal(Err(Errno.EFAULT), first.ReturnValue);
        Assert.Equal(KvmExitReason.MemoryFault, run.ExitReason);
        Assert.Equal(new KvmRunMemoryFault { Flags = 0, Gpa = RealmVmm.RamBase, Size = 2 * Page }, run.MemoryFault);
        Assert.Empty(steps);
        Assert.Equal(2, DataGranules(bed).Count);

        if (vmmFlipsAttributes)
        {
            vmm.SetPrivate(RealmVmm.RamBase, 2 * Page, false);
        }

        KvmResult second = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
        Assert.Equal(2, steps.Count);
        Assert.Equal([0UL, top, 0UL], steps[0].X[..3]);
        Assert.Empty(DataGranules(bed));
        foreach (ulong pa in dataPages)
        {
            Assert.Equal(GranuleState.Undelegated, bed.Rmm.GranuleStateOf(pa));
            Assert.DoesNotContain(bed.Platform.Gpt.NonSecureExceptions(), e => e.Pa == pa);
        }

        Assert.False(vmm.Vm.Realm!.IsPrivateMapped(RealmVmm.RamBase >> 12));

        // RIPAS EMPTY: the realm's own access now takes an external abort from the RMM.
        Assert.Equal(RealmFault.SynchronousExternalAbort, steps[1].Fault);
        Finish(bed, vmm);
    }

    [Fact]
    public void RipasChangeToRam_ExitsPrivateMemoryFaultThenNextRunSetsRipasRam()
    {
        var (bed, vmm, steps) = Start();
        ulong top = HoleGpa + (2 * Page);
        bed.Script.Enqueue(RsiIpaStateSet, HoleGpa, top, 1, 0);
        bed.Script.Enqueue(RsiIpaStateGet, HoleGpa, top);

        KvmResult first = vmm.RunVcpu();

        KvmRun run = vmm.Run(0);
        Assert.Equal(Err(Errno.EFAULT), first.ReturnValue);
        Assert.Equal(KvmExitReason.MemoryFault, run.ExitReason);
        Assert.Equal(new KvmRunMemoryFault { Flags = KvmMemoryExitFlag.Private, Gpa = HoleGpa, Size = 2 * Page }, run.MemoryFault);
        Assert.Empty(steps);

        vmm.SetPrivate(HoleGpa, 2 * Page, true);
        KvmResult second = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
        Assert.Equal(2, steps.Count);
        Assert.Equal([0UL, top, 0UL], steps[0].X[..3]);
        Assert.Equal([0UL, top, 1UL], steps[1].X[..3]);
        Finish(bed, vmm);
    }

    [Fact]
    public void RipasChange_TouchingTheSharedHalf_IsRefusedByTheRmmBeforeKvmSeesIt()
    {
        // KVM's own check (§2.13 step 2: RIPAS_RESPONSE + -EINVAL) is unreachable with an RMM 1.0: RSI_IPA_STATE_SET
        // already fails ERROR_INPUT for a top above the protected half, so no RIPAS_CHANGE exit is made.
        var (bed, vmm, steps) = Start();
        ulong shared = vmm.Vm.Realm!.SharedBit;
        bed.Script.Enqueue(RsiIpaStateSet, shared - Page, shared + Page, 1, 0);

        KvmResult result = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), result.ReturnValue);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(0).ExitReason);
        var call = Assert.Single(steps);
        Assert.Equal(1UL, call.X[0]);
        Finish(bed, vmm);
    }

    // ---- Runtime faults (§2.12) ----

    [Fact]
    public void PrivateFault_OnGfnNotPrivate_ExitsMemoryFaultThenFaultsInAZeroedPageOnceMadePrivate()
    {
        var (bed, vmm, steps) = Start(attributes: false);
        ulong gpa = RealmVmm.RamBase + (3 * Page);
        vmm.Stage(gpa, BitConverter.GetBytes(0x5A5A_5A5A_5A5A_5A5AUL));
        bed.Script.EnqueueRead(gpa + 8, 8, 4);
        bed.Script.EnqueueRead(gpa, 8, 5);

        KvmResult first = vmm.RunVcpu();

        KvmRun run = vmm.Run(0);
        Assert.Equal(Err(Errno.EFAULT), first.ReturnValue);
        Assert.Equal(KvmExitReason.MemoryFault, run.ExitReason);
        Assert.Equal(new KvmRunMemoryFault { Flags = KvmMemoryExitFlag.Private, Gpa = gpa, Size = Page }, run.MemoryFault);
        Assert.Empty(DataGranules(bed));

        vmm.SetPrivate(gpa, Page, true);
        KvmResult second = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
        Assert.Equal(2, steps.Count);
        Assert.All(steps, s => Assert.Equal(RealmFault.None, s.Fault));
        Assert.Equal(0UL, steps[0].X[4]);
        Assert.Equal(0UL, steps[1].X[5]);
        Assert.True(vmm.Vm.Realm!.IsPrivateMapped(gpa >> 12));
        Assert.Single(DataGranules(bed));
        Finish(bed, vmm);
    }

    [Fact]
    public void PrivateFault_InSlotWithoutGuestMemfd_FailsEinvalWithoutMemoryFaultExit()
    {
        var (bed, vmm, steps) = Start();
        const ulong SlotGpa = 0xA000_0000;
        const ulong SlotSize = 16 * Page;
        ulong uaddr = (ulong)bed.Kvm.Process.Mmap(SlotSize).ReturnValue;
        var region = new KvmUserspaceMemoryRegion2 { Slot = 1, GuestPhysAddr = SlotGpa, MemorySize = SlotSize, UserspaceAddr = uaddr };
        Assert.Equal(0, bed.Kvm.SetUserMemoryRegion2(vmm.VmFd, region).ReturnValue);

        // Non-gmem slots start RIPAS EMPTY (§2.7), where the RMM itself aborts the access; RAM makes it reach KVM.
        bed.Script.Enqueue(RsiIpaStateSet, SlotGpa, SlotGpa + Page, 1, 0);
        bed.Script.EnqueueRead(SlotGpa, 8, 2);
        Assert.Equal(Err(Errno.EFAULT), vmm.RunVcpu().ReturnValue);

        KvmResult result = vmm.RunVcpu();

        // KVM_RUN starts every call with exit_reason = KVM_EXIT_UNKNOWN; this error sets no other.
        Assert.Equal(Err(Errno.EINVAL), result.ReturnValue);
        Assert.Equal(KvmExitReason.Unknown, vmm.Run(0).ExitReason);
        var set = Assert.Single(steps);
        Assert.Equal(RsiIpaStateSet, set.Step.FunctionId);
        Assert.Equal(0UL, set.X[0]);
        Assert.False(vmm.Vm.Realm!.IsPrivateMapped(SlotGpa >> 12));
        Assert.Equal(0, bed.Kvm.Process.Munmap(uaddr).ReturnValue);
        Finish(bed, vmm);
    }

    [Fact]
    public void SharedFault_InGuestMemfdSlot_MapsTheVmmPageUnprotected()
    {
        var (bed, vmm, steps) = Start();
        ulong shared = vmm.Vm.Realm!.SharedBit;
        ulong gpa = RealmVmm.RamBase + (5 * Page);
        vmm.Stage(gpa + 0x18, BitConverter.GetBytes(0x0123_4567_89AB_CDEFUL));
        bed.Script.EnqueueRead((gpa + 0x18) | shared, 8, 6);
        bed.Script.EnqueueWrite((gpa + 0x20) | shared, 4, 8, 0xFEED_F00D);

        KvmResult result = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), result.ReturnValue);
        Assert.Equal(2, steps.Count);
        Assert.Equal(0x0123_4567_89AB_CDEFUL, steps[0].X[6]);
        Span<byte> written = stackalloc byte[4];
        Assert.True(bed.Kvm.Process.TryRead(vmm.Uaddr + (gpa - RealmVmm.RamBase) + 0x20, written));
        Assert.Equal(0xFEED_F00Du, BinaryPrimitives.ReadUInt32LittleEndian(written));
        Assert.Equal(1, vmm.Vm.Realm.SharedPageCount);
        Assert.Empty(DataGranules(bed));
        Finish(bed, vmm);
    }

    // ---- Host call (§2.16) ----

    [Fact]
    public void HostCall_NotForwarded_KvmAnswersNotSupportedWithoutExitingToUserSpace()
    {
        var (bed, vmm, steps) = Start();
        ulong block = RealmVmm.RamBase + (4 * Page);
        EnqueueHostCall(bed.Script, block, VendorHypCall, 0x1234);

        KvmResult result = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), result.ReturnValue);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(0).ExitReason);
        Assert.Equal(6, steps.Count);
        Assert.Equal(0UL, steps[2].X[0]);
        Assert.Equal(SmcccNotSupported, steps[3].X[5]);
        Assert.Equal(0x1234UL, steps[4].X[6]);
        Finish(bed, vmm);
    }

    [Fact]
    public void HostCall_ForwardedBySmcccFilter_ExitsHypercallAndVmmResultsReachTheRealm()
    {
        var (bed, vmm, steps) = Start(filter: new KvmSmcccFilter { Base = 0xC600_0000, NrFunctions = 0x100, Action = (byte)SmcccFilterAction.FwdToUser });
        ulong block = RealmVmm.RamBase + (4 * Page);
        EnqueueHostCall(bed.Script, block, VendorHypCall, 0x1234);

        KvmResult first = vmm.RunVcpu();

        KvmRun run = vmm.Run(0);
        Assert.Equal(0, first.ReturnValue);
        Assert.Equal(KvmExitReason.Hypercall, run.ExitReason);
        Assert.Equal(VendorHypCall, run.HypercallNr);
        Assert.Equal(0UL, run.HypercallFlags);
        Assert.Equal(2, steps.Count);

        // The VMM reads the call and writes its results through KVM_GET/SET_ONE_REG, as kvmtool does.
        Assert.Equal(VendorHypCall, vmm.GetReg(0, ArmRegisterId.X(0)));
        Assert.Equal(0x1234UL, vmm.GetReg(0, ArmRegisterId.X(1)));
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(0), 0).ReturnValue);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(1), 0xAAAA).ReturnValue);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(2), 0xBBBB).ReturnValue);
        KvmResult second = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
        Assert.Equal(6, steps.Count);
        Assert.Equal(0UL, steps[2].X[0]);
        Assert.Equal(0UL, steps[3].X[5]);
        Assert.Equal(0xAAAAUL, steps[4].X[6]);
        Assert.Equal(0xBBBBUL, steps[5].X[7]);
        Finish(bed, vmm);
    }

    /// <summary>Values a VMM might leave in kvm_run.exit_reason before the run that completes an exit.</summary>
    public static TheoryData<uint> OverwrittenExitReasons => [(uint)KvmExitReason.Unknown, (uint)KvmExitReason.Mmio, (uint)KvmExitReason.Intr];

    [Theory]
    [MemberData(nameof(OverwrittenExitReasons))]
    public void HostCall_ResultsReachTheRealm_WhateverTheVmmLeftInExitReason(uint reason)
    {
        // kvm_rec_pre_enter copies X0..X30 into rec_enter keyed on the RMM's exit reason in rec_run, not on
        // kvm_run.exit_reason.
        var (bed, vmm, steps) = Start(filter: new KvmSmcccFilter { Base = 0xC600_0000, NrFunctions = 0x100, Action = (byte)SmcccFilterAction.FwdToUser });
        EnqueueHostCall(bed.Script, RealmVmm.RamBase + (4 * Page), VendorHypCall, 0x1234);
        Assert.Equal(0, vmm.RunVcpu().ReturnValue);
        Assert.Equal(KvmExitReason.Hypercall, vmm.Run(0).ExitReason);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(0), 0).ReturnValue);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(1), 0xAAAA).ReturnValue);
        BinaryPrimitives.WriteUInt32LittleEndian(vmm.Run(0).Bytes.AsSpan(8), reason);

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);

        Assert.Equal(6, steps.Count);
        Assert.Equal(0UL, steps[3].X[5]);
        Assert.Equal(0xAAAAUL, steps[4].X[6]);
        Finish(bed, vmm);
    }

    [Theory]
    [MemberData(nameof(OverwrittenExitReasons))]
    public void RipasChange_IsCarriedOutOnTheNextRun_WhateverTheVmmLeftInExitReason(uint reason)
    {
        // kvm_rec_pre_enter completes a RIPAS change keyed on rec_run's exit reason (§2.13 step 4).
        var (bed, vmm, steps) = Start();
        ulong top = HoleGpa + Page;
        bed.Script.Enqueue(RsiIpaStateSet, HoleGpa, top, 1, 0);
        bed.Script.Enqueue(RsiIpaStateGet, HoleGpa, top);
        Assert.Equal(Err(Errno.EFAULT), vmm.RunVcpu().ReturnValue);
        vmm.SetPrivate(HoleGpa, Page, true);
        BinaryPrimitives.WriteUInt32LittleEndian(vmm.Run(0).Bytes.AsSpan(8), reason);

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);

        Assert.Equal(2, steps.Count);
        Assert.Equal([0UL, top, 0UL], steps[0].X[..3]);
        Assert.Equal([0UL, top, 1UL], steps[1].X[..3]);
        Finish(bed, vmm);
    }

    // ---- PSCI (§2.15) ----

    [Fact]
    public void PsciCpuOn_InKernel_StartsTheTargetAtItsEntryWithTheContextId()
    {
        var (bed, vmm, steps) = Start(vcpus: 2);
        ulong entry = RealmVmm.RamBase + 0x8000;
        bed.Script.Enqueue(PsciCpuOn, 1, entry, 0xC0FFEE);

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(0).ReturnValue);

        var on = Assert.Single(steps);
        Assert.Equal(PsciSuccess, on.X[0]);
        Assert.False(vmm.Vcpu(1).IsPoweredOff);

        KvmResult second = vmm.RunVcpu(1);

        Assert.Equal(Err(Errno.EINTR), second.ReturnValue);
        var (mpidr, pc, x) = bed.Engine.Entries[^1];
        Assert.Equal(1UL, mpidr & 0xFF);
        Assert.Equal(entry, pc);
        Assert.Equal(0xC0FFEEUL, x[0]);
        Finish(bed, vmm);
    }

    [Fact]
    public void PsciCpuOn_ToAVcpuAlreadyOn_ReturnsAlreadyOn()
    {
        var (bed, vmm, steps) = Start(vcpus: 2);
        bed.Script.Enqueue(PsciCpuOn, 1, RealmVmm.RamBase, 0);
        bed.Script.Enqueue(PsciCpuOn, 1, RealmVmm.RamBase, 0);
        bed.Script.Enqueue(PsciAffinityInfo, 1, 0);

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(0).ReturnValue);

        Assert.Equal(3, steps.Count);
        Assert.Equal(PsciSuccess, steps[0].X[0]);
        Assert.Equal(PsciAlreadyOn, steps[1].X[0]);
        Assert.Equal(0UL, steps[2].X[0]);
        Finish(bed, vmm);
    }

    [Fact]
    public void PsciAffinityInfo_ReportsOffBeforeCpuOnAndAfterCpuOff()
    {
        var (bed, vmm, steps) = Start(vcpus: 2);
        bed.Script.Enqueue(PsciAffinityInfo, 1, 0);

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(0).ReturnValue);
        Assert.Equal(PsciAffinityOff, Assert.Single(steps).X[0]);

        bed.Script.Enqueue(PsciCpuOn, 1, RealmVmm.RamBase, 0);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(0).ReturnValue);
        bed.Script.Enqueue(PsciCpuOff);

        KvmResult off = vmm.RunVcpu(1);

        Assert.Equal(Err(Errno.EINTR), off.ReturnValue);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(1).ExitReason);
        Assert.True(vmm.Vcpu(1).IsPoweredOff);

        bed.Script.Enqueue(PsciAffinityInfo, 1, 0);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(0).ReturnValue);
        Assert.Equal(PsciAffinityOff, steps[^1].X[0]);
        Finish(bed, vmm);
    }

    [Fact]
    public void KvmRun_OnAVcpuAfterCpuOff_ReturnsEintrWithoutEnteringTheRealm()
    {
        var (bed, vmm, _) = Start(vcpus: 2);
        bed.Script.Enqueue(PsciCpuOn, 1, RealmVmm.RamBase, 0);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(0).ReturnValue);
        bed.Script.Enqueue(PsciCpuOff);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(1).ReturnValue);
        int entries = bed.Engine.Entries.Count;
        vmm.Run(1).Bytes[8] = 0xFF;

        KvmResult again = vmm.RunVcpu(1);

        Assert.Equal(Err(Errno.EINTR), again.ReturnValue);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(1).ExitReason);
        Assert.Equal(entries, bed.Engine.Entries.Count);
        Finish(bed, vmm);
    }

    [Fact]
    public void PsciCpuOn_ForwardedToUserSpace_ExitsHypercallAndCompletesThroughPsciCompleteIoctl()
    {
        var (bed, vmm, steps) = Start(vcpus: 2, filter: new KvmSmcccFilter { Base = 0x8400_0000, NrFunctions = 0x20, Action = (byte)SmcccFilterAction.FwdToUser });
        ulong entry = RealmVmm.RamBase + 0x8000;
        bed.Script.Enqueue(PsciCpuOn, 1, entry, 0xBEEF);

        KvmResult first = vmm.RunVcpu(0);

        KvmRun run = vmm.Run(0);
        Assert.Equal(0, first.ReturnValue);
        Assert.Equal(KvmExitReason.Hypercall, run.ExitReason);
        Assert.Equal(PsciCpuOn, run.HypercallNr);
        Assert.Equal(0UL, run.HypercallFlags);
        Assert.Empty(steps);
        Assert.True(vmm.Vcpu(1).IsPoweredOff);
        Assert.Equal(1UL, vmm.GetReg(0, ArmRegisterId.X(1)));

        var complete = new KvmArmRmiPsciComplete { TargetMpidr = 1, PsciStatus = (uint)PsciSuccess };
        Assert.Equal(0, bed.Kvm.ArmVcpuRmiPsciComplete(vmm.VcpuFds[0], complete).ReturnValue);
        Assert.False(vmm.Vcpu(1).IsPoweredOff);

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(0).ReturnValue);
        Assert.Equal(PsciSuccess, Assert.Single(steps).X[0]);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(1).ReturnValue);
        Assert.Equal(entry, bed.Engine.Entries[^1].Pc);
        Assert.Equal(0xBEEFUL, bed.Engine.Entries[^1].X[0]);
        Finish(bed, vmm);
    }

    [Fact]
    public void PsciCompleteIoctl_UnknownTargetOrNothingPending_FailsEinval()
    {
        var (bed, vmm, _) = Start(vcpus: 2, filter: new KvmSmcccFilter { Base = 0x8400_0000, NrFunctions = 0x20, Action = (byte)SmcccFilterAction.FwdToUser });
        var toVcpu1 = new KvmArmRmiPsciComplete { TargetMpidr = 1, PsciStatus = (uint)PsciSuccess };
        Assert.Equal(Err(Errno.EINVAL), bed.Kvm.ArmVcpuRmiPsciComplete(vmm.VcpuFds[0], toVcpu1).ReturnValue);
        bed.Script.Enqueue(PsciCpuOn, 1, RealmVmm.RamBase, 0);
        Assert.Equal(0, vmm.RunVcpu(0).ReturnValue);

        var unknown = new KvmArmRmiPsciComplete { TargetMpidr = 7, PsciStatus = (uint)PsciSuccess };
        Assert.Equal(Err(Errno.EINVAL), bed.Kvm.ArmVcpuRmiPsciComplete(vmm.VcpuFds[0], unknown).ReturnValue);
        Assert.Equal(Err(Errno.EINVAL), bed.Kvm.ArmVcpuRmiPsciComplete(vmm.VcpuFds[1], toVcpu1).ReturnValue);
        Assert.True(vmm.Vcpu(1).IsPoweredOff);
        Assert.Equal(0, bed.Kvm.ArmVcpuRmiPsciComplete(vmm.VcpuFds[0], toVcpu1).ReturnValue);
        Assert.Equal(Err(Errno.EINVAL), bed.Kvm.ArmVcpuRmiPsciComplete(vmm.VcpuFds[0], toVcpu1).ReturnValue);
        Finish(bed, vmm);
    }

    [Fact]
    public void PsciCompleteIoctl_OnNormalVmVcpu_FailsEperm()
    {
        var bed = new KvmTestBed();
        int vm = (int)bed.Kvm.CreateVm(bed.KvmFd, KvmVmType.Make(KvmVmType.ArmNormal, 33)).ReturnValue;
        int vcpu = (int)bed.Kvm.CreateVcpu(vm, 0).ReturnValue;

        KvmResult result = bed.Kvm.ArmVcpuRmiPsciComplete(vcpu, new KvmArmRmiPsciComplete { TargetMpidr = 0 });

        Assert.Equal(Err(Errno.EPERM), result.ReturnValue);
        Assert.Equal(0, bed.Kvm.Close(vcpu).ReturnValue);
        Assert.Equal(0, bed.Kvm.Close(vm).ReturnValue);
        bed.AssertNoLeaks();
    }

    // ---- SYSTEM_OFF / SYSTEM_RESET (§2.11, §2.15) ----

    [Theory]
    [InlineData(PsciSystemOff, KvmSystemEvent.Shutdown)]
    [InlineData(PsciSystemReset, KvmSystemEvent.Reset)]
    public void PsciSystemOffOrReset_ExitsSystemEventAndStopsEveryVcpu(ulong function, uint type)
    {
        var (bed, vmm, _) = Start(vcpus: 2);
        bed.Script.Enqueue(PsciCpuOn, 1, RealmVmm.RamBase, 0);
        bed.Script.Enqueue(function);

        KvmResult result = vmm.RunVcpu(0);

        KvmRun run = vmm.Run(0);
        Assert.Equal(0, result.ReturnValue);
        Assert.Equal(KvmExitReason.SystemEvent, run.ExitReason);
        Assert.Equal(type, run.SystemEventType);
        Assert.Equal(1u, run.SystemEventNdata);
        Assert.Equal(0UL, run.SystemEventData(0));
        Assert.All(vmm.Vm.Vcpus, v => Assert.True(v.IsPoweredOff));

        // kvm_prepare_system_event stops every vCPU: a later run waits for a signal instead of entering.
        int entries = bed.Engine.Entries.Count;
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu(1).ReturnValue);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(1).ExitReason);
        Assert.Equal(entries, bed.Engine.Entries.Count);
        Finish(bed, vmm);
    }

    [Fact]
    public void KvmRun_AfterSystemOff_OnAVcpuMadeRunnableAgain_ExitsShutdownFromRmmErrorRealm()
    {
        var (bed, vmm, _) = Start();
        bed.Script.Enqueue(PsciSystemOff);
        Assert.Equal(0, vmm.RunVcpu().ReturnValue);

        // KVM_ARM_VCPU_INIT makes a stopped vCPU runnable again; the RMM then refuses the entry with
        // ERROR_REALM(1), which KVM reports as KVM_EXIT_SHUTDOWN with KVM_RUN returning 0 (§2.11).
        vmm.InitVcpu(vmm.VcpuFds[0]);
        int entries = bed.Engine.Entries.Count;

        KvmResult result = vmm.RunVcpu();

        Assert.Equal(0, result.ReturnValue);
        Assert.Equal(KvmExitReason.Shutdown, vmm.Run(0).ExitReason);
        Assert.Equal(entries, bed.Engine.Entries.Count);
        Finish(bed, vmm);
    }

    // ---- Aborts without a syndrome (§2.14) ----

    [Fact]
    public void DataAbort_OnProtectedIpaOutsideMemslots_RealmTakesExternalAbortWithoutAnyExit()
    {
        var (bed, vmm, steps) = Start();
        bed.Script.EnqueueRead(HoleGpa, 8, 2);
        bed.Script.Enqueue(RsiIpaStateGet, RealmVmm.RamBase, RealmVmm.RamBase + Page);

        KvmResult result = vmm.RunVcpu();

        Assert.Equal(Err(Errno.EINTR), result.ReturnValue);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(0).ExitReason);
        Assert.Equal(2, steps.Count);
        Assert.Equal(RealmFault.SynchronousExternalAbort, steps[0].Fault);
        Assert.Equal(RealmFault.None, steps[1].Fault);
        Finish(bed, vmm);
    }

    [Fact]
    public void DataAbort_WithoutSyndromeOnProtectedRamIpaOutsideMemslots_InjectSeaIsRefusedByTheRmmAndRunFailsEnxio()
    {
        // KVM answers an abort it cannot emulate with INJECT_SEA (§2.14), but an RMM injects only after an abort at
        // an unprotected IPA; TF-RMM (and CcaSim's RMM) refuse the entry with ERROR_REC, which KVM_RUN reports as
        // -ENXIO (§2.11). The realm never runs past the access.
        var (bed, vmm, steps) = Start();
        bed.Script.Enqueue(RsiIpaStateSet, HoleGpa, HoleGpa + Page, 1, 0);
        bed.Script.EnqueueRead(HoleGpa, 8, 2);
        Assert.Equal(Err(Errno.EFAULT), vmm.RunVcpu().ReturnValue);
        int entries = bed.Engine.Entries.Count;

        KvmResult result = vmm.RunVcpu();

        Assert.Equal(Err(Errno.ENXIO), result.ReturnValue);
        Assert.Equal(KvmExitReason.Unknown, vmm.Run(0).ExitReason);
        Assert.Equal(entries + 1, bed.Engine.Entries.Count);
        var set = Assert.Single(steps);
        Assert.Equal(RsiIpaStateSet, set.Step.FunctionId);
        Finish(bed, vmm);
    }

    // ---- helpers ----

    private sealed record Completed(RealmStep Step, ulong[] X, RealmFault Fault);

    private static (KvmTestBed Bed, RealmVmm Vmm, List<Completed> Steps) Start(
        int vcpus = 1, bool attributes = true, int populatePages = 0, KvmSmcccFilter? filter = null)
    {
        var bed = new KvmTestBed();
        var steps = new List<Completed>();
        bed.Script.StepCompleted += (step, x, fault) => steps.Add(new Completed(step, x, fault));
        var vmm = new RealmVmm(bed, vcpus: vcpus, attributes: attributes);
        if (filter is KvmSmcccFilter f)
        {
            Assert.Equal(0, bed.Kvm.SetSmcccFilter(vmm.VmFd, f).ReturnValue);
        }

        if (populatePages > 0)
        {
            ulong size = (ulong)populatePages * Page;
            byte[] image = new byte[size];
            Array.Fill(image, (byte)0xA5);
            vmm.Stage(RealmVmm.RamBase, image);
            vmm.Populate(RealmVmm.RamBase, size);
        }

        return (bed, vmm, steps);
    }

    private static void Finish(KvmTestBed bed, RealmVmm vmm)
    {
        vmm.Close();
        bed.AssertNoLeaks();
    }

    /// <summary>rec_enter.flags as KVM wrote them for the last REC_ENTER of vCPU 0.</summary>
    private static ulong EnterFlags(KvmTestBed bed, RealmVmm vmm) =>
        bed.Platform.HostMemory.Read64(vmm.Vm.Vcpus[0].RunPa + RmiRecRun.EnterFlags);

    /// <summary>RMM DATA granules: the protected pages KVM has mapped.</summary>
    private static List<ulong> DataGranules(KvmTestBed bed) =>
        [.. bed.Platform.Gpt.NonSecureExceptions().Select(e => e.Pa).Where(pa => bed.Rmm.GranuleStateOf(pa) == GranuleState.Data)];

    /// <summary>
    /// The realm's side of RSI_HOST_CALL: x0 and x1 of the call into the RsiHostCall block (gprs at +8), the
    /// call, then x0..x2 of the answer read back into x5..x7 (RMM 1.0 §5.6).
    /// </summary>
    private static void EnqueueHostCall(ScriptedRealm script, ulong block, ulong function, ulong argument)
    {
        script.EnqueueWrite(block + 8, 8, 9, function);
        script.EnqueueWrite(block + 16, 8, 10, argument);
        script.Enqueue(RsiHostCall, block);
        script.EnqueueRead(block + 8, 8, 5);
        script.EnqueueRead(block + 16, 8, 6);
        script.EnqueueRead(block + 24, 8, 7);
    }
}
