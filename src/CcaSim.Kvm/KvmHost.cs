using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Host;
using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Run;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;
using CcaSim.Kvm.Vm;
using CcaSim.Platform;
using CcaSim.Platform.Execution;

namespace CcaSim.Kvm;

/// <summary>
/// The host kernel's KVM, as user space sees it: a file-descriptor table and one method per ioctl, taking the
/// UAPI structures and returning a value or −errno (never an exception for caller input). At boot it probes the
/// RMM over the SMC conduit (RMI_VERSION 1.0, RMI_FEATURES; kvm-realm-abi.md §2.18); realms exist only if that
/// succeeds. This is the foundation of the v12 ABI: VM creation, capabilities, memslots, guest_memfd and memory
/// attributes; the realm lifecycle and the vCPU run loop build on it.
/// </summary>
public sealed class KvmHost
{
    private readonly Dictionary<int, object> _files = [];
    private int _nextFd = 3;

    public KvmHost(CcaPlatform platform, KvmHostOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(platform);
        Platform = platform;
        Options = options ?? new KvmHostOptions();
        var rmi = new Rmi.RmiClient(platform.Monitor);
        if (rmi.Version(Rmi.RmiFid.Abi10).IsSuccess && rmi.Features(0) is { IsSuccess: true } features)
        {
            RmiAvailable = true;
            RmmFeatureRegister0 = features.X1;
        }

        _kvm = new KvmContext(platform, Options, RmmFeatureRegister0);
    }

    private readonly KvmContext _kvm;

    /// <summary>The host's page allocator (for leak checks and benchmarks).</summary>
    public HostPageAllocator Pages => _kvm.Pages;

    /// <summary>The VMM process's memory: what user addresses in ioctl arguments point into.</summary>
    public ProcessMemory Process => _kvm.Process;

    /// <summary>The realm VMID bitmap.</summary>
    public VmidAllocator Vmids => _kvm.Vmids;

    /// <summary>SMCs KVM has issued to the RMM.</summary>
    public long RmiCalls => _kvm.Rmi.Calls;

    public CcaPlatform Platform { get; }

    public KvmHostOptions Options { get; }

    /// <summary>Whether an RMM 1.0 answered at boot (KVM_CAP_ARM_RMI, realm VM type).</summary>
    public bool RmiAvailable { get; }

    /// <summary>The RMM's feature register 0, as read at boot (zero without an RMM).</summary>
    public ulong RmmFeatureRegister0 { get; }

    /// <summary>The realm IPA limit: the RMM's S2SZ (§2.2).</summary>
    public int RealmIpaLimit => (int)(RmmFeatureRegister0 & 0xFF);

    /// <summary>open("/dev/kvm").</summary>
    public int OpenDevKvm() => Install(new DevKvm());

    /// <summary>
    /// close(fd). The VM fd, every vCPU fd, every guest_memfd and every device fd hold one reference on the VM
    /// (kvm_vm_release, kvm_vcpu_release, kvm_gmem_release, kvm_device_release all end in kvm_put_kvm); the last
    /// close destroys it.
    /// </summary>
    public KvmResult Close(int fd)
    {
        if (!_files.Remove(fd, out object? file))
        {
            return Errno.EBADF;
        }

        switch (file)
        {
            case KvmVm vm:
                vm.Release();
                break;
            case KvmVcpu vcpu:
                vcpu.Vm.Release();
                break;
            case GuestMemfdFile gmem:
                gmem.Close();
                (gmem.Owner as KvmVm)?.Release();
                break;
            case DeviceFile device:
                device.Vm.Release();
                break;
        }

        return KvmResult.Success;
    }

    /// <summary>The VM behind a VM fd (for the layers above that hold the fd, and for tests).</summary>
    public KvmVm? VmOf(int fd) => _files.GetValueOrDefault(fd) as KvmVm;

    /// <summary>The guest_memfd behind an fd, or null for any other kind of fd.</summary>
    public GuestMemfdFile? GuestMemfdOf(int fd) => _files.GetValueOrDefault(fd) as GuestMemfdFile;

    /// <summary>KVM_CREATE_VM (§2.2): returns the new VM fd.</summary>
    public KvmResult CreateVm(int kvmFd, ulong type)
    {
        if (_files.GetValueOrDefault(kvmFd) is not DevKvm)
        {
            return WrongFd(kvmFd);
        }

        ulong machine = type & KvmVmType.ArmMask;
        if ((type & ~KvmVmType.ValidMask) != 0 || (machine != KvmVmType.ArmNormal && machine != KvmVmType.ArmRealm))
        {
            return Errno.EINVAL;
        }

        bool realm = machine == KvmVmType.ArmRealm;
        if (realm && !RmiAvailable)
        {
            return Errno.EINVAL;
        }

        int ipa = (int)(type & KvmVmType.IpaSizeMask);
        ipa = ipa == 0 ? KvmVmType.DefaultIpaBits : ipa;
        int limit = realm ? RealmIpaLimit : Options.HostIpaLimit;
        if (ipa < 32 || ipa > limit)
        {
            return Errno.EINVAL;
        }

        return KvmResult.Ok(Install(new KvmVm(_kvm, realm, ipa, RegisterLimits(realm))));
    }

    /// <summary>
    /// What a new VM's configurable registers may be: for a realm the RMM's RMI_FEATURES(0) limits (§2.9) with the
    /// host's AArch32, CTX_CMPs and pointer authentication; for a normal VM the host CPU.
    /// </summary>
    private RealmRegisterLimits RegisterLimits(bool realm) => realm
        ? RealmRegisterLimits.FromRmiFeatureRegister0(RmmFeatureRegister0) with
        {
            HostCtxCmps = Options.HostCpu.HostCtxCmps,
            HostHasAArch32 = Options.HostCpu.HostHasAArch32,
            HostHasPtrAuth = Options.HostCpu.HostHasPtrAuth,
        }
        : Options.HostCpu;

    /// <summary>
    /// KVM_CHECK_EXTENSION on /dev/kvm or a VM fd. A realm VM fd answers 0 for every arch capability outside the
    /// v12 allow-list (§2.10); the generic guest_memfd and attribute capabilities follow the 6.8–6.12 code, where a
    /// normal arm64 VM fd reports 0 for both (§2.2).
    /// </summary>
    public KvmResult CheckExtension(int fd, long capability)
    {
        object? file = _files.GetValueOrDefault(fd);
        if (file is not (DevKvm or KvmVm))
        {
            // kvm_vcpu_ioctl has no KVM_CHECK_EXTENSION case: a vCPU fd answers with kvm_arch_vcpu_ioctl's default.
            return WrongFd(fd);
        }

        KvmVm? vm = file as KvmVm;
        if (capability == Options.CapabilityNumbers.ArmRmi)
        {
            return KvmResult.Ok(RmiAvailable ? 1 : 0);
        }

        bool sve = vm?.IsRealm == true ? _kvm.RealmSve : Options.HostSve;
        long value = (KvmCapability)capability switch
        {
            KvmCapability.UserMemory2 or KvmCapability.MemoryFaultInfo => 1,
            KvmCapability.GuestMemfd => vm is null || vm.IsRealm ? 1 : 0,
            KvmCapability.MemoryAttributes => vm is null ? (long)KvmMemoryAttributeBits.Private : (long)vm.SupportedAttributes,
            KvmCapability.Irqchip or KvmCapability.ArmPsci or KvmCapability.ArmPsci02 or KvmCapability.MsiDevid or KvmCapability.ArmPmuV3 => 1,
            KvmCapability.NrVcpus or KvmCapability.MaxVcpus or KvmCapability.MaxVcpuId => Options.MaxVcpus,
            KvmCapability.ArmVmIpaSize => vm?.IsRealm == true ? RealmIpaLimit : Options.HostIpaLimit,
            KvmCapability.ArmSve => sve ? 1 : 0,
            KvmCapability.ArmPtrauthAddress or KvmCapability.ArmPtrauthGeneric => Options.HostPtrauth ? 1 : 0,
            KvmCapability.StealTime or KvmCapability.CounterOffset or KvmCapability.ArmNisvToUser => vm?.IsRealm == true ? 0 : 1,
            _ => 0,
        };
        return KvmResult.Ok(value);
    }

    /// <summary>KVM_SET_USER_MEMORY_REGION2 (§4.2).</summary>
    public KvmResult SetUserMemoryRegion2(int vmFd, in KvmUserspaceMemoryRegion2 region)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        return vm.Memslots.Set(region, fd => GuestMemfdOf((int)fd));
    }

    /// <summary>KVM_SET_USER_MEMORY_REGION (v1; §4.2).</summary>
    public KvmResult SetUserMemoryRegion(int vmFd, in KvmUserspaceMemoryRegion region) =>
        VmOf(vmFd) is KvmVm vm ? vm.Memslots.SetV1(region) : WrongFd(vmFd);

    /// <summary>KVM_CREATE_GUEST_MEMFD (§4.1): a new fd whose file keeps the VM alive after the VM fd closes.</summary>
    public KvmResult CreateGuestMemfd(int vmFd, in KvmCreateGuestMemfd request)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        KvmResult<GuestMemfdFile> file = GuestMemfdFile.Create(request, vm, _kvm.Pages);
        if (!file.IsSuccess)
        {
            return file.Error;
        }

        vm.References++;
        return KvmResult.Ok(Install(file.Value));
    }

    /// <summary>KVM_SET_MEMORY_ATTRIBUTES (§4.3).</summary>
    public KvmResult SetMemoryAttributes(int vmFd, in KvmMemoryAttributes attributes) =>
        VmOf(vmFd) is KvmVm vm ? vm.Attributes.SetMemoryAttributes(attributes) : WrongFd(vmFd);


    /// <summary>KVM_GET_VCPU_MMAP_SIZE on /dev/kvm: the bytes a VMM maps from a vCPU fd.</summary>
    public KvmResult GetVcpuMmapSize(int kvmFd) => _files.GetValueOrDefault(kvmFd) switch
    {
        DevKvm => KvmResult.Ok(KvmRun.MmapSize),
        _ => WrongFd(kvmFd),
    };

    /// <summary>
    /// KVM_CREATE_VCPU: a new vCPU fd. -EINVAL for an id at or above KVM_CAP_MAX_VCPU_ID or past KVM_CAP_MAX_VCPUS,
    /// -EEXIST for an id in use, -EBUSY once any vCPU has run (the vGIC is initialised then, §2.3).
    /// </summary>
    public KvmResult CreateVcpu(int vmFd, int vcpuId)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        if (vcpuId < 0 || vcpuId >= Options.MaxVcpus || vm.Vcpus.Count >= Options.MaxVcpus)
        {
            return Errno.EINVAL;
        }

        if (vm.HasRun)
        {
            return Errno.EBUSY;
        }

        if (vm.Vcpus.Any(v => v.Id == vcpuId))
        {
            return Errno.EEXIST;
        }

        if (vm.Irqchip is Vgic.Vgic3 gic && gic.AddVcpu() is { IsSuccess: false } refused)
        {
            return refused;
        }

        vm.References++;
        return KvmResult.Ok(Install(vm.AddVcpu(vcpuId)));
    }

    /// <summary>The vCPU behind a vCPU fd, or null.</summary>
    public KvmVcpu? VcpuOf(int fd) => _files.GetValueOrDefault(fd) as KvmVcpu;

    /// <summary>mmap of a vCPU fd: the shared <c>kvm_run</c> page.</summary>
    public KvmRun? MapRun(int vcpuFd) => VcpuOf(vcpuFd)?.Run;

    /// <summary>
    /// KVM_RUN. Realm vCPUs run through the RMM (§2.8, §2.11): -ENOEXEC before KVM_ARM_VCPU_INIT; the first run
    /// activates the realm. Normal VMs run on <see cref="KvmHostOptions.Engine"/>; without one they answer -ENOEXEC
    /// (FIDELITY.md).
    /// </summary>
    public KvmResult Run(int vcpuFd)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return WrongFd(vcpuFd);
        }

        IRealmEngine? engine = Options.Engine;
        if (!vcpu.IsInitialized || (!vcpu.Vm.IsRealm && engine is null))
        {
            return Errno.ENOEXEC;
        }

        // kvm_arch_vcpu_run_pid_change: an SVE vCPU runs only once its vector lengths are final.
        if (!vcpu.Registers.Features.IsFinalized)
        {
            return Errno.EPERM;
        }

        return vcpu.Vm.IsRealm ? RealmRunLoop.Run(vcpu) : NormalRunLoop.Run(vcpu, engine!);
    }

    /// <summary>
    /// KVM_ENABLE_CAP on a VM fd (kvm_vm_ioctl_enable_cap): non-zero flags → -EINVAL; KVM_CAP_ARM_NISV_TO_USER turns
    /// syndrome-less MMIO aborts into KVM_EXIT_ARM_NISV; every other capability → -EINVAL, KVM_CAP_ARM_RMI included as
    /// in v12 — unless the <see cref="KvmHostOptions.PreV12RealmConfig"/> compatibility option models the older
    /// series' CONFIG_REALM sub-command (§2.20).
    /// </summary>
    public KvmResult EnableCap(int vmFd, in KvmEnableCap cap)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        if (cap.Flags == 0 && Options.PreV12RealmConfig && cap.Cap == (uint)Options.CapabilityNumbers.ArmRmi)
        {
            return EnablePreV12RealmCap(vm, cap);
        }

        if (cap.Flags != 0 || cap.Cap != (uint)KvmCapability.ArmNisvToUser || vm.IsRealm)
        {
            return Errno.EINVAL;
        }

        vm.NisvToUser = true;
        return KvmResult.Success;
    }

    /// <summary>
    /// kvm_realm_enable_cap of the v8–v11 series (§2.20): a VM that is not a realm → -EINVAL; args[0] selects the
    /// sub-command, of which only CONFIG_REALM is modelled (the others → -EINVAL, as an unknown one answers there).
    /// </summary>
    private static KvmResult EnablePreV12RealmCap(KvmVm vm, in KvmEnableCap cap)
    {
        if (!vm.IsRealm || cap.Arg0 != KvmArmRmeSubCommand.ConfigRealm)
        {
            return Errno.EINVAL;
        }

        return vm.Realm!.Configure(cap.Arg1);
    }

    /// <summary>
    /// KVM_ARM_RMI_POPULATE (§2.6), v12 form: returns the bytes populated; the struct is not written back.
    /// -EPERM on a normal VM; -EINVAL for reserved bits, unknown flags or a misaligned base or size; then the
    /// realm is created if needed (-EBUSY once active, -ENXIO if dead) and guest_memfd populates page by page.
    /// </summary>
    public KvmResult ArmRmiPopulate(int vmFd, in KvmArmRmiPopulate args)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        if (!vm.IsRealm)
        {
            return Errno.EPERM;
        }

        // No base + size wrap check in v12 (§2.19).
        if (args.Reserved != 0 || (args.Flags & ~KvmArmRmiPopulateFlags.Valid) != 0
            || args.Base % HostPageAllocator.PageSize != 0 || (args.Base + args.Size) % HostPageAllocator.PageSize != 0)
        {
            return Errno.EINVAL;
        }

        KvmRealm realm = vm.Realm!;
        KvmResult created = vm.EnsureRealmCreated();
        if (!created.IsSuccess)
        {
            return created;
        }

        // The v12 ioctl returns an int, so a count of 2 GiB or more would come back negative (§2.19). CcaSim stops
        // one call short of that instead; a VMM that advances by the returned count just calls again (FIDELITY.md).
        ulong pages = Math.Min(args.Size >> Memslots.MemslotTable.PageShift, int.MaxValue >> Memslots.MemslotTable.PageShift);
        KvmResult done = realm.Populate(args.Base >> Memslots.MemslotTable.PageShift, pages, args.SourceUaddr, args.Flags);
        return done.IsSuccess ? KvmResult.Ok(done.ReturnValue << Memslots.MemslotTable.PageShift) : done;
    }

    /// <summary>KVM_ARM_VCPU_RMI_PSCI_COMPLETE on the calling vCPU's fd (§2.15).</summary>
    public KvmResult ArmVcpuRmiPsciComplete(int vcpuFd, in KvmArmRmiPsciComplete request) =>
        VcpuOf(vcpuFd) is KvmVcpu vcpu ? RealmPsci.Complete(vcpu, request) : WrongFd(vcpuFd);

    /// <summary>
    /// KVM_SET_DEVICE_ATTR(KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER) on a VM fd with the filter already copied in:
    /// kvm_smccc_set_filter checks the filter (-EINVAL) before it looks at whether the VM has run (-EBUSY). A shortcut
    /// for VM fds only (any other fd answers as to an ioctl it does not know); <see cref="SetDeviceAttr"/> is the ioctl.
    /// </summary>
    public KvmResult SetSmcccFilter(int vmFd, in KvmSmcccFilter filter) =>
        VmOf(vmFd) is KvmVm vm ? SetSmcccFilter(vm, filter) : WrongFd(vmFd);

    private static KvmResult SetSmcccFilter(KvmVm vm, in KvmSmcccFilter filter)
    {
        KvmResult valid = SmcccFilter.Validate(filter);
        if (!valid.IsSuccess)
        {
            return valid;
        }

        return vm.HasRun ? Errno.EBUSY : vm.SmcccFilter.Add(filter);
    }

    /// <summary>
    /// KVM_CREATE_DEVICE on a VM fd. Only the GICv3 exists on this host (a v2 request is -ENODEV, §2.16); a created
    /// device gets an fd (written back to <paramref name="device"/>.Fd) and becomes the VM's in-kernel irqchip.
    /// </summary>
    public KvmResult CreateDevice(int vmFd, ref KvmCreateDevice device)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        var context = new Vgic.VgicCreateContext(vm.IpaBits, vm.Vcpus.Count, vm.Irqchip is not null, vm.HasRun);
        KvmResult created = Vgic.Vgic3.Create(device.Type, device.Flags, context, out Vgic.Vgic3? gic);
        if (!created.IsSuccess || gic is null)
        {
            return created;
        }

        vm.Irqchip = gic;

        // kvm_ioctl_create_device takes a VM reference for the new fd; kvm_device_release drops it.
        vm.References++;
        device.Fd = (uint)Install(new DeviceFile(vm, gic));
        return KvmResult.Success;
    }

    /// <summary>
    /// KVM_SET_DEVICE_ATTR. On the vGIC's device fd the value is read from the VMM's memory at <c>attr.addr</c>
    /// (-EFAULT if unmapped). On a VM fd it is kvm_vm_set_attr: only KVM_ARM_VM_SMCCC_CTRL / SMCCC_FILTER exists
    /// (-ENXIO otherwise). On a vCPU fd the PMU, timer and PV-time groups are not modelled: -ENXIO (FIDELITY.md).
    /// </summary>
    public KvmResult SetDeviceAttr(int fd, in KvmDeviceAttr attr) => _files.GetValueOrDefault(fd) switch
    {
        DeviceFile device => SetVgicAttr(device.Gic, attr),
        KvmVm vm => SetVmAttr(vm, attr),
        KvmVcpu => Errno.ENXIO,
        _ => WrongFd(fd),
    };

    /// <summary>
    /// KVM_GET_DEVICE_ATTR. On the vGIC's device fd the value is written to the VMM's memory at <c>attr.addr</c>
    /// (-EFAULT if unmapped). kvm_arch_vm_ioctl has no GET case (the SMCCC filter is write-only), so a VM fd
    /// answers -EINVAL; a vCPU fd -ENXIO, as for SET.
    /// </summary>
    public KvmResult GetDeviceAttr(int fd, in KvmDeviceAttr attr) => _files.GetValueOrDefault(fd) switch
    {
        DeviceFile device => GetVgicAttr(device.Gic, attr),
        KvmVcpu => Errno.ENXIO,
        _ => WrongFd(fd),
    };

    /// <summary>
    /// KVM_HAS_DEVICE_ATTR: on the vGIC's device fd 0 for an attribute it implements, -ENXIO otherwise; on a VM fd 0
    /// only for KVM_ARM_VM_SMCCC_CTRL / SMCCC_FILTER (kvm_vm_has_attr); on a vCPU fd -ENXIO, as for SET.
    /// </summary>
    public KvmResult HasDeviceAttr(int fd, in KvmDeviceAttr attr) => _files.GetValueOrDefault(fd) switch
    {
        DeviceFile => Vgic.Vgic3.HasAttribute(attr),
        KvmVm => IsSmcccFilterAttr(attr) ? KvmResult.Success : Errno.ENXIO,
        KvmVcpu => Errno.ENXIO,
        _ => WrongFd(fd),
    };

    private KvmResult SetVgicAttr(Vgic.Vgic3 gic, in KvmDeviceAttr attr)
    {
        Span<byte> value = stackalloc byte[8];
        int length = attr.Group == KvmVgicAttr.GroupCtrl ? 0 : attr.Group == KvmVgicAttr.GroupNrIrqs ? 4 : 8;
        if (length > 0 && !Process.TryRead(attr.Addr, value[..length]))
        {
            return Errno.EFAULT;
        }

        return gic.SetAttribute(attr, value[..length]);
    }

    private KvmResult GetVgicAttr(Vgic.Vgic3 gic, in KvmDeviceAttr attr)
    {
        Span<byte> value = stackalloc byte[8];
        int length = attr.Group == KvmVgicAttr.GroupNrIrqs ? 4 : 8;
        KvmResult r = gic.GetAttribute(attr, value[..length]);
        if (!r.IsSuccess)
        {
            return r;
        }

        return Process.TryWrite(attr.Addr, value[..length]) ? KvmResult.Success : Errno.EFAULT;
    }

    /// <summary>kvm_vm_set_attr → kvm_vm_smccc_set_attr → kvm_smccc_set_filter: copy the filter in (-EFAULT), then check and add it.</summary>
    private KvmResult SetVmAttr(KvmVm vm, in KvmDeviceAttr attr)
    {
        if (!IsSmcccFilterAttr(attr))
        {
            return Errno.ENXIO;
        }

        Span<byte> raw = stackalloc byte[Unsafe.SizeOf<KvmSmcccFilter>()];
        if (!Process.TryRead(attr.Addr, raw))
        {
            return Errno.EFAULT;
        }

        return SetSmcccFilter(vm, MemoryMarshal.Read<KvmSmcccFilter>(raw));
    }

    private static bool IsSmcccFilterAttr(in KvmDeviceAttr attr) =>
        attr.Group == KvmArmVmAttr.GroupSmcccCtrl && attr.Attr == KvmArmVmAttr.SmcccFilter;

    /// <summary>KVM_IRQ_LINE on a VM fd: -ENXIO without an in-kernel GIC.</summary>
    public KvmResult IrqLine(int vmFd, in KvmIrqLevel level)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        return vm.Irqchip is Vgic.Vgic3 gic ? gic.IrqLine(level) : Errno.ENXIO;
    }

    /// <summary>
    /// KVM_ARM_SET_COUNTER_OFFSET: reserved bits → -EINVAL, then a realm → -EINVAL (§2.16: a realm's virtual
    /// offset is forced to 0). A normal VM records the offset.
    /// </summary>
    public KvmResult ArmSetCounterOffset(int vmFd, in KvmArmCounterOffset offset)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return WrongFd(vmFd);
        }

        if (offset.Reserved != 0 || vm.IsRealm)
        {
            return Errno.EINVAL;
        }

        vm.CounterOffset = offset.CounterOffset;
        return KvmResult.Success;
    }

    /// <summary>KVM_ARM_PREFERRED_TARGET on a VM fd: KVM_ARM_TARGET_GENERIC_V8 with no features, what VMMs pass to INIT.</summary>
    public KvmResult ArmPreferredTarget(int vmFd, out KvmVcpuInit init)
    {
        init = default;
        if (VmOf(vmFd) is null)
        {
            return WrongFd(vmFd);
        }

        init.Target = KvmArmTarget.GenericV8;
        return KvmResult.Success;
    }

    /// <summary>
    /// KVM_ARM_GET_REG_WRITABLE_MASKS on a VM fd: how a VMM discovers that ID_AA64DFR0_EL1's BRPs, WRPs and CTX_CMPs
    /// configure a realm (§2.9). Only the feature ID range exists (range ≠ 0 or reserved words: -EINVAL); the whole
    /// 192-entry array at <c>range.Addr</c> is zeroed, then each writable ID register's mask is stored (-EFAULT if
    /// unmapped). ID_AA64DFR0_EL1 is the only ID register CcaSim lets userspace write (FIDELITY.md).
    /// </summary>
    public KvmResult ArmGetRegWritableMasks(int vmFd, in KvmRegMaskRange range)
    {
        if (VmOf(vmFd) is null)
        {
            return WrongFd(vmFd);
        }

        bool reserved = false;
        foreach (uint word in range.Reserved)
        {
            reserved |= word != 0;
        }

        if (range.Range != KvmArmFeatureIdRange.Range || reserved)
        {
            return Errno.EINVAL;
        }

        byte[] masks = new byte[KvmArmFeatureIdRange.Size * sizeof(ulong)];
        BinaryPrimitives.WriteUInt64LittleEndian(masks.AsSpan(KvmArmFeatureIdRange.Index(op1: 0, crm: 5, op2: 0) * sizeof(ulong)), IdAa64Dfr0.WritableMask);
        return Process.TryWrite(range.Addr, masks) ? KvmResult.Success : Errno.EFAULT;
    }

    /// <summary>
    /// KVM_GET_VCPU_EVENTS: nothing is ever left pending for user space to see (no virtual SError is queued, and an
    /// external data abort is consumed by the next entry), so the structure comes back zeroed.
    /// </summary>
    public KvmResult GetVcpuEvents(int vcpuFd, out KvmVcpuEvents events)
    {
        events = default;
        return VcpuOf(vcpuFd) is null ? WrongFd(vcpuFd) : KvmResult.Success;
    }

    /// <summary>
    /// KVM_ARM_VCPU_INIT (§2.3) with the 6.6 rules of <see cref="VcpuFeatures"/>: the target must be
    /// KVM_ARM_TARGET_GENERIC_V8 (-EINVAL); unknown feature bits or non-zero words 1..6 are -ENOENT; AArch32 EL1 on a
    /// realm, one pointer-authentication half, SVE or PMUv3 the VM cannot have, or a feature set other than the
    /// VM's are -EINVAL. A repeated INIT resets the vCPU. PSCI 0.2 is not required here: REC creation refuses its
    /// absence at activation.
    /// </summary>
    public KvmResult ArmVcpuInit(int vcpuFd, in KvmVcpuInit init)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return WrongFd(vcpuFd);
        }

        KvmResult r = vcpu.Registers.Init(init);
        if (r.IsSuccess)
        {
            vcpu.IsPoweredOff = vcpu.Registers.Features.StartsPoweredOff;

            // kvm_reset_vcpu: the engine's context restarts from the reset register file.
            vcpu.ResetPending = true;
            vcpu.RegistersDirty = true;
            vcpu.ContextAhead = false;
            vcpu.IsWaiting = false;
        }

        return r;
    }

    /// <summary>
    /// KVM_ARM_VCPU_FINALIZE(<paramref name="what"/>): -ENOEXEC before KVM_ARM_VCPU_INIT; only KVM_ARM_VCPU_SVE on
    /// an SVE vCPU (-EINVAL otherwise), once (-EPERM). Fixes the vCPU's vector lengths, which a realm's RD then
    /// takes as sve_vl (§2.5).
    /// </summary>
    public KvmResult ArmVcpuFinalize(int vcpuFd, int what)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return WrongFd(vcpuFd);
        }

        return vcpu.IsInitialized ? vcpu.Registers.Features.Finalize(what) : Errno.ENOEXEC;
    }

    /// <summary>
    /// KVM_SET_ONE_REG: -ENOEXEC before KVM_ARM_VCPU_INIT; KVM_REG_SIZE(id) bytes are read from the VMM's memory at
    /// <c>reg.Addr</c> (-EFAULT); then the register rules, on a realm only X0–X30, PC, PMCR_EL0, ID_AA64DFR0_EL1 and
    /// KVM_REG_ARM64_SVE_VLS, with the late-write errors once the RD exists (§2.5, §2.9).
    /// </summary>
    public KvmResult SetOneReg(int vcpuFd, in KvmOneReg reg)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return WrongFd(vcpuFd);
        }

        if (!vcpu.IsInitialized)
        {
            return Errno.ENOEXEC;
        }

        Span<byte> value = stackalloc byte[ArmRegisterId.SizeInBytes(reg.Id)];
        if (!_kvm.Process.TryRead(reg.Addr, value))
        {
            return Errno.EFAULT;
        }

        // The register file is the ABI's state: bring it up to date from the engine first, so the other
        // registers survive the reload the next KVM_RUN does.
        NormalRunLoop.SyncRegisterFile(vcpu);
        KvmResult set = vcpu.Registers.SetOneReg(reg.Id, value);
        if (set.IsSuccess && !vcpu.Vm.IsRealm)
        {
            vcpu.RegistersDirty = true;
        }

        return set;
    }

    /// <summary>
    /// KVM_GET_ONE_REG: -ENOEXEC before KVM_ARM_VCPU_INIT; the register's KVM_REG_SIZE(id) bytes are written to the
    /// VMM's memory at <c>reg.Addr</c> (-EFAULT). A realm's registers may be stale (§2.9).
    /// </summary>
    public KvmResult GetOneReg(int vcpuFd, in KvmOneReg reg)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return WrongFd(vcpuFd);
        }

        if (!vcpu.IsInitialized)
        {
            return Errno.ENOEXEC;
        }

        Span<byte> value = stackalloc byte[ArmRegisterId.SizeInBytes(reg.Id)];
        NormalRunLoop.SyncRegisterFile(vcpu);
        KvmResult r = vcpu.Registers.GetOneReg(reg.Id, value);
        if (!r.IsSuccess)
        {
            return r;
        }

        return _kvm.Process.TryWrite(reg.Addr, value) ? KvmResult.Success : Errno.EFAULT;
    }

    /// <summary>
    /// KVM_GET_REG_LIST on the <c>struct kvm_reg_list</c> at <paramref name="listAddr"/> in the VMM's memory:
    /// -ENOEXEC before KVM_ARM_VCPU_INIT, -EPERM before an SVE vCPU is finalised; then <c>n</c> is read and
    /// replaced by the register count; if the caller's <c>n</c> was smaller the call fails -E2BIG, else the ids follow
    /// in <c>reg[]</c>. Every unreadable or unwritable address is -EFAULT. A realm lists only what §2.9 allows.
    /// </summary>
    public KvmResult GetRegList(int vcpuFd, ulong listAddr)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return WrongFd(vcpuFd);
        }

        if (!vcpu.IsInitialized)
        {
            return Errno.ENOEXEC;
        }

        if (!vcpu.Registers.Features.IsFinalized)
        {
            return Errno.EPERM;
        }

        Span<byte> header = stackalloc byte[sizeof(ulong)];
        if (!_kvm.Process.TryRead(listAddr, header))
        {
            return Errno.EFAULT;
        }

        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(header);
        IReadOnlyList<ulong> ids = vcpu.Registers.RegisterList();
        BinaryPrimitives.WriteUInt64LittleEndian(header, (ulong)ids.Count);
        if (!_kvm.Process.TryWrite(listAddr, header))
        {
            return Errno.EFAULT;
        }

        if (n < (ulong)ids.Count)
        {
            return Errno.E2BIG;
        }

        byte[] image = new byte[ids.Count * sizeof(ulong)];
        for (int i = 0; i < ids.Count; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(image.AsSpan(i * sizeof(ulong)), ids[i]);
        }

        return _kvm.Process.TryWrite(listAddr + sizeof(ulong), image) ? KvmResult.Success : Errno.EFAULT;
    }

    /// <summary>
    /// KVM_SET_VCPU_EVENTS for a realm vCPU (§2.14): non-zero reserved words or padding and a pending SError are
    /// -EINVAL; an external data abort only replaces an MMIO completion KVM has already made (EMULATED_MMIO set in
    /// rec_enter.flags, which for a user-space exit happens in the next KVM_RUN, e.g. one with immediate_exit) and
    /// the next entry injects an SEA; else -EINVAL.
    /// </summary>
    public KvmResult SetVcpuEvents(int vcpuFd, in KvmVcpuEvents events)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return WrongFd(vcpuFd);
        }

        if (!vcpu.Vm.IsRealm)
        {
            return SetNormalVcpuEvents(vcpu, events);
        }

        KvmResult r = VcpuEvents.ValidateRealmEvents(events, vcpu.EmulatedMmioPending, out bool injectSea);
        if (r.IsSuccess && injectSea)
        {
            // v12 swaps the flag: EMULATED_MMIO goes, INJECT_SEA comes, so a second ext_dabt finds nothing to replace.
            vcpu.EmulatedMmioPending = false;
            vcpu.InjectSeaPending = true;
        }

        return r;
    }

    /// <summary>
    /// __kvm_arm_vcpu_set_events for a normal VM: reserved words or padding → -EINVAL; a pending SError cannot be
    /// injected by the engine (-EINVAL, FIDELITY.md); an external data abort is taken at the next entry, on the
    /// access an MMIO exit left pending if there is one (that access is then not completed).
    /// </summary>
    private static KvmResult SetNormalVcpuEvents(KvmVcpu vcpu, in KvmVcpuEvents events)
    {
        KvmResult r = VcpuEvents.ValidateRealmEvents(events, emulatedMmioPending: true, out bool injectSea);
        if (r.IsSuccess && injectSea)
        {
            vcpu.MmioNeeded = false;
            vcpu.NormalSeaPending = true;
        }

        return r;
    }

    /// <summary>
    /// What an fd answers to an ioctl its handler does not know: arm64's kvm_arch_dev_ioctl, kvm_arch_vm_ioctl and
    /// kvm_arch_vcpu_ioctl all end in -EINVAL, so /dev/kvm, VM and vCPU fds give -EINVAL; a guest_memfd has no
    /// unlocked_ioctl (vfs_ioctl: -ENOTTY) and kvm_device_ioctl's default is -ENOTTY for a device without its own
    /// ioctl method, which the vGIC is. A closed or never-opened fd is -EBADF.
    /// </summary>
    private KvmResult WrongFd(int fd) => _files.GetValueOrDefault(fd) switch
    {
        null => Errno.EBADF,
        DevKvm or KvmVm or KvmVcpu => Errno.EINVAL,
        _ => Errno.ENOTTY,
    };

    /// <summary>
    /// An ioctl request this model has no method for and none of the fd's handlers knows (a number outside the KVM
    /// API, say): every switch falls through to the fd kind's default, see <see cref="WrongFd"/>. The request number
    /// does not change the answer: kvm_vcpu_ioctl's early -EINVAL for a non-KVMIO type is the same errno its
    /// default gives.
    /// </summary>
    public KvmResult UnknownIoctl(int fd, uint request)
    {
        _ = request;
        return WrongFd(fd);
    }

    private int Install(object file)
    {
        int fd = _nextFd++;
        _files[fd] = file;
        return fd;
    }

    /// <summary>The file behind an open /dev/kvm.</summary>
    private sealed class DevKvm;

    /// <summary>A device fd (<c>struct kvm_device</c>): the vGIC it drives and the VM it holds a reference on.</summary>
    private sealed class DeviceFile(KvmVm vm, Vgic.Vgic3 gic)
    {
        public KvmVm Vm { get; } = vm;

        public Vgic.Vgic3 Gic { get; } = gic;
    }
}
