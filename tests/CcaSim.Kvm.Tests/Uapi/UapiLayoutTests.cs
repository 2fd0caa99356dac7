using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Uapi;

public sealed class UapiLayoutTests
{
    private static int Offset<TStruct, TField>(ref TStruct s, ref TField field) =>
        (int)Unsafe.ByteOffset(ref Unsafe.As<TStruct, byte>(ref s), ref Unsafe.As<TField, byte>(ref field));

    [Fact]
    public void PsciComplete_Is24Bytes_WithSpecOffsets()
    {
        KvmArmRmiPsciComplete s = default;

        Assert.Equal(24, Unsafe.SizeOf<KvmArmRmiPsciComplete>());
        Assert.Equal(0, Offset(ref s, ref s.TargetMpidr));
        Assert.Equal(8, Offset(ref s, ref s.PsciStatus));
        Assert.Equal(12, Offset(ref s, ref s.Padding));
    }

    [Fact]
    public void ArmRmeConfig_Is260Bytes_WithTheUnionAfterTheCfgWord()
    {
        KvmArmRmeConfig s = KvmArmRmeConfig.ForHashAlgo(KvmArmRmeMeasurementAlgo.Sha512);
        byte[] image = new byte[260];
        Assert.True(UapiMarshal.Write(image, KvmArmRmeConfig.ForRpv("ab"u8)).IsSuccess);

        Assert.Equal(260, Unsafe.SizeOf<KvmArmRmeConfig>());
        Assert.Equal(4, Offset(ref s, ref s.Union));
        Assert.Equal(1u, s.HashAlgo);
        Assert.Equal(new byte[] { 0, 0, 0, 0, (byte)'a', (byte)'b', 0 }, image[..7]);
    }

    [Fact]
    public void Populate_Is32Bytes_WithSpecOffsets()
    {
        KvmArmRmiPopulate s = default;

        Assert.Equal(32, Unsafe.SizeOf<KvmArmRmiPopulate>());
        Assert.Equal(32, Marshal.SizeOf<KvmArmRmiPopulate>());
        Assert.Equal(0, Offset(ref s, ref s.Base));
        Assert.Equal(8, Offset(ref s, ref s.Size));
        Assert.Equal(16, Offset(ref s, ref s.SourceUaddr));
        Assert.Equal(24, Offset(ref s, ref s.Flags));
        Assert.Equal(28, Offset(ref s, ref s.Reserved));
    }

    [Fact]
    public void UserspaceMemoryRegion2_Is160Bytes_WithSpecOffsets()
    {
        KvmUserspaceMemoryRegion2 s = default;

        Assert.Equal(160, Unsafe.SizeOf<KvmUserspaceMemoryRegion2>());
        Assert.Equal(0, Offset(ref s, ref s.Slot));
        Assert.Equal(4, Offset(ref s, ref s.Flags));
        Assert.Equal(8, Offset(ref s, ref s.GuestPhysAddr));
        Assert.Equal(16, Offset(ref s, ref s.MemorySize));
        Assert.Equal(24, Offset(ref s, ref s.UserspaceAddr));
        Assert.Equal(32, Offset(ref s, ref s.GuestMemfdOffset));
        Assert.Equal(40, Offset(ref s, ref s.GuestMemfd));
        Assert.Equal(44, Offset(ref s, ref s.Pad1));
        Assert.Equal(48, Offset(ref s, ref s.Pad2));
        Assert.Equal(8 * 14, Unsafe.SizeOf<UInt64x14>());
    }

    [Fact]
    public void UserspaceMemoryRegionV1_Is32Bytes_WithItsOffsets()
    {
        KvmUserspaceMemoryRegion s = default;

        Assert.Equal(32, Unsafe.SizeOf<KvmUserspaceMemoryRegion>());
        Assert.Equal(4, Offset(ref s, ref s.Flags));
        Assert.Equal(8, Offset(ref s, ref s.GuestPhysAddr));
        Assert.Equal(16, Offset(ref s, ref s.MemorySize));
        Assert.Equal(24, Offset(ref s, ref s.UserspaceAddr));
    }

    [Fact]
    public void MemoryAttributes_Is32Bytes_WithSpecOffsets()
    {
        KvmMemoryAttributes s = default;

        Assert.Equal(32, Unsafe.SizeOf<KvmMemoryAttributes>());
        Assert.Equal(32, Marshal.SizeOf<KvmMemoryAttributes>());
        Assert.Equal(0, Offset(ref s, ref s.Address));
        Assert.Equal(8, Offset(ref s, ref s.Size));
        Assert.Equal(16, Offset(ref s, ref s.Attributes));
        Assert.Equal(24, Offset(ref s, ref s.Flags));
    }

    [Fact]
    public void CreateGuestMemfd_Is64Bytes_WithSpecOffsets()
    {
        KvmCreateGuestMemfd s = default;

        Assert.Equal(64, Unsafe.SizeOf<KvmCreateGuestMemfd>());
        Assert.Equal(0, Offset(ref s, ref s.Size));
        Assert.Equal(8, Offset(ref s, ref s.Flags));
        Assert.Equal(16, Offset(ref s, ref s.Reserved));
        Assert.Equal(8 * 6, Unsafe.SizeOf<UInt64x6>());
    }

    [Fact]
    public void RunMemoryFault_Is24Bytes_FlagsGpaSize()
    {
        KvmRunMemoryFault s = default;

        Assert.Equal(24, Unsafe.SizeOf<KvmRunMemoryFault>());
        Assert.Equal(0, Offset(ref s, ref s.Flags));
        Assert.Equal(8, Offset(ref s, ref s.Gpa));
        Assert.Equal(16, Offset(ref s, ref s.Size));
    }

    [Fact]
    public void Marshal_ReadsTheLittleEndianImage_FieldByField()
    {
        byte[] image = new byte[32];
        BitConverter.TryWriteBytes(image.AsSpan(0), 0x8000_0000UL);
        BitConverter.TryWriteBytes(image.AsSpan(8), 0x20_0000UL);
        BitConverter.TryWriteBytes(image.AsSpan(16), 0x1234_5000UL);
        BitConverter.TryWriteBytes(image.AsSpan(24), 1u);
        BitConverter.TryWriteBytes(image.AsSpan(28), 7u);

        KvmResult<KvmArmRmiPopulate> r = UapiMarshal.Read<KvmArmRmiPopulate>(image);

        Assert.True(r.IsSuccess);
        Assert.Equal(0x8000_0000UL, r.Value.Base);
        Assert.Equal(0x20_0000UL, r.Value.Size);
        Assert.Equal(0x1234_5000UL, r.Value.SourceUaddr);
        Assert.Equal(1u, r.Value.Flags);
        Assert.Equal(7u, r.Value.Reserved);
    }

    [Fact]
    public void Marshal_WriteThenRead_RoundTripsInlineArrays()
    {
        var region = new KvmUserspaceMemoryRegion2 { Slot = 3, GuestMemfd = 9, GuestMemfdOffset = 0x40_0000 };
        region.Pad2[13] = 0xDEAD;
        byte[] image = new byte[160];

        Assert.True(UapiMarshal.Write(image, region).IsSuccess);
        KvmUserspaceMemoryRegion2 back = UapiMarshal.Read<KvmUserspaceMemoryRegion2>(image).Value;

        Assert.Equal(0xDEADUL, BitConverter.ToUInt64(image, 152));
        Assert.Equal(3u, back.Slot);
        Assert.Equal(9u, back.GuestMemfd);
        Assert.Equal(0x40_0000UL, back.GuestMemfdOffset);
        Assert.Equal(0xDEADUL, back.Pad2[13]);
    }

    [Fact]
    public void Marshal_ShortBuffer_IsEfault()
    {
        Assert.Equal(Errno.EFAULT, UapiMarshal.Read<KvmCreateGuestMemfd>(new byte[63]).Error);
        Assert.Equal(Errno.EFAULT, UapiMarshal.Write(new byte[23], new KvmArmRmiPsciComplete()).Error);
    }
}
