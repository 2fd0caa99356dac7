using System.Buffers.Binary;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using CcaSim.Kvm.Vm;
using CcaSim.Platform.Execution;

namespace CcaSim.Kvm.Tests.Run;

/// <summary>
/// A scripted CPU for normal-VM KVM_RUN: per vCPU (by MPIDR Aff0) a queue of steps, each of which may check and
/// change the context, and returns the event the engine reports. It records what KVM tells it (stage-2 changes,
/// flushes, releases). An empty queue is a test bug.
/// </summary>
internal sealed class FakeEngine : IRealmEngine
{
    private readonly Dictionary<int, Queue<Func<RealmVcpuContext, IRealmMemory, RealmEvent>>> _steps = [];

    public List<(IRealmMemory Memory, ulong Ipa, ulong Size)> Stage2Changes { get; } = [];

    public int Flushes { get; private set; }

    public List<RealmVcpuContext> ReleasedContexts { get; } = [];

    public List<IRealmMemory> ReleasedMemories { get; } = [];

    public int Runs { get; private set; }

    /// <summary>What <see cref="Flush"/> writes into the context: engine-cached state that only a flush makes visible.</summary>
    public Action<RealmVcpuContext>? OnFlush { get; set; }

    public void Then(int vcpuId, Func<RealmVcpuContext, IRealmMemory, RealmEvent> step)
    {
        if (!_steps.TryGetValue(vcpuId, out var queue))
        {
            _steps[vcpuId] = queue = new();
        }

        queue.Enqueue(step);
    }

    public void Then(int vcpuId, Func<RealmVcpuContext, RealmEvent> step) => Then(vcpuId, (ctx, _) => step(ctx));

    public int Pending(int vcpuId) => _steps.TryGetValue(vcpuId, out var q) ? q.Count : 0;

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
    {
        Runs++;
        int id = (int)(context.MpidrEl1 & 0xF);
        Assert.True(_steps.TryGetValue(id, out var queue) && queue.Count > 0, $"vCPU {id} entered with no scripted step");
        return queue!.Dequeue()(context, memory);
    }

    public void Stage2Changed(IRealmMemory memory, ulong ipa, ulong size) => Stage2Changes.Add((memory, ipa, size));

    public void Flush(RealmVcpuContext context)
    {
        Flushes++;
        OnFlush?.Invoke(context);
    }

    public void Release(RealmVcpuContext context) => ReleasedContexts.Add(context);

    public void Release(IRealmMemory memory) => ReleasedMemories.Add(memory);
}

/// <summary>
/// KVM_RUN of a normal VM on an engine (kvm_arch_vcpu_ioctl_run, handle_exit, mmio.c, psci.c, vgic of Linux 6.6):
/// MMIO exits and their completion, in-kernel PSCI and SGIs, timer PPIs, the time slice, WFI blocking, stage-2
/// change notifications and the ONE_REG boundary.
/// </summary>
public sealed class NormalVmRunTests
{
    private const ulong RamBase = 0x8000_0000;
    private const ulong RamSize = 1UL << 20;
    private const ulong DeviceIpa = 0x0900_0000;
    private const ulong GicDistributor = 0x3FFF_0000;
    private const ulong GicRedistributors = 0x3FF0_0000;
    private const ulong Entry = RamBase + 0x8_0000;

    private const ulong PsciCpuOff = 0x8400_0002;
    private const ulong PsciCpuOn64 = 0xC400_0003;
    private const ulong PsciAffinityInfo64 = 0xC400_0004;
    private const ulong PsciSystemOff = 0x8400_0008;
    private const ulong PsciVersion = 0x8400_0000;

    private const ulong CntCtlEnable = 1;
    private const ulong CntCtlIstatus = 4;

    private static long Err(Errno errno) => -(long)errno;

    private sealed class Machine
    {
        public Machine(int vcpus = 1, bool secondariesOff = true)
        {
            Bed = new KvmTestBed(options: new KvmHostOptions { Engine = Engine });
            KvmHost kvm = Bed.Kvm;
            VmFd = (int)kvm.CreateVm(Bed.KvmFd, KvmVmType.Make(KvmVmType.ArmNormal, 40)).ReturnValue;
            var device = new KvmCreateDevice { Type = (uint)KvmDeviceType.ArmVgicV3 };
            Assert.Equal(0, kvm.CreateDevice(VmFd, ref device).ReturnValue);
            GicFd = (int)device.Fd;
            ulong scratch = (ulong)kvm.Process.Mmap(4096).ReturnValue;
            foreach ((ulong type, ulong address) in new[] { (KvmVgicAttr.AddrTypeV3Dist, GicDistributor), (KvmVgicAttr.AddrTypeV3Redist, GicRedistributors) })
            {
                Assert.True(kvm.Process.TryWrite(scratch, BitConverter.GetBytes(address)));
                Assert.Equal(0, kvm.SetDeviceAttr(GicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = type, Addr = scratch }).ReturnValue);
            }

            Assert.Equal(0, kvm.Process.Munmap(scratch).ReturnValue);
            for (int i = 0; i < vcpus; i++)
            {
                int fd = (int)kvm.CreateVcpu(VmFd, i).ReturnValue;
                var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
                init.Features[0] = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02) | (i > 0 && secondariesOff ? KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff) : 0);
                Assert.Equal(0, kvm.ArmVcpuInit(fd, init).ReturnValue);
                VcpuFds.Add(fd);
            }

            Assert.Equal(0, kvm.SetDeviceAttr(GicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupCtrl, Attr = KvmVgicAttr.CtrlInit }).ReturnValue);
            Uaddr = (ulong)kvm.Process.Mmap(RamSize).ReturnValue;
            Assert.Equal(0, kvm.SetUserMemoryRegion2(VmFd, Slot(RamBase, 0)).ReturnValue);
            for (int i = 0; i < vcpus; i++)
            {
                SetReg(i, ArmRegisterId.CoreReg(CoreOffset.Pc, ArmRegisterId.SizeU64), Entry);
            }
        }

        public FakeEngine Engine { get; } = new();

        public KvmTestBed Bed { get; }

        public KvmHost Kvm => Bed.Kvm;

        public int VmFd { get; }

        public int GicFd { get; }

        public ulong Uaddr { get; }

        public List<int> VcpuFds { get; } = [];

        public VirtualClock Clock => Bed.Platform.Clock;

        public KvmVm Vm => Kvm.VmOf(VmFd)!;

        public KvmRun Run(int i) => Kvm.MapRun(VcpuFds[i])!;

        public KvmResult RunVcpu(int i = 0) => Kvm.Run(VcpuFds[i]);

        public KvmUserspaceMemoryRegion2 Slot(ulong gpa, uint flags, ulong size = RamSize) =>
            new() { Slot = 0, Flags = flags, GuestPhysAddr = gpa, MemorySize = size, UserspaceAddr = Uaddr };

        public KvmResult SetReg(int i, ulong id, ulong value) => KvmTestBed.SetOneReg(Kvm, VcpuFds[i], id, BitConverter.GetBytes(value));

        public ulong GetReg(int i, ulong id) => KvmTestBed.GetOneReg(Kvm, VcpuFds[i], id);

        /// <summary>What the guest's GIC driver does at boot: distributor on, the timer PPIs enabled on every redistributor.</summary>
        public void EnableGic(ulong ppis = (1UL << 27) | (1UL << 30))
        {
            var gic = Vm.Irqchip!;

            // The first KVM_RUN maps the frames; the guest's accesses would come after it.
            Assert.Equal(0, ((CcaSim.Kvm.Vgic.Vgic3)gic).MapResources().ReturnValue);
            ulong ctlr = 1 << 1;
            Assert.True(gic.TryHandleMmio(0, GicDistributor, isWrite: true, 4, ref ctlr));
            for (int i = 0; i < VcpuFds.Count; i++)
            {
                EnablePpis(i, ppis);
            }
        }

        /// <summary>The guest's write of GICR_ISENABLER0 on vCPU <paramref name="vcpu"/>'s redistributor.</summary>
        public void EnablePpis(int vcpu, ulong ppis)
        {
            ulong enable = ppis;
            Assert.True(Vm.Irqchip!.TryHandleMmio(vcpu, GicRedistributors + ((ulong)vcpu * 0x20000) + 0x1_0100, isWrite: true, 4, ref enable));
        }

        /// <summary>The guest spends the rest of its slice: an IRQ exit once the scheduler tick is due.</summary>
        public RealmEvent SliceOver()
        {
            Clock.AdvanceTo(Clock.SliceEnd);
            return new RealmEvent(RealmEventKind.Irq);
        }

        public void Close(bool unmap = true)
        {
            Assert.Equal(0, Kvm.Close(GicFd).ReturnValue);
            foreach (int fd in VcpuFds)
            {
                Assert.Equal(0, Kvm.Close(fd).ReturnValue);
            }

            Assert.Equal(0, Kvm.Close(VmFd).ReturnValue);
            if (unmap)
            {
                Assert.Equal(0, Kvm.Process.Munmap(Uaddr).ReturnValue);
            }
        }
    }

    /// <summary>ESR of a stage-2 data abort from a lower EL (EC 0x24, IL, translation fault level 3).</summary>
    private static ulong Dabt(int size, bool write, int rt, bool isv = true, bool sse = false, bool sf = true) =>
        (0x24UL << 26) | (1UL << 25) | (isv ? (1UL << 24) | ((ulong)System.Numerics.BitOperations.Log2((uint)size) << 22) | (sse ? 1UL << 21 : 0) | ((ulong)rt << 16) | (sf ? 1UL << 15 : 0) : 0)
        | (write ? 1UL << 6 : 0) | 0x07;

    /// <summary>ESR of a trapped MSR ICC_SGI1R_EL1, Xrt (EC 0x18: Op0 3, Op2 5, Op1 0, CRn 12, CRm 11, write).</summary>
    private static ulong Sgi1rWrite(int rt) =>
        (0x18UL << 26) | (1UL << 25) | (3UL << 20) | (5UL << 17) | (12UL << 10) | ((ulong)rt << 5) | (11UL << 1);

    private static bool HasLr(RealmVcpuContext ctx, uint intid) =>
        ctx.Gic.Lrs.Take(ctx.Gic.NumListRegisters).Any(lr => (uint)lr == intid && (lr >> 62) != 0);

    // ---- MMIO (mmio.c) ----

    [Theory]
    [InlineData(2, true, false, 0x8001UL, 0xFFFF_8001UL)]
    [InlineData(2, true, true, 0x8001UL, 0xFFFF_FFFF_FFFF_8001UL)]
    [InlineData(4, false, true, 0xFFFF_FFFF_1234_5678UL, 0x1234_5678UL)]
    [InlineData(1, false, false, 0x1FFUL, 0xFFUL)]
    public void MmioRead_OutsideMemslots_ExitsAndTheNextRunLoadsRtPerSyndromeAndStepsPastTheAccess(int size, bool sse, bool sf, ulong data, ulong expected)
    {
        var m = new Machine();
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(Entry, ctx.Pc);
            Assert.Equal(VcpuRegisterFile.ResetPstateEl1, ctx.Pstate);
            ctx.X[5] = 0xDEAD;
            return new RealmEvent(RealmEventKind.DataAbort, DeviceIpa + 0x10, size, false, 5, Dabt(size, false, 5, sse: sse, sf: sf));
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(expected, ctx.X[5]);
            Assert.Equal(Entry + 4, ctx.Pc);
            return m.SliceOver();
        });

        Assert.Equal(0, m.RunVcpu().ReturnValue);
        KvmRun run = m.Run(0);
        Assert.Equal(KvmExitReason.Mmio, run.ExitReason);
        Assert.Equal(DeviceIpa + 0x10, run.MmioPhysAddr);
        Assert.Equal((uint)size, run.MmioLen);
        Assert.False(run.MmioIsWrite);
        BinaryPrimitives.WriteUInt64LittleEndian(run.MmioData, data);

        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        Assert.Equal(KvmExitReason.Intr, run.ExitReason);
        Assert.Equal(0, m.Engine.Pending(0));
        m.Close();
    }

    [Fact]
    public void MmioWrite_ToReadOnlySlot_ExitsWithTheValueCutToSizeAndCompletesWithPcPastIt()
    {
        var m = new Machine();
        Assert.Equal(0, m.Kvm.SetUserMemoryRegion2(m.VmFd, m.Slot(RamBase, 0, size: 0)).ReturnValue);
        Assert.Equal(0, m.Kvm.SetUserMemoryRegion2(m.VmFd, m.Slot(RamBase, (uint)KvmMemoryRegionOptions.ReadOnly)).ReturnValue);
        m.Engine.Then(0, (ctx, mem) =>
        {
            Assert.Equal(Stage2PageKind.Mapped, mem.Lookup(RamBase).Kind);
            Assert.False(mem.Lookup(RamBase).Writable);
            ctx.X[3] = 0xAABB_CCDD_1122_3344;
            return new RealmEvent(RealmEventKind.DataAbort, RamBase + 8, 4, true, 3, Dabt(4, true, 3));
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(Entry + 4, ctx.Pc);
            Assert.Equal(0xAABB_CCDD_1122_3344UL, ctx.X[3]);
            return m.SliceOver();
        });

        Assert.Equal(0, m.RunVcpu().ReturnValue);
        KvmRun run = m.Run(0);
        Assert.Equal(KvmExitReason.Mmio, run.ExitReason);
        Assert.True(run.MmioIsWrite);
        Assert.Equal(RamBase + 8, run.MmioPhysAddr);
        Assert.Equal(0x1122_3344UL, BinaryPrimitives.ReadUInt64LittleEndian(run.MmioData));
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        m.Close();
    }

    [Fact]
    public void MmioAbort_WithoutSyndrome_IsEnosys_OrArmNisvExitOnceTheVmmEnabledIt()
    {
        var m = new Machine();
        ulong esr = Dabt(8, true, 0, isv: false);
        m.Engine.Then(0, _ => new RealmEvent(RealmEventKind.DataAbort, DeviceIpa, 8, true, 0, esr));
        Assert.Equal(Err(Errno.ENOSYS), m.RunVcpu().ReturnValue);

        Assert.Equal(0, m.Kvm.EnableCap(m.VmFd, new KvmEnableCap { Cap = (uint)KvmCapability.ArmNisvToUser }).ReturnValue);
        m.Engine.Then(0, _ => new RealmEvent(RealmEventKind.DataAbort, DeviceIpa + 0x20, 8, true, 0, esr));
        Assert.Equal(0, m.RunVcpu().ReturnValue);
        KvmRun run = m.Run(0);
        Assert.Equal(KvmExitReason.ArmNisv, run.ExitReason);
        Assert.Equal((1UL << 6) | 0x07, run.ArmNisvEsrIss);
        Assert.Equal(DeviceIpa + 0x20, run.ArmNisvFaultIpa);
        m.Close();
    }

    // ---- PSCI (psci.c) over both conduits ----

    [Theory]
    [InlineData(RealmEventKind.Hvc)]
    [InlineData(RealmEventKind.Smc)]
    public void Psci_CpuOnAffinityInfoCpuOffAndSystemOff_AreHandledInTheKernel(RealmEventKind conduit)
    {
        var m = new Machine(vcpus: 2);
        RealmEvent Call(RealmVcpuContext ctx, ulong fid, ulong a1 = 0, ulong a2 = 0, ulong a3 = 0)
        {
            (ctx.X[0], ctx.X[1], ctx.X[2], ctx.X[3]) = (fid, a1, a2, a3);
            ctx.Pc += 4;
            return new RealmEvent(conduit);
        }

        m.Engine.Then(0, ctx => Call(ctx, PsciVersion));
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(0x1_0001UL, ctx.X[0]);
            return Call(ctx, PsciAffinityInfo64, 1, 0);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(1UL, ctx.X[0]);
            return Call(ctx, PsciCpuOn64, 1, Entry + 0x100, 0xC0FFEE);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(0UL, ctx.X[0]);
            return Call(ctx, PsciCpuOn64, 1, Entry, 0);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(unchecked((ulong)-4L), ctx.X[0]);
            return Call(ctx, PsciCpuOn64, 0x100, Entry, 0);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(unchecked((ulong)-2L), ctx.X[0]);
            return Call(ctx, PsciAffinityInfo64, 1, 0);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(0UL, ctx.X[0]);
            return m.SliceOver();
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu(0).ReturnValue);

        m.Engine.Then(1, ctx =>
        {
            Assert.Equal(Entry + 0x100, ctx.Pc);
            Assert.Equal(0xC0FFEEUL, ctx.X[0]);
            Assert.Equal(VcpuRegisterFile.ResetPstateEl1, ctx.Pstate);
            Assert.Equal(0x8000_0001UL, ctx.MpidrEl1);
            return Call(ctx, PsciCpuOff);
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu(1).ReturnValue);
        Assert.Equal(KvmExitReason.Intr, m.Run(1).ExitReason);
        Assert.True(m.Kvm.VcpuOf(m.VcpuFds[1])!.IsPoweredOff);

        m.Engine.Then(0, ctx => Call(ctx, PsciAffinityInfo64, 1, 0));
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(1UL, ctx.X[0]);
            return Call(ctx, PsciSystemOff);
        });
        Assert.Equal(0, m.RunVcpu(0).ReturnValue);
        KvmRun run = m.Run(0);
        Assert.Equal(KvmExitReason.SystemEvent, run.ExitReason);
        Assert.Equal(KvmSystemEvent.Shutdown, run.SystemEventType);
        Assert.Equal(0, m.Engine.Pending(0));
        Assert.Equal(0, m.Engine.Pending(1));
        m.Close();
    }

    [Theory]
    [InlineData(1UL, 0UL)] // Aff0 = 1: no such vCPU in a 1-vCPU VM
    [InlineData(7UL, 0UL)]
    [InlineData(0x100UL, 0UL)] // Aff1 = 1
    [InlineData(0x100UL, 1UL)] // Aff0 ignored at level 1, but Aff1 = 1 still matches nothing
    public void PsciAffinityInfo_WhenNoVcpuMatchesTheAffinity_ReturnsInvalidParameters(ulong target, ulong lowestLevel)
    {
        // kvm_psci_vcpu_affinity_info: "if (!matching_cpus) return PSCI_RET_INVALID_PARAMS" — guests without a DTB
        // count their CPUs by probing AFFINITY_INFO until it answers INVALID_PARAMETERS.
        var m = new Machine(vcpus: 1);
        m.Engine.Then(0, ctx =>
        {
            (ctx.X[0], ctx.X[1], ctx.X[2]) = (PsciAffinityInfo64, target, lowestLevel);
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Hvc);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(unchecked((ulong)-2L), ctx.X[0]);
            (ctx.X[0], ctx.X[1], ctx.X[2]) = (PsciAffinityInfo64, 0, 0);
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Hvc);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(0UL, ctx.X[0]); // vCPU 0 itself is ON
            return m.SliceOver();
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        Assert.Equal(0, m.Engine.Pending(0));
        m.Close();
    }

    [Fact]
    public void UnknownSmcccCall_AnswersMinusOne_AndAFilteredOneExitsAsHypercall()
    {
        var m = new Machine();
        m.Engine.Then(0, ctx =>
        {
            ctx.X[0] = 0xC600_0001;
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Smc);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(ulong.MaxValue, ctx.X[0]);
            return m.SliceOver();
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        m.Close();
    }

    // ---- vGIC: SGIs, list registers, timers ----

    [Fact]
    public void SgiWrite_DispatchesToTheTargetVcpu_WhoseNextEntryHasItInAListRegister()
    {
        var m = new Machine(vcpus: 2, secondariesOff: false);
        m.Engine.Then(0, ctx =>
        {
            // GICD_CTLR.EnableGrp1 through the in-kernel distributor, not a user-space exit.
            ctx.X[1] = 1 << 1;
            return new RealmEvent(RealmEventKind.DataAbort, GicDistributor, 4, true, 1, Dabt(4, true, 1));
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(Entry + 4, ctx.Pc);
            ctx.X[2] = (3UL << 24) | (1UL << 1);
            return new RealmEvent(RealmEventKind.SysRegAccess, Register: 2, Syndrome: Sgi1rWrite(2));
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(Entry + 8, ctx.Pc);
            Assert.False(HasLr(ctx, 3));
            return m.SliceOver();
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu(0).ReturnValue);

        m.Engine.Then(1, ctx =>
        {
            Assert.True(HasLr(ctx, 3));
            Assert.Equal(1UL, ctx.Gic.Hcr & 1);
            return m.SliceOver();
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu(1).ReturnValue);
        Assert.Equal(0, m.Engine.Pending(1));
        m.Close();
    }

    [Fact]
    public void IrqExit_FromAFiredTimer_WithTheSliceLeft_ReentersWithThePpiInAListRegister()
    {
        var m = new Machine();
        m.EnableGic();
        m.Engine.Then(0, ctx =>
        {
            m.Clock.AddInstructions(160);
            ctx.CntvCval = m.Clock.Now;
            ctx.CntvCtl = CntCtlEnable | CntCtlIstatus;
            return new RealmEvent(RealmEventKind.Irq);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.True(HasLr(ctx, 27));
            Assert.False(HasLr(ctx, 30));
            return m.SliceOver();
        });

        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        Assert.Equal(KvmExitReason.Intr, m.Run(0).ExitReason);
        Assert.Equal(0, m.Engine.Pending(0));
        m.Close();
    }

    [Fact]
    public void FiredTimer_WhosePpiIsNotEnabled_IsMaskedFromTheHostOnReentry_AndReachesAListRegisterOnceEnabled()
    {
        // kvm_timer_vcpu_load: a high timer line leaves the host PPI active (or disabled), so the guest runs on
        // instead of exiting for the same assertion; the vGIC keeps the level pending until the guest enables it.
        var m = new Machine();
        m.EnableGic(ppis: 0);
        m.Engine.Then(0, ctx =>
        {
            Assert.False(ctx.CntvSignalMasked);
            m.Clock.AddInstructions(160);
            ctx.CntvCval = m.Clock.Now;
            ctx.CntvCtl = CntCtlEnable | CntCtlIstatus;
            return new RealmEvent(RealmEventKind.Irq);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.True(ctx.CntvSignalMasked);
            Assert.False(ctx.CntpSignalMasked);
            Assert.False(HasLr(ctx, 27));
            m.Clock.AddInstructions(160);
            m.EnablePpis(0, 1UL << 27);
            return new RealmEvent(RealmEventKind.Irq);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.True(HasLr(ctx, 27));
            return m.SliceOver();
        });

        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        Assert.Equal(0, m.Engine.Pending(0));
        m.Close();
    }

    [Fact]
    public void IrqExit_AtTheEndOfTheSlice_OrWithoutProgress_ReturnsEintr_EachKvmRunStartingANewSlice()
    {
        var m = new Machine();
        m.Clock.SliceTicks = 100;
        m.Engine.Then(0, _ => m.SliceOver());
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        ulong firstEnd = m.Clock.SliceEnd;

        m.Engine.Then(0, _ => new RealmEvent(RealmEventKind.Irq));
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        Assert.Equal(firstEnd + 100, m.Clock.SliceEnd);
        Assert.Equal(KvmExitReason.Intr, m.Run(0).ExitReason);
        m.Close();
    }

    // ---- WFI (kvm_vcpu_block) ----

    [Fact]
    public void Wfi_WithNothingPendingAndNoOtherVcpu_SkipsVirtualTimeToTheTimerDeadlineAndGoesOn()
    {
        var m = new Machine();
        m.EnableGic();
        ulong deadline = 0;
        m.Engine.Then(0, ctx =>
        {
            m.Clock.AddInstructions(64);
            deadline = m.Clock.Now + 5000;
            ctx.CntvCval = deadline;
            ctx.CntvCtl = CntCtlEnable;
            ctx.Gic.Vmcr = 0xFFUL << 24;
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Wfi);
        });
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(deadline, m.Clock.Now);
            Assert.True(HasLr(ctx, 27));
            return m.SliceOver();
        });

        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        Assert.Equal(0, m.Engine.Pending(0));
        m.Close();
    }

    [Fact]
    public void Wfi_WithAnotherRunnableVcpu_YieldsWithEintr_AndTheWaitGoesOnAtTheNextRun()
    {
        var m = new Machine(vcpus: 2, secondariesOff: false);
        m.Engine.Then(0, ctx =>
        {
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Wfi);
        });
        ulong before = m.Clock.Now;
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu(0).ReturnValue);
        Assert.Equal(KvmExitReason.Intr, m.Run(0).ExitReason);
        Assert.Equal(before, m.Clock.Now);

        // vCPU 1 waits too: nothing is runnable and no timer is armed, so the VMM gets -EINTR again.
        m.Engine.Then(1, ctx =>
        {
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Wfe);
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu(1).ReturnValue);

        // vCPU 0 is still in its WFI: no entry into the guest without an interrupt.
        int runs = m.Engine.Runs;
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu(0).ReturnValue);
        Assert.Equal(runs, m.Engine.Runs);
        m.Close();
    }

    // ---- stage 2 and the register boundary ----

    [Fact]
    public void MemslotDeleteMoveFlagsAndMunmap_ReportStage2Changes_AndDestroyReleasesEverything()
    {
        var m = new Machine();
        m.Engine.Then(0, _ => m.SliceOver());
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        IRealmMemory stage2 = m.Vm.Stage2!;

        Assert.Equal(0, m.Kvm.SetUserMemoryRegion2(m.VmFd, m.Slot(RamBase, (uint)KvmMemoryRegionOptions.LogDirtyPages)).ReturnValue);
        Assert.Equal(0, m.Kvm.SetUserMemoryRegion2(m.VmFd, m.Slot(RamBase + RamSize, (uint)KvmMemoryRegionOptions.LogDirtyPages)).ReturnValue);
        Assert.Equal(0, m.Kvm.SetUserMemoryRegion2(m.VmFd, m.Slot(RamBase, 0, size: 0) with { GuestPhysAddr = RamBase + RamSize }).ReturnValue);
        Assert.Equal(
            [(stage2, RamBase, RamSize), (stage2, RamBase, RamSize), (stage2, RamBase + RamSize, RamSize)],
            m.Engine.Stage2Changes);

        Assert.Equal(0, m.Kvm.SetUserMemoryRegion2(m.VmFd, m.Slot(RamBase, 0)).ReturnValue);
        m.Engine.Stage2Changes.Clear();
        RealmVcpuContext ctx = m.Kvm.VcpuOf(m.VcpuFds[0])!.Context!;

        // The mmu notifier: the VMM unmapping the slot's backing drops its pages before they are freed.
        Assert.Equal(0, m.Kvm.Process.Munmap(m.Uaddr).ReturnValue);
        Assert.Equal([(stage2, RamBase, RamSize)], m.Engine.Stage2Changes);
        m.Close(unmap: false);

        Assert.Equal([ctx], m.Engine.ReleasedContexts);
        Assert.Equal([stage2], m.Engine.ReleasedMemories);
    }

    [Fact]
    public void OneReg_ReadsTheEngineStateAfterAFlush_AndAWriteReloadsTheContextWithoutLosingTheRest()
    {
        var m = new Machine();
        ulong x7 = ArmRegisterId.CoreReg(CoreOffset.X0 + (2 * 7), ArmRegisterId.SizeU64);
        ulong x8 = ArmRegisterId.CoreReg(CoreOffset.X0 + (2 * 8), ArmRegisterId.SizeU64);
        ulong spEl1 = ArmRegisterId.CoreReg(CoreOffset.SpEl1, ArmRegisterId.SizeU64);
        ulong generation = 0;
        m.Engine.Then(0, ctx =>
        {
            ctx.X[7] = 0x77;
            generation = ctx.Generation;
            return m.SliceOver();
        });
        m.Engine.OnFlush = ctx => ctx.SpEl1 = 0x1234_0000;
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);

        Assert.Equal(0x77UL, m.GetReg(0, x7));
        Assert.Equal(0x1234_0000UL, m.GetReg(0, spEl1));
        Assert.Equal(1, m.Engine.Flushes);

        Assert.Equal(0, m.SetReg(0, x8, 0x88).ReturnValue);
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(0x88UL, ctx.X[8]);
            Assert.Equal(0x77UL, ctx.X[7]);
            Assert.Equal(0x1234_0000UL, ctx.SpEl1);
            Assert.True(ctx.Generation > generation);
            return m.SliceOver();
        });
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        Assert.Equal(0, m.Engine.Pending(0));
        m.Close();
    }

    [Fact]
    public void SetVcpuEvents_ExtDabtAfterAnMmioExit_IsTakenOnTheAccessInsteadOfCompletingIt()
    {
        var m = new Machine();
        m.Engine.Then(0, _ => new RealmEvent(RealmEventKind.DataAbort, DeviceIpa, 4, false, 1, Dabt(4, false, 1)));
        m.Engine.Then(0, ctx =>
        {
            Assert.Equal(RealmFault.SynchronousExternalAbort, ctx.PendingException);
            Assert.Equal(Entry, ctx.Pc);
            return m.SliceOver();
        });
        Assert.Equal(0, m.RunVcpu().ReturnValue);
        var events = new KvmVcpuEvents { ExtDabtPending = 1 };
        Assert.Equal(0, m.Kvm.SetVcpuEvents(m.VcpuFds[0], events).ReturnValue);
        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);
        m.Close();
    }

    [Fact]
    public void Run_OnANormalVm_WithoutAnEngine_IsEnoexec()
    {
        var bed = new KvmTestBed();
        int vm = (int)bed.Kvm.CreateVm(bed.KvmFd, KvmVmType.Make(KvmVmType.ArmNormal, 40)).ReturnValue;
        int vcpu = (int)bed.Kvm.CreateVcpu(vm, 0).ReturnValue;
        Assert.Equal(0, bed.Kvm.ArmVcpuInit(vcpu, new KvmVcpuInit { Target = KvmArmTarget.GenericV8 }).ReturnValue);
        Assert.Equal(Err(Errno.ENOEXEC), bed.Kvm.Run(vcpu).ReturnValue);
    }

    // ---- the trace port (kvm_exit, kvm_hvc_arm64 and the timer tracepoints' counterparts) ----

    private sealed class TraceRecorder : CcaSim.Platform.Tracing.ITraceSink
    {
        public List<CcaSim.Platform.Tracing.TraceEvent> Events { get; } = [];

        public void Record(in CcaSim.Platform.Tracing.TraceEvent e) => Events.Add(e);

        public CcaSim.Platform.Tracing.TraceEvent[] Of(CcaSim.Platform.Tracing.TraceEventKind kind) => [.. Events.Where(e => e.Kind == kind)];
    }

    [Fact]
    public void Trace_OfAnMmioExit_RecordsTheGuestExitWithItsSyndromeIpaAndPc()
    {
        var m = new Machine();
        var sink = new TraceRecorder();
        m.Bed.Platform.Trace.Sink = sink;
        ulong esr = Dabt(4, write: true, rt: 1);
        m.Engine.Then(0, ctx =>
        {
            m.Clock.AddInstructions(160);
            return new RealmEvent(RealmEventKind.DataAbort, DeviceIpa + 8, 4, true, 1, esr, DeviceIpa + 8);
        });

        Assert.Equal(0, m.RunVcpu().ReturnValue);

        var exit = Assert.Single(sink.Of(CcaSim.Platform.Tracing.TraceEventKind.GuestExit));
        Assert.Equal((ulong)RealmEventKind.DataAbort, exit.Function);
        Assert.Equal(esr, exit.Esr);
        Assert.Equal(DeviceIpa + 8, exit.Ipa);
        Assert.Equal(Entry, exit.Pc);
        Assert.Equal(10UL, exit.Duration);
        Assert.Equal(0, exit.Vcpu);
        m.Close();
    }

    [Fact]
    public void Trace_OfAPsciCallAnsweredInTheKernel_RecordsTheCallAndItsResult()
    {
        var m = new Machine();
        var sink = new TraceRecorder();
        m.Bed.Platform.Trace.Sink = sink;
        m.Engine.Then(0, ctx =>
        {
            (ctx.X[0], ctx.X[1]) = (PsciVersion, 7);
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Hvc);
        });
        m.Engine.Then(0, _ => m.SliceOver());

        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);

        var call = Assert.Single(sink.Of(CcaSim.Platform.Tracing.TraceEventKind.PsciCall));
        Assert.Equal(PsciVersion, call.Function);
        Assert.Equal(7UL, call.Arg1);
        Assert.Equal(0x1_0001UL, call.Result);
        m.Close();
    }

    [Fact]
    public void Trace_OfAWfiThatIdlesToTheTimerDeadline_RecordsTheVirtualTimerPpiAtTheDeadline()
    {
        var m = new Machine();
        var sink = new TraceRecorder();
        m.Bed.Platform.Trace.Sink = sink;
        m.EnableGic();
        ulong deadline = 0;
        m.Engine.Then(0, ctx =>
        {
            deadline = m.Clock.Now + 5000;
            ctx.CntvCval = deadline;
            ctx.CntvCtl = CntCtlEnable;
            ctx.Gic.Vmcr = 0xFFUL << 24;
            ctx.Pc += 4;
            return new RealmEvent(RealmEventKind.Wfi);
        });
        m.Engine.Then(0, _ => m.SliceOver());

        Assert.Equal(Err(Errno.EINTR), m.RunVcpu().ReturnValue);

        var timer = Assert.Single(sink.Of(CcaSim.Platform.Tracing.TraceEventKind.TimerFired));
        Assert.Equal(27u, timer.Intid);
        Assert.Equal(deadline, timer.Time);
        Assert.Equal(0, timer.Vcpu);
        m.Close();
    }
}
