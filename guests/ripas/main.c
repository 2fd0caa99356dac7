/*
 * ripas: RIPAS changes from the realm's side (rmm-1.0.md §5.4, §5.5, §5.7):
 *   1. three pages -> EMPTY with IPA_STATE_SET, repeated until the whole range changed; IPA_STATE_GET says EMPTY;
 *   2. a load from an EMPTY page is a synchronous external abort the RMM injects (ESR EC 0x25, DFSC 0x10;
 *      realm-platform.md §2.4 realm-sea); the handler skips the load;
 *   3. back to RAM: the pages read as zero (the host gives fresh granules; realm-ns-memory);
 *   4. a page made EMPTY is shared: written and read back through the unprotected alias (the host maps it as
 *      unprotected memory), then returned to RAM.
 * Realm only; in a normal VM it says so and exits 0.
 */
#include "exceptions.h"
#include "rsi.h"
#include "runtime.h"

#define PAGES 3

/* 16 KiB alignment keeps the three pages inside one last-level RTT (2 MiB), so IPA_STATE_GET, which scans
 * a single table in TF-RMM (rmm-1.0.md §6), answers for the whole range at once. */
static u8 pages[PAGES][PAGE_SIZE] ALIGNED(16384);
static u8 shared_page[PAGE_SIZE] ALIGNED(4096);

static volatile unsigned aborts;
static volatile u64 abort_esr;

static void on_data_abort(struct exc_frame *f)
{
    aborts++;
    abort_esr = f->esr;
    f->elr += 4; /* skip the faulting load: every load below is one A64 instruction */
}

static u64 load64(u64 addr)
{
    u64 v = 0xdeadbeefUL;
    __asm__ volatile("ldr %x0, [%1]" : "+r"(v) : "r"(addr) : "memory");
    return v;
}

static bool all_zero(const u8 *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

int main(u64 dtb)
{
    if (!in_realm) {
        printf("SKIP: ripas needs a realm\n");
        return 0;
    }
    u64 base = (u64)pages, top = base + sizeof(pages);
    memset(pages, 0xa5, sizeof(pages)); /* populated, so the change to EMPTY really discards data */

    /* CHANGE_DESTROYED, as Linux's set_memory_decrypted does: the host converts the pages to shared before it
     * changes their RIPAS, and destroying their data left them DESTROYED (rmm-1.0.md §5.4, §3.21). */
    check(rsi_set_ripas_range(base, top, RSI_RIPAS_EMPTY, RSI_CHANGE_DESTROYED) == RSI_SUCCESS,
          "IPA_STATE_SET of %d pages to EMPTY", PAGES);
    u64 out_top = 0, ripas = ~0UL;
    check(rsi_ipa_state_get(base, top, &out_top, &ripas) == RSI_SUCCESS && ripas == RSI_RIPAS_EMPTY &&
              out_top == top,
          "IPA_STATE_GET reports the range EMPTY");

    install_exception_handler(EC_DABT_CUR, on_data_abort);
    u64 v = load64(base + PAGE_SIZE);
    check(aborts == 1, "a load from an EMPTY page aborts");
    check(ESR_EC(abort_esr) == EC_DABT_CUR && ESR_FSC(abort_esr) == FSC_SEA,
          "the abort is a synchronous external abort (ESR EC 0x25, DFSC 0x10; got ESR 0x%lx)", abort_esr);
    check(v == 0xdeadbeefUL, "the aborted load wrote no register");
    install_exception_handler(EC_DABT_CUR, NULL);

    check(rsi_set_ripas_range(base, top, RSI_RIPAS_RAM, RSI_NO_CHANGE_DESTROYED) == RSI_SUCCESS,
          "IPA_STATE_SET of the range back to RAM");
    check(rsi_ipa_state_get(base, top, &out_top, &ripas) == RSI_SUCCESS && ripas == RSI_RIPAS_RAM,
          "IPA_STATE_GET reports the range RAM");
    check(all_zero(&pages[0][0], sizeof(pages)), "the pages read as zero after EMPTY and back");

    /* Sharing: the protected page becomes EMPTY, and the same page through the alias bit is then host memory
     * (realm-platform.md §2.4 realm-ns-memory). */
    u64 shared = (u64)shared_page;
    check(rsi_set_ripas_range(shared, shared + PAGE_SIZE, RSI_RIPAS_EMPTY, RSI_CHANGE_DESTROYED) ==
              RSI_SUCCESS,
          "IPA_STATE_SET of the shared page to EMPTY");
    volatile u64 *ns = (volatile u64 *)(shared | mmio_alias);
    for (unsigned i = 0; i < 8; i++)
        ns[i * 64] = 0x5ca1ab1e00000000UL | i;
    bool same = true;
    for (unsigned i = 0; i < 8; i++)
        same &= ns[i * 64] == (0x5ca1ab1e00000000UL | i);
    check(same, "the shared page written and read back through the unprotected alias");
    check(rsi_set_ripas_range(shared, shared + PAGE_SIZE, RSI_RIPAS_RAM, RSI_NO_CHANGE_DESTROYED) == RSI_SUCCESS,
          "IPA_STATE_SET of the shared page back to RAM");
    check(all_zero(shared_page, sizeof(shared_page)), "the page reads as zero in the protected half again");
    exit_checked();
}
