/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow file readers and writers (FLOW-MODELS.md §1-2): flow-models csv_flow, pipe (nfdump -o pipe),
 * nfcapd (through the nfdump program), binary columnar directories, ft-profiler input CSV.
 * Readers yield fm_flow_t records; writers accept them.  Used by every `flowmix` subcommand.
 */
#pragma once

#include <stddef.h>

#include "flow.h"

typedef enum {
    FM_FMT_AUTO = 0,  /* reader only: guess from the path (directory → binary, .csv header …) */
    FM_FMT_CSV_FLOW,  /* "csv_flow" */
    FM_FMT_PIPE,      /* "pipe" */
    FM_FMT_NFCAPD,    /* "nfcapd" */
    FM_FMT_BINARY,    /* "binary" */
    FM_FMT_FTCSV,     /* "ftcsv": ft-profiler input CSV */
} fm_format_t;

typedef struct fm_reader fm_reader_t;
typedef struct fm_writer fm_writer_t;

/** "csv_flow", "pipe", "nfcapd", "binary", "ftcsv", "auto" → format, or -1. */
int fm_format_parse(const char *name);
const char *fm_format_name(fm_format_t f);

/**
 * Open a flow source.  path "-" is stdin (text formats only).
 * @return 0 or a negative code; on failure a message naming the file has been logged.
 */
int fm_reader_open(const char *path, fm_format_t fmt, fm_reader_t **out);
/** @return 1 with *flow filled, 0 at end of input, negative on error (logged with file:line). */
int fm_reader_next(fm_reader_t *r, fm_flow_t *flow);
void fm_reader_close(fm_reader_t *r);

/** Open a flow sink; path "-" is stdout (text formats). */
int fm_writer_open(const char *path, fm_format_t fmt, fm_writer_t **out);
int fm_writer_write(fm_writer_t *w, const fm_flow_t *flows, size_t n);
/** Flush and close.  @return 0 or the first error seen. */
int fm_writer_close(fm_writer_t *w);
