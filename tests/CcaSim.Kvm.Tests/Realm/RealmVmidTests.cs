using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;
using CcaSim.Rmm;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>The host's VMID bitmap as realms see it (kvm-realm-abi.md §2.5): taken at RD creation, lowest free first.</summary>
public sealed class RealmVmidTests
{
    private const ulong Page = RealmProbe.Page;

    [Fact]
    public void With8BitVmids_256RealmsGetEveryVmid_The257thGetsEnomem_AndAClosedRealmsVmidIsReused()
    {
        var bed = new KvmTestBed(new RmmConfig { VmidBits = 8 }, new KvmHostOptions { VmidBits = 8 });
        var realms = new List<RealmVmm>();
        for (int i = 0; i < 256; i++)
        {
            var vmm = new RealmVmm(bed, ramSize: Page);
            CreateDescriptor(vmm, byActivation: i % 2 == 1);
            Assert.Equal(i, vmm.Vm.Realm!.Vmid);
            realms.Add(vmm);
        }

        Assert.Equal(256, bed.Kvm.Vmids.InUse);
        var extra = new RealmVmm(bed, ramSize: Page);

        Assert.Equal(Errno.ENOMEM, RealmProbe.Populate(extra, RealmVmm.RamBase, Page).Error);
        Assert.Equal(Errno.ENOMEM, extra.RunVcpu().Error);
        Assert.Equal(RealmState.None, extra.Vm.Realm!.State);

        realms[200].Close();
        realms[37].Close();
        var next = new RealmVmm(bed, ramSize: Page);
        CreateDescriptor(next, byActivation: false);

        Assert.Equal(37, next.Vm.Realm!.Vmid);
        Assert.Equal(255, bed.Rmm.VmidsInUse);
        Assert.Equal(255, bed.Kvm.Vmids.InUse);
        next.Close();
        extra.Close();
        foreach (RealmVmm vmm in realms.Where((_, i) => i is not (37 or 200)))
        {
            vmm.Close();
        }

        bed.AssertNoLeaks();
    }

    [Fact]
    public void FailedActivation_KeepsItsVmidUntilTheVmIsDestroyed()
    {
        var bed = new KvmTestBed(new RmmConfig { VmidBits = 8 }, new KvmHostOptions { VmidBits = 8 });
        var vmm = new RealmVmm(bed, ramSize: Page, vcpuFeatures: 0);

        Assert.Equal(Errno.EINVAL, vmm.RunVcpu().Error);

        // The descriptor was created before the REC failed, so the VMID is held until the VM goes away (§2.17).
        Assert.Equal(1, bed.Kvm.Vmids.InUse);
        vmm.Close();
        Assert.Equal(0, bed.Kvm.Vmids.InUse);
        bed.AssertNoLeaks();
    }

    private static void CreateDescriptor(RealmVmm vmm, bool byActivation)
    {
        if (byActivation)
        {
            RealmProbe.RunToIdle(vmm);
            Assert.Equal(RealmState.Active, vmm.Vm.Realm!.State);
        }
        else
        {
            Assert.Equal((long)Page, RealmProbe.Populate(vmm, RealmVmm.RamBase, Page, flags: KvmArmRmiPopulateFlags.Measure).ReturnValue);
            Assert.Equal(RealmState.New, vmm.Vm.Realm!.State);
        }
    }
}
