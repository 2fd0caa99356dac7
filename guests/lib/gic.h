/* GICv3 (IHI0069): distributor at 0x3FFF_0000, one 128 KiB redistributor per vCPU below it (vCPU n at
 * 0x3FFF_0000 - (n + 1) * 0x20000), all through mmio_alias (realm-platform.md §2.3: emulated MMIO lives in the
 * unprotected half). The CPU interface is the system-register one (ICC_SRE_EL1.SRE = 1). */
#ifndef GUEST_GIC_H
#define GUEST_GIC_H

#include "types.h"

#define GIC_REDIST_STRIDE 0x20000UL
#ifdef GUEST_PLATFORM_QEMU_VIRT
/* QEMU virt (gic-version=3): distributor at 0x0800_0000, the redistributors ascending from 0x080A_0000. */
#define GIC_DIST_BASE 0x08000000UL
#define GIC_REDIST_BASE 0x080A0000UL
#define GIC_REDIST_FRAME(k) (GIC_REDIST_BASE + ((k) - 1) * GIC_REDIST_STRIDE)
#else
#define GIC_DIST_BASE 0x3FFF0000UL
/* The k-th redistributor frame (k = 1..), walking down from the distributor. */
#define GIC_REDIST_FRAME(k) (GIC_DIST_BASE - (k) * GIC_REDIST_STRIDE)
#endif
#define GIC_SGI_FRAME 0x10000UL
#define GIC_SPURIOUS 1023
#define GIC_PPI_VTIMER 27 /* PPI 11: EL1 virtual timer (kvmtool's arm,armv8-timer interrupts) */
#define GIC_PPI_PTIMER 30

void gic_init_dist(void);
void gic_init_cpu(unsigned cpu);
void gic_enable_irq(unsigned cpu, unsigned intid, u8 priority);
void gic_disable_irq(unsigned cpu, unsigned intid);
u32 gic_ack(void);
void gic_eoi(u32 iar);
void gic_send_sgi(unsigned target_cpu, unsigned intid);

#endif
