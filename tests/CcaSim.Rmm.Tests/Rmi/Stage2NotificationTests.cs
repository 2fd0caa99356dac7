using CcaSim.Platform.Execution;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;
using static CcaSim.Rmm.Tests.Infrastructure.RecGroupHelpers;

namespace CcaSim.Rmm.Tests.Rmi;

/// <summary>
/// The engine hears of every stage-2 change that can unmap or re-kind a page it may have mapped (the seam's
/// Stage2Changed), and of the end of a REC or a realm (Release).
/// </summary>
public sealed class Stage2NotificationTests
{
    private const ulong Page = 0x1000;

    /// <summary>The test realm after one entry (so an engine has seen its stage 2), with a recording engine.</summary>
    private static (RealmSide Realm, SeamEngine Engine, IRealmMemory Stage2) Entered()
    {
        var r = new RealmSide();
        var engine = new SeamEngine();
        r.Host.Rmm.Engine = engine;
        Assert.Equal(RecExitReason.Fiq, r.EnterReason());
        return (r, engine, r.RealmState.Stage2!);
    }

    [Fact]
    public void DataDestroy_OfAMappedPage_ReportsThatPage()
    {
        var (r, e, s2) = Entered();

        r.Unmap(RealmSide.Ram + Page);

        Assert.Equal((s2, RealmSide.Ram + Page, Page), Assert.Single(e.Stage2Changes));
    }

    [Fact]
    public void DataDestroy_BeforeAnyEngineSawTheRealm_ReportsNothing()
    {
        var r = new RealmSide();
        var engine = new SeamEngine();
        r.Host.Rmm.Engine = engine;

        r.Unmap(RealmSide.Ram);

        Assert.Empty(engine.Stage2Changes);
    }

    [Fact]
    public void RttUnmapUnprotected_ReportsTheRangeTheEntryMapped()
    {
        var (r, e, s2) = Entered();
        const ulong Ipa = RealmSide.Unprotected + 0x40_0000;
        r.Host.CreateRtts(r.Realm, Ipa, 3);
        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRttMapUnprotected, r.Realm.Rd, Ipa, 3, r.Host.NsGranule()), RmiStatus.Success);
        Assert.Empty(e.Stage2Changes);

        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRttUnmapUnprotected, r.Realm.Rd, Ipa, 3), RmiStatus.Success);

        Assert.Equal((s2, Ipa, Page), Assert.Single(e.Stage2Changes));
    }

    [Fact]
    public void RttDestroy_ReportsTheRangeTheTableCovered()
    {
        var (r, e, s2) = Entered();
        const ulong Ipa = RealmSide.Unprotected + 0x40_0000;
        r.Host.CreateRtts(r.Realm, Ipa, 3);

        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRttDestroy, r.Realm.Rd, Ipa, 3), RmiStatus.Success);

        Assert.Equal((s2, Ipa, 0x20_0000UL), Assert.Single(e.Stage2Changes));
    }

    [Fact]
    public void RttSetRipas_ReportsTheRangeItChanged()
    {
        var r = new RealmSide();
        r.Call(RsiFunctionId.RsiIpaStateSet, RealmSide.Ram, RealmSide.Ram + (2 * Page), 0, 0);
        Assert.Equal(RecExitReason.RipasChange, r.EnterReason());
        var engine = new SeamEngine();
        r.Host.Rmm.Engine = engine;

        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRttSetRipas, r.Realm.Rd, r.Rec, RealmSide.Ram, RealmSide.Ram + (2 * Page)), RmiStatus.Success);

        Assert.Equal((r.RealmState.Stage2!, RealmSide.Ram, 2 * Page), Assert.Single(engine.Stage2Changes));
        Assert.Equal(Stage2PageKind.Empty, r.RealmState.Stage2!.Lookup(RealmSide.Ram).Kind);
    }

    [Fact]
    public void RttCreateAndFold_KeepEveryTranslation_AndReportNothing()
    {
        var (r, e, _) = Entered();
        const ulong Ipa = 0x40_0000;
        ulong rtt = r.Host.Delegated();

        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRttCreate, r.Realm.Rd, rtt, Ipa, 3), RmiStatus.Success);
        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRttFold, r.Realm.Rd, Ipa, 3), RmiStatus.Success);
        r.Map(RealmSide.UnmappedRam);

        Assert.Empty(e.Stage2Changes);
    }

    [Fact]
    public void RecDestroy_ReleasesTheVcpuContext()
    {
        var (r, e, _) = Entered();
        RealmVcpuContext ctx = r.Host.Rmm.RecAt(r.Rec)!.Context;

        RealmSide.Expect(r.Host.Smc(RmiFunctionId.RmiRecDestroy, r.Rec), RmiStatus.Success);

        Assert.Same(ctx, Assert.Single(e.ReleasedContexts));
        Assert.Empty(e.ReleasedMemories);
    }

    [Fact]
    public void RealmDestroy_ReleasesTheStage2()
    {
        RmmTestHost host = NewHost();
        RealmHandle realm = host.CreateRealm();
        ulong rec = host.CreateRec(realm);
        Activate(host, realm);
        var engine = new SeamEngine();
        host.Rmm.Engine = engine;
        ulong run = NewRun(host);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecEnter, rec, run), RmiStatus.Success);
        IRealmMemory stage2 = host.Rmm.RealmAt(realm.Rd)!.Stage2!;
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecDestroy, rec), RmiStatus.Success);

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, realm.Rd), RmiStatus.Success);

        Assert.Same(stage2, Assert.Single(engine.ReleasedMemories));
    }
}
