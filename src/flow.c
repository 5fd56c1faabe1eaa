/* SPDX-License-Identifier: BSD-2-Clause */
/* Address helpers and traffic classes for fm_flow_t. */
#include "config.h"
#include "flow.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/err.h"

static const uint8_t v4mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

void fm_flow_set_v4(uint8_t addr[16], uint32_t v4)
{
    memcpy(addr, v4mapped_prefix, 12);
    addr[12] = (uint8_t)(v4 >> 24);
    addr[13] = (uint8_t)(v4 >> 16);
    addr[14] = (uint8_t)(v4 >> 8);
    addr[15] = (uint8_t)v4;
}

uint32_t fm_flow_get_v4(const uint8_t addr[16])
{
    return (uint32_t)addr[12] << 24 | (uint32_t)addr[13] << 16 | (uint32_t)addr[14] << 8 |
           addr[15];
}

bool fm_flow_is_v4mapped(const uint8_t addr[16])
{
    return memcmp(addr, v4mapped_prefix, 12) == 0;
}

void fm_flow_addr_str(const uint8_t addr[16], char *buf, size_t len)
{
    if (fm_flow_is_v4mapped(addr)) {
        inet_ntop(AF_INET, addr + 12, buf, (socklen_t)len);
    } else {
        inet_ntop(AF_INET6, addr, buf, (socklen_t)len);
    }
}

int fm_flow_addr_parse(const char *text, uint8_t addr[16], uint8_t *af)
{
    struct in_addr a4;
    if (inet_pton(AF_INET, text, &a4) == 1) {
        fm_flow_set_v4(addr, ntohl(a4.s_addr));
        if (af) {
            *af = FM_AF_INET;
        }
        return 0;
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        if (af) {
            *af = FM_AF_INET6;
        }
        return 0;
    }
    return FM_EINVAL;
}

fm_class_t fm_flow_class(uint8_t proto)
{
    switch (proto) {
    case 6: return FM_CLASS_TCP;
    case 17: return FM_CLASS_UDP;
    default: return FM_CLASS_OTHER;
    }
}

static const char *const class_names[FM_CLASS_COUNT] = {"all", "tcp", "udp", "other"};

const char *fm_class_name(fm_class_t cls)
{
    return (unsigned)cls < FM_CLASS_COUNT ? class_names[cls] : "?";
}

int fm_class_parse(const char *name)
{
    for (int i = 0; i < FM_CLASS_COUNT; i++) {
        if (strcasecmp(name, class_names[i]) == 0) {
            return i;
        }
    }
    return FM_EINVAL;
}

uint64_t fm_flow_duration_ms(uint64_t first_ms, uint64_t last_ms, uint64_t packets)
{
    if (packets <= 1 || last_ms <= first_ms) {
        return 0;
    }
    return last_ms - first_ms;
}

bool fm_flow_reverse(const fm_flow_t *f, fm_flow_t *out)
{
    if (!f->rev_packets) {
        return false;
    }
    *out = *f;
    memcpy(out->src, f->dst, sizeof(out->src));
    memcpy(out->dst, f->src, sizeof(out->dst));
    out->sport = f->dport;
    out->dport = f->sport;
    out->inif = f->outif;
    out->outif = f->inif;
    out->first_ms = f->rev_first_ms;
    out->last_ms = f->rev_last_ms;
    out->packets = f->rev_packets;
    out->octets = f->rev_octets;
    out->tcp_flags = f->rev_tcp_flags;
    out->rev_packets = out->rev_octets = out->rev_first_ms = out->rev_last_ms = 0;
    out->rev_tcp_flags = 0;
    out->flags = (uint8_t)(f->flags & ~FM_FLOW_BIFLOW);
    out->fwd_first = 1;
    return true;
}

void fm_flow_span(const fm_flow_t *f, uint64_t *first_ms, uint64_t *last_ms)
{
    uint64_t first = f->first_ms, last = f->last_ms;
    if (f->rev_packets) {
        if (f->packets == 0 || f->rev_first_ms < first) {
            first = f->rev_first_ms;
        }
        if (f->packets == 0 || f->rev_last_ms > last) {
            last = f->rev_last_ms;
        }
    }
    *first_ms = first;
    *last_ms = last;
}

void fm_flow_print_batch(void *file, const fm_flow_t *flows, size_t n)
{
    FILE *out = file;
    for (size_t i = 0; i < n; i++) {
        const fm_flow_t *f = &flows[i];
        char sa[64], da[64];
        fm_flow_addr_str(f->src, sa, sizeof(sa));
        fm_flow_addr_str(f->dst, da, sizeof(da));
        fprintf(out, "record exporter=%u domain=%u first=%" PRIu64 " last=%" PRIu64
                " proto=%u %s:%u > %s:%u packets=%" PRIu64 " octets=%" PRIu64
                " rev_packets=%" PRIu64 " rev_octets=%" PRIu64 " sampling=%u\n",
                f->exporter, f->domain, f->first_ms, f->last_ms, f->proto, sa, f->sport, da,
                f->dport, f->packets, f->octets, f->rev_packets, f->rev_octets, f->sampling);
    }
    fflush(out);
}
