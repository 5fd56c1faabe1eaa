/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test plugin for tests/unit/test_plugin.c: appends every flow it receives, raw, to the file of
 * key `out`, so the test can check order and content.  Keys that make it misbehave on purpose:
 * `delay_ms` (sleep per batch: a slow output), `flush_delay_ms` (sleep in flush), `fail` (consume returns -1 for every batch),
 * `fail_init` (init fails with a message), `fini_mark` (file created by fini, to prove fini ran).
 * Histogram deltas (ABI 2) are taken only with key `hist_out` (a file, one document per line) or
 * `hist = 1`; otherwise the plugin declines them (FM_PLUGIN_HIST_DECLINE), so daemon tests
 * that do not ask for deltas see only flows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <flowmix/plugin.h>

typedef struct {
    FILE *out;
    FILE *hist_out;
    uint64_t hists;
    long delay_ms;
    long flush_delay_ms;
    int fail;
    int hist;
    char *fini_mark;
    uint64_t flows;
} rec_t;

static int rec_init(const char *const *keys, const char *const *values, size_t n, void **state,
                    char *err, size_t errlen)
{
    rec_t *r = calloc(1, sizeof(*r));
    if (!r) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "out")) {
            r->out = fopen(values[i], "wb");
        } else if (!strcmp(keys[i], "hist_out")) {
            r->hist_out = fopen(values[i], "wb");
            r->hist = 1;
        } else if (!strcmp(keys[i], "hist")) {
            r->hist = atoi(values[i]);
        } else if (!strcmp(keys[i], "delay_ms")) {
            r->delay_ms = atol(values[i]);
        } else if (!strcmp(keys[i], "flush_delay_ms")) {
            r->flush_delay_ms = atol(values[i]);
        } else if (!strcmp(keys[i], "fail")) {
            r->fail = atoi(values[i]);
        } else if (!strcmp(keys[i], "fini_mark")) {
            r->fini_mark = strdup(values[i]);
        } else if (!strcmp(keys[i], "fail_init")) {
            snprintf(err, errlen, "refusing to start as asked (%s)", values[i]);
            if (r->out) {
                fclose(r->out);
            }
            if (r->hist_out) {
                fclose(r->hist_out);
            }
            free(r->fini_mark);
            free(r);
            return -1;
        } else {
            snprintf(err, errlen, "unknown key '%s'", keys[i]);
            if (r->out) {
                fclose(r->out);
            }
            if (r->hist_out) {
                fclose(r->hist_out);
            }
            free(r->fini_mark);
            free(r);
            return -1;
        }
    }
    *state = r;
    return 0;
}

static int rec_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    rec_t *r = state;
    if (r->delay_ms > 0) {
        struct timespec ts = {r->delay_ms / 1000, (r->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (r->out && fwrite(flows, sizeof(*flows), n, r->out) != n) {
        return -1;
    }
    r->flows += n;
    return r->fail ? -1 : 0;
}

static int rec_hist(void *state, const char *json, size_t len, uint64_t window_start_ms)
{
    rec_t *r = state;
    if (r->delay_ms > 0) {
        struct timespec ts = {r->delay_ms / 1000, (r->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!r->hist) {
        return FM_PLUGIN_HIST_DECLINE;
    }
    if (json[len] != '\0' || strlen(json) != len) {
        return -2; /* the host promises a NUL-terminated copy */
    }
    if (r->hist_out && fprintf(r->hist_out, "%llu %s\n", (unsigned long long)window_start_ms,
                               json) < 0) {
        return -1;
    }
    r->hists++;
    return r->fail ? -1 : 0;
}

static int rec_flush(void *state)
{
    rec_t *r = state;
    if (r->flush_delay_ms > 0) { /* a flush that hangs (issue 20 item 13) */
        struct timespec ts = {r->flush_delay_ms / 1000, (r->flush_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (r->hist_out) {
        fflush(r->hist_out);
    }
    return r->out ? fflush(r->out) : 0;
}

static size_t rec_counters(void *state, fm_plugin_counter_t *out, size_t max)
{
    rec_t *r = state;
    if (max < 1) {
        return 0;
    }
    out[0].name = "seen";
    out[0].value = r->flows;
    return 1;
}

static void rec_fini(void *state)
{
    rec_t *r = state;
    if (r->out) {
        fclose(r->out);
    }
    if (r->hist_out) {
        fclose(r->hist_out);
    }
    if (r->fini_mark) {
        FILE *f = fopen(r->fini_mark, "w");
        if (f) {
            fprintf(f, "%llu\n", (unsigned long long)r->flows);
            fclose(f);
        }
        free(r->fini_mark);
    }
    free(r);
}

FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "record",
    .version = "1",
    .init = rec_init,
    .consume = rec_consume,
    .flush = rec_flush,
    .counters = rec_counters,
    .fini = rec_fini,
    .hist = rec_hist,
};
