using System.Runtime.InteropServices;
using CcaSim.Kvm.Run;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Kvm.Tests;

/// <summary>
/// An ioctl on the wrong kind of fd answers as Linux 6.6 + v12 does: the generic handlers of kvm_main.c fall through
/// to arm64's kvm_arch_dev_ioctl / kvm_arch_vm_ioctl / kvm_arch_vcpu_ioctl, whose default is -EINVAL; a guest_memfd
/// (no ioctl method) and a device fd (kvm_device_ioctl's default) give -ENOTTY; a closed fd -EBADF.
/// </summary>
public sealed class IoctlDispatchTests
{
    public enum FdKind
    {
        DevKvm,
        Vm,
        Vcpu,
        GuestMemfd,
        Device,
        Closed,
    }

    public enum Ioctl
    {
        CreateVm,
        CheckExtension,
        GetVcpuMmapSize,
        CreateVcpu,
        SetUserMemoryRegion,
        SetUserMemoryRegion2,
        CreateGuestMemfd,
        SetMemoryAttributes,
        ArmRmiPopulate,
        CreateDevice,
        IrqLine,
        ArmSetCounterOffset,
        ArmPreferredTarget,
        ArmGetRegWritableMasks,
        Run,
        ArmVcpuInit,
        ArmVcpuFinalize,
        SetOneReg,
        GetOneReg,
        GetRegList,
        GetVcpuEvents,
        SetVcpuEvents,
        ArmVcpuRmiPsciComplete,
        SetDeviceAttr,
        GetDeviceAttr,
        HasDeviceAttr,

        /// <summary>A request number no handler knows (KVMIO type, nr 0xff).</summary>
        Unknown,
    }

    /// <summary>Every ioctl of the model that one fd kind does not handle, with the errno that fd kind gives.</summary>
    public static TheoryData<FdKind, Ioctl, Errno> WrongFdCases()
    {
        var data = new TheoryData<FdKind, Ioctl, Errno>();
        Ioctl[] devKvm = [Ioctl.CreateVm, Ioctl.CheckExtension, Ioctl.GetVcpuMmapSize];
        Ioctl[] vm =
        [
            Ioctl.CheckExtension, Ioctl.CreateVcpu, Ioctl.SetUserMemoryRegion, Ioctl.SetUserMemoryRegion2,
            Ioctl.CreateGuestMemfd, Ioctl.SetMemoryAttributes, Ioctl.ArmRmiPopulate, Ioctl.CreateDevice, Ioctl.IrqLine,
            Ioctl.ArmSetCounterOffset, Ioctl.ArmPreferredTarget, Ioctl.ArmGetRegWritableMasks, Ioctl.SetDeviceAttr,
            Ioctl.HasDeviceAttr,
        ];
        Ioctl[] vcpu =
        [
            Ioctl.Run, Ioctl.ArmVcpuInit, Ioctl.ArmVcpuFinalize, Ioctl.SetOneReg, Ioctl.GetOneReg, Ioctl.GetRegList,
            Ioctl.GetVcpuEvents, Ioctl.SetVcpuEvents, Ioctl.ArmVcpuRmiPsciComplete, Ioctl.SetDeviceAttr,
            Ioctl.GetDeviceAttr, Ioctl.HasDeviceAttr,
        ];
        Ioctl[] device = [Ioctl.SetDeviceAttr, Ioctl.GetDeviceAttr, Ioctl.HasDeviceAttr];
        foreach (Ioctl ioctl in Enum.GetValues<Ioctl>())
        {
            if (!devKvm.Contains(ioctl))
            {
                data.Add(FdKind.DevKvm, ioctl, Errno.EINVAL);
            }

            if (!vm.Contains(ioctl))
            {
                data.Add(FdKind.Vm, ioctl, Errno.EINVAL);
            }

            if (!vcpu.Contains(ioctl))
            {
                data.Add(FdKind.Vcpu, ioctl, Errno.EINVAL);
            }

            if (!device.Contains(ioctl))
            {
                data.Add(FdKind.Device, ioctl, Errno.ENOTTY);
            }

            data.Add(FdKind.GuestMemfd, ioctl, Errno.ENOTTY);
            data.Add(FdKind.Closed, ioctl, Errno.EBADF);
        }

        // Handled, but not for a vGIC attribute: kvm_vm_set_attr / kvm_vm_has_attr know only the SMCCC group, and
        // the vCPU attribute groups are not modelled (-ENXIO, FIDELITY.md).
        data.Add(FdKind.Vm, Ioctl.SetDeviceAttr, Errno.ENXIO);
        data.Add(FdKind.Vm, Ioctl.HasDeviceAttr, Errno.ENXIO);
        data.Add(FdKind.Vcpu, Ioctl.SetDeviceAttr, Errno.ENXIO);
        data.Add(FdKind.Vcpu, Ioctl.GetDeviceAttr, Errno.ENXIO);
        data.Add(FdKind.Vcpu, Ioctl.HasDeviceAttr, Errno.ENXIO);
        return data;
    }

    [Theory]
    [MemberData(nameof(WrongFdCases))]
    public void Ioctl_OnAnFdWhoseHandlerDoesNotKnowIt_ReturnsThatHandlersDefaultErrno(FdKind kind, Ioctl ioctl, Errno expected)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        int closed = bed.Kvm.OpenDevKvm();
        Assert.Equal(0, bed.Kvm.Close(closed).ReturnValue);
        int fd = kind switch
        {
            FdKind.DevKvm => bed.KvmFd,
            FdKind.Vm => vmm.VmFd,
            FdKind.Vcpu => vmm.VcpuFds[0],
            FdKind.GuestMemfd => vmm.GmemFd,
            FdKind.Device => vmm.GicFd,
            _ => closed,
        };
        int vcpusBefore = vmm.Vm.Vcpus.Count;
        int slotsBefore = vmm.Vm.Memslots.Slots.Count();

        KvmResult r = Invoke(bed, fd, ioctl);

        Assert.Equal(expected, r.Error);
        Assert.Equal(vcpusBefore, vmm.Vm.Vcpus.Count);
        Assert.Equal(slotsBefore, vmm.Vm.Memslots.Slots.Count());
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Theory]
    [InlineData(FdKind.Vm, Ioctl.Run, Errno.EINVAL)]
    [InlineData(FdKind.Vcpu, Ioctl.ArmRmiPopulate, Errno.EINVAL)]
    [InlineData(FdKind.Vcpu, Ioctl.SetUserMemoryRegion2, Errno.EINVAL)]
    [InlineData(FdKind.Vcpu, Ioctl.SetMemoryAttributes, Errno.EINVAL)]
    [InlineData(FdKind.Vcpu, Ioctl.CreateGuestMemfd, Errno.EINVAL)]
    [InlineData(FdKind.Vcpu, Ioctl.CheckExtension, Errno.EINVAL)]
    [InlineData(FdKind.DevKvm, Ioctl.CreateVcpu, Errno.EINVAL)]
    [InlineData(FdKind.Vm, Ioctl.ArmVcpuInit, Errno.EINVAL)]
    [InlineData(FdKind.Vm, Ioctl.SetOneReg, Errno.EINVAL)]
    [InlineData(FdKind.Vm, Ioctl.GetOneReg, Errno.EINVAL)]
    [InlineData(FdKind.GuestMemfd, Ioctl.CheckExtension, Errno.ENOTTY)]
    [InlineData(FdKind.Device, Ioctl.CheckExtension, Errno.ENOTTY)]
    public void Ioctl_OnTheWrongKindOfFd_ReturnsTheErrnoLinuxGives(FdKind kind, Ioctl ioctl, Errno expected) =>
        Ioctl_OnAnFdWhoseHandlerDoesNotKnowIt_ReturnsThatHandlersDefaultErrno(kind, ioctl, expected);

    [Fact]
    public void DeviceAttrOnAVmFd_IsTheSmcccFilterGroup_AndEverythingElseIsEnxio()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        ulong buffer = (ulong)bed.Kvm.Process.Mmap(4096).ReturnValue;
        var filterAttr = new KvmDeviceAttr { Group = KvmArmVmAttr.GroupSmcccCtrl, Attr = KvmArmVmAttr.SmcccFilter, Addr = buffer };
        var vgicDist = new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = KvmVgicAttr.AddrTypeV3Dist, Addr = buffer };
        var filter = new KvmSmcccFilter { Base = 0xC600_0000, NrFunctions = 16, Action = (byte)SmcccFilterAction.FwdToUser };
        Assert.True(bed.Kvm.Process.TryWrite(buffer, MemoryMarshal.AsBytes(new ReadOnlySpan<KvmSmcccFilter>(in filter))));

        Assert.Equal(Errno.None, bed.Kvm.HasDeviceAttr(vmm.VmFd, filterAttr).Error);
        Assert.Equal(Errno.ENXIO, bed.Kvm.HasDeviceAttr(vmm.VmFd, vgicDist).Error);
        Assert.Equal(Errno.ENXIO, bed.Kvm.SetDeviceAttr(vmm.VmFd, vgicDist).Error);
        Assert.Equal(Errno.EINVAL, bed.Kvm.GetDeviceAttr(vmm.VmFd, filterAttr).Error);
        Assert.Equal(Errno.EFAULT, bed.Kvm.SetDeviceAttr(vmm.VmFd, filterAttr with { Addr = 0x1000 }).Error);
        Assert.Equal(SmcccFilterAction.Handle, vmm.Vm.SmcccFilter.ActionFor(0xC600_0003));

        Assert.Equal(Errno.None, bed.Kvm.SetDeviceAttr(vmm.VmFd, filterAttr).Error);

        Assert.Equal(SmcccFilterAction.FwdToUser, vmm.Vm.SmcccFilter.ActionFor(0xC600_0003));
        Assert.Equal(0, bed.Kvm.Process.Munmap(buffer).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void SmcccFilter_AfterTheVmRan_ChecksTheFilterBeforeAnsweringEbusy()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.RunVcpu();
        Assert.True(vmm.Vm.HasRun);
        var valid = new KvmSmcccFilter { Base = 0xC600_0000, NrFunctions = 1, Action = (byte)SmcccFilterAction.Deny };

        Assert.Equal(Errno.EINVAL, bed.Kvm.SetSmcccFilter(vmm.VmFd, valid with { NrFunctions = 0 }).Error);
        Assert.Equal(Errno.EINVAL, bed.Kvm.SetSmcccFilter(vmm.VmFd, valid with { Action = 3 }).Error);
        Assert.Equal(Errno.EBUSY, bed.Kvm.SetSmcccFilter(vmm.VmFd, valid).Error);

        vmm.Close();
        bed.AssertNoLeaks();
    }

    private static KvmResult Invoke(KvmTestBed bed, int fd, Ioctl ioctl)
    {
        KvmHost kvm = bed.Kvm;
        var attr = new KvmDeviceAttr { Group = KvmVgicAttr.GroupCtrl, Attr = KvmVgicAttr.CtrlInit };
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        init.Features[0] = RealmVmm.DefaultFeatures;
        switch (ioctl)
        {
            case Ioctl.CreateVm:
                return kvm.CreateVm(fd, KvmVmType.ArmRealm);
            case Ioctl.CheckExtension:
                return kvm.CheckExtension(fd, (long)KvmCapability.UserMemory2);
            case Ioctl.GetVcpuMmapSize:
                return kvm.GetVcpuMmapSize(fd);
            case Ioctl.CreateVcpu:
                return kvm.CreateVcpu(fd, 1);
            case Ioctl.SetUserMemoryRegion:
                return kvm.SetUserMemoryRegion(fd, new KvmUserspaceMemoryRegion { Slot = 1, GuestPhysAddr = 0x1000_0000, MemorySize = 4096, UserspaceAddr = 0x7f00_0000_0000 });
            case Ioctl.SetUserMemoryRegion2:
                return kvm.SetUserMemoryRegion2(fd, new KvmUserspaceMemoryRegion2 { Slot = 1, GuestPhysAddr = 0x1000_0000, MemorySize = 4096, UserspaceAddr = 0x7f00_0000_0000 });
            case Ioctl.CreateGuestMemfd:
                return kvm.CreateGuestMemfd(fd, new KvmCreateGuestMemfd { Size = 4096 });
            case Ioctl.SetMemoryAttributes:
                return kvm.SetMemoryAttributes(fd, new KvmMemoryAttributes { Address = RealmVmm.RamBase, Size = 4096 });
            case Ioctl.ArmRmiPopulate:
                return kvm.ArmRmiPopulate(fd, new KvmArmRmiPopulate { Base = RealmVmm.RamBase, Size = 4096, SourceUaddr = 0x7f00_0000_0000 });
            case Ioctl.CreateDevice:
                var device = new KvmCreateDevice { Type = (uint)KvmDeviceType.ArmVgicV3 };
                return kvm.CreateDevice(fd, ref device);
            case Ioctl.IrqLine:
                return kvm.IrqLine(fd, new KvmIrqLevel { Irq = KvmArmIrqLine.Encode(KvmArmIrqLine.TypeSpi, 0, 40), Level = 1 });
            case Ioctl.ArmSetCounterOffset:
                return kvm.ArmSetCounterOffset(fd, default);
            case Ioctl.ArmPreferredTarget:
                return kvm.ArmPreferredTarget(fd, out _);
            case Ioctl.ArmGetRegWritableMasks:
                return kvm.ArmGetRegWritableMasks(fd, new KvmRegMaskRange { Addr = 0x1000 });
            case Ioctl.Run:
                return kvm.Run(fd);
            case Ioctl.ArmVcpuInit:
                return kvm.ArmVcpuInit(fd, init);
            case Ioctl.ArmVcpuFinalize:
                return kvm.ArmVcpuFinalize(fd, KvmVcpuFeature.Sve);
            case Ioctl.SetOneReg:
                return kvm.SetOneReg(fd, new KvmOneReg { Id = ArmRegisterId.Pc, Addr = 0x1000 });
            case Ioctl.GetOneReg:
                return kvm.GetOneReg(fd, new KvmOneReg { Id = ArmRegisterId.Pc, Addr = 0x1000 });
            case Ioctl.GetRegList:
                return kvm.GetRegList(fd, 0x1000);
            case Ioctl.GetVcpuEvents:
                return kvm.GetVcpuEvents(fd, out _);
            case Ioctl.SetVcpuEvents:
                return kvm.SetVcpuEvents(fd, default);
            case Ioctl.ArmVcpuRmiPsciComplete:
                return kvm.ArmVcpuRmiPsciComplete(fd, default);
            case Ioctl.SetDeviceAttr:
                return kvm.SetDeviceAttr(fd, attr);
            case Ioctl.GetDeviceAttr:
                return kvm.GetDeviceAttr(fd, attr);
            case Ioctl.HasDeviceAttr:
                return kvm.HasDeviceAttr(fd, attr);
            default:
                return kvm.UnknownIoctl(fd, KvmIoctl.Io(0xff));
        }
    }
}
