namespace CcaSim.Kvm.Vgic;

/// <summary>
/// One interrupt of the virtual GICv3, in KVM's <c>struct vgic_irq</c> terms. A level interrupt is pending while
/// its line is high or its software latch (ISPENDR) is set; an edge interrupt only through the latch, which is
/// consumed when the interrupt is written into a list register.
/// </summary>
internal sealed class VgicIrq
{
    public VgicIrq(uint intid, int ownerVcpu, bool edge, bool enabled)
    {
        Intid = intid;
        OwnerVcpu = ownerVcpu;
        Edge = edge;
        Enabled = enabled;
    }

    public uint Intid { get; }

    /// <summary>The vCPU a private interrupt (SGI/PPI) belongs to; −1 for an SPI.</summary>
    public int OwnerVcpu { get; }

    public bool Enabled { get; set; }

    public bool PendingLatch { get; set; }

    public bool LineLevel { get; set; }

    public bool Active { get; set; }

    /// <summary>GICv3 KVM models reset every interrupt to Group 1 (vgic_init).</summary>
    public bool Group1 { get; set; } = true;

    public bool Edge { get; set; }

    public byte Priority { get; set; }

    /// <summary>GICD_IROUTER affinity (Aff2:Aff1:Aff0 = bits 23:0) of an SPI; 0 routes to vCPU 0.</summary>
    public ulong Route { get; set; }

    /// <summary>The vCPU whose list registers hold this interrupt until the next fold, or where it stays active; −1 if none.</summary>
    public int QueuedOn { get; set; } = -1;

    public bool IsPending => PendingLatch || (!Edge && LineLevel);

    public bool IsPrivate => OwnerVcpu >= 0;
}
