using System.Buffers.Binary;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Rmm.Measurement;

/// <summary>
/// Realm Initial Measurement and REM arithmetic (rmm-1.0.md §8). Every descriptor is hashed as a whole
/// zero-filled blob; integers are little-endian; a digest sits in a 64-byte slot with a zero tail.
/// </summary>
public static class Measurements
{
    public const int SlotSize = 64;
    public const int DescriptorSize = 0x100;
    public const int GranuleSize = 0x1000;

    private const byte DescTypeData = 0;
    private const byte DescTypeRec = 1;
    private const byte DescTypeRipas = 2;

    public static int HashSize(RmiHashAlgorithm algorithm) => algorithm == RmiHashAlgorithm.Sha256 ? 32 : 64;

    /// <summary>H(data) into the first hash-length bytes of <paramref name="slot"/>; the tail is zeroed.</summary>
    public static void Hash(RmiHashAlgorithm algorithm, ReadOnlySpan<byte> data, Span<byte> slot)
    {
        slot[..SlotSize].Clear();
        Digest.Hash(algorithm != RmiHashAlgorithm.Sha256, data, slot);
    }

    /// <summary>
    /// §8.1: RIM = H(4096-byte RmiRealmParams image holding only the measured fields: flags, s2sz, sve_vl,
    /// num_bps, num_wps, pmu_num_ctrs, hash_algo). The 8-bit fields are measured at their declared width.
    /// </summary>
    public static void InitRim(RmiHashAlgorithm algorithm, ulong flags, byte s2sz, byte sveVl, byte numBps, byte numWps, byte pmuNumCtrs, Span<byte> rim)
    {
        Span<byte> image = stackalloc byte[GranuleSize];
        image.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(image[RealmParamsLayout.Flags..], flags);
        image[RealmParamsLayout.S2sz] = s2sz;
        image[RealmParamsLayout.SveVl] = sveVl;
        image[RealmParamsLayout.NumBps] = numBps;
        image[RealmParamsLayout.NumWps] = numWps;
        image[RealmParamsLayout.PmuNumCtrs] = pmuNumCtrs;
        image[RealmParamsLayout.HashAlgo] = (byte)algorithm;
        Hash(algorithm, image, rim);
    }

    /// <summary>§8.2: extend the RIM with a DATA_CREATE descriptor; <paramref name="contents"/> is hashed only when measured.</summary>
    public static void ExtendData(RmiHashAlgorithm algorithm, Span<byte> rim, ulong ipa, bool measureContent, ReadOnlySpan<byte> contents)
    {
        Span<byte> desc = stackalloc byte[DescriptorSize];
        Header(desc, DescTypeData, rim, HashSize(algorithm));
        BinaryPrimitives.WriteUInt64LittleEndian(desc[0x50..], ipa);
        BinaryPrimitives.WriteUInt64LittleEndian(desc[0x58..], measureContent ? 1UL : 0UL);
        if (measureContent)
        {
            Hash(algorithm, contents, desc.Slice(0x60, SlotSize));
        }

        Hash(algorithm, desc, rim);
    }

    /// <summary>§8.3: extend the RIM with a REC_CREATE descriptor over the params image (flags, pc, gprs[0..7] only).</summary>
    public static void ExtendRec(RmiHashAlgorithm algorithm, Span<byte> rim, ulong flags, ulong pc, ReadOnlySpan<ulong> gprs)
    {
        Span<byte> image = stackalloc byte[GranuleSize];
        image.Clear();
        BinaryPrimitives.WriteUInt64LittleEndian(image[RecParamsLayout.Flags..], flags);
        BinaryPrimitives.WriteUInt64LittleEndian(image[RecParamsLayout.Pc..], pc);
        for (int i = 0; i < RecParamsLayout.NumGprs; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image[(RecParamsLayout.Gprs + (8 * i))..], gprs[i]);
        }

        Span<byte> desc = stackalloc byte[DescriptorSize];
        Header(desc, DescTypeRec, rim, HashSize(algorithm));
        Hash(algorithm, image, desc.Slice(0x50, SlotSize));
        Hash(algorithm, desc, rim);
    }

    /// <summary>§8.4: extend the RIM with one RTT_INIT_RIPAS descriptor for the entry spanning [base, top).</summary>
    public static void ExtendRipas(RmiHashAlgorithm algorithm, Span<byte> rim, ulong baseIpa, ulong topIpa)
    {
        Span<byte> desc = stackalloc byte[DescriptorSize];
        Header(desc, DescTypeRipas, rim, HashSize(algorithm));
        BinaryPrimitives.WriteUInt64LittleEndian(desc[0x50..], baseIpa);
        BinaryPrimitives.WriteUInt64LittleEndian(desc[0x58..], topIpa);
        Hash(algorithm, desc, rim);
    }

    /// <summary>§8.5: REM = H(REM_old[hash length] ‖ data).</summary>
    public static void ExtendRem(RmiHashAlgorithm algorithm, Span<byte> rem, ReadOnlySpan<byte> data)
    {
        int n = HashSize(algorithm);
        Span<byte> buffer = stackalloc byte[n + data.Length];
        rem[..n].CopyTo(buffer);
        data.CopyTo(buffer[n..]);
        Hash(algorithm, buffer, rem);
    }

    private static void Header(Span<byte> desc, byte type, ReadOnlySpan<byte> rim, int hashSize)
    {
        desc.Clear();
        desc[0] = type;
        BinaryPrimitives.WriteUInt64LittleEndian(desc[0x08..], DescriptorSize);
        rim[..hashSize].CopyTo(desc[0x10..]);
    }
}
