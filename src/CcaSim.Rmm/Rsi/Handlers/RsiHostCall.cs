using System.Buffers.Binary;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const int HostCallSize = 0x100;
    private const int HostCallGprs = 0x008;

    /// <summary>
    /// RSI_HOST_CALL (addr) (§5.6): addr_align (256 bytes), addr_bound → ERROR_INPUT; RIPAS EMPTY → ERROR_INPUT;
    /// unmapped → stage-2 fault exit. Otherwise the REC exits with HOST_CALL carrying imm and gprs[0..30] from the
    /// RsiHostCall structure; the next entry copies the host's gprs back and returns SUCCESS.
    /// </summary>
    private static bool RsiHostCall(Rec rec, RealmStage2 stage2)
    {
        ulong addr = rec.Context.X[1];
        if (!IsProtectedRange(rec.Realm, addr, HostCallSize, HostCallSize))
        {
            return Fail(rec);
        }

        switch (stage2.Translate(addr, out _, out int level))
        {
            case Stage2Access.Empty:
                return Fail(rec);
            case Stage2Access.Unmapped:
                return ExitWithStage2Fault(rec, addr, level);
        }

        Span<byte> call = stackalloc byte[HostCallSize];
        stage2.TryRead(addr, call);
        rec.Exit.Reset(RecExitReason.HostCall);
        rec.Exit.Imm = BinaryPrimitives.ReadUInt16LittleEndian(call);
        for (int i = 0; i < RecRunLayout.NumGprs; i++)
        {
            rec.Exit.Gprs[i] = BinaryPrimitives.ReadUInt64LittleEndian(call[(HostCallGprs + (8 * i))..]);
        }

        rec.PendingHostCall = addr;
        return true;
    }

    /// <summary>
    /// Entry step 6 (§3.10): copy entry.gprs[0..30] into the realm's RsiHostCall and return SUCCESS. If the host
    /// unmapped the structure meanwhile, the REC exits again with a stage-2 fault without running (true). If the
    /// page became RIPAS EMPTY meanwhile (another REC's IPA_STATE_SET), the call completes without copying.
    /// </summary>
    private static bool CompleteHostCall(Rec rec, RealmStage2 stage2, ReadOnlySpan<byte> run)
    {
        if (rec.PendingHostCall is not ulong addr)
        {
            return false;
        }

        switch (stage2.Translate(addr, out _, out int level))
        {
            case Stage2Access.Mapped:
                stage2.TryWrite(addr + HostCallGprs, run.Slice(RecRunLayout.EnterGprs, 8 * RecRunLayout.NumGprs));
                break;

            // EMPTY is not "unmapped" (§5.6): no host action can map it, so a stage-2 exit would repeat on every
            // entry. The spec is silent on the copy (there is no RAM to copy to); TF-RMM rel0 drops it and resumes
            // the realm. x0 still follows §3.10 step 6 (SUCCESS), where rel0 leaves it as it was (FIDELITY).
            case Stage2Access.Empty:
                break;

            default:
                return ExitWithStage2Fault(rec, addr, level);
        }

        rec.PendingHostCall = null;
        rec.Context.X[0] = (ulong)RsiStatus.Success;
        rec.Context.Pc += SmcInstructionSize;
        return false;
    }
}
