/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Cache shards on threads (shard.h).  Each shard has a ring of messages; a message is
 * either a batch of up to BATCH records, filled in place by the loop thread, or a control
 * message.  The loop counts the control messages it sent to a shard (`sent`) and the shard
 * counts those it processed (`done`, release): waiting for a shard is waiting for done == sent.
 *
 * Sleeping and waking (park_t): a side that finds nothing to do polls a few times, then
 * registers as a waiter and sleeps on a condition variable; the other side, after publishing,
 * looks at the waiter count behind a full fence and takes the mutex only when someone sleeps.
 * The waiter re-checks its condition after registering, so no wake-up is lost (the two fences
 * order the waiter's registration and the publisher's store).  The mutex is never taken while
 * both sides are busy, which is the hot path.
 *
 * Neither side spins for long: with more busy threads than cores (the loop and N shards on N
 * cores), a spinning thread takes the core from the one it waits for.  Instead both sides wake
 * the other only when there is a run of work for it: the loop wakes a sleeping shard when
 * WAKE_AT messages wait in its ring (or for a control message, which is always urgent), and a
 * shard wakes the loop waiting for space only when half the ring is free again.  A shard thus
 * sleeps and wakes once per run of at least WAKE_AT * BATCH records instead of once per batch;
 * records left waiting below WAKE_AT go with the next control message, and every reader sends
 * one (fm_shards_sync) before it reads.
 */
#include "config.h"

#include "shard.h"

#include <assert.h>
#include <pthread.h>
#include <signal.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "ring.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define BATCH 128u     /* records per message: 17 KiB */
/* Messages per ring.  A long ring lets a shard that the scheduler put aside for a few
 * milliseconds (more busy threads than cores) catch up later instead of stopping the loop,
 * and the other shards with it; bench/pipeline measured 1.4x -> 1.75x (idle 2-core bound) for
 * 32 -> 256.  The ring comes out of the shard's part of [cache] memory, at most an eighth of
 * it, so that the daemon's memory bound stays what flowmixd.conf(5) says. */
#define MSG_SLOTS_MAX 256u /* 32768 records, 4.4 MiB */
#define MSG_SLOTS_MIN 32u
#define SPINS 64       /* polls before sleeping (well under a microsecond each) */
#define WAKE_AT 8u     /* messages in a ring that wake its sleeping shard: 1024 records */

typedef enum {
    MSG_RECORDS,
    MSG_ADVANCE,
    MSG_TIMEOUTS,
    MSG_FORGET,   /* u.to.exporter: fm_cache_clear_timeouts */
    MSG_CONF,
    MSG_SYNC,
    MSG_FLUSH,
    MSG_STOP,
} msg_type_t;

typedef struct msg {
    msg_type_t type;
    uint32_t n;                /* MSG_RECORDS */
    union {
        uint64_t wall_ms;      /* MSG_ADVANCE */
        struct {
            uint32_t exporter;
            uint64_t active_ms, inactive_ms;
        } to;                  /* MSG_TIMEOUTS */
        fm_cache_conf_t conf;  /* MSG_CONF */
    } u;
    fm_flow_t recs[BATCH];
} msg_t;

typedef struct park {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    atomic_uint waiters;
} park_t;

typedef struct shard {
    fm_ring_t ring;
    fm_cache_t *cache;
    struct fm_shards *owner;
    unsigned index;
    pthread_t thread;
    bool running;              /* the thread was started */
    fm_sink_t out;             /* ops.finished(i) */

    /* loop thread */
    msg_t *open;               /* a records message being filled, not yet published */
    uint64_t sent;             /* control messages published */

    /* shard thread; read by the loop only after done == sent (acquire) */
    uint64_t finished;         /* flows put into out */
    uint64_t sleeps;           /* times the thread slept for an empty ring */
    fm_cache_stats_t snap;     /* written while processing MSG_SYNC / MSG_FLUSH */
    uint64_t finished_snap, sleeps_snap;

    alignas(64) atomic_uint_fast64_t done;
    park_t park;               /* the shard sleeps here when its ring is empty */
} shard_t;

struct fm_shards {
    unsigned n;
    uint64_t seed;
    fm_shards_ops_t ops;
    shard_t *shards;
    park_t loop_park;          /* the loop sleeps here waiting for ring space or a shard */
    uv_check_t check;
    bool started;
};

/* ---- sleeping and waking ------------------------------------------------------------------ */

static void park_init(park_t *p)
{
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    atomic_init(&p->waiters, 0);
}

static void park_fini(park_t *p)
{
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Return once ready(arg) holds.  @return whether the caller slept for it. */
static bool park_wait(park_t *p, bool (*ready)(void *), void *arg)
{
    for (int i = 0; i < SPINS; i++) {
        if (ready(arg)) {
            return false;
        }
        cpu_relax();
    }
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->waiters, 1, memory_order_seq_cst);
    atomic_thread_fence(memory_order_seq_cst);
    while (!ready(arg)) {
        pthread_cond_wait(&p->cv, &p->mu);
    }
    atomic_fetch_sub_explicit(&p->waiters, 1, memory_order_relaxed);
    pthread_mutex_unlock(&p->mu);
    return true;
}

/* After making something ready: wake whoever sleeps on p (cheap when nobody does). */
static void park_wake(park_t *p)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&p->waiters, memory_order_seq_cst)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* ---- the shard thread --------------------------------------------------------------------- */

static void count_finished(void *ctx, const fm_flow_t *flows, size_t n)
{
    shard_t *sh = ctx;
    sh->finished += n;
    fm_sink_put(sh->out, flows, n);
}

static void snapshot(shard_t *sh)
{
    fm_shards_t *s = sh->owner;
    fm_cache_stats(sh->cache, &sh->snap);
    sh->finished_snap = sh->finished;
    sh->sleeps_snap = sh->sleeps;
    if (s->ops.sync) {
        s->ops.sync(s->ops.ctx, sh->index);
    }
}

/* Process one message.  @return false for MSG_STOP. */
static bool process(shard_t *sh, const msg_t *m)
{
    switch (m->type) {
    case MSG_RECORDS:
        fm_cache_insert_batch(sh->cache, m->recs, m->n);
        break;
    case MSG_ADVANCE:
        fm_cache_advance(sh->cache, m->u.wall_ms);
        break;
    case MSG_TIMEOUTS:
        fm_cache_set_timeouts(sh->cache, m->u.to.exporter, m->u.to.active_ms,
                              m->u.to.inactive_ms);
        break;
    case MSG_FORGET:
        fm_cache_clear_timeouts(sh->cache, m->u.to.exporter);
        break;
    case MSG_CONF:
        fm_cache_set_conf(sh->cache, &m->u.conf);
        break;
    case MSG_FLUSH:
        fm_cache_flush(sh->cache);
        snapshot(sh);
        break;
    case MSG_SYNC:
        snapshot(sh);
        break;
    case MSG_STOP:
        return false;
    }
    return true;
}

static bool ring_ready(void *arg)
{
    return fm_ring_pending(&((shard_t *)arg)->ring);
}

static void *shard_main(void *arg)
{
    shard_t *sh = arg;
    uint64_t done = 0;
    bool more = true;

    while (more) {
        msg_t *m = fm_ring_read_slot(&sh->ring);
        if (!m) {
            sh->sleeps += park_wait(&sh->park, ring_ready, sh);
            continue;
        }
        bool ctl = m->type != MSG_RECORDS;
        more = process(sh, m);
        fm_ring_release(&sh->ring);
        if (ctl) {
            atomic_store_explicit(&sh->done, ++done, memory_order_release);
        }
        /* The loop waits for a control message done or for half the ring (half_free): waking
         * it for every slot freed would wake it to sleep again. */
        if (ctl || fm_ring_used(&sh->ring) <= (sh->ring.mask + 1) / 2) {
            park_wake(&sh->owner->loop_park);
        }
    }
    return NULL;
}

/* ---- loop side ---------------------------------------------------------------------------- */

/* Wake every shard that sleeps with messages in its ring (below WAKE_AT). */
static void wake_all(fm_shards_t *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        if (fm_ring_pending(&s->shards[i].ring)) {
            park_wake(&s->shards[i].park);
        }
    }
}

/* A full ring is waited on until half of it is free again: the shard then works through a
 * run of messages between two wake-ups instead of waking the loop for every slot it frees. */
static bool half_free(void *arg)
{
    shard_t *sh = arg;
    return fm_ring_used(&sh->ring) <= (sh->ring.mask + 1) / 2;
}

/* A message slot to fill, waiting for the shard when its ring is full. */
static msg_t *take_slot(shard_t *sh)
{
    msg_t *m;
    while (!(m = fm_ring_write_slot(&sh->ring))) {
        wake_all(sh->owner); /* the loop stops: no shard may sleep on work while it waits */
        park_wait(&sh->owner->loop_park, half_free, sh);
    }
    return m;
}

/* Hand the filled slot over; wake the shard if it sleeps and the message is urgent (control)
 * or completes a run of WAKE_AT. */
static void publish(shard_t *sh, bool urgent)
{
    fm_ring_publish(&sh->ring);
    if (urgent || fm_ring_used(&sh->ring) >= WAKE_AT) {
        park_wake(&sh->park);
    }
}

static void push_open(shard_t *sh)
{
    if (sh->open) {
        sh->open = NULL;
        publish(sh, false);
    }
}

/* A control message of type t (the open batch goes first, to keep the order); the caller fills
 * its arguments and calls send_ctl(). */
static msg_t *ctl_slot(shard_t *sh, msg_type_t t)
{
    push_open(sh);
    msg_t *m = take_slot(sh);
    m->type = t;
    return m;
}

static void send_ctl(shard_t *sh)
{
    sh->sent++;
    publish(sh, true);
}

static bool shard_done(void *arg)
{
    shard_t *sh = arg;
    return atomic_load_explicit(&sh->done, memory_order_acquire) == sh->sent;
}

static void wait_all(fm_shards_t *s)
{
    for (unsigned i = 0; i < s->n; i++) {
        park_wait(&s->loop_park, shard_done, &s->shards[i]);
    }
}

/* murmur3's finaliser: every input bit moves every output bit. */
static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= UINT64_C(0xff51afd7ed558ccd);
    x ^= x >> 33;
    x *= UINT64_C(0xc4ceb9fe1a85ec53);
    x ^= x >> 33;
    return x;
}

/* One end of a conversation: its address and port. */
static inline uint64_t end_hash(const uint8_t addr[16], uint16_t port, uint64_t seed)
{
    uint64_t lo, hi;
    memcpy(&lo, addr, 8);
    memcpy(&hi, addr + 8, 8); /* an IPv4 address is all here */
    return mix64((hi ^ seed) + mix64(lo ^ ((uint64_t)port << 48) ^ (seed >> 7)));
}

uint64_t fm_shards_flow_hash(const fm_flow_t *f, uint64_t seed)
{
    /* The two ends are added, so both directions give the same sum without comparing and
     * swapping them first (what the cache's key does); then what else tells flows apart. */
    uint64_t ends = end_hash(f->src, f->sport, seed) + end_hash(f->dst, f->dport, seed);
    uint64_t src = mix64(((uint64_t)f->exporter << 32 | f->domain) ^ (seed * 3));
    uint64_t rest = ((uint64_t)f->sampling << 8 | f->proto) * UINT64_C(0x9e3779b97f4a7c15);
    return mix64(ends ^ src ^ rest);
}

unsigned fm_shards_of(const fm_shards_t *s, const fm_flow_t *f)
{
    uint64_t h = fm_shards_flow_hash(f, s->seed);
    return (unsigned)(((h >> 32) * s->n) >> 32); /* multiply-shift: no division per record */
}

static void dispatch(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_shards_t *s = ctx;
    for (size_t i = 0; i < n; i++) {
        shard_t *sh = &s->shards[fm_shards_of(s, &flows[i])];
        msg_t *m = sh->open;
        if (!m) {
            m = sh->open = take_slot(sh);
            m->type = MSG_RECORDS;
            m->n = 0;
        }
        m->recs[m->n++] = flows[i];
        if (m->n == BATCH) {
            push_open(sh);
        }
    }
}

fm_sink_t fm_shards_sink(fm_shards_t *s)
{
    if (s->n == 1) {
        return fm_cache_sink(s->shards[0].cache);
    }
    return (fm_sink_t){dispatch, s};
}

void fm_shards_push(fm_shards_t *s)
{
    for (unsigned i = 0; s->n > 1 && i < s->n; i++) {
        push_open(&s->shards[i]);
    }
}

static void on_check(uv_check_t *h)
{
    fm_shards_push(h->data);
}

int fm_shards_start(fm_shards_t *s, uv_loop_t *loop)
{
    int rc;
    if (s->n == 1) {
        return 0;
    }
    if ((rc = uv_check_init(loop, &s->check)) < 0) {
        return rc;
    }
    s->check.data = s;
    s->started = true;
    if ((rc = uv_check_start(&s->check, on_check)) < 0) {
        return rc;
    }
    uv_unref((uv_handle_t *)&s->check);
    return 0;
}

void fm_shards_stop(fm_shards_t *s)
{
    if (s && s->started && !uv_is_closing((uv_handle_t *)&s->check)) {
        fm_shards_push(s);
        uv_close((uv_handle_t *)&s->check, NULL);
    }
}

unsigned fm_shards_workers(const fm_shards_t *s)
{
    return s->n;
}

void fm_shards_advance(fm_shards_t *s, uint64_t wall_ms)
{
    if (s->n == 1) {
        fm_cache_advance(s->shards[0].cache, wall_ms);
        return;
    }
    for (unsigned i = 0; i < s->n; i++) {
        msg_t *m = ctl_slot(&s->shards[i], MSG_ADVANCE);
        m->u.wall_ms = wall_ms;
        send_ctl(&s->shards[i]);
    }
}

int fm_shards_set_timeouts(fm_shards_t *s, uint32_t exporter, uint64_t active_ms,
                           uint64_t inactive_ms)
{
    if (s->n == 1) {
        return fm_cache_set_timeouts(s->shards[0].cache, exporter, active_ms, inactive_ms);
    }
    if (active_ms == 0 || inactive_ms > active_ms) {
        return FM_EINVAL; /* as fm_cache_set_timeouts would say */
    }
    for (unsigned i = 0; i < s->n; i++) {
        msg_t *m = ctl_slot(&s->shards[i], MSG_TIMEOUTS);
        m->u.to.exporter = exporter;
        m->u.to.active_ms = active_ms;
        m->u.to.inactive_ms = inactive_ms;
        send_ctl(&s->shards[i]);
    }
    return 0;
}

void fm_shards_clear_timeouts(fm_shards_t *s, uint32_t exporter)
{
    if (s->n == 1) {
        fm_cache_clear_timeouts(s->shards[0].cache, exporter);
        return;
    }
    for (unsigned i = 0; i < s->n; i++) {
        msg_t *m = ctl_slot(&s->shards[i], MSG_FORGET);
        m->u.to.exporter = exporter;
        send_ctl(&s->shards[i]);
    }
}

void fm_shards_set_conf(fm_shards_t *s, const fm_cache_conf_t *conf)
{
    if (s->n == 1) {
        fm_cache_set_conf(s->shards[0].cache, conf);
        return;
    }
    for (unsigned i = 0; i < s->n; i++) {
        msg_t *m = ctl_slot(&s->shards[i], MSG_CONF);
        m->u.conf = *conf;
        send_ctl(&s->shards[i]);
    }
}

static void round_trip(fm_shards_t *s, msg_type_t t)
{
    for (unsigned i = 0; i < s->n; i++) {
        ctl_slot(&s->shards[i], t);
        send_ctl(&s->shards[i]);
    }
    wait_all(s);
}

void fm_shards_sync(fm_shards_t *s)
{
    if (s->n == 1) {
        if (s->ops.sync) {
            s->ops.sync(s->ops.ctx, 0);
        }
        return;
    }
    round_trip(s, MSG_SYNC);
}

void fm_shards_flush(fm_shards_t *s)
{
    if (s->n == 1) {
        fm_cache_flush(s->shards[0].cache);
        fm_shards_sync(s);
        return;
    }
    round_trip(s, MSG_FLUSH);
}

static void stats_add(fm_cache_stats_t *sum, const fm_cache_stats_t *a)
{
    sum->inserts += a->inserts;
    sum->merges += a->merges;
    sum->biflow_pairs += a->biflow_pairs;
    sum->merge_conflicts += a->merge_conflicts;
    sum->expired += a->expired;
    sum->evicted += a->evicted;
    sum->emitted += a->emitted;
    sum->entries += a->entries;
    sum->capacity += a->capacity;
    sum->bytes += a->bytes;
    sum->sources += a->sources;
    sum->max_sources += a->max_sources;
    sum->sources_freed += a->sources_freed;
    sum->sources_evicted += a->sources_evicted;
    /* every shard holds the same overrides: the table's size, not a sum */
    if (a->timeout_overrides > sum->timeout_overrides) {
        sum->timeout_overrides = a->timeout_overrides;
    }
    sum->source_bytes += a->source_bytes;
}

void fm_shards_stats(const fm_shards_t *s, fm_cache_stats_t *sum, uint64_t *finished)
{
    fm_cache_stats_t st, all;
    uint64_t fin = 0;

    memset(&all, 0, sizeof(all));
    for (unsigned i = 0; s && i < s->n; i++) {
        const shard_t *sh = &s->shards[i];
        if (s->n == 1) {
            fm_cache_stats(sh->cache, &st);
            fin += sh->finished;
        } else {
            st = sh->snap;
            fin += sh->finished_snap;
        }
        stats_add(&all, &st);
    }
    all.bytes_per_entry = all.capacity ? all.bytes / all.capacity : 0;
    if (sum) {
        *sum = all;
    }
    if (finished) {
        *finished = fin;
    }
}

uint64_t fm_shards_sleeps(const fm_shards_t *s)
{
    uint64_t n = 0;
    for (unsigned i = 0; s && s->n > 1 && i < s->n; i++) {
        n += s->shards[i].sleeps_snap;
    }
    return n;
}

/* ---- creation ----------------------------------------------------------------------------- */

static uint64_t hash_seed(void)
{
    uint64_t seed;
    if (getrandom(&seed, sizeof(seed), GRND_NONBLOCK) != (ssize_t)sizeof(seed)) {
        seed = fm_time_mono_ns();
    }
    return seed;
}

static void *thread_start(void *arg)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL); /* signals are the loop thread's (uv_signal) */
    return shard_main(arg);
}

/* The ring of a shard with @p mib MiB of [cache] memory: MSG_SLOTS_MAX slots, halved while it
 * would take more than an eighth of it (not below MSG_SLOTS_MIN). */
static unsigned ring_slots(unsigned mib)
{
    size_t budget = ((size_t)mib << 20) / 8;
    unsigned slots = MSG_SLOTS_MAX;
    while (slots > MSG_SLOTS_MIN && slots * sizeof(msg_t) > budget) {
        slots /= 2;
    }
    return slots;
}

static int shard_init(fm_shards_t *s, unsigned i, const fm_cache_conf_t *cc, unsigned slots)
{
    shard_t *sh = &s->shards[i];
    int rc;

    sh->owner = s;
    sh->index = i;
    sh->out = s->ops.finished(s->ops.ctx, i);
    park_init(&sh->park);
    atomic_init(&sh->done, 0);
    if ((rc = fm_cache_new(cc, (fm_sink_t){count_finished, sh}, &sh->cache)) < 0) {
        return rc;
    }
    if (s->n == 1) {
        return 0;
    }
    if ((rc = fm_ring_init(&sh->ring, slots, sizeof(msg_t))) < 0) {
        return rc;
    }
    if ((rc = pthread_create(&sh->thread, NULL, thread_start, sh)) != 0) {
        return -rc;
    }
    sh->running = true;
    char name[32];
    snprintf(name, sizeof(name), "fm-shard%u", i);
    name[15] = '\0'; /* the kernel's limit */
    pthread_setname_np(sh->thread, name);
    return 0;
}

int fm_shards_new(const fm_shards_conf_t *conf, const fm_shards_ops_t *ops, fm_shards_t **out)
{
    if (!conf || !ops || !ops->finished || !out || conf->workers < 1 ||
        conf->workers > FM_SHARDS_MAX) {
        return FM_EINVAL;
    }
    fm_shards_t *s = fm_xcalloc(1, sizeof(*s));
    fm_cache_conf_t cc = conf->cache;
    int rc = 0;

    s->n = conf->workers;
    s->ops = *ops;
    s->seed = hash_seed();
    park_init(&s->loop_park);
    s->shards = fm_xcalloc(s->n, sizeof(*s->shards));
    unsigned mib = conf->cache.memory_mib / s->n, slots = 0;
    cc.memory_mib = mib;
    if (s->n > 1) { /* the ring's whole MiB come out of the cache's part */
        slots = ring_slots(mib);
        size_t ring_mib = (slots * sizeof(msg_t) + (1u << 20) - 1) >> 20;
        cc.memory_mib = mib > ring_mib ? mib - (unsigned)ring_mib : 0;
    }
    if (cc.memory_mib == 0) {
        cc.memory_mib = 1;
    }
    for (unsigned i = 0; i < s->n && rc == 0; i++) {
        rc = shard_init(s, i, &cc, slots);
    }
    if (rc < 0) {
        fm_shards_free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void fm_shards_free(fm_shards_t *s)
{
    if (!s) {
        return;
    }
    for (unsigned i = 0; i < s->n; i++) {
        shard_t *sh = &s->shards[i];
        if (sh->running) {
            ctl_slot(sh, MSG_STOP);
            send_ctl(sh);
            pthread_join(sh->thread, NULL);
        }
    }
    for (unsigned i = 0; i < s->n; i++) {
        shard_t *sh = &s->shards[i];
        fm_cache_free(sh->cache);
        if (sh->ring.slots) {
            fm_ring_fini(&sh->ring);
        }
        park_fini(&sh->park);
    }
    park_fini(&s->loop_park);
    free(s->shards);
    free(s);
}
