/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Decoder object and dispatch on the version field (5, 9, 10).  What the three protocols share
 * (per-domain state, sequence accounting, batching, the record finisher) is in record.c, below
 * both this dispatcher and the protocol decoders.
 */
#include "config.h"
#include "decode/decode.h"

#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"
#include "util/err.h"

void fm_decode_conf_default(fm_decode_conf_t *conf)
{
    *conf = (fm_decode_conf_t){0}; /* no cap across decoders */
    conf->template_timeout_ms = 1800 * 1000;
    conf->max_templates = 4096;
    conf->max_domains = 256;
}

int fm_decoder_new(const fm_decode_conf_t *conf, uint32_t exporter_id, fm_decoder_t **out)
{
    if (!out) {
        return FM_EINVAL;
    }
    *out = NULL;
    fm_decode_conf_t def;
    fm_decode_conf_default(&def);
    if (!conf) {
        conf = &def;
    }
    if (conf->max_templates == 0 || conf->max_domains == 0) {
        return FM_EINVAL;
    }
    fm_decoder_t *d = calloc(1, sizeof(*d));
    if (!d) {
        return FM_ENOMEM;
    }
    d->conf = *conf;
    d->exporter = exporter_id;
    fm_ratelimit_init(&d->rl, 10, 10000);
    if (fm__tmpl_init(d) < 0) {
        free(d);
        return FM_ENOMEM;
    }
    *out = d;
    return 0;
}

void fm_decoder_trim(fm_decoder_t *d)
{
    if (d) {
        fm__ipfix_trim(d);
    }
}

void fm_decoder_free(fm_decoder_t *d)
{
    if (!d) {
        return;
    }
    fm__ipfix_free(d); /* first: removing templates below must not call into libfixbuf */
    fm__check_free(d);
    fm__tmpl_fini(d);
    free(d->doms);
    free(d);
}

const fm_decode_stats_t *fm_decoder_stats(const fm_decoder_t *d)
{
    return &d->stats;
}

static const char *rc_text(int rc)
{
    return rc == FM_ELIMIT ? "limit reached" : fm_strerror(rc);
}

int fm_decoder_process(fm_decoder_t *d, const uint8_t *buf, size_t len, uint64_t recv_ms,
                       fm_flow_batch_fn sink, void *ctx)
{
    if (!d || (!buf && len) || !sink) {
        return FM_EINVAL;
    }
    d->stats.datagrams++;
    d->stats.bytes += len;
    d->sink = sink;
    d->ctx = ctx;
    d->nbatch = 0;
    if (len < 2) {
        d->stats.malformed++;
        return FM_ETRUNC;
    }
    uint16_t version = fm__be16(buf);
    int rc;
    switch (version) {
    case 5: rc = fm__decode_v5(d, buf, len); d->stats.v5_datagrams++; break;
    case 9: rc = fm__decode_v9(d, buf, len, recv_ms); d->stats.v9_datagrams++; break;
    case 10: rc = fm__decode_ipfix(d, buf, len, recv_ms); d->stats.ipfix_datagrams++; break;
    default:
        d->stats.bad_version++;
        fm_log_rl(&d->rl, LOG_INFO, "decode, exporter %u, unknown version %u, datagram dropped",
                  d->exporter, version);
        return FM_EVERSION;
    }
    d->stats.last_version = version;
    fm__decode_flush(d);
    fm__tmpl_sweep(d, recv_ms);
    if (rc < 0) {
        if (rc == FM_ELIMIT) {
            d->stats.limit_drops++;
        }
        d->stats.malformed++;
        fm_log_rl(&d->rl, LOG_INFO, "decode, exporter %u, version %u datagram of %zu bytes: %s",
                  d->exporter, version, len, rc_text(rc));
    }
    return rc;
}
