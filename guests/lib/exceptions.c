/* Exception dispatch, system calls and EL0 support. */
#include "exceptions.h"
#include "runtime.h"

static exc_handler_t sync_handlers[64];
static exc_handler_t irq_handler;

void install_exception_handler(unsigned ec, exc_handler_t h)
{
    if (ec < ARRAY_SIZE(sync_handlers))
        sync_handlers[ec] = h;
}

void install_irq_handler(exc_handler_t h) { irq_handler = h; }

static void NORETURN unhandled(struct exc_frame *f, u64 vector)
{
    console_lock();
    if (vector != VEC_EL1H_SYNC && vector != VEC_EL0_SYNC)
        printf("UNEXPECTED VECTOR %lu\n", vector);
    printf("UNHANDLED EXCEPTION ESR=0x%lx ELR=0x%lx FAR=0x%lx\n", f->esr, f->elr, f->far);
    exit(2);
}

/* EL0 context saved by el0_enter (vectors.S): x19..x30, SP, DAIF. */
struct el0_ctx {
    u64 regs[12];
    u64 sp;
    u64 daif;
};
static struct el0_ctx el0_ctx[MAX_CPUS];
static bool el0_active[MAX_CPUS];

u64 el0_enter(struct el0_ctx *ctx, u64 (*fn)(u64), u64 arg, u64 sp_el0);
void el0_leave(struct el0_ctx *ctx, u64 status) NORETURN;
extern char __el0_stacks_start[];

u64 el0_stack_base(unsigned cpu) { return (u64)__el0_stacks_start + (u64)cpu * PAGE_SIZE; }

u64 el0_run(u64 (*fn)(u64), u64 arg)
{
    unsigned cpu = cpu_index();
    el0_active[cpu] = true;
    u64 status = el0_enter(&el0_ctx[cpu], fn, arg, el0_stack_base(cpu) + PAGE_SIZE);
    el0_active[cpu] = false;
    return status;
}

static void syscall(struct exc_frame *f)
{
    unsigned cpu = cpu_index();
    switch (f->x[8]) {
    case SYS_EXIT:
        if (el0_active[cpu])
            el0_leave(&el0_ctx[cpu], f->x[0]);
        break;
    case SYS_WRITE: {
        const char *s = (const char *)f->x[0];
        console_lock();
        for (u64 i = 0; i < f->x[1]; i++)
            uart_putc(s[i]);
        console_unlock();
        f->x[0] = f->x[1];
        return;
    }
    case SYS_ECHO:
        f->x[0] = f->x[0] + 1;
        return;
    }
    f->x[0] = ~0UL; /* unknown system call (or exit outside el0_run) */
}

void exception_dispatch(struct exc_frame *f, u64 vector)
{
    switch (vector) {
    case VEC_EL1H_SYNC:
    case VEC_EL0_SYNC: {
        unsigned ec = ESR_EC(f->esr);
        /* SVC leaves ELR at the next instruction (Arm ARM D1.10.1 preferred return address), so a system call
         * returns by simply restoring the frame. */
        if (vector == VEC_EL0_SYNC && ec == EC_SVC64) {
            syscall(f);
            return;
        }
        if (sync_handlers[ec]) {
            sync_handlers[ec](f);
            return;
        }
        break;
    }
    case VEC_EL1H_IRQ:
    case VEC_EL0_IRQ:
        if (irq_handler) {
            irq_handler(f);
            return;
        }
        break;
    }
    unhandled(f, vector);
}
