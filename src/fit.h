/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * EM fitting of mixtures to a histogram, as flow-models `fit` does it (FLOW-MODELS.md §5,
 * FLOW-MODELS-DETAIL.md §6): one data point per histogram row at x = bin_lo weighted by the
 * chosen y column, the first row using the probability mass of (0, x0] instead of the density,
 * uniforms fixed, closed-form lognormal / Pareto updates, gamma and Weibull by their weighted ML
 * equations.  By default exactly max_iter iterations run, like flow-models; opts.tol > 0 adds a
 * convergence test.
 *
 * fm_fit_run() is reentrant and never logs: the daemon runs it on thread-pool threads on a
 * snapshot of the bins.  Callers should have called gsl_set_error_handler_off() once.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "hist.h"
#include "mixture.h"

typedef struct fm_fit_opts {
    int y;             /* FM_Y_FLOWS (0), FM_Y_PACKETS (1), FM_Y_OCTETS (2) */
    unsigned U, L, P;  /* initial uniform, lognormal and Pareto components (no init mixture) */
    unsigned max_iter; /* iterations (flow-models default 100) */
    double tol;        /* 0: run exactly max_iter; > 0: stop once the log-likelihood gains < tol */
    double max_pareto_w; /* > 0: cap on genpareto weights (flow-models --mpw), 0: none */
} fm_fit_opts_t;

/* A component removed because its parameters or weight stopped being finite numbers. */
typedef struct fm_fit_drop {
    unsigned index;      /* position in the initial mixture */
    unsigned iteration;  /* 0: already in the initial mixture */
    fm_family_t fam;
    const char *why;     /* static text */
} fm_fit_drop_t;

#define FM_FIT_MAX_DROPS 8

typedef struct fm_fit_result {
    double loglik;       /* weighted mean log-likelihood of the result (fm_mix_loglik()) */
    unsigned iterations; /* EM iterations run */
    double seconds;      /* wall-clock time of the fit */
    unsigned dropped;    /* components removed because they became non-finite (NaN in flow-models) */
    fm_fit_drop_t drops[FM_FIT_MAX_DROPS]; /* the first ndrops of them */
    unsigned ndrops;
    bool converged;      /* tol > 0 and the gain fell below it */
} fm_fit_result_t;

/**
 * Build flow-models' initial mixture (initial_mix; FLOW-MODELS-DETAIL §6.2) for data whose
 * smallest and largest x are xmin and xmax.
 * @return new mixture (sum 0), caller frees; NULL if U + P + L is 0.
 */
fm_mix_t *fm_fit_initial_mix(double xmin, double xmax, unsigned U, unsigned P, unsigned L);

/**
 * Fit a mixture to a histogram by EM.
 * @param[in] bins  histogram rows in ascending bin_lo (borrowed, not modified).
 * @param[in] n     number of rows (>= 1).
 * @param[in] opts  options; U/P/L are used only when init is NULL.
 * @param[in] init  warm start (copied), or NULL for fm_fit_initial_mix(x[0], x[n-1], U, P, L).
 * @param[out] out  fitted mixture with sum = total of the y column; caller frees with
 *                  fm_mix_free().  Set only on success.
 * @param[out] res  statistics (may be NULL).
 * @return 0; FM_EINVAL for bad arguments (n == 0, no components, bad y); FM_EFIT if the y
 *         column is all zero or every component collapsed; FM_ENOMEM.
 */
int fm_fit_run(const fm_hist_bin_t *bins, size_t n, const fm_fit_opts_t *opts,
               const fm_mix_t *init, fm_mix_t **out, fm_fit_result_t *res);

/**
 * Same EM on plain arrays: x[i] the data points (ascending), w[i] their weights.
 * @param[in] sum  the value stored as the result's "sum".
 */
int fm_fit_arrays(const double *x, const double *w, size_t n, uint64_t sum,
                  const fm_fit_opts_t *opts, const fm_mix_t *init, fm_mix_t **out,
                  fm_fit_result_t *res);
