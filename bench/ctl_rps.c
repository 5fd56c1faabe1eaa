/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Control server throughput: a server on a loop thread with one `status`-like handler, driven
 * over one connection with (a) request/reply round trips and (b) pipelined requests, plus
 * (c) connect + request + close per request as flowmixctl does.  Prints requests per second.
 * Usage: bench/ctl_rps [N]   (default N = 20000)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <jansson.h>
#include <uv.h>

#include "ctl.h"
#include "util/time.h"

static uv_loop_t loop;
static uv_async_t stop_async;
static fm_ctl_t *ctl;

static int h_status(void *ctx, const json_t *req, json_t **result, char *err, size_t errlen)
{
    *result = json_pack("{ss sI sf s{sI sI}}", "version", "bench", "records", (json_int_t)123456,
                        "records_per_s", 1234.5, "cache", "entries", (json_int_t)10, "capacity",
                        (json_int_t)1000);
    return 0;
}

static void on_stop(uv_async_t *a)
{
    fm_ctl_stop(ctl, NULL, NULL);
    uv_close((uv_handle_t *)a, NULL);
}

static void run(void *arg)
{
    uv_run(&loop, UV_RUN_DEFAULT);
}

static int dial(const char *path)
{
    struct sockaddr_un sun = {.sun_family = AF_UNIX};
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
    if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
        perror("connect");
        exit(1);
    }
    return fd;
}

/* Read until `lines` newlines have arrived. */
static void read_lines(int fd, long lines)
{
    char buf[65536];
    while (lines > 0) {
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n <= 0) {
            fprintf(stderr, "connection closed early\n");
            exit(1);
        }
        for (ssize_t i = 0; i < n; i++) {
            lines -= buf[i] == '\n';
        }
    }
}

static void report(const char *what, long n, uint64_t t0)
{
    double s = (double)(fm_time_mono_ns() - t0) / 1e9;
    printf("%-28s %8ld requests %8.3f s %10.0f req/s\n", what, n, s, n / s);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    char dir[] = "/tmp/fm-bench-ctl.XXXXXX", path[100];
    const char *req = "{\"cmd\":\"status\"}\n";
    size_t rl = strlen(req);
    uv_thread_t th;

    if (!mkdtemp(dir)) {
        return 1;
    }
    snprintf(path, sizeof(path), "%s/control.sock", dir);
    uv_loop_init(&loop);
    if (fm_ctl_new(&loop, path, &ctl) < 0 || fm_ctl_register(ctl, "status", h_status, NULL) < 0 ||
        fm_ctl_start(ctl) < 0) {
        fprintf(stderr, "cannot start the control server\n");
        return 1;
    }
    uv_async_init(&loop, &stop_async, on_stop);
    uv_thread_create(&th, run, NULL);

    int fd = dial(path);
    uint64_t t0 = fm_time_mono_ns();
    for (long i = 0; i < n; i++) {
        if (write(fd, req, rl) != (ssize_t)rl) {
            return 1;
        }
        read_lines(fd, 1);
    }
    report("round trip, one connection", n, t0);

    char *all = malloc(rl * (size_t)n);
    for (long i = 0; i < n; i++) {
        memcpy(all + (size_t)i * rl, req, rl);
    }
    t0 = fm_time_mono_ns();
    for (size_t off = 0, len = rl * (size_t)n; off < len;) {
        ssize_t w = write(fd, all + off, len - off < 65536 ? len - off : 65536);
        if (w <= 0) {
            return 1;
        }
        off += (size_t)w;
        /* Read as we go so neither side's buffers fill up. */
        read_lines(fd, (long)(off / rl) - (long)((off - (size_t)w) / rl));
    }
    report("pipelined, one connection", n, t0);
    free(all);
    close(fd);

    long m = n / 10;
    t0 = fm_time_mono_ns();
    for (long i = 0; i < m; i++) {
        fd = dial(path);
        if (write(fd, req, rl) != (ssize_t)rl) {
            return 1;
        }
        read_lines(fd, 1);
        close(fd);
    }
    report("connect per request", m, t0);

    uv_async_send(&stop_async);
    uv_thread_join(&th);
    int rc = uv_loop_close(&loop);
    fm_ctl_free(ctl);
    rmdir(dir);
    return rc != 0;
}
