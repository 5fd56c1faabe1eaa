/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Control protocol: the wire format shared by the control server (src/ctl.c) and the
 * flowmixctl client, and the one table of control commands both use (the server to dispatch
 * and check permissions, the client to parse options and print --help).
 *
 * Wire format: one JSON object per line (UTF-8, terminated by '\n') each way.
 *   request  {"cmd": "hist", "class": "tcp", "metric": "size"}
 *   reply    {"ok": true, "result": {...}}   or   {"ok": false, "error": "message"}
 * Arguments are string members named like the client's long options (--class → "class").
 * Requests longer than FM_CTL_MAX_REQUEST bytes (newline included) are refused.  This module
 * only builds and checks messages; transport, dispatch and permissions are src/ctl.c's.
 */
#pragma once

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

/** Protocol revision, reported by the built-in `version` command. */
#define FM_CTL_PROTO_VERSION 1
/** Longest request line the server accepts, the terminating newline included. */
#define FM_CTL_MAX_REQUEST (64 * 1024)
/** Longest reply line the client accepts (replies with many exporters can be large). */
#define FM_CTL_MAX_REPLY (64 * 1024 * 1024)
/** Most arguments a command can take. */
#define FM_CTL_MAX_ARGS 6

/**
 * One argument of a command: `--name METAVAR` on the command line, "name" in the request.
 * A client argument only changes how flowmixctl prints the reply and is never sent (the server
 * refuses it); one without a metavar is a flag that takes no value.
 */
typedef struct {
    const char *name;    /* option and JSON member name; NULL ends the list */
    const char *metavar; /* placeholder shown in help, e.g. "C"; NULL: a flag (client only) */
    bool required;
    const char *help; /* one line: meaning, allowed values, default */
    bool client;      /* flowmixctl's own: shapes the output, not sent to the daemon */
} fm_ctl_arg_t;

/** One row of the command table. */
typedef struct {
    const char *name;
    bool mutating;  /* changes daemon state: needs a privileged peer (see ctl.h) */
    bool builtin;   /* answered by the control server itself, no handler registered */
    const char *summary;
    fm_ctl_arg_t args[FM_CTL_MAX_ARGS + 1];
} fm_ctl_cmd_t;

/** @return number of rows in the command table. */
size_t fm_ctl_cmd_count(void);

/**
 * Row of the command table by position.
 * @param[in] i  0 .. fm_ctl_cmd_count() - 1.
 * @return static row, or NULL when i is out of range.
 */
const fm_ctl_cmd_t *fm_ctl_cmd_at(size_t i);

/**
 * Look a command up by name.
 * @param[in] name  command name (NUL-terminated).
 * @return static row, or NULL for an unknown command.
 */
const fm_ctl_cmd_t *fm_ctl_cmd_find(const char *name);

/**
 * Look an argument of a command up by name.
 * @return the argument's row, or NULL if the command takes no such argument.
 */
const fm_ctl_arg_t *fm_ctl_cmd_arg(const fm_ctl_cmd_t *cmd, const char *name);

/**
 * Parse and check one request line (without its newline): a JSON object whose "cmd" names a
 * row of the table, whose other members are arguments of that command with string values, and
 * which carries every required argument.
 * @param[in]  line, len  the bytes of the line; need not be NUL-terminated.
 * @param[out] req        on success the parsed request; caller releases it with json_decref().
 * @param[out] cmd        on success the command's table row.
 * @param[out] err        on failure a message for the peer (valid UTF-8), NUL-terminated.
 * @return 0, FM_EFORMAT (not a JSON object, bad or missing "cmd", bad argument type),
 *         FM_ENOENT (unknown command) or FM_EINVAL (unknown or missing argument).
 */
int fm_ctl_proto_parse_request(const char *line, size_t len, json_t **req,
                               const fm_ctl_cmd_t **cmd, char *err, size_t errlen);

/**
 * Encode a JSON value as one compact line with a trailing newline.
 * @param[in]  msg  value to encode (borrowed).
 * @param[out] len  length of the line, newline included.
 * @return malloc'd line (caller frees), or NULL if the value cannot be encoded.
 */
char *fm_ctl_proto_encode(const json_t *msg, size_t *len);

/**
 * Build a success reply line {"ok":true,"result":RESULT}.
 * @param[in] result  takes ownership; NULL means an empty object.
 * @param[out] len    length of the line, newline included.
 * @return malloc'd line (caller frees), or NULL if the result cannot be encoded (e.g. a
 *         string that is not UTF-8).
 */
char *fm_ctl_proto_reply_ok(json_t *result, size_t *len);

/**
 * Build an error reply line {"ok":false,"error":MSG}.  If msg is not valid UTF-8, its
 * non-ASCII bytes are replaced by '?', so this never fails for lack of encoding.
 * @param[in]  msg  message (NUL-terminated).
 * @param[out] len  length of the line, newline included.
 * @return malloc'd line (caller frees); NULL only when out of memory.
 */
char *fm_ctl_proto_reply_err(const char *msg, size_t *len);

/**
 * Parse one reply line (without its newline), as the client does.
 * @param[out] reply   on success the parsed reply; caller releases it with json_decref().
 * @param[out] ok      the "ok" member.
 * @param[out] result  when ok: the "result" member (borrowed from *reply; may be NULL).
 * @param[out] error   when !ok: the "error" message (borrowed from *reply).
 * @return 0, or FM_EFORMAT when the line is not a well-formed reply.
 */
int fm_ctl_proto_parse_reply(const char *line, size_t len, json_t **reply, bool *ok,
                             const json_t **result, const char **error);
