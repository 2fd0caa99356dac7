using CcaSim.Cpu.Engine;
using CcaSim.Kvm;
using CcaSim.Platform;
using CcaSim.Rmm;

namespace CcaSim.Guests.Tests.Boot;

/// <summary>
/// A whole CcaSim machine for a payload, wired as the CLI wires it: the platform, the RMM behind the SMC conduit,
/// the Unicorn engine behind the realm-execution seam (for realms through the RMM, for normal VMs through KVM), and
/// KVM on top; <see cref="TestVmm"/> drives it through the KVM ABI.
/// </summary>
internal static class GuestMachine
{
    public static GuestRun Boot(string payload, bool realm, int vcpus, ulong ramSize = 32UL << 20)
    {
        byte[] image = File.ReadAllBytes(GuestImages.BinPath(payload));
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 512UL << 20 });
        RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts);
        using var engine = new UnicornEngine(platform.Clock);
        rmm.Engine = engine;
        var kvm = new KvmHost(platform, new KvmHostOptions { Engine = engine });
        int kvmFd = kvm.OpenDevKvm();
        using var vmm = new TestVmm(kvm, kvmFd, image, realm, vcpus, ramSize);
        return vmm.Run();
    }
}
