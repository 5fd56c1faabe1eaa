/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Benchmark of the EM fit on the agh_2015 all/length and all/size histograms with the published
 * settings (-i 400; length -U 6 -L 4, size -L 8/5/5): seconds per fit (CPU and wall) and peak
 * RSS, printed beside flow-models' own figures as measured upstream (FLOW-MODELS.md §5; flow-models
 * is not installable here, so those are reference numbers, not a run).
 *
 * usage: bench/fit [HISTOGRAM_DIR]   (default $FM_SHARED/data/agh_2015/histograms/all)
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>

#include <gsl/gsl_errno.h>

#include "fit.h"
#include "hist.h"
#include "mixture.h"
#include "util/err.h"

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec * 1e-6;
}

static int run(const char *dir, const char *feat, const unsigned L[3], unsigned U, double ref_s)
{
    char path[4096];
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    double cpu_total = 0, wall_total = 0, flows_cpu = 0;
    int rc;

    snprintf(path, sizeof(path), "%s/%s.csv", dir, feat);
    if ((rc = fm_hist_read_csv(path, &bins, &n)) < 0) {
        fprintf(stderr, "bench/fit: %s: %s\n", path, fm_strerror(rc));
        return 1;
    }
    for (int y = 0; y < 3; y++) {
        fm_fit_opts_t o = {.y = y, .U = U, .L = L[y], .max_iter = 400};
        fm_fit_result_t res;
        fm_mix_t *out = NULL;
        double c0 = cpu_s();
        if ((rc = fm_fit_run(bins, n, &o, NULL, &out, &res)) < 0) {
            fprintf(stderr, "bench/fit: %s: %s\n", feat, fm_strerror(rc));
            free(bins);
            return 1;
        }
        double cpu = cpu_s() - c0;
        cpu_total += cpu;
        flows_cpu = y == 0 ? cpu : flows_cpu;
        wall_total += res.seconds;
        printf("all/%-6s %-7s rows %6zu  -U %u -L %u -i 400: cpu %.3f s  wall %.3f s  "
               "loglik %.12g\n",
               feat, fm_mix_y_name(y), n, U, L[y], cpu, res.seconds, res.loglik);
        fm_mix_free(out);
    }
    printf("all/%-6s -y flows: flowmix %.3f s cpu  |  flow-models %.1f s (published reference "
           "figure, not run here)  ->  %.1fx;  mean per fit %.3f s cpu, %.3f s wall\n",
           feat, flows_cpu, ref_s, ref_s / flows_cpu, cpu_total / 3, wall_total / 3);
    free(bins);
    return 0;
}

int main(int argc, char **argv)
{
    const char *shared = getenv("FM_SHARED");
    char dir[4096];
    static const unsigned Llen[3] = {4, 4, 4}, Lsize[3] = {8, 5, 5};
    struct rusage ru;

    gsl_set_error_handler_off();
    if (argc > 1) {
        snprintf(dir, sizeof(dir), "%s", argv[1]);
    } else {
        snprintf(dir, sizeof(dir), "%s/data/agh_2015/histograms/all", shared ? shared : "../shared");
    }
    if (run(dir, "length", Llen, 6, 3.3) || run(dir, "size", Lsize, 0, 5.1)) {
        return 1;
    }
    getrusage(RUSAGE_SELF, &ru);
    printf("peak RSS: flowmix %.1f MB  |  flow-models reference 136 MB (published figure)\n",
           ru.ru_maxrss / 1024.0);
    return 0;
}
