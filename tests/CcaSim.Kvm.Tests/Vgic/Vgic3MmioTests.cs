using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vgic;
using static CcaSim.Kvm.Tests.Vgic.VgicTestBed;

namespace CcaSim.Kvm.Tests.Vgic;

/// <summary>The emulated GICD and GICR frames (vgic-mmio-v3.c register tables).</summary>
public sealed class Vgic3MmioTests
{
    [Fact]
    public void Mmio_BeforeFirstRun_IsNotClaimed()
    {
        Vgic3 gic = Created();
        Assert.True(gic.SetDistributorBase(DistBase).IsSuccess);
        Assert.True(gic.SetRedistributorBase(RedistBase).IsSuccess);
        Assert.True(gic.Initialize().IsSuccess);
        ulong data = 0;

        Assert.False(gic.TryHandleMmio(0, Gicd(0x4), isWrite: false, 4, ref data));
    }

    [Theory]
    [InlineData(DistBase - 4)]
    [InlineData(DistBase + 0x1_0000)]
    [InlineData(RedistBase - 4)]
    [InlineData(RedistBase + (2 * 0x2_0000))]
    [InlineData(0x4000_0000UL)]
    public void Mmio_OutsideTheFrames_IsNotClaimed(ulong gpa)
    {
        Vgic3 gic = Ready(vcpus: 2);
        ulong data = 0;

        Assert.False(gic.TryHandleMmio(0, gpa, isWrite: false, 4, ref data));
    }

    [Theory]
    [InlineData(64u, 0x48_0001UL)]
    [InlineData(256u, 0x48_0007UL)]
    [InlineData(992u, 0x48_001EUL)]
    public void GicdTyper_ReportsItLinesAndTenIdBits(uint nrIrqs, ulong typer)
    {
        Vgic3 gic = Ready(nrIrqs: nrIrqs);

        Assert.Equal(typer, gic.Read(Gicd(0x4)));
    }

    [Fact]
    public void GicdIdentification_IsKvmRevision3AndArchRev3()
    {
        Vgic3 gic = Ready();

        Assert.Equal(0x4B00_343BUL, gic.Read(Gicd(0x8)));
        Assert.Equal(0x3BUL, gic.Read(Gicd(0xFFE8)));
        Assert.Equal(0x3BUL, gic.Read(RdBase(1, 0xFFE8)));
        Assert.Equal(0UL, gic.Read(Gicd(0xFFE0)));
        Assert.Equal(0x4B00_043BUL, gic.Read(RdBase(0, 0x4)));
    }

    [Fact]
    public void GicdCtlr_OnlyEnableGrp1IsWritable_AreAndDsReadAsOne()
    {
        Vgic3 gic = Ready();

        Assert.Equal(0x50UL, gic.Read(Gicd(0x0)));
        gic.Write(Gicd(0x0), 0xFFFF_FFFF);
        Assert.Equal(0x52UL, gic.Read(Gicd(0x0)));
        gic.Write(Gicd(0x0), 0x1);
        Assert.Equal(0x50UL, gic.Read(Gicd(0x0)));
    }

    [Fact]
    public void GicdEnable_SetAndClearRegistersActOnOnesOnly()
    {
        Vgic3 gic = Ready(nrIrqs: 128);

        gic.Write(Gicd(0x104), 0x0000_0005);
        gic.Write(Gicd(0x104), 0x0000_0100);
        Assert.Equal(0x105UL, gic.Read(Gicd(0x104)));
        Assert.Equal(0x105UL, gic.Read(Gicd(0x184)));
        gic.Write(Gicd(0x184), 0x0000_0004);
        Assert.Equal(0x101UL, gic.Read(Gicd(0x104)));
    }

    [Fact]
    public void GicdPending_SetAndClear_OnlyTouchTheLatchOfALevelInterrupt()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        gic.Write(Gicd(0xC08), 0);
        Assert.True(gic.Line(KvmArmIrqLine.TypeSpi, 0, 33, 1).IsSuccess);

        gic.Write(Gicd(0x204), 1u << 2);
        Assert.Equal(0b110UL, gic.Read(Gicd(0x204)));
        gic.Write(Gicd(0x284), 0b110);

        Assert.Equal(0b010UL, gic.Read(Gicd(0x284)));
    }

    [Fact]
    public void GicdActive_SetAndClear()
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        gic.Write(Gicd(0x304), 0x8000_0000);
        Assert.Equal(0x8000_0000UL, gic.Read(Gicd(0x384)));
        gic.Write(Gicd(0x384), 0x8000_0000);
        Assert.Equal(0UL, gic.Read(Gicd(0x304)));
    }

    [Fact]
    public void GicdBankedFirstRegisters_AreRazWi()
    {
        Vgic3 gic = Ready();

        gic.Write(Gicd(0x100), 0xFFFF_FFFF);
        gic.Write(Gicd(0x400), 0xA0A0_A0A0);

        Assert.Equal(0UL, gic.Read(Gicd(0x100)));
        Assert.Equal(0UL, gic.Read(Gicd(0x400)));
        Assert.Equal(0UL, gic.Read(Gicd(0xC04)));
        Assert.Equal(0xFFFFUL, gic.Read(SgiBase(0, 0x100)));
    }

    [Fact]
    public void GicdPriority_ByteAndWordAccess_KeepFiveBits()
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        gic.Write(Gicd(0x421), 0xFF, size: 1);
        gic.Write(Gicd(0x424), 0x1234_5678);

        Assert.Equal(0xF8UL, gic.Read(Gicd(0x421), size: 1));
        Assert.Equal(0x0000_F800UL, gic.Read(Gicd(0x420)));
        Assert.Equal(0x1030_5078UL, gic.Read(Gicd(0x424)));
        Assert.Equal(0x50UL, gic.Read(Gicd(0x425), size: 1));
    }

    [Theory]
    [InlineData(0x421u, 2)]
    [InlineData(0x422u, 4)]
    [InlineData(0x420u, 8)]
    [InlineData(0x105u, 1)]
    [InlineData(0x104u, 8)]
    [InlineData(0x6104u, 8)]
    public void Gicd_AccessOfAWidthOrAlignmentTheRegisterRejects_IsRazWi(uint offset, int size)
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        gic.Write(Gicd(offset), ulong.MaxValue, size);

        Assert.Equal(0UL, gic.Read(Gicd(offset), size));
        Assert.Equal(0UL, gic.Read(Gicd(offset & ~3u)));
    }

    [Fact]
    public void GicdRegisters_BeyondNrIrqs_AreRazWi()
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        gic.Write(Gicd(0x108), 0xFFFF_FFFF);
        gic.Write(Gicd(0x440), 0xFFFF_FFFF);
        gic.Write(Gicd(0x6000 + (64 * 8)), 0x1);

        Assert.Equal(0UL, gic.Read(Gicd(0x108)));
        Assert.Equal(0UL, gic.Read(Gicd(0x440)));
        Assert.Equal(0UL, gic.Read(Gicd(0x6000 + (64 * 8)), size: 8));
    }

    [Fact]
    public void GicdIcfgr_ConfiguresSpisEdgeOrLevel_SpisStartEdge()
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        Assert.Equal(0xAAAA_AAAAUL, gic.Read(Gicd(0xC08)));
        gic.Write(Gicd(0xC08), 0x0000_0008);

        Assert.Equal(0x0000_0008UL, gic.Read(Gicd(0xC08)));
    }

    [Fact]
    public void GicdIrouter_KeepsAff2To0_UpperWordAndIrmAreRazWi()
    {
        Vgic3 gic = Ready(nrIrqs: 64);
        ulong irouter40 = Gicd(0x6000 + (40 * 8));

        gic.Write(irouter40, 0xFF00_0000_8012_3456, size: 8);
        Assert.Equal(0x12_3456UL, gic.Read(irouter40, size: 8));
        gic.Write(irouter40 + 4, 0xFF, size: 4);
        Assert.Equal(0UL, gic.Read(irouter40 + 4));
        gic.Write(irouter40, 0x1, size: 4);

        Assert.Equal(0x1UL, gic.Read(irouter40, size: 8));
    }

    [Fact]
    public void GicdStatusr_ReadsAllOnes_UnimplementedOffsetsReadZero()
    {
        Vgic3 gic = Ready();

        gic.Write(Gicd(0x3000), 0xFFFF_FFFF);

        Assert.Equal(0xFFFF_FFFFUL, gic.Read(Gicd(0x10)));
        Assert.Equal(0UL, gic.Read(Gicd(0x3000)));
        Assert.Equal(0UL, gic.Read(Gicd(0xC)));
        Assert.Equal(0UL, gic.Read(Gicd(0x800)));
    }

    [Theory]
    [InlineData(0, 3, 0x0000_0000_0000_0000UL)]
    [InlineData(1, 3, 0x0000_0001_0000_0100UL)]
    [InlineData(2, 3, 0x0000_0002_0000_0210UL)]
    [InlineData(17, 18, 0x0000_0101_0000_1110UL)]
    public void GicrTyper_CarriesAffinityProcessorNumberAndLast(int vcpu, int vcpus, ulong typer)
    {
        Vgic3 gic = Ready(vcpus: vcpus);

        Assert.Equal(typer, gic.Read(RdBase(vcpu, 0x8), size: 8));
        Assert.Equal(typer & 0xFFFF_FFFF, gic.Read(RdBase(vcpu, 0x8)));
        Assert.Equal(typer >> 32, gic.Read(RdBase(vcpu, 0xC)));
    }

    [Fact]
    public void GicrTyper_FromAnotherVcpu_DescribesTheFrameOwner()
    {
        Vgic3 gic = Ready(vcpus: 2);

        Assert.Equal(0x0000_0001_0000_0110UL, gic.Read(RdBase(1, 0x8), size: 8, vcpu: 0));
    }

    [Fact]
    public void GicrCtlrAndWaker_LikeKvm_CtlrShowsIrAndCes_WakerIsRazWi()
    {
        Vgic3 gic = Ready();

        gic.Write(RdBase(0, 0x14), 0x2);
        gic.Write(RdBase(0, 0x0), 0x1);

        Assert.Equal(0x6UL, gic.Read(RdBase(0, 0x0)));
        Assert.Equal(0UL, gic.Read(RdBase(0, 0x14)));
    }

    [Fact]
    public void GicrSgiFrame_EnablesAndPendsOnlyItsOwnPrivateInterrupts()
    {
        Vgic3 gic = Ready(vcpus: 2);

        Assert.Equal(0x0000_FFFFUL, gic.Read(SgiBase(1, 0x100)));
        gic.Write(SgiBase(1, 0x100), 1u << 27);
        gic.Write(SgiBase(1, 0x200), 1u << 3);

        Assert.Equal(0x0800_FFFFUL, gic.Read(SgiBase(1, 0x180)));
        Assert.Equal(0x0000_FFFFUL, gic.Read(SgiBase(0, 0x100)));
        Assert.Equal(1UL << 3, gic.Read(SgiBase(1, 0x280)));
        gic.Write(SgiBase(1, 0x180), 1u << 27);
        gic.Write(SgiBase(1, 0x280), 1u << 3);
        Assert.Equal(0x0000_FFFFUL, gic.Read(SgiBase(1, 0x100)));
        Assert.Equal(0UL, gic.Read(SgiBase(1, 0x200)));
    }

    [Fact]
    public void GicrSgiFrame_PriorityBytesAreBankedPerVcpu()
    {
        Vgic3 gic = Ready(vcpus: 2);

        gic.Write(SgiBase(0, 0x41B), 0x80, size: 1);

        Assert.Equal(0x80UL, gic.Read(SgiBase(0, 0x41B), size: 1));
        Assert.Equal(0x8000_0000UL, gic.Read(SgiBase(0, 0x418)));
        Assert.Equal(0UL, gic.Read(SgiBase(1, 0x418)));
    }

    [Fact]
    public void GicrIcfgr_SgisEdgePpisLevel_ReadOnly()
    {
        Vgic3 gic = Ready();

        gic.Write(SgiBase(0, 0xC00), 0);
        gic.Write(SgiBase(0, 0xC04), 0xFFFF_FFFF);

        Assert.Equal(0xAAAA_AAAAUL, gic.Read(SgiBase(0, 0xC00)));
        Assert.Equal(0UL, gic.Read(SgiBase(0, 0xC04)));
    }

    [Fact]
    public void Igroupr_ResetsToGroup1_AndIsWritable()
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        Assert.Equal(0xFFFF_FFFFUL, gic.Read(SgiBase(0, 0x80)));
        Assert.Equal(0xFFFF_FFFFUL, gic.Read(Gicd(0x84)));
        Assert.Equal(0UL, gic.Read(Gicd(0x80)));
        gic.Write(Gicd(0x84), 0xFFFF_FFFE);

        Assert.Equal(0xFFFF_FFFEUL, gic.Read(Gicd(0x84)));
    }

    [Fact]
    public void Mmio_OfAnOddSize_IsAProgrammingError()
    {
        Vgic3 gic = Ready();
        ulong data = 0;

        Assert.Throws<ArgumentOutOfRangeException>(() => gic.TryHandleMmio(0, Gicd(0), isWrite: false, 3, ref data));
    }
}
