/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Detaching with a start-up report (detach.h).  The pipe carries one line: "ok" or
 * "error: MESSAGE".
 */
#include "config.h"
#include "util/detach.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The parent: read the child's report and exit with it. */
static void parent_wait(int fd, pid_t child)
{
    char buf[1024];
    size_t len = 0;
    ssize_t n;

    while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            break;
        }
        len += (size_t)n;
    }
    buf[len] = '\0';
    if (!strncmp(buf, "ok", 2)) {
        _exit(0);
    }
    if (!strncmp(buf, "error: ", 7)) {
        fprintf(stderr, "flowmixd: %s\n", buf + 7);
        _exit(1);
    }
    /* No report: the child died during start-up.  Reap it for its status. */
    int st = 0;
    if (waitpid(child, &st, 0) == child && WIFSIGNALED(st)) {
        fprintf(stderr, "flowmixd: died during start-up (signal %d)\n", WTERMSIG(st));
    } else {
        fprintf(stderr, "flowmixd: exited during start-up without a report\n");
    }
    _exit(1);
}

int fm_detach_begin(int *fd)
{
    int p[2];
    pid_t pid;

    *fd = -1;
    if (pipe(p) < 0) {
        return -errno;
    }
    if ((pid = fork()) < 0) {
        int e = errno;
        close(p[0]);
        close(p[1]);
        return -e;
    }
    if (pid > 0) {
        close(p[1]);
        parent_wait(p[0], pid);
    }
    close(p[0]);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    *fd = p[1];
    return setsid() < 0 ? -errno : 0;
}

void fm_detach_finish(int fd, int rc, const char *msg)
{
    char line[1024];
    int len;

    if (fd < 0) {
        return;
    }
    len = rc == 0 ? snprintf(line, sizeof(line), "ok\n")
                  : snprintf(line, sizeof(line), "error: %s\n", msg ? msg : "start-up failed");
    if (len > (int)sizeof(line) - 1) {
        len = (int)sizeof(line) - 1;
    }
    for (ssize_t off = 0, n; off < len; off += n) {
        if ((n = write(fd, line + off, (size_t)(len - off))) < 0) {
            if (errno == EINTR) {
                n = 0;
                continue;
            }
            break;
        }
    }
    close(fd);
    if (rc == 0) {
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            if (null > STDERR_FILENO) {
                close(null);
            }
        }
    }
}
