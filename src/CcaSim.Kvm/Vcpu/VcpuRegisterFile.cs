using System.Buffers.Binary;
using CcaSim.Kvm.Uapi;

namespace CcaSim.Kvm.Vcpu;

/// <summary>
/// The userspace-visible registers of one arm64 vCPU: the core registers (a byte image of <c>struct kvm_regs</c>),
/// PMCR_EL0, KVM_REG_ARM64_SVE_VLS, and views of the VM-wide ID_AA64DFR0_EL1 and PSCI version. It answers
/// KVM_ARM_VCPU_INIT, KVM_{GET,SET}_ONE_REG and KVM_GET_REG_LIST with the kernel's errno, including the realm
/// restrictions of kvm-realm-abi.md §2.9. The ioctl layer answers -ENOEXEC itself while
/// <see cref="VcpuFeatures.IsInitialized"/> is false; calling the register methods then is a model bug.
/// </summary>
public sealed class VcpuRegisterFile
{
    /// <summary>PSR_MODE_EL1h with D, A, I and F masked: the AArch64 reset PSTATE (VCPU_RESET_PSTATE_EL1).</summary>
    public const ulong ResetPstateEl1 = 0x3C5;

    /// <summary>PSR_AA32_MODE_SVC with A, I and F masked: the reset PSTATE of an AArch32-EL1 vCPU.</summary>
    public const ulong ResetPstateSvc = 0x1D3;

    /// <summary>ARMV8_PMU_PMCR_MASK: the PMCR_EL0 bits a vCPU keeps (E, P, C, D, X, DP, LC, LP).</summary>
    public const ulong PmcrWritableMask = 0xFF;

    /// <summary>PMCR_EL0.LC, RES1 when the host has no AArch32 EL0.</summary>
    public const ulong PmcrLc = 1UL << 6;

    public const int PmcrNShift = 11;
    public const ulong PmcrNMask = 0x1FUL << PmcrNShift;

    private const int CoreBytes = CoreOffset.KvmRegsWords * 4;
    private const int SveVlsBytes = 64;
    private const ulong PstateModeMask = 0x1F;

    private readonly VmRegisterConfig _vm;
    private readonly byte[] _core = new byte[CoreBytes];
    private ulong _pmcr;

    public VcpuRegisterFile(VmRegisterConfig vm)
    {
        ArgumentNullException.ThrowIfNull(vm);
        _vm = vm;
        Features = new VcpuFeatures(vm);
        Reset();
    }

    public VcpuFeatures Features { get; }

    public VmRegisterConfig Vm => _vm;

    /// <summary>The vCPU's maximum SVE vector length in quadwords (vcpu->arch.sve_max_vl / 16); 0 without SVE.</summary>
    public int SveMaxVq { get; private set; }

    public ulong Pc
    {
        get => ReadCore64(CoreOffset.Pc);
        set => WriteCore64(CoreOffset.Pc, value);
    }

    public ulong Sp
    {
        get => ReadCore64(CoreOffset.Sp);
        set => WriteCore64(CoreOffset.Sp, value);
    }

    public ulong Pstate
    {
        get => ReadCore64(CoreOffset.Pstate);
        set => WriteCore64(CoreOffset.Pstate, value);
    }

    /// <summary>
    /// KVM_ARM_VCPU_INIT: the rules of <see cref="VcpuFeatures"/>, then a reset of the core registers, PMCR_EL0
    /// and (unless finalised) the SVE vector length. VM-wide ID registers are not reset.
    /// </summary>
    public KvmResult Init(in KvmVcpuInit init)
    {
        KvmResult r = Features.Init(init);
        if (r.IsSuccess)
        {
            Reset();
        }

        return r;
    }

    /// <summary>X0–X30, as KVM reads them for REC creation (X0–X7) and after HOST_CALL / PSCI exits (§2.3, §2.11).</summary>
    public ulong GetX(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 30);
        return ReadCore64(CoreOffset.X0 + (2 * n));
    }

    /// <summary>Kernel-side write of a GPR (an exit copying the REC's registers back); no uAPI rules apply.</summary>
    public void SetX(int n, ulong value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 30);
        WriteCore64(CoreOffset.X0 + (2 * n), value);
    }

    /// <summary>
    /// KVM_GET_ONE_REG. <paramref name="value"/> must be exactly the id's size (-EINVAL otherwise: the ioctl
    /// layer copies KVM_REG_SIZE(id) bytes). Reads are not restricted on a realm; they may be stale (§2.9).
    /// </summary>
    public KvmResult GetOneReg(ulong id, Span<byte> value)
    {
        KvmResult pre = Precheck(id, value.Length);
        if (!pre.IsSuccess)
        {
            return pre;
        }

        return ArmRegisterId.Coproc(id) switch
        {
            ArmRegisterId.Core => GetCore(id, value),
            ArmRegisterId.Firmware => GetFirmware(id, value),
            ArmRegisterId.Sve => GetSve(id, value),
            ArmRegisterId.SysReg => GetSysReg(id, value),
            _ => Errno.ENOENT,
        };
    }

    /// <summary>
    /// KVM_SET_ONE_REG. On a realm only X0–X30, PC, PMCR_EL0, ID_AA64DFR0_EL1 and KVM_REG_ARM64_SVE_VLS may be
    /// written; every other id, known or not, is -EINVAL (validate_realm_set_reg, §2.9).
    /// </summary>
    public KvmResult SetOneReg(ulong id, ReadOnlySpan<byte> value)
    {
        KvmResult pre = Precheck(id, value.Length);
        if (!pre.IsSuccess)
        {
            return pre;
        }

        if (_vm.IsRealm && !IsRealmSettable(id))
        {
            return Errno.EINVAL;
        }

        return ArmRegisterId.Coproc(id) switch
        {
            ArmRegisterId.Core => SetCore(id, value),
            ArmRegisterId.Firmware => SetFirmware(id, value),
            ArmRegisterId.Sve => SetSve(id, value),
            ArmRegisterId.SysReg => SetSysReg(id, value),
            _ => Errno.ENOENT,
        };
    }

    /// <summary>
    /// The ids KVM_GET_REG_LIST reports, in kernel order: core registers (V0–V31 omitted on SVE vCPUs), SVE, firmware,
    /// then system registers by encoding. A realm gets the core registers, KVM_REG_ARM64_SVE_VLS (SVE only),
    /// ID_AA64DFR0_EL1 and PMCR_EL0 — no firmware pseudo-registers, no CCSIDR, no timers (§2.9). A normal VM
    /// additionally lists KVM_REG_ARM_PSCI_VERSION; its other registers live only in the engine (FIDELITY.md).
    /// PMCR_EL0 is listed only for a vCPU with PMUv3 (pmu_visibility hides it otherwise).
    /// </summary>
    public IReadOnlyList<ulong> RegisterList()
    {
        EnsureInitialized();
        var ids = new List<ulong>(CoreOffset.KvmRegsWords);
        for (int off = 0; off < CoreOffset.KvmRegsWords; off++)
        {
            int size = CoreRegSize(off);
            if (size > 0)
            {
                ids.Add(ArmRegisterId.CoreReg(off, SizeField(size)));
            }
        }

        if (Features.HasSve)
        {
            ids.Add(ArmRegisterId.SveVls);
        }

        if (!_vm.IsRealm)
        {
            ids.Add(ArmRegisterId.PsciVersion);
        }

        ids.Add(ArmRegisterId.IdAa64Dfr0El1);
        if (Features.HasPmu)
        {
            ids.Add(ArmRegisterId.PmcrEl0);
        }

        return ids;
    }

    /// <summary>
    /// KVM_GET_REG_LIST's protocol: -EPERM before an SVE vCPU is finalised (n untouched); otherwise n becomes the
    /// register count and, if the caller's n was smaller, the call fails -E2BIG; else the ids are copied to
    /// <paramref name="indices"/> (the user's <c>reg[]</c>; shorter than the count is -EFAULT).
    /// </summary>
    public KvmResult CopyRegList(ref ulong n, Span<ulong> indices)
    {
        EnsureInitialized();
        if (!Features.IsFinalized)
        {
            return Errno.EPERM;
        }

        IReadOnlyList<ulong> ids = RegisterList();
        ulong capacity = n;
        n = (ulong)ids.Count;
        if (capacity < n)
        {
            return Errno.E2BIG;
        }

        if (indices.Length < ids.Count)
        {
            return Errno.EFAULT;
        }

        for (int i = 0; i < ids.Count; i++)
        {
            indices[i] = ids[i];
        }

        return KvmResult.Success;
    }

    /// <summary>
    /// kvm_reset_vcpu after PSCI CPU_ON (reset_state): the core registers reset, then PC = the entry point and
    /// X0 = the context id.
    /// </summary>
    internal void ResetForCpuOn(ulong pc, ulong contextId)
    {
        Reset();
        Pc = pc;
        SetX(0, contextId);
    }

    /// <summary>Loads the <c>struct kvm_regs</c> image into an engine context (X, SP, PC, PSTATE, SP_EL1, ELR_EL1, SPSR_EL1, V, FPSR, FPCR).</summary>
    internal void ExportCore(CcaSim.Platform.Execution.RealmVcpuContext ctx)
    {
        for (int i = 0; i <= 30; i++)
        {
            ctx.X[i] = GetX(i);
        }

        ctx.SpEl0 = Sp;
        ctx.Pc = Pc;
        ctx.Pstate = Pstate;
        ctx.SpEl1 = ReadCore64(CoreOffset.SpEl1);
        ctx.ElrEl1 = ReadCore64(CoreOffset.ElrEl1);
        ctx.SpsrEl1 = ReadCore64(CoreOffset.Spsr0);
        for (int i = 0; i < 32; i++)
        {
            ctx.V[i] = BinaryPrimitives.ReadUInt128LittleEndian(_core.AsSpan((CoreOffset.V0 + (4 * i)) * 4));
        }

        ctx.Fpsr = BinaryPrimitives.ReadUInt32LittleEndian(_core.AsSpan(CoreOffset.Fpsr * 4));
        ctx.Fpcr = BinaryPrimitives.ReadUInt32LittleEndian(_core.AsSpan(CoreOffset.Fpcr * 4));
    }

    /// <summary>Takes the core registers back from an engine context (the inverse of <see cref="ExportCore"/>).</summary>
    internal void ImportCore(CcaSim.Platform.Execution.RealmVcpuContext ctx)
    {
        for (int i = 0; i <= 30; i++)
        {
            SetX(i, ctx.X[i]);
        }

        Sp = ctx.SpEl0;
        Pc = ctx.Pc;
        Pstate = ctx.Pstate;
        WriteCore64(CoreOffset.SpEl1, ctx.SpEl1);
        WriteCore64(CoreOffset.ElrEl1, ctx.ElrEl1);
        WriteCore64(CoreOffset.Spsr0, ctx.SpsrEl1);
        for (int i = 0; i < 32; i++)
        {
            BinaryPrimitives.WriteUInt128LittleEndian(_core.AsSpan((CoreOffset.V0 + (4 * i)) * 4), ctx.V[i]);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(_core.AsSpan(CoreOffset.Fpsr * 4), (uint)ctx.Fpsr);
        BinaryPrimitives.WriteUInt32LittleEndian(_core.AsSpan(CoreOffset.Fpcr * 4), (uint)ctx.Fpcr);
    }

    /// <summary>kvm_reset_vcpu's register part.</summary>
    private void Reset()
    {
        Array.Clear(_core);
        Pstate = Features.HasAarch32El1 ? ResetPstateSvc : ResetPstateEl1;
        _pmcr = _vm.Limits.HostHasAArch32 ? 0 : PmcrLc;
        if (!Features.HasSve)
        {
            SveMaxVq = 0;
        }
        else if (!Features.IsSveFinalized)
        {
            SveMaxVq = _vm.MaxSveVq;
        }
    }

    private KvmResult Precheck(ulong id, int valueLength)
    {
        EnsureInitialized();
        return valueLength != ArmRegisterId.SizeInBytes(id) || !ArmRegisterId.HasArm64Prefix(id) ? Errno.EINVAL : KvmResult.Success;
    }

    private void EnsureInitialized()
    {
        if (!Features.IsInitialized)
        {
            throw new InvalidOperationException("vCPU register access before KVM_ARM_VCPU_INIT: the ioctl layer must answer -ENOEXEC");
        }
    }

    /// <summary>validate_realm_set_reg: the GPRs (word offsets 0..60 — alignment is checked later) and PC, plus the three configuration ids.</summary>
    private static bool IsRealmSettable(ulong id)
    {
        if (ArmRegisterId.Coproc(id) == ArmRegisterId.Core)
        {
            ulong off = ArmRegisterId.CoreOffsetOf(id);
            return off <= CoreOffset.X0 + 60 || off == CoreOffset.Pc;
        }

        return id == ArmRegisterId.PmcrEl0 || id == ArmRegisterId.IdAa64Dfr0El1 || id == ArmRegisterId.SveVls;
    }

    /// <summary>
    /// core_reg_size_from_offset: 8 for the even word offsets 0..80 (X0–X30, SP, PC, PSTATE, SP_EL1, ELR_EL1,
    /// SPSR[5]), 16 for V0–V31 (not on SVE vCPUs), 4 for FPSR/FPCR; -1 for anything else.
    /// </summary>
    private int CoreRegSize(int off) => off switch
    {
        >= CoreOffset.X0 and <= CoreOffset.Spsr0 + (2 * (CoreOffset.SpsrCount - 1)) => off % 2 == 0 ? 8 : -1,
        >= CoreOffset.V0 and <= CoreOffset.V0 + (4 * 31) => off % 4 == 0 && !Features.HasSve ? 16 : -1,
        CoreOffset.Fpsr or CoreOffset.Fpcr => 4,
        _ => -1,
    };

    /// <summary>get_core_reg / set_core_reg: an offset past <c>struct kvm_regs</c> is -ENOENT, a bad one or a wrong size -EINVAL.</summary>
    private KvmResult ValidateCore(ulong id, out int offset)
    {
        ulong off = ArmRegisterId.CoreOffsetOf(id);
        int size = ArmRegisterId.SizeInBytes(id);
        offset = 0;
        if (off >= CoreOffset.KvmRegsWords || off + (ulong)(size / 4) >= CoreOffset.KvmRegsWords)
        {
            return Errno.ENOENT;
        }

        offset = (int)off;
        return CoreRegSize(offset) == size ? KvmResult.Success : Errno.EINVAL;
    }

    private KvmResult GetCore(ulong id, Span<byte> value)
    {
        KvmResult r = ValidateCore(id, out int off);
        if (r.IsSuccess)
        {
            _core.AsSpan(off * 4, value.Length).CopyTo(value);
        }

        return r;
    }

    private KvmResult SetCore(ulong id, ReadOnlySpan<byte> value)
    {
        KvmResult r = ValidateCore(id, out int off);
        if (!r.IsSuccess)
        {
            return r;
        }

        if (off == CoreOffset.Pstate && !IsValidPstateMode(BinaryPrimitives.ReadUInt64LittleEndian(value) & PstateModeMask))
        {
            return Errno.EINVAL;
        }

        value.CopyTo(_core.AsSpan(off * 4));
        return KvmResult.Success;
    }

    /// <summary>set_core_reg's PSTATE check: the mode must be one this vCPU's execution state can be in.</summary>
    private bool IsValidPstateMode(ulong mode) => mode switch
    {
        0x10 => _vm.Limits.HostHasAArch32,
        0x11 or 0x12 or 0x13 or 0x17 or 0x1B or 0x1F => Features.HasAarch32El1,
        0x0 or 0x4 or 0x5 => !Features.HasAarch32El1,
        _ => false,
    };

    private KvmResult GetFirmware(ulong id, Span<byte> value)
    {
        if (id != ArmRegisterId.PsciVersion)
        {
            return Errno.ENOENT;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(value, Features.HasPsci02 ? _vm.PsciVersion : VmRegisterConfig.PsciVersion01);
        return KvmResult.Success;
    }

    private KvmResult SetFirmware(ulong id, ReadOnlySpan<byte> value) =>
        id == ArmRegisterId.PsciVersion
            ? _vm.SetPsciVersion(BinaryPrimitives.ReadUInt64LittleEndian(value), Features.HasPsci02)
            : Errno.ENOENT;

    /// <summary>get_sve_vls: bit (vq − 1) set for every VQ up to the vCPU's maximum (the simulated host implements them all).</summary>
    private KvmResult GetSve(ulong id, Span<byte> value)
    {
        if (id != ArmRegisterId.SveVls || !Features.HasSve)
        {
            return Errno.ENOENT;
        }

        value.Clear();
        for (int vq = 1; vq <= SveMaxVq; vq++)
        {
            value[(vq - 1) / 8] |= (byte)(1 << ((vq - 1) % 8));
        }

        return KvmResult.Success;
    }

    /// <summary>
    /// set_sve_vls: -ENOENT without SVE; -EPERM once finalised or once the realm's RD exists (§2.5); the set must
    /// be non-empty, contiguous from VQ 1 (lengths cannot be hidden individually) and within the limit, else -EINVAL.
    /// </summary>
    private KvmResult SetSve(ulong id, ReadOnlySpan<byte> value)
    {
        if (id != ArmRegisterId.SveVls || !Features.HasSve)
        {
            return Errno.ENOENT;
        }

        if (Features.IsSveFinalized || _vm.IsFrozen)
        {
            return Errno.EPERM;
        }

        int maxVq = 0;
        for (int bit = 0; bit < SveVlsBytes * 8; bit++)
        {
            if ((value[bit / 8] & (1 << (bit % 8))) != 0)
            {
                maxVq = bit + 1;
            }
        }

        if (maxVq < 1 || maxVq > _vm.MaxSveVq)
        {
            return Errno.EINVAL;
        }

        for (int vq = 1; vq <= maxVq; vq++)
        {
            if ((value[(vq - 1) / 8] & (1 << ((vq - 1) % 8))) == 0)
            {
                return Errno.EINVAL;
            }
        }

        SveMaxVq = maxVq;
        return KvmResult.Success;
    }

    /// <summary>kvm_sys_reg_get_user: only 64-bit ids exist; PMCR_EL0 is hidden without PMUv3; unknown ids are -ENOENT.</summary>
    private KvmResult GetSysReg(ulong id, Span<byte> value)
    {
        ulong v;
        if (id == ArmRegisterId.IdAa64Dfr0El1)
        {
            v = _vm.IdAa64Dfr0El1;
        }
        else if (id == ArmRegisterId.PmcrEl0 && Features.HasPmu)
        {
            v = (_pmcr & ~PmcrNMask) | ((ulong)_vm.PmuNumCtrs << PmcrNShift);
        }
        else
        {
            return Errno.ENOENT;
        }

        BinaryPrimitives.WriteUInt64LittleEndian(value, v);
        return KvmResult.Success;
    }

    /// <summary>set_pmcr keeps bits [7:0] per vCPU and offers N to the VM (ignored when frozen or too large); it never fails.</summary>
    private KvmResult SetSysReg(ulong id, ReadOnlySpan<byte> value)
    {
        if (id == ArmRegisterId.IdAa64Dfr0El1)
        {
            return _vm.SetIdAa64Dfr0El1(BinaryPrimitives.ReadUInt64LittleEndian(value));
        }

        if (id == ArmRegisterId.PmcrEl0 && Features.HasPmu)
        {
            ulong v = BinaryPrimitives.ReadUInt64LittleEndian(value);
            _vm.OfferPmcrN((int)((v & PmcrNMask) >> PmcrNShift));
            _pmcr = (v & PmcrWritableMask) | (_vm.Limits.HostHasAArch32 ? 0 : PmcrLc);
            return KvmResult.Success;
        }

        return Errno.ENOENT;
    }

    private static ulong SizeField(int bytes) => bytes switch
    {
        4 => ArmRegisterId.SizeU32,
        8 => ArmRegisterId.SizeU64,
        _ => ArmRegisterId.SizeU128,
    };

    private ulong ReadCore64(int wordOffset) => BinaryPrimitives.ReadUInt64LittleEndian(_core.AsSpan(wordOffset * 4));

    private void WriteCore64(int wordOffset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(_core.AsSpan(wordOffset * 4), value);
}
