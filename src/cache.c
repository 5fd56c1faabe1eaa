/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Bounded flow cache.  Layout:
 *  - an arena of fixed 120-byte entries (free list through `hnext`), never resized;
 *  - a power-of-two array of bucket heads (uint32 indices), chains through `hnext`, hashed with
 *    XXH3 seeded per process, so the table cannot be steered into long chains from the network;
 *  - per source (exporter, observation domain, sampling interval) a clock and a hashed timer
 *    wheel of 512 slots of 2048 ms, doubly linked through `wprev`/`wnext`.  Deadlines that grow
 *    (a merge extended the flow) are left in their old slot and re-filed when the slot comes due,
 *    so the hot path rarely touches the wheel; deadlines that shrink are re-filed at once.
 *
 * Per-record decisions are in merge_record() (flow-models merge, DESIGN §4) and profile_record()
 * (ft-profiler join rules).  What happens to finished flows is the caller's business.
 */
#include "config.h"

#include "cache.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <unistd.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define NIL UINT32_MAX
#define BATCH 256
#define WHEEL_SHIFT 11 /* 2048 ms per tick */
#define WHEEL_SLOTS 512u
#define WHEEL_MASK (WHEEL_SLOTS - 1)
#define MAX_SOURCES 65535u /* entry_t.source is 16 bits */
#define DEFAULT_SOURCES 4096u
/* Every time in an entry lies within this span of the others, so they fit 32-bit offsets. */
#define MAX_SPAN_MS ((uint64_t)INT32_MAX)

/* entry_t.state */
#define ST_USED 0x01
#define ST_FWD_CLOSED 0x02 /* forward direction ended with a record too short to be continued */
#define ST_REV 0x04        /* the reverse half is present */
#define ST_REV_CLOSED 0x08
/* The record's address family, kept as given: it cannot be told from the address, because
 * flow-models' csv_flow also spells IPv4 in sa0 (not v4-mapped), which is not IPv6. */
#define ST_AF_MASK 0x30
#define ST_AF_INET 0x00
#define ST_AF_INET6 0x10
#define ST_AF_ZERO 0x20 /* af 0: unknown (flow-models readers that do not know it) */

typedef struct entry {
    uint8_t src[16], dst[16]; /* forward (first-seen) direction */
    uint64_t first;           /* forward first packet, epoch ms */
    uint64_t packets, octets, rpackets, roctets;
    uint32_t last_d;   /* forward last - first */
    int32_t rfirst_d;  /* reverse first - forward first */
    uint32_t rlast_d;  /* reverse last - reverse first */
    uint32_t records;  /* export records merged, both directions */
    uint32_t inif, outif;
    uint32_t hnext;    /* bucket chain, or free list */
    uint32_t wprev, wnext;
    uint16_t sport, dport;
    uint16_t source;   /* index into fm_cache.srcs */
    uint16_t wslot;
    uint8_t proto, tcp, rtcp, state;
} entry_t;

_Static_assert(sizeof(entry_t) == 120, "cache entry grew past 120 bytes");

typedef struct source {
    uint32_t exporter, domain, sampling;
    bool override;            /* timeouts come from fm_cache_set_timeouts() */
    uint64_t active_ms, inactive_ms;
    uint64_t max_last;        /* largest last packet time seen */
    uint64_t clock;           /* expiry clock: max_last advanced by idle wall time, monotone */
    uint64_t wall_seen;       /* wall time of the newest record, 0 = not known yet */
    uint64_t cursor;          /* next wheel tick to examine */
    uint32_t nentries;
    uint32_t heads[WHEEL_SLOTS];
    uint64_t bits[WHEEL_SLOTS / 64]; /* non-empty slots, for eviction */
} source_t;

typedef struct override {
    uint32_t exporter;
    uint64_t active_ms, inactive_ms;
} override_t;

struct fm_cache {
    fm_cache_conf_t conf;
    fm_sink_t emit;
    uint64_t seed;

    entry_t *arena;
    uint32_t capacity, hwm, free_head, used;
    uint32_t *buckets;
    uint32_t bmask;

    source_t **srcs;  /* NULL: a free index (free_src) */
    uint32_t nsrc, srccap;  /* indices in use up to nsrc */
    uint32_t live_src, max_src;
    uint32_t *free_src, nfree_src;
    uint32_t *smap; /* open addressing: source index + 1, 0 = empty */
    uint32_t smask;
    uint32_t last_src;
    override_t *ovr;
    size_t novr;

    uint64_t wall;
    fm_flow_t batch[BATCH];
    size_t nbatch;
    fm_cache_stats_t st;
};

/* One record as the decision functions see it: sanitised times and the count to add. */
typedef struct rec {
    const fm_flow_t *f;
    uint64_t first, last;
    uint32_t records;
} rec_t;

void fm_cache_conf_default(fm_cache_conf_t *c)
{
    memset(c, 0, sizeof(*c));
    c->memory_mib = 256;
    c->active_ms = 300000;
    c->inactive_ms = 15000;
    c->export_delay_ms = 5000;
    c->biflow = true;
    c->mode = FM_CACHE_MODE_MERGE;
    c->max_sources = DEFAULT_SOURCES;
}

/* ---- batches ---------------------------------------------------------------------------- */

static void deliver(fm_cache_t *c)
{
    if (c->nbatch) {
        size_t n = c->nbatch;
        c->nbatch = 0;
        fm_sink_put(c->emit, c->batch, n);
    }
}

static fm_flow_t *batch_slot(fm_cache_t *c)
{
    if (c->nbatch == BATCH) {
        deliver(c);
    }
    c->st.emitted++;
    return &c->batch[c->nbatch++];
}

/* A record that becomes a flow on its own, never cached. */
static void emit_record(fm_cache_t *c, const rec_t *r)
{
    fm_flow_t *f = batch_slot(c);
    *f = *r->f;
    f->first_ms = r->first;
    f->last_ms = r->last;
    f->records = r->records;
    f->flags &= (uint8_t)~(FM_FLOW_EVICTED | FM_FLOW_FLUSHED);
    f->fwd_first = 1;
}

static void emit_entry(fm_cache_t *c, const entry_t *e, uint8_t flags)
{
    const source_t *s = c->srcs[e->source];
    fm_flow_t *f = batch_slot(c);

    memset(f, 0, sizeof(*f));
    f->first_ms = e->first;
    f->last_ms = e->first + e->last_d;
    f->packets = e->packets;
    f->octets = e->octets;
    memcpy(f->src, e->src, 16);
    memcpy(f->dst, e->dst, 16);
    f->exporter = s->exporter;
    f->domain = s->domain;
    f->sampling = s->sampling;
    f->inif = e->inif;
    f->outif = e->outif;
    f->records = e->records;
    f->sport = e->sport;
    f->dport = e->dport;
    f->af = (e->state & ST_AF_MASK) == ST_AF_INET6 ? FM_AF_INET6
            : (e->state & ST_AF_MASK) == ST_AF_ZERO ? 0
                                                     : FM_AF_INET;
    f->proto = e->proto;
    f->tcp_flags = e->tcp;
    f->fwd_first = 1;
    f->flags = flags;
    if (e->state & ST_REV) {
        f->flags |= FM_FLOW_BIFLOW;
        f->rev_packets = e->rpackets;
        f->rev_octets = e->roctets;
        f->rev_first_ms = (uint64_t)((int64_t)e->first + e->rfirst_d);
        f->rev_last_ms = f->rev_first_ms + e->rlast_d;
        f->rev_tcp_flags = e->rtcp;
    }
}

/* ---- entry times -------------------------------------------------------------------------- */

static void half_get(const entry_t *e, int dir, uint64_t *first, uint64_t *last)
{
    if (dir == 0) {
        *first = e->first;
        *last = e->first + e->last_d;
    } else {
        *first = (uint64_t)((int64_t)e->first + e->rfirst_d);
        *last = *first + e->rlast_d;
    }
}

/* Set one direction's span, keeping the other direction's absolute times. */
static void half_set(entry_t *e, int dir, uint64_t first, uint64_t last)
{
    if (dir == 0) {
        uint64_t rf = (uint64_t)((int64_t)e->first + e->rfirst_d);
        e->first = first;
        e->last_d = (uint32_t)(last - first);
        e->rfirst_d = (int32_t)((int64_t)rf - (int64_t)first);
    } else {
        e->rfirst_d = (int32_t)((int64_t)first - (int64_t)e->first);
        e->rlast_d = (uint32_t)(last - first);
    }
}

/* First and last packet over both directions. */
static void entry_span(const entry_t *e, uint64_t *lo, uint64_t *hi)
{
    half_get(e, 0, lo, hi);
    if (e->state & ST_REV) {
        uint64_t f, l;
        half_get(e, 1, &f, &l);
        *lo = f < *lo ? f : *lo;
        *hi = l > *hi ? l : *hi;
    }
}

/* Would the entry still fit its 32-bit offsets with [first, last] added? */
static bool span_fits(const entry_t *e, uint64_t first, uint64_t last)
{
    uint64_t lo, hi;
    entry_span(e, &lo, &hi);
    lo = first < lo ? first : lo;
    hi = last > hi ? last : hi;
    return hi - lo <= MAX_SPAN_MS;
}

static uint64_t entry_deadline(const fm_cache_t *c, const entry_t *e)
{
    const source_t *s = c->srcs[e->source];
    uint64_t lo, hi, d;
    bool open;

    entry_span(e, &lo, &hi);
    if (c->conf.mode == FM_CACHE_MODE_PROFILE) {
        open = hi - lo >= s->active_ms - s->inactive_ms;
    } else {
        open = !(e->state & ST_FWD_CLOSED) || ((e->state & ST_REV) && !(e->state & ST_REV_CLOSED));
    }
    /* An open direction's continuation starts within the inactive timeout but is exported only
     * when it ends, up to an active timeout later. */
    d = hi + s->inactive_ms + c->conf.export_delay_ms + (open ? s->active_ms : 0);
    return d < hi ? UINT64_MAX : d;
}

/* ---- timer wheel ---------------------------------------------------------------------------- */

static void wheel_link(fm_cache_t *c, source_t *s, uint32_t idx, uint64_t deadline)
{
    entry_t *e = &c->arena[idx];
    uint64_t t = deadline >> WHEEL_SHIFT;
    uint32_t slot;

    if (t < s->cursor) {
        t = s->cursor;
    }
    slot = (uint32_t)(t & WHEEL_MASK);
    e->wslot = (uint16_t)slot;
    e->wprev = NIL;
    e->wnext = s->heads[slot];
    if (e->wnext != NIL) {
        c->arena[e->wnext].wprev = idx;
    }
    s->heads[slot] = idx;
    s->bits[slot / 64] |= 1ULL << (slot % 64);
}

static void wheel_unlink(fm_cache_t *c, source_t *s, uint32_t idx)
{
    entry_t *e = &c->arena[idx];
    if (e->wprev != NIL) {
        c->arena[e->wprev].wnext = e->wnext;
    } else {
        s->heads[e->wslot] = e->wnext;
    }
    if (e->wnext != NIL) {
        c->arena[e->wnext].wprev = e->wprev;
    }
    if (s->heads[e->wslot] == NIL) {
        s->bits[e->wslot / 64] &= ~(1ULL << (e->wslot % 64));
    }
}

/* Ticks from the cursor to the slot the entry is filed in. */
static uint32_t slot_distance(const source_t *s, uint32_t slot)
{
    return (slot - (uint32_t)(s->cursor & WHEEL_MASK)) & WHEEL_MASK;
}

/* Re-file an entry whose deadline may have moved earlier than its slot. */
static void wheel_refile(fm_cache_t *c, uint32_t idx)
{
    entry_t *e = &c->arena[idx];
    source_t *s = c->srcs[e->source];
    uint64_t t = entry_deadline(c, e) >> WHEEL_SHIFT;
    uint32_t want = t <= s->cursor ? 0 : (uint32_t)((t - s->cursor) < WHEEL_SLOTS ? t - s->cursor
                                                                                  : WHEEL_MASK);

    if (want < slot_distance(s, e->wslot)) {
        wheel_unlink(c, s, idx);
        wheel_link(c, s, idx, entry_deadline(c, e));
    }
}

/* ---- hash table --------------------------------------------------------------------------- */

typedef struct hkey {
    uint8_t a[16], b[16];
    uint32_t inif, outif;
    uint16_t pa, pb;
    uint16_t source;
    uint8_t proto, dir;
} hkey_t;

_Static_assert(sizeof(hkey_t) == 48, "hash key must have no padding");

/* Both directions of a conversation share one key (lower address, then lower port, first); in
 * uniflow mode the direction and interfaces are part of it, as in flow-models' 14-field key. */
static uint64_t key_hash(const fm_cache_t *c, const uint8_t *src, const uint8_t *dst,
                         uint16_t sport, uint16_t dport, uint8_t proto, uint16_t source,
                         uint32_t inif, uint32_t outif)
{
    hkey_t k;
    int cmp = memcmp(src, dst, 16);
    bool swap = cmp > 0 || (cmp == 0 && sport > dport);

    memset(&k, 0, sizeof(k));
    memcpy(k.a, swap ? dst : src, 16);
    memcpy(k.b, swap ? src : dst, 16);
    k.pa = swap ? dport : sport;
    k.pb = swap ? sport : dport;
    k.source = source;
    k.proto = proto;
    if (!c->conf.biflow) {
        k.dir = swap;
        k.inif = inif;
        k.outif = outif;
    }
    return XXH3_64bits_withSeed(&k, sizeof(k), c->seed);
}

static uint64_t entry_hash(const fm_cache_t *c, const entry_t *e)
{
    return key_hash(c, e->src, e->dst, e->sport, e->dport, e->proto, e->source, e->inif,
                    e->outif);
}

/* @return the entry for the record's key or NIL; *dir = 1 if the record runs opposite to it. */
static uint32_t lookup(const fm_cache_t *c, uint64_t h, const fm_flow_t *r, uint16_t source,
                       int *dir)
{
    for (uint32_t i = c->buckets[h & c->bmask]; i != NIL; i = c->arena[i].hnext) {
        const entry_t *e = &c->arena[i];
        if (e->source != source || e->proto != r->proto) {
            continue;
        }
        if (e->sport == r->sport && e->dport == r->dport && !memcmp(e->src, r->src, 16) &&
            !memcmp(e->dst, r->dst, 16)) {
            if (c->conf.biflow || (e->inif == r->inif && e->outif == r->outif)) {
                *dir = 0;
                return i;
            }
        } else if (c->conf.biflow && e->sport == r->dport && e->dport == r->sport &&
                   !memcmp(e->src, r->dst, 16) && !memcmp(e->dst, r->src, 16)) {
            *dir = 1;
            return i;
        }
    }
    return NIL;
}

static void bucket_unlink(fm_cache_t *c, uint32_t idx)
{
    uint32_t *p = &c->buckets[entry_hash(c, &c->arena[idx]) & c->bmask];
    while (*p != idx) {
        p = &c->arena[*p].hnext;
    }
    *p = c->arena[idx].hnext;
}

/* ---- entries -------------------------------------------------------------------------------- */

static void entry_release(fm_cache_t *c, uint32_t idx, bool in_wheel)
{
    entry_t *e = &c->arena[idx];
    source_t *s = c->srcs[e->source];

    bucket_unlink(c, idx);
    if (in_wheel) {
        wheel_unlink(c, s, idx);
    }
    s->nentries--;
    e->state = 0;
    e->hnext = c->free_head;
    c->free_head = idx;
    c->used--;
}

/* Ticks from the cursor to the first non-empty slot of a source, or UINT32_MAX. */
static uint32_t first_busy(const source_t *s)
{
    uint32_t start = (uint32_t)(s->cursor & WHEEL_MASK), nw = WHEEL_SLOTS / 64;
    for (uint32_t k = 0; k <= nw; k++) {
        uint32_t w = (start / 64 + k) % nw;
        uint64_t word = s->bits[w];
        if (k == 0) {
            word &= ~0ULL << (start % 64);
        } else if (k == nw) {
            word &= (start % 64) ? (1ULL << (start % 64)) - 1 : 0;
        }
        if (word) {
            uint32_t slot = w * 64 + (uint32_t)__builtin_ctzll(word);
            return (slot - start) & WHEEL_MASK;
        }
    }
    return UINT32_MAX;
}

/* Emit the entry closest to expiry over all sources.  @return false if the cache is empty. */
static bool evict_one(fm_cache_t *c)
{
    for (int tries = 0; tries < 8; tries++) {
        source_t *best = NULL;
        uint32_t best_d = UINT32_MAX;
        for (uint32_t i = 0; i < c->nsrc; i++) {
            uint32_t d = c->srcs[i] && c->srcs[i]->nentries ? first_busy(c->srcs[i]) : UINT32_MAX;
            if (d < best_d) {
                best_d = d;
                best = c->srcs[i];
            }
        }
        if (!best) {
            return false;
        }
        uint32_t idx = best->heads[(best->cursor + best_d) & WHEEL_MASK];
        entry_t *e = &c->arena[idx];
        uint64_t deadline = entry_deadline(c, e);
        /* A merge may have pushed the real deadline past this slot: re-file and look again. */
        if (tries < 7 && (deadline >> WHEEL_SHIFT) > best->cursor + best_d) {
            wheel_unlink(c, best, idx);
            wheel_link(c, best, idx, deadline);
            continue;
        }
        emit_entry(c, e, FM_FLOW_EVICTED);
        c->st.evicted++;
        entry_release(c, idx, true);
        return true;
    }
    return false;
}

static uint32_t entry_alloc(fm_cache_t *c)
{
    uint32_t idx;
    if (c->free_head == NIL && c->hwm == c->capacity && !evict_one(c)) {
        return NIL;
    }
    if (c->free_head != NIL) {
        idx = c->free_head;
        c->free_head = c->arena[idx].hnext;
    } else {
        idx = c->hwm++;
    }
    c->used++;
    return idx;
}

/* Fill an entry from a record (forward half only). */
/* State bits of a record's af; an af other than 0, 2 or 10 is told from the address. */
static uint8_t af_state(uint8_t af, const uint8_t src[16])
{
    if (af == FM_AF_INET6 || (af != FM_AF_INET && af != 0 && !fm_flow_is_v4mapped(src))) {
        return ST_AF_INET6;
    }
    return af == 0 ? ST_AF_ZERO : ST_AF_INET;
}

static void entry_init(entry_t *e, const rec_t *r, uint16_t source, bool closed)
{
    const fm_flow_t *f = r->f;
    memcpy(e->src, f->src, 16);
    memcpy(e->dst, f->dst, 16);
    e->first = r->first;
    e->last_d = (uint32_t)(r->last - r->first);
    e->rfirst_d = 0;
    e->rlast_d = 0;
    e->packets = f->packets;
    e->octets = f->octets;
    e->rpackets = 0;
    e->roctets = 0;
    e->records = r->records;
    e->inif = f->inif;
    e->outif = f->outif;
    e->sport = f->sport;
    e->dport = f->dport;
    e->source = source;
    e->proto = f->proto;
    e->tcp = f->tcp_flags;
    e->rtcp = 0;
    e->state = ST_USED | (closed ? ST_FWD_CLOSED : 0) | af_state(f->af, f->src);
}

static void entry_insert(fm_cache_t *c, const rec_t *r, uint16_t source, uint64_t h, bool closed)
{
    uint32_t idx = entry_alloc(c);
    if (idx == NIL) {
        emit_record(c, r); /* cannot happen with capacity >= 1; never lose the record */
        return;
    }
    entry_t *e = &c->arena[idx];
    source_t *s = c->srcs[source];
    uint32_t *b = &c->buckets[h & c->bmask];

    entry_init(e, r, source, closed);
    e->hnext = *b;
    *b = idx;
    s->nentries++;
    wheel_link(c, s, idx, entry_deadline(c, e));
}

/* The cached flow is finished and the record starts the next one under the same key. */
static void entry_replace(fm_cache_t *c, uint32_t idx, const rec_t *r, bool closed)
{
    entry_t *e = &c->arena[idx];
    source_t *s = c->srcs[e->source];
    uint32_t hnext = e->hnext;

    emit_entry(c, e, 0);
    wheel_unlink(c, s, idx);
    entry_init(e, r, e->source, closed);
    e->hnext = hnext;
    wheel_link(c, s, idx, entry_deadline(c, e));
}

/* Add a record's counters to one direction and widen that direction's span. */
static void half_add(entry_t *e, int dir, const rec_t *r)
{
    const fm_flow_t *f = r->f;
    if (dir == 0) {
        e->packets += f->packets;
        e->octets += f->octets;
        e->tcp |= f->tcp_flags;
    } else {
        e->rpackets += f->packets;
        e->roctets += f->octets;
        e->rtcp |= f->tcp_flags;
    }
    e->records += r->records;
}


/* Emit the entry now if nothing can join it any more. */
static void maybe_finish(fm_cache_t *c, uint32_t idx)
{
    entry_t *e = &c->arena[idx];
    bool done = c->conf.biflow ? (e->state & ST_REV) && (e->state & ST_FWD_CLOSED) &&
                                     (e->state & ST_REV_CLOSED)
                               : (e->state & ST_FWD_CLOSED);
    if (done) {
        emit_entry(c, e, 0);
        entry_release(c, idx, true);
    } else {
        wheel_refile(c, idx);
    }
}

/* Start a flow for a record with no cached partner.  In uniflow mode a record too short to have
 * been cut by the active timeout is finished at once, as flow-models writes it out. */
static void start_flow(fm_cache_t *c, const rec_t *r, uint16_t source, uint64_t h, bool is_short)
{
    if (is_short && !c->conf.biflow) {
        emit_record(c, r);
    } else {
        entry_insert(c, r, source, h, is_short);
    }
}

/* The record runs opposite to a cached flow with no reverse half yet. */
static void merge_opposite(fm_cache_t *c, uint32_t idx, const rec_t *r, uint64_t inactive,
                           bool is_short)
{
    entry_t *e = &c->arena[idx];
    uint64_t ff, fl;

    half_get(e, 0, &ff, &fl);
    /* ft-profiler's pairing rule: the spans lie within the inactive timeout of each other. */
    if (!(fl + inactive < r->first || r->last + inactive < ff) && span_fits(e, r->first, r->last)) {
        e->state |= ST_REV | (is_short ? ST_REV_CLOSED : 0);
        half_set(e, 1, r->first, r->last);
        half_add(e, 1, r);
        c->st.biflow_pairs++;
        maybe_finish(c, idx);
    } else if (!(e->state & ST_FWD_CLOSED) && is_short) {
        /* The cached direction may still be continued; this unrelated short record is a flow
         * of its own. */
        emit_record(c, r);
    } else {
        entry_replace(c, idx, r, is_short);
    }
}

/*
 * flow-models merge made streaming (FLOW-MODELS §3), per direction, in whole milliseconds:
 * in order and the gap below the inactive timeout → merge; reversed arrival → merge at the front;
 * overlap → merge_conflicts, the record becomes its own flow; otherwise the cached flow ends (in
 * order) or the earlier record is its own flow (reversed).
 */
static void merge_record(fm_cache_t *c, uint16_t source, const rec_t *r, uint64_t h,
                         uint32_t idx, int dir)
{
    const source_t *s = c->srcs[source];
    bool is_short = r->last - r->first < s->active_ms - s->inactive_ms;

    if (idx == NIL) {
        start_flow(c, r, source, h, is_short);
        return;
    }
    entry_t *e = &c->arena[idx];
    if (dir == 1 && !(e->state & ST_REV)) {
        merge_opposite(c, idx, r, s->inactive_ms, is_short);
        return;
    }

    uint8_t closed_bit = dir ? ST_REV_CLOSED : ST_FWD_CLOSED;
    uint64_t hf, hl, gap;
    bool in_order;
    half_get(e, dir, &hf, &hl);
    if (r->first > hl) {
        in_order = true;
        gap = r->first - hl;
    } else if (hf > r->last) {
        in_order = false;
        gap = hf - r->last;
    } else {
        c->st.merge_conflicts++;
        emit_record(c, r);
        return;
    }
    if (gap < s->inactive_ms && !(in_order && (e->state & closed_bit)) &&
        span_fits(e, r->first, r->last)) {
        c->st.merges++;
        half_add(e, dir, r);
        if (in_order) {
            half_set(e, dir, hf, r->last);
            e->state = (uint8_t)((e->state & ~closed_bit) | (is_short ? closed_bit : 0));
        } else {
            half_set(e, dir, r->first, hl);
        }
        maybe_finish(c, idx);
    } else if (in_order) {
        if (is_short && !c->conf.biflow) {
            emit_entry(c, e, 0);
            entry_release(c, idx, true);
            emit_record(c, r);
        } else {
            entry_replace(c, idx, r, is_short);
        }
    } else {
        emit_record(c, r);
    }
}

/* FlowTest ft-profiler's Flow.update(): pair, absorb a 1-packet record near the end, or extend a
 * flow long enough to have been cut by the active timeout; otherwise the cached flow is written
 * out and the record replaces it. */
static void profile_record(fm_cache_t *c, uint16_t source, const rec_t *r, uint64_t h,
                           uint32_t idx, int dir)
{
    const source_t *s = c->srcs[source];
    uint64_t sf, sl, it = s->inactive_ms;
    bool pair = false, join;

    if (idx == NIL) {
        entry_insert(c, r, source, h, false);
        return;
    }
    entry_t *e = &c->arena[idx];
    entry_span(e, &sf, &sl);
    if (dir == 1 && !(e->state & ST_REV) && !(sl + it < r->first || r->last + it < sf)) {
        join = pair = true;
    } else if (r->f->packets == 1 &&
               (r->first > sl ? r->first - sl : sl - r->first) < it) {
        join = true;
    } else if (sl - sf < s->active_ms - it) {
        join = false;
    } else {
        join = sl + it >= r->first;
    }
    if (!join || !span_fits(e, r->first, r->last)) {
        entry_replace(c, idx, r, false);
        return;
    }
    if (dir == 1 && !(e->state & ST_REV)) {
        e->state |= ST_REV;
        half_set(e, 1, r->first, r->last);
    } else {
        uint64_t hf, hl;
        half_get(e, dir, &hf, &hl);
        half_set(e, dir, r->first < hf ? r->first : hf, r->last > hl ? r->last : hl);
    }
    half_add(e, dir, r);
    if (pair) {
        c->st.biflow_pairs++;
    } else {
        c->st.merges++;
    }
}

/* ---- sources ---------------------------------------------------------------------------------- */

static uint32_t source_slot(const fm_cache_t *c, uint32_t exporter, uint32_t domain,
                            uint32_t sampling)
{
    uint32_t k[3] = {exporter, domain, sampling};
    return (uint32_t)XXH3_64bits_withSeed(k, sizeof(k), c->seed) & c->smask;
}

static void source_timeouts(const fm_cache_t *c, source_t *s)
{
    s->override = false;
    s->active_ms = c->conf.active_ms;
    s->inactive_ms = c->conf.inactive_ms;
    for (size_t i = 0; i < c->novr; i++) {
        if (c->ovr[i].exporter == s->exporter) {
            s->override = true;
            s->active_ms = c->ovr[i].active_ms;
            s->inactive_ms = c->ovr[i].inactive_ms;
        }
    }
}

static void smap_grow(fm_cache_t *c)
{
    free(c->smap);
    c->smask = c->smask * 2 + 1;
    c->smap = fm_xcalloc((size_t)c->smask + 1, sizeof(uint32_t));
    for (uint32_t i = 0; i < c->nsrc; i++) {
        const source_t *s = c->srcs[i];
        if (!s) {
            continue;
        }
        uint32_t j = source_slot(c, s->exporter, s->domain, s->sampling);
        while (c->smap[j]) {
            j = (j + 1) & c->smask;
        }
        c->smap[j] = i + 1;
    }
}

/* Take index i out of the open-addressing map (backward-shift deletion, no tombstones). */
static void smap_remove(fm_cache_t *c, uint32_t i)
{
    const source_t *s = c->srcs[i];
    uint32_t j = source_slot(c, s->exporter, s->domain, s->sampling);
    while (c->smap[j] != i + 1) {
        j = (j + 1) & c->smask;
    }
    c->smap[j] = 0;
    for (uint32_t k = (j + 1) & c->smask; c->smap[k]; k = (k + 1) & c->smask) {
        const source_t *o = c->srcs[c->smap[k] - 1];
        uint32_t home = source_slot(c, o->exporter, o->domain, o->sampling);
        if (((k - home) & c->smask) >= ((k - j) & c->smask)) {
            c->smap[j] = c->smap[k];
            c->smap[k] = 0;
            j = k;
        }
    }
}

/* Free source i; it holds no entries. */
static void source_free(fm_cache_t *c, uint32_t i)
{
    smap_remove(c, i);
    free(c->srcs[i]);
    c->srcs[i] = NULL;
    c->free_src[c->nfree_src++] = i;
    c->live_src--;
    c->st.sources_freed++;
    if (c->last_src == i) {
        c->last_src = 0;
    }
}

/* Emit every entry of source i (flag FM_FLOW_EVICTED), then free it. */
static void source_evict(fm_cache_t *c, uint32_t i)
{
    source_t *s = c->srcs[i];
    for (uint32_t slot = 0; slot < WHEEL_SLOTS; slot++) {
        while (s->heads[slot] != NIL) {
            uint32_t idx = s->heads[slot];
            emit_entry(c, &c->arena[idx], FM_FLOW_EVICTED);
            c->st.evicted++;
            entry_release(c, idx, true);
        }
    }
    c->st.sources_evicted++;
    source_free(c, i);
}

/* Make room for one more source: free the empty ones, else evict the smallest. */
static void source_make_room(fm_cache_t *c)
{
    uint32_t best = NIL, best_n = UINT32_MAX;
    for (uint32_t i = 0; i < c->nsrc; i++) {
        const source_t *s = c->srcs[i];
        if (!s) {
            continue;
        }
        if (s->nentries == 0) {
            source_free(c, i);
            best_n = 0;
        } else if (s->nentries < best_n) {
            best_n = s->nentries;
            best = i;
        }
    }
    if (best_n > 0 && best != NIL) {
        source_evict(c, best);
    }
}

/* A new source: its clock starts at its first record, its wheel at that tick. */
static uint32_t source_add(fm_cache_t *c, const fm_flow_t *f, uint64_t last)
{
    if (c->live_src >= c->max_src) {
        source_make_room(c);
    }
    uint32_t i;
    if (c->nfree_src) {
        i = c->free_src[--c->nfree_src];
    } else {
        if (c->nsrc == c->srccap) {
            c->srccap = c->srccap ? c->srccap * 2 : 8;
            c->srcs = fm_xreallocarray(c->srcs, c->srccap, sizeof(*c->srcs));
            c->free_src = fm_xreallocarray(c->free_src, c->srccap, sizeof(*c->free_src));
        }
        i = c->nsrc++;
    }
    source_t *s = fm_xcalloc(1, sizeof(*s));
    s->exporter = f->exporter;
    s->domain = f->domain;
    s->sampling = f->sampling;
    s->max_last = s->clock = last;
    s->wall_seen = c->wall;
    s->cursor = last >> WHEEL_SHIFT;
    memset(s->heads, 0xff, sizeof(s->heads));
    source_timeouts(c, s);
    c->srcs[i] = s;
    c->live_src++;
    if ((c->nsrc + 1) * 2 > c->smask + 1) {
        smap_grow(c);
    } else {
        uint32_t j = source_slot(c, s->exporter, s->domain, s->sampling);
        while (c->smap[j]) {
            j = (j + 1) & c->smask;
        }
        c->smap[j] = i + 1;
    }
    return i;
}

/* The record's source, or NIL if it has none yet. */
static uint32_t source_find(fm_cache_t *c, const fm_flow_t *f)
{
    const source_t *s = c->last_src < c->nsrc ? c->srcs[c->last_src] : NULL;
    if (s && s->exporter == f->exporter && s->domain == f->domain &&
        s->sampling == f->sampling) {
        return c->last_src;
    }
    for (uint32_t j = source_slot(c, f->exporter, f->domain, f->sampling); c->smap[j];
         j = (j + 1) & c->smask) {
        s = c->srcs[c->smap[j] - 1];
        if (s->exporter == f->exporter && s->domain == f->domain && s->sampling == f->sampling) {
            return c->last_src = c->smap[j] - 1;
        }
    }
    return NIL;
}

static uint32_t source_get(fm_cache_t *c, const fm_flow_t *f, uint64_t last)
{
    uint32_t i = source_find(c, f);
    if (i != NIL) {
        return i;
    }
    i = source_add(c, f, last);
    if (i != NIL) {
        c->last_src = i;
    }
    return i;
}

/* ---- public API ------------------------------------------------------------------------------- */

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd < 0 || read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed)) {
            seed = fm_time_mono_ns() ^ ((uint64_t)getpid() << 32);
        }
        if (fd >= 0) {
            close(fd);
        }
    }
    return seed;
}

/* The arena and buckets are read at random: ask for huge pages so lookups do not also miss the
 * TLB.  Pages are not touched here; the kernel backs them as the cache fills, unless the caller
 * asks for prefault (see fm_cache_new). */
static void *big_alloc(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, (size_t)2 << 20, bytes) != 0) {
        return NULL;
    }
#ifdef MADV_HUGEPAGE
    (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

static uint32_t source_limit(const fm_cache_conf_t *conf)
{
    return conf->max_sources == 0 ? DEFAULT_SOURCES
           : conf->max_sources > MAX_SOURCES ? MAX_SOURCES : conf->max_sources;
}

static bool timeouts_ok(uint64_t active_ms, uint64_t inactive_ms)
{
    return active_ms > 0 && inactive_ms <= active_ms;
}

int fm_cache_new(const fm_cache_conf_t *conf, fm_sink_t emit, fm_cache_t **out)
{
    if (!conf || !emit.fn || !out || conf->memory_mib == 0 ||
        !timeouts_ok(conf->active_ms, conf->inactive_ms) ||
        (conf->mode != FM_CACHE_MODE_MERGE && conf->mode != FM_CACHE_MODE_PROFILE) ||
        conf->memory_mib > (SIZE_MAX >> 20)) {
        return FM_EINVAL;
    }
    size_t bytes = conf->memory_mib << 20;
    size_t cap = bytes / (sizeof(entry_t) + sizeof(uint32_t)), nb = 1;
    if (cap > NIL - 1) {
        cap = NIL - 1;
    }
    if (conf->max_entries && cap > conf->max_entries) {
        cap = conf->max_entries;
    }
    if (cap == 0) {
        return FM_EINVAL;
    }
    while (nb * 2 <= cap) {
        nb *= 2;
    }
    fm_cache_t *c = calloc(1, sizeof(*c));
    if (!c) {
        return FM_ENOMEM;
    }
    c->arena = big_alloc(cap * sizeof(entry_t));
    c->buckets = big_alloc(nb * sizeof(uint32_t));
    if (!c->arena || !c->buckets) {
        free(c->arena);
        free(c->buckets);
        free(c);
        return FM_ENOMEM;
    }
    memset(c->buckets, 0xff, nb * sizeof(uint32_t));
    if (conf->prefault) {
        /* Measured: without it, a burst of new flows into an empty 256 MiB cache spent a third
         * of the receive thread in the kernel zeroing fresh pages (clear_page_erms). */
        memset(c->arena, 0, cap * sizeof(entry_t));
    }
    c->conf = *conf;
    c->max_src = source_limit(conf);
    c->emit = emit;
    c->seed = random_seed();
    c->capacity = (uint32_t)cap;
    c->bmask = (uint32_t)(nb - 1);
    c->free_head = NIL;
    c->smask = 15;
    c->smap = fm_xcalloc(16, sizeof(uint32_t));
    c->st.capacity = cap;
    c->st.bytes = cap * sizeof(entry_t) + nb * sizeof(uint32_t);
    c->st.bytes_per_entry = c->st.bytes / cap;
    *out = c;
    return 0;
}

void fm_cache_free(fm_cache_t *c)
{
    if (!c) {
        return;
    }
    for (uint32_t i = 0; i < c->nsrc; i++) {
        free(c->srcs[i]);
    }
    free(c->srcs);
    free(c->free_src);
    free(c->smap);
    free(c->ovr);
    free(c->arena);
    free(c->buckets);
    free(c);
}

int fm_cache_set_timeouts(fm_cache_t *c, uint32_t exporter, uint64_t active_ms,
                          uint64_t inactive_ms)
{
    size_t i;
    if (!c || !timeouts_ok(active_ms, inactive_ms)) {
        return FM_EINVAL;
    }
    for (i = 0; i < c->novr && c->ovr[i].exporter != exporter; i++) {
    }
    if (i == c->novr) {
        c->ovr = fm_xreallocarray(c->ovr, c->novr + 1, sizeof(*c->ovr));
        c->novr++;
    }
    c->ovr[i] = (override_t){exporter, active_ms, inactive_ms};
    for (uint32_t k = 0; k < c->nsrc; k++) {
        if (c->srcs[k] && c->srcs[k]->exporter == exporter) {
            source_timeouts(c, c->srcs[k]);
        }
    }
    return 0;
}

void fm_cache_clear_timeouts(fm_cache_t *c, uint32_t exporter)
{
    for (size_t i = 0; c && i < c->novr; i++) {
        if (c->ovr[i].exporter == exporter) {
            c->ovr[i] = c->ovr[--c->novr]; /* order does not matter: looked up by id */
            return;
        }
    }
}

void fm_cache_set_conf(fm_cache_t *c, const fm_cache_conf_t *conf)
{
    if (timeouts_ok(conf->active_ms, conf->inactive_ms)) {
        c->conf.active_ms = conf->active_ms;
        c->conf.inactive_ms = conf->inactive_ms;
    }
    c->conf.export_delay_ms = conf->export_delay_ms;
    c->max_src = source_limit(conf); /* a lower limit is reached as new sources arrive */
    /* The biflow flag changes the key, so it only applies to an empty cache. */
    if (c->used == 0) {
        c->conf.biflow = conf->biflow;
    }
    for (uint32_t k = 0; k < c->nsrc; k++) {
        if (c->srcs[k]) {
            source_timeouts(c, c->srcs[k]);
        }
    }
}

static void insert_rec(fm_cache_t *c, const fm_flow_t *rec, uint32_t si, uint64_t h);

/* Is source index si (from an earlier source_get) still the record's source? */
static bool source_is(const fm_cache_t *c, uint32_t si, const fm_flow_t *f)
{
    const source_t *s = si < c->nsrc ? c->srcs[si] : NULL;
    return s && s->exporter == f->exporter && s->domain == f->domain &&
           s->sampling == f->sampling;
}

/* Add one uniflow record.  si and h are the record's source and key_hash() when the caller has
 * them (fm_cache_insert_batch hashes ahead to prefetch), else si is NIL; they are used only if
 * the source is still the same, so the result never depends on them. */
static void insert_one(fm_cache_t *c, const fm_flow_t *f, uint32_t records, uint32_t si,
                       uint64_t h)
{
    rec_t r = {.f = f, .first = f->first_ms, .last = f->last_ms, .records = records};
    int dir = 0;

    if (r.last < r.first) {
        r.last = r.first; /* a lying exporter; keep its counters anyway */
    }
    bool hashed = si != NIL && source_is(c, si, f);
    if (hashed) {
        c->last_src = si; /* what source_get() would have found, and remembered */
    } else {
        si = source_get(c, f, r.last);
    }
    if (si == NIL || r.last - r.first > MAX_SPAN_MS) {
        emit_record(c, &r); /* too many sources or an absurd span: pass it through unmerged */
        return;
    }
    source_t *s = c->srcs[si];
    if (r.last > s->max_last) {
        s->max_last = r.last;
    }
    if (s->max_last > s->clock) {
        s->clock = s->max_last;
    }
    s->wall_seen = c->wall;

    if (!hashed) {
        h = key_hash(c, f->src, f->dst, f->sport, f->dport, f->proto, (uint16_t)si, f->inif,
                     f->outif);
    }
    uint32_t idx = lookup(c, h, f, (uint16_t)si, &dir);
    if (c->conf.mode == FM_CACHE_MODE_PROFILE) {
        profile_record(c, (uint16_t)si, &r, h, idx, dir);
    } else {
        merge_record(c, (uint16_t)si, &r, h, idx, dir);
    }
}

void fm_cache_insert(fm_cache_t *c, const fm_flow_t *rec)
{
    insert_rec(c, rec, NIL, 0);
}

void fm_cache_insert_batch(fm_cache_t *c, const fm_flow_t *recs, size_t n)
{
    enum { AHEAD = 8, RING = 2 * AHEAD };
    /* Touch the bucket of record i + AHEAD and the head entry of record i + AHEAD / 2 while
     * record i is merged: at a million live flows every lookup is otherwise two cache misses
     * in a row.  Only hints: the lookup itself re-reads everything.  The source and hash
     * found for the prefetch are handed to the insert (a ring of 2 * AHEAD, so record i's
     * are not overwritten by record i + AHEAD's before they are used).  A source is only
     * looked up here, never added: adding one can evict another (max_sources), which must
     * happen in record order, as fm_cache_insert() on each record would do it. */
    uint64_t hs[RING];
    uint32_t ss[RING];
    for (size_t i = 0; i < n + AHEAD; i++) {
        if (i < n) {
            const fm_flow_t *f = &recs[i];
            uint32_t si = source_find(c, f);
            ss[i % RING] = si;
            if (si != NIL) {
                hs[i % RING] = key_hash(c, f->src, f->dst, f->sport, f->dport, f->proto,
                                        (uint16_t)si, f->inif, f->outif);
                __builtin_prefetch(&c->buckets[hs[i % RING] & c->bmask]);
            }
        }
        if (i >= AHEAD / 2 && i - AHEAD / 2 < n && ss[(i - AHEAD / 2) % RING] != NIL) {
            uint32_t head = c->buckets[hs[(i - AHEAD / 2) % RING] & c->bmask];
            if (head != NIL) {
                __builtin_prefetch(&c->arena[head]);
                __builtin_prefetch((const char *)&c->arena[head] + 64);
            }
        }
        if (i >= AHEAD) {
            size_t j = i - AHEAD;
            insert_rec(c, &recs[j], ss[j % RING], hs[j % RING]);
        }
    }
}

static void insert_batch_fn(void *c, const fm_flow_t *recs, size_t n)
{
    fm_cache_insert_batch(c, recs, n);
}

fm_sink_t fm_cache_sink(fm_cache_t *c)
{
    return (fm_sink_t){insert_batch_fn, c};
}

/* si and h: the record's source and hash if known (insert_one), else NIL. */
static void insert_rec(fm_cache_t *c, const fm_flow_t *rec, uint32_t si, uint64_t h)
{
    c->st.inserts++;
    if (rec->rev_packets == 0 && rec->rev_octets == 0) {
        insert_one(c, rec, rec->records ? rec->records : 1, si, h);
        return;
    }
    /* An RFC 5103 biflow record: its halves go in as two uniflow records (one export record). */
    fm_flow_t fwd = *rec, rev = *rec;
    fwd.rev_packets = fwd.rev_octets = 0;
    fwd.flags &= (uint8_t)~FM_FLOW_BIFLOW;
    memcpy(rev.src, rec->dst, 16);
    memcpy(rev.dst, rec->src, 16);
    rev.sport = rec->dport;
    rev.dport = rec->sport;
    rev.inif = rec->outif;
    rev.outif = rec->inif;
    rev.packets = rec->rev_packets;
    rev.octets = rec->rev_octets;
    rev.first_ms = rec->rev_first_ms ? rec->rev_first_ms : rec->first_ms;
    rev.last_ms = rec->rev_last_ms ? rec->rev_last_ms : rec->last_ms;
    rev.tcp_flags = rec->rev_tcp_flags;
    rev.rev_packets = rev.rev_octets = 0;
    rev.flags = fwd.flags;
    insert_one(c, &fwd, rec->records ? rec->records : 1, si, h); /* same key, same hash */
    insert_one(c, &rev, 0, NIL, 0);
}

/* Expire what is due on one source's clock, one pass over at most the whole wheel. */
static void expire_source(fm_cache_t *c, source_t *s)
{
    uint64_t now = s->clock >> WHEEL_SHIFT;
    if (now < s->cursor) {
        return;
    }
    uint64_t n = now - s->cursor + 1;
    if (n > WHEEL_SLOTS) {
        n = WHEEL_SLOTS;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint32_t slot = (uint32_t)((s->cursor + i) & WHEEL_MASK);
        uint32_t idx = s->heads[slot];
        s->heads[slot] = NIL;
        s->bits[slot / 64] &= ~(1ULL << (slot % 64));
        while (idx != NIL) {
            entry_t *e = &c->arena[idx];
            uint32_t next = e->wnext;
            uint64_t deadline = entry_deadline(c, e);
            if (deadline < s->clock) {
                emit_entry(c, e, 0);
                c->st.expired++;
                entry_release(c, idx, false);
            } else {
                wheel_link(c, s, idx, deadline);
            }
            idx = next;
        }
    }
    s->cursor = now;
}

void fm_cache_advance(fm_cache_t *c, uint64_t wall_ms)
{
    c->wall = wall_ms;
    for (uint32_t i = 0; i < c->nsrc; i++) {
        source_t *s = c->srcs[i];
        if (!s) {
            continue;
        }
        if (s->wall_seen == 0 || s->wall_seen > wall_ms) {
            s->wall_seen = wall_ms; /* records seen before the first tick: start idling now */
        }
        uint64_t clk = s->max_last + (wall_ms - s->wall_seen);
        if (clk > s->clock) {
            s->clock = clk;
        }
        if (s->nentries) {
            expire_source(c, s);
        }
        if (s->nentries == 0) {
            source_free(c, i); /* its clock is not needed: nothing is left to expire on it */
        }
    }
    deliver(c);
}

void fm_cache_flush(fm_cache_t *c)
{
    for (uint32_t i = 0; i < c->hwm; i++) {
        if (c->arena[i].state & ST_USED) {
            emit_entry(c, &c->arena[i], FM_FLOW_FLUSHED);
            c->arena[i].state = 0;
        }
    }
    /* Everything is out: reset the structures wholesale rather than entry by entry. */
    memset(c->buckets, 0xff, ((size_t)c->bmask + 1) * sizeof(uint32_t));
    for (uint32_t i = 0; i < c->nsrc; i++) {
        source_t *s = c->srcs[i];
        if (!s) {
            continue;
        }
        memset(s->heads, 0xff, sizeof(s->heads));
        memset(s->bits, 0, sizeof(s->bits));
        s->nentries = 0;
    }
    c->hwm = 0;
    c->free_head = NIL;
    c->used = 0;
    deliver(c);
}

void fm_cache_stats(const fm_cache_t *c, fm_cache_stats_t *s)
{
    if (!c) { /* the daemon's shutdown path after a cache that could not be created */
        memset(s, 0, sizeof(*s));
        return;
    }
    *s = c->st;
    s->entries = c->used;
    s->sources = c->live_src;
    s->max_sources = c->max_src;
    s->source_bytes = (uint64_t)c->live_src * sizeof(source_t);
    s->timeout_overrides = c->novr;
}
