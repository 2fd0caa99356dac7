using System.Runtime.InteropServices;

namespace CcaSim.Kvm.Run;

/// <summary><c>struct kvm_smccc_filter</c> (24 B): the argument of KVM_ARM_VM_SMCCC_FILTER.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct KvmSmcccFilter
{
    public uint Base;
    public uint NrFunctions;
    public byte Action;
    public Uapi.UInt8x15 Pad;
}

/// <summary>What KVM does with an SMCCC function id (enum kvm_smccc_filter_action).</summary>
public enum SmcccFilterAction : byte
{
    Handle = 0,
    Deny = 1,
    FwdToUser = 2,
}

/// <summary>
/// The per-VM SMCCC filter (KVM_ARM_VM_SMCCC_FILTER, a VM device attribute): ranges of function ids that KVM
/// handles, denies (SMCCC NOT_SUPPORTED) or forwards to user space as KVM_EXIT_HYPERCALL. This is how a VMM takes
/// PSCI or host calls of a realm into its own hands (kvm-realm-abi.md §2.15, §2.16). The SMCCC architecture ranges
/// stay KVM's: a range touching them is -EEXIST, as in Linux, which reserves them at VM creation.
/// </summary>
public sealed class SmcccFilter
{
    private readonly List<(uint Base, uint End, SmcccFilterAction Action)> _ranges =
    [
        (0x8000_0000, 0x8000_FFFF, SmcccFilterAction.Handle),
        (0xC000_0000, 0xC000_FFFF, SmcccFilterAction.Handle),
    ];

    /// <summary>kvm_smccc_set_filter's argument checks: -EINVAL for padding, an unknown action, an empty or wrapping range.</summary>
    public static KvmResult Validate(in KvmSmcccFilter filter)
    {
        foreach (byte b in filter.Pad)
        {
            if (b != 0)
            {
                return Errno.EINVAL;
            }
        }

        if (filter.Action > (byte)SmcccFilterAction.FwdToUser || filter.NrFunctions == 0 || (ulong)filter.Base + filter.NrFunctions - 1 > uint.MaxValue)
        {
            return Errno.EINVAL;
        }

        return KvmResult.Success;
    }

    /// <summary>Adds a range: the errors of <see cref="Validate"/>, then -EEXIST for an overlap.</summary>
    public KvmResult Add(in KvmSmcccFilter filter)
    {
        KvmResult valid = Validate(filter);
        if (!valid.IsSuccess)
        {
            return valid;
        }

        uint end = filter.Base + filter.NrFunctions - 1;
        foreach ((uint b, uint e, _) in _ranges)
        {
            if (filter.Base <= e && b <= end)
            {
                return Errno.EEXIST;
            }
        }

        _ranges.Add((filter.Base, end, (SmcccFilterAction)filter.Action));
        return KvmResult.Success;
    }

    /// <summary>The action for a function id: the 32-bit id of a call (x0 bits [31:0]); unlisted ids are KVM's.</summary>
    public SmcccFilterAction ActionFor(ulong functionId)
    {
        uint fid = (uint)functionId;
        foreach ((uint b, uint e, SmcccFilterAction action) in _ranges)
        {
            if (fid >= b && fid <= e)
            {
                return action;
            }
        }

        return SmcccFilterAction.Handle;
    }
}
