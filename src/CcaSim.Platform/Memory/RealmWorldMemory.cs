namespace CcaSim.Platform.Memory;

/// <summary>
/// The Realm world's view of physical memory, handed by the monitor to the RMM alone. Besides the checked
/// byte accessors it gives whole-granule views (the model of TF-RMM's slot buffers), still checked against
/// the GPT: the RMM can map Realm and Non-secure granules, never Secure or Root ones.
/// </summary>
public sealed class RealmWorldMemory : MemoryAccessor
{
    internal RealmWorldMemory(PhysicalMemory memory, GranuleProtectionTable gpt)
        : base(memory, gpt, AccessWorld.Realm)
    {
    }

    /// <summary>Read-only view of a whole granule (zeroes if it was never written). The caller checked the address is a granule of the pool.</summary>
    public ReadOnlySpan<byte> ReadGranule(ulong pa)
    {
        EnsureGranule(pa);
        return Memory.ReadGranule(Memory.GranuleIndex(pa));
    }

    /// <summary>Writable view of a whole granule.</summary>
    public Span<byte> MapGranule(ulong pa)
    {
        EnsureGranule(pa);
        return Memory.WriteGranule(Memory.GranuleIndex(pa));
    }

    /// <summary>Scrubs a granule.</summary>
    public void ZeroGranule(ulong pa)
    {
        EnsureGranule(pa);
        Memory.ZeroGranule(Memory.GranuleIndex(pa));
    }

    /// <summary>True when the granule was never written since it was last zeroed (reads as zero).</summary>
    public bool IsGranuleZero(ulong pa)
    {
        EnsureGranule(pa);
        return !Memory.IsCommitted(Memory.GranuleIndex(pa)) || !Memory.ReadGranule(Memory.GranuleIndex(pa)).ContainsAnyExcept((byte)0);
    }

    private void EnsureGranule(ulong pa)
    {
        MemoryAccessStatus status = Check(pa & ~(ulong)(PhysicalMemory.GranuleSize - 1), PhysicalMemory.GranuleSize);
        if (status != MemoryAccessStatus.Ok || pa % PhysicalMemory.GranuleSize != 0)
        {
            // The RMM validates addresses before mapping them; reaching here is an RMM bug.
            throw new GranuleProtectionFaultException(pa, status == MemoryAccessStatus.Ok ? MemoryAccessStatus.OutOfRange : status);
        }
    }
}
