/*
 * irq-timer: interrupts through the GICv3.
 *   1. The EL1 virtual timer (PPI 27) armed TIMER_IRQS times, 1 ms each: the vCPU waits in WFI, the handler
 *      acknowledges (ICC_IAR1_EL1), masks the timer so its level drops, and EOIs (ICC_EOIR1_EL1).
 *   2. With a second vCPU: SGI 1 from vCPU 0 to vCPU 1 (ICC_SGI1R_EL1) and SGI 2 back.
 * Nothing time-dependent is printed: only PASS/FAIL lines, from vCPU 0.
 */
#include "atomic.h"
#include "exceptions.h"
#include "gic.h"
#include "psci.h"
#include "runtime.h"
#include "timer.h"

#define TIMER_IRQS 5
#define SGI_PING 1
#define SGI_PONG 2

static volatile u64 timer_irqs;
static volatile u64 timer_istatus_seen;
static volatile u64 timer_not_early;
static volatile u64 timer_cval;
static volatile u64 sgi_received[MAX_CPUS][16];
static volatile u64 spurious;
static volatile u64 secondary_ready;

static void on_irq(struct exc_frame *f)
{
    u32 iar = gic_ack();
    u32 intid = iar & 0xffffff;
    if (intid == GIC_SPURIOUS) {
        spurious++; /* counted for a debugger, not checked: spurious reads are architecturally allowed */
        return;     /* a spurious INTID is not EOId (IHI0069 §4.1.1) */
    }
    if (intid == GIC_PPI_VTIMER) {
        /* The timer interrupt is level-sensitive: it stays asserted while ISTATUS && !IMASK (Arm ARM D11.2.4),
         * so the handler masks it before the EOI or it would fire again at once. */
        u64 ctl = cntv_ctl();
        if (ctl & CNTV_CTL_ISTATUS)
            timer_istatus_seen++;
        if (timer_count() >= timer_cval)
            timer_not_early++;
        cntv_set_ctl(CNTV_CTL_ENABLE | CNTV_CTL_IMASK);
        timer_irqs++;
    } else if (intid < 16) {
        sgi_received[cpu_index()][intid]++;
    }
    gic_eoi(iar);
}

/* Wait until *v reaches want. IRQs are masked at the check and unmasked only around WFI: WFI wakes on a pending
 * interrupt even while PSTATE.I masks it (Arm ARM D1.6.2, WFI wake-up events), and the interrupt is then taken
 * after the unmask, so no interrupt can slip in between the check and the WFI and be lost. */
static bool wait_irq(volatile u64 *v, u64 want)
{
    for (unsigned spins = 0; spins < 1000000; spins++) {
        irq_disable();
        if (*v >= want)
            return true;
        wfi();
        irq_enable();
        isb();
    }
    irq_disable();
    return *v >= want;
}

static void secondary(unsigned cpu, u64 arg)
{
    gic_init_cpu(cpu);
    gic_enable_irq(cpu, SGI_PING, 0x80);
    atomic_store_release(&secondary_ready, 1);
    sev();
    if (wait_irq(&sgi_received[cpu][SGI_PING], 1))
        gic_send_sgi(0, SGI_PONG);
}

int main(u64 dtb)
{
    install_irq_handler(on_irq);
    gic_init_dist();
    gic_init_cpu(0);
    gic_enable_irq(0, GIC_PPI_VTIMER, 0x80);
    gic_enable_irq(0, SGI_PONG, 0x80);

    u64 freq = timer_frequency();
    check(freq != 0, "CNTFRQ_EL0 is set");
    for (u64 i = 0; i < TIMER_IRQS; i++) {
        irq_disable();
        timer_cval = timer_count() + freq / 1000;
        cntv_set_cval(timer_cval);
        cntv_set_ctl(CNTV_CTL_ENABLE);
        if (!wait_irq(&timer_irqs, i + 1))
            break;
    }
    cntv_set_ctl(0);
    check(timer_irqs == TIMER_IRQS, "%d virtual timer interrupts through the GIC", TIMER_IRQS);
    check(timer_istatus_seen == timer_irqs, "CNTV_CTL_EL0.ISTATUS was set in every timer interrupt");
    check(timer_not_early == timer_irqs, "no timer interrupt came before CNTV_CVAL_EL0");

    if (cpu_count() < 2) {
        printf("SKIP: SGIs need two vCPUs\n");
        exit_checked();
    }
    check(cpu_on(1, secondary, 0) == PSCI_RET_SUCCESS, "CPU_ON vCPU 1");
    while (!atomic_load_acquire(&secondary_ready))
        wfe();
    gic_send_sgi(1, SGI_PING);
    check(wait_irq(&sgi_received[0][SGI_PONG], 1), "SGI %d from vCPU 0 to vCPU 1 and SGI %d back", SGI_PING,
          SGI_PONG);
    s64 state = PSCI_AFF_ON;
    for (unsigned tries = 0; tries < 100000 && state != PSCI_AFF_OFF; tries++)
        state = psci_affinity_info(1, 0);
    check(state == PSCI_AFF_OFF, "vCPU 1 turned itself off");
    exit_checked();
}
