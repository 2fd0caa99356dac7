namespace CcaSim.Rmm.Granules;

/// <summary>Granule states (rmm-1.0.md §5.1). Every return to DELEGATED scrubs the granule.</summary>
public enum GranuleState : byte
{
    /// <summary>Non-secure, owned by the host.</summary>
    Undelegated = 0,
    Delegated,
    Rd,
    Rec,
    RecAux,
    Data,
    Rtt,
}

/// <summary>The granule state machine: UNDELEGATED ⇄ DELEGATED ⇄ {RD, REC, REC_AUX, DATA, RTT}.</summary>
public static class GranuleStateMachine
{
    public static bool IsLegal(GranuleState from, GranuleState to) => (from, to) switch
    {
        (GranuleState.Undelegated, GranuleState.Delegated) => true,
        (GranuleState.Delegated, GranuleState.Undelegated) => true,
        (GranuleState.Delegated, not GranuleState.Delegated) => true,
        (not GranuleState.Undelegated and not GranuleState.Delegated, GranuleState.Delegated) => true,
        _ => false,
    };
}
