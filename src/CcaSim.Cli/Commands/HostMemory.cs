namespace CcaSim.Cli.Commands;

/// <summary>The default bound on host memory the simulated DRAM may take (<c>--host-memory-limit</c>).</summary>
internal static class HostMemory
{
    /// <summary>
    /// Half of what the runtime says the process may use: past it, a write the host could go on making into a
    /// 1 TiB pool would end the process with OutOfMemoryException instead of an <c>E nomem</c> line.
    /// </summary>
    public static ulong DefaultLimit()
    {
        long available = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        return available > 0 ? (ulong)available / 2 : 4UL << 30;
    }
}
