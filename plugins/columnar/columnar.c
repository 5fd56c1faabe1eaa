/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * columnar output plugin: flow-models' binary directory format (FLOW-MODELS-DETAIL §1.2), one
 * directory per interval, readable by `flowmix -i binary` and by flow-models itself.
 *
 *     [plugin.columnar]
 *     dir = /var/lib/flowmix/columnar  ; required, created if missing
 *     interval = 1h                    ; rotation (s, m, h, d suffixes); 0: one directory per run
 *     prefix = flows                   ; directory names PREFIX-YYYYmmddTHHMMSSZ (UTC)
 *
 * Each directory holds the 21 files af.B prot.B inif.H outif.H sa0.I … sa3.I da0.I … da3.I sp.H
 * dp.H first.I first_ms.H last.I last_ms.H packets.Q octets.Q aggs.I: raw little-endian arrays,
 * no header, one element per flow.  A biflow becomes two records (forward, then reverse with
 * addresses, ports and interfaces swapped), since the format is unidirectional.  Interface
 * indices above 65535 do not fit the H columns: they are written as 65535 and counted
 * (counter `clamped`).  A directory is written as NAME.part and renamed when its interval ends
 * (first tick past it) or at shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <flowmix/plugin.h>

#include "../common/putil.h"

#define NFIELDS 21

static const char *const field_names[NFIELDS] = {
    "af", "prot", "inif", "outif", "sa0", "sa1", "sa2", "sa3", "da0", "da1", "da2",
    "da3", "sp", "dp", "first", "first_ms", "last", "last_ms", "packets", "octets", "aggs"};
static const char field_codes[NFIELDS + 1] = "BBHHIIIIIIIIHHIHIHQQI";

typedef struct columnar {
    char *dir;
    char *prefix;
    uint64_t interval_ms;
    uint64_t now_ms;
    bool open;
    FILE *f[NFIELDS];
    uint64_t start_ms;
    char final[4096];
    char part[4096];
    uint64_t dirs;
    uint64_t records;
    uint64_t clamped;
    uint64_t write_errors;
} columnar_t;

static size_t code_size(char code)
{
    return code == 'B' ? 1 : code == 'H' ? 2 : code == 'I' ? 4 : 8;
}

static void col_free(columnar_t *c)
{
    free(c->dir);
    free(c->prefix);
    free(c);
}

/* The keys into c (defaults first), without side effects: shared by validate and init. */
static int col_parse(columnar_t *c, const char *const *keys, const char *const *values,
                     size_t n, char *err, size_t errlen)
{
    int rc = 0;
    c->interval_ms = 3600000;
    c->prefix = strdup("flows");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if (!strcmp(keys[i], "dir")) {
            free(c->dir);
            c->dir = strdup(values[i]);
        } else if (!strcmp(keys[i], "prefix")) {
            free(c->prefix);
            c->prefix = strdup(values[i]);
        } else if (!strcmp(keys[i], "interval")) {
            if (pu_parse_duration(values[i], &c->interval_ms) < 0) {
                snprintf(err, errlen, "interval = %s: expected a duration (300, 5m, 1h)",
                         values[i]);
                rc = -EINVAL;
            }
        } else {
            snprintf(err, errlen, "unknown key '%s' (dir, interval, prefix)", keys[i]);
            rc = -EINVAL;
        }
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

static int col_validate(const char *const *keys, const char *const *values, size_t n, char *err,
                        size_t errlen)
{
    columnar_t c = {0};
    int rc = col_parse(&c, keys, values, n, err, errlen);
    free(c.dir);
    free(c.prefix);
    return rc;
}

static int col_init(const char *const *keys, const char *const *values, size_t n, void **state,
                    char *err, size_t errlen)
{
    columnar_t *c = calloc(1, sizeof(*c));
    int rc;
    if (!c) {
        return -ENOMEM;
    }
    rc = col_parse(c, keys, values, n, err, errlen);
    if (rc == 0 && (rc = pu_mkdirs(c->dir)) < 0) {
        snprintf(err, errlen, "%s: %s", c->dir, strerror(-rc));
    }
    if (rc < 0) {
        col_free(c);
        return rc;
    }
    *state = c;
    return 0;
}

static int close_dir(columnar_t *c)
{
    int rc = 0;
    if (!c->open) {
        return 0;
    }
    for (int i = 0; i < NFIELDS; i++) {
        if (c->f[i] && fclose(c->f[i]) != 0) {
            rc = -EIO;
        }
        c->f[i] = NULL;
    }
    if (rc == 0 && rename(c->part, c->final) < 0) {
        rc = -errno;
    }
    if (rc < 0) {
        c->write_errors++;
    }
    c->open = false;
    return rc;
}

static int open_dir(columnar_t *c, uint64_t now)
{
    char path[4200];
    c->start_ms = pu_interval_start(now, c->interval_ms);
    if (pu_output_names(c->dir, c->prefix, "", c->start_ms, c->final, c->part,
                        sizeof(c->final)) < 0 ||
        (mkdir(c->part, 0755) < 0 && errno != EEXIST)) {
        c->write_errors++;
        return -EIO;
    }
    c->open = true;
    for (int i = 0; i < NFIELDS; i++) {
        snprintf(path, sizeof(path), "%s/%s.%c", c->part, field_names[i], field_codes[i]);
        if (!(c->f[i] = fopen(path, "wb"))) {
            close_dir(c);
            c->write_errors++;
            return -EIO;
        }
    }
    c->dirs++;
    return 0;
}

/* Native byte order, as the format specifies (little-endian on the hosts flowmix supports). */
static void put(columnar_t *c, int i, uint64_t v)
{
    uint8_t b1;
    uint16_t b2;
    uint32_t b4;
    switch (code_size(field_codes[i])) {
    case 1: b1 = (uint8_t)v; fwrite(&b1, 1, 1, c->f[i]); break;
    case 2:
        if (v > UINT16_MAX) {
            v = UINT16_MAX;
            c->clamped++;
        }
        b2 = (uint16_t)v;
        fwrite(&b2, 2, 1, c->f[i]);
        break;
    case 4: b4 = (uint32_t)v; fwrite(&b4, 4, 1, c->f[i]); break;
    default: fwrite(&v, 8, 1, c->f[i]); break;
    }
}

static int col_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    columnar_t *c = state;
    if (!c->open && open_dir(c, c->now_ms ? c->now_ms : pu_now_ms()) < 0) {
        return -EIO;
    }
    for (size_t k = 0; k < n; k++) {
        pu_tuple_t t[2];
        int m = pu_flow_tuples(&flows[k], t);
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < NFIELDS; i++) {
                put(c, i, t[j].v[i]);
            }
            c->records++;
        }
    }
    for (int i = 0; i < NFIELDS; i++) {
        if (ferror(c->f[i])) {
            clearerr(c->f[i]);
            c->write_errors++;
            return -EIO;
        }
    }
    return 0;
}

static int col_tick(void *state, uint64_t now_ms)
{
    columnar_t *c = state;
    c->now_ms = now_ms;
    if (c->open && c->interval_ms && now_ms >= c->start_ms + c->interval_ms) {
        return close_dir(c);
    }
    return 0;
}

static int col_flush(void *state)
{
    columnar_t *c = state;
    int rc = 0;
    for (int i = 0; c->open && i < NFIELDS; i++) {
        if (fflush(c->f[i]) != 0) {
            rc = -EIO;
        }
    }
    return rc;
}

static size_t col_counters(void *state, fm_plugin_counter_t *out, size_t max)
{
    const columnar_t *c = state;
    const fm_plugin_counter_t v[] = {{"directories", c->dirs}, {"records", c->records},
                                     {"clamped", c->clamped}, {"write_errors", c->write_errors}};
    size_t k = max < 4 ? max : 4;
    memcpy(out, v, k * sizeof(v[0]));
    return k;
}

static void col_fini(void *state)
{
    columnar_t *c = state;
    close_dir(c);
    col_free(c);
}

FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "columnar",
    .version = "1.0",
    .description = "flow-models binary directory format, one directory per interval",
    .init = col_init,
    .consume = col_consume,
    .flush = col_flush,
    .tick = col_tick,
    .counters = col_counters,
    .fini = col_fini,
    .validate = col_validate,
};
