/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow file readers and writers (FLOW-MODELS.md §1-2): flow-models csv_flow, pipe (nfdump -o pipe),
 * nfcapd (through the nfdump program), binary columnar directories, ft-profiler input CSV.
 * Readers yield fm_flow_t records; writers accept them.  Used by every `flowmix` subcommand.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

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

/** "csv_flow", "pipe", "nfcapd", "binary", "ftcsv", "auto" → format, or FM_EINVAL. */
int fm_format_parse(const char *name);
const char *fm_format_name(fm_format_t f);

/**
 * Open a flow source.  path "-" is stdin (text formats only).  For text formats (and for AUTO
 * when it holds no column files) a directory stands for all regular files below it, recursively,
 * in sorted path order (DETAIL §1.8).  nfcapd files are read by running `nfdump -r FILE -q -o
 * pipe` (checked with nfdump 1.7.1, which still prints the legacy 22-field pipe line).
 * ftcsv rows that cannot be converted are skipped with a warning, as ft-profiler does; other
 * formats stop at the first malformed line.
 * @return 0 or a negative code; on failure a message naming the file has been logged.
 */
int fm_reader_open(const char *path, fm_format_t fmt, fm_reader_t **out);
/** @return 1 with *flow filled, 0 at end of input, negative on error (logged with file:line). */
int fm_reader_next(fm_reader_t *r, fm_flow_t *flow);
void fm_reader_close(fm_reader_t *r);

/** Open a flow sink; path "-" is stdout (text formats). */
int fm_writer_open(const char *path, fm_format_t fmt, fm_writer_t **out);
/** Write flows, one direction per row: a biflow becomes two rows (forward, then reverse). */
int fm_writer_write(fm_writer_t *w, const fm_flow_t *flows, size_t n);
/** Flush and close.  @return 0 or the first error seen. */
int fm_writer_close(fm_writer_t *w);

/* ---- Additions (flowio owner): batch reading, the flow-models tuple, text expansion. ---- */

/**
 * Read up to max flows at once (faster than fm_reader_next for binary input).
 * @param[out] flows  array of at least max records.
 * @return the number read (0 at end of input) or a negative code (logged with file:line).
 */
long fm_reader_read(fm_reader_t *r, fm_flow_t *flows, size_t max);

/* ---- Column reader: binary directories, only the fields a command needs are mapped/read ---- */

typedef struct fm__binr fm_colreader_t;

/**
 * Open path for column-wise reading when it is a binary flow directory (fmt binary, or auto and
 * a directory holding column files).  Every column file's length is still checked; only the
 * columns of the fields asked for are memory-mapped (madvise sequential) and range-checked.
 * @param fields  bit i set: field FM_FIELD_* i is read.
 * @return 1 with *out open; 0 when path is not binary input (read it with fm_reader_open);
 *         a negative code (logged).
 */
int fm_colreader_open(const char *path, fm_format_t fmt, uint32_t fields, fm_colreader_t **out);
/**
 * Read the next records column by column.  For each field f asked for at open whose scratch[f]
 * (room for max values) is not NULL, cols[f][0..n) are then its values: scratch[f], or the
 * mapped column itself when it needs no conversion (valid until the next call).  An absent
 * column reads as 0.
 * @return n (at most max, 0 at the end), or FM_ERANGE for a value fm_reader_next would reject
 *         (logged with the record number).
 */
long fm_colreader_read(fm_colreader_t *r, uint64_t *const scratch[], const uint64_t *cols[],
                       size_t max);
void fm_colreader_close(fm_colreader_t *r);

/** The 21 fields of a flow-models record, in tuple order (FLOW-MODELS-DETAIL §1.1). */
enum {
    FM_FIELD_AF, FM_FIELD_PROT, FM_FIELD_INIF, FM_FIELD_OUTIF,
    FM_FIELD_SA0, FM_FIELD_SA1, FM_FIELD_SA2, FM_FIELD_SA3,
    FM_FIELD_DA0, FM_FIELD_DA1, FM_FIELD_DA2, FM_FIELD_DA3,
    FM_FIELD_SP, FM_FIELD_DP, FM_FIELD_FIRST, FM_FIELD_FIRST_MS,
    FM_FIELD_LAST, FM_FIELD_LAST_MS, FM_FIELD_PACKETS, FM_FIELD_OCTETS, FM_FIELD_AGGS,
    FM_FIELD_COUNT
};

/** @return the field's name ("af" … "aggs"), or NULL when out of range. */
const char *fm_field_name(int field);
/** @return the index of a field name (exact match), or FM_EINVAL. */
int fm_field_parse(const char *name);
/** @return the canonical binary type code of a field ('B', 'H', 'I' or 'Q'). */
char fm_field_code(int field);

/** @return the item size in bytes of a binary column type code (b B h H i I l L q Q f d), or 0. */
size_t fm_bin_code_size(char code);
/**
 * Read item i of a raw column of the given type code as an unsigned value.
 * @param[in]  base  the column's first item.
 * @param[out] v     the value (floats truncated).
 * @return 0, FM_ERANGE for a negative or non-finite value, FM_EINVAL for an unknown code.
 */
int fm_bin_get(const void *base, char code, size_t i, uint64_t *v);

/**
 * Project a flow onto the flow-models tuple: IPv4-mapped addresses (af != 10) give
 * sa0..sa2 = 0 and sa3 = the address; otherwise the four 32-bit words, most significant first;
 * first/last are seconds and first_ms/last_ms the millisecond part; aggs = records.
 * @param[out] t  21 values in FM_FIELD_* order.
 */
void fm_flow_to_tuple(const fm_flow_t *f, uint64_t t[FM_FIELD_COUNT]);

/**
 * The inverse of fm_flow_to_tuple.  The record is zeroed first; sampling = 1, fwd_first = 1.
 * @return 0, or FM_ERANGE when a value does not fit fm_flow_t (the index of the first such field
 *         is stored in *bad_field when bad_field is not NULL).
 */
int fm_flow_from_tuple(const uint64_t t[FM_FIELD_COUNT], fm_flow_t *f, int *bad_field);
