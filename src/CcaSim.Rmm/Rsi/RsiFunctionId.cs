namespace CcaSim.Rmm.Rsi;

/// <summary>RSI function identifiers (DEN0137 1.0-rel0; rmm-1.0.md §6).</summary>
public enum RsiFunctionId : uint
{
    RsiVersion = 0xC400_0190,
    RsiFeatures = 0xC400_0191,
    RsiMeasurementRead = 0xC400_0192,
    RsiMeasurementExtend = 0xC400_0193,
    RsiAttestationTokenInit = 0xC400_0194,
    RsiAttestationTokenContinue = 0xC400_0195,
    RsiRealmConfig = 0xC400_0196,
    RsiIpaStateSet = 0xC400_0197,
    RsiIpaStateGet = 0xC400_0198,
    RsiHostCall = 0xC400_0199,
}

/// <summary>RSI command status (rmm-1.0.md §1; 1.0 has no index).</summary>
public enum RsiStatus : ulong
{
    Success = 0,
    ErrorInput = 1,
    ErrorState = 2,
    Incomplete = 3,
    ErrorUnknown = 4,
}

/// <summary>PSCI and SMCCC function identifiers a realm may call (rmm-1.0.md §7).</summary>
public enum PsciFunctionId : uint
{
    PsciVersion = 0x8400_0000,
    PsciCpuSuspend = 0x8400_0001,
    PsciCpuOff = 0x8400_0002,
    PsciCpuOn = 0x8400_0003,
    PsciAffinityInfo = 0x8400_0004,
    PsciSystemOff = 0x8400_0008,
    PsciSystemReset = 0x8400_0009,
    PsciFeatures = 0x8400_000A,
    PsciCpuSuspend64 = 0xC400_0001,
    PsciCpuOn64 = 0xC400_0003,
    PsciAffinityInfo64 = 0xC400_0004,
    SmcccVersion = 0x8000_0000,
}
