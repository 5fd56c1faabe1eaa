/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet metering with nfstream's semantics (DESIGN §12, NFSTREAM.md): captured frames in,
 * finished bidirectional flows out through a callback, in nfstream's emission order with ids
 * 0, 1, 2, ...  The meter owns the flow cache (creation order, idle/active expiry on arrival, the
 * periodic idle scan, the end-of-input flush), the accounting, the optional post-mortem
 * statistics, the first-N-packet arrays and the nDPI labels.  Reading captures is
 * meter/capture.h's job; writing flows is meter/output.h's.  Not thread-safe: one meter per
 * thread.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct fm_meter fm_meter_t;

/** Options with nfstream's names; fm_meter_opts_default() gives nfstream's defaults. */
typedef struct {
    uint64_t idle_ms;        /* idle_timeout (s) * 1000; default 120 000 */
    uint64_t active_ms;      /* active_timeout (s) * 1000; default 1 800 000 */
    int accounting_mode;     /* 0 wire length, 1 IP length, 2 transport, 3 payload */
    bool decode_tunnels;     /* GTP-U, CAPWAP, TZSP (default true) */
    bool statistics;         /* statistical_analysis: the 48 post-mortem columns */
    uint16_t splt;           /* splt_analysis: first N packets (0 = off) */
    uint8_t dissections;     /* n_dissections: nDPI packets per flow (0 = no labels) */
} fm_meter_opts_t;

/* Scope index of the per-direction arrays. */
enum { FM_METER_BI = 0, FM_METER_S2D = 1, FM_METER_D2S = 2 };

/* TCP flag order of nfstream's counters: syn cwr ece urg ack psh rst fin. */
enum { FM_METER_SYN, FM_METER_CWR, FM_METER_ECE, FM_METER_URG, FM_METER_ACK, FM_METER_PSH,
       FM_METER_RST, FM_METER_FIN, FM_METER_NFLAGS };

/** A finished flow, borrowed by the emit callback for the duration of the call. */
typedef struct fm_meter_flow {
    uint64_t id;                 /* emission index */
    int expiration_id;           /* 0 idle (also scan and flush), 1 active */
    uint8_t src_ip[16];          /* IPv4: bytes 0-3 */
    uint8_t dst_ip[16];
    uint8_t src_mac[6];
    uint8_t dst_mac[6];
    uint16_t src_port, dst_port;
    uint16_t vlan_id;
    uint8_t protocol;
    uint8_t ip_version;
    uint8_t tunnel_id;
    uint8_t tcp_flags[3];        /* OR of the TCP flags per scope (not an nfstream column) */
    /* [scope]: bidirectional, src2dst, dst2src; dst2src times are 0 without reverse packets */
    uint64_t first_ms[3], last_ms[3], duration_ms[3], packets[3], bytes[3];
    /* statistics (only when opts.statistics); stddevs final (sample) at emission */
    uint64_t min_ps[3], max_ps[3];
    double mean_ps[3], stddev_ps[3];
    uint64_t min_piat_ms[3], max_piat_ms[3];
    double mean_piat_ms[3], stddev_piat_ms[3];
    uint64_t flag_packets[3][FM_METER_NFLAGS];
    /* splt (only when opts.splt > 0): opts.splt entries each, -1 where no packet */
    const int8_t *splt_direction;
    const int32_t *splt_ps;
    const int64_t *splt_piat_ms;
    /* nDPI labels (only when opts.dissections > 0; empty strings without nDPI) */
    char application_name[64];
    char category_name[32];
    int application_is_guessed;
    int application_confidence;
    char requested_server_name[256];
    char client_fingerprint[64];
    char server_fingerprint[64];
    char user_agent[256];
    char content_type[128];
} fm_meter_flow_t;

typedef void (*fm_meter_emit_fn)(void *ctx, const fm_meter_flow_t *flow);

/** Counters of one meter (cumulative). */
typedef struct {
    uint64_t packets;            /* frames offered */
    uint64_t parsed;             /* frames that became flow packets */
    uint64_t ignored;            /* total of ignored_by[] */
    uint64_t ignored_by[5];      /* short, link, not_ip, fragment, truncated */
    uint64_t flows;              /* flows emitted */
    uint64_t active;             /* flows in the cache now */
} fm_meter_counters_t;

/** Names of fm_meter_counters_t.ignored_by[] ("short", "link", "not_ip", ...). */
extern const char *const fm_meter_ignore_names[5];

void fm_meter_opts_default(fm_meter_opts_t *o);

/**
 * @param[in] opts   copied.
 * @param[in] emit   called once per finished flow, from fm_meter_packet/fm_meter_flush.
 * @return 0, FM_EINVAL (bad accounting mode), FM_ENOMEM.
 */
int fm_meter_new(const fm_meter_opts_t *opts, fm_meter_emit_fn emit, void *ctx,
                 fm_meter_t **out);
/** Frees without emitting the cached flows (call fm_meter_flush first to keep them). */
void fm_meter_free(fm_meter_t *m);

/**
 * Meter one frame.  Malformed frames are counted and ignored; never fails.
 * @param[in] dlt    libpcap DLT_* of the frame's capture.
 * @param[in] ts_ms  capture time in ms (truncated from µs by the caller).
 * @param[in] len    original length on the wire.
 */
void fm_meter_packet(fm_meter_t *m, int dlt, uint64_t ts_ms, const uint8_t *data,
                     uint32_t caplen, uint32_t len);
/**
 * Meter the packets fm_meter_packet may still hold (without nDPI it meters them in groups of
 * 16 for speed).  Call when input pauses (a live capture's buffer timeout); fm_meter_flush does.
 */
void fm_meter_sync(fm_meter_t *m);
/** End of input: emit every cached flow in creation order. */
void fm_meter_flush(fm_meter_t *m);
const fm_meter_counters_t *fm_meter_counters(const fm_meter_t *m);
const fm_meter_opts_t *fm_meter_opts(const fm_meter_t *m);

/** @return whether this build labels flows with nDPI; *version set to its version text. */
bool fm_meter_has_ndpi(const char **version);
