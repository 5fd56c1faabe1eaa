/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Rates of monotonic counters over sliding windows (the 1- and 15-minute figures of
 * `flowmixctl status`).  The owner samples every counter at a steady step (the daemon's tick);
 * a rate over W is the counter's increase between the newest sample and the one W earlier,
 * divided by the time between them, so a counter that stopped moving reads exactly 0 once W has
 * passed (an exponential average only approaches 0).  Memory is one ring of span/step samples.
 * Not thread-safe: one owner thread.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

typedef struct fm_rate fm_rate_t;

/**
 * @param[in] ncounters  counters sampled together (at least 1).
 * @param[in] span_ms    longest window a rate may be asked over.
 * @param[in] step_ms    the interval at which fm_rate_sample() will be called.
 * @return new object (caller frees with fm_rate_free()); aborts when out of memory.
 */
fm_rate_t *fm_rate_new(size_t ncounters, uint64_t span_ms, uint64_t step_ms);

/** Free; NULL does nothing. */
void fm_rate_free(fm_rate_t *r);

/**
 * Record the counters' values at now_ms (non-decreasing between calls; a counter that goes
 * backwards, e.g. after a reset, counts as no increase).
 * @param[in] values  ncounters values.
 */
void fm_rate_sample(fm_rate_t *r, uint64_t now_ms, const uint64_t *values);

/**
 * Per-second rate of one counter over the last window_ms (or over all samples while fewer
 * than that exist).
 * @return the rate; 0 before two samples exist or for an index out of range.
 */
double fm_rate_get(const fm_rate_t *r, size_t counter, uint64_t window_ms);
