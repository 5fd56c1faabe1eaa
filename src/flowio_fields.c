/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow-models tuple (FLOW-MODELS-DETAIL §1): field names and codes, and the mapping between
 * fm_flow_t and the tuple of FM_FIELD_COUNT integers that every flow file format stores.  Both
 * the text formats (flowio.c) and the binary format (flowio_binary.c) use it, so it lives
 * apart from either.
 */
#include "config.h"

#include "flowio.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "flowio_int.h"
#include "util/err.h"

/* ------------------------------------------------------------------------------------------ */
/* The flow-models tuple                                                                       */

static const char *const field_names[FM_FIELD_COUNT] = {
    "af",  "prot", "inif", "outif", "sa0",   "sa1",      "sa2",  "sa3",     "da0",     "da1",
    "da2", "da3",  "sp",   "dp",    "first", "first_ms", "last", "last_ms", "packets", "octets",
    "aggs",
};
static const char field_codes[FM_FIELD_COUNT + 1] = "BBHHIIIIIIIIHHIHIHQQI";

const char *fm_field_name(int field)
{
    return field >= 0 && field < FM_FIELD_COUNT ? field_names[field] : NULL;
}

int fm_field_parse(const char *name)
{
    for (int i = 0; i < FM_FIELD_COUNT; i++) {
        if (strcmp(name, field_names[i]) == 0) {
            return i;
        }
    }
    return FM_EINVAL;
}

char fm_field_code(int field)
{
    return field >= 0 && field < FM_FIELD_COUNT ? field_codes[field] : '\0';
}

static void addr_to_words(const uint8_t a[16], bool v6, uint64_t *w)
{
    if (!v6 && fm_flow_is_v4mapped(a)) {
        w[0] = w[1] = w[2] = 0;
        w[3] = fm_flow_get_v4(a);
        return;
    }
    for (int i = 0; i < 4; i++) {
        w[i] = (uint64_t)a[4 * i] << 24 | (uint64_t)a[4 * i + 1] << 16 |
               (uint64_t)a[4 * i + 2] << 8 | a[4 * i + 3];
    }
}

/* IPv4 records carry the address in the last word (DETAIL §1.1); anything else with non-zero
 * upper words is kept as the raw 128 bits so it survives a round trip. */
static void words_to_addr(const uint64_t *w, bool v6, uint8_t a[16])
{
    if (!v6 && w[0] == 0 && w[1] == 0 && w[2] == 0) {
        fm_flow_set_v4(a, (uint32_t)w[3]);
        return;
    }
    for (int i = 0; i < 4; i++) {
        a[4 * i] = (uint8_t)(w[i] >> 24);
        a[4 * i + 1] = (uint8_t)(w[i] >> 16);
        a[4 * i + 2] = (uint8_t)(w[i] >> 8);
        a[4 * i + 3] = (uint8_t)w[i];
    }
}

void fm_flow_to_tuple(const fm_flow_t *f, uint64_t t[FM_FIELD_COUNT])
{
    bool v6 = f->af == FM_AF_INET6;

    t[FM_FIELD_AF] = f->af;
    t[FM_FIELD_PROT] = f->proto;
    t[FM_FIELD_INIF] = f->inif;
    t[FM_FIELD_OUTIF] = f->outif;
    addr_to_words(f->src, v6, &t[FM_FIELD_SA0]);
    addr_to_words(f->dst, v6, &t[FM_FIELD_DA0]);
    t[FM_FIELD_SP] = f->sport;
    t[FM_FIELD_DP] = f->dport;
    t[FM_FIELD_FIRST] = f->first_ms / 1000;
    t[FM_FIELD_FIRST_MS] = f->first_ms % 1000;
    t[FM_FIELD_LAST] = f->last_ms / 1000;
    t[FM_FIELD_LAST_MS] = f->last_ms % 1000;
    t[FM_FIELD_PACKETS] = f->packets;
    t[FM_FIELD_OCTETS] = f->octets;
    t[FM_FIELD_AGGS] = f->records;
}

/* Largest accepted value per field; times are limited so that seconds * 1000 + ms fits. */
static const uint64_t field_maxima[FM_FIELD_COUNT] = {
    [FM_FIELD_AF] = UINT8_MAX,
    [FM_FIELD_PROT] = UINT8_MAX,
    [FM_FIELD_INIF] = UINT32_MAX,
    [FM_FIELD_OUTIF] = UINT32_MAX,
    [FM_FIELD_SA0] = UINT32_MAX,
    [FM_FIELD_SA1] = UINT32_MAX,
    [FM_FIELD_SA2] = UINT32_MAX,
    [FM_FIELD_SA3] = UINT32_MAX,
    [FM_FIELD_DA0] = UINT32_MAX,
    [FM_FIELD_DA1] = UINT32_MAX,
    [FM_FIELD_DA2] = UINT32_MAX,
    [FM_FIELD_DA3] = UINT32_MAX,
    [FM_FIELD_SP] = UINT16_MAX,
    [FM_FIELD_DP] = UINT16_MAX,
    [FM_FIELD_FIRST] = UINT64_MAX / 1000 - 1,
    [FM_FIELD_FIRST_MS] = 999,
    [FM_FIELD_LAST] = UINT64_MAX / 1000 - 1,
    [FM_FIELD_LAST_MS] = 999,
    [FM_FIELD_PACKETS] = UINT64_MAX,
    [FM_FIELD_OCTETS] = UINT64_MAX,
    [FM_FIELD_AGGS] = UINT32_MAX,
};

uint64_t fm__field_max(int i)
{
    return field_maxima[i];
}

int fm_flow_from_tuple(const uint64_t t[FM_FIELD_COUNT], fm_flow_t *f, int *bad_field)
{
    for (int i = 0; i < FM_FIELD_COUNT; i++) {
        if (t[i] > field_maxima[i]) {
            if (bad_field) {
                *bad_field = i;
            }
            return FM_ERANGE;
        }
    }
    memset(f, 0, sizeof(*f));
    f->af = (uint8_t)t[FM_FIELD_AF];
    f->proto = (uint8_t)t[FM_FIELD_PROT];
    f->inif = (uint32_t)t[FM_FIELD_INIF];
    f->outif = (uint32_t)t[FM_FIELD_OUTIF];
    words_to_addr(&t[FM_FIELD_SA0], f->af == FM_AF_INET6, f->src);
    words_to_addr(&t[FM_FIELD_DA0], f->af == FM_AF_INET6, f->dst);
    f->sport = (uint16_t)t[FM_FIELD_SP];
    f->dport = (uint16_t)t[FM_FIELD_DP];
    f->first_ms = t[FM_FIELD_FIRST] * 1000 + t[FM_FIELD_FIRST_MS];
    f->last_ms = t[FM_FIELD_LAST] * 1000 + t[FM_FIELD_LAST_MS];
    f->packets = t[FM_FIELD_PACKETS];
    f->octets = t[FM_FIELD_OCTETS];
    f->records = (uint32_t)t[FM_FIELD_AGGS];
    f->sampling = 1;
    f->fwd_first = 1;
    return 0;
}

