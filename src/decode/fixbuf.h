/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private header of decode/: the libfixbuf session one exporter's IPFIX decoding keeps
 * (fixbuf.c).  Used by the IPFIX decoder (ipfix.c: templates go through it) and by the
 * differential check (check.c: a session of its own transcodes the checked message), so that
 * neither has to call the other for it.
 */
#pragma once

#include <fixbuf/public.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "decode/decode_int.h"

struct fm__ipfix {
    fbSession_t *sess;
    fBuf_t *fbuf;
    uint8_t *scratch; /* the checked message, for the differential check only */
    size_t cap;
    uint8_t *tmsg;    /* one template record as a message of its own for libfixbuf */
    size_t tcap;
};

/* A new session and collection fBuf with fm__raw_t as the internal template (the process-wide
 * information model is set up on first use).  @return NULL when out of memory or libfixbuf
 * refused the internal template (logged). */
struct fm__ipfix *fm__fix_new(void);
/* Frees the session, its fBuf and buffers; NULL does nothing. */
void fm__fix_free(struct fm__ipfix *x);
/* Does the information model know element (pen, id)?  Only after fm__fix_new(). */
bool fm__fix_known(uint16_t id, uint32_t pen);
/* Does an encoding of len bytes fit a type of type_len bytes (an element's ref.canon->len)?
 * RFC 7011 §6.2 allows shorter (reduced-size) encodings, never longer ones; variable-length
 * ones always fit.  libfixbuf 2.4 only warns of a longer one ("Illegal length"), libfixbuf 3
 * refuses the template. */
static inline bool fm__fix_len_fits(uint16_t len, uint16_t type_len)
{
    return len == FB_IE_VARLEN || type_len == FB_IE_VARLEN || len <= type_len;
}
/* The reference path: libfixbuf transcodes msg (a checked message) through x's session;
 * each record's fm__raw_t goes to fn.  @return 0 or FM_EFORMAT (libfixbuf objected). */
int fm__fix_transcode(struct fm__ipfix *x, uint8_t *msg, size_t len,
                      void (*fn)(void *ctx, const fm__raw_t *r), void *ctx);
