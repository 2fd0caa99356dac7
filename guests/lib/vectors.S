/*
 * Exception vectors and EL0 entry/exit.
 *
 * The table has the architectural 16 entries of 128 bytes, 2 KiB aligned (Arm ARM D1.3.1, VBAR_EL1 bits [10:0]
 * RES0). Every entry builds the same frame (struct exc_frame in exceptions.h) on SP_EL1 -- an exception taken
 * to EL1 always selects SP_EL1, whatever SPSel was -- and calls exception_dispatch(frame, vector index). The
 * handler may rewrite ELR/SPSR/SP/GPRs in the frame; the return path loads them back and ERETs.
 */
#define FRAME_SIZE 288
#define F_SP 248
#define F_ELR 256
#define F_ESR 272

    .macro ventry index
    .balign 128
    sub     sp, sp, #FRAME_SIZE
    stp     x0, x1, [sp, #0]
    mov     x0, #\index
    b       exc_common
    .endm

    .section .text.vectors, "ax"
    .balign 2048
    .global vectors
vectors:
    ventry 0    /* current EL, SP_EL0: sync */
    ventry 1    /*                     IRQ */
    ventry 2    /*                     FIQ */
    ventry 3    /*                     SError */
    ventry 4    /* current EL, SP_ELx: sync */
    ventry 5    /*                     IRQ */
    ventry 6    /*                     FIQ */
    ventry 7    /*                     SError */
    ventry 8    /* lower EL, AArch64:  sync */
    ventry 9    /*                     IRQ */
    ventry 10   /*                     FIQ */
    ventry 11   /*                     SError */
    ventry 12   /* lower EL, AArch32 (never used: EL0 runs AArch64 only) */
    ventry 13
    ventry 14
    ventry 15

exc_common:
    stp     x2, x3, [sp, #16]
    stp     x4, x5, [sp, #32]
    stp     x6, x7, [sp, #48]
    stp     x8, x9, [sp, #64]
    stp     x10, x11, [sp, #80]
    stp     x12, x13, [sp, #96]
    stp     x14, x15, [sp, #112]
    stp     x16, x17, [sp, #128]
    stp     x18, x19, [sp, #144]
    stp     x20, x21, [sp, #160]
    stp     x22, x23, [sp, #176]
    stp     x24, x25, [sp, #192]
    stp     x26, x27, [sp, #208]
    stp     x28, x29, [sp, #224]
    str     x30, [sp, #240]
    mrs     x1, spsr_el1
    /* The interrupted SP: SPSR.M[0] is the SPSel of the interrupted context. EL1h (M = 0b0101) used SP_EL1,
     * which is just above this frame; EL0t and EL1t used SP_EL0. */
    tbnz    x1, #0, 1f
    mrs     x2, sp_el0
    b       2f
1:  add     x2, sp, #FRAME_SIZE
2:  str     x2, [sp, #F_SP]
    mrs     x3, elr_el1
    stp     x3, x1, [sp, #F_ELR]       /* elr, spsr */
    mrs     x4, esr_el1
    mrs     x5, far_el1
    stp     x4, x5, [sp, #F_ESR]       /* esr, far */
    mov     x1, x0                     /* vector index */
    mov     x0, sp                     /* frame */
    bl      exception_dispatch

    ldp     x3, x1, [sp, #F_ELR]
    msr     elr_el1, x3
    msr     spsr_el1, x1
    tbnz    x1, #0, 3f
    ldr     x2, [sp, #F_SP]            /* returning to SP_EL0 code: a handler may have moved its stack */
    msr     sp_el0, x2
3:  ldp     x0, x1, [sp, #0]
    ldp     x2, x3, [sp, #16]
    ldp     x4, x5, [sp, #32]
    ldp     x6, x7, [sp, #48]
    ldp     x8, x9, [sp, #64]
    ldp     x10, x11, [sp, #80]
    ldp     x12, x13, [sp, #96]
    ldp     x14, x15, [sp, #112]
    ldp     x16, x17, [sp, #128]
    ldp     x18, x19, [sp, #144]
    ldp     x20, x21, [sp, #160]
    ldp     x22, x23, [sp, #176]
    ldp     x24, x25, [sp, #192]
    ldp     x26, x27, [sp, #208]
    ldp     x28, x29, [sp, #224]
    ldr     x30, [sp, #240]
    add     sp, sp, #FRAME_SIZE
    eret

/*
 * u64 el0_enter(struct el0_ctx *ctx, u64 (*fn)(u64), u64 arg, u64 sp_el0)
 * Saves the EL1 callee-saved state in ctx (like setjmp), then ERETs to el0_trampoline in EL0t on sp_el0 with
 * x0 = arg, x1 = fn. SPSR_EL1 = 0 selects AArch64 EL0t with DAIF clear (Arm ARM C5.2.19). It "returns" when the
 * EL0 code makes the exit system call: the SVC handler calls el0_leave(ctx, status).
 */
    .text
    .global el0_enter
el0_enter:
    stp     x19, x20, [x0, #0]
    stp     x21, x22, [x0, #16]
    stp     x23, x24, [x0, #32]
    stp     x25, x26, [x0, #48]
    stp     x27, x28, [x0, #64]
    stp     x29, x30, [x0, #80]
    mov     x9, sp
    mrs     x10, daif
    stp     x9, x10, [x0, #96]
    msr     sp_el0, x3
    adr     x9, el0_trampoline
    msr     elr_el1, x9
    msr     spsr_el1, xzr
    mov     x0, x2
    eret

    /* Runs at EL0: call fn(arg); if it returns, its return value is the exit status (SYS_EXIT = 0). */
el0_trampoline:
    blr     x1
    mov     x8, #0
    svc     #0
    b       .

/* void el0_leave(struct el0_ctx *ctx, u64 status): from the EL1 SVC handler back into el0_enter's caller. The
 * exception frame below the saved SP is simply abandoned; DAIF is restored to its value at el0_enter. */
    .global el0_leave
el0_leave:
    ldp     x19, x20, [x0, #0]
    ldp     x21, x22, [x0, #16]
    ldp     x23, x24, [x0, #32]
    ldp     x25, x26, [x0, #48]
    ldp     x27, x28, [x0, #64]
    ldp     x29, x30, [x0, #80]
    ldp     x9, x10, [x0, #96]
    mov     sp, x9
    msr     daif, x10
    mov     x0, x1
    ret
