/* UART output and printf. */
#include "runtime.h"
#include "atomic.h"
#include "mmio.h"

#ifdef GUEST_PLATFORM_QEMU_VIRT
/* QEMU virt's PL011 (VIRT_UART): DR at +0, FR at +0x18 with TXFF = bit 5 (PL011 TRM DDI0183 §3.3.3). QEMU's
 * model needs no baud or enable set-up before it transmits. */
#define UART_BASE 0x09000000UL
#define UART_FR 0x18
#define UART_FR_TXFF 0x20
#define UART_TX_BUSY(base) (mmio_read8((base) + UART_FR) & UART_FR_TXFF)
#else
/* kvmtool's 8250 (ARM_UART_MMIO_BASE): THR at +0, LSR at +5 with THRE = bit 5 (realm-platform.md §2.3). */
#define UART_BASE 0x01000000UL
#define UART_LSR 5
#define UART_LSR_THRE 0x20
#define UART_TX_BUSY(base) (!(mmio_read8((base) + UART_LSR) & UART_LSR_THRE))
#endif

static u64 uart_base;
static bool uart_ready;

void uart_init(u64 alias)
{
    uart_base = UART_BASE | alias;
    uart_ready = true;
}

void uart_putc(char c)
{
    /* Until runtime_boot knows whether the unprotected alias is needed there is no safe address to write to:
     * in a realm the protected-half address is not emulated MMIO and would abort. */
    if (!uart_ready)
        return;
    while (UART_TX_BUSY(uart_base))
        ;
    mmio_write8(uart_base, (u8)c);
}

/* The console lock keeps lines of different vCPUs whole. The owner may re-enter (a fault while printing must
 * still be able to report itself instead of deadlocking). */
static u32 lock_word;
static volatile int lock_owner = -1;
static unsigned lock_depth;

void console_lock(void)
{
    int me = (int)cpu_index();
    if (lock_owner == me) {
        lock_depth++;
        return;
    }
    spin_lock(&lock_word);
    lock_owner = me;
    lock_depth = 1;
}

void console_unlock(void)
{
    if (--lock_depth == 0) {
        lock_owner = -1;
        spin_unlock(&lock_word);
    }
}

void puts_raw(const char *s)
{
    while (*s)
        uart_putc(*s++);
}

/* Formatting: %d %i %u %x %X %p %s %c %% with the l/ll/z length modifiers, a width, and the '0' and '-' flags. */
typedef void (*emit_fn)(void *ctx, char c);

static void emit_padded(emit_fn emit, void *ctx, const char *s, size_t len, unsigned width, bool left, char pad,
                        int *count)
{
    size_t fill = width > len ? width - len : 0;
    if (!left && pad == '0' && (*s == '-') && len > 0) {
        /* zero padding goes after the sign */
        emit(ctx, *s++);
        len--;
        (*count)++;
    }
    if (!left)
        for (; fill; fill--, (*count)++)
            emit(ctx, pad);
    for (size_t i = 0; i < len; i++, (*count)++)
        emit(ctx, s[i]);
    for (; fill; fill--, (*count)++)
        emit(ctx, ' ');
}

static int format(emit_fn emit, void *ctx, const char *fmt, va_list ap)
{
    int count = 0;
    char buf[24];
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(ctx, *fmt);
            count++;
            continue;
        }
        fmt++;
        bool left = false;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-')
                left = true;
            else if (*fmt == '0')
                pad = '0';
            else
                break;
        }
        unsigned width = 0;
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (unsigned)(*fmt++ - '0');
        int longs = 0;
        while (*fmt == 'l' || *fmt == 'z') {
            longs++;
            fmt++;
        }
        if (left)
            pad = ' ';
        u64 v;
        bool neg = false;
        unsigned base = 10;
        bool upper = false;
        switch (*fmt) {
        case '\0':
            return count;
        case '%':
            emit(ctx, '%');
            count++;
            continue;
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            emit_padded(emit, ctx, buf, 1, width, left, ' ', &count);
            continue;
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s)
                s = "(null)";
            emit_padded(emit, ctx, s, strlen(s), width, left, ' ', &count);
            continue;
        }
        case 'p':
            v = (u64)va_arg(ap, void *);
            emit(ctx, '0');
            emit(ctx, 'x');
            count += 2;
            base = 16;
            width = 16;
            pad = '0';
            left = false;
            break;
        case 'd':
        case 'i': {
            s64 sv = longs ? va_arg(ap, s64) : va_arg(ap, int);
            neg = sv < 0;
            v = neg ? (u64)0 - (u64)sv : (u64)sv;
            break;
        }
        case 'X':
            upper = true;
            /* fall through */
        case 'x':
            base = 16;
            /* fall through */
        case 'u':
            v = longs ? va_arg(ap, u64) : va_arg(ap, unsigned);
            break;
        default:
            /* Unknown conversion: print it verbatim so the mistake is visible. */
            emit(ctx, '%');
            emit(ctx, *fmt);
            count += 2;
            continue;
        }
        char *p = buf + sizeof(buf);
        const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
        do {
            *--p = digits[v % base];
            v /= base;
        } while (v);
        if (neg)
            *--p = '-';
        emit_padded(emit, ctx, p, (size_t)(buf + sizeof(buf) - p), width, left, pad, &count);
    }
    return count;
}

static void emit_uart(void *ctx, char c)
{
    uart_putc(c);
}

int vprintf(const char *fmt, va_list ap)
{
    console_lock();
    int n = format(emit_uart, NULL, fmt, ap);
    console_unlock();
    return n;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}

struct sbuf {
    char *p;
    size_t left;
};

static void emit_buf(void *ctx, char c)
{
    struct sbuf *b = ctx;
    if (b->left > 1) {
        *b->p++ = c;
        b->left--;
    }
}

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
    struct sbuf b = { buf, size };
    int n = format(emit_buf, &b, fmt, ap);
    if (size)
        *b.p = '\0';
    return n;
}

int snprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}
