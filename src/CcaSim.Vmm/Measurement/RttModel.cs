namespace CcaSim.Vmm.Measurement;

/// <summary>
/// Which RTTs a new realm has and which of its 4 KiB entries are ASSIGNED, enough to replay v12 KVM's activation
/// INIT_RIPAS walk (kvm-realm-abi.md §2.7) against RMI_RTT_INIT_RIPAS (rmm-1.0.md §3.20) offline and list the entries
/// it measures (§8.4). Geometry as KVM derives it from the IPA width: 4 KiB granules, 9 bits a level, the start level
/// 4 − (ipa_bits − 8) / 9 with concatenated 512-entry root tables.
/// </summary>
internal sealed class RttModel
{
    private const int MaxLevel = 3;
    private const int EntriesPerTable = 512;

    /// <summary>RTTs below the start level, by (level of their entries, base IPA of the span they cover).</summary>
    private readonly HashSet<(int Level, ulong Base)> _tables = [];
    private readonly HashSet<ulong> _assigned = [];

    public RttModel(int ipaBits)
    {
        StartLevel = 4 - ((ipaBits - 8) / 9);
    }

    public int StartLevel { get; }

    /// <summary>Bytes one entry at <paramref name="level"/> maps (level 3: 4 KiB, 2: 2 MiB, 1: 1 GiB).</summary>
    public static ulong LevelSize(int level) => 1UL << (12 + (9 * (MaxLevel - level)));

    /// <summary>
    /// KVM_ARM_RMI_POPULATE of one page: KVM creates the missing tables down to level 3 (its CreateTables on
    /// ERROR_RTT), then RMI_DATA_CREATE makes the level-3 entry ASSIGNED.
    /// </summary>
    public void Populate(ulong ipa)
    {
        CreateTables(ipa, StartLevel, MaxLevel);
        _assigned.Add(ipa);
    }

    /// <summary>
    /// KVM's INIT_RIPAS loop over [<paramref name="baseIpa"/>, <paramref name="endIpa"/>): each call processes the
    /// entries of the one table the walk reaches; ERROR_RTT at or below the level KVM would map at skips that entry
    /// (v12's skip of populated pages, §2.19), above it KVM creates tables and retries. Yields each measured span.
    /// </summary>
    public IEnumerable<(ulong Base, ulong Top)> InitRipas(ulong baseIpa, ulong endIpa)
    {
        ulong ipa = baseIpa;
        while (ipa < endIpa)
        {
            int level = WalkLevel(ipa);
            ulong span = LevelSize(level);
            ulong tableEnd = (ipa & ~((span * EntriesPerTable) - 1)) + (span * EntriesPerTable);
            ulong addr = ipa;
            if (ipa % span == 0)
            {
                while (addr < tableEnd && addr + span <= endIpa && IsUnassigned(level, addr))
                {
                    yield return (addr, addr + span);
                    addr += span;
                }
            }

            if (addr != ipa)
            {
                ipa = addr;
                continue;
            }

            // ERROR_RTT(level): base not aligned to the walk level, an ASSIGNED entry, or no progress.
            int mapLevel = FindMapLevel(ipa, endIpa);
            if (level >= mapLevel)
            {
                ipa += LevelSize(level);
            }
            else
            {
                CreateTables(ipa, level, mapLevel);
            }
        }
    }

    /// <summary>The level of the entry the RMM's walk towards level 3 stops at.</summary>
    private int WalkLevel(ulong ipa)
    {
        int level = StartLevel;
        while (level < MaxLevel && _tables.Contains((level + 1, ipa & ~(LevelSize(level) - 1))))
        {
            level++;
        }

        return level;
    }

    private bool IsUnassigned(int level, ulong ipa) =>
        level == MaxLevel ? !_assigned.Contains(ipa) : !_tables.Contains((level + 1, ipa));

    /// <summary>KVM's find_map_level: the shallowest level below the start level whose block at start fits before end.</summary>
    private int FindMapLevel(ulong start, ulong end)
    {
        int level = MaxLevel;
        while (level > StartLevel)
        {
            ulong size = LevelSize(level - 1);
            if (start % size != 0 || start + size > end)
            {
                break;
            }

            level--;
        }

        return level;
    }

    private void CreateTables(ulong ipa, int reached, int level)
    {
        for (int l = Math.Max(reached, StartLevel) + 1; l <= level; l++)
        {
            _tables.Add((l, ipa & ~(LevelSize(l - 1) - 1)));
        }
    }
}
