using CcaSim.Platform;
using CcaSim.Platform.Memory;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>
/// Shared set-up for the realm life-cycle tests (group A: VERSION, FEATURES, REALM_CREATE/ACTIVATE/DESTROY,
/// REC_AUX_COUNT, measurements).
/// </summary>
internal static class RealmLifecycleHelpers
{
    /// <summary>A granule of the pool that boots in the Secure PAS (an X_pas stimulus).</summary>
    public const int SecureGranule = 4000;

    /// <summary>The last granule of the pool; the bump allocator never reaches it.</summary>
    public const int LastGranule = (int)(RmmTestHost.PoolSize / RmmTestHost.GranuleSize) - 1;

    public const ulong BelowPool = RmmTestHost.PoolBase - RmmTestHost.GranuleSize;

    public const ulong AbovePool = RmmTestHost.PoolBase + RmmTestHost.PoolSize;

    /// <summary>A test host whose pool holds one Secure granule at <see cref="SecureGranule"/>.</summary>
    public static RmmTestHost NewHost(RmmConfig? config = null) => new(config, new PlatformOptions
    {
        MemoryBase = RmmTestHost.PoolBase,
        MemorySize = RmmTestHost.PoolSize,
        ReservedRanges = [new PasRange(RmmTestHost.PoolBase + (SecureGranule * RmmTestHost.GranuleSize), RmmTestHost.GranuleSize, Pas.Secure)],
    });

    /// <summary>The reference feature register with some fields changed.</summary>
    public static RmmConfig WithFeatures(Func<FeatureRegister0, FeatureRegister0> change, int vmidBits = 16, bool hpmn0 = false) =>
        new() { Features = change(FeatureRegister0.ReferenceHostBuild), VmidBits = vmidBits, FeatHpmn0 = hpmn0 };

    /// <summary>Moves a NEW realm to ACTIVE through RMI_REALM_ACTIVATE.</summary>
    public static void Activate(RmmTestHost host, ulong rd) =>
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, rd), RmiStatus.Success);

    /// <summary>
    /// Puts an ACTIVE realm into SYSTEM_OFF, as a realm's PSCI SYSTEM_OFF would (the realm side is not built yet,
    /// so this is set-up through the RMM's internals).
    /// </summary>
    public static void SystemOff(RmmTestHost host, ulong rd) => host.Rmm.RealmAt(rd)!.TransitionTo(RealmState.SystemOff);

    /// <summary>Brings a freshly created realm to <paramref name="state"/>.</summary>
    public static void BringTo(RmmTestHost host, ulong rd, RealmState state)
    {
        if (state != RealmState.New)
        {
            Activate(host, rd);
        }

        if (state == RealmState.SystemOff)
        {
            SystemOff(host, rd);
        }
    }

    /// <summary>Granule state of <paramref name="pa"/>, or null when it is not a granule address of the pool.</summary>
    public static GranuleState? StateOrNull(RmmTestHost host, ulong pa) =>
        pa % RmmTestHost.GranuleSize == 0 && host.Platform.Memory.Contains(pa, RmmTestHost.GranuleSize) ? host.StateOf(pa) : null;

    /// <summary>The realm's RIM slot (64 bytes), read for measurement checks only.</summary>
    public static byte[] Rim(RmmTestHost host, ulong rd) => (byte[])host.Rmm.RealmAt(rd)!.Measurements[0].Clone();
}

/// <summary>What a failed command must leave untouched: chosen granule states, per-state counts and VMIDs in use.</summary>
internal sealed record GranuleSnapshot(string States, string Counts, int VmidsInUse)
{
    public static GranuleSnapshot Take(RmmTestHost host, params ulong[] granules)
    {
        string states = string.Join(',', granules.Select(pa => $"{pa:x}:{RealmLifecycleHelpers.StateOrNull(host, pa)?.ToString() ?? "-"}"));
        string counts = string.Join(',', Enum.GetValues<GranuleState>().Select(s => $"{s}={host.Rmm.GranuleCount(s)}"));
        return new GranuleSnapshot(states, counts, host.Rmm.VmidsInUse);
    }
}
