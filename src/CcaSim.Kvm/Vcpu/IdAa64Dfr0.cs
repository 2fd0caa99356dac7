namespace CcaSim.Kvm.Vcpu;

/// <summary>The ID_AA64DFR0_EL1 fields KVM lets userspace write (Arm ARM D19.2; Linux sysreg field names).</summary>
public static class IdAa64Dfr0
{
    public const int DebugVerShift = 0;
    public const int PmuVerShift = 8;
    public const int BrpsShift = 12;
    public const int WrpsShift = 20;
    public const int CtxCmpsShift = 28;

    /// <summary>DebugVer IMP (Armv8.0 debug): the minimum KVM accepts and the value it limits guests to.</summary>
    public const int DebugVerImp = 0x6;

    /// <summary>PMUVer IMP: PMUv3 as the simulated host implements it.</summary>
    public const int PmuVerImp = 0x1;

    /// <summary>PMUVer IMP_DEF, which KVM quietly turns into "not implemented" on write.</summary>
    public const int PmuVerImpDef = 0xF;

    /// <summary>
    /// The fields of the v12 writable mask (DebugVer, PMUVer, BRPs, WRPs, CTX_CMPs). Every other bit must equal
    /// the reset value.
    /// </summary>
    public const ulong WritableMask =
        (0xFUL << DebugVerShift) | (0xFUL << PmuVerShift) | (0xFUL << BrpsShift) | (0xFUL << WrpsShift) | (0xFUL << CtxCmpsShift);

    public static int DebugVer(ulong value) => Field(value, DebugVerShift);

    public static int PmuVer(ulong value) => Field(value, PmuVerShift);

    public static int Brps(ulong value) => Field(value, BrpsShift);

    public static int Wrps(ulong value) => Field(value, WrpsShift);

    public static int CtxCmps(ulong value) => Field(value, CtxCmpsShift);

    /// <summary>FIELD_PREP semantics: the value is truncated to the 4-bit field.</summary>
    public static ulong With(ulong value, int shift, int field) => (value & ~(0xFUL << shift)) | (((ulong)(uint)field & 0xF) << shift);

    public static ulong Make(int debugVer, int pmuVer, int brps, int wrps, int ctxCmps) =>
        With(With(With(With(With(0, DebugVerShift, debugVer), PmuVerShift, pmuVer), BrpsShift, brps), WrpsShift, wrps), CtxCmpsShift, ctxCmps);

    private static int Field(ulong value, int shift) => (int)((value >> shift) & 0xF);
}
