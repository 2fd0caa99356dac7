using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const ulong PsciVersion11 = 0x1_0001;
    private const ulong SmcccVersion12 = 0x1_0002;
    private const ulong PsciNotSupported = unchecked((ulong)-1L);
    private const ulong PsciInvalidParams = unchecked((ulong)-2L);
    private const ulong PsciInvalidAddress = unchecked((ulong)-9L);

    private static bool IsPsciFunction(ulong fid) =>
        fid == (ulong)PsciFunctionId.SmcccVersion || fid is >= 0x8400_0000 and <= 0x8400_001F or >= 0xC400_0000 and <= 0xC400_001F;

    /// <summary>
    /// PSCI from the realm (rmm-1.0.md §7). Calls the RMM answers alone return to the realm; CPU_ON and
    /// AFFINITY_INFO of another vCPU exit to the host and wait for RMI_PSCI_COMPLETE; CPU_OFF, CPU_SUSPEND and
    /// SYSTEM_OFF/RESET are reported to the host with a PSCI exit.
    /// </summary>
    private static bool HandlePsci(Rec rec, uint fid)
    {
        ulong[] x = rec.Context.X;
        switch ((PsciFunctionId)fid)
        {
            case PsciFunctionId.PsciVersion:
                return Complete(rec, PsciVersion11);
            case PsciFunctionId.SmcccVersion:
                return Complete(rec, SmcccVersion12);
            case PsciFunctionId.PsciFeatures:
                // The queried id is W1: bits [63:32] of x1 are not part of it (TF-RMM rel0 psci_features).
                return Complete(rec, IsPsciFeature((uint)x[1]) ? PsciSuccess : PsciNotSupported);
            case PsciFunctionId.PsciCpuSuspend:
            case PsciFunctionId.PsciCpuSuspend64:
                Complete(rec, PsciSuccess);
                return PsciExit(rec, fid);
            case PsciFunctionId.PsciCpuOff:
                rec.Runnable = false;
                Complete(rec, PsciSuccess);
                return PsciExit(rec, fid);
            case PsciFunctionId.PsciSystemOff:
            case PsciFunctionId.PsciSystemReset:
                rec.Realm.TransitionTo(RealmState.SystemOff);
                Complete(rec, PsciSuccess);
                return PsciExit(rec, fid);
            case PsciFunctionId.PsciCpuOn:
            case PsciFunctionId.PsciCpuOn64:
                return PsciCpuOn(rec, fid);
            case PsciFunctionId.PsciAffinityInfo:
            case PsciFunctionId.PsciAffinityInfo64:
                return PsciAffinityInfo(rec, fid);
            default:
                return Complete(rec, PsciNotSupported);
        }
    }

    private static bool PsciCpuOn(Rec rec, uint fid)
    {
        ulong[] x = rec.Context.X;
        ulong mpidr = x[1];
        if (!rec.Realm.IsProtected(x[2]))
        {
            return Complete(rec, PsciInvalidAddress);
        }

        if (!TryTargetIndex(rec.Realm, mpidr, out ulong target))
        {
            return Complete(rec, PsciInvalidParams);
        }

        if (target == rec.Index)
        {
            return Complete(rec, PsciAlreadyOn);
        }

        rec.PendingPsci = new PendingPsci(fid, target, x[2], x[3]);
        rec.Context.Pc += SmcInstructionSize;
        return PsciExit(rec, fid, mpidr);
    }

    private static bool PsciAffinityInfo(Rec rec, uint fid)
    {
        ulong[] x = rec.Context.X;
        if (x[2] != 0 || !TryTargetIndex(rec.Realm, x[1], out ulong target))
        {
            return Complete(rec, PsciInvalidParams);
        }

        if (target == rec.Index)
        {
            return Complete(rec, PsciAffinityOn);
        }

        rec.PendingPsci = new PendingPsci(fid, target);
        rec.Context.Pc += SmcInstructionSize;
        return PsciExit(rec, fid, x[1]);
    }

    /// <summary>
    /// A realm names vCPUs by MPIDR_EL1: the index is built from Aff0[3:0], Aff1, Aff2 and Aff3 [39:32] only, and must
    /// be a REC already created. Other bits (Aff0[7:4], U, MT, RES0/RES1) are ignored, as TF-RMM rel0's
    /// mpidr_to_rec_idx does; §7 asks only that the index name a REC.
    /// </summary>
    private static bool TryTargetIndex(Realm realm, ulong mpidrEl1, out ulong index)
    {
        ulong recMpidr = (mpidrEl1 & 0xFF_FF0F) | (((mpidrEl1 >> 32) & 0xFF) << 24);
        index = MpidrToRecIndex(recMpidr);
        return index < realm.RecCount;
    }

    /// <summary>
    /// PSCI_FEATURES answers SUCCESS for the ids §7 lists. PSCI_VERSION is not among them: TF-RMM rel0 reports it
    /// NOT_SUPPORTED, which DEN0137 leaves open (PSCI_VERSION needs no discovery).
    /// </summary>
    private static bool IsPsciFeature(uint fid) => (PsciFunctionId)fid is PsciFunctionId.PsciCpuSuspend
        or PsciFunctionId.PsciCpuSuspend64 or PsciFunctionId.PsciCpuOff or PsciFunctionId.PsciCpuOn or PsciFunctionId.PsciCpuOn64
        or PsciFunctionId.PsciAffinityInfo or PsciFunctionId.PsciAffinityInfo64 or PsciFunctionId.PsciSystemOff
        or PsciFunctionId.PsciSystemReset or PsciFunctionId.PsciFeatures or PsciFunctionId.SmcccVersion;

    /// <summary>A PSCI exit: gprs[0] = function id, gprs[1] = the target (CPU_ON, AFFINITY_INFO), others zero.</summary>
    private static bool PsciExit(Rec rec, uint fid, ulong target = 0)
    {
        rec.Exit.Reset(RecExitReason.Psci);
        rec.Exit.Gprs[0] = fid;
        rec.Exit.Gprs[1] = target;
        return true;
    }
}
