/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fm_bins: an eponymous table-valued function that hands an array of histogram bins to one SQL
 * statement, so the store writes a whole histogram with one `INSERT ... SELECT ... FROM
 * fm_bins(?)` instead of one bound and stepped statement per bin.  Measured on a commit of
 * 440 k bins (bench/store): per row, binding five values, stepping, resetting and re-opening
 * the table's cursor cost as much as the B-tree work itself; in one statement the write cursor
 * also stays open, so rows appended in key order (a new window) skip the descent from the root.
 *
 * Nothing is stored: the function exists on the connection only (never in the schema), so every
 * reader of the database file, sqlite3(1) included, sees the same tables as before.
 *
 * Columns: lo, hi, flows, packets, octets (the bins' values as SQLite integers: bounds bit for
 * bit, sums clamped at INT64_MAX, as the store writes them), one row per bin, in array order.
 */
#pragma once

#include <stddef.h>

#include <sqlite3.h>

#include "hist.h"

/** The bins one statement reads; bind with fm_store_rows_bind(). */
typedef struct fm_store_rows {
    const fm_hist_bin_t *bins; /* borrowed for the statement's run */
    size_t n;
} fm_store_rows_t;

/** Register fm_bins on @p db.  @return an SQLite result code. */
int fm_store_rows_register(sqlite3 *db);

/** Bind @p rows (borrowed until the statement is reset) to parameter @p idx, the argument of
 *  fm_bins(?).  @return an SQLite result code. */
int fm_store_rows_bind(sqlite3_stmt *st, int idx, const fm_store_rows_t *rows);
