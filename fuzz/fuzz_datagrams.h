/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The input layout shared by fuzz_decode and fuzz_decode_diff: after the targets' mode byte,
 * datagrams each prefixed by a 2-byte big-endian length (a short last one takes what is left),
 * fed to one decoder in order, step_ms apart.
 */
#pragma once

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode.h"

/**
 * Feed the length-prefixed datagrams of data to d.
 * @param force  version number written over each datagram's first two bytes, or 0 for none.
 */
static inline void fuzz_feed_datagrams(fm_decoder_t *d, const uint8_t *data, size_t size,
                                       uint16_t force, uint64_t step_ms, fm_flow_batch_fn sink,
                                       void *ctx)
{
    uint64_t now = UINT64_C(1700000000000);
    uint8_t *dg = NULL;
    while (size > 0) {
        size_t len = size >= 2 ? ((size_t)data[0] << 8 | data[1]) : 0;
        size_t hdr = size >= 2 ? 2 : size;
        data += hdr;
        size -= hdr;
        if (len > size) {
            len = size;
        }
        /* an exact-size heap copy so that any over-read is caught by ASan */
        dg = realloc(dg, len ? len : 1);
        memcpy(dg, data, len);
        if (force && len >= 2) {
            dg[0] = (uint8_t)(force >> 8);
            dg[1] = (uint8_t)force;
        }
        (void)fm_decoder_process(d, dg, len, now, sink, ctx);
        data += len;
        size -= len;
        now += step_ms;
    }
    free(dg);
}
