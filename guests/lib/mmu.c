#include "mmu.h"
#include "runtime.h"

/* Descriptor bits (Arm ARM D8.3): valid/table/page in [1:0], AttrIndx [4:2], AP [7:6], SH [9:8], AF [10],
 * PXN [53], UXN [54]. */
#define DESC_BLOCK 0x1UL
#define DESC_TABLE 0x3UL
#define DESC_PAGE 0x3UL
#define ATTR_DEVICE (0UL << 2)
#define ATTR_NORMAL (1UL << 2)
#define AP_EL1_RW (0UL << 6)
#define AP_ALL_RW (1UL << 6)
#define AP_ALL_RO (3UL << 6)
#define SH_INNER (3UL << 8)
#define AF (1UL << 10)
#define PXN (1UL << 53)
#define UXN (1UL << 54)
#define NORMAL_EL1_RW (ATTR_NORMAL | SH_INNER | AF | AP_EL1_RW | UXN)
#define DEVICE_RW (ATTR_DEVICE | AF | AP_EL1_RW | PXN | UXN)

/* MAIR_EL1: index 0 Device-nGnRnE (0x00), index 1 Normal write-back read/write-allocate (0xff). */
#define MAIR_VALUE 0xff00UL
/* TCR_EL1: T0SZ 16 (48-bit VA), IRGN0/ORGN0 write-back, SH0 inner shareable, TG0 4 KiB, EPD1 (no TTBR1 walks);
 * IPS is taken from ID_AA64MMFR0_EL1.PARange (same encoding), capped at 48 bits. */
#define TCR_BASE (16UL | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23))
#define SCTLR_M (1UL << 0)
#define SCTLR_A (1UL << 1)
#define SCTLR_C (1UL << 2)
#define SCTLR_I (1UL << 12)
#define SCTLR_WXN (1UL << 19)
#define SCTLR_SPAN (1UL << 23)

static u64 l0[512] ALIGNED(4096);
static u64 l1_low[512] ALIGNED(4096);
static u64 l1_high[512] ALIGNED(4096);
static u64 l2_ram[512] ALIGNED(4096);
static u64 l3_ram[512] ALIGNED(4096);

extern char __image_start[], __ro_end[], __el0_stacks_start[], __el0_stacks_end[], __end[];

static bool map_device_gigabyte(u64 va)
{
    u64 *l1 = (va >> 39) == 0 ? l1_low : l1_high;
    u64 i0 = (va >> 39) & 511;
    if (l0[i0] && (l0[i0] & ~0xfffUL) != (u64)l1)
        return false; /* a second high 512 GiB region: not needed by any layout the kit supports */
    l0[i0] = (u64)l1 | DESC_TABLE;
    l1[(va >> 30) & 511] = (va & ~((1UL << 30) - 1)) | DEVICE_RW | DESC_BLOCK;
    return true;
}

bool mmu_build_identity(void)
{
    u64 ram_2m = RAM_BASE + (2UL << 20);
    if ((u64)__end > ram_2m)
        return false;
    memset(l0, 0, sizeof(l0));
    memset(l1_low, 0, sizeof(l1_low));
    memset(l1_high, 0, sizeof(l1_high));
    l0[0] = (u64)l1_low | DESC_TABLE;
    l1_low[RAM_BASE >> 30] = (u64)l2_ram | DESC_TABLE;
    l2_ram[0] = (u64)l3_ram | DESC_TABLE;
    for (u64 i = 1; i < 512; i++)
        l2_ram[i] = (RAM_BASE + (i << 21)) | NORMAL_EL1_RW | DESC_BLOCK;
    for (u64 i = 0; i < 512; i++) {
        u64 pa = RAM_BASE + (i << 12);
        u64 attrs = NORMAL_EL1_RW;
        if (pa == MMU_FAULT_VA_L3) {
            l3_ram[i] = 0;
            continue;
        }
        if (pa >= (u64)__image_start && pa < (u64)__ro_end)
            /* EL0 code lives in the image. A page writable at EL0 would be implicitly PXN for EL1 (Arm ARM
             * D8.4.1.2), so the shared code is read-only for both. */
            attrs = ATTR_NORMAL | SH_INNER | AF | AP_ALL_RO;
        else if (pa >= (u64)__el0_stacks_start && pa < (u64)__el0_stacks_end)
            attrs = ATTR_NORMAL | SH_INNER | AF | AP_ALL_RW | PXN | UXN;
        l3_ram[i] = pa | attrs | DESC_PAGE;
    }
    /* The console and the GIC: the first gigabyte in a normal VM, its unprotected alias in a realm. */
    if (!map_device_gigabyte(0x01000000UL | mmio_alias))
        return false;
    dsb(ish);
    return true;
}

void mmu_enable(void)
{
    u64 parange = read_sysreg(id_aa64mmfr0_el1) & 0xf;
    if (parange > 5)
        parange = 5;
    write_sysreg(MAIR_VALUE, mair_el1);
    write_sysreg(TCR_BASE | (parange << 32), tcr_el1);
    write_sysreg((u64)l0, ttbr0_el1);
    isb();
    __asm__ volatile("tlbi vmalle1" : : : "memory");
    dsb(nsh);
    isb();
    /* SPAN = 1 keeps PSTATE.PAN unchanged on exception entry, WXN = 0 so EL1-writable data stays as mapped,
     * A = 0: unaligned Normal-memory accesses allowed. */
    u64 sctlr = read_sysreg(sctlr_el1);
    sctlr = (sctlr | SCTLR_M | SCTLR_C | SCTLR_I | SCTLR_SPAN) & ~(SCTLR_A | SCTLR_WXN);
    write_sysreg(sctlr, sctlr_el1);
    isb();
}

bool mmu_enable_identity(void)
{
    if (!mmu_build_identity())
        return false;
    mmu_enable();
    return true;
}

void mmu_disable(void)
{
    /* With the MMU off, data accesses bypass the caches, so everything written while it was on must reach memory:
     * clean and invalidate the runtime's whole footprint by VA right after turning M/C/I off, as kvm-unit-tests'
     * asm_mmu_disable does. It is one asm block that touches no memory in between: a stack store going straight
     * to memory could otherwise be overwritten by the write-back of an older dirty line. */
    u64 ctr = read_sysreg(ctr_el0);
    u64 line = 4UL << ((ctr >> 16) & 0xf); /* CTR_EL0.DminLine: log2 of words in the smallest D-cache line */
    u64 start = (u64)__image_start & ~(line - 1), end = (u64)__end, tmp;
    __asm__ volatile("mrs   %[t], sctlr_el1\n"
                     "bic   %[t], %[t], %[mask]\n"
                     "msr   sctlr_el1, %[t]\n"
                     "isb\n"
                     "1: dc civac, %[p]\n"
                     "add   %[p], %[p], %[line]\n"
                     "cmp   %[p], %[end]\n"
                     "b.lo  1b\n"
                     "dsb   sy\n"
                     "tlbi  vmalle1\n"
                     "dsb   nsh\n"
                     "isb"
                     : [t] "=&r"(tmp), [p] "+r"(start)
                     : [mask] "r"(SCTLR_M | SCTLR_C | SCTLR_I), [line] "r"(line), [end] "r"(end)
                     : "memory", "cc");
}
