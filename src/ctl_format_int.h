/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to the client's layouts: the generic pieces (values, aligned grids) of ctl_layout.c
 * that the per-command layouts of ctl_tables.c are built from, and those layouts, which the
 * dispatcher in ctl_format.c calls.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A grid of malloc'd cells; NULL cells print as "-". */
typedef struct {
    const char **head;
    size_t ncols, nrows;
    char **cell;  /* nrows * ncols */
    bool *right;  /* per column: right-aligned (numbers) */
} fm__ctl_grid_t;

/* ctl_layout.c.  The text of one value (see fm_ctl_format_value), malloc'd. */
char *fm__ctl_value_str(const json_t *v);
/* Is v a non-empty array of objects (printed as a table, not as a value)? */
bool fm__ctl_is_table(const json_t *v);
/* Print the grid with a header row, columns two spaces apart. */
void fm__ctl_grid_print(FILE *out, const fm__ctl_grid_t *g);
/* Free the cells and alignment flags (not head). */
void fm__ctl_grid_free(fm__ctl_grid_t *g);
/* Allocate cells and alignment for nrows x ncols. */
void fm__ctl_grid_alloc(fm__ctl_grid_t *g, size_t nrows, size_t ncols);

/* ctl_tables.c: the per-command layouts; each returns 0, or a negative FM_E code after printing
 * why to stderr. */
int fm__ctl_status(FILE *out, const json_t *r);
int fm__ctl_exporters(FILE *out, const json_t *r, const char *sort);
int fm__ctl_windows(FILE *out, const json_t *r);
int fm__ctl_fits(FILE *out, const json_t *r);
int fm__ctl_model(FILE *out, const json_t *r);
int fm__ctl_model_flow_models(FILE *out, const json_t *r);
int fm__ctl_hist(FILE *out, const json_t *r);
int fm__ctl_hist_csv(FILE *out, const json_t *r);
/* Is KEY a valid --sort of exporters? */
bool fm__ctl_exporters_sort_ok(const char *key);

/* Unit helpers (also unit-tested): counts with k/M/G, bytes with KiB/MiB/GiB, per-second
 * rates, durations ("2h 13m"), ages ("3m ago") and ISO-8601 UTC times.  Each writes to buf
 * and returns it. */
char *fm__ctl_count(char *buf, size_t len, double v);
char *fm__ctl_bytes(char *buf, size_t len, double v);
char *fm__ctl_rate(char *buf, size_t len, double v);
char *fm__ctl_duration(char *buf, size_t len, uint64_t s);
char *fm__ctl_age(char *buf, size_t len, uint64_t now_ms, uint64_t then_ms);
