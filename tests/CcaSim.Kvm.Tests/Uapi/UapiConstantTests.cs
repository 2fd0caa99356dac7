using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Uapi;

public sealed class UapiConstantTests
{
    [Fact]
    public void IoctlNumbers_MatchTheSpecLiterals()
    {
        Assert.Equal(0x4018AED6u, KvmIoctl.ArmVcpuRmiPsciComplete);
        Assert.Equal(0x4020AED7u, KvmIoctl.ArmRmiPopulate);
        Assert.Equal(0xC020AED7u, KvmIoctl.ArmRmiPopulateV13);
        Assert.Equal(0x40A0AE49u, KvmIoctl.SetUserMemoryRegion2);
        Assert.Equal(0xC040AED4u, KvmIoctl.CreateGuestMemfd);
        Assert.Equal(0x4020AED2u, KvmIoctl.SetMemoryAttributes);
    }

    [Fact]
    public void GenericIoctlNumbers_MatchLinux()
    {
        Assert.Equal(0xAE01u, KvmIoctl.CreateVm);
        Assert.Equal(0xAE03u, KvmIoctl.CheckExtension);
        Assert.Equal(0xAE41u, KvmIoctl.CreateVcpu);
        Assert.Equal(0xAE80u, KvmIoctl.Run);
        Assert.Equal(0x4020AE46u, KvmIoctl.SetUserMemoryRegion);
    }

    [Fact]
    public void IoctlFields_DecodeDirectionSizeAndNumber()
    {
        Assert.Equal(3u, KvmIoctl.Direction(KvmIoctl.CreateGuestMemfd));
        Assert.Equal(64, KvmIoctl.ArgumentSize(KvmIoctl.CreateGuestMemfd));
        Assert.Equal(0xd4, KvmIoctl.Number(KvmIoctl.CreateGuestMemfd));
        Assert.Equal(1u, KvmIoctl.Direction(KvmIoctl.ArmRmiPopulate));
        Assert.Equal(0u, KvmIoctl.Direction(KvmIoctl.Run));
    }

    [Fact]
    public void CapabilityNumbers_MatchUpstreamAndV12()
    {
        Assert.Equal(247, KvmCapabilityNumbers.V12.ArmRmi);
        Assert.Equal(248, (KvmCapabilityNumbers.V12 with { ArmRmi = 248 }).ArmRmi);
        Assert.Equal(231, (int)KvmCapability.UserMemory2);
        Assert.Equal(232, (int)KvmCapability.MemoryFaultInfo);
        Assert.Equal(233, (int)KvmCapability.MemoryAttributes);
        Assert.Equal(234, (int)KvmCapability.GuestMemfd);
        Assert.Equal(235, (int)KvmCapability.VmTypes);
        Assert.Equal(87, (int)KvmCapability.ArmPsci);
        Assert.Equal(165, (int)KvmCapability.ArmVmIpaSize);
        Assert.Equal(187, (int)KvmCapability.StealTime);
        Assert.Equal(227, (int)KvmCapability.CounterOffset);
    }

    [Fact]
    public void FlagsAndExitReasons_MatchTheSpec()
    {
        Assert.Equal(4u, (uint)KvmMemoryRegionOptions.GuestMemfd);
        Assert.Equal(8UL, KvmMemoryAttributeBits.Private);
        Assert.Equal(8UL, KvmMemoryExitFlag.Private);
        Assert.Equal(39u, (uint)KvmExitReason.MemoryFault);
        Assert.Equal(1u, KvmArmRmiPopulateFlags.Measure);
        Assert.Equal(0x01, (int)FallocateMode.KeepSize);
        Assert.Equal(0x02, (int)FallocateMode.PunchHole);
    }

    [Theory]
    [InlineData(0x000UL, 0, 0x000UL)]
    [InlineData(0x100UL, 0, 0x100UL)]
    [InlineData(0x12AUL, 42, 0x100UL)]
    [InlineData(0x034UL, 52, 0x000UL)]
    public void VmType_SplitsIpaSizeAndMachineType(ulong type, int ipa, ulong machine)
    {
        Assert.Equal(ipa, KvmVmType.IpaSize(type));
        Assert.Equal(machine, KvmVmType.MachineType(type));
        Assert.Equal(type, KvmVmType.Make(machine, ipa));
        Assert.Equal(0UL, type & ~KvmVmType.ValidMask);
    }

    [Theory]
    [InlineData(Errno.EPERM, 1)]
    [InlineData(Errno.ENOENT, 2)]
    [InlineData(Errno.EINTR, 4)]
    [InlineData(Errno.EIO, 5)]
    [InlineData(Errno.ENXIO, 6)]
    [InlineData(Errno.E2BIG, 7)]
    [InlineData(Errno.EBADF, 9)]
    [InlineData(Errno.EAGAIN, 11)]
    [InlineData(Errno.ENOMEM, 12)]
    [InlineData(Errno.EFAULT, 14)]
    [InlineData(Errno.EBUSY, 16)]
    [InlineData(Errno.EEXIST, 17)]
    [InlineData(Errno.ENODEV, 19)]
    [InlineData(Errno.EINVAL, 22)]
    [InlineData(Errno.ENOTTY, 25)]
    [InlineData(Errno.EFBIG, 27)]
    [InlineData(Errno.ENOSPC, 28)]
    [InlineData(Errno.ESPIPE, 29)]
    [InlineData(Errno.EOPNOTSUPP, 95)]
    [InlineData(Errno.EHWPOISON, 133)]
    public void Errno_HasLinuxValue(Errno errno, int value) => Assert.Equal(value, (int)errno);

    [Fact]
    public void KvmResult_CarriesMinusErrnoOrTheValue()
    {
        KvmResult fail = Errno.EEXIST;
        KvmResult bytes = KvmResult.Ok(8192);

        Assert.Equal(-17, fail.ReturnValue);
        Assert.False(fail.IsSuccess);
        Assert.Equal(Errno.EEXIST, fail.Error);
        Assert.Equal(8192, bytes.ReturnValue);
        Assert.Equal(Errno.None, bytes.Error);
        Assert.True(KvmResult.Success.IsSuccess);
        Assert.Equal(0, KvmResult.Success.ReturnValue);
    }

    [Fact]
    public void KvmResultOfT_FailedValue_CannotBeRead()
    {
        KvmResult<int> r = Errno.ENODEV;

        Assert.Equal(Errno.ENODEV, r.Error);
        Assert.Equal(-19, r.ToResult().ReturnValue);
        Assert.Throws<InvalidOperationException>(() => r.Value);
    }
}
