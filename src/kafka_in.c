/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [input.kafka] consumer: one message at a time goes poll → decode (thread pool) → dedupe →
 * add in slices (idle handle) → done, then the next; see kafka_in.h for why and for the
 * exactly-once argument.  All state is owned by the loop thread except the decode job's message
 * and output, which the loop does not touch while the job runs.
 *
 * Memory is bounded against hostile input: at most MAX_MARKS high-water marks (the oldest
 * windows are forgotten first) and MAX_COLLECTORS status rows (least recently heard first);
 * a message is at most FM_HISTDELTA_MAX_BYTES (histdelta refuses more).
 */
#include "config.h"

#include "kafka_in.h"

#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "log.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define POLL_MS 100
#define SLICE_NS 1000000ull  /* time one slice of adding bins may take on the loop */
#define SLICE_CHECK 256      /* bins between clock reads */
#define MAX_MARKS 65536      /* (collector, run, window) high-water marks kept */
#define MAX_COLLECTORS 1024  /* per-collector status rows kept */
#define MAX_PARTITIONS 4096

typedef struct {
    fm_store_mark_t m;
    bool dirty;              /* changed since last stored */
} mark_t;

typedef struct {
    char collector[FM_HISTDELTA_ID_MAX + 1];
    uint64_t run, seq, window_start_ms, last_ms;
    uint32_t part, parts;
    uint64_t applied, duplicates, rejected;
} coll_t;

typedef struct {
    int32_t partition;
    int64_t next;            /* offset after the last completely handled message */
} pos_t;

typedef enum { IDLE, DECODING, ADDING } phase_t;

struct fm_kafka_in {
    uv_loop_t *loop;
    uv_timer_t timer;
    uv_idle_t idle;
    uv_work_t work;
    rd_kafka_t *rk;
    unsigned bin_exp;
    fm_kafka_in_ops_t ops;
    void *ctx;
    void (*stop_cb)(void *);
    void *stop_arg;
    int open_handles;
    bool stopping;
    char topic[256];

    /* the message in hand */
    phase_t phase;
    rd_kafka_message_t *msg;
    int dec_rc;
    char dec_err[FM_HISTDELTA_ID_MAX + 256];
    fm_histdelta_meta_t meta;
    fm_histdelta_bins_t bins;
    size_t pos;
    mark_t *target;          /* the mark this part advances once added */

    mark_t *marks;
    size_t nmarks;
    coll_t *coll;
    size_t ncoll;
    pos_t pos_tab[MAX_PARTITIONS];
    size_t npos;

    uint64_t messages, applied, duplicates, rejected, errors, commits, commit_failures;
    uint64_t bins_added, slices, max_slice_ns;
    char last_error[256];
    fm_ratelimit_t rl_reject, rl_error;

    char kill_step[16];      /* test hook */
    long kill_n;
};

static void next_message(fm_kafka_in_t *k);

/* ---- test hook ---- */

static void hook(fm_kafka_in_t *k, const char *step)
{
    if (k->kill_n > 0 && !strcmp(k->kill_step, step) && --k->kill_n == 0) {
        fm_log_notice("kafka_in, test hook: SIGKILL at %s", step);
        raise(SIGKILL);
    }
}

static void hook_init(fm_kafka_in_t *k)
{
    const char *v = getenv("FM_TEST_KAFKA_KILL");
    const char *colon = v ? strchr(v, ':') : NULL;
    if (colon && (size_t)(colon - v) < sizeof(k->kill_step)) {
        memcpy(k->kill_step, v, (size_t)(colon - v));
        k->kill_step[colon - v] = '\0';
        k->kill_n = strtol(colon + 1, NULL, 10);
    }
}

/* ---- high-water marks ---- */

static int cmp_pos(uint64_t seq_a, uint32_t part_a, uint64_t seq_b, uint32_t part_b)
{
    if (seq_a != seq_b) {
        return seq_a < seq_b ? -1 : 1;
    }
    return part_a < part_b ? -1 : part_a > part_b;
}

static mark_t *find_mark(fm_kafka_in_t *k, const char *collector, uint64_t run, uint64_t win)
{
    for (size_t i = 0; i < k->nmarks; i++) {
        const fm_store_mark_t *m = &k->marks[i].m;
        if (m->window_start_ms == win && m->run == run && !strcmp(m->collector, collector)) {
            return &k->marks[i];
        }
    }
    return NULL;
}

/* A new mark at (seq, part) = "nothing applied yet" below the first part (0, 0) can be. */
static mark_t *add_mark(fm_kafka_in_t *k, const char *collector, uint64_t run, uint64_t win)
{
    if (k->nmarks == MAX_MARKS) { /* forget the oldest window that is stored */
        size_t old = SIZE_MAX;
        for (size_t i = 0; i < k->nmarks; i++) {
            if (!k->marks[i].dirty &&
                (old == SIZE_MAX ||
                 k->marks[i].m.window_start_ms < k->marks[old].m.window_start_ms)) {
                old = i;
            }
        }
        if (old == SIZE_MAX) {
            return NULL; /* all unstored: the caller waits for the next commit */
        }
        k->marks[old] = k->marks[--k->nmarks];
    }
    k->marks = fm_xreallocarray(k->marks, k->nmarks + 1, sizeof(*k->marks));
    mark_t *m = &k->marks[k->nmarks++];
    memset(m, 0, sizeof(*m));
    snprintf(m->m.collector, sizeof(m->m.collector), "%s", collector);
    m->m.run = run;
    m->m.window_start_ms = win;
    return m;
}

static bool applied_before(const mark_t *m, const fm_histdelta_meta_t *meta)
{
    /* seq starts at 1, so a fresh mark (0, 0) is below every part */
    return m && cmp_pos(meta->seq, meta->part, m->m.seq, m->m.part) <= 0;
}

size_t fm_kafka_in_dirty(fm_kafka_in_t *k, fm_store_mark_t **out)
{
    size_t n = 0;
    *out = NULL;
    for (size_t i = 0; k && i < k->nmarks; i++) {
        if (k->marks[i].dirty) {
            *out = fm_xreallocarray(*out, n + 1, sizeof(**out));
            (*out)[n++] = k->marks[i].m;
        }
    }
    return n;
}

void fm_kafka_in_durable(fm_kafka_in_t *k, const fm_store_mark_t *marks, size_t n)
{
    if (!k) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        mark_t *m = find_mark(k, marks[i].collector, marks[i].run, marks[i].window_start_ms);
        if (m && m->m.seq == marks[i].seq && m->m.part == marks[i].part) {
            m->dirty = false;
        }
    }
    if (n) {
        hook(k, "stored");
    }
}

/* ---- per-collector status ---- */

static coll_t *find_coll(fm_kafka_in_t *k, const char *collector)
{
    size_t old = 0;
    for (size_t i = 0; i < k->ncoll; i++) {
        if (!strcmp(k->coll[i].collector, collector)) {
            return &k->coll[i];
        }
        if (k->coll[i].last_ms < k->coll[old].last_ms) {
            old = i;
        }
    }
    if (k->ncoll == MAX_COLLECTORS) {
        k->coll[old] = k->coll[--k->ncoll];
    }
    k->coll = fm_xreallocarray(k->coll, k->ncoll + 1, sizeof(*k->coll));
    coll_t *c = &k->coll[k->ncoll++];
    memset(c, 0, sizeof(*c));
    snprintf(c->collector, sizeof(c->collector), "%s", collector);
    return c;
}

/* ---- offsets ---- */

static void handled(fm_kafka_in_t *k, int32_t partition, int64_t offset)
{
    for (size_t i = 0; i < k->npos; i++) {
        if (k->pos_tab[i].partition == partition) {
            k->pos_tab[i].next = offset + 1;
            return;
        }
    }
    if (k->npos < MAX_PARTITIONS) {
        k->pos_tab[k->npos++] = (pos_t){partition, offset + 1};
    }
}

/* ---- one message ---- */

static void reject(fm_kafka_in_t *k, const char *why)
{
    k->rejected++;
    if (k->meta.collector[0]) {
        find_coll(k, k->meta.collector)->rejected++;
    }
    fm_log_rl(&k->rl_reject, LOG_WARNING, "kafka_in, %s [%" PRId32 "] offset %" PRId64
              ": delta rejected: %s", k->topic, k->msg->partition, k->msg->offset, why);
}

/* The message is completely handled (applied, dropped or rejected): move on. */
static void done(fm_kafka_in_t *k)
{
    handled(k, k->msg->partition, k->msg->offset);
    rd_kafka_message_destroy(k->msg);
    k->msg = NULL;
    k->phase = IDLE;
    k->target = NULL;
    if (!k->stopping) {
        next_message(k);
    }
}

static void decode_work(uv_work_t *req)
{
    fm_kafka_in_t *k = req->data;
    k->dec_rc = fm_histdelta_decode_bins(k->msg->payload, k->msg->len, &k->meta, &k->bins,
                                         k->dec_err, sizeof(k->dec_err));
}

static void add_slice(fm_kafka_in_t *k)
{
    uint64_t t0 = fm_time_mono_ns(), dt;
    while (k->pos < k->bins.n) {
        size_t n = k->bins.n - k->pos < SLICE_CHECK ? k->bins.n - k->pos : SLICE_CHECK;
        k->ops.add(k->ctx, &k->meta, &k->bins.v[k->pos], n);
        k->pos += n;
        k->bins_added += n;
        if (!k->stopping && fm_time_mono_ns() - t0 >= SLICE_NS) {
            break;
        }
    }
    dt = fm_time_mono_ns() - t0;
    k->slices++;
    k->max_slice_ns = dt > k->max_slice_ns ? dt : k->max_slice_ns;
}

static void finish_part(fm_kafka_in_t *k)
{
    coll_t *c = find_coll(k, k->meta.collector);
    k->target->m.seq = k->meta.seq;
    k->target->m.part = k->meta.part;
    k->target->dirty = true;
    k->applied++;
    c->run = k->meta.run;
    c->seq = k->meta.seq;
    c->part = k->meta.part;
    c->parts = k->meta.parts;
    c->window_start_ms = k->meta.window_start_ms;
    c->last_ms = fm_time_wall_ms();
    c->applied++;
    hook(k, "applied");
    done(k);
}

static void on_idle(uv_idle_t *h)
{
    fm_kafka_in_t *k = h->data;
    add_slice(k);
    if (k->pos == k->bins.n) {
        (void)uv_idle_stop(&k->idle); /* libuv: always 0 */
        finish_part(k);
    }
}

/* Decoded: decide, then add in slices (the first right away). */
static void decode_after(uv_work_t *req, int status)
{
    fm_kafka_in_t *k = req->data;
    mark_t *m;
    char err[FM_HISTDELTA_ID_MAX + 256];

    if (k->stopping) { /* not applied: read again after a restart */
        rd_kafka_message_destroy(k->msg);
        k->msg = NULL;
        k->phase = IDLE;
        return;
    }
    if (status < 0 || k->dec_rc < 0) {
        reject(k, status < 0 ? "decoding cancelled" : k->dec_err);
        done(k);
        return;
    }
    m = find_mark(k, k->meta.collector, k->meta.run, k->meta.window_start_ms);
    if (applied_before(m, &k->meta)) {
        k->duplicates++;
        find_coll(k, k->meta.collector)->duplicates++;
        done(k);
        return;
    }
    if (k->meta.bin_exp != k->bin_exp) {
        snprintf(err, sizeof(err), "collector %s uses bin_exp %u, this daemon %u",
                 k->meta.collector, k->meta.bin_exp, k->bin_exp);
        reject(k, err);
        done(k);
        return;
    }
    if (k->ops.check(k->ctx, &k->meta, err, sizeof(err)) < 0) {
        reject(k, err);
        done(k);
        return;
    }
    if (!m && !(m = add_mark(k, k->meta.collector, k->meta.run, k->meta.window_start_ms))) {
        /* MAX_MARKS windows, all unstored, between two commits: only hostile input does that */
        reject(k, "too many (collector, run, window) marks awaiting a store commit");
        done(k);
        return;
    }
    k->target = m;
    k->pos = 0;
    k->phase = ADDING;
    on_idle(&k->idle);
    if (k->phase == ADDING && uv_idle_start(&k->idle, on_idle) < 0) {
        while (k->phase == ADDING) { /* cannot slice: add the rest now rather than never */
            on_idle(&k->idle);
        }
    }
}

static void consumer_error(fm_kafka_in_t *k, rd_kafka_resp_err_t e)
{
    k->errors++;
    snprintf(k->last_error, sizeof(k->last_error), "%s", rd_kafka_err2str(e));
    fm_log_rl(&k->rl_error, LOG_WARNING, "kafka_in, consumer: %s", k->last_error);
}

/* Take the next message if none is in hand (non-blocking). */
static void next_message(fm_kafka_in_t *k)
{
    while (k->phase == IDLE && !k->stopping) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(k->rk, 0);
        if (!msg) {
            return;
        }
        if (msg->err) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                consumer_error(k, msg->err);
            }
            rd_kafka_message_destroy(msg);
            continue;
        }
        k->messages++;
        k->msg = msg;
        k->phase = DECODING;
        hook(k, "received");
        if (uv_queue_work(k->loop, &k->work, decode_work, decode_after) < 0) {
            k->dec_rc = FM_EIO;
            snprintf(k->dec_err, sizeof(k->dec_err), "cannot queue the decoding");
            decode_after(&k->work, 0);
        }
    }
}

static void on_poll(uv_timer_t *t)
{
    next_message(t->data);
}

/* Served from rd_kafka_consumer_poll, i.e. on the loop thread. */
static void on_commit(rd_kafka_t *rk, rd_kafka_resp_err_t e,
                      rd_kafka_topic_partition_list_t *offsets, void *opaque)
{
    fm_kafka_in_t *k = opaque;
    if (e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR__NO_OFFSET) {
        k->commits++;
    } else {
        k->commit_failures++;
        consumer_error(k, e);
    }
}

/* ---- lifecycle ---- */

static int set_prop(rd_kafka_conf_t *conf, const char *key, const char *v, char *err,
                    size_t errlen)
{
    char kerr[256];
    if (rd_kafka_conf_set(conf, key, v, kerr, sizeof(kerr)) != RD_KAFKA_CONF_OK) {
        snprintf(err, errlen, "[input.kafka] %s = %s: %s", key, v, kerr);
        return FM_ECONFIG;
    }
    return 0;
}

static int make_conf(const fm_config_kafka_in_t *cfg, fm_kafka_in_t *k, rd_kafka_conf_t *conf,
                     char *err, size_t errlen)
{
    int rc = 0;
    /* Ours first, so rdkafka.* can override any of them. */
    if (cfg->brokers && *cfg->brokers) {
        rc = set_prop(conf, "bootstrap.servers", cfg->brokers, err, errlen);
    }
    if (rc == 0) {
        rc = set_prop(conf, "group.id", cfg->group, err, errlen);
    }
    if (rc == 0) {
        rc = set_prop(conf, "enable.auto.commit", "false", err, errlen); /* after SQLite */
    }
    if (rc == 0) {
        /* A new group starts at the oldest delta: collectors may publish before we join. */
        rc = set_prop(conf, "auto.offset.reset", "earliest", err, errlen);
    }
    if (rc == 0) {
        /* only committed producer transactions (none are used today: a safe default) */
        rc = set_prop(conf, "isolation.level", "read_committed", err, errlen);
    }
    for (size_t i = 0; i < cfg->nprops && rc == 0; i++) {
        rc = set_prop(conf, cfg->keys[i], cfg->values[i], err, errlen);
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    return rc;
}

static int subscribe(fm_kafka_in_t *k, const char *topic, char *err, size_t errlen)
{
    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(err, errlen, "[input.kafka] cannot subscribe to %s: %s", topic,
                 rd_kafka_err2str(e));
        return FM_EIO;
    }
    return 0;
}

static void seed_marks(fm_kafka_in_t *k, const fm_store_mark_t *marks, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        mark_t *m = find_mark(k, marks[i].collector, marks[i].run, marks[i].window_start_ms);
        if (!m && !(m = add_mark(k, marks[i].collector, marks[i].run,
                                 marks[i].window_start_ms))) {
            break;
        }
        if (cmp_pos(marks[i].seq, marks[i].part, m->m.seq, m->m.part) > 0) {
            m->m.seq = marks[i].seq;
            m->m.part = marks[i].part;
        }
    }
}

int fm_kafka_in_new(uv_loop_t *loop, const fm_config_kafka_in_t *cfg, unsigned bin_exp,
                    const fm_kafka_in_ops_t *ops, void *ctx, const fm_store_mark_t *marks,
                    size_t nmarks, fm_kafka_in_t **out, char *err, size_t errlen)
{
    fm_kafka_in_t *k = fm_xcalloc(1, sizeof(*k));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    char kerr[512];
    int rc;

    *out = NULL;
    k->loop = loop;
    k->bin_exp = bin_exp;
    k->ops = *ops;
    k->ctx = ctx;
    snprintf(k->topic, sizeof(k->topic), "%s", cfg->topic);
    fm_ratelimit_init(&k->rl_reject, 5, 60000);
    fm_ratelimit_init(&k->rl_error, 5, 60000);
    hook_init(k);
    if ((rc = make_conf(cfg, k, conf, err, errlen)) < 0) {
        rd_kafka_conf_destroy(conf);
        free(k);
        return rc;
    }
    k->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, kerr, sizeof(kerr)); /* takes conf */
    if (!k->rk) {
        snprintf(err, errlen, "[input.kafka] cannot create the consumer: %s", kerr);
        rd_kafka_conf_destroy(conf);
        free(k);
        return FM_EIO;
    }
    rd_kafka_poll_set_consumer(k->rk);
    if ((rc = subscribe(k, cfg->topic, err, errlen)) < 0) {
        rd_kafka_destroy(k->rk);
        free(k);
        return rc;
    }
    seed_marks(k, marks, nmarks);
    (void)uv_timer_init(loop, &k->timer); /* libuv: both always 0 */
    (void)uv_idle_init(loop, &k->idle);
    k->timer.data = k->idle.data = k->work.data = k;
    *out = k;
    return 0;
}

int fm_kafka_in_start(fm_kafka_in_t *k)
{
    return uv_timer_start(&k->timer, on_poll, POLL_MS, POLL_MS);
}

static void on_closed(uv_handle_t *h)
{
    fm_kafka_in_t *k = h->data;
    if (--k->open_handles == 0 && k->stop_cb) {
        k->stop_cb(k->stop_arg);
    }
}

void fm_kafka_in_stop(fm_kafka_in_t *k, void (*cb)(void *arg), void *arg)
{
    k->stop_cb = cb;
    k->stop_arg = arg;
    k->stopping = true;
    if (k->phase == ADDING) { /* bounded: one message's bins */
        add_slice(k);
        finish_part(k);
    }
    (void)uv_timer_stop(&k->timer); /* libuv: both always 0 */
    (void)uv_idle_stop(&k->idle);
    k->open_handles = 2;
    uv_close((uv_handle_t *)&k->timer, on_closed);
    uv_close((uv_handle_t *)&k->idle, on_closed);
}

void fm_kafka_in_free(fm_kafka_in_t *k)
{
    if (!k) {
        return;
    }
    if (k->msg) {
        rd_kafka_message_destroy(k->msg);
    }
    rd_kafka_consumer_close(k->rk); /* leaves the group: partitions move on at once */
    rd_kafka_destroy(k->rk);
    fm_histdelta_bins_free(&k->bins);
    free(k->marks);
    free(k->coll);
    free(k);
}

bool fm_kafka_in_busy(const fm_kafka_in_t *k)
{
    return k && k->phase == ADDING;
}

void *fm_kafka_in_mark(fm_kafka_in_t *k)
{
    rd_kafka_topic_partition_list_t *parts;
    if (!k || k->npos == 0) {
        return NULL;
    }
    parts = rd_kafka_topic_partition_list_new((int)k->npos);
    for (size_t i = 0; i < k->npos; i++) {
        rd_kafka_topic_partition_list_add(parts, k->topic, k->pos_tab[i].partition)->offset =
            k->pos_tab[i].next;
    }
    return parts;
}

void fm_kafka_in_commit(fm_kafka_in_t *k, void *mark, bool sync)
{
    rd_kafka_topic_partition_list_t *parts = mark;
    if (!k || !parts) {
        fm_kafka_in_mark_free(mark);
        return;
    }
    rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, parts, sync ? 0 : 1);
    if (sync) {
        on_commit(k->rk, e, parts, k);
    } else if (e) {
        k->commit_failures++;
        consumer_error(k, e);
    }
    rd_kafka_topic_partition_list_destroy(parts);
    hook(k, "committed");
}

void fm_kafka_in_mark_free(void *mark)
{
    if (mark) {
        rd_kafka_topic_partition_list_destroy(mark);
    }
}

static json_t *collectors_json(const fm_kafka_in_t *k)
{
    json_t *arr = json_array();
    uint64_t now = fm_time_wall_ms();
    for (size_t i = 0; i < k->ncoll; i++) {
        const coll_t *c = &k->coll[i];
        json_array_append_new(
            arr, json_pack("{ss sI sI sI sI sI sI sI sI sI}", "collector", c->collector, "run",
                           (json_int_t)c->run, "last_seq", (json_int_t)c->seq, "last_part",
                           (json_int_t)c->part, "parts", (json_int_t)c->parts,
                           "last_window_start_ms", (json_int_t)c->window_start_ms,
                           "age_ms", (json_int_t)(c->last_ms ? now - c->last_ms : 0),
                           "applied", (json_int_t)c->applied, "duplicates",
                           (json_int_t)c->duplicates, "rejected", (json_int_t)c->rejected));
    }
    return arr;
}

json_t *fm_kafka_in_stats_json(fm_kafka_in_t *k)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    int assigned = 0;
    size_t dirty = 0;
    if (!rd_kafka_assignment(k->rk, &parts) && parts) {
        assigned = parts->cnt;
        rd_kafka_topic_partition_list_destroy(parts);
    }
    for (size_t i = 0; i < k->nmarks; i++) {
        dirty += k->marks[i].dirty;
    }
    json_t *o = json_pack("{ss sI sI sI sI sI sI sI si sI sI sI sI sf ss}", "topic", k->topic,
                          "messages", (json_int_t)k->messages, "applied",
                          (json_int_t)k->applied, "duplicates", (json_int_t)k->duplicates,
                          "rejected", (json_int_t)k->rejected, "errors", (json_int_t)k->errors,
                          "commits", (json_int_t)k->commits, "commit_failures",
                          (json_int_t)k->commit_failures, "partitions", assigned, "sources",
                          (json_int_t)k->ncoll, "marks", (json_int_t)k->nmarks,
                          "marks_unstored", (json_int_t)dirty, "bins_added",
                          (json_int_t)k->bins_added, "max_slice_ms",
                          (double)k->max_slice_ns / 1e6, "last_error", k->last_error);
    json_object_set_new(o, "collectors", collectors_json(k));
    return o;
}
