using System.Diagnostics;
using System.Globalization;
using CcaSim.Kvm;
using CcaSim.Kvm.Uapi;
using CcaSim.Platform;
using CcaSim.Platform.Execution;
using CcaSim.Rmm;

namespace CcaSim.Bench;

/// <summary>
/// KVM realm figures (issue 4): KVM_ARM_RMI_POPULATE throughput over a 256 MiB realm, measured, against this
/// machine's SHA-256 speed from <c>openssl speed</c> (populating copies and hashes every page, so hashing is the
/// limit); and create-to-first-entry latency of a 256 MiB realm: KVM_CREATE_VM to the first realm instruction,
/// through the whole v12 sequence with an 8 MiB image. The first realm of the process is reported apart: it
/// populates into host memory never touched before, which costs a page fault per 4 KiB (docs/PERFORMANCE.md).
/// </summary>
internal static class RealmBench
{
    private const ulong RamBase = 0x8000_0000;
    private const ulong RamSize = 256UL << 20;

    public static void Run(int runs)
    {
        double openssl = OpenSslSha256MiBps();

        // One machine and one VMM process for every realm, as on a host that runs realm after realm: the image
        // sits in the process's memory, and each realm's teardown hands its granules back to the kernel.
        var platform = new CcaPlatform(new PlatformOptions { MemorySize = 1UL << 30 });
        RealmManagementMonitor rmm = RealmManagementMonitor.Boot(platform.Monitor, null, platform.Interrupts);
        rmm.Engine = new ScriptedRealm(platform.Interrupts);
        var kvm = new KvmHost(platform);
        ulong uaddr = (ulong)kvm.Process.Mmap(RamSize).ReturnValue;
        byte[] page = new byte[4096];
        for (ulong off = 0; off < RamSize; off += 4096)
        {
            page[0] = (byte)(off >> 12);
            kvm.Process.TryWrite(uaddr + off, page);
        }

        double cold = 0;
        var populate = new List<double>();
        var boot = new List<double>();
        for (int run = 0; run < runs + 1; run++)
        {
            double mibps = Boot(kvm, uaddr, RamSize, out _);
            Boot(kvm, uaddr, 8UL << 20, out double ms);
            if (run == 0)
            {
                cold = mibps;
            }
            else
            {
                populate.Add(mibps);
                boot.Add(ms);
            }
        }

        populate.Sort();
        boot.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"populate-256MiB   median {populate[populate.Count / 2]:F0} MiB/s (min {populate[0]:F0}, max {populate[^1]:F0}); openssl sha256 16 KiB {openssl:F0} MiB/s => {100 * populate[populate.Count / 2] / openssl:F0}%"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"populate-256MiB-first-realm   {cold:F0} MiB/s => {100 * cold / openssl:F0}% (host memory touched for the first time)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"create-to-first-entry-256MiB (8 MiB image)   median {boot[boot.Count / 2]:F2} ms (min {boot[0]:F2}, max {boot[^1]:F2})"));
    }

    /// <summary>
    /// One 256 MiB realm through the v12 sequence with <paramref name="image"/> bytes populated (measured) from
    /// the process's memory; returns populate MiB/s and the create-to-first-entry time, then tears the realm down.
    /// </summary>
    private static double Boot(KvmHost kvm, ulong uaddr, ulong image, out double createToEntryMs)
    {
        int kvmFd = kvm.OpenDevKvm();
        var sw = Stopwatch.StartNew();
        int vm = (int)kvm.CreateVm(kvmFd, KvmVmType.Make(KvmVmType.ArmRealm, 33)).ReturnValue;
        var gic = new KvmCreateDevice { Type = (uint)KvmDeviceType.ArmVgicV3 };
        Check(kvm.CreateDevice(vm, ref gic));
        ulong scratch = (ulong)kvm.Process.Mmap(4096).ReturnValue;
        foreach ((ulong type, ulong address) in new[] { (KvmVgicAttr.AddrTypeV3Dist, 0x3FFF_0000UL), (KvmVgicAttr.AddrTypeV3Redist, 0x3FF0_0000UL) })
        {
            kvm.Process.TryWrite(scratch, BitConverter.GetBytes(address));
            Check(kvm.SetDeviceAttr((int)gic.Fd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = type, Addr = scratch }));
        }

        int vcpu = (int)kvm.CreateVcpu(vm, 0).ReturnValue;
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        init.Features[0] = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02);
        Check(kvm.ArmVcpuInit(vcpu, init));
        Check(kvm.SetDeviceAttr((int)gic.Fd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupCtrl, Attr = KvmVgicAttr.CtrlInit }));
        int gmem = (int)kvm.CreateGuestMemfd(vm, new KvmCreateGuestMemfd { Size = RamSize }).ReturnValue;
        Check(kvm.SetUserMemoryRegion2(vm, new KvmUserspaceMemoryRegion2
        {
            Flags = (uint)KvmMemoryRegionOptions.GuestMemfd,
            GuestPhysAddr = RamBase,
            MemorySize = RamSize,
            UserspaceAddr = uaddr,
            GuestMemfd = (uint)gmem,
        }));
        Check(kvm.SetMemoryAttributes(vm, new KvmMemoryAttributes { Address = RamBase, Size = RamSize, Attributes = KvmMemoryAttributeBits.Private }));
        var populateTime = Stopwatch.StartNew();
        for (ulong done = 0; done < image;)
        {
            var args = new KvmArmRmiPopulate { Base = RamBase + done, Size = image - done, SourceUaddr = uaddr + done, Flags = KvmArmRmiPopulateFlags.Measure };
            KvmResult r = kvm.ArmRmiPopulate(vm, args);
            Check(r);
            done += (ulong)r.ReturnValue;
        }

        populateTime.Stop();
        KvmResult first = kvm.Run(vcpu);
        createToEntryMs = sw.Elapsed.TotalMilliseconds;
        if (first.Error != Errno.EINTR)
        {
            throw new InvalidOperationException($"first KVM_RUN returned {first}");
        }

        // Teardown (§2.17) hands every granule back, so the next realm of the process reuses warm host memory.
        foreach (int fd in new[] { vcpu, (int)gic.Fd, gmem, vm, kvmFd })
        {
            Check(kvm.Close(fd));
        }

        Check(kvm.Process.Munmap(scratch));

        return image / (1024.0 * 1024.0) / populateTime.Elapsed.TotalSeconds;
    }

    private static void Check(KvmResult r)
    {
        if (!r.IsSuccess)
        {
            throw new InvalidOperationException($"ioctl failed: {r}");
        }
    }

    /// <summary>`openssl speed -evp sha256 -bytes 16384`: the 16 KiB column, in MiB/s (openssl prints 1000s of bytes/s).</summary>
    private static double OpenSslSha256MiBps()
    {
        var psi = new ProcessStartInfo("openssl", "speed -evp sha256 -bytes 16384 -seconds 2") { RedirectStandardOutput = true, RedirectStandardError = true };
        using Process p = Process.Start(psi)!;
        string output = p.StandardOutput.ReadToEnd();
        p.WaitForExit();
        string line = output.Split('\n').Last(l => l.StartsWith("sha256", StringComparison.Ordinal));
        string k = line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1].TrimEnd('k');
        return double.Parse(k, CultureInfo.InvariantCulture) * 1000 / (1024 * 1024);
    }
}
