namespace CcaSim.Vmm;

/// <summary>What a <see cref="VmmEvent"/> reports.</summary>
public enum VmmEventKind
{
    /// <summary>A region is about to be populated (Address, Size; Detail = kernel/initrd/dtb).</summary>
    Populate,

    /// <summary>One KVM_ARM_RMI_POPULATE of a region completed (Address and Size of that step; Detail = the region), for progress displays.</summary>
    Populated,

    /// <summary>A KVM_RUN ended (Detail = the exit reason, or "EINTR" at the end of a time slice).</summary>
    Exit,

    /// <summary>An MMIO access (Address, Size, Value, IsWrite; Detail = "uart" or "unhandled").</summary>
    Mmio,

    /// <summary>A realm's RIPAS change reached the VMM as KVM_EXIT_MEMORY_FAULT (Address, Size; Detail = private/shared).</summary>
    MemoryFault,

    /// <summary>A PSCI system event (Detail = shutdown/reset/crash).</summary>
    SystemEvent,

    /// <summary>An SMCCC call KVM passed to the VMM (Value = function id); answered NOT_SUPPORTED.</summary>
    Hypercall,
}

/// <summary>One thing that happened in the run loop, for traces; <see cref="VirtualTime"/> is the system counter.</summary>
public readonly record struct VmmEvent(VmmEventKind Kind, int Vcpu, ulong VirtualTime, ulong Address = 0, ulong Size = 0, ulong Value = 0, bool IsWrite = false, string? Detail = null);
