using System.Buffers.Binary;
using CcaSim.Attestation;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_ATTESTATION_TOKEN_CONTINUE (buffer, offset, size) (rmm-1.0.md §6, §9, §5.7, §11 item 9): ACS addr_align,
/// addr_bound, offset_bound, size_overflow, size_bound → ERROR_INPUT; then no INIT (or the token already fully read)
/// → ERROR_STATE; signing (TF-RMM rel0: before the buffer's walk); buffer RIPAS EMPTY → ERROR_INPUT; buffer unmapped
/// → stage-2 fault exit; size 0 → INCOMPLETE.
/// The token is copied in pieces (x1 = bytes copied, INCOMPLETE until the last piece, then SUCCESS); an IRQ while
/// signing exits to the host and the call returns INCOMPLETE on the next entry.
/// </summary>
public sealed class RsiAttestationTokenContinueTests
{
    private const ulong B = Attest.Buffer;

    /// <summary>One row per input failure condition, in ACS order (all ERROR_INPUT): buffer, offset, size.</summary>
    public static TheoryData<string, ulong, ulong, ulong> InputFailures => new()
    {
        { "addr_align_1", B + 1, 0, 0x100 },
        { "addr_align_2048", B + 0x800, 0, 0x100 },
        { "addr_bound_unprotected", RealmSide.Unprotected, 0, 0x100 },
        { "addr_bound_unprotected_alias", RealmSide.Unprotected + B, 0, 0x100 },
        { "addr_bound_outside_ipa_space", RealmSide.IpaEnd, 0, 0x100 },
        { "offset_bound_4096", B, 0x1000, 0 },
        { "offset_bound_max", B, ulong.MaxValue, 1 },
        { "size_overflow", B, 0x800, ulong.MaxValue - 0x7FF },
        { "size_bound_4097", B, 0, 0x1001 },
        { "size_bound_offset_plus_size", B, 0x800, 0x801 },
        { "addr_align_and_size_bound", B + 8, 0, 0x2000 },
    };

    [Theory]
    [MemberData(nameof(InputFailures))]
    public void TokenContinue_WhenInputConditionFails_ReturnsErrorInputAndCopiesNothing(string condition, ulong buffer, ulong offset, ulong size)
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));

        realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, buffer, offset, size);

        CompletedCall failed = realm.Completed[1];
        Assert.True(failed.Status == RsiStatus.ErrorInput, condition);
        Assert.Equal(0UL, failed.X[1]);
        Assert.Equal(new byte[0x1000], realm.ReadRealm(B, 0x1000));

        // The operation is still there: a valid call reads the whole token.
        ulong[] x = realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x1000);
        Assert.Equal((ulong)RsiStatus.Success, x[0]);
    }

    /// <summary>Input errors come before the state check: without INIT an input error still reads ERROR_INPUT.</summary>
    [Theory]
    [InlineData(B + 8, 0UL, 0x100UL)]
    [InlineData(RealmSide.Unprotected, 0UL, 0x100UL)]
    [InlineData(B, 0x1000UL, 0UL)]
    [InlineData(B, 0x800UL, 0x801UL)]
    public void TokenContinue_WithoutInitAndBadInput_ReturnsErrorInput(ulong buffer, ulong offset, ulong size)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, buffer, offset, size);

        Assert.Equal((ulong)RsiStatus.ErrorInput, x[0]);
    }

    /// <summary>No operation: ERROR_STATE, and it beats the buffer's RIPAS and mapping checks.</summary>
    public static TheoryData<string, ulong> NoInitBuffers => new()
    {
        { "mapped", B },
        { "ripas_empty", RealmSide.EmptyPage },
        { "unmapped", RealmSide.UnmappedRam },
    };

    [Theory]
    [MemberData(nameof(NoInitBuffers))]
    public void TokenContinue_WithoutInit_ReturnsErrorState(string condition, ulong buffer)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, buffer, 0, 0x1000);

        Assert.True((ulong)RsiStatus.ErrorState == x[0], condition);
        Assert.Equal(0UL, x[1]);
    }

    [Fact]
    public void TokenContinue_AfterTheTokenWasFullyRead_ReturnsErrorState()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x1000);
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x1000);

        realm.EnterOk();

        Assert.Equal(RsiStatus.Success, realm.Completed[1].Status);
        Assert.Equal(RsiStatus.ErrorState, realm.Completed[2].Status);
    }

    [Fact]
    public void TokenContinue_WhenBufferRipasEmpty_ReturnsErrorInput()
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));

        realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, RealmSide.EmptyPage, 0, 0x1000);

        Assert.Equal(RsiStatus.ErrorInput, realm.Completed[1].Status);
        Assert.Equal(0UL, realm.Completed[1].X[1]);
    }

    [Theory]
    [InlineData(RealmSide.UnmappedRam, 3)]
    [InlineData(RealmSide.BlockRam, 2)]
    public void TokenContinue_WhenBufferUnmapped_ExitsWithStage2FaultAndRunsAgainOnceMapped(ulong buffer, int level)
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, buffer, 0, 0x1000);

        RealmSide.AssertStage2Fault(realm.EnterOk(), buffer, level);
        Assert.Single(realm.Completed);

        realm.Host.CreateRtts(realm.Realm, buffer, 3);
        realm.Map(buffer);
        Assert.Equal(RecExitReason.Fiq, realm.EnterOk().Reason);
        Assert.Equal(RsiStatus.Success, realm.Completed[1].Status);
        Attest.AssertVerifies(realm, realm.ReadRealm(buffer, (int)realm.Completed[1].X[1]), Attest.Challenge(1));
    }

    /// <summary>
    /// The buffer's walk comes after signing (order left open by §6; TF-RMM rel0 walks the buffer only in its
    /// write state): a pending IRQ interrupts the signing before an EMPTY or unmapped buffer is looked at.
    /// </summary>
    [Theory]
    [InlineData("ripas_empty", RealmSide.EmptyPage)]
    [InlineData("unmapped", RealmSide.UnmappedRam)]
    public void TokenContinue_WhenSigningUnfinishedAndIrqPending_ExitsWithIrqBeforeCheckingTheBuffer(string condition, ulong buffer)
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, buffer, 0, 0x1000);
        realm.IrqPending = true;

        RecExitView exit = realm.EnterOk();

        Assert.True(exit.Reason == RecExitReason.Irq, condition);
        Assert.Single(realm.Completed);
    }

    /// <summary>
    /// A bad buffer fails only once the token is signed, and the signing is kept: the next call, with an IRQ now
    /// pending, copies the token at once instead of exiting with IRQ. Rows: buffer, token already signed before the
    /// failing call, expected failure (ERROR_INPUT for EMPTY, a stage-2 fault exit for unmapped).
    /// </summary>
    public static TheoryData<string, ulong, bool> BadBufferAroundSigning => new()
    {
        { "ripas_empty_signing_unfinished", RealmSide.EmptyPage, false },
        { "ripas_empty_signing_finished", RealmSide.EmptyPage, true },
        { "unmapped_signing_unfinished", RealmSide.UnmappedRam, false },
        { "unmapped_signing_finished", RealmSide.UnmappedRam, true },
    };

    [Theory]
    [MemberData(nameof(BadBufferAroundSigning))]
    public void TokenContinue_WhenBufferEmptyOrUnmapped_FailsAfterSigningAndKeepsTheSignedToken(string condition, ulong buffer, bool signedBefore)
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(3));
        if (signedBefore)
        {
            // Under a held IRQ each call signs one slice and returns INCOMPLETE; after SigningSlices calls the token
            // is signed and nothing has been copied.
            realm.IrqPending = true;
            for (int slice = 0; slice < 3; slice++)
            {
                realm.Call(RsiFunctionId.RsiAttestationTokenContinue, Attest.Buffer, 0, 0x1000);
                Assert.Equal(RecExitReason.Irq, realm.EnterOk().Reason);
                realm.EnterOk();
                Assert.Equal([(ulong)RsiStatus.Incomplete, 0UL], realm.Last.X[..2]);
            }

            realm.IrqPending = false;
        }

        int before = realm.Completed.Count;
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, buffer, 0, 0x1000);
        RecExitView exit = realm.EnterOk();

        if (buffer == RealmSide.EmptyPage)
        {
            Assert.True(realm.Completed.Count == before + 1, condition);
            Assert.Equal([(ulong)RsiStatus.ErrorInput, 0UL], realm.Last.X[..2]);
            realm.Call(RsiFunctionId.RsiAttestationTokenContinue, Attest.Buffer, 0, 0x1000);
            buffer = Attest.Buffer;
        }
        else
        {
            RealmSide.AssertStage2Fault(exit, buffer, 3);
            Assert.True(realm.Completed.Count == before, condition);
            realm.Map(buffer);
        }

        realm.IrqPending = true;
        realm.EnterOk();

        Assert.True(realm.Last.Status == RsiStatus.Success, condition);
        Attest.AssertVerifies(realm, realm.ReadRealm(buffer, (int)realm.Last.X[1]), Attest.Challenge(3));
    }

    [Fact]
    public void TokenContinue_WithSizeZero_ReturnsIncompleteAndZeroBytes()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0);
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x1000);

        realm.EnterOk();

        Assert.Equal([(ulong)RsiStatus.Incomplete, 0UL], realm.Completed[1].X[..2]);
        Assert.Equal(RsiStatus.Success, realm.Completed[2].Status);
        Attest.AssertVerifies(realm, realm.ReadRealm(B, (int)realm.Completed[2].X[1]), Attest.Challenge(1));
    }

    [Fact]
    public void TokenContinue_InOneCall_WritesTheWholeVerifiableToken()
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiMeasurementExtend, 2, 8, 0x1122_3344_5566_7788);
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(7));

        ulong[] x = realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, RealmSide.Args(B, 0, 0x1000));

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        Assert.InRange(x[1], 1UL, 0x1000UL);
        Assert.Equal(RealmSide.Args(B, 0, 0x1000)[3..8], x[4..9]);
        Attest.AssertVerifies(realm, realm.ReadRealm(B, (int)x[1]), Attest.Challenge(7));
    }

    [Theory]
    [InlineData(0x100)]
    [InlineData(0x300)]
    [InlineData(0x1FF)]
    public void TokenContinue_InPiecesAtIncreasingOffsets_ReassemblesTheToken(int piece)
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(9));
        ulong offset = 0;
        var sizes = new List<ulong>();
        while (true)
        {
            ulong[] x = realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, B, offset, (ulong)piece);
            sizes.Add(x[1]);
            offset += x[1];
            if (x[0] == (ulong)RsiStatus.Success)
            {
                break;
            }

            Assert.Equal((ulong)RsiStatus.Incomplete, x[0]);
            Assert.Equal((ulong)piece, x[1]);
            Assert.True(sizes.Count < 64);
        }

        Assert.True(sizes.Count > 1);
        Assert.InRange(sizes[^1], 1UL, (ulong)piece);
        Attest.AssertVerifies(realm, realm.ReadRealm(B, (int)offset), Attest.Challenge(9));
        Assert.Equal(RsiStatus.ErrorState, (RsiStatus)realm.CallInside(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x100)[0]);
    }

    [Fact]
    public void TokenContinue_WhenIrqPendingDuringSigning_ExitsWithIrqThenIncompleteThenCompletes()
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiMeasurementExtend, 1, 8, 0xAABB);
        realm.CallInside(RsiFunctionId.RsiMeasurementExtend, 4, 64, 1, 2, 3, 4, 5, 6, 7, 8);
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(5));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x1000);
        realm.IrqPending = true;

        RecExitView irq = realm.EnterOk();

        Assert.Equal(RecExitReason.Irq, irq.Reason);
        Assert.Equal(3, realm.Completed.Count);

        // Still pending: the call is interrupted again before any signing progress is visible.
        Assert.Equal(RecExitReason.Irq, realm.EnterOk().Reason);
        Assert.Equal(4, realm.Completed.Count);
        Assert.Equal([(ulong)RsiStatus.Incomplete, 0UL], realm.Completed[3].X[..2]);

        realm.IrqPending = false;
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x1000);
        Assert.Equal(RecExitReason.Fiq, realm.EnterOk().Reason);

        CompletedCall done = realm.Completed[^1];
        Assert.Equal(RsiStatus.Success, done.Status);
        Attest.AssertVerifies(realm, realm.ReadRealm(B, (int)done.X[1]), Attest.Challenge(5));
    }

    [Fact]
    public void TokenContinue_WhenIrqStaysPending_EachCallSignsASliceAndTheTokenArrives()
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(6));
        realm.IrqPending = true;
        var statuses = new List<RsiStatus>();

        for (int round = 0; round < 8 && !statuses.Contains(RsiStatus.Success); round++)
        {
            realm.Call(RsiFunctionId.RsiAttestationTokenContinue, B, 0, 0x1000);
            realm.EnterOk();
            realm.EnterOk();
            statuses.Add(realm.Completed[^1].Status);
        }

        Assert.Equal(RsiStatus.Success, statuses[^1]);
        Assert.All(statuses[..^1], s => Assert.Equal(RsiStatus.Incomplete, s));
        Attest.AssertVerifies(realm, realm.ReadRealm(B, (int)realm.Completed[^1].X[1]), Attest.Challenge(6));
    }

    [Fact]
    public void TokenContinue_WhenIrqPendingDuringSigning_NextEntryReturnsIncomplete()
    {
        var realm = new RealmSide();
        realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(5));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, RealmSide.Args(B, 0, 0x1000));
        realm.IrqPending = true;
        Assert.Equal(RecExitReason.Irq, realm.EnterOk().Reason);
        realm.IrqPending = false;

        Assert.Equal(RecExitReason.Fiq, realm.EnterOk().Reason);

        CompletedCall incomplete = realm.Completed[^1];
        Assert.Equal((ulong)RsiFunctionId.RsiAttestationTokenContinue, incomplete.Call.FunctionId);
        Assert.Equal([(ulong)RsiStatus.Incomplete, 0UL], incomplete.X[..2]);
        Assert.Equal(RealmSide.Args(B, 0, 0x1000)[3..8], incomplete.X[4..9]);
    }
}

/// <summary>Shared pieces of the attestation tests.</summary>
internal static class Attest
{
    /// <summary>A mapped (ASSIGNED RAM) page of <see cref="RealmSide"/> used as the token buffer.</summary>
    public const ulong Buffer = RealmSide.Ram + 0x1000;

    /// <summary>A 64-byte challenge as x1..x8 whose bytes depend on <paramref name="seed"/>.</summary>
    public static ulong[] Challenge(int seed) => [.. Enumerable.Range(0, 8).Select(i => (0x0101_0101_0101_0101UL * (ulong)(seed + 1)) ^ (ulong)(i << 4))];

    public static byte[] ChallengeBytes(ulong[] x)
    {
        byte[] bytes = new byte[64];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 * i), x[i]);
        }

        return bytes;
    }

    /// <summary>
    /// Verifies the token with the default platform's CPAK and the expected challenge, RPV, RIM and REMs (the
    /// measurements as the RD holds them, cut to the digest size).
    /// </summary>
    public static void AssertVerifies(RealmSide realm, byte[] token, ulong[] challenge)
    {
        Realms.Realm rd = realm.RealmState;
        int n = rd.HashSize;
        VerificationResult result = CcaTokenVerifier.Verify(token, PlatformDescription.Default.PlatformKey, new VerificationOptions
        {
            Challenge = ChallengeBytes(challenge),
            InitialMeasurement = rd.Measurements[0][..n],
            ExtensibleMeasurements = [.. rd.Measurements[1..].Select(m => m[..n])],
            PersonalizationValue = realm.Realm.Params.Rpv,
            RequireRel0 = true,
        });
        Assert.True(result.IsValid, result.ToString());
    }
}
