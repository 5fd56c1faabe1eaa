/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fused E-step rows for uniform + lognormal mixtures (see fit_kernel.h).  The arithmetic of one
 * row follows fit.c's estep_block operation for operation (no FMA contraction), so the scalar
 * and vector paths agree to rounding in the row sums.  The AVX2 path works on blocks of 128 rows
 * one component at a time: every loop runs over 32 independent vectors with no branch per
 * element, so libmvec's exp calls and the other long chains overlap (one group of four rows at
 * a time left them waiting on each other); it gives the same bits as that did, lane by lane.
 */
#include "config.h"

#include "fit_kernel.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#if defined(__x86_64__) && defined(__GLIBC__) && defined(__GNUC__) && \
    (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 22))
#define FITK_AVX2 1
#include <immintrin.h>
#else
#define FITK_AVX2 0
#endif

/* As fit.c: a term this far below its row's largest counts as 0. */
#define LOG_NEGLIGIBLE (-708.0)

static _Atomic int mode_now = FM__FITK_AUTO;

void fm__fitk_set_mode(fm__fitk_mode_t mode)
{
    atomic_store(&mode_now, (int)mode);
}

fm__fitk_mode_t fm__fitk_mode(void)
{
    return (fm__fitk_mode_t)atomic_load(&mode_now);
}

/* Vectors of four rows per block of the AVX2 path. */
#define FITK_VB 32

size_t fm__fitk_scratch_bytes(size_t K)
{
    /* the scalar path's K doubles, or the AVX2 path's K x FITK_VB terms and 3 K accumulators;
     * + 32: room to align the vectors */
    return K * (8 * sizeof(double) + (FITK_VB + 3) * 32) + 32;
}

/* Row i, all components, one at a time; e holds K doubles.  @return ws ln S or 0. */
static double row_scalar(const fm__fitk_t *p, const double *lnx, const double *ws,
                         double avg_ws, size_t i, bool want_ll, double *e)
{
    double lx = lnx[i], m = -INFINITY, S = 0, ll = 0;

    for (size_t k = 0; k < p->K; k++) {
        double lt;
        if (i == 0) {
            lt = p->row0[k];
        } else if (p->uni[k]) {
            lt = i >= p->lo[k] && i < p->hi[k] ? p->v[k] : -INFINITY;
        } else {
            double t = lx - p->lnsc[k];
            lt = -t * t * p->a[k] - lx - p->cst[k];
        }
        e[k] = lt;
        m = lt > m ? lt : m;
    }
    for (size_t k = 0; k < p->K; k++) {
        double d = e[k] - m;
        e[k] = d >= LOG_NEGLIGIBLE ? exp(d) : 0.0;
        S += e[k];
    }
    if (want_ll && ws[i] > 0) {
        ll = ws[i] * (m + log(S));
    }
    double f = (S > 0 && isfinite(S) ? 1.0 / S : 0.0) * (ws[i] / avg_ws);
    for (size_t k = 0; k < p->K; k++) {
        double r = e[k] * f, d = lx - p->c[k], rd = r * d;
        if (p->r) {
            p->r[k * p->n + i] = r;
        }
        p->s0[k] += r;
        p->s1[k] += rd;
        p->s2[k] += rd * d;
    }
    return ll;
}

static double rows_scalar(const fm__fitk_t *p, const double *lnx, const double *ws,
                          double avg_ws, size_t from, size_t to, bool want_ll)
{
    double ll = 0;
    for (size_t i = from; i < to; i++) {
        ll += row_scalar(p, lnx, ws, avg_ws, i, want_ll, p->scratch);
    }
    return ll;
}

#if FITK_AVX2
/* The row arithmetic must stay operation for operation the scalar path's, but GCC contracts
 * a * b + c of intrinsics into FMA once "fma" is a target (which calling libmvec's exp takes):
 * contraction off (clang contracts only within one source expression, which intrinsics never
 * are). */
#if defined(__clang__)
#define FITK_VEC __attribute__((target("avx2,fma")))
#else
#define FITK_VEC __attribute__((target("avx2,fma"), optimize("fp-contract=off")))
#endif

/* glibc's libmvec AVX2 exp (x86-64 vector ABI name), as fit.c uses it. */
__attribute__((target("avx2,fma"))) __m256d _ZGVdN4v_exp(__m256d x);

/* The uniform's log terms of rows i..i+3: v inside [lo, hi), -inf outside. */
FITK_VEC static inline __m256d uni_terms(const fm__fitk_t *p, size_t k, size_t i)
{
    if (i >= p->lo[k] && i + 3 < p->hi[k]) {
        return _mm256_set1_pd(p->v[k]);
    }
    if (i + 3 < p->lo[k] || i >= p->hi[k]) {
        return _mm256_set1_pd(-INFINITY);
    }
    double t[4];
    for (size_t j = 0; j < 4; j++) {
        t[j] = i + j >= p->lo[k] && i + j < p->hi[k] ? p->v[k] : -INFINITY;
    }
    return _mm256_loadu_pd(t);
}

/* One component's responsibilities r = e f of a block, stored, and their sum (with r stored,
 * the M-step's two passes take the others from r: fm__fitk_t). */
FITK_VEC static inline void resp_r(const __m256d *t, const __m256d *F, size_t nv, double *r,
                                   __m256d *A)
{
    __m256d a0 = A[0];
    for (size_t j = 0; j < nv; j++) {
        __m256d rr = _mm256_mul_pd(t[j], F[j]);
        _mm256_storeu_pd(r + 4 * j, rr);
        a0 = _mm256_add_pd(a0, rr);
    }
    A[0] = a0;
}

/* The same without storing r, with the sums of r d and r d^2, d = ln x - c. */
FITK_VEC static inline void resp_sums(const __m256d *t, const __m256d *F, size_t nv,
                                      const double *lnx, double c0, __m256d *A)
{
    __m256d a0 = A[0], a1 = A[1], a2 = A[2];
    const __m256d c = _mm256_set1_pd(c0);
    for (size_t j = 0; j < nv; j++) {
        __m256d rr = _mm256_mul_pd(t[j], F[j]);
        __m256d d = _mm256_sub_pd(_mm256_loadu_pd(lnx + 4 * j), c);
        __m256d rd = _mm256_mul_pd(rr, d);
        a0 = _mm256_add_pd(a0, rr);
        a1 = _mm256_add_pd(a1, rd);
        a2 = _mm256_add_pd(a2, _mm256_mul_pd(rd, d));
    }
    A[0] = a0;
    A[1] = a1;
    A[2] = a2;
}

/*
 * Rows [b0, b0 + 4 nv) of rows_avx2, component by component: each loop below runs over nv
 * independent vectors (the exp chains overlap) and has no branch per element.  A uniform that
 * covers no row of the block (dead) is skipped: its terms would all be 0.  Everything else is
 * computed for every row; a negligible term (below its row's largest by more than 708) comes
 * out as exactly 0 and adds +0 to the sums, so they are the same bits as when it is skipped.
 */
FITK_VEC static double block_avx2(const fm__fitk_t *p, const double *lnx, const double *ws,
                                  double avg_ws, size_t b0, size_t nv, bool want_ll, __m256d *T,
                                  __m256d *A)
{
    size_t K = p->K;
    __m256d M[FITK_VB], S[FITK_VB], F[FITK_VB];
    const __m256d lim = _mm256_set1_pd(LOG_NEGLIGIBLE), zero = _mm256_setzero_pd();
    const __m256d inf = _mm256_set1_pd(INFINITY);
    const __m256d avg = _mm256_set1_pd(avg_ws), one = _mm256_set1_pd(1.0);
    uint64_t dead = 0;
    double ll = 0;

    for (size_t j = 0; j < nv; j++) {
        M[j] = _mm256_set1_pd(-INFINITY);
        S[j] = zero;
    }
    /* Log terms and each row's largest (in component order, as the scalar path). */
    for (size_t k = 0; k < K; k++) {
        __m256d *t = T + k * FITK_VB;
        if (p->uni[k]) {
            if (b0 + 4 * nv <= p->lo[k] || b0 >= p->hi[k]) {
                dead |= 1ull << k;
                continue;
            }
            for (size_t j = 0; j < nv; j++) {
                t[j] = uni_terms(p, k, b0 + 4 * j);
                M[j] = _mm256_max_pd(t[j], M[j]);
            }
            continue;
        }
        /* (-t t) a = (t t)(-a): negating a factor negates the rounded product exactly */
        const __m256d lnsc = _mm256_set1_pd(p->lnsc[k]), na = _mm256_set1_pd(-p->a[k]);
        const __m256d cst = _mm256_set1_pd(p->cst[k]);
        for (size_t j = 0; j < nv; j++) {
            __m256d lx = _mm256_loadu_pd(lnx + b0 + 4 * j), d = _mm256_sub_pd(lx, lnsc);
            __m256d lt = _mm256_mul_pd(_mm256_mul_pd(d, d), na);
            lt = _mm256_sub_pd(_mm256_sub_pd(lt, lx), cst);
            t[j] = lt;
            M[j] = _mm256_max_pd(lt, M[j]); /* lt > m ? lt : m, as the scalar code */
        }
    }
    /* Terms relative to the row's largest and the row totals. */
    for (size_t k = 0; k < K; k++) {
        __m256d *t = T + k * FITK_VB;
        if (dead >> k & 1u) {
            continue;
        }
        for (size_t j = 0; j < nv; j++) {
            __m256d d = _mm256_sub_pd(t[j], M[j]);
            __m256d ok = _mm256_cmp_pd(d, lim, _CMP_GE_OQ); /* false for NaN too */
            __m256d e = _mm256_and_pd(_ZGVdN4v_exp(_mm256_blendv_pd(lim, d, ok)), ok);
            t[j] = e;
            S[j] = _mm256_add_pd(S[j], e);
        }
    }
    for (size_t j = 0; j < nv; j++) {
        __m256d w = _mm256_loadu_pd(ws + b0 + 4 * j);
        if (want_ll) {
            double sv[4], mv[4];
            const double *wj = ws + b0 + 4 * j;
            _mm256_storeu_pd(sv, S[j]);
            _mm256_storeu_pd(mv, M[j]);
            for (size_t i = 0; i < 4; i++) {
                ll += wj[i] > 0 ? wj[i] * (mv[i] + log(sv[i])) : 0.0;
            }
        }
        __m256d good = _mm256_and_pd(_mm256_cmp_pd(S[j], zero, _CMP_GT_OQ),
                                     _mm256_cmp_pd(S[j], inf, _CMP_LT_OQ));
        F[j] = _mm256_mul_pd(_mm256_and_pd(_mm256_div_pd(one, S[j]), good),
                             _mm256_div_pd(w, avg));
    }
    /* Responsibilities and the sums, each component's accumulators in registers. */
    for (size_t k = 0; k < K; k++) {
        __m256d *t = T + k * FITK_VB;
        if (dead >> k & 1u) {
            for (size_t j = 0; p->r && j < nv; j++) {
                _mm256_storeu_pd(p->r + k * p->n + b0 + 4 * j, zero);
            }
            continue; /* r = 0: the sums would not change */
        }
        if (p->r) {
            resp_r(t, F, nv, p->r + k * p->n + b0, &A[3 * k]);
        } else {
            resp_sums(t, F, nv, lnx + b0, p->c[k], &A[3 * k]);
        }
    }
    return ll;
}

/* Rows [from, to) (from >= 1, to - from a multiple of 4), in blocks of FITK_VB vectors of four
 * rows; every row's sums go into the same lane accumulators in the same order as one row group
 * at a time would. */
FITK_VEC static double rows_avx2(const fm__fitk_t *p, const double *lnx, const double *ws,
                                 double avg_ws, size_t from, size_t to, bool want_ll)
{
    size_t K = p->K;
    __m256d *T = (__m256d *)(((uintptr_t)p->scratch + 31) & ~(uintptr_t)31);
    __m256d *A = T + K * FITK_VB;
    double ll = 0;

    for (size_t k = 0; k < 3 * K; k++) {
        A[k] = _mm256_setzero_pd();
    }
    for (size_t b0 = from; b0 < to; b0 += 4 * FITK_VB) {
        size_t nv = (to - b0) / 4 < FITK_VB ? (to - b0) / 4 : FITK_VB;
        ll += block_avx2(p, lnx, ws, avg_ws, b0, nv, want_ll, T, A);
    }
    for (size_t k = 0; k < K; k++) {
        double a0[4], a1[4], a2[4];
        _mm256_storeu_pd(a0, A[3 * k]);
        _mm256_storeu_pd(a1, A[3 * k + 1]);
        _mm256_storeu_pd(a2, A[3 * k + 2]);
        p->s0[k] += (a0[0] + a0[1]) + (a0[2] + a0[3]);
        p->s1[k] += (a1[0] + a1[1]) + (a1[2] + a1[3]);
        p->s2[k] += (a2[0] + a2[1]) + (a2[2] + a2[3]);
    }
    return ll;
}

#endif

double fm__fitk_rows(const fm__fitk_t *p, const double *lnx, const double *ws, double avg_ws,
                     size_t from, size_t to, bool want_ll)
{
    double ll = 0;
#if FITK_AVX2
    if (fm__fitk_mode() == FM__FITK_AUTO && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma")) {
        if (from == 0 && to > 0) {
            ll += row_scalar(p, lnx, ws, avg_ws, 0, want_ll, p->scratch);
            from = 1;
        }
        size_t mid = from + (to > from ? (to - from) / 4 * 4 : 0);
        ll += rows_avx2(p, lnx, ws, avg_ws, from, mid, want_ll);
        from = mid;
    }
#endif
    return ll + rows_scalar(p, lnx, ws, avg_ws, from, to, want_ll);
}

/* ------------------------------------------------------------------------------------------ */
/* numpy's pairwise summation of M-step terms */

typedef struct {
    const double *r, *v;
    double mu;
} pw_src_t;

static inline __attribute__((always_inline)) double pw_term(const pw_src_t *s, int kind,
                                                           size_t i)
{
    if (kind == FM__PW_R) {
        return s->r[i];
    }
    if (kind == FM__PW_RV) {
        return s->r[i] * s->v[i];
    }
    double d = s->v[i] - s->mu;
    return s->r[i] * (d * d);
}

/* One block of n <= 128 terms from o, as numpy's pairwise_sum sums it. */
static inline __attribute__((always_inline)) double pw_leaf(const pw_src_t *s, int kind,
                                                           size_t o, size_t n)
{
    double res = 0., acc[8];
    size_t i = 0;

    if (n < 8) {
        for (; i < n; i++) {
            res += pw_term(s, kind, o + i);
        }
        return res;
    }
    for (; i < 8; i++) {
        acc[i] = pw_term(s, kind, o + i);
    }
    for (; i < n - (n % 8); i += 8) {
        for (size_t j = 0; j < 8; j++) {
            acc[j] += pw_term(s, kind, o + i + j);
        }
    }
    res = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; i < n; i++) {
        res += pw_term(s, kind, o + i);
    }
    return res;
}

typedef double (*pw_leaf_fn)(const pw_src_t *s, size_t o, size_t n);

static double leaf_r(const pw_src_t *s, size_t o, size_t n)
{
    return pw_leaf(s, FM__PW_R, o, n);
}

static double leaf_rv(const pw_src_t *s, size_t o, size_t n)
{
    return pw_leaf(s, FM__PW_RV, o, n);
}

static double leaf_rdd(const pw_src_t *s, size_t o, size_t n)
{
    return pw_leaf(s, FM__PW_RDD, o, n);
}

#if FITK_AVX2
/* Terms i..i+3 as a vector: the scalar pw_term's operations lane by lane (no FMA). */
__attribute__((target("avx2"))) static inline __m256d pw_term4(const pw_src_t *s, int kind,
                                                               size_t i)
{
    __m256d r = _mm256_loadu_pd(s->r + i);
    if (kind == FM__PW_R) {
        return r;
    }
    __m256d v = _mm256_loadu_pd(s->v + i);
    if (kind == FM__PW_RV) {
        return _mm256_mul_pd(r, v);
    }
    __m256d d = _mm256_sub_pd(v, _mm256_set1_pd(s->mu));
    return _mm256_mul_pd(r, _mm256_mul_pd(d, d));
}

/* pw_leaf with accumulators 0-3 and 4-7 in two vectors. */
__attribute__((target("avx2"))) static inline double pw_leaf4(const pw_src_t *s, int kind,
                                                              size_t o, size_t n)
{
    if (n < 8) {
        return pw_leaf(s, kind, o, n);
    }
    __m256d lo = pw_term4(s, kind, o), hi = pw_term4(s, kind, o + 4);
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
        lo = _mm256_add_pd(lo, pw_term4(s, kind, o + i));
        hi = _mm256_add_pd(hi, pw_term4(s, kind, o + i + 4));
    }
    double a[8], res;
    _mm256_storeu_pd(a, lo);
    _mm256_storeu_pd(a + 4, hi);
    res = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (; i < n; i++) {
        res += pw_term(s, kind, o + i);
    }
    return res;
}

__attribute__((target("avx2"))) static double leaf4_r(const pw_src_t *s, size_t o, size_t n)
{
    return pw_leaf4(s, FM__PW_R, o, n);
}

__attribute__((target("avx2"))) static double leaf4_rv(const pw_src_t *s, size_t o, size_t n)
{
    return pw_leaf4(s, FM__PW_RV, o, n);
}

__attribute__((target("avx2"))) static double leaf4_rdd(const pw_src_t *s, size_t o, size_t n)
{
    return pw_leaf4(s, FM__PW_RDD, o, n);
}
#endif

static double pairwise(const pw_src_t *s, pw_leaf_fn leaf, size_t o, size_t n)
{
    if (n <= 128) {
        return leaf(s, o, n);
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise(s, leaf, o, n2) + pairwise(s, leaf, o + n2, n - n2);
}

double fm__fitk_pairwise(fm__pw_kind_t kind, const double *r, const double *v, double mu,
                         size_t n)
{
    static const pw_leaf_fn scalar[] = {leaf_r, leaf_rv, leaf_rdd};
    pw_src_t s = {.r = r, .v = v, .mu = mu};
    pw_leaf_fn leaf = scalar[kind];

#if FITK_AVX2
    static const pw_leaf_fn vec[] = {leaf4_r, leaf4_rv, leaf4_rdd};
    if (fm__fitk_mode() != FM__FITK_SCALAR && __builtin_cpu_supports("avx2")) {
        leaf = vec[kind];
    }
#endif
    return pairwise(&s, leaf, 0, n);
}

/* ------------------------------------------------------------------------------------------ */
/* The pairwise tree's leaves, summed by the E-step */

static void plan_leaves(fm__pw_plan_t *pl, size_t o, size_t n)
{
    if (n <= 128) {
        pl->end[pl->nleaves++] = o + n;
        return;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    plan_leaves(pl, o, n2);
    plan_leaves(pl, o + n2, n - n2);
}

int fm__pw_plan_init(fm__pw_plan_t *pl, size_t n)
{
    /* leaves hold more than 64 terms each, but one of at most 128 when n <= 128 */
    *pl = (fm__pw_plan_t){.n = n, .end = malloc((n / 64 + 2) * sizeof(size_t))};
    if (!pl->end) {
        return FM_ENOMEM;
    }
    plan_leaves(pl, 0, n);
    return 0;
}

void fm__pw_plan_fini(fm__pw_plan_t *pl)
{
    free(pl->end);
    pl->end = NULL;
    pl->nleaves = 0;
}

static double combine(const double *leaves, size_t *j, size_t n)
{
    if (n <= 128) {
        return leaves[(*j)++];
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    double a = combine(leaves, j, n2);
    return a + combine(leaves, j, n - n2);
}

double fm__pw_combine(const fm__pw_plan_t *pl, const double *leaves)
{
    size_t j = 0;
    return combine(leaves, &j, pl->n);
}

/* One leaf's sums of r and r v (two pw_leaf calls' results, bits included). */
static void leaf_pair(const pw_src_t *s, size_t o, size_t n, double *sr, double *srv)
{
    *sr = pw_leaf(s, FM__PW_R, o, n);
    *srv = pw_leaf(s, FM__PW_RV, o, n);
}

#if FITK_AVX2
/* leaf_pair with both sums' accumulators in vectors, r loaded once. */
__attribute__((target("avx2"))) static void leaf_pair4(const pw_src_t *s, size_t o, size_t n,
                                                       double *sr, double *srv)
{
    if (n < 8) {
        leaf_pair(s, o, n, sr, srv);
        return;
    }
    __m256d r0 = _mm256_loadu_pd(s->r + o), r1 = _mm256_loadu_pd(s->r + o + 4);
    __m256d v0 = _mm256_mul_pd(r0, _mm256_loadu_pd(s->v + o));
    __m256d v1 = _mm256_mul_pd(r1, _mm256_loadu_pd(s->v + o + 4));
    size_t i = 8;
    for (; i < n - (n % 8); i += 8) {
        __m256d a = _mm256_loadu_pd(s->r + o + i), b = _mm256_loadu_pd(s->r + o + i + 4);
        r0 = _mm256_add_pd(r0, a);
        r1 = _mm256_add_pd(r1, b);
        v0 = _mm256_add_pd(v0, _mm256_mul_pd(a, _mm256_loadu_pd(s->v + o + i)));
        v1 = _mm256_add_pd(v1, _mm256_mul_pd(b, _mm256_loadu_pd(s->v + o + i + 4)));
    }
    double a[8], b[8];
    _mm256_storeu_pd(a, r0);
    _mm256_storeu_pd(a + 4, r1);
    _mm256_storeu_pd(b, v0);
    _mm256_storeu_pd(b + 4, v1);
    double x = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    double y = ((b[0] + b[1]) + (b[2] + b[3])) + ((b[4] + b[5]) + (b[6] + b[7]));
    for (; i < n; i++) {
        x += pw_term(s, FM__PW_R, o + i);
        y += pw_term(s, FM__PW_RV, o + i);
    }
    *sr = x;
    *srv = y;
}
#endif

/* sum r (v - mu)^2 of one leaf, as pw_leaf4 / pw_leaf on the chosen path */
static double leaf_rdd_one(const pw_src_t *s, size_t o, size_t n, bool vec)
{
#if FITK_AVX2
    if (vec) {
        return leaf4_rdd(s, o, n);
    }
#endif
    (void)vec;
    return leaf_rdd(s, o, n);
}

#if FITK_AVX2
/* pw_leaf4's end: its accumulators added as numpy adds its eight, then the terms m..n. */
__attribute__((target("avx2"))) static inline double leaf4_end(const pw_src_t *s, __m256d lo,
                                                               __m256d hi, size_t o, size_t m,
                                                               size_t n)
{
    double a[8], res;
    _mm256_storeu_pd(a, lo);
    _mm256_storeu_pd(a + 4, hi);
    res = ((a[0] + a[1]) + (a[2] + a[3])) + ((a[4] + a[5]) + (a[6] + a[7]));
    for (size_t i = m; i < n; i++) {
        res += pw_term(s, FM__PW_RDD, o + i);
    }
    return res;
}

/* Two leaves of the r (v - mu)^2 sums at once (each one's additions in its own order, so the
 * same bits as leaf4_rdd twice): four independent chains instead of two. */
__attribute__((target("avx2"))) static void leaf4_rdd2(const pw_src_t *s, size_t o1, size_t n1,
                                                       size_t o2, size_t n2, double *x1,
                                                       double *x2)
{
    if (n1 < 8 || n2 < 8) {
        *x1 = leaf4_rdd(s, o1, n1);
        *x2 = leaf4_rdd(s, o2, n2);
        return;
    }
    size_t m1 = n1 - n1 % 8, m2 = n2 - n2 % 8, m = m1 < m2 ? m1 : m2, i = 8;
    __m256d a0 = pw_term4(s, FM__PW_RDD, o1), a1 = pw_term4(s, FM__PW_RDD, o1 + 4);
    __m256d b0 = pw_term4(s, FM__PW_RDD, o2), b1 = pw_term4(s, FM__PW_RDD, o2 + 4);
    for (; i < m; i += 8) {
        a0 = _mm256_add_pd(a0, pw_term4(s, FM__PW_RDD, o1 + i));
        a1 = _mm256_add_pd(a1, pw_term4(s, FM__PW_RDD, o1 + i + 4));
        b0 = _mm256_add_pd(b0, pw_term4(s, FM__PW_RDD, o2 + i));
        b1 = _mm256_add_pd(b1, pw_term4(s, FM__PW_RDD, o2 + i + 4));
    }
    for (size_t j = i; j < m1; j += 8) {
        a0 = _mm256_add_pd(a0, pw_term4(s, FM__PW_RDD, o1 + j));
        a1 = _mm256_add_pd(a1, pw_term4(s, FM__PW_RDD, o1 + j + 4));
    }
    for (size_t j = i; j < m2; j += 8) {
        b0 = _mm256_add_pd(b0, pw_term4(s, FM__PW_RDD, o2 + j));
        b1 = _mm256_add_pd(b1, pw_term4(s, FM__PW_RDD, o2 + j + 4));
    }
    *x1 = leaf4_end(s, a0, a1, o1, m1, n1);
    *x2 = leaf4_end(s, b0, b1, o2, m2, n2);
}
#endif

double fm__pw_rdd(const fm__pw_plan_t *pl, const double *r, const double *v, double mu,
                  double *leaves)
{
    pw_src_t s = {.r = r, .v = v, .mu = mu};
    bool vec = false;
    size_t j = 0;

#if FITK_AVX2
    vec = fm__fitk_mode() != FM__FITK_SCALAR && __builtin_cpu_supports("avx2");
    for (; vec && j + 1 < pl->nleaves; j += 2) {
        size_t o = j ? pl->end[j - 1] : 0;
        leaf4_rdd2(&s, o, pl->end[j] - o, pl->end[j], pl->end[j + 1] - pl->end[j], &leaves[j],
                   &leaves[j + 1]);
    }
#endif
    for (; j < pl->nleaves; j++) {
        size_t o = j ? pl->end[j - 1] : 0;
        leaves[j] = leaf_rdd_one(&s, o, pl->end[j] - o, vec);
    }
    return fm__pw_combine(pl, leaves);
}

double fm__pw_r_rv(const fm__pw_plan_t *pl, const double *r, const double *v, double *leaves,
                   double *sum_rv)
{
    void (*pair)(const pw_src_t *, size_t, size_t, double *, double *) = leaf_pair;
    pw_src_t src = {.r = r, .v = v};
    size_t nl = pl->nleaves;

#if FITK_AVX2
    if (fm__fitk_mode() != FM__FITK_SCALAR && __builtin_cpu_supports("avx2")) {
        pair = leaf_pair4;
    }
#endif
    for (size_t j = 0; j < nl; j++) {
        size_t o = j ? pl->end[j - 1] : 0;
        pair(&src, o, pl->end[j] - o, &leaves[j], &leaves[nl + j]);
    }
    *sum_rv = fm__pw_combine(pl, leaves + nl);
    return fm__pw_combine(pl, leaves);
}
