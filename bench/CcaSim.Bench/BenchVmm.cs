using System.Buffers.Binary;
using System.Text;
using CcaSim.Kvm;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Bench;

/// <summary>How a payload run ended.</summary>
internal enum BenchOutcome
{
    /// <summary>PSCI SYSTEM_OFF (KVM_EXIT_SYSTEM_EVENT shutdown).</summary>
    PoweredOff,

    /// <summary>PSCI SYSTEM_RESET.</summary>
    Reset,

    /// <summary>The run loop gave up after <see cref="BenchVmm.MaxRounds"/> rounds without the guest powering off.</summary>
    Runaway,

    /// <summary>KVM_RUN failed or returned an exit this VMM does not handle.</summary>
    Failed,
}

/// <summary>What a payload printed and how it ended.</summary>
internal sealed record BenchGuestRun(BenchOutcome Outcome, string Transcript, int? ExitStatus, string? Failure)
{
    /// <summary>The "TOKEN: hex" lines the payload printed, joined; null when there were none.</summary>
    public byte[]? Token
    {
        get
        {
            var hex = new StringBuilder();
            foreach (string line in Transcript.Split('\n'))
            {
                if (line.StartsWith("TOKEN: ", StringComparison.Ordinal))
                {
                    hex.Append(line.AsSpan(7).Trim());
                }
            }

            return hex.Length == 0 ? null : Convert.FromHexString(hex.ToString());
        }
    }

    /// <summary>The value of a "NAME: hex" line (e.g. RIM), or null.</summary>
    public byte[]? HexLine(string name)
    {
        string prefix = name + ": ";
        foreach (string line in Transcript.Split('\n'))
        {
            if (line.StartsWith(prefix, StringComparison.Ordinal))
            {
                return Convert.FromHexString(line.AsSpan(prefix.Length).Trim());
            }
        }

        return null;
    }
}

/// <summary>
/// A copy of the Guests tests' TestVmm (the bench must not reference test projects), which also notes when the
/// first UART byte arrived (<see cref="FirstUartTimestamp"/>, Stopwatch ticks).
/// The smallest VMM that boots a payload of guests/ through the KVM ABI alone (ioctls, the run page, fds), as
/// kvmtool does: RAM at 0x8000_0000, the image at +0x80000, x0 = the DTB (none here), a GICv3, an 8250 UART whose
/// transmit register it records, and every vCPU run round-robin on this thread — KVM_RUN returns -EINTR when a
/// vCPU's time slice ends, and the VMM moves on to the next vCPU, which makes runs deterministic.
/// </summary>
internal sealed class BenchVmm : IDisposable
{
    public const ulong RamBase = 0x8000_0000;
    public const ulong ImageOffset = 0x8_0000;
    public const ulong UartBase = 0x0100_0000;
    public const ulong GicDistributor = 0x3FFF_0000;
    public const ulong RedistributorSize = 0x2_0000;

    /// <summary>IPA width of the realm: one bit above 2 GiB of RAM, so the unprotected alias bit is 1 &lt;&lt; 32.</summary>
    public const int RealmIpaBits = 33;

    /// <summary>Rounds of the run loop before a guest that never powers off is stopped.</summary>
    public const int MaxRounds = 20_000;

    private const int UartThr = 0;
    private const int UartLsr = 5;
    private const byte LsrThreAndTemt = 0x60;

    private readonly KvmHost _kvm;
    private readonly List<int> _vcpuFds = [];
    private readonly StringBuilder _uart = new();
    private readonly bool[] _done;
    private int _vmFd;
    private int _gicFd;
    private int _gmemFd = -1;
    private ulong _ram;

    public BenchVmm(KvmHost kvm, int kvmFd, ReadOnlySpan<byte> image, bool realm, int vcpus = 1, ulong ramSize = 32UL << 20)
    {
        _kvm = kvm;
        IsRealm = realm;
        RamSize = ramSize;
        _done = new bool[vcpus];
        _vmFd = (int)Ok(kvm.CreateVm(kvmFd, realm ? KvmVmType.ArmRealm | RealmIpaBits : 0), "KVM_CREATE_VM");
        CreateGic(vcpus);
        for (int i = 0; i < vcpus; i++)
        {
            int fd = (int)Ok(kvm.CreateVcpu(_vmFd, i), "KVM_CREATE_VCPU");
            var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
            init.Features[0] = KvmVcpuFeature.Bit(KvmVcpuFeature.Psci02) | (i == 0 ? 0 : KvmVcpuFeature.Bit(KvmVcpuFeature.PowerOff));
            Ok(kvm.ArmVcpuInit(fd, init), "KVM_ARM_VCPU_INIT");
            _vcpuFds.Add(fd);
        }

        Ok(kvm.SetDeviceAttr(_gicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupCtrl, Attr = KvmVgicAttr.CtrlInit }), "VGIC init");
        _ram = (ulong)Ok(kvm.Process.Mmap(ramSize), "mmap RAM");
        if (realm)
        {
            _gmemFd = (int)Ok(kvm.CreateGuestMemfd(_vmFd, new KvmCreateGuestMemfd { Size = ramSize }), "KVM_CREATE_GUEST_MEMFD");
            Ok(kvm.SetUserMemoryRegion2(_vmFd, new KvmUserspaceMemoryRegion2
            {
                Slot = 0,
                Flags = (uint)KvmMemoryRegionOptions.GuestMemfd,
                GuestPhysAddr = RamBase,
                MemorySize = ramSize,
                UserspaceAddr = _ram,
                GuestMemfd = (uint)_gmemFd,
            }), "KVM_SET_USER_MEMORY_REGION2");
            Ok(kvm.SetMemoryAttributes(_vmFd, new KvmMemoryAttributes { Address = RamBase, Size = ramSize, Attributes = KvmMemoryAttributeBits.Private }), "KVM_SET_MEMORY_ATTRIBUTES");
        }
        else
        {
            Ok(kvm.SetUserMemoryRegion2(_vmFd, new KvmUserspaceMemoryRegion2 { Slot = 0, GuestPhysAddr = RamBase, MemorySize = ramSize, UserspaceAddr = _ram }), "KVM_SET_USER_MEMORY_REGION2");
        }

        if (!kvm.Process.TryWrite(_ram + ImageOffset, image))
        {
            throw new InvalidOperationException("the image does not fit in RAM");
        }

        if (realm)
        {
            // kvmtool populates each loaded region in GPA order, measured (kvm-realm-abi.md §3.1).
            Populate(RamBase + ImageOffset, (ulong)((image.Length + 4095) & ~4095));
        }

        SetReg(0, ArmRegisterId.Pc, RamBase + ImageOffset);
        SetReg(0, ArmRegisterId.X(0), 0);
    }

    public bool IsRealm { get; }

    /// <summary>Stopwatch.GetTimestamp() at the first byte written to the UART, 0 before.</summary>
    public long FirstUartTimestamp { get; private set; }

    public ulong RamSize { get; }

    public int VmFd => _vmFd;

    /// <summary>Runs every vCPU round-robin until the guest powers off, fails, or <see cref="MaxRounds"/> pass.</summary>
    public BenchGuestRun Run()
    {
        for (int round = 0; round < MaxRounds; round++)
        {
            for (int i = 0; i < _vcpuFds.Count; i++)
            {
                if (_done[i])
                {
                    continue;
                }

                BenchGuestRun? end = RunVcpu(i);
                if (end is not null)
                {
                    return end;
                }
            }
        }

        return Finish(BenchOutcome.Runaway, null);
    }

    /// <summary>One KVM_RUN of vCPU <paramref name="i"/> and the handling of its exit; non-null when the guest is done.</summary>
    private BenchGuestRun? RunVcpu(int i)
    {
        int fd = _vcpuFds[i];
        KvmResult r = _kvm.Run(fd);
        KvmRun run = _kvm.MapRun(fd)!;
        if (r.ReturnValue == -(long)Errno.EINTR)
        {
            return null;
        }

        if (r.ReturnValue == -(long)Errno.EFAULT && run.ExitReason == KvmExitReason.MemoryFault)
        {
            // The realm asked for a RIPAS change (RSI_IPA_STATE_SET, kvm-realm-abi.md §2.13): as kvmtool does, convert
            // the range's memory attributes (PRIVATE for RAM, shared for EMPTY) and run again.
            KvmRunMemoryFault fault = run.MemoryFault;
            bool toPrivate = (fault.Flags & KvmMemoryExitFlag.Private) != 0;
            KvmResult converted = _kvm.SetMemoryAttributes(_vmFd, new KvmMemoryAttributes { Address = fault.Gpa, Size = fault.Size, Attributes = toPrivate ? KvmMemoryAttributeBits.Private : 0 });
            return converted.IsSuccess ? null : Finish(BenchOutcome.Failed, $"KVM_SET_MEMORY_ATTRIBUTES for 0x{fault.Gpa:x}+0x{fault.Size:x} failed: {converted}");
        }

        if (!r.IsSuccess)
        {
            return Finish(BenchOutcome.Failed, $"KVM_RUN on vCPU {i} failed: {r} (exit reason {run.ExitReason})");
        }

        switch (run.ExitReason)
        {
            case KvmExitReason.Mmio:
                Mmio(run);
                return null;
            case KvmExitReason.SystemEvent:
                return Finish(run.SystemEventType == KvmSystemEvent.Shutdown ? BenchOutcome.PoweredOff : BenchOutcome.Reset, null);
            default:
                return Finish(BenchOutcome.Failed, $"vCPU {i}: unexpected exit {run.ExitReason}");
        }
    }

    /// <summary>The 8250: THR writes go to the transcript; LSR reads say the transmitter is empty; the rest reads 0.</summary>
    private void Mmio(KvmRun run)
    {
        ulong address = run.MmioPhysAddr;
        Span<byte> data = run.MmioData;
        if (run.MmioIsWrite)
        {
            if (address == UartBase + UartThr)
            {
                if (FirstUartTimestamp == 0)
                {
                    FirstUartTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
                }

                _uart.Append((char)data[0]);
            }

            return;
        }

        data.Clear();
        if (address == UartBase + UartLsr)
        {
            data[0] = LsrThreAndTemt;
        }
    }

    private BenchGuestRun Finish(BenchOutcome outcome, string? failure)
    {
        string transcript = _uart.ToString();
        int? status = null;
        foreach (string line in transcript.Split('\n'))
        {
            if (line.StartsWith("EXIT: STATUS=", StringComparison.Ordinal) && int.TryParse(line.AsSpan(13).Trim(), out int s))
            {
                status = s;
            }
        }

        return new BenchGuestRun(outcome, transcript, status, failure);
    }

    private void CreateGic(int vcpus)
    {
        var device = new KvmCreateDevice { Type = (uint)KvmDeviceType.ArmVgicV3 };
        Ok(_kvm.CreateDevice(_vmFd, ref device), "KVM_CREATE_DEVICE(vGICv3)");
        _gicFd = (int)device.Fd;

        // kvmtool's layout: the distributor just below 1 GiB, the redistributors (128 KiB per vCPU) right below it.
        ulong redistributors = GicDistributor - ((ulong)vcpus * RedistributorSize);
        ulong scratch = (ulong)Ok(_kvm.Process.Mmap(4096), "mmap");
        foreach ((ulong type, ulong address) in new[] { (KvmVgicAttr.AddrTypeV3Dist, GicDistributor), (KvmVgicAttr.AddrTypeV3Redist, redistributors) })
        {
            _kvm.Process.TryWrite(scratch, BitConverter.GetBytes(address));
            Ok(_kvm.SetDeviceAttr(_gicFd, new KvmDeviceAttr { Group = KvmVgicAttr.GroupAddr, Attr = type, Addr = scratch }), "VGIC address");
        }

        _kvm.Process.Munmap(scratch);
    }

    private void Populate(ulong gpa, ulong size)
    {
        while (size > 0)
        {
            var args = new KvmArmRmiPopulate { Base = gpa, Size = size, SourceUaddr = _ram + (gpa - RamBase), Flags = KvmArmRmiPopulateFlags.Measure };
            long done = _kvm.ArmRmiPopulate(_vmFd, args).ReturnValue;
            if (done <= 0)
            {
                throw new InvalidOperationException($"KVM_ARM_RMI_POPULATE at 0x{gpa:x} returned {done}");
            }

            gpa += (ulong)done;
            size -= (ulong)done;
        }
    }

    private void SetReg(int vcpu, ulong id, ulong value)
    {
        ulong scratch = (ulong)Ok(_kvm.Process.Mmap(4096), "mmap");
        Span<byte> bytes = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, value);
        _kvm.Process.TryWrite(scratch, bytes);
        Ok(_kvm.SetOneReg(_vcpuFds[vcpu], new KvmOneReg { Id = id, Addr = scratch }), "KVM_SET_ONE_REG");
        _kvm.Process.Munmap(scratch);
    }

    public void Dispose()
    {
        if (_gmemFd >= 0)
        {
            _kvm.Close(_gmemFd);
            _gmemFd = -1;
        }

        foreach (int fd in _vcpuFds)
        {
            _kvm.Close(fd);
        }

        _vcpuFds.Clear();
        if (_gicFd != 0)
        {
            _kvm.Close(_gicFd);
            _gicFd = 0;
        }

        if (_vmFd != 0)
        {
            _kvm.Close(_vmFd);
            _vmFd = 0;
        }

        if (_ram != 0)
        {
            _kvm.Process.Munmap(_ram);
            _ram = 0;
        }
    }

    private static long Ok(KvmResult result, string what) =>
        result.IsSuccess ? result.ReturnValue : throw new InvalidOperationException($"{what} failed: {result}");
}
