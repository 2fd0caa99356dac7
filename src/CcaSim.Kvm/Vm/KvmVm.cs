using CcaSim.Kvm.Host;
using CcaSim.Kvm.MemoryAttributes;
using CcaSim.Kvm.Memslots;
using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Rmi;
using CcaSim.Kvm.Run;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Kvm.Vm;

/// <summary>
/// A VM (<c>struct kvm</c>): its type, IPA size, memslots, memory attributes, vCPUs and, for a realm, the host
/// side of the realm (<see cref="KvmRealm"/>). Realm VMs have private memory (kvm_arch_has_private_mem), which is
/// what makes guest_memfd slots and the PRIVATE attribute valid (§2.2). A VM lives while its VM fd, any vCPU fd or
/// any guest_memfd created on it is open (§4.1); the last close tears the realm down (§2.17).
/// </summary>
public sealed class KvmVm
{
    private readonly List<KvmVcpu> _vcpus = [];

    internal KvmVm(KvmContext context, bool isRealm, int ipaBits, RealmRegisterLimits registerLimits)
    {
        Context = context;
        IsRealm = isRealm;
        IpaBits = ipaBits;
        Registers = new VmRegisterConfig(registerLimits, isRealm);
        Memslots = new MemslotTable(this, privateMemory: isRealm);
        Attributes = new MemoryAttributeStore(SupportedAttributes);
        if (isRealm)
        {
            Realm = new KvmRealm(context, ipaBits, Memslots, Attributes);
            Attributes.RangeChanged += OnAttributesChanged;
            Memslots.SlotRemoved += OnSlotRemoved;
        }
        else
        {
            Stage2 = new MemslotStage2(Memslots, context.Process, context.HostMemory, ipaBits);
            Memslots.SlotRemoved += OnNormalSlotChanged;
            Memslots.SlotFlagsChanged += OnNormalSlotChanged;
            context.NormalVms.Add(this);
        }
    }

    /// <summary>A normal VM's stage 2 over its memslots, what the engine runs its vCPUs on; null for a realm.</summary>
    internal MemslotStage2? Stage2 { get; }

    public bool IsRealm { get; }

    /// <summary>The VM's IPA size in bits; for a realm the top IPA bit selects the shared (unprotected) alias (§2.12).</summary>
    public int IpaBits { get; }

    /// <summary>What KVM_ARM_SET_COUNTER_OFFSET last set (0 until then); always 0 for a realm.</summary>
    public ulong CounterOffset { get; internal set; }

    /// <summary>The attribute mask KVM_SET_MEMORY_ATTRIBUTES accepts on this VM: PRIVATE for realms, none otherwise (§4.3).</summary>
    public ulong SupportedAttributes => IsRealm ? KvmMemoryAttributeBits.Private : 0;

    public MemslotTable Memslots { get; }

    public MemoryAttributeStore Attributes { get; }

    /// <summary>The host side of the realm; null for a normal VM.</summary>
    public KvmRealm? Realm { get; }

    public IReadOnlyList<KvmVcpu> Vcpus => _vcpus;

    /// <summary>The VM-wide vCPU feature set, ID_AA64DFR0_EL1, PMCR_EL0.N and PSCI version: the realm parameters (§2.9).</summary>
    public VmRegisterConfig Registers { get; }

    public SmcccFilter SmcccFilter { get; } = new();

    /// <summary>The in-kernel GICv3, once created (KVM_CREATE_DEVICE).</summary>
    public IInKernelIrqchip? Irqchip { get; internal set; }

    /// <summary>KVM_ARCH_FLAG_RETURN_NISV_IO_ABORT_TO_USER, set by KVM_ENABLE_CAP(KVM_CAP_ARM_NISV_TO_USER).</summary>
    public bool NisvToUser { get; internal set; }

    /// <summary>Whether any vCPU of the VM has run (the vGIC is initialised then; no vCPU may be added, §2.3).</summary>
    public bool HasRun { get; internal set; }

    internal KvmContext Context { get; }

    /// <summary>Open references: the VM fd, every vCPU fd and every guest_memfd created on the VM.</summary>
    internal int References { get; set; } = 1;

    /// <summary>True once every fd that holds the VM is closed.</summary>
    public bool IsDestroyed { get; private set; }

    /// <summary>Whether the VM has a PMU: its vCPUs were initialised with PMU_V3 (kvm->arch.arm_pmu, §2.3).</summary>
    public bool HasPmu => Registers.HasPmu;

    internal KvmVcpu AddVcpu(int id)
    {
        var vcpu = new KvmVcpu(this, id, _vcpus.Count);
        _vcpus.Add(vcpu);
        return vcpu;
    }

    public KvmVcpu? VcpuByMpidr(ulong mpidr) => _vcpus.FirstOrDefault(v => v.Mpidr == (mpidr & 0xFF_00FF_FFFFUL));

    /// <summary>
    /// realm_ensure_created (§2.4, §2.5): create the RD from the VM's register configuration if there is none; once
    /// it exists the configuration is frozen (late ID-register writes -EBUSY, SVE_VLS -EPERM, PMCR_EL0.N ignored).
    /// </summary>
    internal KvmResult EnsureRealmCreated()
    {
        KvmResult created = Realm!.EnsureCreated(CreateConfig);
        if (created.IsSuccess)
        {
            Registers.Freeze();
        }

        return created;
    }

    /// <summary>
    /// The realm parameters of §2.5: num_bps / num_wps from the BRPs / WRPs fields of the VM's ID_AA64DFR0_EL1,
    /// pmu_num_ctrs from its PMCR_EL0.N when the vCPUs have PMUv3, and sve_vl = VQ − 1 when they have SVE (every vCPU
    /// finalised with the same maximum, else -EINVAL).
    /// </summary>
    private KvmResult<RealmCreateConfig> CreateConfig()
    {
        KvmResult<int> vq = Registers.SveVectorQuadwords(_vcpus.Select(v => v.Registers));
        if (!vq.IsSuccess)
        {
            return vq.Error;
        }

        return KvmResult<RealmCreateConfig>.Ok(new RealmCreateConfig(
            NumBps: Registers.NumBps,
            NumWps: Registers.NumWps,
            Pmu: Registers.HasPmu,
            PmuNumCtrs: Registers.PmuNumCtrs,
            Sve: Registers.HasSve,
            SveVl: Math.Max(vq.Value - 1, 0)));
    }

    /// <summary>
    /// kvm_activate_realm on the first KVM_RUN (§2.8): ensure the descriptor, mark DEAD, require the in-kernel
    /// GICv3, create a REC per vCPU (only vCPU 0 runnable), INIT_RIPAS every gmem slot, RMI_REALM_ACTIVATE.
    /// </summary>
    internal KvmResult Activate()
    {
        KvmRealm realm = Realm!;
        if (realm.State == RealmState.Active)
        {
            return KvmResult.Success;
        }

        KvmResult created = EnsureRealmCreated();
        if (!created.IsSuccess)
        {
            return created;
        }

        realm.State = RealmState.Dead;
        if (Irqchip is null)
        {
            return Errno.EOPNOTSUPP;
        }

        if (Irqchip is Vgic.Vgic3 gic && gic.MapResources() is { IsSuccess: false } unmapped)
        {
            return unmapped;
        }

        foreach (KvmVcpu vcpu in _vcpus)
        {
            KvmResult rec = CreateRec(vcpu);
            if (!rec.IsSuccess)
            {
                return rec;
            }
        }

        foreach (Memslot slot in Memslots.Slots.Where(s => s.IsGuestMemfd).ToList())
        {
            KvmResult ripas = realm.InitRipas(slot.BaseGfn << MemslotTable.PageShift, slot.EndGfn << MemslotTable.PageShift);
            if (!ripas.IsSuccess)
            {
                return ripas;
            }
        }

        if (!Context.Rmi.RealmActivate(realm.Rd).IsSuccess)
        {
            return Errno.ENXIO;
        }

        realm.State = RealmState.Active;
        return KvmResult.Success;
    }

    /// <summary>kvm_create_rec (§2.3): REC and aux granules delegated, params from the vCPU's MPIDR, PC and X0–X7.</summary>
    private KvmResult CreateRec(KvmVcpu vcpu)
    {
        if (!vcpu.Registers.Features.HasPsci02 || (HasPmu && !vcpu.Registers.Features.HasPmu))
        {
            return Errno.EINVAL;
        }

        KvmRealm realm = Realm!;
        ulong? paramsPage = Context.AllocateZeroed();
        ulong? run = Context.AllocateZeroed();
        ulong? rec = Context.AllocateDelegated();
        var aux = new List<ulong>();
        while (aux.Count < realm.AuxCount && Context.AllocateDelegated() is ulong a)
        {
            aux.Add(a);
        }

        if (paramsPage is not ulong p || run is not ulong runPa || rec is not ulong recPa || aux.Count < realm.AuxCount)
        {
            FreeRecPages(paramsPage, run, rec, aux);
            return Errno.ENOMEM;
        }

        var mem = Context.HostMemory;
        mem.Write64(p + RmiRecParams.Flags, vcpu.Id == 0 ? RmiRecParams.FlagRunnable : 0);
        mem.Write64(p + RmiRecParams.Mpidr, vcpu.Mpidr);
        mem.Write64(p + RmiRecParams.Pc, vcpu.Registers.Pc);
        for (int i = 0; i < 8; i++)
        {
            mem.Write64(p + RmiRecParams.Gprs + (ulong)(8 * i), vcpu.Registers.GetX(i));
        }

        mem.Write64(p + RmiRecParams.NumAux, (ulong)aux.Count);
        for (int i = 0; i < aux.Count; i++)
        {
            mem.Write64(p + RmiRecParams.Aux + (ulong)(8 * i), aux[i]);
        }

        RmiResult created = Context.Rmi.RecCreate(realm.Rd, recPa, p);
        Context.Pages.Free(p);
        if (!created.IsSuccess)
        {
            FreeRecPages(null, run, rec, aux);
            return Errno.ENXIO;
        }

        vcpu.RecPa = recPa;
        vcpu.AuxPas = [.. aux];
        vcpu.RunPa = runPa;
        return KvmResult.Success;
    }

    private void FreeRecPages(ulong? paramsPage, ulong? run, ulong? rec, List<ulong> aux)
    {
        foreach (ulong? page in new[] { paramsPage, run })
        {
            if (page is ulong pa)
            {
                Context.Pages.Free(pa);
            }
        }

        if (rec is ulong r)
        {
            Context.UndelegateAndFree(r);
        }

        aux.ForEach(a => Context.UndelegateAndFree(a));
    }

    /// <summary>kvm_arch_post_set_memory_attributes for realms (§2.13): to PRIVATE unmaps shared pages, to shared destroys private ones.</summary>
    private void OnAttributesChanged(object? sender, MemoryAttributeRangeEventArgs e)
    {
        if ((e.Attributes & KvmMemoryAttributeBits.Private) != 0)
        {
            Realm!.UnmapShared(e.StartGfn, e.EndGfn);
        }
        else
        {
            Realm!.UnmapPrivate(e.StartGfn, e.EndGfn);
        }
    }

    /// <summary>kvm_arch_flush_shadow_memslot: a deleted or moved slot loses its stage-2 mappings.</summary>
    private void OnSlotRemoved(Memslot slot)
    {
        Realm!.UnmapPrivate(slot.BaseGfn, slot.EndGfn);
        Realm!.UnmapShared(slot.BaseGfn, slot.EndGfn);
    }

    /// <summary>
    /// kvm_arch_flush_shadow_memslot / a dirty-logging change on a normal VM: the engine forgets the slot's pages
    /// (its old range for a deleted or moved slot).
    /// </summary>
    private void OnNormalSlotChanged(Memslot slot) =>
        Context.Engine?.Stage2Changed(Stage2!, slot.BaseGfn << MemslotTable.PageShift, slot.NumPages << MemslotTable.PageShift);

    /// <summary>
    /// The mmu notifier of a normal VM (kvm_unmap_gfn_range): the VMM unmapped [<paramref name="address"/>, +<paramref name="length"/>)
    /// of its memory, so every slot part backed by it loses its stage-2 mapping before the pages are freed.
    /// </summary>
    internal void OnUserMemoryUnmapping(ulong address, ulong length)
    {
        if (Stage2 is null || Context.Engine is not { } engine)
        {
            return;
        }

        foreach (Memslot slot in Memslots.Slots)
        {
            ulong start = Math.Max(slot.UserspaceAddr, address);
            ulong end = Math.Min(slot.UserspaceAddr + (slot.NumPages << MemslotTable.PageShift), address + length);
            if (start < end)
            {
                engine.Stage2Changed(Stage2, (slot.BaseGfn << MemslotTable.PageShift) + (start - slot.UserspaceAddr), end - start);
            }
        }
    }

    /// <summary>Drops one reference; the last one destroys the VM (§2.17).</summary>
    internal void Release()
    {
        if (--References > 0 || IsDestroyed)
        {
            return;
        }

        IsDestroyed = true;
        if (Realm is not KvmRealm realm)
        {
            // kvm_destroy_vcpus, then the stage 2 (kvm_free_stage2_pgd): the engine lets go of both.
            Context.NormalVms.Remove(this);
            if (Context.Engine is { } engine)
            {
                foreach (KvmVcpu vcpu in _vcpus.Where(v => v.Context is not null))
                {
                    engine.Release(vcpu.Context!);
                }

                engine.Release(Stage2!);
            }

            return;
        }

        realm.DestroyMappings();
        foreach (KvmVcpu vcpu in _vcpus)
        {
            if (vcpu.RecPa != 0)
            {
                if (Context.Rmi.RecDestroy(vcpu.RecPa).IsSuccess)
                {
                    Context.UndelegateAndFree(vcpu.RecPa);
                    Array.ForEach(vcpu.AuxPas, a => Context.UndelegateAndFree(a));
                }
                else
                {
                    Context.Pages.Leak(vcpu.RecPa);
                    Array.ForEach(vcpu.AuxPas, Context.Pages.Leak);
                }

                Context.Pages.Free(vcpu.RunPa);
                vcpu.RecPa = 0;
            }
        }

        realm.DestroyRealm();
    }
}
