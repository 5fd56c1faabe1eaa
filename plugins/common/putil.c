/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the bundled plugins (see putil.h).
 */
#include "putil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

int pu_parse_duration(const char *s, uint64_t *ms)
{
    char *end;
    unsigned long long v;
    uint64_t mul = 1000;
    if (!s || !*s || *s == '-') {
        return -EINVAL;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    if (end == s || errno) {
        return -EINVAL;
    }
    if (*end) {
        switch (*end) {
        case 's': mul = 1000; break;
        case 'm': mul = 60000; break;
        case 'h': mul = 3600000; break;
        case 'd': mul = 86400000; break;
        default: return -EINVAL;
        }
        if (end[1]) {
            return -EINVAL;
        }
    }
    if (v > UINT64_MAX / mul) {
        return -ERANGE;
    }
    *ms = v * mul;
    return 0;
}

int pu_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"yes", "true", "on", "1"}, *no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -EINVAL;
}

uint64_t pu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t pu_interval_start(uint64_t t, uint64_t interval_ms)
{
    return interval_ms ? t - t % interval_ms : t;
}

int pu_output_names(const char *dir, const char *prefix, const char *suffix, uint64_t start_ms,
                    char *final, char *part, size_t len)
{
    time_t sec = (time_t)(start_ms / 1000u);
    struct tm tm;
    char stamp[32];
    int n;
    gmtime_r(&sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    n = snprintf(final, len, "%s/%s-%s%s", dir, prefix, stamp, suffix);
    if (n < 0 || (size_t)n + 6 > len) {
        return -ENAMETOOLONG;
    }
    snprintf(part, len, "%s.part", final);
    return 0;
}

static void put_addr(const uint8_t a[16], uint8_t af, uint64_t *w)
{
    for (int k = 0; k < 4; k++) {
        w[k] = (uint64_t)a[4 * k] << 24 | (uint64_t)a[4 * k + 1] << 16 |
               (uint64_t)a[4 * k + 2] << 8 | a[4 * k + 3];
    }
    if (af != FM_PLUGIN_AF_INET6) { /* IPv4-mapped: only the last word is the address */
        w[0] = w[1] = w[2] = 0;
    }
}

static void one(pu_tuple_t *t, const fm_plugin_flow_t *f, const uint8_t *sa, const uint8_t *da,
                uint16_t sp, uint16_t dp, uint32_t in, uint32_t out, uint64_t first,
                uint64_t last, uint64_t packets, uint64_t octets)
{
    uint64_t *v = t->v;
    v[0] = f->af;
    v[1] = f->proto;
    v[2] = in;
    v[3] = out;
    put_addr(sa, f->af, &v[4]);
    put_addr(da, f->af, &v[8]);
    v[12] = sp;
    v[13] = dp;
    v[14] = first / 1000u;
    v[15] = first % 1000u;
    v[16] = last / 1000u;
    v[17] = last % 1000u;
    v[18] = packets;
    v[19] = octets;
    v[20] = f->records;
}

int pu_flow_tuples(const fm_plugin_flow_t *f, pu_tuple_t out[2])
{
    one(&out[0], f, f->src, f->dst, f->sport, f->dport, f->inif, f->outif, f->first_ms,
        f->last_ms, f->packets, f->octets);
    if (!(f->flags & FM_PLUGIN_FLOW_BIFLOW) || !f->rev_packets) {
        return 1;
    }
    one(&out[1], f, f->dst, f->src, f->dport, f->sport, f->outif, f->inif, f->rev_first_ms,
        f->rev_last_ms, f->rev_packets, f->rev_octets);
    return 2;
}

int pu_mkdirs(const char *path)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len >= sizeof(buf)) {
        return -ENAMETOOLONG;
    }
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
                return -errno;
            }
            *p = '/';
        }
    }
    if (mkdir(buf, 0755) < 0 && errno != EEXIST) {
        return -errno;
    }
    return 0;
}
