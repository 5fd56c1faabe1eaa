/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow layer of the meter: nfstream's cache and expiry order (NFSTREAM.md §1, §3-7).
 * The cache is a chained hash table over pooled, fixed-size slots plus a list in creation order
 * (nfstream's OrderedDict: a flow moves to the end only when it is re-created after an expiry,
 * never on update).  A slot holds the flow's counters and, when enabled, its statistics, its
 * first-N-packet arrays and its nDPI state, so metering a packet allocates nothing once the pool
 * and the table have grown to the working set.
 */
#include "config.h"

#include "meter/meter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "meter/meter_int.h"
#include "util/err.h"

/* Idle scan: at most every 10 ms of packet time, at most 1000 expiries (nfstream meter.py). */
#define SCAN_INTERVAL_MS 10
#define SCAN_BUDGET 1000
#define SLOTS_PER_CHUNK 1024
#define INITIAL_BUCKETS 4096
/* Without nDPI (which needs the packet bytes) decoded packets are metered in groups of BATCH:
 * their buckets and then their flows are prefetched together, so the cache misses of one group
 * overlap instead of following each other.  Order and results are unchanged. */
#define BATCH 16

const char *const fm_meter_ignore_names[5] = {"short", "link", "not_ip", "fragment",
                                              "truncated"};

/* Direction-free flow key (nfstream get_flow_key): the unordered endpoint pair, protocol,
 * VLAN id and tunnel id.  Padding is zeroed so the key hashes and compares as bytes. */
typedef struct {
    uint8_t ip_a[16], ip_b[16];
    uint16_t port_a, port_b, vlan;
    uint8_t proto, tunnel;
} flow_key_t;

typedef struct {
    uint64_t min_ps[3], max_ps[3];
    double mean_ps[3], m2_ps[3];
    uint64_t min_piat[3], max_piat[3];
    double mean_piat[3], m2_piat[3];
    uint64_t flags[3][FM_METER_NFLAGS];
} stats_t;

/* Hot fields first: a packet of an existing flow reads the first cache line (chain, key) and
 * writes the counters in the next two; endpoints come from the key (src_is_a), durations are
 * last - first at emission. */
typedef struct node {
    struct node *hnext;           /* hash chain, or free list */
    uint64_t hash;
    flow_key_t key;
    uint8_t completed;            /* nDPI detection_completed (0, 1, 2) */
    uint8_t src_is_a;             /* the first packet went from key.ip_a/port_a */
    uint8_t ip_version;
    uint8_t tcp_flags[3];         /* OR of the flags seen, per scope */
    uint64_t first[3], last[3], pkts[3], bytes[3];
    struct node *prev, *next;     /* creation order */
    uint8_t src_mac[6], dst_mac[6];
} node_t;

typedef struct chunk {
    struct chunk *next;
    max_align_t data[];
} chunk_t;

struct fm_meter {
    fm_meter_opts_t o;
    fm_meter_emit_fn emit;
    void *ctx;
    fm_meter_counters_t c;
    uint64_t tick, scan_tick, next_id;
    node_t **buckets;
    size_t nbuckets, count;
    node_t *head, *tail;          /* creation order */
    node_t *free_slots;
    chunk_t *chunks;
    size_t slot_size, stats_off, splt_off, dpi_off;
    fm__meter_dpi_t *dpi;
    fm_meter_flow_t out;          /* the record handed to emit */
    size_t nbatch;
    fm__meter_pkt_t batch[BATCH];
    flow_key_t batch_key[BATCH];
    uint64_t batch_hash[BATCH];
};

void fm_meter_opts_default(fm_meter_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->idle_ms = 120 * 1000;
    o->active_ms = 1800 * 1000;
    o->decode_tunnels = true;
    o->dissections = 20;
}

static size_t align16(size_t n)
{
    return (n + 15) & ~(size_t)15;
}

int fm_meter_new(const fm_meter_opts_t *opts, fm_meter_emit_fn emit, void *ctx,
                 fm_meter_t **out)
{
    if (!opts || !emit || !out || opts->accounting_mode < 0 || opts->accounting_mode > 3) {
        return FM_EINVAL;
    }
    fm_meter_t *m = calloc(1, sizeof *m);
    if (!m) {
        return FM_ENOMEM;
    }
    m->o = *opts;
    m->emit = emit;
    m->ctx = ctx;
    m->nbuckets = INITIAL_BUCKETS;
    m->buckets = calloc(m->nbuckets, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return FM_ENOMEM;
    }
    size_t off = align16(sizeof(node_t));
    m->stats_off = off;
    off += opts->statistics ? align16(sizeof(stats_t)) : 0;
    m->splt_off = off;
    off += align16((size_t)opts->splt * (sizeof(int64_t) + sizeof(int32_t) + sizeof(int8_t)));
    m->dpi_off = off;
    if (opts->dissections) {
        int rc = fm__meter_dpi_new(&m->dpi);
        if (rc < 0) {
            free(m->buckets);
            free(m);
            return rc;
        }
        off += align16(fm__meter_dpi_flow_size());
    }
    m->slot_size = off;
    *out = m;
    return 0;
}

static stats_t *stats_of(const fm_meter_t *m, node_t *n)
{
    return (stats_t *)((char *)n + m->stats_off);
}

/* splt arrays: piat (int64) first for alignment, then ps (int32), then direction (int8). */
static int64_t *splt_piat_of(const fm_meter_t *m, node_t *n)
{
    return (int64_t *)((char *)n + m->splt_off);
}

static int32_t *splt_ps_of(const fm_meter_t *m, node_t *n)
{
    return (int32_t *)(splt_piat_of(m, n) + m->o.splt);
}

static int8_t *splt_dir_of(const fm_meter_t *m, node_t *n)
{
    return (int8_t *)(splt_ps_of(m, n) + m->o.splt);
}

static void *dpi_of(const fm_meter_t *m, node_t *n)
{
    return (char *)n + m->dpi_off;
}

static node_t *slot_get(fm_meter_t *m)
{
    if (!m->free_slots) {
        chunk_t *c = malloc(sizeof *c + m->slot_size * SLOTS_PER_CHUNK);
        if (!c) {
            return NULL;
        }
        c->next = m->chunks;
        m->chunks = c;
        for (size_t i = SLOTS_PER_CHUNK; i-- > 0;) {
            node_t *n = (node_t *)((char *)c->data + i * m->slot_size);
            n->hnext = m->free_slots;
            m->free_slots = n;
        }
    }
    node_t *n = m->free_slots;
    m->free_slots = n->hnext;
    return n;
}

static void slot_put(fm_meter_t *m, node_t *n)
{
    if (m->dpi) {
        fm__meter_dpi_flow_fini(m->dpi, dpi_of(m, n));
    }
    n->hnext = m->free_slots;
    m->free_slots = n;
}

static void grow(fm_meter_t *m)
{
    size_t nb = m->nbuckets * 2;
    node_t **b = calloc(nb, sizeof *b);

    if (!b) {
        return; /* keep the longer chains; still correct */
    }
    for (size_t i = 0; i < m->nbuckets; i++) {
        for (node_t *n = m->buckets[i], *next; n; n = next) {
            next = n->hnext;
            n->hnext = b[n->hash & (nb - 1)];
            b[n->hash & (nb - 1)] = n;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = nb;
}

static void make_key(const fm__meter_pkt_t *p, flow_key_t *k)
{
    int c = memcmp(p->src_ip, p->dst_ip, 16);

    memset(k, 0, sizeof *k);
    if (c < 0 || (c == 0 && p->sport <= p->dport)) {
        memcpy(k->ip_a, p->src_ip, 16);
        memcpy(k->ip_b, p->dst_ip, 16);
        k->port_a = p->sport;
        k->port_b = p->dport;
    } else {
        memcpy(k->ip_a, p->dst_ip, 16);
        memcpy(k->ip_b, p->src_ip, 16);
        k->port_a = p->dport;
        k->port_b = p->sport;
    }
    k->proto = p->proto;
    k->vlan = p->vlan_id;
    k->tunnel = p->tunnel_id;
}

static node_t **lookup(fm_meter_t *m, const flow_key_t *k, uint64_t h)
{
    node_t **pp = &m->buckets[h & (m->nbuckets - 1)];

    while (*pp && ((*pp)->hash != h || memcmp(&(*pp)->key, k, sizeof *k) != 0)) {
        pp = &(*pp)->hnext;
    }
    return pp;
}

static void list_unlink(fm_meter_t *m, node_t *n)
{
    if (n->prev) {
        n->prev->next = n->next;
    } else {
        m->head = n->next;
    }
    if (n->next) {
        n->next->prev = n->prev;
    } else {
        m->tail = n->prev;
    }
}

static double sample_stddev(double m2, uint64_t n, uint64_t min_n)
{
    return n > min_n ? sqrt(m2 / (double)(n - min_n)) : 0.0;
}

static void fill_out(fm_meter_t *m, node_t *n, int expiration_id)
{
    fm_meter_flow_t *o = &m->out;

    o->id = m->next_id++;
    o->expiration_id = expiration_id;
    const flow_key_t *k = &n->key;
    memcpy(o->src_ip, n->src_is_a ? k->ip_a : k->ip_b, 16);
    memcpy(o->dst_ip, n->src_is_a ? k->ip_b : k->ip_a, 16);
    o->src_port = n->src_is_a ? k->port_a : k->port_b;
    o->dst_port = n->src_is_a ? k->port_b : k->port_a;
    memcpy(o->src_mac, n->src_mac, 6);
    memcpy(o->dst_mac, n->dst_mac, 6);
    o->vlan_id = k->vlan;
    o->protocol = k->proto;
    o->ip_version = n->ip_version;
    o->tunnel_id = k->tunnel;
    memcpy(o->tcp_flags, n->tcp_flags, sizeof o->tcp_flags);
    memcpy(o->first_ms, n->first, sizeof o->first_ms);
    memcpy(o->last_ms, n->last, sizeof o->last_ms);
    for (int i = 0; i < 3; i++) {
        o->duration_ms[i] = n->last[i] - n->first[i];
    }
    memcpy(o->packets, n->pkts, sizeof o->packets);
    memcpy(o->bytes, n->bytes, sizeof o->bytes);
    if (m->o.statistics) {
        const stats_t *s = stats_of(m, n);
        for (int i = 0; i < 3; i++) {
            o->min_ps[i] = s->min_ps[i];
            o->max_ps[i] = s->max_ps[i];
            o->mean_ps[i] = s->mean_ps[i];
            o->stddev_ps[i] = sample_stddev(s->m2_ps[i], n->pkts[i], 1);
            o->min_piat_ms[i] = s->min_piat[i];
            o->max_piat_ms[i] = s->max_piat[i];
            o->mean_piat_ms[i] = s->mean_piat[i];
            o->stddev_piat_ms[i] = sample_stddev(s->m2_piat[i], n->pkts[i], 2);
        }
        memcpy(o->flag_packets, s->flags, sizeof o->flag_packets);
    }
    if (m->o.splt) {
        o->splt_direction = splt_dir_of(m, n);
        o->splt_ps = splt_ps_of(m, n);
        o->splt_piat_ms = splt_piat_of(m, n);
    }
    if (m->dpi) {
        void *st = dpi_of(m, n);
        if (fm__meter_dpi_unknown(st) && n->completed == 0) {
            fm__meter_dpi_giveup(m->dpi, st);
        }
        fm__meter_dpi_collect(m->dpi, st, o);
        n->completed = 1;
    }
}

/* Emit a cached flow and remove it from the cache. */
static void expire(fm_meter_t *m, node_t **pp, int expiration_id)
{
    node_t *n = *pp;

    fill_out(m, n, expiration_id);
    *pp = n->hnext;
    list_unlink(m, n);
    m->count--;
    m->c.active = m->count;
    m->c.flows++;
    m->emit(m->ctx, &m->out);
    slot_put(m, n);
}

static uint16_t packet_size(const fm_meter_t *m, const fm__meter_pkt_t *p)
{
    switch (m->o.accounting_mode) {
    case 0: return p->raw_size;
    case 1: return p->ip_size;
    case 2: return p->transport_size;
    default: return p->payload_size;
    }
}

static void count_flags(stats_t *s, int scope, uint8_t f)
{
    /* TCP header bits: FIN 0x01 SYN 0x02 RST 0x04 PSH 0x08 ACK 0x10 URG 0x20 ECE 0x40 CWR 0x80 */
    s->flags[scope][FM_METER_SYN] += (f >> 1) & 1;
    s->flags[scope][FM_METER_CWR] += (f >> 7) & 1;
    s->flags[scope][FM_METER_ECE] += (f >> 6) & 1;
    s->flags[scope][FM_METER_URG] += (f >> 5) & 1;
    s->flags[scope][FM_METER_ACK] += (f >> 4) & 1;
    s->flags[scope][FM_METER_PSH] += (f >> 3) & 1;
    s->flags[scope][FM_METER_RST] += (f >> 2) & 1;
    s->flags[scope][FM_METER_FIN] += f & 1;
}

static void ps_first(stats_t *s, int scope, uint16_t size)
{
    s->min_ps[scope] = s->max_ps[scope] = size;
    s->mean_ps[scope] = size;
    s->m2_ps[scope] = 0;
}

/* Welford in nfstream's exact operation order (bit-equal doubles need no FMA contraction;
 * x86-64 baseline code has none). */
static void ps_next(stats_t *s, int scope, uint16_t size, uint64_t n)
{
    if (size > s->max_ps[scope]) {
        s->max_ps[scope] = size;
    }
    if (size < s->min_ps[scope]) {
        s->min_ps[scope] = size;
    }
    double old = s->mean_ps[scope];
    s->mean_ps[scope] += ((double)size - old) / (double)n;
    s->m2_ps[scope] += ((double)size - old) * ((double)size - s->mean_ps[scope]);
}

/* piat statistics: the scope's 2nd packet starts them, later ones divide by n - 1. */
static void piat_next(stats_t *s, int scope, uint64_t piat, uint64_t n)
{
    if (n == 2) {
        s->min_piat[scope] = s->max_piat[scope] = piat;
        s->mean_piat[scope] = (double)piat;
        return;
    }
    if (piat > s->max_piat[scope]) {
        s->max_piat[scope] = piat;
    }
    if (piat < s->min_piat[scope]) {
        s->min_piat[scope] = piat;
    }
    double old = s->mean_piat[scope];
    s->mean_piat[scope] += ((double)piat - old) / (double)(n - 1);
    s->m2_piat[scope] += ((double)piat - old) * ((double)piat - s->mean_piat[scope]);
}

static void dpi_first(fm_meter_t *m, node_t *n, const fm__meter_pkt_t *p)
{
    void *st = dpi_of(m, n);

    fm__meter_dpi_flow_init(m->dpi, st);
    fm__meter_dpi_process(m->dpi, st, p, p->time);
    if (fm__meter_dpi_unknown(st) && m->o.dissections == 1) {
        fm__meter_dpi_giveup(m->dpi, st);
        n->completed = 1;
    }
}

static void dpi_next(fm_meter_t *m, node_t *n, const fm__meter_pkt_t *p)
{
    void *st = dpi_of(m, n);

    if (n->completed != 0) {
        if (n->completed == 1) {
            n->completed = 2;
        }
        return;
    }
    if (fm__meter_dpi_unknown(st) || fm__meter_dpi_extra_possible(m->dpi, st)) {
        fm__meter_dpi_process(m->dpi, st, p, p->time);
    } else {
        n->completed = 1;
    }
    if (m->o.dissections == n->pkts[FM_METER_BI]) {
        if (fm__meter_dpi_unknown(st)) {
            fm__meter_dpi_giveup(m->dpi, st);
        }
        n->completed = 1;
    }
}

static void create(fm_meter_t *m, node_t **pp, const flow_key_t *k, uint64_t h,
                   const fm__meter_pkt_t *p)
{
    node_t *n = slot_get(m);

    if (!n) {
        return; /* out of memory: the packet is lost, the meter goes on */
    }
    memset(n, 0, sizeof *n);
    n->hash = h;
    n->key = *k;
    uint16_t size = packet_size(m, p);
    if (m->o.splt) {
        int64_t *piat = splt_piat_of(m, n);
        int32_t *ps = splt_ps_of(m, n);
        int8_t *dir = splt_dir_of(m, n);
        for (unsigned i = 0; i < m->o.splt; i++) {
            piat[i] = -1;
            ps[i] = -1;
            dir[i] = -1;
        }
        piat[0] = 0;
        ps[0] = size;
        dir[0] = 0;
    }
    if (m->dpi) {
        dpi_first(m, n, p);
    }
    n->src_is_a = memcmp(k->ip_a, p->src_ip, 16) == 0 && k->port_a == p->sport;
    memcpy(n->src_mac, p->src_mac, 6);
    memcpy(n->dst_mac, p->dst_mac, 6);
    n->ip_version = p->ip_version;
    n->tcp_flags[FM_METER_BI] = n->tcp_flags[FM_METER_S2D] = p->tcp_flags;
    for (int s = FM_METER_BI; s <= FM_METER_S2D; s++) {
        n->first[s] = n->last[s] = p->time;
        n->pkts[s] = 1;
        n->bytes[s] = size;
    }
    if (m->o.statistics) {
        stats_t *st = stats_of(m, n);
        memset(st, 0, sizeof *st);
        for (int s = FM_METER_BI; s <= FM_METER_S2D; s++) {
            ps_first(st, s, size);
            count_flags(st, s, p->tcp_flags);
        }
    }
    /* append in creation order, insert at the head of its chain */
    n->prev = m->tail;
    n->next = NULL;
    if (m->tail) {
        m->tail->next = n;
    } else {
        m->head = n;
    }
    m->tail = n;
    n->hnext = *pp;
    *pp = n;
    m->count++;
    m->c.active = m->count;
}

/*
 * nfstream: direction 1 when the packet's ports differ from the flow's, else when its addresses
 * do.  The key already matched, so the packet's endpoints are the flow's two endpoints and this
 * is "the packet's source endpoint is not the flow's" (both endpoints equal: always 0).
 */
static int direction(const node_t *n, const fm__meter_pkt_t *p)
{
    const flow_key_t *k = &n->key;
    const uint8_t *src = n->src_is_a ? k->ip_a : k->ip_b;
    uint16_t sport = n->src_is_a ? k->port_a : k->port_b;

    return p->sport != sport || memcmp(p->src_ip, src, 16) != 0;
}

static void update(fm_meter_t *m, node_t *n, const fm__meter_pkt_t *p)
{
    int dir = direction(n, p);
    uint16_t size = packet_size(m, p);
    stats_t *st = m->o.statistics ? stats_of(m, n) : NULL;
    uint64_t piat = p->time - n->last[FM_METER_BI];

    /* bidirectional */
    uint64_t bn = ++n->pkts[FM_METER_BI];
    if (bn - 1 < m->o.splt) {
        splt_dir_of(m, n)[bn - 1] = (int8_t)dir;
        splt_ps_of(m, n)[bn - 1] = size;
        splt_piat_of(m, n)[bn - 1] = (int64_t)piat;
    }
    n->last[FM_METER_BI] = p->time;
    if (m->dpi) {
        dpi_next(m, n, p);
    }
    n->bytes[FM_METER_BI] += size;
    if (st) {
        count_flags(st, FM_METER_BI, p->tcp_flags);
        ps_next(st, FM_METER_BI, size, bn);
        piat_next(st, FM_METER_BI, piat, bn);
    }
    /* one direction */
    int s = dir ? FM_METER_D2S : FM_METER_S2D;
    n->tcp_flags[FM_METER_BI] |= p->tcp_flags;
    n->tcp_flags[s] |= p->tcp_flags;
    uint64_t sn = ++n->pkts[s];
    n->bytes[s] += size;
    if (sn == 1) { /* first reverse packet */
        n->first[s] = n->last[s] = p->time;
        if (st) {
            ps_first(st, s, size);
            count_flags(st, s, p->tcp_flags);
        }
        return;
    }
    uint64_t spiat = p->time - n->last[s];
    n->last[s] = p->time;
    if (st) {
        ps_next(st, s, size, sn);
        count_flags(st, s, p->tcp_flags);
        piat_next(st, s, spiat, sn);
    }
}

static void consume(fm_meter_t *m, const fm__meter_pkt_t *p, const flow_key_t *kp, uint64_t h)
{
    const flow_key_t k = *kp;
    node_t **pp = lookup(m, &k, h);
    if (*pp) {
        node_t *n = *pp;
        if (p->time - n->last[FM_METER_BI] >= m->o.idle_ms) {
            expire(m, pp, 0);
        } else if (p->time - n->first[FM_METER_BI] >= m->o.active_ms) {
            expire(m, pp, 1);
        } else {
            update(m, n, p);
            return;
        }
        pp = lookup(m, &k, h); /* the chain changed */
    } else if (m->count >= m->nbuckets) {
        grow(m);
        pp = lookup(m, &k, h);
    }
    create(m, pp, &k, h, p);
}

/* Creation-order scan: stops at the first flow that is not idle. */
static void idle_scan(fm_meter_t *m)
{
    for (int done = 0; done < SCAN_BUDGET && m->head; done++) {
        node_t *n = m->head;
        if (m->tick < n->last[FM_METER_BI] + m->o.idle_ms) {
            return;
        }
        expire(m, lookup(m, &n->key, n->hash), 0);
    }
}

/* Meter one decoded packet: nfstream's clock, consume, then the scan. */
static void meter_one(fm_meter_t *m, fm__meter_pkt_t *p, const flow_key_t *k, uint64_t h)
{
    /* time never goes backwards: a late packet takes the running maximum */
    if (p->time > m->tick) {
        m->tick = p->time;
    }
    p->time = m->tick;
    bool go_scan = m->tick - m->scan_tick >= SCAN_INTERVAL_MS;
    if (go_scan) {
        m->scan_tick = m->tick;
    }
    consume(m, p, k, h);
    if (go_scan) {
        idle_scan(m);
    }
}

static void run_batch(fm_meter_t *m)
{
    size_t mask = m->nbuckets - 1;

    for (size_t i = 0; i < m->nbatch; i++) {
        node_t *n = m->buckets[m->batch_hash[i] & mask];
        if (n) {
            __builtin_prefetch(n);
            __builtin_prefetch((char *)n + 64, 1);
            __builtin_prefetch((char *)n + 128, 1);
        }
    }
    for (size_t i = 0; i < m->nbatch; i++) {
        meter_one(m, &m->batch[i], &m->batch_key[i], m->batch_hash[i]);
    }
    m->nbatch = 0;
}

void fm_meter_sync(fm_meter_t *m)
{
    if (m->nbatch) {
        run_batch(m);
    }
}

void fm_meter_packet(fm_meter_t *m, int dlt, uint64_t ts_ms, const uint8_t *data,
                     uint32_t caplen, uint32_t len)
{
    fm__meter_pkt_t *p = &m->batch[m->nbatch];
    int reason = 0;

    m->c.packets++;
    if (!fm__meter_decode(dlt, data, caplen, len, m->o.decode_tunnels, p, &reason)) {
        m->c.ignored++;
        m->c.ignored_by[reason]++;
        return;
    }
    m->c.parsed++;
    p->time = ts_ms;
    flow_key_t *k = &m->batch_key[m->nbatch];
    make_key(p, k);
    uint64_t h = m->batch_hash[m->nbatch] = XXH3_64bits(k, sizeof *k);
    if (m->dpi) {
        meter_one(m, p, k, h); /* nDPI reads the packet bytes: no batching */
        return;
    }
    __builtin_prefetch(&m->buckets[h & (m->nbuckets - 1)]);
    if (++m->nbatch == BATCH) {
        run_batch(m);
    }
}

/* Everything goes: emit in creation order without unlinking each flow from its chain, then
 * empty the table (a chain walk per flow was a cache miss per flow). */
void fm_meter_flush(fm_meter_t *m)
{
    fm_meter_sync(m);
    while (m->head) {
        node_t *n = m->head;
        fill_out(m, n, 0);
        m->head = n->next;
        m->count--;
        m->c.active = m->count;
        m->c.flows++;
        m->emit(m->ctx, &m->out);
        slot_put(m, n);
    }
    m->tail = NULL;
    memset(m->buckets, 0, m->nbuckets * sizeof *m->buckets);
}

const fm_meter_counters_t *fm_meter_counters(const fm_meter_t *m)
{
    /* flows of packets still in the batch are counted when it runs (fm_meter_sync) */
    return &m->c;
}

const fm_meter_opts_t *fm_meter_opts(const fm_meter_t *m)
{
    return &m->o;
}

void fm_meter_free(fm_meter_t *m)
{
    if (!m) {
        return;
    }
    if (m->dpi) {
        for (node_t *n = m->head; n; n = n->next) {
            fm__meter_dpi_flow_fini(m->dpi, dpi_of(m, n));
        }
    }
    for (chunk_t *c = m->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    fm__meter_dpi_free(m->dpi);
    free(m->buckets);
    free(m);
}
