/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * EM fitting (flow-models fit.py in C).  Data are the histogram rows (x = bin_lo, weight = the y
 * column).  The E-step works on blocks of BLOCK rows so every component's column of the block
 * stays in cache: log terms ln(w_k f_k(x_i)) (one fused expression per lognormal term), each
 * row's largest term, exp of the differences (glibc's AVX2 libmvec exp where available), row
 * sums, responsibilities, and the sums the M-step needs, all in one sweep.  Uniforms only touch
 * the rows they cover.  The M-step updates each family in closed form or, for gamma and
 * Weibull, with the same root finders flow-models uses (fsolve-like from 1.0 for gamma's shape,
 * 5 Newton steps for Weibull's).
 *
 * Numerics: rows are summed relative to their largest term (log-sum-exp), so no subnormals and
 * no underflowed rows; terms more than 708 below the row's largest count as 0.  Rows with zero
 * total get zero responsibilities (flow-models' rule).  x = 0 rows (duration histograms) use
 * ln x = 0, where lognormal and Pareto terms are exactly 0, so no 0 * -inf NaN.  A lognormal
 * that collapses onto one point (sigma -> machine epsilon, a spike) is kept as flow-models keeps
 * it; narrow ones are evaluated as scipy does (ln(x / scale), not ln x - ln scale, whose
 * rounding is larger than such a component's width).  Only a component whose parameters or
 * weight become non-finite (where flow-models' fit turns into NaN) is removed, and recorded in
 * fm_fit_result_t.
 */
#include "config.h"

#include "fit.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_psi.h>

#include "fit_kernel.h"
#include "util/err.h"

/* glibc on x86-64 ships vector math (libmvec, linked through libm.so's AS_NEEDED); the E-step's
 * exp loop uses its AVX2 exp when the CPU has AVX2, the scalar exp otherwise. */
#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 22))
#define FIT_LIBMVEC 1
#include <immintrin.h>
#else
#define FIT_LIBMVEC 0
#endif

#define EPS 2.220446049250313e-16
/* A lognormal narrower than this is evaluated scipy's way, ln(x / scale): the closed form's
 * ln x - ln scale is off by ~1e-15, which matters once sigma is this small. */
#define SIGMA_NARROW 1e-3

/* Per-component sums gathered during the E-step: sum r, sum r d, sum r d^2 with d = ln x - c. */
typedef struct {
    double s0, s1, s2, c;
    size_t lo, hi;  /* rows >= 1 where the component's density may be non-zero */
    double lw;      /* ln weight */
    double lnsc, a, cst; /* lognormal: ln scale, 1 / 2s^2, ln(s sqrt(2 pi)) - ln w */
    double row0;    /* ln(w (cdf(x0) - cdf(0))) */
    bool fast;      /* lognormal with loc 0 (closed form below) */
    bool narrow;    /* lognormal with sigma < SIGMA_NARROW (evaluated scipy's way) */
} acc_t;

/* Rows per E-step block: K columns of this many doubles stay in the L1/L2 cache. */
#define BLOCK 512

typedef struct {
    const double *x;
    const double *ws;
    double *lnx;
    double *tile;  /* K x BLOCK: log terms, then terms, then responsibilities of one block */
    double *rfull; /* K x N responsibilities, kept only when a gamma/Weibull needs them */
    acc_t *acc;    /* K */
    double S[BLOCK];  /* row totals, then the row factors ws / (avg_ws S) */
    double mx[BLOCK]; /* largest log term of each row */
    size_t n;
    double avg_ws;
    fm__fitk_t kp;   /* the fused E-step's parameters (fit_kernel.h), arrays of cap entries */
    void *kmem;      /* their storage */
    fm__pw_plan_t pw; /* with rfull: numpy's pairwise tree over the n rows ... */
    double *leaves;   /* ... and room for the M-step's leaf sums (2 x nleaves) */
} em_t;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* numpy.geomspace(a, b, n) as flow-models calls it (endpoints set exactly). */
static void geomspace(double a, double b, unsigned n, double *g)
{
    double la = log10(a), lb = log10(b);
    double step = n > 1 ? (lb - la) / (n - 1) : 0;

    for (unsigned i = 0; i < n; i++) {
        g[i] = pow(10.0, i * step + la);
    }
    if (n > 0) {
        g[0] = a;
    }
    if (n > 1) {
        g[n - 1] = b;
    }
}

fm_mix_t *fm_fit_initial_mix(double xmin, double xmax, unsigned U, unsigned P, unsigned L)
{
    unsigned ng = P + L, j = 0;
    double *g;
    fm_mix_t *m;

    if (U + P + L == 0) {
        return NULL;
    }
    g = calloc(ng ? ng : 1, sizeof(*g));
    if (!g) {
        return NULL;
    }
    geomspace(xmin + (U > 1 ? U : 1) - 1, xmax, ng, g);
    m = fm_mix_new(0);
    for (unsigned i = 0; i < U; i++) {
        fm_mix_comp_t c = {.w = 0.1, .fam = FM_FAM_UNIFORM, .np = 2, .p = {0, xmin + i},
                           .intmask = 3};
        fm_mix_add(m, &c);
    }
    for (unsigned i = 0; i < P; i++) {
        /* The first Pareto starts at the last uniform's end (an integer) and uses no g value,
         * so with P >= 1 the last g value is never used (as in flow-models). */
        fm_mix_comp_t c = {.w = 0.1, .fam = FM_FAM_GENPARETO, .np = 3,
                           .p = {1.0, i == 0 ? xmin + U - 1.0 : g[j], 10.0},
                           .intmask = i == 0 ? 2 : 0};
        if (i > 0) {
            j++;
        }
        fm_mix_add(m, &c);
    }
    for (unsigned i = 0; i < L; i++) {
        fm_mix_comp_t c = {.w = 0.1, .fam = FM_FAM_LOGNORM, .np = 3, .p = {2.0, 0, g[j++]},
                           .intmask = 2};
        fm_mix_add(m, &c);
    }
    free(g);
    return m;
}

/* ------------------------------------------------------------------------------------------ */
/* E-step */

/* First index i in [from, n) with x[i] >= v (strict: x[i] > v). */
static size_t lower_bound(const double *x, size_t from, size_t n, double v, bool strict)
{
    size_t lo = from, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strict ? x[mid] <= v : x[mid] < v) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/*
 * Rows [lo, hi) (lo >= 1) outside which component c's density is certainly 0: a uniform only
 * covers the first few rows of a length histogram, so skipping the rest saves most of the work
 * for those components.  Families without a simple bound get every row.
 */
static void comp_rows(const em_t *em, const fm_mix_comp_t *c, acc_t *acc)
{
    double loc = c->p[c->np - 2];

    acc->lo = 1;
    acc->hi = em->n;
    if (c->fam == FM_FAM_UNIFORM && c->p[1] > 0) {
        acc->lo = lower_bound(em->x, 1, em->n, loc, false);
        acc->hi = lower_bound(em->x, acc->lo, em->n, loc + c->p[1], true);
    } else if (c->fam == FM_FAM_GENPARETO && c->p[0] >= 0) {
        acc->lo = lower_bound(em->x, 1, em->n, loc, false);
    }
}

/* Per-iteration constants of component c. */
static void comp_prepare(const em_t *em, const fm_mix_comp_t *c, acc_t *acc)
{
    double mass = fm_mix_comp_cdf(c, em->x[0]) - fm_mix_comp_cdf(c, 0);

    *acc = (acc_t){.lw = log(c->w)};
    comp_rows(em, c, acc);
    acc->narrow = c->fam == FM_FAM_LOGNORM && c->p[0] < SIGMA_NARROW;
    acc->fast = c->fam == FM_FAM_LOGNORM && c->p[1] == 0 && c->p[0] > 0 && c->p[2] > 0 &&
                !acc->narrow;
    if (acc->fast) {
        acc->lnsc = log(c->p[2]);
        acc->a = 1.0 / (2 * c->p[0] * c->p[0]);
        acc->cst = log(c->p[0] * sqrt(2 * M_PI)) - acc->lw;
        acc->c = acc->lnsc; /* the sums are taken around the old mu */
    }
    acc->row0 = mass > 0 ? log(mass) + acc->lw : -INFINITY;
}

/* ln(w f(x_i)) for rows [lo, hi) into col[i - base]. */
static void log_terms(const em_t *em, const fm_mix_comp_t *c, const acc_t *acc, size_t lo,
                      size_t hi, double *col, size_t base)
{
    if (acc->fast) {
        /* ln w - ln^2 z / 2s^2 - ln(s z sqrt(2 pi)) - ln scale, with ln z = ln x - ln scale. */
        for (size_t i = lo; i < hi; i++) {
            double t = em->lnx[i] - acc->lnsc;
            col[i - base] = -t * t * acc->a - em->lnx[i] - acc->cst;
        }
    } else if (c->fam == FM_FAM_UNIFORM) {
        double v = acc->lw - log(c->p[1]);
        for (size_t i = lo; i < hi; i++) {
            col[i - base] = v;
        }
    } else {
        for (size_t i = lo; i < hi; i++) {
            col[i - base] = log(fm_mix_comp_pdf(c, em->x[i])) + acc->lw;
        }
    }
}

/* A term this far below its row's largest is below DBL_MIN relative to it: take it as 0
 * (this also keeps subnormal arithmetic, which is very slow, out of the loops). */
#define LOG_NEGLIGIBLE (-708.0)

static void exp_shifted_scalar(double *e, const double *mx, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++) {
        double d = e[i] - mx[i];
        e[i] = d >= LOG_NEGLIGIBLE ? exp(d) : 0.0;
    }
}

#if FIT_LIBMVEC
/* glibc's libmvec AVX2 exp (x86-64 vector ABI name), at most 4 ulp from exp().  Declared with
 * the target of its only caller: clang refuses an AVX argument to a function without it. */
__attribute__((target("avx2,fma"))) __m256d _ZGVdN4v_exp(__m256d x);

__attribute__((target("avx2,fma"))) static void exp_shifted_avx2(double *e, const double *mx,
                                                                   size_t lo, size_t hi)
{
    const __m256d lim = _mm256_set1_pd(LOG_NEGLIGIBLE);
    size_t i = lo;

    for (; i + 4 <= hi; i += 4) {
        __m256d d = _mm256_sub_pd(_mm256_loadu_pd(e + i), _mm256_loadu_pd(mx + i));
        __m256d ok = _mm256_cmp_pd(d, lim, _CMP_GE_OQ); /* false for NaN too */
        __m256d v = _ZGVdN4v_exp(_mm256_blendv_pd(lim, d, ok));
        _mm256_storeu_pd(e + i, _mm256_and_pd(v, ok));
    }
    exp_shifted_scalar(e, mx, i, hi);
}
#endif

/* e[i] = exp(e[i] - mx[i]) on [lo, hi), 0 for negligible or undefined (-inf - -inf) terms. */
static void exp_shifted(double *e, const double *mx, size_t lo, size_t hi)
{
#if FIT_LIBMVEC
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        exp_shifted_avx2(e, mx, lo, hi);
        return;
    }
#endif
    exp_shifted_scalar(e, mx, lo, hi);
}

/* Turn col[lo..hi) (rows b0 + lo ...) into responsibilities (col *= f) and add r, r d, r d^2
 * to the sums. */
static void column_sums(const em_t *em, size_t b0, const double *f, double *col, size_t lo,
                        size_t hi, acc_t *acc)
{
    double s0[2] = {0, 0}, s1[2] = {0, 0}, s2[2] = {0, 0}, c = acc->c;
    const double *lnx = em->lnx + b0 + lo;
    size_t i = 0, len = hi - lo;

    col += lo;
    f += lo;
    /* Two accumulators per sum break the add latency chain. */
    for (; i + 1 < len; i += 2) {
        for (int j = 0; j < 2; j++) {
            double r = col[i + j] * f[i + j], d = lnx[i + j] - c, rd = r * d;
            col[i + j] = r;
            s0[j] += r;
            s1[j] += rd;
            s2[j] += rd * d;
        }
    }
    if (i < len) {
        double r = col[i] * f[i], d = lnx[i] - c, rd = r * d;
        col[i] = r;
        s0[0] += r;
        s1[0] += rd;
        s2[0] += rd * d;
    }
    acc->s0 += s0[0] + s0[1];
    acc->s1 += s1[0] + s1[1];
    acc->s2 += s2[0] + s2[1];
}

/* Families whose M-step reads every responsibility (two passes, or an iterative solve). */
static bool needs_r(fm_family_t fam)
{
    return fam != FM_FAM_UNIFORM && fam != FM_FAM_GENPARETO;
}

/* Rows of component k inside block [b0, b1), relative to b0; empty if lo >= hi. */
static void block_span(const acc_t *acc, size_t b0, size_t b1, size_t *lo, size_t *hi)
{
    size_t l = acc->lo > b0 ? acc->lo : b0, h = acc->hi < b1 ? acc->hi : b1;
    *lo = l - b0;
    *hi = h > l ? h - b0 : l - b0;
}

/* One block of rows [b0, b1): responsibilities and sums.  Returns sum ws ln S over the block. */
static double estep_block(em_t *em, const fm_mix_t *m, size_t b0, size_t b1, bool want_ll)
{
    size_t K = fm_mix_count(m), len = b1 - b0, lo, hi;
    double ll = 0, *mx = em->mx, *S = em->S;

    /* Log terms and each row's largest, so rows are summed relative to their largest term. */
    for (size_t i = 0; i < len; i++) {
        mx[i] = -INFINITY;
        S[i] = 0;
    }
    for (size_t k = 0; k < K; k++) {
        double *col = em->tile + k * BLOCK;
        block_span(&em->acc[k], b0, b1, &lo, &hi);
        log_terms(em, fm_mix_comp(m, k), &em->acc[k], lo + b0, hi + b0, col, b0);
        if (b0 == 0) {
            col[0] = em->acc[k].row0;
            mx[0] = col[0] > mx[0] ? col[0] : mx[0];
        }
        for (size_t i = lo; i < hi; i++) {
            mx[i] = col[i] > mx[i] ? col[i] : mx[i];
        }
    }
    for (size_t k = 0; k < K; k++) {
        double *col = em->tile + k * BLOCK;
        block_span(&em->acc[k], b0, b1, &lo, &hi);
        if (b0 == 0) {
            exp_shifted(col, mx, 0, 1);
            S[0] += col[0];
        }
        exp_shifted(col, mx, lo, hi);
        for (size_t i = lo; i < hi; i++) {
            S[i] += col[i];
        }
    }
    for (size_t i = 0; i < len; i++) {
        double s = S[i], ws = em->ws[b0 + i];
        if (want_ll && ws > 0) {
            ll += ws * (mx[i] + log(s));
        }
        /* Rows with a zero total get zero responsibilities (flow-models' rule). */
        S[i] = (s > 0 && isfinite(s) ? 1.0 / s : 0.0) * (ws / em->avg_ws);
    }
    for (size_t k = 0; k < K; k++) {
        double *col = em->tile + k * BLOCK;
        block_span(&em->acc[k], b0, b1, &lo, &hi);
        if (b0 == 0) {
            column_sums(em, b0, S, col, 0, 1, &em->acc[k]);
        }
        column_sums(em, b0, S, col, lo, hi, &em->acc[k]);
        if (em->rfull && needs_r(fm_mix_comp(m, k)->fam)) {
            /* Their ranges cover every row, so the whole column gets written. */
            memcpy(em->rfull + k * em->n + b0, col, len * sizeof(*col));
        }
    }
    return ll;
}

/*
 * E-step over all rows: responsibilities r_ik = p_ik / S_i * ws_i / avg_ws, evaluated in log
 * space block by block, and the per-component sums the M-step needs.  The log sums are taken
 * around c_k = the component's old ln(scale), which keeps the one-pass variance
 * s2/W - (s1/W)^2 free of cancellation.  Returns the weighted mean log-likelihood of the current
 * mixture when want_ll is set.
 */
/* Fill the fused E-step's parameters from the prepared components.  @return false when a
 * component is neither a uniform nor a loc-0 lognormal (then the blocked E-step runs). */
static bool kernel_setup(em_t *em, const fm_mix_t *m)
{
    fm__fitk_t *p = &em->kp;
    size_t K = fm_mix_count(m);

    /* The kernel tracks live components in a 64-bit mask. */
    if (!em->kmem || K > 64 || fm__fitk_mode() == FM__FITK_BLOCKED) {
        return false;
    }
    for (size_t k = 0; k < K; k++) {
        const fm_mix_comp_t *c = fm_mix_comp(m, k);
        const acc_t *acc = &em->acc[k];
        bool *uni = (bool *)p->uni;
        if (c->fam != FM_FAM_UNIFORM && !acc->fast) {
            return false;
        }
        uni[k] = c->fam == FM_FAM_UNIFORM;
        ((double *)p->v)[k] = uni[k] ? acc->lw - log(c->p[1]) : 0;
        ((size_t *)p->lo)[k] = acc->lo;
        ((size_t *)p->hi)[k] = acc->hi;
        ((double *)p->lnsc)[k] = acc->lnsc;
        ((double *)p->a)[k] = acc->a;
        ((double *)p->cst)[k] = acc->cst;
        ((double *)p->c)[k] = acc->c;
        ((double *)p->row0)[k] = acc->row0;
        p->s0[k] = p->s1[k] = p->s2[k] = 0;
    }
    p->K = K;
    p->r = em->rfull; /* the two-pass lognormal M-step reads every responsibility */
    p->n = em->n;
    return true;
}

/* Storage for the fused E-step's parameters of up to K components (NULL: not used). */
static void *kernel_alloc(em_t *em, size_t K)
{
    size_t nd = 10 * K, bytes = nd * sizeof(double) + 2 * K * sizeof(size_t) + K +
                                fm__fitk_scratch_bytes(K);
    char *mem = calloc(1, bytes);
    double *d = (double *)mem;
    fm__fitk_t *p = &em->kp;

    if (!mem) {
        return NULL;
    }
    p->v = d;
    p->lnsc = d + K;
    p->a = d + 2 * K;
    p->cst = d + 3 * K;
    p->c = d + 4 * K;
    p->row0 = d + 5 * K;
    p->s0 = d + 6 * K;
    p->s1 = d + 7 * K;
    p->s2 = d + 8 * K;
    p->scratch = d + 9 * K; /* K doubles here, then the rest of the block */
    p->lo = (size_t *)(mem + nd * sizeof(double) + fm__fitk_scratch_bytes(K));
    p->hi = p->lo + K;
    p->uni = (bool *)(p->hi + K);
    return mem;
}

static double estep(em_t *em, const fm_mix_t *m, bool want_ll)
{
    double ll = 0, wsum = 0;

    for (size_t k = 0; k < fm_mix_count(m); k++) {
        comp_prepare(em, fm_mix_comp(m, k), &em->acc[k]);
    }
    if (kernel_setup(em, m)) {
        ll = fm__fitk_rows(&em->kp, em->lnx, em->ws, em->avg_ws, 0, em->n, want_ll);
        for (size_t k = 0; k < fm_mix_count(m); k++) {
            em->acc[k].s0 = em->kp.s0[k];
            em->acc[k].s1 = em->kp.s1[k];
            em->acc[k].s2 = em->kp.s2[k];
        }
    } else {
        for (size_t b0 = 0; b0 < em->n; b0 += BLOCK) {
            size_t b1 = b0 + BLOCK < em->n ? b0 + BLOCK : em->n;
            ll += estep_block(em, m, b0, b1, want_ll);
        }
    }
    if (want_ll) {
        for (size_t i = 0; i < em->n; i++) {
            wsum += em->ws[i];
        }
    }
    return wsum > 0 ? ll / wsum : NAN;
}

/* ------------------------------------------------------------------------------------------ */
/* M-step */

/*
 * flow-models' two passes: mu = sum r ln x / W, sigma = sqrt(sum r (ln x - mu)^2 / W).  The
 * one-pass form from the E-step sums cancels to noise when a component collapses within one
 * iteration (its variance falls by 40 orders of magnitude), and flow-models' result there
 * (a spike, or a frozen zero-weight component) depends on the exact small value.
 */
static void mstep_lognorm(const em_t *em, size_t k, const double *r, double max_upper,
                          fm_mix_comp_t *c)
{
    const acc_t *acc = &em->acc[k];
    double W = acc->s0 > 0 ? acc->s0 : EPS;
    double dm = acc->s1 / W, mu = acc->c + dm, var = acc->s2 / W - dm * dm;
    double sigma = var > 0 ? sqrt(var) : 0;

    if (r) {
        /* flow-models' np.sum, in numpy's pairwise order (fit_kernel.h): the first two in one
         * pass over r (from L3: the E-step wrote every component's r since), which leaves this
         * component's r (n doubles) in L2 for the variance's pass */
        double s1, s0 = fm__pw_r_rv(&em->pw, r, em->lnx, em->leaves, &s1);
        W = s0 > 0 ? s0 : EPS;
        /* 0 for a component without responsibility, as flow-models */
        mu = s1 / W;
        sigma = sqrt(fm__pw_rdd(&em->pw, r, em->lnx, mu, em->leaves) / W);
    } else if (!(acc->s0 > 0)) {
        mu = 0; /* flow-models: sum(r ln x) / eps = 0 */
        sigma = 0;
    }
    if (!(sigma > 0)) {
        sigma = EPS;
    }
    /* flow-models keeps lognormals above the uniforms: reject an update that falls below. */
    if (exp(mu) < max_upper) {
        return;
    }
    c->p[0] = sigma;
    c->p[2] = exp(mu);
}

static void mstep_genpareto(const acc_t *acc, fm_mix_comp_t *c)
{
    double beta = c->p[1], cc = acc->s1 / acc->s0 - log(beta);

    c->p[0] = cc;
    c->p[2] = beta * cc;
}

/* Gamma: scale from the mean and the old shape, then the shape from psi(a) = E[ln x] - ln b. */
static void mstep_gamma(const em_t *em, const double *r, fm_mix_comp_t *c)
{
    double W = 0, X = 0, L = 0, b, target, a = 1.0;

    for (size_t i = 0; i < em->n; i++) {
        if (r[i] != 0) {
            W += r[i];
            X += r[i] * em->x[i];
            L += r[i] * em->lnx[i];
        }
    }
    if (!(W > 0)) {
        return;
    }
    b = X / W / c->p[0];
    target = L / W - log(b);
    /* psi is increasing and concave: Newton from 1.0, halving whenever a step leaves a > 0. */
    for (int it = 0; it < 100; it++) {
        gsl_sf_result psi, tri;
        if (gsl_sf_psi_e(a, &psi) != GSL_SUCCESS || gsl_sf_psi_1_e(a, &tri) != GSL_SUCCESS) {
            break;
        }
        double next = a - (psi.val - target) / tri.val;
        if (!(next > 0)) {
            next = a / 2;
        }
        if (fabs(next - a) <= 1e-13 * a) {
            a = next;
            break;
        }
        a = next;
    }
    c->p[0] = a;
    c->p[1] = 0;
    c->p[2] = b;
    c->intmask = 2;
}

/* Weibull: lambda from the old shape, then scipy newton (5 steps) on flow-models' f(k). */
static void mstep_weibull(const em_t *em, const double *r, fm_mix_comp_t *c)
{
    double W = 0, S = 0, L = 0, k0 = c->p[0], lam, k = 1.0;

    for (size_t i = 0; i < em->n; i++) {
        if (r[i] != 0) {
            W += r[i];
            S += r[i] * pow(em->x[i], k0);
            L += r[i] * em->lnx[i];
        }
    }
    if (!(W > 0)) {
        return;
    }
    lam = pow(S / W, 1.0 / k0);
    for (int it = 0; it < 5; it++) {
        double sk = 0, d2 = 0;
        for (size_t i = 0; i < em->n; i++) {
            if (r[i] != 0) {
                double q = em->lnx[i] - log(lam);
                sk += r[i] * pow(em->x[i], k) * q;
                d2 += r[i] * (em->x[i] / lam) * (em->x[i] / lam) * q * q;
            }
        }
        double f = W / k + L - W * log(lam) - pow(lam, -k) * sk;
        double fp = -W / (k * k) - d2;
        if (fp == 0 || !isfinite(f / fp)) {
            break;
        }
        double next = k - f / fp;
        if (fabs(next - k) < 1.48e-8) {
            k = next;
            break;
        }
        k = next;
    }
    c->p[0] = k;
    c->p[1] = 0;
    c->p[2] = lam;
    c->intmask = 2;
}

/* flow-models' norm update: mu = sum r x / W, sigma = sqrt(sum r (x - mu)^2 / W), two passes. */
static void mstep_norm(const em_t *em, const double *r, fm_mix_comp_t *c)
{
    double W = 0, X = 0, V = 0, mu, sigma;

    for (size_t i = 0; i < em->n; i++) {
        W += r[i];
        X += r[i] * em->x[i];
    }
    if (!(W > 0)) {
        W = EPS;
    }
    mu = X / W;
    for (size_t i = 0; i < em->n; i++) {
        V += r[i] * ((em->x[i] - mu) * (em->x[i] - mu));
    }
    sigma = sqrt(V / W);
    c->p[0] = mu;
    c->p[1] = sigma > 0 ? sigma : EPS;
    c->intmask = 0;
}

static double guard_value(const fm_mix_t *m)
{
    double g = 0;
    for (size_t k = 0; k < fm_mix_count(m); k++) {
        const fm_mix_comp_t *c = fm_mix_comp(m, k);
        if (c->fam == FM_FAM_UNIFORM && c->p[1] > g) {
            g = c->p[1];
        } else if (c->fam == FM_FAM_GENPARETO && c->p[1] + 1 > g) {
            g = c->p[1] + 1;
        }
    }
    return g;
}

static void mstep(const em_t *em, fm_mix_t *m, double mpw)
{
    double max_upper = guard_value(m);

    for (size_t k = 0; k < fm_mix_count(m); k++) {
        fm_mix_comp_t *c = fm_mix_comp_mut(m, k);
        const double *r = em->rfull ? em->rfull + k * em->n : NULL;
        double sr = em->acc[k].s0;
        switch (c->fam) {
        case FM_FAM_LOGNORM:
            mstep_lognorm(em, k, r, max_upper, c);
            break;
        case FM_FAM_GENPARETO:
            mstep_genpareto(&em->acc[k], c);
            break;
        case FM_FAM_GAMMA:
            mstep_gamma(em, r, c);
            break;
        case FM_FAM_WEIBULL_MIN:
            mstep_weibull(em, r, c);
            break;
        case FM_FAM_NORM:
            mstep_norm(em, r, c);
            break;
        default:
            break; /* uniforms keep their bounds */
        }
        c->w = sr / (double)em->n;
        if (c->fam == FM_FAM_GENPARETO && mpw > 0 && c->w > mpw) {
            c->w = mpw;
        }
    }
}

/*
 * Remove components whose weight or parameters are no longer finite: there flow-models' fit
 * turns into NaN (the NaN spreads to every row's total).  Each removal is recorded with the
 * component's index in the initial mixture (orig[] follows the removals).  Returns how many.
 */
static unsigned drop_collapsed(fm_mix_t *m, unsigned *orig, unsigned iteration,
                               fm_fit_result_t *res)
{
    unsigned dropped = 0;
    for (size_t k = fm_mix_count(m); k-- > 0;) {
        const fm_mix_comp_t *c = fm_mix_comp(m, k);
        const char *why = !isfinite(c->w) || c->w < 0 ? "its weight is not a finite number" : NULL;
        for (unsigned j = 0; j < c->np && !why; j++) {
            why = isfinite(c->p[j]) ? NULL : "a parameter is not a finite number";
        }
        if (!why && c->fam != FM_FAM_UNIFORM && !(c->p[c->np - 1] > 0)) {
            why = "its scale is not positive";
        }
        if (!why) {
            continue;
        }
        if (res->ndrops < FM_FIT_MAX_DROPS) {
            res->drops[res->ndrops++] = (fm_fit_drop_t){
                .index = orig ? orig[k] : (unsigned)k, .fam = c->fam, .iteration = iteration,
                .why = why};
        }
        if (orig) {
            memmove(orig + k, orig + k + 1, (fm_mix_count(m) - k - 1) * sizeof(*orig));
        }
        fm_mix_remove(m, k);
        dropped++;
    }
    return dropped;
}

/* ------------------------------------------------------------------------------------------ */
/* Driver */

static double arrays_loglik(const em_t *em, const fm_mix_t *m)
{
    double num = 0, den = 0;
    for (size_t i = 0; i < em->n; i++) {
        double s = 0;
        if (em->ws[i] == 0) {
            continue;
        }
        for (size_t k = 0; k < fm_mix_count(m); k++) {
            const fm_mix_comp_t *c = fm_mix_comp(m, k);
            double f = i == 0 ? fm_mix_comp_cdf(c, em->x[0]) - fm_mix_comp_cdf(c, 0)
                              : fm_mix_comp_pdf(c, em->x[i]);
            s += c->w * f;
        }
        num += em->ws[i] * log(s);
        den += em->ws[i];
    }
    return den > 0 ? num / den : NAN;
}

static void em_free(em_t *em)
{
    free(em->lnx);
    free(em->tile);
    free(em->rfull);
    free(em->acc);
    free(em->kmem);
    free(em->leaves);
    fm__pw_plan_fini(&em->pw);
}

static int em_loop(em_t *em, fm_mix_t *m, const fm_fit_opts_t *opts, unsigned *orig,
                   fm_fit_result_t *res)
{
    double prev = -INFINITY;

    for (unsigned it = 0; it < opts->max_iter; it++) {
        double ll = estep(em, m, opts->tol > 0);
        if (opts->tol > 0 && it > 0 && fabs(ll - prev) < opts->tol) {
            res->converged = true;
            break;
        }
        prev = ll;
        mstep(em, m, opts->max_pareto_w);
        res->iterations++;
        res->dropped += drop_collapsed(m, orig, it + 1, res);
        if (fm_mix_count(m) == 0) {
            return FM_EFIT;
        }
    }
    return 0;
}

int fm_fit_arrays(const double *x, const double *w, size_t n, uint64_t sum,
                  const fm_fit_opts_t *opts, const fm_mix_t *init, fm_mix_t **out,
                  fm_fit_result_t *res)
{
    fm_fit_result_t r = {0};
    em_t em = {.x = x, .ws = w, .n = n};
    double t0 = now_s(), total = 0;
    fm_mix_t *m;
    int rc;

    if (!x || !w || n == 0 || !opts || !out) {
        return FM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(w[i] >= 0) || !isfinite(x[i]) || x[i] < 0) {
            return FM_EINVAL;
        }
        total += w[i];
    }
    if (!(total > 0) || !isfinite(total)) {
        return FM_EFIT;
    }
    m = init ? fm_mix_clone(init) : fm_fit_initial_mix(x[0], x[n - 1], opts->U, opts->P, opts->L);
    if (!m) {
        return init || opts->U + opts->P + opts->L == 0 ? FM_EINVAL : FM_ENOMEM;
    }
    if (fm_mix_count(m) == 0) {
        fm_mix_free(m);
        return FM_EINVAL;
    }
    fm_mix_set_sum(m, sum);
    em.avg_ws = total / (double)n;
    em.lnx = malloc(n * sizeof(double));
    em.tile = malloc(fm_mix_count(m) * BLOCK * sizeof(double));
    em.acc = calloc(fm_mix_count(m), sizeof(acc_t));
    bool need_r = false;
    for (size_t k = 0; k < fm_mix_count(m); k++) {
        need_r = need_r || needs_r(fm_mix_comp(m, k)->fam);
    }
    if (need_r) {
        em.rfull = calloc(n * fm_mix_count(m), sizeof(double));
        if (em.rfull && fm__pw_plan_init(&em.pw, n) == 0) {
            em.leaves = calloc(2 * em.pw.nleaves, sizeof(double));
        }
    }
    em.kmem = kernel_alloc(&em, fm_mix_count(m));
    if (!em.lnx || !em.tile || !em.acc || (need_r && (!em.rfull || !em.leaves)) || !em.kmem) {
        rc = FM_ENOMEM;
        goto fail;
    }
    /* x = 0 (duration histograms) gets ln x = 0 rather than -inf: lognormal and Pareto terms are
     * exactly 0 there, and 0 * -inf would poison the sums with NaN. */
    for (size_t i = 0; i < n; i++) {
        em.lnx[i] = x[i] > 0 ? log(x[i]) : 0;
    }
    unsigned *orig = malloc(fm_mix_count(m) * sizeof(*orig));
    for (size_t k = 0; orig && k < fm_mix_count(m); k++) {
        orig[k] = (unsigned)k;
    }
    r.dropped = drop_collapsed(m, orig, 0, &r);
    rc = fm_mix_count(m) ? em_loop(&em, m, opts, orig, &r) : FM_EFIT;
    free(orig);
    if (rc < 0) {
        goto fail;
    }
    r.loglik = arrays_loglik(&em, m);
    r.seconds = now_s() - t0;
    em_free(&em);
    *out = m;
    if (res) {
        *res = r;
    }
    return 0;

fail:
    em_free(&em);
    fm_mix_free(m);
    return rc;
}

int fm_fit_run(const fm_hist_bin_t *bins, size_t n, const fm_fit_opts_t *opts,
               const fm_mix_t *init, fm_mix_t **out, fm_fit_result_t *res)
{
    double *x, *w;
    unsigned __int128 sum = 0;
    int rc;

    if (!bins || n == 0 || !opts || !out || opts->y < 0 || opts->y > 2) {
        return FM_EINVAL;
    }
    x = malloc(n * sizeof(*x));
    w = malloc(n * sizeof(*w));
    if (!x || !w) {
        free(x);
        free(w);
        return FM_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t v = opts->y == FM_Y_PACKETS ? bins[i].packets
                     : opts->y == FM_Y_OCTETS ? bins[i].octets : bins[i].flows;
        x[i] = (double)bins[i].lo;
        w[i] = (double)v;
        sum += v;
    }
    rc = fm_fit_arrays(x, w, n, sum > UINT64_MAX ? UINT64_MAX : (uint64_t)sum, opts, init, out,
                       res);
    free(x);
    free(w);
    return rc;
}
