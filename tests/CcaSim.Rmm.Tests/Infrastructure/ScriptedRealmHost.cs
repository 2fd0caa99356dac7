using CcaSim.Platform.Execution;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>
/// An ACTIVE realm (48-bit IPA, level-0 root, RTTs down to level 3 over [0, 2 MiB)) whose REC runs a
/// <see cref="ScriptedRealm"/>: RAM mapped at [0x1000, 0x2000), RAM unmapped at [0x2000, 0x3000), the rest of
/// the first 2 MiB RIPAS EMPTY. Records every completed realm step.
/// </summary>
internal sealed class ScriptedRealmHost
{
    public const ulong Mapped = 0x1000;
    public const ulong UnmappedRam = 0x2000;
    public const ulong Empty = 0x5000;

    public ScriptedRealmHost(RealmParams? realmParams = null)
    {
        Host = new RmmTestHost();
        Handle = Host.CreateRealm(realmParams);
        Host.CreateRtts(Handle, 0, 3);
        RmmTestHost.Expect(Host.Smc(RmiFunctionId.RmiRttInitRipas, Handle.Rd, Mapped, 0x3000), RmiStatus.Success);
        RmmTestHost.Expect(Host.Smc(RmiFunctionId.RmiDataCreateUnknown, Handle.Rd, Host.Delegated(), Mapped), RmiStatus.Success);
        Rec = Host.CreateRec(Handle);
        RmmTestHost.Expect(Host.Smc(RmiFunctionId.RmiRealmActivate, Handle.Rd), RmiStatus.Success);
        Run = Host.NsGranule();
        Engine = new ScriptedRealm(Host.Platform.Interrupts);
        Engine.StepCompleted += (step, x, fault) => Completed.Add((step, x, fault));
        Host.Rmm.Engine = Engine;
    }

    public RmmTestHost Host { get; }

    public RealmHandle Handle { get; }

    public ulong Rec { get; }

    public ulong Run { get; }

    public ScriptedRealm Engine { get; }

    public List<(RealmStep Step, ulong[] X, RealmFault Fault)> Completed { get; } = [];

    /// <summary>RMI_REC_ENTER with the given entry flags and gprs[0], asserting success; returns the exit reason.</summary>
    public RecExitReason Enter(ulong flags = 0, ulong gpr0 = 0)
    {
        Host.Write64(Run, flags);
        Host.Write64(Run + RecRunLayout.EnterGprs, gpr0);
        RmmTestHost.Expect(Host.Smc(RmiFunctionId.RmiRecEnter, Rec, Run), RmiStatus.Success);
        return (RecExitReason)Host.Read64(Run + RecRunLayout.ExitReason);
    }

    /// <summary>A 64-bit field of the RmiRecRun page at <paramref name="offset"/>.</summary>
    public ulong Exit(int offset) => Host.Read64(Run + (ulong)offset);
}
