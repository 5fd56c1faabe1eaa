/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix output plugin ABI — the only header flowmix installs.
 *
 * A plugin is a shared object that exports exactly one symbol, the constant descriptor
 * `fm_plugin_descriptor` (FM_PLUGIN_DESCRIPTOR below).  flowmixd loads it with
 * dlopen(RTLD_NOW | RTLD_LOCAL), looks that symbol up and checks abi_version, flow_size, name and
 * the mandatory callbacks before it calls anything; a plugin that fails a check is unloaded with
 * a message naming the file and the reason.  A plugin needs nothing from flowmix itself: the
 * descriptor and the flow records below are the whole interface, so plugins link only the
 * libraries they use and can be built out of tree with `cc -shared -fPIC`.
 *
 * Threading: every instance ([plugin.NAME] section) gets its own worker thread and a bounded
 * queue of flow batches.  init() runs on the thread that loads the plugins (flowmixd's main
 * thread, at start and reload), before the worker starts; consume(), flush(), tick() and
 * counters() run on the instance's worker thread, one call at a time, never concurrently with
 * each other; fini() runs on the loading thread after the worker has been joined.  Thread
 * creation and join order these calls, so a plugin needs no locks for its own state.  A slow
 * callback delays only its own queue: when the queue is full, flowmix drops that plugin's
 * batches (`overflow = drop`, counted) or makes the receive path wait (`overflow = block`).
 *
 * Minimal plugin (see plugins/example/example.c for a documented one):
 *
 *     #include <flowmix/plugin.h>
 *     static int my_init(const char *const *k, const char *const *v, size_t n, void **state,
 *                        char *err, size_t errlen) { *state = NULL; return 0; }
 *     static int my_consume(void *s, const fm_plugin_flow_t *f, size_t n) { return 0; }
 *     static void my_fini(void *s) { }
 *     // optional: check keys without side effects for flowmixd --check-config
 *     static int my_validate(const char *const *k, const char *const *v, size_t n, char *err,
 *                            size_t errlen) { return 0; }
 *     FM_PLUGIN_EXPORT const fm_plugin_t FM_PLUGIN_DESCRIPTOR = {
 *         .abi_version = FM_PLUGIN_ABI_VERSION, .flow_size = sizeof(fm_plugin_flow_t),
 *         .name = "mine", .version = "1.0",
 *         .init = my_init, .consume = my_consume, .fini = my_fini,
 *         .validate = my_validate,
 *     };
 */
#ifndef FLOWMIX_PLUGIN_H
#define FLOWMIX_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Bumped on any change of fm_plugin_t or fm_plugin_flow_t.  2 appended fm_plugin_t.hist, 3
 * appended fm_plugin_t.hist_params, 4 appended fm_plugin_t.validate.  flowmixd loads plugins
 * built against any version from FM_PLUGIN_ABI_VERSION_MIN up to its own.
 */
#define FM_PLUGIN_ABI_VERSION 4
/** Oldest ABI this header's flowmixd still loads (1: a descriptor without hist). */
#define FM_PLUGIN_ABI_VERSION_MIN 1

/** The one symbol flowmix looks up in a plugin. */
#define FM_PLUGIN_DESCRIPTOR fm_plugin_descriptor
#define FM_PLUGIN_DESCRIPTOR_SYMBOL "fm_plugin_descriptor"

/** Makes the descriptor visible even when the plugin is built with -fvisibility=hidden. */
#define FM_PLUGIN_EXPORT __attribute__((visibility("default")))

/* fm_plugin_flow_t.af: Linux AF_ numbers, as flow-models and nfdump print them. */
#define FM_PLUGIN_AF_INET 2
#define FM_PLUGIN_AF_INET6 10

/** fm_plugin_t.hist's answer for "this instance does not want histogram deltas" (ABI 2). */
#define FM_PLUGIN_HIST_DECLINE 1

/* fm_plugin_hist_params_t.encoding: how flowmixd encodes the deltas it hands to hist (ABI 3) */
#define FM_PLUGIN_HIST_BINARY 0 /* compact binary (the default) */
#define FM_PLUGIN_HIST_JSON 1   /* JSON documents */

/**
 * What an instance wants of histogram deltas (ABI 3, fm_plugin_t.hist_params); flowmixd fills
 * it with zeros (no limit, binary) before asking.
 */
typedef struct fm_plugin_hist_params {
    uint64_t max_bytes; /* largest message hist may be given (0: no limit); >= 1024 */
    uint32_t encoding;  /* FM_PLUGIN_HIST_BINARY or FM_PLUGIN_HIST_JSON */
    uint32_t reserved;  /* 0 */
} fm_plugin_hist_params_t;

/* fm_plugin_flow_t.flags */
#define FM_PLUGIN_FLOW_BIFLOW 0x01  /* rev_* hold the opposite direction */
#define FM_PLUGIN_FLOW_EVICTED 0x02 /* emitted early because the flow cache was full */
#define FM_PLUGIN_FLOW_FLUSHED 0x04 /* emitted by a flush or shutdown, not by a timeout */

/**
 * One finished flow (a uniflow, or a biflow when FM_PLUGIN_FLOW_BIFLOW is set).  Times are epoch
 * milliseconds.  Addresses are 16 bytes in network order; IPv4 addresses are IPv4-mapped IPv6
 * (::ffff:a.b.c.d) and af says which family the flow is.  Counters are as exported: flowmix never
 * scales sampled counters (sampling says the interval, 1 = unsampled).
 */
typedef struct fm_plugin_flow {
    uint64_t first_ms;      /**< first packet, forward direction */
    uint64_t last_ms;       /**< last packet, forward direction */
    uint64_t rev_first_ms;  /**< reverse direction's first packet (0 when rev_packets is 0) */
    uint64_t rev_last_ms;   /**< reverse direction's last packet */
    uint64_t packets;       /**< forward direction */
    uint64_t octets;
    uint64_t rev_packets;   /**< reverse direction (biflows) */
    uint64_t rev_octets;
    uint8_t src[16];
    uint8_t dst[16];
    uint32_t exporter;      /**< flowmixd's index of the exporter (source address + port) */
    uint32_t domain;        /**< IPFIX observation domain / v9 source id / v5 engine */
    uint32_t inif;          /**< SNMP interface indices */
    uint32_t outif;
    uint32_t sampling;      /**< sampling interval, 1 = unsampled */
    uint32_t records;       /**< export records merged into this flow */
    uint16_t sport;         /**< 0 for protocols without ports */
    uint16_t dport;
    uint8_t af;             /**< FM_PLUGIN_AF_INET or FM_PLUGIN_AF_INET6 */
    uint8_t proto;          /**< IP protocol */
    uint8_t tcp_flags;
    uint8_t rev_tcp_flags;
    uint8_t flags;          /**< FM_PLUGIN_FLOW_* */
    uint8_t fwd_first;      /**< biflows: 1 if src→dst is the direction seen first */
    uint8_t reserved[6];    /**< zero */
} fm_plugin_flow_t;

/** A named counter a plugin reports for `flowmixctl status` (see fm_plugin_t.counters). */
typedef struct fm_plugin_counter {
    const char *name;       /**< static string inside the plugin, e.g. "delivered" */
    uint64_t value;
} fm_plugin_counter_t;

/**
 * The descriptor.  Callbacks marked optional may be NULL.  Return values: 0 (or >= 0) for
 * success, a negative number for failure; flowmix counts failures of consume/flush/tick as
 * `errors` of the plugin and goes on — a plugin decides itself whether to retry.
 */
typedef struct fm_plugin {
    uint32_t abi_version;   /**< FM_PLUGIN_ABI_VERSION the plugin was built against */
    uint32_t flow_size;     /**< sizeof(fm_plugin_flow_t) the plugin was built against */
    const char *name;       /**< non-empty, e.g. "csv" */
    const char *version;    /**< the plugin's own version string */
    const char *description; /**< optional one-liner */

    /**
     * Create an instance.  Runs on the loading thread before the worker starts.
     * @param[in]  keys, values  the [plugin.NAME] section's keys except path, queue, overflow
     *                           (borrowed for the call only: copy what you keep)
     * @param[in]  n             number of keys
     * @param[out] state         instance pointer handed to every other callback
     * @param[out] err           on failure, a NUL-terminated message (e.g. "unknown key 'x'")
     * @return 0, or negative: the plugin is unloaded and fini() is NOT called.
     */
    int (*init)(const char *const *keys, const char *const *values, size_t n, void **state,
                char *err, size_t errlen);
    /**
     * Take a batch of finished flows (worker thread).  The array is borrowed for the call.
     * @return 0, or negative (counted as one error; the batch is not retried).
     */
    int (*consume)(void *state, const fm_plugin_flow_t *flows, size_t n);
    /** Optional: make everything consumed so far durable/visible (worker thread).  Called on
     *  `flowmixctl flush` and once more after the last batch before shutdown. */
    int (*flush)(void *state);
    /** Optional: periodic call with the wall clock (epoch ms), about once a second (worker
     *  thread), for rotation and timeouts.  Ticks coalesce when the worker is busy and are not
     *  ordered with batches: one may run before batches queued earlier. */
    int (*tick)(void *state, uint64_t now_ms);
    /** Optional: fill up to max counters, return how many (worker thread, after ticks). */
    size_t (*counters)(void *state, fm_plugin_counter_t *out, size_t max);
    /** Destroy the instance (loading thread, after the worker joined; only if init succeeded). */
    void (*fini)(void *state);

    /* ---- ABI 2: fields below exist only in descriptors with abi_version >= 2.  New fields
     * are only ever appended here, so older descriptors stay valid prefixes. ---- */

    /**
     * Optional: take one part of a closed-window histogram delta (worker thread), in the format
     * "flowmix.histdelta" (doc/guide.md §8, "Scaling out with Kafka"): compact binary, or JSON
     * when hist_params asks for it.  A delta holds the increments of every histogram of one
     * window since the previous delta, with the collector id, run, sequence number and part an
     * aggregator uses to drop duplicates; flowmixd splits it into parts no longer than
     * hist_params' max_bytes, each self-contained (whole bins, applicable in any order).
     * flowmixd produces deltas only while at least one loaded plugin has this callback, every
     * `store.commit_interval`, on flush and at shutdown.  Deltas share the queue and the
     * overflow policy of flow batches and keep their order with them.
     * @param[in] data  the part (data[len] == 0, but binary parts may hold NUL bytes too);
     *                  borrowed for the call
     * @param[in] window_start_ms  the window the delta belongs to (also inside the part)
     * @return 0; FM_PLUGIN_HIST_DECLINE if this instance takes no deltas (configured off):
     *         flowmix then stops offering them to it, and stops computing them once no
     *         instance takes them; or negative (counted as one error; not retried).
     */
    int (*hist)(void *state, const char *data, size_t len, uint64_t window_start_ms);

    /* ---- ABI 3 ---- */

    /**
     * Optional: say how this instance wants deltas (loading thread, right after init).  With
     * several instances taking deltas flowmixd encodes each delta once: the smallest max_bytes
     * of all, JSON only if every one asks for JSON.  Without it: no limit, binary.
     * @return 0, or negative to fail the load (err of init is not available here).
     */
    int (*hist_params)(void *state, fm_plugin_hist_params_t *params);

    /* ---- ABI 4 ---- */

    /**
     * Optional: check an instance's keys and values as init would, without its side effects:
     * no connection, no file or directory created or opened for writing, no thread, nothing
     * kept.  `flowmixd --check-config` calls it for every [plugin.NAME] section (a plugin
     * without it has only its file and descriptor checked there); flowmixd also calls it right
     * before init, so the same key gets the same message in both.  Runs on the loading thread;
     * may be called several times, with no instance existing.
     * @param[in]  keys, values, n  as for init (borrowed for the call)
     * @param[out] err  on failure, a NUL-terminated message naming the key, e.g.
     *                  "unknown key 'x' (dir, interval)" or "interval = 5q: expected a duration"
     * @return 0 if init would accept the keys (it may still fail for reasons only trying can
     *         tell: a directory that cannot be created, a broker that cannot be reached), or
     *         negative.
     */
    int (*validate)(const char *const *keys, const char *const *values, size_t n, char *err,
                    size_t errlen);
} fm_plugin_t;

#ifdef __cplusplus
}
#endif

#endif /* FLOWMIX_PLUGIN_H */
