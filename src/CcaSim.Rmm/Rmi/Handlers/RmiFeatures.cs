using CcaSim.Platform.Monitor;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>RMI_FEATURES (§3.2): index 0 is feature register 0; every other index reads as zero.</summary>
    private ulong RmiFeatures(in SmcRegisters a, ref SmcRegisters r)
    {
        r[1] = a[1] == 0 ? FeatureRegister0Value : 0;
        return Success;
    }
}
