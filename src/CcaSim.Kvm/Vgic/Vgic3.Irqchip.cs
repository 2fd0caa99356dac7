using CcaSim.Kvm.Run;

namespace CcaSim.Kvm.Vgic;

/// <summary>The vGIC as the realm run loop sees it (§2.16).</summary>
public sealed partial class Vgic3 : IInKernelIrqchip
{
    ulong IInKernelIrqchip.FlushToListRegisters(int vcpuIndex, Span<ulong> lrs, int numLrs)
    {
        FlushToListRegisters(vcpuIndex, lrs, numLrs, out ulong hcr);
        return hcr;
    }
}
