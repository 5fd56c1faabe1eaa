/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * UDP ingest.  Each configured endpoint is one uv_udp_t receiving in batches (UV_UDP_RECVMMSG)
 * into a buffer the socket owns, so no allocation happens per datagram.  A paced exporter sends
 * one datagram at a time, so left to itself the loop would wake, poll and read once per
 * datagram; instead, after a read that found datagrams the socket rests for REST_MS (2 ms when
 * few came: REST_SLOW_MS), reading stopped and the fd out of the loop's epoll set, a timer
 * re-arms it, and the next read takes everything that arrived meanwhile in one recvmmsg.  An
 * idle socket costs nothing: it waits for its next datagram as before.  The source address and
 * port of a datagram select its exporter (and with it the decoder's template state); the table
 * is bounded and, when full, the exporter idle the longest makes room for the new one, which is
 * counted; a sweep timer forgets exporters silent for exporter_timeout_ms (counted, logged) and
 * trims the decoders of idle ones.  What the datagram contains is the decoder's business.
 */
#include "config.h"
#include "ingest.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#ifdef __linux__
#include <sys/epoll.h>
#endif
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "log.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define MAX_SOCKETS 16
/* libuv splits the receive buffer in 64 KiB slots, one datagram each, for recvmmsg. */
#define SLOT_SIZE (64 * 1024)
#define SLOTS 16
/* How long a socket that just delivered datagrams rests before the next read: the wake-ups it
 * saves are the largest per-datagram cost at a few thousand datagrams/s (bench/README.md,
 * issue 16); what arrives meanwhile waits in the socket buffer (16 MiB by default holds far
 * more than 1 ms at any rate a loop can decode). */
#define REST_MS 1
/* A slow stream (at most REST_FEW datagrams per rest) rests REST_SLOW_MS instead: half the
 * wake-ups, and the socket buffer holds at most about REST_FEW datagrams more, whatever its
 * size.  A faster stream goes back to REST_MS at the next rest. */
#define REST_SLOW_MS 2
#define REST_FEW 16

typedef struct exporter {
    fm_ingest_exporter_t info;
    uint8_t addr[16];
    fm_decoder_t *dec;
    struct exporter *next;     /* hash chain */
} exporter_t;

typedef struct {
    uv_udp_t handle;
    uv_timer_t rest;           /* re-arms reading after REST_MS */
    unsigned got;              /* datagrams since reading was (re)armed */
    bool closing;
    fm_ingest_t *owner;
    struct sockaddr_storage bind;
    char *buf;
    bool bound;
    unsigned long inode;       /* for kernel drop counters (Linux /proc) */
    uint16_t port;
} sock_t;

struct fm_ingest {
    uv_loop_t *loop;
    fm_ingest_conf_t conf;
    char *udp;
    fm_flow_batch_fn sink;
    void *sink_ctx;
    sock_t socks[MAX_SOCKETS];
    size_t nsocks;
    size_t open_handles;
    uv_timer_t sweep;          /* trims idle decoders, expires silent exporters */
    bool sweeping;
    void (*stop_done)(void *);
    void *stop_arg;

    exporter_t **buckets;
    size_t nbuckets;
    size_t nexporters;
    uint32_t next_id;
    uint64_t templates;        /* of every decoder (conf.decode.templates_total points here) */
    uint64_t seed;
    fm_ingest_stats_t st;
    fm_ratelimit_t rl_err;
    fm_ratelimit_t rl_bad;
    fm_ratelimit_t rl_expired;
};

int fm_ingest_parse_endpoint(const char *text, struct sockaddr_storage *ss)
{
    char host[128];
    const char *colon, *hs, *he;
    char *end;

    while (*text == ' ' || *text == '\t') {
        text++;
    }
    if (*text == '[') {
        hs = text + 1;
        he = strchr(hs, ']');
        if (!he || he[1] != ':') {
            return FM_EINVAL;
        }
        colon = he + 1;
    } else {
        colon = strrchr(text, ':');
        if (!colon) {
            return FM_EINVAL;
        }
        hs = text;
        he = colon;
    }
    if ((size_t)(he - hs) >= sizeof(host)) {
        return FM_EINVAL;
    }
    memcpy(host, hs, (size_t)(he - hs));
    host[he - hs] = '\0';
    unsigned long port = strtoul(colon + 1, &end, 10);
    while (*end == ' ' || *end == '\t') {
        end++;
    }
    if (colon[1] == '\0' || *end || port > 65535) {
        return FM_EINVAL;
    }
    memset(ss, 0, sizeof(*ss));
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)ss) == 0) {
        return 0;
    }
    if (uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)ss) == 0) {
        return 0;
    }
    return FM_EINVAL;
}

int fm_ingest_new(uv_loop_t *loop, const fm_ingest_conf_t *conf, fm_flow_batch_fn sink,
                  void *ctx, fm_ingest_t **out, char *err, size_t errlen)
{
    fm_ingest_t *ing = fm_xcalloc(1, sizeof(*ing));
    char *list, *tok, *save = NULL;

    ing->loop = loop;
    ing->conf = *conf;
    ing->udp = fm_xstrdup(conf->udp);
    ing->conf.udp = ing->udp;
    ing->conf.decode.templates_total = &ing->templates;
    ing->sink = sink;
    ing->sink_ctx = ctx;
    ing->nbuckets = 256;
    while (ing->nbuckets < conf->max_exporters) {
        ing->nbuckets *= 2;
    }
    ing->buckets = fm_xcalloc(ing->nbuckets, sizeof(exporter_t *));
    ing->seed = fm_time_mono_ns() ^ ((uint64_t)(uintptr_t)ing << 16);
    fm_ratelimit_init(&ing->rl_err, 5, 10000);
    fm_ratelimit_init(&ing->rl_bad, 10, 10000);
    fm_ratelimit_init(&ing->rl_expired, 10, 60000);

    list = fm_xstrdup(conf->udp);
    for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (ing->nsocks == MAX_SOCKETS) {
            snprintf(err, errlen, "[listen] udp: more than %d endpoints", MAX_SOCKETS);
            goto fail;
        }
        if (fm_ingest_parse_endpoint(tok, &ing->socks[ing->nsocks].bind) < 0) {
            snprintf(err, errlen, "[listen] udp: '%s' is not ADDR:PORT or [ADDR]:PORT", tok);
            goto fail;
        }
        ing->nsocks++;
    }
    free(list);
    if (ing->nsocks == 0) {
        snprintf(err, errlen, "[listen] udp: no endpoint given");
        fm_ingest_free(ing);
        return FM_EINVAL;
    }
    *out = ing;
    return 0;
fail:
    free(list);
    fm_ingest_free(ing);
    return FM_EINVAL;
}

static size_t bucket_of(const fm_ingest_t *ing, const uint8_t addr[16], uint16_t port)
{
    uint8_t key[18];
    memcpy(key, addr, 16);
    memcpy(key + 16, &port, 2);
    return (size_t)XXH3_64bits_withSeed(key, sizeof(key), ing->seed) & (ing->nbuckets - 1);
}

static void unlink_exporter(fm_ingest_t *ing, exporter_t *victim)
{
    size_t b = bucket_of(ing, victim->addr, victim->info.port);
    for (exporter_t **pp = &ing->buckets[b]; *pp; pp = &(*pp)->next) {
        if (*pp == victim) {
            *pp = victim->next;
            break;
        }
    }
    if (ing->conf.gone_exporter) {
        ing->conf.gone_exporter(ing->conf.gone_exporter_ctx, victim->info.id);
    }
    fm_decoder_free(victim->dec);
    free(victim);
    ing->nexporters--;
}

/* The table is full: drop the exporter idle the longest.  A linear scan, but only when a new
 * exporter arrives at a full table, which is itself counted and logged. */
static void evict_idlest(fm_ingest_t *ing)
{
    exporter_t *victim = NULL;
    for (size_t b = 0; b < ing->nbuckets; b++) {
        for (exporter_t *e = ing->buckets[b]; e; e = e->next) {
            if (!victim || e->info.last_seen_ms < victim->info.last_seen_ms) {
                victim = e;
            }
        }
    }
    if (victim) {
        fm_log_rl(&ing->rl_err, LOG_WARNING,
                  "ingest, exporter table full (%u), forgetting idle exporter %s port %u",
                  ing->conf.max_exporters, victim->info.address, victim->info.port);
        unlink_exporter(ing, victim);
        ing->st.exporters_evicted++;
    }
}

static exporter_t *lookup_exporter(fm_ingest_t *ing, const struct sockaddr *sa, uint64_t now)
{
    uint8_t addr[16];
    uint16_t port;

    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        fm_flow_set_v4(addr, ntohl(s4->sin_addr.s_addr));
        port = ntohs(s4->sin_port);
    } else {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        memcpy(addr, &s6->sin6_addr, 16); /* v4 on a dual-stack socket arrives v4-mapped */
        port = ntohs(s6->sin6_port);
    }
    size_t b = bucket_of(ing, addr, port);
    for (exporter_t *e = ing->buckets[b]; e; e = e->next) {
        if (e->info.port == port && memcmp(e->addr, addr, 16) == 0) {
            return e;
        }
    }
    if (ing->nexporters >= ing->conf.max_exporters) {
        evict_idlest(ing);
    }
    exporter_t *e = fm_xcalloc(1, sizeof(*e));
    int rc = fm_decoder_new(&ing->conf.decode, ++ing->next_id, &e->dec);
    if (rc < 0) {
        free(e);
        return NULL;
    }
    memcpy(e->addr, addr, 16);
    e->info.id = ing->next_id;
    e->info.port = port;
    e->info.first_seen_ms = now;
    fm_flow_addr_str(addr, e->info.address, sizeof(e->info.address));
    e->next = ing->buckets[b];
    ing->buckets[b] = e;
    ing->nexporters++;
    fm_log_info("ingest, new exporter %s port %u (id %u)", e->info.address, port, e->info.id);
    if (ing->conf.new_exporter) {
        ing->conf.new_exporter(ing->conf.new_exporter_ctx, &e->info);
    }
    return e;
}

/* Exporters idle this long give back their decoders' rebuildable buffers (fm_decoder_trim):
 * a collector seeing a new exporter every few seconds otherwise keeps ~100 kB for each until
 * it expires (bench/soak.sh). */
#define TRIM_IDLE_MS 10000

/* Every exporter silent for exporter_timeout_ms is forgotten: what it held (decoder, templates,
 * counters) comes back, so the table holds the exporters of the last timeout, not every source
 * port ever seen until max_exporters.  Others idle TRIM_IDLE_MS are trimmed. */
static void on_sweep(uv_timer_t *t)
{
    fm_ingest_t *ing = t->data;
    uint64_t now = fm_time_wall_ms(), timeout = ing->conf.exporter_timeout_ms;
    for (size_t b = 0; b < ing->nbuckets; b++) {
        for (exporter_t *e = ing->buckets[b], *next; e; e = next) {
            next = e->next;
            uint64_t quiet = now > e->info.last_seen_ms ? now - e->info.last_seen_ms : 0;
            if (timeout && quiet >= timeout) {
                fm_log_rl(&ing->rl_expired, LOG_INFO, "ingest, exporter %s port %u (id %u) "
                          "silent for %" PRIu64 " s, forgotten", e->info.address, e->info.port,
                          e->info.id, quiet / 1000);
                unlink_exporter(ing, e);
                ing->st.exporters_expired++;
            } else if (quiet > TRIM_IDLE_MS) {
                fm_decoder_trim(e->dec);
            }
        }
    }
}

static int start_sweep(fm_ingest_t *ing, char *err, size_t errlen)
{
    uint64_t every = TRIM_IDLE_MS;
    int rc;
    if (ing->conf.exporter_timeout_ms && ing->conf.exporter_timeout_ms / 4 < every) {
        every = ing->conf.exporter_timeout_ms / 4 < 250 ? 250 : ing->conf.exporter_timeout_ms / 4;
    }
    if ((rc = uv_timer_init(ing->loop, &ing->sweep)) < 0) {
        snprintf(err, errlen, "ingest, exporter sweep timer: %s", uv_strerror(rc));
        return rc;
    }
    ing->sweep.data = ing;
    ing->sweeping = true;
    ing->open_handles++;
    if ((rc = uv_timer_start(&ing->sweep, on_sweep, every, every)) < 0) {
        snprintf(err, errlen, "ingest, exporter sweep timer: %s", uv_strerror(rc));
        return rc;
    }
    uv_unref((uv_handle_t *)&ing->sweep); /* never what keeps the loop alive */
    return 0;
}

static void alloc_cb(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    sock_t *s = handle->data;
    (void)suggested;
    *buf = uv_buf_init(s->buf, SLOT_SIZE * SLOTS);
}

static void rest_done(uv_timer_t *t);

/* libuv (epoll) leaves a stopped handle's fd in its epoll set until the next event on it: a
 * datagram arriving while the socket rests would still wake the loop once, only for libuv to
 * remove the fd then.  Remove it now; uv_udp_recv_start adds it again (libuv re-adds a
 * stopped fd with EPOLL_CTL_ADD).  Elsewhere nothing to do: the extra wake-up only costs. */
static void forget_fd(uv_udp_t *handle)
{
#ifdef __linux__
    uv_os_fd_t fd;
    if (uv_fileno((const uv_handle_t *)handle, &fd) == 0) {
        (void)epoll_ctl(uv_backend_fd(handle->loop), EPOLL_CTL_DEL, fd, NULL);
    }
#else
    (void)handle;
#endif
}

static void recv_cb(uv_udp_t *handle, ssize_t nread, const uv_buf_t *buf,
                    const struct sockaddr *addr, unsigned flags)
{
    sock_t *s = handle->data;
    fm_ingest_t *ing = s->owner;
    (void)buf;

    if (nread < 0) {
        ing->st.recv_errors++;
        fm_log_rl(&ing->rl_err, LOG_WARNING, "ingest, receive error on port %u: %s", s->port,
                  uv_strerror((int)nread));
        return;
    }
    if (nread == 0 || !addr) {
        /* The socket is drained (recvmmsg found nothing: flags 0, unlike the end of a batch,
         * UV_UDP_MMSG_FREE): rest if this read found datagrams. */
        if (!addr && !(flags & UV_UDP_MMSG_FREE) && s->got && !s->closing) {
            uint64_t rest = s->got <= REST_FEW ? REST_SLOW_MS : REST_MS;
            s->got = 0;
            (void)uv_udp_recv_stop(handle); /* libuv: always 0 */
            forget_fd(handle);
            (void)uv_timer_start(&s->rest, rest_done, rest, 0); /* 0 for a live handle */
        }
        return;
    }
    s->got++;
    if (flags & UV_UDP_PARTIAL) {
        ing->st.malformed++;
        fm_log_rl(&ing->rl_bad, LOG_WARNING, "ingest, datagram truncated to %zd bytes, dropped",
                  nread);
        return;
    }
    uint64_t now = fm_time_wall_ms();
    exporter_t *e = lookup_exporter(ing, addr, now);
    if (!e) {
        return;
    }
    ing->st.datagrams++;
    ing->st.bytes += (uint64_t)nread;
    e->info.last_seen_ms = now;
    int rc = fm_decoder_process(e->dec, (const uint8_t *)buf->base, (size_t)nread, now, ing->sink,
                                ing->sink_ctx);
    if (rc < 0) {
        ing->st.malformed++;
        fm_log_rl(&ing->rl_bad, LOG_WARNING, "ingest, exporter %s port %u, datagram of %zd "
                  "bytes rejected: %s", e->info.address, e->info.port, nread, fm_strerror(rc));
    }
}

static void rest_done(uv_timer_t *t)
{
    sock_t *s = t->data;
    if (!s->closing && uv_udp_recv_start(&s->handle, alloc_cb, recv_cb) < 0) {
        fm_log_rl(&s->owner->rl_err, LOG_ERR, "ingest, port %u: cannot resume receiving",
                  s->port);
    }
}

/* Linux only: the socket's inode, to find its drop counter in /proc/net/udp{,6}. */
static unsigned long socket_inode(uv_udp_t *h)
{
    uv_os_fd_t fd;
    struct stat st;
    if (uv_fileno((uv_handle_t *)h, &fd) != 0 || fstat(fd, &st) != 0) {
        return 0;
    }
    return (unsigned long)st.st_ino;
}

static void warn_rcvbuf(fm_ingest_t *ing, sock_t *s)
{
    int want = (int)ing->conf.rcvbuf, got = 0;
    if (want <= 0) {
        return;
    }
    if (uv_recv_buffer_size((uv_handle_t *)&s->handle, &want) != 0) {
        return;
    }
    if (uv_recv_buffer_size((uv_handle_t *)&s->handle, &got) == 0 &&
        (uint64_t)got < ing->conf.rcvbuf) {
        /* Linux reports twice the usable size; anything below the request means a cap. */
        fm_log_warn("ingest, port %u: receive buffer is %d bytes, %llu requested; raise "
                    "net.core.rmem_max (sysctl -w net.core.rmem_max=%llu) to avoid drops",
                    s->port, got, (unsigned long long)ing->conf.rcvbuf,
                    (unsigned long long)ing->conf.rcvbuf);
    }
}

/* [::] on a host without IPv6 means "all addresses": use 0.0.0.0 instead. */
static bool fall_back_to_v4(sock_t *s, int rc)
{
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&s->bind;
    if (rc != UV_EAFNOSUPPORT || s->bind.ss_family != AF_INET6 ||
        !IN6_IS_ADDR_UNSPECIFIED(&s6->sin6_addr)) {
        return false;
    }
    int port = ntohs(s6->sin6_port);
    (void)uv_ip4_addr("0.0.0.0", port, (struct sockaddr_in *)&s->bind); /* a literal: parses */
    fm_log_notice("ingest, no IPv6 on this host: listening on 0.0.0.0:%d instead of [::]:%d",
                  port, port);
    return true;
}

static int bind_one(fm_ingest_t *ing, sock_t *s, char *err, size_t errlen)
{
    char name[64];
    int rc;

    s->owner = ing;
    if (!s->buf) {
        s->buf = fm_xmalloc(SLOT_SIZE * SLOTS);
    }
    rc = uv_udp_init_ex(ing->loop, &s->handle, s->bind.ss_family | UV_UDP_RECVMMSG);
    if (rc < 0 && fall_back_to_v4(s, rc)) {
        rc = uv_udp_init_ex(ing->loop, &s->handle, AF_INET | UV_UDP_RECVMMSG);
    }
    if (rc < 0) {
        snprintf(err, errlen, "udp socket: %s", uv_strerror(rc));
        s->owner = NULL;
        return rc;
    }
    s->handle.data = s;
    ing->open_handles++;
    if ((rc = uv_timer_init(ing->loop, &s->rest)) < 0) {
        snprintf(err, errlen, "udp socket timer: %s", uv_strerror(rc));
        return rc;
    }
    s->rest.data = s;
    ing->open_handles++;
    /* No SO_REUSEADDR: a second collector on the same port must fail, not steal datagrams. */
    rc = uv_udp_bind(&s->handle, (struct sockaddr *)&s->bind, 0);
    if (rc < 0) {
        if (uv_ip_name((struct sockaddr *)&s->bind, name, sizeof(name)) < 0) {
            snprintf(name, sizeof(name), "?");
        }
        snprintf(err, errlen, "cannot bind UDP %s port %u: %s", name,
                 ntohs(((struct sockaddr_in *)&s->bind)->sin_port), uv_strerror(rc));
        return rc;
    }
    s->bound = true;
    s->port = ntohs(((struct sockaddr_in *)&s->bind)->sin_port);
    s->inode = socket_inode(&s->handle);
    warn_rcvbuf(ing, s);
    return uv_udp_recv_start(&s->handle, alloc_cb, recv_cb);
}

int fm_ingest_start(fm_ingest_t *ing, char *err, size_t errlen)
{
    for (size_t i = 0; i < ing->nsocks; i++) {
        int rc = bind_one(ing, &ing->socks[i], err, errlen);
        if (rc < 0) {
            return rc;
        }
    }
    ing->st.sockets = ing->nsocks;
    return start_sweep(ing, err, errlen);
}

static void handle_closed(fm_ingest_t *ing)
{
    if (--ing->open_handles == 0 && ing->stop_done) {
        ing->stop_done(ing->stop_arg);
    }
}

static void close_cb(uv_handle_t *h)
{
    sock_t *s = h->data;
    handle_closed(s->owner);
}

static void sweep_closed(uv_handle_t *h)
{
    handle_closed(h->data);
}

void fm_ingest_stop(fm_ingest_t *ing, void (*done)(void *arg), void *arg)
{
    size_t closing = 0;
    ing->stop_done = done;
    ing->stop_arg = arg;
    for (size_t i = 0; i < ing->nsocks; i++) {
        uv_handle_t *h = (uv_handle_t *)&ing->socks[i].handle;
        if (ing->socks[i].owner && !uv_is_closing(h)) {
            sock_t *s = &ing->socks[i];
            s->closing = true;
            (void)uv_udp_recv_stop(&s->handle); /* libuv: always 0 */
            uv_close(h, close_cb);
            closing++;
            if (s->rest.loop) { /* initialised */
                uv_close((uv_handle_t *)&s->rest, close_cb);
                closing++;
            }
        }
    }
    if (ing->sweeping) {
        ing->sweeping = false;
        uv_close((uv_handle_t *)&ing->sweep, sweep_closed);
        closing++;
    }
    if (closing == 0 && done) {
        done(arg);
    }
}

void fm_ingest_free(fm_ingest_t *ing)
{
    if (!ing) {
        return;
    }
    for (size_t b = 0; b < ing->nbuckets; b++) {
        exporter_t *e = ing->buckets[b];
        while (e) {
            exporter_t *next = e->next;
            fm_decoder_free(e->dec);
            free(e);
            e = next;
        }
    }
    for (size_t i = 0; i < ing->nsocks; i++) {
        free(ing->socks[i].buf);
    }
    free(ing->buckets);
    free(ing->udp);
    free(ing);
}

/* Linux only: sum the "drops" column of our sockets in /proc/net/udp and /proc/net/udp6. */
static uint64_t kernel_drops(const fm_ingest_t *ing)
{
    static const char *const files[] = {"/proc/net/udp", "/proc/net/udp6"};
    uint64_t total = 0;
    char line[512];

    for (size_t f = 0; f < 2; f++) {
        FILE *fp = fopen(files[f], "r");
        if (!fp) {
            continue;
        }
        while (fgets(line, sizeof(line), fp)) {
            unsigned long inode = 0;
            unsigned long long drops = 0;
            /* sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops */
            if (sscanf(line, "%*s %*s %*s %*s %*s %*s %*s %*s %*s %lu %*s %*s %llu", &inode,
                       &drops) != 2) {
                continue;
            }
            for (size_t i = 0; i < ing->nsocks; i++) {
                if (ing->socks[i].bound && ing->socks[i].inode == inode) {
                    total += drops;
                }
            }
        }
        fclose(fp);
    }
    return total;
}

void fm_ingest_stats(fm_ingest_t *ing, fm_ingest_stats_t *st)
{
    uint64_t records = 0;
    for (size_t b = 0; b < ing->nbuckets; b++) {
        for (exporter_t *e = ing->buckets[b]; e; e = e->next) {
            records += fm_decoder_stats(e->dec)->records;
        }
    }
    *st = ing->st;
    st->records = records;
    st->exporters = ing->nexporters;
    st->templates = ing->templates;
    st->kernel_drops = kernel_drops(ing);
}

void fm_ingest_foreach(fm_ingest_t *ing, void (*fn)(void *ctx, const fm_ingest_exporter_t *e),
                       void *ctx)
{
    for (size_t b = 0; b < ing->nbuckets; b++) {
        for (exporter_t *e = ing->buckets[b]; e; e = e->next) {
            e->info.stats = *fm_decoder_stats(e->dec);
            fn(ctx, &e->info);
        }
    }
}

void fm_ingest_describe(const fm_ingest_t *ing, char *buf, size_t len)
{
    size_t off = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ing->nsocks && off < len; i++) {
        char name[64];
        if (uv_ip_name((const struct sockaddr *)&ing->socks[i].bind, name, sizeof(name)) < 0) {
            snprintf(name, sizeof(name), "?");
        }
        off += (size_t)snprintf(buf + off, len - off, "%s%s%s%s:%u", i ? ", " : "",
                                ing->socks[i].bind.ss_family == AF_INET6 ? "[" : "", name,
                                ing->socks[i].bind.ss_family == AF_INET6 ? "]" : "",
                                ing->socks[i].port);
    }
}

/* Whether the port is free: bind a throw-away socket the way bind_one() will (no reuse). */
static int probe_bind(const struct sockaddr_storage *ss, const char *tok, char *err,
                      size_t errlen)
{
    int fd = socket(ss->ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    socklen_t len = ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                              : sizeof(struct sockaddr_in);
    int rc = 0;

    if (fd < 0) {
        /* No IPv6 on this host: start-up falls back to IPv4 for a wildcard address. */
        return errno == EAFNOSUPPORT ? 0 : -errno;
    }
    if (bind(fd, (const struct sockaddr *)ss, len) < 0) {
        rc = -errno;
        snprintf(err, errlen, "[listen] udp: cannot bind %s: %s", tok, strerror(errno));
    }
    close(fd);
    return rc;
}

int fm_ingest_check(const char *udp, char *err, size_t errlen)
{
    char *list = fm_xstrdup(udp ? udp : ""), *save = NULL, *tok;
    size_t n = 0;
    int rc = 0;

    for (tok = strtok_r(list, ",", &save); tok && rc == 0; tok = strtok_r(NULL, ",", &save)) {
        struct sockaddr_storage ss;
        while (*tok == ' ') {
            tok++;
        }
        if (++n > MAX_SOCKETS) {
            snprintf(err, errlen, "[listen] udp: more than %d endpoints", MAX_SOCKETS);
            rc = FM_EINVAL;
        } else if (fm_ingest_parse_endpoint(tok, &ss) < 0) {
            snprintf(err, errlen, "[listen] udp: '%s' is not ADDR:PORT or [ADDR]:PORT", tok);
            rc = FM_EINVAL;
        } else {
            rc = probe_bind(&ss, tok, err, errlen);
        }
    }
    if (rc == 0 && n == 0) {
        snprintf(err, errlen, "[listen] udp: no endpoint given");
        rc = FM_EINVAL;
    }
    free(list);
    return rc;
}
