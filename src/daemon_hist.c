/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram deltas between daemons (issue 10).  Collector side: while a loaded plugin takes
 * deltas (kafka with histograms = yes), the histograms keep a publish delta per window
 * (fm_histagg_pub, merged per bin from the flows' pending deltas), and every commit interval,
 * on flush and at shutdown each non-empty one is encoded into parts that fit the plugins'
 * message limit (histdelta.h, in the thread pool) and queued to the plugins.  These are
 * separate from the store's commit deltas on purpose: a failed commit merges its deltas back
 * to retry them, which would publish the same flows twice.  Aggregator side ([input.kafka], kafka_in.c): each new part is added to
 * the total, to the current window if it is the part's window, and to the store's pending
 * deltas of its window, exactly as local flows are; the high-water marks it advanced are
 * written in the store transaction of that window (exactly once, issue 21), and Kafka offsets
 * are committed only after the store commit that holds them succeeded.
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
#include "windelta.h"
#include "util/mem.h"
#include "util/time.h"

/* ---- collector: publishing ---- */

struct fm__histx {
    uint64_t seq, deltas, messages, bytes, last_bytes, failures;
#ifdef HAVE_RDKAFKA
    fm_kafka_in_t *kin;        /* [input.kafka] consumer, NULL when not configured */
#endif
};

static int kafka_in_open(fm_daemon_t *d, fm_store_t *store, char *err, size_t errlen);

int fm__histx_new(fm_daemon_t *d, fm_store_t *store, char *err, size_t errlen)
{
    d->hx = fm_xcalloc(1, sizeof(*d->hx));
    return kafka_in_open(d, store, err, errlen);
}

/* Encoding a busy window's delta takes milliseconds to a second (bench/kafka), so it runs in
 * the thread pool on windows the loop has handed over; each delta becomes parts that fit the
 * plugins' message limit (histdelta.h). */
typedef struct {
    uv_work_t req;
    fm_daemon_t *d;
    fm_windelta_win_t *wins;   /* owned by the job */
    fm_histdelta_meta_t meta;  /* collector, run, bin_exp; seq of the first window */
    fm_histdelta_enc_t enc;
    size_t max_bytes;          /* 0: no limit */
    bool flush;                /* flush the plugins once the deltas are queued */
    struct {
        fm_histdelta_part_t *parts;
        size_t nparts;
        int rc;
    } *out;
    size_t n;
} pub_job_t;

static void publish_work(uv_work_t *req)
{
    pub_job_t *j = req->data;
    size_t i = 0;
    for (fm_windelta_win_t *w = j->wins; w; w = w->next, i++) {
        fm_histdelta_meta_t m = j->meta;
        m.seq = j->meta.seq + i;
        m.window_start_ms = w->start_ms;
        m.window_end_ms = w->end_ms;
        j->out[i].rc = fm_histdelta_encode_parts(&m, w->delta, j->enc, j->max_bytes,
                                                 &j->out[i].parts, &j->out[i].nparts);
    }
}

static void publish_after(uv_work_t *req, int status)
{
    pub_job_t *j = req->data;
    fm_daemon_t *d = j->d;
    fm__histx_t *hx = d->hx;
    size_t i = 0;
    for (fm_windelta_win_t *w = j->wins; w; w = w->next, i++) {
        if (status == 0 && j->out[i].rc == 0) {
            for (size_t k = 0; k < j->out[i].nparts; k++) {
                const fm_histdelta_part_t *p = &j->out[i].parts[k];
                fm_plugins_hist(d->plugins, p->data, p->len, w->start_ms);
                hx->messages++;
                hx->bytes += p->len;
                hx->last_bytes = p->len;
            }
            hx->deltas++;
        } else {
            /* its seq stays unused: aggregators only see a gap */
            hx->failures++;
            fm_log_err("hist, cannot encode the delta of window %" PRIu64 ": %s; not published",
                       w->start_ms, fm_strerror(status ? status : j->out[i].rc));
        }
        fm_histdelta_parts_free(j->out[i].parts, j->out[i].nparts);
    }
    if (j->flush) {
        fm_plugins_flush(d->plugins);
    }
    fm_windelta_list_free(j->wins);
    free(j->out);
    free(j);
}

void fm__histx_publish(fm_daemon_t *d, bool flush)
{
    fm__histx_t *hx = d->hx;
    pub_job_t *j;
    fm_windelta_t *pub = hx && d->hist ? fm_histagg_pub(d->hist) : NULL;
    fm_windelta_win_t *wins = NULL;
    size_t n;
    int rc;

    if (pub) {
        fm_histagg_sync(d->hist);
        wins = fm_windelta_take(pub);
    }
    n = fm_windelta_list_len(wins);

    if (!n) {
        if (flush) {
            fm_plugins_flush(d->plugins);
        }
        return;
    }
    /* Each non-empty window gets the next sequence number, in order. */
    j = fm_xcalloc(1, sizeof(*j));
    j->req.data = j;
    j->d = d;
    j->wins = wins;
    j->flush = flush;
    j->n = n;
    j->out = fm_xcalloc(n, sizeof(*j->out));
    j->meta.run = d->n.start_ms;
    j->meta.seq = hx->seq + 1;
    j->meta.bin_exp = (unsigned)d->cfg->bin_exp;
    uint64_t max_bytes;
    bool json;
    fm_plugins_hist_params(d->plugins, &max_bytes, &json);
    j->enc = json ? FM_HISTDELTA_JSON : FM_HISTDELTA_BINARY;
    j->max_bytes = (size_t)max_bytes;
    snprintf(j->meta.collector, sizeof(j->meta.collector), "%s", d->cfg->collector_id);
    hx->seq += n;
    if ((rc = uv_queue_work(&d->loop, &j->req, publish_work, publish_after)) < 0) {
        /* Encode on the loop instead: slower for this once, but nothing is lost. */
        fm_log_warn("hist, cannot queue delta encoding (%s); encoding on the loop",
                    uv_strerror(rc));
        publish_work(&j->req);
        publish_after(&j->req, 0);
    }
}

json_t *fm__histx_pub_json(fm_daemon_t *d)
{
    fm__histx_t *hx = d->hx;
    return json_pack("{ss sb sI sI sI sI sI sI sI}", "collector_id", d->cfg->collector_id,
                     "active", fm_plugins_want_hist(d->plugins), "run", (json_int_t)d->n.start_ms,
                     "seq", (json_int_t)hx->seq, "deltas", (json_int_t)hx->deltas, "messages",
                     (json_int_t)hx->messages, "bytes", (json_int_t)hx->bytes, "last_bytes",
                     (json_int_t)hx->last_bytes, "failures", (json_int_t)hx->failures);
}

/* ---- aggregator: applying ---- */

#ifdef HAVE_RDKAFKA
/* Windows of another length would overlap ours in the store. */
static int check_part(void *ctx, const fm_histdelta_meta_t *m, char *err, size_t errlen)
{
    fm_daemon_t *d = ctx;
    if (m->window_end_ms - m->window_start_ms != d->cfg->window_ms) {
        snprintf(err, errlen, "collector %s uses %" PRIu64 " ms windows, this daemon %" PRIu64,
                 m->collector, m->window_end_ms - m->window_start_ms, d->cfg->window_ms);
        return FM_EINVAL;
    }
    return 0;
}

/* One slice of a part: to the total, to the current window if it is the part's window, and to
 * the store's pending delta of its window, exactly as local flows are. */
static void add_bins(void *ctx, const fm_histdelta_meta_t *m, const fm_histdelta_bin_t *bins,
                     size_t n)
{
    fm_daemon_t *d = ctx;
    uint64_t cur_start;
    fm_histagg_tick(d->hist, fm_time_wall_ms()); /* the part may be of a window just begun */
    fm_histset_t *cur = fm_histagg_current(d->hist, &cur_start);
    fm_histset_t *tot = fm_histagg_total(d->hist);
    fm_histset_t *pend = fm_windelta_get(fm_histagg_store(d->hist), m->window_start_ms);
    bool in_cur = cur_start == m->window_start_ms;

    for (size_t i = 0; i < n; i++) {
        fm_class_t c;
        fm_dir_t dir;
        fm_metric_t met;
        fm_histdelta_hist_split(bins[i].hist, &c, &dir, &met);
        /* bins were checked against bin_exp: fm_hist_add_bin cannot fail */
        fm_hist_add_bin(fm_histset_get(tot, c, dir, met), &bins[i].bin);
        fm_hist_add_bin(fm_histset_get(pend, c, dir, met), &bins[i].bin);
        if (in_cur) {
            fm_hist_add_bin(fm_histset_get(cur, c, dir, met), &bins[i].bin);
        }
    }
}
#endif

static int kafka_in_open(fm_daemon_t *d, fm_store_t *store, char *err, size_t errlen)
{
    if (!d->cfg->kafka_in.enabled) {
        return 0;
    }
#ifdef HAVE_RDKAFKA
    static const fm_kafka_in_ops_t ops = {check_part, add_bins};
    fm_store_mark_t *marks = NULL;
    size_t nmarks = 0;
    int rc = fm_store_load_marks(store, &marks, &nmarks);
    if (rc < 0) {
        snprintf(err, errlen, "[input.kafka] cannot read the high-water marks from %s: %s",
                 d->cfg->store_path, fm_store_errmsg(store));
        return rc;
    }
    rc = fm_kafka_in_new(&d->loop, &d->cfg->kafka_in, (unsigned)d->cfg->bin_exp, &ops, d, marks,
                         nmarks, &d->hx->kin, err, errlen);
    free(marks);
    if (rc == 0 && (rc = fm_kafka_in_start(d->hx->kin)) < 0) {
        snprintf(err, errlen, "[input.kafka] cannot start polling: %s", fm_strerror(rc));
    }
    if (rc == 0) {
        fm_log_notice("kafka_in, consuming histogram deltas from %s, group %s (%zu high-water "
                      "marks from the store)", d->cfg->kafka_in.topic, d->cfg->kafka_in.group,
                      nmarks);
    }
    return rc;
#else
    (void)store;
    snprintf(err, errlen, "[input.kafka]: this flowmixd was built without librdkafka");
    return FM_ECONFIG;
#endif
}

void fm__histx_stop(fm_daemon_t *d)
{
#ifdef HAVE_RDKAFKA
    if (d->hx && d->hx->kin) {
        fm_kafka_in_stop(d->hx->kin, NULL, NULL); /* its timer closes with the other handles */
    }
#else
    (void)d;
#endif
}

void fm__histx_free(fm_daemon_t *d)
{
    if (!d->hx) {
        return;
    }
#ifdef HAVE_RDKAFKA
    fm_kafka_in_free(d->hx->kin); /* after the last commit job, which commits its offsets */
#endif
    free(d->hx);
    d->hx = NULL;
}

void *fm__histx_mark(fm_daemon_t *d)
{
#ifdef HAVE_RDKAFKA
    return d->hx && d->hx->kin ? fm_kafka_in_mark(d->hx->kin) : NULL;
#else
    (void)d;
    return NULL;
#endif
}

void fm__histx_confirm(fm_daemon_t *d, void *mark, bool ok, bool final)
{
#ifdef HAVE_RDKAFKA
    if (ok && d->hx && d->hx->kin) {
        fm_kafka_in_commit(d->hx->kin, mark, final); /* at shutdown, before the consumer goes */
    } else {
        fm_kafka_in_mark_free(mark);
    }
#else
    (void)d, (void)mark, (void)ok, (void)final;
#endif
}

bool fm__histx_kafka_busy(fm_daemon_t *d)
{
#ifdef HAVE_RDKAFKA
    return d->hx && d->hx->kin && fm_kafka_in_busy(d->hx->kin);
#else
    (void)d;
    return false;
#endif
}

size_t fm__histx_kafka_dirty(fm_daemon_t *d, fm_store_mark_t **out)
{
    *out = NULL;
#ifdef HAVE_RDKAFKA
    if (!d->hx || !d->hx->kin) {
        return 0;
    }
    size_t n = fm_kafka_in_dirty(d->hx->kin, out);
    for (size_t i = 0; i < n; i++) { /* each mark is written with its window's transaction */
        fm_windelta_keep(fm_histagg_store(d->hist), (*out)[i].window_start_ms);
    }
    return n;
#else
    (void)d;
    return 0;
#endif
}

void fm__histx_kafka_durable(fm_daemon_t *d, const fm_store_mark_t *marks, size_t n)
{
#ifdef HAVE_RDKAFKA
    if (d->hx && d->hx->kin) {
        fm_kafka_in_durable(d->hx->kin, marks, n);
    }
#else
    (void)d, (void)marks, (void)n;
#endif
}

void fm__histx_kafka_status(fm_daemon_t *d, json_t *result)
{
#ifdef HAVE_RDKAFKA
    if (d->hx && d->hx->kin) {
        json_t *k = fm_kafka_in_stats_json(d->hx->kin);
        /* top level, so `flowmixctl status` prints it as a table, one line per collector */
        json_object_set(result, "kafka_collectors", json_object_get(k, "collectors"));
        json_object_del(k, "collectors");
        json_object_set_new(result, "kafka_in", k);
        return;
    }
#else
    (void)d;
#endif
    json_object_set_new(result, "kafka_in", json_null());
}
