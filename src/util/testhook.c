/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * FLOWMIX_TEST_DELAY parsing (see testhook.h).  Nothing here runs unless the variable is set.
 */
#include "config.h"
#include "util/testhook.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

unsigned fm_testhook_delay_ms(const char *stage)
{
    const char *v = getenv("FLOWMIX_TEST_DELAY");
    size_t n = strlen(stage);

    while (v && *v) {
        if (!strncmp(v, stage, n) && v[n] == '=') {
            unsigned long ms = strtoul(v + n + 1, NULL, 10);
            return ms > 60000 ? 60000 : (unsigned)ms;
        }
        v = strchr(v, ',');
        v = v ? v + 1 : NULL;
    }
    return 0;
}

void fm_testhook_delay(const char *stage)
{
    unsigned ms = fm_testhook_delay_ms(stage);
    if (ms) {
        struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0) {
        }
    }
}
