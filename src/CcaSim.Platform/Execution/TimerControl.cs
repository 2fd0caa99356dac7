namespace CcaSim.Platform.Execution;

/// <summary>
/// CNTP_CTL_EL0 / CNTV_CTL_EL0 (Arm ARM D11.2, the generic timer's control registers) as the engine, the RMM and KVM
/// all read them from a <see cref="RealmVcpuContext"/>: one definition of when a timer's output asserts.
/// </summary>
public static class TimerControl
{
    /// <summary>ENABLE.</summary>
    public const ulong Enable = 1UL << 0;

    /// <summary>IMASK: the condition is met but the output stays low.</summary>
    public const ulong Imask = 1UL << 1;

    /// <summary>ISTATUS: the condition is met (read-only).</summary>
    public const ulong Istatus = 1UL << 2;

    /// <summary>ENABLE set and IMASK clear: the output asserts once the counter reaches CVAL (kvm_timer_irq_can_fire).</summary>
    public static bool CanFire(ulong ctl) => (ctl & (Enable | Imask)) == Enable;

    /// <summary>The timer's output at <paramref name="counter"/>: it can fire and the counter has reached CVAL (unsigned compare).</summary>
    public static bool Output(ulong ctl, ulong cval, ulong counter) => CanFire(ctl) && counter >= cval;

    /// <summary><paramref name="ctl"/> with ISTATUS as the PE reads it at <paramref name="counter"/> (0 while disabled); other bits kept.</summary>
    public static ulong WithStatus(ulong ctl, ulong cval, ulong counter) =>
        (ctl & Enable) != 0 && counter >= cval ? ctl | Istatus : ctl & ~Istatus;

    /// <summary>The output as a saved copy of the register says: ENABLE and ISTATUS set, IMASK clear (TF-RMM TIMER_ASSERTED).</summary>
    public static bool IsAsserted(ulong ctl) => (ctl & (Enable | Imask | Istatus)) == (Enable | Istatus);
}
