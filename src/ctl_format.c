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

/* ---- dispatch --------------------------------------------------------------------------- */

int fm_ctl_format_check_opts(const fm_ctl_cmd_t *cmd, const json_t *opts)
{
    const char *sort = json_string_value(json_object_get(opts, "sort"));
    if (!strcmp(cmd->name, "exporters") && sort && !fm__ctl_exporters_sort_ok(sort)) {
        fprintf(stderr, "flowmixctl: exporters cannot sort by '%s'; keys: records, datagrams, "
                        "bytes, lost, malformed, name, address, first_seen, last_seen\n",
                sort);
        return -1;
    }
    return 0;
}

/* Scalars and nested objects as key : value, then each list of records as a table; an empty
 * list also becomes a table so "(none)" says there is nothing rather than nothing. */
static int format_generic(FILE *out, const json_t *result)
{
    const char *k;
    json_t *v;
    bool first;

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
    return 0;
}

int fm_ctl_format(FILE *out, const fm_ctl_cmd_t *cmd, const json_t *result,
                  const json_t *opts)
{
    const char *name = cmd->name;
    bool flag_csv = json_is_true(json_object_get(opts, "csv"));
    bool flag_fm = json_is_true(json_object_get(opts, "flow-models"));

    if (!result || (json_is_object(result) && json_object_size(result) == 0)) {
        fprintf(out, "ok\n");
        return 0;
    }
    if (!json_is_object(result)) {
        char *s = fm__ctl_value_str(result);
        fprintf(out, "%s\n", s);
        free(s);
        return 0;
    }
    if (!strcmp(name, "hist") && json_is_array(json_object_get(result, "bins"))) {
        return flag_csv ? fm__ctl_hist_csv(out, result) : fm__ctl_hist(out, result);
    }
    if (!strcmp(name, "model")) {
        return flag_fm ? fm__ctl_model_flow_models(out, result) : fm__ctl_model(out, result);
    }
    if (!strcmp(name, "status")) {
        return fm__ctl_status(out, result);
    }
    if (!strcmp(name, "exporters") && json_is_array(json_object_get(result, "exporters"))) {
        return fm__ctl_exporters(out, result,
                                 json_string_value(json_object_get(opts, "sort")));
    }
    if (!strcmp(name, "windows") && json_is_array(json_object_get(result, "windows"))) {
        return fm__ctl_windows(out, result);
    }
    if (!strcmp(name, "fits") && json_is_array(json_object_get(result, "fits"))) {
        return fm__ctl_fits(out, result);
    }
    return format_generic(out, result);
}

/* ---- help ------------------------------------------------------------------------------- */

/* The synopsis as text, e.g. "hist [--class C] [--metric M]". */
static void synopsis(char *buf, size_t len, const fm_ctl_cmd_t *cmd)
{
    size_t n = (size_t)snprintf(buf, len, "%s", cmd->name);
    for (const fm_ctl_arg_t *a = cmd->args; a->name && n < len; a++) {
        if (!a->metavar) {
            n += (size_t)snprintf(buf + n, len - n, " [--%s]", a->name);
        } else {
            n += (size_t)snprintf(buf + n, len - n, a->required ? " --%s %s" : " [--%s %s]",
                                  a->name, a->metavar);
        }
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
        int w = (int)(strlen(a->name) + (a->metavar ? strlen(a->metavar) + 1 : 0));
        width = w > width ? w : width;
    }
    for (const fm_ctl_arg_t *a = cmd->args; a->name; a++) {
        const char *mv = a->metavar ? a->metavar : "";
        int w = (int)(strlen(a->name) + (a->metavar ? strlen(mv) + 1 : 0));
        fprintf(out, "%s  --%s%s%s%*s  %s%s\n", a == cmd->args ? "\n" : "", a->name,
                a->metavar ? " " : "", mv, width - w, "", a->help,
                a->required ? " (required)" : "");
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
            "  -r, --reply-file F   print a reply saved with --json (F, or - for stdin)\n"
            "                       instead of asking the daemon\n"
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
