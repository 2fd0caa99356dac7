using System.Security.Cryptography;
using CcaSim.Platform;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>
/// An engine whose behaviour a test supplies: it runs inside RMI_REC_ENTER, so a test can issue nested SMCs while
/// a REC is RUNNING (what another PE would see) or play the realm side.
/// </summary>
internal sealed class CallbackEngine(Func<RealmVcpuContext, RealmEvent> run) : IRealmEngine
{
    public int Runs { get; private set; }

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
    {
        Runs++;
        return run(context);
    }
}

/// <summary>A REC the host created, with the parameters it used (aux granules included).</summary>
internal sealed record CreatedRec(ulong Pa, RecParams Params);

/// <summary>Helpers shared by the REC_CREATE / REC_DESTROY / REC_ENTER / PSCI_COMPLETE tests (group B).</summary>
internal static class RecGroupHelpers
{
    /// <summary>Granule index of a Secure carve-out, for X_pas rows.</summary>
    public const int SecureGranule = 4000;

    public const ulong JunkByte = 0xA5;

    /// <summary>A host whose pool has one Secure granule at <see cref="SecureGranule"/>.</summary>
    public static RmmTestHost NewHost(RmmConfig? config = null) => new(config, new PlatformOptions
    {
        MemoryBase = RmmTestHost.PoolBase,
        MemorySize = RmmTestHost.PoolSize,
        ReservedRanges = [new PasRange(RmmTestHost.PoolBase + (SecureGranule * RmmTestHost.GranuleSize), RmmTestHost.GranuleSize, Pas.Secure)],
    });

    /// <summary>An RMM like the reference host build but with <paramref name="lrs"/> GICv3 list registers.</summary>
    public static RmmConfig WithListRegisters(int lrs) => new() { Features = FeatureRegister0.ReferenceHostBuild with { Gicv3NumLrs = lrs } };

    public static ulong SecurePa(RmmTestHost host) => host.G(SecureGranule);

    /// <summary>First address past the pool.</summary>
    public static ulong OutOfPool => RmmTestHost.PoolBase + RmmTestHost.PoolSize;

    /// <summary>Valid RmiRecParams with 16 fresh delegated aux granules.</summary>
    public static RecParams NewRecParams(RmmTestHost host, ulong mpidr, bool runnable = true, ulong pc = 0x8_0000)
    {
        var p = new RecParams { Mpidr = mpidr, Runnable = runnable, Pc = pc, NumAux = RealmManagementMonitor.RecAuxCount };
        for (int i = 0; i < p.Aux.Length; i++)
        {
            p.Aux[i] = host.Delegated();
        }

        for (int i = 0; i < p.Gprs.Length; i++)
        {
            p.Gprs[i] = 0x1000UL + (ulong)i;
        }

        return p;
    }

    public static RecParams Clone(RecParams p)
    {
        var c = new RecParams { Mpidr = p.Mpidr, Runnable = p.Runnable, Pc = p.Pc, NumAux = p.NumAux };
        p.Gprs.CopyTo(c.Gprs, 0);
        p.Aux.CopyTo(c.Aux, 0);
        return c;
    }

    /// <summary>Creates a REC (fresh REC and aux granules) and asserts success.</summary>
    public static CreatedRec CreateRec(RmmTestHost host, RealmHandle realm, ulong mpidr, bool runnable = true, ulong pc = 0x8_0000)
    {
        ulong rec = host.Delegated();
        RecParams p = NewRecParams(host, mpidr, runnable, pc);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, host.WriteRecParams(p)), RmiStatus.Success);
        return new CreatedRec(rec, p);
    }

    public static void Activate(RmmTestHost host, RealmHandle realm) =>
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, realm.Rd), RmiStatus.Success);

    /// <summary>Activates the realm, then moves it to SYSTEM_OFF as the realm's PSCI SYSTEM_OFF would.</summary>
    public static void SystemOff(RmmTestHost host, RealmHandle realm)
    {
        Activate(host, realm);
        host.Rmm.RealmAt(realm.Rd)!.TransitionTo(RealmState.SystemOff);
    }

    /// <summary>A realm that was created and destroyed: its RD is DELEGATED again.</summary>
    public static ulong DestroyedRd(RmmTestHost host, ushort vmid = 0x77)
    {
        RealmHandle gone = host.CreateRealm(new RealmParams { Vmid = vmid });
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmDestroy, gone.Rd), RmiStatus.Success);
        return gone.Rd;
    }

    /// <summary>The RIM (measurement slot 0): not observable through RMI, so read from the RD.</summary>
    public static byte[] Rim(RmmTestHost host, RealmHandle realm) => [.. host.Rmm.RealmAt(realm.Rd)!.Measurements[0]];

    /// <summary>A fresh NS run granule: entry half zero, exit half filled with junk.</summary>
    public static ulong NewRun(RmmTestHost host)
    {
        ulong run = host.NsGranule();
        byte[] page = new byte[RmmTestHost.GranuleSize];
        page.AsSpan(RecRunLayout.Exit).Fill((byte)JunkByte);
        host.Host.Write(run, page);
        return run;
    }

    public static byte[] ReadGranule(RmmTestHost host, ulong pa)
    {
        byte[] page = new byte[RmmTestHost.GranuleSize];
        host.Host.Read(pa, page);
        return page;
    }

    /// <summary>Undelegates a granule the RMM should have scrubbed and returns whether the host then reads zero.</summary>
    public static bool UndelegatesAsZero(RmmTestHost host, ulong pa)
    {
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiGranuleUndelegate, pa), RmiStatus.Success);
        return !ReadGranule(host, pa).AsSpan().ContainsAnyExcept((byte)0);
    }

    /// <summary>
    /// Independent computation of §8.3: RIM' = H(type 1 descriptor holding RIM and H(params image with only
    /// flags, pc and gprs[0..7])).
    /// </summary>
    public static byte[] ExpectedRimAfterRec(byte[] rim, RmiHashAlgorithm algo, RecParams p)
    {
        byte[] image = new byte[RmmTestHost.GranuleSize];
        var copy = new RecParams { Runnable = p.Runnable, Pc = p.Pc, NumAux = 0, Mpidr = 0 };
        p.Gprs.CopyTo(copy.Gprs, 0);
        copy.Encode(image);
        int n = algo == RmiHashAlgorithm.Sha256 ? 32 : 64;
        byte[] desc = new byte[0x100];
        desc[0] = 1;
        desc[8] = 0x00;
        desc[9] = 0x01;
        rim.AsSpan(0, n).CopyTo(desc.AsSpan(0x10));
        Digest(algo, image).CopyTo(desc.AsSpan(0x50));
        byte[] result = new byte[64];
        Digest(algo, desc).CopyTo(result, 0);
        return result;
    }

    private static byte[] Digest(RmiHashAlgorithm algo, byte[] data) =>
        algo == RmiHashAlgorithm.Sha256 ? SHA256.HashData(data) : SHA512.HashData(data);
}
