/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP ingest: the listening sockets (libuv, batch receive with recvmmsg), the table of exporters
 * (source address + port, bounded, idlest evicted, silent ones expired) each with its decoder
 * state and counters.
 * Decoded records go to one sink; ingest knows nothing of the cache.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "decode/decode.h"
#include "flow.h"

typedef struct fm_ingest fm_ingest_t;

typedef struct fm_ingest_exporter fm_ingest_exporter_t;

typedef struct {
    const char *udp;            /* comma-separated ADDR:PORT list */
    uint64_t rcvbuf;            /* requested SO_RCVBUF bytes */
    uint32_t max_exporters;
    uint64_t exporter_timeout_ms; /* an exporter silent this long is forgotten; 0: never */
    fm_decode_conf_t decode;
    /* Optional: told of each new exporter before its first records are decoded. */
    void (*new_exporter)(void *ctx, const fm_ingest_exporter_t *e);
    void *new_exporter_ctx;
    /* Optional: told of each exporter forgotten (evicted from a full table or silent for
     * exporter_timeout_ms), so that what others keep per exporter id can go too. */
    void (*gone_exporter)(void *ctx, uint32_t id);
    void *gone_exporter_ctx;
} fm_ingest_conf_t;

/** One exporter as reported to the control socket. */
struct fm_ingest_exporter {
    uint32_t id;
    char address[64];
    uint16_t port;
    uint64_t first_seen_ms;
    uint64_t last_seen_ms;
    fm_decode_stats_t stats;
};

typedef struct {
    uint64_t datagrams;
    uint64_t bytes;
    uint64_t records;
    uint64_t malformed;
    uint64_t recv_errors;
    uint64_t exporters;
    uint64_t exporters_evicted;
    uint64_t exporters_expired; /* forgotten after exporter_timeout_ms of silence */
    uint64_t templates;         /* held by all exporters (decode.max_templates_total bounds it) */
    uint64_t kernel_drops;      /* from /proc/net/udp{,6} (Linux); 0 where unknown */
    uint64_t sockets;
} fm_ingest_stats_t;

/**
 * Create ingest.  Nothing is bound until fm_ingest_start().
 * @param[in] sink  receives decoded records (borrowed array), on the loop thread.
 * @return 0 or FM_EINVAL (bad address list; message in err).
 */
int fm_ingest_new(uv_loop_t *loop, const fm_ingest_conf_t *conf, fm_flow_batch_fn sink,
                  void *ctx, fm_ingest_t **out, char *err, size_t errlen);
/** Bind and start receiving on every configured socket.  @return 0 or a libuv error (err). */
int fm_ingest_start(fm_ingest_t *ing, char *err, size_t errlen);
/** Stop receiving and close the sockets; done(arg) runs after the last close callback. */
void fm_ingest_stop(fm_ingest_t *ing, void (*done)(void *arg), void *arg);
/** Free after fm_ingest_stop() completed (or if never started). */
void fm_ingest_free(fm_ingest_t *ing);
void fm_ingest_stats(fm_ingest_t *ing, fm_ingest_stats_t *st);
/** Call fn for every known exporter (snapshot fields, on the loop thread). */
void fm_ingest_foreach(fm_ingest_t *ing, void (*fn)(void *ctx, const fm_ingest_exporter_t *e),
                       void *ctx);
/** The local ports actually bound (for logs), written as "ADDR:PORT, …". */
void fm_ingest_describe(const fm_ingest_t *ing, char *buf, size_t len);
/**
 * The start-up checks of a [listen] udp list that need no lasting side effect (flowmixd
 * --check-config): every endpoint parses and its port can be bound now (a throw-away socket,
 * closed again).
 * @param[out] err  "[listen] udp: ..." naming the endpoint on failure.
 * @return 0, FM_EINVAL (syntax, none, too many) or a negative errno from socket/bind
 *         (-EADDRINUSE: another process has the port).
 */
int fm_ingest_check(const char *udp, char *err, size_t errlen);
/** Parse "ADDR:PORT" / "[V6]:PORT" into a sockaddr.  @return 0 or FM_EINVAL. */
int fm_ingest_parse_endpoint(const char *text, struct sockaddr_storage *ss);
