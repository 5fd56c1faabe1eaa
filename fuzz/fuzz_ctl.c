/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the control protocol as the server sees it (one request line, any bytes,
 * not NUL-terminated) and as the client sees it (one reply line), plus the error-reply builder
 * on arbitrary message bytes, which promises valid UTF-8 output whatever it is given.
 */
#include "config.h"

#include <string.h>

#include "fuzz_util.h"

#include "ctl_proto.h"

/* Byte 0 chooses the parser so one corpus covers both directions. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_quiet();
    if (size < 1) {
        return 0;
    }
    uint8_t mode = data[0];
    /* an exact-size copy: the parser must not read past len (no NUL terminator is there) */
    size_t len = size - 1;
    char *line = malloc(len ? len : 1);
    memcpy(line, data + 1, len);

    if ((mode & 1) == 0) {
        json_t *req = NULL;
        const fm_ctl_cmd_t *cmd = NULL;
        char err[256];
        int rc = fm_ctl_proto_parse_request(line, len, &req, &cmd, err, sizeof(err));
        if (rc == 0) {
            if (!req || !cmd || fm_ctl_cmd_find(cmd->name) != cmd) {
                abort(); /* success must hand back a request and its table row */
            }
            size_t n = 0;
            char *out = fm_ctl_proto_encode(req, &n);
            free(out);
            json_decref(req);
        } else {
            if (memchr(err, '\0', sizeof(err)) == NULL) {
                abort(); /* the message for the peer must be terminated */
            }
            size_t n = 0;
            char *reply = fm_ctl_proto_reply_err(err, &n);
            if (!reply || n == 0 || reply[n - 1] != '\n') {
                abort();
            }
            free(reply);
        }
    } else {
        json_t *reply = NULL;
        bool ok = false;
        const json_t *result = NULL;
        const char *error = NULL;
        if (fm_ctl_proto_parse_reply(line, len, &reply, &ok, &result, &error) == 0) {
            json_decref(reply);
        }
        /* the error-reply builder on raw bytes (NUL-terminated copy) */
        char *msg = malloc(len + 1);
        memcpy(msg, line, len);
        msg[len] = '\0';
        size_t n = 0;
        char *out = fm_ctl_proto_reply_err(msg, &n);
        if (!out) {
            abort(); /* "never fails for lack of encoding" */
        }
        json_error_t jerr;
        json_t *back = json_loadb(out, n, 0, &jerr);
        if (!back) {
            abort(); /* the builder's output must be JSON the client can read */
        }
        json_decref(back);
        free(out);
        free(msg);
    }
    free(line);
    return 0;
}
