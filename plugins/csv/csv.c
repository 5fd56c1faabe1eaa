/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * csv output plugin: one line per finished flow, files rotated per interval.
 *
 *     [plugin.csv]
 *     dir = /var/lib/flowmix/csv    ; required, created if missing
 *     interval = 5m                 ; rotation (s, m, h, d suffixes); 0: one file per run
 *     prefix = flows                ; file names PREFIX-YYYYmmddTHHMMSSZ.csv (interval start, UTC)
 *     format = csv                  ; csv (header + named columns) | csv_flow (flow-models)
 *
 * format = csv writes the header
 *   first_ms,last_ms,af,proto,src,dst,sport,dport,packets,octets,rev_first_ms,rev_last_ms,
 *   rev_packets,rev_octets,tcp_flags,rev_tcp_flags,exporter,domain,inif,outif,sampling,
 *   records,flags
 * with addresses as text (dotted quad for IPv4).  format = csv_flow writes flow-models' csv_flow
 * (21 integers joined by ", ", no header; a biflow becomes its forward and its reverse record), so
 * `flowmix` and flow-models read the files directly.
 *
 * A file is written as NAME.part and renamed to NAME when its interval ends (on the first tick
 * past it) or at shutdown, so complete files appear atomically.  Intervals follow the daemon's
 * wall clock (tick), not flow times; a file is opened only when flows arrive.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowmix/plugin.h>

#include "../common/putil.h"

typedef struct csv {
    char *dir;
    char *prefix;
    uint64_t interval_ms;
    bool flow_models;        /* format = csv_flow */
    uint64_t now_ms;         /* last tick, 0 before the first */
    FILE *f;
    uint64_t start_ms;       /* interval of the open file */
    char final[4096];
    char part[4096];
    uint64_t files;
    uint64_t lines;
    uint64_t write_errors;
} csv_t;

static void csv_free(csv_t *c)
{
    free(c->dir);
    free(c->prefix);
    free(c);
}

static int csv_set(csv_t *c, const char *k, const char *v, char *err, size_t errlen)
{
    if (!strcmp(k, "dir")) {
        free(c->dir);
        c->dir = strdup(v);
    } else if (!strcmp(k, "prefix")) {
        free(c->prefix);
        c->prefix = strdup(v);
    } else if (!strcmp(k, "interval")) {
        if (pu_parse_duration(v, &c->interval_ms) < 0) {
            snprintf(err, errlen, "interval = %s: expected a duration (300, 5m, 1h)", v);
            return -EINVAL;
        }
    } else if (!strcmp(k, "format")) {
        if (strcmp(v, "csv") && strcmp(v, "csv_flow")) {
            snprintf(err, errlen, "format = %s: expected csv or csv_flow", v);
            return -EINVAL;
        }
        c->flow_models = !strcmp(v, "csv_flow");
    } else {
        snprintf(err, errlen, "unknown key '%s' (dir, interval, prefix, format)", k);
        return -EINVAL;
    }
    return 0;
}

/* The keys into c (defaults first), without side effects: shared by validate and init. */
static int csv_parse(csv_t *c, const char *const *keys, const char *const *values, size_t n,
                     char *err, size_t errlen)
{
    int rc = 0;
    c->interval_ms = 300000;
    c->prefix = strdup("flows");
    for (size_t i = 0; i < n && rc == 0; i++) {
        rc = csv_set(c, keys[i], values[i], err, errlen);
    }
    if (rc == 0 && !c->dir) {
        snprintf(err, errlen, "key 'dir' (output directory) is required");
        rc = -EINVAL;
    }
    if (rc == 0 && (!c->dir || !c->prefix)) {
        rc = -ENOMEM;
    }
    return rc;
}

static int csv_validate(const char *const *keys, const char *const *values, size_t n, char *err,
                        size_t errlen)
{
    csv_t c = {0};
    int rc = csv_parse(&c, keys, values, n, err, errlen);
    free(c.dir);
    free(c.prefix);
    return rc;
}

static int csv_init(const char *const *keys, const char *const *values, size_t n, void **state,
                    char *err, size_t errlen)
{
    csv_t *c = calloc(1, sizeof(*c));
    int rc;
    if (!c) {
        return -ENOMEM;
    }
    rc = csv_parse(c, keys, values, n, err, errlen);
    if (rc == 0 && (rc = pu_mkdirs(c->dir)) < 0) {
        snprintf(err, errlen, "%s: %s", c->dir, strerror(-rc));
    }
    if (rc < 0) {
        csv_free(c);
        return rc;
    }
    *state = c;
    return 0;
}

static int close_file(csv_t *c)
{
    int rc = 0;
    if (!c->f) {
        return 0;
    }
    if (fclose(c->f) != 0 || rename(c->part, c->final) < 0) {
        c->write_errors++;
        rc = -EIO;
    }
    c->f = NULL;
    return rc;
}

static int open_file(csv_t *c, uint64_t now)
{
    c->start_ms = pu_interval_start(now, c->interval_ms);
    if (pu_output_names(c->dir, c->prefix, ".csv", c->start_ms, c->final, c->part,
                        sizeof(c->final)) < 0 ||
        !(c->f = fopen(c->part, "w"))) {
        c->write_errors++;
        return -EIO;
    }
    c->files++;
    if (!c->flow_models) {
        fputs("first_ms,last_ms,af,proto,src,dst,sport,dport,packets,octets,rev_first_ms,"
              "rev_last_ms,rev_packets,rev_octets,tcp_flags,rev_tcp_flags,exporter,domain,inif,"
              "outif,sampling,records,flags\n", c->f);
    }
    return 0;
}

static void addr_text(const uint8_t a[16], uint8_t af, char *buf, size_t len)
{
    if (af == FM_PLUGIN_AF_INET6) {
        inet_ntop(AF_INET6, a, buf, (socklen_t)len);
    } else {
        inet_ntop(AF_INET, a + 12, buf, (socklen_t)len);
    }
}

static void write_named(csv_t *c, const fm_plugin_flow_t *f)
{
    char s[64], d[64];
    addr_text(f->src, f->af, s, sizeof(s));
    addr_text(f->dst, f->af, d, sizeof(d));
    fprintf(c->f,
            "%" PRIu64 ",%" PRIu64 ",%u,%u,%s,%s,%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64
            ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%u,%u,%" PRIu32 ",%" PRIu32 ",%" PRIu32
            ",%" PRIu32 ",%" PRIu32 ",%" PRIu32 ",%u\n",
            f->first_ms, f->last_ms, f->af, f->proto, s, d, f->sport, f->dport, f->packets,
            f->octets, f->rev_first_ms, f->rev_last_ms, f->rev_packets, f->rev_octets,
            f->tcp_flags, f->rev_tcp_flags, f->exporter, f->domain, f->inif, f->outif,
            f->sampling, f->records, f->flags);
    c->lines++;
}

static void write_flow_models(csv_t *c, const fm_plugin_flow_t *f)
{
    pu_tuple_t t[2];
    int k = pu_flow_tuples(f, t);
    for (int j = 0; j < k; j++) {
        for (int i = 0; i < 21; i++) {
            fprintf(c->f, i ? ", %" PRIu64 : "%" PRIu64, t[j].v[i]);
        }
        fputc('\n', c->f);
        c->lines++;
    }
}

static int csv_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    csv_t *c = state;
    if (!c->f && open_file(c, c->now_ms ? c->now_ms : pu_now_ms()) < 0) {
        return -EIO;
    }
    for (size_t i = 0; i < n; i++) {
        if (c->flow_models) {
            write_flow_models(c, &flows[i]);
        } else {
            write_named(c, &flows[i]);
        }
    }
    if (ferror(c->f)) {
        c->write_errors++;
        clearerr(c->f);
        return -EIO;
    }
    return 0;
}

static int csv_tick(void *state, uint64_t now_ms)
{
    csv_t *c = state;
    c->now_ms = now_ms;
    if (c->f && c->interval_ms && now_ms >= c->start_ms + c->interval_ms) {
        return close_file(c);
    }
    return 0;
}

static int csv_flush(void *state)
{
    csv_t *c = state;
    return c->f && fflush(c->f) != 0 ? -EIO : 0;
}

static size_t csv_counters(void *state, fm_plugin_counter_t *out, size_t max)
{
    const csv_t *c = state;
    const fm_plugin_counter_t v[] = {
        {"files", c->files}, {"lines", c->lines}, {"write_errors", c->write_errors}};
    size_t k = max < 3 ? max : 3;
    memcpy(out, v, k * sizeof(v[0]));
    return k;
}

static void csv_fini(void *state)
{
    csv_t *c = state;
    close_file(c);
    csv_free(c);
}

FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "csv",
    .version = "1.0",
    .description = "one CSV line per flow (named columns or flow-models csv_flow), rotated files",
    .init = csv_init,
    .consume = csv_consume,
    .flush = csv_flush,
    .tick = csv_tick,
    .counters = csv_counters,
    .fini = csv_fini,
    .validate = csv_validate,
};
