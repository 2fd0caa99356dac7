using CcaSim.Platform.Execution;
using CcaSim.Rmm.Realms;

namespace CcaSim.Rmm.Recs;

/// <summary>REC states (rmm-1.0.md §5.3): RUNNING only while an RMI_REC_ENTER executes it.</summary>
public enum RecState : byte
{
    Ready = 0,
    Running = 1,
}

/// <summary>A Realm Execution Context: a realm vCPU's state, held in the REC granule (and its aux granules).</summary>
internal sealed class Rec
{
    public Rec(Realm realm, ulong pa, ulong index, ulong mpidr, ulong[] aux)
    {
        Realm = realm;
        Pa = pa;
        Index = index;
        Mpidr = mpidr;
        Aux = aux;
    }

    public Realm Realm { get; }

    public ulong Pa { get; }

    /// <summary>REC index derived from the MPIDR (rmm-1.0.md §3.8).</summary>
    public ulong Index { get; }

    /// <summary>The RmiRecMpidr value given at creation.</summary>
    public ulong Mpidr { get; }

    public ulong[] Aux { get; }

    public RecState State { get; set; }

    public bool Runnable { get; set; }

    public RealmVcpuContext Context { get; } = new();

    /// <summary>A PSCI request the host must complete with RMI_PSCI_COMPLETE (set by the realm side).</summary>
    public PendingPsci? PendingPsci { get; set; }

    /// <summary>A RIPAS change the realm asked for and the host is working through (rmm-1.0.md §5.5).</summary>
    public RipasChangeRequest? PendingRipas { get; set; }

    /// <summary>IPA of the RsiHostCall structure of a host call the host has not completed yet (§5.6).</summary>
    public ulong? PendingHostCall { get; set; }

    /// <summary>The attestation operation in progress (RSI_ATTESTATION_TOKEN_INIT … CONTINUE), or null.</summary>
    public AttestationOperation? Attestation { get; set; }

    /// <summary>An RSI call interrupted by an IRQ: the next entry completes it with RSI_INCOMPLETE.</summary>
    public bool PendingIncomplete { get; set; }

    /// <summary>True if the last exit was an emulatable data abort (EMUL_MMIO validity).</summary>
    public bool LastExitWasEmulatableAbort { get; set; }

    /// <summary>The last emulatable data-abort exit, with its full syndrome (SRT, SAS, SSE, SF), for EMUL_MMIO completion.</summary>
    public Platform.Execution.RealmEvent LastAbort { get; set; }

    /// <summary>True if the last exit was a data abort at an unprotected IPA (INJECT_SEA validity).</summary>
    public bool LastExitWasUnprotectedAbort { get; set; }

    /// <summary>The exit being prepared by the current (or last) RMI_REC_ENTER.</summary>
    public RecExit Exit { get; } = new();
}

/// <summary>A PSCI call the host must complete: the function, the target REC index and, for CPU_ON, entry and context id.</summary>
internal sealed record PendingPsci(uint FunctionId, ulong TargetIndex, ulong Entry = 0, ulong ContextId = 0);

/// <summary>A RIPAS change request: [Base, Top) to <see cref="Value"/>; <see cref="Next"/> is the first address not yet changed.</summary>
internal sealed class RipasChangeRequest
{
    public ulong Base { get; init; }

    public ulong Top { get; init; }

    public ulong Next { get; set; }

    public Rtt.Ripas Value { get; init; }

    public bool ChangeDestroyed { get; init; }
}

/// <summary>What the RMM writes into RmiRecExit when a REC returns to the host (rmm-1.0.md §4.3).</summary>
internal sealed class RecExit
{
    public Rmi.RecExitReason Reason { get; set; }

    public ulong Esr { get; set; }

    public ulong Far { get; set; }

    public ulong Hpfar { get; set; }

    public ulong[] Gprs { get; } = new ulong[31];

    public ulong RipasBase { get; set; }

    public ulong RipasTop { get; set; }

    public byte RipasValue { get; set; }

    public ulong Imm { get; set; }

    public void Reset(Rmi.RecExitReason reason)
    {
        Reason = reason;
        Esr = Far = Hpfar = RipasBase = RipasTop = Imm = 0;
        RipasValue = 0;
        Array.Clear(Gprs);
    }
}

/// <summary>A token being produced for a realm: its challenge, how far signing got, and how much was copied out.</summary>
internal sealed class AttestationOperation
{
    public required byte[] Challenge { get; init; }

    public int SigningStepsDone { get; set; }

    public byte[]? Token { get; set; }

    public int Copied { get; set; }
}
