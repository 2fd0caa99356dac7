/*
 * bench: fixed work for the host to time (issue 11 "Performance"): an integer register loop, a load/store loop
 * over a 64 KiB buffer, and an RSI_VERSION round-trip loop (in a normal VM the same SMC is answered by KVM). The
 * iteration counts are fixed here so every run does identical work; the only output is "BENCH done".
 */
#include "rsi.h"
#include "runtime.h"

#define REGISTER_LOOP_ITERATIONS 20000000UL /* 4 instructions per iteration */
#define LOAD_STORE_ITERATIONS 2000000UL     /* 64 KiB buffer, 8 bytes per step */
#define RSI_VERSION_ITERATIONS 200000UL

static u64 buffer[8192];

static void register_loop(void)
{
    u64 n = REGISTER_LOOP_ITERATIONS, acc = 0;
    /* Hand-written so the compiler cannot fold it away: add, eor, subs, b.ne. */
    __asm__ volatile("1: add  %x0, %x0, %x1\n"
                     "   eor  %x0, %x0, #0xff\n"
                     "   subs %x1, %x1, #1\n"
                     "   b.ne 1b"
                     : "+r"(acc), "+r"(n)
                     :
                     : "cc");
}

static void load_store_loop(void)
{
    u64 *p = buffer;
    u64 mask = ARRAY_SIZE(buffer) - 1;
    for (u64 i = 0; i < LOAD_STORE_ITERATIONS; i++) {
        volatile u64 *slot = &p[(i * 8 + 1) & mask];
        *slot = *slot + i;
    }
}

static void rsi_loop(void)
{
    for (u64 i = 0; i < RSI_VERSION_ITERATIONS; i++)
        smc_call(RSI_VERSION, RSI_ABI_VERSION, 0, 0, 0);
}

int main(u64 dtb)
{
    register_loop();
    load_store_loop();
    rsi_loop();
    printf("BENCH done\n");
    return 0;
}
