using CcaSim.Kvm.Vcpu;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>Register ids pinned to the values the Linux uAPI macros produce (as QEMU and kvmtool use them).</summary>
public sealed class ArmRegisterIdTests
{
    public static TheoryData<string, ulong, ulong> Ids => new()
    {
        { "X0", ArmRegisterId.X(0), 0x6030_0000_0010_0000 },
        { "X7", ArmRegisterId.X(7), 0x6030_0000_0010_000E },
        { "X30", ArmRegisterId.X(30), 0x6030_0000_0010_003C },
        { "SP", ArmRegisterId.Sp, 0x6030_0000_0010_003E },
        { "PC", ArmRegisterId.Pc, 0x6030_0000_0010_0040 },
        { "PSTATE", ArmRegisterId.Pstate, 0x6030_0000_0010_0042 },
        { "SP_EL1", ArmRegisterId.SpEl1, 0x6030_0000_0010_0044 },
        { "ELR_EL1", ArmRegisterId.ElrEl1, 0x6030_0000_0010_0046 },
        { "SPSR[0]", ArmRegisterId.Spsr(0), 0x6030_0000_0010_0048 },
        { "SPSR[4]", ArmRegisterId.Spsr(4), 0x6030_0000_0010_0050 },
        { "V0", ArmRegisterId.V(0), 0x6040_0000_0010_0054 },
        { "V31", ArmRegisterId.V(31), 0x6040_0000_0010_00D0 },
        { "FPSR", ArmRegisterId.Fpsr, 0x6020_0000_0010_00D4 },
        { "FPCR", ArmRegisterId.Fpcr, 0x6020_0000_0010_00D5 },
        { "ID_AA64DFR0_EL1", ArmRegisterId.IdAa64Dfr0El1, 0x6030_0000_0013_C028 },
        { "PMCR_EL0", ArmRegisterId.PmcrEl0, 0x6030_0000_0013_DCE0 },
        { "MIDR_EL1", ArmRegisterId.SysRegId(3, 0, 0, 0, 0), 0x6030_0000_0013_C000 },
        { "CNTV_CTL_EL0", ArmRegisterId.SysRegId(3, 3, 14, 3, 1), 0x6030_0000_0013_DF19 },
        { "KVM_REG_ARM_PSCI_VERSION", ArmRegisterId.PsciVersion, 0x6030_0000_0014_0000 },
        { "KVM_REG_ARM64_SVE_VLS", ArmRegisterId.SveVls, 0x6060_0000_0015_FFFF },
        { "SVE Z0", ArmRegisterId.SveZReg(0, 0), 0x6080_0000_0015_0000 },
        { "SVE Z31", ArmRegisterId.SveZReg(31, 0), 0x6080_0000_0015_03E0 },
        { "SVE P0", ArmRegisterId.SvePReg(0, 0), 0x6050_0000_0015_0400 },
        { "SVE P15 slice 31", ArmRegisterId.SvePReg(15, 31), 0x6050_0000_0015_05FF },
        { "SVE FFR", ArmRegisterId.SveFfr(0), 0x6050_0000_0015_0600 },
    };

    [Theory]
    [MemberData(nameof(Ids))]
    public void RegisterId_MatchesTheUapiMacro(string name, ulong actual, ulong expected) =>
        Assert.True(actual == expected, $"{name}: 0x{actual:X16} != 0x{expected:X16}");

    [Theory]
    [InlineData(ArmRegisterId.SizeU8, 1)]
    [InlineData(ArmRegisterId.SizeU32, 4)]
    [InlineData(ArmRegisterId.SizeU64, 8)]
    [InlineData(ArmRegisterId.SizeU128, 16)]
    [InlineData(ArmRegisterId.SizeU256, 32)]
    [InlineData(ArmRegisterId.SizeU512, 64)]
    [InlineData(ArmRegisterId.SizeU2048, 256)]
    public void SizeInBytes_DecodesTheSizeField(ulong sizeField, int bytes) =>
        Assert.Equal(bytes, ArmRegisterId.SizeInBytes(ArmRegisterId.Arm64 | sizeField | ArmRegisterId.Core));

    [Theory]
    [InlineData(0x6030_0000_0010_0000UL, true)]
    [InlineData(0x6080_0000_0015_0000UL, true)]
    [InlineData(0x4030_0000_0010_0000UL, false)]
    [InlineData(0x6030_0001_0010_0000UL, false)]
    [InlineData(0x6130_0000_0010_0000UL, false)]
    public void HasArm64Prefix_AcceptsOnlyTheArm64ArchWithZeroReservedBits(ulong id, bool expected) =>
        Assert.Equal(expected, ArmRegisterId.HasArm64Prefix(id));

    [Fact]
    public void CoreOffsets_DescribeAn864ByteKvmRegs()
    {
        Assert.Equal(272 / 4, CoreOffset.SpEl1);
        Assert.Equal(336 / 4, CoreOffset.V0);
        Assert.Equal(848 / 4, CoreOffset.Fpsr);
        Assert.Equal(864 / 4, CoreOffset.KvmRegsWords);
    }
}
