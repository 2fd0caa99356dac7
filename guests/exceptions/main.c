/*
 * exceptions: synchronous exceptions as the architecture delivers them (Arm ARM D1.10, ESR encodings D17.2.37).
 *   1. SVC from EL0: system calls with a value round trip and output, then the exit call back to EL1;
 *   2. BRK at EL1 (EC 0x3C, ISS = the immediate), skipped;
 *   3. UDF at EL1 (EC 0x00, IL = 1), skipped;
 *   4. with the MMU on (identity map, lib/mmu.h): data aborts from stage-1 translation faults at level 1 and
 *      level 3 (EC 0x25, DFSC 0x05 / 0x07, FAR = the address), an instruction abort (EC 0x21, IFSC 0x05,
 *      FAR = ELR = the branch target) resumed at the caller, and a data abort from EL0 (EC 0x24) after which the
 *      EL0 code continues and exits normally; then the MMU goes off again.
 */
#include "exceptions.h"
#include "mmu.h"
#include "runtime.h"

struct record {
    unsigned count;
    u64 esr, elr, far;
    bool from_el0;
};
static volatile struct record last;

static void remember(struct exc_frame *f)
{
    last.count++;
    last.esr = f->esr;
    last.elr = f->elr;
    last.far = f->far;
    last.from_el0 = frame_from_el0(f);
}

/* BRK, UDF and data aborts: record and step over the one instruction (preferred return = the instruction). */
static void skip_instruction(struct exc_frame *f)
{
    remember(f);
    f->elr += 4;
}

/* Instruction abort on a branch target: return to the caller as if the callee had executed RET. */
static void return_to_caller(struct exc_frame *f)
{
    remember(f);
    f->elr = f->x[30];
}

static void reset(void) { memset((void *)&last, 0, sizeof(last)); }

/* ---- EL0 code: only .text/.rodata (mapped for EL0) and its own stack; everything else through SVC. ---- */

static const char el0_hello[] = "hello from EL0\n";

static u64 el0_syscalls(u64 arg)
{
    if (sys_echo(arg) != arg + 1)
        return 10;
    if (sys_write(el0_hello, sizeof(el0_hello) - 1) != sizeof(el0_hello) - 1)
        return 11;
    sys_exit(arg & 0xff);
}

static u64 el0_fault(u64 addr)
{
    u64 v = 0x1234;
    /* A load from an unmapped VA: the EL1 handler skips it and EL0 goes on. */
    __asm__ volatile("ldr %x0, [%1]" : "+r"(v) : "r"(addr) : "memory");
    return v == 0x1234 ? 42 : 43;
}

static void test_el0_syscalls(void)
{
    u64 status = el0_run(el0_syscalls, 0x5a);
    check(status == 0x5a, "SVC from EL0: echo, write and exit came back to EL1 with status 0x5a (got 0x%lx)",
          status);
}

static void test_brk(void)
{
    reset();
    install_exception_handler(EC_BRK64, skip_instruction);
    __asm__ volatile("brk #0x42" : : : "memory");
    check(last.count == 1 && ESR_EC(last.esr) == EC_BRK64 && ESR_ISS(last.esr) == 0x42,
          "BRK #0x42 at EL1: EC 0x3C with the immediate (ESR 0x%lx)", last.esr);
}

static void test_udf(void)
{
    reset();
    install_exception_handler(EC_UNKNOWN, skip_instruction);
    __asm__ volatile("udf #0x1234" : : : "memory");
    check(last.count == 1 && ESR_EC(last.esr) == EC_UNKNOWN && (last.esr & ESR_IL),
          "UDF at EL1: EC 0x00 with IL set (ESR 0x%lx)", last.esr);
}

static void test_data_abort(u64 va, unsigned level)
{
    reset();
    u64 v = 0x77;
    __asm__ volatile("ldr %x0, [%1]" : "+r"(v) : "r"(va) : "memory");
    check(last.count == 1 && ESR_EC(last.esr) == EC_DABT_CUR && ESR_FSC(last.esr) == FSC_TRANSLATION(level) &&
              last.far == va && v == 0x77,
          "data abort at EL1 on VA 0x%lx: EC 0x25, level %u translation fault, FAR (ESR 0x%lx)", va, level,
          last.esr);
}

static void test_instruction_abort(void)
{
    reset();
    install_exception_handler(EC_IABT_CUR, return_to_caller);
    void (*target)(void) = (void (*)(void))MMU_FAULT_VA_L1;
    target();
    check(last.count == 1 && ESR_EC(last.esr) == EC_IABT_CUR && ESR_FSC(last.esr) == FSC_TRANSLATION(1) &&
              last.far == MMU_FAULT_VA_L1 && last.elr == MMU_FAULT_VA_L1,
          "instruction abort at EL1: EC 0x21, level 1 translation fault, FAR = ELR = target (ESR 0x%lx)",
          last.esr);
}

static void test_el0_data_abort(void)
{
    reset();
    install_exception_handler(EC_DABT_LOWER, skip_instruction);
    u64 status = el0_run(el0_fault, MMU_FAULT_VA_L1);
    check(last.count == 1 && last.from_el0 && ESR_EC(last.esr) == EC_DABT_LOWER &&
              ESR_FSC(last.esr) == FSC_TRANSLATION(1) && last.far == MMU_FAULT_VA_L1,
          "data abort from EL0: EC 0x24, level 1 translation fault, FAR (ESR 0x%lx)", last.esr);
    check(status == 42, "EL0 resumed after the abort and exited normally (status %lu)", status);
}

int main(u64 dtb)
{
    test_el0_syscalls();
    test_brk();
    test_udf();

    if (!check(mmu_enable_identity(), "MMU on with an identity map"))
        exit_checked();
    printf("MMU is on\n");
    install_exception_handler(EC_DABT_CUR, skip_instruction);
    test_data_abort(MMU_FAULT_VA_L1, 1);
    test_data_abort(MMU_FAULT_VA_L3, 3);
    install_exception_handler(EC_DABT_CUR, NULL);
    test_instruction_abort();
    test_el0_syscalls();
    test_el0_data_abort();
    mmu_disable();
    printf("MMU is off\n");
    check(!(read_sysreg(sctlr_el1) & 1), "SCTLR_EL1.M is clear again");
    exit_checked();
}
