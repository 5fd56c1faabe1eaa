/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Readable layouts of control replies (flowmixctl's default output) and its help text.  Only
 * the client uses this; the daemon sends JSON and never formats.  Everything is driven by the
 * reply's own members so new fields appear without changes here.
 */
#include "config.h"

#include "ctl_format.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

/* The text of one value, malloc'd. */
static char *value_str(const json_t *v)
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
    char *s = value_str(v);
    snprintf(buf, len, "%s", s);
    free(s);
}

static bool is_nested(const json_t *v)
{
    return json_is_object(v) || json_is_array(v);
}

static bool is_table(const json_t *v)
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
        } else if (is_table(v)) {
            free(key); /* printed as a table by the caller */
        } else {
            kv_add(l, key, value_str(v));
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

/* A grid of malloc'd cells; NULL cells print as "-". */
typedef struct {
    const char **head;
    size_t ncols, nrows;
    char **cell; /* nrows * ncols */
    bool *right; /* per column: numbers, right-aligned */
} grid_t;

static void grid_print(FILE *out, const grid_t *g)
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

static void grid_free(grid_t *g)
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
    grid_t g = {0};

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
                g.cell[r * g.ncols + c] = value_str(v);
                g.right[c] = g.right[c] && json_is_number(v);
            }
        }
    }
    grid_print(out, &g);
    grid_free(&g);
    free(g.head);
}

/* ---- hist and mixtures ------------------------------------------------------------------ */

void fm_ctl_format_hist(FILE *out, const json_t *result)
{
    static const char *head[] = {"lo", "hi", "flows", "packets", "octets"};
    const json_t *bins = json_object_get(result, "bins");
    grid_t g = {.head = head, .ncols = 5, .nrows = json_array_size(bins)};
    const char *k;
    json_t *v;
    const char *sep = " (";

    g.cell = fm_xcalloc(g.nrows ? g.nrows * g.ncols : 1, sizeof(*g.cell));
    g.right = fm_xcalloc(g.ncols, sizeof(*g.right));
    for (size_t c = 0; c < g.ncols; c++) {
        g.right[c] = true;
        for (size_t r = 0; r < g.nrows; r++) {
            json_t *x = json_array_get(json_array_get(bins, r), c);
            g.cell[r * g.ncols + c] = x ? value_str(x) : NULL;
        }
    }
    grid_print(out, &g);
    grid_free(&g);

    /* One summary line: totals first, then every other scalar member as "key value". */
    fprintf(out, "total: ");
    for (size_t c = 2; c < 5; c++) {
        char *s = value_str(json_object_get(result, head[c]) ? json_object_get(result, head[c])
                                                              : json_null());
        fprintf(out, "%s %s, ", s, head[c]);
        free(s);
    }
    fprintf(out, "%zu bins", g.nrows);
    json_object_foreach((json_t *)result, k, v) {
        if (is_nested(v) || !strcmp(k, "flows") || !strcmp(k, "packets") ||
            !strcmp(k, "octets")) {
            continue;
        }
        char *s = value_str(v);
        fprintf(out, "%s%s %s", sep, k, s);
        free(s);
        sep = ", ";
    }
    fprintf(out, "%s\n", *sep == ',' ? ")" : "");
}

/* A mixture {"sum": N, "mix": [[weight, "dist", [params...]], ...]} (flow-models layout). */
static void format_mix(FILE *out, const json_t *mix)
{
    static const char *head[] = {"component", "weight", "dist", "params"};
    grid_t g = {.head = head, .ncols = 4, .nrows = json_array_size(mix)};
    char buf[32];

    g.cell = fm_xcalloc(g.nrows ? g.nrows * g.ncols : 1, sizeof(*g.cell));
    g.right = fm_xcalloc(g.ncols, sizeof(*g.right));
    g.right[0] = g.right[1] = true;
    for (size_t r = 0; r < g.nrows; r++) {
        const json_t *comp = json_array_get(mix, r), *params = json_array_get(comp, 2);
        char **row = &g.cell[r * g.ncols];
        snprintf(buf, sizeof(buf), "%zu", r + 1);
        row[0] = fm_xstrdup(buf);
        row[1] = json_array_get(comp, 0) ? value_str(json_array_get(comp, 0)) : NULL;
        row[2] = json_array_get(comp, 1) ? value_str(json_array_get(comp, 1)) : NULL;
        if (json_is_array(params)) {
            /* Parameters separated by spaces, each formatted like any other number. */
            size_t i, len = 1;
            json_t *p;
            row[3] = fm_xcalloc(1, 1);
            json_array_foreach(params, i, p) {
                char *s = value_str(p);
                len += strlen(s) + 1;
                row[3] = fm_xreallocarray(row[3], len, 1);
                strcat(strcat(row[3], i ? " " : ""), s);
                free(s);
            }
        } else if (params) {
            row[3] = value_str(params);
        }
    }
    grid_print(out, &g);
    grid_free(&g);
}

static void format_model(FILE *out, const json_t *result)
{
    json_t *copy = json_copy((json_t *)result);
    json_t *model = json_object_get(result, "model");
    json_t *mix = json_object_get(model, "mix");

    if (json_is_object(model) && json_is_array(mix)) {
        json_t *rest = json_copy(model);
        json_object_del(rest, "mix");
        json_object_set_new(copy, "model", rest);
    }
    fm_ctl_format_kv(out, copy);
    json_decref(copy);
    if (json_is_array(mix)) {
        fputc('\n', out);
        format_mix(out, mix);
    }
}

void fm_ctl_format(FILE *out, const fm_ctl_cmd_t *cmd, const json_t *result)
{
    const char *k;
    json_t *v;
    bool first = true;

    if (!result || (json_is_object(result) && json_object_size(result) == 0)) {
        fprintf(out, "ok\n");
        return;
    }
    if (!json_is_object(result)) {
        char *s = value_str(result);
        fprintf(out, "%s\n", s);
        free(s);
        return;
    }
    if (!strcmp(cmd->name, "hist") && json_is_array(json_object_get(result, "bins"))) {
        fm_ctl_format_hist(out, result);
        return;
    }
    if (!strcmp(cmd->name, "model")) {
        format_model(out, result);
        return;
    }
    /* Scalars and nested objects as key : value, then each list of records as a table; an
     * empty list also becomes a table so "(none)" says there is nothing rather than nothing. */
    json_t *scalars = json_object();
    json_object_foreach((json_t *)result, k, v) {
        if (!json_is_array(v) || (json_array_size(v) > 0 && !is_table(v))) {
            json_object_set(scalars, k, v);
        }
    }
    fm_ctl_format_kv(out, scalars);
    first = json_object_size(scalars) == 0;
    json_decref(scalars);
    json_object_foreach((json_t *)result, k, v) {
        if (json_is_array(v) && (json_array_size(v) == 0 || is_table(v))) {
            fprintf(out, "%s%s:\n", first ? "" : "\n", k);
            fm_ctl_format_table(out, v);
            first = false;
        }
    }
}

/* ---- help ------------------------------------------------------------------------------- */

/* The synopsis as text, e.g. "hist [--class C] [--metric M]". */
static void synopsis(char *buf, size_t len, const fm_ctl_cmd_t *cmd)
{
    size_t n = (size_t)snprintf(buf, len, "%s", cmd->name);
    for (const fm_ctl_arg_t *a = cmd->args; a->name && n < len; a++) {
        n += (size_t)snprintf(buf + n, len - n, a->required ? " --%s %s" : " [--%s %s]",
                              a->name, a->metavar);
    }
}

void fm_ctl_format_synopsis(FILE *out, const fm_ctl_cmd_t *cmd)
{
    char buf[256];
    synopsis(buf, sizeof(buf), cmd);
    fputs(buf, out);
}

void fm_ctl_format_cmd_help(FILE *out, const fm_ctl_cmd_t *cmd)
{
    int width = 0;

    fprintf(out, "Usage: flowmixctl [OPTIONS] ");
    fm_ctl_format_synopsis(out, cmd);
    fprintf(out, "\n\n%s%s.\n", cmd->summary,
            cmd->mutating ? " (changes the daemon's state: root, the daemon's user or the "
                            "socket's group only)"
                          : "");
    for (const fm_ctl_arg_t *a = cmd->args; a->name; a++) {
        int w = (int)(strlen(a->name) + strlen(a->metavar));
        width = w > width ? w : width;
    }
    for (const fm_ctl_arg_t *a = cmd->args; a->name; a++) {
        int w = (int)(strlen(a->name) + strlen(a->metavar));
        fprintf(out, "%s  --%s %s%*s  %s%s\n", a == cmd->args ? "\n" : "", a->name, a->metavar,
                width - w, "", a->help, a->required ? " (required)" : "");
    }
}

void fm_ctl_format_help(FILE *out)
{
    char buf[256];

    fprintf(out,
            "Usage: flowmixctl [-s SOCKET] [--json] [-t SECONDS] COMMAND [ARGS]\n"
            "Query and control a running flowmixd over its control socket.\n\n"
            "Options:\n"
            "  -s, --socket PATH    control socket (default: $FLOWMIX_SOCKET, else\n"
            "                       ./var/control.sock if it exists, else "
            "/run/flowmix/control.sock)\n"
            "  -j, --json           print the daemon's raw JSON reply\n"
            "  -t, --timeout SEC    give up after SEC seconds (default 10)\n"
            "  -h, --help           this help; 'flowmixctl COMMAND --help' for one command\n"
            "  -V, --version        print the client's version\n\n"
            "Commands (* changes the daemon's state: root, the daemon's user or the socket's "
            "group only):\n");
    for (size_t i = 0; i < fm_ctl_cmd_count(); i++) {
        const fm_ctl_cmd_t *c = fm_ctl_cmd_at(i);
        synopsis(buf, sizeof(buf), c);
        /* Short synopses share the line with the summary; long ones get their own. */
        if (strlen(buf) <= 20) {
            fprintf(out, "  %s %-20s %s\n", c->mutating ? "*" : " ", buf, c->summary);
        } else {
            fprintf(out, "  %s %s\n  %-22s %s\n", c->mutating ? "*" : " ", buf, "", c->summary);
        }
    }
    fprintf(out, "\nExit status: 0 success, 1 the daemon answered with an error, "
                 "2 usage or connection error.\n");
}
