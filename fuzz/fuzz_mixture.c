/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * libFuzzer target: mixture JSON (fm_mix_parse_json).  A mixture that parses is serialised
 * again and must parse a second time (the writer's output is what the store and the toolkit
 * read back), and its CDF/PDF are evaluated at a few points, where GSL parameter checks live.
 */
#include "config.h"

#include <gsl/gsl_errno.h>
#include <string.h>

#include "fuzz_util.h"

#include "mixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int inited;
    if (!inited) {
        inited = 1;
        fuzz_quiet();
        gsl_set_error_handler_off(); /* as every caller must (mixture.h) */
    }
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    fm_mix_t *m = NULL;
    char err[256];
    if (fm_mix_parse_json(text, &m, err, sizeof(err)) == 0) {
        static const double xs[] = {0.0, 1.0, 40.0, 1500.0, 1e9};
        for (size_t i = 0; i < sizeof(xs) / sizeof(xs[0]); i++) {
            (void)fm_mix_cdf(m, xs[i]);
            (void)fm_mix_pdf(m, xs[i]);
        }
        char *out = fm_mix_to_json(m);
        if (out) {
            fm_mix_t *again = NULL;
            if (fm_mix_parse_json(out, &again, err, sizeof(err)) != 0) {
                fprintf(stderr, "re-parse failed: %s\n%s\n", err, out);
                abort(); /* what we write must read back */
            }
            fm_mix_free(again);
            free(out);
        }
        fm_mix_free(m);
    }
    free(text);
    return 0;
}
