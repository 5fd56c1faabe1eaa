/* SPDX-License-Identifier: BSD-2-Clause */
#include "config.h"

#include "util/progress.h"

#include <inttypes.h>
#include <stdio.h>

#include "util/time.h"

/* Records between clock reads: cheap enough per record, fine-grained enough at any speed. */
#define CHECK_EVERY 65536u
#define INTERVAL_NS 1000000000ull

static bool enabled;

void fm_progress_enable(bool on)
{
    enabled = on;
}

bool fm_progress_enabled(void)
{
    return enabled;
}

void fm_progress_start(fm_progress_t *p, const char *what)
{
    uint64_t now = enabled ? fm_time_mono_ns() : 0;
    *p = (fm_progress_t){.what = what, .start_ns = now, .next_ns = now + INTERVAL_NS};
}

static void print_line(fm_progress_t *p, uint64_t now)
{
    double s = (double)(now - p->start_ns) / 1e9;
    fprintf(stderr, "\r%s: %" PRIu64 " records, %.0f records/s   ", p->what ? p->what : "",
            p->count, s > 0 ? (double)p->count / s : 0.0);
    p->shown = true;
}

void fm_progress_add(fm_progress_t *p, uint64_t n)
{
    p->count += n;
    if (!enabled || (p->unchecked += n) < CHECK_EVERY) {
        return;
    }
    p->unchecked = 0;
    uint64_t now = fm_time_mono_ns();
    if (now >= p->next_ns) {
        p->next_ns = now + INTERVAL_NS;
        print_line(p, now);
    }
}

void fm_progress_done(fm_progress_t *p)
{
    if (p->shown) {
        print_line(p, fm_time_mono_ns());
        fputc('\n', stderr);
        p->shown = false;
    }
}
