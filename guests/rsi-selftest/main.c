/*
 * rsi-selftest: every RSI 1.0 command and its error cases from the realm's side (rmm-1.0.md §6, §5.5, §5.6,
 * §8.5). Each check prints PASS or FAIL; the exit status is 1 if any failed. In a normal VM it only checks that
 * the RSI is absent (the SMC is answered SMCCC NOT_SUPPORTED).
 */
#include "psci.h"
#include "rsi.h"
#include "runtime.h"

#define SMCCC_NOT_SUPPORTED ((u64)-1)

static u8 token[4 * PAGE_SIZE] ALIGNED(4096);
static struct rsi_realm_config config;
static u8 scratch[2 * PAGE_SIZE] ALIGNED(4096);
static struct rsi_host_call host_call;

static bool is_zero(const u8 *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

static void check_status(u64 got, u64 want, const char *what)
{
    if (got == want)
        check(true, "%s", what);
    else
        check(false, "%s (status %ld, expected %ld)", what, (s64)got, (s64)want);
}

static void test_version(void)
{
    u64 lower = 0, higher = 0;
    check_status(rsi_version(RSI_ABI_VERSION, &lower, &higher), RSI_SUCCESS, "RSI_VERSION 1.0");
    check(lower == RSI_ABI_VERSION && higher == RSI_ABI_VERSION, "RSI_VERSION reports 1.0 as lower and higher");
    check_status(rsi_version(0x20000, &lower, &higher), RSI_ERROR_INPUT, "RSI_VERSION 2.0 is ERROR_INPUT");
    check(lower == RSI_ABI_VERSION && higher == RSI_ABI_VERSION, "RSI_VERSION 2.0 still reports 1.0");
}

static void test_features(void)
{
    u64 value = ~0UL;
    check_status(rsi_features(0, &value), RSI_SUCCESS, "RSI_FEATURES 0");
    check(value == 0, "RSI_FEATURES 0 reports no features");
    value = ~0UL;
    check_status(rsi_features(1, &value), RSI_SUCCESS, "RSI_FEATURES 1");
    check(value == 0, "RSI_FEATURES 1 reports no features");
}

static void test_measurements(void)
{
    u8 m[64];
    for (u64 i = 0; i <= 4; i++) {
        memset(m, 0xee, sizeof(m));
        u64 s = rsi_measurement_read(i, m);
        check(s == RSI_SUCCESS, "RSI_MEASUREMENT_READ %lu", i);
        if (i == 0)
            check(!is_zero(m, 32), "RIM is not zero");
        else
            check(is_zero(m, 64), "REM%lu is zero before any extend", i);
    }
    check_status(rsi_measurement_read(5, m), RSI_ERROR_INPUT, "RSI_MEASUREMENT_READ 5 is ERROR_INPUT");

    u8 data[64];
    memset(data, 0x11, sizeof(data));
    check_status(rsi_measurement_extend(0, 64, data), RSI_ERROR_INPUT, "RSI_MEASUREMENT_EXTEND index 0 (RIM)");
    check_status(rsi_measurement_extend(5, 64, data), RSI_ERROR_INPUT, "RSI_MEASUREMENT_EXTEND index 5");
    check_status(rsi_measurement_extend(1, 65, data), RSI_ERROR_INPUT, "RSI_MEASUREMENT_EXTEND size 65");

    if (realm_hash_algo != RSI_HASH_SHA_256) {
        printf("SKIP: golden REM values need a SHA-256 realm\n");
        return;
    }
    /* Golden values (rmm-1.0.md §8.5: REM_new = H(REM_old ‖ first size bytes of x3..x10, little-endian)):
     * REM1 from zero with the 8 bytes of 0x1122334455667788 gives 00a91a9c..caab3e; REM2 from zero with 32 bytes
     * of 0x11 gives sha256(0^32 ‖ 0x11^32) = 8878b15a..655ef8 (realm-platform.md §2.7, first constant). */
    static const u8 rem1[32] = {
        0x00, 0xa9, 0x1a, 0x9c, 0xf7, 0xe5, 0x14, 0xcf, 0x4d, 0x35, 0x46, 0x22, 0x1b, 0x68, 0xe6, 0x1d,
        0x9f, 0x75, 0xf7, 0xa2, 0x22, 0x88, 0x63, 0x6b, 0xcc, 0x06, 0x30, 0x81, 0xdd, 0xca, 0xab, 0x3e,
    };
    static const u8 rem2[32] = {
        0x88, 0x78, 0xb1, 0x5a, 0x7d, 0x6a, 0x3a, 0x4f, 0x46, 0x4e, 0x8f, 0x9f, 0x42, 0x59, 0x1d, 0xbc,
        0x0c, 0xf4, 0xbe, 0xde, 0xa0, 0xec, 0x30, 0x90, 0x03, 0xd2, 0xb2, 0xee, 0x53, 0x65, 0x5e, 0xf8,
    };
    u8 le[64] = { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 };
    check_status(rsi_measurement_extend(1, 8, le), RSI_SUCCESS, "RSI_MEASUREMENT_EXTEND REM1 with 8 bytes");
    rsi_measurement_read(1, m);
    check(!memcmp(m, rem1, 32) && is_zero(m + 32, 32), "REM1 equals the golden SHA-256 value");
    check_status(rsi_measurement_extend(2, 32, data), RSI_SUCCESS, "RSI_MEASUREMENT_EXTEND REM2 with 32 bytes");
    rsi_measurement_read(2, m);
    check(!memcmp(m, rem2, 32) && is_zero(m + 32, 32), "REM2 equals the golden SHA-256 value");
}

static void test_attestation(void)
{
    u64 buf = (u64)token, len = 0;
    /* The buffer is touched first so the host has it mapped: an unmapped buffer page would be a stage-2 abort
     * exit (rmm-1.0.md §6), which is not what these checks are about. */
    memset(token, 0, sizeof(token));
    /* ERROR_STATE comes after all the input checks (rmm-1.0.md §6 TOKEN_CONTINUE), so this call is well formed. */
    check_status(rsi_attestation_token_continue(buf, 0, PAGE_SIZE, &len), RSI_ERROR_STATE,
                 "RSI_ATTESTATION_TOKEN_CONTINUE without INIT is ERROR_STATE");

    u8 challenge[64];
    for (int i = 0; i < 64; i++)
        challenge[i] = (u8)(0xa0 + i);
    u64 max = 0;
    check_status(rsi_attestation_token_init(challenge, &max), RSI_SUCCESS, "RSI_ATTESTATION_TOKEN_INIT");
    check(max > 0 && max <= sizeof(token), "token upper bound fits the buffer");

    check_status(rsi_attestation_token_continue(buf + 8, 0, 64, &len), RSI_ERROR_INPUT,
                 "TOKEN_CONTINUE with a misaligned buffer (addr_align)");
    check_status(rsi_attestation_token_continue(buf | mmio_alias, 0, 64, &len), RSI_ERROR_INPUT,
                 "TOKEN_CONTINUE with an unprotected buffer (addr_bound)");
    check_status(rsi_attestation_token_continue(buf, PAGE_SIZE, 8, &len), RSI_ERROR_INPUT,
                 "TOKEN_CONTINUE with offset 4096 (offset_bound)");
    check_status(rsi_attestation_token_continue(buf, 8, ~0UL, &len), RSI_ERROR_INPUT,
                 "TOKEN_CONTINUE with offset + size wrapping (size_overflow)");
    check_status(rsi_attestation_token_continue(buf, 4000, 200, &len), RSI_ERROR_INPUT,
                 "TOKEN_CONTINUE past the granule (size_bound)");
    len = ~0UL;
    u64 s = rsi_attestation_token_continue(buf, 0, 0, &len);
    check(s == RSI_INCOMPLETE && len == 0, "TOKEN_CONTINUE with size 0 is INCOMPLETE and copies nothing");

    s = rsi_read_token(token, sizeof(token), &len);
    check_status(s, RSI_SUCCESS, "the token completes after the rejected calls");
    /* The token is CBOR tag 399 (rmm-1.0.md §9): 0xd9 0x01 0x8f. */
    check(len > 3 && token[0] == 0xd9 && token[1] == 0x01 && token[2] == 0x8f, "the token starts with CBOR tag 399");
    check_status(rsi_attestation_token_continue(buf, 0, PAGE_SIZE, &len), RSI_ERROR_STATE,
                 "TOKEN_CONTINUE after the whole token was read is ERROR_STATE");
}

static void test_realm_config(void)
{
    u64 addr = (u64)&config;
    check_status(rsi_realm_config(addr + 8), RSI_ERROR_INPUT, "RSI_REALM_CONFIG misaligned (addr_align)");
    check_status(rsi_realm_config(addr | mmio_alias), RSI_ERROR_INPUT, "RSI_REALM_CONFIG unprotected (addr_bound)");
    check_status(rsi_realm_config(addr), RSI_SUCCESS, "RSI_REALM_CONFIG");
    check(config.ipa_width == realm_ipa_width && config.hash_algo == realm_hash_algo,
          "RSI_REALM_CONFIG agrees with the boot-time reading");
}

static void test_ipa_state(void)
{
    u64 base = (u64)scratch, top = base + PAGE_SIZE, out = 0, ripas = ~0UL;
    scratch[0] = 1; /* make sure the host has it mapped */
    check_status(rsi_ipa_state_get(base + 8, top, &out, &ripas), RSI_ERROR_INPUT, "IPA_STATE_GET base_align");
    check_status(rsi_ipa_state_get(base, top + 8, &out, &ripas), RSI_ERROR_INPUT, "IPA_STATE_GET end_align");
    check_status(rsi_ipa_state_get(base, base, &out, &ripas), RSI_ERROR_INPUT, "IPA_STATE_GET size_valid");
    check_status(rsi_ipa_state_get(base | mmio_alias, top | mmio_alias, &out, &ripas), RSI_ERROR_INPUT,
                 "IPA_STATE_GET rgn_bound");
    check_status(rsi_ipa_state_get(base, top, &out, &ripas), RSI_SUCCESS, "IPA_STATE_GET of a data page");
    check(ripas == RSI_RIPAS_RAM && out == top, "a data page is RAM");

    u64 next = 0, response = 0;
    check_status(rsi_ipa_state_set(base + 8, top, RSI_RIPAS_RAM, 0, &next, &response), RSI_ERROR_INPUT,
                 "IPA_STATE_SET base_align");
    check_status(rsi_ipa_state_set(base, top + 8, RSI_RIPAS_RAM, 0, &next, &response), RSI_ERROR_INPUT,
                 "IPA_STATE_SET top_align");
    check_status(rsi_ipa_state_set(top, base, RSI_RIPAS_RAM, 0, &next, &response), RSI_ERROR_INPUT,
                 "IPA_STATE_SET size_valid");
    check_status(rsi_ipa_state_set(base | mmio_alias, top | mmio_alias, RSI_RIPAS_RAM, 0, &next, &response),
                 RSI_ERROR_INPUT, "IPA_STATE_SET rgn_bound");
    check_status(rsi_ipa_state_set(base, top, RSI_RIPAS_DESTROYED, 0, &next, &response), RSI_ERROR_INPUT,
                 "IPA_STATE_SET ripas_valid (DESTROYED cannot be requested)");
    check(scratch[0] == 1, "the rejected calls left the page alone");
}

static void test_host_call(void)
{
    u64 addr = (u64)&host_call;
    check_status(rsi_host_call(addr + 8), RSI_ERROR_INPUT, "RSI_HOST_CALL misaligned (addr_align)");
    check_status(rsi_host_call(addr | mmio_alias), RSI_ERROR_INPUT, "RSI_HOST_CALL unprotected (addr_bound)");
    /* KVM serves a host call as an SMCCC hypercall: SMCCC_VERSION answers 1.1 (realm-platform.md §2.4). */
    memset(&host_call, 0, sizeof(host_call));
    host_call.gprs[0] = SMCCC_VERSION;
    check_status(rsi_host_call(addr), RSI_SUCCESS, "RSI_HOST_CALL SMCCC_VERSION");
    check(host_call.gprs[0] == 0x10001, "the host answered SMCCC 1.1 (got 0x%lx)", host_call.gprs[0]);
    memset(&host_call, 0, sizeof(host_call));
    host_call.gprs[0] = 0x8000ffffUL; /* an Arm-architecture-service FID nobody implements */
    check_status(rsi_host_call(addr), RSI_SUCCESS, "RSI_HOST_CALL with an unknown FID");
    check(host_call.gprs[0] == SMCCC_NOT_SUPPORTED, "the host answered NOT_SUPPORTED");
}

int main(u64 dtb)
{
    if (!in_realm) {
        struct smc_result r = smc_call(RSI_VERSION, RSI_ABI_VERSION, 0, 0, 0);
        check(r.x[0] == SMCCC_NOT_SUPPORTED, "no RSI in a normal VM (SMC answered NOT_SUPPORTED)");
        exit_checked();
    }
    test_version();
    test_features();
    test_attestation();
    test_measurements();
    test_realm_config();
    test_ipa_state();
    test_host_call();
    exit_checked();
}
