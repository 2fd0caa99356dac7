using System.Runtime.CompilerServices;
using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Host;
using CcaSim.Kvm.Memslots;
using CcaSim.Kvm.Rmi;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Realm;

/// <summary>Per-VM realm state (kvm-realm-abi.md §2.4).</summary>
public enum RealmState
{
    None,
    New,
    Active,
    Dying,
    Dead,
}

/// <summary>The realm parameters KVM derives from the VM's configuration at descriptor creation (§2.5, §2.9).</summary>
public readonly record struct RealmCreateConfig(int NumBps, int NumWps, bool Pmu, int PmuNumCtrs, bool Sve, int SveVl);

/// <summary>
/// The host side of one realm (the v12 series' rmi.c): the realm descriptor and its stage-2 tables, the granules
/// KVM delegated for them, and every RMI sequence that changes them — lazy creation, populate, INIT_RIPAS,
/// activation, runtime faults, RIPAS changes, unmapping and teardown. It talks to the RMM only through
/// <see cref="RmiClient"/> and keeps its own record of what it gave away, as the kernel does; it never reads
/// RMM state.
/// </summary>
public sealed class KvmRealm
{
    /// <summary>Normal write-back memory, stage-2 read/write: the attributes of an unprotected mapping's descriptor.</summary>
    private const ulong UnprotectedAttributes = (0x6UL << 2) | (0x3UL << 6);

    private readonly KvmContext _kvm;
    private readonly Dictionary<(int Level, ulong Ipa), ulong> _rtts = [];
    private readonly PageMap _private = new();
    private readonly SortedSet<ulong> _shared = [];
    private readonly HashSet<GuestMemfdFile> _watchedFiles = new(ReferenceEqualityComparer.Instance);

    private readonly MemoryAttributes.MemoryAttributeStore _attributes;

    /// <summary>RmiRealmParams.hash_algo and .rpv as the pre-v12 CONFIG_REALM left them (v12: always zero).</summary>
    private readonly byte[] _rpv = new byte[KvmArmRmeConfigItem.RpvSize];
    private ulong _hashAlgo;

    internal KvmRealm(KvmContext kvm, int ipaBits, MemslotTable memslots, MemoryAttributes.MemoryAttributeStore attributes)
    {
        _kvm = kvm;
        _attributes = attributes;
        IpaBits = ipaBits;
        Memslots = memslots;
        StartLevel = 4 - ((ipaBits - 8) / 9);
        int shift = ipaBits - (((4 - StartLevel) * 9) + 12);
        StartTables = shift > 0 ? 1 << shift : 1;
    }

    public RealmState State { get; internal set; } = RealmState.None;

    public int IpaBits { get; }

    /// <summary>The top IPA bit: set in the unprotected (shared) alias of a GPA (§2.12).</summary>
    public ulong SharedBit => 1UL << (IpaBits - 1);

    public int StartLevel { get; }

    public int StartTables { get; }

    /// <summary>Physical address of the realm descriptor (0 before creation).</summary>
    public ulong Rd { get; private set; }

    public ulong RttBase { get; private set; }

    public int Vmid { get; private set; } = -1;

    /// <summary>RMI_REC_AUX_COUNT, read once after creation.</summary>
    public int AuxCount { get; private set; }

    /// <summary>RTT granules KVM delegated below the root.</summary>
    public int RttCount => _rtts.Count;

    /// <summary>Protected pages mapped with data.</summary>
    public int PrivatePageCount => _private.Count;

    /// <summary>Unprotected pages mapped.</summary>
    public int SharedPageCount => _shared.Count;

    internal MemslotTable Memslots { get; }

    internal RmiClient Rmi => _kvm.Rmi;

    /// <summary>
    /// realm_ensure_created (§2.4, §2.5): NONE → create the descriptor; NEW → nothing; DEAD → -ENXIO;
    /// ACTIVE/DYING → -EBUSY.
    /// </summary>
    internal KvmResult EnsureCreated(Func<KvmResult<RealmCreateConfig>> config)
    {
        switch (State)
        {
            case RealmState.New:
                return KvmResult.Success;
            case RealmState.Dead:
                return Errno.ENXIO;
            case RealmState.Active:
            case RealmState.Dying:
                return Errno.EBUSY;
        }

        KvmResult<RealmCreateConfig> values = config();
        return values.IsSuccess ? Create(values.Value) : values.ToResult();
    }

    private KvmResult Create(RealmCreateConfig config)
    {
        int vmid = _kvm.Vmids.Allocate();
        if (vmid < 0)
        {
            return Errno.ENOMEM;
        }

        ulong? paramsPage = _kvm.AllocateZeroed();
        ulong? rd = _kvm.AllocateDelegated();
        ulong? pgd = _kvm.Pages.AllocateContiguous((ulong)StartTables, (ulong)StartTables);
        int delegated = 0;
        if (pgd is ulong root)
        {
            while (delegated < StartTables && _kvm.Rmi.GranuleDelegate(root + ((ulong)delegated * HostPageAllocator.PageSize)).IsSuccess)
            {
                delegated++;
            }
        }

        if (paramsPage is not ulong p || rd is not ulong rdPa || pgd is not ulong pgdPa || delegated < StartTables)
        {
            UndoCreate(vmid, paramsPage, rd, pgd, delegated);
            return Errno.ENOMEM;
        }

        ulong flags = (config.Sve ? RmiRealmParams.FlagSve : 0) | (config.Pmu ? RmiRealmParams.FlagPmu : 0);
        WriteParam(p, RmiRealmParams.Flags, flags);
        WriteParam(p, RmiRealmParams.S2sz, (ulong)IpaBits);
        WriteParam(p, RmiRealmParams.SveVl, config.Sve ? (ulong)config.SveVl : 0);
        WriteParam(p, RmiRealmParams.NumBps, (ulong)config.NumBps);
        WriteParam(p, RmiRealmParams.NumWps, (ulong)config.NumWps);
        WriteParam(p, RmiRealmParams.PmuNumCtrs, config.Pmu ? (ulong)config.PmuNumCtrs : 0);

        // v12 leaves hash_algo 0 (SHA-256) and the RPV all-zero (§2.5); only the pre-v12 CONFIG_REALM compatibility
        // option (§2.20) changes them, and only while the state was still NONE.
        WriteParam(p, RmiRealmParams.HashAlgo, _hashAlgo);
        _kvm.HostMemory.Write(p + (ulong)RmiRealmParams.Rpv, _rpv);
        WriteParam(p, RmiRealmParams.Vmid, (ulong)vmid);
        WriteParam(p, RmiRealmParams.RttBase, pgdPa);
        WriteParam(p, RmiRealmParams.RttLevelStart, (ulong)(long)StartLevel);
        WriteParam(p, RmiRealmParams.RttNumStart, (ulong)StartTables);

        RmiResult created = _kvm.Rmi.RealmCreate(rdPa, p);
        _kvm.Pages.Free(p);
        if (!created.IsSuccess)
        {
            UndoCreate(vmid, null, rd, pgd, delegated);
            return Errno.ENXIO;
        }

        Rd = rdPa;
        RttBase = pgdPa;
        Vmid = vmid;
        RmiResult aux = _kvm.Rmi.RecAuxCount(rdPa);
        AuxCount = aux.IsSuccess ? (int)aux.X1 : 0;
        State = RealmState.New;
        return KvmResult.Success;
    }

    /// <summary>
    /// kvm_rme_config_realm of the v8–v11 series (kvm-realm-abi.md §2.20), reached only through the
    /// <see cref="KvmHostOptions.PreV12RealmConfig"/> compatibility option, with the VM already known to be a realm:
    /// a descriptor that exists (any state but NONE, kvm_realm_is_created) → -EBUSY; then copy_from_user of the
    /// 260-byte arm_rme_config → -EFAULT; then by cfg: RPV copies the 64 bytes; HASH_ALGO (config_realm_hash_algo)
    /// takes SHA-256 / SHA-512 only if RMI_FEATURES(0) offers it (HASH_SHA_256 bit 32, HASH_SHA_512 bit 33), any other
    /// value → -EINVAL; any other cfg → -EINVAL. The values wait for <see cref="Create"/> to write the params page.
    /// </summary>
    internal KvmResult Configure(ulong userAddress)
    {
        if (State != RealmState.None)
        {
            return Errno.EBUSY;
        }

        Span<byte> raw = stackalloc byte[Unsafe.SizeOf<KvmArmRmeConfig>()];
        if (!_kvm.Process.TryRead(userAddress, raw))
        {
            return Errno.EFAULT;
        }

        KvmArmRmeConfig config = UapiMarshal.Read<KvmArmRmeConfig>(raw).Value;
        switch (config.Cfg)
        {
            case KvmArmRmeConfigItem.Rpv:
                ((ReadOnlySpan<byte>)config.Union)[..KvmArmRmeConfigItem.RpvSize].CopyTo(_rpv);
                return KvmResult.Success;
            case KvmArmRmeConfigItem.HashAlgo:
                int offeredBit = config.HashAlgo switch
                {
                    KvmArmRmeMeasurementAlgo.Sha256 => 32,
                    KvmArmRmeMeasurementAlgo.Sha512 => 33,
                    _ => -1,
                };
                if (offeredBit < 0 || (_kvm.FeatureRegister0 & (1UL << offeredBit)) == 0)
                {
                    return Errno.EINVAL;
                }

                _hashAlgo = config.HashAlgo;
                return KvmResult.Success;
            default:
                return Errno.EINVAL;
        }
    }

    private void UndoCreate(int vmid, ulong? paramsPage, ulong? rd, ulong? pgd, int delegated)
    {
        _kvm.Vmids.Release(vmid);
        if (paramsPage is ulong p)
        {
            _kvm.Pages.Free(p);
        }

        if (rd is ulong r)
        {
            _kvm.UndelegateAndFree(r);
        }

        if (pgd is ulong root)
        {
            for (int i = 0; i < StartTables; i++)
            {
                ulong page = root + ((ulong)i * HostPageAllocator.PageSize);
                if (i < delegated)
                {
                    _kvm.UndelegateAndFree(page);
                }
                else
                {
                    _kvm.Pages.Free(page);
                }
            }
        }
    }

    private void WriteParam(ulong page, int offset, ulong value) => _kvm.HostMemory.Write64(page + (ulong)offset, value);

    /// <summary>
    /// kvm_gmem_populate with the realm callback (§2.6, §4.6) over [gfn, gfn + pages): returns pages done, or the
    /// error of the very first page. The range is clipped at the end of the start gfn's slot.
    /// </summary>
    internal KvmResult Populate(ulong startGfn, ulong pages, ulong sourceUaddr, uint flags)
    {
        Memslot? slot = Memslots.Find(startGfn);
        if (slot is null || !slot.IsGuestMemfd)
        {
            return Errno.EINVAL;
        }

        if (slot.Gmem!.IsClosed)
        {
            return Errno.EFAULT;
        }

        pages = Math.Min(pages, slot.EndGfn - startGfn);
        ulong done = 0;
        KvmResult error = KvmResult.Success;
        for (; done < pages; done++)
        {
            error = PopulateOne(slot, startGfn + done, sourceUaddr + (done * HostPageAllocator.PageSize), flags);
            if (!error.IsSuccess)
            {
                break;
            }
        }

        return done == 0 && !error.IsSuccess ? error : KvmResult.Ok((long)done);
    }

    private KvmResult PopulateOne(Memslot slot, ulong gfn, ulong sourceUaddr, uint flags)
    {
        GuestMemfdFile file = slot.Gmem!;
        KvmResult<ulong> index = file.GetPfn(slot.Binding!, gfn, forPopulate: true, out ulong dst);
        if (!index.IsSuccess)
        {
            return index.ToResult();
        }

        if (!_attributes.RangeHasAttributes(gfn, gfn + 1, KvmMemoryAttributeBits.Private, KvmMemoryAttributeBits.Private))
        {
            return Errno.EINVAL;
        }

        // v12 pins the page that contains source_uaddr: a misaligned pointer silently uses its page's start (§2.19).
        if (_kvm.Process.Translate(sourceUaddr & ~(HostPageAllocator.PageSize - 1)) is not ulong src)
        {
            return Errno.EFAULT;
        }

        if (!_kvm.Rmi.GranuleDelegate(dst).IsSuccess)
        {
            return Errno.ENXIO;
        }

        ulong ipa = gfn << MemslotTable.PageShift;

        // v12 hands the ioctl's flags to the RMM untranslated (§2.19): both encodings of "measure" are bit 0.
        RmiResult result;
        do
        {
            result = _kvm.Rmi.DataCreate(Rd, dst, ipa, src, flags);
        }
        while (CreatedMissingTables(result, ipa, RmiRtt.MaxLevel));

        if (!result.IsSuccess)
        {
            _kvm.Rmi.GranuleUndelegate(dst);
            return Errno.ENXIO;
        }

        file.MarkPrepared(index.Value);
        Track(file);
        _private.Set(gfn, dst);
        return KvmResult.Success;
    }

    /// <summary>
    /// Whether an RMI command that needs the stage-2 walk to reach <paramref name="level"/> at <paramref name="ipa"/>
    /// should be retried: it failed with ERROR_RTT short of that level and the missing tables are now created
    /// (realm_create_rtt_levels).
    /// </summary>
    private bool CreatedMissingTables(RmiResult result, ulong ipa, int level) =>
        result.Status == RmiStatus.ErrorRtt && result.Index < level && CreateTables(ipa, result.Index, level);

    /// <summary>Creates the tables at levels (<paramref name="reached"/>, <paramref name="level"/>] that map <paramref name="ipa"/>.</summary>
    private bool CreateTables(ulong ipa, int reached, int level)
    {
        for (int l = Math.Max(reached, StartLevel) + 1; l <= level; l++)
        {
            ulong tableIpa = ipa & ~(RmiRtt.LevelSize(l - 1) - 1);
            if (_rtts.ContainsKey((l, tableIpa)))
            {
                continue;
            }

            if (_kvm.AllocateDelegated() is not ulong rtt)
            {
                return false;
            }

            if (!_kvm.Rmi.RttCreate(Rd, rtt, tableIpa, l).IsSuccess)
            {
                _kvm.UndelegateAndFree(rtt);
                return false;
            }

            _rtts[(l, tableIpa)] = rtt;
        }

        return true;
    }

    /// <summary>find_map_level: the shallowest level (below the start level) whose block at <paramref name="start"/> fits before <paramref name="end"/>.</summary>
    private int FindMapLevel(ulong start, ulong end)
    {
        int level = RmiRtt.MaxLevel;
        while (level > StartLevel)
        {
            ulong size = RmiRtt.LevelSize(level - 1);
            if (start % size != 0 || start + size > end)
            {
                break;
            }

            level--;
        }

        return level;
    }

    /// <summary>
    /// INIT_RIPAS of one gmem memslot at activation (§2.7): RAM over [base, end), creating tables where the walk stops
    /// short. An entry already ASSIGNED (a populated page) makes the RMM fail at the mapping level; v12 then skips that
    /// entry and carries on (its "FIXME" hack, §2.19).
    /// </summary>
    internal KvmResult InitRipas(ulong baseIpa, ulong endIpa)
    {
        ulong ipa = baseIpa;
        while (ipa < endIpa)
        {
            RmiResult result = _kvm.Rmi.RttInitRipas(Rd, ipa, endIpa);
            if (result.IsSuccess)
            {
                ipa = result.X1;
                continue;
            }

            if (result.Status != RmiStatus.ErrorRtt)
            {
                return Errno.ENXIO;
            }

            int level = FindMapLevel(ipa, endIpa);
            if (result.Index >= level)
            {
                ipa += RmiRtt.LevelSize(result.Index);
                continue;
            }

            if (!CreateTables(ipa, result.Index, level))
            {
                return Errno.ENOMEM;
            }
        }

        return KvmResult.Success;
    }

    /// <summary>
    /// The private fault path (§2.12): the gmem page behind <paramref name="gfn"/> is delegated and mapped with
    /// RMI_DATA_CREATE_UNKNOWN (the RMM zero-fills it). A refused delegate is a lost race: nothing to do, re-enter.
    /// <paramref name="mapped"/> tells the run loop whether this fault mapped a new page or found one already there.
    /// </summary>
    internal KvmResult FaultPrivate(Memslot slot, ulong gfn, out bool mapped)
    {
        mapped = false;
        if (_private.ContainsKey(gfn))
        {
            return KvmResult.Success;
        }

        GuestMemfdFile file = slot.Gmem!;
        KvmResult<ulong> index = file.GetPfn(slot.Binding!, gfn, forPopulate: false, out ulong pa);
        if (!index.IsSuccess)
        {
            return index.ToResult();
        }

        if (!_kvm.Rmi.GranuleDelegate(pa).IsSuccess)
        {
            return KvmResult.Success;
        }

        ulong ipa = gfn << MemslotTable.PageShift;
        RmiResult result;
        do
        {
            result = _kvm.Rmi.DataCreateUnknown(Rd, pa, ipa);
        }
        while (CreatedMissingTables(result, ipa, RmiRtt.MaxLevel));

        if (!result.IsSuccess)
        {
            _kvm.Rmi.GranuleUndelegate(pa);
            return Errno.ENXIO;
        }

        file.MarkPrepared(index.Value);
        Track(file);
        _private.Set(gfn, pa);
        mapped = true;
        return KvmResult.Success;
    }

    /// <summary>The shared fault path (§2.12): the slot's user page, mapped unprotected at level 3, always writable.</summary>
    internal KvmResult FaultShared(Memslot slot, ulong gfn)
    {
        if (_shared.Contains(gfn))
        {
            return KvmResult.Success;
        }

        if (_kvm.Process.Translate(slot.HostAddress(gfn)) is not ulong pa)
        {
            return Errno.EFAULT;
        }

        ulong ipa = (gfn << MemslotTable.PageShift) | SharedBit;
        RmiResult result;
        do
        {
            result = _kvm.Rmi.RttMapUnprotected(Rd, ipa, RmiRtt.MaxLevel, pa | UnprotectedAttributes);
        }
        while (CreatedMissingTables(result, ipa, RmiRtt.MaxLevel));

        if (!result.IsSuccess)
        {
            return Errno.ENXIO;
        }

        _shared.Add(gfn);
        return KvmResult.Success;
    }

    /// <summary>
    /// The pre-entry half of a RIPAS change (§2.13 step 4): RMI_RTT_SET_RIPAS over [base, top) on behalf of the REC,
    /// creating tables where the walk stops short. Returns how far it got; for EMPTY the protected pages of the
    /// converted part are destroyed.
    /// </summary>
    internal ulong SetRipas(ulong rec, ulong baseIpa, ulong topIpa, bool toEmpty)
    {
        ulong start = baseIpa;
        ulong ipa = baseIpa;
        while (ipa < topIpa)
        {
            RmiResult result = _kvm.Rmi.RttSetRipas(Rd, rec, ipa, topIpa);
            if (result.Status == RmiStatus.ErrorRtt)
            {
                int level = FindMapLevel(ipa, topIpa);
                if (result.Index < level && CreateTables(ipa, result.Index, level))
                {
                    continue;
                }
            }

            if (!result.IsSuccess)
            {
                break;
            }

            ipa = result.X1;
        }

        if (toEmpty && ipa > start)
        {
            UnmapPrivate(start >> MemslotTable.PageShift, ipa >> MemslotTable.PageShift);
        }

        return ipa;
    }

    /// <summary>Destroys the protected data pages of [startGfn, endGfn): RMI_DATA_DESTROY, then undelegate (the page stays the file's).</summary>
    internal void UnmapPrivate(ulong startGfn, ulong endGfn)
    {
        if (State is RealmState.None || _private.Count == 0)
        {
            return;
        }

        foreach ((ulong gfn, ulong pa) in _private.Range(startGfn, endGfn))
        {
            if (!_kvm.Rmi.DataDestroy(Rd, gfn << MemslotTable.PageShift).IsSuccess || !_kvm.Rmi.GranuleUndelegate(pa).IsSuccess)
            {
                // The page may still be the realm's; it must never go back to the allocator, even when the
                // guest_memfd file later lets go of it (§2.17).
                _kvm.Pages.Leak(pa);
            }

            _private.Remove(gfn);
        }
    }

    /// <summary>Removes the unprotected mappings of [startGfn, endGfn) (RMI_RTT_UNMAP_UNPROTECTED).</summary>
    internal void UnmapShared(ulong startGfn, ulong endGfn)
    {
        if (State is RealmState.None || _shared.Count == 0)
        {
            return;
        }

        foreach (ulong gfn in _shared.GetViewBetween(startGfn, endGfn == 0 ? 0 : endGfn - 1).ToList())
        {
            _kvm.Rmi.RttUnmapUnprotected(Rd, (gfn << MemslotTable.PageShift) | SharedBit, RmiRtt.MaxLevel);
            _shared.Remove(gfn);
        }
    }

    /// <summary>Whether a protected page is mapped at <paramref name="gfn"/>.</summary>
    public bool IsPrivateMapped(ulong gfn) => _private.ContainsKey(gfn);

    /// <summary>The guest_memfd punch-hole hook (kvm_gmem_invalidate_begin): zap the gfns every binding of the file maps there.</summary>
    private void Track(GuestMemfdFile file)
    {
        if (_watchedFiles.Add(file))
        {
            file.Invalidating += OnGmemInvalidating;
        }
    }

    private void OnGmemInvalidating(object? sender, GmemInvalidationEventArgs e)
    {
        foreach (Memslot slot in Memslots.Slots.Where(s => ReferenceEquals(s.Gmem, sender)).ToList())
        {
            if (slot.Binding!.GfnRangeOf(e.StartIndex, e.EndIndex) is (ulong start, ulong end))
            {
                UnmapPrivate(start, end);
            }
        }
    }

    /// <summary>
    /// kvm_destroy_realm and the stage-2 teardown before it (§2.17): unmap everything, destroy the RTTs bottom-up,
    /// then (after the caller destroyed the RECs) the realm, its descriptor, VMID and root tables. Every granule
    /// goes back to the non-secure world or is leaked if the RMM refuses it.
    /// </summary>
    internal void DestroyMappings()
    {
        if (Rd == 0)
        {
            return;
        }

        State = RealmState.Dying;
        UnmapShared(0, ulong.MaxValue >> MemslotTable.PageShift);
        UnmapPrivate(0, ulong.MaxValue);
        foreach (((int level, ulong ipa), ulong rtt) in _rtts.OrderByDescending(e => e.Key.Level).ThenBy(e => e.Key.Ipa).ToList())
        {
            if (_kvm.Rmi.RttDestroy(Rd, ipa, level).IsSuccess)
            {
                _kvm.UndelegateAndFree(rtt);
            }
            else
            {
                _kvm.Pages.Leak(rtt);
            }

            _rtts.Remove((level, ipa));
        }

        foreach (GuestMemfdFile file in _watchedFiles)
        {
            file.Invalidating -= OnGmemInvalidating;
        }

        _watchedFiles.Clear();
    }

    internal void DestroyRealm()
    {
        if (Rd == 0)
        {
            State = RealmState.Dead;
            return;
        }

        if (_kvm.Rmi.RealmDestroy(Rd).IsSuccess)
        {
            _kvm.UndelegateAndFree(Rd);
            for (int i = 0; i < StartTables; i++)
            {
                _kvm.UndelegateAndFree(RttBase + ((ulong)i * HostPageAllocator.PageSize));
            }
        }
        else
        {
            _kvm.Pages.Leak(Rd);
            for (int i = 0; i < StartTables; i++)
            {
                _kvm.Pages.Leak(RttBase + ((ulong)i * HostPageAllocator.PageSize));
            }
        }

        _kvm.Vmids.Release(Vmid);
        Vmid = -1;
        Rd = 0;
        State = RealmState.Dead;
    }
}
