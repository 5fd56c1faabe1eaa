/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A lock-free single-producer / single-consumer ring of fixed-size slots (C11 atomics).  The
 * producer fills the slot fm_ring_write_slot() gives it in place and publishes it; the consumer
 * reads the slot fm_ring_read_slot() gives it in place and releases it.  Nothing is copied and
 * nothing allocated after fm_ring_init(): what crosses threads is a slot index, published with
 * release and read with acquire, so the slot's contents travel with it.
 *
 * Each side keeps its own index on its own cache line, with a cached copy of the other side's,
 * so a side touches the other's line only when its copy says the ring is full (producer) or
 * empty (consumer).  Waiting is the caller's business: these calls never block.
 *
 * Exactly one thread may call the producer functions and one the consumer functions at a time.
 */
#pragma once

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

#include "util/err.h"

#define FM_RING_ALIGN 64

typedef struct fm_ring {
    /* producer's line */
    alignas(FM_RING_ALIGN) atomic_size_t head; /* slots published so far */
    size_t tail_seen;                          /* the producer's copy of tail */
    /* consumer's line */
    alignas(FM_RING_ALIGN) atomic_size_t tail; /* slots released so far */
    size_t head_seen;                          /* the consumer's copy of head */
    /* read-only after init */
    alignas(FM_RING_ALIGN) size_t mask;
    size_t slot_size;
    unsigned char *slots;
} fm_ring_t;

/**
 * @param[in] nslots     a power of two, at least 2.
 * @param[in] slot_size  bytes per slot (rounded up to FM_RING_ALIGN, so slots share no line).
 * @return 0, FM_EINVAL or FM_ENOMEM.
 */
static inline int fm_ring_init(fm_ring_t *r, size_t nslots, size_t slot_size)
{
    if (nslots < 2 || (nslots & (nslots - 1)) || slot_size == 0) {
        return FM_EINVAL;
    }
    slot_size = (slot_size + FM_RING_ALIGN - 1) & ~(size_t)(FM_RING_ALIGN - 1);
    if (slot_size > SIZE_MAX / nslots) {
        return FM_EINVAL;
    }
    void *p = NULL;
    if (posix_memalign(&p, FM_RING_ALIGN, nslots * slot_size) != 0) {
        return FM_ENOMEM;
    }
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    r->tail_seen = r->head_seen = 0;
    r->mask = nslots - 1;
    r->slot_size = slot_size;
    r->slots = p;
    return 0;
}

/** Free the slots (both sides must be done with the ring). */
static inline void fm_ring_fini(fm_ring_t *r)
{
    free(r->slots);
    r->slots = NULL;
}

static inline void *fm__ring_slot(const fm_ring_t *r, size_t i)
{
    return r->slots + (i & r->mask) * r->slot_size;
}

/** Producer: the next free slot to fill, or NULL when the ring is full.  The same slot comes
 *  back until it is published. */
static inline void *fm_ring_write_slot(fm_ring_t *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    if (head - r->tail_seen > r->mask) {
        r->tail_seen = atomic_load_explicit(&r->tail, memory_order_acquire);
        if (head - r->tail_seen > r->mask) {
            return NULL;
        }
    }
    return fm__ring_slot(r, head);
}

/** Producer: hand the slot of fm_ring_write_slot() to the consumer. */
static inline void fm_ring_publish(fm_ring_t *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
}

/** Consumer: the oldest published slot, or NULL when the ring is empty. */
static inline void *fm_ring_read_slot(fm_ring_t *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    if (tail == r->head_seen) {
        r->head_seen = atomic_load_explicit(&r->head, memory_order_acquire);
        if (tail == r->head_seen) {
            return NULL;
        }
    }
    return fm__ring_slot(r, tail);
}

/** Consumer: give the slot of fm_ring_read_slot() back to the producer. */
static inline void fm_ring_release(fm_ring_t *r)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
}

/** Either side: whether a slot is published and not yet released (a hint: the other side may
 *  change it at once). */
static inline bool fm_ring_pending(fm_ring_t *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) !=
           atomic_load_explicit(&r->tail, memory_order_acquire);
}

/** Either side: slots published and not yet released (a hint, as fm_ring_pending). */
static inline size_t fm_ring_used(fm_ring_t *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) -
           atomic_load_explicit(&r->tail, memory_order_acquire);
}

/** Either side: whether the producer would find the ring full (a hint, as fm_ring_pending). */
static inline bool fm_ring_full(fm_ring_t *r)
{
    return atomic_load_explicit(&r->head, memory_order_acquire) -
               atomic_load_explicit(&r->tail, memory_order_acquire) > r->mask;
}
