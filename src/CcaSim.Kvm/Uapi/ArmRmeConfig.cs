using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace CcaSim.Kvm.Uapi;

/// <summary>
/// The pre-v12 (v8–v11) sub-commands of <c>KVM_ENABLE_CAP(KVM_CAP_ARM_RMI)</c> in <c>args[0]</c> (kvm-realm-abi.md
/// §2.20). Only CONFIG_REALM is modelled, and only with <see cref="KvmHostOptions.PreV12RealmConfig"/> on.
/// </summary>
public static class KvmArmRmeSubCommand
{
    /// <summary>KVM_CAP_ARM_RME_CONFIG_REALM: <c>args[1]</c> points at a <see cref="KvmArmRmeConfig"/>.</summary>
    public const ulong ConfigRealm = 0;
}

/// <summary>The <c>cfg</c> item of <see cref="KvmArmRmeConfig"/> (ARM_RME_CONFIG_*).</summary>
public static class KvmArmRmeConfigItem
{
    /// <summary>ARM_RME_CONFIG_RPV: the union holds the 64-byte personalisation value.</summary>
    public const uint Rpv = 0;

    /// <summary>ARM_RME_CONFIG_HASH_ALGO: the union holds a u32 measurement algorithm.</summary>
    public const uint HashAlgo = 1;

    /// <summary>Size of the RPV in the union (and in RmiRealmParams).</summary>
    public const int RpvSize = 64;
}

/// <summary>ARM_RME_CONFIG_MEASUREMENT_ALGO_*: the same encoding as RmiRealmParams.hash_algo.</summary>
public static class KvmArmRmeMeasurementAlgo
{
    public const uint Sha256 = 0;
    public const uint Sha512 = 1;
}

/// <summary>
/// <c>struct arm_rme_config</c> (260 bytes): <c>u32 cfg</c>, then a 256-byte union whose first 64 bytes are the RPV
/// (cfg RPV) or whose first u32 is the hash algorithm (cfg HASH_ALGO).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmArmRmeConfig
{
    public uint Cfg;

    public UInt8x256 Union;

    /// <summary>The union read as <c>hash_algo</c>.</summary>
    public readonly uint HashAlgo => MemoryMarshal.Read<uint>(Union);

    /// <summary>A HASH_ALGO item for <paramref name="algorithm"/>.</summary>
    public static KvmArmRmeConfig ForHashAlgo(uint algorithm)
    {
        var config = new KvmArmRmeConfig { Cfg = KvmArmRmeConfigItem.HashAlgo };
        MemoryMarshal.Write(config.Union, in algorithm);
        return config;
    }

    /// <summary>An RPV item: <paramref name="rpv"/> (at most 64 bytes) zero padded to 64.</summary>
    public static KvmArmRmeConfig ForRpv(ReadOnlySpan<byte> rpv)
    {
        var config = new KvmArmRmeConfig { Cfg = KvmArmRmeConfigItem.Rpv };
        rpv[..Math.Min(rpv.Length, KvmArmRmeConfigItem.RpvSize)].CopyTo(config.Union);
        return config;
    }
}

/// <summary><c>__u8[256]</c>.</summary>
[InlineArray(256)]
public struct UInt8x256
{
    private byte _element;
}
