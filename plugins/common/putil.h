/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the bundled plugins, compiled into each of them (plugins link nothing from
 * flowmix): key parsing, interval-aligned output names with atomic publication (write NAME.part,
 * rename to NAME when complete), and the flow-models projection of a flow.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <flowmix/plugin.h>

/**
 * Parse a duration: plain seconds or a number with s, m, h or d.
 * @return 0 with *ms set, -EINVAL or -ERANGE (too large).
 */
int pu_parse_duration(const char *s, uint64_t *ms);
/** Parse yes/no/true/false/on/off/1/0.  @return 0 or -EINVAL. */
int pu_parse_bool(const char *s, bool *out);

/** Wall clock, epoch ms (used until the first tick arrives). */
uint64_t pu_now_ms(void);

/** Start of the interval holding t (t itself when interval_ms is 0). */
uint64_t pu_interval_start(uint64_t t, uint64_t interval_ms);

/**
 * Final and temporary names of the output for an interval starting at start_ms:
 * DIR/PREFIX-YYYYmmddTHHMMSSZ[SUFFIX] and the same with ".part" appended.
 * @return 0, or -ENAMETOOLONG when the names do not fit len.
 */
int pu_output_names(const char *dir, const char *prefix, const char *suffix, uint64_t start_ms,
                    char *final, char *part, size_t len);

/** One direction of a flow as the flow-models 21-tuple (FLOW-MODELS-DETAIL §1.1). */
typedef struct pu_tuple {
    uint64_t v[21];
} pu_tuple_t;

/**
 * Project a flow onto flow-models tuples: the forward direction and, for a biflow with reverse
 * packets, the reverse one (addresses, ports and interfaces swapped, its own times and counters).
 * IPv4: sa0..sa2 = 0, sa3 = the address; IPv6: four 32-bit words, most significant first.
 * aggs = the flow's record count on both.
 * @return the number of tuples written (1 or 2).
 */
int pu_flow_tuples(const fm_plugin_flow_t *f, pu_tuple_t out[2]);

/** mkdir -p.  @return 0 or -errno. */
int pu_mkdirs(const char *path);
