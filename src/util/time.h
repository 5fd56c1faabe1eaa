/* SPDX-License-Identifier: BSD-2-Clause */
/* Wall and monotonic clocks in milliseconds, and duration parsing ("15s", "5m", "1h", "30d"). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
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

/** Longest text fm_time_format_iso() writes, NUL included ("2026-11-30T17:00:05.123+05:30"). */
#define FM_TIME_ISO_LEN 32

/**
 * Format a wall-clock time as ISO-8601 with an explicit offset: UTC as
 * "2026-11-30T17:00:05Z", whole seconds (the milliseconds are dropped).
 * @param[out] buf  at least FM_TIME_ISO_LEN bytes.
 * @return buf.
 */
char *fm_time_format_iso(char *buf, size_t len, uint64_t ms);

/**
 * Format a wall-clock time as ISO-8601 with milliseconds and an explicit offset, in UTC
 * ("2026-11-30T17:00:05.123Z") or in the local time zone ("2026-11-30T18:00:05.123+01:00").
 * @param[out] buf  at least FM_TIME_ISO_LEN bytes.
 * @return buf.
 */
char *fm_time_format_iso_ms(char *buf, size_t len, uint64_t ms, bool local);

/**
 * Parse an ISO-8601 date-time: "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z", "+HH:MM",
 * "-HH:MM", "+HHMM" or nothing (then UTC); a space may stand for the "T".
 * @param[out] ms  milliseconds since the epoch.
 * @return 0 or FM_EINVAL (not such a time, or before 1970).
 */
int fm_time_parse_iso(const char *text, uint64_t *ms);
