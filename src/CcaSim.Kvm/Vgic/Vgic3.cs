using System.Buffers.Binary;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Vgic;

/// <summary>What KVM_CREATE_DEVICE needs to know about the VM when the GICv3 is created.</summary>
/// <param name="IpaBits">The VM's IPA size: GIC frames must lie below 2^IpaBits (-E2BIG otherwise).</param>
/// <param name="OnlineVcpus">vCPUs created so far; they get redistributors when the redistributor base is set.</param>
/// <param name="IrqchipExists">The VM already has an in-kernel irqchip.</param>
/// <param name="AnyVcpuHasRun">A vCPU of the VM has done its first KVM_RUN.</param>
public readonly record struct VgicCreateContext(int IpaBits, int OnlineVcpus, bool IrqchipExists, bool AnyVcpuHasRun);

/// <summary>
/// The in-kernel GICv3 of one VM (KVM_DEV_TYPE_ARM_VGIC_V3): device-attribute configuration with Linux's errnos
/// (vgic-kvm-device.c, vgic-init.c of the 6.6 backport), the emulated GICD/GICR frames, KVM_IRQ_LINE injection and
/// the list-register exchange with the RMM (kvm-realm-abi.md §2.8, §2.11, §2.16).
/// </summary>
/// <remarks>
/// Life cycle, as in KVM: created (addresses and NR_IRQS settable) → <see cref="Initialize"/> (CTRL_INIT: the
/// interrupt count is frozen, per-vCPU state allocated, no more vCPUs) → <see cref="MapResources"/> (first
/// KVM_RUN: frames checked and the MMIO handlers live). vCPU ids are taken to be the dense indices 0..n−1 a
/// VMM creates; each vCPU's MPIDR is KVM's reset value (<see cref="MpidrAffinityOf"/>), which realms cannot
/// change. One lock guards all state, so vCPU threads and the VMM may call in concurrently.
/// Not modelled: GICv2 (the simulated host GIC has no GICv2 compatibility, so that device type is never
/// registered), the ITS and LPIs, KVM_VGIC_V3_ADDR_TYPE_REDIST_REGION, and the register save/restore groups
/// (DIST_REGS, REDIST_REGS, CPU_SYSREGS, LEVEL_INFO) — all answer -ENXIO (or -ENODEV for the device types).
/// </remarks>
public sealed partial class Vgic3
{
    public const int NumSgis = 16;
    public const int NumPrivateIrqs = 32;

    /// <summary>VGIC_V3_MAX_CPUS: kvm->max_vcpus once a GICv3 exists.</summary>
    public const int MaxVcpus = 512;

    /// <summary>VGIC_ADDR_UNDEF, what an unset base address reads back as.</summary>
    public const ulong AddressUndefined = ulong.MaxValue;

    /// <summary>VGIC_NR_IRQS_LEGACY: the interrupt count CTRL_INIT freezes when NR_IRQS was never set.</summary>
    public const int DefaultNrIrqs = 256;

    /// <summary>VGIC_MAX_RESERVED: NR_IRQS may not exceed it, so the largest accepted count is 992.</summary>
    private const uint MaxReservedIntid = 1023;

    private const ulong SixtyFourKiB = 0x1_0000;

    private readonly Lock _lock = new();
    private readonly int _ipaBits;
    private int _onlineVcpus;
    private ulong _distBase = AddressUndefined;
    private ulong _redistBase = AddressUndefined;
    private int _nrSpis;
    private bool _initialized;
    private bool _ready;
    private bool _distEnabled;
    private VgicIrq[] _spis = [];
    private VgicIrq[][] _private = [];
    private VgicCpu[] _cpus = [];

    private Vgic3(int ipaBits, int onlineVcpus)
    {
        _ipaBits = ipaBits;
        _onlineVcpus = onlineVcpus;
    }

    /// <summary>
    /// KVM_CREATE_DEVICE for the vGIC, in kvm_ioctl_create_device + kvm_vgic_create order: an unregistered type
    /// (GICv2, ITS, anything else) → -ENODEV even with KVM_CREATE_DEVICE_TEST; TEST → 0 with nothing created;
    /// an irqchip already present → -EEXIST; a vCPU that has run → -EBUSY; more than 512 vCPUs → -E2BIG.
    /// A realm asking for GICv2 gets -ENODEV (§2.16) on every host: the backport refuses it in kvm_vgic_create
    /// even where GICv2 emulation exists, and our host has none.
    /// </summary>
    public static KvmResult Create(uint deviceType, uint flags, in VgicCreateContext vm, out Vgic3? device)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(vm.IpaBits, 32);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(vm.IpaBits, 52);
        ArgumentOutOfRangeException.ThrowIfNegative(vm.OnlineVcpus);
        device = null;
        if (deviceType != (uint)KvmDeviceType.ArmVgicV3)
        {
            return Errno.ENODEV;
        }

        if ((flags & (uint)KvmCreateDeviceOptions.Test) != 0)
        {
            return KvmResult.Success;
        }

        if (vm.IrqchipExists)
        {
            return Errno.EEXIST;
        }

        if (vm.AnyVcpuHasRun)
        {
            return Errno.EBUSY;
        }

        if (vm.OnlineVcpus > MaxVcpus)
        {
            return Errno.E2BIG;
        }

        device = new Vgic3(vm.IpaBits, vm.OnlineVcpus);
        return KvmResult.Success;
    }

    /// <summary>KVM's reset MPIDR_EL1 affinity for a vCPU id: Aff0 = id[3:0], Aff1 = id[11:4], Aff2 = id[19:12].</summary>
    public static ulong MpidrAffinityOf(int vcpuId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(vcpuId);
        ulong id = (ulong)vcpuId;
        return (id & 0xf) | (((id >> 4) & 0xff) << 8) | (((id >> 12) & 0xff) << 16);
    }

    /// <summary>KVM_SET_DEVICE_ATTR. <paramref name="data"/> is the memory at <c>attr.addr</c>: too short is -EFAULT.</summary>
    public KvmResult SetAttribute(in KvmDeviceAttr attr, ReadOnlySpan<byte> data)
    {
        lock (_lock)
        {
            switch (attr.Group)
            {
                case KvmVgicAttr.GroupAddr:
                    if (data.Length < sizeof(ulong))
                    {
                        return Errno.EFAULT;
                    }

                    return EnodevAsEnxio(SetAddressLocked(attr.Attr, BinaryPrimitives.ReadUInt64LittleEndian(data)));
                case KvmVgicAttr.GroupNrIrqs:
                    return data.Length < sizeof(uint) ? Errno.EFAULT : SetNrIrqsLocked(BinaryPrimitives.ReadUInt32LittleEndian(data));
                case KvmVgicAttr.GroupCtrl:
                    return attr.Attr switch
                    {
                        KvmVgicAttr.CtrlInit => InitializeLocked(),
                        KvmVgicAttr.CtrlSavePendingTables => _initialized ? KvmResult.Success : Errno.ENXIO,
                        _ => Errno.ENXIO,
                    };
                default:
                    return Errno.ENXIO;
            }
        }
    }

    /// <summary>KVM_GET_DEVICE_ATTR: addresses (u64, VGIC_ADDR_UNDEF when unset) and NR_IRQS (u32) are readable.</summary>
    public KvmResult GetAttribute(in KvmDeviceAttr attr, Span<byte> data)
    {
        lock (_lock)
        {
            switch (attr.Group)
            {
                case KvmVgicAttr.GroupAddr:
                    ulong? address = attr.Attr switch
                    {
                        KvmVgicAttr.AddrTypeV3Dist => _distBase,
                        KvmVgicAttr.AddrTypeV3Redist => _redistBase,
                        _ => null,
                    };
                    if (address is not ulong value)
                    {
                        return Errno.ENXIO;
                    }

                    if (data.Length < sizeof(ulong))
                    {
                        return Errno.EFAULT;
                    }

                    BinaryPrimitives.WriteUInt64LittleEndian(data, value);
                    return KvmResult.Success;
                case KvmVgicAttr.GroupNrIrqs:
                    if (data.Length < sizeof(uint))
                    {
                        return Errno.EFAULT;
                    }

                    BinaryPrimitives.WriteUInt32LittleEndian(data, (uint)(_nrSpis + NumPrivateIrqs));
                    return KvmResult.Success;
                default:
                    return Errno.ENXIO;
            }
        }
    }

    /// <summary>KVM_HAS_DEVICE_ATTR: 0 for what <see cref="SetAttribute"/> implements, -ENXIO otherwise.</summary>
    public static KvmResult HasAttribute(in KvmDeviceAttr attr) => attr.Group switch
    {
        KvmVgicAttr.GroupAddr when attr.Attr is KvmVgicAttr.AddrTypeV3Dist or KvmVgicAttr.AddrTypeV3Redist => KvmResult.Success,
        KvmVgicAttr.GroupNrIrqs => KvmResult.Success,
        KvmVgicAttr.GroupCtrl when attr.Attr is KvmVgicAttr.CtrlInit or KvmVgicAttr.CtrlSavePendingTables => KvmResult.Success,
        _ => Errno.ENXIO,
    };

    /// <summary>GRP_ADDR / KVM_VGIC_V3_ADDR_TYPE_DIST: 64 KiB aligned (-EINVAL), once (-EEXIST), inside the IPA space (-E2BIG).</summary>
    public KvmResult SetDistributorBase(ulong gpa)
    {
        lock (_lock)
        {
            return EnodevAsEnxio(SetAddressLocked(KvmVgicAttr.AddrTypeV3Dist, gpa));
        }
    }

    /// <summary>
    /// GRP_ADDR / KVM_VGIC_V3_ADDR_TYPE_REDIST, the legacy single region sized by the vCPUs online now: set twice
    /// → -EEXIST; wrap, misalignment or overlap with the distributor → -EINVAL; beyond the IPA space → -E2BIG.
    /// Overlaps created later by adding vCPUs are only caught by <see cref="AddVcpu"/> or <see cref="MapResources"/>.
    /// </summary>
    public KvmResult SetRedistributorBase(ulong gpa)
    {
        lock (_lock)
        {
            return EnodevAsEnxio(SetAddressLocked(KvmVgicAttr.AddrTypeV3Redist, gpa));
        }
    }

    /// <summary>GRP_NR_IRQS: a multiple of 32 in 64..992 (-EINVAL), settable once and only before CTRL_INIT (-EBUSY).</summary>
    public KvmResult SetNrIrqs(uint nrIrqs)
    {
        lock (_lock)
        {
            return SetNrIrqsLocked(nrIrqs);
        }
    }

    /// <summary>
    /// GRP_CTRL / CTRL_INIT (vgic_init): idempotent; freezes NR_IRQS (256 if unset) and the vCPU set. It does not
    /// need the frame addresses — missing ones fail the first KVM_RUN instead (<see cref="MapResources"/>).
    /// The caller must refuse it with -EBUSY while a vCPU is half-created, as vgic_init does.
    /// </summary>
    public KvmResult Initialize()
    {
        lock (_lock)
        {
            return InitializeLocked();
        }
    }

    /// <summary>
    /// The vGIC's part of KVM_CREATE_VCPU once the device exists: after CTRL_INIT -EBUSY; beyond 512 vCPUs -EINVAL;
    /// with the redistributor base set, a region that would now overlap the distributor or leave the IPA space
    /// -EINVAL (checked, as in vgic_register_redist_iodev, with the vCPUs online before this one).
    /// </summary>
    public KvmResult AddVcpu()
    {
        lock (_lock)
        {
            if (_initialized)
            {
                return Errno.EBUSY;
            }

            if (_onlineVcpus >= MaxVcpus)
            {
                return Errno.EINVAL;
            }

            if (_redistBase != AddressUndefined && !FramesAreConsistent())
            {
                return Errno.EINVAL;
            }

            _onlineVcpus++;
            return KvmResult.Success;
        }
    }

    /// <summary>
    /// kvm_vgic_map_resources on the first KVM_RUN (§2.8): a vCPU without redistributor or no distributor base
    /// → -ENXIO; frames overlapping or outside the IPA space → -EINVAL; CTRL_INIT not done → -EBUSY. Idempotent
    /// once it succeeded. In the 6.6 backport any failure here also marks the VM dead (kvm_vm_dead), which is
    /// the caller's to record.
    /// </summary>
    public KvmResult MapResources()
    {
        lock (_lock)
        {
            if (_ready)
            {
                return KvmResult.Success;
            }

            if ((_onlineVcpus > 0 && _redistBase == AddressUndefined) || _distBase == AddressUndefined)
            {
                return Errno.ENXIO;
            }

            if (!FramesAreConsistent())
            {
                return Errno.EINVAL;
            }

            if (!_initialized)
            {
                return Errno.EBUSY;
            }

            _ready = true;
            return KvmResult.Success;
        }
    }

    public bool IsInitialized
    {
        get
        {
            lock (_lock)
            {
                return _initialized;
            }
        }
    }

    /// <summary>MapResources succeeded: the GICD/GICR frames answer guest accesses.</summary>
    public bool IsReady
    {
        get
        {
            lock (_lock)
            {
                return _ready;
            }
        }
    }

    public int OnlineVcpus
    {
        get
        {
            lock (_lock)
            {
                return _onlineVcpus;
            }
        }
    }

    /// <summary>SGIs + PPIs + SPIs; 32 until NR_IRQS or CTRL_INIT sets it, like the GRP_NR_IRQS read.</summary>
    public int NrIrqs
    {
        get
        {
            lock (_lock)
            {
                return _nrSpis + NumPrivateIrqs;
            }
        }
    }

    private static KvmResult EnodevAsEnxio(KvmResult r) => r.Error == Errno.ENODEV ? Errno.ENXIO : r;

    private ulong PhysSize => 1UL << _ipaBits;

    private ulong RedistRegionSize => (ulong)_onlineVcpus * KvmVgicAttr.V3RedistSize;

    private KvmResult SetAddressLocked(ulong type, ulong gpa)
    {
        switch (type)
        {
            case KvmVgicAttr.AddrTypeV3Dist:
                KvmResult r = CheckIoRange(_distBase, gpa, SixtyFourKiB, KvmVgicAttr.V3DistSize);
                if (r.IsSuccess)
                {
                    _distBase = gpa;
                }

                return r;
            case KvmVgicAttr.AddrTypeV3Redist:
                return SetLegacyRedistLocked(gpa);
            default:
                return Errno.ENODEV;
        }
    }

    /// <summary>vgic_v3_alloc_redist_region for the count-0 legacy region, in its check order.</summary>
    private KvmResult SetLegacyRedistLocked(ulong gpa)
    {
        ulong size = RedistRegionSize;
        if (unchecked(gpa + size) < gpa)
        {
            return Errno.EINVAL;
        }

        if (_redistBase != AddressUndefined)
        {
            return Errno.EEXIST;
        }

        if (_distBase != AddressUndefined && Overlaps(gpa, size, _distBase, KvmVgicAttr.V3DistSize))
        {
            return Errno.EINVAL;
        }

        KvmResult r = CheckIoRange(AddressUndefined, gpa, SixtyFourKiB, size);
        if (!r.IsSuccess)
        {
            return r;
        }

        _redistBase = gpa;
        return KvmResult.Success;
    }

    /// <summary>vgic_check_iorange: already set, alignment, wrap, then the IPA limit.</summary>
    private KvmResult CheckIoRange(ulong current, ulong gpa, ulong alignment, ulong size)
    {
        if (current != AddressUndefined)
        {
            return Errno.EEXIST;
        }

        if (gpa % alignment != 0 || size % alignment != 0 || unchecked(gpa + size) < gpa)
        {
            return Errno.EINVAL;
        }

        return (gpa & ~(PhysSize - 1)) != 0 || gpa + size > PhysSize ? Errno.E2BIG : KvmResult.Success;
    }

    /// <summary>vgic_v3_check_base with the current vCPU count: frames inside the IPA space and disjoint.</summary>
    private bool FramesAreConsistent()
    {
        if (_redistBase != AddressUndefined && !CheckIoRange(AddressUndefined, _redistBase, SixtyFourKiB, RedistRegionSize).IsSuccess)
        {
            return false;
        }

        return _distBase == AddressUndefined || _redistBase == AddressUndefined
            || !Overlaps(_distBase, KvmVgicAttr.V3DistSize, _redistBase, RedistRegionSize);
    }

    private static bool Overlaps(ulong baseA, ulong sizeA, ulong baseB, ulong sizeB) =>
        unchecked(baseA + sizeA) > baseB && baseA < unchecked(baseB + sizeB);

    private KvmResult SetNrIrqsLocked(uint nrIrqs)
    {
        if (nrIrqs < NumPrivateIrqs + 32 || nrIrqs > MaxReservedIntid || nrIrqs % 32 != 0)
        {
            return Errno.EINVAL;
        }

        if (_ready || _nrSpis != 0)
        {
            return Errno.EBUSY;
        }

        _nrSpis = (int)nrIrqs - NumPrivateIrqs;
        return KvmResult.Success;
    }

    private KvmResult InitializeLocked()
    {
        if (_initialized)
        {
            return KvmResult.Success;
        }

        if (_nrSpis == 0)
        {
            _nrSpis = DefaultNrIrqs - NumPrivateIrqs;
        }

        // kvm_vgic_dist_init leaves SPIs zeroed: edge, disabled, priority 0, routed to MPIDR 0.
        _spis = new VgicIrq[_nrSpis];
        for (int i = 0; i < _nrSpis; i++)
        {
            _spis[i] = new VgicIrq((uint)(NumPrivateIrqs + i), ownerVcpu: -1, edge: true, enabled: false);
        }

        // kvm_vgic_vcpu_init: SGIs enabled and edge, PPIs disabled and level.
        _private = new VgicIrq[_onlineVcpus][];
        _cpus = new VgicCpu[_onlineVcpus];
        for (int v = 0; v < _onlineVcpus; v++)
        {
            _private[v] = new VgicIrq[NumPrivateIrqs];
            for (uint intid = 0; intid < NumPrivateIrqs; intid++)
            {
                bool sgi = intid < NumSgis;
                _private[v][intid] = new VgicIrq(intid, v, edge: sgi, enabled: sgi);
            }

            _cpus[v] = new VgicCpu();
        }

        _initialized = true;
        return KvmResult.Success;
    }

    /// <summary>Per-vCPU CPU-interface bookkeeping: what the last flush put in the list registers, and the realm's VMCR.</summary>
    private sealed class VgicCpu
    {
        /// <summary>RMM v1.0 has at most 16 list registers (GICV3_NUM_LRS is a 4-bit field + 1).</summary>
        public ulong[] Lrs { get; } = new ulong[16];

        public int UsedLrs { get; set; }

        public ulong? Vmcr { get; set; }
    }
}
