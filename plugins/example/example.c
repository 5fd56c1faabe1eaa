/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Example flowmix output plugin: the smallest useful one, to copy when writing your own.
 * It counts flows, packets and octets per protocol and, when flowmixd shuts it down, writes a
 * summary to the file named by its `summary` key.  It logs nothing.
 *
 *     [plugin.example]
 *     summary = /var/lib/flowmix/example-summary.txt   ; required
 *     queue = 16                                        ; loader keys work for every plugin
 *
 * Build out of tree:  cc -shared -fPIC -I/usr/include example.c -o example.so
 * (the only header needed is <flowmix/plugin.h>; no flowmix library is linked).
 *
 * Threading (see plugin.h): init and fini run on flowmixd's main thread, consume/flush/tick/
 * counters on this instance's own worker thread, never two at a time — so the state below needs
 * no lock.  Keep consume fast or give the instance a larger queue: a full queue drops batches.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flowmix/plugin.h>

typedef struct example {
    char *summary;            /* where fini writes the totals */
    uint64_t batches;
    uint64_t flows;
    uint64_t packets;         /* both directions of biflows */
    uint64_t octets;
    uint64_t by_proto[256];   /* flows per IP protocol */
} example_t;

/* Keys arrive as two parallel arrays, borrowed for the call only: copy what you keep.  Reject
 * unknown keys with a message — flowmixd prints it and refuses to start, like for its own keys.
 * One parser serves validate (no side effects) and init. */
static int ex_parse(example_t *ex, const char *const *keys, const char *const *values, size_t n,
                    char *err, size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "summary")) {
            free(ex->summary);
            ex->summary = strdup(values[i]);
        } else {
            snprintf(err, errlen, "unknown key '%s' (this plugin knows: summary)", keys[i]);
            return -EINVAL;
        }
    }
    if (!ex->summary) {
        snprintf(err, errlen, "key 'summary' (output file) is required");
        return -EINVAL;
    }
    return 0;
}

/* Optional (ABI 4): `flowmixd --check-config` calls it to check the keys without creating an
 * instance; it must not open, create or connect anything. */
static int ex_validate(const char *const *keys, const char *const *values, size_t n, char *err,
                       size_t errlen)
{
    example_t ex = {0};
    int rc = ex_parse(&ex, keys, values, n, err, errlen);
    free(ex.summary);
    return rc;
}

static int ex_init(const char *const *keys, const char *const *values, size_t n, void **state,
                   char *err, size_t errlen)
{
    example_t *ex = calloc(1, sizeof(*ex));
    if (!ex) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    int rc = ex_parse(ex, keys, values, n, err, errlen);
    if (rc < 0) {
        free(ex->summary);
        free(ex);
        return rc;
    }
    *state = ex;
    return 0;
}

/* The batch is borrowed: copy flows you want to keep past the return. */
static int ex_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    example_t *ex = state;
    ex->batches++;
    for (size_t i = 0; i < n; i++) {
        const fm_plugin_flow_t *f = &flows[i];
        ex->flows++;
        ex->packets += f->packets + f->rev_packets;
        ex->octets += f->octets + f->rev_octets;
        ex->by_proto[f->proto]++;
    }
    return 0;
}

/* Counters appear under plugin_counters in `flowmixctl status --json`. */
static size_t ex_counters(void *state, fm_plugin_counter_t *out, size_t max)
{
    const example_t *ex = state;
    const fm_plugin_counter_t c[] = {
        {"flows", ex->flows}, {"packets", ex->packets}, {"octets", ex->octets}};
    size_t k = sizeof(c) / sizeof(c[0]) < max ? sizeof(c) / sizeof(c[0]) : max;
    memcpy(out, c, k * sizeof(c[0]));
    return k;
}

static void ex_fini(void *state)
{
    example_t *ex = state;
    FILE *f = fopen(ex->summary, "w");
    if (f) {
        fprintf(f, "batches %llu\nflows %llu\npackets %llu\noctets %llu\n",
                (unsigned long long)ex->batches, (unsigned long long)ex->flows,
                (unsigned long long)ex->packets, (unsigned long long)ex->octets);
        for (int p = 0; p < 256; p++) {
            if (ex->by_proto[p]) {
                fprintf(f, "proto %d %llu\n", p, (unsigned long long)ex->by_proto[p]);
            }
        }
        fclose(f);
    }
    free(ex->summary);
    free(ex);
}

/* The one exported symbol.  flush and tick are optional and not needed here; validate is
 * optional too, but without it --check-config cannot check this plugin's keys. */
FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "example",
    .version = "1.0",
    .description = "counts flows per protocol, writes a summary file on exit",
    .init = ex_init,
    .consume = ex_consume,
    .counters = ex_counters,
    .fini = ex_fini,
    .validate = ex_validate,
};
