/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Readable layouts of control replies (flowmixctl's default output) and its help text.  Only
 * the client uses this; the daemon sends JSON and never formats.  Everything is driven by the
 * reply's own members so new fields appear without changes here.  This file dispatches to a
 * layout and prints help; the per-command layouts are in ctl_tables.c, the generic ones (values,
 * key : value lists, tables, grids) in ctl_layout.c, below both.
 */
#include "config.h"

#include "ctl_format.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_format_int.h"
#include "util/err.h"
#include "util/mem.h"

/* ---- dispatch --------------------------------------------------------------------------- */

int fm_ctl_format_check_opts(const fm_ctl_cmd_t *cmd, const json_t *opts)
{
    const char *sort = json_string_value(json_object_get(opts, "sort"));
    if (!strcmp(cmd->name, "exporters") && sort && !fm__ctl_exporters_sort_ok(sort)) {
        fprintf(stderr, "flowmixctl: exporters cannot sort by '%s'; keys: records, datagrams, "
                        "bytes, lost, malformed, name, address, first_seen, last_seen\n",
                sort);
        return FM_EINVAL;
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
        if (!json_is_array(v) || (json_array_size(v) > 0 && !fm__ctl_is_table(v))) {
            json_object_set(scalars, k, v);
        }
    }
    fm_ctl_format_kv(out, scalars);
    first = json_object_size(scalars) == 0;
    json_decref(scalars);
    json_object_foreach((json_t *)result, k, v) {
        if (json_is_array(v) && (json_array_size(v) == 0 || fm__ctl_is_table(v))) {
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
