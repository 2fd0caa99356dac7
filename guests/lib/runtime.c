/* Boot sequence, exit convention, checks and SMP bring-up. */
#include "runtime.h"
#include "fdt.h"
#include "psci.h"
#include "rsi.h"

bool in_realm;
unsigned realm_ipa_width;
unsigned realm_hash_algo;
u64 mmio_alias;
u64 boot_dtb;

static struct rsi_realm_config boot_config;

static bool detect_realm(void)
{
#ifdef GUEST_PLATFORM_QEMU_VIRT
    /* QEMU virt has no EL3 (and its PSCI conduit is HVC), so SMC is UNDEFINED there (Arm ARM, SMC: UNDEFINED when
     * EL3 is not implemented) and the probe would be an exception; a TCG machine is never a realm. */
    return false;
#else
    /* A realm's RMM answers RSI_VERSION(1.0) with SUCCESS (0); KVM answers an SMC it does not know, in a normal
     * VM, with SMCCC NOT_SUPPORTED (-1) (realm-platform.md §2.3; rmm-1.0.md §6). */
    struct smc_result r = smc_call(RSI_VERSION, RSI_ABI_VERSION, 0, 0, 0);
    return r.x[0] == RSI_SUCCESS;
#endif
}

void runtime_boot(u64 dtb)
{
    boot_dtb = dtb;
    in_realm = detect_realm();
    if (in_realm) {
        /* The UART is emulated MMIO, so in a realm it is reached through the unprotected alias bit
         * 1 << (ipa_width - 1) (realm-platform.md §2.3, RSI_REALM_CONFIG rmm-1.0.md §4.6). Nothing can be
         * printed before this succeeds. */
        if (rsi_realm_config((u64)&boot_config) != RSI_SUCCESS || boot_config.ipa_width < 32 ||
            boot_config.ipa_width > 52) {
            psci_init(true);
            psci_system_off();
            for (;;)
                wfi();
        }
        realm_ipa_width = (unsigned)boot_config.ipa_width;
        realm_hash_algo = boot_config.hash_algo;
        mmio_alias = 1UL << (realm_ipa_width - 1);
    }
    uart_init(mmio_alias);
    psci_init(in_realm);
    exit(main(dtb));
}

void exit(int status)
{
    /* "EXIT: STATUS=<n>" then SYSTEM_OFF: the convention of kvm-unit-tests' realm runs (realm-platform.md §2.2). */
    printf("EXIT: STATUS=%d\n", status);
    psci_system_off();
    for (;;)
        wfi();
}

static unsigned failures;

bool check(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    console_lock();
    printf("%s", ok ? "PASS: " : "FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    console_unlock();
    va_end(ap);
    if (!ok)
        failures++;
    return ok;
}

unsigned check_failures(void) { return failures; }

void exit_checked(void) { exit(failures ? 1 : 0); }

static secondary_fn_t secondary_fn[MAX_CPUS];
static u64 secondary_arg[MAX_CPUS];

s64 cpu_on(unsigned cpu, secondary_fn_t fn, u64 arg)
{
    if (cpu >= MAX_CPUS)
        return PSCI_RET_INVALID_PARAMS;
    secondary_fn[cpu] = fn;
    secondary_arg[cpu] = arg;
    /* The target starts with the MMU off and reads these with plain loads: make the stores visible first. */
    dsb(sy);
    return psci_cpu_on(cpu, (u64)secondary_entry, cpu);
}

void runtime_secondary(u64 cpu)
{
    unsigned c = (unsigned)cpu;
    if (c < MAX_CPUS && secondary_fn[c])
        secondary_fn[c](c, secondary_arg[c]);
    psci_cpu_off();
    printf("FAIL: CPU_OFF returned on vCPU %u\n", c);
    for (;;)
        wfi();
}

unsigned cpu_count(void)
{
    if (fdt_valid(boot_dtb)) {
        int n = fdt_count_children(boot_dtb, "/cpus", "cpu@");
        if (n > 0)
            return n > MAX_CPUS ? MAX_CPUS : (unsigned)n;
    }
    unsigned n = 1;
    while (n < MAX_CPUS && psci_affinity_info(n, 0) != PSCI_RET_INVALID_PARAMS)
        n++;
    return n;
}
