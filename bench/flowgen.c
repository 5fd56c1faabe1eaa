/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Seeded input for bench/toolkit.sh: N export records in start-time order, written as a
 * flow-models binary columnar directory.  `flowmix generate` gives realistic lengths and sizes but
 * all-zero keys and times, on which merge has nothing to do; these records look like an exporter's
 * output instead: random IPv4 5-tuples (TCP 70%, UDP 28%, ICMP 2%), Pareto-tailed packet counts,
 * about 2 000 records/s (10 M records span 83 minutes), and 5% of the multi-packet sessions
 * longer than the active timeout (300 s), exported as pieces of just under 300 s, 1-2 s apart,
 * that `merge` joins again (about 8% of the records).  The same seed gives the same records.
 *
 * usage: bench/flowgen N OUTDIR [SEED]
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flowio.h"
#include "util/err.h"

#define BATCH 4096
#define ACTIVE_MS 300000u /* the exporter's active timeout (flow-models merge -A default) */
#define RATE 2000.0       /* records per second */

typedef struct {
    fm_flow_t key;      /* key fields; counters are per piece */
    uint64_t end_ms;    /* last packet of the whole session */
    uint64_t next_ms;   /* first packet of the next piece */
    uint64_t pkts_left; /* packets not yet exported */
} session_t;

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
}

static double unit_rand(void) /* (0, 1] */
{
    return ((next_rand() >> 11) + 1) * (1.0 / 9007199254740992.0);
}

/* A min-heap of the open long sessions, ordered by the start of their next piece. */
static session_t *heap;
static size_t heap_n, heap_cap;

static void heap_push(const session_t *s)
{
    if (heap_n == heap_cap) {
        heap_cap = heap_cap ? 2 * heap_cap : 1024;
        heap = realloc(heap, heap_cap * sizeof(*heap));
        if (!heap) {
            abort();
        }
    }
    size_t i = heap_n++;
    while (i > 0 && heap[(i - 1) / 2].next_ms > s->next_ms) {
        heap[i] = heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    heap[i] = *s;
}

static void heap_pop(void)
{
    session_t last = heap[--heap_n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= heap_n) {
            break;
        }
        if (c + 1 < heap_n && heap[c + 1].next_ms < heap[c].next_ms) {
            c++;
        }
        if (heap[c].next_ms >= last.next_ms) {
            break;
        }
        heap[i] = heap[c];
        i = c;
    }
    if (heap_n > 0) {
        heap[i] = last;
    }
}

static void new_key(fm_flow_t *f)
{
    uint64_t x = next_rand();
    memset(f, 0, sizeof(*f));
    f->af = FM_AF_INET;
    unsigned p = (unsigned)(x % 100);
    f->proto = p < 70 ? 6 : p < 98 ? 17 : 1;
    fm_flow_set_v4(f->src, (uint32_t)(x >> 8));
    fm_flow_set_v4(f->dst, (uint32_t)next_rand());
    if (f->proto != 1) {
        f->sport = (uint16_t)(x >> 40);
        f->dport = (x >> 56) & 1 ? 443 : (uint16_t)(x >> 24);
    }
    f->inif = 1 + (uint32_t)(x >> 62);
    f->outif = 5;
    f->sampling = 1;
    f->records = 1;
}

/* One record of the session starting at its next piece; pushes the rest back on the heap. */
static void emit_piece(session_t *s, fm_flow_t *out)
{
    uint64_t left_ms = s->end_ms - s->next_ms;
    *out = s->key;
    out->first_ms = s->next_ms;
    if (left_ms >= ACTIVE_MS) {
        /* Cut by the active timeout: the next piece starts 1-2 s later (gap < inactive). */
        out->last_ms = s->next_ms + ACTIVE_MS - 1000 - next_rand() % 1000;
        out->packets = 1 + s->pkts_left * (out->last_ms - out->first_ms) / (left_ms + 1) / 2;
        s->pkts_left -= out->packets < s->pkts_left ? out->packets : s->pkts_left - 1;
        s->next_ms = out->last_ms + 1000 + next_rand() % 1000;
        if (s->next_ms > s->end_ms) {
            s->end_ms = s->next_ms;
        }
        heap_push(s);
    } else {
        out->last_ms = s->end_ms;
        out->packets = s->pkts_left;
    }
    out->octets = out->packets * (40 + next_rand() % 1461);
}

/* A new session at time t: one record, or the first piece of a long one. */
static void emit_session(uint64_t t, fm_flow_t *out)
{
    session_t s;
    new_key(&s.key);
    /* Pareto (alpha 1.2) packets, capped at 10^7; durations grow with them. */
    double pk = floor(pow(unit_rand(), -1.0 / 1.2));
    s.pkts_left = pk > 1e7 ? 10000000 : (uint64_t)pk;
    s.next_ms = t;
    if (s.pkts_left == 1) {
        s.end_ms = t;
    } else if (next_rand() % 20 == 0) {
        s.end_ms = t + ACTIVE_MS + next_rand() % (10 * ACTIVE_MS); /* 5 to 55 minutes */
        s.pkts_left += 100;
    } else {
        s.end_ms = t + next_rand() % 60000;
    }
    emit_piece(&s, out);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s N OUTDIR [SEED]\n", argv[0]);
        return 2;
    }
    unsigned long long n = strtoull(argv[1], NULL, 10);
    if (argc > 3) {
        rng ^= strtoull(argv[3], NULL, 10) * 0x9e3779b97f4a7c15ull;
    }
    fm_writer_t *w;
    int rc = fm_writer_open(argv[2], FM_FMT_BINARY, &w);
    if (rc < 0) {
        fprintf(stderr, "flowgen: %s: %s\n", argv[2], fm_strerror(rc));
        return 1;
    }
    static fm_flow_t buf[BATCH];
    size_t nb = 0;
    double t = 1433962800000.0; /* 2015-06-10 19:00 UTC, as agh_2015 */
    for (unsigned long long i = 0; i < n; i++) {
        t += -log(unit_rand()) * (1000.0 / RATE);
        if (heap_n > 0 && heap[0].next_ms <= (uint64_t)t) {
            session_t s = heap[0];
            heap_pop();
            emit_piece(&s, &buf[nb++]);
        } else {
            emit_session((uint64_t)t, &buf[nb++]);
        }
        if (nb == BATCH || i + 1 == n) {
            if ((rc = fm_writer_write(w, buf, nb)) < 0) {
                break;
            }
            nb = 0;
        }
    }
    int rc2 = fm_writer_close(w);
    rc = rc < 0 ? rc : rc2;
    if (rc < 0) {
        fprintf(stderr, "flowgen: %s: %s\n", argv[2], fm_strerror(rc));
        return 1;
    }
    free(heap);
    return 0;
}
