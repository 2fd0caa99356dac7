using CcaSim.Cpu.Arch;
using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Tests.Engine;

public class UnicornEngineTests
{
    private const ulong Load = Assembler.LoadAddress;

    [Fact]
    public void Run_WhenGuestExecutesSmc_ReturnsSmcWithPcPastIt()
    {
        using Machine m = new("mov x0, #0x10000\nsmc #0\nmov x0, #7\nsmc #0");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.Smc, e.Kind);
        Assert.Equal(Load + 8, m.Context.Pc);
        Assert.Equal(0x10000UL, m.Context.X[0]);
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(7UL, m.Context.X[0]);
    }

    [Fact]
    public void Run_WhenGuestExecutesHvc_ReturnsHvcWithImmediateAndPcPastIt()
    {
        using Machine m = new("nop\nhvc #0x42");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.Hvc, e.Kind);
        Assert.Equal(0x42UL, e.Syndrome);
        Assert.Equal(Load + 8, m.Context.Pc);
    }

    [Fact]
    public void Run_WhenX29AndX30AreLoaded_GuestSeesThem()
    {
        // G3: X29 and X30 have the uc ids 1 and 2, not 199 + n.
        using Machine m = new("mov x0, x29\nmov x1, x30\nsmc #0");
        m.Context.X[29] = 0x2929;
        m.Context.X[30] = 0x3030;
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(0x2929UL, m.Context.X[0]);
        Assert.Equal(0x3030UL, m.Context.X[1]);
    }

    [Theory]
    [InlineData("ldr x3, [x0]", 0UL, 8, false, 0x93C38007UL)]
    [InlineData("str w3, [x0, #4]", 4UL, 4, true, 0x93830047UL)]
    [InlineData("ldrb w3, [x0, #5]", 5UL, 1, false, 0x93030007UL)]
    [InlineData("ldrsh x3, [x0, #2]", 2UL, 2, false, 0x93638007UL)]
    [InlineData("ldrsh w3, [x0, #2]", 2UL, 2, false, 0x93630007UL)]
    [InlineData("ldar w3, [x0]", 0UL, 4, false, 0x93834007UL)]
    [InlineData("stp x3, x4, [x0]", 0UL, 8, true, 0x92000047UL)]
    [InlineData("ldr x3, [x0], #8", 0UL, 8, false, 0x92000007UL)]
    public void Run_WhenAccessHitsUnmappedIpa_ReportsExactPcAndSyndrome(string access, ulong offset, int size, bool write, ulong syndrome)
    {
        using Machine m = new($"mov x0, #0x{Machine.Mmio:x}\nmov x1, #1\nadd x1, x1, #1\n{access}\nadd x1, x1, #1\nsmc #0");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(Load + 12, m.Context.Pc);
        Assert.Equal(Machine.Mmio + offset, e.Ipa);
        Assert.Equal(Machine.Mmio + offset, e.Va);
        Assert.Equal(size, e.AccessSize);
        Assert.Equal(write, e.IsWrite);
        Assert.Equal(syndrome, e.Syndrome);
        Assert.Equal(2UL, m.Context.X[1]);
        Assert.Equal(Machine.Mmio, m.Context.X[0]);
    }

    [Fact]
    public void Run_AfterOwnerCompletesMmioLoad_ContinuesWithoutReexecutingEarlierInstructions()
    {
        using Machine m = new($"mov x0, #0x{Machine.Mmio:x}\nmov x1, #1\nadd x1, x1, #1\nldr w3, [x0]\nadd x1, x1, #1\nadd x3, x3, #5\nldr w4, [x0, #4]\nadd x4, x4, #1\nsmc #0");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(3, e.Register);
        m.Context.X[3] = 0x10;
        m.Context.Pc += 4;
        e = m.Run();
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(Load + 24, m.Context.Pc);
        Assert.Equal(Machine.Mmio + 4, e.Ipa);
        Assert.Equal(4, e.Register);
        m.Context.X[4] = 0x20;
        m.Context.Pc += 4;
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(0x15UL, m.Context.X[3]);
        Assert.Equal(0x21UL, m.Context.X[4]);
        Assert.Equal(3UL, m.Context.X[1]);
    }

    [Fact]
    public void Run_WhenPointerStepsOntoUnmappedPage_PicksTheLaterAccess()
    {
        // Ambiguity rule: both loads compute the fault address from the final x0; the later one is taken.
        using Machine m = new($"ldr x0, =0x{Machine.Data + 0x1FF8:x}\nldr x1, [x0]\nadd x0, x0, #8\nldr x2, [x0]\nsmc #0\n.ltorg");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(Machine.Data + 0x2000, e.Ipa);
        Assert.Equal(Load + 12, m.Context.Pc);
    }

    [Fact]
    public void Run_WhenSameAddressIsReadTwice_PicksTheFirstAccess()
    {
        using Machine m = new($"mov x0, #0x{Machine.Mmio:x}\nldrb w1, [x0, #5]\nldrb w2, [x0, #5]\nsmc #0");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(Load + 4, m.Context.Pc);
        Assert.Equal(1, e.Register);
    }

    [Fact]
    public void Run_WhenFetchHitsUnmappedIpa_ReturnsInstructionAbortAtFetchAddress()
    {
        using Machine m = new("mov x0, #0x2000000\nbr x0");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.InstructionAbort, e.Kind);
        Assert.Equal(0x2000000UL, e.Ipa);
        Assert.Equal(0x2000000UL, m.Context.Pc);
        Assert.Equal(0x82000007UL, e.Syndrome);
    }

    [Fact]
    public void Run_WhenGuestExecutesWfi_ReturnsWfiWithPcPastIt()
    {
        using Machine m = new("nop\nwfi\nsmc #0");
        Assert.Equal(RealmEventKind.Wfi, m.Run().Kind);
        Assert.Equal(Load + 8, m.Context.Pc);
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
    }

    [Fact]
    public void Run_WhenGuestExecutesWfe_RunsOnAsAHint()
    {
        // Measured on 2.1.1: WFE does not stop the CPU (an allowed WFE implementation), so no Wfe event.
        using Machine m = new("nop\nwfe\nsmc #0");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.Smc, e.Kind);
        Assert.Equal(Load + 12, m.Context.Pc);
    }

    [Fact]
    public void Run_WhenGuestWritesSgi1r_TrapsToOwnerWithPcOnTheMsr()
    {
        using Machine m = new("mov x1, #5\nmsr S3_0_C12_C11_5, x1\nmov x2, #9\nsmc #0");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.SysRegAccess, e.Kind);
        Assert.Equal(Load + 4, m.Context.Pc);
        Assert.Equal(1, e.Register);
        Assert.Equal(0x18UL, e.Syndrome >> 26);
        m.Context.Pc += 4;
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(9UL, m.Context.X[2]);
    }

    [Fact]
    public void Run_WithModelMax_LseAtomicsExecute()
    {
        using Machine m = new($"ldr x0, =0x{Machine.Data:x}\nmov x1, #5\nstr x1, [x0]\nmov x2, #3\nldadd x2, x3, [x0]\nmov x4, #8\nmov x5, #42\ncas x4, x5, [x0]\nldr x6, [x0]\nsmc #0\n.ltorg");
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(5UL, m.Context.X[3]);
        Assert.Equal(8UL, m.Context.X[4]);
        Assert.Equal(42UL, m.Context.X[6]);
        Assert.Equal(42UL, m.Memory.Read64(Machine.Data));
    }

    [Fact]
    public void Stage2Changed_WhenPageIsUnmapped_NextAccessFaults()
    {
        using Machine m = new($"ldr x0, =0x{Machine.Data:x}\nmov x1, #7\nstr x1, [x0]\nsmc #0\nstr x1, [x0, #8]\nsmc #0\n.ltorg");
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(7UL, m.Memory.Read64(Machine.Data));
        m.Memory.Unmap(Machine.Data);
        m.Engine.Stage2Changed(m.Memory, Machine.Data, 4096);
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(Machine.Data + 8, e.Ipa);
        Assert.Equal(Load + 16, m.Context.Pc);
    }

    [Fact]
    public void Stage2Changed_AfterHostPatchesCode_NewCodeRuns()
    {
        // G14: translated code does not see host writes; Stage2Changed drops the cache.
        using Machine m = new("mov x0, #1\nsmc #0");
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(1UL, m.Context.X[0]);
        Assert.True(m.Memory.TryWrite(Load, BitConverter.GetBytes(0xD2800040u))); // mov x0, #2
        m.Context.Pc = Load;
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(1UL, m.Context.X[0]); // G5/G14: re-entry with until = 0 keeps the old translation
        m.Engine.Stage2Changed(m.Memory, Load, 4096);
        m.Context.Pc = Load;
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(2UL, m.Context.X[0]);
    }

    private const string Vectors = "adr x0, vectors\nmsr vbar_el1, x0\n";

    private const string Handler = "mrs x5, esr_el1\nmrs x6, elr_el1\nmrs x7, spsr_el1\nmrs x8, far_el1\nmov x9, sp\nmrs x10, CurrentEL\nsmc #0\n";

    [Theory]
    [InlineData("svc #0x77", 0x56000077UL, 12)]
    [InlineData("brk #5", 0xF2000005UL, 8)]
    [InlineData("mrs x1, S3_0_C15_C0_0", 0x02000000UL, 8)] // an IMPDEF register Unicorn does not implement (G9: the UNDEF route)
    [InlineData("mrs x1, S3_0_C12_C12_1", 0x02000000UL, 8)] // ICC_EOIR1_EL1 is write-only: reading it is UNDEFINED
    [InlineData(".inst 0x00000000", 0x02000000UL, 8)]
    public void Run_WhenEl1TakesSynchronousException_EntersGuestVectorWithSyndrome(string instruction, ulong esr, int elrOffset)
    {
        using Machine m = new($"{Vectors}{instruction}\nsmc #0\n.balign 2048\nvectors:\n.skip 0x200\n{Handler}");
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(esr, m.Context.X[5]);
        Assert.Equal(Load + (ulong)elrOffset, m.Context.X[6]);
        Assert.Equal(0x3C5UL, m.Context.X[7]);
        Assert.Equal(Machine.Stack, m.Context.X[9]);
        Assert.Equal(4UL, m.Context.X[10]);
    }

    [Fact]
    public void Run_WhenEl1AccessIsMisaligned_DeliversAlignmentFaultWithCalibratedSyndromeAndFar()
    {
        // G12: ESR/FAR of a stage-1 fault come from the calibrated uc_context blob.
        using Machine m = new($"{Vectors}ldr x0, ={Machine.Data + 1}\nldxr x1, [x0]\nsmc #0\n.ltorg\n.balign 2048\nvectors:\n.skip 0x200\n{Handler}");
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(0x25UL, m.Context.X[5] >> 26);
        Assert.Equal(0x21UL, m.Context.X[5] & 0x3F);
        Assert.Equal(Machine.Data + 1, m.Context.X[8]);
        Assert.Equal(Load + 12, m.Context.X[6]);
    }

    [Fact]
    public void Run_WhenEl0ExecutesSvc_EntersLowerElVectorAndReturns()
    {
        string source = $"""
            {Vectors}adr x1, el0
            msr elr_el1, x1
            msr spsr_el1, xzr
            mov x9, #0
            eret
            el0:
            mov x2, sp
            svc #0x42
            svc #0x43
            .balign 2048
            vectors:
            .skip 0x400
            mrs x10, esr_el1
            mrs x11, elr_el1
            mrs x12, spsr_el1
            mrs x13, sp_el0
            mov x14, sp
            mrs x15, CurrentEL
            cbnz x9, 1f
            mov x9, #1
            mov x20, x10
            mov x21, x11
            eret
            1: smc #0
            """;
        using Machine m = new(source);
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        ulong el0 = Load + 28;
        Assert.Equal(0x56000042UL, m.Context.X[20]);
        Assert.Equal(el0 + 8, m.Context.X[21]);
        Assert.Equal(0x56000043UL, m.Context.X[10]);
        Assert.Equal(el0 + 12, m.Context.X[11]);
        Assert.Equal(0UL, m.Context.X[12]);
        Assert.Equal(Machine.Stack - 0x1000, m.Context.X[13]);
        Assert.Equal(Machine.Stack - 0x1000, m.Context.X[2]);
        Assert.Equal(Machine.Stack, m.Context.X[14]);
        Assert.Equal(4UL, m.Context.X[15]);
    }

    [Fact]
    public void Run_WithPendingSeaAfterDataAbort_DeliversExternalAbortAtTheAccess()
    {
        using Machine m = new($"{Vectors}mov x0, #0x{Machine.Mmio:x}\nldr w3, [x0, #8]\nsmc #0\n.balign 2048\nvectors:\n.skip 0x200\n{Handler}");
        Assert.Equal(RealmEventKind.DataAbort, m.Run().Kind);
        m.Context.PendingException = RealmFault.SynchronousExternalAbort;
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(0x96000010UL, m.Context.X[5]);
        Assert.Equal(Load + 12, m.Context.X[6]);
        Assert.Equal(Machine.Mmio + 8, m.Context.X[8]);
        Assert.Equal(RealmFault.None, m.Context.PendingException);
    }

    [Fact]
    public void Run_WithPendingUndefinedAfterHvc_DeliversUndefWithElrPastTheHvc()
    {
        using Machine m = new($"{Vectors}hvc #1\nsmc #0\n.balign 2048\nvectors:\n.skip 0x200\n{Handler}");
        Assert.Equal(RealmEventKind.Hvc, m.Run().Kind);
        m.Context.PendingException = RealmFault.Undefined;
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(0x02000000UL, m.Context.X[5]);
        Assert.Equal(Load + 12, m.Context.X[6]);
    }

    [Fact]
    public void Run_WhenVirtualTimerIsArmed_EndsWithIrqAtTheDeadline()
    {
        // G16: Unicorn's timers never fire; the engine's do, on virtual time.
        using Machine m = new("mrs x0, cntvct_el0\nadd x0, x0, #1000\nmsr cntv_cval_el0, x0\nmov x1, #1\nmsr cntv_ctl_el0, x1\n1: add x2, x2, #1\nb 1b");
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.Irq, e.Kind);
        Assert.True(m.Clock.Now >= m.Context.CntvCval, $"now {m.Clock.Now} cval {m.Context.CntvCval}");
        Assert.True(m.Clock.Now <= m.Context.CntvCval + 2, $"now {m.Clock.Now} cval {m.Context.CntvCval}");
        Assert.Equal(1UL, m.Context.CntvCtl & 1);
    }

    [Fact]
    public void Run_WhenVirtualTimerFires_LeavesIstatusSetInTheContextCtl()
    {
        // ISTATUS is live PE state; owners read the context's CNTV_CTL at the exit (KVM's timer line, rec_exit.cntv_ctl),
        // so it must not keep the value of the MSR, made before the counter reached CVAL.
        using Machine m = new("mrs x0, cntvct_el0\nadd x0, x0, #1000\nmsr cntv_cval_el0, x0\nmov x1, #1\nmsr cntv_ctl_el0, x1\n1: add x2, x2, #1\nb 1b");
        Assert.Equal(RealmEventKind.Irq, m.Run().Kind);
        Assert.Equal(GenericTimer.CtlEnable | GenericTimer.CtlIstatus, m.Context.CntvCtl);
    }

    [Fact]
    public void Run_WhenTheClockSkipsPastCvalDuringWfi_ReportsIstatusAtTheNextExit()
    {
        // The owner's idle skip (VirtualClock.AdvanceTo) moves time while the vCPU is stopped: the next exit shows it.
        using Machine m = new("mrs x0, cntvct_el0\nadd x0, x0, #0x10, lsl #12\nmsr cntv_cval_el0, x0\nmov x1, #1\nmsr cntv_ctl_el0, x1\nwfi\n1: add x2, x2, #1\nb 1b");
        Assert.Equal(RealmEventKind.Wfi, m.Run().Kind);
        Assert.Equal(GenericTimer.CtlEnable, m.Context.CntvCtl);
        m.Clock.AdvanceTo(m.Context.CntvCval + 10);
        Assert.Equal(RealmEventKind.Irq, m.Run().Kind);
        Assert.Equal(GenericTimer.CtlEnable | GenericTimer.CtlIstatus, m.Context.CntvCtl);
    }

    [Fact]
    public void Run_WhenALoadFaultsOnAnEmptyPageAndALaterSmallerLoadReusesTheBase_ReportsTheFirstLoad()
    {
        // FaultLocator.SizeFits: both loads compute the faulting address from the hook's x0, and adrp redefines x0 in
        // between, so only the access size (8, from Unicorn) tells them apart: ldr w0 is 4 bytes and cannot be it.
        using Machine m = new($"ldr x0, =0x{Machine.Data + 0x3000:x}\nldr x22, [x0]\nadrp x0, lit\nldr w0, [x0]\nsmc #0\n.ltorg\nlit: .word 0");
        m.Memory.SetKind(Machine.Data + 0x3000, Stage2PageKind.Empty);
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.DataAbort, e.Kind);
        Assert.Equal(Load + 4, m.Context.Pc);
        Assert.Equal(22, e.Register);
        Assert.Equal(8, e.AccessSize);
        Assert.Equal(Machine.Data + 0x3000, e.Ipa);
        Assert.Equal(Machine.Data + 0x3000, m.Context.X[0]);
    }

    [Fact]
    public void Run_WhenTheMmuIsTurnedOnWithTablesThisEngineNeverTouched_WalksThemAndRuns()
    {
        // Unicorn's table walker does not raise MEM_UNMAPPED: tables built by the host (or by another vCPU) sit in
        // pages stage 2 maps but this engine has not mapped yet. Without the engine mapping them on the translation
        // fault, the fetch right after the SCTLR write faults at level 1 (found booting the smp payload).
        const ulong tcr = 25 | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23) | (1UL << 32); // 39-bit VA, 4 KiB, EPD1
        using Machine m = new($"ldr x0, =0xff00\nmsr mair_el1, x0\nldr x0, =0x{tcr:x}\nmsr tcr_el1, x0\nldr x0, =0x{Machine.Data:x}\nmsr ttbr0_el1, x0\nisb\n"
            + $"mrs x0, sctlr_el1\norr x0, x0, #1\nmsr sctlr_el1, x0\nisb\nldr x1, =0x{Machine.Data + 0x1000:x}\nldr x2, [x1]\nsmc #0\n.ltorg");
        // Level 1 (start level for a 39-bit VA): entry 2 is a 1 GiB block at 0x8000_0000, Normal (AttrIndx 1), AF, inner shareable.
        m.Memory.Write64(Machine.Data + (2 * 8), 0x8000_0000UL | (1UL << 10) | (3UL << 8) | (1UL << 2) | 1);
        m.Memory.Write64(Machine.Data + 0x1000, 0x1234_5678);
        m.Clock.BeginSlice(); // without the walk the vector faults forever: the slice ends that with Irq
        RealmEvent e = m.Run();
        Assert.Equal(RealmEventKind.Smc, e.Kind);
        Assert.Equal(0x1234_5678UL, m.Context.X[2]);
    }

    [Fact]
    public void Run_WhenTheMmuIsOnAndTheTablesHaveNoEntry_StillDeliversTheTranslationFault()
    {
        // The retry is only for table pages the engine had not mapped: a real stage-1 fault still reaches VBAR.
        const ulong tcr = 25 | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23) | (1UL << 32);
        using Machine m = new($"{Vectors}ldr x0, =0xff00\nmsr mair_el1, x0\nldr x0, =0x{tcr:x}\nmsr tcr_el1, x0\nldr x0, =0x{Machine.Data:x}\nmsr ttbr0_el1, x0\nisb\n"
            + $"mrs x0, sctlr_el1\norr x0, x0, #1\nmsr sctlr_el1, x0\nisb\nldr x1, =0x40000000\nldr x2, [x1]\nsmc #0\n.ltorg\n.balign 2048\nvectors:\n.skip 0x200\n{Handler}");
        m.Memory.Write64(Machine.Data + (2 * 8), 0x8000_0000UL | (1UL << 10) | (3UL << 8) | (1UL << 2) | 1);
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        Assert.Equal(0x25UL, m.Context.X[5] >> 26); // a data abort from the same EL
        Assert.Equal(0x5UL, m.Context.X[5] & 0x3F); // translation fault, level 1
    }

    [Fact]
    public void Run_WhenTheExceptionVectorItselfFaults_EndsAtTheSliceInsteadOfLoopingInsideTheEngine()
    {
        // MMU on with a level-1 table mapping only the RAM gigabyte, VBAR 0: every vector fetch takes a translation
        // fault whose vector faults again, without a block ever running; the slice must still end the run.
        const ulong tcr = 25 | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23) | (1UL << 32);
        using Machine m = new($"ldr x0, =0xff00\nmsr mair_el1, x0\nldr x0, =0x{tcr:x}\nmsr tcr_el1, x0\nldr x0, =0x{Machine.Data:x}\nmsr ttbr0_el1, x0\nisb\n"
            + "mrs x0, sctlr_el1\norr x0, x0, #1\nmsr sctlr_el1, x0\nisb\nmov x1, #0x40000000\nldr x2, [x1]\nsmc #0\n.ltorg");
        m.Memory.Write64(Machine.Data + (2 * 8), 0x8000_0000UL | (1UL << 10) | (3UL << 8) | (1UL << 2) | 1);
        m.Clock.SliceTicks = 100;
        m.Clock.BeginSlice();
        Assert.Equal(RealmEventKind.Irq, m.Run().Kind);
        Assert.True(m.Clock.SliceExpired);
    }

    [Fact]
    public void Run_WithTimeSlices_GivesTheSameEventsOnTwoFreshEngines()
    {
        const string loop = "mov x0, #0\nldr x1, =300000\n1: add x0, x0, #1\ncmp x0, x1\nb.ne 1b\nsmc #0\n.ltorg";
        Assert.Equal(Trace(loop), Trace(loop));
        Assert.True(Trace(loop).Count > 10);
    }

    private static List<(RealmEventKind, ulong, ulong, ulong)> Trace(string source)
    {
        using Machine m = new(source);
        m.Clock.SliceTicks = 1000;
        List<(RealmEventKind, ulong, ulong, ulong)> events = [];
        RealmEvent e;
        do
        {
            m.Clock.BeginSlice();
            e = m.Run();
            events.Add((e.Kind, m.Context.Pc, m.Context.X[0], m.Clock.Now));
        }
        while (e.Kind == RealmEventKind.Irq);
        Assert.Equal(RealmEventKind.Smc, e.Kind);
        Assert.Equal(300000UL, m.Context.X[0]);
        return events;
    }

    [Fact]
    public void Flush_WritesBackSystemRegisters()
    {
        using Machine m = new("ldr x0, =0x1234000\nmsr tpidr_el1, x0\nmsr vbar_el1, x0\nsmc #0\n.ltorg");
        Assert.Equal(RealmEventKind.Smc, m.Run().Kind);
        m.Engine.Flush(m.Context);
        Assert.Equal(0x1234000UL, m.Context.TpidrEl1);
        Assert.Equal(0x1234000UL, m.Context.VbarEl1);
        Assert.Equal(Machine.Stack, m.Context.SpEl1);
    }
}
