using CcaSim.Cpu.Arch;

namespace CcaSim.Cpu.Tests.Arch;

public class SysRegTests
{
    public static TheoryData<string, int, int, int, int, int> WellKnown => new()
    {
        { "ICC_IAR1_EL1", 3, 0, 12, 12, 0 },
        { "ICC_EOIR1_EL1", 3, 0, 12, 12, 1 },
        { "ICC_HPPIR1_EL1", 3, 0, 12, 12, 2 },
        { "ICC_BPR1_EL1", 3, 0, 12, 12, 3 },
        { "ICC_CTLR_EL1", 3, 0, 12, 12, 4 },
        { "ICC_SRE_EL1", 3, 0, 12, 12, 5 },
        { "ICC_IGRPEN0_EL1", 3, 0, 12, 12, 6 },
        { "ICC_IGRPEN1_EL1", 3, 0, 12, 12, 7 },
        { "ICC_IAR0_EL1", 3, 0, 12, 8, 0 },
        { "ICC_EOIR0_EL1", 3, 0, 12, 8, 1 },
        { "ICC_HPPIR0_EL1", 3, 0, 12, 8, 2 },
        { "ICC_BPR0_EL1", 3, 0, 12, 8, 3 },
        { "ICC_AP0R0_EL1", 3, 0, 12, 8, 4 },
        { "ICC_AP1R0_EL1", 3, 0, 12, 9, 0 },
        { "ICC_AP1R3_EL1", 3, 0, 12, 9, 3 },
        { "ICC_DIR_EL1", 3, 0, 12, 11, 1 },
        { "ICC_RPR_EL1", 3, 0, 12, 11, 3 },
        { "ICC_SGI1R_EL1", 3, 0, 12, 11, 5 },
        { "ICC_ASGI1R_EL1", 3, 0, 12, 11, 6 },
        { "ICC_SGI0R_EL1", 3, 0, 12, 11, 7 },
        { "ICC_PMR_EL1", 3, 0, 4, 6, 0 },
        { "CNTFRQ_EL0", 3, 3, 14, 0, 0 },
        { "CNTPCT_EL0", 3, 3, 14, 0, 1 },
        { "CNTVCT_EL0", 3, 3, 14, 0, 2 },
        { "CNTP_TVAL_EL0", 3, 3, 14, 2, 0 },
        { "CNTP_CTL_EL0", 3, 3, 14, 2, 1 },
        { "CNTP_CVAL_EL0", 3, 3, 14, 2, 2 },
        { "CNTV_TVAL_EL0", 3, 3, 14, 3, 0 },
        { "CNTV_CTL_EL0", 3, 3, 14, 3, 1 },
        { "CNTV_CVAL_EL0", 3, 3, 14, 3, 2 },
        { "CNTKCTL_EL1", 3, 0, 14, 1, 0 },
        { "MPIDR_EL1", 3, 0, 0, 0, 5 },
    };

    [Theory]
    [MemberData(nameof(WellKnown))]
    public void WellKnownRegister_HasItsArchitecturalEncodingAndName(string name, int op0, int op1, int crn, int crm, int op2)
    {
        var reg = new SysReg(op0, op1, crn, crm, op2);
        Assert.Equal(name, reg.ToString());
    }

    [Theory]
    [InlineData(3, 0, 15, 2, 3, "S3_0_C15_C2_3")]
    [InlineData(2, 7, 0, 15, 0, "S2_7_C0_C15_0")]
    public void UnnamedRegister_PrintsTheGenericSpelling(int op0, int op1, int crn, int crm, int op2, string expected) =>
        Assert.Equal(expected, new SysReg(op0, op1, crn, crm, op2).ToString());

    // ISS = Op0[21:20] Op2[19:17] Op1[16:14] CRn[13:10] Rt[9:5] CRm[4:1] Dir[0]; e.g. mrs x3, ICC_IAR1_EL1 -> 0x303079.
    [Theory]
    [InlineData(0x00303079u, "ICC_IAR1_EL1", 3, true)]
    [InlineData(0x00323018u, "ICC_EOIR1_EL1", 0, false)]
    [InlineData(0x003A3036u, "ICC_SGI1R_EL1", 1, false)]
    [InlineData(0x0030102Du, "ICC_PMR_EL1", 1, true)]
    [InlineData(0x0034F841u, "CNTVCT_EL0", 2, true)]
    public void FromIss_DecodesRegisterRtAndDirection(uint iss, string name, int rt, bool isRead)
    {
        SysReg reg = SysReg.FromIss(iss);
        Assert.Equal(name, reg.ToString());
        Assert.Equal(rt, SysReg.IssRt(iss));
        Assert.Equal(isRead, SysReg.IssIsRead(iss));
        Assert.Equal(iss, reg.ToIss(rt, isRead));
    }

    [Theory]
    [InlineData(0u, false)]
    [InlineData(5u, true)]
    [InlineData(30u, false)]
    [InlineData(31u, true)]
    public void ToIss_RoundTripsEveryRegisterAndDirection(uint rt, bool isRead)
    {
        foreach ((string name, SysReg reg) in AllNamed())
        {
            uint iss = reg.ToIss((int)rt, isRead);
            Assert.True(iss < (1u << 25), name);
            Assert.Equal(reg, SysReg.FromIss(iss));
            Assert.Equal((int)rt, SysReg.IssRt(iss));
            Assert.Equal(isRead, SysReg.IssIsRead(iss));
        }
    }

    // Words from aarch64-linux-gnu-as:
    //   d538cc03  mrs x3, icc_iar1_el1
    //   d518cc20  msr icc_eoir1_el1, x0
    //   d518cba1  msr icc_sgi1r_el1, x1
    //   d53be040  mrs x0, cntvct_el0
    //   d51be33e  msr cntv_ctl_el0, x30
    //   d53800a5  mrs x5, mpidr_el1
    //   d5184601  msr icc_pmr_el1, x1
    [Theory]
    [InlineData(0xD538CC03u, "ICC_IAR1_EL1", 3, true)]
    [InlineData(0xD518CC20u, "ICC_EOIR1_EL1", 0, false)]
    [InlineData(0xD518CBA1u, "ICC_SGI1R_EL1", 1, false)]
    [InlineData(0xD53BE040u, "CNTVCT_EL0", 0, true)]
    [InlineData(0xD51BE33Eu, "CNTV_CTL_EL0", 30, false)]
    [InlineData(0xD53800A5u, "MPIDR_EL1", 5, true)]
    [InlineData(0xD5184601u, "ICC_PMR_EL1", 1, false)]
    public void TryDecode_DecodesMrsAndMsr(uint insn, string name, int rt, bool isRead)
    {
        Assert.True(SysReg.TryDecode(insn, out SysReg reg, out int decodedRt, out bool decodedRead));
        Assert.Equal(name, reg.ToString());
        Assert.Equal(rt, decodedRt);
        Assert.Equal(isRead, decodedRead);
    }

    // d503207f wfi; d503201f nop; d50342df msr daifset, #2; f9400020 ldr x0, [x1]
    [Theory]
    [InlineData(0xD503207Fu)]
    [InlineData(0xD503201Fu)]
    [InlineData(0xD50342DFu)]
    [InlineData(0xF9400020u)]
    public void TryDecode_RejectsInstructionsThatAreNotRegisterMoves(uint insn) =>
        Assert.False(SysReg.TryDecode(insn, out _, out _, out _));

    private static IEnumerable<(string, SysReg)> AllNamed() =>
        typeof(SysReg).GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
            .Where(f => f.FieldType == typeof(SysReg))
            .Select(f => (f.Name, (SysReg)f.GetValue(null)!));
}
