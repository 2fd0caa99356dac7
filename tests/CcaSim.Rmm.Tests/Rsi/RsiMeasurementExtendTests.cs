using System.Buffers.Binary;
using System.Security.Cryptography;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_MEASUREMENT_EXTEND (index, size, x3..x10) (rmm-1.0.md §6, §8.5): ACS errors index_bound (0, ≥ 5), size_bound
/// (&gt; 64) → ERROR_INPUT. REM = H(REM ‖ first size bytes of x3..x10, each little-endian), read back with
/// MEASUREMENT_READ.
/// </summary>
public sealed class RsiMeasurementExtendTests
{
    /// <summary>§8.5 check value: SHA-256 realm, REM1 extended once with 8 bytes 0x1122334455667788 (LE).</summary>
    private const string CheckValue = "00a91a9cf7e514cf4d3546221b68e61d9f75f7a22288636bcc063081ddcaab3e";

    /// <summary>realm-platform.md §2.7: a REM extended once with 32 bytes of 0x11 = 8878b15a…5ef8.</summary>
    private const string GoldenSlot1 = "8878b15a7d6a3a4f464e8f9f42591dbc0cf4bedea0ec309003d2b2ee53655ef8";

    /// <summary>One row per ACS failure condition, in order (all ERROR_INPUT): index, size.</summary>
    public static TheoryData<string, ulong, ulong> Failures => new()
    {
        { "index_bound_0", 0, 8 },
        { "index_bound_5", 5, 8 },
        { "index_bound_max", ulong.MaxValue, 8 },
        { "size_bound_65", 1, 65 },
        { "size_bound_max", 4, ulong.MaxValue },
        { "index_bound_and_size_bound", 0, 65 },
    };

    [Theory]
    [MemberData(nameof(Failures))]
    public void MeasurementExtend_WhenConditionFails_ReturnsErrorInputAndLeavesMeasurements(string condition, ulong index, ulong size)
    {
        var realm = new RealmSide();
        byte[][] before = [.. realm.RealmState.Measurements.Select(m => (byte[])m.Clone())];

        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementExtend, RealmSide.Args(index, size));

        Assert.True((ulong)RsiStatus.ErrorInput == x[0], condition);
        Assert.Equal(before, realm.RealmState.Measurements);
    }

    [Fact]
    public void MeasurementExtend_WithTheSpecCheckValue_GivesTheGoldenRem()
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementExtend, 1, 8, 0x1122_3344_5566_7788);

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        Assert.Equal(CheckValue, ReadRem(realm, 1)[..64]);
        Assert.Equal(new string('0', 128), ReadRem(realm, 2));
    }

    [Fact]
    public void MeasurementExtend_WithThirtyTwoBytesOf0x11_GivesTheKvmUnitTestsGoldenValue()
    {
        var realm = new RealmSide();

        realm.CallInside(RsiFunctionId.RsiMeasurementExtend, [1, 32, .. Enumerable.Repeat(0x1111_1111_1111_1111UL, 4)]);

        Assert.Equal(GoldenSlot1 + new string('0', 64), ReadRem(realm, 1));
    }

    [Theory]
    [InlineData(1, 0)]
    [InlineData(2, 1)]
    [InlineData(3, 63)]
    [InlineData(4, 64)]
    public void MeasurementExtend_Twice_ChainsOverTheFirstSizeBytes(int index, int size)
    {
        var realm = new RealmSide();
        ulong[] data = [.. Enumerable.Range(0, 8).Select(i => 0x0101_0101_0101_0101UL * (ulong)(i + 1))];

        realm.CallInside(RsiFunctionId.RsiMeasurementExtend, [(ulong)index, (ulong)size, .. data]);
        realm.CallInside(RsiFunctionId.RsiMeasurementExtend, [(ulong)index, (ulong)size, .. data]);

        byte[] bytes = Bytes(data)[..size];
        byte[] rem = SHA256.HashData([.. SHA256.HashData([.. new byte[32], .. bytes]), .. bytes]);
        Assert.Equal(Convert.ToHexStringLower(rem) + new string('0', 64), ReadRem(realm, index));
    }

    [Fact]
    public void MeasurementExtend_OfASha512Realm_HashesTheWholeSixtyFourByteRem()
    {
        var realm = new RealmSide(new RealmParams { HashAlgo = 1 });
        ulong[] data = [.. Enumerable.Range(0, 8).Select(i => 0xF0E0_D0C0_B0A0_9080UL + (ulong)i)];

        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementExtend, [4, 64, .. data]);

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        Assert.Equal(Convert.ToHexStringLower(SHA512.HashData([.. new byte[64], .. Bytes(data)])), ReadRem(realm, 4));
    }

    /// <summary>The REM as MEASUREMENT_READ returns it, as 128 hex digits.</summary>
    private static string ReadRem(RealmSide realm, int index)
    {
        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementRead, (ulong)index);
        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        return Convert.ToHexStringLower(Bytes(x[1..9]));
    }

    private static byte[] Bytes(ulong[] registers)
    {
        byte[] bytes = new byte[8 * registers.Length];
        for (int i = 0; i < registers.Length; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 * i), registers[i]);
        }

        return bytes;
    }
}
