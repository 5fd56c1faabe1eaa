/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit test of the daemon's allocator policy (fm_mem_daemon_policy, glibc only).  glibc's
 * default raises its mmap threshold to the size of every larger mmap()ed block freed (cairo's
 * image surfaces, the fit and export jobs' buffers in the daemon), after which blocks below it
 * come from the thread's arena, where free space between live blocks stays resident: the
 * soak's arenas grew from 2.6 to 59 MiB in 5 minutes.  With the policy a 1 MiB block allocated
 * on a thread after an 8 MiB block was freed is still mmap()ed (mallinfo2 hblks), so freeing
 * it gives it back, and 48 of them freed leave the resident size where it was.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "util/mem.h"

enum { NBIG = 48, BIG = 1 << 20 };

static long rss_kb(void)
{
    char line[128];
    long kb = -1;
    FILE *f = fopen("/proc/self/status", "r");
    while (f && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "VmRSS:", 6)) {
            kb = strtol(line + 6, NULL, 10);
        }
    }
    if (f) {
        fclose(f);
    }
    return kb;
}

static size_t mmapped_blocks(void)
{
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 33)
    return mallinfo2().hblks;
#else
    return (size_t)mallinfo().hblks;
#endif
}

typedef struct {
    long grew;
    size_t hblks_added;
} result_t;

static void *job(void *arg)
{
    result_t *r = arg;
    void *big[NBIG], *pin[NBIG];
    void *volatile large = malloc(8 * BIG); /* volatile: not optimised away */
    memset(large, 1, 8 * BIG);
    free(large);
    long before = rss_kb();
    size_t h0 = mmapped_blocks();
    void *volatile one = malloc(BIG);
    r->hblks_added = mmapped_blocks() - h0;
    free(one);
    for (int i = 0; i < NBIG; i++) {
        big[i] = memset(malloc(BIG), 1, BIG);
        pin[i] = malloc(64);
    }
    for (int i = 0; i < NBIG; i++) {
        free(big[i]);
    }
    r->grew = rss_kb() - before;
    for (int i = 0; i < NBIG; i++) {
        free(pin[i]);
    }
    return NULL;
}

static void test_daemon_policy(void **state)
{
    pthread_t t;
    result_t r = {0};
    (void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__GLIBC__)
    skip(); /* sanitizers bring their own allocator */
#endif
    if (getenv("GLIBC_TUNABLES") || !fm_mem_daemon_policy()) {
        skip();
    }
    assert_int_equal(pthread_create(&t, NULL, job, &r), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    fprintf(stderr, "1 MiB after a freed 8 MiB block: %zu mmap()ed; %d x 1 MiB freed on a "
            "thread: resident +%ld kB\n", r.hblks_added, NBIG, r.grew);
    assert_int_equal(r.hblks_added, 1);
    assert_true(r.grew < 8 * 1024);
}

/* fm_mem_trim: 32 MiB of 2 KiB blocks allocated on a thread, all but every 32nd freed: the
 * holes stay resident (each free chunk is merged with its free neighbours but not returned)
 * until fm_mem_trim() gives back their pages. */
enum { NSMALL = 16384, SMALL = 2048 };

static void *fragment(void *arg)
{
    long *kept = arg;
    char **p = malloc(NSMALL * sizeof(char *));
    for (int i = 0; i < NSMALL; i++) {
        p[i] = memset(malloc(SMALL), 1, SMALL);
    }
    for (int i = 0; i < NSMALL; i++) {
        if (i % 32) {
            free(p[i]);
            p[i] = NULL;
        }
    }
    long before = rss_kb();
    fm_mem_trim();
    *kept = before - rss_kb(); /* given back */
    for (int i = 0; i < NSMALL; i++) {
        free(p[i]);
    }
    free(p);
    return NULL;
}

static void test_trim(void **state)
{
    pthread_t t;
    long back = 0;
    (void)state;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || !defined(__GLIBC__)
    skip();
#endif
    if (getenv("GLIBC_TUNABLES")) {
        skip();
    }
    assert_int_equal(pthread_create(&t, NULL, fragment, &back), 0);
    assert_int_equal(pthread_join(t, NULL), 0);
    fprintf(stderr, "fm_mem_trim gave back %ld kB of ~31 MiB of holes\n", back);
    assert_true(back > 16 * 1024);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_daemon_policy),
        cmocka_unit_test(test_trim),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
