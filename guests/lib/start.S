/*
 * Entry points. The boot vCPU enters at _start in EL1h with the MMU off and x0 = DTB IPA (realm-platform.md
 * §2.3; may be 0 when the VMM gives no DTB). Secondaries enter at secondary_entry through PSCI CPU_ON with
 * x0 = the context id, which this runtime sets to the vCPU index (rmm-1.0.md §7: PSCI_COMPLETE resets the target
 * with PC = entry, x0 = context_id, PSTATE EL1h with DAIF masked).
 */
#define STACK_SIZE 0x4000
#define MAX_CPUS 8

    .section .text.boot, "ax"
    .global _start
_start:
    mov     x19, x0                 /* keep the DTB pointer across the set-up */
    msr     daifset, #0xf
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff           /* Aff0 = vCPU index under KVM/kvmtool (fewer than 16 vCPUs) */
    cmp     x1, #MAX_CPUS
    b.hs    park
    adrp    x2, __stack_top
    add     x2, x2, :lo12:__stack_top
    sub     x2, x2, x1, lsl #14     /* STACK_SIZE = 1 << 14 */
    mov     sp, x2

    /* Clear .bss before any C runs (C assumes zero-initialised statics). The linker script aligns both
     * ends to 16 bytes, and the stacks live outside .bss, so this loop never clears the stack in use. */
    adrp    x3, __bss_start
    add     x3, x3, :lo12:__bss_start
    adrp    x4, __bss_end
    add     x4, x4, :lo12:__bss_end
1:  cmp     x3, x4
    b.hs    2f
    stp     xzr, xzr, [x3], #16
    b       1b
2:
    bl      cpu_init
    mov     x0, x19
    bl      runtime_boot            /* never returns */
    b       park

    .text
    .global secondary_entry
secondary_entry:
    mov     x19, x0                 /* context id = vCPU index (psci_cpu_on_fn) */
    msr     daifset, #0xf
    mrs     x1, mpidr_el1
    and     x1, x1, #0xff
    cmp     x1, #MAX_CPUS
    b.hs    park
    adrp    x2, __stack_top
    add     x2, x2, :lo12:__stack_top
    sub     x2, x2, x1, lsl #14
    mov     sp, x2
    bl      cpu_init
    mov     x0, x19
    bl      runtime_secondary       /* never returns */
    b       park

/* Per-vCPU architectural set-up; a leaf that needs no stack. */
cpu_init:
    /* CPACR_EL1.FPEN = 0b11: FP/SIMD instructions do not trap at EL1 or EL0 (Arm ARM D17.2.30). The runtime
     * itself is built -mgeneral-regs-only, but payload code and the compiler's memcpy may use them. */
    mov     x0, #(3 << 20)
    msr     cpacr_el1, x0
    adrp    x0, vectors
    add     x0, x0, :lo12:vectors
    msr     vbar_el1, x0
    /* PSTATE.PAN would make every EL1 access to an EL0-accessible page fault once the MMU is on
     * (FEAT_PAN, Arm ARM D8.4.2); the kit's EL0 support shares pages with EL1, so keep it clear. */
    msr     pan, #0
    isb
    ret

park:
    wfi
    b       park
