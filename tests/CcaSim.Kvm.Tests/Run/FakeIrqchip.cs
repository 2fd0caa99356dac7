using CcaSim.Kvm.Run;

namespace CcaSim.Kvm.Tests.Run;

/// <summary>An irqchip with nothing pending, for tests that only need one to exist.</summary>
internal sealed class FakeIrqchip : IInKernelIrqchip
{
    public ulong FlushToListRegisters(int vcpuIndex, Span<ulong> lrs, int numLrs) => 0;

    public void SyncFromListRegisters(int vcpuIndex, ReadOnlySpan<ulong> lrs, int count)
    {
    }

    public void SetTimerLevel(int vcpuIndex, int ppi, bool level)
    {
    }

    public bool TryHandleMmio(int vcpuIndex, ulong gpa, bool isWrite, int size, ref ulong data) => false;
}
