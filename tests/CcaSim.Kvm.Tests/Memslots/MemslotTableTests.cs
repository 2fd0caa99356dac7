using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Memslots;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Memslots;

/// <summary>KVM_SET_USER_MEMORY_REGION(2) rules (kvm-realm-abi.md §4.2) and the set_memory_region_test behaviours of §4.5.</summary>
public sealed class MemslotTableTests
{
    private const ulong MiB = 1UL << 20;
    private const uint LogDirty = (uint)KvmMemoryRegionOptions.LogDirtyPages;
    private const uint ReadOnly = (uint)KvmMemoryRegionOptions.ReadOnly;
    private const uint Gmem = (uint)KvmMemoryRegionOptions.GuestMemfd;
    private const uint GmemFd = 7;

    private readonly object _vm = new();
    private readonly MemslotTable _table;
    private readonly GuestMemfdFile _file;

    public MemslotTableTests()
    {
        _table = new MemslotTable(_vm, privateMemory: true);
        _file = GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = 8 * MiB }, _vm).Value;
    }

    private GuestMemfdFile? Resolve(uint fd) => fd == GmemFd ? _file : null;

    private static KvmUserspaceMemoryRegion2 Region(uint slot, ulong gpa, ulong size, uint flags = 0, ulong offset = 0, ulong uaddr = 0x7f00_0000_0000) => new()
    {
        Slot = slot,
        Flags = flags,
        GuestPhysAddr = gpa,
        MemorySize = size,
        UserspaceAddr = uaddr,
        GuestMemfdOffset = offset,
        GuestMemfd = GmemFd,
    };

    private KvmResult Set(KvmUserspaceMemoryRegion2 r) => _table.Set(r, Resolve);

    public static TheoryData<uint> EveryFlagBit => [.. Enumerable.Range(0, 32).Select(b => 1u << b)];

    [Theory]
    [MemberData(nameof(EveryFlagBit))]
    public void SetV1_WithV2OnlyOrUnknownFlag_ReturnsEinval(uint flag)
    {
        KvmResult r = _table.SetV1(new KvmUserspaceMemoryRegion { Slot = 0, Flags = flag, GuestPhysAddr = 0x8000_0000, MemorySize = 2 * MiB, UserspaceAddr = 0x7f00_0000_0000 });

        Assert.Equal(flag is LogDirty or ReadOnly ? Errno.None : Errno.EINVAL, r.Error);
    }

    [Theory]
    [MemberData(nameof(EveryFlagBit))]
    public void Set_WithUnsupportedFlag_ReturnsEinval(uint flag)
    {
        KvmResult r = Set(Region(0, 0x8000_0000, 2 * MiB, flag));

        Assert.Equal(flag is LogDirty or ReadOnly or Gmem ? Errno.None : Errno.EINVAL, r.Error);
    }

    [Theory]
    [InlineData(LogDirty | Gmem)]
    [InlineData(ReadOnly | Gmem)]
    public void Set_GuestMemfdWithDirtyLoggingOrReadOnly_ReturnsEinval(uint flags)
    {
        Assert.Equal(Errno.EINVAL, Set(Region(0, 0x8000_0000, 2 * MiB, flags)).Error);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void Set_GuestMemfdOnVmWithoutPrivateMemory_ReturnsEinval()
    {
        var plain = new MemslotTable(_vm, privateMemory: false);

        Assert.Equal(Errno.EINVAL, plain.Set(Region(0, 0x8000_0000, 2 * MiB, Gmem), Resolve).Error);
        Assert.Equal(Errno.None, plain.Set(Region(0, 0x8000_0000, 2 * MiB), Resolve).Error);
    }

    [Theory]
    [InlineData(0x8000_0000UL, 0x1800UL, 0x7f00_0000_0000UL, 0UL)]
    [InlineData(0x8000_0800UL, 0x2000UL, 0x7f00_0000_0000UL, 0UL)]
    [InlineData(0x8000_0000UL, 0x2000UL, 0x7f00_0000_0010UL, 0UL)]
    [InlineData(0xFFFF_FFFF_FFFF_F000UL, 0x2000UL, 0x7f00_0000_0000UL, 0UL)]
    [InlineData(0x8000_0000UL, 0x2000UL, 0xFFFF_FFFF_FFFF_F000UL, 0UL)]
    [InlineData(0x8000_0000UL, 0x2000UL, 0x7f00_0000_0000UL, 1UL << 16)]
    [InlineData(0x8000_0000UL, 0x2000UL, 0x7f00_0000_0000UL, (ulong)MemslotTable.MaxSlots)]
    [InlineData(0x8000_0000UL, (1UL << 31) << 12, 0x7f00_0000_0000UL, 0UL)]
    public void Set_WithMisalignedWrappingOrOutOfRangeArguments_ReturnsEinval(ulong gpa, ulong size, ulong uaddr, ulong slot)
    {
        Assert.Equal(Errno.EINVAL, Set(Region((uint)slot, gpa, size, uaddr: uaddr)).Error);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void Set_LastSlotIdSucceeds_AndOneMoreIsRefused()
    {
        Assert.Equal(Errno.None, Set(Region(MemslotTable.MaxSlots - 1, 0x8000_0000, 2 * MiB)).Error);

        Assert.Equal(Errno.EINVAL, Set(Region(MemslotTable.MaxSlots, 0x9000_0000, 2 * MiB)).Error);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(0x800UL)]
    [InlineData(0xFFFUL)]
    public void Set_GuestMemfdOffsetNotPageAligned_ReturnsEinval(ulong offset)
    {
        Assert.Equal(Errno.EINVAL, Set(Region(0, 0x8000_0000, 2 * MiB, Gmem, offset)).Error);
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 2 * MiB, Gmem, 0)).Error);
    }

    [Fact]
    public void Set_GuestMemfdFieldNamingNoGuestMemfdOrAnotherVmsFile_ReturnsEinval()
    {
        GuestMemfdFile other = GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = 8 * MiB }, new object()).Value;

        // A /dev/kvm fd, a VM fd or a plain memfd resolve to no guest_memfd.
        Assert.Equal(Errno.EINVAL, _table.Set(Region(0, 0x8000_0000, 2 * MiB, Gmem), _ => null).Error);
        Assert.Equal(Errno.EINVAL, _table.Set(Region(0, 0x8000_0000, 2 * MiB, Gmem), _ => other).Error);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void Set_BindingPastTheEndOfTheFile_ReturnsEinval()
    {
        Assert.Equal(Errno.EINVAL, Set(Region(0, 0x8000_0000, 4 * MiB, Gmem, 6 * MiB)).Error);
    }

    [Fact]
    public void TwoSlotsOnOneFile_AtOffsets0And4MiB_Succeed_AndOverlappingGpaReaddIsEexist()
    {
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 4 * MiB, Gmem, 0)).Error);
        Assert.Equal(Errno.None, Set(Region(1, 0x8040_0000, 4 * MiB, Gmem, 4 * MiB)).Error);
        Assert.Equal(Errno.None, Set(Region(1, 0x8040_0000, 0)).Error);

        // Re-adding slot 1 over the front or back half of slot 0 is a GPA overlap.
        Assert.Equal(Errno.EEXIST, Set(Region(1, 0x8000_0000 - (2 * MiB), 4 * MiB, Gmem, 4 * MiB)).Error);
        Assert.Equal(Errno.EEXIST, Set(Region(1, 0x8000_0000 + (2 * MiB), 4 * MiB, Gmem, 4 * MiB)).Error);
        Assert.Equal(Errno.None, Set(Region(1, 0x8040_0000, 4 * MiB, Gmem, 4 * MiB)).Error);

        Memslot second = _table.Find(0x8040_0000 >> 12)!;
        Assert.Equal(1024UL, second.Binding!.IndexOf(0x8040_0000 >> 12));
    }

    [Fact]
    public void Set_BindingThatOverlapsAnotherBindingOfTheSameFile_ReturnsEinval()
    {
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 4 * MiB, Gmem, 0)).Error);

        Assert.Equal(Errno.EINVAL, Set(Region(1, 0x9000_0000, 4 * MiB, Gmem, 2 * MiB)).Error);
    }

    [Fact]
    public void ExistingGuestMemfdSlot_CanOnlyBeDeleted()
    {
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 2 * MiB, Gmem)).Error);

        Assert.Equal(Errno.EINVAL, Set(Region(0, 0x9000_0000, 2 * MiB, Gmem)).Error);
        Assert.Equal(Errno.EINVAL, Set(Region(0, 0x8000_0000, 2 * MiB)).Error);
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 0)).Error);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void ExistingSlot_CanMoveOrChangeDirtyLogging_ButNotReadOnlyOrSize()
    {
        Memslot? removed = null;
        _table.SlotRemoved += s => removed = s;
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 2 * MiB)).Error);

        Assert.Equal(Errno.EINVAL, Set(Region(0, 0x8000_0000, 2 * MiB, ReadOnly)).Error);
        Assert.Equal(Errno.EINVAL, Set(Region(0, 0x8000_0000, 4 * MiB)).Error);
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 2 * MiB, LogDirty)).Error);
        Assert.Null(removed);
        Assert.Equal(Errno.None, Set(Region(0, 0x9000_0000, 2 * MiB, LogDirty)).Error);

        Assert.Equal(0x8000_0000UL >> 12, removed!.BaseGfn);
        Assert.Null(_table.Find(0x8000_0000 >> 12));
        Assert.NotNull(_table.Find(0x9000_0000 >> 12));
    }

    [Fact]
    public void Delete_OfAMissingSlot_ReturnsEinval()
    {
        Assert.Equal(Errno.EINVAL, Set(Region(3, 0x8000_0000, 0)).Error);
    }

    [Fact]
    public void Create_OverlappingAnotherSlot_ReturnsEexist()
    {
        Assert.Equal(Errno.None, Set(Region(0, 0x8000_0000, 2 * MiB)).Error);

        Assert.Equal(Errno.EEXIST, Set(Region(1, 0x8010_0000, 2 * MiB)).Error);
        Assert.Equal(Errno.None, Set(Region(1, 0x8020_0000, 2 * MiB)).Error);
    }
}
