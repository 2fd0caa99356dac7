using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Rmm;
using CcaSim.Rmm.Rmi;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>
/// The pre-v12 CONFIG_REALM sub-command of KVM_ENABLE_CAP(KVM_CAP_ARM_RMI) behind the
/// <see cref="KvmHostOptions.PreV12RealmConfig"/> compatibility option (kvm-realm-abi.md §2.20): the checks and errnos
/// of the v8–v11 kvm_realm_enable_cap / kvm_rme_config_realm / config_realm_hash_algo, and what reaches the RD.
/// </summary>
public sealed class PreV12RealmConfigTests
{
    private static readonly byte[] SampleRpv = [.. "tenant-42"u8];

    /// <summary>Row name, then the expected errno (None: success).</summary>
    public static TheoryData<string, Errno> Cases => new()
    {
        { "option off: KVM_CAP_ARM_RMI is not an enable-able cap in v12", Errno.EINVAL },
        { "normal VM", Errno.EINVAL },
        { "non-zero flags", Errno.EINVAL },
        { "sub-command other than CONFIG_REALM", Errno.EINVAL },
        { "descriptor already created", Errno.EBUSY },
        { "unmapped pointer", Errno.EFAULT },
        { "struct runs off the mapping", Errno.EFAULT },
        { "unknown cfg", Errno.EINVAL },
        { "unknown hash algorithm", Errno.EINVAL },
        { "SHA-512 on an RMM that offers SHA-256 only", Errno.EINVAL },
        { "SHA-256 on an RMM that offers SHA-512 only", Errno.EINVAL },
        { "SHA-512", Errno.None },
        { "RPV", Errno.None },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ConfigRealm_AnswersAsTheV8ToV11Kernel(string row, Errno expected)
    {
        FeatureRegister0 features = FeatureRegister0.ReferenceHostBuild;
        features = row switch
        {
            "SHA-512 on an RMM that offers SHA-256 only" => features with { HashSha512 = false },
            "SHA-256 on an RMM that offers SHA-512 only" => features with { HashSha256 = false },
            _ => features,
        };
        var bed = new KvmTestBed(new RmmConfig { Features = features }, new KvmHostOptions { PreV12RealmConfig = row != "option off: KVM_CAP_ARM_RMI is not an enable-able cap in v12" });
        KvmHost kvm = bed.Kvm;
        ulong scratch = (ulong)kvm.Process.Mmap(4096).ReturnValue;
        int normalFd = -1;
        RealmVmm? vmm = null;
        int vmFd;
        if (row == "normal VM")
        {
            normalFd = (int)kvm.CreateVm(bed.KvmFd, KvmVmType.Make(KvmVmType.ArmNormal, 33)).ReturnValue;
            vmFd = normalFd;
        }
        else
        {
            vmm = new RealmVmm(bed);
            vmFd = vmm.VmFd;
            if (row == "descriptor already created")
            {
                vmm.Populate(RealmVmm.RamBase, 4096);
            }
        }

        KvmArmRmeConfig config = row switch
        {
            "unknown cfg" => new KvmArmRmeConfig { Cfg = 2 },
            "unknown hash algorithm" => KvmArmRmeConfig.ForHashAlgo(2),
            "SHA-256 on an RMM that offers SHA-512 only" => KvmArmRmeConfig.ForHashAlgo(KvmArmRmeMeasurementAlgo.Sha256),
            "RPV" => KvmArmRmeConfig.ForRpv(SampleRpv),
            _ => KvmArmRmeConfig.ForHashAlgo(KvmArmRmeMeasurementAlgo.Sha512),
        };
        byte[] image = new byte[260];
        Assert.True(UapiMarshal.Write(image, config).IsSuccess);
        ulong pointer = row switch
        {
            "unmapped pointer" => 0x1000,
            "struct runs off the mapping" => scratch + 4096 - 100,
            _ => scratch,
        };
        Assert.True(kvm.Process.TryWrite(scratch, image));

        KvmResult result = kvm.EnableCap(vmFd, new KvmEnableCap
        {
            Cap = (uint)kvm.Options.CapabilityNumbers.ArmRmi,
            Flags = row == "non-zero flags" ? 1u : 0,
            Arg0 = row == "sub-command other than CONFIG_REALM" ? 1UL : KvmArmRmeSubCommand.ConfigRealm,
            Arg1 = pointer,
        });

        Assert.Equal(expected, result.Error);
        if (row == "SHA-256 on an RMM that offers SHA-512 only")
        {
            // Such an RMM cannot hold a realm v12 would create (hash_algo 0): RMI_REALM_CREATE fails, -ENXIO (§2.5).
            Assert.Equal(Errno.ENXIO, RealmProbe.Populate(vmm!, RealmVmm.RamBase, 4096).Error);
            vmm!.Close();
        }
        else if (vmm is not null)
        {
            // A refused call changes nothing: the RD is still created with v12's SHA-256 and an all-zero RPV.
            if (vmm.Vm.Realm!.State == RealmState.None)
            {
                vmm.Populate(RealmVmm.RamBase, 4096);
            }

            CcaSim.Rmm.Realms.Realm rd = bed.Rmm.RealmAt(vmm.Vm.Realm.Rd)!;
            byte[] rpv = new byte[64];
            (row == "RPV" ? SampleRpv : []).CopyTo(rpv, 0);
            Assert.Equal(row == "SHA-512" ? RmiHashAlgorithm.Sha512 : RmiHashAlgorithm.Sha256, rd.HashAlgorithm);
            Assert.Equal(rpv, rd.Rpv);
            vmm.Close();
        }
        else
        {
            Assert.Equal(0, kvm.Close(normalFd).ReturnValue);
        }

        Assert.Equal(0, kvm.Process.Munmap(scratch).ReturnValue);
        bed.AssertNoLeaks();
    }

    [Fact]
    public void ConfigRealm_HashAndRpvBeforeThePopulate_CreateTheRdWithSha512AndTheRpvAndTheRimIs64Bytes()
    {
        var bed = new KvmTestBed(options: new KvmHostOptions { PreV12RealmConfig = true });
        var vmm = new RealmVmm(bed);
        byte[] rpv = [.. Enumerable.Range(1, 64).Select(i => (byte)i)];

        Assert.Equal(0, Configure(vmm, KvmArmRmeConfig.ForHashAlgo(KvmArmRmeMeasurementAlgo.Sha512)).ReturnValue);
        Assert.Equal(0, Configure(vmm, KvmArmRmeConfig.ForRpv(rpv)).ReturnValue);
        vmm.Stage(RealmVmm.RamBase, new byte[4096]);
        vmm.Populate(RealmVmm.RamBase, 4096);

        CcaSim.Rmm.Realms.Realm rd = bed.Rmm.RealmAt(vmm.Vm.Realm!.Rd)!;
        Assert.Equal(RmiHashAlgorithm.Sha512, rd.HashAlgorithm);
        Assert.Equal(rpv, rd.Rpv);
        Assert.Equal(64, rd.HashSize);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    [Fact]
    public void ConfigRealm_Repeated_TheLastValueOfEachItemWins()
    {
        var bed = new KvmTestBed(options: new KvmHostOptions { PreV12RealmConfig = true });
        var vmm = new RealmVmm(bed);

        Assert.Equal(0, Configure(vmm, KvmArmRmeConfig.ForHashAlgo(KvmArmRmeMeasurementAlgo.Sha512)).ReturnValue);
        Assert.Equal(0, Configure(vmm, KvmArmRmeConfig.ForRpv("first"u8)).ReturnValue);
        Assert.Equal(0, Configure(vmm, KvmArmRmeConfig.ForHashAlgo(KvmArmRmeMeasurementAlgo.Sha256)).ReturnValue);
        Assert.Equal(0, Configure(vmm, KvmArmRmeConfig.ForRpv("2"u8)).ReturnValue);
        vmm.Populate(RealmVmm.RamBase, 4096);

        CcaSim.Rmm.Realms.Realm rd = bed.Rmm.RealmAt(vmm.Vm.Realm!.Rd)!;
        byte[] expected = new byte[64];
        expected[0] = (byte)'2';
        Assert.Equal(RmiHashAlgorithm.Sha256, rd.HashAlgorithm);
        Assert.Equal(expected, rd.Rpv);
        vmm.Close();
        bed.AssertNoLeaks();
    }

    private static KvmResult Configure(RealmVmm vmm, KvmArmRmeConfig config)
    {
        KvmHost kvm = vmm.Kvm;
        ulong scratch = (ulong)kvm.Process.Mmap(4096).ReturnValue;
        byte[] image = new byte[260];
        Assert.True(UapiMarshal.Write(image, config).IsSuccess);
        Assert.True(kvm.Process.TryWrite(scratch, image));
        KvmResult r = kvm.EnableCap(vmm.VmFd, new KvmEnableCap { Cap = (uint)kvm.Options.CapabilityNumbers.ArmRmi, Arg0 = KvmArmRmeSubCommand.ConfigRealm, Arg1 = scratch });
        Assert.Equal(0, kvm.Process.Munmap(scratch).ReturnValue);
        return r;
    }
}
