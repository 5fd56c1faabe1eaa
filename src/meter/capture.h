/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Packet sources of the meter, read with libpcap: capture files (classic pcap or pcapng, told
 * apart by their magic; several files read back to back as one stream) or a live interface
 * (libpcap's TPACKET_V3 ring on Linux; snaplen, promiscuous mode and a 1 s buffer timeout as
 * nfstream's defaults), each with an optional BPF filter.  Every frame goes to fm_meter_packet
 * with its time truncated to ms.  Errors are returned with a message; the meter is never
 * flushed here (the caller decides when input ends).
 */
#pragma once

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "meter/meter.h"

typedef struct fm_capture fm_capture_t;

typedef struct {
    const char *bpf;      /* filter expression or NULL */
    int snaplen;          /* live only; default 1536 as nfstream */
    bool promisc;         /* live only; default true */
    int timeout_ms;       /* live only; default 1000 */
} fm_capture_opts_t;

typedef struct {
    uint64_t records;     /* frames read */
    uint64_t read_errors; /* records libpcap could not read (truncated files) */
    uint64_t kernel_drops;/* live: pcap_stats ps_drop + ps_ifdrop */
    uint64_t files;       /* files opened */
} fm_capture_stats_t;

void fm_capture_opts_default(fm_capture_opts_t *o);

/**
 * Open a list of capture files read as one stream.  Nothing is read yet; files are opened one by
 * one as the stream reaches them.  The paths are borrowed until fm_capture_free.
 * @return 0, FM_EINVAL, FM_ENOMEM.
 */
int fm_capture_new_files(const char *const *paths, size_t n, const fm_capture_opts_t *o,
                         fm_capture_t **out);
/**
 * Open a live interface (needs CAP_NET_RAW).
 * @param[out] err  message on failure.
 * @return 0 or FM_EIO with err filled.
 */
int fm_capture_new_live(const char *iface, const fm_capture_opts_t *o, fm_capture_t **out,
                        char *err, size_t errlen);
/**
 * Feed frames to the meter until the input ends, *stop becomes non-zero, or max_frames frames
 * (0 = no limit) were read in this call; with a limit, a live capture's buffer timeout (no
 * packet for 1 s) also returns.
 * @param[out] err  message when a negative code is returned.
 * @return 1 if the input ended, 0 if stopped or the budget was used, FM_EFORMAT when a file is
 *         not a capture, FM_EIO for an open/read error (a live interface that went away).
 */
int fm_capture_run(fm_capture_t *c, fm_meter_t *m, volatile sig_atomic_t *stop,
                   uint64_t max_frames, char *err, size_t errlen);
/** Interrupt a live capture blocked in fm_capture_run (from a signal handler or another
 *  thread); files stop at the next record through the stop flag. */
void fm_capture_breakloop(fm_capture_t *c);
void fm_capture_stats(fm_capture_t *c, fm_capture_stats_t *out);
void fm_capture_free(fm_capture_t *c);

/** @return "pcap", "pcapng" or NULL: the capture format of the first bytes of a file. */
const char *fm_capture_magic(const uint8_t *b, size_t n);

/** libpcap's version text. */
const char *fm_capture_lib_version(void);
