using System.Buffers.Binary;
using CcaSim.Rmm.Measurement;
using CcaSim.Rmm.Recs;
using CcaSim.Rmm.Rsi;

namespace CcaSim.Rmm;

public sealed partial class RealmManagementMonitor
{
    private const int MeasurementRegisters = 8;

    /// <summary>
    /// RSI_MEASUREMENT_READ (§6, §8): index 0 (RIM) .. 4 (REMs) → x1..x8 hold the 64-byte slot, little-endian per
    /// register (zero-padded for SHA-256); index ≥ 5 → ERROR_INPUT.
    /// </summary>
    private static bool RsiMeasurementRead(Rec rec)
    {
        ulong index = rec.Context.X[1];
        if (index >= Realms.Realm.MeasurementSlots)
        {
            return Fail(rec);
        }

        byte[] slot = rec.Realm.Measurements[index];
        for (int i = 0; i < MeasurementRegisters; i++)
        {
            rec.Context.X[1 + i] = BinaryPrimitives.ReadUInt64LittleEndian(slot.AsSpan(8 * i));
        }

        rec.Context.X[0] = (ulong)RsiStatus.Success;
        rec.Context.Pc += SmcInstructionSize;
        return false;
    }

    /// <summary>
    /// RSI_MEASUREMENT_EXTEND (§6, §8.5), errors in ACS order: index_bound (0 or ≥ 5), size_bound (&gt; 64).
    /// REM = H(REM ‖ first size bytes of x3..x10, each little-endian).
    /// </summary>
    private static bool RsiMeasurementExtend(Rec rec)
    {
        ulong[] x = rec.Context.X;
        ulong index = x[1];
        ulong size = x[2];
        if (index == 0 || index >= Realms.Realm.MeasurementSlots || size > Measurements.SlotSize)
        {
            return Fail(rec);
        }

        Span<byte> data = stackalloc byte[Measurements.SlotSize];
        for (int i = 0; i < MeasurementRegisters; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(data[(8 * i)..], x[3 + i]);
        }

        Measurements.ExtendRem(rec.Realm.HashAlgorithm, rec.Realm.Measurements[index], data[..(int)size]);
        return Complete(rec, RsiStatus.Success);
    }
}
