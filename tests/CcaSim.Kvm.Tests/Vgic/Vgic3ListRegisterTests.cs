using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vgic;
using static CcaSim.Kvm.Tests.Vgic.VgicTestBed;

namespace CcaSim.Kvm.Tests.Vgic;

/// <summary>The rec_enter/rec_exit list-register exchange, timer lines and SGIs (kvm-realm-abi.md §2.11, §2.16).</summary>
public sealed class Vgic3ListRegisterTests
{
    private const uint Spi = KvmArmIrqLine.TypeSpi;
    private const uint Ppi = KvmArmIrqLine.TypePpi;
    private const ulong Pending = IchLr.PendingBit;
    private const ulong Active = IchLr.ActiveBit;
    private const ulong Group1 = IchLr.Group1;

    [Fact]
    public void Flush_EncodesAPendingEdgeSpiAsAVirtualGroup1Lr()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40, priority: 0xA0);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);

        ulong[] lrs = gic.Flush(0, 4, out int count, out ulong hcr);

        Assert.Equal(1, count);
        Assert.Equal(Pending | Group1 | (0xA0UL << 48) | 40, lrs[0]);
        Assert.Equal(0UL, lrs[0] & IchLr.Hw);
        Assert.Equal([0UL, 0UL, 0UL], lrs[1..4]);
        Assert.Equal(0xFFFF_FFFF_FFFF_FFFFUL, lrs[4]);
        Assert.Equal(0UL, hcr);
    }

    [Fact]
    public void Flush_LevelInterrupt_AsksForEoiMaintenance()
    {
        Vgic3 gic = Ready();
        gic.EnablePpi(0, TimerPpi.Virtual, priority: 0x20);
        gic.SetTimerLevel(0, TimerPpi.Virtual, level: true);

        ulong[] lrs = gic.Flush(0, 4, out int count, out _);

        Assert.Equal(1, count);
        Assert.Equal(Pending | Group1 | IchLr.Eoi | (0x20UL << 48) | 27, lrs[0]);
    }

    [Fact]
    public void Flush_OrdersActiveFirstThenPriorityThenIntid()
    {
        Vgic3 gic = Ready(nrIrqs: 96);
        gic.EnableSpi(33, priority: 0x80);
        gic.EnableSpi(34, priority: 0x40);
        gic.EnableSpi(35, priority: 0x40);
        gic.EnableSpi(36, priority: 0xF0);
        gic.Write(Gicd(0x304), 1u << 4);
        foreach (uint intid in new uint[] { 33, 34, 35 })
        {
            Assert.True(gic.Line(Spi, 0, intid, 1).IsSuccess);
        }

        ulong[] lrs = gic.Flush(0, 4, out int count, out _);

        Assert.Equal(4, count);
        Assert.Equal([36u, 34u, 35u, 33u], lrs[..4].Select(IchLr.Vintid));
        Assert.True(IchLr.IsActive(lrs[0]));
        Assert.False(IchLr.IsPending(lrs[0]));
    }

    [Fact]
    public void Flush_MoreDeliverableThanLrs_SetsUnderflowAndKeepsTheRestPending()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        for (uint intid = 40; intid < 43; intid++)
        {
            gic.EnableSpi(intid, priority: (byte)(0x10 * (intid - 39)));
            Assert.True(gic.Line(Spi, 0, intid, 1).IsSuccess);
        }

        ulong[] lrs = gic.Flush(0, 2, out int count, out ulong hcr);

        Assert.Equal(2, count);
        Assert.Equal([40u, 41u], lrs[..2].Select(IchLr.Vintid));
        Assert.Equal(IchHcr.Uie, hcr);
        Assert.Equal(1UL << 10, gic.Read(Gicd(0x204)));
    }

    [Fact]
    public void Flush_Hcr_StaysWithinWhatTheRmmAccepts()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40);
        gic.EnableSpi(41);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        Assert.True(gic.Line(Spi, 0, 41, 1).IsSuccess);

        gic.Flush(0, 1, out _, out ulong hcr);

        Assert.Equal(0UL, hcr & ~IchHcr.RmiPermitted);
        Assert.Equal(0UL, hcr & IchHcr.En);
        Assert.Equal(0xFEUL | (1UL << 14), IchHcr.RmiPermitted);
    }

    [Fact]
    public void Flush_PriorityNeverUsesTheThreeBitsTheRmmReserves()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40, priority: 0xFF);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);

        ulong[] lrs = gic.Flush(0, 1, out _, out _);

        Assert.Equal(0xF8, IchLr.Priority(lrs[0]));
        Assert.Equal(0UL, lrs[0] & (0x7UL << 48));
    }

    [Theory]
    [InlineData(false, true, true)]
    [InlineData(true, false, true)]
    [InlineData(true, true, false)]
    public void Flush_SkipsInterruptsThatAreDisabledNotPendingOrBehindADisabledDistributor(bool enabled, bool pending, bool distEnabled)
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        if (enabled)
        {
            gic.EnableSpi(40);
        }

        gic.Write(Gicd(0x0), distEnabled ? 0x2UL : 0);
        if (pending)
        {
            Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        }

        gic.Flush(0, 4, out int count, out _);

        Assert.Equal(0, count);
        Assert.False(gic.HasPendingFor(0));
    }

    [Fact]
    public void Flush_RoutesSpisByIrouter()
    {
        Vgic3 gic = Ready(vcpus: 2, nrIrqs: 64);
        gic.EnableSpi(40);
        gic.Write(Gicd(0x6000 + (40 * 8)), 0x1, size: 8);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);

        gic.Flush(0, 4, out int onVcpu0, out _);
        gic.Flush(1, 4, out int onVcpu1, out _);

        Assert.Equal(0, onVcpu0);
        Assert.Equal(1, onVcpu1);
    }

    [Fact]
    public void Flush_LevelSpiReroutedWhileInAnotherVcpusLrs_MovesOnlyAfterTheFold()
    {
        Vgic3 gic = Ready(vcpus: 2, nrIrqs: 64);
        gic.Write(Gicd(0xC08), 0);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);
        gic.Write(Gicd(0x6000 + (40 * 8)), 0x1, size: 8);

        Assert.Equal(0, gic.FlushToListRegisters(1, new ulong[4], 4, out _));
        Assert.False(gic.HasPendingFor(1));
        gic.SyncFromListRegisters(0, lrs, count);

        Assert.Equal(1, gic.FlushToListRegisters(1, new ulong[4], 4, out _));
        Assert.Equal(0, gic.FlushToListRegisters(0, new ulong[4], 4, out _));
    }

    [Fact]
    public void Flush_SpiRoutedToNoVcpu_IsDeliveredNowhere()
    {
        Vgic3 gic = Ready(vcpus: 2, nrIrqs: 64);
        gic.EnableSpi(40);
        gic.Write(Gicd(0x6000 + (40 * 8)), 0x0100, size: 8);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);

        Assert.False(gic.HasPendingFor(0));
        Assert.False(gic.HasPendingFor(1));
    }

    [Fact]
    public void Sync_InvalidLr_CompletesAnEdgeInterrupt()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);

        lrs[0] &= ~IchLr.StateMask;
        gic.SyncFromListRegisters(0, lrs, count);

        Assert.Equal(0UL, gic.Read(Gicd(0x204)));
        Assert.False(gic.HasPendingFor(0));
        Assert.Equal(0, gic.FlushToListRegisters(0, new ulong[4], 4, out _));
    }

    [Fact]
    public void Sync_LrStillPending_KeepsAnEdgeInterruptForTheNextEntry()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);

        gic.SyncFromListRegisters(0, lrs, count);

        Assert.Equal(1UL << 8, gic.Read(Gicd(0x204)));
        Assert.True(gic.HasPendingFor(0));
        Assert.Equal(lrs[0], gic.Flush(0, 4, out _, out _)[0]);
    }

    [Fact]
    public void Sync_EdgeRaisedAgainWhileInTheRealm_IsNotLostWhenTheLrCompletes()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);

        lrs[0] &= ~IchLr.StateMask;
        gic.SyncFromListRegisters(0, lrs, count);

        Assert.True(gic.HasPendingFor(0));
    }

    [Fact]
    public void Sync_InvalidLr_LevelInterruptStaysPendingWhileTheLineIsHigh()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.Write(Gicd(0xC08), 0);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);

        lrs[0] &= ~IchLr.StateMask;
        gic.SyncFromListRegisters(0, lrs, count);
        Assert.True(gic.HasPendingFor(0));
        Assert.True(gic.Line(Spi, 0, 40, 0).IsSuccess);

        Assert.False(gic.HasPendingFor(0));
    }

    [Fact]
    public void Sync_InvalidLr_ClearsTheSoftwareLatchOfALevelInterrupt()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.Write(Gicd(0xC08), 0);
        gic.EnableSpi(40);
        gic.Write(Gicd(0x204), 1u << 8);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);

        lrs[0] &= ~IchLr.StateMask;
        gic.SyncFromListRegisters(0, lrs, count);

        Assert.Equal(0UL, gic.Read(Gicd(0x204)));
    }

    [Fact]
    public void Sync_ActiveLr_KeepsTheInterruptActiveOnThatVcpu()
    {
        Vgic3 gic = Ready(vcpus: 2, nrIrqs: 64);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);

        lrs[0] = (lrs[0] & ~IchLr.StateMask) | Active;
        gic.SyncFromListRegisters(0, lrs, count);
        gic.Write(Gicd(0x6000 + (40 * 8)), 0x1, size: 8);

        Assert.Equal(1UL << 8, gic.Read(Gicd(0x304)));
        Assert.False(gic.HasPendingFor(0));
        ulong[] again = gic.Flush(0, 4, out int stillThere, out _);
        Assert.Equal(1, stillThere);
        Assert.True(IchLr.IsActive(again[0]));
        Assert.Equal(0, gic.FlushToListRegisters(1, new ulong[4], 4, out _));
    }

    [Fact]
    public void Flush_ActiveLevelInterrupt_IsNeverPresentedPendingAndActive()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.Write(Gicd(0xC08), 0);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        gic.Write(Gicd(0x304), 1u << 8);

        ulong[] lrs = gic.Flush(0, 4, out _, out _);

        Assert.Equal(Active, lrs[0] & IchLr.StateMask);
    }

    [Fact]
    public void Flush_ActiveEdgeInterruptPendingAgain_IsPresentedPendingAndActive()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        gic.Write(Gicd(0x304), 1u << 8);

        ulong[] lrs = gic.Flush(0, 4, out _, out _);

        Assert.Equal(IchLr.StateMask, lrs[0] & IchLr.StateMask);
    }

    [Fact]
    public void Sync_ReadsOnlyTheLrsTheLastFlushUsed()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.Write(SgiBase(0, 0x300), 1u << 0);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong[] lrs = gic.Flush(0, 4, out int count, out _);
        Assert.Equal(2, count);

        lrs[2] = Pending | 5;
        gic.SyncFromListRegisters(0, lrs, 4);

        Assert.Equal(0UL, gic.Read(SgiBase(0, 0x200)) & (1UL << 5));
    }

    [Fact]
    public void Flush_Twice_WithoutSync_KeepsTheEdgeInterruptOfTheBackedOutEntry()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        ulong first = gic.Flush(0, 4, out _, out _)[0];

        ulong[] again = gic.Flush(0, 4, out int count, out _);

        Assert.Equal(1, count);
        Assert.Equal(first, again[0]);
    }

    [Fact]
    public void Flush_EveryLrItWrites_PassesTheRmmsGicStateChecks()
    {
        Vgic3 gic = Ready(nrIrqs: 1024 - 32);
        gic.Write(Gicd(0xC00 + (960 / 16 * 4)), 0);
        foreach (uint intid in new uint[] { 960, 990, 991 })
        {
            gic.EnableSpi(intid, priority: 0xFF);
            Assert.True(gic.Line(Spi, 0, intid, 1).IsSuccess);
        }

        gic.EnablePpi(0, TimerPpi.Virtual, priority: 0x07);
        gic.SetTimerLevel(0, TimerPpi.Virtual, true);
        ulong[] lrs = gic.Flush(0, 16, out int count, out _);

        Assert.Equal(4, count);
        Assert.Equal(count, lrs[..count].Select(IchLr.Vintid).Distinct().Count());
        Assert.All(lrs[..count], lr =>
        {
            Assert.Equal(0UL, lr & IchLr.Hw);
            Assert.Equal(0UL, lr & (0x7UL << 48));
            Assert.Equal(0UL, lr & (0x1FFFUL << 32) & ~IchLr.Eoi);
            Assert.InRange(IchLr.Vintid(lr), 0u, 1019u);
        });
    }

    [Fact]
    public void HasPendingFor_AppliesTheRecordedPriorityMask()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.EnableSpi(40, priority: 0xA0);
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);

        Assert.True(gic.HasPendingFor(0));
        gic.SetVmcr(0, 0xA0UL << IchVmcr.VpmrShift);
        Assert.False(gic.HasPendingFor(0));
        gic.SetVmcr(0, 0xF0UL << IchVmcr.VpmrShift);
        Assert.True(gic.HasPendingFor(0));
    }

    [Fact]
    public void HasPendingFor_IgnoresOtherVcpusPrivateInterrupts()
    {
        Vgic3 gic = Ready(vcpus: 2);
        gic.EnablePpi(1, 23);
        Assert.True(gic.Line(Ppi, 1, 23, 1).IsSuccess);

        Assert.False(gic.HasPendingFor(0));
        Assert.True(gic.HasPendingFor(1));
    }

    [Fact]
    public void UpdateTimerLines_DrivesTheVirtualAndPhysicalTimerPpis()
    {
        Vgic3 gic = Ready();
        const ulong fired = TimerPpi.CtlEnable | TimerPpi.CtlIstatus;

        gic.UpdateTimerLines(0, cntvCtl: fired, cntpCtl: fired | TimerPpi.CtlImask);
        Assert.Equal(1UL << 27, gic.Read(SgiBase(0, 0x200)));
        gic.UpdateTimerLines(0, cntvCtl: TimerPpi.CtlEnable, cntpCtl: fired);

        Assert.Equal(1UL << 30, gic.Read(SgiBase(0, 0x200)));
    }

    [Theory]
    [InlineData(0UL, false)]
    [InlineData(TimerPpi.CtlEnable, false)]
    [InlineData(TimerPpi.CtlIstatus, false)]
    [InlineData(TimerPpi.CtlEnable | TimerPpi.CtlIstatus, true)]
    [InlineData(TimerPpi.CtlEnable | TimerPpi.CtlIstatus | TimerPpi.CtlImask, false)]
    [InlineData(TimerPpi.CtlEnable | TimerPpi.CtlImask, false)]
    [InlineData(TimerPpi.CtlIstatus | TimerPpi.CtlImask, false)]
    [InlineData(0xFFFF_FFF8UL | TimerPpi.CtlEnable | TimerPpi.CtlIstatus, true)]
    public void TimerLine_IsAssertedIffEnabledFiredAndUnmasked(ulong ctl, bool asserted) =>
        Assert.Equal(asserted, TimerPpi.IsAsserted(ctl));

    [Fact]
    public void TimerPpis_AreVirtual27AndPhysical30()
    {
        Assert.Equal(27, TimerPpi.Virtual);
        Assert.Equal(30, TimerPpi.Physical);
    }

    [Fact]
    public void SetTimerLevel_BeforeCtrlInit_IsAProgrammingError()
    {
        Vgic3 gic = Created();

        Assert.Throws<InvalidOperationException>(() => gic.SetTimerLevel(0, TimerPpi.Virtual, true));
    }

    [Theory]
    [InlineData(15)]
    [InlineData(32)]
    public void SetTimerLevel_OutsideThePpiRange_IsAProgrammingError(int ppi)
    {
        Vgic3 gic = Ready();

        Assert.Throws<ArgumentOutOfRangeException>(() => gic.SetTimerLevel(0, ppi, true));
    }

    [Fact]
    public void DispatchSgi_TargetListPendsTheSgiOnEachNamedVcpu()
    {
        Vgic3 gic = Ready(vcpus: 3);

        gic.DispatchSgi(0, (5UL << 24) | 0b110);

        Assert.Equal(0UL, gic.Read(SgiBase(0, 0x200)));
        Assert.Equal(1UL << 5, gic.Read(SgiBase(1, 0x200)));
        Assert.Equal(1UL << 5, gic.Read(SgiBase(2, 0x200)));
    }

    [Fact]
    public void DispatchSgi_Aff1SelectsTheSecondClusterOfSixteen()
    {
        Vgic3 gic = Ready(vcpus: 18);

        gic.DispatchSgi(0, (1UL << 24) | (1UL << 16) | 0b10);

        Assert.Equal(1UL << 1, gic.Read(SgiBase(17, 0x200)));
        Assert.Equal(0UL, gic.Read(SgiBase(1, 0x200)));
    }

    [Fact]
    public void DispatchSgi_Irm_BroadcastsToEveryOtherVcpu()
    {
        Vgic3 gic = Ready(vcpus: 3);

        gic.DispatchSgi(1, (1UL << 40) | (2UL << 24));

        Assert.Equal(1UL << 2, gic.Read(SgiBase(0, 0x200)));
        Assert.Equal(0UL, gic.Read(SgiBase(1, 0x200)));
        Assert.Equal(1UL << 2, gic.Read(SgiBase(2, 0x200)));
    }

    [Fact]
    public void Sgi_IsDeliveredEdgeAndEnabledByDefault()
    {
        Vgic3 gic = Ready(vcpus: 2);
        gic.Write(Gicd(0x0), 0x2);

        gic.DispatchSgi(0, (3UL << 24) | 0b10);
        ulong[] lrs = gic.Flush(1, 4, out int count, out _);

        Assert.Equal(1, count);
        Assert.Equal(Pending | Group1 | 3, lrs[0]);
    }

    [Fact]
    public void Flush_ArgumentsOutsideTheLrArray_AreAProgrammingError()
    {
        Vgic3 gic = Ready();

        Assert.Throws<ArgumentOutOfRangeException>(() => gic.FlushToListRegisters(0, new ulong[2], 3, out _));
        Assert.Throws<ArgumentOutOfRangeException>(() => gic.FlushToListRegisters(2, new ulong[4], 4, out _));
    }
}
