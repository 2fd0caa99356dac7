using System.Buffers.Binary;
using CcaSim.Platform;
using CcaSim.Platform.Memory;
using CcaSim.Platform.Monitor;
using CcaSim.Rmm.Granules;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>
/// A host kernel in miniature: a small platform with an RMM behind its monitor, reached only through SMCs and
/// non-secure memory. After every SMC the RMM's invariants are checked and any violation fails the test.
/// Granules are handed out from a bump allocator so tests never collide on addresses.
/// </summary>
public sealed class RmmTestHost
{
    public const ulong PoolBase = 0x8000_0000;
    public const ulong PoolSize = 16UL << 20;
    public const ulong GranuleSize = 0x1000;

    private static long s_invariantChecks;
    private int _nextGranule;

    static RmmTestHost()
    {
        // Lets a run report how many invariant checks it made: CCASIM_INVARIANT_COUNT_FILE=path ./scripts/test.sh
        string? report = Environment.GetEnvironmentVariable("CCASIM_INVARIANT_COUNT_FILE");
        if (!string.IsNullOrEmpty(report))
        {
            AppDomain.CurrentDomain.ProcessExit += (_, _) => File.WriteAllText(report, $"{InvariantChecks}\n");
        }
    }

    public RmmTestHost(RmmConfig? config = null, PlatformOptions? platform = null)
    {
        Platform = new CcaPlatform(platform ?? new PlatformOptions { MemoryBase = PoolBase, MemorySize = PoolSize });
        Rmm = RealmManagementMonitor.Boot(Platform.Monitor, config, Platform.Interrupts);
    }

    /// <summary>Total invariant checks run by every host in this test run.</summary>
    public static long InvariantChecks => Interlocked.Read(ref s_invariantChecks);

    public CcaPlatform Platform { get; }

    public RealmManagementMonitor Rmm { get; }

    public MemoryAccessor Host => Platform.HostMemory;

    /// <summary>Address of granule <paramref name="n"/> of the pool.</summary>
    public ulong G(int n) => Platform.Memory.Base + ((ulong)n * GranuleSize);

    /// <summary>A fresh, never-used non-secure granule.</summary>
    public ulong NsGranule() => G(_nextGranule++);

    /// <summary>A fresh granule, delegated.</summary>
    public ulong Delegated()
    {
        ulong pa = NsGranule();
        Expect(Smc(RmiFunctionId.RmiGranuleDelegate, pa), RmiStatus.Success);
        return pa;
    }

    /// <summary><paramref name="count"/> consecutive fresh granules, delegated (concatenated roots, blocks).</summary>
    public ulong DelegatedRun(int count, ulong alignment = GranuleSize)
    {
        while (G(_nextGranule) % alignment != 0)
        {
            _nextGranule++;
        }

        ulong first = G(_nextGranule);
        for (int i = 0; i < count; i++)
        {
            Expect(Smc(RmiFunctionId.RmiGranuleDelegate, NsGranule()), RmiStatus.Success);
        }

        return first;
    }

    /// <summary>Issues an RMI SMC through the monitor and checks the RMM's invariants afterwards.</summary>
    public SmcResult Smc(RmiFunctionId fid, params ulong[] args) => Smc((ulong)fid, args);

    public SmcResult Smc(ulong fid, params ulong[] args)
    {
        SmcRegisters r = default;
        r[0] = fid;
        for (int i = 0; i < args.Length; i++)
        {
            r[i + 1] = args[i];
        }

        Platform.Monitor.Smc(ref r);
        AssertInvariants();
        return new SmcResult(r[0], r[1], r[2], r[3], r[4]);
    }

    public void AssertInvariants()
    {
        Interlocked.Increment(ref s_invariantChecks);
        IReadOnlyList<string> errors = Rmm.CheckInvariants(Platform.Gpt, Host);
        Assert.True(errors.Count == 0, "RMM invariants violated:\n" + string.Join('\n', errors));
    }

    public GranuleState StateOf(ulong pa) => Rmm.GranuleStateOf(pa);

    public void Write64(ulong pa, ulong value) => Host.Write64(pa, value);

    public ulong Read64(ulong pa) => Host.Read64(pa);

    public static void Expect(SmcResult result, RmiStatus status, int index = 0)
    {
        Assert.True(result.Status == status && result.Index == index,
            $"expected {status}({index}), got {result.Status}({result.Index}) [x0=0x{result.X0:x}]");
    }

    // ---- Realm construction (what KVM's realm_create_rd does) ----

    /// <summary>Writes RmiRealmParams into a fresh NS granule and returns its address.</summary>
    public ulong WriteRealmParams(RealmParams p)
    {
        ulong pa = NsGranule();
        Span<byte> page = stackalloc byte[(int)GranuleSize];
        page.Clear();
        p.Encode(page);
        Host.Write(pa, page);
        return pa;
    }

    /// <summary>Creates a realm (RD and roots delegated here unless given) and asserts success.</summary>
    public RealmHandle CreateRealm(RealmParams? p = null)
    {
        p ??= new RealmParams();
        ulong rd = Delegated();
        if (p.RttBase == 0)
        {
            p.RttBase = DelegatedRun((int)p.RttNumStart);
        }

        ulong paramsPa = WriteRealmParams(p);
        Expect(Smc(RmiFunctionId.RmiRealmCreate, rd, paramsPa), RmiStatus.Success);
        return new RealmHandle(rd, p, paramsPa);
    }

    /// <summary>Creates the RTTs from the start level + 1 down to <paramref name="level"/> covering <paramref name="ipa"/>.</summary>
    public void CreateRtts(RealmHandle realm, ulong ipa, int level)
    {
        for (int l = (int)realm.Params.RttLevelStart + 1; l <= level; l++)
        {
            ulong aligned = ipa & ~(Span(l - 1) - 1);
            SmcResult probe = Smc(RmiFunctionId.RmiRttReadEntry, realm.Rd, aligned, (ulong)(l - 1));
            if (probe.X2 == (ulong)RmiRttEntryState.Table)
            {
                continue;
            }

            Expect(Smc(RmiFunctionId.RmiRttCreate, realm.Rd, Delegated(), aligned, (ulong)l), RmiStatus.Success);
        }
    }

    /// <summary>RMI_RTT_READ_ENTRY, asserting success.</summary>
    public (int Level, RmiRttEntryState State, ulong Desc, ulong Ripas) ReadEntry(RealmHandle realm, ulong ipa, int level)
    {
        SmcResult r = Smc(RmiFunctionId.RmiRttReadEntry, realm.Rd, ipa, (ulong)level);
        Expect(r, RmiStatus.Success);
        return ((int)(long)r.X1, (RmiRttEntryState)r.X2, r.X3, r.X4);
    }

    /// <summary>Writes RmiRecParams into a fresh NS granule and returns its address.</summary>
    public ulong WriteRecParams(RecParams p)
    {
        ulong pa = NsGranule();
        Span<byte> page = stackalloc byte[(int)GranuleSize];
        page.Clear();
        p.Encode(page);
        Host.Write(pa, page);
        return pa;
    }

    /// <summary>Creates a REC with fresh aux granules and asserts success.</summary>
    public ulong CreateRec(RealmHandle realm, ulong mpidr = 0, bool runnable = true, ulong pc = 0x8_0000)
    {
        ulong rec = Delegated();
        var p = new RecParams { Mpidr = mpidr, Runnable = runnable, Pc = pc, NumAux = RealmManagementMonitor.RecAuxCount };
        for (int i = 0; i < p.Aux.Length; i++)
        {
            p.Aux[i] = Delegated();
        }

        Expect(Smc(RmiFunctionId.RmiRecCreate, realm.Rd, rec, WriteRecParams(p)), RmiStatus.Success);
        return rec;
    }

    public static ulong Span(int level) => 1UL << (12 + (9 * (3 - level)));
}

/// <summary>The raw result registers of an SMC.</summary>
public readonly record struct SmcResult(ulong X0, ulong X1, ulong X2, ulong X3, ulong X4)
{
    public RmiStatus Status => RmiReturn.Status(X0);

    public int Index => RmiReturn.Index(X0);
}

/// <summary>A realm the host created: its RD and the parameters it was created with.</summary>
public sealed record RealmHandle(ulong Rd, RealmParams Params, ulong ParamsPa);

/// <summary>RmiRealmParams (rmm-1.0.md §4.1) as a test writes it.</summary>
public sealed class RealmParams
{
    public ulong Flags { get; set; }
    public byte S2sz { get; set; } = 48;
    public byte SveVl { get; set; }
    public byte NumBps { get; set; } = 1;
    public byte NumWps { get; set; } = 1;
    public byte PmuNumCtrs { get; set; }
    public byte HashAlgo { get; set; }
    public byte[] Rpv { get; set; } = new byte[64];
    public ushort Vmid { get; set; }
    public ulong RttBase { get; set; }
    public long RttLevelStart { get; set; }
    public uint RttNumStart { get; set; } = 1;

    public void Encode(Span<byte> page)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(page[RealmParamsLayout.Flags..], Flags);
        page[RealmParamsLayout.S2sz] = S2sz;
        page[RealmParamsLayout.SveVl] = SveVl;
        page[RealmParamsLayout.NumBps] = NumBps;
        page[RealmParamsLayout.NumWps] = NumWps;
        page[RealmParamsLayout.PmuNumCtrs] = PmuNumCtrs;
        page[RealmParamsLayout.HashAlgo] = HashAlgo;
        Rpv.CopyTo(page[RealmParamsLayout.Rpv..]);
        BinaryPrimitives.WriteUInt16LittleEndian(page[RealmParamsLayout.Vmid..], Vmid);
        BinaryPrimitives.WriteUInt64LittleEndian(page[RealmParamsLayout.RttBase..], RttBase);
        BinaryPrimitives.WriteInt64LittleEndian(page[RealmParamsLayout.RttLevelStart..], RttLevelStart);
        BinaryPrimitives.WriteUInt32LittleEndian(page[RealmParamsLayout.RttNumStart..], RttNumStart);
    }
}

/// <summary>RmiRecParams (rmm-1.0.md §4.2) as a test writes it.</summary>
public sealed class RecParams
{
    public bool Runnable { get; set; } = true;
    public ulong Mpidr { get; set; }
    public ulong Pc { get; set; }
    public ulong[] Gprs { get; } = new ulong[8];
    public ulong NumAux { get; set; } = 16;
    public ulong[] Aux { get; } = new ulong[16];

    public void Encode(Span<byte> page)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(page[RecParamsLayout.Flags..], Runnable ? RecParamsLayout.FlagRunnable : 0);
        BinaryPrimitives.WriteUInt64LittleEndian(page[RecParamsLayout.Mpidr..], Mpidr);
        BinaryPrimitives.WriteUInt64LittleEndian(page[RecParamsLayout.Pc..], Pc);
        for (int i = 0; i < Gprs.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(page[(RecParamsLayout.Gprs + (8 * i))..], Gprs[i]);
        }

        BinaryPrimitives.WriteUInt64LittleEndian(page[RecParamsLayout.NumAux..], NumAux);
        for (int i = 0; i < Aux.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(page[(RecParamsLayout.Aux + (8 * i))..], Aux[i]);
        }
    }
}
