/* The payload runtime: console, checks, exit convention, SMP bring-up. A payload defines
 *   int main(u64 dtb);
 * which runtime_boot calls on vCPU 0 after the set-up; its return value becomes the exit status. */
#ifndef GUEST_RUNTIME_H
#define GUEST_RUNTIME_H

#include <stdarg.h>
#include "types.h"
#include "sysreg.h"

int main(u64 dtb);

/* Set once by runtime_boot before main: whether this is a realm (SMC RSI_VERSION answered SUCCESS), the IPA
 * width the RMM reported, and the unprotected-alias bit every emulated MMIO address carries in a realm
 * (realm-platform.md §2.3: 1 << (ipa_width - 1); 0 in a normal VM). */
extern bool in_realm;
extern unsigned realm_ipa_width;
extern unsigned realm_hash_algo;
extern u64 mmio_alias;
extern u64 boot_dtb;

/* Console (8250 at 0x0100_0000 | mmio_alias). Output is serialised by a console lock that the owning vCPU may
 * re-enter (a fault inside printf must still be able to report itself). */
void uart_init(u64 alias);
void uart_putc(char c);
void console_lock(void);
void console_unlock(void);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vprintf(const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
void puts_raw(const char *s);

/* String helpers (string.c); also what the compiler may call for struct copies. */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
const char *strstr(const char *h, const char *n);
int hex_digit(char c);

/* Exit convention (kvm-unit-tests): "EXIT: STATUS=<n>" then PSCI SYSTEM_OFF. */
void exit(int status) NORETURN;

/* Checks: a passing check prints "PASS: <what>", a failing one "FAIL: <what>" and is counted;
 * exit_checked() exits with 1 if any check failed, else 0. */
bool check(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned check_failures(void);
void exit_checked(void) NORETURN;

/* SMP: start vCPU `cpu` (Aff0 = cpu) at fn(cpu, arg) via PSCI CPU_ON with context id = cpu; when fn returns the
 * vCPU calls CPU_OFF. Returns the PSCI status of CPU_ON. */
typedef void (*secondary_fn_t)(unsigned cpu, u64 arg);
s64 cpu_on(unsigned cpu, secondary_fn_t fn, u64 arg);
/* The number of vCPUs: the DTB's /cpus children when x0 held a valid FDT, else a PSCI AFFINITY_INFO scan
 * (INVALID_PARAMS marks the first vCPU that does not exist; rmm-1.0.md §7). */
unsigned cpu_count(void);

/* Entry points used from assembly. */
void runtime_boot(u64 dtb) NORETURN;
void runtime_secondary(u64 cpu) NORETURN;
void secondary_entry(void);

#endif
