/* GICv3 distributor, redistributor and CPU interface set-up (IHI0069 chapters 12 and 13). */
#include "gic.h"
#include "mmio.h"
#include "runtime.h"

#define GICD_CTLR 0x0000
#define GICD_CTLR_RWP (1U << 31)
#define GICD_CTLR_ARE_NS (1U << 4)
#define GICD_CTLR_ENABLE_G1A (1U << 1)
#define GICD_CTLR_ENABLE_G1 (1U << 0)
#define GICR_WAKER 0x0014
#define GICR_WAKER_PROCESSOR_SLEEP (1U << 1)
#define GICR_WAKER_CHILDREN_ASLEEP (1U << 2)
#define GICR_IGROUPR0 0x0080
#define GICR_ISENABLER0 0x0100
#define GICR_ICENABLER0 0x0180
#define GICR_IPRIORITYR 0x0400

static u64 dist(void) { return GIC_DIST_BASE | mmio_alias; }
#define GICR_TYPER_AFFINITY 0x000c /* GICR_TYPER[63:32]: Aff3.Aff2.Aff1.Aff0 of the PE this frame serves */

static u64 redist_base[MAX_CPUS];

/* kvmtool places one 128 KiB redistributor per vCPU right below the distributor, ascending by vCPU, so where a
 * vCPU's frame lies depends on how many vCPUs the VM has. A driver finds its own by affinity (GICR_TYPER,
 * IHI0069 §12.11.39), walking down from the distributor; the vCPU index is its MPIDR Aff0 here (fewer than 16). */
static u64 redist(unsigned cpu)
{
    if (cpu < MAX_CPUS && redist_base[cpu] == 0) {
        for (unsigned k = 1; k <= MAX_CPUS; k++) {
            u64 rd = GIC_REDIST_FRAME(k) | mmio_alias;
            if (mmio_read32(rd + GICR_TYPER_AFFINITY) == cpu) {
                redist_base[cpu] = rd;
                break;
            }
        }
    }
    return cpu < MAX_CPUS && redist_base[cpu] ? redist_base[cpu] : GIC_REDIST_FRAME(cpu + 1) | mmio_alias;
}
static u64 sgi_frame(unsigned cpu) { return redist(cpu) + GIC_SGI_FRAME; }

void gic_init_dist(void)
{
    /* Affinity routing with group 1 enabled, as kvm-unit-tests' gicv3 set-up does (KVM's vGIC has a single
     * security state, GICD_CTLR.DS = 1); wait for the register write to take effect (RWP, §12.9.4). */
    mmio_write32(dist() + GICD_CTLR, GICD_CTLR_ARE_NS | GICD_CTLR_ENABLE_G1A | GICD_CTLR_ENABLE_G1);
    while (mmio_read32(dist() + GICD_CTLR) & GICD_CTLR_RWP)
        ;
}

void gic_init_cpu(unsigned cpu)
{
    /* Wake the redistributor: clear ProcessorSleep, then wait for ChildrenAsleep to clear (§12.11.42). */
    u64 rd = redist(cpu);
    mmio_write32(rd + GICR_WAKER, mmio_read32(rd + GICR_WAKER) & ~GICR_WAKER_PROCESSOR_SLEEP);
    while (mmio_read32(rd + GICR_WAKER) & GICR_WAKER_CHILDREN_ASLEEP)
        ;
    /* All SGIs and PPIs in group 1 (non-secure), all disabled until a payload enables one. */
    mmio_write32(sgi_frame(cpu) + GICR_IGROUPR0, ~0U);
    mmio_write32(sgi_frame(cpu) + GICR_ICENABLER0, ~0U);

    /* System-register interface on, every priority unmasked, EOImode 0 (EOIR both drops priority and
     * deactivates), group 1 interrupts signalled (§12.2). */
    write_sysreg(read_sysreg(ICC_SRE_EL1) | 1, ICC_SRE_EL1);
    isb();
    write_sysreg(0xff, ICC_PMR_EL1);
    write_sysreg(0, ICC_BPR1_EL1);
    write_sysreg(0, ICC_CTLR_EL1);
    write_sysreg(1, ICC_IGRPEN1_EL1);
    isb();
}

void gic_enable_irq(unsigned cpu, unsigned intid, u8 priority)
{
    if (intid >= 32)
        return; /* SPIs are not used by the payloads */
    /* IPRIORITYR is byte-accessible, but a word read-modify-write keeps to 32-bit accesses the host emulates. */
    u64 reg = sgi_frame(cpu) + GICR_IPRIORITYR + (intid & ~3U);
    unsigned shift = (intid & 3) * 8;
    mmio_write32(reg, (mmio_read32(reg) & ~(0xffU << shift)) | ((u32)priority << shift));
    mmio_write32(sgi_frame(cpu) + GICR_ISENABLER0, 1U << intid);
}

void gic_disable_irq(unsigned cpu, unsigned intid)
{
    if (intid < 32)
        mmio_write32(sgi_frame(cpu) + GICR_ICENABLER0, 1U << intid);
}

u32 gic_ack(void)
{
    u32 iar = (u32)read_sysreg(ICC_IAR1_EL1);
    /* The acknowledge must complete before the handler's effects (§12.2.1 / Arm ARM synchronisation rules). */
    dsb(sy);
    return iar;
}

void gic_eoi(u32 iar)
{
    write_sysreg(iar, ICC_EOIR1_EL1);
    isb();
}

void gic_send_sgi(unsigned target_cpu, unsigned intid)
{
    /* ICC_SGI1R_EL1: TargetList [15:0] (bit = Aff0 within the cluster), Aff1 [23:16] = 0, INTID [27:24],
     * IRM [40] = 0 (IHI0069 §12.2.23). Prior memory writes must be visible to the target first. */
    u64 v = ((u64)(intid & 0xf) << 24) | (1UL << (target_cpu & 0xf));
    dsb(ish);
    write_sysreg(v, ICC_SGI1R_EL1);
    isb();
}
