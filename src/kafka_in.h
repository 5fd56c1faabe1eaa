/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [input.kafka]: the aggregator's Kafka consumer (issues 10 and 21).  Reads the histogram delta
 * parts (histdelta.h) that collectors publish with the kafka plugin, validates them, drops
 * duplicates and hands the bins of each new part to the daemon, which adds them to its
 * histograms like local flows.
 *
 * Never blocks the loop: one message at a time is decoded in the thread pool, then its bins are
 * added on the loop in slices of about a millisecond (an idle handle runs the next slice after
 * the loop has served I/O).  A uv_timer polls the consumer with a zero timeout every 100 ms.
 *
 * Exactly once: per (collector, run, window) the highest (seq, part) applied is the high-water
 * mark.  A collector's parts share a partition (keyed by collector) and its idempotent producer
 * keeps them in order there, so a part at or below the mark of its window was applied before.
 * The daemon stores the marks that changed in the same SQLite transaction as the bins of their
 * window (fm_kafka_in_dirty / fm_kafka_in_durable) and passes the stored marks back at start, so
 * a crash at any point neither applies a part twice nor loses one.  Kafka offsets (auto-commit
 * off) are committed after the store commit, only up to messages completely handled: they only
 * save re-reading.
 *
 * Test hook: environment FM_TEST_KAFKA_KILL=STEP:N raises SIGKILL the Nth time STEP is reached
 * (received: a message was polled; applied: its bins are in memory; stored: a store commit with
 * marks succeeded; committed: offsets were committed).  Compiled only with HAVE_RDKAFKA.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "conf.h"
#include "hist.h"
#include "histdelta.h"
#include "store.h"

typedef struct fm_kafka_in fm_kafka_in_t;

/** The daemon's side, all called on the loop thread. */
typedef struct {
    /** May this part be applied (e.g. its window length)?  0, or negative with a reason in err:
     *  the message is counted as rejected. */
    int (*check)(void *ctx, const fm_histdelta_meta_t *meta, char *err, size_t errlen);
    /** Add n bins of an accepted part (one slice; a part may take several calls). */
    void (*add)(void *ctx, const fm_histdelta_meta_t *meta, const fm_histdelta_bin_t *bins,
                size_t n);
} fm_kafka_in_ops_t;

/**
 * Create the consumer and subscribe to cfg->topic in cfg->group (no loop activity yet).
 * @param[in] bin_exp  this daemon's binning: deltas of another bin_exp are rejected
 * @param[in] marks    high-water marks read back from the store (copied)
 * @return 0, FM_ECONFIG (a property librdkafka refuses) or FM_EIO (consumer creation).
 */
int fm_kafka_in_new(uv_loop_t *loop, const fm_config_kafka_in_t *cfg, unsigned bin_exp,
                    const fm_kafka_in_ops_t *ops, void *ctx, const fm_store_mark_t *marks,
                    size_t nmarks, fm_kafka_in_t **out, char *err, size_t errlen);
/** Start polling (every 100 ms). */
int fm_kafka_in_start(fm_kafka_in_t *k);
/**
 * Stop polling: a part being added is completed first (so a following store commit holds all
 * of it or, if not begun, none); a message still decoding is dropped unapplied (it is read
 * again after a restart).  cb(arg) runs once the handles are closed.
 */
void fm_kafka_in_stop(fm_kafka_in_t *k, void (*cb)(void *arg), void *arg);
/** Leave the group and destroy the consumer (after stop's callback; NULL: no-op). */
void fm_kafka_in_free(fm_kafka_in_t *k);

/** Whether a part is partly added: the daemon must not take a store commit now. */
bool fm_kafka_in_busy(const fm_kafka_in_t *k);

/**
 * The marks changed since they were last stored, for the store commit about to be taken.
 * @param[out] out  malloc'd array (caller frees), NULL when 0 is returned
 * @return how many
 */
size_t fm_kafka_in_dirty(fm_kafka_in_t *k, fm_store_mark_t **out);
/** These marks (from fm_kafka_in_dirty) are stored: forget the ones not changed since. */
void fm_kafka_in_durable(fm_kafka_in_t *k, const fm_store_mark_t *marks, size_t n);

/**
 * Positions up to which every message is completely handled, to commit once what was applied
 * before now is stored.
 * @return an opaque mark (NULL if there is nothing to commit); pass it to commit or mark_free.
 */
void *fm_kafka_in_mark(fm_kafka_in_t *k);
/** Commit a mark to Kafka (asynchronous unless sync) and free it. */
void fm_kafka_in_commit(fm_kafka_in_t *k, void *mark, bool sync);
void fm_kafka_in_mark_free(void *mark);

/** Counters and per-collector lag for `flowmixctl status` ("kafka_in"): new reference. */
json_t *fm_kafka_in_stats_json(fm_kafka_in_t *k);
