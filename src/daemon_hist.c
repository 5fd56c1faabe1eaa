/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram deltas between daemons (issue 10).  Collector side: while a loaded plugin takes
 * deltas (kafka with histograms = yes), finished flows also go into a publish delta per window,
 * and every commit interval, on flush and at shutdown each non-empty one is encoded
 * (histdelta.h, in the thread pool) and queued to the plugins.  These are separate from the store's commit deltas
 * on purpose: a failed commit merges its deltas back to retry them, which would publish the
 * same flows twice.  Aggregator side ([input.kafka], kafka_in.c): each new delta is added to
 * the total, to the current window if it is the delta's window, and to the store's pending
 * deltas of its window, exactly as local flows are; Kafka offsets are committed only after
 * the store commit that holds them succeeded.
 */
#include "config.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "daemon_int.h"
#include "histdelta.h"
#ifdef HAVE_RDKAFKA
#include "kafka_in.h"
#endif
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

/* ---- collector: publishing ---- */

void fm__daemon_pub_add(fm_daemon_t *d, const fm_flow_t *flows, size_t n, uint64_t start_ms)
{
    fm__pub_win_t **pp = &d->pub_wins;
    for (; *pp && (*pp)->start_ms != start_ms; pp = &(*pp)->next) {
    }
    if (!*pp) {
        fm__pub_win_t *w = fm_xcalloc(1, sizeof(*w));
        w->start_ms = start_ms;
        w->end_ms = start_ms + d->cfg->window_ms;
        if (fm_histset_new((unsigned)d->cfg->bin_exp, &w->delta) < 0) {
            abort(); /* a few KiB: fatal like any fm_x* allocation */
        }
        *pp = w;
    }
    fm_histset_add_flows((*pp)->delta, flows, n);
}

static bool set_empty(const fm_histset_t *s)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int dir = 0; dir < FM_DIR_COUNT; dir++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                if (fm_hist_count(fm_histset_cget(s, c, dir, m))) {
                    return false;
                }
            }
        }
    }
    return true;
}

/* Encoding a busy window's delta takes from milliseconds to a second or more (bench numbers in
 * doc/guide.md), so it runs in the thread pool on windows the loop has handed over. */
typedef struct {
    uv_work_t req;
    fm_daemon_t *d;
    fm__pub_win_t *wins;       /* owned by the job */
    fm_histdelta_meta_t meta;  /* collector, run, bin_exp; seq of the first window */
    bool flush;                /* flush the plugins once the deltas are queued */
    struct {
        char *text;
        size_t len;
        int rc;
    } *out;
    size_t n;
} pub_job_t;

static void publish_work(uv_work_t *req)
{
    pub_job_t *j = req->data;
    size_t i = 0;
    for (fm__pub_win_t *w = j->wins; w; w = w->next, i++) {
        fm_histdelta_meta_t m = j->meta;
        m.seq = j->meta.seq + i;
        m.window_start_ms = w->start_ms;
        m.window_end_ms = w->end_ms;
        j->out[i].rc = fm_histdelta_encode(&m, w->delta, &j->out[i].text, &j->out[i].len);
    }
}

static void publish_after(uv_work_t *req, int status)
{
    pub_job_t *j = req->data;
    fm_daemon_t *d = j->d;
    size_t i = 0;
    for (fm__pub_win_t *w = j->wins, *next; w; w = next, i++) {
        next = w->next;
        if (status == 0 && j->out[i].rc == 0) {
            fm_plugins_hist(d->plugins, j->out[i].text, j->out[i].len, w->start_ms);
            d->pub_deltas++;
            d->pub_bytes += j->out[i].len;
            d->pub_last_bytes = j->out[i].len;
        } else {
            /* its seq stays unused: aggregators only see a gap */
            d->pub_failures++;
            fm_log_err("hist, cannot encode the delta of window %" PRIu64 ": %s; not published",
                       w->start_ms, fm_strerror(status ? status : j->out[i].rc));
        }
        free(j->out[i].text);
        fm_histset_free(w->delta);
        free(w);
    }
    if (j->flush) {
        fm_plugins_flush(d->plugins);
    }
    free(j->out);
    free(j);
}

void fm__daemon_publish(fm_daemon_t *d, bool flush)
{
    pub_job_t *j;
    fm__pub_win_t *keep = NULL, **tail = &keep;
    size_t n = 0;

    /* Take the non-empty windows; each gets the next sequence number, in order. */
    while (d->pub_wins) {
        fm__pub_win_t *w = d->pub_wins;
        d->pub_wins = w->next;
        w->next = NULL;
        if (set_empty(w->delta)) {
            fm_histset_free(w->delta);
            free(w);
        } else {
            *tail = w;
            tail = &w->next;
            n++;
        }
    }
    if (!n) {
        if (flush) {
            fm_plugins_flush(d->plugins);
        }
        return;
    }
    j = fm_xcalloc(1, sizeof(*j));
    j->req.data = j;
    j->d = d;
    j->wins = keep;
    j->flush = flush;
    j->n = n;
    j->out = fm_xcalloc(n, sizeof(*j->out));
    j->meta.run = d->start_ms;
    j->meta.seq = d->pub_seq + 1;
    j->meta.bin_exp = (unsigned)d->cfg->bin_exp;
    snprintf(j->meta.collector, sizeof(j->meta.collector), "%s", d->cfg->collector_id);
    d->pub_seq += n;
    uv_queue_work(&d->loop, &j->req, publish_work, publish_after);
}

void fm__daemon_pub_fini(fm_daemon_t *d)
{
    while (d->pub_wins) {
        fm__pub_win_t *w = d->pub_wins;
        d->pub_wins = w->next;
        fm_histset_free(w->delta);
        free(w);
    }
}

json_t *fm__daemon_pub_json(fm_daemon_t *d)
{
    return json_pack("{ss sb sI sI sI sI sI sI}", "collector_id", d->cfg->collector_id,
                     "active", fm_plugins_want_hist(d->plugins), "run", (json_int_t)d->start_ms,
                     "seq", (json_int_t)d->pub_seq, "deltas", (json_int_t)d->pub_deltas,
                     "bytes", (json_int_t)d->pub_bytes, "last_bytes",
                     (json_int_t)d->pub_last_bytes, "failures", (json_int_t)d->pub_failures);
}

/* ---- aggregator: applying ---- */

#ifdef HAVE_RDKAFKA
static int apply_delta(void *ctx, const fm_histdelta_meta_t *m, const fm_histset_t *delta,
                       char *err, size_t errlen)
{
    fm_daemon_t *d = ctx;
    uint64_t cur_start;
    fm_histset_t *cur;

    /* Windows of another length would overlap ours in the store. */
    if (m->window_end_ms - m->window_start_ms != d->cfg->window_ms) {
        snprintf(err, errlen, "collector %s uses %" PRIu64 " ms windows, this daemon %" PRIu64,
                 m->collector, m->window_end_ms - m->window_start_ms, d->cfg->window_ms);
        return FM_EINVAL;
    }
    fm_histwin_tick(d->hw, fm_time_wall_ms()); /* the delta may be of a window just begun */
    cur = fm_histwin_current(d->hw, &cur_start);
    if (fm_histset_merge(fm_histwin_total(d->hw), delta) < 0 ||
        (cur_start == m->window_start_ms && fm_histset_merge(cur, delta) < 0) ||
        fm_histset_merge(fm__daemon_win_delta(d, m->window_start_ms), delta) < 0) {
        snprintf(err, errlen, "cannot merge (bin_exp)"); /* checked before: not reached */
        return FM_EINVAL;
    }
    return 0;
}
#endif

int fm__daemon_kafka_in_open(fm_daemon_t *d, char *err, size_t errlen)
{
    if (!d->cfg->kafka_in.enabled) {
        return 0;
    }
#ifdef HAVE_RDKAFKA
    int rc = fm_kafka_in_new(&d->loop, &d->cfg->kafka_in, (unsigned)d->cfg->bin_exp,
                             apply_delta, d, &d->kin, err, errlen);
    if (rc == 0 && (rc = fm_kafka_in_start(d->kin)) < 0) {
        snprintf(err, errlen, "[input.kafka] cannot start polling: %s", fm_strerror(rc));
    }
    if (rc == 0) {
        fm_log_notice("kafka_in, consuming histogram deltas from %s, group %s",
                      d->cfg->kafka_in.topic, d->cfg->kafka_in.group);
    }
    return rc;
#else
    snprintf(err, errlen, "[input.kafka]: this flowmixd was built without librdkafka");
    return FM_ECONFIG;
#endif
}

void fm__daemon_kafka_in_stop(fm_daemon_t *d)
{
#ifdef HAVE_RDKAFKA
    if (d->kin) {
        fm_kafka_in_stop(d->kin, NULL, NULL); /* its timer closes with the other handles */
    }
#endif
}

void fm__daemon_kafka_in_free(fm_daemon_t *d)
{
#ifdef HAVE_RDKAFKA
    fm_kafka_in_free(d->kin);
    d->kin = NULL;
#endif
}

void *fm__daemon_kafka_mark(fm_daemon_t *d)
{
#ifdef HAVE_RDKAFKA
    return d->kin ? fm_kafka_in_mark(d->kin) : NULL;
#else
    return NULL;
#endif
}

void fm__daemon_kafka_commit(fm_daemon_t *d, void *mark, bool ok)
{
#ifdef HAVE_RDKAFKA
    if (ok && d->kin) {
        fm_kafka_in_commit(d->kin, mark, d->stopping); /* at shutdown, before the consumer goes */
    } else {
        fm_kafka_in_mark_free(mark);
    }
#endif
}

json_t *fm__daemon_kafka_in_json(fm_daemon_t *d)
{
#ifdef HAVE_RDKAFKA
    if (d->kin) {
        return fm_kafka_in_stats_json(d->kin);
    }
#endif
    return json_null();
}
