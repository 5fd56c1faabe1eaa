/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Control server: a Unix stream socket on the daemon's libuv loop that reads one JSON request
 * per line, dispatches it to a handler the daemon registered and writes one JSON reply per
 * line (wire format and command table: ctl_proto.h).  It answers `ping` and `version` itself.
 *
 * What it guarantees: malformed, unknown or oversized requests get an error reply, never a
 * crash; a request line longer than FM_CTL_MAX_REQUEST gets an error and the connection is
 * closed; a client whose unread replies exceed the queue bound is disconnected, so a slow or
 * dead client never blocks the loop.  Mutating commands (table flag) are refused unless the
 * peer (SO_PEERCRED) is root, runs as the daemon's user, or is a member of the socket file's
 * group.  What it leaves to the daemon: the commands' meaning and their results.
 *
 * Everything here runs on the loop thread.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

typedef struct fm_ctl fm_ctl_t;

/**
 * A command handler.  Runs on the loop thread, must not block.
 * @param[in]  ctx     the pointer given to fm_ctl_register().
 * @param[in]  req     the whole request object (borrowed for the call); arguments are checked
 *                     against the command table: only known members, all strings, required
 *                     ones present.
 * @param[out] result  on success a new reference the server takes (NULL: empty object).
 * @param[out] err     on failure a message for the client (NUL-terminated, may stay empty).
 * @return 0 on success, a negative FM_E* code on failure (then *result, if set, is released),
 *         or FM_CTL_DEFERRED after fm_ctl_defer() (then *result is ignored).
 */
typedef int (*fm_ctl_handler_fn)(void *ctx, const json_t *req, json_t **result, char *err,
                                 size_t errlen);

/** A handler's return value: the reply comes later, through fm_ctl_reply_finish(). */
#define FM_CTL_DEFERRED 1

/** A reply to send later (fm_ctl_defer). */
typedef struct fm_ctl_reply fm_ctl_reply_t;

/**
 * Inside a handler only: keep the current request's reply open, to be sent by
 * fm_ctl_reply_finish() from a later callback (a commit, a thread-pool read); the handler then
 * returns FM_CTL_DEFERRED.  The loop goes on serving everyone else; this client's further
 * requests wait, so its replies stay in order.
 * @return the reply (owned by the caller until finished), or NULL outside a handler.
 */
fm_ctl_reply_t *fm_ctl_defer(fm_ctl_t *ctl);

/**
 * Send a deferred reply and release it.  Valid also after the client disconnected or the
 * server stopped or was freed (then it only releases).
 * @param[in] rc      0: result is sent (a new reference, taken; NULL: empty object);
 *                    negative FM_E*: an error reply with err (or fm_strerror(rc)).
 */
void fm_ctl_reply_finish(fm_ctl_reply_t *r, int rc, json_t *result, const char *err);

/** Counters since fm_ctl_new(). */
typedef struct {
    uint64_t clients;          /* connected now */
    uint64_t connections;      /* accepted in total */
    uint64_t requests;         /* request lines answered */
    uint64_t errors;           /* error replies (malformed, unknown, denied, handler failed) */
    uint64_t oversized;        /* connections closed for a request line over the limit */
    uint64_t slow_disconnects; /* connections closed because their replies piled up */
    uint64_t denied;           /* mutating commands refused to an unprivileged peer */
    uint64_t refused;          /* connections refused: max_clients connected, all active */
    uint64_t displaced;        /* clients closed to let a new one in (idlest of the top user) */
    uint64_t idle_closed;      /* clients closed after idle_ms without a request */
    uint64_t max_clients;      /* the limit */
} fm_ctl_stats_t;

/** Default bound on reply bytes queued for one client before it is disconnected. */
#define FM_CTL_DEFAULT_MAX_QUEUED (8u * 1024 * 1024)
/** Default limit on simultaneous clients. */
#define FM_CTL_DEFAULT_MAX_CLIENTS 256u
/** Default idle timeout: a client that sends nothing this long is closed. */
#define FM_CTL_DEFAULT_IDLE_MS 60000u

/**
 * Create a control server for a socket path; nothing is opened yet.
 * @param[in]  loop  loop the server will run on (borrowed; must outlive the server).
 * @param[in]  path  socket path (copied); must fit in sockaddr_un.sun_path.
 * @param[out] out   the new server; release with fm_ctl_free().
 * @return 0, FM_EINVAL (NULL argument or empty path) or -ENAMETOOLONG.
 */
int fm_ctl_new(uv_loop_t *loop, const char *path, fm_ctl_t **out);

/**
 * Change the limits (before or after fm_ctl_start()).
 * @param[in] max_queued   reply bytes waiting in one client's write queue that cause a
 *                         disconnect (0 keeps the current value).  One reply larger than this
 *                         is still sent when nothing else is queued.
 * @param[in] max_clients  simultaneous clients; more are answered with an error and closed
 *                         (0 keeps the current value).
 */
void fm_ctl_set_limits(fm_ctl_t *ctl, size_t max_queued, unsigned max_clients);

/** Idle timeout in ms (0 keeps the current value); set before fm_ctl_start(). */
void fm_ctl_set_idle(fm_ctl_t *ctl, uint64_t idle_ms);

/**
 * Register the handler of a command.
 * @param[in] name  a row of the command table (ctl_proto.h) that is not built in; whether it
 *                  mutates comes from the table.
 * @param[in] fn    handler; ctx is passed to it unchanged (borrowed).
 * @return 0, FM_ENOENT (not in the table), FM_EINVAL (built-in command, NULL fn) or FM_EEXIST
 *         (already registered).
 */
int fm_ctl_register(fm_ctl_t *ctl, const char *name, fm_ctl_handler_fn fn, void *ctx);

/**
 * Bind the socket (mode 0660) and start accepting clients.  An existing socket file is
 * removed if nothing answers on it (left by a crash); if another process answers, the start
 * fails with FM_EBUSY and the file is left alone.  A path that exists but is not a socket is
 * never removed (FM_EEXIST).  Ignores SIGPIPE process-wide: libuv writes to pipes with
 * write(2), so a vanished client must not kill the process.
 * @return 0, FM_EBUSY, FM_EEXIST, FM_EINVAL (already started or stopped) or a negative errno
 *         from socket, bind, chmod or listen.  After a failure, fm_ctl_stop() and
 *         fm_ctl_free() are still the way to release the server.
 */
int fm_ctl_start(fm_ctl_t *ctl);

/**
 * Stop accepting, close every client (pending replies are dropped) and remove the socket file
 * this server created.  Idempotent.
 * @param[in] done  called once every handle is closed (possibly before this returns, if none
 *                  was open); may be NULL.
 */
void fm_ctl_stop(fm_ctl_t *ctl, void (*done)(void *arg), void *arg);

/**
 * Release the server.  Call it after fm_ctl_stop()'s done callback ran (or when the server
 * never started).  NULL does nothing.
 */
void fm_ctl_free(fm_ctl_t *ctl);

/** Copy the counters into *out. */
void fm_ctl_stats(const fm_ctl_t *ctl, fm_ctl_stats_t *out);
