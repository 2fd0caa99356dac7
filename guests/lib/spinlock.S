/*
 * Spinlock: load-acquire exclusive / store exclusive with WFE while the lock is held (Arm ARM K11.3 "Use of
 * Wait For Event (WFE) and Send Event (SEV) with locks"). SEVL primes the event register so the first WFE falls
 * through; a waiter sleeps only after seeing the lock taken, and the releasing store (plus SEV, for
 * implementations that do not signal an event when the exclusive monitor is cleared) wakes it.
 * The exclusives are architecturally reliable only on Normal memory, i.e. with the MMU on (Arm ARM B2.9.5);
 * payloads that contend a lock between vCPUs (smp) turn it on. The console lock is also taken with the MMU
 * off, which the Unicorn-based engine (QEMU semantics) handles like Normal memory.
 *   void spin_lock(u32 *lock);  void spin_unlock(u32 *lock);
 */
    .text
    .global spin_lock
spin_lock:
    mov     w2, #1
    sevl
1:  wfe
2:  ldaxr   w1, [x0]
    cbnz    w1, 1b
    stxr    w1, w2, [x0]
    cbnz    w1, 2b
    ret

    .global spin_unlock
spin_unlock:
    stlr    wzr, [x0]
    dsb     ish
    sev
    ret
