/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The libfixbuf side of IPFIX: the process-wide information model, one session + collection
 * fBuf per user with fm__raw_t as its internal template, and libfixbuf's own transcoding of a
 * message (the reference the compiled plans are checked against).  Knows nothing of the
 * decoder; ipfix.c and check.c sit above it.
 */
#include "config.h"
#include "decode/fixbuf.h"

#include <pthread.h>
#include <stdlib.h>

#include "log.h"
#include "util/err.h"

#define INT_TID 0x0100 /* internal template ids are a namespace of their own */

/* Field order and sizes are fm__raw_t's: no holes, so libfixbuf writes the struct as is. */
static fbInfoElementSpec_t raw_spec[] = {
    {"octetDeltaCount", 8, 0},            {"packetDeltaCount", 8, 0},
    {"reverseOctetDeltaCount", 8, 0},     {"reversePacketDeltaCount", 8, 0},
    {"flowStartMilliseconds", 8, 0},      {"flowEndMilliseconds", 8, 0},
    {"flowStartMicroseconds", 8, 0},      {"flowEndMicroseconds", 8, 0},
    {"flowStartNanoseconds", 8, 0},       {"flowEndNanoseconds", 8, 0},
    {"systemInitTimeMilliseconds", 8, 0}, {"reverseFlowStartMilliseconds", 8, 0},
    {"reverseFlowEndMilliseconds", 8, 0}, {"samplingProbability", 8, 0},
    {"sourceIPv6Address", 16, 0},         {"destinationIPv6Address", 16, 0},
    {"sourceIPv4Address", 4, 0},          {"destinationIPv4Address", 4, 0},
    {"ingressInterface", 4, 0},           {"egressInterface", 4, 0},
    {"flowStartSeconds", 4, 0},           {"flowEndSeconds", 4, 0},
    {"flowStartSysUpTime", 4, 0},         {"flowEndSysUpTime", 4, 0},
    {"flowDurationMilliseconds", 4, 0},   {"flowDurationMicroseconds", 4, 0},
    {"flowStartDeltaMicroseconds", 4, 0}, {"flowEndDeltaMicroseconds", 4, 0},
    {"samplingInterval", 4, 0},           {"samplerRandomInterval", 4, 0},
    {"samplingPacketInterval", 4, 0},     {"samplingPacketSpace", 4, 0},
    {"samplingSize", 4, 0},               {"samplingPopulation", 4, 0},
    {"sourceTransportPort", 2, 0},        {"destinationTransportPort", 2, 0},
    {"tcpControlBits", 2, 0},             {"reverseTcpControlBits", 2, 0},
    {"protocolIdentifier", 1, 0},         {"ipVersion", 1, 0},
    {"paddingOctets", 6, 0},              FB_IESPEC_NULL};

/* One information model for the process (libfixbuf asks for one per application); it includes
 * the RFC 5103 reverse elements. */
static fbInfoModel_t *model;
static pthread_once_t model_once = PTHREAD_ONCE_INIT;

/* libfixbuf reports per-message events (e.g. "IPFIX Message out of sequence") through glib's
 * default log domain; we count those ourselves, so they go to debug instead of stderr. */
static void glib_log(const gchar *domain, GLogLevelFlags level, const gchar *msg, gpointer data)
{
    (void)domain;
    (void)level;
    (void)data;
    fm_log_debug("decode, libfixbuf: %s", msg);
}

static void model_init(void)
{
    model = fbInfoModelAlloc();
    g_log_set_handler(NULL, G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO |
                      G_LOG_LEVEL_DEBUG, glib_log, NULL);
}

struct fm__ipfix *fm__fix_new(void)
{
    pthread_once(&model_once, model_init);
    struct fm__ipfix *x = calloc(1, sizeof(*x));
    if (!model || !x) {
        free(x);
        return NULL;
    }
    GError *err = NULL;
    x->sess = fbSessionAlloc(model);
    fbTemplate_t *t = fbTemplateAlloc(model);
    if (!fbTemplateAppendSpecArray(t, raw_spec, UINT32_MAX, &err) ||
        !fbSessionAddTemplate(x->sess, TRUE, INT_TID, t, &err)) {
        fm_log_err("decode, libfixbuf internal template: %s", err ? err->message : "?");
        g_clear_error(&err);
        fbTemplateFreeUnused(t);
        fbSessionFree(x->sess);
        free(x);
        return NULL;
    }
    x->fbuf = fBufAllocForCollection(x->sess, NULL);
    fBufSetAutomaticMode(x->fbuf, FALSE);
    if (!fBufSetInternalTemplate(x->fbuf, INT_TID, &err)) {
        g_clear_error(&err);
        fBufFree(x->fbuf);
        free(x);
        return NULL;
    }
    return x;
}

void fm__fix_free(struct fm__ipfix *x)
{
    if (x) {
        fBufFree(x->fbuf); /* frees the session too */
        free(x->scratch);
        free(x->tmsg);
        free(x);
    }
}

bool fm__fix_known(uint16_t id, uint32_t pen)
{
    return fbInfoModelGetElementByID(model, id, pen) != NULL;
}

/* The reference path (check.c): libfixbuf transcodes the checked message record by record
 * into fm__raw_t through its internal template. */
int fm__fix_transcode(struct fm__ipfix *x, uint8_t *msg, size_t len,
                       void (*fn)(void *ctx, const fm__raw_t *r), void *ctx)
{
    fBuf_t *fb = x->fbuf;
    GError *err = NULL;
    int rc = 0;
    fBufSetBuffer(fb, msg, len);
    for (;;) {
        uint16_t tid = 0;
        fbTemplate_t *xt = fBufNextCollectionTemplate(fb, &tid, &err);
        fm__raw_t r;
        size_t sz = sizeof(r);
        if (!xt || !fBufNext(fb, (uint8_t *)&r, &sz, &err)) {
            if (!g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_EOM) &&
                !g_error_matches(err, FB_ERROR_DOMAIN, FB_ERROR_BUFSZ)) {
                fm_log_info("decode check, libfixbuf: %s", err ? err->message : "?");
                rc = FM_EFORMAT;
            }
            g_clear_error(&err);
            break;
        }
        fn(ctx, &r);
    }
    return rc;
}
