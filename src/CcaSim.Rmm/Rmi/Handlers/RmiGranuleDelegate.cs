using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>RMI_GRANULE_DELEGATE (§3.3): gran_align, gran_bound, gran_state, then gran_gpt at EL3.</summary>
    private ulong RmiGranuleDelegate(in SmcRegisters a)
    {
        ulong pa = a[1];
        if (!_granules.Is(pa, GranuleState.Undelegated))
        {
            return ErrorInput;
        }

        if (!_el3.GranuleDelegate(pa))
        {
            return ErrorInput;
        }

        // Host data must never be visible to a realm: a DELEGATED granule always reads as zero.
        _memory.ZeroGranule(pa);
        _granules.Transition(pa, GranuleState.Undelegated, GranuleState.Delegated);
        return Success;
    }
}
