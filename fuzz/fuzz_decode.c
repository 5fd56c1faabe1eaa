/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the export-protocol decoders (NetFlow v5, v9, IPFIX) through
 * fm_decoder_process(), with one decoder fed a sequence of datagrams so that template state
 * carried from one datagram to the next (definitions, withdrawals, timeouts, limits) is
 * exercised, not only single datagrams.
 *
 * Input layout:
 *   byte 0      mode: bits 0-1 force the version field of every datagram (0 = leave it,
 *               1 = 5, 2 = 9, 3 = 10); bit 2 small limits (8 templates, 2 domains);
 *               bit 3 a 1 s template timeout with the clock jumping 700 ms per datagram.
 *   then        datagrams, each a 2-byte big-endian length and that many bytes (the last one
 *               is whatever is left when the length runs past the end).
 * Forcing the version lets a mutated v9 template set be read as IPFIX and the reverse, which
 * is how the decoder's per-version template keying was found wanting once.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"
#include "fuzz_datagrams.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Touch every delivered record so ASan sees reads of the whole batch. */
static void sink(void *ctx, const fm_flow_t *flows, size_t n)
{
    uint64_t *acc = ctx;
    for (size_t i = 0; i < n; i++) {
        *acc += flows[i].packets + flows[i].octets + flows[i].first_ms + flows[i].last_ms +
                flows[i].sport + flows[i].dport + flows[i].proto + flows[i].sampling;
    }
}

static int fuzz_init(void)
{
    fm_log_set_level(-1); /* decode errors are expected here; keep the fuzzer output readable */
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        inited = 1;
        fuzz_init();
    }
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    data++;
    size--;

    fm_decode_conf_t conf;
    fm_decode_conf_default(&conf);
    if (mode & 4) {
        conf.max_templates = 8;
        conf.max_domains = 2;
    }
    uint64_t step_ms = 0;
    if (mode & 8) {
        conf.template_timeout_ms = 1000;
        step_ms = 700;
    }
    fm_decoder_t *d = NULL;
    if (fm_decoder_new(&conf, 7, &d) < 0) {
        abort(); /* valid conf: must not fail */
    }
    static const uint16_t versions[4] = {0, 5, 9, 10};
    uint16_t force = versions[mode & 3];
    uint64_t acc = 0;
    fuzz_feed_datagrams(d, data, size, force, step_ms, sink, &acc);
    const fm_decode_stats_t *st = fm_decoder_stats(d);
    if (st->datagrams != 0 && st->v5_datagrams + st->v9_datagrams + st->ipfix_datagrams +
                                      st->bad_version > st->datagrams) {
        abort(); /* per-version counters cannot exceed the total */
    }
    if (st->templates > conf.max_templates || st->domains > conf.max_domains) {
        abort(); /* the per-exporter bounds are a promise of DESIGN */
    }
    fm_decoder_free(d);
    return 0;
}
