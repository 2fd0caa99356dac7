/* Stage-1 identity mapping for the payloads that test translation faults (4 KiB granule, 48-bit VA, 4 levels;
 * Arm ARM D8). Layout of the map:
 *   - RAM's first 2 MiB by pages: the page at 0x8000_0000 is left invalid (a level-3 translation fault),
 *     [__image_start, __ro_end) is read-only for EL1 and EL0 and executable by both, the EL0 stacks are
 *     EL0-writable and never executable, everything else is EL1 read-write;
 *   - the rest of RAM's gigabyte by 2 MiB blocks, EL1 read-write;
 *   - the gigabyte holding the UART and GIC (through mmio_alias in a realm) as Device-nGnRnE;
 *   - VA 0x4000_0000..0x7FFF_FFFF unmapped (a level-1 translation fault). */
#ifndef GUEST_MMU_H
#define GUEST_MMU_H

#include "types.h"

#define MMU_FAULT_VA_L1 0x40000000UL
#define MMU_FAULT_VA_L3 RAM_BASE

/* Builds the tables once (boot vCPU); false when the image is too large for the page-granular first 2 MiB. */
bool mmu_build_identity(void);
/* Turns this vCPU's MMU on with the built tables (each vCPU has its own SCTLR/TCR/TTBR0). */
void mmu_enable(void);
/* Both, on the calling vCPU; returns false and leaves the MMU off when the tables cannot be built. */
bool mmu_enable_identity(void);
void mmu_disable(void);

#endif
