using CcaSim.Platform.Monitor;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>RMI_VERSION (§3.1): x1 = lower, x2 = higher implemented revision; SUCCESS only for 1.0.</summary>
    private static ulong RmiVersion(in SmcRegisters a, ref SmcRegisters r)
    {
        r[1] = Rmi.RmiReturn.AbiVersion;
        r[2] = Rmi.RmiReturn.AbiVersion;
        return a[1] == Rmi.RmiReturn.AbiVersion ? Success : ErrorInput;
    }
}
