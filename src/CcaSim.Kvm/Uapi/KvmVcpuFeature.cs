namespace CcaSim.Kvm.Uapi;

/// <summary><c>kvm_vcpu_init.features[0]</c> bit numbers (arm64 uapi kvm.h). v12 has no REC feature (§2.1).</summary>
public static class KvmVcpuFeature
{
    public const int PowerOff = 0;
    public const int El1Bit32 = 1;
    public const int Psci02 = 2;
    public const int PmuV3 = 3;
    public const int Sve = 4;
    public const int PtrauthAddress = 5;
    public const int PtrauthGeneric = 6;
    public const int HasEl2 = 7;
}
