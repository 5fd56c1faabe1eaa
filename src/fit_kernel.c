/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Fused E-step rows for uniform + lognormal mixtures (see fit_kernel.h).  The arithmetic of one
 * row follows fit.c's estep_block operation for operation (no FMA contraction: the AVX2 code is
 * compiled for "avx2" only and libmvec's exp sits behind its own "avx2,fma" function), so the
 * scalar and vector paths agree to rounding in the row sums.
 */
#include "config.h"

#include "fit_kernel.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

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

size_t fm__fitk_scratch_bytes(size_t K)
{
    return K * (8 * sizeof(double) + 5 * 32) + 32; /* + 32: room to align the vectors */
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
/* glibc's libmvec AVX2 exp (x86-64 vector ABI name), as fit.c uses it. */
__attribute__((target("avx2,fma"))) __m256d _ZGVdN4v_exp(__m256d x);

__attribute__((target("avx2,fma"), noinline)) static __m256d exp4(__m256d x)
{
    return _ZGVdN4v_exp(x);
}

/* The uniform's log terms of rows i..i+3: v inside [lo, hi), -inf outside. */
__attribute__((target("avx2"))) static inline __m256d uni_terms(const fm__fitk_t *p, size_t k,
                                                                size_t i)
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

/* Rows [from, to) (from >= 1, to - from a multiple of 4), four at a time. */
__attribute__((target("avx2"))) static double rows_avx2(const fm__fitk_t *p, const double *lnx,
                                                        const double *ws, double avg_ws,
                                                        size_t from, size_t to, bool want_ll)
{
    size_t K = p->K;
    __m256d *L = (__m256d *)(((uintptr_t)p->scratch + 31) & ~(uintptr_t)31);
    __m256d *A0 = L + K, *A1 = A0 + K, *A2 = A1 + K;
    const __m256d lim = _mm256_set1_pd(LOG_NEGLIGIBLE), zero = _mm256_setzero_pd();
    const __m256d sign = _mm256_set1_pd(-0.0), inf = _mm256_set1_pd(INFINITY);
    const __m256d avg = _mm256_set1_pd(avg_ws), one = _mm256_set1_pd(1.0);
    double ll = 0;

    for (size_t k = 0; k < K; k++) {
        A0[k] = A1[k] = A2[k] = zero;
    }
    for (size_t i = from; i < to; i += 4) {
        __m256d lx = _mm256_loadu_pd(lnx + i), m = _mm256_set1_pd(-INFINITY), S = zero;
        uint64_t live = 0; /* components with a term in some row of the group */
        for (size_t k = 0; k < K; k++) {
            __m256d lt;
            if (p->uni[k]) {
                if (i + 3 < p->lo[k] || i >= p->hi[k]) {
                    continue; /* no row of the group: e = 0, nothing to add */
                }
                lt = uni_terms(p, k, i);
            } else {
                __m256d t = _mm256_sub_pd(lx, _mm256_set1_pd(p->lnsc[k]));
                lt = _mm256_mul_pd(_mm256_mul_pd(_mm256_xor_pd(t, sign), t),
                                   _mm256_set1_pd(p->a[k]));
                lt = _mm256_sub_pd(_mm256_sub_pd(lt, lx), _mm256_set1_pd(p->cst[k]));
            }
            L[k] = lt;
            live |= 1ull << k;
            m = _mm256_max_pd(lt, m); /* lt > m ? lt : m, as the scalar code */
        }
        for (size_t k = 0; k < K; k++) {
            if (!(live >> k & 1u)) {
                continue;
            }
            __m256d d = _mm256_sub_pd(L[k], m);
            __m256d ok = _mm256_cmp_pd(d, lim, _CMP_GE_OQ); /* false for NaN too */
            if (_mm256_movemask_pd(ok) == 0) {
                live &= ~(1ull << k); /* negligible in all four rows: exactly 0 */
                continue;
            }
            __m256d e = _mm256_and_pd(exp4(_mm256_blendv_pd(lim, d, ok)), ok);
            L[k] = e;
            S = _mm256_add_pd(S, e);
        }
        __m256d w = _mm256_loadu_pd(ws + i);
        if (want_ll) {
            double sv[4], mv[4];
            _mm256_storeu_pd(sv, S);
            _mm256_storeu_pd(mv, m);
            for (size_t j = 0; j < 4; j++) {
                ll += ws[i + j] > 0 ? ws[i + j] * (mv[j] + log(sv[j])) : 0.0;
            }
        }
        __m256d good = _mm256_and_pd(_mm256_cmp_pd(S, zero, _CMP_GT_OQ),
                                     _mm256_cmp_pd(S, inf, _CMP_LT_OQ));
        __m256d f = _mm256_mul_pd(_mm256_and_pd(_mm256_div_pd(one, S), good),
                                  _mm256_div_pd(w, avg));
        for (size_t k = 0; k < K; k++) {
            if (!(live >> k & 1u)) {
                if (p->r) {
                    _mm256_storeu_pd(p->r + k * p->n + i, zero);
                }
                continue; /* r = 0: the sums would not change */
            }
            __m256d r = _mm256_mul_pd(L[k], f);
            if (p->r) {
                _mm256_storeu_pd(p->r + k * p->n + i, r);
            }
            __m256d d = _mm256_sub_pd(lx, _mm256_set1_pd(p->c[k]));
            __m256d rd = _mm256_mul_pd(r, d);
            A0[k] = _mm256_add_pd(A0[k], r);
            A1[k] = _mm256_add_pd(A1[k], rd);
            A2[k] = _mm256_add_pd(A2[k], _mm256_mul_pd(rd, d));
        }
    }
    for (size_t k = 0; k < K; k++) {
        double a0[4], a1[4], a2[4];
        _mm256_storeu_pd(a0, A0[k]);
        _mm256_storeu_pd(a1, A1[k]);
        _mm256_storeu_pd(a2, A2[k]);
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
