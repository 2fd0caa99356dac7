using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vgic;
using static CcaSim.Kvm.Tests.Vgic.VgicTestBed;

namespace CcaSim.Kvm.Tests.Vgic;

/// <summary>KVM_IRQ_LINE with an in-kernel GICv3 (kvm_vm_ioctl_irq_line, kvm_vgic_inject_irq).</summary>
public sealed class Vgic3IrqLineTests
{
    private const uint Spi = KvmArmIrqLine.TypeSpi;
    private const uint Ppi = KvmArmIrqLine.TypePpi;
    private const uint Cpu = KvmArmIrqLine.TypeCpu;

    // type, vcpu, num, expected on an initialised 2-vCPU GIC with NR_IRQS = 128
    public static TheoryData<uint, int, uint, Errno> Rules => new()
    {
        { Spi, 0, 32, Errno.None },
        { Spi, 0, 127, Errno.None },
        { Spi, 7, 40, Errno.None },
        { Spi, 0, 128, Errno.EINVAL },
        { Spi, 0, 1019, Errno.EINVAL },
        { Spi, 0, 8192, Errno.EINVAL },
        { Spi, 0, 31, Errno.EINVAL },
        { Spi, 0, 0, Errno.EINVAL },
        { Ppi, 0, 16, Errno.None },
        { Ppi, 1, 27, Errno.None },
        { Ppi, 1, 31, Errno.None },
        { Ppi, 2, 27, Errno.EINVAL },
        { Ppi, 256, 27, Errno.EINVAL },
        { Ppi, 0, 15, Errno.EINVAL },
        { Ppi, 0, 32, Errno.EINVAL },
        { Ppi, 0, 0, Errno.EINVAL },
        { Cpu, 0, 0, Errno.ENXIO },
        { Cpu, 0, 1, Errno.ENXIO },
        { 3, 0, 40, Errno.EINVAL },
        { 15, 0, 40, Errno.EINVAL },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void IrqLine_ValidatesTypeVcpuAndNumber(uint type, int vcpu, uint num, Errno expected)
    {
        Vgic3 gic = Ready(vcpus: 2, nrIrqs: 128);

        Assert.Equal(expected, gic.Line(type, vcpu, num, 1).Error);
    }

    // Before CTRL_INIT the vGIC cannot inject (vgic_lazy_init → -EBUSY), but the argument checks come first.
    public static TheoryData<uint, int, uint, Errno> BeforeInitRules => new()
    {
        { Spi, 0, 40, Errno.EBUSY },
        { Spi, 0, 5000, Errno.EBUSY },
        { Spi, 0, 31, Errno.EINVAL },
        { Ppi, 0, 27, Errno.EBUSY },
        { Ppi, 5, 27, Errno.EINVAL },
        { Ppi, 0, 8, Errno.EINVAL },
        { Cpu, 0, 0, Errno.ENXIO },
    };

    [Theory]
    [MemberData(nameof(BeforeInitRules))]
    public void IrqLine_BeforeCtrlInit_ReturnsEbusyAfterArgumentChecks(uint type, int vcpu, uint num, Errno expected)
    {
        Vgic3 gic = Created(vcpus: 2);

        Assert.Equal(expected, gic.Line(type, vcpu, num, 1).Error);
    }

    [Fact]
    public void IrqLine_LevelSpi_FollowsTheLine()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.Write(Gicd(0xC08), 0);

        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        Assert.Equal(1UL << 8, gic.Read(Gicd(0x204)));
        Assert.True(gic.Line(Spi, 0, 40, 0).IsSuccess);
        Assert.Equal(0UL, gic.Read(Gicd(0x204)));
    }

    [Fact]
    public void IrqLine_EdgeSpi_LatchesOnRisingAndIgnoresLow()
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        Assert.True(gic.Line(Spi, 0, 40, 0).IsSuccess);
        Assert.Equal(0UL, gic.Read(Gicd(0x204)));
        Assert.True(gic.Line(Spi, 0, 40, 1).IsSuccess);
        Assert.True(gic.Line(Spi, 0, 40, 0).IsSuccess);
        Assert.Equal(1UL << 8, gic.Read(Gicd(0x204)));
    }

    [Fact]
    public void IrqLine_Ppi_IsPrivateToTheNamedVcpu()
    {
        Vgic3 gic = Ready(vcpus: 2);

        Assert.True(gic.Line(Ppi, 1, 23, 1).IsSuccess);

        Assert.Equal(0UL, gic.Read(SgiBase(0, 0x200)));
        Assert.Equal(1UL << 23, gic.Read(SgiBase(1, 0x200)));
    }

    [Fact]
    public void IrqLine_ReachesVcpuIndicesAbove255ThroughVcpu2()
    {
        Vgic3 gic = Ready(vcpus: 258);

        Assert.True(gic.Line(Ppi, 257, 20, 1).IsSuccess);

        Assert.Equal(1UL << 20, gic.Read(SgiBase(257, 0x200), vcpu: 257));
        Assert.Equal(0UL, gic.Read(SgiBase(1, 0x200)));
    }
}
