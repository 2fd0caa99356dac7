/* Exception frames, per-EC handlers and EL0 support. */
#ifndef GUEST_EXCEPTIONS_H
#define GUEST_EXCEPTIONS_H

#include "types.h"

/* Built by vectors.S; offsets are fixed there (FRAME_SIZE 288). */
struct exc_frame {
    u64 x[31];
    u64 sp;   /* SP of the interrupted context (SP_EL0 for EL0t/EL1t, SP_EL1 before the frame for EL1h) */
    u64 elr;
    u64 spsr;
    u64 esr;
    u64 far;
};
_Static_assert(sizeof(struct exc_frame) == 288, "vectors.S FRAME_SIZE");

/* Vector indices (Arm ARM D1.3.1, table "Vector offsets from vector table base address"). */
enum {
    VEC_EL1T_SYNC = 0, VEC_EL1H_SYNC = 4, VEC_EL1H_IRQ = 5, VEC_EL0_SYNC = 8, VEC_EL0_IRQ = 9,
};

static inline bool frame_from_el0(const struct exc_frame *f) { return (f->spsr & 0xf) == 0; }

typedef void (*exc_handler_t)(struct exc_frame *f);
/* A handler per exception class, for synchronous exceptions from EL1 and EL0 alike (the frame tells which).
 * Without one, the runtime prints "UNHANDLED EXCEPTION ESR=.. ELR=.. FAR=.." and exits with status 2.
 * SVC from EL0 is always the runtime's system call. Pass NULL to remove a handler. */
void install_exception_handler(unsigned ec, exc_handler_t h);
/* The IRQ handler (from EL1 and EL0); it acknowledges and EOIs at the GIC itself. */
void install_irq_handler(exc_handler_t h);
void exception_dispatch(struct exc_frame *f, u64 vector);

/* EL0: run fn(arg) in EL0t on this vCPU's EL0 stack; returns the status the EL0 code passed to the exit system
 * call (or fn's return value, which the trampoline passes to exit). */
u64 el0_run(u64 (*fn)(u64), u64 arg);
u64 el0_stack_base(unsigned cpu);

/* System calls: SVC #0 with the number in x8, arguments in x0.., result in x0 (the Linux arm64 convention). */
#define SYS_EXIT 0
#define SYS_WRITE 1
#define SYS_ECHO 2   /* returns x0 + 1: proves the value went to EL1 and back */

static inline u64 svc_call(u64 nr, u64 a0, u64 a1)
{
    register u64 x8 __asm__("x8") = nr;
    register u64 x0 __asm__("x0") = a0;
    register u64 x1 __asm__("x1") = a1;
    __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1) : "memory");
    return x0;
}
static inline NORETURN void sys_exit(u64 status) { svc_call(SYS_EXIT, status, 0); __builtin_unreachable(); }
static inline u64 sys_write(const char *s, u64 len) { return svc_call(SYS_WRITE, (u64)s, len); }
static inline u64 sys_echo(u64 v) { return svc_call(SYS_ECHO, v, 0); }

#endif
