using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.GuestMemfd;

public sealed class GuestMemfdPageTests
{
    private const long Page = 4096;

    private static GuestMemfdFile NewFile(long size) => GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = (ulong)size }).Value;

    [Fact]
    public void NewFile_HasEveryPageAbsent_AndNoRuns()
    {
        GuestMemfdFile f = NewFile(16 * Page);

        Assert.Equal(16UL, f.CountPages(GmemPageState.Absent));
        Assert.Equal(0, f.PageRunCount);
    }

    [Fact]
    public void Populate_MarksThePagePrepared_AndASecondPopulateIsEexist()
    {
        GuestMemfdFile f = NewFile(16 * Page);
        var slot = new GmemBinding(BaseGfn: 0x80000, NumPages: 16, Pgoff: 0);

        Assert.Equal(0, f.PopulatePage(slot, 0x80003).ReturnValue);
        Assert.Equal(GmemPageState.Prepared, f.GetPageState(3));
        Assert.Equal(Errno.EEXIST, f.PopulatePage(slot, 0x80003).Error);
    }

    [Fact]
    public void Populate_AfterFaultIn_IsEexist()
    {
        GuestMemfdFile f = NewFile(16 * Page);
        var slot = new GmemBinding(0x80000, 16, 0);

        Assert.Equal(1, f.FaultInPage(slot, 0x80005).ReturnValue);
        Assert.Equal(0, f.FaultInPage(slot, 0x80005).ReturnValue);
        Assert.Equal(Errno.EEXIST, f.PopulatePage(slot, 0x80005).Error);
    }

    [Fact]
    public void Populate_OfAnAllocatedPage_PreparesIt()
    {
        GuestMemfdFile f = NewFile(16 * Page);
        var slot = new GmemBinding(0x80000, 16, 0);
        f.Fallocate(FallocateMode.KeepSize, 0, 16 * Page);

        Assert.Equal(0, f.PopulatePage(slot, 0x80000).ReturnValue);

        Assert.Equal(GmemPageState.Prepared, f.GetPageState(0));
        Assert.Equal(15UL, f.CountPages(GmemPageState.Allocated));
    }

    [Fact]
    public void Fallocate_OverPreparedPages_KeepsThemPrepared()
    {
        GuestMemfdFile f = NewFile(16 * Page);
        var slot = new GmemBinding(0x80000, 16, 0);
        f.PopulatePage(slot, 0x80004);

        Assert.Equal(0, f.Fallocate(FallocateMode.KeepSize, 0, 16 * Page).ReturnValue);

        Assert.Equal(GmemPageState.Prepared, f.GetPageState(4));
        Assert.Equal([(0UL, 4UL, GmemPageState.Allocated), (4UL, 5UL, GmemPageState.Prepared), (5UL, 16UL, GmemPageState.Allocated)], f.PageRuns);
    }

    [Fact]
    public void PunchHole_ReturnsPagesToAbsent_AndRaisesInvalidationBeforeFreeing()
    {
        GuestMemfdFile f = NewFile(16 * Page);
        var slot = new GmemBinding(0x80000, 16, 0);
        for (ulong g = 0x80000; g < 0x80010; g++)
        {
            f.PopulatePage(slot, g);
        }

        var seen = new List<(ulong, ulong, GmemPageState)>();
        f.Invalidating += (_, e) => seen.Add((e.StartIndex, e.EndIndex, f.GetPageState(e.StartIndex)));

        Assert.Equal(0, f.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 4 * Page, 4 * Page).ReturnValue);

        Assert.Equal([(4UL, 8UL, GmemPageState.Prepared)], seen);
        Assert.Equal(GmemPageState.Absent, f.GetPageState(4));
        Assert.Equal(GmemPageState.Absent, f.GetPageState(7));
        Assert.Equal(GmemPageState.Prepared, f.GetPageState(8));
        Assert.Equal(0, f.PopulatePage(slot, 0x80004).ReturnValue);
    }

    [Fact]
    public void PunchHole_CrossingTheEnd_InvalidatesOnlyPagesInsideTheFile()
    {
        GuestMemfdFile f = NewFile(4 * Page);
        var seen = new List<(ulong, ulong)>();
        f.Invalidating += (_, e) => seen.Add((e.StartIndex, e.EndIndex));

        Assert.Equal(0, f.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 2 * Page, 8 * Page).ReturnValue);
        Assert.Equal(0, f.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 4 * Page, Page).ReturnValue);

        Assert.Equal([(2UL, 4UL)], seen);
    }

    [Fact]
    public void PageState_IsStoredAsRuns_NotPerPage()
    {
        GuestMemfdFile f = NewFile(1L << 40);

        Assert.Equal(0, f.Fallocate(FallocateMode.KeepSize, 0, 1L << 40).ReturnValue);
        Assert.Equal(1, f.PageRunCount);
        Assert.Equal(0, f.Fallocate(FallocateMode.PunchHole | FallocateMode.KeepSize, 1L << 39, Page).ReturnValue);

        Assert.Equal(2, f.PageRunCount);
        Assert.Equal((1UL << 28) - 1, f.CountPages(GmemPageState.Allocated));
    }

    [Fact]
    public void ClosedFile_FileOperationsAreEbadf_AndPageLookupsEfault()
    {
        GuestMemfdFile f = NewFile(4 * Page);
        var slot = new GmemBinding(0, 4, 0);
        f.Close();

        Assert.Equal(Errno.EBADF, f.Stat().Error);
        Assert.Equal(Errno.EBADF, f.Fallocate(FallocateMode.KeepSize, 0, Page).Error);
        Assert.Equal(Errno.EBADF, f.Read(new byte[8]).Error);
        Assert.Equal(Errno.EFAULT, f.PopulatePage(slot, 0).Error);
        Assert.Equal(Errno.EFAULT, f.FaultInPage(slot, 0).Error);
    }

    [Fact]
    public void Populate_GfnOutsideTheBinding_OrBindingPastTheFile_IsEinval()
    {
        GuestMemfdFile f = NewFile(4 * Page);

        Assert.Equal(Errno.EINVAL, f.PopulatePage(new GmemBinding(0x100, 4, 0), 0x104).Error);
        Assert.Equal(Errno.EINVAL, f.PopulatePage(new GmemBinding(0x100, 4, 1), 0x100).Error);
    }

    [Fact]
    public void Create_RemembersTheOwningVm()
    {
        object vm = new();

        GuestMemfdFile f = GuestMemfdFile.Create(new KvmCreateGuestMemfd { Size = (ulong)Page }, vm).Value;

        Assert.Same(vm, f.Owner);
    }
}
