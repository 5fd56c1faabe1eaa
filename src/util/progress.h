/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Progress lines on stderr for long offline runs (flowmix subcommands).  Off unless the program
 * turns it on — flowmix does when stderr is a terminal — so pipelines, tests and logs never see
 * carriage returns.  A line is rewritten in place at most once a second; checking the clock is
 * amortised over many records, so callers may call fm_progress_add() per record or per batch.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

typedef struct fm_progress {
    const char *what;        /* e.g. the input file; borrowed */
    uint64_t count;          /* records so far */
    uint64_t start_ns;
    uint64_t next_ns;        /* next time a line may be printed */
    uint64_t unchecked;      /* records since the clock was last read */
    bool shown;              /* a line is on the terminal and needs ending */
} fm_progress_t;

/** Turn progress lines on or off for the whole process (default off). */
void fm_progress_enable(bool on);
/** @return whether progress lines are on. */
bool fm_progress_enabled(void);
/** Start counting for @p what (borrowed until fm_progress_done). */
void fm_progress_start(fm_progress_t *p, const char *what);
/** Count n more records; prints "\rWHAT: N records, R/s" when a second has passed. */
void fm_progress_add(fm_progress_t *p, uint64_t n);
/** End the line if one was printed (a final count, then a newline). */
void fm_progress_done(fm_progress_t *p);
