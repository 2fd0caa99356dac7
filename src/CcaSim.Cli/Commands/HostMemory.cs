namespace CcaSim.Cli.Commands;

/// <summary>The default bound on host memory the simulated DRAM may take (<c>--host-memory-limit</c>).</summary>
internal static class HostMemory
{
    /// <summary>
    /// 4 GiB, the same on every machine so that a script's transcript (where its <c>E nomem</c> lines start) does
    /// not depend on the host; four times the default pool. Past some bound, writes into thousands of distinct
    /// 2 MiB regions of a 1 TiB pool would end the process with OutOfMemoryException instead of a line.
    /// </summary>
    public const ulong DefaultLimit = 4UL << 30;
}
