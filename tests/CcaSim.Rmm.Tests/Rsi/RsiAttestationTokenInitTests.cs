using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_ATTESTATION_TOKEN_INIT (x1..x8 = challenge) (rmm-1.0.md §6, §11 item 9): always SUCCESS with x1 = the upper
/// bound of the token size (4096); it abandons any operation in progress, so the token then read carries the new
/// challenge and is read from its start.
/// </summary>
public sealed class RsiAttestationTokenInitTests
{
    [Fact]
    public void TokenInit_ReturnsSuccessAndMaximumTokenSize()
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        Assert.Equal(0x1000UL, x[1]);
    }

    [Fact]
    public void TokenInit_InTheMiddleOfReading_RestartsWithTheNewChallenge()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, Attest.Buffer, 0, 0x100);
        realm.Call(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(2));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, Attest.Buffer, 0, 0x1000);

        realm.EnterOk();

        Assert.Equal(RsiStatus.Incomplete, realm.Completed[1].Status);
        Assert.Equal(0x100UL, realm.Completed[1].X[1]);
        CompletedCall last = realm.Completed[3];
        Assert.Equal(RsiStatus.Success, last.Status);
        Attest.AssertVerifies(realm, realm.ReadRealm(Attest.Buffer, (int)last.X[1]), Attest.Challenge(2));
    }

    [Fact]
    public void TokenInit_AfterTheTokenWasFullyRead_StartsANewOperation()
    {
        var realm = new RealmSide();
        realm.Call(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(1));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, Attest.Buffer, 0, 0x1000);
        realm.Call(RsiFunctionId.RsiAttestationTokenInit, Attest.Challenge(3));
        realm.Call(RsiFunctionId.RsiAttestationTokenContinue, Attest.Buffer + 0x1000, 0, 0x1000);

        realm.EnterOk();

        Assert.Equal(RsiStatus.Success, realm.Completed[1].Status);
        Assert.Equal(RsiStatus.Success, realm.Completed[3].Status);
        Attest.AssertVerifies(realm, realm.ReadRealm(Attest.Buffer + 0x1000, (int)realm.Completed[3].X[1]), Attest.Challenge(3));
    }
}
