namespace CcaSim.Platform.Memory;

/// <summary>
/// The Granule Protection Table: one PAS per granule of <see cref="PhysicalMemory"/>. Every granule starts
/// Non-secure unless the platform description says otherwise. Only the <see cref="Monitor.SecureMonitor"/>
/// (the EL3 model) changes an entry, when the RMM asks it to on delegate/undelegate; everybody else reads.
/// </summary>
public sealed class GranuleProtectionTable
{
    private const int ChunkShift = 12;
    private const int ChunkGranules = 1 << ChunkShift;

    private readonly PhysicalMemory _memory;
    private readonly byte[]?[] _chunks;

    internal GranuleProtectionTable(PhysicalMemory memory)
    {
        _memory = memory;
        _chunks = new byte[]?[(memory.GranuleCount + ChunkGranules - 1) >> ChunkShift];
    }

    /// <summary>PAS of the granule holding <paramref name="pa"/>; addresses outside the pool report Root (nothing may touch them).</summary>
    public Pas this[ulong pa] => _memory.Contains(pa) ? Get(_memory.GranuleIndex(pa)) : Pas.Root;

    internal Pas Get(ulong index)
    {
        byte[]? chunk = _chunks[index >> ChunkShift];
        return chunk is null ? Pas.NonSecure : (Pas)chunk[index & (ChunkGranules - 1)];
    }

    internal void Set(ulong index, Pas pas)
    {
        ref byte[]? chunk = ref _chunks[index >> ChunkShift];
        if (chunk is null)
        {
            if (pas == Pas.NonSecure)
            {
                return;
            }

            chunk = new byte[ChunkGranules];
        }

        chunk[index & (ChunkGranules - 1)] = (byte)pas;
    }

    /// <summary>Addresses of every granule whose PAS is not Non-secure, in address order.</summary>
    public IEnumerable<(ulong Pa, Pas Pas)> NonSecureExceptions()
    {
        for (ulong c = 0; c < (ulong)_chunks.Length; c++)
        {
            byte[]? chunk = _chunks[c];
            if (chunk is null)
            {
                continue;
            }

            for (int i = 0; i < ChunkGranules; i++)
            {
                if (chunk[i] != (byte)Pas.NonSecure)
                {
                    yield return (_memory.GranuleAddress((c << ChunkShift) + (ulong)i), (Pas)chunk[i]);
                }
            }
        }
    }

    /// <summary>The granule protection check: may <paramref name="world"/> access a granule in <paramref name="pas"/>?</summary>
    public static bool Permits(AccessWorld world, Pas pas) =>
        pas == Pas.NonSecure || (world == AccessWorld.Realm && pas == Pas.Realm);
}
