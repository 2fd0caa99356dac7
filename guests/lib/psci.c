/* PSCI calls (rmm-1.0.md §7 for the realm side; KVM's in-kernel PSCI for a normal VM). */
#include "psci.h"
#include "rsi.h"

static bool conduit_smc;

void psci_init(bool use_smc) { conduit_smc = use_smc; }

s64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3)
{
    u64 in[11] = { fid, a1, a2, a3 };
    u64 out[9];
    if (conduit_smc)
        smccc_smc(in, out);
    else
        smccc_hvc(in, out);
    return (s64)out[0];
}

s64 psci_version(void) { return psci_call(PSCI_VERSION, 0, 0, 0); }
s64 psci_features(u64 fid) { return psci_call(PSCI_FEATURES, fid, 0, 0); }
s64 psci_cpu_on(u64 mpidr, u64 entry, u64 context_id) { return psci_call(PSCI_CPU_ON_64, mpidr, entry, context_id); }
s64 psci_cpu_off(void) { return psci_call(PSCI_CPU_OFF, 0, 0, 0); }
s64 psci_affinity_info(u64 mpidr, u64 lowest_level) { return psci_call(PSCI_AFFINITY_INFO_64, mpidr, lowest_level, 0); }
void psci_system_off(void) { psci_call(PSCI_SYSTEM_OFF, 0, 0, 0); }
void psci_system_reset(void) { psci_call(PSCI_SYSTEM_RESET, 0, 0, 0); }
