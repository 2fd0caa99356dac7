using CcaSim.Kvm.Uapi;
using CcaSim.Platform;
using CcaSim.Platform.Monitor;

namespace CcaSim.Kvm.Tests;

/// <summary>/dev/kvm, KVM_CREATE_VM and KVM_CHECK_EXTENSION (kvm-realm-abi.md §2.2, §2.10, §2.18) and the fd rules of §4.1.</summary>
public sealed class KvmHostTests
{
    private const long ArmRmi = KvmCapabilityNumbers.ArmRmiV12;

    /// <summary>Answers RMI_VERSION and RMI_FEATURES like an RMM 1.0 with the given feature register.</summary>
    private sealed class FakeRmm(ulong version, ulong features) : ISmcHandler
    {
        public void HandleSmc(ref SmcRegisters r)
        {
            ulong fid = r[0];
            r[0] = fid switch
            {
                0xC400_0150 => r[1] == version ? 0UL : 1UL,
                0xC400_0165 => 0,
                _ => SecureMonitor.SmcUnknown,
            };
            r[1] = fid == 0xC400_0165 ? features : version;
        }
    }

    private static KvmHost Host(bool rmm = true, ulong features = 0x283_FC10_4130, ulong version = 0x1_0000)
    {
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 20 });
        if (rmm)
        {
            platform.Monitor.RegisterRmm(new FakeRmm(version, features));
        }

        return new KvmHost(platform);
    }

    [Theory]
    [InlineData(true, 0x1_0000UL, 1L)]
    [InlineData(false, 0x1_0000UL, 0L)]
    [InlineData(true, 0x2_0000UL, 0L)]
    public void CheckExtensionArmRmi_IsOneOnlyWhenAnRmm10Answered(bool rmm, ulong version, long expected)
    {
        KvmHost kvm = Host(rmm, version: version);

        Assert.Equal(expected, kvm.CheckExtension(kvm.OpenDevKvm(), ArmRmi).ReturnValue);
    }

    [Theory]
    [InlineData(0x100UL, true)]
    [InlineData(0x130UL, true)]
    [InlineData(0x000UL, true)]
    [InlineData(0x1000UL, false)]
    [InlineData(0x200UL, false)]
    [InlineData(0xF00UL, false)]
    [InlineData(0x11FUL, false)]
    [InlineData(0x131UL, false)]
    [InlineData(0x031UL, false)]
    public void CreateVm_ValidatesTheTypeWord(ulong type, bool valid)
    {
        KvmHost kvm = Host(features: FeatureRegister0(s2sz: 48));

        KvmResult r = kvm.CreateVm(kvm.OpenDevKvm(), type);

        Assert.Equal(valid ? Errno.None : Errno.EINVAL, r.Error);
        Assert.Equal(valid && (type & 0xF00) == 0x100, valid && kvm.VmOf((int)r.ReturnValue)!.IsRealm);
    }

    [Fact]
    public void CreateVm_RealmWithoutRmm_ReturnsEinval_ButNormalVmsWork()
    {
        KvmHost kvm = Host(rmm: false);
        int dev = kvm.OpenDevKvm();

        Assert.Equal(Errno.EINVAL, kvm.CreateVm(dev, KvmVmType.ArmRealm).Error);
        Assert.True(kvm.CreateVm(dev, 0).IsSuccess);
    }

    [Fact]
    public void CreateVm_RealmIpaLimitIsTheRmmsS2sz()
    {
        KvmHost kvm = Host(features: FeatureRegister0(s2sz: 40));
        int dev = kvm.OpenDevKvm();

        Assert.True(kvm.CreateVm(dev, KvmVmType.ArmRealm | 40).IsSuccess);
        Assert.Equal(Errno.EINVAL, kvm.CreateVm(dev, KvmVmType.ArmRealm | 41).Error);
        Assert.True(kvm.CreateVm(dev, 44).IsSuccess);
        Assert.Equal(40, kvm.VmOf((int)kvm.CreateVm(dev, KvmVmType.ArmRealm).ReturnValue)!.IpaBits);
        int realm = (int)kvm.CreateVm(dev, KvmVmType.ArmRealm | 36).ReturnValue;
        Assert.Equal(40L, kvm.CheckExtension(realm, (long)KvmCapability.ArmVmIpaSize).ReturnValue);
    }

    [Theory]
    [InlineData(KvmCapability.Irqchip, 1L, 1L)]
    [InlineData(KvmCapability.ArmPsci02, 1L, 1L)]
    [InlineData(KvmCapability.MaxVcpus, 512L, 512L)]
    [InlineData(KvmCapability.StealTime, 1L, 0L)]
    [InlineData(KvmCapability.CounterOffset, 1L, 0L)]
    [InlineData(KvmCapability.GuestMemfd, 0L, 1L)]
    [InlineData(KvmCapability.MemoryAttributes, 0L, 8L)]
    [InlineData(KvmCapability.UserMemory2, 1L, 1L)]
    [InlineData(KvmCapability.ArmSve, 0L, 0L)]
    public void CheckExtension_OnNormalAndRealmVmFds(KvmCapability cap, long normal, long realm)
    {
        KvmHost kvm = Host();
        int dev = kvm.OpenDevKvm();

        Assert.Equal(normal, kvm.CheckExtension((int)kvm.CreateVm(dev, 0).ReturnValue, (long)cap).ReturnValue);
        Assert.Equal(realm, kvm.CheckExtension((int)kvm.CreateVm(dev, KvmVmType.ArmRealm).ReturnValue, (long)cap).ReturnValue);
    }

    [Fact]
    public void CheckExtension_OnDevKvm_ReportsGuestMemfdAndPrivateAttributes()
    {
        KvmHost kvm = Host();
        int dev = kvm.OpenDevKvm();

        Assert.Equal(1L, kvm.CheckExtension(dev, (long)KvmCapability.GuestMemfd).ReturnValue);
        Assert.Equal((long)KvmMemoryAttributeBits.Private, kvm.CheckExtension(dev, (long)KvmCapability.MemoryAttributes).ReturnValue);
        Assert.Equal(0L, kvm.CheckExtension(dev, 9999).ReturnValue);
    }

    [Fact]
    public void CheckExtension_ArmSveOnRealm_FollowsTheRmmsSveEn()
    {
        KvmHost kvm = Host(features: 0x283_FC10_4130 | (1UL << 9));
        int realm = (int)kvm.CreateVm(kvm.OpenDevKvm(), KvmVmType.ArmRealm).ReturnValue;

        Assert.Equal(1L, kvm.CheckExtension(realm, (long)KvmCapability.ArmSve).ReturnValue);
    }

    [Fact]
    public void Ioctls_OnTheWrongKindOfFd_ReturnEinvalOrEbadf()
    {
        KvmHost kvm = Host();
        int dev = kvm.OpenDevKvm();
        int vm = (int)kvm.CreateVm(dev, KvmVmType.ArmRealm).ReturnValue;

        Assert.Equal(Errno.EINVAL, kvm.CreateVm(vm, 0).Error);
        Assert.Equal(Errno.EBADF, kvm.CreateVm(999, 0).Error);
        Assert.Equal(Errno.EINVAL, kvm.SetUserMemoryRegion2(dev, default).Error);
        Assert.Equal(Errno.EBADF, kvm.Close(999).Error);
    }

    [Fact]
    public void GuestMemfd_KeepsTheVmAliveAfterTheVmFdCloses_AndStaysUsable()
    {
        KvmHost kvm = Host();
        int vmFd = (int)kvm.CreateVm(kvm.OpenDevKvm(), KvmVmType.ArmRealm).ReturnValue;
        var vm = kvm.VmOf(vmFd)!;
        int gmem = (int)kvm.CreateGuestMemfd(vmFd, new KvmCreateGuestMemfd { Size = 1UL << 20 }).ReturnValue;

        Assert.Equal(Errno.None, kvm.Close(vmFd).Error);

        Assert.False(vm.IsDestroyed);
        Assert.Equal(Errno.None, kvm.GuestMemfdOf(gmem)!.Fallocate(FallocateMode.KeepSize | FallocateMode.PunchHole, 0, 4096).Error);
        Assert.Equal(Errno.None, kvm.GuestMemfdOf(gmem)!.Fallocate(FallocateMode.KeepSize, 0, 4096).Error);
        Assert.Equal(Errno.None, kvm.Close(gmem).Error);
        Assert.True(vm.IsDestroyed);
    }

    [Fact]
    public void Memslot_BindsAGuestMemfdByFd_AndRefusesOtherFds()
    {
        KvmHost kvm = Host();
        int dev = kvm.OpenDevKvm();
        int vmFd = (int)kvm.CreateVm(dev, KvmVmType.ArmRealm).ReturnValue;
        int otherVm = (int)kvm.CreateVm(dev, KvmVmType.ArmRealm).ReturnValue;
        int gmem = (int)kvm.CreateGuestMemfd(vmFd, new KvmCreateGuestMemfd { Size = 2UL << 20 }).ReturnValue;
        int foreign = (int)kvm.CreateGuestMemfd(otherVm, new KvmCreateGuestMemfd { Size = 2UL << 20 }).ReturnValue;
        KvmUserspaceMemoryRegion2 Region(int fd) => new()
        {
            Slot = 0, Flags = (uint)KvmMemoryRegionOptions.GuestMemfd, GuestPhysAddr = 0x8000_0000, MemorySize = 2UL << 20,
            UserspaceAddr = 0x7f00_0000_0000, GuestMemfd = (uint)fd,
        };

        Assert.Equal(Errno.EINVAL, kvm.SetUserMemoryRegion2(vmFd, Region(dev)).Error);
        Assert.Equal(Errno.EINVAL, kvm.SetUserMemoryRegion2(vmFd, Region(vmFd)).Error);
        Assert.Equal(Errno.EINVAL, kvm.SetUserMemoryRegion2(vmFd, Region(foreign)).Error);
        Assert.Equal(Errno.None, kvm.SetUserMemoryRegion2(vmFd, Region(gmem)).Error);
    }

    [Fact]
    public void SetMemoryAttributes_PrivateIsAcceptedOnlyOnRealms()
    {
        KvmHost kvm = Host();
        int dev = kvm.OpenDevKvm();
        var attrs = new KvmMemoryAttributes { Address = 0x8000_0000, Size = 1UL << 40, Attributes = KvmMemoryAttributeBits.Private };

        Assert.Equal(Errno.EINVAL, kvm.SetMemoryAttributes((int)kvm.CreateVm(dev, 0).ReturnValue, attrs).Error);
        int realm = (int)kvm.CreateVm(dev, KvmVmType.ArmRealm).ReturnValue;
        Assert.Equal(Errno.None, kvm.SetMemoryAttributes(realm, attrs).Error);
        Assert.Equal(1, kvm.VmOf(realm)!.Attributes.RangeCount);
    }

    private static ulong FeatureRegister0(int s2sz) => (0x283_FC10_4130UL & ~0xFFUL) | (uint)s2sz;
}
