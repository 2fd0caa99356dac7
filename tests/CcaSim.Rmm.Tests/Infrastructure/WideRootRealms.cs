namespace CcaSim.Rmm.Tests.Infrastructure;

/// <summary>
/// Realms with one root RTT that spans more than the IPA space (s2sz, start level, end of the root table):
/// B3.76 RttSkipNonLiveEntries returns the IPA after the table's last entry, and a table has 512 entries
/// (C1.28), so the `top` that RTT_DESTROY, DATA_DESTROY and RTT_UNMAP_UNPROTECTED report may lie beyond 2^s2sz.
/// </summary>
public static class WideRootRealms
{
    public static TheoryData<byte, long, ulong> Cases => new()
    {
        { 32, 1, 0x80_0000_0000 },
        { 36, 1, 0x80_0000_0000 },
        { 40, 0, 1UL << 48 },
    };
}
