/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libpcap sources for the meter (see capture.h).  Offline files: libpcap reads both formats and
 * scales every pcapng interface's time resolution to µs; we check the magic first so a file that
 * is not a capture gets a clear message, and keep going after a record libpcap cannot read (a
 * truncated last record), counting it.  Time: tv_sec * 1000 + tv_usec / 1000, as nfstream.
 */
#include "config.h"

#include "meter/capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/err.h"

/* libpcap may return an error for a record and go on with the next; stop a file after this many
 * errors in a row so a damaged file cannot loop forever. */
#define MAX_ERRORS_IN_A_ROW 16

struct fm_capture {
    fm_capture_opts_t o;
    const char *const *paths;
    size_t npaths, next_path;
    const char *iface;
    pcap_t *p;
    int dlt;
    bool live;
    fm_capture_stats_t st;
};

void fm_capture_opts_default(fm_capture_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->snaplen = 1536;
    o->promisc = true;
    o->timeout_ms = 1000;
}

const char *fm_capture_magic(const uint8_t *b, size_t n)
{
    static const uint8_t pcap_magics[][4] = {
        {0xd4, 0xc3, 0xb2, 0xa1}, {0xa1, 0xb2, 0xc3, 0xd4}, /* µs */
        {0x4d, 0x3c, 0xb2, 0xa1}, {0xa1, 0xb2, 0x3c, 0x4d}, /* ns */
    };
    static const uint8_t pcapng_magic[4] = {0x0a, 0x0d, 0x0d, 0x0a};

    if (n < 4) {
        return NULL;
    }
    for (size_t i = 0; i < sizeof pcap_magics / sizeof pcap_magics[0]; i++) {
        if (memcmp(b, pcap_magics[i], 4) == 0) {
            return "pcap";
        }
    }
    return memcmp(b, pcapng_magic, 4) == 0 ? "pcapng" : NULL;
}

int fm_capture_new_files(const char *const *paths, size_t n, const fm_capture_opts_t *o,
                         fm_capture_t **out)
{
    if (!paths || n == 0 || !o) {
        return FM_EINVAL;
    }
    fm_capture_t *c = calloc(1, sizeof *c);
    if (!c) {
        return FM_ENOMEM;
    }
    c->o = *o;
    c->paths = paths;
    c->npaths = n;
    *out = c;
    return 0;
}

static int set_filter(fm_capture_t *c, const char *what, char *err, size_t errlen)
{
    struct bpf_program prog;

    if (!c->o.bpf || !c->o.bpf[0]) {
        return 0;
    }
    if (pcap_compile(c->p, &prog, c->o.bpf, 1, PCAP_NETMASK_UNKNOWN) != 0 ||
        pcap_setfilter(c->p, &prog) != 0) {
        snprintf(err, errlen, "%s: bad BPF filter '%s': %s", what, c->o.bpf, pcap_geterr(c->p));
        if (prog.bf_insns) {
            pcap_freecode(&prog);
        }
        return FM_EINVAL;
    }
    pcap_freecode(&prog);
    return 0;
}

static int open_file(fm_capture_t *c, const char *path, char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    uint8_t magic[4];
    FILE *fp = fopen(path, "rb");

    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return FM_EIO;
    }
    size_t got = fread(magic, 1, sizeof magic, fp);
    if (!fm_capture_magic(magic, got)) {
        fclose(fp);
        snprintf(err, errlen, "%s: not a pcap or pcapng capture (unknown magic)", path);
        return FM_EFORMAT;
    }
    rewind(fp);
    /* libpcap owns fp from here and closes it with the handle */
    c->p = pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, ebuf);
    if (!c->p) {
        fclose(fp);
        snprintf(err, errlen, "%s: %s", path, ebuf);
        return FM_EFORMAT;
    }
    c->dlt = pcap_datalink(c->p);
    c->st.files++;
    int rc = set_filter(c, path, err, errlen);
    if (rc < 0) {
        pcap_close(c->p);
        c->p = NULL;
    }
    return rc;
}

int fm_capture_new_live(const char *iface, const fm_capture_opts_t *o, fm_capture_t **out,
                        char *err, size_t errlen)
{
    char ebuf[PCAP_ERRBUF_SIZE] = "";
    fm_capture_t *c = calloc(1, sizeof *c);

    if (!c) {
        return FM_ENOMEM;
    }
    c->o = *o;
    c->iface = iface;
    c->live = true;
    c->p = pcap_create(iface, ebuf);
    if (!c->p) {
        snprintf(err, errlen, "%s: %s", iface, ebuf);
        free(c);
        return FM_EIO;
    }
    pcap_set_snaplen(c->p, o->snaplen > 0 ? o->snaplen : 1536);
    pcap_set_promisc(c->p, o->promisc);
    pcap_set_timeout(c->p, o->timeout_ms > 0 ? o->timeout_ms : 1000);
    int rc = pcap_activate(c->p);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s%s", iface, pcap_statustostr(rc),
                 rc == PCAP_ERROR_PERM_DENIED ? " (needs CAP_NET_RAW)" : "");
        if (rc == PCAP_ERROR && pcap_geterr(c->p)[0]) {
            snprintf(err, errlen, "%s: %s", iface, pcap_geterr(c->p));
        }
        pcap_close(c->p);
        free(c);
        return FM_EIO;
    }
    c->dlt = pcap_datalink(c->p);
    if (pcap_setnonblock(c->p, 1, ebuf) < 0) {
        snprintf(err, errlen, "%s: %s", iface, ebuf);
        pcap_close(c->p);
        free(c);
        return FM_EIO;
    }
    if (set_filter(c, iface, err, errlen) < 0) {
        pcap_close(c->p);
        free(c);
        return FM_EINVAL;
    }
    *out = c;
    return 0;
}

static void feed(fm_capture_t *c, fm_meter_t *m, const struct pcap_pkthdr *h,
                 const uint8_t *data)
{
    uint64_t ms = (uint64_t)h->ts.tv_sec * 1000 + (uint64_t)h->ts.tv_usec / 1000;

    c->st.records++;
    fm_meter_packet(m, c->dlt, ms, data, h->caplen, h->len);
}

/* Wait up to 250 ms for the live handle: short enough to see the stop flag and to publish
 * counters, long enough not to spin.  libpcap's own blocking read would wait for ever on a
 * silent interface (TPACKET_V3 polls without a timeout). */
static void wait_ready(fm_capture_t *c)
{
    struct pollfd pfd = {.fd = pcap_get_selectable_fd(c->p), .events = POLLIN};

    if (pfd.fd < 0 || poll(&pfd, 1, 250) < 0) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
}

/* Read the open handle.  @return 1 at its end, 0 when stopped/budget, <0 on a live error. */
static int read_handle(fm_capture_t *c, fm_meter_t *m, volatile sig_atomic_t *stop,
                       uint64_t *budget, char *err, size_t errlen)
{
    int errors = 0;

    /* an atomic read: the flag is set by a signal handler or by another thread */
    while (!(stop && __atomic_load_n(stop, __ATOMIC_RELAXED))) {
        if (*budget == 1) {
            return 0;
        }
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(c->p, &h, &data);
        if (rc == 1) {
            errors = 0;
            feed(c, m, h, data);
            if (*budget) {
                (*budget)--;
            }
        } else if (rc == 0) {
            /* live, non-blocking: nothing ready.  Meter what the meter holds, wait for the
             * ring (the kernel hands a block over at the latest after the 1 s timeout) */
            fm_meter_sync(m);
            wait_ready(c);
            if (*budget) {
                return 0; /* a slice ends at a quiet moment too */
            }
            continue;
        } else if (rc == PCAP_ERROR_BREAK) {
            return c->live ? 0 : 1;
        } else {
            c->st.read_errors++;
            if (c->live) {
                snprintf(err, errlen, "%s: %s", c->iface, pcap_geterr(c->p));
                return FM_EIO;
            }
            snprintf(err, errlen, "%s: %s", c->paths[c->next_path - 1], pcap_geterr(c->p));
            if (++errors >= MAX_ERRORS_IN_A_ROW) {
                return 1;
            }
        }
    }
    return 0;
}

int fm_capture_run(fm_capture_t *c, fm_meter_t *m, volatile sig_atomic_t *stop,
                   uint64_t max_frames, char *err, size_t errlen)
{
    /* budget: 0 = unlimited, else frames left + 1 */
    uint64_t budget = max_frames ? max_frames + 1 : 0;

    err[0] = '\0';
    if (c->live) {
        return read_handle(c, m, stop, &budget, err, errlen);
    }
    for (;;) {
        if (!c->p) {
            if (c->next_path >= c->npaths) {
                return 1;
            }
            int rc = open_file(c, c->paths[c->next_path++], err, errlen);
            if (rc < 0) {
                return rc;
            }
        }
        int rc = read_handle(c, m, stop, &budget, err, errlen);
        if (rc <= 0) {
            return rc;
        }
        pcap_close(c->p);
        c->p = NULL;
    }
}

void fm_capture_breakloop(fm_capture_t *c)
{
    /* live only: its handle never changes, while files open one after another (the stop flag
     * ends those at the next record) */
    if (c && c->live && c->p) {
        pcap_breakloop(c->p);
    }
}

void fm_capture_stats(fm_capture_t *c, fm_capture_stats_t *out)
{
    if (c->live && c->p) {
        struct pcap_stat ps;
        if (pcap_stats(c->p, &ps) == 0) {
            c->st.kernel_drops = (uint64_t)ps.ps_drop + ps.ps_ifdrop;
        }
    }
    *out = c->st;
}

void fm_capture_free(fm_capture_t *c)
{
    if (c) {
        if (c->p) {
            pcap_close(c->p);
        }
        free(c);
    }
}

const char *fm_capture_lib_version(void)
{
    return pcap_lib_version();
}
