using CcaSim.Platform.Execution;
using CcaSim.Platform.Monitor;
using CcaSim.Platform.Tracing;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const uint RsiFirst = 0xC400_0190;
    private const uint RsiLast = 0xC400_01AF;
    private const ulong SmcInstructionSize = 4;
    private const uint SmcSveHint = 1u << 16;

    /// <summary>ESR_EL2.EC for a data abort from a lower exception level.</summary>
    private const ulong EsrEcDataAbort = 0x24UL << 26;

    /// <summary>ESR_EL2 DFSC for a translation fault at level 0 (levels 1..3 add the level).</summary>
    private const ulong EsrFscTranslation = 0x04;

    /// <summary>
    /// An SMC from the realm (rmm-1.0.md §5.7, §6, §7): RSI and PSCI calls are handled here; any other function id
    /// returns SMC_UNKNOWN to the realm without an exit. Returns true when the REC must exit to the host, with
    /// <see cref="Rec.Exit"/> filled.
    /// </summary>
    private bool HandleRealmSmc(Rec rec, RealmStage2 stage2, bool inline = false)
    {
        if (_trace.Sink is not null)
        {
            return TracedRealmSmc(rec, stage2, inline);
        }

        return DispatchRealmSmc(rec, stage2);
    }

    /// <summary>
    /// A realm call with tracing on: what a trace of the RMM's SMC handler shows, per REC — the call (fid, x1..x3),
    /// the status it left in x0 and whether the engine's fast path took it. RSI and PSCI calls are recorded, other
    /// function ids (SMC_UNKNOWN) are not.
    /// </summary>
    private bool TracedRealmSmc(Rec rec, RealmStage2 stage2, bool inline)
    {
        ulong[] x = rec.Context.X;
        (ulong fid, ulong x1, ulong x2, ulong x3) = (x[0], x[1], x[2], x[3]);
        ulong start = _trace.Clock.Now;
        bool exits = DispatchRealmSmc(rec, stage2);
        uint call = (uint)fid & ~SmcSveHint;
        bool rsi = call >= RsiFirst && call <= RsiLast;
        if ((rsi || IsPsciFunction(call)) && _trace.Sink is { } sink)
        {
            sink.Record(new TraceEvent
            {
                Kind = rsi ? TraceEventKind.RsiCall : TraceEventKind.PsciCall,
                Vcpu = TraceEvent.VcpuOf(rec.Context.MpidrEl1),
                Time = start,
                Function = fid,
                Arg1 = x1,
                Arg2 = x2,
                Arg3 = x3,
                // A call that exits to the host (RSI_HOST_CALL, a PSCI request, a stage-2 fault) completes later.
                Result = exits ? fid : x[0],
                Inline = inline,
            });
        }

        return exits;
    }

    private bool DispatchRealmSmc(Rec rec, RealmStage2 stage2)
    {
        RealmVcpuContext ctx = rec.Context;

        // SMCCC: the function id is W0 (TF-RMM reads it as 32 bits), and bit 16 is the SVE hint, which a callee that
        // does not use it ignores (§1), so a hinted RSI or PSCI id is the same call. (Host calls pass the EL3 monitor
        // first, which also refuses X0[63:32] ≠ 0.)
        uint fid = (uint)ctx.X[0] & ~SmcSveHint;
        if (fid >= RsiFirst && fid <= RsiLast)
        {
            return HandleRsi(rec, stage2, (RsiFunctionId)fid);
        }

        if (IsPsciFunction(fid))
        {
            return HandlePsci(rec, fid);
        }

        ctx.X[0] = SecureMonitor.SmcUnknown;
        ctx.Pc += SmcInstructionSize;
        return false;
    }

    private bool HandleRsi(Rec rec, RealmStage2 stage2, RsiFunctionId fid) => fid switch
    {
        RsiFunctionId.RsiVersion => RsiVersion(rec),
        RsiFunctionId.RsiFeatures => RsiFeatures(rec),
        RsiFunctionId.RsiMeasurementRead => RsiMeasurementRead(rec),
        RsiFunctionId.RsiMeasurementExtend => RsiMeasurementExtend(rec),
        RsiFunctionId.RsiRealmConfig => RsiRealmConfig(rec, stage2),
        RsiFunctionId.RsiIpaStateGet => RsiIpaStateGet(rec),
        RsiFunctionId.RsiIpaStateSet => RsiIpaStateSet(rec),
        RsiFunctionId.RsiHostCall => RsiHostCall(rec, stage2),
        RsiFunctionId.RsiAttestationTokenInit => RsiAttestationTokenInit(rec),
        RsiFunctionId.RsiAttestationTokenContinue => RsiAttestationTokenContinue(rec, stage2),
        _ => Complete(rec, SecureMonitor.SmcUnknown),
    };

    /// <summary>
    /// Completes a realm call: x0 = status, x1..x3 = results (zero when the call has fewer). Registers from x4 up
    /// keep the caller's values unless the handler wrote them (SMCCC 1.1+; rmm-1.0.md §1).
    /// </summary>
    private static bool Complete(Rec rec, ulong x0, ulong x1 = 0, ulong x2 = 0, ulong x3 = 0)
    {
        ulong[] x = rec.Context.X;
        x[0] = x0;
        x[1] = x1;
        x[2] = x2;
        x[3] = x3;
        rec.Context.Pc += SmcInstructionSize;
        return false;
    }

    private static bool Complete(Rec rec, RsiStatus status, ulong x1 = 0, ulong x2 = 0, ulong x3 = 0) => Complete(rec, (ulong)status, x1, x2, x3);

    /// <summary>
    /// The realm named a protected IPA that stage 2 does not map: the REC exits as if the realm's own access had
    /// taken a stage-2 translation fault (rmm-1.0.md §5.6). The PC stays on the SMC, so the call runs again on the
    /// next entry, once the host has mapped the page.
    /// </summary>
    private static bool ExitWithStage2Fault(Rec rec, ulong ipa, int level)
    {
        rec.Exit.Reset(RecExitReason.Sync);
        rec.Exit.Esr = EsrEcDataAbort | (EsrFscTranslation + (ulong)Math.Max(level, 0));
        rec.Exit.Hpfar = (ipa >> 8) & ~0xFUL;
        return true;
    }

    /// <summary>The protected IPA range [ipa, ipa + size) of an RSI argument: aligned, inside the protected half.</summary>
    private static bool IsProtectedRange(Realms.Realm realm, ulong ipa, ulong size, ulong alignment) =>
        ipa % alignment == 0 && ipa + size > ipa && ipa + size <= realm.ParEnd;

    private RealmStage2 Stage2Of(Realms.Realm realm) => realm.Stage2 ??= new RealmStage2(realm, _memory, _tableAt);

    private static bool Fail(Rec rec) => Complete(rec, RsiStatus.ErrorInput);
}
