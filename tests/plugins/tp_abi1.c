/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test plugin built against ABI 1, before fm_plugin_t.hist existed: its descriptor is the ABI 1
 * layout, declared here, so the object really ends after fini.  The loader must accept it, never
 * read past it (an ASan build reports a global-buffer-overflow if it does) and never offer it
 * histogram deltas.  Counts the flows it receives (counter "seen").
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <flowmix/plugin.h>

/* fm_plugin_t as flowmix 0.1 (ABI 1) defined it. */
typedef struct {
    uint32_t abi_version;
    uint32_t flow_size;
    const char *name;
    const char *version;
    const char *description;
    int (*init)(const char *const *, const char *const *, size_t, void **, char *, size_t);
    int (*consume)(void *, const fm_plugin_flow_t *, size_t);
    int (*flush)(void *);
    int (*tick)(void *, uint64_t);
    size_t (*counters)(void *, fm_plugin_counter_t *, size_t);
    void (*fini)(void *);
} fm_plugin_v1_t;

static int v1_init(const char *const *keys, const char *const *values, size_t n, void **state,
                   char *err, size_t errlen)
{
    *state = calloc(1, sizeof(uint64_t));
    return *state ? 0 : -1;
}

static int v1_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    *(uint64_t *)state += n;
    return 0;
}

static size_t v1_counters(void *state, fm_plugin_counter_t *out, size_t max)
{
    if (max < 1) {
        return 0;
    }
    out[0].name = "seen";
    out[0].value = *(uint64_t *)state;
    return 1;
}

static void v1_fini(void *state)
{
    free(state);
}

FM_PLUGIN_EXPORT const fm_plugin_v1_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = 1,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "abi1",
    .version = "1",
    .init = v1_init,
    .consume = v1_consume,
    .counters = v1_counters,
    .fini = v1_fini,
};
