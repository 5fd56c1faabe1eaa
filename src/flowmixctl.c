/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmixctl: the control client.  Parses the command line against the shared command table
 * (ctl_proto), sends one request line to the daemon's control socket, waits for one reply
 * line and prints it readably (ctl_format) or raw (--json).
 * Exit status: 0 ok, 1 the daemon replied with an error, 2 usage, connection or protocol error.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "ctl_format.h"
#include "ctl_proto.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/time.h"

#define EXIT_DAEMON_ERROR 1
#define EXIT_USAGE 2
#define DEFAULT_TIMEOUT_S 10.0

static const char *default_socket(void)
{
    const char *env = getenv("FLOWMIX_SOCKET");
    if (env && *env) {
        return env;
    }
    if (access("./var/control.sock", F_OK) == 0) {
        return "./var/control.sock";
    }
    return "/run/flowmix/control.sock";
}

/*
 * Build the request from `--name VALUE` / `--name=VALUE` pairs after the command name; the
 * client's own options (flags such as --csv, and --sort) go into *opts instead.
 */
static int build_request(const fm_ctl_cmd_t *cmd, int argc, char **argv, json_t **out,
                         json_t **opts)
{
    json_t *req = json_pack("{ss}", "cmd", cmd->name);
    *opts = json_object();

    for (int i = 0; i < argc; i++) {
        const char *opt = argv[i], *val = NULL;
        if (!strcmp(opt, "-h") || !strcmp(opt, "--help")) {
            fm_ctl_format_cmd_help(stdout, cmd);
            json_decref(req);
            json_decref(*opts);
            exit(0);
        }
        if (strncmp(opt, "--", 2) != 0) {
            fprintf(stderr, "flowmixctl: %s: unexpected argument '%s'\n", cmd->name, opt);
            goto usage;
        }
        char name[64];
        const char *eq = strchr(opt + 2, '=');
        size_t n = eq ? (size_t)(eq - opt - 2) : strlen(opt + 2);
        snprintf(name, sizeof(name), "%.*s", (int)n, opt + 2);
        const fm_ctl_arg_t *arg = fm_ctl_cmd_arg(cmd, name);
        if (!arg) {
            fprintf(stderr, "flowmixctl: %s takes no option '--%s'\n", cmd->name, name);
            goto usage;
        }
        if (!arg->metavar) {
            if (eq) {
                fprintf(stderr, "flowmixctl: option '--%s' takes no value\n", name);
                goto usage;
            }
            json_object_set_new(*opts, name, json_true());
            continue;
        }
        val = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
        if (!val) {
            fprintf(stderr, "flowmixctl: option '--%s' needs a value\n", name);
            goto usage;
        }
        if (json_object_set_new(arg->client ? *opts : req, name, json_string(val)) < 0) {
            fprintf(stderr, "flowmixctl: value of '--%s' is not valid UTF-8\n", name);
            goto usage;
        }
    }
    for (const fm_ctl_arg_t *a = cmd->args; a->name; a++) {
        if (a->required && !json_object_get(req, a->name)) {
            fprintf(stderr, "flowmixctl: %s needs --%s %s\n", cmd->name, a->name, a->metavar);
            goto usage;
        }
    }
    if (fm_ctl_format_check_opts(cmd, *opts) < 0) {
        goto usage;
    }
    *out = req;
    return 0;
usage:
    fprintf(stderr, "usage: flowmixctl [OPTIONS] ");
    fm_ctl_format_synopsis(stderr, cmd);
    fputc('\n', stderr);
    json_decref(req);
    json_decref(*opts);
    return FM_EINVAL;
}

static int connect_socket(const char *path, double timeout_s)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    struct timeval tv = {.tv_sec = (time_t)timeout_s,
                         .tv_usec = (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6)};

    if (strlen(path) >= sizeof(sun.sun_path)) {
        fprintf(stderr, "flowmixctl: socket path too long: %s\n", path);
        return FM_EIO;
    }
    memcpy(sun.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fprintf(stderr, "flowmixctl: socket: %s\n", strerror(errno));
        return FM_EIO;
    }
    /* For AF_UNIX the send timeout also bounds connect() when the daemon's backlog is full. */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        fprintf(stderr, "flowmixctl: cannot connect to %s: %s%s\n", path, strerror(errno),
                errno == ENOENT || errno == ECONNREFUSED ? " (is flowmixd running?)" : "");
        close(fd);
        return FM_EIO;
    }
    return fd;
}

static int send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            return 1; /* closed on us: its reason (e.g. a refusal) may be waiting to be read */
        }
        if (n <= 0) {
            fprintf(stderr, "flowmixctl: sending the request: %s\n", strerror(errno));
            return FM_EIO;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Read up to the first newline within the deadline; returns the line (NUL-terminated). */
static char *recv_line(int fd, uint64_t deadline_ms, size_t *len)
{
    size_t cap = 4096, n = 0;
    char *buf = fm_xmalloc(cap);

    for (;;) {
        uint64_t now = fm_time_mono_ms();
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int pr = now < deadline_ms ? poll(&p, 1, (int)(deadline_ms - now)) : 0;
        if (pr < 0 && errno == EINTR) {
            continue;
        }
        if (pr == 0) {
            fprintf(stderr, "flowmixctl: no reply from the daemon in time (see -t)\n");
            break;
        }
        if (n + 1 == cap) {
            if (cap > FM_CTL_MAX_REPLY) {
                fprintf(stderr, "flowmixctl: reply longer than %d bytes\n", FM_CTL_MAX_REPLY);
                break;
            }
            buf = fm_xreallocarray(buf, cap *= 2, 1);
        }
        ssize_t r = pr > 0 ? recv(fd, buf + n, cap - n - 1, 0) : -1;
        if (r <= 0) {
            fprintf(stderr, "flowmixctl: %s before a complete reply\n",
                    r == 0 ? "the daemon closed the connection" : strerror(errno));
            break;
        }
        char *nl = memchr(buf + n, '\n', (size_t)r);
        n += (size_t)r;
        if (nl) {
            *len = (size_t)(nl - buf);
            buf[*len] = '\0';
            return buf;
        }
    }
    free(buf);
    return NULL;
}

/* Print one reply line as --json or the readable layout; returns the exit status. */
static int print_reply(const char *rline, size_t rlen, const fm_ctl_cmd_t *cmd,
                       const json_t *opts, bool raw)
{
    json_t *reply;
    const json_t *result;
    const char *error;
    bool ok;
    int status;

    if (fm_ctl_proto_parse_reply(rline, rlen, &reply, &ok, &result, &error) < 0) {
        fprintf(stderr, "flowmixctl: malformed reply from the daemon: %.200s\n", rline);
        return EXIT_USAGE;
    }
    status = ok ? 0 : EXIT_DAEMON_ERROR;
    if (raw) {
        printf("%s\n", rline);
    } else if (ok && fm_ctl_format(stdout, cmd, result, opts) < 0) {
        status = EXIT_USAGE;
    }
    if (!ok) {
        fprintf(stderr, "flowmixctl: %s: %s\n", cmd->name, error);
    }
    json_decref(reply);
    return status;
}

/* One request, one reply; prints the reply and returns the exit status. */
static int exchange(const char *path, double timeout_s, const fm_ctl_cmd_t *cmd, json_t *req,
                    const json_t *opts, bool raw)
{
    uint64_t deadline = fm_time_mono_ms() + (uint64_t)(timeout_s * 1000);
    size_t len, rlen;

    char *line = fm_ctl_proto_encode(req, &len);
    int fd = line ? connect_socket(path, timeout_s) : -1;
    char *rline = fd >= 0 && send_all(fd, line, len) >= 0 ? recv_line(fd, deadline, &rlen) : NULL;
    if (fd >= 0) {
        close(fd);
    }
    free(line);
    if (!rline) {
        return EXIT_USAGE;
    }
    int status = print_reply(rline, rlen, cmd, opts, raw);
    free(rline);
    return status;
}

/* --reply-file: format a reply saved with --json (its first line) instead of asking. */
static int replay(const char *file, const fm_ctl_cmd_t *cmd, const json_t *opts, bool raw)
{
    FILE *f = strcmp(file, "-") ? fopen(file, "r") : stdin;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    if (!f) {
        fprintf(stderr, "flowmixctl: cannot read %s: %s\n", file, strerror(errno));
        return EXIT_USAGE;
    }
    n = getline(&line, &cap, f);
    if (f != stdin) {
        fclose(f);
    }
    if (n <= 0) {
        fprintf(stderr, "flowmixctl: %s holds no reply\n", file);
        free(line);
        return EXIT_USAGE;
    }
    n -= line[n - 1] == '\n';
    line[n] = '\0';
    int status = print_reply(line, (size_t)n, cmd, opts, raw);
    free(line);
    return status;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"socket", required_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
        {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},       {"reply-file", required_argument, NULL, 'r'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL, *reply_file = NULL;
    double timeout_s = DEFAULT_TIMEOUT_S;
    bool raw = false;
    int c;
    char *end;

    /* '+': stop at the command name, its own options follow it. */
    while ((c = getopt_long(argc, argv, "+s:jt:hVr:", longopts, NULL)) != -1) {
        switch (c) {
        case 's':
            path = optarg;
            break;
        case 'j':
            raw = true;
            break;
        case 'r':
            reply_file = optarg;
            break;
        case 't':
            timeout_s = strtod(optarg, &end);
            if (*end || end == optarg || !(timeout_s > 0 && timeout_s < 1e6)) {
                fprintf(stderr, "flowmixctl: bad timeout '%s' (seconds, > 0)\n", optarg);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            fm_ctl_format_help(stdout);
            return 0;
        case 'V':
            printf("flowmixctl %s (protocol %d)\n", PACKAGE_VERSION, FM_CTL_PROTO_VERSION);
            return 0;
        default:
            fprintf(stderr, "Try 'flowmixctl --help'.\n");
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fm_ctl_format_help(stderr);
        return EXIT_USAGE;
    }
    const fm_ctl_cmd_t *cmd = fm_ctl_cmd_find(argv[optind]);
    if (!cmd) {
        fprintf(stderr, "flowmixctl: unknown command '%s'; try 'flowmixctl --help'\n",
                argv[optind]);
        return EXIT_USAGE;
    }
    json_t *req, *opts;
    if (build_request(cmd, argc - optind - 1, argv + optind + 1, &req, &opts) < 0) {
        return EXIT_USAGE;
    }
    int status = reply_file ? replay(reply_file, cmd, opts, raw)
                            : exchange(path ? path : default_socket(), timeout_s, cmd, req,
                                       opts, raw);
    json_decref(req);
    json_decref(opts);
    return status;
}
