/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Control server on the daemon's libuv loop: a listening Unix socket, one record per client
 * with its partial request line, line splitting, permission checks and dispatch to the
 * handlers the daemon registered.  The wire format and the command table are ctl_proto's; the
 * meaning of each command is the daemon's (daemon_ctl.c).
 *
 * Lifetimes: the listener and every client are uv handles; a client record is freed in its
 * close callback, the server itself by fm_ctl_free() once fm_ctl_stop() reported that every
 * handle is closed.  Replies are written with uv_write(); the bytes libuv could not hand to
 * the kernel yet are bounded per client, so a client that does not read is disconnected
 * instead of growing the daemon's memory or stalling the loop.
 *
 * Connections are bounded (max_clients) without letting anyone lock the operator out: a client
 * that sends nothing for idle_ms is closed by a sweep timer, and a connection arriving when
 * all slots are taken displaces the least recently active client of the user holding the most
 * connections (one user cannot starve another), unless every client was active in the last
 * second; only then is the newcomer refused.
 */
#include "config.h"

#include "ctl.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_int.h"
#include "ctl_proto.h"
#include "log.h"
#include "util/err.h"
#include "util/mem.h"

#define FIRST_BUF 4096 /* a client's first read buffer; grows up to FM_CTL_MAX_REQUEST */
#define LISTEN_BACKLOG 64

typedef struct client client_t;

struct client {
    uv_pipe_t pipe; /* data points back here */
    uv_shutdown_t shut;
    fm_ctl_t *ctl;
    client_t *prev, *next;
    char *buf;      /* unprocessed bytes: at most one partial line after a read */
    size_t len;     /* bytes in buf */
    size_t cap;     /* allocated size of buf, at most FM_CTL_MAX_REQUEST */
    size_t scanned; /* buf[0..scanned) holds no newline */
    struct ucred cred;
    bool have_cred;
    int may_mutate; /* -1 not checked yet, else 0/1 */
    bool finishing; /* final reply queued, waiting for shutdown; no more requests */
    bool closing;   /* uv_close called */
    uint64_t active_ms; /* loop time of the last accept, read or reply (idle timeout) */
    fm_ctl_reply_t *deferred; /* a reply still to come: later requests wait (order) */
    bool eof;       /* the client shut its side down while a reply was deferred */
};

struct fm_ctl_reply {
    client_t *c;    /* NULL once the client is gone */
    bool done;      /* finished from inside its own handler: run_handler sends it */
    int rc;
    json_t *result;
    char err[512];
};

typedef struct {
    fm_ctl_handler_fn fn;
    void *ctx;
} handler_t;

struct fm_ctl {
    uv_loop_t *loop;
    char *path;
    uv_pipe_t listener;
    bool listening;   /* listener handle initialised and not closed */
    bool started;
    bool stopping;
    bool bound;       /* we created the socket file: remove it on stop */
    ino_t sock_ino;
    gid_t sock_gid;
    uid_t self_uid;
    size_t max_queued;
    unsigned max_clients;
    uint64_t idle_ms;
    uv_timer_t sweep;    /* closes idle clients */
    bool sweeping;       /* sweep initialised and not closed */
    handler_t *handlers; /* indexed like the command table */
    client_t *clients;
    unsigned nclients;   /* clients in the list (not closing) */
    unsigned open_handles;
    void (*done)(void *arg);
    void *done_arg;
    bool done_called;
    fm_ratelimit_t rl;
    fm_ctl_stats_t st;
    client_t *current;   /* the client whose handler runs now (fm_ctl_defer) */
};

int fm_ctl_new(uv_loop_t *loop, const char *path, fm_ctl_t **out)
{
    struct sockaddr_un sun;

    if (!loop || !path || !*path || !out) {
        return FM_EINVAL;
    }
    if (strlen(path) >= sizeof(sun.sun_path)) {
        return -ENAMETOOLONG;
    }
    fm_ctl_t *ctl = fm_xcalloc(1, sizeof(*ctl));
    ctl->loop = loop;
    ctl->path = fm_xstrdup(path);
    ctl->self_uid = geteuid();
    ctl->max_queued = FM_CTL_DEFAULT_MAX_QUEUED;
    ctl->max_clients = FM_CTL_DEFAULT_MAX_CLIENTS;
    ctl->idle_ms = FM_CTL_DEFAULT_IDLE_MS;
    ctl->handlers = fm_xcalloc(fm_ctl_cmd_count(), sizeof(*ctl->handlers));
    fm_ratelimit_init(&ctl->rl, 5, 60000);
    *out = ctl;
    return 0;
}

void fm_ctl_set_limits(fm_ctl_t *ctl, size_t max_queued, unsigned max_clients)
{
    if (max_queued) {
        ctl->max_queued = max_queued;
    }
    if (max_clients) {
        ctl->max_clients = max_clients;
    }
}

void fm_ctl_set_idle(fm_ctl_t *ctl, uint64_t idle_ms)
{
    if (idle_ms) {
        ctl->idle_ms = idle_ms;
    }
}

int fm_ctl_register(fm_ctl_t *ctl, const char *name, fm_ctl_handler_fn fn, void *ctx)
{
    if (!ctl || !name || !fn) {
        return FM_EINVAL;
    }
    for (size_t i = 0; i < fm_ctl_cmd_count(); i++) {
        const fm_ctl_cmd_t *c = fm_ctl_cmd_at(i);
        if (strcmp(c->name, name)) {
            continue;
        }
        if (c->builtin) {
            return FM_EINVAL;
        }
        if (ctl->handlers[i].fn) {
            return FM_EEXIST;
        }
        ctl->handlers[i].fn = fn;
        ctl->handlers[i].ctx = ctx;
        return 0;
    }
    return FM_ENOENT;
}

void fm_ctl_stats(const fm_ctl_t *ctl, fm_ctl_stats_t *out)
{
    *out = ctl->st;
    out->clients = ctl->nclients;
    out->max_clients = ctl->max_clients;
}

/* ---- closing ---------------------------------------------------------------------------- */

static void maybe_done(fm_ctl_t *ctl)
{
    if (ctl->stopping && ctl->open_handles == 0 && !ctl->done_called) {
        ctl->done_called = true;
        if (ctl->done) {
            ctl->done(ctl->done_arg);
        }
    }
}

static void on_client_closed(uv_handle_t *h)
{
    client_t *c = h->data;
    fm_ctl_t *ctl = c->ctl;

    free(c->buf);
    free(c);
    ctl->open_handles--;
    maybe_done(ctl);
}

/* Close a client now; queued replies are cancelled.  Safe to call more than once. */
static void client_close(client_t *c)
{
    fm_ctl_t *ctl = c->ctl;

    if (c->closing) {
        return;
    }
    c->closing = true;
    if (c->prev) {
        c->prev->next = c->next;
    } else {
        ctl->clients = c->next;
    }
    if (c->next) {
        c->next->prev = c->prev;
    }
    ctl->nclients--;
    if (c->deferred && c->deferred->done) {
        json_decref(c->deferred->result); /* finished but never sent */
        free(c->deferred);
    } else if (c->deferred) {
        c->deferred->c = NULL; /* the reply is dropped when its owner finishes it */
    }
    c->deferred = NULL;
    (void)uv_read_stop((uv_stream_t *)&c->pipe); /* libuv: always 0 */
    uv_close((uv_handle_t *)&c->pipe, on_client_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    client_close(req->data);
}

/* Close a client once the replies already queued have been written. */
static void client_finish(client_t *c)
{
    if (c->finishing || c->closing) {
        return;
    }
    c->finishing = true;
    (void)uv_read_stop((uv_stream_t *)&c->pipe); /* libuv: always 0 */
    c->shut.data = c;
    if (uv_shutdown(&c->shut, (uv_stream_t *)&c->pipe, on_shutdown) < 0) {
        client_close(c);
    }
}

/* ---- replies ---------------------------------------------------------------------------- */

typedef struct {
    uv_write_t req;
    char *line;
} write_t;

static void on_write(uv_write_t *req, int status)
{
    write_t *w = (write_t *)req;
    client_t *c = req->handle->data;

    free(w->line);
    free(w);
    /* EPIPE/ECONNRESET: the client went away mid-reply; ECANCELED: we are closing it. */
    if (status < 0) {
        client_close(c);
    }
}

/* Queue one reply line (takes ownership of line); disconnects a client that does not read. */
static void send_line(client_t *c, char *line, size_t len)
{
    fm_ctl_t *ctl = c->ctl;
    uv_stream_t *s = (uv_stream_t *)&c->pipe;

    if (!line) {
        client_close(c); /* out of memory building the reply */
        return;
    }
    size_t queued = uv_stream_get_write_queue_size(s);
    if (queued > 0 && queued + len > ctl->max_queued) {
        free(line);
        ctl->st.slow_disconnects++;
        fm_log_rl(&ctl->rl, LOG_NOTICE,
                  "ctl, client not reading its replies (%zu bytes queued), disconnected", queued);
        client_close(c);
        return;
    }
    write_t *w = fm_xmalloc(sizeof(*w));
    w->line = line;
    uv_buf_t b = uv_buf_init(line, (unsigned)len);
    if (uv_write(&w->req, s, &b, 1, on_write) < 0) {
        free(line);
        free(w);
        client_close(c);
    }
}

static void send_error(client_t *c, const char *msg)
{
    size_t len = 0;
    char *line = fm_ctl_proto_reply_err(msg, &len);
    c->ctl->st.errors++;
    send_line(c, line, len);
}

/* ---- permissions ------------------------------------------------------------------------ */

bool fm__ctl_groups_contain(const char *status, gid_t gid)
{
    const char *p = strstr(status, "\nGroups:");
    if (!p) {
        return false;
    }
    p += strlen("\nGroups:");
    while (*p && *p != '\n') {
        char *end;
        unsigned long g = strtoul(p, &end, 10);
        if (end == p) {
            p++;
            continue;
        }
        if ((gid_t)g == gid && g == (unsigned long)(gid_t)g) {
            return true;
        }
        p = end;
    }
    return false;
}

/* Supplementary groups from procfs: no NSS lookup (which could block on LDAP) on the loop. */
/* Linux: the peer's supplementary groups straight from the socket (SO_PEERGROUPS, 4.13+).  This
 * works where /proc of other users is hidden (systemd ProtectProc=invisible).  Returns -1 when
 * the kernel cannot tell, so the caller falls back to /proc. */
static int peer_groups_contain(const client_t *c, gid_t gid)
{
#ifdef SO_PEERGROUPS
    gid_t groups[256];
    socklen_t len = sizeof(groups);
    uv_os_fd_t fd;
    if (uv_fileno((const uv_handle_t *)&c->pipe, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) != 0) {
        return FM_EIO; /* cannot tell: the caller asks /proc */
    }
    for (size_t i = 0; i < len / sizeof(gid_t); i++) {
        if (groups[i] == gid) {
            return 1;
        }
    }
    return 0;
#else
    (void)c;
    (void)gid;
    return -ENOTSUP;
#endif
}

static bool peer_in_group(pid_t pid, gid_t gid)
{
    char path[64], text[4096];
    snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0) {
        return false;
    }
    text[n] = '\0';
    return fm__ctl_groups_contain(text, gid);
}

static bool may_mutate(client_t *c)
{
    fm_ctl_t *ctl = c->ctl;

    if (c->may_mutate < 0) {
        const struct ucred *cr = &c->cred;
        int in_groups = peer_groups_contain(c, ctl->sock_gid);
        c->may_mutate = c->have_cred &&
                        (cr->uid == 0 || cr->uid == ctl->self_uid || cr->gid == ctl->sock_gid ||
                         in_groups == 1 ||
                         (in_groups < 0 && peer_in_group(cr->pid, ctl->sock_gid)));
    }
    return c->may_mutate > 0;
}

/* ---- requests --------------------------------------------------------------------------- */

static json_t *builtin(const fm_ctl_cmd_t *cmd)
{
    if (!strcmp(cmd->name, "version")) {
        return json_pack("{sssi}", "version", PACKAGE_VERSION, "protocol",
                         FM_CTL_PROTO_VERSION);
    }
    return json_object(); /* ping */
}

static void run_handler(client_t *c, const fm_ctl_cmd_t *cmd, const json_t *req)
{
    fm_ctl_t *ctl = c->ctl;
    handler_t *h = &ctl->handlers[cmd - fm_ctl_cmd_at(0)];
    json_t *result = NULL;
    char err[512] = "";
    size_t len = 0;

    if (!h->fn) {
        snprintf(err, sizeof(err), "command '%s' is not available in this daemon", cmd->name);
        send_error(c, err);
        return;
    }
    ctl->current = c;
    int rc = h->fn(h->ctx, req, &result, err, sizeof(err));
    ctl->current = NULL;
    if (rc == FM_CTL_DEFERRED && c->deferred && c->deferred->done) {
        /* Finished before the handler returned: answer now, as for a direct reply. */
        fm_ctl_reply_t *r = c->deferred;
        c->deferred = NULL;
        rc = r->rc;
        result = r->result;
        snprintf(err, sizeof(err), "%s", r->err);
        free(r);
    } else if (rc == FM_CTL_DEFERRED && c->deferred) {
        /* Read no further requests until the reply is sent: replies keep their order. */
        (void)uv_read_stop((uv_stream_t *)&c->pipe); /* libuv: always 0 */
        return;
    }
    if (rc == FM_CTL_DEFERRED) {
        rc = FM_EINVAL; /* a handler that did not call fm_ctl_defer(): a bug, answered */
        snprintf(err, sizeof(err), "command '%s' deferred without a reply", cmd->name);
    }
    if (rc < 0) {
        json_decref(result);
        send_error(c, err[0] ? err : fm_strerror(rc));
        return;
    }
    char *line = fm_ctl_proto_reply_ok(result, &len);
    if (!line) {
        send_error(c, "cannot encode the reply (invalid string or number in the result)");
        return;
    }
    send_line(c, line, len);
}

static void handle_line(client_t *c, const char *line, size_t n)
{
    fm_ctl_t *ctl = c->ctl;
    const fm_ctl_cmd_t *cmd;
    json_t *req;
    char err[256];
    size_t len = 0;

    if (n > 0 && line[n - 1] == '\r') {
        n--; /* tolerate CRLF from interactive tools */
    }
    if (n == 0) {
        return;
    }
    ctl->st.requests++;
    if (fm_ctl_proto_parse_request(line, n, &req, &cmd, err, sizeof(err)) < 0) {
        send_error(c, err);
        return;
    }
    if (cmd->mutating && !may_mutate(c)) {
        ctl->st.denied++;
        snprintf(err, sizeof(err),
                 "permission denied: '%s' changes the daemon's state and needs root, the "
                 "daemon's user or a member of the socket's group",
                 cmd->name);
        send_error(c, err);
    } else if (cmd->builtin) {
        char *reply = fm_ctl_proto_reply_ok(builtin(cmd), &len);
        send_line(c, reply, len);
    } else {
        run_handler(c, cmd, req);
    }
    json_decref(req);
}

/* Answer every complete line in the buffer and keep the partial one. */
static void process_lines(client_t *c)
{
    size_t start = 0;

    while (!c->closing && !c->finishing && !c->deferred) {
        char *nl = memchr(c->buf + c->scanned, '\n', c->len - c->scanned);
        if (!nl) {
            c->scanned = c->len;
            break;
        }
        size_t end = (size_t)(nl - c->buf);
        handle_line(c, c->buf + start, end - start);
        start = end + 1;
        c->scanned = start;
    }
    if (start > 0 && !c->closing) {
        memmove(c->buf, c->buf + start, c->len - start);
        c->len -= start;
        c->scanned -= start;
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    client_t *c = h->data;
    (void)suggested;

    if (c->len == c->cap && c->cap < FM_CTL_MAX_REQUEST) {
        size_t cap = c->cap ? c->cap * 2 : FIRST_BUF;
        c->cap = cap < FM_CTL_MAX_REQUEST ? cap : FM_CTL_MAX_REQUEST;
        c->buf = fm_xreallocarray(c->buf, c->cap, 1);
    }
    /* A full buffer at the limit gives len 0, which libuv reports as UV_ENOBUFS. */
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(c->cap - c->len));
}

static void oversized(client_t *c)
{
    char msg[96];
    c->ctl->st.oversized++;
    snprintf(msg, sizeof(msg), "request line longer than %d bytes; closing the connection",
             FM_CTL_MAX_REQUEST);
    send_error(c, msg);
    client_finish(c);
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client_t *c = s->data;
    (void)buf;

    if (c->closing || c->finishing || nread == 0) {
        return;
    }
    if (nread == UV_ENOBUFS) {
        oversized(c);
        return;
    }
    if (nread == UV_EOF) {
        /* The client shut its side down: answer a last unterminated line, then close. */
        if (c->len > 0) {
            handle_line(c, c->buf, c->len);
            c->len = c->scanned = 0;
        }
        if (c->deferred) {
            c->eof = true; /* closed once the deferred reply is sent */
        } else {
            client_finish(c);
        }
        return;
    }
    if (nread < 0) {
        client_close(c);
        return;
    }
    c->len += (size_t)nread;
    c->active_ms = uv_now(c->ctl->loop);
    process_lines(c);
    if (!c->closing && !c->finishing && c->len >= FM_CTL_MAX_REQUEST) {
        oversized(c);
    }
}

/* ---- bounds on clients ------------------------------------------------------------------ */

static void on_sweep(uv_timer_t *t)
{
    fm_ctl_t *ctl = t->data;
    uint64_t now = uv_now(ctl->loop);
    for (client_t *c = ctl->clients, *next; c; c = next) {
        next = c->next;
        /* A client waiting for a deferred reply (a commit, an export) is not idle. */
        if (!c->finishing && !c->deferred && now - c->active_ms > ctl->idle_ms) {
            ctl->st.idle_closed++;
            client_close(c);
        }
    }
}

/* Clients of c's user, not counting finishing ones. */
static unsigned user_clients(const fm_ctl_t *ctl, const client_t *c)
{
    unsigned n = 0;
    for (const client_t *o = ctl->clients; o; o = o->next) {
        n += !o->finishing && o->have_cred == c->have_cred && o->cred.uid == c->cred.uid;
    }
    return n;
}

/* All slots taken when `newc` arrived: close the least recently active client of the user
 * holding the most connections, if it has been quiet for a second.  @return true if one was
 * closed. */
static bool displace(fm_ctl_t *ctl, const client_t *newc)
{
    uint64_t now = uv_now(ctl->loop);
    client_t *victim = NULL;
    unsigned most = 0;
    for (client_t *c = ctl->clients; c; c = c->next) {
        if (c == newc || c->finishing || c->deferred || now - c->active_ms < 1000) {
            continue;
        }
        unsigned n = user_clients(ctl, c);
        if (n > most || (n == most && c->active_ms < victim->active_ms)) {
            most = n;
            victim = c;
        }
    }
    if (!victim) {
        return false;
    }
    ctl->st.displaced++;
    fm_log_rl(&ctl->rl, LOG_NOTICE, "ctl, %u clients connected: closed the idlest of uid %ld's "
              "%u to let a new one in", ctl->max_clients, (long)victim->cred.uid, most);
    send_error(victim, "too many control clients connected; closing the idlest");
    client_finish(victim);
    return true;
}

/* ---- deferred replies -------------------------------------------------------------------- */

fm_ctl_reply_t *fm_ctl_defer(fm_ctl_t *ctl)
{
    client_t *c = ctl->current;
    if (!c || c->deferred) {
        return NULL;
    }
    c->deferred = fm_xcalloc(1, sizeof(*c->deferred));
    c->deferred->c = c;
    return c->deferred;
}

void fm_ctl_reply_finish(fm_ctl_reply_t *r, int rc, json_t *result, const char *err)
{
    client_t *c = r ? r->c : NULL;
    size_t len = 0;

    if (c && c->ctl->current == c) {
        /* Still inside the handler that deferred it: run_handler sends it when it returns
         * (sending from here would process this client's next lines re-entrantly). */
        r->done = true;
        r->rc = rc;
        r->result = result;
        snprintf(r->err, sizeof(r->err), "%s", err ? err : "");
        return;
    }
    free(r);
    if (!c) {
        json_decref(result); /* the client went away meanwhile */
        return;
    }
    c->deferred = NULL;
    c->active_ms = uv_now(c->ctl->loop); /* the idle timeout counts from the reply */
    if (rc < 0) {
        json_decref(result);
        send_error(c, err && *err ? err : fm_strerror(rc));
    } else {
        char *line = fm_ctl_proto_reply_ok(result, &len);
        if (line) {
            send_line(c, line, len);
        } else {
            send_error(c, "cannot encode the reply (invalid string or number in the result)");
        }
    }
    if (c->closing || c->finishing) {
        return;
    }
    /* Requests that arrived meanwhile, then reading again (or the close the client asked for). */
    process_lines(c);
    if (c->closing || c->finishing || c->deferred) {
        return;
    }
    if (c->eof) {
        client_finish(c);
    } else if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0) {
        client_close(c);
    }
}

/* ---- accepting -------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
    fm_ctl_t *ctl = server->data;
    uv_os_fd_t fd;

    if (status < 0) {
        fm_log_rl(&ctl->rl, LOG_WARNING, "ctl, accept on %s failed: %s", ctl->path,
                  uv_strerror(status));
        return;
    }
    client_t *c = fm_xcalloc(1, sizeof(*c));
    c->ctl = ctl;
    c->may_mutate = -1;
    c->active_ms = uv_now(ctl->loop);
    int rc = uv_pipe_init(ctl->loop, &c->pipe, 0);
    if (rc < 0) { /* never initialised: nothing to close; the connection waits in the backlog */
        fm_log_rl(&ctl->rl, LOG_WARNING, "ctl, client on %s: %s", ctl->path, uv_strerror(rc));
        free(c);
        return;
    }
    c->pipe.data = c;
    ctl->open_handles++;
    c->next = ctl->clients;
    if (c->next) {
        c->next->prev = c;
    }
    ctl->clients = c;
    ctl->nclients++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        client_close(c);
        return;
    }
    ctl->st.connections++;
    socklen_t sl = sizeof(c->cred);
    c->have_cred = uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 &&
                   getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &sl) == 0;
    if (ctl->nclients > ctl->max_clients && !displace(ctl, c)) {
        ctl->st.refused++;
        send_error(c, "too many control clients connected; try again later");
        client_finish(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) < 0) {
        client_close(c);
    }
}

/* ---- start and stop --------------------------------------------------------------------- */

/* Remove a socket file nobody answers on; refuse if a live server does, or if not a socket. */
static int clear_stale(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, rc;

    if (lstat(path, &st) < 0) {
        return errno == ENOENT ? 0 : -errno;
    }
    if (!S_ISSOCK(st.st_mode)) {
        return FM_EEXIST;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    /* Non-blocking: a live server with a full backlog answers EAGAIN instead of blocking us. */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
    int e = errno;
    close(fd);
    if (rc == 0 || e == EAGAIN || e == EINPROGRESS) {
        return FM_EBUSY;
    }
    if (e != ECONNREFUSED) {
        return -e;
    }
    if (unlink(path) < 0 && errno != ENOENT) {
        return -errno;
    }
    return 0;
}

/* socket + bind + chmod + listen by hand: nothing to close through the loop if a step fails. */
static int open_socket(fm_ctl_t *ctl, int *out)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct stat st;
    int fd, rc;

    memcpy(sun.sun_path, ctl->path, strlen(ctl->path) + 1);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        return -errno;
    }
    /* The umask keeps the file from ever being wider than 0660, chmod makes it exactly that. */
    mode_t old = umask(0117);
    rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
    umask(old);
    if (rc < 0) {
        rc = -errno;
        goto fail_fd;
    }
    if (chmod(ctl->path, 0660) < 0 || stat(ctl->path, &st) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        rc = -errno;
        goto fail_file;
    }
    ctl->sock_ino = st.st_ino;
    ctl->sock_gid = st.st_gid;
    *out = fd;
    return 0;
fail_file:
    unlink(ctl->path);
fail_fd:
    close(fd);
    return rc;
}

int fm_ctl_start(fm_ctl_t *ctl)
{
    int fd, rc;

    if (!ctl || ctl->started || ctl->stopping) {
        return FM_EINVAL;
    }
    signal(SIGPIPE, SIG_IGN);
    if ((rc = clear_stale(ctl->path)) < 0 || (rc = open_socket(ctl, &fd)) < 0) {
        return rc;
    }
    ctl->started = true;
    ctl->bound = true;
    if ((rc = uv_pipe_init(ctl->loop, &ctl->listener, 0)) < 0) {
        close(fd);
        return rc;
    }
    ctl->listener.data = ctl;
    ctl->listening = true;
    ctl->open_handles++;
    if ((rc = uv_pipe_open(&ctl->listener, fd)) < 0) {
        close(fd);
        return rc;
    }
    if ((rc = uv_listen((uv_stream_t *)&ctl->listener, LISTEN_BACKLOG, on_connection)) < 0) {
        return rc;
    }
    if ((rc = uv_timer_init(ctl->loop, &ctl->sweep)) < 0) {
        return rc;
    }
    ctl->sweep.data = ctl;
    ctl->sweeping = true;
    ctl->open_handles++;
    uint64_t every = ctl->idle_ms / 4 < 250 ? 250 : ctl->idle_ms / 4;
    if ((rc = uv_timer_start(&ctl->sweep, on_sweep, every, every)) < 0) {
        return rc;
    }
    uv_unref((uv_handle_t *)&ctl->sweep); /* never what keeps the loop alive */
    fm_log_debug("ctl, listening on %s (mode 0660, group %ld)", ctl->path, (long)ctl->sock_gid);
    return 0;
}

static void on_listener_closed(uv_handle_t *h)
{
    fm_ctl_t *ctl = h->data;
    ctl->open_handles--;
    maybe_done(ctl);
}

void fm_ctl_stop(fm_ctl_t *ctl, void (*done)(void *arg), void *arg)
{
    struct stat st;

    if (!ctl || ctl->stopping) {
        return;
    }
    ctl->stopping = true;
    ctl->done = done;
    ctl->done_arg = arg;
    if (ctl->listening) {
        ctl->listening = false;
        uv_close((uv_handle_t *)&ctl->listener, on_listener_closed);
    }
    if (ctl->sweeping) {
        ctl->sweeping = false;
        uv_close((uv_handle_t *)&ctl->sweep, on_listener_closed);
    }
    while (ctl->clients) {
        client_close(ctl->clients);
    }
    /* Remove the file only if it is still ours (not replaced by someone else since). */
    if (ctl->bound && lstat(ctl->path, &st) == 0 && st.st_ino == ctl->sock_ino) {
        unlink(ctl->path);
    }
    ctl->bound = false;
    maybe_done(ctl);
}

void fm_ctl_free(fm_ctl_t *ctl)
{
    if (!ctl) {
        return;
    }
    assert(ctl->open_handles == 0); /* fm_ctl_stop() and its done callback come first */
    free(ctl->handlers);
    free(ctl->path);
    free(ctl);
}
