/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Crypto-PAn prefix-preserving IPv4 anonymisation (Xu, Fan, Ammar, Moon), as flow-models'
 * lib/cryptopan.py does it: AES-128 with the first 16 key bytes, the pad = AES(last 16 bytes);
 * output bit i = the top bit of AES(the address's first i bits followed by the pad's bits),
 * XORed with the address.
 */
#pragma once

#include <stdint.h>

typedef struct {
    uint32_t rk[44];  /* AES-128 round keys */
    uint8_t pad[16];
} fm_cryptopan_t;

/** Set up from a 32-byte key. */
void fm_cryptopan_init(fm_cryptopan_t *cp, const uint8_t key[32]);

/** The anonymised address (host byte order in and out). */
uint32_t fm_cryptopan_ipv4(const fm_cryptopan_t *cp, uint32_t addr);
