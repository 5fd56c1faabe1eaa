/* SPDX-License-Identifier: BSD-2-Clause */
/* Clocks and duration parsing. */
#include "config.h"
#include "util/time.h"

#include <math.h>
#include <stdio.h>
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

char *fm_time_format_iso(char *buf, size_t len, uint64_t ms)
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0) {
        snprintf(buf, len, "?");
    }
    return buf;
}

char *fm_time_format_iso_ms(char *buf, size_t len, uint64_t ms, bool local)
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    char base[24], off[16] = "Z";

    if (!(local ? localtime_r(&t, &tm) : gmtime_r(&t, &tm)) ||
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, len, "?");
        return buf;
    }
    if (local) {
        long gmtoff = tm.tm_gmtoff; /* seconds east of UTC */
        long a = gmtoff < 0 ? -gmtoff : gmtoff;
        snprintf(off, sizeof(off), "%c%02d:%02d", gmtoff < 0 ? '-' : '+', (int)(a / 3600 % 24),
                 (int)(a % 3600 / 60));
    }
    snprintf(buf, len, "%s.%03u%s", base, (unsigned)(ms % 1000u), off);
    return buf;
}

/* Exactly n decimal digits at *p; advances p. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if ((*p)[i] < '0' || (*p)[i] > '9') {
            return FM_EINVAL;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int parse_offset(const char *p, int64_t *off_s)
{
    int hh, mm, sign;
    *off_s = 0;
    if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0')) {
        return 0;
    }
    if (*p != '+' && *p != '-') {
        return FM_EINVAL;
    }
    sign = *p++ == '-' ? -1 : 1;
    if (digits(&p, 2, &hh) < 0) {
        return FM_EINVAL;
    }
    p += *p == ':';
    if (digits(&p, 2, &mm) < 0 || *p || hh > 23 || mm > 59) {
        return FM_EINVAL;
    }
    *off_s = sign * (hh * 3600 + mm * 60);
    return 0;
}

int fm_time_parse_iso(const char *text, uint64_t *ms)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = text;
    int y, mo, d, h, mi, s = 0, frac = 0;
    int64_t off;

    if (!text || digits(&p, 4, &y) < 0 || *p++ != '-' || digits(&p, 2, &mo) < 0 ||
        *p++ != '-' || digits(&p, 2, &d) < 0 || (*p != 'T' && *p != 't' && *p != ' ')) {
        return FM_EINVAL;
    }
    p++;
    if (digits(&p, 2, &h) < 0 || *p++ != ':' || digits(&p, 2, &mi) < 0) {
        return FM_EINVAL;
    }
    if (*p == ':') {
        p++;
        if (digits(&p, 2, &s) < 0) {
            return FM_EINVAL;
        }
        if (*p == '.') {
            int scale = 100;
            for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10) {
                frac += (*p - '0') * scale;
            }
        }
    }
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || s > 60 ||
        parse_offset(p, &off) < 0) {
        return FM_EINVAL;
    }
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - off;
    if (t < 0) {
        return FM_EINVAL;
    }
    *ms = (uint64_t)t * 1000u + (uint64_t)frac;
    return 0;
}
