/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Stable LSD radix sort of key columns into a permutation (see sort_radix.h).  Groups of keys
 * are sorted from the least significant group up, each with counting passes over (word,
 * record) pairs; every pass is stable and the first starts from the identity, so the result is
 * the lexicographic order with ties in input order, which is what numpy's lexsort gives.
 */
#include "config.h"

#include "cmd/sort_radix.h"

#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define DIGIT_BITS 11u
#define DIGITS (1u << DIGIT_BITS)
#define MAX_PASSES ((64u + DIGIT_BITS - 1) / DIGIT_BITS)
#define MAX_RADIX_KEYS 64

uint64_t fm_sort_key_at(const fm_sort_key_t *k, size_t i)
{
    const uint8_t *p = k->data;

    switch (k->code) {
    case 'B': return p[i];
    case 'H': return ((const uint16_t *)p)[i];
    case 'I': return ((const uint32_t *)p)[i];
    case 'L':
    case 'Q': return ((const uint64_t *)p)[i];
    case 'b': return (uint64_t)(int64_t)((const int8_t *)p)[i] ^ (1ull << 63);
    case 'h': return (uint64_t)(int64_t)((const int16_t *)p)[i] ^ (1ull << 63);
    case 'i': return (uint64_t)(int64_t)((const int32_t *)p)[i] ^ (1ull << 63);
    case 'l':
    case 'q': return (uint64_t)((const int64_t *)p)[i] ^ (1ull << 63);
    default: break;
    }
    double d = k->code == 'f' ? ((const float *)p)[i] : ((const double *)p)[i];
    uint64_t u;
    memcpy(&u, &d, sizeof(u));
    /* IEEE order: flip all bits of negatives, only the sign bit of positives. */
    return (u >> 63) ? ~u : u ^ (1ull << 63);
}

/* Images of items from..from+m-1 into out: the type switch once per block, not per item. */
static void key_block(const fm_sort_key_t *k, size_t from, size_t m, uint64_t *out)
{
    const uint8_t *p = k->data;

    switch (k->code) {
    case 'B': for (size_t i = 0; i < m; i++) out[i] = p[from + i]; return;
    case 'H': for (size_t i = 0; i < m; i++) out[i] = ((const uint16_t *)p)[from + i]; return;
    case 'I': for (size_t i = 0; i < m; i++) out[i] = ((const uint32_t *)p)[from + i]; return;
    default:
        for (size_t i = 0; i < m; i++) {
            out[i] = fm_sort_key_at(k, from + i);
        }
        return;
    }
}

uint64_t fm_sort_radix_bytes(size_t n)
{
    return (uint64_t)n * (2 * sizeof(uint64_t) + 2 * sizeof(uint32_t));
}

static unsigned bit_length(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0;
}

typedef struct {
    uint64_t *w, *wt; /* words and their scratch */
    uint32_t *p, *pt; /* records and their scratch */
    size_t n;
    bool moved;       /* p is no longer the identity */
} radix_t;

/* Sort (w, p) stably by the low `bits` bits of w. */
static int radix_words(radix_t *r, unsigned bits)
{
    unsigned passes = (bits + DIGIT_BITS - 1) / DIGIT_BITS;
    size_t(*cnt)[DIGITS] = calloc(passes ? passes : 1, sizeof(*cnt));

    if (!cnt) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < r->n; i++) { /* every pass's histogram in one read */
        uint64_t x = r->w[i];
        for (unsigned d = 0; d < passes; d++) {
            cnt[d][(x >> (d * DIGIT_BITS)) & (DIGITS - 1)]++;
        }
    }
    for (unsigned d = 0; d < passes; d++) {
        unsigned sh = d * DIGIT_BITS;
        if (cnt[d][(r->w[0] >> sh) & (DIGITS - 1)] == r->n) {
            continue; /* one digit value for all: the pass would not move anything */
        }
        size_t off = 0;
        for (unsigned b = 0; b < DIGITS; b++) {
            size_t c = cnt[d][b];
            cnt[d][b] = off;
            off += c;
        }
        for (size_t i = 0; i < r->n; i++) {
            uint64_t x = r->w[i];
            size_t pos = cnt[d][(x >> sh) & (DIGITS - 1)]++;
            r->wt[pos] = x;
            r->pt[pos] = r->p[i];
        }
        r->moved = true;
        uint64_t *tw = r->w;
        r->w = r->wt;
        r->wt = tw;
        uint32_t *tp = r->p;
        r->p = r->pt;
        r->pt = tp;
    }
    free(cnt);
    return 0;
}

/* Words of keys lo..hi (hi least significant) for the records in current order. */
static void fill_words(radix_t *r, const fm_sort_key_t *keys, int lo, int hi,
                       const uint64_t *min, const unsigned *width)
{
    unsigned shift = 0;

    memset(r->w, 0, r->n * sizeof(uint64_t));
    for (int k = hi; k >= lo; k--) {
        if (width[k] == 0) {
            continue; /* constant key: orders nothing */
        }
        if (!r->moved) { /* records still in input order: read the column sequentially */
            uint64_t v[1024];
            for (size_t j = 0; j < r->n; j += 1024) {
                size_t m = r->n - j < 1024 ? r->n - j : 1024;
                key_block(&keys[k], j, m, v);
                for (size_t i = 0; i < m; i++) {
                    r->w[j + i] |= (v[i] - min[k]) << shift;
                }
            }
        } else {
            for (size_t j = 0; j < r->n; j++) {
                r->w[j] |= (fm_sort_key_at(&keys[k], r->p[j]) - min[k]) << shift;
            }
        }
        shift += width[k];
    }
}

uint32_t *fm_sort_radix(const fm_sort_key_t *keys, int nkeys, size_t n, bool reverse)
{
    uint64_t min[MAX_RADIX_KEYS];
    unsigned width[MAX_RADIX_KEYS];
    radix_t r = {.n = n};
    int ok = n <= UINT32_MAX && nkeys > 0 && nkeys <= MAX_RADIX_KEYS;

    for (int k = 0; ok && k < nkeys; k++) {
        uint64_t lo = UINT64_MAX, hi = 0, v[1024];
        for (size_t j = 0; j < n; j += 1024) {
            size_t b = n - j < 1024 ? n - j : 1024;
            key_block(&keys[k], j, b, v);
            for (size_t i = 0; i < b; i++) {
                lo = v[i] < lo ? v[i] : lo;
                hi = v[i] > hi ? v[i] : hi;
            }
        }
        min[k] = lo;
        width[k] = n ? bit_length(hi - lo) : 0;
    }
    size_t m = n ? n : 1;
    ok = ok && (r.w = malloc(m * sizeof(uint64_t))) && (r.wt = malloc(m * sizeof(uint64_t))) &&
         (r.p = malloc(m * sizeof(uint32_t))) && (r.pt = malloc(m * sizeof(uint32_t)));
    for (size_t i = 0; ok && i < n; i++) {
        r.p[i] = (uint32_t)i;
    }
    /* Least significant group first: each group packs as many keys as fit in 64 bits. */
    for (int hi = nkeys - 1; ok && hi >= 0;) {
        int lo = hi;
        unsigned bits = width[hi];
        while (lo > 0 && bits + width[lo - 1] <= 64) {
            bits += width[--lo];
        }
        fill_words(&r, keys, lo, hi, min, width);
        ok = radix_words(&r, bits) == 0;
        hi = lo - 1;
    }
    for (size_t i = 0; ok && reverse && i < n / 2; i++) {
        uint32_t t = r.p[i];
        r.p[i] = r.p[n - 1 - i];
        r.p[n - 1 - i] = t;
    }
    free(r.w);
    free(r.wt);
    free(r.pt);
    if (!ok) {
        free(r.p);
        return NULL;
    }
    return r.p;
}
