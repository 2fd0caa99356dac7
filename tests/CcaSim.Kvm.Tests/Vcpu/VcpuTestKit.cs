using System.Buffers.Binary;
using CcaSim.Kvm.Uapi;
using CcaSim.Kvm.Vcpu;

namespace CcaSim.Kvm.Tests.Vcpu;

/// <summary>Builders shared by the vCPU register tests.</summary>
internal static class VcpuTestKit
{
    /// <summary>An RMM offering 5+1 breakpoints, 3+1 watchpoints, 8 PMU counters and SVE up to VQ 4.</summary>
    public static RealmRegisterLimits RmmLimits => new(NumBps: 5, NumWps: 3, PmuSupported: true, PmuNumCtrs: 8, SveSupported: true, SveMaxVq: 4);

    /// <summary>A host that also runs AArch32, so that only the realm rule can reject EL1_32BIT.</summary>
    public static RealmRegisterLimits HostLimits => RmmLimits with { HostHasAArch32 = true, HostCtxCmps = 2 };

    public static KvmVcpuInit Init(params int[] features)
    {
        var init = new KvmVcpuInit { Target = KvmArmTarget.GenericV8 };
        foreach (int f in features)
        {
            init.Features[0] |= KvmVcpuFeature.Bit(f);
        }

        return init;
    }

    public static VmRegisterConfig RealmVm(RealmRegisterLimits? limits = null) => new(limits ?? RmmLimits, isRealm: true);

    public static VmRegisterConfig NormalVm(RealmRegisterLimits? limits = null) => new(limits ?? HostLimits, isRealm: false);

    /// <summary>A vCPU after a successful KVM_ARM_VCPU_INIT with the given features.</summary>
    public static VcpuRegisterFile NewVcpu(VmRegisterConfig vm, params int[] features)
    {
        var vcpu = new VcpuRegisterFile(vm);
        KvmResult r = vcpu.Init(Init(features));
        Assert.True(r.IsSuccess, $"INIT failed: {r}");
        return vcpu;
    }

    public static VcpuRegisterFile RealmVcpu(params int[] features) => NewVcpu(RealmVm(), features);

    public static byte[] U64(ulong value)
    {
        byte[] b = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return b;
    }

    public static ulong Get64(VcpuRegisterFile vcpu, ulong id)
    {
        byte[] b = new byte[8];
        KvmResult r = vcpu.GetOneReg(id, b);
        Assert.True(r.IsSuccess, $"GET 0x{id:X16} failed: {r}");
        return BinaryPrimitives.ReadUInt64LittleEndian(b);
    }

    public static KvmResult Set64(VcpuRegisterFile vcpu, ulong id, ulong value) => vcpu.SetOneReg(id, U64(value));

    /// <summary>A KVM_REG_ARM64_SVE_VLS image with exactly the given VQs present.</summary>
    public static byte[] Vls(params int[] vqs)
    {
        byte[] b = new byte[64];
        foreach (int vq in vqs)
        {
            b[(vq - 1) / 8] |= (byte)(1 << ((vq - 1) % 8));
        }

        return b;
    }

    /// <summary>A buffer of the size the id's size field names.</summary>
    public static byte[] Buffer(ulong id) => new byte[ArmRegisterId.SizeInBytes(id)];
}
