/* Atomic add two ways: one FEAT_LSE instruction (LDADDAL, Armv8.1) and the Armv8.0 exclusive loop
 * (LDAXR/STLXR retried until the store-exclusive succeeds, Arm ARM B2.9). Both are acquire-release. */
#ifndef GUEST_ATOMIC_H
#define GUEST_ATOMIC_H

#include "types.h"

static inline u64 atomic_add_lse(volatile u64 *p, u64 v)
{
    u64 old;
    __asm__ volatile("ldaddal %x[v], %x[old], %[m]" : [old] "=r"(old), [m] "+Q"(*p) : [v] "r"(v) : "memory");
    return old;
}

static inline u64 atomic_add_exclusive(volatile u64 *p, u64 v)
{
    u64 sum;
    u32 failed;
    __asm__ volatile("1: ldaxr %x[sum], %[m]\n"
                     "   add   %x[sum], %x[sum], %x[v]\n"
                     "   stlxr %w[failed], %x[sum], %[m]\n"
                     "   cbnz  %w[failed], 1b"
                     : [sum] "=&r"(sum), [failed] "=&r"(failed), [m] "+Q"(*p)
                     : [v] "r"(v)
                     : "memory");
    return sum;
}

static inline u64 atomic_load_acquire(volatile u64 *p)
{
    u64 v;
    __asm__ volatile("ldar %x0, %1" : "=r"(v) : "Q"(*p) : "memory");
    return v;
}

static inline void atomic_store_release(volatile u64 *p, u64 v)
{
    __asm__ volatile("stlr %x1, %0" : "=Q"(*p) : "r"(v) : "memory");
}

void spin_lock(u32 *lock);
void spin_unlock(u32 *lock);

#endif
