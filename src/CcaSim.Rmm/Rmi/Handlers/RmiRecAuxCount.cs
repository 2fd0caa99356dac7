using CcaSim.Platform.Monitor;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>RMI_REC_AUX_COUNT (§3.7): rd_* → ERROR_INPUT; x1 = aux granules per REC.</summary>
    private ulong RmiRecAuxCount(in SmcRegisters a, ref SmcRegisters r)
    {
        if (FindRealm(a[1]) is null)
        {
            return ErrorInput;
        }

        r[1] = RecAuxCount;
        return Success;
    }
}
