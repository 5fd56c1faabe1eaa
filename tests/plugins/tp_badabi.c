/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test plugin built against a future ABI: the loader must refuse it before calling init (init
 * here aborts the process to prove it is never called).
 */
#include <stdlib.h>

#include <flowmix/plugin.h>

static int bad_init(const char *const *keys, const char *const *values, size_t n, void **state,
                    char *err, size_t errlen)
{
    abort();
}

static int bad_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    abort();
}

static void bad_fini(void *state)
{
    abort();
}

FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION + 998,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "badabi",
    .version = "1",
    .init = bad_init,
    .consume = bad_consume,
    .fini = bad_fini,
};
