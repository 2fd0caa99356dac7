/*
 * smp: PSCI CPU_ON every other vCPU (rmm-1.0.md §7), AFFINITY_INFO while they are on and after they turned
 * themselves off, and three shared counters each vCPU increments ITERATIONS times: one with LSE LDADDAL, one with
 * an LDAXR/STLXR loop, one plain increment under the LDAXR/STXR + WFE spinlock. The boot vCPU checks the exact
 * totals. Only the boot vCPU prints, and it waits for the others at fixed points, so the transcript does not
 * depend on the interleaving.
 * Every vCPU runs with the MMU on (identity map, Normal write-back RAM): with it off, data accesses are
 * Device-nGnRnE, and whether exclusives and atomics work on Device memory is IMPLEMENTATION DEFINED (Arm ARM
 * B2.9.5) -- kvm-unit-tests' spinlock does not even try them with the MMU off.
 */
#include "atomic.h"
#include "mmu.h"
#include "psci.h"
#include "runtime.h"

#define ITERATIONS 300

static volatile u64 counter_lse;
static volatile u64 counter_exclusive;
static volatile u64 counter_locked;
static u32 lock;
static volatile u64 started;
static volatile u64 go;
static volatile u64 finished;

static void work(void)
{
    for (unsigned i = 0; i < ITERATIONS; i++) {
        atomic_add_lse(&counter_lse, 1);
        atomic_add_exclusive(&counter_exclusive, 1);
        spin_lock(&lock);
        counter_locked = counter_locked + 1;
        spin_unlock(&lock);
    }
}

static void secondary(unsigned cpu, u64 arg)
{
    mmu_enable();
    atomic_add_lse(&started, 1);
    sev();
    /* Wait for the boot vCPU's AFFINITY_INFO checks, so "ON" is what they must see. */
    while (!atomic_load_acquire(&go))
        wfe();
    work();
    atomic_add_lse(&finished, 1);
    sev();
    /* returning makes runtime_secondary call PSCI CPU_OFF */
}

static void wait_for(volatile u64 *counter, u64 value)
{
    while (atomic_load_acquire(counter) < value)
        wfe();
}

int main(u64 dtb)
{
    unsigned n = cpu_count();
    printf("smp: %u vCPUs\n", n);
    if (!check(mmu_enable_identity(), "MMU on with an identity map"))
        exit_checked();
    check(psci_version() >= 0x10000, "PSCI_VERSION is at least 1.0");
    check(psci_affinity_info(0, 0) == PSCI_AFF_ON, "AFFINITY_INFO of the boot vCPU is ON");
    check(psci_cpu_on(0, (u64)secondary_entry, 0) == PSCI_RET_ALREADY_ON, "CPU_ON of the boot vCPU is ALREADY_ON");
    if (n < 2) {
        printf("SKIP: one vCPU, nothing to start\n");
        work();
        check(counter_lse == ITERATIONS && counter_exclusive == ITERATIONS && counter_locked == ITERATIONS,
              "counters on one vCPU");
        exit_checked();
    }
    if (n < MAX_CPUS) /* a vCPU beyond the ninth may exist; the kit just does not use it */
        check(psci_affinity_info(n, 0) == PSCI_RET_INVALID_PARAMS, "AFFINITY_INFO of vCPU %u is INVALID_PARAMS", n);

    for (unsigned cpu = 1; cpu < n; cpu++)
        check(cpu_on(cpu, secondary, 0) == PSCI_RET_SUCCESS, "CPU_ON vCPU %u", cpu);
    wait_for(&started, n - 1);
    for (unsigned cpu = 1; cpu < n; cpu++) {
        check(psci_affinity_info(cpu, 0) == PSCI_AFF_ON, "AFFINITY_INFO vCPU %u is ON", cpu);
        check(cpu_on(cpu, secondary, 0) == PSCI_RET_ALREADY_ON, "CPU_ON vCPU %u again is ALREADY_ON", cpu);
    }

    atomic_store_release(&go, 1);
    sev();
    work();
    wait_for(&finished, n - 1);

    u64 want = (u64)ITERATIONS * n;
    check(counter_lse == want, "LSE counter is %lu (got %lu)", want, counter_lse);
    check(counter_exclusive == want, "exclusive-loop counter is %lu (got %lu)", want, counter_exclusive);
    check(counter_locked == want, "spinlock counter is %lu (got %lu)", want, counter_locked);

    /* CPU_OFF completes asynchronously to this vCPU: poll, bounded, until each reports OFF. */
    for (unsigned cpu = 1; cpu < n; cpu++) {
        s64 state = PSCI_AFF_ON;
        for (unsigned tries = 0; tries < 100000 && state != PSCI_AFF_OFF; tries++)
            state = psci_affinity_info(cpu, 0);
        check(state == PSCI_AFF_OFF, "AFFINITY_INFO vCPU %u is OFF after CPU_OFF", cpu);
    }
    exit_checked();
}
