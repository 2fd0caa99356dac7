namespace CcaSim.Kvm.Realm;

/// <summary>
/// The host's VMID bitmap for realms (kvm-realm-abi.md §2.5): 2^bits ids, the lowest free one first (0 is a
/// valid VMID), taken when a realm descriptor is created and released when it is destroyed or creation fails.
/// </summary>
public sealed class VmidAllocator
{
    private readonly bool[] _used;

    public VmidAllocator(int bits)
    {
        if (bits is not (8 or 16))
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "VMIDs are 8 or 16 bits wide");
        }

        _used = new bool[1 << bits];
    }

    public int Capacity => _used.Length;

    public int InUse { get; private set; }

    /// <summary>The lowest free VMID, or -1 when all are taken (the caller's -ENOMEM).</summary>
    public int Allocate()
    {
        int vmid = Array.IndexOf(_used, false);
        if (vmid >= 0)
        {
            _used[vmid] = true;
            InUse++;
        }

        return vmid;
    }

    public void Release(int vmid)
    {
        if (!_used[vmid])
        {
            throw new InvalidOperationException($"VMID {vmid} released twice");
        }

        _used[vmid] = false;
        InUse--;
    }
}
