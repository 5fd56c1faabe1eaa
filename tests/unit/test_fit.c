/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Unit tests of the EM fit: flow-models' initial mixture, recovery of known mixtures from exact
 * densities on a grid (lognormal, gamma, Weibull, Pareto), the tolerance stop and warm starts
 * (EM never lowers the likelihood), degenerate input (no rows, zero weights, one point:
 * collapsed components are dropped, never NaN), reentrancy (two threads give bit-identical
 * results) and, when the shared agh_2015 data is present, the published all/length/flows fit.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gsl/gsl_errno.h>

#include "fit.h"
#include "fit_kernel.h"
#include "mixture.h"
#include "util/err.h"

static bool close_rel(double a, double b, double tol)
{
    return fabs(a - b) <= tol * fabs(b);
}

static void test_initial_mix(void **state)
{
    (void)state;
    fm_mix_t *m = fm_fit_initial_mix(1, 185860096, 6, 0, 4);
    assert_int_equal(fm_mix_count(m), 10);
    for (int i = 0; i < 6; i++) {
        const fm_mix_comp_t *c = fm_mix_comp(m, (size_t)i);
        assert_int_equal(c->fam, FM_FAM_UNIFORM);
        assert_true(c->p[0] == 0 && c->p[1] == i + 1 && c->w == 0.1 && c->intmask == 3);
    }
    /* geomspace(6, xmax, 4), FLOW-MODELS-DETAIL §6.2 */
    const double g[4] = {6, 1884.3557, 591799.401, 185860096};
    for (int i = 0; i < 4; i++) {
        const fm_mix_comp_t *c = fm_mix_comp(m, (size_t)(6 + i));
        assert_int_equal(c->fam, FM_FAM_LOGNORM);
        assert_true(c->p[0] == 2.0 && c->p[1] == 0 && close_rel(c->p[2], g[i], 1e-6));
    }
    assert_true(fm_mix_comp(m, 6)->p[2] == 6.0 && fm_mix_comp(m, 9)->p[2] == 185860096.0);
    char *s = fm_mix_to_json(m);
    assert_non_null(strstr(s, "[0.1, \"lognorm\", [2.0, 0, 6.0]]"));
    free(s);
    fm_mix_free(m);
    /* Pareto: the first at xmin + U - 1, using no g value; lognormals take g[0], g[1] of 3. */
    m = fm_fit_initial_mix(64, 6400, 0, 1, 2);
    assert_int_equal(fm_mix_comp(m, 0)->fam, FM_FAM_GENPARETO);
    assert_true(fm_mix_comp(m, 0)->p[1] == 63 && fm_mix_comp(m, 0)->intmask == 2);
    assert_true(fm_mix_comp(m, 1)->p[2] == 64 && close_rel(fm_mix_comp(m, 2)->p[2], 640, 1e-12));
    fm_mix_free(m);
    assert_null(fm_fit_initial_mix(1, 10, 0, 0, 0));
}

/* Grid x = 1..n with weights proportional to the density of mixture m (scaled to integers). */
static void grid(const fm_mix_t *m, size_t n, double **x, double **w)
{
    *x = malloc(n * sizeof(double));
    *w = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) {
        (*x)[i] = (double)(i + 1);
        (*w)[i] = round(1e12 * fm_mix_pdf(m, (double)(i + 1)));
    }
}

static void test_recover_lognormals(void **state)
{
    fm_mix_t *truth = fm_mix_new(0), *out = NULL;
    fm_mix_comp_t a = {.w = 0.7, .fam = FM_FAM_LOGNORM, .np = 3, .p = {0.5, 0, 50}};
    fm_mix_comp_t b = {.w = 0.3, .fam = FM_FAM_LOGNORM, .np = 3, .p = {1.0, 0, 2000}};
    fm_fit_opts_t o = {.L = 2, .max_iter = 3000, .tol = 1e-13};
    fm_fit_result_t res;
    double *x, *w;
    (void)state;
    fm_mix_add(truth, &a);
    fm_mix_add(truth, &b);
    grid(truth, 200000, &x, &w);
    assert_int_equal(fm_fit_arrays(x, w, 200000, 42, &o, NULL, &out, &res), 0);
    assert_int_equal(fm_mix_sum(out), 42);
    assert_true(res.converged && res.iterations < 3000 && res.dropped == 0);
    /* Component order follows the initial scales (small first). */
    const fm_mix_comp_t *c0 = fm_mix_comp(out, 0), *c1 = fm_mix_comp(out, 1);
    assert_true(close_rel(c0->w, 0.7, 1e-3) && close_rel(c1->w, 0.3, 2e-3));
    assert_true(close_rel(c0->p[0], 0.5, 1e-3) && close_rel(c0->p[2], 50, 1e-3));
    assert_true(close_rel(c1->p[0], 1.0, 2e-3) && close_rel(c1->p[2], 2000, 2e-3));
    assert_true(isfinite(res.loglik));
    fm_mix_free(out);
    fm_mix_free(truth);
    free(x);
    free(w);
}

static void recover_one(fm_mix_comp_t truth_c, fm_mix_comp_t init_c, size_t n, double tol)
{
    fm_mix_t *truth = fm_mix_new(0), *init = fm_mix_new(0), *out = NULL;
    fm_fit_opts_t o = {.max_iter = 2000, .tol = 1e-14};
    fm_fit_result_t res;
    double *x, *w;
    fm_mix_add(truth, &truth_c);
    fm_mix_add(init, &init_c);
    grid(truth, n, &x, &w);
    assert_int_equal(fm_fit_arrays(x, w, n, 1, &o, init, &out, &res), 0);
    const fm_mix_comp_t *c = fm_mix_comp(out, 0);
    printf("# %s: w %.6g params %.6g %.6g %.6g after %u iterations\n",
           fm_mix_family_name(c->fam), c->w, c->p[0], c->p[1], c->p[2], res.iterations);
    assert_int_equal(c->fam, truth_c.fam);
    assert_true(close_rel(c->w, 1.0, tol));
    assert_true(close_rel(c->p[0], truth_c.p[0], tol));
    assert_true(close_rel(c->p[2], truth_c.p[2], tol));
    fm_mix_free(out);
    fm_mix_free(init);
    fm_mix_free(truth);
    free(x);
    free(w);
}

static void test_recover_other_families(void **state)
{
    (void)state;
    recover_one((fm_mix_comp_t){.w = 1, .fam = FM_FAM_GAMMA, .np = 3, .p = {3, 0, 10}},
                (fm_mix_comp_t){.w = 1, .fam = FM_FAM_GAMMA, .np = 3, .p = {1, 0, 1}}, 5000,
                5e-3);
    recover_one((fm_mix_comp_t){.w = 1, .fam = FM_FAM_WEIBULL_MIN, .np = 3, .p = {1.5, 0, 100}},
                (fm_mix_comp_t){.w = 1, .fam = FM_FAM_WEIBULL_MIN, .np = 3, .p = {1, 0, 50}},
                5000, 5e-3);
    /* Pareto with alpha 1.5 from beta = 1000: c = 1/alpha, scale = beta c (loc stays).  beta
     * is large so the unit grid resolves the density's steep start. */
    recover_one((fm_mix_comp_t){.w = 1, .fam = FM_FAM_GENPARETO, .np = 3,
                                .p = {1 / 1.5, 1000, 1000 / 1.5}},
                (fm_mix_comp_t){.w = 1, .fam = FM_FAM_GENPARETO, .np = 3, .p = {1.0, 1000, 10.0}},
                2000000, 1e-2);
}

static void test_tol_warm_start(void **state)
{
    fm_mix_t *truth = fm_mix_new(0), *out = NULL, *out2 = NULL;
    fm_mix_comp_t u = {.w = 0.2, .fam = FM_FAM_UNIFORM, .np = 2, .p = {0, 3}, .intmask = 3};
    fm_mix_comp_t a = {.w = 0.8, .fam = FM_FAM_LOGNORM, .np = 3, .p = {0.8, 0, 30}};
    fm_fit_opts_t o = {.U = 3, .L = 2, .max_iter = 20};
    fm_fit_result_t r1, r2;
    double *x, *w;
    (void)state;
    fm_mix_add(truth, &u);
    fm_mix_add(truth, &a);
    grid(truth, 5000, &x, &w);
    assert_int_equal(fm_fit_arrays(x, w, 5000, 1, &o, NULL, &out, &r1), 0);
    assert_int_equal(r1.iterations, 20);
    assert_false(r1.converged);
    /* EM never decreases the likelihood: a warm start continues upwards. */
    o.max_iter = 5;
    assert_int_equal(fm_fit_arrays(x, w, 5000, 1, &o, out, &out2, &r2), 0);
    assert_true(r2.loglik >= r1.loglik - 1e-12);
    fm_mix_free(out2);
    /* With a tolerance the fit stops early. */
    o.max_iter = 100000;
    o.tol = 1e-9;
    assert_int_equal(fm_fit_arrays(x, w, 5000, 1, &o, out, &out2, &r2), 0);
    assert_true(r2.converged && r2.iterations < 100000);
    fm_mix_free(out2);
    fm_mix_free(out);
    fm_mix_free(truth);
    free(x);
    free(w);
}

static void test_degenerate(void **state)
{
    fm_fit_opts_t o = {.U = 1, .L = 1, .max_iter = 50};
    fm_mix_t *out = NULL;
    fm_fit_result_t res;
    fm_hist_bin_t one = {5, 6, 100, 100, 6400};
    fm_hist_bin_t zero[2] = {{1, 2, 0, 0, 0}, {2, 3, 0, 0, 0}};
    (void)state;
    assert_int_equal(fm_fit_run(&one, 0, &o, NULL, &out, &res), FM_EINVAL);
    assert_int_equal(fm_fit_run(zero, 2, &o, NULL, &out, &res), FM_EFIT);
    o.y = 7;
    assert_int_equal(fm_fit_run(&one, 1, &o, NULL, &out, &res), FM_EINVAL);
    o.y = FM_Y_FLOWS;
    /* One point with a uniform ending there: the lognormal update is rejected (its scale would
     * not exceed the uniform's end), as in flow-models; everything stays finite. */
    assert_int_equal(fm_fit_run(&one, 1, &o, NULL, &out, &res), 0);
    assert_int_equal(fm_mix_count(out), 2);
    for (size_t k = 0; k < 2; k++) {
        assert_true(isfinite(fm_mix_comp(out, k)->w) && isfinite(fm_mix_comp(out, k)->p[0]));
    }
    fm_mix_free(out);
    /* Only a lognormal: it collapses onto the point and stays there as a spike (sigma =
     * machine epsilon), exactly as flow-models 2.2 keeps it: [eps, 0, 4.999999999999999]. */
    o.U = 0;
    assert_int_equal(fm_fit_run(&one, 1, &o, NULL, &out, &res), 0);
    assert_int_equal(fm_mix_count(out), 1);
    assert_true(fm_mix_comp(out, 0)->p[0] == 2.220446049250313e-16);
    assert_true(fm_mix_comp(out, 0)->p[2] == 4.999999999999999);
    assert_int_equal(res.dropped, 0);
    fm_mix_free(out);
    /* A Pareto whose support holds no data has no responsibility: its update is 0/0, which
     * turns flow-models' whole fit into NaN; here it alone is removed, and said so. */
    fm_mix_t *init = fm_mix_new(0);
    fm_mix_comp_t gp = {.w = 0.1, .fam = FM_FAM_GENPARETO, .np = 3, .p = {1.0, 1e9, 10.0}};
    fm_mix_comp_t ln = {.w = 0.9, .fam = FM_FAM_LOGNORM, .np = 3, .p = {1.0, 0, 10.0}};
    assert_int_equal(fm_mix_add(init, &gp), 0);
    assert_int_equal(fm_mix_add(init, &ln), 0);
    assert_int_equal(fm_fit_run(&one, 1, &o, init, &out, &res), 0);
    assert_int_equal(fm_mix_count(out), 1);
    assert_int_equal(res.ndrops, 1);
    assert_int_equal(res.drops[0].index, 0);
    assert_int_equal(res.drops[0].iteration, 1);
    assert_int_equal(res.drops[0].fam, FM_FAM_GENPARETO);
    fm_mix_free(init);
    fm_mix_free(out);
    /* Zero-weight rows inside the data (and an x = 0 row) give finite results. */
    fm_hist_bin_t dur[4] = {{0, 1, 50, 50, 3200}, {3, 4, 0, 0, 0}, {10, 11, 20, 40, 2560},
                            {100, 101, 5, 50, 3200}};
    o.U = 1;
    o.L = 2;
    assert_int_equal(fm_fit_run(dur, 4, &o, NULL, &out, &res), 0);
    for (size_t k = 0; k < fm_mix_count(out); k++) {
        assert_true(isfinite(fm_mix_comp(out, k)->w));
    }
    fm_mix_free(out);
}

typedef struct {
    const double *x, *w;
    size_t n;
    fm_mix_t *out;
    int rc;
} job_t;

static void *run_job(void *arg)
{
    job_t *j = arg;
    fm_fit_opts_t o = {.U = 2, .L = 3, .max_iter = 200};
    j->rc = fm_fit_arrays(j->x, j->w, j->n, 1, &o, NULL, &j->out, NULL);
    return NULL;
}

static void test_threads(void **state)
{
    fm_mix_t *truth = fm_mix_new(0);
    fm_mix_comp_t a = {.w = 0.5, .fam = FM_FAM_LOGNORM, .np = 3, .p = {0.6, 0, 20}};
    fm_mix_comp_t b = {.w = 0.5, .fam = FM_FAM_LOGNORM, .np = 3, .p = {1.2, 0, 900}};
    double *x, *w;
    job_t j[2];
    pthread_t t[2];
    (void)state;
    fm_mix_add(truth, &a);
    fm_mix_add(truth, &b);
    grid(truth, 30000, &x, &w);
    for (int i = 0; i < 2; i++) {
        j[i] = (job_t){.x = x, .w = w, .n = 30000};
        assert_int_equal(pthread_create(&t[i], NULL, run_job, &j[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(j[i].rc, 0);
    }
    char *s0 = fm_mix_to_json(j[0].out), *s1 = fm_mix_to_json(j[1].out);
    assert_string_equal(s0, s1);
    free(s0);
    free(s1);
    fm_mix_free(j[0].out);
    fm_mix_free(j[1].out);
    fm_mix_free(truth);
    free(x);
    free(w);
}

/* The published all/length/flows.json (flow-models, -i 400 -U 6 -L 4). */
static void test_published_length(void **state)
{
    const char *shared = getenv("FM_SHARED"), *src = getenv("top_srcdir");
    char path[4096], err[256];
    fm_hist_bin_t *bins = NULL;
    size_t n = 0;
    fm_mix_t *pub = NULL, *out = NULL;
    fm_fit_result_t res;
    fm_fit_opts_t o = {.y = FM_Y_FLOWS, .U = 6, .L = 4, .max_iter = 400};
    (void)state;
    snprintf(path, sizeof(path), "%s/data/agh_2015/histograms/all/length.csv",
             shared ? shared : "../shared");
    if (fm_hist_read_csv(path, &bins, &n) < 0) {
        skip();
    }
    snprintf(path, sizeof(path), "%s/tests/data/agh_2015/mixtures/all/length/flows.json",
             src ? src : ".");
    assert_int_equal(fm_mix_read_json(path, &pub, err, sizeof(err)), 0);
    assert_int_equal(fm_fit_run(bins, n, &o, NULL, &out, &res), 0);
    double ll_pub = fm_mix_loglik(pub, bins, n, FM_Y_FLOWS);
    printf("# all/length/flows: loglik %.15g (published %.15g), %.3f s\n", res.loglik, ll_pub,
           res.seconds);
    assert_true(res.loglik >= ll_pub - 1e-12 * fabs(ll_pub));
    assert_int_equal(fm_mix_sum(out), fm_mix_sum(pub));
    assert_int_equal(fm_mix_count(out), fm_mix_count(pub));
    for (size_t k = 0; k < fm_mix_count(pub); k++) {
        const fm_mix_comp_t *a = fm_mix_comp(out, k), *b = fm_mix_comp(pub, k);
        assert_true(close_rel(a->w, b->w, 1e-9));
        for (unsigned i = 0; i < b->np; i++) {
            assert_true(a->p[i] == b->p[i] || close_rel(a->p[i], b->p[i], 1e-9));
        }
    }
    fm_mix_free(out);
    fm_mix_free(pub);
    free(bins);
}

/* One fit through each E-step path (fit_kernel.h): the fused rows with AVX2 (when the CPU has
 * it), one row at a time, and the blocked E-step.  They differ only in rounding (summation
 * order, libmvec's exp): log-likelihoods, weights and parameters agree to 1e-12 relative. */
static void fit_mode(fm__fitk_mode_t mode, const double *x, const double *w, size_t n,
                     const fm_fit_opts_t *o, fm_mix_t **out, double *ll)
{
    fm_fit_result_t res;
    fm__fitk_set_mode(mode);
    assert_int_equal(fm_fit_arrays(x, w, n, 1, o, NULL, out, &res), 0);
    fm__fitk_set_mode(FM__FITK_AUTO);
    *ll = res.loglik;
}

static void test_estep_paths(void **state)
{
    (void)state;
    fm_mix_t *truth = fm_mix_new(0);
    fm_mix_comp_t u = {.w = 0.2, .fam = FM_FAM_UNIFORM, .np = 2, .p = {0, 3}};
    fm_mix_comp_t a = {.w = 0.5, .fam = FM_FAM_LOGNORM, .np = 3, .p = {0.8, 0, 20}};
    fm_mix_comp_t b = {.w = 0.3, .fam = FM_FAM_LOGNORM, .np = 3, .p = {1.5, 0, 3000}};
    fm_mix_add(truth, &u);
    fm_mix_add(truth, &a);
    fm_mix_add(truth, &b);
    double *x, *w;
    size_t n = 4099; /* not a multiple of 4: the scalar tail runs too */
    grid(truth, n, &x, &w);
    const fm_fit_opts_t opts[] = {{.U = 2, .L = 4, .max_iter = 60}, {.L = 8, .max_iter = 60},
                                  {.U = 1, .L = 3, .max_iter = 40, .tol = 1e-15}};
    for (size_t t = 0; t < sizeof(opts) / sizeof(opts[0]); t++) {
        fm_mix_t *m[3];
        double ll[3];
        fit_mode(FM__FITK_AUTO, x, w, n, &opts[t], &m[0], &ll[0]);
        fit_mode(FM__FITK_SCALAR, x, w, n, &opts[t], &m[1], &ll[1]);
        fit_mode(FM__FITK_BLOCKED, x, w, n, &opts[t], &m[2], &ll[2]);
        printf("# E-step paths, case %zu: loglik %.17g / %.17g / %.17g\n", t, ll[0], ll[1],
               ll[2]);
        for (int j = 1; j < 3; j++) {
            assert_true(close_rel(ll[j], ll[0], 1e-12));
            assert_int_equal(fm_mix_count(m[j]), fm_mix_count(m[0]));
            for (size_t k = 0; k < fm_mix_count(m[0]); k++) {
                const fm_mix_comp_t *p = fm_mix_comp(m[0], k), *q = fm_mix_comp(m[j], k);
                assert_true(p->w == q->w || close_rel(q->w, p->w, 1e-12));
                for (unsigned i = 0; i < p->np; i++) {
                    assert_true(p->p[i] == q->p[i] || close_rel(q->p[i], p->p[i], 1e-12));
                }
            }
        }
        for (int j = 0; j < 3; j++) {
            fm_mix_free(m[j]);
        }
    }
    fm_mix_free(truth);
    free(x);
    free(w);
}

/* numpy's pairwise_sum, written out plainly, of already computed terms. */
static double np_pairwise(const double *a, size_t n)
{
    if (n < 8) {
        double res = 0.;
        for (size_t i = 0; i < n; i++) {
            res += a[i];
        }
        return res;
    }
    if (n <= 128) {
        double r[8], res;
        size_t i;
        memcpy(r, a, sizeof(r));
        for (i = 8; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; j++) {
                r[j] += a[i + j];
            }
        }
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) {
            res += a[i];
        }
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return np_pairwise(a, n2) + np_pairwise(a + n2, n - n2);
}

/* The M-step sums: numpy's order of additions exactly, AVX2 and scalar paths bit-identical. */
static void test_pairwise_sums(void **state)
{
    (void)state;
    static const size_t ns[] = {0, 1, 7, 8, 9, 100, 128, 129, 1000, 4099, 23783};
    size_t N = 23783;
    double *r = malloc(N * sizeof(double)), *v = malloc(N * sizeof(double)),
           *t = malloc(N * sizeof(double));
    for (size_t i = 0; i < N; i++) {
        r[i] = exp(sin((double)i) * 30) * 1e-3;
        v[i] = log((double)i + 1.5);
    }
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
        size_t n = ns[a];
        double mu = 3.25;
        for (int kind = FM__PW_R; kind <= FM__PW_RDD; kind++) {
            for (size_t i = 0; i < n; i++) {
                double d = v[i] - mu;
                t[i] = kind == FM__PW_R ? r[i] : kind == FM__PW_RV ? r[i] * v[i] : r[i] * (d * d);
            }
            double want = np_pairwise(t, n);
            double got = fm__fitk_pairwise((fm__pw_kind_t)kind, r, v, mu, n);
            if (kind == FM__PW_RDD && n > 0) {
                fm__pw_plan_t pl;
                assert_int_equal(fm__pw_plan_init(&pl, n), 0);
                double *buf = malloc(pl.nleaves * sizeof(double));
                assert_true(fm__pw_rdd(&pl, r, v, mu, buf) == want);
                free(buf);
                fm__pw_plan_fini(&pl);
            }
            fm__fitk_set_mode(FM__FITK_SCALAR);
            double got_scalar = fm__fitk_pairwise((fm__pw_kind_t)kind, r, v, mu, n);
            fm__fitk_set_mode(FM__FITK_AUTO);
            assert_true(got == want && got_scalar == want);
        }
    }
    free(r);
    free(v);
    free(t);
}

/* The M-step's sums leaf by leaf over a plan (fm__pw_r_rv: r and r ln x in one pass;
 * fm__pw_rdd: the variance, two leaves at a time), added up by fm__pw_combine, are exactly
 * numpy's pairwise sums (fm__fitk_pairwise) on the AVX2 and the scalar path, for sizes around
 * the leaf bounds; the plan's leaves tile [0, n) with at most 128 each. */
static void test_pairwise_leaves(void **state)
{
    (void)state;
    static const size_t ns[] = {1, 5, 7, 8, 9, 100, 128, 129, 130, 136, 1000, 4099, 23783};
    static const fm__fitk_mode_t modes[] = {FM__FITK_AUTO, FM__FITK_SCALAR};
    for (size_t a = 0; a < sizeof(ns) / sizeof(ns[0]); a++) {
        size_t n = ns[a];
        double *r = malloc(n * sizeof(double)), *v = malloc(n * sizeof(double));
        fm__pw_plan_t pl;
        assert_int_equal(fm__pw_plan_init(&pl, n), 0);
        assert_true(pl.nleaves >= 1 && pl.end[pl.nleaves - 1] == n);
        for (size_t j = 0; j < pl.nleaves; j++) {
            size_t o = j ? pl.end[j - 1] : 0;
            assert_true(pl.end[j] > o && pl.end[j] - o <= 128);
        }
        for (size_t i = 0; i < n; i++) {
            r[i] = exp(sin((double)i * 0.7) * 25) * 1e-3;
            v[i] = log((double)i + 64.0);
        }
        double *buf = malloc(2 * pl.nleaves * sizeof(double));
        double want_r = fm__fitk_pairwise(FM__PW_R, r, v, 0, n);
        double want_rv = fm__fitk_pairwise(FM__PW_RV, r, v, 0, n);
        double want_rdd = fm__fitk_pairwise(FM__PW_RDD, r, v, 5.25, n);
        for (size_t mo = 0; mo < 2; mo++) {
            double rv = 0;
            fm__fitk_set_mode(modes[mo]);
            double got_r = fm__pw_r_rv(&pl, r, v, buf, &rv);
            double got_rdd = fm__pw_rdd(&pl, r, v, 5.25, buf);
            fm__fitk_set_mode(FM__FITK_AUTO);
            assert_true(got_r == want_r && rv == want_rv && got_rdd == want_rdd);
        }
        free(buf);
        fm__pw_plan_fini(&pl);
        free(r);
        free(v);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_mix),        cmocka_unit_test(test_recover_lognormals),
        cmocka_unit_test(test_recover_other_families), cmocka_unit_test(test_tol_warm_start),
        cmocka_unit_test(test_degenerate),         cmocka_unit_test(test_threads),
        cmocka_unit_test(test_published_length),   cmocka_unit_test(test_estep_paths),
        cmocka_unit_test(test_pairwise_sums),      cmocka_unit_test(test_pairwise_leaves),
    };
    gsl_set_error_handler_off();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
