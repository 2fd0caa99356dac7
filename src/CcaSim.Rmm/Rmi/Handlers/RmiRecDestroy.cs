using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Recs;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>RMI_REC_DESTROY (§3.9): rec_* → ERROR_INPUT; REC running → ERROR_REC. Any realm state.</summary>
    private ulong RmiRecDestroy(in SmcRegisters a)
    {
        Rec? rec = FindRec(a[1]);
        if (rec is null)
        {
            return ErrorInput;
        }

        if (rec.State == RecState.Running)
        {
            return ErrorRec;
        }

        foreach (ulong aux in rec.Aux)
        {
            _memory.ZeroGranule(aux);
            _granules.Transition(aux, GranuleState.RecAux, GranuleState.Delegated);
        }

        _memory.ZeroGranule(rec.Pa);
        _granules.Transition(rec.Pa, GranuleState.Rec, GranuleState.Delegated);

        Engine.Release(rec.Context);

        // The REC index stays consumed: rec_count is never decremented (§11.2).
        rec.Realm.LiveRecs--;
        return Success;
    }
}
