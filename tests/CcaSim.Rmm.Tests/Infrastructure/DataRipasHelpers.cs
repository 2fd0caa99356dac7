using System.Buffers.Binary;
using System.Security.Cryptography;
using CcaSim.Platform;
using CcaSim.Platform.Memory;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Realms;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Rtt;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>
/// Shared set-up for the DATA_CREATE[_UNKNOWN] / DATA_DESTROY / RTT_INIT_RIPAS / RTT_SET_RIPAS tests (group C):
/// realms with RTTs built through SMCs, entries driven into a given RIPAS through SMCs, an independent model of
/// the RIM descriptors (rmm-1.0.md §8.2, §8.4) and snapshots to assert that a failed command changed nothing.
/// </summary>
internal static class DataRipasHelpers
{
    /// <summary>A granule whose GPT entry is Secure: the host cannot use it as a non-secure source.</summary>
    public const int SecureGranule = 4000;

    /// <summary>First unprotected IPA of a 48-bit realm.</summary>
    public const ulong Unprotected48 = 1UL << 47;

    public const ulong L3Span = 0x1000;
    public const ulong L2Span = 0x20_0000;
    public const ulong L1Span = 0x4000_0000;
    public const ulong L0Span = 0x80_0000_0000;

    /// <summary>A 16 MiB pool with one Secure granule (rmm-1.0.md §3 X_pas).</summary>
    public static RmmTestHost NewHost() => new(platform: new PlatformOptions
    {
        MemoryBase = RmmTestHost.PoolBase,
        MemorySize = RmmTestHost.PoolSize,
        ReservedRanges = [new PasRange(RmmTestHost.PoolBase + (SecureGranule * RmmTestHost.GranuleSize), RmmTestHost.GranuleSize, Pas.Secure)],
    });

    /// <summary>A 16 MiB pool straddling 2^48: granules from <c>G(2048)</c> on lie at or above 2^48.</summary>
    public static RmmTestHost NewHighHost() => new(platform: new PlatformOptions
    {
        MemoryBase = (1UL << 48) - (8UL << 20),
        MemorySize = 16UL << 20,
    });

    /// <summary>A NEW 48-bit realm (start level 0) with RTTs down to level 3 covering <paramref name="ipa"/>.</summary>
    public static RealmHandle RealmWithL3(RmmTestHost host, ulong ipa = 0, RealmParams? p = null)
    {
        RealmHandle realm = host.CreateRealm(p);
        host.CreateRtts(realm, ipa, 3);
        return realm;
    }

    public static SmcResult DataCreate(RmmTestHost host, RealmHandle realm, ulong data, ulong ipa, ulong src, ulong flags = 1) =>
        host.Smc(RmiFunctionId.RmiDataCreate, realm.Rd, data, ipa, src, flags);

    public static SmcResult DataCreateUnknown(RmmTestHost host, RealmHandle realm, ulong data, ulong ipa) =>
        host.Smc(RmiFunctionId.RmiDataCreateUnknown, realm.Rd, data, ipa);

    /// <summary>DATA_CREATE_UNKNOWN at <paramref name="ipa"/> with a fresh delegated granule; returns the granule.</summary>
    public static ulong Assign(RmmTestHost host, RealmHandle realm, ulong ipa)
    {
        ulong data = host.Delegated();
        RmmTestHost.Expect(DataCreateUnknown(host, realm, data, ipa), RmiStatus.Success);
        return data;
    }

    /// <summary>RMI_RTT_INIT_RIPAS over [base, top), asserting success and x1 = top.</summary>
    public static void InitRipas(RmmTestHost host, RealmHandle realm, ulong baseIpa, ulong top)
    {
        SmcResult r = host.Smc(RmiFunctionId.RmiRttInitRipas, realm.Rd, baseIpa, top);
        RmmTestHost.Expect(r, RmiStatus.Success);
        Assert.Equal(top, r.X1);
    }

    /// <summary>
    /// Drives the unassigned level-3 entry at <paramref name="ipa"/> of a NEW realm to RIPAS
    /// <paramref name="ripas"/> using only RMI commands: RAM by INIT_RIPAS; DESTROYED by INIT_RIPAS,
    /// DATA_CREATE_UNKNOWN and DATA_DESTROY (assigned RAM → unassigned DESTROYED).
    /// </summary>
    public static void SetUnassignedRipas(RmmTestHost host, RealmHandle realm, ulong ipa, Ripas ripas)
    {
        if (ripas == Ripas.Empty)
        {
            return;
        }

        InitRipas(host, realm, ipa, ipa + L3Span);
        if (ripas == Ripas.Destroyed)
        {
            Assign(host, realm, ipa);
            RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataDestroy, realm.Rd, ipa), RmiStatus.Success);
        }

        Assert.Equal((ulong)ripas, host.ReadEntry(realm, ipa, 3).Ripas);
    }

    /// <summary>An ASSIGNED level-3 entry with RIPAS <paramref name="ripas"/> at <paramref name="ipa"/>; returns its PA.</summary>
    public static ulong AssignWithRipas(RmmTestHost host, RealmHandle realm, ulong ipa, Ripas ripas)
    {
        SetUnassignedRipas(host, realm, ipa, ripas);
        return Assign(host, realm, ipa);
    }

    /// <summary>
    /// An ASSIGNED EMPTY 2 MiB block at <paramref name="ipa"/> (RTT_FOLD of 512 contiguous DATA_CREATE_UNKNOWN
    /// pages, rmm-1.0.md §3.16); returns the block's PA.
    /// </summary>
    public static ulong FoldAssignedBlock(RmmTestHost host, RealmHandle realm, ulong ipa)
    {
        host.CreateRtts(realm, ipa, 3);
        ulong first = host.DelegatedRun(512, L2Span);
        for (ulong i = 0; i < 512; i++)
        {
            RmmTestHost.Expect(DataCreateUnknown(host, realm, first + (i * L3Span), ipa + (i * L3Span)), RmiStatus.Success);
        }

        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRttFold, realm.Rd, ipa, 3), RmiStatus.Success);
        Assert.Equal((2, RmiRttEntryState.Assigned, first, (ulong)Ripas.Empty), host.ReadEntry(realm, ipa, 3));
        return first;
    }

    public static void Activate(RmmTestHost host, RealmHandle realm) =>
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiRealmActivate, realm.Rd), RmiStatus.Success);

    /// <summary>ACTIVE through RMI, then SYSTEM_OFF as the realm's PSCI SYSTEM_OFF would set it (realm side not built).</summary>
    public static void SystemOff(RmmTestHost host, RealmHandle realm)
    {
        Activate(host, realm);
        host.Rmm.RealmAt(realm.Rd)!.TransitionTo(RealmState.SystemOff);
    }

    /// <summary>
    /// A copy of the realm's RIM. No RMI command reports it (RSI_MEASUREMENT_READ is realm side, not yet built),
    /// so this is the one read of RMM state the tests make; expected values come from <see cref="RimAfterRipas"/>.
    /// </summary>
    public static byte[] Rim(RmmTestHost host, RealmHandle realm) => (byte[])host.Rmm.RealmAt(realm.Rd)!.Measurements[0].Clone();

    /// <summary>The RIM after one RTT_INIT_RIPAS descriptor (type 2) per span (rmm-1.0.md §8.4), SHA-256.</summary>
    public static byte[] RimAfterRipas(byte[] rim, params (ulong Base, ulong Top)[] spans)
    {
        byte[] current = (byte[])rim.Clone();
        foreach ((ulong b, ulong t) in spans)
        {
            byte[] d = Descriptor(2, current);
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x50), b);
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x58), t);
            current = Slot(SHA256.HashData(d));
        }

        return current;
    }

    /// <summary>The RIM after one DATA_CREATE descriptor (type 0, rmm-1.0.md §8.2), SHA-256.</summary>
    public static byte[] RimAfterData(byte[] rim, ulong ipa, ulong flags, ReadOnlySpan<byte> contents)
    {
        byte[] d = Descriptor(0, rim);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x50), ipa);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x58), flags);
        if (flags == 1)
        {
            SHA256.HashData(contents).CopyTo(d.AsSpan(0x60));
        }

        return Slot(SHA256.HashData(d));
    }

    /// <summary>Fills an NS granule with a recognisable pattern and returns the bytes written.</summary>
    public static byte[] FillPattern(RmmTestHost host, ulong pa, byte seed)
    {
        byte[] page = new byte[RmmTestHost.GranuleSize];
        for (int i = 0; i < page.Length; i++)
        {
            page[i] = (byte)((i * 7) + seed);
        }

        host.Host.Write(pa, page);
        return page;
    }

    public static byte[] ReadNs(RmmTestHost host, ulong pa)
    {
        byte[] page = new byte[RmmTestHost.GranuleSize];
        host.Host.Read(pa, page);
        return page;
    }

    /// <summary>
    /// Everything a failed command could have changed that the tests can see: the state of every granule given
    /// (that is a valid granule address), the entries read at level 3 for every IPA given (that READ_ENTRY
    /// accepts) in every realm given, the granule counts per state and each realm's RIM.
    /// </summary>
    public static Snapshot Take(RmmTestHost host, RealmHandle[] realms, ulong[] granules, ulong[] ipas)
    {
        var lines = new List<string>();
        foreach (ulong pa in granules)
        {
            if (pa % RmmTestHost.GranuleSize == 0 && host.Platform.Memory.Contains(pa))
            {
                lines.Add($"granule 0x{pa:x} {host.StateOf(pa)}");
            }
        }

        foreach (GranuleState s in Enum.GetValues<GranuleState>())
        {
            lines.Add($"count {s} {host.Rmm.GranuleCount(s)}");
        }

        foreach (RealmHandle realm in realms)
        {
            if (host.Rmm.RealmAt(realm.Rd) is null)
            {
                continue;
            }

            lines.Add($"realm 0x{realm.Rd:x} RIM {Convert.ToHexString(Rim(host, realm))}");
            foreach (ulong ipa in ipas)
            {
                SmcResult r = host.Smc(RmiFunctionId.RmiRttReadEntry, realm.Rd, ipa & ~(L3Span - 1), 3);
                if (r.Status == RmiStatus.Success)
                {
                    lines.Add($"realm 0x{realm.Rd:x} entry 0x{ipa:x}: L{(long)r.X1} state {r.X2} desc 0x{r.X3:x} ripas {r.X4}");
                }
            }
        }

        return new Snapshot(lines);
    }

    private static byte[] Descriptor(byte type, byte[] rim)
    {
        byte[] d = new byte[0x100];
        d[0] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x08), 0x100);
        rim.AsSpan(0, 32).CopyTo(d.AsSpan(0x10));
        return d;
    }

    private static byte[] Slot(byte[] digest)
    {
        byte[] slot = new byte[64];
        digest.CopyTo(slot, 0);
        return slot;
    }
}

/// <summary>A textual picture of host-visible RMM state; equal snapshots compare line by line.</summary>
internal sealed record Snapshot(IReadOnlyList<string> Lines)
{
    public void AssertUnchanged(Snapshot after) => Assert.Equal(Lines, after.Lines);
}
