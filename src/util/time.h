/* SPDX-License-Identifier: BSD-2-Clause */
/* Wall and monotonic clocks in milliseconds, and duration parsing ("15s", "5m", "1h", "30d"). */
#pragma once

#include <stdint.h>

/** Wall-clock time, epoch milliseconds. */
uint64_t fm_time_wall_ms(void);
/** Monotonic time in milliseconds (arbitrary origin). */
uint64_t fm_time_mono_ms(void);
/** Monotonic time in nanoseconds, for benchmarks. */
uint64_t fm_time_mono_ns(void);

/**
 * Parse a duration: a non-negative decimal number of seconds with an optional suffix
 * ms, s, m, h, d (e.g. "15", "1.5s", "5m").
 * @param[in]  text  the text to parse (whole string must match).
 * @param[out] ms    the duration in milliseconds.
 * @return 0 or FM_EINVAL.
 */
int fm_time_parse_duration(const char *text, uint64_t *ms);
