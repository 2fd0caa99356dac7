/* PSCI 1.1 through the SMCCC conduit: SMC in a realm (the RMM handles or forwards it, rmm-1.0.md §7), HVC in a
 * normal VM (KVM's in-kernel PSCI). */
#ifndef GUEST_PSCI_H
#define GUEST_PSCI_H

#include "types.h"

#define PSCI_VERSION 0x84000000UL
#define PSCI_CPU_OFF 0x84000002UL
#define PSCI_CPU_ON_64 0xC4000003UL
#define PSCI_AFFINITY_INFO_64 0xC4000004UL
#define PSCI_SYSTEM_OFF 0x84000008UL
#define PSCI_SYSTEM_RESET 0x84000009UL
#define PSCI_FEATURES 0x8400000AUL
#define SMCCC_VERSION 0x80000000UL

#define PSCI_RET_SUCCESS 0
#define PSCI_RET_NOT_SUPPORTED (-1)
#define PSCI_RET_INVALID_PARAMS (-2)
#define PSCI_RET_DENIED (-3)
#define PSCI_RET_ALREADY_ON (-4)
#define PSCI_RET_ON_PENDING (-5)
#define PSCI_RET_INVALID_ADDRESS (-9)
#define PSCI_AFF_ON 0
#define PSCI_AFF_OFF 1
#define PSCI_AFF_ON_PENDING 2

void psci_init(bool use_smc);
s64 psci_call(u64 fid, u64 a1, u64 a2, u64 a3);
s64 psci_version(void);
s64 psci_features(u64 fid);
s64 psci_cpu_on(u64 mpidr, u64 entry, u64 context_id);
s64 psci_cpu_off(void);
s64 psci_affinity_info(u64 mpidr, u64 lowest_level);
void psci_system_off(void);
void psci_system_reset(void);

#endif
