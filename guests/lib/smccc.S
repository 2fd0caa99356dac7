/*
 * SMC and HVC conduits (SMCCC v1.2 register convention: arguments in x0..x17, results in x0..x17, x18..x30 and
 * SP preserved). RSI calls take up to x0..x10 and return up to x0..x8 (rmm-1.0.md §6), PSCI fewer.
 *   void smccc_smc(const u64 in[11], u64 out[9]);  void smccc_hvc(const u64 in[11], u64 out[9]);
 */
    .macro conduit name, insn
    .text
    .global \name
\name:
    str     x1, [sp, #-16]!         /* x1 is an argument register: keep the output pointer on the stack */
    mov     x11, x0
    ldp     x0, x1, [x11, #0]
    ldp     x2, x3, [x11, #16]
    ldp     x4, x5, [x11, #32]
    ldp     x6, x7, [x11, #48]
    ldp     x8, x9, [x11, #64]
    ldr     x10, [x11, #80]
    \insn   #0
    ldr     x11, [sp], #16
    stp     x0, x1, [x11, #0]
    stp     x2, x3, [x11, #16]
    stp     x4, x5, [x11, #32]
    stp     x6, x7, [x11, #48]
    str     x8, [x11, #64]
    ret
    .endm

    conduit smccc_smc, smc
    conduit smccc_hvc, hvc
