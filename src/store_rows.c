/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fm_bins table-valued function (store_rows.h): a read-only eponymous virtual table with a
 * hidden argument column that must be given (the pointer, passed with sqlite3_bind_pointer under
 * its own type name, so SQL text can never forge one).
 */
#include "config.h"

#include "store_rows.h"

#include <stdint.h>
#include <stdlib.h>

#define PTR_TYPE "fm_store_rows"

enum { COL_LO, COL_HI, COL_FLOWS, COL_PACKETS, COL_OCTETS, COL_SRC };

typedef struct {
    sqlite3_vtab_cursor base;
    const fm_store_rows_t *rows;
    size_t i;
} cursor_t;

static int rows_connect(sqlite3 *db, void *aux, int argc, const char *const *argv,
                        sqlite3_vtab **out, char **err)
{
    (void)aux;
    (void)argc;
    (void)argv;
    (void)err;
    int rc = sqlite3_declare_vtab(db, "CREATE TABLE x(lo, hi, flows, packets, octets,"
                                      " src HIDDEN)");
    if (rc != SQLITE_OK) {
        return rc;
    }
    *out = sqlite3_malloc(sizeof(**out));
    if (!*out) {
        return SQLITE_NOMEM;
    }
    (*out)->pModule = NULL;
    (*out)->nRef = 0;
    (*out)->zErrMsg = NULL;
    return SQLITE_OK;
}

static int rows_disconnect(sqlite3_vtab *vt)
{
    sqlite3_free(vt);
    return SQLITE_OK;
}

/* The only plan: the src argument is given (an equality constraint on the hidden column). */
static int rows_best_index(sqlite3_vtab *vt, sqlite3_index_info *info)
{
    (void)vt;
    for (int i = 0; i < info->nConstraint; i++) {
        const struct sqlite3_index_constraint *c = &info->aConstraint[i];
        if (c->iColumn == COL_SRC && c->op == SQLITE_INDEX_CONSTRAINT_EQ) {
            if (!c->usable) {
                return SQLITE_CONSTRAINT; /* try another join order */
            }
            info->aConstraintUsage[i].argvIndex = 1;
            info->aConstraintUsage[i].omit = 1;
            info->estimatedCost = 1.0;
            return SQLITE_OK;
        }
    }
    return SQLITE_ERROR; /* fm_bins() without its argument */
}

static int rows_open(sqlite3_vtab *vt, sqlite3_vtab_cursor **out)
{
    (void)vt;
    cursor_t *c = sqlite3_malloc(sizeof(*c));
    if (!c) {
        return SQLITE_NOMEM;
    }
    c->rows = NULL;
    c->i = 0;
    *out = &c->base;
    return SQLITE_OK;
}

static int rows_close(sqlite3_vtab_cursor *cur)
{
    sqlite3_free(cur);
    return SQLITE_OK;
}

static int rows_filter(sqlite3_vtab_cursor *cur, int idx, const char *idxstr, int argc,
                       sqlite3_value **argv)
{
    (void)idx;
    (void)idxstr;
    cursor_t *c = (cursor_t *)cur;
    c->rows = argc > 0 ? sqlite3_value_pointer(argv[0], PTR_TYPE) : NULL;
    c->i = 0;
    return SQLITE_OK;
}

static int rows_next(sqlite3_vtab_cursor *cur)
{
    ((cursor_t *)cur)->i++;
    return SQLITE_OK;
}

static int rows_eof(sqlite3_vtab_cursor *cur)
{
    const cursor_t *c = (const cursor_t *)cur;
    return !c->rows || c->i >= c->rows->n;
}

/* Bounds bit for bit; sums clamped, so the store's saturating arithmetic sees no negatives. */
static sqlite3_int64 bits(uint64_t v)
{
    return (sqlite3_int64)v;
}

static sqlite3_int64 sum(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)v;
}

static int rows_column(sqlite3_vtab_cursor *cur, sqlite3_context *ctx, int col)
{
    const cursor_t *c = (const cursor_t *)cur;
    const fm_hist_bin_t *b = &c->rows->bins[c->i];
    switch (col) {
    case COL_LO: sqlite3_result_int64(ctx, bits(b->lo)); break;
    case COL_HI: sqlite3_result_int64(ctx, bits(b->hi)); break;
    case COL_FLOWS: sqlite3_result_int64(ctx, sum(b->flows)); break;
    case COL_PACKETS: sqlite3_result_int64(ctx, sum(b->packets)); break;
    case COL_OCTETS: sqlite3_result_int64(ctx, sum(b->octets)); break;
    default: sqlite3_result_null(ctx); break;
    }
    return SQLITE_OK;
}

static int rows_rowid(sqlite3_vtab_cursor *cur, sqlite3_int64 *rowid)
{
    *rowid = (sqlite3_int64)((const cursor_t *)cur)->i;
    return SQLITE_OK;
}

static const sqlite3_module module = {
    .iVersion = 0,
    .xCreate = NULL, /* eponymous only: it cannot be created in a schema */
    .xConnect = rows_connect,
    .xBestIndex = rows_best_index,
    .xDisconnect = rows_disconnect,
    .xDestroy = rows_disconnect,
    .xOpen = rows_open,
    .xClose = rows_close,
    .xFilter = rows_filter,
    .xNext = rows_next,
    .xEof = rows_eof,
    .xColumn = rows_column,
    .xRowid = rows_rowid,
};

int fm_store_rows_register(sqlite3 *db)
{
    return sqlite3_create_module(db, "fm_bins", &module, NULL);
}

int fm_store_rows_bind(sqlite3_stmt *st, int idx, const fm_store_rows_t *rows)
{
    return sqlite3_bind_pointer(st, idx, (void *)rows, PTR_TYPE, NULL);
}
