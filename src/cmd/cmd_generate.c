/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix generate: synthetic flows from a mixture directory (flows/packets/octets.json) or a
 * csv_hist file, reproducing flow-models generate's random streams exactly
 * (FLOW-MODELS-DETAIL §8): numpy's legacy RandomState (MT19937, init_genrand seeding, 53-bit
 * doubles, polar-method normals, choice by searchsorted on the cumulative sums) picks components
 * and draws every component's variates from a fresh stream of the same seed, and Python's
 * random.Random (MT19937 seeded with init_by_array) does the final stochastic rounding.
 *
 * MT19937 is written out here rather than taken from GSL because the streams must be seeded the
 * way numpy and CPython seed them (GSL maps seed 0 to 4357 and has no init_by_array).
 * Output is csv_flow with every field 0 but packets and octets.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_errno.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "flowio.h"
#include "hist.h"
#include "mixture.h"
#include "util/err.h"

int fm_cmd_generate(int argc, char **argv);

/* ------------------------------------------------------------------------------------------ */
/* MT19937 with numpy's and CPython's seeding */

#define MT_N 624
#define MT_M 397

typedef struct {
    uint32_t mt[MT_N];
    int mti;
    bool has_gauss;
    double gauss;
} mt_t;

static void mt_init_genrand(mt_t *r, uint32_t s)
{
    r->mt[0] = s;
    for (int i = 1; i < MT_N; i++) {
        r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    }
    r->mti = MT_N;
    r->has_gauss = false;
}

static void mt_init_by_array(mt_t *r, const uint32_t *key, int len)
{
    int i = 1, j = 0, k = MT_N > len ? MT_N : len;

    mt_init_genrand(r, 19650218u);
    for (; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] +
                   (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) {
            r->mt[0] = r->mt[MT_N - 1];
            i = 1;
        }
        if (j >= len) {
            j = 0;
        }
    }
    for (k = MT_N - 1; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            r->mt[0] = r->mt[MT_N - 1];
            i = 1;
        }
    }
    r->mt[0] = 0x80000000u;
}

static uint32_t mt_next(mt_t *r)
{
    uint32_t y;
    if (r->mti >= MT_N) {
        for (int kk = 0; kk < MT_N; kk++) {
            y = (r->mt[kk] & 0x80000000u) | (r->mt[(kk + 1) % MT_N] & 0x7fffffffu);
            r->mt[kk] = r->mt[(kk + MT_M) % MT_N] ^ (y >> 1) ^ (y & 1 ? 0x9908b0dfu : 0);
        }
        r->mti = 0;
    }
    y = r->mt[r->mti++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

/* numpy random_sample() / Python random(): 53-bit double in [0, 1). */
static double mt_double(mt_t *r)
{
    uint32_t a = mt_next(r) >> 5, b = mt_next(r) >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

/* numpy legacy standard_normal: polar method, second value cached. */
static double mt_gauss(mt_t *r)
{
    double x1, x2, r2, f;
    if (r->has_gauss) {
        r->has_gauss = false;
        return r->gauss;
    }
    do {
        x1 = 2.0 * mt_double(r) - 1.0;
        x2 = 2.0 * mt_double(r) - 1.0;
        r2 = x1 * x1 + x2 * x2;
    } while (r2 >= 1.0 || r2 == 0.0);
    f = sqrt(-2.0 * log(r2) / r2);
    r->gauss = f * x1;
    r->has_gauss = true;
    return f * x2;
}

/* numpy legacy standard_gamma (Marsaglia-Tsang for a > 1, Johnk-like rejection below). */
static double mt_gamma(mt_t *r, double a)
{
    if (a == 1.0) {
        return -log(1.0 - mt_double(r));
    }
    if (a < 1.0) {
        for (;;) {
            double u = mt_double(r), v = -log(1.0 - mt_double(r)), x;
            if (u <= 1.0 - a) {
                x = pow(u, 1.0 / a);
                if (x <= v) {
                    return x;
                }
            } else {
                double y = -log((1 - u) / a);
                x = pow(1.0 - a + a * y, 1.0 / a);
                if (x <= v + y) {
                    return x;
                }
            }
        }
    }
    double b = a - 1.0 / 3.0, c = 1.0 / sqrt(9 * b);
    for (;;) {
        double x, v, u;
        do {
            x = mt_gauss(r);
            v = 1.0 + c * x;
        } while (v <= 0.0);
        v = v * v * v;
        u = mt_double(r);
        if (u < 1.0 - 0.0331 * (x * x) * (x * x)) {
            return b * v;
        }
        if (log(u) < 0.5 * x * x + b * (1. - v + log(v))) {
            return b * v;
        }
    }
}

/* numpy.random.RandomState(seed) */
static void rs_seed(mt_t *r, uint32_t seed)
{
    mt_init_genrand(r, seed);
}

/* Python random.Random(seed) for 0 <= seed < 2^32: key = [seed]. */
static void py_seed(mt_t *r, uint32_t seed)
{
    mt_init_by_array(r, &seed, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Variates: scipy rvs (loc/scale applied after the standard variate) */

static double comp_rvs(const fm_mix_comp_t *c, mt_t *r)
{
    double loc = c->p[c->np - 2], scale = c->p[c->np - 1], u, s;
    switch (c->fam) {
    case FM_FAM_UNIFORM:
        return mt_double(r) * scale + loc;
    case FM_FAM_LOGNORM:
        return exp(c->p[0] * mt_gauss(r)) * scale + loc;
    case FM_FAM_GENPARETO:
        /* scipy _ppf(q, c) = -boxcox1p(-q, -c) = expm1(-c log1p(-q)) / c */
        u = mt_double(r);
        s = c->p[0];
        return (fabs(s) < 1e-19 ? -log1p(-u) : expm1(-s * log1p(-u)) / s) * scale + loc;
    case FM_FAM_GAMMA:
        return mt_gamma(r, c->p[0]) * scale + loc;
    case FM_FAM_WEIBULL_MIN:
        u = mt_double(r);
        return pow(-log1p(-u), 1.0 / c->p[0]) * scale + loc;
    case FM_FAM_NORM:
        return mt_gauss(r) * scale + loc;
    default:
        return NAN;
    }
}

/* numpy choice(K, n, p): cumulative sums normalised by the last, searchsorted(side='right'). */
static void choice(const double *p, size_t K, size_t n, mt_t *r, size_t *out)
{
    double *cdf = malloc(K * sizeof(*cdf));
    double acc = 0;
    if (!cdf) {
        abort();
    }
    for (size_t k = 0; k < K; k++) {
        acc += p[k];
        cdf[k] = acc;
    }
    for (size_t k = 0; k < K; k++) {
        cdf[k] /= acc;
    }
    for (size_t i = 0; i < n; i++) {
        double u = mt_double(r);
        size_t lo = 0, hi = K;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (cdf[mid] <= u) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        out[i] = lo < K ? lo : K - 1;
    }
    free(cdf);
}

/* ------------------------------------------------------------------------------------------ */
/* Generation */

typedef struct {
    const char *in;
    const char *out;
    unsigned long n;
    uint32_t seed;
    bool size; /* -x size */
    bool binary; /* -o binary: a flow-models binary directory at -O */
} gen_args_t;

/* Where flows go: csv_flow text on a stream, or a flowio writer (-o binary). */
typedef struct {
    FILE *f;
    fm_writer_t *w;
    int rc;
    uint64_t *pairs; /* or (packets, octets) pairs collected here (fm_generate_pairs) */
    size_t npairs;
} sink_t;

/* Steps 6-7 of §8.2: packets/octets from the value and packet size, stochastic rounding. */
static void emit(sink_t *f, const gen_args_t *a, uint64_t v, double ps, mt_t *py)
{
    double packets, octets, u;
    uint64_t P, O;

    if (!a->size) {
        ps = ps < 64 ? 64 : ps > 1522 ? 1522 : ps;
        packets = (double)v;
        octets = (double)v * ps;
        O = (uint64_t)octets;
        u = mt_double(py);
        O = u + (double)O >= octets ? O : O + 1;
        P = v;
    } else {
        octets = (double)v;
        packets = (double)v / ps;
        if (octets / ceil(packets) < 64) {
            packets = trunc(packets);
        }
        packets = packets < 1 ? 1 : packets;
        P = (uint64_t)packets;
        u = mt_double(py);
        P = u + (double)P >= packets ? P : P + 1;
        O = v;
    }
    if (f->pairs) {
        f->pairs[2 * f->npairs] = P;
        f->pairs[2 * f->npairs + 1] = O;
        f->npairs++;
        return;
    }
    if (!f->w) {
        fprintf(f->f, "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, %llu, %llu, 0\n",
                (unsigned long long)P, (unsigned long long)O);
        return;
    }
    uint64_t t[FM_FIELD_COUNT] = {0};
    fm_flow_t fl;
    t[FM_FIELD_PACKETS] = P;
    t[FM_FIELD_OCTETS] = O;
    if (f->rc == 0 && fm_flow_from_tuple(t, &fl, NULL) == 0) {
        f->rc = fm_writer_write(f->w, &fl, 1);
    }
}

static uint64_t discretise(double value, bool size)
{
    uint64_t v;
    if (!(value >= 0)) {
        v = 1;
    } else if (value >= 1.8e19) {
        v = UINT64_MAX;
    } else {
        v = (uint64_t)value + 1;
    }
    return size && v < 64 ? 64 : v;
}

static int gen_mixture(sink_t *f, const gen_args_t *a, fm_mix_t *mix[3])
{
    const fm_mix_t *fl = mix[FM_Y_FLOWS];
    size_t K = fm_mix_count(fl), *comp = malloc(a->n * sizeof(size_t));
    double *val = malloc(a->n * sizeof(double)), *w = malloc((K ? K : 1) * sizeof(double));
    double tot = fm_mix_weight_total(fl), xmin = a->size ? 64 : 1;
    mt_t r;

    if (!comp || !val || !w) {
        free(comp);
        free(val);
        free(w);
        return FM_ENOMEM;
    }
    for (size_t k = 0; k < K; k++) {
        w[k] = fm_mix_comp(fl, k)->w / tot;
    }
    rs_seed(&r, a->seed);
    choice(w, K, a->n, &r, comp);
    /* Every component draws from its own fresh stream of the same seed (flow-models rvs). */
    for (size_t k = 0; k < K; k++) {
        rs_seed(&r, a->seed);
        for (size_t i = 0; i < a->n; i++) {
            if (comp[i] == k) {
                val[i] = comp_rvs(fm_mix_comp(fl, k), &r);
            }
        }
    }
    py_seed(&r, a->seed);
    double so = (double)fm_mix_sum(mix[FM_Y_OCTETS]), sp = (double)fm_mix_sum(mix[FM_Y_PACKETS]);
    for (size_t i = 0; i < a->n; i++) {
        uint64_t v = discretise(val[i], a->size);
        double po = fm_mix_pdf_discrete(mix[FM_Y_OCTETS], (double)v, xmin);
        double pp = fm_mix_pdf_discrete(mix[FM_Y_PACKETS], (double)v, xmin);
        emit(f, a, v, po / pp * so / sp, &r);
    }
    free(comp);
    free(val);
    free(w);
    return 0;
}

static int gen_hist(sink_t *f, const gen_args_t *a, const fm_hist_bin_t *bins, size_t n)
{
    double total = 0;
    mt_t r;

    if (a->n == 0) {
        /* Deterministic replay of the whole histogram, largest bins first. */
        py_seed(&r, a->seed);
        for (size_t i = n; i-- > 0;) {
            double ps = (double)bins[i].octets / (double)bins[i].packets;
            for (uint64_t j = 0; j < bins[i].flows; j++) {
                emit(f, a, bins[i].lo, ps, &r);
            }
        }
        return 0;
    }
    double *p = malloc(n * sizeof(*p));
    size_t *row = malloc(a->n * sizeof(*row));
    if (!p || !row) {
        free(p);
        free(row);
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        total += (double)bins[i].flows;
    }
    for (size_t i = 0; i < n; i++) {
        p[i] = (double)bins[i].flows / total;
    }
    rs_seed(&r, a->seed);
    choice(p, n, a->n, &r, row);
    py_seed(&r, a->seed);
    for (size_t i = 0; i < a->n; i++) {
        const fm_hist_bin_t *b = &bins[row[i]];
        emit(f, a, b->lo, (double)b->octets / (double)b->packets, &r);
    }
    free(p);
    free(row);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Command line */

static void usage(FILE *out)
{
    fprintf(out, "usage: flowmix generate [-s N] [--seed S] [-x length|size]\n"
                 "                        [-o csv_flow|binary] [-O OUT] MIXTURE_DIR|HIST.csv\n\n"
                 "Generate synthetic flows from a mixture directory (flows.json,\n"
                 "packets.json, octets.json) or a histogram, with flow-models' random streams.\n"
                 "  -s N       number of flows (default 1; 0 replays a histogram exactly)\n"
                 "  --seed S   seed 0..4294967295 (default 0)\n"
                 "  -x X       length (default) or size\n"
                 "  -o FMT     csv_flow (default) or binary (a directory of columns at -O)\n"
                 "  -O OUT     output file or directory (default - = stdout)\n");
}

static int parse_args(int argc, char **argv, gen_args_t *a)
{
    static const struct option lo[] = {
        {"seed", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char *end;
    int c;

    *a = (gen_args_t){.n = 1, .out = "-"};
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":s:x:o:O:h", lo, NULL)) != -1) {
        switch (c) {
        case 's':
            a->n = strtoul(optarg, &end, 10);
            if (*end || optarg[0] == '-') {
                goto bad;
            }
            break;
        case 'S': {
            unsigned long long s = strtoull(optarg, &end, 10);
            if (*end || optarg[0] == '-' || s > UINT32_MAX) {
                goto bad;
            }
            a->seed = (uint32_t)s;
            break;
        }
        case 'x':
            if (strcmp(optarg, "length") && strcmp(optarg, "size")) {
                fm_cmd_usage_error("generate", "-x %s: not length or size (flow-models"
                                               " cannot generate duration or rate either)",
                                   optarg);
                return -1;
            }
            a->size = !strcmp(optarg, "size");
            break;
        case 'o':
            if (strcmp(optarg, "csv_flow") && strcmp(optarg, "binary")) {
                fm_cmd_usage_error("generate", "-o %s: the output formats are csv_flow and"
                                               " binary", optarg);
                return -1;
            }
            a->binary = !strcmp(optarg, "binary");
            break;
        case 'O': a->out = optarg; break;
        case 'h': usage(stdout); return 1;
        default: fm_cmd_bad_option("generate", c, argv); return -1;
        }
    }
    if (optind != argc - 1) {
        fm_cmd_usage_error("generate", optind < argc ? "one input only" : "no input");
        return -1;
    }
    if (a->binary && strcmp(a->out, "-") == 0) {
        fm_cmd_usage_error("generate", "-o binary needs -O DIRECTORY");
        return -1;
    }
    a->in = argv[optind];
    return 0;
bad:
    if (c == 'S') {
        fm_cmd_usage_error("generate", "--seed: not a seed 0..4294967295: '%s'", optarg);
    } else {
        fm_cmd_usage_error("generate", "-%c: not a count: '%s'", c, optarg);
    }
    return -1;
}

static int load_dir(const char *dir, fm_mix_t *mix[3])
{
    for (int y = 0; y < 3; y++) {
        char path[4096], err[256];
        snprintf(path, sizeof(path), "%s/%s.json", dir, fm_mix_y_name(y));
        int rc = fm_mix_read_json(path, &mix[y], err, sizeof(err));
        if (rc < 0) {
            fprintf(stderr, "flowmix generate: %s: %s\n", path, err);
            return rc;
        }
    }
    if (fm_mix_count(mix[FM_Y_FLOWS]) == 0) {
        fprintf(stderr, "flowmix generate: %s/flows.json has no components\n", dir);
        return FM_EFORMAT;
    }
    return 0;
}

int fm_generate_pairs(const char *dir, size_t n, uint32_t seed, bool size, uint64_t **pairs)
{
    fm_mix_t *mix[3] = {NULL, NULL, NULL};
    gen_args_t a = {.in = dir, .out = "-", .n = n, .seed = seed, .size = size};
    sink_t sink = {.pairs = n ? malloc(2 * n * sizeof(uint64_t)) : NULL};
    int rc;

    gsl_set_error_handler_off();
    if (!sink.pairs) {
        return n ? FM_ENOMEM : FM_EINVAL;
    }
    rc = load_dir(dir, mix);
    rc = rc < 0 ? rc : gen_mixture(&sink, &a, mix);
    for (int y = 0; y < 3; y++) {
        fm_mix_free(mix[y]);
    }
    if (rc < 0) {
        free(sink.pairs);
        return rc;
    }
    *pairs = sink.pairs;
    return 0;
}

int fm_cmd_generate(int argc, char **argv)
{
    gen_args_t a;
    fm_mix_t *mix[3] = {NULL, NULL, NULL};
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    struct stat st;
    sink_t sink = {stdout, NULL, 0};
    int rc;

    gsl_set_error_handler_off();
    if ((rc = parse_args(argc, argv, &a)) != 0) {
        return rc > 0 ? 0 : 2;
    }
    bool is_dir = stat(a.in, &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir && a.n == 0) {
        fprintf(stderr, "flowmix generate: -s must be >= 1 for a mixture\n");
        return 2;
    }
    rc = is_dir ? load_dir(a.in, mix) : fm_hist_read_csv(a.in, &bins, &n);
    if (rc < 0) {
        goto out; /* load_dir and fm_hist_read_csv have said what is wrong */
    }
    if (a.binary) {
        if ((rc = fm_writer_open(a.out, FM_FMT_BINARY, &sink.w)) < 0) {
            goto out; /* the writer has said why */
        }
    } else if (strcmp(a.out, "-") && !(sink.f = fopen(a.out, "w"))) {
        fprintf(stderr, "flowmix generate: %s: %s\n", a.out, strerror(errno));
        rc = FM_EIO;
        goto out;
    }
    rc = is_dir ? gen_mixture(&sink, &a, mix) : n ? gen_hist(&sink, &a, bins, n) : FM_EFORMAT;
    rc = rc == 0 ? sink.rc : rc;
    if (sink.w) {
        int wrc = fm_writer_close(sink.w);
        if (rc == 0 && wrc < 0) {
            rc = wrc;
            sink.rc = wrc; /* logged by the writer */
        }
    } else if ((sink.f != stdout ? fclose(sink.f) : fflush(sink.f)) != 0 && rc == 0) {
        rc = FM_EIO;
    }
    if (rc < 0 && sink.rc == 0) {
        fprintf(stderr, "flowmix generate: %s\n", fm_strerror(rc));
    }
out:
    for (int y = 0; y < 3; y++) {
        fm_mix_free(mix[y]);
    }
    free(bins);
    return rc < 0 ? 1 : 0;
}
