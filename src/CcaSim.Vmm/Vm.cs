using System.Buffers.Binary;
using System.Diagnostics;
using CcaSim.Kvm;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Vmm;

/// <summary>How a VM's run ended.</summary>
public enum VmOutcome
{
    /// <summary>PSCI SYSTEM_OFF (KVM_EXIT_SYSTEM_EVENT shutdown).</summary>
    PoweredOff,

    /// <summary>PSCI SYSTEM_RESET; the VMM does not reboot the guest.</summary>
    Reset,

    /// <summary>KVM reported a crash system event.</summary>
    Crashed,

    /// <summary>The --max-instructions budget of virtual time ran out.</summary>
    InstructionLimit,

    /// <summary>The wall-clock --timeout passed.</summary>
    Timeout,

    /// <summary>KVM_RUN failed or the VM exited in a way this VMM does not handle.</summary>
    Failed,
}

/// <summary>The end of a run: the outcome, the exit code for a shell, what the UART printed, and why, if it failed.</summary>
public sealed record VmRunResult(VmOutcome Outcome, int ExitCode, string Transcript, string? Message, ulong VirtualTime)
{
    /// <summary>
    /// The exit code for a VM that powered off or reset: the payload's "EXIT: STATUS=n" when it printed one, else 0;
    /// for every other outcome 1 (with <see cref="Message"/> saying why).
    /// </summary>
    internal static int CodeFor(VmOutcome outcome, int? reported) =>
        outcome is VmOutcome.PoweredOff or VmOutcome.Reset ? reported ?? 0 : 1;
}

/// <summary>
/// A kvmtool-style VMM for one VM, driving CcaSim's KVM through its user ABI only (ioctls, the run page, fds): it
/// creates the VM (a realm with the v12 sequence of kvm-realm-abi.md §3.1, or a normal VM), its GICv3 and vCPUs,
/// guest RAM (guest_memfd-backed and PRIVATE for a realm), loads the <see cref="BootPlan"/>, populates a realm's
/// regions measured in GPA order, sets the boot registers, and runs every vCPU round-robin on the calling thread:
/// KVM_RUN returns -EINTR at the end of a vCPU's time slice and the next vCPU runs, so runs are deterministic.
/// </summary>
public sealed class Vm : IDisposable
{
    /// <summary>The most one KVM_ARM_RMI_POPULATE asks for: 2 MiB.</summary>
    public const ulong PopulateStep = 2UL << 20;

    private const ulong SmcccNotSupported = ulong.MaxValue;

    private readonly KvmHost _kvm;
    private readonly List<int> _vcpuFds = [];
    private readonly Func<ulong> _virtualTime;
    private int _vmFd = -1;
    private int _gicFd = -1;
    private int _gmemFd = -1;
    private ulong _ram;
    private ulong _scratch;

    /// <summary>
    /// Creates and loads the VM. <paramref name="virtualTime"/> reads the machine's system counter (for the
    /// instruction budget and event times; 0 when omitted); <paramref name="events"/> sees every event from the
    /// first populate on. Bad input or a refusing ioctl: <see cref="VmmException"/>.
    /// </summary>
    public Vm(KvmHost kvm, int kvmFd, BootPlan plan, Stream? console, Func<ulong>? virtualTime = null, Action<VmmEvent>? events = null)
    {
        ArgumentNullException.ThrowIfNull(kvm);
        ArgumentNullException.ThrowIfNull(plan);
        _kvm = kvm;
        Plan = plan;
        _virtualTime = virtualTime ?? (() => 0);
        Uart = new Uart8250(console);
        Event = events;
        try
        {
            Create(kvmFd);
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    public BootPlan Plan { get; }

    public VmmLayout Layout => Plan.Layout;

    public bool IsRealm => Layout.IsRealm;

    public Uart8250 Uart { get; }

    /// <summary>The VM fd (for embedders that want to issue further ioctls).</summary>
    public int VmFd => _vmFd;

    /// <summary>The vCPU fds, by vCPU id.</summary>
    public IReadOnlyList<int> VcpuFds => _vcpuFds;

    /// <summary>Raised for populates, exits, MMIO, RIPAS changes and system events (for traces).</summary>
    public event Action<VmmEvent>? Event;

    /// <summary>Runs every vCPU round-robin until the guest powers off, fails, or a limit of the options is reached.</summary>
    public VmRunResult Run()
    {
        VmOptions options = Plan.Options;
        ulong start = _virtualTime();
        ulong? budgetTicks = options.MaxInstructions is ulong max ? Math.Max(1, max / CcaSim.Platform.Execution.VirtualClock.InstructionsPerTick) : null;
        var wall = Stopwatch.StartNew();
        while (true)
        {
            for (int i = 0; i < _vcpuFds.Count; i++)
            {
                if (RunVcpu(i) is VmRunResult end)
                {
                    return end;
                }

                ulong elapsed = _virtualTime() - start;
                if (budgetTicks is ulong budget && elapsed >= budget)
                {
                    return Finish(VmOutcome.InstructionLimit, $"the guest was still running after {options.MaxInstructions} instructions of virtual time (--max-instructions)");
                }

                if (options.Timeout is TimeSpan timeout && wall.Elapsed >= timeout)
                {
                    return Finish(VmOutcome.Timeout, $"the guest was still running after {timeout.TotalSeconds:0.###} s (--timeout)");
                }
            }
        }
    }

    private VmRunResult? RunVcpu(int i)
    {
        int fd = _vcpuFds[i];
        KvmResult r = _kvm.Run(fd);
        KvmRun run = _kvm.MapRun(fd)!;
        if (r.ReturnValue == -(long)Errno.EINTR)
        {
            Raise(new VmmEvent(VmmEventKind.Exit, i, _virtualTime(), Detail: "EINTR"));
            return null;
        }

        if (r.ReturnValue == -(long)Errno.EFAULT && run.ExitReason == KvmExitReason.MemoryFault)
        {
            // The realm changed RIPAS (RSI_IPA_STATE_SET, kvm-realm-abi.md §2.13): as kvmtool does, convert the
            // range's memory attributes (PRIVATE for RAM, shared for EMPTY) and run again.
            KvmRunMemoryFault fault = run.MemoryFault;
            bool toPrivate = (fault.Flags & KvmMemoryExitFlag.Private) != 0;
            Raise(new VmmEvent(VmmEventKind.MemoryFault, i, _virtualTime(), fault.Gpa, fault.Size, Detail: toPrivate ? "private" : "shared"));
            KvmResult converted = _kvm.SetMemoryAttributes(_vmFd, new KvmMemoryAttributes { Address = fault.Gpa, Size = fault.Size, Attributes = toPrivate ? KvmMemoryAttributeBits.Private : 0 });
            return converted.IsSuccess ? null : Finish(VmOutcome.Failed, $"KVM_SET_MEMORY_ATTRIBUTES for 0x{fault.Gpa:x}+0x{fault.Size:x} failed: {converted}");
        }

        if (!r.IsSuccess)
        {
            return Finish(VmOutcome.Failed, $"KVM_RUN on vCPU {i} failed: {r} (exit reason {run.ExitReason})");
        }

        Raise(new VmmEvent(VmmEventKind.Exit, i, _virtualTime(), Detail: run.ExitReason.ToString()));
        switch (run.ExitReason)
        {
            case KvmExitReason.Mmio:
                Mmio(i, run);
                return null;
            case KvmExitReason.Hypercall:
                // Neither kvmtool nor this VMM implements SMCCC services in user space.
                Raise(new VmmEvent(VmmEventKind.Hypercall, i, _virtualTime(), Value: run.HypercallNr));
                run.HypercallRet = SmcccNotSupported;
                return null;
            case KvmExitReason.SystemEvent:
                (VmOutcome outcome, string name) = run.SystemEventType switch
                {
                    KvmSystemEvent.Shutdown => (VmOutcome.PoweredOff, "shutdown"),
                    KvmSystemEvent.Reset => (VmOutcome.Reset, "reset"),
                    _ => (VmOutcome.Crashed, "crash"),
                };
                Raise(new VmmEvent(VmmEventKind.SystemEvent, i, _virtualTime(), Value: run.SystemEventType, Detail: name));
                return Finish(outcome, outcome == VmOutcome.Crashed ? $"vCPU {i} reported a crash (system event {run.SystemEventType})" : null);
            default:
                return Finish(VmOutcome.Failed, $"vCPU {i}: exit {run.ExitReason} is not handled by the VMM");
        }
    }

    /// <summary>
    /// MMIO: the UART's window (at its address or, in a realm, through the unprotected alias — KVM reports the
    /// IPA without the alias bit either way) goes to the 8250; other reads return 0 and other writes are dropped.
    /// </summary>
    private void Mmio(int vcpu, KvmRun run)
    {
        ulong address = run.MmioPhysAddr & ~Layout.UnprotectedBit;
        Span<byte> data = run.MmioData;
        int length = (int)Math.Min(run.MmioLen, 8u);
        bool uart = Uart8250.Contains(address);
        if (run.MmioIsWrite)
        {
            ulong value = BinaryPrimitives.ReadUInt64LittleEndian(data);
            if (uart)
            {
                Uart.Write((int)(address - VmmLayout.UartBase), data[0]);
            }

            Raise(new VmmEvent(VmmEventKind.Mmio, vcpu, _virtualTime(), address, (ulong)length, value, true, uart ? "uart" : "unhandled"));
            return;
        }

        data.Clear();
        if (uart)
        {
            data[0] = Uart.Read((int)(address - VmmLayout.UartBase));
        }

        Raise(new VmmEvent(VmmEventKind.Mmio, vcpu, _virtualTime(), address, (ulong)length, data[0], false, uart ? "uart" : "unhandled"));
    }

    private VmRunResult Finish(VmOutcome outcome, string? message) =>
        new(outcome, VmRunResult.CodeFor(outcome, Uart.ReportedExitStatus), Uart.Transcript, message, _virtualTime());

    private void Raise(in VmmEvent e) => Event?.Invoke(e);

    /// <summary>The v12 sequence (kvm-realm-abi.md §3.1): VM, irqchip, vCPUs, memory, images, populate, registers.</summary>
    private void Create(int kvmFd)
    {
        VmOptions options = Plan.Options;
        ulong type = (ulong)(uint)Layout.IpaBits | (IsRealm ? KvmVmType.ArmRealm : KvmVmType.ArmNormal);
        _vmFd = (int)Ok(_kvm.CreateVm(kvmFd, type), IsRealm
            ? $"KVM_CREATE_VM(realm, {Layout.IpaBits} IPA bits) — does the host's RMM offer realms of that size?"
            : $"KVM_CREATE_VM({Layout.IpaBits} IPA bits)");
        _scratch = (ulong)Ok(_kvm.Process.Mmap(4096), "mmap(scratch)");
        ConfigureRealm(options);
        CreateGic();
        for (int i = 0; i < options.Cpus; i++)
        {
            CreateVcpu(i, options);
        }

        Ok(_kvm.SetDeviceAttr(_gicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupCtrl, Attr = KvmVgicAttr.CtrlInit }), "KVM_DEV_ARM_VGIC_CTRL_INIT");
        CreateRam();
        foreach (LoadedRegion item in Plan.Items)
        {
            if (!_kvm.Process.TryWrite(_ram + (item.Address - VmmLayout.RamBase), item.Bytes.Span))
            {
                throw new VmmException($"writing the {item.Name} into guest RAM at 0x{item.Address:x} failed");
            }
        }

        foreach (LoadedRegion region in Plan.PopulatedRegions)
        {
            Populate(region);
        }

        // arm64 boot protocol (booting.rst): x0 = DTB, x1..x3 = 0, PC = entry; secondaries wait for PSCI CPU_ON.
        SetReg(0, ArmRegisterId.Pc, Plan.Entry);
        SetReg(0, ArmRegisterId.X(0), Plan.DtbAddress);
        for (int x = 1; x <= 3; x++)
        {
            SetReg(0, ArmRegisterId.X(x), 0);
        }
    }

    /// <summary>
    /// SHA-512 and a personalisation value through the pre-v12 KVM_ENABLE_CAP(KVM_CAP_ARM_RMI, CONFIG_REALM) right
    /// after KVM_CREATE_VM, before anything can create the descriptor (kvm-realm-abi.md §2.20; kvmtool's
    /// realm_configure_hash_algo / realm_configure_rpv). Issued only for values v12 cannot give, so a default realm
    /// makes exactly the v12 calls.
    /// </summary>
    private void ConfigureRealm(VmOptions options)
    {
        if (!options.UsesPreV12RealmConfig)
        {
            return;
        }

        if (options.MeasurementAlgorithm == MeasurementAlgorithm.Sha512)
        {
            ConfigRealm(KvmArmRmeConfig.ForHashAlgo(KvmArmRmeMeasurementAlgo.Sha512), "--measurement-algo sha512");
        }

        if (!string.IsNullOrEmpty(options.RealmPersonalisationValue))
        {
            ConfigRealm(KvmArmRmeConfig.ForRpv(options.PersonalisationValueBytes), "--realm-pv");
        }
    }

    private void ConfigRealm(in KvmArmRmeConfig config, string option)
    {
        byte[] image = new byte[System.Runtime.CompilerServices.Unsafe.SizeOf<KvmArmRmeConfig>()];
        UapiMarshal.Write(image, config);
        if (!_kvm.Process.TryWrite(_scratch, image))
        {
            throw new VmmException("writing struct arm_rme_config into the VMM's scratch page failed");
        }

        var cap = new KvmEnableCap { Cap = (uint)_kvm.Options.CapabilityNumbers.ArmRmi, Arg0 = KvmArmRmeSubCommand.ConfigRealm, Arg1 = _scratch };
        KvmResult result = _kvm.EnableCap(_vmFd, cap);
        if (!result.IsSuccess)
        {
            // -EINVAL: the v12 ABI itself (compatibility option off), or an algorithm RMI_FEATURES(0) does not offer.
            throw new VmmException($"{option}: KVM_ENABLE_CAP(KVM_CAP_ARM_RMI, CONFIG_REALM) failed: {result} (the pre-v12 compatibility option must be on and the RMM must offer the algorithm)");
        }
    }

    private void CreateGic()
    {
        var device = new KvmCreateDevice { Type = (uint)KvmDeviceType.ArmVgicV3 };
        Ok(_kvm.CreateDevice(_vmFd, ref device), "KVM_CREATE_DEVICE(vGICv3)");
        _gicFd = (int)device.Fd;
        SetGicAddress(KvmVgicAttr.AddrTypeV3Dist, VmmLayout.GicDistributorBase);
        SetGicAddress(KvmVgicAttr.AddrTypeV3Redist, Layout.GicRedistributorBase);
    }

    private void SetGicAddress(ulong type, ulong address)
    {
        WriteScratch(address);
        Ok(_kvm.SetDeviceAttr(_gicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = type, Addr = _scratch }), $"KVM_DEV_ARM_VGIC_GRP_ADDR(0x{address:x})");
    }

    private void CreateVcpu(int id, VmOptions options)
    {
        int fd = (int)Ok(_kvm.CreateVcpu(_vmFd, id), $"KVM_CREATE_VCPU({id})");
        _vcpuFds.Add(fd);
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        uint features = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02);
        if (id != 0)
        {
            features |= KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff);
        }

        if (options.Pmu || options.PmuCounters is not null)
        {
            features |= KvmVcpuFeature.Bit(KvmVcpuFeature.PmuV3);
        }

        if (options.SveVectorLength is not null)
        {
            features |= KvmVcpuFeature.Bit(KvmVcpuFeature.Sve);
        }

        init.Features[0] = features;
        Ok(_kvm.ArmVcpuInit(fd, init), $"KVM_ARM_VCPU_INIT(vCPU {id}{(options.SveVectorLength is null ? "" : ", SVE")}{(options.Pmu || options.PmuCounters is not null ? ", PMUv3" : "")})");
        if (options.PmuCounters is int counters)
        {
            // PMCR_EL0.N is the realm's counter count (kvm-realm-abi.md §2.9); written before the RD exists.
            SetReg(id, ArmRegisterId.PmcrEl0, (ulong)(uint)counters << 11);
        }

        if (options.SveVectorLength is int vl)
        {
            // KVM_REG_ARM64_SVE_VLS: bit (vq − 1) for every vector length the guest may use, up to --sve-vl.
            byte[] vls = new byte[64];
            for (int vq = 1; vq <= vl / 128; vq++)
            {
                vls[(vq - 1) / 8] |= (byte)(1 << ((vq - 1) % 8));
            }

            _kvm.Process.TryWrite(_scratch, vls);
            Ok(_kvm.SetOneReg(fd, new KvmOneReg { Id = ArmRegisterId.SveVls, Addr = _scratch }), $"KVM_SET_ONE_REG(SVE_VLS, {vl} bits)");
            Ok(_kvm.ArmVcpuFinalize(fd, KvmVcpuFeature.Sve), "KVM_ARM_VCPU_FINALIZE(SVE)");
        }
    }

    private void CreateRam()
    {
        ulong size = Layout.RamSize;
        _ram = (ulong)Ok(_kvm.Process.Mmap(size), $"mmap({size >> 20} MiB of guest RAM)");
        if (IsRealm)
        {
            _gmemFd = (int)Ok(_kvm.CreateGuestMemfd(_vmFd, new KvmCreateGuestMemfd { Size = size }), "KVM_CREATE_GUEST_MEMFD");
            Ok(_kvm.SetUserMemoryRegion2(_vmFd, new KvmUserspaceMemoryRegion2
            {
                Slot = 0,
                Flags = (uint)KvmMemoryRegionOptions.GuestMemfd,
                GuestPhysAddr = VmmLayout.RamBase,
                MemorySize = size,
                UserspaceAddr = _ram,
                GuestMemfd = (uint)_gmemFd,
            }), "KVM_SET_USER_MEMORY_REGION2(guest_memfd RAM)");
            Ok(_kvm.SetMemoryAttributes(_vmFd, new KvmMemoryAttributes { Address = VmmLayout.RamBase, Size = size, Attributes = KvmMemoryAttributeBits.Private }), "KVM_SET_MEMORY_ATTRIBUTES(PRIVATE)");
        }
        else
        {
            Ok(_kvm.SetUserMemoryRegion2(_vmFd, new KvmUserspaceMemoryRegion2 { Slot = 0, GuestPhysAddr = VmmLayout.RamBase, MemorySize = size, UserspaceAddr = _ram }), "KVM_SET_USER_MEMORY_REGION2(RAM)");
        }
    }

    /// <summary>
    /// KVM_ARM_RMI_POPULATE, measured, in steps of at most <see cref="PopulateStep"/> bytes, advancing by the returned
    /// byte count until done (v12, §2.6). Steps keep each ioctl short and let a VMM show progress, as later kvmtool
    /// populates in steps; the RIM does not depend on them, since the RMM measures granule by granule in GPA order.
    /// </summary>
    private void Populate(LoadedRegion region)
    {
        ulong gpa = region.Address;
        ulong size = (ulong)region.Bytes.Length;
        Raise(new VmmEvent(VmmEventKind.Populate, 0, _virtualTime(), gpa, size, Detail: region.Name));
        while (size > 0)
        {
            ulong step = Math.Min(size, PopulateStep);
            var args = new KvmArmRmiPopulate { Base = gpa, Size = step, SourceUaddr = _ram + (gpa - VmmLayout.RamBase), Flags = KvmArmRmiPopulateFlags.Measure };
            KvmResult r = _kvm.ArmRmiPopulate(_vmFd, args);
            if (r.ReturnValue <= 0)
            {
                throw new VmmException($"KVM_ARM_RMI_POPULATE of the {region.Name} at 0x{gpa:x} (0x{step:x} bytes) failed: {r}");
            }

            ulong done = Math.Min(step, (ulong)r.ReturnValue);
            Raise(new VmmEvent(VmmEventKind.Populated, 0, _virtualTime(), gpa, done, Detail: region.Name));
            gpa += done;
            size -= done;
        }
    }

    private void SetReg(int vcpu, ulong id, ulong value)
    {
        WriteScratch(value);
        Ok(_kvm.SetOneReg(_vcpuFds[vcpu], new KvmOneReg { Id = id, Addr = _scratch }), $"KVM_SET_ONE_REG(0x{id:x}) on vCPU {vcpu}");
    }

    private void WriteScratch(ulong value)
    {
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        _kvm.Process.TryWrite(_scratch, bytes);
    }

    public void Dispose()
    {
        foreach (int fd in _vcpuFds)
        {
            _kvm.Close(fd);
        }

        _vcpuFds.Clear();
        CloseFd(ref _gmemFd);
        CloseFd(ref _gicFd);
        CloseFd(ref _vmFd);
        if (_ram != 0)
        {
            _kvm.Process.Munmap(_ram);
            _ram = 0;
        }

        if (_scratch != 0)
        {
            _kvm.Process.Munmap(_scratch);
            _scratch = 0;
        }
    }

    private void CloseFd(ref int fd)
    {
        if (fd >= 0)
        {
            _kvm.Close(fd);
            fd = -1;
        }
    }

    private static long Ok(KvmResult result, string what) =>
        result.IsSuccess ? result.ReturnValue : throw new VmmException($"{what} failed: {result}");
}
