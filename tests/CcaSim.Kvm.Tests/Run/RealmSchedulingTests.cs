using CcaSim.Kvm.Rmi;
using CcaSim.Kvm.Run;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vm;
using CcaSim.Platform.Execution;

namespace CcaSim.Kvm.Tests.Run;

/// <summary>
/// The realm side of the shared host thread: IRQ exits re-enter unless the time slice ended, trapped SGI writes
/// reach the vGIC (rec_exit_sys_reg), and a WFx exit blocks as kvm_vcpu_block does.
/// </summary>
public sealed class RealmSchedulingTests
{
    /// <summary>A realm that runs a little on every entry and, on the entries listed, has a host IRQ (or the slice end) end it.</summary>
    private sealed class TickingEngine(KvmTestBed bed, Func<int, bool> sliceEnds, Func<int, bool> irq) : IRealmEngine
    {
        public int Runs { get; private set; }

        public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
        {
            int k = Runs++;
            VirtualClock clock = bed.Platform.Clock;
            clock.AddInstructions(160);
            if (sliceEnds(k))
            {
                clock.AdvanceTo(clock.SliceEnd);
            }

            bed.Platform.Interrupts.IrqPending = irq(k);
            return bed.Script.Run(context, memory);
        }
    }

    private static long Err(Errno errno) => -(long)errno;

    [Fact]
    public void RealmIrqExit_WithTheSliceLeft_IsReentered_UntilTheRealmIdles()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        var engine = new TickingEngine(bed, sliceEnds: _ => false, irq: k => k < 2);
        bed.Rmm.Engine = engine;

        // Two IRQ exits with realm progress and time left: KVM re-enters; the third entry idles (FIQ) → -EINTR.
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        Assert.Equal(3, engine.Runs);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(0).ExitReason);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void RealmIrqExit_AtTheSliceEnd_ReturnsEintrAtOnce()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        var engine = new TickingEngine(bed, sliceEnds: _ => true, irq: _ => true);
        bed.Rmm.Engine = engine;

        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        Assert.Equal(1, engine.Runs);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(0).ExitReason);
        bed.Platform.Interrupts.IrqPending = false;
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void RealmSysRegExit_Sgi1rWrite_PendsTheSgiForTheTargetVcpuOnly()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed, vcpus: 2);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        IInKernelIrqchip gic = vmm.Vm.Irqchip!;
        ulong ctlr = 1 << 1;
        Assert.True(gic.TryHandleMmio(0, RealmVmm.GicDistributor, isWrite: true, 4, ref ctlr));

        // rec_exit: SYNC, EC 0x18 MSR ICC_SGI1R_EL1 from x1, the value in gprs[0]: SGI 5 to Aff0 1.
        KvmVcpu vcpu = vmm.Vcpu(0);
        var mem = vmm.Vm.Context.HostMemory;
        ulong esr = (0x18UL << 26) | (1UL << 25) | (3UL << 20) | (5UL << 17) | (12UL << 10) | (1UL << 5) | (11UL << 1);
        mem.Write64(vcpu.RunPa + RmiRecRun.ExitReason, (ulong)RmiExitReason.Sync);
        mem.Write64(vcpu.RunPa + RmiRecRun.ExitEsr, esr);
        mem.Write64(vcpu.RunPa + RmiRecRun.ExitGprs, (5UL << 24) | (1UL << 1));

        Assert.Null(RealmRunLoop.HandleExit(vcpu, vmm.Vm.Realm!, progressed: true));

        ulong[] lrs = new ulong[RmiRecRun.NumLrs];
        gic.FlushToListRegisters(1, lrs, 4);
        Assert.Contains(lrs, lr => (uint)lr == 5 && (lr & (1UL << 62)) != 0);
        Array.Clear(lrs);
        gic.FlushToListRegisters(0, lrs, 4);
        Assert.DoesNotContain(lrs, lr => (uint)lr == 5);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void RealmWfiExit_WithNothingPendingOrRunnable_ReturnsEintr_AndTheNextRunKeepsWaitingWithoutEntering()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        KvmVcpu vcpu = vmm.Vcpu(0);
        var mem = vmm.Vm.Context.HostMemory;
        mem.Write64(vcpu.RunPa + RmiRecRun.ExitReason, (ulong)RmiExitReason.Sync);
        mem.Write64(vcpu.RunPa + RmiRecRun.ExitEsr, (0x01UL << 26) | (1UL << 25));

        Assert.Equal(Err(Errno.EINTR), RealmRunLoop.HandleExit(vcpu, vmm.Vm.Realm!, progressed: true)!.Value.ReturnValue);
        Assert.True(vcpu.IsWaiting);

        int entries = bed.Engine.Entries.Count;
        Assert.Equal(Err(Errno.EINTR), vmm.RunVcpu().ReturnValue);
        Assert.Equal(entries, bed.Engine.Entries.Count);
        vmm.Close();
        bed.AssertNoLeaks();
    }
}
