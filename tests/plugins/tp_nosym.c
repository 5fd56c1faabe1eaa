/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test plugin without the descriptor symbol (a shared object that is not a flowmix plugin).
 */
#include <flowmix/plugin.h>

FM_PLUGIN_EXPORT int fm_plugin_descriptr_typo(void);

int fm_plugin_descriptr_typo(void)
{
    return FM_PLUGIN_ABI_VERSION;
}
