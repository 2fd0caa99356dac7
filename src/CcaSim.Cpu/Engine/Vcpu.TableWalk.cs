using CcaSim.Cpu.Unicorn;
using CcaSim.Platform.Execution;

namespace CcaSim.Cpu.Engine;

/// <summary>
/// Stage-1 table pages for the lazy stage-2 mapping: Unicorn's table walker reads guest memory without the
/// MEM_UNMAPPED hook, so a table page this engine has not mapped yet reads as a translation fault. A vCPU that turns
/// its MMU on with tables another vCPU built (never touched by this one) would take that fault forever.
/// </summary>
internal sealed unsafe partial class Vcpu
{
    private const ulong DescriptorAddressMask = 0x0000_FFFF_FFFF_F000;

    /// <summary>
    /// Walks the stage-1 tables for <paramref name="va"/> (4 KiB granule, the only one the platform's guests use)
    /// and maps every table page on the way that stage 2 maps but this engine has not yet. True when it mapped one:
    /// the access must be retried instead of taking the abort.
    /// </summary>
    private bool MapStage1TablesFor(ulong va)
    {
        if (Memory is null)
        {
            return false;
        }

        ulong tcr = ReadSys(3, 0, 2, 0, 2);
        bool upper = ((va >> 55) & 1) != 0;
        int txsz = (int)((upper ? tcr >> 16 : tcr) & 0x3F);
        bool walksDisabled = ((tcr >> (upper ? 23 : 7)) & 1) != 0;
        ulong granule = upper ? (tcr >> 30) & 3 : (tcr >> 14) & 3;
        bool fourK = upper ? granule == 2 : granule == 0;
        if (walksDisabled || !fourK || txsz < 16 || txsz > 39)
        {
            return false;
        }

        int inputSize = 64 - txsz;
        int level = 4 - ((inputSize - 12 + 8) / 9); // levels resolve 9 bits each above the 12-bit page offset
        ulong table = ReadReg(upper ? Uc.RegTtbr1El1 : Uc.RegTtbr0El1) & 0x0000_FFFF_FFFF_FFFE;
        bool mappedAny = false;
        for (; level <= 3; level++)
        {
            int shift = 12 + (9 * (3 - level));
            int bits = Math.Min(9, inputSize - shift);
            ulong entry = table + (((va >> shift) & ((1UL << bits) - 1)) * 8);
            ulong page = entry & PageMask;
            if (!_mapped.Contains(page))
            {
                Stage2Page stage2 = Memory.Lookup(page);
                if (stage2.Kind != Stage2PageKind.Mapped || stage2.Host == 0)
                {
                    return mappedAny;
                }

                uint perms = Uc.ProtRead | (stage2.Writable ? Uc.ProtWrite : 0) | (stage2.Executable ? Uc.ProtExec : 0);
                Check(Native.uc_mem_map_ptr(_uc, page, (nuint)PageSize, perms, (void*)stage2.Host), "uc_mem_map_ptr");
                _mapped.Add(page);
                mappedAny = true;
            }

            ulong descriptor = 0;
            if (level == 3 || Native.uc_mem_read(_uc, entry, &descriptor, 8) != UcErr.Ok || (descriptor & 3) != 3)
            {
                return mappedAny;
            }

            table = descriptor & DescriptorAddressMask;
        }

        return mappedAny;
    }
}
