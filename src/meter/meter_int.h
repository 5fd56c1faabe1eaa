/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private interface of the metering module (src/meter/): the parsed packet the decoder hands to
 * the flow layer, and the nDPI glue.  Nothing outside src/meter/ includes this header.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "meter/meter.h"

/* Why a packet was ignored (the decoder's reasons, NFSTREAM.md §2). */
enum {
    FM__METER_IGN_SHORT = 0, /* shorter than the link header + 28 bytes */
    FM__METER_IGN_LINK,      /* unknown link type, STP, radiotap non-data */
    FM__METER_IGN_NOTIP,     /* no IPv4/IPv6 header where one was expected */
    FM__METER_IGN_FRAGMENT,  /* non-first IPv4/IPv6 fragment */
    FM__METER_IGN_TRUNC,     /* truncated IPv6, truncated tunnel header, bad lengths */
    FM__METER_IGN_COUNT
};

/* One parsed packet.  Addresses are 16 bytes: IPv4 in bytes 0-3 and zeros after, the same
 * key nfstream builds from two 64-bit words (so ip_version is not part of the key). */
typedef struct {
    uint64_t time;          /* ms, before the meter's clamp */
    uint8_t src_ip[16];
    uint8_t dst_ip[16];
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint16_t sport, dport;  /* host order, 0 for ICMP and unknown transports */
    uint16_t vlan_id;
    uint8_t proto;
    uint8_t ip_version;     /* 4 or 6 */
    uint8_t tunnel_id;      /* 0 none, 1 GTP, 2 CAPWAP, 3 TZSP */
    uint8_t tcp_flags;      /* the 8 flag bits of the TCP header, 0 otherwise */
    uint16_t raw_size;      /* accounting mode 0: wire length, uint16 as nfstream keeps it */
    uint16_t ip_size;       /* 1: IPv4 total length / IPv6 payload length */
    uint16_t transport_size; /* 2 */
    uint16_t payload_size;  /* 3 */
    const uint8_t *ip;      /* inner IP header, for nDPI */
    uint16_t ip_len;        /* caplen - ip offset (uint16 as nfstream) */
} fm__meter_pkt_t;

/**
 * Decode one captured frame as nfstream's packet_process does.
 * @param[in]  dlt     libpcap DLT_* of the capture.
 * @param[in]  data    caplen bytes.
 * @param[out] p       filled when 1 is returned.
 * @return 1 parsed, else 0 with *reason set to a FM__METER_IGN_* value.
 */
int fm__meter_decode(int dlt, const uint8_t *data, uint32_t caplen, uint32_t len,
                     bool decode_tunnels, fm__meter_pkt_t *p, int *reason);

/* nDPI glue (meter/dpi.c); without nDPI every call is a no-op and labels stay empty. */
typedef struct fm__meter_dpi fm__meter_dpi_t;
/** @return 0 or FM_ENOMEM / FM_EINVAL (when built without nDPI, dissections > 0 is allowed
 *  and labels are empty; see fm_meter_has_ndpi()). */
int fm__meter_dpi_new(fm__meter_dpi_t **out);
void fm__meter_dpi_free(fm__meter_dpi_t *d);
/** Size of the per-flow nDPI state the flow slots reserve (0 without nDPI). */
size_t fm__meter_dpi_flow_size(void);
/** Per-flow state lives inside the flow slot; these operate on it. */
void fm__meter_dpi_flow_init(fm__meter_dpi_t *d, void *st);
void fm__meter_dpi_flow_fini(fm__meter_dpi_t *d, void *st);
/** Dissect a packet; @return whether the app is still unknown after it. */
void fm__meter_dpi_process(fm__meter_dpi_t *d, void *st, const fm__meter_pkt_t *p, uint64_t t);
bool fm__meter_dpi_unknown(const void *st);
bool fm__meter_dpi_extra_possible(fm__meter_dpi_t *d, void *st);
void fm__meter_dpi_giveup(fm__meter_dpi_t *d, void *st);
/** Fill the label fields of out from the per-flow state. */
void fm__meter_dpi_collect(fm__meter_dpi_t *d, void *st, fm_meter_flow_t *out);
