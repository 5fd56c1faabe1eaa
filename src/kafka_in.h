/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [input.kafka]: the aggregator's Kafka consumer (issue 10).  Reads "flowmix.histdelta"
 * documents (histdelta.h) that collectors publish with the kafka plugin, validates them, drops
 * duplicates by (collector, run, seq) and hands each new delta to the daemon, which adds it to
 * its histograms like local flows.  Never blocks the loop: a uv_timer polls the consumer with
 * a zero timeout every 100 ms for at most a bounded number of messages.
 *
 * Offsets: auto-commit is off.  The daemon takes a mark (the consumer's positions) when it
 * hands deltas to a store commit and commits the mark to Kafka once SQLite has the data, so a
 * restarted aggregator re-reads exactly what it had not saved (see doc/guide.md for what that
 * means for duplicates).  Compiled only with HAVE_RDKAFKA.
 */
#pragma once

#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "conf.h"
#include "hist.h"
#include "histdelta.h"

typedef struct fm_kafka_in fm_kafka_in_t;

/**
 * Called on the loop thread for each new, valid delta.
 * @param[in] meta, delta  borrowed for the call (the callee merges, never keeps them)
 * @return 0 if applied, or negative to count the message as rejected (e.g. another window
 *         length), with a reason in err.
 */
typedef int (*fm_kafka_in_apply_fn)(void *ctx, const fm_histdelta_meta_t *meta,
                                    const fm_histset_t *delta, char *err, size_t errlen);

/**
 * Create the consumer and subscribe to cfg->topic in cfg->group (no loop activity yet).
 * @param[in] bin_exp  this daemon's binning: deltas of another bin_exp are rejected
 * @return 0, FM_ECONFIG (a property librdkafka refuses) or FM_EIO (consumer creation).
 */
int fm_kafka_in_new(uv_loop_t *loop, const fm_config_kafka_in_t *cfg, unsigned bin_exp,
                    fm_kafka_in_apply_fn apply, void *ctx, fm_kafka_in_t **out, char *err,
                    size_t errlen);
/** Start polling (every 100 ms). */
int fm_kafka_in_start(fm_kafka_in_t *k);
/** Stop polling and close the timer; cb(arg) runs from its close callback. */
void fm_kafka_in_stop(fm_kafka_in_t *k, void (*cb)(void *arg), void *arg);
/** Leave the group and destroy the consumer (after stop's callback; NULL: no-op). */
void fm_kafka_in_free(fm_kafka_in_t *k);

/**
 * The consumer's current positions, to commit once what was applied before now is stored.
 * @return an opaque mark (NULL if there is nothing to commit); pass it to commit or mark_free.
 */
void *fm_kafka_in_mark(fm_kafka_in_t *k);
/** Commit a mark to Kafka (asynchronous unless sync) and free it. */
void fm_kafka_in_commit(fm_kafka_in_t *k, void *mark, bool sync);
void fm_kafka_in_mark_free(void *mark);

/** Counters for `flowmixctl status` ("kafka_in"): new reference. */
json_t *fm_kafka_in_stats_json(fm_kafka_in_t *k);
