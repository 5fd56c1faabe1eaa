/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Control protocol: the command table and the JSON-lines encoding shared by the control server
 * and flowmixctl.  Adding a command means adding a row here, a handler in the daemon
 * (daemon_ctl.c) and, if its result needs a special layout, a formatter in ctl_format.c.
 */
#include "config.h"

#include "ctl_proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

/* The one command table (Knot ctl/commands.c, chrony candm.h).  Order is the help order. */
static const fm_ctl_cmd_t cmds[] = {
    {"status", false, false, "uptime, version, rates, cache fill and counters", {{NULL}}},
    {"exporters", false, false,
     "per-exporter datagrams, records, sequence gaps, templates, malformed",
     {{"sort", "KEY", false,
       "order by records (default), datagrams, bytes, lost, malformed, name, address, "
       "first_seen or last_seen",
       true},
      {NULL}}},
    {"windows", false, false, "histogram windows, live and stored", {{NULL}}},
    {"hist", false, false, "histogram bins of one class, metric, direction and window",
     {{"class", "C", false, "flow class: all|tcp|udp|other (default all)"},
      {"metric", "M", false, "length|size|duration (default length)"},
      {"direction", "D", false, "uniflow|biflow (default uniflow)"},
      {"window", "W", false,
       "total|current|latest|-N (N-th newest)|a stored window's start as ISO-8601 "
       "(2026-11-30T17:00Z) or ms (default total)"},
      {"csv", NULL, false, "print flow-models csv_hist (input of flowmix fit -)", true},
      {NULL}}},
    {"fits", false, false, "latest mixture of every fit job", {{NULL}}},
    {"model", false, false, "latest mixture of one fit job",
     {{"job", "J", true, "fit job name, as in [fit.NAME]"},
      {"flow-models", NULL, false, "print the mixture JSON exactly as flow-models writes it",
       true},
      {NULL}}},
    {"fit", true, false, "run fit jobs now",
     {{"job", "J", false, "only this job (default: every job)"}, {NULL}}},
    {"export", true, false, "write an export snapshot now", {{NULL}}},
    {"flush", true, false, "expire every cached flow into the histograms now", {{NULL}}},
    {"reload", true, false, "re-read the configuration (same as SIGHUP)", {{NULL}}},
    {"version", false, true, "daemon and protocol version", {{NULL}}},
    {"ping", false, true, "check that the daemon answers", {{NULL}}},
};

size_t fm_ctl_cmd_count(void)
{
    return sizeof(cmds) / sizeof(cmds[0]);
}

const fm_ctl_cmd_t *fm_ctl_cmd_at(size_t i)
{
    return i < fm_ctl_cmd_count() ? &cmds[i] : NULL;
}

const fm_ctl_cmd_t *fm_ctl_cmd_find(const char *name)
{
    for (size_t i = 0; name && i < fm_ctl_cmd_count(); i++) {
        if (!strcmp(cmds[i].name, name)) {
            return &cmds[i];
        }
    }
    return NULL;
}

const fm_ctl_arg_t *fm_ctl_cmd_arg(const fm_ctl_cmd_t *cmd, const char *name)
{
    for (const fm_ctl_arg_t *a = cmd->args; a->name; a++) {
        if (!strcmp(a->name, name)) {
            return a;
        }
    }
    return NULL;
}

/* Check the members other than "cmd" against the command's argument list. */
static int check_args(const json_t *req, const fm_ctl_cmd_t *cmd, char *err, size_t errlen)
{
    const char *key;
    json_t *val;

    json_object_foreach((json_t *)req, key, val) {
        if (!strcmp(key, "cmd")) {
            continue;
        }
        const fm_ctl_arg_t *arg = fm_ctl_cmd_arg(cmd, key);
        if (arg && arg->client) {
            snprintf(err, errlen, "'%s' is an option of flowmixctl, not of the daemon", key);
            return FM_EINVAL;
        }
        if (!arg) {
            /* Keys are valid UTF-8 (jansson checked); %.40s may cut one, reply_err copes. */
            snprintf(err, errlen, "%s takes no argument '%.40s'", cmd->name, key);
            return FM_EINVAL;
        }
        if (!json_is_string(val)) {
            snprintf(err, errlen, "argument '%s' of %s must be a string", key, cmd->name);
            return FM_EFORMAT;
        }
    }
    for (const fm_ctl_arg_t *a = cmd->args; a->name; a++) {
        if (a->required && !json_object_get(req, a->name)) {
            snprintf(err, errlen, "%s needs argument '%s'", cmd->name, a->name);
            return FM_EINVAL;
        }
    }
    return 0;
}

int fm_ctl_proto_parse_request(const char *line, size_t len, json_t **req,
                               const fm_ctl_cmd_t **cmd, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *r = json_loadb(line, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    int rc;

    *req = NULL;
    *cmd = NULL;
    if (!r) {
        snprintf(err, errlen, "malformed JSON at column %d: %s", jerr.column, jerr.text);
        return FM_EFORMAT;
    }
    if (!json_is_object(r)) {
        snprintf(err, errlen, "request must be a JSON object");
        json_decref(r);
        return FM_EFORMAT;
    }
    const char *name = json_string_value(json_object_get(r, "cmd"));
    if (!name) {
        snprintf(err, errlen, "request needs a string member \"cmd\"");
        json_decref(r);
        return FM_EFORMAT;
    }
    const fm_ctl_cmd_t *c = fm_ctl_cmd_find(name);
    if (!c) {
        snprintf(err, errlen, "unknown command '%.40s'", name);
        json_decref(r);
        return FM_ENOENT;
    }
    if ((rc = check_args(r, c, err, errlen)) < 0) {
        json_decref(r);
        return rc;
    }
    *req = r;
    *cmd = c;
    return 0;
}

char *fm_ctl_proto_encode(const json_t *msg, size_t *len)
{
    /* Compact output escapes control characters, so the line holds no raw newline. */
    char *s = json_dumps(msg, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s) {
        return NULL;
    }
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (!line) {
        free(s);
        return NULL;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    *len = n + 1;
    return line;
}

char *fm_ctl_proto_reply_ok(json_t *result, size_t *len)
{
    json_t *reply = json_object();
    char *line;

    if (!reply) {
        json_decref(result);
        return NULL;
    }
    json_object_set_new(reply, "ok", json_true());
    json_object_set_new(reply, "result", result ? result : json_object());
    line = fm_ctl_proto_encode(reply, len);
    json_decref(reply);
    return line;
}

char *fm_ctl_proto_reply_err(const char *msg, size_t *len)
{
    json_t *text = json_string(msg);
    char *line;

    if (!text) {
        /* Not UTF-8 (a path or a truncated name): keep the ASCII, mark the rest. */
        char *copy = fm_xstrdup(msg);
        for (char *p = copy; *p; p++) {
            if ((unsigned char)*p >= 0x80) {
                *p = '?';
            }
        }
        text = json_string(copy);
        free(copy);
    }
    json_t *reply = json_pack("{sbso}", "ok", 0, "error", text ? text : json_string("error"));
    line = reply ? fm_ctl_proto_encode(reply, len) : NULL;
    json_decref(reply);
    return line;
}

int fm_ctl_proto_parse_reply(const char *line, size_t len, json_t **reply, bool *ok,
                             const json_t **result, const char **error)
{
    json_t *r = json_loadb(line, len, 0, NULL);
    json_t *okv = r ? json_object_get(r, "ok") : NULL;

    *reply = NULL;
    *result = NULL;
    *error = NULL;
    if (!json_is_object(r) || !json_is_boolean(okv)) {
        json_decref(r);
        return FM_EFORMAT;
    }
    *ok = json_is_true(okv);
    if (*ok) {
        *result = json_object_get(r, "result");
    } else {
        *error = json_string_value(json_object_get(r, "error"));
        if (!*error) {
            json_decref(r);
            return FM_EFORMAT;
        }
    }
    *reply = r;
    return 0;
}
