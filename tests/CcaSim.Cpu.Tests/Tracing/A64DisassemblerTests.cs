using CcaSim.Cpu.Disassembly;

namespace CcaSim.Cpu.Tests.Tracing;

/// <summary>The Capstone binding behind traces of faulting instructions (scripts/setup.sh installs libcapstone4).</summary>
public sealed class A64DisassemblerTests
{
    [Theory]
    [InlineData(0xD503_207Fu, "wfi")]
    [InlineData(0xF940_0020u, "ldr x0, [x1]")]
    [InlineData(0xB900_0002u, "str w2, [x0]")]
    [InlineData(0xD400_0003u, "smc #0")]
    [InlineData(0xD69F_03E0u, "eret")]
    public void TryDisassemble_OfAKnownWord_GivesItsAssemblerSyntax(uint word, string expected)
    {
        Assert.True(A64Disassembler.IsAvailable, "libcapstone.so.4 (or .5) is missing: run scripts/setup.sh");

        Assert.Equal(expected, A64Disassembler.TryDisassemble(word));
    }

    [Fact]
    public void TryDisassemble_OfAPcRelativeBranch_ResolvesTheTargetFromTheAddress()
    {
        Assert.True(A64Disassembler.IsAvailable, "libcapstone.so.4 (or .5) is missing: run scripts/setup.sh");

        Assert.Equal("b #0x80080010", A64Disassembler.TryDisassemble(0x1400_0004, 0x8008_0000));
    }

    [Fact]
    public void TryDisassemble_OfAnUnallocatedWord_IsNull()
    {
        Assert.True(A64Disassembler.IsAvailable, "libcapstone.so.4 (or .5) is missing: run scripts/setup.sh");

        // op0 0b0001 (bits 28:25) is unallocated in the A64 top-level encoding table.
        Assert.Null(A64Disassembler.TryDisassemble(0x0200_0000));
    }

    [Theory]
    [InlineData(0x0000_0000u, "udf #0")]
    [InlineData(0x0000_0009u, "udf #9")]
    [InlineData(0x0000_1234u, "udf #0x1234")]
    public void TryDisassemble_OfUdf_GivesItEvenWhereCapstone4DoesNotKnowIt(uint word, string expected)
    {
        Assert.True(A64Disassembler.IsAvailable, "libcapstone.so.4 (or .5) is missing: run scripts/setup.sh");

        Assert.Equal(expected, A64Disassembler.TryDisassemble(word));
    }
}
