using System.Buffers.Binary;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vgic;
using static CcaSim.Kvm.Tests.Vgic.VgicTestBed;

namespace CcaSim.Kvm.Tests.Vgic;

/// <summary>KVM_CREATE_DEVICE and the vGIC device attributes, with the errnos of vgic-kvm-device.c / vgic-init.c (kvm-realm-abi.md §2.16).</summary>
public sealed class Vgic3DeviceTests
{
    private const ulong SixtyFourKiB = 0x1_0000;

    // deviceType, flags, irqchipExists, anyVcpuHasRun, onlineVcpus, expected
    public static TheoryData<uint, uint, bool, bool, int, Errno> CreateRules => new()
    {
        { 7, 0, false, false, 1, Errno.None },
        { 7, 0, false, false, 0, Errno.None },
        { 7, 1, false, false, 1, Errno.None },
        { 7, 1, true, true, 600, Errno.None },
        { 5, 0, false, false, 1, Errno.ENODEV },
        { 5, 1, false, false, 1, Errno.ENODEV },
        { 5, 0, true, false, 1, Errno.ENODEV },
        { 8, 0, false, false, 1, Errno.ENODEV },
        { 0, 0, false, false, 1, Errno.ENODEV },
        { 99, 0, false, false, 1, Errno.ENODEV },
        { 7, 0, true, false, 1, Errno.EEXIST },
        { 7, 0, true, true, 1, Errno.EEXIST },
        { 7, 0, false, true, 1, Errno.EBUSY },
        { 7, 0, false, false, 512, Errno.None },
        { 7, 0, false, false, 513, Errno.E2BIG },
    };

    [Theory]
    [MemberData(nameof(CreateRules))]
    public void Create_FollowsKvmCreateDeviceAndKvmVgicCreateOrder(uint type, uint flags, bool irqchip, bool hasRun, int vcpus, Errno expected)
    {
        KvmResult r = Vgic3.Create(type, flags, new VgicCreateContext(IpaBits, vcpus, irqchip, hasRun), out Vgic3? gic);

        Assert.Equal(expected, r.Error);
        bool created = expected == Errno.None && (flags & (uint)KvmCreateDeviceOptions.Test) == 0;
        Assert.Equal(created, gic is not null);
    }

    [Fact]
    public void Create_GicV2OnRealm_ReturnsEnodev()
    {
        KvmResult r = Vgic3.Create((uint)KvmDeviceType.ArmVgicV2, 0, new VgicCreateContext(IpaBits, 1, false, false), out Vgic3? gic);

        Assert.Equal(Errno.ENODEV, r.Error);
        Assert.Null(gic);
    }

    // attrType, address, expected (2 vCPUs online, 40-bit IPA, nothing set before)
    public static TheoryData<ulong, ulong, Errno> AddressRules => new()
    {
        { KvmVgicAttr.AddrTypeV3Dist, 0x0800_0000, Errno.None },
        { KvmVgicAttr.AddrTypeV3Dist, 0x0, Errno.None },
        { KvmVgicAttr.AddrTypeV3Dist, 0x0800_1000, Errno.EINVAL },
        { KvmVgicAttr.AddrTypeV3Dist, SixtyFourKiB / 0x10, Errno.EINVAL },
        { KvmVgicAttr.AddrTypeV3Dist, 1UL << 40, Errno.E2BIG },
        { KvmVgicAttr.AddrTypeV3Dist, (1UL << 40) - SixtyFourKiB, Errno.None },
        { KvmVgicAttr.AddrTypeV3Dist, ulong.MaxValue & ~(SixtyFourKiB - 1), Errno.EINVAL },
        { KvmVgicAttr.AddrTypeV3Redist, 0x080A_0000, Errno.None },
        { KvmVgicAttr.AddrTypeV3Redist, 0x080A_8000, Errno.EINVAL },
        { KvmVgicAttr.AddrTypeV3Redist, 1UL << 40, Errno.E2BIG },
        { KvmVgicAttr.AddrTypeV3Redist, (1UL << 40) - SixtyFourKiB, Errno.E2BIG },
        { KvmVgicAttr.AddrTypeV3Redist, (1UL << 40) - (4 * SixtyFourKiB), Errno.None },
        { KvmVgicAttr.AddrTypeV3Redist, ulong.MaxValue & ~(SixtyFourKiB - 1), Errno.EINVAL },
        { KvmVgicAttr.AddrTypeV2Dist, 0x0800_0000, Errno.ENXIO },
        { KvmVgicAttr.AddrTypeV2Cpu, 0x0800_0000, Errno.ENXIO },
        { KvmVgicAttr.AddrTypeIts, 0x0800_0000, Errno.ENXIO },
        { KvmVgicAttr.AddrTypeV3RedistRegion, 0x0800_0000, Errno.ENXIO },
        { 99, 0x0800_0000, Errno.ENXIO },
    };

    [Theory]
    [MemberData(nameof(AddressRules))]
    public void SetAddress_AppliesVgicCheckIorange(ulong type, ulong gpa, Errno expected)
    {
        Vgic3 gic = Created(vcpus: 2);

        KvmResult r = gic.SetAttribute(Attr(KvmVgicAttr.GroupAddr, type), U64(gpa));

        Assert.Equal(expected, r.Error);
    }

    [Theory]
    [InlineData(KvmVgicAttr.AddrTypeV3Dist)]
    [InlineData(KvmVgicAttr.AddrTypeV3Redist)]
    public void SetAddress_Twice_ReturnsEexist(ulong type)
    {
        Vgic3 gic = Created();
        Assert.True(gic.SetAttribute(Attr(KvmVgicAttr.GroupAddr, type), U64(0x1000_0000)).IsSuccess);

        KvmResult r = gic.SetAttribute(Attr(KvmVgicAttr.GroupAddr, type), U64(0x2000_0000));

        Assert.Equal(Errno.EEXIST, r.Error);
    }

    [Fact]
    public void SetRedist_OverlappingTheDistributor_ReturnsEinval()
    {
        Vgic3 gic = Created(vcpus: 2);
        Assert.True(gic.SetDistributorBase(0x0802_0000).IsSuccess);

        Assert.Equal(Errno.EINVAL, gic.SetRedistributorBase(0x0800_0000).Error);
        Assert.Equal(Errno.EINVAL, gic.SetRedistributorBase(0x0802_0000).Error);
        Assert.True(gic.SetRedistributorBase(0x0803_0000).IsSuccess);
    }

    [Fact]
    public void SetDist_OverlappingTheRedistributors_IsOnlyCaughtAtFirstRun()
    {
        Vgic3 gic = Created(vcpus: 2);
        Assert.True(gic.SetRedistributorBase(0x0800_0000).IsSuccess);

        Assert.True(gic.SetDistributorBase(0x0803_0000).IsSuccess);
        Assert.True(gic.Initialize().IsSuccess);

        Assert.Equal(Errno.EINVAL, gic.MapResources().Error);
        Assert.False(gic.IsReady);
    }

    [Fact]
    public void AddVcpu_GrowingTheRedistRegionOntoTheDistributor_ReturnsEinvalOnceTheOverlapExists()
    {
        // vgic_init selftest shape: rdist at 0 sized for one vCPU, dist at 0x70000; the fourth vCPU's frame hits it.
        Vgic3 gic = Created(vcpus: 1);
        Assert.True(gic.SetRedistributorBase(0).IsSuccess);
        Assert.True(gic.SetDistributorBase(0x7_0000).IsSuccess);

        Assert.True(gic.AddVcpu().IsSuccess);
        Assert.True(gic.AddVcpu().IsSuccess);
        Assert.True(gic.AddVcpu().IsSuccess);
        Assert.True(gic.Initialize().IsSuccess);

        Assert.Equal(Errno.EINVAL, gic.MapResources().Error);
    }

    [Fact]
    public void AddVcpu_AfterCtrlInit_ReturnsEbusy()
    {
        Vgic3 gic = Created(vcpus: 1);
        Assert.True(gic.AddVcpu().IsSuccess);
        Assert.True(gic.Initialize().IsSuccess);

        Assert.Equal(Errno.EBUSY, gic.AddVcpu().Error);
        Assert.Equal(2, gic.OnlineVcpus);
    }

    [Fact]
    public void AddVcpu_Beyond512_ReturnsEinval()
    {
        Vgic3 gic = Created(vcpus: 511);

        Assert.True(gic.AddVcpu().IsSuccess);
        Assert.Equal(Errno.EINVAL, gic.AddVcpu().Error);
    }

    [Theory]
    [InlineData(64u, Errno.None)]
    [InlineData(96u, Errno.None)]
    [InlineData(992u, Errno.None)]
    [InlineData(1024u, Errno.EINVAL)]
    [InlineData(32u, Errno.EINVAL)]
    [InlineData(0u, Errno.EINVAL)]
    [InlineData(100u, Errno.EINVAL)]
    [InlineData(1023u, Errno.EINVAL)]
    [InlineData(uint.MaxValue, Errno.EINVAL)]
    public void SetNrIrqs_RequiresMultipleOf32From64To992(uint nrIrqs, Errno expected)
    {
        Vgic3 gic = Created();

        KvmResult r = gic.SetAttribute(Attr(KvmVgicAttr.GroupNrIrqs, 0), U32(nrIrqs));

        Assert.Equal(expected, r.Error);
        Assert.Equal(expected == Errno.None ? (int)nrIrqs : 32, gic.NrIrqs);
    }

    [Fact]
    public void SetNrIrqs_Twice_ReturnsEbusy()
    {
        Vgic3 gic = Created();
        Assert.True(gic.SetNrIrqs(128).IsSuccess);

        Assert.Equal(Errno.EBUSY, gic.SetNrIrqs(128).Error);
    }

    [Fact]
    public void SetNrIrqs_AfterCtrlInit_ReturnsEbusy_AndInitFroze256()
    {
        Vgic3 gic = Created();
        Assert.True(gic.Initialize().IsSuccess);

        Assert.Equal(Errno.EBUSY, gic.SetNrIrqs(128).Error);
        Assert.Equal(256, gic.NrIrqs);
    }

    [Fact]
    public void SetNrIrqs_InvalidValueAfterInit_ReturnsEinvalFirst()
    {
        Vgic3 gic = Created();
        Assert.True(gic.Initialize().IsSuccess);

        Assert.Equal(Errno.EINVAL, gic.SetNrIrqs(100).Error);
    }

    [Fact]
    public void CtrlInit_WithoutAddresses_Succeeds_AndIsIdempotent()
    {
        Vgic3 gic = Created();

        Assert.True(gic.SetAttribute(Attr(KvmVgicAttr.GroupCtrl, KvmVgicAttr.CtrlInit), []).IsSuccess);
        Assert.True(gic.SetAttribute(Attr(KvmVgicAttr.GroupCtrl, KvmVgicAttr.CtrlInit), []).IsSuccess);
        Assert.True(gic.IsInitialized);
    }

    [Theory]
    [InlineData(false, true, true, Errno.ENXIO)]
    [InlineData(true, false, true, Errno.ENXIO)]
    [InlineData(true, true, false, Errno.EBUSY)]
    [InlineData(true, true, true, Errno.None)]
    [InlineData(false, false, false, Errno.ENXIO)]
    public void MapResources_NeedsBothFramesThenCtrlInit(bool dist, bool redist, bool init, Errno expected)
    {
        Vgic3 gic = Created(vcpus: 1);
        if (dist)
        {
            Assert.True(gic.SetDistributorBase(DistBase).IsSuccess);
        }

        if (redist)
        {
            Assert.True(gic.SetRedistributorBase(RedistBase).IsSuccess);
        }

        if (init)
        {
            Assert.True(gic.Initialize().IsSuccess);
        }

        Assert.Equal(expected, gic.MapResources().Error);
        Assert.Equal(expected == Errno.None, gic.IsReady);
    }

    [Fact]
    public void MapResources_WithoutVcpus_NeedsOnlyTheDistributor()
    {
        Vgic3 gic = Created(vcpus: 0);
        Assert.True(gic.SetDistributorBase(DistBase).IsSuccess);
        Assert.True(gic.Initialize().IsSuccess);

        Assert.True(gic.MapResources().IsSuccess);
    }

    [Fact]
    public void SetNrIrqs_AfterMapResources_ReturnsEbusy()
    {
        Vgic3 gic = Ready(nrIrqs: 64);

        Assert.Equal(Errno.EBUSY, gic.SetNrIrqs(128).Error);
    }

    [Theory]
    [InlineData(KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Dist, 7)]
    [InlineData(KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Redist, 0)]
    [InlineData(KvmVgicAttr.GroupNrIrqs, 0UL, 3)]
    public void SetAttribute_WithShortUserBuffer_ReturnsEfault(uint group, ulong attr, int length)
    {
        Vgic3 gic = Created();

        Assert.Equal(Errno.EFAULT, gic.SetAttribute(Attr(group, attr), new byte[length]).Error);
    }

    [Fact]
    public void SetAttribute_UnknownAddrTypeWithShortBuffer_ReturnsEfaultBeforeEnxio()
    {
        Vgic3 gic = Created();

        Assert.Equal(Errno.EFAULT, gic.SetAttribute(Attr(KvmVgicAttr.GroupAddr, 99), new byte[4]).Error);
    }

    // group, attr, expected for set/get/has on a fresh device
    public static TheoryData<uint, ulong, Errno, Errno, Errno> GroupRules => new()
    {
        { KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Dist, Errno.None, Errno.None, Errno.None },
        { KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Redist, Errno.None, Errno.None, Errno.None },
        { KvmVgicAttr.GroupNrIrqs, 0, Errno.None, Errno.None, Errno.None },
        { KvmVgicAttr.GroupCtrl, KvmVgicAttr.CtrlInit, Errno.None, Errno.ENXIO, Errno.None },
        { KvmVgicAttr.GroupCtrl, KvmVgicAttr.CtrlSavePendingTables, Errno.ENXIO, Errno.ENXIO, Errno.None },
        { KvmVgicAttr.GroupCtrl, 7, Errno.ENXIO, Errno.ENXIO, Errno.ENXIO },
        { KvmVgicAttr.GroupDistRegs, 0, Errno.ENXIO, Errno.ENXIO, Errno.ENXIO },
        { KvmVgicAttr.GroupCpuRegs, 0, Errno.ENXIO, Errno.ENXIO, Errno.ENXIO },
        { KvmVgicAttr.GroupRedistRegs, 0, Errno.ENXIO, Errno.ENXIO, Errno.ENXIO },
        { KvmVgicAttr.GroupCpuSysregs, 0, Errno.ENXIO, Errno.ENXIO, Errno.ENXIO },
        { KvmVgicAttr.GroupLevelInfo, 0, Errno.ENXIO, Errno.ENXIO, Errno.ENXIO },
        { 42, 0, Errno.ENXIO, Errno.ENXIO, Errno.ENXIO },
    };

    [Theory]
    [MemberData(nameof(GroupRules))]
    public void Attributes_OfEachGroup_AnswerLikeVgicV3Ops(uint group, ulong attr, Errno set, Errno get, Errno has)
    {
        Vgic3 gic = Created();
        byte[] data = group == KvmVgicAttr.GroupNrIrqs ? U32(64) : U64(DistBase);

        Assert.Equal(has, Vgic3.HasAttribute(Attr(group, attr)).Error);
        Assert.Equal(get, gic.GetAttribute(Attr(group, attr), new byte[8]).Error);
        Assert.Equal(set, gic.SetAttribute(Attr(group, attr), data).Error);
    }

    [Fact]
    public void SavePendingTables_AfterInit_Succeeds()
    {
        Vgic3 gic = Created();
        Assert.True(gic.Initialize().IsSuccess);

        Assert.True(gic.SetAttribute(Attr(KvmVgicAttr.GroupCtrl, KvmVgicAttr.CtrlSavePendingTables), []).IsSuccess);
    }

    [Fact]
    public void GetAddress_ReadsUndefThenTheBase()
    {
        Vgic3 gic = Created();
        byte[] buffer = new byte[8];

        Assert.True(gic.GetAttribute(Attr(KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Dist), buffer).IsSuccess);
        Assert.Equal(Vgic3.AddressUndefined, BinaryPrimitives.ReadUInt64LittleEndian(buffer));
        Assert.True(gic.SetDistributorBase(DistBase).IsSuccess);
        Assert.True(gic.SetRedistributorBase(RedistBase).IsSuccess);

        Assert.True(gic.GetAttribute(Attr(KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Dist), buffer).IsSuccess);
        Assert.Equal(DistBase, BinaryPrimitives.ReadUInt64LittleEndian(buffer));
        Assert.True(gic.GetAttribute(Attr(KvmVgicAttr.GroupAddr, KvmVgicAttr.AddrTypeV3Redist), buffer).IsSuccess);
        Assert.Equal(RedistBase, BinaryPrimitives.ReadUInt64LittleEndian(buffer));
    }

    [Fact]
    public void GetNrIrqs_Reads32UntilSet()
    {
        Vgic3 gic = Created();
        byte[] buffer = new byte[4];

        Assert.True(gic.GetAttribute(Attr(KvmVgicAttr.GroupNrIrqs, 0), buffer).IsSuccess);
        Assert.Equal(32u, BinaryPrimitives.ReadUInt32LittleEndian(buffer));
        Assert.True(gic.SetNrIrqs(160).IsSuccess);
        Assert.True(gic.GetAttribute(Attr(KvmVgicAttr.GroupNrIrqs, 0), buffer).IsSuccess);
        Assert.Equal(160u, BinaryPrimitives.ReadUInt32LittleEndian(buffer));
    }

    [Theory]
    [InlineData(KvmVgicAttr.GroupAddr, 7)]
    [InlineData(KvmVgicAttr.GroupNrIrqs, 3)]
    public void GetAttribute_WithShortUserBuffer_ReturnsEfault(uint group, int length)
    {
        Vgic3 gic = Created();

        Assert.Equal(Errno.EFAULT, gic.GetAttribute(Attr(group, KvmVgicAttr.AddrTypeV3Dist), new byte[length]).Error);
    }

    [Theory]
    [InlineData(0, 0x0UL)]
    [InlineData(1, 0x1UL)]
    [InlineData(15, 0xFUL)]
    [InlineData(16, 0x100UL)]
    [InlineData(17, 0x101UL)]
    [InlineData(4095, 0xFF0FUL)]
    [InlineData(4096, 0x1_0000UL)]
    public void MpidrAffinity_IsKvmsResetValue(int vcpuId, ulong affinity) => Assert.Equal(affinity, Vgic3.MpidrAffinityOf(vcpuId));

    private static KvmDeviceAttr Attr(uint group, ulong attr) => new() { Group = group, Attr = attr, Addr = 0x7f00_0000 };

    private static byte[] U64(ulong value)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    private static byte[] U32(uint value)
    {
        byte[] b = new byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(b, value);
        return b;
    }
}
