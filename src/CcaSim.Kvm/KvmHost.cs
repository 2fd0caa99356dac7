using CcaSim.Kvm.GuestMemfd;
using CcaSim.Kvm.Host;
using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Run;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vm;
using CcaSim.Platform;

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

    /// <summary>close(fd). Closing a VM fd drops one reference on the VM; guest_memfd files hold their own.</summary>
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
            return _files.ContainsKey(kvmFd) ? Errno.ENOTTY : Errno.EBADF;
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

        return KvmResult.Ok(Install(new KvmVm(_kvm, realm, ipa)));
    }

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
            return file is null ? Errno.EBADF : Errno.ENOTTY;
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
            KvmCapability.StealTime => vm?.IsRealm == true ? 0 : 1,
            _ => 0,
        };
        return KvmResult.Ok(value);
    }

    /// <summary>KVM_SET_USER_MEMORY_REGION2 (§4.2).</summary>
    public KvmResult SetUserMemoryRegion2(int vmFd, in KvmUserspaceMemoryRegion2 region)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return NotAVm(vmFd);
        }

        return vm.Memslots.Set(region, fd => GuestMemfdOf((int)fd));
    }

    /// <summary>KVM_SET_USER_MEMORY_REGION (v1; §4.2).</summary>
    public KvmResult SetUserMemoryRegion(int vmFd, in KvmUserspaceMemoryRegion region) =>
        VmOf(vmFd) is KvmVm vm ? vm.Memslots.SetV1(region) : NotAVm(vmFd);

    /// <summary>KVM_CREATE_GUEST_MEMFD (§4.1): a new fd whose file keeps the VM alive after the VM fd closes.</summary>
    public KvmResult CreateGuestMemfd(int vmFd, in KvmCreateGuestMemfd request)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return NotAVm(vmFd);
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
        VmOf(vmFd) is KvmVm vm ? vm.Attributes.SetMemoryAttributes(attributes) : NotAVm(vmFd);


    /// <summary>KVM_GET_VCPU_MMAP_SIZE on /dev/kvm: the bytes a VMM maps from a vCPU fd.</summary>
    public KvmResult GetVcpuMmapSize(int kvmFd) => _files.GetValueOrDefault(kvmFd) switch
    {
        DevKvm => KvmResult.Ok(KvmRun.MmapSize),
        null => Errno.EBADF,
        _ => Errno.ENOTTY,
    };

    /// <summary>
    /// KVM_CREATE_VCPU: a new vCPU fd. -EINVAL for an id at or above KVM_CAP_MAX_VCPU_ID or past KVM_CAP_MAX_VCPUS,
    /// -EEXIST for an id in use, -EBUSY once any vCPU has run (the vGIC is initialised then, §2.3).
    /// </summary>
    public KvmResult CreateVcpu(int vmFd, int vcpuId)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return NotAVm(vmFd);
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
    /// activates the realm. Normal VMs have no CPU engine in CcaSim (FIDELITY.md): -ENOEXEC.
    /// </summary>
    public KvmResult Run(int vcpuFd)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return NotAVcpu(vcpuFd);
        }

        if (!vcpu.IsInitialized || !vcpu.Vm.IsRealm)
        {
            return Errno.ENOEXEC;
        }

        return RealmRunLoop.Run(vcpu);
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
            return NotAVm(vmFd);
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
        KvmResult created = realm.EnsureCreated(vm.CreateConfig);
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
        VcpuOf(vcpuFd) is KvmVcpu vcpu ? RealmPsci.Complete(vcpu, request) : NotAVcpu(vcpuFd);

    /// <summary>KVM_SET_DEVICE_ATTR(KVM_ARM_VM_SMCCC_CTRL, KVM_ARM_VM_SMCCC_FILTER) on a VM fd: -EBUSY once the VM has run.</summary>
    public KvmResult SetSmcccFilter(int vmFd, in KvmSmcccFilter filter)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return NotAVm(vmFd);
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
            return NotAVm(vmFd);
        }

        var context = new Vgic.VgicCreateContext(vm.IpaBits, vm.Vcpus.Count, vm.Irqchip is not null, vm.HasRun);
        KvmResult created = Vgic.Vgic3.Create(device.Type, device.Flags, context, out Vgic.Vgic3? gic);
        if (!created.IsSuccess || gic is null)
        {
            return created;
        }

        vm.Irqchip = gic;
        device.Fd = (uint)Install(gic);
        return KvmResult.Success;
    }

    /// <summary>KVM_SET_DEVICE_ATTR on a device fd; the value is read from the VMM's memory at <c>attr.addr</c> (-EFAULT if unmapped).</summary>
    public KvmResult SetDeviceAttr(int deviceFd, in KvmDeviceAttr attr)
    {
        if (_files.GetValueOrDefault(deviceFd) is not Vgic.Vgic3 gic)
        {
            return _files.ContainsKey(deviceFd) ? Errno.ENOTTY : Errno.EBADF;
        }

        Span<byte> value = stackalloc byte[8];
        int length = attr.Group == KvmVgicAttr.GroupCtrl ? 0 : attr.Group == KvmVgicAttr.GroupNrIrqs ? 4 : 8;
        if (length > 0 && !Process.TryRead(attr.Addr, value[..length]))
        {
            return Errno.EFAULT;
        }

        return gic.SetAttribute(attr, value[..length]);
    }

    /// <summary>KVM_IRQ_LINE on a VM fd: -ENXIO without an in-kernel GIC.</summary>
    public KvmResult IrqLine(int vmFd, in KvmIrqLevel level)
    {
        if (VmOf(vmFd) is not KvmVm vm)
        {
            return NotAVm(vmFd);
        }

        return vm.Irqchip is Vgic.Vgic3 gic ? gic.IrqLine(level) : Errno.ENXIO;
    }


    /// <summary>
    /// KVM_ARM_VCPU_INIT (§2.3): the target must be KVM_ARM_TARGET_GENERIC_V8; feature bits beyond the 6.6 set,
    /// non-zero feature words 1..6, AArch32 EL1 on a realm, one pointer-authentication feature without the other,
    /// SVE the VM cannot have, or a later INIT with other features are -EINVAL. A repeated INIT resets the vCPU.
    /// PSCI 0.2 is not required here: REC creation refuses its absence at activation.
    /// </summary>
    public KvmResult ArmVcpuInit(int vcpuFd, in KvmVcpuInit init)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return NotAVcpu(vcpuFd);
        }

        uint features = init.Features[0];
        uint persistent = features & ~KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff);
        bool sveOffered = vcpu.Vm.IsRealm ? _kvm.RealmSve : Options.HostSve;
        uint ptrauth = KvmVcpuFeature.Bit(KvmVcpuFeature.PtrAuthAddress) | KvmVcpuFeature.Bit(KvmVcpuFeature.PtrAuthGeneric);
        bool otherWords = false;
        for (int i = 1; i < 7; i++)
        {
            otherWords |= init.Features[i] != 0;
        }

        if (init.Target != KvmArmTarget.GenericV8 || otherWords || features >> KvmVcpuFeature.MaxFeatures != 0
            || (vcpu.Vm.IsRealm && (features & KvmVcpuFeature.Bit(KvmVcpuFeature.El1Aarch32)) != 0)
            || ((features & ptrauth) != 0 && (features & ptrauth) != ptrauth) || (!Options.HostPtrauth && (features & ptrauth) != 0)
            || (!sveOffered && (features & KvmVcpuFeature.Bit(KvmVcpuFeature.Sve)) != 0)
            || (vcpu.IsInitialized && persistent != vcpu.Features))
        {
            return Errno.EINVAL;
        }

        vcpu.Features = persistent;
        vcpu.IsInitialized = true;
        vcpu.IsPoweredOff = (features & KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff)) != 0;
        Array.Clear(vcpu.Core.X);
        vcpu.Core.Pc = 0;
        return KvmResult.Success;
    }

    /// <summary>
    /// KVM_SET_VCPU_EVENTS for a realm vCPU (§2.14): a pending SError is -EINVAL; an external data abort only
    /// replaces the completion of an emulatable MMIO exit (then the next entry injects an SEA), else -EINVAL.
    /// </summary>
    public KvmResult SetVcpuEvents(int vcpuFd, in KvmVcpuEvents events)
    {
        if (VcpuOf(vcpuFd) is not KvmVcpu vcpu)
        {
            return NotAVcpu(vcpuFd);
        }

        if (!vcpu.Vm.IsRealm)
        {
            // Normal VMs never run in CcaSim (FIDELITY.md): nothing to inject into.
            return KvmResult.Success;
        }

        if (events.SerrorPending != 0 || (events.ExtDabtPending != 0 && !vcpu.EmulatedMmioPending))
        {
            return Errno.EINVAL;
        }

        if (events.ExtDabtPending != 0)
        {
            vcpu.InjectSeaPending = true;
        }

        return KvmResult.Success;
    }

    private KvmResult NotAVcpu(int fd) => _files.ContainsKey(fd) ? Errno.ENOTTY : Errno.EBADF;

    private KvmResult NotAVm(int fd) => _files.ContainsKey(fd) ? Errno.ENOTTY : Errno.EBADF;

    private int Install(object file)
    {
        int fd = _nextFd++;
        _files[fd] = file;
        return fd;
    }

    /// <summary>The file behind an open /dev/kvm.</summary>
    private sealed class DevKvm;
}
