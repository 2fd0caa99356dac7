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

/* Guest memory layout (realm-platform.md §2.3). */
#define RAM_BASE 0x80000000UL
#define LOAD_ADDR 0x80080000UL

#endif
