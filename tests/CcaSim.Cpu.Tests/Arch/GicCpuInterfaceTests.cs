using CcaSim.Cpu.Arch;
using CcaSim.Platform.Execution;
using static CcaSim.Cpu.Arch.GicCpuInterface;

namespace CcaSim.Cpu.Tests.Arch;

public class GicCpuInterfaceTests
{
    private const ulong Pending = LrPending;
    private const ulong Active = LrActive;
    private const ulong PendingActive = LrPending | LrActive;

    // VMCR with group 1 enabled, PMR 0xF0 (what Linux programs), BPR1 at its minimum (3: every priority bit is group priority).
    private const ulong DefaultVmcr = VmcrEng1 | (0xF0UL << VmcrPmrShift) | (3UL << VmcrBpr1Shift) | (2UL << VmcrBpr0Shift);

    private static ulong Lr(uint intid, uint priority, ulong state, bool group1 = true, bool eoi = false) =>
        intid | ((ulong)priority << LrPriorityShift) | state | (group1 ? LrGroup : 0) | (eoi ? LrEoi : 0);

    private static RealmVcpuContext Context(ulong vmcr = DefaultVmcr, ulong ap1r = 0, ulong hcr = HcrEn, params ulong[] lrs)
    {
        var ctx = new RealmVcpuContext();
        ctx.Gic.Vmcr = vmcr;
        ctx.Gic.Ap1r0 = ap1r;
        ctx.Gic.Hcr = hcr;
        ctx.Gic.NumListRegisters = 4;
        lrs.CopyTo(ctx.Gic.Lrs, 0);
        return ctx;
    }

    private static ulong Read(RealmVcpuContext ctx, SysReg reg)
    {
        Assert.True(GicCpuInterface.TryRead(ctx, reg, out ulong value), reg.ToString());
        return value;
    }

    public static TheoryData<string, ulong[], ulong, ulong, uint, int> Acknowledges => new()
    {
        // name, LRs, VMCR, AP1R0, expected INTID, LR index that became active (-1: none)
        { "single pending", [Lr(27, 0xA0, Pending)], DefaultVmcr, 0, 27, 0 },
        { "highest priority wins", [Lr(30, 0xA0, Pending), Lr(27, 0x80, Pending)], DefaultVmcr, 0, 27, 1 },
        { "equal priority: lowest LR wins", [Lr(40, 0x80, Pending), Lr(41, 0x80, Pending)], DefaultVmcr, 0, 40, 0 },
        { "priority equal to PMR is masked", [Lr(27, 0xF0, Pending)], DefaultVmcr, 0, SpuriousIntid, -1 },
        { "priority above PMR is masked", [Lr(27, 0xF8, Pending)], DefaultVmcr, 0, SpuriousIntid, -1 },
        { "same group priority as running does not preempt", [Lr(27, 0x80, Pending)], DefaultVmcr, 1UL << 16, SpuriousIntid, -1 },
        { "higher priority than running preempts", [Lr(27, 0x78, Pending)], DefaultVmcr, 1UL << 16, 27, 0 },
        { "group 1 disabled", [Lr(27, 0xA0, Pending)], DefaultVmcr & ~VmcrEng1, 0, SpuriousIntid, -1 },
        { "pending+active is not acknowledged again", [Lr(27, 0xA0, PendingActive)], DefaultVmcr, 0, SpuriousIntid, -1 },
        { "active only", [Lr(27, 0xA0, Active)], DefaultVmcr, 0, SpuriousIntid, -1 },
        { "highest is group 0", [Lr(27, 0x80, Pending, group1: false), Lr(28, 0xA0, Pending)], DefaultVmcr | VmcrEng0, 0, SpuriousIntid, -1 },
        { "group 0 disabled is skipped", [Lr(27, 0x80, Pending, group1: false), Lr(28, 0xA0, Pending)], DefaultVmcr, 0, 28, 1 },
        { "empty", [], DefaultVmcr, 0, SpuriousIntid, -1 },
        { "beyond the implemented LRs", [0, 0, 0, 0, Lr(27, 0xA0, Pending)], DefaultVmcr, 0, SpuriousIntid, -1 },
    };

    [Theory]
    [MemberData(nameof(Acknowledges))]
    public void ReadIar1_AcknowledgesTheHighestPriorityDeliverableInterrupt(string name, ulong[] lrs, ulong vmcr, ulong ap1r, uint expected, int activated)
    {
        RealmVcpuContext ctx = Context(vmcr, ap1r, HcrEn, lrs);
        ulong[] before = ctx.Gic.Lrs.ToArray();

        Assert.Equal(expected, Read(ctx, SysReg.ICC_IAR1_EL1));

        for (int i = 0; i < before.Length; i++)
        {
            ulong want = i == activated ? (before[i] & ~LrStateMask) | LrActive : before[i];
            Assert.True(want == ctx.Gic.Lrs[i], $"{name}: LR{i}");
        }

        ulong wantAp = activated < 0 ? ap1r : ap1r | (1UL << (int)(((before[activated] >> LrPriorityShift) & 0xF8) >> 3));
        Assert.Equal(wantAp, ctx.Gic.Ap1r0);
    }

    [Theory]
    [InlineData(3u, 0x88u, 17)]  // BPR1 3: group priority 0x88 -> level 17
    [InlineData(4u, 0x88u, 16)]  // BPR1 4: group priority 0x80 -> level 16
    [InlineData(7u, 0x88u, 16)]  // BPR1 7: only bit 7 is group priority -> level 16
    [InlineData(7u, 0x48u, 0)]   // ... and 0x48 is group priority 0 -> level 0
    public void ReadIar1_SetsTheActivePriorityBitOfTheGroupPriority(uint bpr1, uint priority, int level)
    {
        ulong vmcr = (DefaultVmcr & ~VmcrBpr1Mask) | ((ulong)bpr1 << VmcrBpr1Shift);
        RealmVcpuContext ctx = Context(vmcr, 0, HcrEn, Lr(33, priority, Pending));

        Assert.Equal(33UL, Read(ctx, SysReg.ICC_IAR1_EL1));

        Assert.Equal(1UL << level, ctx.Gic.Ap1r0);
        Assert.Equal((ulong)(level << 3), Read(ctx, SysReg.ICC_RPR_EL1));
    }

    [Fact]
    public void ReadIar1_WithBinaryPointFour_SameGroupPriorityDoesNotPreempt()
    {
        ulong vmcr = (DefaultVmcr & ~VmcrBpr1Mask) | (4UL << VmcrBpr1Shift);
        RealmVcpuContext ctx = Context(vmcr, 0, HcrEn, Lr(33, 0x88, Pending), Lr(34, 0x80, Pending));

        Assert.Equal(34UL, Read(ctx, SysReg.ICC_IAR1_EL1));
        Assert.Equal(SpuriousIntid, Read(ctx, SysReg.ICC_IAR1_EL1));
    }

    [Fact]
    public void ReadIar1_IsSpuriousWhileTheVirtualInterfaceIsDisabled()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0, 0, Lr(27, 0xA0, Pending));

        Assert.Equal(SpuriousIntid, Read(ctx, SysReg.ICC_IAR1_EL1));
        Assert.Equal(Lr(27, 0xA0, Pending), ctx.Gic.Lrs[0]);
        Assert.Equal(0UL, ctx.Gic.Ap1r0);
    }

    [Fact]
    public void ReadIar0_IsSpuriousWhenNoGroup0InterruptIsPending()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr | VmcrEng0, 0, HcrEn, Lr(27, 0xA0, Pending));

        Assert.Equal(SpuriousIntid, Read(ctx, SysReg.ICC_IAR0_EL1));
        Assert.Equal(Lr(27, 0xA0, Pending), ctx.Gic.Lrs[0]);
    }

    public static TheoryData<ulong, ulong, bool, ulong> EndOfInterrupts => new()
    {
        // LR before, VMCR, expect EOIcount bump, LR after
        { Lr(27, 0xA0, Active), DefaultVmcr, false, Lr(27, 0xA0, 0) },
        { Lr(27, 0xA0, PendingActive), DefaultVmcr, false, Lr(27, 0xA0, Pending) },
        { Lr(27, 0xA0, Active, eoi: true), DefaultVmcr, false, Lr(27, 0xA0, 0, eoi: true) },
        { Lr(27, 0xA0, Active), DefaultVmcr | VmcrEoim, false, Lr(27, 0xA0, Active) },
        { Lr(27, 0xA0, Pending), DefaultVmcr, true, Lr(27, 0xA0, Pending) },
        { Lr(28, 0xA0, Active), DefaultVmcr, true, Lr(28, 0xA0, Active) },
        { Lr(27, 0xA0, Active, group1: false), DefaultVmcr, false, Lr(27, 0xA0, Active, group1: false) },
        { Lr(27, 0x90, Active), DefaultVmcr, false, Lr(27, 0x90, Active) },
    };

    [Theory]
    [MemberData(nameof(EndOfInterrupts))]
    public void WriteEoir1_DropsPriorityAndDeactivatesOnlyAMatchingLrInEoiMode0(ulong lr, ulong vmcr, bool bump, ulong after)
    {
        RealmVcpuContext ctx = Context(vmcr, 1UL << (0xA0 >> 3), HcrEn, lr);

        Assert.Equal(SysRegWrite.Done, GicCpuInterface.Write(ctx, SysReg.ICC_EOIR1_EL1, 27));

        Assert.Equal(0UL, ctx.Gic.Ap1r0);
        Assert.Equal(after, ctx.Gic.Lrs[0]);
        Assert.Equal(bump ? 1UL : 0, (ctx.Gic.Hcr & HcrEoiCountMask) >> HcrEoiCountShift);
    }

    [Fact]
    public void WriteEoir1_DropsOnlyTheHighestActivePriority()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, (1UL << 10) | (1UL << 20), HcrEn, Lr(27, 0xA0, Active), Lr(30, 0x50, Active));

        GicCpuInterface.Write(ctx, SysReg.ICC_EOIR1_EL1, 30);

        Assert.Equal(1UL << 20, ctx.Gic.Ap1r0);
        Assert.Equal(Lr(30, 0x50, 0), ctx.Gic.Lrs[1]);
        Assert.Equal(Lr(27, 0xA0, Active), ctx.Gic.Lrs[0]);
        Assert.Equal(0xA0UL, Read(ctx, SysReg.ICC_RPR_EL1));
    }

    [Fact]
    public void EoiCount_WrapsAtFiveBits()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0, HcrEn | (0x1FUL << HcrEoiCountShift));

        GicCpuInterface.Write(ctx, SysReg.ICC_EOIR1_EL1, 27);

        Assert.Equal(HcrEn, ctx.Gic.Hcr);
    }

    [Theory]
    [InlineData(true, Active, 0UL, false)]
    [InlineData(true, PendingActive, Pending, false)]
    [InlineData(true, Pending, Pending, true)]
    [InlineData(false, Active, Active, false)]
    public void WriteDir_DeactivatesOnlyInEoiMode1(bool eoiMode1, ulong state, ulong stateAfter, bool bump)
    {
        ulong vmcr = eoiMode1 ? DefaultVmcr | VmcrEoim : DefaultVmcr;
        RealmVcpuContext ctx = Context(vmcr, 0, HcrEn, Lr(27, 0xA0, state));

        Assert.Equal(SysRegWrite.Done, GicCpuInterface.Write(ctx, SysReg.ICC_DIR_EL1, 27));

        Assert.Equal(Lr(27, 0xA0, stateAfter), ctx.Gic.Lrs[0]);
        Assert.Equal(bump ? 1UL : 0, (ctx.Gic.Hcr & HcrEoiCountMask) >> HcrEoiCountShift);
    }

    [Fact]
    public void AcknowledgeThenEoiMode1_NeedsEoirAndDirToComplete()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr | VmcrEoim, 0, HcrEn, Lr(27, 0xA0, Pending));

        Assert.Equal(27UL, Read(ctx, SysReg.ICC_IAR1_EL1));
        GicCpuInterface.Write(ctx, SysReg.ICC_EOIR1_EL1, 27);
        Assert.Equal(0UL, ctx.Gic.Ap1r0);
        Assert.Equal(Lr(27, 0xA0, Active), ctx.Gic.Lrs[0]);

        GicCpuInterface.Write(ctx, SysReg.ICC_DIR_EL1, 27);
        Assert.Equal(Lr(27, 0xA0, 0), ctx.Gic.Lrs[0]);
    }

    public static TheoryData<string, ulong, ulong, ulong[], bool> Signals => new()
    {
        // name, HCR, AP1R0, LRs, virtual IRQ pending
        { "deliverable", HcrEn, 0, [Lr(27, 0xA0, Pending)], true },
        { "interface disabled", 0, 0, [Lr(27, 0xA0, Pending)], false },
        { "masked by PMR", HcrEn, 0, [Lr(27, 0xF0, Pending)], false },
        { "not above running priority", HcrEn, 1UL << 20, [Lr(27, 0xA0, Pending)], false },
        { "above running priority", HcrEn, 1UL << 20, [Lr(27, 0x98, Pending)], true },
        { "only active", HcrEn, 0, [Lr(27, 0xA0, Active)], false },
        { "pending+active", HcrEn, 0, [Lr(27, 0xA0, PendingActive)], false },
        { "group 0 interrupt", HcrEn, 0, [Lr(27, 0xA0, Pending, group1: false)], false },
        { "none", HcrEn, 0, [], false },
    };

    [Theory]
    [MemberData(nameof(Signals))]
    public void VirtualIrqPending_FollowsEnablePriorityMaskAndRunningPriority(string name, ulong hcr, ulong ap1r, ulong[] lrs, bool expected)
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, ap1r, hcr, lrs);

        Assert.True(expected == GicCpuInterface.VirtualIrqPending(ctx), name);
        Assert.False(GicCpuInterface.VirtualFiqPending(ctx), name);
    }

    [Fact]
    public void VirtualFiqPending_ForADeliverableGroup0Interrupt()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr | VmcrEng0, 0, HcrEn, Lr(27, 0xA0, Pending, group1: false));

        Assert.True(GicCpuInterface.VirtualFiqPending(ctx));
        Assert.False(GicCpuInterface.VirtualIrqPending(ctx));
    }

    [Fact]
    public void HighestPendingIntidAndHppir1_IgnoreThePriorityMask()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0, HcrEn, Lr(27, 0xF8, Pending), Lr(26, 0xA0, Active));

        Assert.Equal(27, GicCpuInterface.HighestPendingIntid(ctx));
        Assert.Equal(27UL, Read(ctx, SysReg.ICC_HPPIR1_EL1));
        Assert.Equal(SpuriousIntid, Read(ctx, SysReg.ICC_HPPIR0_EL1));
        Assert.Equal(Lr(27, 0xF8, Pending), ctx.Gic.Lrs[0]);
    }

    [Fact]
    public void HighestPendingIntid_IsSpuriousWithoutPendingInterrupts()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0, HcrEn, Lr(27, 0xA0, Active));

        Assert.Equal((int)SpuriousIntid, GicCpuInterface.HighestPendingIntid(ctx));
        Assert.Equal(SpuriousIntid, Read(ctx, SysReg.ICC_HPPIR1_EL1));
    }

    [Theory]
    [InlineData(27u, true)]
    [InlineData(30u, true)]
    [InlineData(31u, true)]
    [InlineData(32u, false)]
    [InlineData(33u, false)]
    public void IsPendingOrActive_LooksAtValidImplementedLrs(uint intid, bool expected)
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0, HcrEn, Lr(27, 0xA0, Pending), Lr(30, 0xA0, Active), Lr(31, 0xA0, PendingActive), Lr(32, 0xA0, 0));
        ctx.Gic.Lrs[5] = Lr(33, 0xA0, Pending);

        Assert.Equal(expected, GicCpuInterface.IsPendingOrActive(ctx, intid));
    }

    public static TheoryData<string, ulong, ulong, ulong[], ulong> Misrs => new()
    {
        // name, HCR, VMCR, LRs, MISR
        { "nothing enabled", HcrEn, DefaultVmcr, [Lr(27, 0xA0, 0, eoi: true)], MisrEoi },
        { "EOI needs HW clear", HcrEn, DefaultVmcr, [Lr(27, 0xA0, 0, eoi: true) | LrHw], 0 },
        { "EOI needs invalid", HcrEn, DefaultVmcr, [Lr(27, 0xA0, Active, eoi: true)], 0 },
        { "underflow with one valid", HcrEn | HcrUie, DefaultVmcr, [Lr(27, 0xA0, Pending)], MisrU },
        { "underflow with none valid", HcrEn | HcrUie, DefaultVmcr, [], MisrU },
        { "no underflow with two valid", HcrEn | HcrUie, DefaultVmcr, [Lr(27, 0xA0, Pending), Lr(28, 0xA0, Active)], 0 },
        { "no pending", HcrEn | HcrNpie, DefaultVmcr, [Lr(27, 0xA0, Active), Lr(28, 0xA0, PendingActive)], MisrNp },
        { "a pending LR", HcrEn | HcrNpie, DefaultVmcr, [Lr(27, 0xA0, Pending)], 0 },
        { "EOIcount non-zero", HcrEn | HcrLrenpie | (2UL << HcrEoiCountShift), DefaultVmcr, [], MisrLrenp },
        { "EOIcount zero", HcrEn | HcrLrenpie, DefaultVmcr, [], 0 },
        { "group enables", HcrEn | HcrVGrp0Eie | HcrVGrp0Die | HcrVGrp1Eie | HcrVGrp1Die, DefaultVmcr, [], MisrVGrp0D | MisrVGrp1E },
        { "group enables inverted", HcrEn | HcrVGrp0Eie | HcrVGrp0Die | HcrVGrp1Eie | HcrVGrp1Die, VmcrEng0, [], MisrVGrp0E | MisrVGrp1D },
    };

    [Theory]
    [MemberData(nameof(Misrs))]
    public void ComputeMisr_ReportsEachMaintenanceCondition(string name, ulong hcr, ulong vmcr, ulong[] lrs, ulong expected)
    {
        RealmVcpuContext ctx = Context(vmcr, 0, hcr, lrs);

        Assert.True(expected == GicCpuInterface.ComputeMisr(ctx), name);
    }

    [Fact]
    public void ComputeMisr_ReportsEoiAfterTheGuestDeactivatesAnLrWithTheEoiBit()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0, HcrEn, Lr(27, 0xA0, Pending, eoi: true));
        Assert.Equal(0UL, GicCpuInterface.ComputeMisr(ctx));

        Assert.Equal(27UL, Read(ctx, SysReg.ICC_IAR1_EL1));
        GicCpuInterface.Write(ctx, SysReg.ICC_EOIR1_EL1, 27);

        Assert.Equal(MisrEoi, GicCpuInterface.ComputeMisr(ctx));
    }

    [Theory]
    [InlineData(0xF0UL, 0xF0UL)]
    [InlineData(0xFFUL, 0xF8UL)]
    [InlineData(0x87UL, 0x80UL)]
    [InlineData(0x1_0000_0080UL, 0x80UL)]
    public void WritePmr_KeepsTheImplementedPriorityBits(ulong written, ulong readBack)
    {
        RealmVcpuContext ctx = Context(0);

        Assert.Equal(SysRegWrite.Done, GicCpuInterface.Write(ctx, SysReg.ICC_PMR_EL1, written));

        Assert.Equal(readBack, Read(ctx, SysReg.ICC_PMR_EL1));
        Assert.Equal(readBack << 24, ctx.Gic.Vmcr);
    }

    [Theory]
    [InlineData(0UL, 3UL)]
    [InlineData(2UL, 3UL)]
    [InlineData(4UL, 4UL)]
    [InlineData(7UL, 7UL)]
    public void WriteBpr1_IsLimitedToTheMinimumBinaryPoint(ulong written, ulong readBack)
    {
        RealmVcpuContext ctx = Context(0);

        GicCpuInterface.Write(ctx, SysReg.ICC_BPR1_EL1, written);

        Assert.Equal(readBack, Read(ctx, SysReg.ICC_BPR1_EL1));
    }

    [Theory]
    [InlineData(0UL, 2UL)]
    [InlineData(5UL, 5UL)]
    public void WriteBpr0_IsLimitedToTheMinimumBinaryPoint(ulong written, ulong readBack)
    {
        RealmVcpuContext ctx = Context(0);

        GicCpuInterface.Write(ctx, SysReg.ICC_BPR0_EL1, written);

        Assert.Equal(readBack, Read(ctx, SysReg.ICC_BPR0_EL1));
    }

    [Fact]
    public void WithCbpr_Bpr1ReadsBpr0PlusOneAndIgnoresWrites()
    {
        RealmVcpuContext ctx = Context((4UL << VmcrBpr0Shift) | (3UL << VmcrBpr1Shift));

        GicCpuInterface.Write(ctx, SysReg.ICC_CTLR_EL1, 1);
        GicCpuInterface.Write(ctx, SysReg.ICC_BPR1_EL1, 6);

        Assert.Equal(5UL, Read(ctx, SysReg.ICC_BPR1_EL1));
        Assert.Equal(3UL, (ctx.Gic.Vmcr & VmcrBpr1Mask) >> VmcrBpr1Shift);
    }

    [Theory]
    [InlineData(0UL, 0x8400UL)]
    [InlineData(VmcrEoim, 0x8402UL)]
    [InlineData(VmcrCbpr, 0x8401UL)]
    public void ReadCtlr_ReportsFivePriorityBitsSixteenBitIdsA3vAndTheVmcrModes(ulong vmcr, ulong expected)
    {
        Assert.Equal(expected, Read(Context(vmcr), SysReg.ICC_CTLR_EL1));
    }

    [Theory]
    [InlineData(0x2UL, VmcrEoim)]
    [InlineData(0x1UL, VmcrCbpr)]
    [InlineData(0xFFFF_FFFFUL, VmcrEoim | VmcrCbpr)]
    [InlineData(0UL, 0UL)]
    public void WriteCtlr_ChangesOnlyEoiModeAndCbpr(ulong written, ulong vmcrBits)
    {
        RealmVcpuContext ctx = Context(DefaultVmcr | VmcrEoim | VmcrCbpr);

        GicCpuInterface.Write(ctx, SysReg.ICC_CTLR_EL1, written);

        Assert.Equal(DefaultVmcr | vmcrBits, ctx.Gic.Vmcr);
    }

    [Fact]
    public void GroupEnables_ReadAndWriteTheVmcr()
    {
        RealmVcpuContext ctx = Context(0);

        GicCpuInterface.Write(ctx, SysReg.ICC_IGRPEN1_EL1, 1);
        Assert.Equal(VmcrEng1, ctx.Gic.Vmcr);
        Assert.Equal(1UL, Read(ctx, SysReg.ICC_IGRPEN1_EL1));
        GicCpuInterface.Write(ctx, SysReg.ICC_IGRPEN0_EL1, 3);
        Assert.Equal(VmcrEng1 | VmcrEng0, ctx.Gic.Vmcr);
        Assert.Equal(1UL, Read(ctx, SysReg.ICC_IGRPEN0_EL1));
        GicCpuInterface.Write(ctx, SysReg.ICC_IGRPEN1_EL1, 2);
        Assert.Equal(VmcrEng0, ctx.Gic.Vmcr);
        Assert.Equal(0UL, Read(ctx, SysReg.ICC_IGRPEN1_EL1));
    }

    [Fact]
    public void Ap1r0_ReadsAndWritesTheActivePriorities()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr);

        GicCpuInterface.Write(ctx, SysReg.ICC_AP1R0_EL1, 0xFFFF_FFFF_0000_0100);

        Assert.Equal(0x100UL, ctx.Gic.Ap1r0);
        Assert.Equal(0x100UL, Read(ctx, SysReg.ICC_AP1R0_EL1));
        Assert.Equal(0x40UL, Read(ctx, SysReg.ICC_RPR_EL1));
    }

    [Fact]
    public void Rpr_IsIdleWithNothingActive() => Assert.Equal(0xFFUL, Read(Context(DefaultVmcr), SysReg.ICC_RPR_EL1));

    [Fact]
    public void Sre_ReadsSystemRegisterEnableWithBypassesDisabledAndIgnoresWrites()
    {
        RealmVcpuContext ctx = Context(DefaultVmcr);

        Assert.Equal(SysRegWrite.Done, GicCpuInterface.Write(ctx, SysReg.ICC_SRE_EL1, 0));

        Assert.Equal(7UL, Read(ctx, SysReg.ICC_SRE_EL1));
    }

    public static TheoryData<string, SysRegWrite> WriteOutcomes => new()
    {
        { "ICC_SGI1R_EL1", SysRegWrite.TrapToOwner },
        { "ICC_ASGI1R_EL1", SysRegWrite.TrapToOwner },
        { "ICC_SGI0R_EL1", SysRegWrite.TrapToOwner },
        { "ICC_IAR1_EL1", SysRegWrite.Undefined },
        { "ICC_IAR0_EL1", SysRegWrite.Undefined },
        { "ICC_HPPIR1_EL1", SysRegWrite.Undefined },
        { "ICC_RPR_EL1", SysRegWrite.Undefined },
        { "ICC_AP1R1_EL1", SysRegWrite.Done },
        { "ICC_AP0R0_EL1", SysRegWrite.Done },
        { "CNTV_CTL_EL0", SysRegWrite.NotGic },
        { "MPIDR_EL1", SysRegWrite.NotGic },
        { "VBAR_EL1", SysRegWrite.NotGic },
    };

    [Theory]
    [MemberData(nameof(WriteOutcomes))]
    public void Write_ClassifiesTheRegister(string name, SysRegWrite expected)
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0, HcrEn, Lr(27, 0xA0, Pending));

        Assert.Equal(expected, GicCpuInterface.Write(ctx, Named(name), 0x0100_0000_0000_0001));

        Assert.Equal(DefaultVmcr, ctx.Gic.Vmcr);
        Assert.Equal(Lr(27, 0xA0, Pending), ctx.Gic.Lrs[0]);
    }

    [Theory]
    [InlineData("ICC_EOIR1_EL1")]
    [InlineData("ICC_EOIR0_EL1")]
    [InlineData("ICC_DIR_EL1")]
    [InlineData("ICC_SGI1R_EL1")]
    [InlineData("ICC_ASGI1R_EL1")]
    [InlineData("ICC_SGI0R_EL1")]
    [InlineData("CNTVCT_EL0")]
    [InlineData("MPIDR_EL1")]
    public void TryRead_RefusesWriteOnlyAndNonGicRegisters(string name) =>
        Assert.False(GicCpuInterface.TryRead(Context(DefaultVmcr), Named(name), out _));

    [Theory]
    [InlineData("ICC_AP1R1_EL1")]
    [InlineData("ICC_AP1R3_EL1")]
    [InlineData("ICC_AP0R0_EL1")]
    public void UnimplementedActivePriorityRegisters_ReadAsZero(string name)
    {
        RealmVcpuContext ctx = Context(DefaultVmcr, 0xFFFF_FFFF);

        Assert.Equal(0UL, Read(ctx, Named(name)));
    }

    internal static SysReg Named(string name) =>
        (SysReg)typeof(SysReg).GetField(name)!.GetValue(null)!;
}
