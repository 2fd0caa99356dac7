using CcaSim.Kvm.Realm;
using CcaSim.Kvm.Tests.Infrastructure;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Tests.Realm;

/// <summary>Lazy creation, populate, activation, DEAD and teardown (kvm-realm-abi.md §2.4–§2.8, §2.17).</summary>
public sealed class RealmLifecycleTests
{
    [Fact]
    public void FirstRun_ActivatesTheRealmAndEntersRecZero()
    {
        var bed = new KvmTestBed();
        var vmm = new RealmVmm(bed);
        vmm.Stage(RealmVmm.RamBase, new byte[4096]);
        vmm.Populate(RealmVmm.RamBase, 4096);
        Assert.Equal(RealmState.New, vmm.Vm.Realm!.State);

        KvmResult run = vmm.RunVcpu();

        Assert.Equal(-(long)Errno.EINTR, run.ReturnValue);
        Assert.Equal(KvmExitReason.Intr, vmm.Run(0).ExitReason);
        Assert.Equal(RealmState.Active, vmm.Vm.Realm.State);
        Assert.Single(bed.Engine.Entries);
        vmm.Close();
        bed.AssertNoLeaks();
    }
}
