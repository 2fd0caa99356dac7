using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Vgic;

// Interrupt sources: KVM_IRQ_LINE from the VMM, the timer lines KVM derives from each realm exit, and SGIs
// the realm sends through a trapped ICC_SGI1R_EL1 write.
public sealed partial class Vgic3
{
    /// <summary>
    /// KVM_IRQ_LINE with an in-kernel GICv3 (kvm_vm_ioctl_irq_line + kvm_vgic_inject_irq): TYPE_CPU → -ENXIO;
    /// PPI on an unknown vCPU or outside 16..31 → -EINVAL; SPI below 32 → -EINVAL; before CTRL_INIT → -EBUSY;
    /// an SPI beyond NR_IRQS → -EINVAL; unknown type → -EINVAL. Level interrupts follow the line; an edge
    /// interrupt latches pending on a non-zero level and ignores zero.
    /// </summary>
    public KvmResult IrqLine(in KvmIrqLevel irqLevel)
    {
        uint type = KvmArmIrqLine.Type(irqLevel.Irq);
        int vcpu = KvmArmIrqLine.VcpuIndex(irqLevel.Irq);
        uint num = KvmArmIrqLine.Number(irqLevel.Irq);
        bool level = irqLevel.Level != 0;
        lock (_lock)
        {
            switch (type)
            {
                case KvmArmIrqLine.TypeCpu:
                    return Errno.ENXIO;
                case KvmArmIrqLine.TypePpi:
                    if (vcpu >= _onlineVcpus || num is < NumSgis or >= NumPrivateIrqs)
                    {
                        return Errno.EINVAL;
                    }

                    return InjectLocked(vcpu, num, level);
                case KvmArmIrqLine.TypeSpi:
                    return num < NumPrivateIrqs ? Errno.EINVAL : InjectLocked(-1, num, level);
                default:
                    return Errno.EINVAL;
            }
        }
    }

    /// <summary>Drives a PPI line of one vCPU, as KVM's timer and PMU code do; only valid after CTRL_INIT.</summary>
    public void SetTimerLevel(int vcpuIndex, int ppi, bool level)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ppi, NumSgis);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(ppi, NumPrivateIrqs);
        lock (_lock)
        {
            RequireInitialized(vcpuIndex);
            InjectLocked(vcpuIndex, (uint)ppi, level);
        }
    }

    /// <summary>
    /// Refreshes both timer PPIs from the CNTV_CTL / CNTP_CTL values a realm exit reports (§2.11: timer state is
    /// read from rec_exit on every exit, and realms have no hardware-mapped timer interrupts).
    /// </summary>
    public void UpdateTimerLines(int vcpuIndex, ulong cntvCtl, ulong cntpCtl)
    {
        SetTimerLevel(vcpuIndex, TimerPpi.Virtual, TimerPpi.IsAsserted(cntvCtl));
        SetTimerLevel(vcpuIndex, TimerPpi.Physical, TimerPpi.IsAsserted(cntpCtl));
    }

    /// <summary>
    /// A trapped ICC_SGI1R_EL1 write (vgic_v3_dispatch_sgi): IRM (bit 40) sends to every other vCPU; otherwise
    /// TargetList[15:0] names Aff0 values under Aff3[55:48].Aff2[39:32].Aff1[23:16]. INTID[27:24] is the SGI.
    /// </summary>
    public void DispatchSgi(int vcpuIndex, ulong iccSgi1r)
    {
        uint sgi = (uint)((iccSgi1r >> 24) & 0xf);
        lock (_lock)
        {
            RequireInitialized(vcpuIndex);
            if ((iccSgi1r & (1UL << 40)) != 0)
            {
                for (int v = 0; v < _onlineVcpus; v++)
                {
                    if (v != vcpuIndex)
                    {
                        _private[v][sgi].PendingLatch = true;
                    }
                }

                return;
            }

            ulong affinity = (((iccSgi1r >> 48) & 0xff) << 32) | (((iccSgi1r >> 32) & 0xff) << 16) | (((iccSgi1r >> 16) & 0xff) << 8);
            for (int aff0 = 0; aff0 < 16; aff0++)
            {
                int target = (iccSgi1r & (1UL << aff0)) != 0 ? VcpuWithAffinity(affinity | (uint)aff0) : -1;
                if (target >= 0)
                {
                    _private[target][sgi].PendingLatch = true;
                }
            }
        }
    }

    private KvmResult InjectLocked(int vcpu, uint intid, bool level)
    {
        if (!_initialized)
        {
            return Errno.EBUSY;
        }

        VgicIrq? irq = IrqAt(vcpu, intid);
        if (irq is null)
        {
            return Errno.EINVAL;
        }

        if (!irq.Edge)
        {
            irq.LineLevel = level;
        }
        else if (level)
        {
            irq.PendingLatch = true;
        }

        return KvmResult.Success;
    }

    /// <summary>vgic_get_irq: a private interrupt of <paramref name="vcpu"/> (−1: none), or an allocated SPI.</summary>
    private VgicIrq? IrqAt(int vcpu, uint intid)
    {
        if (intid < NumPrivateIrqs)
        {
            return vcpu >= 0 ? _private[vcpu][intid] : null;
        }

        return intid - NumPrivateIrqs < (uint)_spis.Length ? _spis[intid - NumPrivateIrqs] : null;
    }

    /// <summary>kvm_mpidr_to_vcpu over the reset MPIDRs; −1 when no vCPU has that affinity.</summary>
    private int VcpuWithAffinity(ulong affinity)
    {
        for (int v = 0; v < _onlineVcpus; v++)
        {
            if (MpidrAffinityOf(v) == affinity)
            {
                return v;
            }
        }

        return -1;
    }

    private void RequireInitialized(int vcpuIndex)
    {
        if (!_initialized)
        {
            throw new InvalidOperationException("the vGIC has no interrupt state before KVM_DEV_ARM_VGIC_CTRL_INIT");
        }

        ArgumentOutOfRangeException.ThrowIfNegative(vcpuIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(vcpuIndex, _onlineVcpus);
    }
}
