/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow filter expressions (flow-models `--filter-expr`, FLOW-MODELS-DETAIL §1.3): Python
 * expression syntax over the 21 flow-models field names (af prot inif outif sa0..sa3 da0..da3
 * sp dp first first_ms last last_ms packets octets aggs) and integer constants.
 *
 * Supported, with Python's precedence: `or`, `and`, `not`; chained comparisons `== != < <= > >=`;
 * `|`, `^`, `&`; `<<`, `>>`; `+`, `-`; `*`, `//`, `%`; unary `-`, `+`, `~`; parentheses; decimal,
 * 0x/0o/0b constants; True/False; `in` / `not in` a literal tuple, list or set, e.g.
 * `dp in (80, 443)` (not chained with other comparisons).  `~` applied to a truth value (a
 * comparison, `not`, or `&`/`|` of truth values) is logical negation, as with flow-models' vectorised numpy evaluation, so
 * `~(prot == 6) & (packets > 1)` works; on an integer it is the bitwise complement.  Beware that
 * Python binds `&` tighter than `==`: `prot == 6 & packets > 1` is `prot == (6 & packets) > 1`.
 * Values are evaluated in 128-bit integers; `x // 0` and `x % 0` give 0 (Python would raise).
 * The compiled filter is an immutable tree, safe to share between threads.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

typedef struct fm_filter fm_filter_t;

/**
 * Compile an expression.
 * @param[in]  expr    the expression text.
 * @param[out] out     the compiled filter (caller frees with fm_filter_free) on success.
 * @param[out] err     on failure, a message naming the column of the problem (may be NULL).
 * @param[in]  errlen  size of err.
 * @return 0, FM_EINVAL for a syntax error or unknown name, FM_ELIMIT for an over-long expression.
 */
int fm_filter_compile(const char *expr, fm_filter_t **out, char *err, size_t errlen);

/** @return whether the flow (seen as its flow-models tuple) makes the expression true. */
bool fm_filter_match(const fm_filter_t *f, const fm_flow_t *fl);

/** As fm_filter_match, on a flow-models tuple (21 values in FM_FIELD_* order of flowio.h);
 * only the fields in fm_filter_fields(f) are read. */
bool fm_filter_match_tuple(const fm_filter_t *f, const uint64_t t[21]);
/** @return the fields the expression reads, bit i for FM_FIELD_* i: what a column reader must
 * load for it. */
uint32_t fm_filter_fields(const fm_filter_t *f);
/** Free a filter; NULL does nothing. */
void fm_filter_free(fm_filter_t *f);

/**
 * flow-models record selection (DETAIL §1.3), counters shared across all inputs of one run:
 * skip_in, then count_in (reading stops when exhausted), then the filter, then skip_out, then
 * count_out.  Zero-initialise, set the fields wanted; the filter is borrowed.
 */
typedef struct {
    uint64_t skip_in, count_in, skip_out, count_out;
    bool has_count_in, has_count_out; /* counts are unlimited unless set */
    const fm_filter_t *filter;        /* NULL: keep everything */
} fm_select_t;

/** fm_select_step's "stop reading altogether" (the counts are used up): not an error. */
#define FM_SELECT_STOP (-1)
/** @return 1 to keep the record, 0 to drop it, FM_SELECT_STOP to stop reading altogether. */
int fm_select_step(fm_select_t *s, const fm_flow_t *fl);
/** As fm_select_step for a record given as its flow-models tuple (column readers). */
int fm_select_step_tuple(fm_select_t *s, const uint64_t t[21]);
