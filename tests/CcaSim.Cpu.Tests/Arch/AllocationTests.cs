using CcaSim.Cpu.Arch;
using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Tests.Arch;

/// <summary>The hooks run per guest access: none of these operations may allocate.</summary>
public class AllocationTests
{
    [Fact]
    public void HotPathOperations_AllocateNothing()
    {
        var ctx = new RealmVcpuContext();
        var clock = new VirtualClock();
        clock.AdvanceTo(1000);
        ctx.Gic.Hcr = GicCpuInterface.HcrEn;
        ctx.Gic.Vmcr = GicCpuInterface.VmcrEng1 | (0xF0UL << GicCpuInterface.VmcrPmrShift) | (3UL << GicCpuInterface.VmcrBpr1Shift);
        ulong[] x = new ulong[31];
        RunAll(ctx, clock, x); // JIT and static initialisation first

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 100; i++)
        {
            RunAll(ctx, clock, x);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    private static void RunAll(RealmVcpuContext ctx, VirtualClock clock, ulong[] x)
    {
        ctx.Gic.Lrs[0] = 27 | GicCpuInterface.LrPending | GicCpuInterface.LrGroup | (0xA0UL << GicCpuInterface.LrPriorityShift);
        _ = GicCpuInterface.VirtualIrqPending(ctx);
        GicCpuInterface.TryRead(ctx, SysReg.ICC_IAR1_EL1, out ulong intid);
        GicCpuInterface.Write(ctx, SysReg.ICC_EOIR1_EL1, intid);
        GicCpuInterface.TryRead(ctx, SysReg.ICC_CTLR_EL1, out _);
        _ = GicCpuInterface.ComputeMisr(ctx);
        _ = GicCpuInterface.HighestPendingIntid(ctx);
        GenericTimer.TryWrite(ctx, clock, SysReg.CNTV_TVAL_EL0, 100);
        GenericTimer.TryRead(ctx, clock, SysReg.CNTVCT_EL0, out _);
        GenericTimer.TryRead(ctx, clock, SysReg.CNTV_CTL_EL0, out _);
        _ = GenericTimer.NextDeadline(ctx);
        _ = GenericTimer.FiringWithoutListRegister(ctx, clock);
        GenericTimer.UpdateStatus(ctx, clock);
        SysReg.TryDecode(0xD538CC03, out SysReg reg, out int rt, out bool isRead);
        _ = SysReg.FromIss(reg.ToIss(rt, isRead));
        _ = reg.Name;
        A64Decoder.TryDecodeLoadStore(0xB8655883, out LoadStore ls);
        _ = A64Decoder.DataAbortIss(ls);
        _ = ls.EffectiveAddress(x, 0, 0);
        A64Decoder.TryDecodeLoadStore(0x0C836042, out _);
        A64Decoder.TryDecodeException(0xD4000003, out _);
    }
}
