/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ftprofile output plugin: FlowTest ft-profiler's profile CSV (FLOW-MODELS.md §7), the same
 * format `flowmix profile` writes, from the daemon's finished biflows.
 *
 *     [plugin.ftprofile]
 *     output = /var/lib/flowmix/profile.csv.gz   ; required
 *     gzip = auto                                ; yes | no | auto (yes when output ends in .gz)
 *
 * Header START_TIME,END_TIME,L3_PROTO,L4_PROTO,SRC_PORT,DST_PORT,PACKETS,BYTES,PACKETS_REV,
 * BYTES_REV; one line per flow with START_TIME/END_TIME the span of both directions in ms
 * relative to the start of the first flow this plugin received (later flows that started
 * earlier get negative times, as in ft-profiler); L3_PROTO 4 or 6; ports 0 for protocols other
 * than TCP and UDP, as ft-profiler's input has them.  The file is written as OUTPUT.part and
 * renamed to OUTPUT at shutdown; flush makes the .part file current (gzip: a sync flush point).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include <flowmix/plugin.h>

#include "../common/putil.h"

typedef struct ftprofile {
    char *output;
    char *part;
    bool gzip;
    FILE *f;
    gzFile gz;
    bool have_zero;
    int64_t zero;      /* start of the first flow, epoch ms */
    uint64_t lines;
    uint64_t write_errors;
} ftprofile_t;

static const char header[] = "START_TIME,END_TIME,L3_PROTO,L4_PROTO,SRC_PORT,DST_PORT,PACKETS,"
                             "BYTES,PACKETS_REV,BYTES_REV\n";

static int put(ftprofile_t *p, const char *s, int len)
{
    if (p->gz ? gzwrite(p->gz, s, (unsigned)len) != len
              : fwrite(s, 1, (size_t)len, p->f) != (size_t)len) {
        p->write_errors++;
        return -EIO;
    }
    return 0;
}

static void ftp_free(ftprofile_t *p)
{
    free(p->output);
    free(p->part);
    free(p);
}

static int parse_keys(ftprofile_t *p, const char *const *keys, const char *const *values,
                      size_t n, char *err, size_t errlen)
{
    const char *gz = "auto";
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "output")) {
            free(p->output);
            p->output = strdup(values[i]);
        } else if (!strcmp(keys[i], "gzip")) {
            gz = values[i];
        } else {
            snprintf(err, errlen, "unknown key '%s' (output, gzip)", keys[i]);
            return -EINVAL;
        }
    }
    if (!p->output) {
        snprintf(err, errlen, "key 'output' (profile file) is required");
        return -EINVAL;
    }
    if (!strcmp(gz, "auto")) {
        size_t len = strlen(p->output);
        p->gzip = len > 3 && !strcmp(p->output + len - 3, ".gz");
    } else if (pu_parse_bool(gz, &p->gzip) < 0) {
        snprintf(err, errlen, "gzip = %s: expected yes, no or auto", gz);
        return -EINVAL;
    }
    return 0;
}

static int ftp_validate(const char *const *keys, const char *const *values, size_t n, char *err,
                        size_t errlen)
{
    ftprofile_t p = {0};
    int rc = parse_keys(&p, keys, values, n, err, errlen);
    free(p.output);
    return rc;
}

static int ftp_init(const char *const *keys, const char *const *values, size_t n, void **state,
                    char *err, size_t errlen)
{
    ftprofile_t *p = calloc(1, sizeof(*p));
    int rc;
    if (!p) {
        return -ENOMEM;
    }
    if ((rc = parse_keys(p, keys, values, n, err, errlen)) < 0) {
        ftp_free(p);
        return rc;
    }
    size_t len = strlen(p->output) + 6;
    p->part = malloc(len);
    snprintf(p->part, len, "%s.part", p->output);
    if (p->gzip) {
        p->gz = gzopen(p->part, "wb");
    } else {
        p->f = fopen(p->part, "w");
    }
    if (!p->gz && !p->f) {
        snprintf(err, errlen, "%s: %s", p->part, strerror(errno));
        ftp_free(p);
        return -EIO;
    }
    put(p, header, (int)sizeof(header) - 1);
    *state = p;
    return 0;
}

static int ftp_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    ftprofile_t *p = state;
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        const fm_plugin_flow_t *f = &flows[i];
        uint64_t first = f->first_ms, last = f->last_ms;
        bool ports = f->proto == 6 || f->proto == 17;
        char line[256];
        if (f->rev_packets) { /* the span of both directions */
            first = f->rev_first_ms < first ? f->rev_first_ms : first;
            last = f->rev_last_ms > last ? f->rev_last_ms : last;
        }
        if (!p->have_zero) {
            p->zero = (int64_t)first;
            p->have_zero = true;
        }
        int len = snprintf(line, sizeof(line),
                           "%" PRId64 ",%" PRId64 ",%d,%u,%u,%u,%" PRIu64 ",%" PRIu64 ",%" PRIu64
                           ",%" PRIu64 "\n",
                           (int64_t)first - p->zero, (int64_t)last - p->zero,
                           f->af == FM_PLUGIN_AF_INET6 ? 6 : 4, f->proto,
                           ports ? f->sport : 0, ports ? f->dport : 0, f->packets, f->octets,
                           f->rev_packets, f->rev_octets);
        if (put(p, line, len) < 0) {
            rc = -EIO;
        }
        p->lines++;
    }
    return rc;
}

static int ftp_flush(void *state)
{
    ftprofile_t *p = state;
    int ok = p->gz ? gzflush(p->gz, Z_SYNC_FLUSH) == Z_OK : fflush(p->f) == 0;
    return ok ? 0 : -EIO;
}

static size_t ftp_counters(void *state, fm_plugin_counter_t *out, size_t max)
{
    const ftprofile_t *p = state;
    const fm_plugin_counter_t v[] = {{"lines", p->lines}, {"write_errors", p->write_errors}};
    size_t k = max < 2 ? max : 2;
    memcpy(out, v, k * sizeof(v[0]));
    return k;
}

static void ftp_fini(void *state)
{
    ftprofile_t *p = state;
    int ok = p->gz ? gzclose(p->gz) == Z_OK : fclose(p->f) == 0;
    if (ok) {
        rename(p->part, p->output);
    }
    ftp_free(p);
}

FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "ftprofile",
    .version = "1.0",
    .description = "FlowTest ft-profiler profile CSV, optionally gzip",
    .init = ftp_init,
    .consume = ftp_consume,
    .flush = ftp_flush,
    .counters = ftp_counters,
    .fini = ftp_fini,
    .validate = ftp_validate,
};
