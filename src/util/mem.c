/* SPDX-License-Identifier: BSD-2-Clause */
/* Aborting allocators for control structures (chrony memory.c style). */
#include "config.h"
#include "util/mem.h"

#include <stdint.h>
#include <stdio.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdlib.h>
#include <string.h>

static void oom(size_t size)
{
    fprintf(stderr, "flowmix: out of memory allocating %zu bytes\n", size);
    abort();
}

void *fm_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);
    if (!p) {
        oom(size);
    }
    return p;
}

void *fm_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) {
        oom(n * size);
    }
    return p;
}

void *fm_xreallocarray(void *ptr, size_t n, size_t size)
{
    size_t total;
    if (fm_mul_overflow(n, size, &total)) {
        oom(SIZE_MAX);
    }
    void *p = realloc(ptr, total ? total : 1);
    if (!p) {
        oom(total);
    }
    return p;
}

char *fm_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = fm_xmalloc(n);
    memcpy(p, s, n);
    return p;
}

bool fm_mem_daemon_policy(void)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && strstr(t, "glibc.malloc.")) {
        return false; /* the operator's settings win */
    }
    /* Setting either fixes both: no dynamic adjustment any more (mallopt(3)). */
    return mallopt(M_MMAP_THRESHOLD, 256 * 1024) == 1 && mallopt(M_TRIM_THRESHOLD, 1 << 20) == 1;
#else
    return false;
#endif
}

void fm_mem_trim(void)
{
#ifdef __GLIBC__
    malloc_trim(0);
#endif
}
