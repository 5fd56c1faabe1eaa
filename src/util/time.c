/* SPDX-License-Identifier: BSD-2-Clause */
/* Clocks and duration parsing. */
#include "config.h"
#include "util/time.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/err.h"

uint64_t fm_time_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t fm_time_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t fm_time_mono_ms(void)
{
    return fm_time_mono_ns() / 1000000u;
}

int fm_time_parse_duration(const char *text, uint64_t *ms)
{
    static const struct {
        const char *suffix;
        double factor;
    } units[] = {{"", 1000.0}, {"ms", 1.0}, {"s", 1000.0}, {"m", 60000.0},
                 {"h", 3600000.0}, {"d", 86400000.0}};
    char *end;
    double v;

    if (!text || !*text) {
        return FM_EINVAL;
    }
    v = strtod(text, &end);
    if (end == text || !isfinite(v) || v < 0) {
        return FM_EINVAL;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(end, units[i].suffix) == 0) {
            double r = v * units[i].factor;
            if (r > 1e15) {
                return FM_EINVAL;
            }
            *ms = (uint64_t)llround(r);
            return 0;
        }
    }
    return FM_EINVAL;
}
