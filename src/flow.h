/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The canonical flow record (DESIGN §3).  Decoders produce one per export record; the cache merges
 * and pairs them and hands finished flows (uniflows or biflows) to histograms and plugins.
 * Addresses are 16 bytes, IPv4 stored as IPv4-mapped IPv6 (::ffff:a.b.c.d).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Address family numbers as flow-models and nfdump print them (Linux AF_INET / AF_INET6), fixed
 * here so files are portable whatever the host's AF_ values are. */
#define FM_AF_INET 2
#define FM_AF_INET6 10

/* fm_flow_t.flags */
#define FM_FLOW_BIFLOW 0x01    /* rev_* fields hold the opposite direction */
#define FM_FLOW_EVICTED 0x02   /* emitted early because the cache was full */
#define FM_FLOW_FLUSHED 0x04   /* emitted by flush/shutdown, not by expiry */

typedef struct fm_flow {
    uint64_t first_ms;     /* first packet of the forward direction, epoch ms */
    uint64_t last_ms;      /* last packet of the forward direction, epoch ms; the biflow's span
                              is fm_flow_span() */
    uint64_t packets;      /* forward direction */
    uint64_t octets;
    uint64_t rev_packets;  /* reverse direction: RFC 5103 biflow export or cache pairing */
    uint64_t rev_octets;
    uint64_t rev_first_ms; /* reverse direction's own span (0 when rev_packets == 0) */
    uint64_t rev_last_ms;
    uint8_t src[16];       /* IPv4-mapped for IPv4 */
    uint8_t dst[16];
    uint32_t exporter;     /* exporter index: source address + port, assigned by ingest */
    uint32_t domain;       /* observation domain id (IPFIX) / source id (v9) / engine (v5) */
    uint32_t inif;
    uint32_t outif;
    uint32_t sampling;     /* sampling interval, 1 = unsampled; counters are never scaled silently */
    uint32_t records;      /* export records merged into this flow (1 for a fresh record) */
    uint16_t sport;        /* 0 for protocols without ports */
    uint16_t dport;
    uint8_t af;            /* FM_AF_INET or FM_AF_INET6 */
    uint8_t proto;         /* IP protocol */
    uint8_t tcp_flags;
    uint8_t rev_tcp_flags;
    uint8_t flags;         /* FM_FLOW_* */
    uint8_t fwd_first;     /* for biflows built by the cache: 1 if src/dst is the first-seen
                              direction (always 1 for a record as decoded) */
} fm_flow_t;

/** Traffic classes of the histograms. */
typedef enum {
    FM_CLASS_ALL = 0,
    FM_CLASS_TCP,
    FM_CLASS_UDP,
    FM_CLASS_OTHER,
    FM_CLASS_COUNT
} fm_class_t;

/** Consumer of a batch of flows.  The array is borrowed for the duration of the call. */
typedef void (*fm_flow_batch_fn)(void *ctx, const fm_flow_t *flows, size_t n);

/** A batch sink (ctx: FILE *) printing one "record ..." line per flow (flowmixd --dump). */
void fm_flow_print_batch(void *file, const fm_flow_t *flows, size_t n);

/** Store an IPv4 address (host byte order) as IPv4-mapped IPv6. */
void fm_flow_set_v4(uint8_t addr[16], uint32_t v4);
/** @return the IPv4 address (host byte order) of an IPv4-mapped address. */
uint32_t fm_flow_get_v4(const uint8_t addr[16]);
bool fm_flow_is_v4mapped(const uint8_t addr[16]);
/** Write the address as text (dotted quad for IPv4-mapped).  @param[out] buf at least 46 bytes. */
void fm_flow_addr_str(const uint8_t addr[16], char *buf, size_t len);
/** Parse an IPv4 or IPv6 address into the 16-byte form.  @return 0 or FM_EINVAL. */
int fm_flow_addr_parse(const char *text, uint8_t addr[16], uint8_t *af);
/** Specific class of a protocol: TCP, UDP or OTHER (every flow is also in FM_CLASS_ALL). */
fm_class_t fm_flow_class(uint8_t proto);
const char *fm_class_name(fm_class_t cls);
/** @return class for "all", "tcp", "udp", "other", or FM_EINVAL. */
int fm_class_parse(const char *name);
/** First and last packet of both directions together (the forward span when rev_packets is 0). */
void fm_flow_span(const fm_flow_t *f, uint64_t *first_ms, uint64_t *last_ms);
/**
 * The reverse direction of a biflow as a uniflow record of its own, for the file formats that
 * hold one direction per row: addresses, ports, interfaces and TCP flags swapped, the rev_* span
 * and counters, the same exporter, domain, sampling and records.
 * @return false (out untouched) when f has no reverse packets.
 */
bool fm_flow_reverse(const fm_flow_t *f, fm_flow_t *out);
/** Duration in ms as flow-models defines it: 0 for a one-packet flow. */
uint64_t fm_flow_duration_ms(uint64_t first_ms, uint64_t last_ms, uint64_t packets);
