/* MMIO accessors. Each is one single-register load/store without writeback, so a stage-2 abort on it carries a
 * valid syndrome (ISV=1, Arm ARM D17.2.37 ISS encoding for a data abort) and the host can emulate the access
 * (rmm-1.0.md §5.7: emulatable data aborts in the unprotected half). The compiler must not be free to pick a
 * pre/post-indexed form, hence inline assembly. */
#ifndef GUEST_MMIO_H
#define GUEST_MMIO_H

#include "types.h"

static inline void mmio_write8(u64 addr, u8 v)
{
    __asm__ volatile("strb %w0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}
static inline u8 mmio_read8(u64 addr)
{
    u32 v;
    __asm__ volatile("ldrb %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return (u8)v;
}
static inline void mmio_write32(u64 addr, u32 v)
{
    __asm__ volatile("str %w0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}
static inline u32 mmio_read32(u64 addr)
{
    u32 v;
    __asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
    return v;
}
static inline void mmio_write64(u64 addr, u64 v)
{
    __asm__ volatile("str %x0, [%1]" : : "rZ"(v), "r"(addr) : "memory");
}

#endif
