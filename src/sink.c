/* SPDX-License-Identifier: BSD-2-Clause */
/* Fan-out of a batch of flows to several sinks (sink.h). */
#include "config.h"

#include "sink.h"

#include <assert.h>

void fm_sink_fanout_add(fm_sink_fanout_t *f, fm_sink_t s)
{
    assert(f->n < FM_SINK_FANOUT_MAX && s.fn);
    f->out[f->n++] = s;
}

static void fanout_put(void *ctx, const fm_flow_t *flows, size_t n)
{
    fm_sink_fanout_t *f = ctx;
    f->flows += n;
    for (size_t i = 0; i < f->n; i++) {
        f->out[i].fn(f->out[i].ctx, flows, n);
    }
}

fm_sink_t fm_sink_fanout(fm_sink_fanout_t *f)
{
    return (fm_sink_t){fanout_put, f};
}
