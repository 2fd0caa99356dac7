using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Recs;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    internal const uint PsciCpuOn32 = 0x8400_0003;
    internal const uint PsciCpuOn64 = 0xC400_0003;
    internal const uint PsciAffinityInfo32 = 0x8400_0004;
    internal const uint PsciAffinityInfo64 = 0xC400_0004;

    internal const ulong PsciSuccess = 0;
    internal const ulong PsciDenied = unchecked((ulong)-3L);
    internal const ulong PsciAlreadyOn = unchecked((ulong)-4L);
    internal const ulong PsciAffinityOn = 0;
    internal const ulong PsciAffinityOff = 1;

    /// <summary>
    /// RMI_PSCI_COMPLETE (calling_rec, target_rec, status) (§3.22), all ERROR_INPUT in ACS order: alias,
    /// calling_*, target_*, pending, owner, target (index ≠ requested MPIDR), status (not permitted). Effects §7.
    /// </summary>
    private ulong RmiPsciComplete(in SmcRegisters a)
    {
        ulong status = a[3];
        if (a[1] == a[2])
        {
            return ErrorInput;
        }

        Rec? caller = FindRec(a[1]);
        Rec? target = caller is null ? null : FindRec(a[2]);
        if (caller is null || target is null)
        {
            return ErrorInput;
        }

        PendingPsci? request = caller.PendingPsci;
        if (request is null || caller.State == RecState.Running || caller.Realm != target.Realm || target.Index != request.TargetIndex)
        {
            return ErrorInput;
        }

        bool cpuOn = request.FunctionId is PsciCpuOn32 or PsciCpuOn64;
        bool permitted = status == PsciSuccess || (cpuOn && status == PsciDenied);
        bool targetOn = target.Runnable || target.State == RecState.Running;

        // Denying CPU_ON of a vCPU that is already on is not a permitted answer either.
        if (!permitted || (cpuOn && targetOn && status == PsciDenied))
        {
            return ErrorInput;
        }

        ulong result;
        if (!cpuOn)
        {
            result = targetOn ? PsciAffinityOn : PsciAffinityOff;
        }
        else if (targetOn)
        {
            result = PsciAlreadyOn;
        }
        else if (status == PsciDenied)
        {
            result = PsciDenied;
        }
        else
        {
            // SCTLR_EL1 is not exchanged on every run: the engine may hold the caller's newer value.
            Engine.Flush(caller.Context);
            ResetForCpuOn(target, caller, request);
            result = PsciSuccess;
        }

        caller.Context.X[0] = result;
        caller.Context.X[1] = caller.Context.X[2] = caller.Context.X[3] = 0;
        caller.PendingPsci = null;
        return Success;
    }

    /// <summary>CPU_ON: the target restarts at the entry point with x0 = context id, EL1h masked, caller's SCTLR_EL1.EE.</summary>
    private void ResetForCpuOn(Rec target, Rec caller, PendingPsci request)
    {
        RecContextReset.Apply(
            target.Context,
            request.Entry,
            [request.ContextId],
            MpidrToMpidrEl1(target.Mpidr),
            Config.Features.Gicv3NumLrs,
            caller.Context.SctlrEl1 & RecContextReset.SctlrEe);
        target.Runnable = true;
    }
}
