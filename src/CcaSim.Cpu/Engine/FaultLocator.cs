using CcaSim.Cpu.Arch;

namespace CcaSim.Cpu.Engine;

/// <summary>
/// Finds the instruction behind a stage-2 data fault (G8). Unicorn 2.1.1 reports such a fault with PC at the start
/// of the translation block, but the registers inside the unmapped hook are exactly those before the faulting
/// access. So: decode the block's load/stores (the BLOCK hook recorded its start and size) and keep those whose
/// effective address, computed from those registers, covers the fault address with the same direction and size.
/// </summary>
/// <remarks>
/// Ambiguity rule (deterministic): candidate j is possible only if every earlier candidate i had one of its address
/// registers written between i and j (else i would have accessed the same address and faulted first). Of the
/// possible candidates the last one is taken: the remaining ambiguity is a pointer stepped onto the fault page
/// (<c>ldr x1,[x0]; add x0,x0,#8; ldr x2,[x0]</c>), where the later access is the usual one. With the guest MMU
/// on, the hook gets the physical address, so only the page offset is compared.
/// </remarks>
internal static class FaultLocator
{
    internal readonly record struct Result(bool Found, ulong Pc, LoadStore Access, ulong Va);

    public static Result Locate(Vcpu vcpu, ulong tbStart, uint tbSize, ulong faultAddress, int faultSize, bool isWrite, bool mmuOn, ulong[] registers)
    {
        int count = (int)Math.Min(tbSize / 4, 512);
        Span<uint> words = count <= 128 ? stackalloc uint[count] : new uint[count];
        if (count == 0 || !vcpu.TryReadCode(tbStart, words))
        {
            return new Result(false, tbStart, default, faultAddress);
        }

        int chosen = -1;
        LoadStore chosenAccess = default;
        ulong chosenVa = faultAddress;
        Span<int> candidates = stackalloc int[count];
        int candidateCount = 0;
        for (int i = 0; i < count; i++)
        {
            if (!A64Decoder.TryDecodeLoadStore(words[i], out LoadStore access) || access.IsWrite != isWrite || !SizeFits(access, faultSize))
            {
                continue;
            }

            // registers holds x0..x30 then SP (31), as the unmapped hook read them.
            ulong ea = access.EffectiveAddress(registers.AsSpan(0, 31), registers[31], tbStart + ((ulong)i * 4));
            ulong span = (ulong)access.Size * (access.Pair ? 2UL : 1UL);
            ulong delta = mmuOn ? (faultAddress - ea) & 0xFFF : faultAddress - ea;
            if (delta >= span)
            {
                continue;
            }

            if (!PossibleAfter(words, candidates[..candidateCount], i))
            {
                continue;
            }

            candidates[candidateCount++] = i;
            chosen = i;
            chosenAccess = access;
            chosenVa = ea + delta;
        }

        return chosen < 0
            ? new Result(false, tbStart, default, faultAddress)
            : new Result(true, tbStart + ((ulong)chosen * 4), chosenAccess, chosenVa);
    }

    /// <summary>
    /// Unicorn reports the size of the access that faulted: one register's worth (a pair is two accesses, a 16-byte
    /// SIMD&amp;FP access may come as two 8-byte halves). A load/store of another size cannot be the one, which
    /// settles the common ambiguity of a block holding two loads from the same base register.
    /// </summary>
    private static bool SizeFits(in LoadStore access, int faultSize) =>
        faultSize <= 0 || access.Size == faultSize || access.TotalSize == faultSize || (access.Size > 8 && faultSize == 8);

    private static bool PossibleAfter(ReadOnlySpan<uint> words, ReadOnlySpan<int> earlier, int candidate)
    {
        foreach (int i in earlier)
        {
            A64Decoder.TryDecodeLoadStore(words[i], out LoadStore access);
            bool redefined = false;
            for (int k = i; k < candidate && !redefined; k++)
            {
                redefined = WritesAny(words[k], access, k == i);
            }

            if (!redefined)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Whether the load/store writes general-purpose register <paramref name="register"/> (31 = SP): the written-back
    /// base, a loaded Rt/Rt2 (31 there is XZR, never written), an exclusive store's status register.
    /// </summary>
    private static bool WritesRegister(in LoadStore access, int register)
    {
        if (access.Writeback && register == access.Rn)
        {
            return true;
        }

        if (register == 31)
        {
            return false;
        }

        bool loadsGpr = !access.IsSimdFp && (!access.IsWrite || access.IsAtomic);
        return (loadsGpr && (register == access.Rt || (access.Pair && register == access.Rt2)))
            || (access.IsExclusive && access.IsWrite && register == access.Rs);
    }

    private static bool WritesAny(uint word, LoadStore addressUser, bool isSelf)
    {
        int rn = addressUser.Rn;
        int rm = addressUser.Rm;
        if (A64Decoder.TryDecodeLoadStore(word, out LoadStore access))
        {
            return WritesRegister(access, rn) || (rm >= 0 && WritesRegister(access, rm));
        }

        if (isSelf)
        {
            return false;
        }

        // Not a load/store: most A64 data-processing instructions name their destination in bits 4:0. Treating
        // every other instruction that way over-approximates, which only keeps more candidates possible.
        int rd = (int)(word & 31);
        return rd == rn || rd == rm;
    }
}
