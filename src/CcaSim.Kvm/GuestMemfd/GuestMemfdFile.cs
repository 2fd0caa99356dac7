using CcaSim.Kvm.Host;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.GuestMemfd;

/// <summary>
/// Lifecycle of one guest_memfd page (kvm-realm-abi.md §4.1, §4.6). Allocated: a folio exists (fallocate or
/// first touch). Prepared: made ready for the guest (populated with measured data or faulted in) — a second
/// populate of it is -EEXIST. Punching a hole returns pages to Absent.
/// </summary>
public enum GmemPageState
{
    Absent = 0,
    Allocated = 1,
    Prepared = 2,
}

/// <summary>What fstat(2) reports for a guest_memfd (§4.1): its fixed size, the page size as block size and its own inode.</summary>
public readonly record struct GuestMemfdStat(long Size, long BlockSize, ulong Inode);

/// <summary>File pages [StartIndex, EndIndex) are about to lose their contents; the VM layer zaps every binding's gfns.</summary>
public sealed class GmemInvalidationEventArgs(ulong startIndex, ulong endIndex) : EventArgs
{
    public ulong StartIndex { get; } = startIndex;

    /// <summary>Exclusive.</summary>
    public ulong EndIndex { get; } = endIndex;
}

/// <summary>
/// The file KVM_CREATE_GUEST_MEMFD returns (§4.1) at the 6.8–6.12 level the 6.6 backport imports: fixed size,
/// no read/write/mmap, fallocate only to preallocate or punch holes, page state per file index stored as ranges.
/// The file is independent of the VM fd's lifetime (it holds its own reference), so it keeps working after the
/// VM fd is closed. Bindings to memslots live in the VM layer; gfns reach this file only through a
/// <see cref="GmemBinding"/>.
/// </summary>
public sealed class GuestMemfdFile
{
    public const int PageShift = 12;
    public const long PageSize = 1L << PageShift;

    /// <summary>No creation flag is valid in 6.8–6.12 (MMAP and INIT_SHARED arrive in 6.18).</summary>
    public const ulong ValidFlags = 0;

    /// <summary>FALLOC_FL_SUPPORTED_MASK of the VFS: bits outside it fail before the file sees the call.</summary>
    private const FallocateMode VfsSupportedModes = FallocateMode.KeepSize | FallocateMode.PunchHole | FallocateMode.CollapseRange
        | FallocateMode.ZeroRange | FallocateMode.InsertRange | FallocateMode.UnshareRange;

    private static long s_lastInode = 0x1000;

    private readonly SparseRangeMap _pages = new();

    /// <summary>The physical page behind each prepared index (its folio), when the file has a host allocator.</summary>
    private readonly PageMap _backing = new();

    private GuestMemfdFile(long size, ulong flags, object? owner)
    {
        Size = size;
        Flags = flags;
        Owner = owner;
        Inode = (ulong)Interlocked.Increment(ref s_lastInode);
    }

    /// <summary>Raised by a punch hole before the pages are freed (<c>kvm_gmem_invalidate_begin</c>), clipped to the file.</summary>
    public event EventHandler<GmemInvalidationEventArgs>? Invalidating;

    /// <summary>Bytes; immutable after creation.</summary>
    public long Size { get; }

    public ulong PageCount => (ulong)Size >> PageShift;

    public ulong Flags { get; }

    /// <summary>The VM whose fd created the file: binding it to another VM's memslot is -EINVAL (§4.2).</summary>
    public object? Owner { get; }

    /// <summary>Distinct per file (the selftest checks two files differ).</summary>
    public ulong Inode { get; }

    public bool IsClosed { get; private set; }

    /// <summary>Page-state runs in index order; indices outside them are <see cref="GmemPageState.Absent"/>.</summary>
    public IEnumerable<(ulong StartIndex, ulong EndIndex, GmemPageState State)> PageRuns =>
        _pages.Runs.Select(r => (r.Start, r.End, (GmemPageState)r.Value));

    /// <summary>Number of stored page-state runs: the file's bookkeeping footprint.</summary>
    public int PageRunCount => _pages.RunCount;

    /// <summary>
    /// <c>kvm_gmem_create</c>: unknown flags -EINVAL first, then size ≤ 0 (as a signed <c>loff_t</c>) or not
    /// page aligned -EINVAL. The reserved words are not checked, as in 6.8–6.12. Allowed on any VM; only binding
    /// needs private memory.
    /// </summary>
    public static KvmResult<GuestMemfdFile> Create(in KvmCreateGuestMemfd request, object? owner = null) => Create(request, owner, null);

    internal static KvmResult<GuestMemfdFile> Create(in KvmCreateGuestMemfd request, object? owner, HostPageAllocator? pages)
    {
        if ((request.Flags & ~ValidFlags) != 0)
        {
            return Errno.EINVAL;
        }

        long size = unchecked((long)request.Size);
        if (size <= 0 || (size & (PageSize - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        return KvmResult<GuestMemfdFile>.Ok(new GuestMemfdFile(size, request.Flags, owner) { Pages = pages });
    }

    /// <summary>Drops the fd: every later file operation is -EBADF and in-kernel page lookups fail -EFAULT.</summary>
    public void Close()
    {
        if (IsClosed)
        {
            return;
        }

        // Release: every binding loses its pages before the folios go back to the allocator.
        PunchHole(0, PageCount);
        IsClosed = true;
    }

    /// <summary>Where prepared pages come from; without one (plain-file tests) pages carry state only.</summary>
    internal HostPageAllocator? Pages { get; init; }

    /// <summary>Physical pages the file holds.</summary>
    public int BackedPages => _backing.Count;

    public KvmResult<GuestMemfdStat> Stat() =>
        IsClosed ? Errno.EBADF : KvmResult<GuestMemfdStat>.Ok(new GuestMemfdStat(Size, PageSize, Inode));

    /// <summary>read(2): the file has no read operation, so the VFS refuses with -EINVAL (§4.1).</summary>
    public KvmResult Read(Span<byte> buffer) => IsClosed ? Errno.EBADF : Errno.EINVAL;

    /// <summary>write(2): no write operation, -EINVAL.</summary>
    public KvmResult Write(ReadOnlySpan<byte> buffer) => IsClosed ? Errno.EBADF : Errno.EINVAL;

    /// <summary>
    /// pread(2): a negative position is -EINVAL; otherwise -ESPIPE, because the syscall checks FMODE_PREAD before it
    /// looks for a read operation and anonymous-inode files are not opened with it (memfd sets it by hand; gmem
    /// does not). The spec lumps pread with read as "-EINVAL"; the selftest only asserts failure.
    /// </summary>
    public KvmResult Pread(Span<byte> buffer, long position) => PositionedIo(position);

    /// <summary>pwrite(2): as <see cref="Pread"/>.</summary>
    public KvmResult Pwrite(ReadOnlySpan<byte> buffer, long position) => PositionedIo(position);

    /// <summary>mmap(2): no mmap operation in 6.8–6.12, so -ENODEV (§4.1).</summary>
    public KvmResult Mmap(ulong length, long offset) => IsClosed ? Errno.EBADF : Errno.ENODEV;

    /// <summary>ftruncate(2)/setattr: the size is immutable, -EINVAL (§4.1).</summary>
    public KvmResult Truncate(long length) => IsClosed ? Errno.EBADF : Errno.EINVAL;

    /// <summary>
    /// fallocate(2) (§4.1, §4.5). The VFS checks run first (offset &lt; 0 or len ≤ 0 -EINVAL; unknown mode bits,
    /// PUNCH_HOLE with ZERO_RANGE, or PUNCH_HOLE without KEEP_SIZE -EOPNOTSUPP; COLLAPSE/INSERT not alone or
    /// UNSHARE with anything but KEEP_SIZE -EINVAL; offset + len past 2^63 -EFBIG), then guest_memfd's: KEEP_SIZE
    /// required and only PUNCH_HOLE besides it (-EOPNOTSUPP); offset and len page aligned (-EINVAL). Allocating
    /// past the end is -EINVAL; punching past the end succeeds.
    /// </summary>
    public KvmResult Fallocate(FallocateMode mode, long offset, long length)
    {
        if (IsClosed)
        {
            return Errno.EBADF;
        }

        KvmResult vfs = VfsFallocateChecks(mode, offset, length);
        if (!vfs.IsSuccess)
        {
            return vfs;
        }

        if ((mode & FallocateMode.KeepSize) == 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if ((mode & ~(FallocateMode.KeepSize | FallocateMode.PunchHole)) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if ((offset & (PageSize - 1)) != 0 || (length & (PageSize - 1)) != 0)
        {
            return Errno.EINVAL;
        }

        ulong start = (ulong)offset >> PageShift;
        ulong end = (ulong)(offset + length) >> PageShift;
        if ((mode & FallocateMode.PunchHole) != 0)
        {
            PunchHole(start, end);
            return KvmResult.Success;
        }

        if (offset + length > Size)
        {
            return Errno.EINVAL;
        }

        _pages.FillGaps(start, end, (ulong)GmemPageState.Allocated);
        return KvmResult.Success;
    }

    public GmemPageState GetPageState(ulong index) => (GmemPageState)_pages.Get(index);

    /// <summary>State of the page backing <paramref name="gfn"/> through <paramref name="binding"/>; Absent when the slot does not cover it.</summary>
    public GmemPageState GetPageState(GmemBinding binding, ulong gfn) =>
        binding.IndexOf(gfn) is ulong index ? GetPageState(index) : GmemPageState.Absent;

    public ulong CountPages(GmemPageState state) => state == GmemPageState.Absent
        ? PageCount - _pages.CountKeys((ulong)GmemPageState.Allocated) - _pages.CountKeys((ulong)GmemPageState.Prepared)
        : _pages.CountKeys((ulong)state);

    /// <summary>
    /// The populate step for one gfn (§4.6): allocate the page if absent and mark it prepared; a page already
    /// prepared (populated or faulted in) is -EEXIST. -EFAULT once the file is closed (the binding is gone);
    /// -EINVAL when the binding does not cover the gfn or reaches past the file (the memslot code never builds
    /// such a binding).
    /// </summary>
    public KvmResult PopulatePage(GmemBinding binding, ulong gfn)
    {
        KvmResult<ulong> index = GetPfn(binding, gfn, forPopulate: true, out _);
        if (!index.IsSuccess)
        {
            return index.ToResult();
        }

        MarkPrepared(index.Value);
        return KvmResult.Success;
    }

    /// <summary>
    /// The fault path for one gfn (<c>kvm_gmem_get_pfn</c>): make sure the page exists and is prepared. Returns 1
    /// when this call prepared it (the guest sees a fresh, zeroed page), 0 when it already was. Errors as
    /// <see cref="PopulatePage"/>.
    /// </summary>
    public KvmResult FaultInPage(GmemBinding binding, ulong gfn)
    {
        KvmResult<ulong> index = GetPfn(binding, gfn, forPopulate: false, out _);
        if (!index.IsSuccess)
        {
            return index.ToResult();
        }

        bool fresh = GetPageState(index.Value) != GmemPageState.Prepared;
        MarkPrepared(index.Value);
        return KvmResult.Ok(fresh ? 1 : 0);
    }

    /// <summary>
    /// kvm_gmem_get_pfn / the populate lookup: the file index of <paramref name="gfn"/> through the binding
    /// (gfn − base_gfn + pgoff, §5.1) and its physical page, allocated on first use. Populate refuses a page that
    /// is already prepared (-EEXIST); -EFAULT once the file is closed; -ENOMEM when no page is left. The page is
    /// not marked prepared: the caller does that once its own step succeeded.
    /// </summary>
    internal KvmResult<ulong> GetPfn(GmemBinding binding, ulong gfn, bool forPopulate, out ulong pa)
    {
        pa = 0;
        KvmResult<ulong> index = Resolve(binding, gfn);
        if (!index.IsSuccess)
        {
            return index;
        }

        if (forPopulate && GetPageState(index.Value) == GmemPageState.Prepared)
        {
            return Errno.EEXIST;
        }

        if (Pages is not null && !_backing.TryGetValue(index.Value, out pa))
        {
            if (Pages.Allocate() is not ulong page)
            {
                return Errno.ENOMEM;
            }

            pa = page;
            _backing.Set(index.Value, pa);
        }

        return index;
    }

    internal void MarkPrepared(ulong index) => _pages.Set(index, index + 1, (ulong)GmemPageState.Prepared);

    private KvmResult<ulong> Resolve(GmemBinding binding, ulong gfn)
    {
        if (IsClosed)
        {
            return Errno.EFAULT;
        }

        if (binding.IndexOf(gfn) is not ulong index || binding.EndIndex > PageCount || binding.EndIndex < binding.Pgoff)
        {
            return Errno.EINVAL;
        }

        return KvmResult<ulong>.Ok(index);
    }

    private void PunchHole(ulong start, ulong end)
    {
        end = Math.Min(end, PageCount);
        if (start >= end)
        {
            return;
        }

        Invalidating?.Invoke(this, new GmemInvalidationEventArgs(start, end));
        _pages.Set(start, end, (ulong)GmemPageState.Absent);
        if (Pages is not null && _backing.Count > 0)
        {
            foreach ((ulong index, ulong pa) in _backing.Range(start, end))
            {
                Pages.Free(pa);
                _backing.Remove(index);
            }
        }
    }

    private KvmResult PositionedIo(long position)
    {
        if (position < 0)
        {
            return Errno.EINVAL;
        }

        return IsClosed ? Errno.EBADF : Errno.ESPIPE;
    }

    private static KvmResult VfsFallocateChecks(FallocateMode mode, long offset, long length)
    {
        if (offset < 0 || length <= 0)
        {
            return Errno.EINVAL;
        }

        if ((mode & ~VfsSupportedModes) != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if ((mode & (FallocateMode.PunchHole | FallocateMode.ZeroRange)) == (FallocateMode.PunchHole | FallocateMode.ZeroRange))
        {
            return Errno.EOPNOTSUPP;
        }

        if ((mode & FallocateMode.PunchHole) != 0 && (mode & FallocateMode.KeepSize) == 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if ((mode & FallocateMode.CollapseRange) != 0 && (mode & ~FallocateMode.CollapseRange) != 0)
        {
            return Errno.EINVAL;
        }

        if ((mode & FallocateMode.InsertRange) != 0 && (mode & ~FallocateMode.InsertRange) != 0)
        {
            return Errno.EINVAL;
        }

        if ((mode & FallocateMode.UnshareRange) != 0 && (mode & ~(FallocateMode.UnshareRange | FallocateMode.KeepSize)) != 0)
        {
            return Errno.EINVAL;
        }

        if (offset > long.MaxValue - length)
        {
            return Errno.EFBIG;
        }

        return KvmResult.Success;
    }
}
