/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histograms in flow-models binning.  With bin exponent b > 0 a value's bin follows from its bit
 * length alone: values below 2^b have exact bins, and each octave [2^k, 2^(k+1)) above is cut into
 * 2^(b-1) bins.  So a histogram is a "low" block of 2^b exact bins plus one block of 2^(b-1) bins
 * per octave, each allocated on first use: adding a flow is a shift, a subtraction and three
 * additions, never a search.  b = 0 (one bin per value) uses a dense block for small values and
 * an open-addressing hash table above it.  Sums saturate at UINT64_MAX and count an overflow.
 */
#include "config.h"
#include "hist.h"
#include "hist_int.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "util/err.h"
#include "util/mem.h"

typedef struct {
    uint64_t flows, packets, octets;
} sums_t;

/* b = 0: values below this are a dense array, the rest go to the hash table. */
#define B0_DENSE 65536u

typedef struct {
    uint64_t x;
    sums_t s;
    bool used;
} b0_slot_t;

struct fm_hist {
    unsigned b;
    sums_t *low;          /* b > 0: 2^b exact bins; b = 0: B0_DENSE exact bins */
    sums_t *octave[64];   /* b > 0: octave k (bit length k+1 > b) → 2^(b-1) bins */
    b0_slot_t *map;       /* b = 0: values >= B0_DENSE */
    size_t map_cap, map_used;
    size_t nbins;         /* non-empty bins */
    uint64_t overflows;
};

static const char *const metric_names[FM_METRIC_COUNT] = {"length", "size", "duration"};
static const char *const dir_names[FM_DIR_COUNT] = {"uniflow", "biflow"};

const char *fm_metric_name(fm_metric_t m)
{
    return (unsigned)m < FM_METRIC_COUNT ? metric_names[m] : "?";
}

int fm_metric_parse(const char *name)
{
    for (int i = 0; i < FM_METRIC_COUNT; i++) {
        if (!strcasecmp(name, metric_names[i])) {
            return i;
        }
    }
    return -1;
}

const char *fm_dir_name(fm_dir_t d)
{
    return (unsigned)d < FM_DIR_COUNT ? dir_names[d] : "?";
}

int fm_dir_parse(const char *name)
{
    for (int i = 0; i < FM_DIR_COUNT; i++) {
        if (!strcasecmp(name, dir_names[i])) {
            return i;
        }
    }
    return -1;
}

static inline unsigned bitlen(uint64_t x)
{
    return x ? 64u - (unsigned)__builtin_clzll(x) : 0u;
}

void fm_hist_bin_of(uint64_t x, unsigned b, uint64_t *lo, uint64_t *hi)
{
    unsigned len = bitlen(x);
    if (b == 0 || len <= b) {
        *lo = x;
        *hi = x + 1; /* x = UINT64_MAX wraps to 0: such a value cannot come from a flow */
        return;
    }
    unsigned shift = len - b;
    *lo = x >> shift << shift;
    *hi = *lo + (1ull << shift);
}

int fm_hist_new(unsigned bin_exp, fm_hist_t **out)
{
    if (bin_exp > 30) {
        return FM_EINVAL; /* 2^b exact bins: beyond 2^30 the "low" block alone is too big */
    }
    fm_hist_t *h = calloc(1, sizeof(*h));
    if (!h) {
        return FM_ENOMEM;
    }
    h->b = bin_exp;
    *out = h;
    return 0;
}

void fm_hist_free(fm_hist_t *h)
{
    if (!h) {
        return;
    }
    free(h->low);
    for (unsigned k = 0; k < 64; k++) {
        free(h->octave[k]);
    }
    free(h->map);
    free(h);
}

unsigned fm_hist_bin_exp(const fm_hist_t *h)
{
    return h->b;
}

static inline void sat_add(fm_hist_t *h, uint64_t *sum, uint64_t v)
{
    if (__builtin_add_overflow(*sum, v, sum)) {
        *sum = UINT64_MAX;
        h->overflows++;
    }
}

static inline void add_to(fm_hist_t *h, sums_t *s, uint64_t flows, uint64_t packets,
                          uint64_t octets)
{
    if (s->flows == 0) {
        h->nbins++;
    }
    sat_add(h, &s->flows, flows);
    sat_add(h, &s->packets, packets);
    sat_add(h, &s->octets, octets);
}

static size_t low_size(const fm_hist_t *h)
{
    return h->b ? (size_t)1 << h->b : B0_DENSE;
}

static b0_slot_t *map_slot(fm_hist_t *h, uint64_t x);

/* The sums cell of value x, allocating its block; NULL only when out of memory. */
static sums_t *cell(fm_hist_t *h, uint64_t x)
{
    unsigned len = bitlen(x);
    if (h->b == 0 ? x < B0_DENSE : len <= h->b) {
        if (!h->low && !(h->low = calloc(low_size(h), sizeof(sums_t)))) {
            return NULL;
        }
        return &h->low[x];
    }
    if (h->b == 0) {
        b0_slot_t *s = map_slot(h, x);
        return s ? &s->s : NULL;
    }
    unsigned k = len - 1, shift = len - h->b;
    size_t half = (size_t)1 << (h->b - 1);
    if (!h->octave[k] && !(h->octave[k] = calloc(half, sizeof(sums_t)))) {
        return NULL;
    }
    return &h->octave[k][(x >> shift) - half];
}

static size_t hash64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return (size_t)x;
}

static int map_grow(fm_hist_t *h)
{
    size_t cap = h->map_cap ? h->map_cap * 2 : 1024;
    b0_slot_t *m = calloc(cap, sizeof(*m));
    if (!m) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < h->map_cap; i++) {
        if (h->map[i].used) {
            size_t j = hash64(h->map[i].x) & (cap - 1);
            while (m[j].used) {
                j = (j + 1) & (cap - 1);
            }
            m[j] = h->map[i];
        }
    }
    free(h->map);
    h->map = m;
    h->map_cap = cap;
    return 0;
}

static b0_slot_t *map_slot(fm_hist_t *h, uint64_t x)
{
    if ((h->map_used + 1) * 2 > h->map_cap && map_grow(h) < 0) {
        return NULL;
    }
    size_t j = hash64(x) & (h->map_cap - 1);
    while (h->map[j].used && h->map[j].x != x) {
        j = (j + 1) & (h->map_cap - 1);
    }
    if (!h->map[j].used) {
        h->map[j].used = true;
        h->map[j].x = x;
        h->map_used++;
    }
    return &h->map[j];
}

void fm_hist_add(fm_hist_t *h, uint64_t x, uint64_t packets, uint64_t octets)
{
    sums_t *s = cell(h, x);
    if (!s) {
        h->overflows++; /* out of memory for a new block: counted, never a crash */
        return;
    }
    add_to(h, s, 1, packets, octets);
}

int fm_hist_add_bin(fm_hist_t *h, const fm_hist_bin_t *bin)
{
    uint64_t lo, hi;
    fm_hist_bin_of(bin->lo, h->b, &lo, &hi);
    if (lo != bin->lo || hi != bin->hi) {
        return FM_EINVAL;
    }
    if (bin->flows == 0 && bin->packets == 0 && bin->octets == 0) {
        return 0;
    }
    sums_t *s = cell(h, bin->lo);
    if (!s) {
        return FM_ENOMEM;
    }
    if (bin->flows == 0 && s->flows == 0) {
        h->nbins++; /* a bin with sums but no flows (not produced by add) still counts */
    }
    add_to(h, s, bin->flows, bin->packets, bin->octets);
    return 0;
}

void fm_hist_clear(fm_hist_t *h)
{
    if (h->low) {
        memset(h->low, 0, low_size(h) * sizeof(sums_t));
    }
    for (unsigned k = 0; k < 64; k++) {
        free(h->octave[k]);
        h->octave[k] = NULL;
    }
    free(h->map);
    h->map = NULL;
    h->map_cap = h->map_used = 0;
    h->nbins = 0;
    h->overflows = 0;
}

size_t fm_hist_count(const fm_hist_t *h)
{
    return h->nbins;
}

uint64_t fm_hist_overflows(const fm_hist_t *h)
{
    return h->overflows;
}

/* Visit every non-empty bin in ascending order. */
typedef void (*visit_fn)(void *ctx, const fm_hist_bin_t *bin);

static int cmp_slot(const void *a, const void *b)
{
    uint64_t x = (*(b0_slot_t *const *)a)->x, y = (*(b0_slot_t *const *)b)->x;
    return x < y ? -1 : x > y;
}

static void emit(visit_fn fn, void *ctx, uint64_t lo, uint64_t hi, const sums_t *s)
{
    if (s->flows || s->packets || s->octets) {
        fm_hist_bin_t b = {lo, hi, s->flows, s->packets, s->octets};
        fn(ctx, &b);
    }
}

static int visit(const fm_hist_t *h, visit_fn fn, void *ctx)
{
    if (h->low) {
        for (size_t x = 0; x < low_size(h); x++) {
            emit(fn, ctx, x, x + 1, &h->low[x]);
        }
    }
    if (h->b == 0) {
        if (h->map_used == 0) {
            return 0;
        }
        b0_slot_t **order = malloc(h->map_used * sizeof(*order));
        size_t n = 0;
        if (!order) {
            return FM_ENOMEM;
        }
        for (size_t i = 0; i < h->map_cap; i++) {
            if (h->map[i].used) {
                order[n++] = &h->map[i];
            }
        }
        qsort(order, n, sizeof(*order), cmp_slot);
        for (size_t i = 0; i < n; i++) {
            emit(fn, ctx, order[i]->x, order[i]->x + 1, &order[i]->s);
        }
        free(order);
        return 0;
    }
    size_t half = (size_t)1 << (h->b - 1);
    for (unsigned k = h->b; k < 64; k++) {
        if (!h->octave[k]) {
            continue;
        }
        unsigned shift = k + 1 - h->b;
        for (size_t i = 0; i < half; i++) {
            uint64_t lo = (uint64_t)(half + i) << shift;
            emit(fn, ctx, lo, lo + (1ull << shift), &h->octave[k][i]);
        }
    }
    return 0;
}

static void count_totals(void *ctx, const fm_hist_bin_t *b)
{
    uint64_t *t = ctx;
    t[0] += b->flows;
    t[1] += b->packets;
    t[2] += b->octets;
}

void fm_hist_totals(const fm_hist_t *h, uint64_t *flows, uint64_t *packets, uint64_t *octets)
{
    uint64_t t[3] = {0, 0, 0};
    visit(h, count_totals, t);
    if (flows) {
        *flows = t[0];
    }
    if (packets) {
        *packets = t[1];
    }
    if (octets) {
        *octets = t[2];
    }
}

typedef struct {
    fm_hist_bin_t *bins;
    size_t n, cap;
    bool oom;
} collect_t;

static void collect(void *ctx, const fm_hist_bin_t *b)
{
    collect_t *c = ctx;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        fm_hist_bin_t *nb = realloc(c->bins, cap * sizeof(*nb));
        if (!nb) {
            c->oom = true;
            return;
        }
        c->bins = nb;
        c->cap = cap;
    }
    c->bins[c->n++] = *b;
}

long fm_hist_bins(const fm_hist_t *h, fm_hist_bin_t **bins)
{
    collect_t c = {0};
    if (visit(h, collect, &c) < 0 || c.oom) {
        free(c.bins);
        *bins = NULL;
        return FM_ENOMEM;
    }
    *bins = c.bins;
    return (long)c.n;
}

static void merge_one(void *ctx, const fm_hist_bin_t *b)
{
    fm_hist_add_bin(ctx, b);
}

int fm_hist_merge(fm_hist_t *dst, const fm_hist_t *src)
{
    if (dst->b != src->b) {
        return FM_EINVAL;
    }
    dst->overflows += src->overflows;
    return visit(src, merge_one, dst);
}

static void write_row(void *ctx, const fm_hist_bin_t *b)
{
    fprintf(ctx, "%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "\n", b->lo, b->hi,
            b->flows, b->packets, b->octets);
}

int fm_hist_write_csv(const fm_hist_t *h, FILE *out)
{
    fputs("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n", out);
    int rc = visit(h, write_row, out);
    return rc < 0 ? rc : ferror(out) ? FM_EIO : 0;
}

/* Column positions of the five base columns in a csv_hist header; extra columns are ignored. */
static int parse_header(char *line, int pos[5])
{
    static const char *const names[5] = {"bin_lo", "bin_hi", "flows_sum", "packets_sum",
                                         "octets_sum"};
    char *save = NULL, *tok;
    int col = 0;
    for (int i = 0; i < 5; i++) {
        pos[i] = -1;
    }
    for (tok = strtok_r(line, ",\r\n", &save); tok; tok = strtok_r(NULL, ",\r\n", &save), col++) {
        for (int i = 0; i < 5; i++) {
            if (!strcmp(tok, names[i])) {
                pos[i] = col;
            }
        }
    }
    for (int i = 0; i < 5; i++) {
        if (pos[i] < 0) {
            return FM_EFORMAT;
        }
    }
    return 0;
}

static int parse_row(char *line, const int pos[5], fm_hist_bin_t *b)
{
    uint64_t *fields[5] = {&b->lo, &b->hi, &b->flows, &b->packets, &b->octets};
    char *p = line;
    int found = 0;
    for (int col = 0; *p && *p != '\n' && *p != '\r'; col++) {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(p, &end, 10);
        bool numeric = end != p && *p != '-' && errno == 0;
        for (int i = 0; i < 5; i++) {
            if (pos[i] == col) {
                if (!numeric || (*end && *end != ',' && *end != '\n' && *end != '\r')) {
                    return FM_EFORMAT;
                }
                *fields[i] = v;
                found++;
            }
        }
        p = strchr(p, ',');
        if (!p) {
            break;
        }
        p++;
    }
    return found == 5 && b->hi > b->lo ? 0 : FM_EFORMAT;
}

int fm_hist_read_csv(const char *path, fm_hist_bin_t **bins, size_t *n)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, nb = 0, alloc = 0;
    fm_hist_bin_t *arr = NULL;
    int pos[5], rc = 0;
    unsigned lineno = 1;

    if (!f) {
        rc = -errno;
        fm_log_err("hist, cannot open %s: %s", path, strerror(errno));
        return rc;
    }
    if (getline(&line, &cap, f) < 0 || parse_header(line, pos) < 0) {
        fm_log_err("hist, %s:1: expected a header with bin_lo,bin_hi,flows_sum,packets_sum,"
                   "octets_sum", path);
        rc = FM_EFORMAT;
        goto out;
    }
    while (getline(&line, &cap, f) >= 0) {
        lineno++;
        if (line[0] == '\n' || line[0] == '\0') {
            continue;
        }
        if (nb == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            arr = fm_xreallocarray(arr, alloc, sizeof(*arr));
        }
        if (parse_row(line, pos, &arr[nb]) < 0) {
            fm_log_err("hist, %s:%u: malformed histogram row", path, lineno);
            rc = FM_EFORMAT;
            goto out;
        }
        nb++;
    }
out:
    free(line);
    fclose(f);
    if (rc < 0) {
        free(arr);
        return rc;
    }
    *bins = arr;
    *n = nb;
    return 0;
}

size_t fm__hist_memory(const fm_hist_t *h)
{
    size_t bytes = sizeof(*h) + h->map_cap * sizeof(b0_slot_t);
    if (h->low) {
        bytes += low_size(h) * sizeof(sums_t);
    }
    for (unsigned k = 0; k < 64; k++) {
        if (h->octave[k]) {
            bytes += ((size_t)1 << (h->b - 1)) * sizeof(sums_t);
        }
    }
    return bytes;
}
