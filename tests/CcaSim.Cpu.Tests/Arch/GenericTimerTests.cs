using CcaSim.Cpu.Arch;
using CcaSim.Platform.Execution;
using static CcaSim.Cpu.Arch.GenericTimer;

namespace CcaSim.Cpu.Tests.Arch;

public class GenericTimerTests
{
    private static VirtualClock ClockAt(ulong ticks)
    {
        var clock = new VirtualClock();
        clock.AdvanceTo(ticks);
        return clock;
    }

    private static ulong Read(RealmVcpuContext ctx, VirtualClock clock, SysReg reg)
    {
        Assert.True(GenericTimer.TryRead(ctx, clock, reg, out ulong value), reg.ToString());
        return value;
    }

    [Fact]
    public void Counters_ReadTheClockAndTheVirtualOffset()
    {
        var ctx = new RealmVcpuContext { CntvOff = 400 };
        VirtualClock clock = ClockAt(1000);

        Assert.Equal(62_500_000UL, Read(ctx, clock, SysReg.CNTFRQ_EL0));
        Assert.Equal(1000UL, Read(ctx, clock, SysReg.CNTPCT_EL0));
        Assert.Equal(1000UL, Read(ctx, clock, SysReg.CNTPCTSS_EL0));
        Assert.Equal(600UL, Read(ctx, clock, SysReg.CNTVCT_EL0));
        Assert.Equal(600UL, Read(ctx, clock, SysReg.CNTVCTSS_EL0));
    }

    public static TheoryData<ulong, ulong, ulong, ulong> Controls => new()
    {
        // written CTL, CVAL, counter, CTL read back
        { CtlEnable, 100, 99, CtlEnable },
        { CtlEnable, 100, 100, CtlEnable | CtlIstatus },
        { CtlEnable | CtlImask, 100, 200, CtlEnable | CtlImask | CtlIstatus },
        { 0, 100, 200, 0 },
        { CtlIstatus, 0, 200, 0 },
        { ~0UL, 100, 200, CtlEnable | CtlImask | CtlIstatus },
        { CtlEnable, ulong.MaxValue, ulong.MaxValue - 1, CtlEnable },
    };

    [Theory]
    [MemberData(nameof(Controls))]
    public void PhysicalControl_ComputesIstatusFromEnableAndTheCounter(ulong ctl, ulong cval, ulong now, ulong expected)
    {
        var ctx = new RealmVcpuContext();
        VirtualClock clock = ClockAt(now);

        Assert.True(GenericTimer.TryWrite(ctx, clock, SysReg.CNTP_CVAL_EL0, cval));
        Assert.True(GenericTimer.TryWrite(ctx, clock, SysReg.CNTP_CTL_EL0, ctl));

        Assert.Equal(expected, Read(ctx, clock, SysReg.CNTP_CTL_EL0));
        Assert.Equal(expected, ctx.CntpCtl);
        Assert.Equal(cval, Read(ctx, clock, SysReg.CNTP_CVAL_EL0));
    }

    [Theory]
    [MemberData(nameof(Controls))]
    public void VirtualControl_ComparesAgainstTheVirtualCounter(ulong ctl, ulong cval, ulong virtualNow, ulong expected)
    {
        ulong offset = virtualNow > ulong.MaxValue / 2 ? 1UL : 5000UL;
        var ctx = new RealmVcpuContext { CntvOff = offset };
        VirtualClock clock = ClockAt(virtualNow + offset);

        GenericTimer.TryWrite(ctx, clock, SysReg.CNTV_CVAL_EL0, cval);
        GenericTimer.TryWrite(ctx, clock, SysReg.CNTV_CTL_EL0, ctl);

        Assert.Equal(expected, Read(ctx, clock, SysReg.CNTV_CTL_EL0));
        Assert.Equal(expected, ctx.CntvCtl);
    }

    [Theory]
    [InlineData(1000UL, 1500UL, 500UL)]
    [InlineData(1000UL, 999UL, 0xFFFF_FFFFUL)]
    [InlineData(1000UL, 1000UL + 0x1_0000_0005UL, 5UL)]
    public void TimerValue_ReadsTheLow32BitsOfCvalMinusCounter(ulong now, ulong cval, ulong expected)
    {
        var ctx = new RealmVcpuContext { CntpCval = cval, CntvCval = cval - 100, CntvOff = 100 };
        VirtualClock clock = ClockAt(now);

        Assert.Equal(expected, Read(ctx, clock, SysReg.CNTP_TVAL_EL0));
        Assert.Equal((ulong)(uint)(cval - 100 - (now - 100)), Read(ctx, clock, SysReg.CNTV_TVAL_EL0));
    }

    [Theory]
    [InlineData(1000UL, 500UL, 1500UL)]
    [InlineData(1000UL, 0xFFFF_FFFFUL, 999UL)]
    [InlineData(1000UL, 0xFFFF_FFFF_0000_0010UL, 1016UL)]
    public void TimerValue_WritesCvalAsCounterPlusSignExtendedValue(ulong now, ulong tval, ulong cval)
    {
        var ctx = new RealmVcpuContext { CntvOff = 300 };
        VirtualClock clock = ClockAt(now);

        GenericTimer.TryWrite(ctx, clock, SysReg.CNTP_TVAL_EL0, tval);
        GenericTimer.TryWrite(ctx, clock, SysReg.CNTV_TVAL_EL0, tval);

        Assert.Equal(cval, ctx.CntpCval);
        Assert.Equal(cval - 300, ctx.CntvCval);
    }

    [Fact]
    public void Cntkctl_IsStored()
    {
        var ctx = new RealmVcpuContext();
        VirtualClock clock = ClockAt(0);

        Assert.True(GenericTimer.TryWrite(ctx, clock, SysReg.CNTKCTL_EL1, 0x3));

        Assert.Equal(3UL, ctx.CntkctlEl1);
        Assert.Equal(3UL, Read(ctx, clock, SysReg.CNTKCTL_EL1));
    }

    [Theory]
    [InlineData("CNTFRQ_EL0")]
    [InlineData("CNTPCT_EL0")]
    [InlineData("CNTVCT_EL0")]
    [InlineData("ICC_PMR_EL1")]
    [InlineData("MPIDR_EL1")]
    public void TryWrite_RefusesReadOnlyAndOtherRegisters(string name)
    {
        var ctx = new RealmVcpuContext();

        Assert.False(GenericTimer.TryWrite(ctx, ClockAt(10), GicCpuInterfaceTests.Named(name), 1));
    }

    [Theory]
    [InlineData("ICC_IAR1_EL1")]
    [InlineData("MPIDR_EL1")]
    [InlineData("TPIDR_EL0")]
    public void TryRead_RefusesOtherRegisters(string name) =>
        Assert.False(GenericTimer.TryRead(new RealmVcpuContext(), ClockAt(10), GicCpuInterfaceTests.Named(name), out _));

    public static TheoryData<ulong, ulong, ulong, ulong, ulong, ulong> Deadlines => new()
    {
        // CNTP_CTL, CNTP_CVAL, CNTV_CTL, CNTV_CVAL, CNTVOFF, deadline
        { 0, 100, 0, 100, 0, ulong.MaxValue },
        { CtlEnable, 100, 0, 50, 0, 100 },
        { CtlEnable | CtlImask, 100, 0, 50, 0, ulong.MaxValue },
        { 0, 100, CtlEnable, 50, 1000, 1050 },
        { CtlEnable, 1100, CtlEnable, 50, 1000, 1050 },
        { CtlEnable, 1000, CtlEnable, 50, 1000, 1000 },
        { 0, 0, CtlEnable, ulong.MaxValue, 1, ulong.MaxValue },
    };

    [Theory]
    [MemberData(nameof(Deadlines))]
    public void NextDeadline_IsTheEarliestArmedTimerOnThePhysicalCounter(ulong pctl, ulong pcval, ulong vctl, ulong vcval, ulong off, ulong expected)
    {
        var ctx = new RealmVcpuContext { CntpCtl = pctl, CntpCval = pcval, CntvCtl = vctl, CntvCval = vcval, CntvOff = off };

        Assert.Equal(expected, GenericTimer.NextDeadline(ctx));
    }

    public static TheoryData<string, ulong, ulong, ulong[], bool> Firing => new()
    {
        // name, CNTV_CTL, CNTP_CTL, LRs, firing (clock at 1000, CVALs 500, CNTVOFF 0)
        { "virtual fired", CtlEnable, 0, [], true },
        { "physical fired", 0, CtlEnable, [], true },
        { "masked", CtlEnable | CtlImask, CtlEnable | CtlImask, [], false },
        { "disabled", 0, 0, [], false },
        { "virtual already pending", CtlEnable, 0, [27 | GicCpuInterface.LrPending], false },
        { "virtual already active", CtlEnable, 0, [27 | GicCpuInterface.LrActive], false },
        { "physical interrupt in LR does not cover virtual", CtlEnable, 0, [30 | GicCpuInterface.LrPending], true },
        { "physical already pending", 0, CtlEnable, [30 | GicCpuInterface.LrPending], false },
        { "invalid LR does not count", CtlEnable, 0, [27], true },
    };

    [Theory]
    [MemberData(nameof(Firing))]
    public void FiringWithoutListRegister_WhenAnAssertedTimerIsNotInAnLr(string name, ulong vctl, ulong pctl, ulong[] lrs, bool expected)
    {
        var ctx = new RealmVcpuContext { CntvCtl = vctl, CntvCval = 500, CntpCtl = pctl, CntpCval = 500 };
        lrs.CopyTo(ctx.Gic.Lrs, 0);

        Assert.True(expected == GenericTimer.FiringWithoutListRegister(ctx, ClockAt(1000)), name);
    }

    [Fact]
    public void FiringWithoutListRegister_NotBeforeTheDeadline()
    {
        var ctx = new RealmVcpuContext { CntvCtl = CtlEnable, CntvCval = 500, CntvOff = 100 };

        Assert.False(GenericTimer.FiringWithoutListRegister(ctx, ClockAt(599)));
        Assert.True(GenericTimer.FiringWithoutListRegister(ctx, ClockAt(600)));
    }

    [Theory]
    [InlineData(false, false, GenericTimer.VirtualTimerPpi)]
    [InlineData(true, false, GenericTimer.PhysicalTimerPpi)]
    [InlineData(false, true, GenericTimer.VirtualTimerPpi)]
    [InlineData(true, true, 0u)]
    public void FiringPpi_SkipsATimerWhoseSignalTheOwnerMasked(bool virtualMasked, bool physicalMasked, uint expected)
    {
        var ctx = new RealmVcpuContext
        {
            CntvCtl = CtlEnable, CntvCval = 500, CntpCtl = CtlEnable, CntpCval = 500,
            CntvSignalMasked = virtualMasked, CntpSignalMasked = physicalMasked,
        };

        Assert.Equal(expected, GenericTimer.FiringPpi(ctx, ClockAt(1000)));
    }

    public static TheoryData<string, bool, int, ulong, bool> MaskingWrites => new()
    {
        // name, virtual timer?, register (0 TVAL, 1 CTL, 2 CVAL), value, mask kept (clock at 1000, CVALs 500, both masked)
        { "CNTV_CTL IMASK", true, 1, CtlEnable | CtlImask, false },
        { "CNTV_CTL disable", true, 1, 0, false },
        { "CNTV_CVAL in the future", true, 2, 2000, false },
        { "CNTV_TVAL positive", true, 0, 100, false },
        { "CNTV_CVAL still reached", true, 2, 900, true },
        { "CNTV_CTL ENABLE again", true, 1, CtlEnable, true },
        { "CNTP_CTL IMASK", false, 1, CtlEnable | CtlImask, false },
        { "CNTP_CVAL in the future", false, 2, 2000, false },
        { "CNTP_TVAL negative", false, 0, 0xFFFF_FF00, true },
    };

    [Theory]
    [MemberData(nameof(MaskingWrites))]
    public void TryWrite_LiftsTheOwnersSignalMaskOnlyWhenTheWriteDeassertsThatTimer(string name, bool isVirtual, int register, ulong value, bool kept)
    {
        var ctx = new RealmVcpuContext
        {
            CntvCtl = CtlEnable | CtlIstatus, CntvCval = 500, CntpCtl = CtlEnable | CtlIstatus, CntpCval = 500,
            CntvSignalMasked = true, CntpSignalMasked = true,
        };
        SysReg[] registers = isVirtual
            ? [SysReg.CNTV_TVAL_EL0, SysReg.CNTV_CTL_EL0, SysReg.CNTV_CVAL_EL0]
            : [SysReg.CNTP_TVAL_EL0, SysReg.CNTP_CTL_EL0, SysReg.CNTP_CVAL_EL0];

        Assert.True(GenericTimer.TryWrite(ctx, ClockAt(1000), registers[register], value), name);

        Assert.True(kept == (isVirtual ? ctx.CntvSignalMasked : ctx.CntpSignalMasked), name);
        Assert.True(isVirtual ? ctx.CntpSignalMasked : ctx.CntvSignalMasked, $"{name}: the other timer's mask is its own");
    }

    [Fact]
    public void UpdateStatus_RefreshesIstatusOfBothTimers()
    {
        var ctx = new RealmVcpuContext
        {
            CntpCtl = CtlEnable | CtlIstatus, CntpCval = 2000,
            CntvCtl = CtlEnable | CtlImask, CntvCval = 400, CntvOff = 100,
        };

        GenericTimer.UpdateStatus(ctx, ClockAt(1000));

        Assert.Equal(CtlEnable, ctx.CntpCtl);
        Assert.Equal(CtlEnable | CtlImask | CtlIstatus, ctx.CntvCtl);
    }
}
