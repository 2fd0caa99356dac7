using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Vgic;

/// <summary>KVM_GET_DEVICE_ATTR and KVM_HAS_DEVICE_ATTR on the GICv3 device fd, through VMM memory.</summary>
public sealed class VgicDeviceIoctlTests
{
    [Fact]
    public void GetDeviceAttr_ReadsTheAddressesTheVmmSet_IntoVmmMemory()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        ulong buffer = (ulong)bed.Kvm.Process.Mmap(4096).ReturnValue;

        Assert.Equal(0, bed.Kvm.GetDeviceAttr(vmm.GicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = KvmVgicAttr.AddrTypeV3Dist, Addr = buffer }).ReturnValue);
        Assert.Equal(RealmVmm.GicDistributor, Read64(bed, buffer));
        Assert.Equal(0, bed.Kvm.GetDeviceAttr(vmm.GicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = KvmVgicAttr.AddrTypeV3Redist, Addr = buffer }).ReturnValue);
        Assert.Equal(RealmVmm.GicRedistributors, Read64(bed, buffer));

        Assert.Equal(0, bed.Kvm.Process.Munmap(buffer).ReturnValue);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void GetDeviceAttr_ToUnmappedMemoryOrOnAnotherFd_Fails()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        var dist = new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = KvmVgicAttr.AddrTypeV3Dist, Addr = 0x1000 };

        Assert.Equal(Errno.EFAULT, bed.Kvm.GetDeviceAttr(vmm.GicFd, dist).Error);
        Assert.Equal(Errno.EINVAL, bed.Kvm.GetDeviceAttr(vmm.VmFd, dist).Error);
        Assert.Equal(Errno.EBADF, bed.Kvm.GetDeviceAttr(999, dist).Error);

        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Theory]
    [InlineData(KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Dist, Errno.None)]
    [InlineData(KvmVgicAttr.GroupCtrl, KvmVgicAttr.CtrlInit, Errno.None)]
    [InlineData(KvmVgicAttr.GroupNrIrqs, 0UL, Errno.None)]
    [InlineData(KvmVgicAttr.GroupCtrl, 0x7FUL, Errno.ENXIO)]
    [InlineData(0x7FU, 0UL, Errno.ENXIO)]
    public void HasDeviceAttr_AnswersForWhatTheVgicImplements(uint group, ulong attr, Errno expected)
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);

        Assert.Equal(expected, bed.Kvm.HasDeviceAttr(vmm.GicFd, new KvmDeviceAttr { Group = group, Attr = attr }).Error);

        vmm.Close();
        bed.AssertNoLeaks();
    }

    private static ulong Read64(KvmTestBed bed, ulong uaddr)
    {
        byte[] b = new byte[8];
        Assert.True(bed.Kvm.Process.TryRead(uaddr, b));
        return BitConverter.ToUInt64(b);
    }
}
