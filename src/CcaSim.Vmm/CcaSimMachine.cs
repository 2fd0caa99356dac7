using CcaSim.Cpu.Engine;
using CcaSim.Cpu.Unicorn;
using CcaSim.Kvm;
using CcaSim.Platform;
using CcaSim.Platform.Execution;
using CcaSim.Rmm;

namespace CcaSim.Vmm;

/// <summary>Everything a whole CcaSim machine needs: the VM (as <c>lkvm run</c> takes it) and the platform under it.</summary>
public sealed record MachineOptions
{
    /// <summary>The VM to boot.</summary>
    public required VmOptions Vm { get; init; }

    /// <summary>Physical memory of the simulated host; null: enough for the VM's RAM, RTTs and RECs.</summary>
    public ulong? PlatformMemorySize { get; init; }

    /// <summary>The RMM's build configuration (feature register 0, attestation platform); null: the reference build.</summary>
    public RmmConfig? Rmm { get; init; }

    /// <summary>
    /// What the host kernel offers (KVM's limits); null: the defaults. Its Engine is replaced by the machine's, and its
    /// PreV12RealmConfig by whether the VM needs it (<see cref="VmOptions.UsesPreV12RealmConfig"/>).
    /// </summary>
    public KvmHostOptions? Kvm { get; init; }

    /// <summary>Where the UART's output goes: standard output unless set; null keeps it in the transcript only.</summary>
    public Stream? ConsoleOutput { get; init; } = System.Console.OpenStandardOutput();

    /// <summary>Sees every VMM event (populates, exits, MMIO, RIPAS changes, system events), for traces.</summary>
    public Action<VmmEvent>? Events { get; init; }

    /// <summary>
    /// Wraps the machine's CPU engine before the RMM and KVM get it; null: they get the engine itself. A measuring
    /// hook, used by the bench to hide the engine's inline SMC fast path: it is called once, after the platform, the RMM
    /// and the engine exist and before KVM and the VM are created. The machine still disposes the engine it made.
    /// </summary>
    public Func<IRealmEngine, IRealmEngine>? WrapEngine { get; init; }

    /// <summary>
    /// Sees what happens below the VMM, through the platform's trace port: RMI calls, REC runs, RSI and PSCI calls,
    /// engine runs with instruction counts, interrupts, timer events, guest faults. Null (the default): tracing is off.
    /// </summary>
    public Platform.Tracing.ITraceSink? Trace { get; init; }

    /// <summary>The platform memory a VM of <paramref name="ramSize"/> bytes gets by default: its RAM twice over plus 256 MiB.</summary>
    public static ulong DefaultPlatformMemory(ulong ramSize) => Math.Max(512UL << 20, (2 * ramSize) + (256UL << 20));
}

/// <summary>
/// The composition root of CcaSim: from one <see cref="MachineOptions"/> it wires the platform, the RMM behind the
/// SMC conduit, the Unicorn engine behind the realm-execution seam (for realms through the RMM, for normal VMs
/// through KVM), KVM on top, and the VMM that drives KVM through its ABI. The CLI, the tests and embedders use it.
/// </summary>
public sealed class CcaSimMachine : IDisposable
{
    private readonly UnicornEngine _engine;

    private CcaSimMachine(MachineOptions options, BootPlan plan, CcaPlatform platform, RealmManagementMonitor rmm, UnicornEngine engine, KvmHost kvm, Vm vm)
    {
        Options = options;
        Plan = plan;
        Platform = platform;
        Rmm = rmm;
        _engine = engine;
        Kvm = kvm;
        Vm = vm;
    }

    public MachineOptions Options { get; }

    public BootPlan Plan { get; }

    public CcaPlatform Platform { get; }

    public RealmManagementMonitor Rmm { get; }

    public IDisposable Engine => _engine;

    public KvmHost Kvm { get; }

    /// <summary>The VM, loaded and (for a realm) populated, not yet run.</summary>
    public Vm Vm { get; }

    /// <summary>
    /// Builds the machine and loads the VM. Bad options, unreadable or malformed images, a missing CPU library or
    /// a configuration KVM refuses end in a <see cref="VmmException"/> with one line to show.
    /// </summary>
    public static CcaSimMachine Create(MachineOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        BootPlan plan = BootPlan.Create(options.Vm);
        RmmConfig config = options.Rmm ?? new RmmConfig();
        if (config.Validate() is string problem)
        {
            throw new VmmException($"RMM configuration: {problem}");
        }

        var platform = new CcaPlatform(new PlatformOptions { MemorySize = options.PlatformMemorySize ?? MachineOptions.DefaultPlatformMemory(options.Vm.RamSize) });
        platform.Trace.Sink = options.Trace;
        RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, config, platform.Interrupts);
        UnicornEngine engine = CreateEngine(platform);
        Vm? vm = null;
        try
        {
            IRealmEngine seen = options.WrapEngine?.Invoke(engine) ?? engine;
            rmm.Engine = seen;
            // The pre-v12 CONFIG_REALM compatibility option is on exactly when the VM asks for SHA-512 or an RPV
            // (kvm-realm-abi.md §2.20); every other VM sees the plain v12 ABI.
            KvmHostOptions kvmOptions = (options.Kvm ?? new KvmHostOptions()) with { Engine = seen, PreV12RealmConfig = options.Vm.UsesPreV12RealmConfig };
            var kvm = new KvmHost(platform, kvmOptions);
            int kvmFd = kvm.OpenDevKvm();
            vm = new Vm(kvm, kvmFd, plan, options.ConsoleOutput, () => platform.Clock.Now, options.Events);
            return new CcaSimMachine(options, plan, platform, rmm, engine, kvm, vm);
        }
        catch
        {
            vm?.Dispose();
            engine.Dispose();
            throw;
        }
    }

    /// <summary>Creates a machine, runs its VM to the end and tears it down.</summary>
    public static VmRunResult Run(MachineOptions options)
    {
        using CcaSimMachine machine = Create(options);
        return machine.Run();
    }

    /// <summary>Runs the VM until it powers off, fails or reaches a limit.</summary>
    public VmRunResult Run() => Vm.Run();

    public void Dispose()
    {
        Vm.Dispose();
        _engine.Dispose();
    }

    private static UnicornEngine CreateEngine(CcaPlatform platform)
    {
        try
        {
            return new UnicornEngine(platform.Clock, platform.Trace);
        }
        catch (UnicornNotFoundException e)
        {
            // The binding already says which library it tried and how to get one: its message is the line.
            throw new VmmException(e.Message, e);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            throw new VmmException($"the CPU engine's library libunicorn.so.2 could not be loaded ({e.Message.TrimEnd('.')}); run scripts/setup.sh or set CCASIM_UNICORN", e);
        }
    }
}
