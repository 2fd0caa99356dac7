using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>RMI_GRANULE_UNDELEGATE (§3.3): gran_align, gran_bound, gran_state (DELEGATED).</summary>
    private ulong RmiGranuleUndelegate(in SmcRegisters a)
    {
        ulong pa = a[1];
        if (!_granules.Is(pa, GranuleState.Delegated))
        {
            return ErrorInput;
        }

        if (!_el3.GranuleUndelegate(pa))
        {
            // A DELEGATED granule is always Realm PAS; EL3 refusing is an RMM bug.
            throw new InvalidOperationException($"EL3 refused to undelegate DELEGATED granule 0x{pa:x}");
        }

        _granules.Transition(pa, GranuleState.Delegated, GranuleState.Undelegated);
        return Success;
    }
}
