/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test plugin whose descriptor lacks a mandatory callback (fini): refused before init.
 */
#include <stdlib.h>

#include <flowmix/plugin.h>

static int nf_init(const char *const *keys, const char *const *values, size_t n, void **state,
                   char *err, size_t errlen)
{
    abort();
}

static int nf_consume(void *state, const fm_plugin_flow_t *flows, size_t n)
{
    abort();
}

FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
    .abi_version = FM_PLUGIN_ABI_VERSION,
    .flow_size = sizeof(fm_plugin_flow_t),
    .name = "nofini",
    .version = "1",
    .init = nf_init,
    .consume = nf_consume,
};
