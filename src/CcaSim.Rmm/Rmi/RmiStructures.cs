namespace CcaSim.Rmm.Rmi;

/// <summary>RmiRealmParams field offsets (rmm-1.0.md §4.1).</summary>
public static class RealmParamsLayout
{
    public const int Flags = 0x000;
    public const int S2sz = 0x008;
    public const int SveVl = 0x010;
    public const int NumBps = 0x018;
    public const int NumWps = 0x020;
    public const int PmuNumCtrs = 0x028;
    public const int HashAlgo = 0x030;
    public const int Rpv = 0x400;
    public const int RpvSize = 64;
    public const int Vmid = 0x800;
    public const int RttBase = 0x808;
    public const int RttLevelStart = 0x810;
    public const int RttNumStart = 0x818;

    public const ulong FlagLpa2 = 1UL << 0;
    public const ulong FlagSve = 1UL << 1;
    public const ulong FlagPmu = 1UL << 2;
}

/// <summary>RmiRecParams field offsets (rmm-1.0.md §4.2).</summary>
public static class RecParamsLayout
{
    public const int Flags = 0x000;
    public const int Mpidr = 0x100;
    public const int Pc = 0x200;
    public const int Gprs = 0x300;
    public const int NumGprs = 8;
    public const int NumAux = 0x800;
    public const int Aux = 0x808;
    public const int MaxAux = 16;

    public const ulong FlagRunnable = 1UL << 0;
}

/// <summary>RmiRecRun field offsets: RmiRecEnter at 0x000, RmiRecExit at 0x800 (rmm-1.0.md §4.3).</summary>
public static class RecRunLayout
{
    public const int Size = 0x1000;

    public const int EnterFlags = 0x000;
    public const int EnterGprs = 0x200;
    public const int EnterGicv3Hcr = 0x300;
    public const int EnterGicv3Lrs = 0x308;

    public const int Exit = 0x800;
    public const int ExitReason = 0x800;
    public const int ExitEsr = 0x900;
    public const int ExitFar = 0x908;
    public const int ExitHpfar = 0x910;
    public const int ExitGprs = 0xA00;
    public const int ExitGicv3Hcr = 0xB00;
    public const int ExitGicv3Lrs = 0xB08;
    public const int ExitGicv3Misr = 0xB88;
    public const int ExitGicv3Vmcr = 0xB90;
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

    public const ulong EnterFlagEmulMmio = 1UL << 0;
    public const ulong EnterFlagInjectSea = 1UL << 1;
    public const ulong EnterFlagTrapWfi = 1UL << 2;
    public const ulong EnterFlagTrapWfe = 1UL << 3;
    public const ulong EnterFlagRipasResponse = 1UL << 4;
}

/// <summary>RmiRecExitReason (rmm-1.0.md §4.3).</summary>
public enum RecExitReason : byte
{
    Sync = 0,
    Irq = 1,
    Fiq = 2,
    Psci = 3,
    RipasChange = 4,
    HostCall = 5,
    SError = 6,
}

/// <summary>RmiHashAlgorithm (rmm-1.0.md §4.5).</summary>
public enum RmiHashAlgorithm : byte
{
    Sha256 = 0,
    Sha512 = 1,
}

/// <summary>RmiRttEntryState as RMI_RTT_READ_ENTRY reports it (rmm-1.0.md §3.19).</summary>
public enum RmiRttEntryState : byte
{
    Unassigned = 0,
    Assigned = 1,
    Table = 2,
}
