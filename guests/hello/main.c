/*
 * hello: prints a greeting and whether it runs in a realm. In a realm it reports the realm configuration
 * (RSI_REALM_CONFIG, rmm-1.0.md §4.6) and hands the host an attestation token (rmm-1.0.md §6, §9) printed as
 * "TOKEN: <hex>" lines of 64 bytes and a final "TOKEN-END <len>". The challenge comes from the DTB's
 * /chosen/bootargs "challenge=<128 hex digits>" when x0 points at a valid FDT, else it is the bytes 0x00..0x3f.
 */
#include "fdt.h"
#include "rsi.h"
#include "runtime.h"

#define TOKEN_BUFFER_SIZE (4 * PAGE_SIZE) /* TF-RMM's tokens are ~2.1 KiB; INIT reports an upper bound */

static u8 token[TOKEN_BUFFER_SIZE] ALIGNED(4096);

/* Parses "challenge=<128 hex>" out of the bootargs string; false when absent or malformed. */
static bool challenge_from_dtb(u64 dtb, u8 challenge[64])
{
    u32 len;
    const char *args = fdt_getprop(dtb, "/chosen", "bootargs", &len);
    if (!args || len == 0 || args[len - 1] != '\0')
        return false;
    const char *p = strstr(args, "challenge=");
    if (!p)
        return false;
    p += 10;
    for (int i = 0; i < 64; i++) {
        int hi = hex_digit(p[2 * i]), lo = hex_digit(p[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        challenge[i] = (u8)(hi << 4 | lo);
    }
    char after = p[128];
    return after == '\0' || after == ' ';
}

static void print_token(const u8 *t, u64 len)
{
    for (u64 off = 0; off < len; off += 64) {
        console_lock();
        printf("TOKEN: ");
        for (u64 i = off; i < len && i < off + 64; i++)
            printf("%02x", t[i]);
        printf("\n");
        console_unlock();
    }
    printf("TOKEN-END %lu\n", len);
}

int main(u64 dtb)
{
    printf("Hello from a CcaSim guest\n");
    if (!in_realm) {
        printf("running in a normal VM\n");
        return 0;
    }
    printf("running in a realm\n");
    printf("ipa width: %u\n", realm_ipa_width);
    printf("hash algo: %s\n", realm_hash_algo == RSI_HASH_SHA_256 ? "sha-256"
                              : realm_hash_algo == RSI_HASH_SHA_512 ? "sha-512" : "unknown");

    /* The RIM as the RMM measured this realm (RSI_MEASUREMENT_READ index 0, rmm-1.0.md §6): a verifier compares
     * the token's RIM claim with it, and `ccasim measure` predicts it. */
    u8 rim[64];
    if (rsi_measurement_read(0, rim) != RSI_SUCCESS) {
        printf("FAIL: RSI_MEASUREMENT_READ(0)\n");
        return 1;
    }
    printf("RIM: ");
    for (int i = 0; i < (realm_hash_algo == RSI_HASH_SHA_512 ? 64 : 32); i++)
        printf("%02x", rim[i]);
    printf("\n");

    u8 challenge[64];
    if (challenge_from_dtb(dtb, challenge)) {
        printf("challenge: from /chosen/bootargs\n");
    } else {
        for (int i = 0; i < 64; i++)
            challenge[i] = (u8)i;
        printf("challenge: default pattern 00..3f\n");
    }

    u64 len = 0;
    u64 status = rsi_get_token(challenge, token, sizeof(token), &len);
    if (status != RSI_SUCCESS) {
        printf("FAIL: attestation token (RSI status %lu)\n", status);
        return 1;
    }
    print_token(token, len);
    return 0;
}
