using System.Runtime.CompilerServices;

namespace CcaSim.Platform.Monitor;

/// <summary>
/// General-purpose registers x0..x17 as they cross an SMC (SMCCC 1.2: arguments and results in x0..x17).
/// x0 carries the function id in and the status out. A value type so the conduit allocates nothing.
/// </summary>
[InlineArray(Count)]
public struct SmcRegisters
{
    public const int Count = 18;

    private ulong _x0;

    public static SmcRegisters Create(ulong fid, ulong x1 = 0, ulong x2 = 0, ulong x3 = 0, ulong x4 = 0, ulong x5 = 0, ulong x6 = 0)
    {
        SmcRegisters r = default;
        r[0] = fid;
        r[1] = x1;
        r[2] = x2;
        r[3] = x3;
        r[4] = x4;
        r[5] = x5;
        r[6] = x6;
        return r;
    }
}
