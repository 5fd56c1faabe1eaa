/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The generic layouts of control replies: the text of one JSON value, "key : value" lists,
 * tables of arrays of objects and the aligned grids they print through.  The dispatcher
 * (ctl_format.c) and the per-command layouts (ctl_tables.c) are built on them; this file calls
 * neither.
 */
#include "config.h"

#include "ctl_format.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_format_int.h"
#include "util/mem.h"

/* ---- values ----------------------------------------------------------------------------- */

static char *xasprintf_real(double x)
{
    char buf[64];
    /* %.6g turns a large count or log-likelihood into 1.23457e+07; a fixed decimal reads better. */
    if (fabs(x) >= 1e6 && fabs(x) < 1e18) {
        snprintf(buf, sizeof(buf), "%.1f", x);
    } else {
        snprintf(buf, sizeof(buf), "%.6g", x);
    }
    return fm_xstrdup(buf);
}

char *fm__ctl_value_str(const json_t *v)
{
    char buf[64];

    switch (json_typeof(v)) {
    case JSON_INTEGER:
        snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        return fm_xstrdup(buf);
    case JSON_REAL:
        return xasprintf_real(json_real_value(v));
    case JSON_TRUE:
        return fm_xstrdup("yes");
    case JSON_FALSE:
        return fm_xstrdup("no");
    case JSON_STRING:
        return fm_xstrdup(json_string_value(v));
    case JSON_NULL:
        return fm_xstrdup("-");
    default: {
        char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        return s ? s : fm_xstrdup("?");
    }
    }
}

void fm_ctl_format_value(char *buf, size_t len, const json_t *v)
{
    char *s = fm__ctl_value_str(v);
    snprintf(buf, len, "%s", s);
    free(s);
}

static bool is_nested(const json_t *v)
{
    return json_is_object(v) || json_is_array(v);
}

bool fm__ctl_is_table(const json_t *v)
{
    return json_is_array(v) && json_array_size(v) > 0 && json_is_object(json_array_get(v, 0));
}

/* ---- key : value ------------------------------------------------------------------------ */

typedef struct {
    char **key, **val;
    size_t n, cap;
} kvlist_t;

static void kv_add(kvlist_t *l, char *key, char *val)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->key = fm_xreallocarray(l->key, l->cap, sizeof(*l->key));
        l->val = fm_xreallocarray(l->val, l->cap, sizeof(*l->val));
    }
    l->key[l->n] = key;
    l->val[l->n++] = val;
}

static void kv_collect(kvlist_t *l, const json_t *obj, const char *prefix)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)obj, k, v) {
        size_t n = strlen(prefix) + strlen(k) + 2;
        char *key = fm_xmalloc(n);
        snprintf(key, n, "%s%s%s", prefix, *prefix ? "." : "", k);
        if (json_is_object(v)) {
            kv_collect(l, v, key);
            free(key);
        } else if (fm__ctl_is_table(v)) {
            free(key); /* printed as a table by the caller */
        } else {
            kv_add(l, key, fm__ctl_value_str(v));
        }
    }
}

void fm_ctl_format_kv(FILE *out, const json_t *obj)
{
    kvlist_t l = {0};
    int width = 0;

    kv_collect(&l, obj, "");
    for (size_t i = 0; i < l.n; i++) {
        int w = (int)strlen(l.key[i]);
        width = w > width ? w : width;
    }
    for (size_t i = 0; i < l.n; i++) {
        fprintf(out, "%-*s : %s\n", width, l.key[i], l.val[i]);
        free(l.key[i]);
        free(l.val[i]);
    }
    free(l.key);
    free(l.val);
}

/* ---- tables ----------------------------------------------------------------------------- */

void fm__ctl_grid_print(FILE *out, const fm__ctl_grid_t *g)
{
    int *w = fm_xcalloc(g->ncols, sizeof(*w));

    for (size_t c = 0; c < g->ncols; c++) {
        w[c] = (int)strlen(g->head[c]);
        for (size_t r = 0; r < g->nrows; r++) {
            const char *s = g->cell[r * g->ncols + c];
            int n = (int)strlen(s ? s : "-");
            w[c] = n > w[c] ? n : w[c];
        }
    }
    for (size_t r = 0; r <= g->nrows; r++) {
        for (size_t c = 0; c < g->ncols; c++) {
            const char *s = r == 0 ? g->head[c] : g->cell[(r - 1) * g->ncols + c];
            bool last = c + 1 == g->ncols;
            s = s ? s : "-";
            if (g->right[c]) {
                fprintf(out, "%*s%s", w[c], s, last ? "" : "  ");
            } else {
                fprintf(out, "%-*s%s", last ? 0 : w[c], s, last ? "" : "  ");
            }
        }
        fputc('\n', out);
    }
    free(w);
}

void fm__ctl_grid_free(fm__ctl_grid_t *g)
{
    for (size_t i = 0; i < g->nrows * g->ncols; i++) {
        free(g->cell[i]);
    }
    free(g->cell);
    free(g->right);
}

/* Column names: the scalar members of all rows, in order of first appearance. */
static size_t table_columns(const json_t *rows, const char ***cols)
{
    size_t n = 0, cap = 0, i;
    const char *k;
    json_t *row, *v;

    *cols = NULL;
    json_array_foreach(rows, i, row) {
        json_object_foreach(row, k, v) {
            size_t j = 0;
            while (j < n && strcmp((*cols)[j], k)) {
                j++;
            }
            if (j < n || is_nested(v)) {
                continue;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 16;
                *cols = fm_xreallocarray(*cols, cap, sizeof(**cols));
            }
            (*cols)[n++] = k;
        }
    }
    return n;
}

void fm_ctl_format_table(FILE *out, const json_t *rows)
{
    fm__ctl_grid_t g = {0};

    if (!json_is_array(rows) || json_array_size(rows) == 0) {
        fprintf(out, "(none)\n");
        return;
    }
    g.ncols = table_columns(rows, &g.head);
    g.nrows = json_array_size(rows);
    g.cell = fm_xcalloc(g.nrows * g.ncols + 1, sizeof(*g.cell));
    g.right = fm_xcalloc(g.ncols ? g.ncols : 1, sizeof(*g.right));
    for (size_t c = 0; c < g.ncols; c++) {
        g.right[c] = true;
        for (size_t r = 0; r < g.nrows; r++) {
            json_t *v = json_object_get(json_array_get(rows, r), g.head[c]);
            if (v && !is_nested(v)) {
                g.cell[r * g.ncols + c] = fm__ctl_value_str(v);
                g.right[c] = g.right[c] && json_is_number(v);
            }
        }
    }
    fm__ctl_grid_print(out, &g);
    fm__ctl_grid_free(&g);
    free(g.head);
}

void fm__ctl_grid_alloc(fm__ctl_grid_t *g, size_t nrows, size_t ncols)
{
    g->nrows = nrows;
    g->ncols = ncols;
    g->cell = fm_xcalloc(nrows * ncols + 1, sizeof(*g->cell));
    g->right = fm_xcalloc(ncols + 1, sizeof(*g->right));
}
