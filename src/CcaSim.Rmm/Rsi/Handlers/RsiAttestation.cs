using System.Buffers.Binary;
using CcaSim.Attestation;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    /// <summary>Upper bound of a token's size returned by TOKEN_INIT (TF-RMM: one granule).</summary>
    private const ulong TokenMaxSize = 0x1000;

    /// <summary>Signing is done in slices between which the RMM polls for a pending IRQ, as TF-RMM's signing app does.</summary>
    private const int SigningSlices = 3;

    private byte[]? _platformToken;

    /// <summary>RSI_ATTESTATION_TOKEN_INIT (x1..x8 = challenge) (§6): starts a new operation, abandoning any other.</summary>
    private static bool RsiAttestationTokenInit(Rec rec)
    {
        byte[] challenge = new byte[64];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(challenge.AsSpan(8 * i), rec.Context.X[1 + i]);
        }

        rec.Attestation = new AttestationOperation { Challenge = challenge };
        return Complete(rec, RsiStatus.Success, TokenMaxSize);
    }

    /// <summary>
    /// RSI_ATTESTATION_TOKEN_CONTINUE (buffer, offset, size) (§6), errors in ACS order: addr_align, addr_bound,
    /// offset_bound, size_overflow, size_bound → ERROR_INPUT; no operation (or the token was fully read) →
    /// ERROR_STATE. Then signs until done (an IRQ between slices exits to the host and the call returns
    /// INCOMPLETE); only then buffer RIPAS EMPTY → ERROR_INPUT, unmapped → stage-2 fault exit; then copies the next
    /// piece of the token to buffer + offset: x1 = bytes copied, INCOMPLETE until the last piece, then SUCCESS.
    /// </summary>
    private bool RsiAttestationTokenContinue(Rec rec, RealmStage2 stage2)
    {
        ulong[] x = rec.Context.X;
        ulong buffer = x[1];
        ulong offset = x[2];
        ulong size = x[3];
        if (!IsProtectedRange(rec.Realm, buffer, TokenMaxSize, TokenMaxSize) || offset >= TokenMaxSize
            || offset + size < offset || offset + size > TokenMaxSize)
        {
            return Fail(rec);
        }

        AttestationOperation? op = rec.Attestation;
        if (op is null)
        {
            return Complete(rec, RsiStatus.ErrorState);
        }

        // Each call signs at least one slice before it looks for a pending IRQ (TF-RMM rel0 polls after every slice,
        // the last included), so a realm whose host keeps an IRQ pending still gets its token after SigningSlices
        // calls instead of being interrupted forever. Size 0 signs nothing (§6: size 0 → INCOMPLETE; see FIDELITY).
        while (size != 0 && op.Token is null)
        {
            if (++op.SigningStepsDone == SigningSlices)
            {
                op.Token = CreateToken(rec.Realm, op.Challenge);
            }

            if (_interrupts.IrqPending)
            {
                rec.PendingIncomplete = true;
                rec.Exit.Reset(RecExitReason.Irq);
                return true;
            }
        }

        // §6 leaves the buffer's walk unordered against signing; TF-RMM rel0 walks it only once the token is signed
        // (its write state), so a bad buffer neither hides a pending IRQ nor throws away finished signing work.
        switch (stage2.Translate(buffer, out _, out int level))
        {
            case Stage2Access.Empty:
                return Fail(rec);
            case Stage2Access.Unmapped:
                return ExitWithStage2Fault(rec, buffer, level);
        }

        if (size == 0)
        {
            return Complete(rec, RsiStatus.Incomplete, 0);
        }

        int n = (int)Math.Min(size, (ulong)(op.Token!.Length - op.Copied));
        stage2.TryWrite(buffer + offset, op.Token.AsSpan(op.Copied, n));
        op.Copied += n;
        if (op.Copied < op.Token.Length)
        {
            return Complete(rec, RsiStatus.Incomplete, (ulong)n);
        }

        rec.Attestation = null;
        return Complete(rec, RsiStatus.Success, (ulong)n);
    }

    /// <summary>The CCA token (§9): the platform token, obtained once, and a realm token signed with the RAK.</summary>
    private byte[] CreateToken(Realms.Realm realm, byte[] challenge)
    {
        PlatformDescription platform = Config.Attestation;
        _platformToken ??= platform.SignPlatformToken();
        int digest = realm.HashSize;
        RealmClaims claims = platform.CreateRealmClaims(
            challenge,
            realm.Rpv,
            (RealmHashAlgorithm)realm.HashAlgorithm,
            realm.Measurements[0].AsSpan(0, digest),
            [.. realm.Measurements.Skip(1).Select(m => m[..digest])]);
        return CcaTokenEncoder.EncodeCollection(_platformToken, platform.SignRealmToken(claims));
    }
}
