namespace CcaSim.Kvm.Run;

/// <summary>
/// What the realm run loop needs from the in-kernel interrupt controller (§2.16): list registers in and out of
/// rec_run around each entry, timer lines from each exit, and MMIO on its frames (the realm reaches the GIC
/// through the unprotected alias; KVM emulates it without leaving the kernel).
/// </summary>
public interface IInKernelIrqchip
{
    /// <summary>Fills up to <paramref name="numLrs"/> list registers with the vCPU's pending interrupts; returns ICH_HCR_EL2.</summary>
    ulong FlushToListRegisters(int vcpuIndex, Span<ulong> lrs, int numLrs);

    /// <summary>Takes back the list registers after an exit (what the realm acknowledged or completed).</summary>
    void SyncFromListRegisters(int vcpuIndex, ReadOnlySpan<ulong> lrs, int count);

    /// <summary>Drives a timer PPI of one vCPU from the timer state in rec_exit.</summary>
    void SetTimerLevel(int vcpuIndex, int ppi, bool level);

    /// <summary>Whether KVM_DEV_ARM_VGIC_CTRL_INIT happened (there is interrupt state to drive).</summary>
    bool IsInitialized { get; }

    /// <summary>A trapped ICC_SGI1R_EL1 (or ASGI1R / SGI0R) write of one vCPU: the SGI goes to its targets.</summary>
    void DispatchSgi(int vcpuIndex, ulong iccSgi1r);

    /// <summary>kvm_vgic_vcpu_pending_irq: an interrupt the vCPU would take is pending.</summary>
    bool HasPendingFor(int vcpuIndex);

    /// <summary>Records the vCPU's ICH_VMCR_EL2 (its priority mask) as of its last exit.</summary>
    void SetVmcr(int vcpuIndex, ulong vmcr);

    /// <summary>Emulates an access to a GIC frame; false when <paramref name="gpa"/> is not one.</summary>
    bool TryHandleMmio(int vcpuIndex, ulong gpa, bool isWrite, int size, ref ulong data);
}
