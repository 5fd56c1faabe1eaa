/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix fit: EM-fit a mixture to a csv_hist file, with flow-models' options, and write
 * <y>.json and <y>.mode in its format (FLOW-MODELS-DETAIL §6.5).  The log-likelihood, the
 * iteration count and the time go to stderr; --ref also scores a reference mixture by the same
 * formula so fits can be compared with published ones.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "fit.h"
#include "hist.h"
#include "mixture.h"
#include "util/err.h"
#include "util/fs.h"

int fm_cmd_fit(int argc, char **argv);

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix fit [-i ITER] [-U n] [-P n] [-L n] [-y flows|packets|octets]\n"
            "                   [--mpw W] [--initial FILE.json] [--tol T] [-O DIR]\n"
            "                   [--ref FILE.json] [--measure-memory] [--test] FILE.csv\n\n"
            "Fit a mixture by EM to a flow-models histogram; writes DIR/<y>.json and .mode.\n"
            "  -i N           iterations (default 100); with --tol, the maximum\n"
            "  -U/-P/-L n     initial uniform / Pareto / lognormal components\n"
            "  -y Y           histogram column to fit (default flows)\n"
            "  --mpw W        cap on Pareto weights\n"
            "  --initial F    initial mixture (JSON list or {sum, mix}); also --init\n"
            "  --tol T        stop when the mean log-likelihood gains less than T\n"
            "  -O DIR         output directory (default .)\n"
            "  --ref F        also print the log-likelihood of mixture F on the same data\n"
            "  --measure-memory  print the peak memory use on stderr\n"
            "  --test         accepted and ignored, as flow-models does\n"
            "A component whose parameters stop being finite numbers (where flow-models' fit\n"
            "turns into NaN) is removed; stderr and the .mode file (\"removed\") say which.\n");
}

typedef struct {
    fm_fit_opts_t fo;
    const char *initial;
    const char *outdir;
    const char *ref;
    const char *in;
    bool measure_memory;
} fit_args_t;

static int parse_uint(const char *s, unsigned *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v > 100000000UL || s[0] == '-') {
        return FM_EINVAL;
    }
    *out = (unsigned)v;
    return 0;
}

static int parse_args(int argc, char **argv, fit_args_t *a)
{
    static const struct option lo[] = {
        {"mpw", required_argument, NULL, 'm'},  {"initial", required_argument, NULL, 'I'},
        {"init", required_argument, NULL, 'I'}, {"tol", required_argument, NULL, 't'},
        {"ref", required_argument, NULL, 'r'},  {"help", no_argument, NULL, 'h'},
        {"interactive", no_argument, NULL, 'G'}, {"test", no_argument, NULL, 'T'},
        {"measure-memory", no_argument, NULL, 'M'}, {NULL, 0, NULL, 0},
    };
    int c;

    *a = (fit_args_t){.fo = {.max_iter = 100}, .outdir = "."};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":i:U:P:L:y:O:h", lo, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'i': bad = parse_uint(optarg, &a->fo.max_iter); break;
        case 'U': bad = parse_uint(optarg, &a->fo.U); break;
        case 'P': bad = parse_uint(optarg, &a->fo.P); break;
        case 'L': bad = parse_uint(optarg, &a->fo.L); break;
        case 'y': bad = (a->fo.y = fm_mix_y_parse(optarg)) < 0; break;
        case 'O': a->outdir = optarg; break;
        case 'm': a->fo.max_pareto_w = strtod(optarg, NULL); break;
        case 't': a->fo.tol = strtod(optarg, NULL); bad = !(a->fo.tol >= 0); break;
        case 'I': a->initial = optarg; break;
        case 'r': a->ref = optarg; break;
        case 'G':
            fm_cmd_usage_error("fit", "--interactive opens flow-models' Tk window; flowmix has"
                                      " none: fit, then look with flowmix plot");
            return -1;
        case 'T': break; /* flow-models parses --test and never reads it */
        case 'M': a->measure_memory = true; break;
        case 'h': usage(stdout); return 1;
        default: fm_cmd_bad_option("fit", c, argv); return -1;
        }
        if (bad) {
            fm_cmd_usage_error("fit", "invalid value for %s: '%s'", argv[optind - 1], optarg);
            return -1;
        }
    }
    if (optind != argc - 1) {
        fm_cmd_usage_error("fit", optind < argc ? "one histogram only" : "no histogram");
        return -1;
    }
    a->in = argv[optind];
    if (!a->fo.U && !a->fo.P && !a->fo.L && !a->initial) {
        fm_cmd_usage_error("fit", "give -U/-P/-L or --initial");
        return -1;
    }
    return 0;
}

/* The .mode line, plus "removed": what was taken out and why, when anything was. */
static int write_mode(FILE *f, const fit_args_t *a, const fm_fit_result_t *res)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    int rc = mem ? fm_mix_write_mode(mem, a->in, a->fo.y, a->fo.max_iter, a->fo.U, a->fo.P,
                                     a->fo.L, a->initial, a->fo.max_pareto_w)
                 : FM_ENOMEM;

    if (mem && fclose(mem) != 0 && rc == 0) {
        rc = FM_ENOMEM;
    }
    if (rc < 0 || !buf || len < 2 || buf[len - 2] != '}') {
        free(buf);
        return rc < 0 ? rc : FM_EINVAL;
    }
    fwrite(buf, 1, len - 2, f);
    if (res->ndrops) {
        fputs(", \"removed\": [", f);
        for (unsigned i = 0; i < res->ndrops; i++) {
            const fm_fit_drop_t *d = &res->drops[i];
            fprintf(f, "%s{\"component\": %u, \"family\": \"%s\", \"iteration\": %u, "
                       "\"why\": \"%s\"}", i ? ", " : "", d->index,
                    fm_mix_family_name(d->fam), d->iteration, d->why);
        }
        fputc(']', f);
    }
    fputs("}\n", f);
    free(buf);
    return ferror(f) ? FM_EIO : 0;
}

static int write_outputs(const fit_args_t *a, const fm_mix_t *mix, const fm_fit_result_t *res)
{
    char path[4096];
    const char *y = fm_mix_y_name(a->fo.y);
    FILE *f;
    int rc;

    if ((rc = fm_fs_mkdirs(a->outdir, 0755)) < 0) { /* -O DIR is created, like flow-models' */
        fprintf(stderr, "flowmix fit: %s: %s\n", a->outdir, fm_strerror(rc));
        return FM_EIO;
    }
    snprintf(path, sizeof(path), "%s/%s.json", a->outdir, y);
    if (!(f = fopen(path, "w"))) {
        fprintf(stderr, "flowmix fit: %s: %s\n", path, strerror(errno));
        return FM_EIO;
    }
    rc = fm_mix_write_json(mix, f);
    if (fclose(f) != 0 || rc < 0) {
        fprintf(stderr, "flowmix fit: %s: write failed\n", path);
        return FM_EIO;
    }
    snprintf(path, sizeof(path), "%s/%s.mode", a->outdir, y);
    if (!(f = fopen(path, "w"))) {
        fprintf(stderr, "flowmix fit: %s: %s\n", path, strerror(errno));
        return FM_EIO;
    }
    rc = write_mode(f, a, res);
    if (fclose(f) != 0 || rc < 0) {
        fprintf(stderr, "flowmix fit: %s: write failed\n", path);
        return FM_EIO;
    }
    return 0;
}

static fm_mix_t *load_mix(const char *path)
{
    char err[256];
    fm_mix_t *m = NULL;
    int rc = fm_mix_read_json(path, &m, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "flowmix fit: %s: %s\n", path, err);
        return NULL;
    }
    return m;
}

int fm_cmd_fit(int argc, char **argv)
{
    fit_args_t a;
    fm_hist_bin_t *bins = NULL;
    fm_mix_t *init = NULL, *out = NULL, *ref = NULL;
    fm_fit_result_t res;
    size_t n = 0;
    int rc, status = 1;

    gsl_set_error_handler_off();
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        return rc > 0 ? 0 : 2;
    }
    if ((rc = fm_hist_read_csv(a.in, &bins, &n)) < 0) {
        return 1; /* the reader has said which file and line */
    }
    /* -U/-P/-L win over --initial, as in flow-models. */
    if (a.initial && !a.fo.U && !a.fo.P && !a.fo.L && !(init = load_mix(a.initial))) {
        goto out;
    }
    if (a.ref && !(ref = load_mix(a.ref))) {
        goto out;
    }
    rc = fm_fit_run(bins, n, &a.fo, init, &out, &res);
    if (rc < 0) {
        fprintf(stderr, "flowmix fit: %s: %s\n", a.in, fm_strerror(rc));
        goto out;
    }
    fprintf(stderr, "%.2f fit: log-likelihood %.15g, iterations %u, seconds %.4f%s\n",
            res.seconds, res.loglik, res.iterations, res.seconds,
            res.converged ? ", converged" : "");
    for (unsigned i = 0; i < res.ndrops; i++) {
        const fm_fit_drop_t *d = &res.drops[i];
        fprintf(stderr, "%.2f fit: removed component %u (%s) at iteration %u: %s (flow-models'"
                        " fit turns into NaN here)\n", res.seconds, d->index,
                fm_mix_family_name(d->fam), d->iteration, d->why);
    }
    if (res.dropped > res.ndrops) {
        fprintf(stderr, "%.2f fit: %u more components removed\n", res.seconds,
                res.dropped - res.ndrops);
    }
    if (ref) {
        fprintf(stderr, "%.2f fit: reference %s log-likelihood %.15g\n", res.seconds, a.ref,
                fm_mix_loglik(ref, bins, n, a.fo.y));
    }
    if (a.measure_memory) {
        fm_cmd_print_memory("fit");
    }
    if (write_outputs(&a, out, &res) == 0) {
        status = 0;
    }
out:
    fm_mix_free(init);
    fm_mix_free(ref);
    fm_mix_free(out);
    free(bins);
    return status;
}
