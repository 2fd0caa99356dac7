using CcaSim.Kvm.Rmi;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Platform.Execution;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>
/// What the realm tests look at besides the ioctl results: the RMM's RTT entries (through RMI_RTT_READ_ENTRY on
/// the conduit, as any host could ask) and what the scripted guest saw.
/// </summary>
internal static class RealmProbe
{
    public const ulong Page = 4096;

    private const ulong RsiIpaStateSet = 0xC400_0197;
    private const ulong RsiChangeDestroyed = 1;

    /// <summary>RMI_RTT_READ_ENTRY at level 3: the entry's state (0 UNASSIGNED, 1 ASSIGNED, 2 TABLE), its address and RIPAS.</summary>
    public static (RmiRttState State, ulong Address, RmiRipas Ripas) ReadEntry(KvmTestBed bed, RealmVmm vmm, ulong ipa)
    {
        RmiResult r = new RmiClient(bed.Platform.Monitor).RttReadEntry(vmm.Vm.Realm!.Rd, ipa, 3);
        Assert.True(r.IsSuccess, $"RTT_READ_ENTRY 0x{ipa:x}: {r.Status}");
        return ((RmiRttState)r.X2, r.X3, (RmiRipas)r.X4);
    }

    public static RmiRipas RipasOf(KvmTestBed bed, RealmVmm vmm, ulong ipa) => ReadEntry(bed, vmm, ipa).Ripas;

    /// <summary>RSI_IPA_STATE_SET as a Linux realm issues it (CHANGE_DESTROYED set, as rsi_set_memory_range does).</summary>
    public static void EnqueueIpaStateSet(ScriptedRealm script, ulong baseIpa, ulong top, RmiRipas ripas) =>
        script.Enqueue(RsiIpaStateSet, baseIpa, top, (ulong)ripas, RsiChangeDestroyed);

    /// <summary>Collects the value every completed read step loaded (x[register]) and the fault it took.</summary>
    public static List<(ulong Ipa, ulong Value, RealmFault Fault)> RecordReads(ScriptedRealm script)
    {
        var reads = new List<(ulong, ulong, RealmFault)>();
        script.StepCompleted += (step, x, fault) =>
        {
            if (step.Kind == RealmStepKind.Read)
            {
                reads.Add((step.Arguments[0], x[(int)step.Arguments[2]], fault));
            }
        };
        return reads;
    }

    /// <summary>KVM_RUN until the realm idles (-EINTR), failing on any other outcome.</summary>
    public static void RunToIdle(RealmVmm vmm, int vcpu = 0)
    {
        KvmResult run = vmm.RunVcpu(vcpu);
        Assert.Equal(Errno.EINTR, run.Error);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(vcpu).ExitReason);
    }

    public static KvmResult Populate(RealmVmm vmm, ulong gpa, ulong size, ulong? source = null, uint flags = KvmArmRmiPopulateFlags.Measure, uint reserved = 0) =>
        vmm.Kvm.ArmRmiPopulate(vmm.VmFd, new KvmArmRmiPopulate
        {
            Base = gpa,
            Size = size,
            SourceUaddr = source ?? vmm.Uaddr + (gpa - RealmVmm.RamBase),
            Flags = flags,
            Reserved = reserved,
        });

    public static KvmResult Fallocate(RealmVmm vmm, FallocateMode mode, ulong offset, ulong length) =>
        vmm.Kvm.GuestMemfdOf(vmm.GmemFd)!.Fallocate(mode, (long)offset, (long)length);
}

/// <summary>RMI RTT entry states (RMM 1.0 RmiRttEntryState).</summary>
internal enum RmiRttState : ulong
{
    Unassigned = 0,
    Assigned = 1,
    Table = 2,
}

/// <summary>RMM 1.0 RIPAS values.</summary>
internal enum RmiRipas : ulong
{
    Empty = 0,
    Ram = 1,
    Destroyed = 2,
}
