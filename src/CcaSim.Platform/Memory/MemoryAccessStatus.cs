namespace CcaSim.Platform.Memory;

/// <summary>Outcome of a physical memory access.</summary>
public enum MemoryAccessStatus : byte
{
    Ok = 0,

    /// <summary>The granule protection check failed: the granule's PAS is not accessible from the accessing world.</summary>
    GranuleProtectionFault = 1,

    /// <summary>The address is not backed by the physical memory pool (an external abort on real hardware).</summary>
    OutOfRange = 2,

    /// <summary>
    /// A normal-world write needed new host storage past the pool's commit limit (a simulator limit with no
    /// hardware counterpart: the process backing the simulated DRAM is out of memory). Nothing was written.
    /// </summary>
    StorageExhausted = 3,
}

/// <summary>
/// Thrown by the throwing accessors of <see cref="MemoryAccessor"/> when a host access touches a protected granule:
/// the model of the granule protection fault that Linux handles in the seed's patch 02.
/// </summary>
public sealed class GranuleProtectionFaultException : Exception
{
    public GranuleProtectionFaultException(ulong address, MemoryAccessStatus status)
        : base($"{(status == MemoryAccessStatus.GranuleProtectionFault ? "granule protection fault" : "access outside physical memory")} at PA 0x{address:x}")
    {
        Address = address;
        Status = status;
    }

    public GranuleProtectionFaultException() : this(0, MemoryAccessStatus.GranuleProtectionFault) { }

    public GranuleProtectionFaultException(string message) : base(message) { }

    public GranuleProtectionFaultException(string message, Exception inner) : base(message, inner) { }

    /// <summary>The faulting physical address.</summary>
    public ulong Address { get; }

    public MemoryAccessStatus Status { get; }
}
