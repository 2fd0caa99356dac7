using CcaSim.Platform.Memory;

namespace CcaSim.Rmm.Granules;

/// <summary>
/// The RMM's granule array (TF-RMM's <c>granules[]</c>): one state and one owning object per granule of the
/// memory the RMM manages. Sparse: a 2 MiB chunk of slots exists only once one of its granules left UNDELEGATED.
/// </summary>
internal sealed class GranuleTable
{
    private const int ChunkShift = 9;
    private const int ChunkGranules = 1 << ChunkShift;

    private readonly PhysicalMemory _memory;
    private readonly Slot[]?[] _chunks;
    private readonly long[] _counts = new long[7];

    public GranuleTable(PhysicalMemory memory)
    {
        _memory = memory;
        _chunks = new Slot[]?[(memory.GranuleCount + ChunkGranules - 1) >> ChunkShift];
        _counts[(int)GranuleState.Undelegated] = (long)memory.GranuleCount;
    }

    public ulong Base => _memory.Base;

    public ulong GranuleCount => _memory.GranuleCount;

    /// <summary>The X_align and X_bound checks: a 4 KiB aligned address of memory the RMM manages.</summary>
    public bool IsValidAddress(ulong pa) => pa % PhysicalMemory.GranuleSize == 0 && _memory.Contains(pa, PhysicalMemory.GranuleSize);

    public GranuleState StateOf(ulong pa)
    {
        ulong index = _memory.GranuleIndex(pa);
        Slot[]? chunk = _chunks[index >> ChunkShift];
        return chunk is null ? GranuleState.Undelegated : chunk[index & (ChunkGranules - 1)].State;
    }

    /// <summary>Align, bound and state in one check, as TF-RMM's granule lookup does.</summary>
    public bool Is(ulong pa, GranuleState expected) => IsValidAddress(pa) && StateOf(pa) == expected;

    public object? OwnerOf(ulong pa)
    {
        ulong index = _memory.GranuleIndex(pa);
        Slot[]? chunk = _chunks[index >> ChunkShift];
        return chunk?[index & (ChunkGranules - 1)].Owner;
    }

    /// <summary>The one transition function for granule state; an illegal transition is an RMM bug.</summary>
    public void Transition(ulong pa, GranuleState from, GranuleState to, object? owner = null)
    {
        ulong index = _memory.GranuleIndex(pa);
        ref Slot[]? chunk = ref _chunks[index >> ChunkShift];
        chunk ??= new Slot[ChunkGranules];
        ref Slot slot = ref chunk[index & (ChunkGranules - 1)];
        if (slot.State != from || !GranuleStateMachine.IsLegal(from, to))
        {
            throw new InvalidOperationException($"illegal granule transition {slot.State}->{to} (expected {from}) at 0x{pa:x}");
        }

        slot.State = to;
        slot.Owner = owner;
        _counts[(int)from]--;
        _counts[(int)to]++;
    }

    /// <summary>Number of granules currently in <paramref name="state"/>.</summary>
    public long Count(GranuleState state) => _counts[(int)state];

    /// <summary>Every granule not UNDELEGATED, in address order (diagnostics).</summary>
    public IEnumerable<(ulong Pa, GranuleState State, object? Owner)> NonUndelegated()
    {
        for (ulong c = 0; c < (ulong)_chunks.Length; c++)
        {
            Slot[]? chunk = _chunks[c];
            if (chunk is null)
            {
                continue;
            }

            for (int i = 0; i < ChunkGranules; i++)
            {
                if (chunk[i].State != GranuleState.Undelegated)
                {
                    yield return (_memory.GranuleAddress((c << ChunkShift) + (ulong)i), chunk[i].State, chunk[i].Owner);
                }
            }
        }
    }

    private struct Slot
    {
        public GranuleState State;
        public object? Owner;
    }
}
