/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The flow cache on every core ([daemon] workers = N, DESIGN §2): N caches ("shards"), each on a
 * thread of its own, fed from the loop thread by a biflow-symmetric hash of the flow key
 * (fm_shards_flow_hash), so every record of a flow, both directions and every split, meets the
 * others in one shard.  Records cross threads in batches, in place in the slots of one lock-free
 * single-producer/single-consumer ring per shard (ring.h); control messages (advance, flush,
 * timeouts, reload, sync, stop) travel in the same rings, so they keep their order with the
 * records.  Finished flows leave each shard through a sink of its own, on its own thread; what
 * that sink accumulates (a histogram delta) is handed over in fm_shards_sync(), which returns
 * once every shard has processed everything sent before it.
 *
 * workers = 1 is the single-thread path: one cache on the caller's thread, no ring, no thread;
 * the same calls then act at once.
 *
 * Nothing is allocated and no lock is taken per record.  A full ring makes the loop thread wait
 * for its shard (back-pressure, as a busy single thread would); an empty ring makes the shard
 * sleep until the loop publishes (it is woken only when it sleeps).
 *
 * All functions but the ops are for one thread (the loop thread).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "cache.h"
#include "sink.h"

/** Most workers: a cache shard per thread is pointless beyond the machine's cores. */
#define FM_SHARDS_MAX 64

typedef struct fm_shards fm_shards_t;

typedef struct fm_shards_conf {
    unsigned workers;         /* 1..FM_SHARDS_MAX */
    fm_cache_conf_t cache;    /* memory_mib is the total, split evenly (at least 1 MiB each);
                                 with workers > 1 each part also holds its shard's ring of
                                 waiting records (whole MiB, at most an eighth of the part
                                 but never less than 32 batches) */
} fm_shards_conf_t;

typedef struct fm_shards_ops {
    /** The sink of shard @p i's finished flows (asked once, at creation).  It runs on shard i's
     *  thread (the caller's with one worker) and must not call into the shards. */
    fm_sink_t (*finished)(void *ctx, unsigned i);
    /** Optional: on shard i's thread inside fm_shards_sync()/fm_shards_flush(), while the loop
     *  thread waits: hand over what its sink accumulated. */
    void (*sync)(void *ctx, unsigned i);
    void *ctx;
} fm_shards_ops_t;

/**
 * Create the caches and, with more than one worker, their rings and threads.
 * @param[in] conf  copied.
 * @param[in] ops   copied; ops->finished required.
 * @param[out] out  free with fm_shards_free().
 * @return 0, FM_EINVAL (workers out of range, a cache configuration fm_cache_new refuses),
 *         FM_ENOMEM, or a negative errno from pthread_create.
 */
int fm_shards_new(const fm_shards_conf_t *conf, const fm_shards_ops_t *ops, fm_shards_t **out);

/** Publish partially filled batches after each loop iteration's I/O (a uv_check handle, unref'd).
 *  Without it (benchmarks), call fm_shards_push().  @return 0 or a libuv error. */
int fm_shards_start(fm_shards_t *s, uv_loop_t *loop);
/** Close the handle of fm_shards_start() (the loop must run once more to close it). */
void fm_shards_stop(fm_shards_t *s);
/** Stop and join the threads, free the caches (without emitting: flush first).  NULL: no-op. */
void fm_shards_free(fm_shards_t *s);

unsigned fm_shards_workers(const fm_shards_t *s);

/** The input stage: each record goes to its shard's open batch. */
fm_sink_t fm_shards_sink(fm_shards_t *s);
/** Hand partially filled batches to their shards now. */
void fm_shards_push(fm_shards_t *s);

/** fm_cache_advance() on every shard (asynchronous with workers > 1). */
void fm_shards_advance(fm_shards_t *s, uint64_t wall_ms);
/** fm_cache_set_timeouts() on every shard (validated here, applied in order with the records).
 *  @return 0 or FM_EINVAL. */
int fm_shards_set_timeouts(fm_shards_t *s, uint32_t exporter, uint64_t active_ms,
                           uint64_t inactive_ms);
/** fm_cache_clear_timeouts() on every shard (in order with the records). */
void fm_shards_clear_timeouts(fm_shards_t *s, uint32_t exporter);
/** fm_cache_set_conf() on every shard (memory_mib is ignored, as the cache does). */
void fm_shards_set_conf(fm_shards_t *s, const fm_cache_conf_t *conf);

/** Wait until every shard has processed all it was sent, then ran ops.sync; the statistics of
 *  fm_shards_stats() are then exact. */
void fm_shards_sync(fm_shards_t *s);
/** fm_cache_flush() on every shard, then as fm_shards_sync(): every flow cached so far has gone
 *  through its shard's sink and ops.sync when this returns. */
void fm_shards_flush(fm_shards_t *s);

/**
 * Cache statistics summed over the shards (capacity, bytes and max_sources too; bytes_per_entry
 * recomputed), and the flows the shards' sinks received, as of the last fm_shards_sync() or
 * fm_shards_flush() with workers > 1, now with one.  Either pointer may be NULL.
 */
void fm_shards_stats(const fm_shards_t *s, fm_cache_stats_t *sum, uint64_t *finished);

/** Times the shard threads slept for an empty ring and were woken, summed, as of the last
 *  fm_shards_sync() or fm_shards_flush(); 0 with one worker.  Each costs two context switches,
 *  which is why the loop wakes a shard only for a run of work (a bound the tests check). */
uint64_t fm_shards_sleeps(const fm_shards_t *s);

/**
 * The hash a record's shard is chosen by: the same for both directions of a conversation, every
 * split of a flow and an RFC 5103 record of it (addresses and ports of both ends, protocol,
 * exporter, observation domain, sampling; not times, counters, flags or interfaces), and keyed
 * by @p seed, which the shards draw at random, so that traffic cannot aim at one shard.
 */
uint64_t fm_shards_flow_hash(const fm_flow_t *f, uint64_t seed);

/** The shard a record goes to (exposed for tests): a function of fm_shards_flow_hash only. */
unsigned fm_shards_of(const fm_shards_t *s, const fm_flow_t *f);
