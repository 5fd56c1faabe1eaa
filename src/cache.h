/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The bounded flow cache (DESIGN §4).  Export records go in one at a time; finished flows come out
 * in batches through a callback.  The cache re-joins records that the exporter split by its active
 * timeout (flow-models `merge` semantics made streaming, in whole milliseconds, never losing a
 * record), pairs the two directions of a conversation into one biflow (FlowTest ft-profiler
 * semantics) and expires entries on each source's own clock.  A second rule set reproduces
 * ft-profiler's join rules exactly, for `flowmix profile`.
 *
 * Memory is fixed when the cache is created: one arena of fixed-size entries plus a bucket array,
 * sized from memory_mib; nothing is allocated per record.  When the arena is full the entry
 * closest to expiry is emitted early.  Deadlines sit in a hashed timer wheel per source
 * (exporter, observation domain, sampling interval), so expiry never scans the table.  A source
 * (~2.2 KiB) is freed once its last entry has left, at the next fm_cache_advance(); at most
 * max_sources exist at once, so records with ever new (domain, sampling) pairs cannot grow it.
 *
 * Not thread-safe: one cache per loop thread (shard by key for more cores).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"
#include "sink.h"

/** flow-models merge semantics (daemon default); see DESIGN §4, FLOW-MODELS §3. */
#define FM_CACHE_MODE_MERGE 0
/** FlowTest ft-profiler join rules (FLOW-MODELS §7), for `flowmix profile`. */
#define FM_CACHE_MODE_PROFILE 1

typedef struct fm_cache_conf {
    size_t memory_mib;        /* hard limit, default 256 */
    uint64_t active_ms;       /* default 300 s */
    uint64_t inactive_ms;     /* default 15 s */
    uint64_t export_delay_ms; /* default 5 s */
    bool biflow;              /* pair directions (default true) */
    int mode;                 /* FM_CACHE_MODE_MERGE or FM_CACHE_MODE_PROFILE */
    uint32_t max_entries;     /* 0: as many as memory_mib holds; else a lower cap (tests) */
    uint32_t max_sources;     /* sources (exporter, domain, sampling) held at once, default
                                 4096, at most 65535; beyond it empty sources are freed, then
                                 the one with the fewest entries is evicted (its flows emitted) */
    bool prefault;            /* touch every page at creation (default false): the daemon pays
                                 the page faults at start, not while a traffic burst fills the
                                 cache; offline tools keep RSS to what they use */
} fm_cache_conf_t;

/** Fill @p c with the defaults above. */
void fm_cache_conf_default(fm_cache_conf_t *c);

typedef struct fm_cache fm_cache_t;

/**
 * Create a cache.
 * @param[in] conf  configuration (copied).
 * @param[in] emit  the next stage: receives finished flows in batches, on the thread that calls
 *                  into the cache; the array is borrowed for the call only.  It must not call
 *                  back into this cache.
 * @param[out] out  the new cache, freed with fm_cache_free().
 * @return 0, FM_EINVAL (NULL emit.fn/out, memory_mib 0, zero or inverted timeouts, unknown mode)
 *         or FM_ENOMEM (the arena could not be allocated).
 */
int fm_cache_new(const fm_cache_conf_t *conf, fm_sink_t emit, fm_cache_t **out);

/** The cache as a stage of a chain: its sink inserts each batch (fm_cache_insert_batch). */
fm_sink_t fm_cache_sink(fm_cache_t *c);

/** Free the cache without emitting what it holds (call fm_cache_flush() first).  NULL is a no-op. */
void fm_cache_free(fm_cache_t *c);

/**
 * Per-exporter timeouts, for every observation domain of @p exporter, existing and future.
 * @return 0 or FM_EINVAL (zero active timeout, inactive > active).
 */
int fm_cache_set_timeouts(fm_cache_t *c, uint32_t exporter, uint64_t active_ms,
                          uint64_t inactive_ms);
/**
 * The exporter is gone (ingest forgot it): drop its fm_cache_set_timeouts() override.  Without
 * this, a configured exporter address sending from ever new source ports (a restarting probe, or
 * a spoofer) would grow the override table by one entry per port forever.  Sources of the
 * exporter still cached keep the timeouts they have.  No override: nothing happens.
 */
void fm_cache_clear_timeouts(fm_cache_t *c, uint32_t exporter);

/**
 * Reload: take the default timeouts, export delay, max_sources and biflow flag from @p conf;
 * memory and mode stay as created.  Exporters with fm_cache_set_timeouts() overrides keep them.  Invalid
 * timeouts (zero active, inactive > active) are ignored.
 */
void fm_cache_set_conf(fm_cache_t *c, const fm_cache_conf_t *conf);

/**
 * Add one export record.  Never drops: a full cache emits its entry closest to expiry.  Flows
 * finished by this record are queued and delivered by the time fm_cache_advance() or
 * fm_cache_flush() returns (or earlier, when a batch fills).
 * @param[in] rec  the record (borrowed); rec->records 0 counts as 1.
 */
void fm_cache_insert(fm_cache_t *c, const fm_flow_t *rec);

/**
 * Add @p n records, as fm_cache_insert() on each in order, prefetching the buckets and entries
 * of the records a few places ahead (faster at large numbers of live flows).
 */
void fm_cache_insert_batch(fm_cache_t *c, const fm_flow_t *recs, size_t n);

/**
 * Expire entries: each source's clock is the largest `last` seen from it, advanced by wall time
 * while it sends nothing; an entry expires when that clock passes its last packet plus the
 * inactive timeout plus the export delay (plus the active timeout while a direction may still get
 * an active-timeout continuation).  Then deliver the pending batch.
 * @param[in] wall_ms  current wall-clock time, epoch ms.
 */
void fm_cache_advance(fm_cache_t *c, uint64_t wall_ms);

/** Emit every entry (flag FM_FLOW_FLUSHED) and deliver the pending batch. */
void fm_cache_flush(fm_cache_t *c);

typedef struct fm_cache_stats {
    uint64_t inserts, merges, biflow_pairs, merge_conflicts, expired, evicted, emitted, entries,
        capacity, bytes, bytes_per_entry;
    uint64_t sources, max_sources, sources_freed, sources_evicted, source_bytes;
    uint64_t timeout_overrides; /* per-exporter timeouts held (fm_cache_set_timeouts) */
} fm_cache_stats_t;

/** Counters and sizes: bytes is the arena plus buckets; bytes_per_entry = bytes / capacity. */
void fm_cache_stats(const fm_cache_t *c, fm_cache_stats_t *s);
