using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Vgic;

// The emulated GICD frame and the per-vCPU GICR frames (RD_base + SGI_base), following KVM's register tables in
// vgic-mmio-v3.c. A realm reaches them through emulatable data aborts on its protected IPA space (§2.14), which
// KVM resolves in-kernel instead of exiting to the VMM. Accesses of a width or alignment a register does not
// allow, and offsets KVM does not implement, read as zero and ignore writes, as KVM's dispatcher does.
public sealed partial class Vgic3
{
    /// <summary>GICD_IIDR: ProductID 0x4B ('K'), Revision 3 (KVM_VGIC_IMP_REV_3), Implementer 0x43B (Arm).</summary>
    public const uint GicdIidr = (0x4Bu << 24) | (3u << 12) | 0x43B;

    /// <summary>GICR_IIDR: KVM reports ProductID and Implementer without a revision.</summary>
    public const uint GicrIidr = (0x4Bu << 24) | 0x43B;

    /// <summary>GICD/GICR_PIDR2: ArchRev 3 (GICv3) in bits [7:4], 0xB in the JEP106 field below.</summary>
    public const uint Pidr2 = 0x3B;

    private const uint GicdCtlrEnableGrp1 = 1u << 1;
    private const uint GicdCtlrAreNs = 1u << 4;
    private const uint GicdCtlrDs = 1u << 6;

    /// <summary>GICR_CTLR.CES | GICR_CTLR.IR, advertised from implementation revision 3 on.</summary>
    private const uint GicrCtlrRev3 = (1u << 1) | (1u << 2);

    /// <summary>IDbits = 10 − 1 in GICD_TYPER[23:19]: SPI-only INTID space (no ITS).</summary>
    private const uint GicdTyperIdBits = 9u << 19;

    /// <summary>VGIC_PRI_BITS = 5: the three low priority bits are RAZ/WI, so LRs never set the bits the RMM reserves.</summary>
    private const byte PriorityWriteMask = 0xF8;

    private const ulong GicrTyperLast = 1UL << 4;
    private const uint IdRegsBase = 0xFFD0;
    private const uint Pidr2Offset = 0xFFE8;

    private enum PerIrqRegister
    {
        Group,
        SetEnable,
        ClearEnable,
        SetPending,
        ClearPending,
        SetActive,
        ClearActive,
    }

    /// <summary>
    /// A guest access from <paramref name="vcpuIndex"/> to IPA <paramref name="gpa"/>: false when the address is in
    /// neither the distributor nor a redistributor frame (or the frames are not live yet), so the caller takes its
    /// normal MMIO path. <paramref name="gpa"/> is the faulting IPA with a realm's shared (top) bit already
    /// stripped, as KVM does before any MMIO dispatch (§2.14). <paramref name="size"/> is 1, 2, 4 or 8 bytes;
    /// reads return the value zero-extended in <paramref name="data"/>, writes use its low <paramref name="size"/> bytes.
    /// </summary>
    public bool TryHandleMmio(int vcpuIndex, ulong gpa, bool isWrite, int size, ref ulong data)
    {
        if (size is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "an AArch64 MMIO access is 1, 2, 4 or 8 bytes");
        }

        lock (_lock)
        {
            if (!_ready)
            {
                return false;
            }

            ArgumentOutOfRangeException.ThrowIfNegative(vcpuIndex);
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(vcpuIndex, _onlineVcpus);
            ulong value = isWrite ? data & SizeMask(size) : 0;
            if (gpa - _distBase < KvmVgicAttr.V3DistSize)
            {
                value = DistributorAccess((uint)(gpa - _distBase), isWrite, size, value);
            }
            else if (gpa - _redistBase < RedistRegionSize)
            {
                ulong offset = gpa - _redistBase;
                int owner = (int)(offset / KvmVgicAttr.V3RedistSize);
                value = RedistributorAccess(owner, (uint)(offset % KvmVgicAttr.V3RedistSize), isWrite, size, value);
            }
            else
            {
                return false;
            }

            if (!isWrite)
            {
                data = value & SizeMask(size);
            }

            return true;
        }
    }

    private static ulong SizeMask(int size) => size == 8 ? ulong.MaxValue : (1UL << (8 * size)) - 1;

    private static bool Allowed(uint offset, int size, bool byteAccess = false, bool dwordAccess = false) =>
        (size == 4 || (size == 1 && byteAccess) || (size == 8 && dwordAccess)) && offset % (uint)size == 0;

    private ulong DistributorAccess(uint offset, bool isWrite, int size, ulong value)
    {
        switch (offset)
        {
            case < 0x10 when Allowed(offset, size):
                return DistributorControl(offset, isWrite, (uint)value);
            case >= 0x10 and < 0x14 when Allowed(offset, size):
                // GICD_STATUSR: KVM's table reads it as all ones.
                return uint.MaxValue;
            case >= 0x80 and < 0x400 when Allowed(offset, size):
                return SpiAccessible((offset & 0x7F) * 8, 32)
                    ? PerIrqAccess(-1, (offset & 0x7F) * 8, (PerIrqRegister)((offset - 0x80) / 0x80), isWrite, (uint)value)
                    : 0;
            case >= 0x400 and < 0x800 when Allowed(offset, size, byteAccess: true):
                return SpiAccessible(offset - 0x400, size) ? PriorityAccess(-1, offset - 0x400, isWrite, size, value) : 0;
            case >= 0xC00 and < 0xD00 when Allowed(offset, size):
                return SpiAccessible((offset - 0xC00) * 4, 16) ? ConfigAccess(-1, (offset - 0xC00) * 4, isWrite, value) : 0;
            case >= 0x6000 and < 0x8000 when Allowed(offset, size, dwordAccess: true):
                return SpiAccessible((offset - 0x6000) / 8, 1) ? RouterAccess((offset - 0x6000) / 8, offset % 8, isWrite, size, value) : 0;
            case >= IdRegsBase when Allowed(offset, size):
                return offset == Pidr2Offset ? Pidr2 : 0;
            default:
                return 0;
        }
    }

    /// <summary>The first 32 INTIDs are banked in the redistributors (ARE = 1), so the distributor's copy is RAZ/WI; so is anything past NR_IRQS.</summary>
    private bool SpiAccessible(uint firstIntid, int count) =>
        firstIntid >= NumPrivateIrqs && firstIntid + (uint)count <= (uint)(_nrSpis + NumPrivateIrqs);

    private uint DistributorControl(uint offset, bool isWrite, uint value)
    {
        switch (offset)
        {
            case 0x0:
                if (isWrite)
                {
                    _distEnabled = (value & GicdCtlrEnableGrp1) != 0;
                }

                return (_distEnabled ? GicdCtlrEnableGrp1 : 0) | GicdCtlrAreNs | GicdCtlrDs;
            case 0x4:
                return ((uint)((_nrSpis + NumPrivateIrqs) >> 5) - 1) | GicdTyperIdBits;
            case 0x8:
                return GicdIidr;
            default:
                return 0;
        }
    }

    private ulong RedistributorAccess(int owner, uint offset, bool isWrite, int size, ulong value)
    {
        if (offset >= SixtyFourKiB)
        {
            return SgiFrameAccess(owner, offset - (uint)SixtyFourKiB, isWrite, size, value);
        }

        switch (offset)
        {
            case 0x0 when Allowed(offset, size):
                return GicrCtlrRev3;
            case 0x4 when Allowed(offset, size):
                return GicrIidr;
            case >= 0x8 and < 0x10 when Allowed(offset, size, dwordAccess: true):
                return RedistributorTyper(owner) >> (int)((offset - 0x8) * 8);
            case >= IdRegsBase when Allowed(offset, size):
                return offset == Pidr2Offset ? Pidr2 : 0;
            default:
                // GICR_WAKER is RAZ/WI in KVM: a guest clearing ProcessorSleep then polling ChildrenAsleep sees
                // it awake at once. LPI registers (PROPBASER, PENDBASER, INV*) are inert without an ITS.
                return 0;
        }
    }

    /// <summary>GICR_TYPER: Affinity[63:32] = the vCPU's MPIDR Aff2..Aff0, Processor_Number[23:8], Last[4] on the final redistributor.</summary>
    private ulong RedistributorTyper(int owner) =>
        (MpidrAffinityOf(owner) << 32) | ((ulong)(owner & 0xffff) << 8) | (owner == _onlineVcpus - 1 ? GicrTyperLast : 0);

    private ulong SgiFrameAccess(int owner, uint offset, bool isWrite, int size, ulong value)
    {
        switch (offset)
        {
            case >= 0x80 and < 0x400 when offset % 0x80 == 0 && Allowed(offset, size):
                return PerIrqAccess(owner, 0, (PerIrqRegister)((offset - 0x80) / 0x80), isWrite, (uint)value);
            case >= 0x400 and < 0x420 when Allowed(offset, size, byteAccess: true):
                return PriorityAccess(owner, offset - 0x400, isWrite, size, value);
            case >= 0xC00 and < 0xC08 when Allowed(offset, size):
                return ConfigAccess(owner, (offset - 0xC00) * 4, isWrite, value);
            default:
                return 0;
        }
    }

    /// <summary>One bit per interrupt for 32 INTIDs from <paramref name="firstIntid"/>; the set/clear registers read back the state.</summary>
    private uint PerIrqAccess(int vcpu, uint firstIntid, PerIrqRegister register, bool isWrite, uint value)
    {
        uint result = 0;
        for (int bit = 0; bit < 32; bit++)
        {
            VgicIrq irq = IrqAt(vcpu, firstIntid + (uint)bit)!;
            bool one = (value & (1u << bit)) != 0;
            if (isWrite)
            {
                WriteBit(irq, register, one);
            }
            else if (ReadBit(irq, register))
            {
                result |= 1u << bit;
            }
        }

        return result;
    }

    private static bool ReadBit(VgicIrq irq, PerIrqRegister register) => register switch
    {
        PerIrqRegister.Group => irq.Group1,
        PerIrqRegister.SetEnable or PerIrqRegister.ClearEnable => irq.Enabled,
        PerIrqRegister.SetPending or PerIrqRegister.ClearPending => irq.IsPending,
        PerIrqRegister.SetActive or PerIrqRegister.ClearActive => irq.Active,
        _ => throw new ArgumentOutOfRangeException(nameof(register)),
    };

    private static void WriteBit(VgicIrq irq, PerIrqRegister register, bool one)
    {
        switch (register)
        {
            case PerIrqRegister.Group:
                irq.Group1 = one;
                break;
            case PerIrqRegister.SetEnable when one:
                irq.Enabled = true;
                break;
            case PerIrqRegister.ClearEnable when one:
                irq.Enabled = false;
                break;
            case PerIrqRegister.SetPending when one:
                irq.PendingLatch = true;
                break;
            case PerIrqRegister.ClearPending when one:
                // Only the latch: a level interrupt whose line is still high stays pending.
                irq.PendingLatch = false;
                break;
            case PerIrqRegister.SetActive when one:
                irq.Active = true;
                break;
            case PerIrqRegister.ClearActive when one:
                irq.Active = false;
                irq.QueuedOn = -1;
                break;
            default:
                break;
        }
    }

    /// <summary>IPRIORITYR: one byte per INTID, byte or word access; five implemented bits.</summary>
    private ulong PriorityAccess(int vcpu, uint firstIntid, bool isWrite, int size, ulong value)
    {
        ulong result = 0;
        for (int i = 0; i < size; i++)
        {
            VgicIrq irq = IrqAt(vcpu, firstIntid + (uint)i)!;
            if (isWrite)
            {
                irq.Priority = (byte)((byte)(value >> (8 * i)) & PriorityWriteMask);
            }
            else
            {
                result |= (ulong)irq.Priority << (8 * i);
            }
        }

        return result;
    }

    /// <summary>
    /// ICFGR: two bits per INTID, 0b10 = edge. SGIs are always edge and PPIs always level (KVM keeps the timer PPIs
    /// level by making private configuration read-only); SPIs are configurable.
    /// </summary>
    private uint ConfigAccess(int vcpu, uint firstIntid, bool isWrite, ulong value)
    {
        uint result = 0;
        for (int i = 0; i < 16; i++)
        {
            VgicIrq irq = IrqAt(vcpu, firstIntid + (uint)i)!;
            if (isWrite && !irq.IsPrivate)
            {
                irq.Edge = (value & (2UL << (2 * i))) != 0;
            }

            result |= irq.Edge ? 2u << (2 * i) : 0;
        }

        return isWrite ? 0 : result;
    }

    /// <summary>GICD_IROUTER: Aff2..Aff0 are kept; IRM, Aff3 and the upper word are RAZ/WI (KVM implements no Aff3).</summary>
    private ulong RouterAccess(uint intid, uint byteOffset, bool isWrite, int size, ulong value)
    {
        VgicIrq irq = IrqAt(-1, intid)!;
        if (byteOffset != 0)
        {
            return 0;
        }

        if (isWrite)
        {
            irq.Route = value & 0xFF_FFFF;
            return 0;
        }

        return irq.Route & SizeMask(size);
    }
}
