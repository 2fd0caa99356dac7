using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.GuestMemfd;

/// <summary>tools/testing/selftests/kvm/guest_memfd_test.c (6.8–6.12), kvm-realm-abi.md §4.5, with exact errnos.</summary>
public sealed class GuestMemfdSelftestTests
{
    private const long Page = 4096;
    private const long Total = Page * 4;

    private static GuestMemfdFile NewFile(long size = Total) => GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = (ulong)size }).Value;

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(511UL)]
    [InlineData(2048UL)]
    [InlineData(4095UL)]
    [InlineData(4097UL)]
    [InlineData(8191UL)]
    public void Create_SizeNotPageAligned_ReturnsEinval(ulong size)
    {
        Assert.Equal(Errno.EINVAL, GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = size }).Error);
    }

    [Fact]
    public void Create_EverySizeBelowOnePage_ReturnsEinval()
    {
        for (ulong size = 1; size < Page; size++)
        {
            Assert.Equal(Errno.EINVAL, GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = size }).Error);
        }
    }

    [Theory]
    [InlineData(0UL)]
    [InlineData(0x8000_0000_0000_0000UL)] // negative as loff_t
    [InlineData(0xFFFF_FFFF_FFFF_F000UL)]
    public void Create_SizeZeroOrNegative_ReturnsEinval(ulong size)
    {
        Assert.Equal(Errno.EINVAL, GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = size }).Error);
    }

    public static TheoryData<int> FlagBits()
    {
        var bits = new TheoryData<int>();
        for (int b = 0; b < 64; b++)
        {
            bits.Add(b);
        }

        return bits;
    }

    [Theory]
    [MemberData(nameof(FlagBits))]
    public void Create_AnyFlagBit_ReturnsEinval(int bit)
    {
        Assert.Equal(Errno.EINVAL, GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = (ulong)Page, Flags = 1UL << bit }).Error);
    }

    [Fact]
    public void Create_BadFlagsAndBadSize_ReportsEinval()
    {
        Assert.Equal(Errno.EINVAL, GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = 1, Flags = 1 }).Error);
    }

    [Fact]
    public void Create_ReservedWordsAreIgnored()
    {
        var request = new KvmCreateGuestMemfd { Size = (ulong)Page };
        request.Reserved[0] = 1;

        Assert.True(GuestMemfdFile.Create(request).IsSuccess);
    }

    [Fact]
    public void Create_TwoFiles_KeepTheirSizes_AndHaveDistinctInodes()
    {
        GuestMemfdFile a = NewFile(4096);
        GuestMemfdFile b = NewFile(8192);

        GuestMemfdStat sa = a.Stat().Value;
        GuestMemfdStat sb = b.Stat().Value;

        Assert.Equal(4096, sa.Size);
        Assert.Equal(8192, sb.Size);
        Assert.NotEqual(sa.Inode, sb.Inode);
    }

    [Fact]
    public void Fstat_ReportsSizeAndPageBlockSize()
    {
        GuestMemfdStat st = NewFile().Stat().Value;

        Assert.Equal(Total, st.Size);
        Assert.Equal(Page, st.BlockSize);
    }

    [Fact]
    public void ReadAndWrite_Fail_Einval()
    {
        GuestMemfdFile f = NewFile();
        byte[] buf = new byte[64];

        Assert.Equal(Errno.EINVAL, f.Read(buf).Error);
        Assert.Equal(Errno.EINVAL, f.Write(buf).Error);
    }

    [Fact]
    public void PreadAndPwrite_Fail_Espipe()
    {
        GuestMemfdFile f = NewFile();
        byte[] buf = new byte[64];

        Assert.Equal(Errno.ESPIPE, f.Pread(buf, 0).Error);
        Assert.Equal(Errno.ESPIPE, f.Pwrite(buf, 0).Error);
        Assert.Equal(Errno.EINVAL, f.Pread(buf, -1).Error);
    }

    [Fact]
    public void Mmap_Fails_Enodev()
    {
        Assert.Equal(Errno.ENODEV, NewFile().Mmap((ulong)Page, 0).Error);
    }

    [Fact]
    public void Truncate_SizeIsImmutable_Einval()
    {
        GuestMemfdFile f = NewFile();

        Assert.Equal(Errno.EINVAL, f.Truncate(Total * 2).Error);
        Assert.Equal(Total, f.Stat().Value.Size);
    }

    [Fact]
    public void Fallocate_KeepSizeOverTheWholeFile_Succeeds()
    {
        GuestMemfdFile f = NewFile();

        Assert.Equal(0, f.Fallocate(FallocateMode.KeepSize, 0, Total).ReturnValue);
        Assert.Equal(4UL, f.CountPages(GmemPageState.Allocated));
    }

    [Fact]
    public void Fallocate_PunchHoleAtUnalignedOffset_ReturnsEinval()
    {
        Assert.Equal(Errno.EINVAL, NewFile().Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, Page - 1, Page).Error);
    }

    [Theory]
    [InlineData(Total)]
    [InlineData(Total + Page)]
    public void Fallocate_AllocateAtOrBeyondSize_ReturnsEinval(long offset)
    {
        GuestMemfdFile f = NewFile();

        Assert.Equal(Errno.EINVAL, f.Fallocate(FallocateMode.KeepSize, offset, Page).Error);
        Assert.Equal(0UL, f.CountPages(GmemPageState.Allocated));
    }

    [Fact]
    public void Fallocate_AllocateCrossingTheEnd_ReturnsEinval()
    {
        GuestMemfdFile f = NewFile();

        Assert.Equal(Errno.EINVAL, f.Fallocate(FallocateMode.KeepSize, Total - Page, 2 * Page).Error);
        Assert.Equal(0UL, f.CountPages(GmemPageState.Allocated));
    }

    [Theory]
    [InlineData(Total)]
    [InlineData(Total + Page)]
    public void Fallocate_PunchHoleAtOrBeyondSize_Succeeds(long offset)
    {
        Assert.Equal(0, NewFile().Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, offset, Page).ReturnValue);
    }

    [Fact]
    public void Fallocate_PunchHoleWithUnalignedLength_ReturnsEinval()
    {
        Assert.Equal(Errno.EINVAL, NewFile().Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, Page, Page - 1).Error);
    }

    [Fact]
    public void Fallocate_SelftestSequence_PunchAlignedThenReallocate()
    {
        GuestMemfdFile f = NewFile();
        Assert.Equal(0, f.Fallocate(FallocateMode.KeepSize, 0, Total).ReturnValue);

        Assert.Equal(0, f.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, Page, Page).ReturnValue);
        Assert.Equal(GmemPageState.Absent, f.GetPageState(1));
        Assert.Equal(3UL, f.CountPages(GmemPageState.Allocated));

        Assert.Equal(0, f.Fallocate(FallocateMode.KeepSize, Page, Page).ReturnValue);
        Assert.Equal(4UL, f.CountPages(GmemPageState.Allocated));
        Assert.Equal(1, f.PageRunCount);
    }

    [Theory]
    [InlineData(0L, 1L)]
    [InlineData(0L, Page - 1)]
    [InlineData(0L, Page + 1)]
    [InlineData(1L, 1L)]
    [InlineData(1L, Page - 1)]
    [InlineData(1L, Page)]
    [InlineData(1L, Page + 1)]
    [InlineData(Page, 1L)]
    [InlineData(Page, Page - 1)]
    [InlineData(Page, Page + 1)]
    public void Fallocate_InvalidPunchHoleOffsetOrLength_ReturnsEinval(long offset, long length)
    {
        GuestMemfdFile f = NewFile();
        f.Fallocate(FallocateMode.KeepSize, 0, Total);

        Assert.Equal(Errno.EINVAL, f.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, offset, length).Error);
        Assert.Equal(4UL, f.CountPages(GmemPageState.Allocated));
    }

    [Theory]
    [InlineData(FallocateMode.Allocate, Errno.EOPNOTSUPP)] // KEEP_SIZE is mandatory
    [InlineData(FallocateMode.PunchHole, Errno.EOPNOTSUPP)] // VFS: punch needs KEEP_SIZE
    [InlineData(FallocateMode.KeepSize | FallocateMode.ZeroRange, Errno.EOPNOTSUPP)]
    [InlineData(FallocateMode.KeepSize | FallocateMode.PunchHole | FallocateMode.ZeroRange, Errno.EOPNOTSUPP)]
    [InlineData(FallocateMode.KeepSize | FallocateMode.NoHideStale, Errno.EOPNOTSUPP)]
    [InlineData(FallocateMode.KeepSize | (FallocateMode)0x80, Errno.EOPNOTSUPP)]
    [InlineData(FallocateMode.KeepSize | FallocateMode.UnshareRange, Errno.EOPNOTSUPP)]
    [InlineData(FallocateMode.CollapseRange, Errno.EOPNOTSUPP)]
    [InlineData(FallocateMode.KeepSize | FallocateMode.CollapseRange, Errno.EINVAL)] // VFS: collapse must be alone
    [InlineData(FallocateMode.KeepSize | FallocateMode.InsertRange, Errno.EINVAL)]
    [InlineData(FallocateMode.KeepSize | FallocateMode.PunchHole | FallocateMode.UnshareRange, Errno.EINVAL)]
    public void Fallocate_UnsupportedMode_ReturnsTheVfsOrGmemErrno(FallocateMode mode, Errno expected)
    {
        Assert.Equal(expected, NewFile().Fallocate(mode, 0, Page).Error);
    }

    [Theory]
    [InlineData(-Page, Page, Errno.EINVAL)]
    [InlineData(0L, 0L, Errno.EINVAL)]
    [InlineData(0L, -Page, Errno.EINVAL)]
    [InlineData(0x7FFF_FFFF_FFFF_F000L, 2 * Page, Errno.EFBIG)]
    public void Fallocate_VfsRangeChecks_ReturnTheirErrno(long offset, long length, Errno expected)
    {
        Assert.Equal(expected, NewFile().Fallocate(FallocateMode.KeepSize | FallocateMode.PunchHole, offset, length).Error);
    }
}
