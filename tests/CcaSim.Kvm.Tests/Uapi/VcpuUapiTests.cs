using System.Runtime.CompilerServices;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Uapi;

/// <summary>The arm64 vCPU uAPI: struct layouts, ioctl numbers and feature numbers pinned to the Linux headers.</summary>
public sealed class VcpuUapiTests
{
    private static int Offset<TStruct, TField>(ref TStruct s, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref field));

    public static TheoryData<string, uint, uint> IoctlNumbers => new()
    {
        { "KVM_ARM_VCPU_INIT", KvmVcpuIoctl.ArmVcpuInit, 0x4020AEAE },
        { "KVM_ARM_PREFERRED_TARGET", KvmVcpuIoctl.ArmPreferredTarget, 0x8020AEAF },
        { "KVM_GET_ONE_REG", KvmVcpuIoctl.GetOneReg, 0x4010AEAB },
        { "KVM_SET_ONE_REG", KvmVcpuIoctl.SetOneReg, 0x4010AEAC },
        { "KVM_GET_REG_LIST", KvmVcpuIoctl.GetRegList, 0xC008AEB0 },
        { "KVM_GET_VCPU_EVENTS", KvmVcpuIoctl.GetVcpuEvents, 0x8040AE9F },
        { "KVM_SET_VCPU_EVENTS", KvmVcpuIoctl.SetVcpuEvents, 0x4040AEA0 },
        { "KVM_ARM_VCPU_FINALIZE", KvmVcpuIoctl.ArmVcpuFinalize, 0x4004AEC2 },
        { "KVM_ARM_GET_REG_WRITABLE_MASKS", KvmVcpuIoctl.ArmGetRegWritableMasks, 0x8040AEB6 },
        { "KVM_ARM_SET_COUNTER_OFFSET", KvmVcpuIoctl.ArmSetCounterOffset, 0x4010AEB5 },
    };

    [Theory]
    [MemberData(nameof(IoctlNumbers))]
    public void IoctlNumber_MatchesLinux(string name, uint actual, uint expected) => Assert.True(actual == expected, $"{name}: 0x{actual:X8} != 0x{expected:X8}");

    [Fact]
    public void Ior_EncodesReadDirection()
    {
        Assert.Equal(2u, KvmIoctl.Direction(KvmVcpuIoctl.GetVcpuEvents));
        Assert.Equal(64, KvmIoctl.ArgumentSize(KvmVcpuIoctl.GetVcpuEvents));
        Assert.Equal(0x9f, KvmIoctl.Number(KvmVcpuIoctl.GetVcpuEvents));
    }

    [Fact]
    public void VcpuInit_Is32Bytes_TargetThenSevenFeatureWords()
    {
        KvmVcpuInit s = default;

        Assert.Equal(32, Unsafe.SizeOf<KvmVcpuInit>());
        Assert.Equal(0, Offset(ref s, ref s.Target));
        Assert.Equal(4, Offset(ref s, ref s.Features));
        Assert.Equal(28, Unsafe.SizeOf<UInt32x7>());
    }

    [Fact]
    public void OneReg_Is16Bytes_IdThenAddr()
    {
        KvmOneReg s = default;

        Assert.Equal(16, Unsafe.SizeOf<KvmOneReg>());
        Assert.Equal(0, Offset(ref s, ref s.Id));
        Assert.Equal(8, Offset(ref s, ref s.Addr));
    }

    [Fact]
    public void RegListHeader_Is8Bytes() => Assert.Equal(8, Unsafe.SizeOf<KvmRegListHeader>());

    [Fact]
    public void RegMaskRange_Is64Bytes_AddrRangeThenThirteenReservedWords()
    {
        KvmRegMaskRange s = default;

        Assert.Equal(64, Unsafe.SizeOf<KvmRegMaskRange>());
        Assert.Equal(8, Offset(ref s, ref s.Range));
        Assert.Equal(12, Offset(ref s, ref s.Reserved));
    }

    [Theory]
    [InlineData(0, 0, 0, 0)]
    [InlineData(0, 5, 0, 40)]
    [InlineData(1, 0, 0, 64)]
    [InlineData(3, 7, 7, 191)]
    public void FeatureIdRangeIndex_FoldsOp1ThreeOntoTwo(int op1, int crm, int op2, int index) =>
        Assert.Equal(index, KvmArmFeatureIdRange.Index(op1, crm, op2));

    [Fact]
    public void VcpuEvents_Is64Bytes_WithArm64Offsets()
    {
        KvmVcpuEvents s = default;

        Assert.Equal(64, Unsafe.SizeOf<KvmVcpuEvents>());
        Assert.Equal(0, Offset(ref s, ref s.SerrorPending));
        Assert.Equal(1, Offset(ref s, ref s.SerrorHasEsr));
        Assert.Equal(2, Offset(ref s, ref s.ExtDabtPending));
        Assert.Equal(3, Offset(ref s, ref s.Pad));
        Assert.Equal(8, Offset(ref s, ref s.SerrorEsr));
        Assert.Equal(16, Offset(ref s, ref s.Reserved));
        Assert.Equal(5, Unsafe.SizeOf<UInt8x5>());
        Assert.Equal(48, Unsafe.SizeOf<UInt32x12>());
    }

    [Theory]
    [InlineData("POWER_OFF", KvmVcpuFeature.PowerOff, 0)]
    [InlineData("EL1_32BIT", KvmVcpuFeature.El1Aarch32, 1)]
    [InlineData("PSCI_0_2", KvmVcpuFeature.Psci02, 2)]
    [InlineData("PMU_V3", KvmVcpuFeature.PmuV3, 3)]
    [InlineData("SVE", KvmVcpuFeature.Sve, 4)]
    [InlineData("PTRAUTH_ADDRESS", KvmVcpuFeature.PtrAuthAddress, 5)]
    [InlineData("PTRAUTH_GENERIC", KvmVcpuFeature.PtrAuthGeneric, 6)]
    [InlineData("HAS_EL2", KvmVcpuFeature.HasEl2, 7)]
    [InlineData("KVM_VCPU_MAX_FEATURES (6.6)", KvmVcpuFeature.MaxFeatures, 7)]
    public void FeatureNumber_MatchesArm64Uapi(string name, int actual, int expected) => Assert.True(actual == expected, $"{name}: {actual} != {expected}");

    [Fact]
    public void PreferredTarget_IsGenericV8() => Assert.Equal(5u, KvmArmTarget.GenericV8);

    [Fact]
    public void Marshal_RoundTripsVcpuInitFeatureWords()
    {
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        init.Features[0] = 0x4;
        init.Features[6] = 0xDEAD;
        byte[] image = new byte[32];

        Assert.True(UapiMarshal.Write(image, init).IsSuccess);
        Assert.Equal(5u, BitConverter.ToUInt32(image, 0));
        Assert.Equal(4u, BitConverter.ToUInt32(image, 4));
        Assert.Equal(0xDEADu, BitConverter.ToUInt32(image, 28));
        Assert.Equal(0xDEADu, UapiMarshal.Read<KvmVcpuInit>(image).Value.Features[6]);
    }
}
