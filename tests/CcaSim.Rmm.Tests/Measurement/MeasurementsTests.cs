using System.Buffers.Binary;
using System.Security.Cryptography;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Rmi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Measurement;

/// <summary>
/// RIM and REM arithmetic (rmm-1.0.md §8, attestation.md §5): known answers, and an independent re-computation of
/// the RIM from descriptors built byte by byte here with System.Security.Cryptography.
/// </summary>
public sealed class MeasurementsTests
{
    /// <summary>attestation.md §5: params only, s2sz 48, num_bps = num_wps = 1, everything else 0, SHA-256.</summary>
    private const string KnownRimSha256 = "6739dfb22b75ee1268d08dfa8369f501bc0b066243553f069f560d1fa1172973";

    [Fact]
    public void InitialRim_ThroughRealmCreate_MatchesKnownAnswer()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { S2sz = 48, NumBps = 1, NumWps = 1, HashAlgo = 0, Vmid = 0x55, RttLevelStart = 0, RttNumStart = 1 });

        byte[] rim = RealmLifecycleHelpers.Rim(host, realm.Rd);

        Assert.Equal(KnownRimSha256, Convert.ToHexStringLower(rim[..32]));
        Assert.All(rim[32..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void InitialRim_ThroughInitRim_MatchesKnownAnswer()
    {
        byte[] rim = new byte[64];
        rim.AsSpan().Fill(0xEE);

        Measurements.InitRim(RmiHashAlgorithm.Sha256, 0, 48, 0, 1, 1, 0, rim);

        Assert.Equal(KnownRimSha256, Convert.ToHexStringLower(rim[..32]));
        Assert.All(rim[32..], b => Assert.Equal(0, b));
    }

    [Fact]
    public void InitialRim_WithSha512_IsA64ByteDigestOfTheParamsImageAndDiffersFromSha256()
    {
        byte[] rim = new byte[64];
        Measurements.InitRim(RmiHashAlgorithm.Sha512, 0, 48, 0, 1, 1, 0, rim);

        byte[] expected = SHA512.HashData(ParamsImage(0, 48, 0, 1, 1, 0, 1));
        Assert.Equal(expected, rim);
        Assert.Contains(rim[32..], b => b != 0);
        Assert.NotEqual(KnownRimSha256, Convert.ToHexStringLower(rim[..32]));

        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { HashAlgo = 1 });
        Assert.Equal(expected, RealmLifecycleHelpers.Rim(host, realm.Rd));
    }

    [Fact]
    public void InitialRim_MeasuresSveVlAndPmuCountersEvenWhenTheirFlagsAreClear()
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { SveVl = 5, PmuNumCtrs = 7, Rpv = [.. Enumerable.Repeat((byte)0xAB, 64)] });

        byte[] rim = RealmLifecycleHelpers.Rim(host, realm.Rd);

        Assert.Equal(Slot(SHA256.HashData(ParamsImage(0, 48, 5, 1, 1, 7, 0))), rim);
        Assert.NotEqual(KnownRimSha256, Convert.ToHexStringLower(rim[..32]));
    }

    [Fact]
    public void RemExtend_CheckValue_MatchesSpec()
    {
        byte[] rem = new byte[64];
        byte[] value = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(value, 0x1122334455667788);

        Measurements.ExtendRem(RmiHashAlgorithm.Sha256, rem, value);

        string hex = Convert.ToHexStringLower(rem[..32]);
        Assert.StartsWith("00a91a9c", hex, StringComparison.Ordinal);
        Assert.EndsWith("caab3e", hex, StringComparison.Ordinal);
        Assert.Equal(SHA256.HashData([.. new byte[32], .. value]), rem[..32]);
        Assert.All(rem[32..], b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    public void Rim_AfterConstructionSequence_MatchesIndependentRecomputation(byte hashAlgo)
    {
        var host = new RmmTestHost();
        RealmHandle realm = host.CreateRealm(new RealmParams { HashAlgo = hashAlgo, Vmid = 9 });
        ulong rd = realm.Rd;
        byte[] expected = Slot(Hash(hashAlgo, ParamsImage(0, 48, 0, 1, 1, 0, hashAlgo)));
        Assert.Equal(expected, RealmLifecycleHelpers.Rim(host, rd));

        // RTT_INIT_RIPAS over three level-3 entries: one descriptor per entry.
        host.CreateRtts(realm, 0, 3);
        SmcResult init = host.Smc(RmiFunctionId.RmiRttInitRipas, rd, 0, 0x3000);
        RmmTestHost.Expect(init, RmiStatus.Success);
        Assert.Equal(0x3000UL, init.X1);
        for (ulong ipa = 0; ipa < 0x3000; ipa += 0x1000)
        {
            expected = Extend(hashAlgo, RipasDescriptor(hashAlgo, expected, ipa, ipa + 0x1000));
        }

        Assert.Equal(expected, RealmLifecycleHelpers.Rim(host, rd));

        // DATA_CREATE, content measured.
        byte[] content = [.. Enumerable.Range(0, 4096).Select(i => (byte)(i * 7))];
        ulong src = host.NsGranule();
        host.Host.Write(src, content);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreate, rd, host.Delegated(), 0x1000, src, 1), RmiStatus.Success);
        expected = Extend(hashAlgo, DataDescriptor(hashAlgo, expected, 0x1000, 1, content));
        Assert.Equal(expected, RealmLifecycleHelpers.Rim(host, rd));

        // DATA_CREATE, content not measured (the IPA and flags still are).
        byte[] other = [.. Enumerable.Range(0, 4096).Select(i => (byte)(i ^ 0x5A))];
        ulong src2 = host.NsGranule();
        host.Host.Write(src2, other);
        RmmTestHost.Expect(host.Smc(RmiFunctionId.RmiDataCreate, rd, host.Delegated(), 0x2000, src2, 0), RmiStatus.Success);
        expected = Extend(hashAlgo, DataDescriptor(hashAlgo, expected, 0x2000, 0, other));
        Assert.Equal(expected, RealmLifecycleHelpers.Rim(host, rd));

        // REC_CREATE runnable: flags, pc and gprs[0..7] measured; MPIDR and aux not.
        ulong[] gprs = [0x8000_1000, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77];
        RmmTestHost.Expect(CreateRec(host, rd, mpidr: 0, runnable: true, pc: 0x8_0000, gprs), RmiStatus.Success);
        expected = Extend(hashAlgo, RecDescriptor(hashAlgo, expected, 1, 0x8_0000, gprs));
        Assert.Equal(expected, RealmLifecycleHelpers.Rim(host, rd));

        // REC_CREATE not runnable: the RIM does not change.
        RmmTestHost.Expect(CreateRec(host, rd, mpidr: 1, runnable: false, pc: 0x9_0000, gprs), RmiStatus.Success);
        Assert.Equal(expected, RealmLifecycleHelpers.Rim(host, rd));
    }

    [Fact]
    public void Rim_WhenOnlyRecCreationOrderDiffers_Differs()
    {
        byte[] RimAfter(ulong firstPc, ulong secondPc)
        {
            var host = new RmmTestHost();
            RealmHandle realm = host.CreateRealm();
            RmmTestHost.Expect(CreateRec(host, realm.Rd, 0, true, firstPc, new ulong[8]), RmiStatus.Success);
            RmmTestHost.Expect(CreateRec(host, realm.Rd, 1, true, secondPc, new ulong[8]), RmiStatus.Success);
            return RealmLifecycleHelpers.Rim(host, realm.Rd);
        }

        Assert.NotEqual(RimAfter(0x1000, 0x2000), RimAfter(0x2000, 0x1000));
    }

    private static SmcResult CreateRec(RmmTestHost host, ulong rd, ulong mpidr, bool runnable, ulong pc, ulong[] gprs)
    {
        var p = new RecParams { Mpidr = mpidr, Runnable = runnable, Pc = pc, NumAux = RealmManagementMonitor.RecAuxCount };
        gprs.CopyTo(p.Gprs, 0);
        for (int i = 0; i < p.Aux.Length; i++)
        {
            p.Aux[i] = host.Delegated();
        }

        return host.Smc(RmiFunctionId.RmiRecCreate, rd, host.Delegated(), host.WriteRecParams(p));
    }

    // ---- Independent implementation of §8.1–§8.4 ----

    private static byte[] Hash(byte algo, byte[] data) => algo == 0 ? SHA256.HashData(data) : SHA512.HashData(data);

    /// <summary>A digest in a 64-byte slot with a zero tail.</summary>
    private static byte[] Slot(byte[] digest)
    {
        byte[] slot = new byte[64];
        digest.CopyTo(slot, 0);
        return slot;
    }

    private static byte[] Extend(byte algo, byte[] descriptor) => Slot(Hash(algo, descriptor));

    private static void Put64(byte[] buffer, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(buffer.AsSpan(offset), value);

    /// <summary>§8.1: the 4096-byte RmiRealmParams image holding only the measured fields.</summary>
    private static byte[] ParamsImage(ulong flags, byte s2sz, byte sveVl, byte bps, byte wps, byte pmuCtrs, byte hashAlgo)
    {
        byte[] image = new byte[4096];
        Put64(image, 0x00, flags);
        Put64(image, 0x08, s2sz);
        Put64(image, 0x10, sveVl);
        Put64(image, 0x18, bps);
        Put64(image, 0x20, wps);
        Put64(image, 0x28, pmuCtrs);
        image[0x30] = hashAlgo;
        return image;
    }

    /// <summary>Type byte, length 0x100 and the current RIM (hash-length bytes) of every 256-byte descriptor.</summary>
    private static byte[] DescriptorHeader(byte algo, byte type, byte[] rim)
    {
        byte[] d = new byte[256];
        d[0] = type;
        Put64(d, 0x08, 0x100);
        Array.Copy(rim, 0, d, 0x10, algo == 0 ? 32 : 64);
        return d;
    }

    /// <summary>§8.2, type 0.</summary>
    private static byte[] DataDescriptor(byte algo, byte[] rim, ulong ipa, ulong flags, byte[] content)
    {
        byte[] d = DescriptorHeader(algo, 0, rim);
        Put64(d, 0x50, ipa);
        Put64(d, 0x58, flags);
        if (flags == 1)
        {
            Hash(algo, content).CopyTo(d, 0x60);
        }

        return d;
    }

    /// <summary>§8.3, type 1: content = H(4096-byte RmiRecParams image with only flags, pc and gprs[0..7]).</summary>
    private static byte[] RecDescriptor(byte algo, byte[] rim, ulong flags, ulong pc, ulong[] gprs)
    {
        byte[] image = new byte[4096];
        Put64(image, 0x000, flags);
        Put64(image, 0x200, pc);
        for (int i = 0; i < 8; i++)
        {
            Put64(image, 0x300 + (8 * i), gprs[i]);
        }

        byte[] d = DescriptorHeader(algo, 1, rim);
        Hash(algo, image).CopyTo(d, 0x50);
        return d;
    }

    /// <summary>§8.4, type 2: one descriptor per RTT entry with base/top = that entry's span.</summary>
    private static byte[] RipasDescriptor(byte algo, byte[] rim, ulong baseIpa, ulong top)
    {
        byte[] d = DescriptorHeader(algo, 2, rim);
        Put64(d, 0x50, baseIpa);
        Put64(d, 0x58, top);
        return d;
    }
}
