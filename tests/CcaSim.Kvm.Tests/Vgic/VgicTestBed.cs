using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vgic;

namespace CcaSim.Kvm.Tests.Vgic;

/// <summary>Builds GICv3 devices the way a VMM does (QEMU virt-like layout) and wraps guest MMIO for the tests.</summary>
internal static class VgicTestBed
{
    public const ulong DistBase = 0x0800_0000;
    public const ulong RedistBase = 0x080A_0000;
    public const int IpaBits = 40;

    public static Vgic3 Created(int vcpus = 2)
    {
        KvmResult r = Vgic3.Create((uint)KvmDeviceType.ArmVgicV3, 0, new VgicCreateContext(IpaBits, vcpus, IrqchipExists: false, AnyVcpuHasRun: false), out Vgic3? gic);
        Assert.True(r.IsSuccess, r.ToString());
        return gic!;
    }

    /// <summary>Addresses set, NR_IRQS (if given), CTRL_INIT and the first-run mapping done.</summary>
    public static Vgic3 Ready(int vcpus = 2, uint nrIrqs = 0)
    {
        Vgic3 gic = Created(vcpus);
        Assert.True(gic.SetDistributorBase(DistBase).IsSuccess);
        Assert.True(gic.SetRedistributorBase(RedistBase).IsSuccess);
        if (nrIrqs != 0)
        {
            Assert.True(gic.SetNrIrqs(nrIrqs).IsSuccess);
        }

        Assert.True(gic.Initialize().IsSuccess);
        Assert.True(gic.MapResources().IsSuccess);
        return gic;
    }

    public static ulong Read(this Vgic3 gic, ulong gpa, int size = 4, int vcpu = 0)
    {
        ulong data = 0xDEAD_BEEF_DEAD_BEEF;
        Assert.True(gic.TryHandleMmio(vcpu, gpa, isWrite: false, size, ref data), $"0x{gpa:X} is not a GIC frame");
        return data;
    }

    public static void Write(this Vgic3 gic, ulong gpa, ulong value, int size = 4, int vcpu = 0)
    {
        Assert.True(gic.TryHandleMmio(vcpu, gpa, isWrite: true, size, ref value), $"0x{gpa:X} is not a GIC frame");
    }

    public static ulong Gicd(uint offset) => DistBase + offset;

    public static ulong RdBase(int vcpu, uint offset) => RedistBase + ((ulong)vcpu * 0x2_0000) + offset;

    public static ulong SgiBase(int vcpu, uint offset) => RdBase(vcpu, 0x1_0000 + offset);

    /// <summary>What a guest's GIC driver does for one SPI: priority, enable, and the distributor enable.</summary>
    public static void EnableSpi(this Vgic3 gic, uint intid, byte priority = 0xA0)
    {
        gic.Write(Gicd(0x400 + intid), priority, size: 1);
        gic.Write(Gicd(0x100 + ((intid / 32) * 4)), 1UL << (int)(intid % 32));
        gic.Write(Gicd(0x0), 0x12);
    }

    public static void EnablePpi(this Vgic3 gic, int vcpu, uint intid, byte priority = 0xA0)
    {
        gic.Write(SgiBase(vcpu, 0x400 + intid), priority, size: 1);
        gic.Write(SgiBase(vcpu, 0x100), 1UL << (int)intid);
        gic.Write(Gicd(0x0), 0x12);
    }

    public static KvmResult Line(this Vgic3 gic, uint type, int vcpu, uint num, uint level) =>
        gic.IrqLine(new KvmIrqLevel { Irq = KvmArmIrqLine.Encode(type, vcpu, num), Level = level });

    public static ulong[] Flush(this Vgic3 gic, int vcpu, int numLrs, out int count, out ulong hcr)
    {
        ulong[] lrs = new ulong[16];
        Array.Fill(lrs, 0xFFFF_FFFF_FFFF_FFFFUL);
        count = gic.FlushToListRegisters(vcpu, lrs, numLrs, out hcr);
        return lrs;
    }
}
