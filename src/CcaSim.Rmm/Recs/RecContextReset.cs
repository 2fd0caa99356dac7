using CcaSim.Platform.Execution;

namespace CcaSim.Rmm.Recs;

/// <summary>
/// The architectural reset the RMM applies to a REC's vCPU (REC_CREATE, §3.8; PSCI CPU_ON completion, §7): the RMM
/// owns the whole context, so everything the reset does not name is zero, and the engine is told to reload it.
/// </summary>
internal static class RecContextReset
{
    /// <summary>PSTATE at REC reset: EL1h, AArch64, D/A/I/F masked.</summary>
    public const ulong Pstate = 0x3C5;

    /// <summary>SCTLR_EL1 at REC reset: RES1 bits only, MMU and caches off.</summary>
    public const ulong SctlrEl1 = 0x30D0_0800;

    /// <summary>SCTLR_EL1.EE: data endianness at EL1, which CPU_ON copies from the caller (§7).</summary>
    public const ulong SctlrEe = 1UL << 25;

    /// <summary>
    /// Resets <paramref name="context"/>: PC and x0..x(n-1) as given, PSTATE and SCTLR_EL1 at reset (plus
    /// <paramref name="sctlrExtra"/>), MPIDR_EL1, the number of list registers the RMM implements; every other
    /// register, the timers, the GIC interface and any pending injection cleared. Bumps the generation so that an
    /// engine which cached the previous state reloads it.
    /// </summary>
    public static void Apply(RealmVcpuContext context, ulong pc, ReadOnlySpan<ulong> gprs, ulong mpidrEl1, int numListRegisters, ulong sctlrExtra = 0)
    {
        // A fresh context is the all-zero state; CopyFrom writes every field, so nothing of the old vCPU survives.
        context.CopyFrom(new RealmVcpuContext());
        gprs.CopyTo(context.X);
        context.Pc = pc;
        context.Pstate = Pstate;
        context.SctlrEl1 = SctlrEl1 | sctlrExtra;
        context.MpidrEl1 = mpidrEl1;
        context.Gic.NumListRegisters = numListRegisters;
        context.MarkModified();
    }
}
