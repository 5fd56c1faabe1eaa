/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The EM E-step of fit.c for mixtures of uniforms and lognormals with loc 0 (every agh_2015
 * fit): one fused pass per row over all components (log terms, the row's largest, exp of the
 * differences, row total, responsibilities, the M-step's sums), four rows to a vector with AVX2
 * where the CPU has it, one row at a time otherwise.  Both paths compute every row exactly as
 * fit.c's blocked E-step does, in the same order over components; they differ from it and from
 * each other only in the order rows are added into the sums and in libmvec's exp (within 4 ulp),
 * i.e. by rounding (tests/unit/test_fit.c holds them to 1e-12 relative).
 *
 * Private to the fit module.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/** numpy's pairwise summation tree over n terms (see fm__fitk_pairwise): its leaves, blocks of
 * at most 128 terms, in order. */
typedef struct {
    size_t n, nleaves;
    size_t *end; /* leaf i covers terms [i ? end[i - 1] : 0, end[i]) */
} fm__pw_plan_t;

/* Per-component constants of one iteration (structure of arrays, K entries each). */
typedef struct {
    size_t K;
    const bool *uni;    /* uniform: log term v on rows [lo, hi), else none */
    const double *v;    /* uniform: ln w - ln width */
    const size_t *lo, *hi;
    const double *lnsc; /* lognormal: ln scale, 1 / 2 sigma^2, ln(sigma sqrt(2 pi)) - ln w */
    const double *a, *cst;
    const double *c;    /* centre of the log sums */
    const double *row0; /* log term of row 0 (the probability mass of (0, x0]) */
    double *s0, *s1, *s2; /* sums of r, r d, r d^2 (d = ln x - c), added to; with r, the
                           * AVX2 path leaves s1 and s2 alone (the two-pass M-step sums r) */
    double *r;          /* NULL, or responsibilities: r[k * n + i] (for two-pass M-steps) */
    size_t n;           /* the stride of r */
    double *scratch;    /* fm__fitk_scratch_bytes(K) bytes */
} fm__fitk_t;

/**
 * Rows [from, to) of the E-step.  lnx, ws: per row; ws_scale = 1 / mean(ws) applied as
 * ws / avg_ws.  @return sum over rows of ws ln(row total) when want_ll, else 0.
 */
double fm__fitk_rows(const fm__fitk_t *p, const double *lnx, const double *ws, double avg_ws,
                     size_t from, size_t to, bool want_ll);

/** Bytes of scratch fm__fitk_rows needs for K components. */
size_t fm__fitk_scratch_bytes(size_t K);

/** E-step paths, for tests and benchmarks that compare them (process-wide, default AUTO). */
typedef enum {
    FM__FITK_AUTO = 0, /* the fused rows, AVX2 when the CPU has AVX2 and FMA */
    FM__FITK_SCALAR,   /* the fused rows, one at a time */
    FM__FITK_BLOCKED,  /* fit.c's blocked E-step (every family) */
} fm__fitk_mode_t;
void fm__fitk_set_mode(fm__fitk_mode_t mode);
fm__fitk_mode_t fm__fitk_mode(void);

/** The terms a two-pass M-step sums: r_i, r_i v_i, r_i (v_i - mu)^2. */
typedef enum { FM__PW_R, FM__PW_RV, FM__PW_RDD } fm__pw_kind_t;

/**
 * Sum of the terms over i < n in numpy's pairwise order (np.sum of a contiguous float64 array:
 * blocks of at most 128 with eight accumulators, halves rounded to multiples of 8 above that),
 * so the additions are flow-models' own; each term is computed where it is added.  The AVX2
 * path holds the eight accumulators in two vectors and gives the same bits as the scalar one.
 */
double fm__fitk_pairwise(fm__pw_kind_t kind, const double *r, const double *v, double mu,
                         size_t n);

/** The leaves of n terms' pairwise tree.  @return 0 or FM_ENOMEM. */
int fm__pw_plan_init(fm__pw_plan_t *pl, size_t n);
void fm__pw_plan_fini(fm__pw_plan_t *pl);

/**
 * The tree's sum given each leaf's own sum (leaves[j], j < nleaves): the same additions in the
 * same order as fm__fitk_pairwise, so the same bits when the leaves are its leaf sums.
 */
double fm__pw_combine(const fm__pw_plan_t *pl, const double *leaves);

/**
 * fm__fitk_pairwise(FM__PW_R, r, v, 0, pl->n), returned, and (FM__PW_RV ...) in *sum_rv, bit
 * for bit, in one pass over r (which brings it into cache for the variance's pass); leaves: room
 * for 2 pl->nleaves doubles.
 */
double fm__pw_r_rv(const fm__pw_plan_t *pl, const double *r, const double *v, double *leaves,
                   double *sum_rv);

/**
 * fm__fitk_pairwise(FM__PW_RDD, r, v, mu, pl->n), bit for bit, two leaves at a time (more
 * independent additions in flight); leaves: room for pl->nleaves doubles.
 */
double fm__pw_rdd(const fm__pw_plan_t *pl, const double *r, const double *v, double mu,
                  double *leaves);
