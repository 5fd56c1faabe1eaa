/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * [input.kafka] consumer: polls librdkafka from a uv_timer with zero timeouts (the loop never
 * waits on Kafka), decodes each message with histdelta, drops duplicates and applies the rest
 * through the daemon's callback.
 *
 * Duplicate suppression: per (collector, run) the highest sequence number below which every
 * delta was seen ("low") plus a sorted list of those seen above it.  Kafka may redeliver
 * (producer retries, an aggregator restart re-reading uncommitted offsets) and may reorder
 * across producer retries, so a plain "highest seq" would drop late but new deltas.  The state
 * is in memory only; both lists are bounded so hostile input cannot grow them without limit.
 */
#include "config.h"

#include "kafka_in.h"

#include <inttypes.h>
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
#define MAX_PER_POLL 1000   /* messages per timer tick: bounds one tick's time on the loop */
#define POLL_BUDGET_NS 20000000ull /* ... and so does this (a big delta decodes for ms) */
#define MAX_SOURCES 4096    /* (collector, run) pairs remembered */
#define MAX_ABOVE 4096      /* seqs remembered above a source's contiguous prefix */

typedef struct source {
    char collector[FM_HISTDELTA_ID_MAX + 1];
    uint64_t run;
    uint64_t low;           /* every seq in 1..low was seen */
    uint64_t *above;        /* sorted seqs > low + 1 that were seen */
    size_t nabove;
    uint64_t last_ms;       /* for eviction */
} source_t;

struct fm_kafka_in {
    uv_timer_t timer;
    rd_kafka_t *rk;
    unsigned bin_exp;
    fm_kafka_in_apply_fn apply;
    void *ctx;
    void (*stop_cb)(void *);
    void *stop_arg;
    char topic[256];

    source_t *src;
    size_t nsrc;

    uint64_t messages, applied, duplicates, rejected, errors, commits, commit_failures;
    char last_error[256];
    fm_ratelimit_t rl_reject, rl_error;
};

/* ---- duplicate suppression ---- */

static source_t *find_source(fm_kafka_in_t *k, const fm_histdelta_meta_t *m)
{
    size_t oldest = 0;
    for (size_t i = 0; i < k->nsrc; i++) {
        if (k->src[i].run == m->run && !strcmp(k->src[i].collector, m->collector)) {
            return &k->src[i];
        }
        if (k->src[i].last_ms < k->src[oldest].last_ms) {
            oldest = i;
        }
    }
    if (k->nsrc == MAX_SOURCES) { /* forget the least recently heard run */
        free(k->src[oldest].above);
        k->src[oldest] = k->src[--k->nsrc];
    }
    k->src = fm_xreallocarray(k->src, k->nsrc + 1, sizeof(*k->src));
    source_t *s = &k->src[k->nsrc++];
    memset(s, 0, sizeof(*s));
    memcpy(s->collector, m->collector, sizeof(s->collector));
    s->run = m->run;
    return s;
}

static bool seen(const source_t *s, uint64_t seq)
{
    if (seq <= s->low) {
        return true;
    }
    for (size_t i = 0; i < s->nabove; i++) { /* short: gaps fill as messages arrive */
        if (s->above[i] == seq) {
            return true;
        }
    }
    return false;
}

static void remember(source_t *s, uint64_t seq)
{
    size_t i = 0;
    if (seq == s->low + 1) {
        s->low = seq;
    } else {
        if (s->nabove == MAX_ABOVE) {
            /* A gap that never fills: give up on it, count everything up to the oldest
             * remembered seq as seen. */
            s->low = s->above[0];
            memmove(s->above, s->above + 1, --s->nabove * sizeof(uint64_t));
        }
        while (i < s->nabove && s->above[i] < seq) {
            i++;
        }
        s->above = fm_xreallocarray(s->above, s->nabove + 1, sizeof(uint64_t));
        memmove(s->above + i + 1, s->above + i, (s->nabove - i) * sizeof(uint64_t));
        s->above[i] = seq;
        s->nabove++;
    }
    /* Pull the contiguous run above low into low. */
    for (i = 0; i < s->nabove && s->above[i] == s->low + 1; i++) {
        s->low++;
    }
    if (i) {
        memmove(s->above, s->above + i, (s->nabove - i) * sizeof(uint64_t));
        s->nabove -= i;
    }
}

/* ---- messages ---- */

static void reject(fm_kafka_in_t *k, const rd_kafka_message_t *msg, const char *why)
{
    k->rejected++;
    fm_log_rl(&k->rl_reject, LOG_WARNING, "kafka_in, %s [%" PRId32 "] offset %" PRId64
              ": delta rejected: %s", k->topic, msg->partition, msg->offset, why);
}

static void handle(fm_kafka_in_t *k, const rd_kafka_message_t *msg)
{
    fm_histdelta_meta_t meta;
    fm_histset_t *delta;
    char err[FM_HISTDELTA_ID_MAX + 256];
    source_t *s;

    k->messages++;
    if (fm_histdelta_decode(msg->payload, msg->len, &meta, &delta, err, sizeof(err)) < 0) {
        reject(k, msg, err);
        return;
    }
    if (meta.bin_exp != k->bin_exp) {
        snprintf(err, sizeof(err), "collector %s uses bin_exp %u, this daemon %u",
                 meta.collector, meta.bin_exp, k->bin_exp);
        reject(k, msg, err);
    } else if (seen((s = find_source(k, &meta)), meta.seq)) {
        k->duplicates++;
        s->last_ms = fm_time_wall_ms();
    } else if (k->apply(k->ctx, &meta, delta, err, sizeof(err)) < 0) {
        reject(k, msg, err);
    } else {
        remember(s, meta.seq);
        s->last_ms = fm_time_wall_ms();
        k->applied++;
    }
    fm_histset_free(delta);
}

static void consumer_error(fm_kafka_in_t *k, rd_kafka_resp_err_t e)
{
    k->errors++;
    snprintf(k->last_error, sizeof(k->last_error), "%s", rd_kafka_err2str(e));
    fm_log_rl(&k->rl_error, LOG_WARNING, "kafka_in, consumer: %s", k->last_error);
}

static void on_poll(uv_timer_t *t)
{
    fm_kafka_in_t *k = t->data;
    uint64_t t0 = fm_time_mono_ns();
    for (int i = 0; i < MAX_PER_POLL && fm_time_mono_ns() - t0 < POLL_BUDGET_NS; i++) {
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(k->rk, 0);
        if (!msg) {
            break;
        }
        if (msg->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
            handle(k, msg);
        } else if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
            consumer_error(k, msg->err);
        }
        rd_kafka_message_destroy(msg);
    }
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
    for (size_t i = 0; i < cfg->nprops && rc == 0; i++) {
        rc = set_prop(conf, cfg->keys[i], cfg->values[i], err, errlen);
    }
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_offset_commit_cb(conf, on_commit);
    return rc;
}

int fm_kafka_in_new(uv_loop_t *loop, const fm_config_kafka_in_t *cfg, unsigned bin_exp,
                    fm_kafka_in_apply_fn apply, void *ctx, fm_kafka_in_t **out, char *err,
                    size_t errlen)
{
    fm_kafka_in_t *k = fm_xcalloc(1, sizeof(*k));
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_topic_partition_list_t *topics;
    char kerr[512];
    int rc;

    *out = NULL;
    k->bin_exp = bin_exp;
    k->apply = apply;
    k->ctx = ctx;
    snprintf(k->topic, sizeof(k->topic), "%s", cfg->topic);
    fm_ratelimit_init(&k->rl_reject, 5, 60000);
    fm_ratelimit_init(&k->rl_error, 5, 60000);
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
    topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, cfg->topic, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t e = rd_kafka_subscribe(k->rk, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (e) {
        snprintf(err, errlen, "[input.kafka] cannot subscribe to %s: %s", cfg->topic,
                 rd_kafka_err2str(e));
        rd_kafka_destroy(k->rk);
        free(k);
        return FM_EIO;
    }
    uv_timer_init(loop, &k->timer);
    k->timer.data = k;
    *out = k;
    return 0;
}

int fm_kafka_in_start(fm_kafka_in_t *k)
{
    return uv_timer_start(&k->timer, on_poll, POLL_MS, POLL_MS);
}

static void on_timer_closed(uv_handle_t *h)
{
    fm_kafka_in_t *k = h->data;
    if (k->stop_cb) {
        k->stop_cb(k->stop_arg);
    }
}

void fm_kafka_in_stop(fm_kafka_in_t *k, void (*cb)(void *arg), void *arg)
{
    k->stop_cb = cb;
    k->stop_arg = arg;
    uv_timer_stop(&k->timer);
    uv_close((uv_handle_t *)&k->timer, on_timer_closed);
}

void fm_kafka_in_free(fm_kafka_in_t *k)
{
    if (!k) {
        return;
    }
    rd_kafka_consumer_close(k->rk); /* leaves the group: partitions move on at once */
    rd_kafka_destroy(k->rk);
    for (size_t i = 0; i < k->nsrc; i++) {
        free(k->src[i].above);
    }
    free(k->src);
    free(k);
}

void *fm_kafka_in_mark(fm_kafka_in_t *k)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (!k || rd_kafka_assignment(k->rk, &parts) || !parts) {
        return NULL;
    }
    if (parts->cnt == 0 || rd_kafka_position(k->rk, parts)) {
        rd_kafka_topic_partition_list_destroy(parts);
        return NULL;
    }
    return parts;
}

void fm_kafka_in_commit(fm_kafka_in_t *k, void *mark, bool sync)
{
    rd_kafka_topic_partition_list_t *parts = mark;
    bool any = false;
    if (!k || !parts) {
        fm_kafka_in_mark_free(mark);
        return;
    }
    for (int i = 0; i < parts->cnt; i++) {
        any = any || parts->elems[i].offset >= 0; /* INVALID: nothing consumed there yet */
    }
    if (any) {
        rd_kafka_resp_err_t e = rd_kafka_commit(k->rk, parts, sync ? 0 : 1);
        if (sync) {
            on_commit(k->rk, e, parts, k);
        } else if (e) {
            k->commit_failures++;
            consumer_error(k, e);
        }
    }
    rd_kafka_topic_partition_list_destroy(parts);
}

void fm_kafka_in_mark_free(void *mark)
{
    if (mark) {
        rd_kafka_topic_partition_list_destroy(mark);
    }
}

json_t *fm_kafka_in_stats_json(fm_kafka_in_t *k)
{
    rd_kafka_topic_partition_list_t *parts = NULL;
    int assigned = 0;
    if (!rd_kafka_assignment(k->rk, &parts) && parts) {
        assigned = parts->cnt;
        rd_kafka_topic_partition_list_destroy(parts);
    }
    return json_pack("{ss sI sI sI sI sI sI sI si sI ss}", "topic", k->topic, "messages",
                     (json_int_t)k->messages, "applied", (json_int_t)k->applied, "duplicates",
                     (json_int_t)k->duplicates, "rejected", (json_int_t)k->rejected, "errors",
                     (json_int_t)k->errors, "commits", (json_int_t)k->commits,
                     "commit_failures", (json_int_t)k->commit_failures, "partitions", assigned,
                     "sources", (json_int_t)k->nsrc, "last_error", k->last_error);
}
