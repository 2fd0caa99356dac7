using System.Runtime.CompilerServices;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Uapi;

/// <summary>The device-control UAPI of the in-kernel GICv3, pinned against include/uapi/linux/kvm.h and asm/kvm.h.</summary>
public sealed class DeviceUapiTests
{
    private static int Offset<TStruct, TField>(ref TStruct s, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref field));

    [Fact]
    public void DeviceIoctlNumbers_MatchLinux()
    {
        Assert.Equal(0xC00CAEE0u, KvmDeviceIoctl.CreateDevice);
        Assert.Equal(0x4018AEE1u, KvmDeviceIoctl.SetDeviceAttr);
        Assert.Equal(0x4018AEE2u, KvmDeviceIoctl.GetDeviceAttr);
        Assert.Equal(0x4018AEE3u, KvmDeviceIoctl.HasDeviceAttr);
        Assert.Equal(0x4008AE61u, KvmDeviceIoctl.IrqLine);
    }

    [Fact]
    public void CreateDevice_Is12Bytes_TypeFdFlags()
    {
        KvmCreateDevice s = default;

        Assert.Equal(12, Unsafe.SizeOf<KvmCreateDevice>());
        Assert.Equal(0, Offset(ref s, ref s.Type));
        Assert.Equal(4, Offset(ref s, ref s.Fd));
        Assert.Equal(8, Offset(ref s, ref s.Flags));
    }

    [Fact]
    public void DeviceAttr_Is24Bytes_FlagsGroupAttrAddr()
    {
        KvmDeviceAttr s = default;

        Assert.Equal(24, Unsafe.SizeOf<KvmDeviceAttr>());
        Assert.Equal(0, Offset(ref s, ref s.Flags));
        Assert.Equal(4, Offset(ref s, ref s.Group));
        Assert.Equal(8, Offset(ref s, ref s.Attr));
        Assert.Equal(16, Offset(ref s, ref s.Addr));
    }

    [Fact]
    public void IrqLevel_Is8Bytes_IrqLevel()
    {
        KvmIrqLevel s = default;

        Assert.Equal(8, Unsafe.SizeOf<KvmIrqLevel>());
        Assert.Equal(0, Offset(ref s, ref s.Irq));
        Assert.Equal(4, Offset(ref s, ref s.Level));
    }

    [Fact]
    public void DeviceTypesAndFlags_MatchLinux()
    {
        Assert.Equal(5u, (uint)KvmDeviceType.ArmVgicV2);
        Assert.Equal(7u, (uint)KvmDeviceType.ArmVgicV3);
        Assert.Equal(8u, (uint)KvmDeviceType.ArmVgicIts);
        Assert.Equal(1u, (uint)KvmCreateDeviceOptions.Test);
    }

    [Theory]
    [InlineData("GroupAddr", KvmVgicAttr.GroupAddr, 0u)]
    [InlineData("GroupDistRegs", KvmVgicAttr.GroupDistRegs, 1u)]
    [InlineData("GroupCpuRegs", KvmVgicAttr.GroupCpuRegs, 2u)]
    [InlineData("GroupNrIrqs", KvmVgicAttr.GroupNrIrqs, 3u)]
    [InlineData("GroupCtrl", KvmVgicAttr.GroupCtrl, 4u)]
    [InlineData("GroupRedistRegs", KvmVgicAttr.GroupRedistRegs, 5u)]
    [InlineData("GroupCpuSysregs", KvmVgicAttr.GroupCpuSysregs, 6u)]
    [InlineData("GroupLevelInfo", KvmVgicAttr.GroupLevelInfo, 7u)]
    public void VgicAttrGroups_MatchLinux(string name, uint actual, uint linux) => Assert.True(linux == actual, name);

    [Theory]
    [InlineData("AddrTypeV2Dist", KvmVgicAttr.AddrTypeV2Dist, 0UL)]
    [InlineData("AddrTypeV2Cpu", KvmVgicAttr.AddrTypeV2Cpu, 1UL)]
    [InlineData("AddrTypeV3Dist", KvmVgicAttr.AddrTypeV3Dist, 2UL)]
    [InlineData("AddrTypeV3Redist", KvmVgicAttr.AddrTypeV3Redist, 3UL)]
    [InlineData("AddrTypeIts", KvmVgicAttr.AddrTypeIts, 4UL)]
    [InlineData("AddrTypeV3RedistRegion", KvmVgicAttr.AddrTypeV3RedistRegion, 5UL)]
    [InlineData("CtrlInit", KvmVgicAttr.CtrlInit, 0UL)]
    [InlineData("CtrlSavePendingTables", KvmVgicAttr.CtrlSavePendingTables, 3UL)]
    [InlineData("V3DistSize", KvmVgicAttr.V3DistSize, 0x10000UL)]
    [InlineData("V3RedistSize", KvmVgicAttr.V3RedistSize, 0x20000UL)]
    public void VgicAttributes_MatchLinux(string name, ulong actual, ulong linux) => Assert.True(linux == actual, name);

    [Fact]
    public void IrqLineFields_MatchLinuxShiftsAndMasks()
    {
        Assert.Equal(28, KvmArmIrqLine.Vcpu2Shift);
        Assert.Equal(0xfu, KvmArmIrqLine.Vcpu2Mask);
        Assert.Equal(24, KvmArmIrqLine.TypeShift);
        Assert.Equal(0xfu, KvmArmIrqLine.TypeMask);
        Assert.Equal(16, KvmArmIrqLine.VcpuShift);
        Assert.Equal(0xffu, KvmArmIrqLine.VcpuMask);
        Assert.Equal(0, KvmArmIrqLine.NumShift);
        Assert.Equal(0xffffu, KvmArmIrqLine.NumMask);
        Assert.Equal(0u, KvmArmIrqLine.TypeCpu);
        Assert.Equal(1u, KvmArmIrqLine.TypeSpi);
        Assert.Equal(2u, KvmArmIrqLine.TypePpi);
    }

    [Theory]
    [InlineData(KvmArmIrqLine.TypeSpi, 0, 33u, 0x0100_0021u)]
    [InlineData(KvmArmIrqLine.TypeSpi, 0, 991u, 0x0100_03DFu)]
    [InlineData(KvmArmIrqLine.TypePpi, 0, 27u, 0x0200_001Bu)]
    [InlineData(KvmArmIrqLine.TypePpi, 3, 30u, 0x0203_001Eu)]
    [InlineData(KvmArmIrqLine.TypePpi, 255, 16u, 0x02FF_0010u)]
    [InlineData(KvmArmIrqLine.TypePpi, 256, 16u, 0x1200_0010u)]
    [InlineData(KvmArmIrqLine.TypePpi, 4095, 31u, 0xF2FF_001Fu)]
    [InlineData(KvmArmIrqLine.TypeCpu, 1, 1u, 0x0001_0001u)]
    public void IrqLineEncoding_RoundTripsTheLinuxLayout(uint type, int vcpu, uint num, uint word)
    {
        Assert.Equal(word, KvmArmIrqLine.Encode(type, vcpu, num));
        Assert.Equal(type, KvmArmIrqLine.Type(word));
        Assert.Equal(vcpu, KvmArmIrqLine.VcpuIndex(word));
        Assert.Equal(num, KvmArmIrqLine.Number(word));
    }

    [Fact]
    public void IrqLineEncoding_BeyondFourKiVcpus_IsAProgrammingError() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => KvmArmIrqLine.Encode(KvmArmIrqLine.TypePpi, 4096, 16));
}
