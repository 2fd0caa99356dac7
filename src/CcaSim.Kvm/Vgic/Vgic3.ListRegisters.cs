namespace CcaSim.Kvm.Vgic;

// The list-register exchange with the RMM (kvm-realm-abi.md §2.16): before each RMI_REC_ENTER KVM flushes the
// vCPU's deliverable interrupts into rec_enter.gicv3_lrs / gicv3_hcr; after the exit it folds rec_exit's copies
// back (vgic_flush_lr_state / vgic_v3_populate_lr / vgic_v3_fold_lr_state in KVM).
public sealed partial class Vgic3
{
    /// <summary>
    /// Fills <paramref name="lrs"/>[0..numLrs) for <paramref name="vcpuIndex"/> and returns how many entries are
    /// used; the rest are zeroed. Order is KVM's ap_list sort: active first, then pending-and-enabled by priority
    /// (lower value first), then INTID. Edge interrupts hand their pending latch over to the LR. When more
    /// interrupts are deliverable than fit, <paramref name="hcr"/> asks for the underflow maintenance interrupt
    /// (UIE) so the realm exits once the LRs drain. <paramref name="hcr"/> is already masked to
    /// <see cref="IchHcr.RmiPermitted"/>, so it never carries En. A flush not followed by
    /// <see cref="SyncFromListRegisters"/> (the entry was backed out) is first folded back unchanged, so nothing it
    /// took from the interrupt state is lost.
    /// </summary>
    public int FlushToListRegisters(int vcpuIndex, Span<ulong> lrs, int numLrs, out ulong hcr)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(numLrs);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(numLrs, lrs.Length);
        hcr = 0;
        lock (_lock)
        {
            RequireInitialized(vcpuIndex);
            VgicCpu cpu = _cpus[vcpuIndex];
            FoldLocked(vcpuIndex, cpu.Lrs, cpu.UsedLrs);
            List<VgicIrq> queued = DeliverableTo(vcpuIndex);
            queued.Sort(ApListOrder);
            int count = Math.Min(queued.Count, numLrs);
            for (int i = 0; i < count; i++)
            {
                lrs[i] = Populate(queued[i]);
                cpu.Lrs[i] = lrs[i];
                queued[i].QueuedOn = vcpuIndex;
            }

            lrs[count..numLrs].Clear();
            cpu.UsedLrs = count;
            ulong internalHcr = IchHcr.En | (queued.Count > numLrs ? IchHcr.Uie : 0);
            hcr = internalHcr & IchHcr.RmiPermitted;
            return count;
        }
    }

    /// <summary>
    /// Folds the list registers of a realm exit back into the interrupt state. Only the entries the last
    /// <see cref="FlushToListRegisters"/> used are read (never more than <paramref name="count"/>): the active bit is
    /// taken as is; an edge interrupt still pending in its LR re-latches pending; a level interrupt whose LR is now
    /// invalid was completed, so its latch clears and only a still-high line keeps it pending.
    /// </summary>
    public void SyncFromListRegisters(int vcpuIndex, ReadOnlySpan<ulong> lrs, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, lrs.Length);
        lock (_lock)
        {
            RequireInitialized(vcpuIndex);
            FoldLocked(vcpuIndex, lrs, Math.Min(count, _cpus[vcpuIndex].UsedLrs));
        }
    }

    /// <summary>Records the realm's ICH_VMCR_EL2 from rec_exit.gicv3_vmcr, so <see cref="HasPendingFor"/> can apply its priority mask.</summary>
    public void SetVmcr(int vcpuIndex, ulong vmcr)
    {
        lock (_lock)
        {
            RequireInitialized(vcpuIndex);
            _cpus[vcpuIndex].Vmcr = vmcr;
        }
    }

    /// <summary>
    /// kvm_vgic_vcpu_pending_irq: whether a WFI-idle vCPU has an interrupt to take — the distributor enabled, and an
    /// interrupt for this vCPU pending, enabled, not active and, once a VMCR was recorded, above its priority mask.
    /// </summary>
    public bool HasPendingFor(int vcpuIndex)
    {
        lock (_lock)
        {
            RequireInitialized(vcpuIndex);
            if (!_distEnabled)
            {
                return false;
            }

            int mask = _cpus[vcpuIndex].Vmcr is ulong vmcr ? IchVmcr.PriorityMask(vmcr) : 0x100;
            foreach (VgicIrq irq in DeliverableTo(vcpuIndex))
            {
                if (irq.IsPending && irq.Enabled && !irq.Active && irq.Priority < mask)
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>vgic_v3_fold_lr_state over the first <paramref name="used"/> entries of <paramref name="lrs"/>.</summary>
    private void FoldLocked(int vcpuIndex, ReadOnlySpan<ulong> lrs, int used)
    {
        for (int i = 0; i < used; i++)
        {
            ulong lr = lrs[i];
            VgicIrq? irq = IrqAt(vcpuIndex, IchLr.Vintid(lr));
            if (irq is null)
            {
                continue;
            }

            irq.Active = IchLr.IsActive(lr);
            if (irq.Edge && IchLr.IsPending(lr))
            {
                irq.PendingLatch = true;
            }

            if (!irq.Edge && IchLr.IsInvalid(lr))
            {
                irq.PendingLatch = false;
            }

            if (!irq.Active)
            {
                irq.QueuedOn = -1;
            }
        }

        _cpus[vcpuIndex].UsedLrs = 0;
    }

    private List<VgicIrq> DeliverableTo(int vcpuIndex)
    {
        List<VgicIrq> result = [];
        foreach (VgicIrq irq in _private[vcpuIndex])
        {
            if (Oracle(irq) == vcpuIndex)
            {
                result.Add(irq);
            }
        }

        foreach (VgicIrq irq in _spis)
        {
            if (Oracle(irq) == vcpuIndex)
            {
                result.Add(irq);
            }
        }

        return result;
    }

    /// <summary>
    /// vgic_target_oracle plus ap_list membership: an interrupt sitting in a vCPU's list registers (not yet folded
    /// back) or active there stays with that vCPU, so a re-routed SPI is never in two realms' LRs at once; an
    /// active one otherwise goes to its target, as does a pending, enabled one while the distributor is enabled.
    /// Anything else is delivered nowhere (−1).
    /// </summary>
    private int Oracle(VgicIrq irq)
    {
        if (irq.QueuedOn >= 0)
        {
            return irq.QueuedOn;
        }

        if (irq.Active)
        {
            return TargetOf(irq);
        }

        return irq.Enabled && irq.IsPending && _distEnabled ? TargetOf(irq) : -1;
    }

    private int TargetOf(VgicIrq irq) => irq.IsPrivate ? irq.OwnerVcpu : VcpuWithAffinity(irq.Route);

    private static int ApListOrder(VgicIrq a, VgicIrq b)
    {
        if (a.Active != b.Active)
        {
            return a.Active ? -1 : 1;
        }

        bool pendingA = a.Enabled && a.IsPending;
        bool pendingB = b.Enabled && b.IsPending;
        if (pendingA != pendingB)
        {
            return pendingA ? -1 : 1;
        }

        int byPriority = a.Priority.CompareTo(b.Priority);
        return byPriority != 0 ? byPriority : a.Intid.CompareTo(b.Intid);
    }

    /// <summary>
    /// vgic_v3_populate_lr for a software interrupt (realms have no HW-mapped ones, §2.16): a level interrupt asks
    /// for an EOI maintenance interrupt and is never presented pending+active; an edge one consumes its latch.
    /// </summary>
    private static ulong Populate(VgicIrq irq)
    {
        ulong lr = irq.Intid;
        bool allowPending = true;
        if (irq.Active)
        {
            lr |= IchLr.ActiveBit;
        }

        if (!irq.Edge)
        {
            lr |= IchLr.Eoi;
            allowPending = !irq.Active;
        }

        if (allowPending && irq.IsPending)
        {
            lr |= IchLr.PendingBit;
            if (irq.Edge)
            {
                irq.PendingLatch = false;
            }
        }

        if (irq.Group1)
        {
            lr |= IchLr.Group1;
        }

        return lr | ((ulong)irq.Priority << IchLr.PriorityShift);
    }
}
