namespace CcaSim.Rmm.Rmi;

/// <summary>RMI function identifiers (DEN0137 1.0-rel0; rmm-1.0.md §2). SMC64 fast calls of the standard secure service.</summary>
public enum RmiFunctionId : uint
{
    RmiVersion = 0xC400_0150,
    RmiGranuleDelegate = 0xC400_0151,
    RmiGranuleUndelegate = 0xC400_0152,
    RmiDataCreate = 0xC400_0153,
    RmiDataCreateUnknown = 0xC400_0154,
    RmiDataDestroy = 0xC400_0155,
    RmiRealmActivate = 0xC400_0157,
    RmiRealmCreate = 0xC400_0158,
    RmiRealmDestroy = 0xC400_0159,
    RmiRecCreate = 0xC400_015A,
    RmiRecDestroy = 0xC400_015B,
    RmiRecEnter = 0xC400_015C,
    RmiRttCreate = 0xC400_015D,
    RmiRttDestroy = 0xC400_015E,
    RmiRttMapUnprotected = 0xC400_015F,
    RmiRttReadEntry = 0xC400_0161,
    RmiRttUnmapUnprotected = 0xC400_0162,
    RmiPsciComplete = 0xC400_0164,
    RmiFeatures = 0xC400_0165,
    RmiRttFold = 0xC400_0166,
    RmiRecAuxCount = 0xC400_0167,
    RmiRttInitRipas = 0xC400_0168,
    RmiRttSetRipas = 0xC400_0169,
}

/// <summary>RMI command status (rmm-1.0.md §1), packed into x0 with an index in bits [15:8].</summary>
public enum RmiStatus : byte
{
    Success = 0,
    ErrorInput = 1,
    ErrorRealm = 2,
    ErrorRec = 3,
    ErrorRtt = 4,
}

/// <summary>Packing of RMI return codes: x0 = status | index &lt;&lt; 8 (rmm-1.0.md §1).</summary>
public static class RmiReturn
{
    public static ulong Pack(RmiStatus status, int index = 0) => (ulong)status | ((ulong)(uint)index << 8);

    public static RmiStatus Status(ulong x0) => (RmiStatus)(x0 & 0xFF);

    public static int Index(ulong x0) => (int)((x0 >> 8) & 0xFF);

    /// <summary>The RMI ABI version this RMM implements: 1.0.</summary>
    public const ulong AbiVersion = 0x1_0000;
}
