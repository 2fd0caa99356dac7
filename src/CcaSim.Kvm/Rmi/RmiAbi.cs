namespace CcaSim.Kvm.Rmi;

// The host kernel's own copy of the RMI 1.0 ABI (the v12 series' rmi_smc.h, kvm-realm-abi.md §2.21): function
// ids, status codes, structure offsets. KVM owns these numbers as the kernel does; it never borrows the RMM's
// types, so a mismatch between the two sides shows up as a failing call, as it would on hardware.

/// <summary>RMI function ids (0xC4000000 | n).</summary>
public static class RmiFid
{
    public const ulong Version = 0xC400_0150;
    public const ulong GranuleDelegate = 0xC400_0151;
    public const ulong GranuleUndelegate = 0xC400_0152;
    public const ulong DataCreate = 0xC400_0153;
    public const ulong DataCreateUnknown = 0xC400_0154;
    public const ulong DataDestroy = 0xC400_0155;
    public const ulong RealmActivate = 0xC400_0157;
    public const ulong RealmCreate = 0xC400_0158;
    public const ulong RealmDestroy = 0xC400_0159;
    public const ulong RecCreate = 0xC400_015A;
    public const ulong RecDestroy = 0xC400_015B;
    public const ulong RecEnter = 0xC400_015C;
    public const ulong RttCreate = 0xC400_015D;
    public const ulong RttDestroy = 0xC400_015E;
    public const ulong RttMapUnprotected = 0xC400_015F;
    public const ulong RttReadEntry = 0xC400_0161;
    public const ulong RttUnmapUnprotected = 0xC400_0162;
    public const ulong PsciComplete = 0xC400_0164;
    public const ulong Features = 0xC400_0165;
    public const ulong RttFold = 0xC400_0166;
    public const ulong RecAuxCount = 0xC400_0167;
    public const ulong RttInitRipas = 0xC400_0168;
    public const ulong RttSetRipas = 0xC400_0169;

    /// <summary>RMI_ABI_VERSION the v12 host asks for: 1.0.</summary>
    public const ulong Abi10 = 0x1_0000;
}

/// <summary>RMI status codes (low byte of x0); the index is bits [15:8].</summary>
public enum RmiStatus : byte
{
    Success = 0,
    ErrorInput = 1,
    ErrorRealm = 2,
    ErrorRec = 3,
    ErrorRtt = 4,
}

/// <summary>An RMI return: status and index unpacked from x0, and the output registers the caller needs.</summary>
public readonly record struct RmiResult(RmiStatus Status, int Index, ulong X1 = 0, ulong X2 = 0, ulong X3 = 0, ulong X4 = 0)
{
    public bool IsSuccess => Status == RmiStatus.Success;

    public override string ToString() => IsSuccess ? "RMI_SUCCESS" : $"RMI_{Status}({Index})";
}

/// <summary>RmiRealmParams (§2.21).</summary>
public static class RmiRealmParams
{
    public const int Flags = 0x000;
    public const int S2sz = 0x008;
    public const int SveVl = 0x010;
    public const int NumBps = 0x018;
    public const int NumWps = 0x020;
    public const int PmuNumCtrs = 0x028;
    public const int HashAlgo = 0x030;
    public const int Rpv = 0x400;
    public const int Vmid = 0x800;
    public const int RttBase = 0x808;
    public const int RttLevelStart = 0x810;
    public const int RttNumStart = 0x818;

    public const ulong FlagLpa2 = 1UL << 0;
    public const ulong FlagSve = 1UL << 1;
    public const ulong FlagPmu = 1UL << 2;
}

/// <summary>RmiRecParams (§2.21).</summary>
public static class RmiRecParams
{
    public const int Flags = 0x000;
    public const int Mpidr = 0x100;
    public const int Pc = 0x200;
    public const int Gprs = 0x300;
    public const int NumAux = 0x800;
    public const int Aux = 0x808;
    public const int MaxAux = 16;

    public const ulong FlagRunnable = 1UL << 0;
}

/// <summary>RmiRecRun: rec_enter at 0x000, rec_exit at 0x800 (§2.21).</summary>
public static class RmiRecRun
{
    public const int EnterFlags = 0x000;
    public const int EnterGprs = 0x200;
    public const int EnterGicv3Hcr = 0x300;
    public const int EnterGicv3Lrs = 0x308;

    public const int ExitReason = 0x800;
    public const int ExitEsr = 0x900;
    public const int ExitFar = 0x908;
    public const int ExitHpfar = 0x910;
    public const int ExitGprs = 0xA00;
    public const int ExitGicv3Hcr = 0xB00;
    public const int ExitGicv3Lrs = 0xB08;
    public const int ExitCntpCtl = 0xC00;
    public const int ExitCntpCval = 0xC08;
    public const int ExitCntvCtl = 0xC10;
    public const int ExitCntvCval = 0xC18;
    public const int ExitRipasBase = 0xD00;
    public const int ExitRipasTop = 0xD08;
    public const int ExitRipasValue = 0xD10;
    public const int ExitImm = 0xE00;
    public const int ExitPmuOvfStatus = 0xF00;

    public const int NumGprs = 31;
    public const int NumLrs = 16;

    public const ulong EnterFlagEmulatedMmio = 1UL << 0;
    public const ulong EnterFlagInjectSea = 1UL << 1;
    public const ulong EnterFlagTrapWfi = 1UL << 2;
    public const ulong EnterFlagTrapWfe = 1UL << 3;
    public const ulong EnterFlagRipasResponse = 1UL << 4;
}

/// <summary>RmiRecExitReason.</summary>
public enum RmiExitReason : byte
{
    Sync = 0,
    Irq = 1,
    Fiq = 2,
    Psci = 3,
    RipasChange = 4,
    HostCall = 5,
    SError = 6,
}

/// <summary>RIPAS values and RTT entry states as RMI_RTT_READ_ENTRY reports them.</summary>
public static class RmiRtt
{
    public const ulong RipasEmpty = 0;
    public const ulong RipasRam = 1;
    public const ulong RipasDestroyed = 2;

    public const ulong StateUnassigned = 0;
    public const ulong StateAssigned = 1;
    public const ulong StateTable = 2;

    public const int MaxLevel = 3;

    /// <summary>Bytes one entry at <paramref name="level"/> maps: 4 KiB at L3, 2 MiB at L2, 1 GiB at L1, 512 GiB at L0.</summary>
    public static ulong LevelSize(int level) => 1UL << ((9 * (4 - level)) + 3);
}

/// <summary>ESR_EL2 fields KVM decodes from REC exits.</summary>
public static class Esr
{
    public const int EcShift = 26;
    public const ulong EcDataAbortLow = 0x24;
    public const ulong EcInstructionAbortLow = 0x20;
    public const ulong EcSys64 = 0x18;
    public const ulong EcWfx = 0x01;
    public const ulong Isv = 1UL << 24;
    public const ulong Wnr = 1UL << 6;

    public static ulong Ec(ulong esr) => (esr >> EcShift) & 0x3F;

    public static int Srt(ulong esr) => (int)((esr >> 16) & 0x1F);

    public static int AccessSize(ulong esr) => 1 << (int)((esr >> 22) & 0x3);
}
