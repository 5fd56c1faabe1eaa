/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: the histogram delta decoder ([input.kafka] reads it from the network) on
 * both encodings (the input's first bytes choose).  A part that decodes is added to a set, split
 * again into 1 KiB parts in both encodings, and every part must decode to bins that add up to
 * the same flow total.
 */
#include "config.h"

#include "fuzz_util.h"

#include "histdelta.h"

static uint64_t flows_of(const fm_histdelta_bins_t *b)
{
    uint64_t f = 0;
    for (size_t i = 0; i < b->n; i++) {
        f += b->v[i].bin.flows;
    }
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fm_histdelta_meta_t m, m2;
    fm_histdelta_bins_t bins = {0}, back = {0};
    fm_histset_t *set = NULL;
    char err[256];

    fuzz_quiet();
    if (fm_histdelta_decode_bins((const char *)data, size, &m, &bins, err, sizeof(err)) == 0 &&
        fm_histset_new(m.bin_exp, &set) == 0) {
        for (size_t i = 0; i < bins.n; i++) {
            fm_class_t c;
            fm_dir_t d;
            fm_metric_t me;
            fm_histdelta_hist_split(bins.v[i].hist, &c, &d, &me);
            (void)fm_hist_add_bin(fm_histset_get(set, c, d, me), &bins.v[i].bin);
        }
        for (int enc = 0; enc < 2; enc++) {
            fm_histdelta_part_t *parts;
            size_t n;
            uint64_t total = 0;
            if (fm_histdelta_encode_parts(&m, set, (fm_histdelta_enc_t)enc, 1024, &parts, &n) < 0) {
                continue; /* e.g. JSON cannot carry values above INT64_MAX */
            }
            for (size_t i = 0; i < n; i++) {
                if (parts[i].len > 1024 ||
                    fm_histdelta_decode_bins(parts[i].data, parts[i].len, &m2, &back, err,
                                             sizeof(err)) < 0) {
                    __builtin_trap();
                }
                total += flows_of(&back);
            }
            if (total != flows_of(&bins)) {
                __builtin_trap();
            }
            fm_histdelta_parts_free(parts, n);
        }
        fm_histset_free(set);
    }
    fm_histdelta_bins_free(&bins);
    fm_histdelta_bins_free(&back);
    return 0;
}
