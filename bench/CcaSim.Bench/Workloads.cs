using CcaSim.Rmm;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Bench;

/// <summary>One host action of a workload: an SMC, or a 64-bit write to non-secure memory.</summary>
internal readonly record struct Step(bool IsWrite, uint Fid, ulong[] Args)
{
    public static Step Smc(RmiFunctionId fid, params ulong[] args) => new(false, (uint)fid, args);

    public static Step W64(ulong addr, ulong value) => new(true, 0, [addr, value]);
}

/// <summary>
/// The two RMI workloads of issue 2, as granule-relative steps so the same sequence drives the in-process
/// benchmark and the generated <c>ccasim rmm</c> scripts. Addresses are encoded as (granule &lt;&lt; 12) + offset
/// relative to the pool base; <see cref="Granule"/> marks which arguments are addresses.
/// </summary>
internal static class Workloads
{
    /// <summary>Flag in an argument: "this is pool base + value".</summary>
    public const ulong Granule = 1UL << 63;

    public static ulong G(int n, ulong offset = 0) => Granule | ((ulong)n << 12) | offset;

    /// <summary>100,000 GRANULE_DELEGATE + GRANULE_UNDELEGATE pairs over distinct granules.</summary>
    public static IEnumerable<Step> DelegatePairs(int pairs = 100_000)
    {
        for (int i = 0; i < pairs; i++)
        {
            yield return Step.Smc(RmiFunctionId.RmiGranuleDelegate, G(i));
            yield return Step.Smc(RmiFunctionId.RmiGranuleUndelegate, G(i));
        }
    }

    private const int Rd = 0, Root = 1, L1 = 2, L2 = 3, L3 = 4, Data = 5, Rec = 6, Aux0 = 7;
    private const int RealmParams = 100, RecParams = 101, Src = 102;
    private const int Granules = Aux0 + RealmManagementMonitor.RecAuxCount;

    /// <summary>Writes the parameter and source pages once; every lifecycle reuses them.</summary>
    public static IEnumerable<Step> LifecycleSetup()
    {
        yield return Step.W64(G(RealmParams, 0x8), 48);
        yield return Step.W64(G(RealmParams, 0x18), 1);
        yield return Step.W64(G(RealmParams, 0x20), 1);
        yield return Step.W64(G(RealmParams, 0x800), 1);
        yield return Step.W64(G(RealmParams, 0x808), G(Root));
        yield return Step.W64(G(RealmParams, 0x810), 0);
        yield return Step.W64(G(RealmParams, 0x818), 1);
        yield return Step.W64(G(RecParams, 0x0), 1);
        yield return Step.W64(G(RecParams, 0x200), 0x8_0000);
        yield return Step.W64(G(RecParams, 0x800), RealmManagementMonitor.RecAuxCount);
        for (int i = 0; i < RealmManagementMonitor.RecAuxCount; i++)
        {
            yield return Step.W64(G(RecParams, 0x808 + (8 * (ulong)i)), G(Aux0 + i));
        }

        yield return Step.W64(G(Src), 0x1122_3344_5566_7788);
    }

    /// <summary>
    /// One realm lifecycle: delegate, REALM_CREATE, three RTT levels, INIT_RIPAS, DATA_CREATE, REC_CREATE with its
    /// aux granules, then everything destroyed in reverse and undelegated.
    /// </summary>
    public static IEnumerable<Step> Lifecycle()
    {
        for (int g = 0; g < Granules; g++)
        {
            yield return Step.Smc(RmiFunctionId.RmiGranuleDelegate, G(g));
        }

        yield return Step.Smc(RmiFunctionId.RmiRealmCreate, G(Rd), G(RealmParams));
        yield return Step.Smc(RmiFunctionId.RmiRttCreate, G(Rd), G(L1), 0, 1);
        yield return Step.Smc(RmiFunctionId.RmiRttCreate, G(Rd), G(L2), 0, 2);
        yield return Step.Smc(RmiFunctionId.RmiRttCreate, G(Rd), G(L3), 0, 3);
        yield return Step.Smc(RmiFunctionId.RmiRttInitRipas, G(Rd), 0, 0x1000);
        yield return Step.Smc(RmiFunctionId.RmiDataCreate, G(Rd), G(Data), 0, G(Src), 1);
        yield return Step.Smc(RmiFunctionId.RmiRecCreate, G(Rd), G(Rec), G(RecParams));
        yield return Step.Smc(RmiFunctionId.RmiRecDestroy, G(Rec));
        yield return Step.Smc(RmiFunctionId.RmiDataDestroy, G(Rd), 0);
        yield return Step.Smc(RmiFunctionId.RmiRttDestroy, G(Rd), 0, 3);
        yield return Step.Smc(RmiFunctionId.RmiRttDestroy, G(Rd), 0, 2);
        yield return Step.Smc(RmiFunctionId.RmiRttDestroy, G(Rd), 0, 1);
        yield return Step.Smc(RmiFunctionId.RmiRealmDestroy, G(Rd));
        for (int g = Granules - 1; g >= 0; g--)
        {
            yield return Step.Smc(RmiFunctionId.RmiGranuleUndelegate, G(g));
        }
    }

    public static IEnumerable<Step> Lifecycles(int count = 2_000) =>
        LifecycleSetup().Concat(Enumerable.Range(0, count).SelectMany(_ => Lifecycle()));
}
