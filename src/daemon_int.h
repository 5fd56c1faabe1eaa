/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to daemon*.c: the daemon struct shared by the lifecycle (daemon.c), the background
 * jobs for store commits, fits and exports (daemon_jobs.c) and the control handlers
 * (daemon_ctl.c).  Everything here is touched on the loop thread only; thread-pool jobs get
 * copies.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "cache.h"
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "fit.h"
#include "hist.h"
#include "ingest.h"
#include "log.h"
#include "mixture.h"
#include "plugin.h"
#include "rate.h"
#include "store.h"

/* A window's histogram delta waiting to be committed. */
typedef struct fm__pending_win {
    uint64_t start_ms, end_ms;
    fm_histset_t *delta;
    bool closed;               /* the window has ended: mark it closed when committed */
    struct fm__pending_win *next;
} fm__pending_win_t;

/* A window's histogram delta waiting to be published to plugins (daemon_hist.c). */
typedef struct fm__pub_win {
    uint64_t start_ms, end_ms;
    fm_histset_t *delta;
    struct fm__pub_win *next;
} fm__pub_win_t;

/* The latest result of one fit job, kept in memory for warm starts and queries. */
typedef struct {
    fm_config_fit_t job;       /* copy; job.name owned */
    fm_mix_t *mix;             /* latest mixture on the total, NULL before the first fit */
    char *json;                /* its flow-models JSON */
    fm_fit_result_t res;
    uint64_t created_ms;
    uint64_t window_start_ms;  /* 0 = total */
    bool running;
    uint64_t runs, failures;
} fm__fitstate_t;

/* A finished fit waiting to be written by the next store job. */
typedef struct fm__pending_fit {
    char *job;
    uint64_t window_start_ms;
    uint64_t created_ms;
    char *json;
    double loglik;
    unsigned iterations;
    double seconds;
    struct fm__pending_fit *next;
} fm__pending_fit_t;

typedef struct fm_daemon {
    uv_loop_t loop;
    fm_config_t *cfg;
    fm_daemon_opts_t opts;
    uint64_t start_ms;
    bool stopping;
    int exit_status;

    fm_ingest_t *ingest;
    fm_cache_t *cache;
    fm_histwin_t *hw;
    fm_store_t *store;
    fm_ctl_t *ctl;
    fm_plugins_t *plugins;     /* output plugins ([plugin.NAME]); an empty set when none */
    struct fm_kafka_in *kin;   /* [input.kafka] consumer, NULL when not configured */
    struct fm_capture_input **captures; /* [input.capture*] (daemon_capture.c) */
    size_t ncaptures;

    /* Histogram deltas for the plugins (not the store's: see daemon_hist.c). */
    fm__pub_win_t *pub_wins;
    uint64_t pub_seq, pub_deltas, pub_messages, pub_bytes, pub_last_bytes, pub_failures;

    /* Histogram deltas since the last successful commit, one per window (each is also added
     * to the stored total when committed). */
    fm__pending_win_t *pending_wins;
    fm__pending_fit_t *pending_fits;
    bool store_busy;           /* a store job is in the thread pool */
    bool store_failing;
    char store_error[256];
    uint64_t commits, commit_failures, last_commit_ms;
    double last_commit_seconds;

    fm__fitstate_t *fits;
    size_t nfits;
    unsigned fits_running;

    bool export_busy;
    uint64_t exports, export_failures, last_export_ms;
    char last_export[512];

    uv_signal_t sig_term, sig_int, sig_hup;
    uv_timer_t t_tick, t_commit, t_fit, t_export;
    size_t closing;

    /* Counters (one name across field, ctl output and SQLite). */
    uint64_t flows_finished;
    uint64_t records_in;
    struct fm_metrics *metrics;  /* [metrics] endpoint, NULL when off */
    fm_rate_t *rates;          /* FM__RATE_* counters, sampled every tick */
    double records_per_s;      /* records over the last minute */
    fm_ratelimit_t rl_store;
    bool watchdog;
} fm_daemon_t;

/* The counters behind the rates of `status`, in fm_rate_t order. */
enum { FM__RATE_RECORDS, FM__RATE_DATAGRAMS, FM__RATE_FLOWS, FM__RATE_DROPS, FM__RATE_COUNT };
#define FM__RATE_SPAN_MS (15 * 60 * 1000)

/* daemon_jobs.c */
void fm__daemon_commit(fm_daemon_t *d);
void fm__daemon_fit_all(fm_daemon_t *d);
int fm__daemon_fit_one(fm_daemon_t *d, const char *job, char *err, size_t errlen);
int fm__daemon_export(fm_daemon_t *d, char *err, size_t errlen);
void fm__daemon_fits_init(fm_daemon_t *d);
void fm__daemon_fits_fini(fm_daemon_t *d);
/* Window bookkeeping: make sure a pending delta exists for the window starting at start_ms. */
fm_histset_t *fm__daemon_win_delta(fm_daemon_t *d, uint64_t start_ms);

/* daemon_hist.c: publishing deltas (collector) and applying them ([input.kafka]) */
void fm__daemon_pub_add(fm_daemon_t *d, const fm_flow_t *flows, size_t n, uint64_t start_ms);
/* Encode every non-empty publish delta (thread pool) and queue it to the plugins; with flush,
 * flush the plugins after that. */
void fm__daemon_publish(fm_daemon_t *d, bool flush);
void fm__daemon_pub_fini(fm_daemon_t *d);
json_t *fm__daemon_pub_json(fm_daemon_t *d);
int fm__daemon_kafka_in_open(fm_daemon_t *d, char *err, size_t errlen);
void fm__daemon_kafka_in_stop(fm_daemon_t *d);
void fm__daemon_kafka_in_free(fm_daemon_t *d);
/* Kafka positions to commit once the store commit started now succeeds (NULL: none). */
void *fm__daemon_kafka_mark(fm_daemon_t *d);
void fm__daemon_kafka_commit(fm_daemon_t *d, void *mark, bool ok);
/* Exactly once (issue 21): a part half added blocks taking a commit; the marks that changed go
 * into the commit job (their windows get pending deltas) and are reported stored after it. */
bool fm__daemon_kafka_busy(fm_daemon_t *d);
size_t fm__daemon_kafka_dirty(fm_daemon_t *d, fm_store_mark_t **out);
void fm__daemon_kafka_durable(fm_daemon_t *d, const fm_store_mark_t *marks, size_t n);
/* status: "kafka_in" (null unless [input.kafka]) and "kafka_collectors" (per collector) */
void fm__daemon_kafka_status(fm_daemon_t *d, json_t *result);

/* daemon_capture.c: [input.capture] packet metering threads */
int fm__daemon_capture_start(fm_daemon_t *d, char *err, size_t errlen);
/* Joins the threads and puts their last flows into the cache. */
void fm__daemon_capture_stop(fm_daemon_t *d);
json_t *fm__daemon_capture_json(fm_daemon_t *d);
/* Reload: the inputs keep running as started; the new config keeps the running sections. */
void fm__daemon_capture_reload(fm_config_t *n, fm_config_t *o);

/* daemon_ctl.c */
int fm__daemon_ctl_start(fm_daemon_t *d, char *err, size_t errlen);
/* The results of status, exporters and fits (also rendered for /metrics); caller decrefs. */
json_t *fm__daemon_status_json(fm_daemon_t *d);
json_t *fm__daemon_exporters_json(fm_daemon_t *d);
json_t *fm__daemon_fits_json(fm_daemon_t *d);

/* daemon_metrics.c: [metrics] (no-ops when off) */
int fm__daemon_metrics_start(fm_daemon_t *d, char *err, size_t errlen);
void fm__daemon_metrics_publish(fm_daemon_t *d);
void fm__daemon_metrics_free(fm_daemon_t *d);

/* daemon.c */
int fm__daemon_reload(fm_daemon_t *d, char *err, size_t errlen);
void fm__daemon_flush(fm_daemon_t *d);
