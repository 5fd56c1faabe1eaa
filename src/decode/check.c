/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Differential check of the compiled decode plans against the reference decoders: the v9
 * field-by-field interpreter (fm__field_store) and, for IPFIX, libfixbuf's transcoding of the
 * same checked message through a session of its own.  Off in the daemon; test_decode_plan and
 * fuzz_decode_diff turn it on and require zero mismatches.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decode/decode_int.h"
#include "decode/fixbuf.h"
#include "util/err.h"

int fm__decode_check_enable(fm_decoder_t *d, bool abort_on_mismatch)
{
    if (d->check) {
        return 0;
    }
    fm__check_t *c = calloc(1, sizeof(*c));
    if (!c) {
        return FM_ENOMEM;
    }
    c->abort_on_mismatch = abort_on_mismatch;
    d->check = c;
    return 0;
}

void fm__check_free(fm_decoder_t *d)
{
    fm__check_t *c = d->check;
    if (!c) {
        return;
    }
    fm__fix_free(c->ref);
    free(c->raws);
    free(c->prob32);
    free(c);
    d->check = NULL;
}

/* @return the offset of the first byte where a and b differ (the fm__raw_t member). */
static size_t first_diff(const fm__raw_t *a, const fm__raw_t *b)
{
    const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
    size_t i = 0;
    while (i < sizeof(*a) && x[i] == y[i]) {
        i++;
    }
    return i;
}

static void mismatch(fm__check_t *c, const char *what, size_t at)
{
    c->mismatches++;
    fm_log_warn("decode check: %s: the compiled plan and the reference decoder differ "
                "(fm__raw_t byte %zu)", what, at);
    if (c->abort_on_mismatch) {
        /* the fuzz target silences the log; what differed belongs in its report */
        fprintf(stderr, "decode check: %s differs (fm__raw_t byte %zu)\n", what, at);
        abort();
    }
}

void fm__check_v9(fm_decoder_t *d, const fm__tmpl_t *t, const uint8_t *p, const fm__raw_t *r)
{
    fm__raw_t ref;
    memset(&ref, 0, sizeof(ref));
    for (uint16_t i = 0; i < t->nfields; i++) {
        if (t->fields[i].slot != FM__F_SKIP) {
            fm__field_store(&ref, t->fields[i].slot, p, t->fields[i].len);
        }
        p += t->fields[i].len;
    }
    d->check->records++;
    if (memcmp(&ref, r, sizeof(ref)) != 0) {
        mismatch(d->check, "v9 record", first_diff(&ref, r));
    }
}

/* Does the plan read samplingProbability from 4 bytes (float32)? */
static bool prob32(const fm__tmpl_t *t)
{
    const fm__op_t *ops = fm__tmpl_ops(t);
    for (uint16_t i = 0; i < t->nops; i++) {
        if (ops[i].kind == FM__OP_PROB && ops[i].len == 4) {
            return true;
        }
    }
    return false;
}

void fm__check_ipfix_add(fm_decoder_t *d, const fm__tmpl_t *t, const fm__raw_t *r)
{
    fm__check_t *c = d->check;
    if (c->nraw == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 256;
        fm__raw_t *n = realloc(c->raws, cap * sizeof(*n));
        uint8_t *p = realloc(c->prob32, cap);
        if (!n || !p) {
            abort(); /* test-only path */
        }
        c->raws = n;
        c->prob32 = p;
        c->cap = cap;
    }
    c->prob32[c->nraw] = prob32(t);
    c->raws[c->nraw++] = *r;
}

typedef struct {
    fm__check_t *c;
    size_t i;
} cmp_t;

static void cmp_one(void *ctx, const fm__raw_t *r)
{
    cmp_t *k = ctx;
    fm__check_t *c = k->c;
    c->records++;
    fm__raw_t ref = *r;
    if (k->i < c->nraw && c->prob32[k->i]) {
        /* samplingProbability is float64; RFC 7011 §6.1.3 allows float32 on the wire.
         * libfixbuf 2.4 copies those 4 bytes as a reduced-size integer (a meaningless
         * double); the plan converts the float32.  Same wire bits, compared as float32. */
        uint64_t bits;
        memcpy(&bits, &ref.samp_prob, 8);
        uint32_t u = (uint32_t)bits;
        float fl;
        memcpy(&fl, &u, 4);
        ref.samp_prob = fl;
    }
    /* the internal template's paddingOctets take an exporter's padding: not a value */
    memset(ref.pad, 0, sizeof(ref.pad));
    r = &ref;
    if (k->i >= c->nraw) {
        mismatch(c, "IPFIX record count (libfixbuf read more)", 0);
    } else if (memcmp(&c->raws[k->i], r, sizeof(*r)) != 0) {
        mismatch(c, "IPFIX record", first_diff(&c->raws[k->i], r));
    }
    k->i++;
}

void fm__check_ipfix_message(fm_decoder_t *d, uint8_t *msg, size_t len)
{
    fm__check_t *c = d->check;
    if (!c->ref && !(c->ref = fm__fix_new())) {
        abort(); /* test-only path */
    }
    cmp_t k = {.c = c};
    if (fm__fix_transcode(c->ref, msg, len, cmp_one, &k) < 0) {
        mismatch(c, "IPFIX message (libfixbuf refused what the plans read)", 0);
    } else if (k.i != c->nraw) {
        mismatch(c, "IPFIX record count (libfixbuf read fewer)", 0);
    }
    c->nraw = 0;
}
