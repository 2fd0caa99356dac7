/* Realm Services Interface 1.0 (DEN0137 1.0-rel0; rmm-1.0.md §6). Every call is an SMC with the FID in x0,
 * arguments in x1..x10 and results in x0..x8. With the MMU off (or identity-mapped) an address is its IPA. */
#ifndef GUEST_RSI_H
#define GUEST_RSI_H

#include "types.h"

#define RSI_FID(n) (0xC4000190UL + (n))
#define RSI_VERSION RSI_FID(0)
#define RSI_FEATURES RSI_FID(1)
#define RSI_MEASUREMENT_READ RSI_FID(2)
#define RSI_MEASUREMENT_EXTEND RSI_FID(3)
#define RSI_ATTESTATION_TOKEN_INIT RSI_FID(4)
#define RSI_ATTESTATION_TOKEN_CONTINUE RSI_FID(5)
#define RSI_REALM_CONFIG RSI_FID(6)
#define RSI_IPA_STATE_SET RSI_FID(7)
#define RSI_IPA_STATE_GET RSI_FID(8)
#define RSI_HOST_CALL RSI_FID(9)

#define RSI_ABI_VERSION 0x10000UL /* 1.0: major << 16 | minor */

/* Status codes (realm-platform.md §2.7). */
#define RSI_SUCCESS 0
#define RSI_ERROR_INPUT 1
#define RSI_ERROR_STATE 2
#define RSI_INCOMPLETE 3

#define RSI_RIPAS_EMPTY 0
#define RSI_RIPAS_RAM 1
#define RSI_RIPAS_DESTROYED 2
#define RSI_NO_CHANGE_DESTROYED 0
#define RSI_CHANGE_DESTROYED 1
#define RSI_ACCEPT 0
#define RSI_REJECT 1

#define RSI_HASH_SHA_256 0
#define RSI_HASH_SHA_512 1

/* RsiRealmConfig: one granule the RMM writes (rmm-1.0.md §4.6). */
struct rsi_realm_config {
    u64 ipa_width;
    u8 hash_algo;
    u8 reserved0[0x200 - 9];
    u8 rpv[64];
    u8 reserved1[0x1000 - 0x240];
} ALIGNED(4096);
_Static_assert(sizeof(struct rsi_realm_config) == 4096, "RsiRealmConfig is one granule");

/* RsiHostCall: 256 bytes, 256-byte aligned so it never crosses a granule (rmm-1.0.md §4.6, §5.6). */
struct rsi_host_call {
    u16 imm;
    u8 reserved[6];
    u64 gprs[31];
} ALIGNED(256);
_Static_assert(sizeof(struct rsi_host_call) == 256, "RsiHostCall is 256 bytes");

struct smc_result {
    u64 x[9];
};

/* Raw calls: in[0] = FID, in[1..10] = x1..x10. */
void smccc_smc(const u64 in[11], u64 out[9]);
void smccc_hvc(const u64 in[11], u64 out[9]);
struct smc_result smc_call(u64 fid, u64 a1, u64 a2, u64 a3, u64 a4);

u64 rsi_version(u64 requested, u64 *lower, u64 *higher);
u64 rsi_features(u64 index, u64 *value);
u64 rsi_measurement_read(u64 index, u8 out[64]);
u64 rsi_measurement_extend(u64 index, u64 size, const u8 data[64]);
u64 rsi_attestation_token_init(const u8 challenge[64], u64 *max_size);
u64 rsi_attestation_token_continue(u64 granule, u64 offset, u64 size, u64 *len);
u64 rsi_realm_config(u64 addr);
u64 rsi_ipa_state_set(u64 base, u64 top, u64 ripas, u64 flags, u64 *next, u64 *response);
u64 rsi_ipa_state_get(u64 base, u64 top, u64 *out_top, u64 *ripas);
u64 rsi_host_call(u64 addr);

/* IPA_STATE_SET repeated until the whole range changed (rmm-1.0.md §5.5 step 5: x1 = first address not
 * changed). Returns RSI_SUCCESS, the first error, or RSI_ERROR_STATE when the host made no progress or
 * rejected a change to RAM. */
u64 rsi_set_ripas_range(u64 base, u64 top, u64 ripas, u64 flags);

/* Obtain a whole token into buf (page aligned, `size` bytes, a multiple of 4 KiB): INIT with the challenge,
 * then CONTINUE granule by granule, repeating on INCOMPLETE (rmm-1.0.md §6, §9). Returns RSI_SUCCESS with *len
 * set, or the failing status. */
/* The CONTINUE loop alone, for a token whose INIT was already issued. */
u64 rsi_read_token(u8 *buf, u64 size, u64 *len);
u64 rsi_get_token(const u8 challenge[64], u8 *buf, u64 size, u64 *len);

#endif
