using System.Buffers.Binary;
using CcaSim.Rmm.Rsi;
using CcaSim.Rmm.Tests.Infrastructure;

namespace CcaSim.Rmm.Tests.Rsi;

/// <summary>
/// RSI_MEASUREMENT_READ (rmm-1.0.md §6, §8, §11 item 10): index 0 (RIM) .. 4 (REMs) returns the 64-byte slot in
/// x1..x8, little-endian per register, zero-padded for SHA-256 (x5..x8 are written with zero, not preserved);
/// index ≥ 5 → ERROR_INPUT.
/// </summary>
public sealed class RsiMeasurementReadTests
{
    public static TheoryData<ulong> BadIndexes => [5, 6, 0x100, ulong.MaxValue];

    [Theory]
    [MemberData(nameof(BadIndexes))]
    public void MeasurementRead_WhenIndexOutOfBound_ReturnsErrorInput(ulong index)
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementRead, RealmSide.Args(index));

        Assert.Equal((ulong)RsiStatus.ErrorInput, x[0]);
        Assert.Equal(RealmSide.Args(index)[3..8], x[4..9]);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void MeasurementRead_ForEachSlot_ReturnsTheSlotZeroPaddedForSha256(int index)
    {
        var realm = new RealmSide();
        if (index > 0)
        {
            realm.CallInside(RsiFunctionId.RsiMeasurementExtend, (ulong)index, 8, 0x1122_3344_5566_7788);
        }

        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementRead, RealmSide.Args((ulong)index));

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        byte[] expected = realm.RealmState.Measurements[index];
        Assert.True(expected.AsSpan(0, 32).ContainsAnyExcept((byte)0));
        Assert.Equal(Pack(expected), x[1..9]);
        Assert.Equal([0UL, 0UL, 0UL, 0UL], x[5..9]);
    }

    [Fact]
    public void MeasurementRead_OfASha512Realm_ReturnsAllSixtyFourBytes()
    {
        var realm = new RealmSide(new RealmParams { HashAlgo = 1 });

        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementRead, RealmSide.Args(0));

        Assert.Equal((ulong)RsiStatus.Success, x[0]);
        Assert.Equal(Pack(realm.RealmState.Measurements[0]), x[1..9]);
        Assert.All(x[5..9], v => Assert.NotEqual(0UL, v));
    }

    [Fact]
    public void MeasurementRead_OfAFreshRem_ReturnsZero()
    {
        var realm = new RealmSide();

        ulong[] x = realm.CallInside(RsiFunctionId.RsiMeasurementRead, RealmSide.Args(3));

        Assert.Equal(new ulong[9], x);
    }

    internal static ulong[] Pack(byte[] slot) =>
        [.. Enumerable.Range(0, 8).Select(i => BinaryPrimitives.ReadUInt64LittleEndian(slot.AsSpan(8 * i)))];
}
