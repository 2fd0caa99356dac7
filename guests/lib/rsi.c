/* RSI 1.0 wrappers (rmm-1.0.md §6). */
#include "rsi.h"
#include "runtime.h"

struct smc_result smc_call(u64 fid, u64 a1, u64 a2, u64 a3, u64 a4)
{
    u64 in[11] = { fid, a1, a2, a3, a4 };
    struct smc_result r;
    smccc_smc(in, r.x);
    return r;
}

static void pack64(u64 *regs, const u8 bytes[64])
{
    /* 64 bytes travel little-endian in eight registers (rmm-1.0.md §6 MEASUREMENT_READ, §8.5, TOKEN_INIT). */
    for (int i = 0; i < 8; i++) {
        u64 v = 0;
        for (int b = 7; b >= 0; b--)
            v = (v << 8) | bytes[i * 8 + b];
        regs[i] = v;
    }
}

u64 rsi_version(u64 requested, u64 *lower, u64 *higher)
{
    struct smc_result r = smc_call(RSI_VERSION, requested, 0, 0, 0);
    if (lower)
        *lower = r.x[1];
    if (higher)
        *higher = r.x[2];
    return r.x[0];
}

u64 rsi_features(u64 index, u64 *value)
{
    struct smc_result r = smc_call(RSI_FEATURES, index, 0, 0, 0);
    if (value)
        *value = r.x[1];
    return r.x[0];
}

u64 rsi_measurement_read(u64 index, u8 out[64])
{
    struct smc_result r = smc_call(RSI_MEASUREMENT_READ, index, 0, 0, 0);
    for (int i = 0; i < 64; i++)
        out[i] = (u8)(r.x[1 + i / 8] >> (8 * (i % 8)));
    return r.x[0];
}

u64 rsi_measurement_extend(u64 index, u64 size, const u8 data[64])
{
    u64 in[11] = { RSI_MEASUREMENT_EXTEND, index, size };
    pack64(&in[3], data);
    struct smc_result r;
    smccc_smc(in, r.x);
    return r.x[0];
}

u64 rsi_attestation_token_init(const u8 challenge[64], u64 *max_size)
{
    u64 in[11] = { RSI_ATTESTATION_TOKEN_INIT };
    pack64(&in[1], challenge);
    struct smc_result r;
    smccc_smc(in, r.x);
    if (max_size)
        *max_size = r.x[1];
    return r.x[0];
}

u64 rsi_attestation_token_continue(u64 granule, u64 offset, u64 size, u64 *len)
{
    struct smc_result r = smc_call(RSI_ATTESTATION_TOKEN_CONTINUE, granule, offset, size, 0);
    if (len)
        *len = r.x[1];
    return r.x[0];
}

u64 rsi_realm_config(u64 addr) { return smc_call(RSI_REALM_CONFIG, addr, 0, 0, 0).x[0]; }

u64 rsi_ipa_state_set(u64 base, u64 top, u64 ripas, u64 flags, u64 *next, u64 *response)
{
    struct smc_result r = smc_call(RSI_IPA_STATE_SET, base, top, ripas, flags);
    if (next)
        *next = r.x[1];
    if (response)
        *response = r.x[2];
    return r.x[0];
}

u64 rsi_ipa_state_get(u64 base, u64 top, u64 *out_top, u64 *ripas)
{
    struct smc_result r = smc_call(RSI_IPA_STATE_GET, base, top, 0, 0);
    if (out_top)
        *out_top = r.x[1];
    if (ripas)
        *ripas = r.x[2];
    return r.x[0];
}

u64 rsi_host_call(u64 addr) { return smc_call(RSI_HOST_CALL, addr, 0, 0, 0).x[0]; }

u64 rsi_set_ripas_range(u64 base, u64 top, u64 ripas, u64 flags)
{
    while (base < top) {
        u64 next, response;
        u64 s = rsi_ipa_state_set(base, top, ripas, flags, &next, &response);
        if (s != RSI_SUCCESS)
            return s;
        /* §5.5 step 5: REJECT is reported only for RAM requests; x1 == base means the host changed nothing,
         * and asking again would loop forever. */
        if (response == RSI_REJECT || next <= base || next > top)
            return RSI_ERROR_STATE;
        base = next;
    }
    return RSI_SUCCESS;
}

u64 rsi_read_token(u8 *buf, u64 size, u64 *len)
{
    u64 total = 0;
    /* A bound on INCOMPLETE answers that copy nothing (signing in progress, rmm-1.0.md §5.7 last bullet), so a
     * broken host cannot hang the payload silently. */
    for (unsigned spins = 0; spins < 1000000; spins++) {
        if (total >= size)
            return RSI_ERROR_INPUT;
        /* Each CONTINUE writes within one granule: offset + size must not pass 4 KiB (rmm-1.0.md §6). */
        u64 granule = (u64)buf + (total & ~(PAGE_SIZE - 1));
        u64 offset = total & (PAGE_SIZE - 1);
        u64 copied = 0;
        u64 s = rsi_attestation_token_continue(granule, offset, PAGE_SIZE - offset, &copied);
        total += copied;
        if (s == RSI_SUCCESS) {
            *len = total;
            return RSI_SUCCESS;
        }
        if (s != RSI_INCOMPLETE)
            return s;
    }
    return RSI_ERROR_STATE;
}

u64 rsi_get_token(const u8 challenge[64], u8 *buf, u64 size, u64 *len)
{
    u64 max;
    u64 s = rsi_attestation_token_init(challenge, &max);
    if (s != RSI_SUCCESS)
        return s;
    return rsi_read_token(buf, size, len);
}
