/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Output plugin host (DESIGN §10, issue 10): loads the [plugin.NAME] shared objects through the
 * ABI of include/flowmix/plugin.h and feeds them finished flows off the receive path.  Each
 * instance has a worker thread and a bounded queue of batches; a batch is converted once to
 * fm_plugin_flow_t and shared (reference counted) by every queue that accepts it.
 *
 * Loader keys of a [plugin.NAME] section (the others go to the plugin's init):
 *   queue    = N            batches the queue holds (default 64)
 *   overflow = drop|block   full queue: drop the batch for this plugin and count its flows
 *                           (default), or make the producer wait — which stalls receive, so
 *                           use it only for outputs that must be complete (tests, archives).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "conf.h"
#include "flow.h"
#include "sink.h"

typedef struct fm_plugins fm_plugins_t;

#define FM_PLUGIN_QUEUE_DEFAULT 64
#define FM_PLUGIN_QUEUE_MAX 65536

/**
 * Load, check and initialise every configured plugin and start their workers.  All or nothing:
 * on failure the ones already initialised are finalised and unloaded.
 * @param[in]  cfgs        the [plugin.NAME] sections (may be NULL when n is 0); borrowed
 * @param[in]  plugin_dir  where NAME.so is looked up when a section has no path, and what a
 *                         path without '/' is relative to
 * @param[out] out         new plugin set (an empty set when n is 0); free with fm_plugins_free
 * @param[out] err         on failure, "plugin NAME: FILE: reason"
 * @return 0, FM_ECONFIG (bad queue/overflow), FM_EPLUGIN (dlopen, descriptor, ABI or init
 *         failure) or FM_ENOMEM.
 */
int fm_plugins_new(const fm_config_plugin_t *cfgs, size_t n, const char *plugin_dir,
                   fm_plugins_t **out, char *err, size_t errlen);

/**
 * The start-up checks of fm_plugins_new() without their side effects (flowmixd --check-config):
 * the loader's keys (queue, overflow), the file exists, dlopen resolves it, its descriptor
 * passes every check, and the plugin's own keys pass its validate callback (ABI 4; a plugin
 * without one has only its file checked: its init may connect or create files, so it is never
 * called here).
 * @param[in] conf_file  the configuration file, for messages (NULL: "(config)")
 * @return 0, FM_ECONFIG or FM_EPLUGIN with "plugin NAME: FILE: reason", or for the plugin's own
 *         keys "CONF:LINE: [plugin.NAME] FILE: the plugin's message", in err.
 */
int fm_plugins_check(const fm_config_plugin_t *cfgs, size_t n, const char *plugin_dir,
                     const char *conf_file, char *err, size_t errlen);

/**
 * Queue a batch of finished flows for every plugin (loop thread).  Copies the flows; returns
 * without waiting unless a plugin is configured `overflow = block` and its queue is full.
 * @param[in] p  plugin set, or NULL (no-op)
 */
void fm_plugins_consume(fm_plugins_t *p, const fm_flow_t *flows, size_t n);

/** fm_plugins_consume() as a stage of the data path (sink.h); ctx = @p p (NULL: a no-op). */
fm_sink_t fm_plugins_sink(fm_plugins_t *p);

/** @return whether any loaded plugin takes histogram deltas: an ABI 2 plugin with hist that has
 *  not declined them (FM_PLUGIN_HIST_DECLINE).  Cheap: call it per batch if need be. */
bool fm_plugins_want_hist(const fm_plugins_t *p);

/**
 * How to encode deltas for the plugins that take them (ABI 3 hist_params): the smallest
 * max_bytes any asks for (0: no limit), and JSON only if every one asks for JSON.
 */
void fm_plugins_hist_params(const fm_plugins_t *p, uint64_t *max_bytes, bool *json);

/**
 * Queue one histogram delta part (src/histdelta.h) for every plugin that has a hist callback
 * (loop thread).  Copies the document; same queue, order and overflow policy as flow batches: a
 * full queue drops it for that plugin (counted as hist_dropped) or, with `overflow = block`,
 * waits.
 * @param[in] p     plugin set, or NULL (no-op)
 * @param[in] json  the part, len bytes (borrowed; binary parts may hold NUL bytes)
 * @param[in] window_start_ms  the window it belongs to, passed on to the plugin
 */
void fm_plugins_hist(fm_plugins_t *p, const char *json, size_t len, uint64_t window_start_ms);

/** Ask every plugin for a tick(now_ms) (coalesced, never waits).  Call about once a second. */
void fm_plugins_tick(fm_plugins_t *p, uint64_t now_ms);

/** Ask every plugin to flush after the batches already queued (asynchronous, never waits). */
void fm_plugins_flush(fm_plugins_t *p);

/**
 * Wait until every queue is empty and no callback is running, at most timeout_ms.
 * Blocks the caller: for tests and orderly shutdown, not for the loop thread in normal running.
 * @return 0, or FM_EAGAIN on timeout.
 */
int fm_plugins_wait_idle(fm_plugins_t *p, uint64_t timeout_ms);

/** Drain every queue, flush, join the workers, finalise and unload the plugins (NULL: no-op). */
void fm_plugins_free(fm_plugins_t *p);

/** @return the number of loaded plugin instances. */
size_t fm_plugins_count(const fm_plugins_t *p);

/** Counters of one instance (a snapshot). */
typedef struct fm_plugin_stats {
    uint64_t batches;        /* batches consumed */
    uint64_t flows;          /* flows consumed */
    uint64_t dropped;        /* flows dropped because the queue was full (overflow = drop) */
    uint64_t dropped_batches;
    uint64_t errors;         /* consume/flush/tick calls that returned < 0 */
    uint64_t blocked_us;     /* time producers waited on a full queue (overflow = block) */
    uint64_t queue_depth;    /* batches waiting now */
    uint64_t queue_max;      /* highest depth seen */
    uint64_t hist_deltas;    /* histogram deltas handed to the hist callback */
    uint64_t hist_dropped;   /* histogram deltas dropped because the queue was full */
    uint64_t block_timeouts; /* overflow = block waits that hit block_timeout (then dropped) */
} fm_plugin_stats_t;

/** overflow = block waits at most this long for queue space ([plugin.X] block_timeout). */
#define FM_PLUGIN_BLOCK_MS_DEFAULT 1000u
/** Shutdown waits this long for a plugin's worker ([plugin.X] stop_timeout), then abandons it. */
#define FM_PLUGIN_STOP_MS_DEFAULT 5000u

/**
 * @param[in] i  index < fm_plugins_count()
 * @return 0, or FM_ERANGE.
 */
int fm_plugins_stats(fm_plugins_t *p, size_t i, fm_plugin_stats_t *out);

/**
 * Every instance's counters for `flowmixctl status`: an array of objects with name, file,
 * plugin, version, queue_limit, overflow, the fm_plugin_stats_t fields, "hist" (whether it
 * takes histogram deltas) and the plugin's own counters (object "plugin_counters").
 * @return new reference (caller decrefs); an empty array for NULL.
 */
json_t *fm_plugins_stats_json(fm_plugins_t *p);
