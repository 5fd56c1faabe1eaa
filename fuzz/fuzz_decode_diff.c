/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the compiled decode plans against the reference decoders.  The input
 * layout is fuzz_decode.c's (a mode byte, then 2-byte length-prefixed datagrams fed to one
 * decoder); the decoder runs with the differential check on (src/decode/check.c), so every v9
 * record is also decoded field by field and every IPFIX message is also transcoded by
 * libfixbuf through a session of its own, and any record where the two differ — or a message
 * libfixbuf refuses after the plans read it — aborts, which libFuzzer reports with the input.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"
#include "fuzz_datagrams.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void sink(void *ctx, const fm_flow_t *flows, size_t n)
{
    uint64_t *acc = ctx;
    for (size_t i = 0; i < n; i++) {
        *acc += flows[i].packets + flows[i].first_ms + flows[i].last_ms + flows[i].sampling;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        inited = 1;
        fm_log_set_level(-1);
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
    if (fm_decoder_new(&conf, 7, &d) < 0 || fm__decode_check_enable(d, true) < 0) {
        abort();
    }
    static const uint16_t versions[4] = {0, 5, 9, 10};
    uint16_t force = versions[mode & 3];
    uint64_t acc = 0;
    fuzz_feed_datagrams(d, data, size, force, step_ms, sink, &acc);
    fm_decoder_free(d);
    return 0;
}
