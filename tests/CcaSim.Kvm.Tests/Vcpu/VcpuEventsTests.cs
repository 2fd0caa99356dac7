using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>KVM_SET_VCPU_EVENTS on a realm vCPU (kvm-realm-abi.md §2.14).</summary>
public sealed class VcpuEventsTests
{
    public static TheoryData<string, byte, byte, byte, bool, Errno, bool> Rows => new()
    {
        { "nothing pending", 0, 0, 0, false, Errno.None, false },
        { "nothing pending during MMIO", 0, 0, 0, true, Errno.None, false },
        { "SError", 1, 0, 0, false, Errno.EINVAL, false },
        { "SError during MMIO", 1, 0, 0, true, Errno.EINVAL, false },
        { "SError with ESR", 1, 1, 0, true, Errno.EINVAL, false },
        { "ESR flag alone", 0, 1, 0, false, Errno.None, false },
        { "external abort during MMIO", 0, 0, 1, true, Errno.None, true },
        { "external abort, nonzero byte", 0, 0, 0xFF, true, Errno.None, true },
        { "external abort without MMIO", 0, 0, 1, false, Errno.EINVAL, false },
        { "SError and external abort during MMIO", 1, 0, 1, true, Errno.EINVAL, false },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void ValidateRealmEvents_FollowsTheRealmRules(string name, byte serror, byte hasEsr, byte dabt, bool mmio, Errno expected, bool sea)
    {
        var e = new KvmVcpuEvents { SerrorPending = serror, SerrorHasEsr = hasEsr, ExtDabtPending = dabt, SerrorEsr = hasEsr };

        KvmResult r = VcpuEvents.ValidateRealmEvents(e, mmio, out bool injectSea);

        Assert.True(expected == r.Error, $"{name}: {r}");
        Assert.Equal(sea, injectSea);
    }

    public static TheoryData<int> PadBytes => [0, 1, 2, 3, 4];

    [Theory]
    [MemberData(nameof(PadBytes))]
    public void ValidateRealmEvents_WithNonzeroPadding_ReturnsEinvalEvenForAValidAbort(int index)
    {
        var e = new KvmVcpuEvents { ExtDabtPending = 1 };
        e.Pad[index] = 1;

        Assert.Equal(Errno.EINVAL, VcpuEvents.ValidateRealmEvents(e, emulatedMmioPending: true, out bool injectSea).Error);
        Assert.False(injectSea);
    }

    public static TheoryData<int> ReservedWords => [.. Enumerable.Range(0, 12)];

    [Theory]
    [MemberData(nameof(ReservedWords))]
    public void ValidateRealmEvents_WithNonzeroReserved_ReturnsEinvalEvenForAValidAbort(int index)
    {
        var e = new KvmVcpuEvents { ExtDabtPending = 1 };
        e.Reserved[index] = 0x8000_0000;

        Assert.Equal(Errno.EINVAL, VcpuEvents.ValidateRealmEvents(e, emulatedMmioPending: true, out bool injectSea).Error);
        Assert.False(injectSea);
    }
}
