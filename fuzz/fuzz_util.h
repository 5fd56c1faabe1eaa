/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Helpers shared by the libFuzzer targets: the modules under test read files by path, so the
 * input is put in an anonymous memory file (memfd) and handed over as /proc/self/fd/N, which
 * costs no disk I/O and leaves nothing behind.
 */
#pragma once

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* memfd_create */
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Silence the logger once: the targets exist to feed bad input, whose errors are expected. */
static inline void fuzz_quiet(void)
{
    static int done;
    if (!done) {
        done = 1;
        fm_log_set_level(-1);
    }
}

/**
 * Put data in a fresh memory file.
 * @param[out] path  "/proc/self/fd/N", at least 32 bytes.
 * @return the descriptor (caller closes it); aborts if the kernel refuses, which is a harness
 *         problem, not a finding.
 */
static inline int fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t pathlen)
{
    int fd = memfd_create("fuzz", 0);
    if (fd < 0) {
        perror("memfd_create");
        abort();
    }
    size_t off = 0;
    while (off < size) {
        ssize_t w = write(fd, data + off, size - off);
        if (w <= 0) {
            perror("write");
            abort();
        }
        off += (size_t)w;
    }
    snprintf(path, pathlen, "/proc/self/fd/%d", fd);
    return fd;
}
