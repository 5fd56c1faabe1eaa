/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private to daemon*.c: the daemon object.  It owns the loop and the modules and wires them;
 * each module owns its own state, timer and jobs (committer.h, fitsched.h, exporter.h,
 * windelta.h), and the daemon keeps only what joins them.  Loop thread only.
 *
 * Lifecycle (daemon.c): STARTING → RUNNING → DRAINING → CLOSING.  DRAINING starts on
 * SIGTERM/SIGINT or a start-up failure: ingest, ctl and the Kafka consumer stop, the cache is
 * flushed into the window deltas, and the fit scheduler and exporter are stopped; each module's
 * stop callback counts down `draining`.  Only when all have called back (so fits finished
 * meanwhile are queued) does CLOSING stop the committer, which waits for a commit in flight
 * and then commits everything once more; its callback closes the remaining handles.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

#include "cache.h"
#include "committer.h"
#include "conf.h"
#include "ctl.h"
#include "daemon.h"
#include "exporter.h"
#include "fitsched.h"
#include "hist.h"
#include "histsink.h"
#include "ingest.h"
#include "log.h"
#include "plugin.h"
#include "rate.h"
#include "shard.h"
#include "sink.h"
#include "store.h"
#include "windelta.h"

typedef enum {
    FM__DAEMON_STARTING,
    FM__DAEMON_RUNNING,
    FM__DAEMON_DRAINING,
    FM__DAEMON_CLOSING,
} fm__daemon_state_t;

/* The counters behind the rates of `status`, in fm_rate_t order. */
enum { FM__RATE_RECORDS, FM__RATE_DATAGRAMS, FM__RATE_FLOWS, FM__RATE_DROPS, FM__RATE_COUNT };
#define FM__RATE_SPAN_MS (15 * 60 * 1000)

/* Counters of the data path (one name across field, ctl output and SQLite). */
typedef struct {
    uint64_t start_ms;
    fm_rate_t *rates;          /* FM__RATE_* counters, sampled every tick */
    double records_per_s;      /* records over the last minute */
    uint64_t next_trim_ms;     /* next fm_mem_trim() (every TRIM_MS) */
    bool watchdog;
} fm__daemon_counts_t;

/* The data path, built once at start (daemon.c build_path): ingest and capture inputs put
 * decoded records into `in`, which hands them to the cache shards ([daemon] workers); each
 * shard's finished flows go through its lane: the histogram stage (directly with one worker,
 * else a delta of the shard's own, merged at sync), then the plugins.  `in` counts records. */
typedef struct {
    fm_sink_fanout_t in;          /* [--dump,] the shards; .flows = records in */
    fm_shards_t *shards;
    fm_histsink_t hist;
    fm_histsink_lanes_t *lanes;
} fm__daemon_path_t;

typedef struct fm__histx fm__histx_t; /* daemon_hist.c: delta publishing and [input.kafka] */

/* [input.capture*] packet metering inputs (daemon_capture.c). */
typedef struct {
    struct fm_capture_input **inputs;
    size_t n;
} fm__daemon_captures_t;

/* Where the daemon is in its life. */
typedef struct {
    fm__daemon_state_t state;
    int exit_status;
    unsigned draining;         /* stop callbacks still outstanding in DRAINING */
} fm__daemon_life_t;

typedef struct fm__ctlcmd fm__ctlcmd_t; /* daemon_ctl.h: read-only store connection, reads */

typedef struct fm_daemon {
    uv_loop_t loop;
    fm_config_t *cfg;
    fm_daemon_opts_t opts;
    fm__daemon_life_t life;

    fm_ingest_t *ingest;
    fm__daemon_path_t path;
    fm_histagg_t *hist;        /* served histograms, store and publish deltas (histagg.h) */
    fm_committer_t *committer; /* owns the SQLite writer */
    fm_fitsched_t *fits;
    fm_exporter_t *exporter;
    fm_ctl_t *ctl;
    fm__ctlcmd_t *cmds;        /* the control commands' state */
    fm_plugins_t *plugins;     /* output plugins ([plugin.NAME]); an empty set when none */
    fm__histx_t *hx;
    fm__daemon_captures_t cap;

    uv_signal_t sig[3];        /* SIGTERM, SIGINT, SIGHUP */
    uv_timer_t tick;
    fm__daemon_counts_t n;
} fm_daemon_t;

/* daemon_hist.c: publishing deltas (collector) and applying them ([input.kafka]) */
int fm__histx_new(fm_daemon_t *d, fm_store_t *store, char *err, size_t errlen);
/* Encode every non-empty publish delta (thread pool) and queue it to the plugins; with flush,
 * flush the plugins after that. */
void fm__histx_publish(fm_daemon_t *d, bool flush);
void fm__histx_stop(fm_daemon_t *d);
void fm__histx_free(fm_daemon_t *d);
json_t *fm__histx_pub_json(fm_daemon_t *d);
/* status: "kafka_in" (null unless [input.kafka]) and "kafka_collectors" (per collector) */
void fm__histx_kafka_status(fm_daemon_t *d, json_t *result);
/* Kafka positions to commit once the store commit started now succeeds (NULL: none). */
void *fm__histx_mark(fm_daemon_t *d);
void fm__histx_confirm(fm_daemon_t *d, void *mark, bool ok, bool final);
/* Exactly once (issue 21): a part half added blocks taking a commit; the marks that changed go
 * into the commit job (their windows are kept in the pending deltas) and are reported stored
 * after it. */
bool fm__histx_kafka_busy(fm_daemon_t *d);
size_t fm__histx_kafka_dirty(fm_daemon_t *d, fm_store_mark_t **out);
void fm__histx_kafka_durable(fm_daemon_t *d, const fm_store_mark_t *marks, size_t n);

/* daemon_capture.c: [input.capture] packet metering threads */
int fm__daemon_capture_start(fm_daemon_t *d, char *err, size_t errlen);
/* Joins the threads and puts their last flows into the cache. */
void fm__daemon_capture_stop(fm_daemon_t *d);
json_t *fm__daemon_capture_json(fm_daemon_t *d);
/* Reload: the inputs keep running as started; the new config keeps the running sections. */
void fm__daemon_capture_reload(fm_config_t *n, fm_config_t *o);


/* daemon_status.c: the results of status, exporters and fits, for the control socket and
 * /metrics (both above the daemon); caller decrefs. */
json_t *fm__daemon_status_json(fm_daemon_t *d);
json_t *fm__daemon_exporters_json(fm_daemon_t *d);
json_t *fm__daemon_fits_json(fm_daemon_t *d);
json_t *fm__daemon_fit_json(const fm_fitsched_job_t *fs);

/* daemon.c: what the control commands (daemon_ctl.c, a layer above) may call */
/* Re-read the configuration and apply what the key table marks reloadable; *restart gets the
 * changed restart-only keys ("[section] key, ...", malloc'd, NULL if none; also logged). */
int fm__daemon_reload(fm_daemon_t *d, char **restart, char *err, size_t errlen);
/* Expire every cached flow into the histograms and plugins now. */
void fm__daemon_flush(fm_daemon_t *d);
/* Bring the histograms and cache statistics up to date with every record received so far (the
 * cache shards' deltas merged); call before reading either.  Cheap with one worker. */
void fm__daemon_sync(fm_daemon_t *d);
/* Cache statistics (summed over the shards) and flows finished, as of the last sync. */
void fm__daemon_cache_stats(fm_daemon_t *d, fm_cache_stats_t *cs, uint64_t *finished);
