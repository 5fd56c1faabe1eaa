/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Encoders that build NetFlow v5, NetFlow v9 (templates + data) and IPFIX (templates + data,
 * optionally with RFC 5103 reverse elements) datagrams from fm_flow_t records.  One encoder is
 * one exporter stream: it owns the sequence numbers, the template refresh schedule and the
 * exporter's boot time for SysUpTime-relative times.  Used by the unit tests, the decode
 * benchmark and the `flowmix send` load generator; it writes into caller buffers and never
 * sends anything itself.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

/** IPFIX time encoding of flow start/end (v9 always uses SysUpTime, v5 has no choice). */
typedef enum {
    FM_ENCODE_TIME_MS = 0,    /* flowStart/EndMilliseconds (152/153) */
    FM_ENCODE_TIME_S,         /* flowStart/EndSeconds (150/151) */
    FM_ENCODE_TIME_US,        /* flowStart/EndMicroseconds (154/155), NTP format */
    FM_ENCODE_TIME_NS,        /* flowStart/EndNanoseconds (156/157), NTP format */
    FM_ENCODE_TIME_UPTIME,    /* flowStart/EndSysUpTime (22/21) + systemInitTimeMilliseconds
                                 (160) in an options record */
    FM_ENCODE_TIME_DURATION,  /* flowStartMilliseconds + flowDurationMilliseconds (161) */
} fm_encode_time_t;

typedef struct fm_encode_conf {
    int version;              /* 5, 9 or 10 */
    uint32_t domain;          /* observation domain / source id; v5: engine id (low 8 bits) */
    uint16_t template_id;     /* first template id (>= 256): IPv4 data, +1 IPv6, +2 options */
    uint32_t template_every;  /* resend templates every N datagrams; 0 = first datagram only */
    uint32_t sampling;        /* > 1: v5 header field, v9/IPFIX options record */
    bool biflow;              /* IPFIX: export rev_* as RFC 5103 reverse elements */
    fm_encode_time_t time;    /* IPFIX only */
    uint64_t boot_ms;         /* exporter boot time, epoch ms, for SysUpTime times */
    size_t mtu;               /* largest datagram written (>= 256), default 1400 */
} fm_encode_conf_t;

typedef struct fm_encoder fm_encoder_t;

/** Defaults for a version: domain 0, template id 256, templates every 20 datagrams,
 *  unsampled, uniflow, millisecond times, boot 1 h before the first datagram, MTU 1400. */
void fm_encode_conf_default(fm_encode_conf_t *conf, int version);

/**
 * Create an encoder (one exporter stream).
 * @param[in]  conf  copied.
 * @param[out] out   free with fm_encoder_free().
 * @return 0, FM_EINVAL (bad version, template id < 256, MTU < 256) or FM_ENOMEM.
 */
int fm_encoder_new(const fm_encode_conf_t *conf, fm_encoder_t **out);
/** Free an encoder; NULL does nothing. */
void fm_encoder_free(fm_encoder_t *e);

/**
 * Build one datagram from the first flows of an array: templates when due, then as many
 * records as fit into the MTU (v5: at most 30; IPv6 flows are skipped in v5).
 * @param[in]  flows   records to encode (borrowed).
 * @param[in]  now_ms  export time, epoch ms (header time, SysUpTime base).
 * @param[out] buf     receives the datagram; cap bytes available (>= conf.mtu recommended).
 * @param[out] len     datagram length.
 * @return number of flows consumed (>= 1 when n > 0, 0 when n == 0: a template-only datagram
 *         is still written if templates are due), or FM_ENOSPC if cap cannot hold one record.
 */
int fm_encoder_datagram(fm_encoder_t *e, const fm_flow_t *flows, size_t n, uint64_t now_ms,
                        uint8_t *buf, size_t cap, size_t *len);

/** Force the next datagram to carry the templates again. */
void fm_encoder_resend_templates(fm_encoder_t *e);
/** Set the sequence number of the next datagram (to test wrap and gaps). */
void fm_encoder_set_sequence(fm_encoder_t *e, uint32_t seq);
/** @return the sequence number the next datagram will carry. */
uint32_t fm_encoder_sequence(const fm_encoder_t *e);
