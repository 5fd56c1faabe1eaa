/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histograms in flow-models binning.  With bin exponent b > 0 a value's bin follows from its bit
 * length alone: values below 2^b have exact bins, and each octave [2^k, 2^(k+1)) above is cut into
 * 2^(b-1) bins.  So a histogram is one block of cells per octave, addressed by the bit length and
 * a shift, and allocated in chunks on first use: adding a flow is a count-leading-zeros, a shift,
 * two loads and three additions, never a search.  b = 0 (one bin per value) is the same with
 * exact bins in every octave; octaves too wide for direct cells (above 2^21 with b = 0 or
 * b > 21) use an open-addressing hash table keyed by bin_lo.  Sums saturate at UINT64_MAX and
 * count an overflow.  Writing and reading flow-models csv_hist files is here too.
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

/*
 * Octave k holds the values of bit length k + 1, [2^k, 2^(k+1)), in 2^nbits(k) bins.  Its cells
 * live in chunks of CHUNK cells reached through a per-octave pointer array, both allocated on
 * first use, so memory follows the occupied range.  Octaves of more than 2^MAX_DIRECT_BITS bins
 * (only b = 0 or b > MAX_DIRECT_BITS + 1, above 2^21) go to a hash map keyed by bin_lo instead.
 */
#define CHUNK_BITS 6u
#define CHUNK (1u << CHUNK_BITS)
#define MAX_DIRECT_BITS 20u
#define MAX_BIN_EXP 63u

typedef struct {
    uint64_t lo;
    sums_t s;
    bool used;
} map_slot_t;

struct fm_hist {
    unsigned b;
    sums_t zero;            /* x = 0 (bit length 0) */
    sums_t **octave[64];    /* chunk pointer arrays, NULL until the octave is used */
    map_slot_t *map;        /* bins of the octaves too wide for chunks */
    size_t map_cap, map_used;
    size_t chunk_bytes;     /* allocated chunk memory, for fm__hist_memory */
    size_t nbins;           /* non-empty bins */
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
    return FM_EINVAL;
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
    return FM_EINVAL;
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
    *hi = *lo + (1ull << shift); /* wraps to 0 for the top bin of the 64-bit range */
}

/* log2 of the number of bins of octave k: exact bins while the octave is narrower than 2^(b-1). */
static inline unsigned nbits(unsigned b, unsigned k)
{
    return b == 0 || k < b ? k : b - 1;
}

int fm_hist_new(unsigned bin_exp, fm_hist_t **out)
{
    if (bin_exp > MAX_BIN_EXP) {
        return FM_EINVAL;
    }
    fm_hist_t *h = calloc(1, sizeof(*h));
    if (!h) {
        return FM_ENOMEM;
    }
    h->b = bin_exp;
    *out = h;
    return 0;
}

static size_t octave_chunks(unsigned nb)
{
    return nb > CHUNK_BITS ? (size_t)1 << (nb - CHUNK_BITS) : 1;
}

static void free_storage(fm_hist_t *h)
{
    for (unsigned k = 0; k < 64; k++) {
        if (!h->octave[k]) {
            continue;
        }
        size_t n = octave_chunks(nbits(h->b, k));
        for (size_t c = 0; c < n; c++) {
            free(h->octave[k][c]);
        }
        free(h->octave[k]);
        h->octave[k] = NULL;
    }
    free(h->map);
    h->map = NULL;
    h->map_cap = h->map_used = h->chunk_bytes = 0;
}

void fm_hist_free(fm_hist_t *h)
{
    if (!h) {
        return;
    }
    free_storage(h);
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

static inline bool empty(const sums_t *s)
{
    return (s->flows | s->packets | s->octets) == 0;
}

static inline void add_to(fm_hist_t *h, sums_t *s, uint64_t flows, uint64_t packets,
                          uint64_t octets)
{
    bool was_empty = empty(s);
    sat_add(h, &s->flows, flows);
    sat_add(h, &s->packets, packets);
    sat_add(h, &s->octets, octets);
    h->nbins += was_empty && !empty(s);
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
    size_t cap = h->map_cap ? h->map_cap * 2 : 256;
    map_slot_t *m = calloc(cap, sizeof(*m));
    if (!m) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < h->map_cap; i++) {
        if (h->map[i].used) {
            size_t j = hash64(h->map[i].lo) & (cap - 1);
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

/* The map cell of bin lo (created empty); NULL when out of memory. */
static sums_t *map_cell(fm_hist_t *h, uint64_t lo)
{
    if ((h->map_used + 1) * 2 > h->map_cap && map_grow(h) < 0) {
        return NULL;
    }
    size_t j = hash64(lo) & (h->map_cap - 1);
    while (h->map[j].used && h->map[j].lo != lo) {
        j = (j + 1) & (h->map_cap - 1);
    }
    if (!h->map[j].used) {
        h->map[j].used = true;
        h->map[j].lo = lo;
        h->map_used++;
    }
    return &h->map[j].s;
}

/* Allocate the chunk holding index idx of octave k; NULL when out of memory. */
static sums_t *new_chunk(fm_hist_t *h, unsigned k, unsigned nb, size_t idx)
{
    if (!h->octave[k] && !(h->octave[k] = calloc(octave_chunks(nb), sizeof(sums_t *)))) {
        return NULL;
    }
    sums_t **slot = &h->octave[k][idx >> CHUNK_BITS];
    if (!*slot) {
        size_t cells = nb < CHUNK_BITS ? (size_t)1 << nb : CHUNK;
        if (!(*slot = calloc(cells, sizeof(sums_t)))) {
            return NULL;
        }
        h->chunk_bytes += cells * sizeof(sums_t);
    }
    return &(*slot)[idx & (CHUNK - 1)];
}

/* The sums cell of value x's bin, allocating on first use; NULL only when out of memory. */
static inline sums_t *cell(fm_hist_t *h, uint64_t x)
{
    if (x == 0) {
        return &h->zero;
    }
    unsigned k = 63u - (unsigned)__builtin_clzll(x), nb = nbits(h->b, k), shift = k - nb;
    if (nb > MAX_DIRECT_BITS) {
        return map_cell(h, x >> shift << shift);
    }
    size_t idx = (size_t)(x >> shift) - ((size_t)1 << nb);
    sums_t **chunks = h->octave[k];
    sums_t *chunk = chunks ? chunks[idx >> CHUNK_BITS] : NULL;
    if (__builtin_expect(chunk != NULL, 1)) {
        return &chunk[idx & (CHUNK - 1)];
    }
    return new_chunk(h, k, nb, idx);
}

void fm_hist_add(fm_hist_t *h, uint64_t x, uint64_t packets, uint64_t octets)
{
    sums_t *s = cell(h, x);
    if (!s) {
        h->overflows++; /* out of memory for a new chunk: counted, never a crash */
        return;
    }
    add_to(h, s, 1, packets, octets);
}

/* A bin kept in the hash map: its cell moves when a later op of the batch grows the map. */
static inline bool in_map(const fm_hist_t *h, uint64_t x)
{
    return x && nbits(h->b, 63u - (unsigned)__builtin_clzll(x)) > MAX_DIRECT_BITS;
}

static char map_later; /* cells[i] of an op whose map cell is looked up when it is added */

void fm__hist_add_batch(const fm__hist_op_t *ops, size_t n, void **cells)
{
    for (size_t i = 0; i < n; i++) {
        if (in_map(ops[i].h, ops[i].x)) {
            cells[i] = &map_later;
            continue;
        }
        sums_t *c = cell(ops[i].h, ops[i].x);
        cells[i] = c;
        if (c) {
            __builtin_prefetch(c, 1, 3);
        }
    }
    for (size_t i = 0; i < n; i++) {
        sums_t *c = cells[i] == &map_later ? cell(ops[i].h, ops[i].x) : cells[i];
        if (!c) {
            ops[i].h->overflows++; /* out of memory for a new chunk */
            continue;
        }
        add_to(ops[i].h, c, 1, ops[i].packets, ops[i].octets);
    }
}

void fm_hist_add_n(fm_hist_t *h, const uint64_t *x, const uint64_t *packets,
                   const uint64_t *octets, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sums_t *s = cell(h, x[i]);
        if (!s) {
            h->overflows++;
            continue;
        }
        add_to(h, s, 1, packets[i], octets[i]);
    }
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
    add_to(h, s, bin->flows, bin->packets, bin->octets);
    return 0;
}

void fm_hist_clear(fm_hist_t *h)
{
    /* Blocks are released, not zeroed: a cleared window histogram should not keep the memory of
     * the busiest window it ever held. */
    free_storage(h);
    memset(&h->zero, 0, sizeof(h->zero));
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
    uint64_t x = (*(map_slot_t *const *)a)->lo, y = (*(map_slot_t *const *)b)->lo;
    return x < y ? -1 : x > y;
}

static void emit(visit_fn fn, void *ctx, uint64_t lo, uint64_t hi, const sums_t *s)
{
    if (!empty(s)) {
        fm_hist_bin_t b = {lo, hi, s->flows, s->packets, s->octets};
        fn(ctx, &b);
    }
}

static void visit_octave(const fm_hist_t *h, unsigned k, visit_fn fn, void *ctx)
{
    unsigned nb = nbits(h->b, k), shift = k - nb;
    size_t n = octave_chunks(nb), cells = nb < CHUNK_BITS ? (size_t)1 << nb : CHUNK;
    uint64_t width = 1ull << shift;
    for (size_t c = 0; c < n; c++) {
        const sums_t *chunk = h->octave[k][c];
        if (!chunk) {
            continue;
        }
        for (size_t i = 0; i < cells; i++) {
            uint64_t lo = (((uint64_t)1 << nb) + c * CHUNK + i) << shift;
            emit(fn, ctx, lo, lo + width, &chunk[i]);
        }
    }
}

/* The map only holds octaves above every chunked one (nbits grows with k), so it comes last. */
static int visit(const fm_hist_t *h, visit_fn fn, void *ctx)
{
    emit(fn, ctx, 0, 1, &h->zero);
    for (unsigned k = 0; k < 64; k++) {
        if (h->octave[k]) {
            visit_octave(h, k, fn, ctx);
        }
    }
    if (h->map_used == 0) {
        return 0;
    }
    map_slot_t **order = malloc(h->map_used * sizeof(*order));
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
        uint64_t lo, hi;
        fm_hist_bin_of(order[i]->lo, h->b, &lo, &hi);
        emit(fn, ctx, lo, hi, &order[i]->s);
    }
    free(order);
    return 0;
}

static void count_totals(void *ctx, const fm_hist_bin_t *b)
{
    uint64_t *t = ctx;
    const uint64_t v[3] = {b->flows, b->packets, b->octets};
    for (int i = 0; i < 3; i++) {
        if (__builtin_add_overflow(t[i], v[i], &t[i])) {
            t[i] = UINT64_MAX; /* saturated like the bins themselves */
        }
    }
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

static inline void merge_sums(fm_hist_t *dst, sums_t *d, const sums_t *s)
{
    if (!empty(s)) {
        add_to(dst, d, s->flows, s->packets, s->octets);
    }
}

/* Same bin_exp, so the same octaves and chunks: cell by cell, without finding each bin (the
 * daemon merges every bin a tick touched several times per tick, on its loop thread). */
static void merge_chunks(fm_hist_t *dst, const fm_hist_t *src)
{
    for (unsigned k = 0; k < 64; k++) {
        if (!src->octave[k]) {
            continue;
        }
        unsigned nb = nbits(src->b, k);
        size_t n = octave_chunks(nb), cells = nb < CHUNK_BITS ? (size_t)1 << nb : CHUNK;
        for (size_t c = 0; c < n; c++) {
            const sums_t *sc = src->octave[k][c];
            if (!sc) {
                continue;
            }
            sums_t *dc = new_chunk(dst, k, nb, c * CHUNK); /* the chunk's first cell */
            if (!dc) {
                dst->overflows++; /* out of memory for a chunk: counted, never a crash */
                continue;
            }
            for (size_t i = 0; i < cells; i++) {
                merge_sums(dst, &dc[i], &sc[i]);
            }
        }
    }
}

/* The bins of the hash map, copied first: adding to dst may grow its map, which is src's own
 * when a histogram is merged into itself. */
static int merge_map(fm_hist_t *dst, const fm_hist_t *src)
{
    if (src->map_used == 0) {
        return 0;
    }
    map_slot_t *copy = malloc(src->map_used * sizeof(*copy));
    size_t n = 0;
    if (!copy) {
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < src->map_cap; i++) {
        if (src->map[i].used) {
            copy[n++] = src->map[i];
        }
    }
    for (size_t i = 0; i < n; i++) {
        sums_t *d = map_cell(dst, copy[i].lo);
        if (!d) {
            dst->overflows++;
            continue;
        }
        merge_sums(dst, d, &copy[i].s);
    }
    free(copy);
    return 0;
}

int fm_hist_merge(fm_hist_t *dst, const fm_hist_t *src)
{
    if (dst->b != src->b) {
        return FM_EINVAL;
    }
    dst->overflows += src->overflows;
    merge_sums(dst, &dst->zero, &src->zero);
    merge_chunks(dst, src);
    return merge_map(dst, src);
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
    /* "-" is standard input, so `flowmixctl hist --csv | flowmix fit -` works. */
    bool is_stdin = !strcmp(path, "-");
    FILE *f = is_stdin ? stdin : fopen(path, "r");
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
    if (!is_stdin) {
        fclose(f);
    }
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
    size_t bytes = sizeof(*h) + h->map_cap * sizeof(map_slot_t) + h->chunk_bytes;
    for (unsigned k = 0; k < 64; k++) {
        if (h->octave[k]) {
            bytes += octave_chunks(nbits(h->b, k)) * sizeof(sums_t *);
        }
    }
    return bytes;
}
