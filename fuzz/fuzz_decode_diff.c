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
    uint64_t now = UINT64_C(1700000000000), acc = 0;
    uint8_t *dg = NULL;
    while (size > 0) {
        size_t len = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
        size_t hdr = size >= 2 ? 2 : size;
        data += hdr;
        size -= hdr;
        if (len > size) {
            len = size;
        }
        dg = realloc(dg, len ? len : 1);
        memcpy(dg, data, len);
        if (force && len >= 2) {
            dg[0] = (uint8_t)(force >> 8);
            dg[1] = (uint8_t)force;
        }
        (void)fm_decoder_process(d, dg, len, now, sink, &acc);
        data += len;
        size -= len;
        now += step_ms;
    }
    free(dg);
    fm_decoder_free(d);
    return 0;
}
