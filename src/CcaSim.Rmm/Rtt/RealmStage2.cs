using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;
using CcaSim.Rmm.Realms;

namespace CcaSim.Rmm.Rtt;

/// <summary>What a realm access at an IPA finds through stage 2 (rmm-1.0.md §5.4).</summary>
internal enum Stage2Access : byte
{
    /// <summary>Mapped: ASSIGNED RAM (protected) or ASSIGNED_NS (unprotected).</summary>
    Mapped,

    /// <summary>Protected IPA with RIPAS EMPTY: the realm gets a synchronous external abort; RSI calls fail with ERROR_INPUT.</summary>
    Empty,

    /// <summary>Not mapped (UNASSIGNED RAM/DESTROYED, ASSIGNED DESTROYED, UNASSIGNED_NS): a stage-2 fault the host must resolve.</summary>
    Unmapped,

    /// <summary>Outside the IPA space.</summary>
    OutOfRange,
}

/// <summary>
/// A realm's stage 2 as the RMM derives it from the RTTs: the view engines execute through, and the one the
/// RMM itself uses when an RSI call reads or writes realm memory. Accesses do not cross a granule.
/// </summary>
internal sealed class RealmStage2 : IRealmMemory
{
    private readonly Realm _realm;
    private readonly RealmWorldMemory _memory;
    private readonly Func<ulong, RttTable> _tableAt;

    public RealmStage2(Realm realm, RealmWorldMemory memory, Func<ulong, RttTable> tableAt)
    {
        _realm = realm;
        _memory = memory;
        _tableAt = tableAt;
    }

    /// <summary>Translates <paramref name="ipa"/>; <paramref name="level"/> is the level where the walk stopped.</summary>
    public Stage2Access Translate(ulong ipa, out ulong pa, out int level)
    {
        pa = 0;
        level = _realm.StartLevel;
        if (ipa >= _realm.IpaSize)
        {
            return Stage2Access.OutOfRange;
        }

        RttWalk walk = _realm.Walk(ipa, 3, _tableAt);
        level = walk.Level;
        RttEntry e = walk.Entry;
        ulong offset = ipa & (S2Geometry.Span(walk.Level) - 1);
        switch (e.Hipas)
        {
            case Hipas.Assigned when e.Ripas == Ripas.Ram:
            case Hipas.AssignedNs:
                pa = e.Address + offset;
                return Stage2Access.Mapped;
            case Hipas.Assigned or Hipas.Unassigned when e.Ripas == Ripas.Empty:
                return Stage2Access.Empty;
            default:
                return Stage2Access.Unmapped;
        }
    }

    public bool TryRead(ulong ipa, Span<byte> destination) =>
        Fits(ipa, destination.Length) && Translate(ipa, out ulong pa, out _) == Stage2Access.Mapped
        && _memory.TryRead(pa, destination) == MemoryAccessStatus.Ok;

    public bool TryWrite(ulong ipa, ReadOnlySpan<byte> source) =>
        Fits(ipa, source.Length) && Translate(ipa, out ulong pa, out _) == Stage2Access.Mapped
        && _memory.TryWrite(pa, source) == MemoryAccessStatus.Ok;

    /// <summary>
    /// The page as a CPU engine maps it (§5.4): ASSIGNED RAM is the DATA granule, read/write/execute; ASSIGNED_NS is
    /// the host's NS granule, read/write but never executable (an instruction fetch from the unprotected half is an
    /// SEA, §5.7); EMPTY and outside the IPA space abort in the realm; anything else is a fault for the host.
    /// </summary>
    public Stage2Page Lookup(ulong ipa)
    {
        Stage2Access access = Translate(ipa, out ulong pa, out _);
        switch (access)
        {
            case Stage2Access.Mapped:
                nint host = _memory.TryGetHostAddress(pa);
                if (host == 0)
                {
                    return new Stage2Page(Stage2PageKind.Unmapped);
                }

                bool isProtected = _realm.IsProtected(ipa);
                return new Stage2Page(Stage2PageKind.Mapped, host, Writable: true, Executable: isProtected);
            case Stage2Access.Empty:
                return new Stage2Page(Stage2PageKind.Empty);
            case Stage2Access.OutOfRange:
                return new Stage2Page(Stage2PageKind.OutOfRange);
            default:
                return new Stage2Page(Stage2PageKind.Unmapped);
        }
    }

    private static bool Fits(ulong ipa, int length) => (ipa & (PhysicalMemory.GranuleSize - 1)) + (ulong)length <= PhysicalMemory.GranuleSize;
}
