/* Fixed-width types and small helpers shared by the runtime and the payloads. */
#ifndef GUEST_TYPES_H
#define GUEST_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;

#define MAX_CPUS 8
#define PAGE_SIZE 4096UL
#define ALIGNED(n) __attribute__((aligned(n)))
#define NORETURN __attribute__((noreturn))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Guest memory layout: kvmtool's (realm-platform.md §2.3), or QEMU virt's (RAM at 0x4000_0000, the image at
 * RAM + TEXT_OFFSET from its arm64 Image header) in the `make qemu` variant. */
#ifdef GUEST_PLATFORM_QEMU_VIRT
#define RAM_BASE 0x40000000UL
#define LOAD_ADDR 0x40080000UL
#else
#define RAM_BASE 0x80000000UL
#define LOAD_ADDR 0x80080000UL
#endif

#endif
