using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vm;
using CcaSim.Platform;
using CcaSim.Platform.Execution;
using CcaSim.Rmm;
using CcaSim.Rmm.Granules;

namespace CcaSim.Kvm.Tests.Infrastructure;

/// <summary>Records where and with which registers the realm was entered, in front of a <see cref="ScriptedRealm"/>.</summary>
internal sealed class RecordingEngine(ScriptedRealm inner) : IRealmEngine
{
    public List<(ulong Mpidr, ulong Pc, ulong[] X)> Entries { get; } = [];

    public RealmEvent Run(RealmVcpuContext context, IRealmMemory memory)
    {
        Entries.Add((context.MpidrEl1, context.Pc, [.. context.X]));
        return inner.Run(context, memory);
    }
}

/// <summary>
/// A machine for KVM tests: platform, the real RMM behind the SMC conduit running a <see cref="ScriptedRealm"/>,
/// and KVM on top. <see cref="AssertNoLeaks"/> is the leak check every VM-creating test ends with.
/// </summary>
internal sealed class KvmTestBed
{
    public KvmTestBed(RmmConfig? config = null, KvmHostOptions? options = null, ulong memorySize = 256UL << 20)
    {
        Platform = new CcaPlatform(new PlatformOptions { MemorySize = memorySize });
        Rmm = RealmManagementMonitor.Boot(Platform.Monitor, config, Platform.Interrupts);
        Script = new ScriptedRealm(Platform.Interrupts);
        Engine = new RecordingEngine(Script);
        Rmm.Engine = Engine;
        Kvm = new KvmHost(Platform, options);
        KvmFd = Kvm.OpenDevKvm();
    }

    public CcaPlatform Platform { get; }

    public RealmManagementMonitor Rmm { get; }

    public ScriptedRealm Script { get; }

    public RecordingEngine Engine { get; }

    public KvmHost Kvm { get; }

    public int KvmFd { get; }

    /// <summary>After every fd is closed: all granules non-secure, no RMM object, every VMID free, nothing leaked.</summary>
    public void AssertNoLeaks()
    {
        Assert.Empty(Platform.Gpt.NonSecureExceptions());
        foreach (GranuleState state in Enum.GetValues<GranuleState>().Where(s => s != GranuleState.Undelegated))
        {
            Assert.Equal(0, Rmm.GranuleCount(state));
        }

        Assert.Equal(0, Rmm.VmidsInUse);
        Assert.Equal(0, Kvm.Vmids.InUse);
        Assert.Equal(0, Kvm.Pages.Leaked);
    }

    /// <summary>KVM_SET_ONE_REG on <paramref name="vcpuFd"/> with the value's bytes in a scratch page of VMM memory.</summary>
    public static KvmResult SetOneReg(KvmHost kvm, int vcpuFd, ulong id, ReadOnlySpan<byte> value)
    {
        ulong scratch = (ulong)kvm.Process.Mmap(4096).ReturnValue;
        Assert.True(kvm.Process.TryWrite(scratch, value));
        KvmResult r = kvm.SetOneReg(vcpuFd, new KvmOneReg { Id = id, Addr = scratch });
        Assert.Equal(0, kvm.Process.Munmap(scratch).ReturnValue);
        return r;
    }

    /// <summary>KVM_GET_ONE_REG of a 64-bit register on <paramref name="vcpuFd"/>; the call must succeed.</summary>
    public static ulong GetOneReg(KvmHost kvm, int vcpuFd, ulong id)
    {
        ulong scratch = (ulong)kvm.Process.Mmap(4096).ReturnValue;
        Assert.Equal(0, kvm.GetOneReg(vcpuFd, new KvmOneReg { Id = id, Addr = scratch }).ReturnValue);
        byte[] value = new byte[8];
        Assert.True(kvm.Process.TryRead(scratch, value));
        Assert.Equal(0, kvm.Process.Munmap(scratch).ReturnValue);
        return BitConverter.ToUInt64(value);
    }
}

/// <summary>
/// A VMM driving the v12 sequence (kvm-realm-abi.md §3.1) step by step, with the choices tests vary exposed:
/// a realm VM, an in-kernel GICv3, vCPUs, one guest_memfd slot over RAM backed by an anonymous mapping.
/// </summary>
internal sealed class RealmVmm
{
    public const ulong RamBase = 0x8000_0000;

    /// <summary>KVM_ARM_VCPU_PSCI_0_2: what kvmtool's realm vCPUs are initialised with.</summary>
    public static readonly uint DefaultFeatures = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02);

    public RealmVmm(KvmTestBed bed, ulong ramSize = 16UL << 20, int ipaBits = 33, int vcpus = 1, bool irqchip = true, bool attributes = true, uint? vcpuFeatures = null, int initialisedVcpus = int.MaxValue)
    {
        Bed = bed;
        Features = vcpuFeatures ?? DefaultFeatures;
        RamSize = ramSize;
        KvmHost kvm = bed.Kvm;
        VmFd = Ok(kvm.CreateVm(bed.KvmFd, KvmVmType.Make(KvmVmType.ArmRealm, ipaBits)));
        if (irqchip)
        {
            CreateIrqchip();
        }

        for (int i = 0; i < vcpus; i++)
        {
            int fd = Ok(kvm.CreateVcpu(VmFd, i));
            if (i < initialisedVcpus)
            {
                InitVcpu(fd, i == 0 ? 0 : KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff));
            }

            VcpuFds.Add(fd);
        }

        if (irqchip)
        {
            Assert.Equal(0, kvm.SetDeviceAttr(GicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupCtrl, Attr = KvmVgicAttr.CtrlInit }).ReturnValue);
        }

        var create = new KvmCreateGuestMemfd { Size = ramSize };
        GmemFd = Ok(kvm.CreateGuestMemfd(VmFd, create));
        Uaddr = (ulong)kvm.Process.Mmap(ramSize).ReturnValue;
        var slot = new KvmUserspaceMemoryRegion2
        {
            Slot = 0,
            Flags = (uint)KvmMemoryRegionOptions.GuestMemfd,
            GuestPhysAddr = RamBase,
            MemorySize = ramSize,
            UserspaceAddr = Uaddr,
            GuestMemfd = (uint)GmemFd,
        };
        Assert.Equal(0, kvm.SetUserMemoryRegion2(VmFd, slot).ReturnValue);
        if (attributes)
        {
            SetPrivate(RamBase, ramSize, true);
        }
    }

    public KvmTestBed Bed { get; }

    /// <summary>The <c>features[0]</c> every vCPU is initialised with (POWER_OFF added for vCPUs above 0).</summary>
    public uint Features { get; }

    public KvmHost Kvm => Bed.Kvm;

    public ulong RamSize { get; }

    public int VmFd { get; }

    public int GmemFd { get; }

    /// <summary>The VMM's mapping of guest RAM (shared backing and image staging).</summary>
    public ulong Uaddr { get; }

    public List<int> VcpuFds { get; } = [];

    public KvmVm Vm => Kvm.VmOf(VmFd)!;

    public KvmVcpu Vcpu(int i) => Kvm.VcpuOf(VcpuFds[i])!;

    public KvmRun Run(int i) => Kvm.MapRun(VcpuFds[i])!;

    /// <summary>The GICv3 device fd (kvmtool's layout: distributor just below 1 GiB, redistributors below it).</summary>
    public int GicFd { get; private set; }

    public const ulong GicDistributor = 0x3FFF_0000;
    public const ulong GicRedistributors = 0x3FF0_0000;

    public void CreateIrqchip()
    {
        var device = new KvmCreateDevice { Type = (uint)KvmDeviceType.ArmVgicV3 };
        Assert.Equal(0, Kvm.CreateDevice(VmFd, ref device).ReturnValue);
        GicFd = (int)device.Fd;
        ulong scratch = (ulong)Kvm.Process.Mmap(4096).ReturnValue;
        foreach ((ulong type, ulong address) in new[] { (KvmVgicAttr.AddrTypeV3Dist, GicDistributor), (KvmVgicAttr.AddrTypeV3Redist, GicRedistributors) })
        {
            Assert.True(Kvm.Process.TryWrite(scratch, BitConverter.GetBytes(address)));
            Assert.Equal(0, Kvm.SetDeviceAttr(GicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = type, Addr = scratch }).ReturnValue);
        }

        Assert.Equal(0, Kvm.Process.Munmap(scratch).ReturnValue);
    }

    public void InitVcpu(int fd, uint extraFeatures = 0)
    {
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        init.Features[0] = Features | extraFeatures;
        Assert.Equal(0, Kvm.ArmVcpuInit(fd, init).ReturnValue);
    }

    /// <summary>KVM_SET_ONE_REG of a 64-bit register of vCPU <paramref name="i"/>, the value passed through VMM memory.</summary>
    public KvmResult SetReg(int i, ulong id, ulong value) => SetReg(i, id, BitConverter.GetBytes(value));

    /// <summary>KVM_SET_ONE_REG of vCPU <paramref name="i"/> with the value's bytes in VMM memory.</summary>
    public KvmResult SetReg(int i, ulong id, ReadOnlySpan<byte> value) => KvmTestBed.SetOneReg(Kvm, VcpuFds[i], id, value);

    /// <summary>KVM_GET_ONE_REG of a 64-bit register of vCPU <paramref name="i"/>; the call must succeed.</summary>
    public ulong GetReg(int i, ulong id) => KvmTestBed.GetOneReg(Kvm, VcpuFds[i], id);

    public void SetPrivate(ulong gpa, ulong size, bool isPrivate) =>
        Assert.Equal(0, Kvm.SetMemoryAttributes(VmFd, new KvmMemoryAttributes { Address = gpa, Size = size, Attributes = isPrivate ? KvmMemoryAttributeBits.Private : 0 }).ReturnValue);

    /// <summary>Writes bytes into the VMM's RAM mapping at the offset of <paramref name="gpa"/>.</summary>
    public void Stage(ulong gpa, ReadOnlySpan<byte> bytes) => Assert.True(Kvm.Process.TryWrite(Uaddr + (gpa - RamBase), bytes));

    /// <summary>KVM_ARM_RMI_POPULATE over [gpa, gpa + size) from the staging mapping, advancing by the returned byte count as v12 VMMs do.</summary>
    public void Populate(ulong gpa, ulong size, uint flags = KvmArmRmiPopulateFlags.Measure)
    {
        while (size > 0)
        {
            var args = new KvmArmRmiPopulate { Base = gpa, Size = size, SourceUaddr = Uaddr + (gpa - RamBase), Flags = flags };
            long done = Kvm.ArmRmiPopulate(VmFd, args).ReturnValue;
            Assert.True(done > 0, $"populate at 0x{gpa:x} returned {done}");
            gpa += (ulong)done;
            size -= (ulong)done;
        }
    }

    public KvmResult RunVcpu(int i = 0) => Kvm.Run(VcpuFds[i]);

    /// <summary>Closes every fd of the VM (gmem first, then vCPUs, then the VM fd) and unmaps the RAM mapping.</summary>
    public void Close()
    {
        Assert.Equal(0, Kvm.Close(GmemFd).ReturnValue);
        foreach (int fd in VcpuFds)
        {
            Assert.Equal(0, Kvm.Close(fd).ReturnValue);
        }

        if (GicFd != 0)
        {
            Assert.Equal(0, Kvm.Close(GicFd).ReturnValue);
        }

        Assert.Equal(0, Kvm.Close(VmFd).ReturnValue);
        Assert.Equal(0, Kvm.Process.Munmap(Uaddr).ReturnValue);
    }

    private static int Ok(KvmResult result)
    {
        Assert.True(result.IsSuccess, $"expected success, got {result}");
        return (int)result.ReturnValue;
    }
}
