/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Allocation helpers, and the project's one out-of-memory policy:
 *  - Control structures (objects a module creates for itself, configuration, handles, client
 *    and job records, lists and messages a person makes or reads) use fm_x*: they print
 *    "out of memory" and abort.  Nothing sensible can go on without them, and a check at each
 *    of those hundreds of places would be untested code.
 *  - Allocations whose size comes from input or configuration, or that are made per datagram,
 *    record batch or job (decode templates and domains, cache capacity, histogram maps, fit
 *    buffers), use plain malloc/calloc/realloc with fm_mul_overflow() where sizes multiply.
 *    Their failure returns FM_ENOMEM (FM_ELIMIT for a configured bound) to the caller, which
 *    drops that one unit, counts it where it counts dropped units (decode: the datagram is
 *    malformed; a fit job: its failed status) and carries on.
 *  - Nothing else: a plain allocation whose result is not checked is a bug (use fm_x*).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

void *fm_xmalloc(size_t size);
void *fm_xcalloc(size_t n, size_t size);
/** Reallocate an array of n elements of size bytes; aborts on overflow or out-of-memory. */
void *fm_xreallocarray(void *ptr, size_t n, size_t size);
char *fm_xstrdup(const char *s);

/**
 * The daemon's allocator policy (glibc; elsewhere, or with malloc settings in GLIBC_TUNABLES,
 * nothing): blocks of 256 KiB and more are mmap()ed and go back to the system when freed, and
 * a heap gives back free space at its top beyond 1 MiB.  glibc's default raises both
 * thresholds each time a large mmap()ed block is freed (up to 32 and 64 MiB), after which the
 * minute's fit and export jobs left tens of MiB free but resident in the thread-pool arenas
 * (bench/soak.sh: arenas 2.6 -> 59 MiB in 5 minutes; 5-8 MiB with this).  Call before any
 * thread starts.
 * @return true if applied.
 */
bool fm_mem_daemon_policy(void);

/**
 * Give the free pages inside malloc's heaps back to the system (glibc malloc_trim(0); elsewhere
 * nothing).  Between blocks still in use a heap keeps freed space resident: in bench/soak.sh
 * 23 MiB of 143 MiB after 7 minutes, 14 MiB in the main heap and 18 of the thread-pool arenas'
 * 21 MiB.  It walks the free lists of every arena: milliseconds; the daemon calls it every 10 s.
 */
void fm_mem_trim(void);

/** Store a*b in *out; @return true if it overflowed. */
static inline bool fm_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
