using System.Buffers.Binary;
using System.Security.Cryptography;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using CcaSim.Rmm;

namespace CcaSim.Kvm.Tests;

/// <summary>
/// The whole v12 VMM sequence (kvm-realm-abi.md §3.1, steps 1–8) against KVM, the RMM and the scripted realm: the
/// realm's first instruction runs at the kernel entry with X0 = the DTB, and the RIM it reads equals a computation
/// of rmm-1.0.md §8 made here from first principles.
/// </summary>
public sealed class V12VmmSequenceTests
{
    private const ulong RsiMeasurementRead = 0xC400_0192;
    private const ulong RamSize = 16UL << 20;
    private const ulong KernelGpa = RealmVmm.RamBase + 0x8_0000;
    private const int KernelPages = 3;
    private const ulong DtbGpa = RealmVmm.RamBase + RamSize - (2UL << 20);

    [Fact]
    public void V12Sequence_ReachesTheFirstInstructionWithTheIndependentlyComputedRim()
    {
        var bed = new KvmTestBed();

        // 1. The capability, then a realm VM with one IPA bit above RAM for the shared alias (33 bits).
        Assert.Equal(1, bed.Kvm.CheckExtension(bed.KvmFd, KvmCapabilityNumbers.ArmRmiV12).ReturnValue);

        // 2–5. GICv3, two vCPUs (vCPU 1 off until CPU_ON), guest_memfd + memslot over RAM, RAM PRIVATE.
        var vmm = new RealmVmm(bed, RamSize, ipaBits: 33, vcpus: 2);

        // 6. Images into the VMM's buffer; PC = kernel entry, X0 = DTB.
        byte[] kernel = Pattern(KernelPages * 4096, 0x4B);
        byte[] dtb = Pattern(4096, 0xD7);
        vmm.Stage(KernelGpa, kernel);
        vmm.Stage(DtbGpa, dtb);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.Pc, KernelGpa).ReturnValue);
        Assert.Equal(0, vmm.SetReg(0, ArmRegisterId.X(0), DtbGpa).ReturnValue);

        // 7. Populate each region, in GPA order, measured.
        vmm.Populate(KernelGpa, (ulong)kernel.Length);
        vmm.Populate(DtbGpa, (ulong)dtb.Length);

        // 8. The first KVM_RUN activates; the realm's first instruction reads the RIM.
        ulong[]? rim = null;
        bed.Script.CallCompleted += (call, x) => rim = call.FunctionId == RsiMeasurementRead ? x : rim;
        bed.Script.Enqueue(RsiMeasurementRead, 0);
        Assert.Equal(-(long)Errno.EINTR, vmm.RunVcpu(0).ReturnValue);

        (ulong mpidr, ulong pc, ulong[] x) = bed.Engine.Entries[0];
        Assert.Equal(0UL, mpidr & 0xFF_FFFF);
        Assert.Equal(KernelGpa, pc);
        Assert.Equal(DtbGpa, x[0]);
        Assert.NotNull(rim);
        Assert.Equal(0UL, rim[0]);
        Assert.Equal(Convert.ToHexString(ExpectedRim(kernel, dtb)), Convert.ToHexString(RimBytes(rim)));

        vmm.Close();
        bed.AssertNoLeaks();
    }

    /// <summary>
    /// rmm-1.0.md §8 by hand, SHA-256: the initial RIM over the measured params fields (§8.1), one DATA descriptor per
    /// populated page (§8.2), one REC descriptor for the runnable REC 0 (§8.3), then one RIPAS descriptor per RTT
    /// entry INIT_RIPAS processed (§8.4) — the entries v12's activation walk meets over [RAM base, RAM end) (§2.7):
    /// level-3 entries in the two tables populate created, skipping the populated ones (v12 skips one 4 KiB entry per
    /// ASSIGNED error), and 2 MiB level-2 entries between them.
    /// </summary>
    private static byte[] ExpectedRim(byte[] kernel, byte[] dtb)
    {
        FeatureRegister0 features = FeatureRegister0.ReferenceHostBuild;
        byte[] realmParams = new byte[4096];
        BinaryPrimitives.WriteUInt32LittleEndian(realmParams.AsSpan(0x08), 33);
        BinaryPrimitives.WriteUInt32LittleEndian(realmParams.AsSpan(0x18), (uint)features.NumBps);
        BinaryPrimitives.WriteUInt32LittleEndian(realmParams.AsSpan(0x20), (uint)features.NumWps);
        byte[] rim = SHA256.HashData(realmParams);

        for (int i = 0; i < KernelPages; i++)
        {
            rim = Extend(rim, 0, KernelGpa + ((ulong)i * 4096), 1, SHA256.HashData(kernel.AsSpan(i * 4096, 4096)));
        }

        rim = Extend(rim, 0, DtbGpa, 1, SHA256.HashData(dtb));

        byte[] recParams = new byte[4096];
        recParams[0] = 1;
        BinaryPrimitives.WriteUInt64LittleEndian(recParams.AsSpan(0x200), KernelGpa);
        BinaryPrimitives.WriteUInt64LittleEndian(recParams.AsSpan(0x300), DtbGpa);
        rim = Extend(rim, 1, 0, 0, SHA256.HashData(recParams));

        ulong ram = RealmVmm.RamBase;
        (ulong Base, ulong Top, ulong Step)[] entries =
        [
            (ram, KernelGpa, 0x1000),
            (KernelGpa + (KernelPages * 0x1000UL), ram + 0x20_0000, 0x1000),
            (ram + 0x20_0000, DtbGpa, 0x20_0000),
            (DtbGpa + 0x1000, ram + RamSize, 0x1000),
        ];
        foreach ((ulong from, ulong to, ulong step) in entries)
        {
            for (ulong a = from; a < to; a += step)
            {
                rim = ExtendRipas(rim, a, a + step);
            }
        }

        return rim;
    }

    /// <summary>A DATA (type 0) or REC (type 1) descriptor: type, length 0x100, the current RIM, then the type's fields.</summary>
    private static byte[] Extend(byte[] rim, byte type, ulong ipa, ulong flags, byte[] contentHash)
    {
        byte[] d = Descriptor(type, rim);
        if (type == 0)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x50), ipa);
            BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x58), flags);
            contentHash.CopyTo(d, 0x60);
        }
        else
        {
            contentHash.CopyTo(d, 0x50);
        }

        return SHA256.HashData(d);
    }

    private static byte[] ExtendRipas(byte[] rim, ulong baseIpa, ulong top)
    {
        byte[] d = Descriptor(2, rim);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x50), baseIpa);
        BinaryPrimitives.WriteUInt64LittleEndian(d.AsSpan(0x58), top);
        return SHA256.HashData(d);
    }

    private static byte[] Descriptor(byte type, byte[] rim)
    {
        byte[] d = new byte[256];
        d[0] = type;
        d[8] = 0x00;
        d[9] = 0x01;
        rim.CopyTo(d, 0x10);
        return d;
    }

    /// <summary>RSI_MEASUREMENT_READ returns the slot bytes packed little-endian into x1..x8; SHA-256 uses the first 32.</summary>
    private static byte[] RimBytes(ulong[] x)
    {
        byte[] bytes = new byte[64];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(8 * i), x[i + 1]);
        }

        return bytes[..32];
    }

    private static byte[] Pattern(int length, byte seed)
    {
        byte[] b = new byte[length];
        for (int i = 0; i < length; i++)
        {
            b[i] = (byte)((i * 31) ^ seed);
        }

        return b;
    }
}
