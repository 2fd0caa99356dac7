using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Rmi;
using CcaSim.Platform;
using CcaSim.Platform.Execution;
using CcaSim.Platform.Memory;

namespace CcaSim.Kvm.Host;

/// <summary>The kernel-wide pieces every VM shares: the RMI conduit, the page allocator, host memory, the process and the VMID bitmap.</summary>
internal sealed class KvmContext(CcaPlatform platform, KvmHostOptions options, ulong featureRegister0)
{
    public CcaPlatform Platform { get; } = platform;

    public KvmHostOptions Options { get; } = options;

    public RmiClient Rmi { get; } = new(platform.Monitor);

    public HostPageAllocator Pages { get; } = new(platform);

    public MemoryAccessor HostMemory => Platform.HostMemory;

    /// <summary>The machine's virtual time: the system counter, timer deadlines and the scheduler's time slice.</summary>
    public VirtualClock Clock => Platform.Clock;

    /// <summary>The engine normal VMs run on (null: normal VMs cannot run).</summary>
    public IRealmEngine? Engine => Options.Engine;

    /// <summary>Normal VMs that are alive: their stage 2 follows the VMM's mappings (mmu notifiers).</summary>
    public List<Vm.KvmVm> NormalVms { get; } = [];

    public VmidAllocator Vmids { get; } = new(options.VmidBits);

    /// <summary>The RMM's feature register 0 as read at init (§2.18).</summary>
    public ulong FeatureRegister0 { get; } = featureRegister0;

    /// <summary>GICV3_NUM_LRS of feature register 0 (bits [37:34], count − 1): the list registers a REC has.</summary>
    public int Gicv3NumLrs => (int)((FeatureRegister0 >> 34) & 0xF) + 1;

    /// <summary>SVE_EN of feature register 0 (bit 9): whether realms may have SVE.</summary>
    public bool RealmSve => (FeatureRegister0 & (1UL << 9)) != 0;

    private ProcessMemory? _process;

    public ProcessMemory Process => _process ??= CreateProcess();

    private ProcessMemory CreateProcess()
    {
        var process = new ProcessMemory(Pages, HostMemory);
        process.Unmapping += (address, length) => NormalVms.ForEach(vm => vm.OnUserMemoryUnmapping(address, length));
        return process;
    }

    /// <summary>A zeroed kernel page (kzalloc'd params, a REC run page), or null on -ENOMEM.</summary>
    public ulong? AllocateZeroed()
    {
        ulong? pa = Pages.Allocate();
        if (pa is ulong page)
        {
            HostMemory.TryZero(page, HostPageAllocator.PageSize);
        }

        return pa;
    }

    /// <summary>Takes a page for the realm world: allocate, delegate. Null on -ENOMEM or a refused delegate (the page is returned).</summary>
    public ulong? AllocateDelegated()
    {
        if (Pages.Allocate() is not ulong pa)
        {
            return null;
        }

        if (!Rmi.GranuleDelegate(pa).IsSuccess)
        {
            Pages.Free(pa);
            return null;
        }

        return pa;
    }

    /// <summary>Undelegates and frees a page; a page the RMM will not give back is leaked, never reused (§2.17).</summary>
    public bool UndelegateAndFree(ulong pa)
    {
        if (Rmi.GranuleUndelegate(pa).IsSuccess)
        {
            Pages.Free(pa);
            return true;
        }

        Pages.Leak(pa);
        return false;
    }
}
