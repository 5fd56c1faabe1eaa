/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Allocation helpers.  fm_x* abort on out-of-memory and are meant for small control structures
 * whose size does not come from input.  Sizes derived from input or configuration use
 * fm_mul_overflow() and plain malloc so the caller can return FM_ENOMEM / FM_ELIMIT.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

void *fm_xmalloc(size_t size);
void *fm_xcalloc(size_t n, size_t size);
/** Reallocate an array of n elements of size bytes; aborts on overflow or out-of-memory. */
void *fm_xreallocarray(void *ptr, size_t n, size_t size);
char *fm_xstrdup(const char *s);

/** Store a*b in *out; @return true if it overflowed. */
static inline bool fm_mul_overflow(size_t a, size_t b, size_t *out)
{
    return __builtin_mul_overflow(a, b, out);
}
