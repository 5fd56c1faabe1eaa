/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Export-protocol decoders: NetFlow v5 (fixed layout), NetFlow v9 (RFC 3954, by hand) and IPFIX
 * (RFC 7011 with RFC 5103 biflow elements, through libfixbuf).  One decoder holds the state of
 * one exporter transport (source address + port): templates, sampling options and sequence
 * numbers of all its observation domains / source ids / engines.  The version field of each
 * datagram selects the protocol, so any socket accepts all three.  Decoded records leave as
 * fm_flow_t batches; merging, pairing and expiry are the cache's business.
 *
 * Counting rules (the "exporters" control command shows these):
 *  - malformed: datagrams rejected, wholly or from the first bad set on (records before the bad
 *    part are delivered).
 *  - unknown_template: data SETS dropped because their template is unknown (withdrawn, timed
 *    out or not yet received); their records cannot be counted without the template.
 *  - seq_gaps / seq_lost: per (exporter, domain) with each version's RFC meaning: v5 and IPFIX
 *    count records, v9 counts export datagrams.  A backwards jump (reordering or exporter
 *    restart) re-synchronises without counting loss.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "flow.h"

typedef struct fm_decode_conf {
    uint64_t template_timeout_ms; /* UDP template lifetime (default 1800 s); 0 = never expire */
    uint32_t max_templates;       /* per exporter (all domains), default 4096 */
    uint32_t max_domains;         /* per exporter, default 256 */
    /* Optional cap across decoders: templates_total (owned by the caller, e.g. ingest) counts
     * the templates of every decoder given the same pointer, up to max_templates_total (0 or
     * NULL: no cap).  Decoders sharing it must run on one thread. */
    uint32_t max_templates_total;
    uint64_t *templates_total;
} fm_decode_conf_t;

typedef struct fm_decode_stats {
    uint64_t datagrams;            /* every datagram handed to fm_decoder_process() */
    uint64_t records;              /* flow records delivered to the sink */
    uint64_t bytes;                /* datagram bytes */
    uint64_t malformed;            /* datagrams rejected (wholly or partly) as malformed */
    uint64_t bad_version;          /* datagrams with an unknown version field */
    uint64_t unknown_template;     /* data sets dropped: unknown template (sets, not records) */
    uint64_t seq_gaps;             /* number of forward sequence jumps */
    uint64_t seq_lost;             /* records (v5, IPFIX) or datagrams (v9) lost */
    uint64_t templates;            /* currently known (data + options, all domains) */
    uint64_t template_withdrawals; /* IPFIX withdrawals applied */
    uint64_t session_recycles;     /* libfixbuf sessions replaced to drop dead templates */
    uint64_t template_timeouts;    /* templates expired for lack of refresh */
    uint64_t options_records;      /* options data records read (sampling, init time) */
    uint64_t time_clamped;         /* records ending > 60 s after their export: clamped */
    uint64_t limit_drops;          /* datagrams dropped on max_templates / max_domains */
    uint64_t v5_datagrams, v9_datagrams, ipfix_datagrams;
    uint32_t last_version;         /* version field of the last datagram (5, 9, 10) */
    uint32_t domains;              /* observation domains / source ids / engines seen */
} fm_decode_stats_t;

typedef struct fm_decoder fm_decoder_t;

/** Fill conf with the defaults (1800 s template timeout, 4096 templates, 256 domains). */
void fm_decode_conf_default(fm_decode_conf_t *conf);

/**
 * Create the decoder of one exporter transport.
 * @param[in]  conf         limits and timeouts (copied); NULL for the defaults.
 * @param[in]  exporter_id  stored in every decoded record's `exporter` field.
 * @param[out] out          the new decoder; free with fm_decoder_free().
 * @return 0, FM_EINVAL (NULL out, zero limits) or FM_ENOMEM (libfixbuf session setup failed).
 */
int fm_decoder_new(const fm_decode_conf_t *conf, uint32_t exporter_id, fm_decoder_t **out);

/**
 * Free what an idle decoder can rebuild on its next datagram: the libfixbuf session and the
 * 64 KiB message buffers of IPFIX (~100 kB resident).  Templates (their compiled plans),
 * sequence numbers and sampling state stay.  NULL does nothing.
 */
void fm_decoder_trim(fm_decoder_t *d);

/** Free a decoder and all its template state.  NULL does nothing. */
void fm_decoder_free(fm_decoder_t *d);

/**
 * Decode one datagram.  Records are delivered to sink in batches (the array is borrowed for
 * the call).  Records before a malformed part are still delivered.  Every record has
 * exporter = exporter_id, domain, records = 1, sampling >= 1 (counters are not scaled), af,
 * addresses (IPv4 as v4-mapped), ports, proto, counters, epoch-ms times, fwd_first = 1, and for
 * RFC 5103 biflow records the rev_* fields and FM_FLOW_BIFLOW (rev_first/last_ms equal
 * first/last_ms when the record has no separate reverse times).
 * @param[in] buf      the datagram, borrowed for the call.
 * @param[in] recv_ms  wall clock at reception, epoch ms (template timeouts; never record times).
 * @return 0; FM_EVERSION (unknown version), FM_ETRUNC / FM_EFORMAT (malformed), FM_ELIMIT
 *         (template or domain limit hit) — the datagram is counted; FM_EINVAL for NULL args.
 */
int fm_decoder_process(fm_decoder_t *d, const uint8_t *buf, size_t len, uint64_t recv_ms,
                       fm_flow_batch_fn sink, void *ctx);

/** @return the decoder's counters, valid until the next call on d. */
const fm_decode_stats_t *fm_decoder_stats(const fm_decoder_t *d);
