/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Prometheus /metrics over libmicrohttpd (see metrics.h).  MHD runs one internal polling
 * thread; each request takes a reference to the current snapshot under the mutex and answers
 * from it after releasing the mutex, so a slow scraper never holds up a publish.
 */
#include "config.h"

#include "metrics.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ingest.h"
#include "util/err.h"
#include "util/mem.h"

#ifdef HAVE_MHD
#include <microhttpd.h>

#define CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

typedef struct {
    atomic_uint refs;
    size_t len;
    char *text;
} snapshot_t;

struct fm_metrics {
    struct MHD_Daemon *mhd;
    pthread_mutex_t mu;
    snapshot_t *cur;           /* guarded by mu */
    uint16_t port;
    atomic_uint_fast64_t scrapes;
};

static void snap_unref(snapshot_t *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1) {
        free(s->text);
        free(s);
    }
}

static void snap_unref_cb(void *cls)
{
    snap_unref(cls);
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *text)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), (void *)text, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
    enum MHD_Result rc = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version,
                                  const char *upload, size_t *upload_size, void **req_cls)
{
    fm_metrics_t *m = cls;
    (void)version;
    (void)upload;
    (void)upload_size;
    (void)req_cls;

    if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD)) {
        return reply_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "only GET\n");
    }
    if (!strcmp(url, "/")) {
        return reply_text(c, MHD_HTTP_OK, "flowmixd: metrics at /metrics\n");
    }
    if (strcmp(url, "/metrics")) {
        return reply_text(c, MHD_HTTP_NOT_FOUND, "not found; metrics are at /metrics\n");
    }
    pthread_mutex_lock(&m->mu);
    snapshot_t *s = m->cur;
    if (s) {
        atomic_fetch_add(&s->refs, 1);
    }
    pthread_mutex_unlock(&m->mu);
    if (!s) {
        return reply_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "starting, no metrics yet\n");
    }
    /* The response reads the snapshot in place and drops its reference when done. */
    struct MHD_Response *r =
        MHD_create_response_from_buffer_with_free_callback_cls(s->len, s->text, snap_unref_cb, s);
    if (!r) {
        snap_unref(s);
        return MHD_NO;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, CONTENT_TYPE);
    enum MHD_Result rc = MHD_queue_response(c, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    atomic_fetch_add(&m->scrapes, 1);
    return rc;
}

int fm_metrics_new(const char *listen, fm_metrics_t **out, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    if (fm_ingest_parse_endpoint(listen, &ss) < 0) {
        snprintf(err, errlen, "[metrics] listen: '%s' is not ADDR:PORT or [V6]:PORT", listen);
        return FM_EINVAL;
    }
    fm_metrics_t *m = fm_xcalloc(1, sizeof(*m));
    pthread_mutex_init(&m->mu, NULL);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6) {
        flags |= MHD_USE_IPv6;
    }
    errno = 0;
    m->mhd = MHD_start_daemon(flags, 0, NULL, NULL, on_request, m, MHD_OPTION_SOCK_ADDR,
                              (struct sockaddr *)&ss, MHD_OPTION_CONNECTION_LIMIT,
                              (unsigned)32, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
                              MHD_OPTION_END);
    if (!m->mhd) {
        int e = errno ? errno : EADDRINUSE;
        snprintf(err, errlen, "[metrics] cannot listen on %s: %s", listen, strerror(e));
        pthread_mutex_destroy(&m->mu);
        free(m);
        return -e;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(m->mhd, MHD_DAEMON_INFO_BIND_PORT);
    m->port = info ? info->port : 0;
    *out = m;
    return 0;
}

void fm_metrics_free(fm_metrics_t *m)
{
    if (!m) {
        return;
    }
    MHD_stop_daemon(m->mhd); /* joins the thread; responses in flight released their refs */
    snap_unref(m->cur);
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void fm_metrics_publish(fm_metrics_t *m, char *text, size_t len)
{
    snapshot_t *s = fm_xmalloc(sizeof(*s));
    atomic_init(&s->refs, 1);
    s->text = text;
    s->len = len;
    pthread_mutex_lock(&m->mu);
    snapshot_t *old = m->cur;
    m->cur = s;
    pthread_mutex_unlock(&m->mu);
    snap_unref(old);
}

uint16_t fm_metrics_port(const fm_metrics_t *m)
{
    return m->port;
}

uint64_t fm_metrics_scrapes(const fm_metrics_t *m)
{
    return atomic_load(&((fm_metrics_t *)m)->scrapes);
}

#else /* !HAVE_MHD */

int fm_metrics_new(const char *listen, fm_metrics_t **out, char *err, size_t errlen)
{
    (void)listen;
    *out = NULL;
    snprintf(err, errlen, "[metrics] needs a flowmixd built with libmicrohttpd");
    return FM_ECONFIG;
}

void fm_metrics_free(fm_metrics_t *m)
{
    (void)m;
}

void fm_metrics_publish(fm_metrics_t *m, char *text, size_t len)
{
    (void)m;
    (void)len;
    free(text);
}

uint16_t fm_metrics_port(const fm_metrics_t *m)
{
    (void)m;
    return 0;
}

uint64_t fm_metrics_scrapes(const fm_metrics_t *m)
{
    (void)m;
    return 0;
}

#endif
