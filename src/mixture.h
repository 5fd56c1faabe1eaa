/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Mixture models in flow-models' conventions (FLOW-MODELS.md §2, FLOW-MODELS-DETAIL.md §5-7).
 *
 * A mixture is a list of weighted components of the scipy.stats families uniform, lognorm,
 * genpareto, gamma, weibull_min and norm, with scipy's positional parameters (shape..., loc, scale),
 * plus the "sum" of the histogram column it was fitted to.  This module evaluates component and
 * mixture densities and distribution functions (with GSL where GSL's convention matches scipy's),
 * reads mixture JSON with jansson and writes it byte-for-byte in flow-models' layout, numbers as
 * Python's repr(double).  Fitting lives in fit.h; random variates in generate (cmd_generate.c).
 *
 * Every function here is reentrant and never logs, so fits and exports may use it on thread-pool
 * threads.  Callers should have called gsl_set_error_handler_off() once at startup.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "hist.h"

/** Component families; the JSON names are scipy's. */
typedef enum {
    FM_FAM_UNIFORM = 0, /* [loc, scale]: U[loc, loc + scale] (closed) */
    FM_FAM_LOGNORM,     /* [s, loc, scale]: ln(x - loc) ~ N(ln scale, s^2) */
    FM_FAM_GENPARETO,   /* [c, loc, scale] */
    FM_FAM_GAMMA,       /* [a, loc, scale] */
    FM_FAM_WEIBULL_MIN, /* [c, loc, scale] */
    FM_FAM_NORM,        /* [loc, scale]: N(loc, scale^2) (flow-models fits it from --initial) */
    FM_FAM_COUNT
} fm_family_t;

#define FM_MIX_MAX_PARAMS 3

/** One weighted component.  Plain data: callers may build and inspect these freely. */
typedef struct {
    double w;                     /* weight (not necessarily normalised) */
    fm_family_t fam;
    unsigned np;                  /* number of parameters: 2 for uniform, else 3 */
    double p[FM_MIX_MAX_PARAMS];  /* scipy positional parameters */
    unsigned intmask;             /* bit i set: p[i] is printed as a JSON integer */
} fm_mix_comp_t;

typedef struct fm_mix fm_mix_t;

/** Y value (histogram column) a mixture describes. */
enum { FM_Y_FLOWS = 0, FM_Y_PACKETS = 1, FM_Y_OCTETS = 2 };

/** "flows", "packets", "octets" → FM_Y_*, or FM_EINVAL. */
int fm_mix_y_parse(const char *name);
/** FM_Y_* → "flows" / "packets" / "octets" ("?" for anything else). */
const char *fm_mix_y_name(int y);
/** Family JSON name ("uniform", "lognorm", ...), or "?" for an invalid value. */
const char *fm_mix_family_name(fm_family_t fam);
/** JSON name → family, or FM_EINVAL. */
int fm_mix_family_parse(const char *name);
/** Number of parameters of a family (2 or 3), 0 for an invalid value. */
unsigned fm_mix_family_nparams(fm_family_t fam);
/**
 * scipy's name of positional parameter i of a family: "s", "c" or "a" (the shape), "loc",
 * "scale".  @return static string, NULL when i or fam is out of range.
 */
const char *fm_mix_family_param_name(fm_family_t fam, unsigned i);

/** Create an empty mixture with the given sum.  Aborts on out-of-memory (small object). */
fm_mix_t *fm_mix_new(uint64_t sum);
/** Free a mixture.  NULL does nothing. */
void fm_mix_free(fm_mix_t *m);
/** Deep copy.  Aborts on out-of-memory. */
fm_mix_t *fm_mix_clone(const fm_mix_t *m);
/**
 * Append a component (copied).
 * @return 0, or FM_EINVAL if the family is unknown or np does not match it.
 */
int fm_mix_add(fm_mix_t *m, const fm_mix_comp_t *c);
/** Remove component i (later ones move down).  @return 0 or FM_EINVAL if i is out of range. */
int fm_mix_remove(fm_mix_t *m, size_t i);
size_t fm_mix_count(const fm_mix_t *m);
/** Borrowed pointer to component i (valid until the mixture is changed), NULL if out of range. */
const fm_mix_comp_t *fm_mix_comp(const fm_mix_t *m, size_t i);
/** Writable pointer to component i, NULL if out of range.  Keep np/fam consistent. */
fm_mix_comp_t *fm_mix_comp_mut(fm_mix_t *m, size_t i);
uint64_t fm_mix_sum(const fm_mix_t *m);
void fm_mix_set_sum(fm_mix_t *m, uint64_t sum);

/** Sum of the weights, summed as numpy does (what flow-models normalises by). */
double fm_mix_weight_total(const fm_mix_t *m);

/** Component density at x (scipy pdf; 0 outside the support, NaN for scale <= 0). */
double fm_mix_comp_pdf(const fm_mix_comp_t *c, double x);
/** Component distribution function at x (scipy cdf). */
double fm_mix_comp_cdf(const fm_mix_comp_t *c, double x);

/** Mixture CDF with normalised weights: sum_k w_k cdf_k(x) / sum_k w_k (NaN if no weight). */
double fm_mix_cdf(const fm_mix_t *m, double x);
/** Mixture density with normalised weights (continuous). */
double fm_mix_pdf(const fm_mix_t *m, double x);
/**
 * Discrete-aware mixture "pdf" of flow-models lib/mix.py pdf() (FLOW-MODELS-DETAIL §7): below
 * 1024 the probability mass of (x-1, x] (of (0, x] at x == xmin), from 1024 on the density.
 * @param[in] xmin  1 for length, 64 for size.
 */
double fm_mix_pdf_discrete(const fm_mix_t *m, double x, double xmin);

/**
 * Weighted mean log-likelihood of a histogram under the mixture, with the fit's rules
 * (FLOW-MODELS.md §5): sum_i w_i ln(sum_k weight_k f_k(x_i)) / sum_i w_i where x_i = bin_lo,
 * w_i = the y column, f_k = pdf_k except for the first row, which uses cdf_k(x_0) - cdf_k(0).
 * Raw (unnormalised) component weights are used, as in the EM's E-step.
 * @param[in] y  FM_Y_FLOWS, FM_Y_PACKETS or FM_Y_OCTETS.
 * @return the value (-inf if a weighted row has zero likelihood), NaN if n == 0 or all weights 0.
 */
double fm_mix_loglik(const fm_mix_t *m, const fm_hist_bin_t *bins, size_t n, int y);

/**
 * Format a double as Python's repr() does (shortest round-trip; FLOW-MODELS-DETAIL §6.7).
 * NaN and infinities are written as json.dumps does: NaN, Infinity, -Infinity.
 * @param[out] buf  at least 32 bytes.
 * @return buf.
 */
char *fm_mix_repr_double(double v, char *buf, size_t size);

/**
 * Serialise in flow-models' exact layout ({"sum", "mix"} object, one component per line; a bare
 * list when the sum is 0), with a trailing newline.
 * @return malloc'd NUL-terminated string, caller frees; NULL on out-of-memory.
 */
char *fm_mix_to_json(const fm_mix_t *m);
/** Same as fm_mix_to_json() (the name the issue uses). */
char *fm_mix_to_json_string(const fm_mix_t *m);
/** Write fm_mix_to_json() to a stream.  @return 0, FM_ENOMEM or FM_EIO. */
int fm_mix_write_json(const fm_mix_t *m, FILE *out);

/**
 * Parse mixture JSON: a {"sum": N, "mix": [...]} object or a bare [[w, "name", [params]], ...]
 * list (sum 0).  Integer parameters keep their integer-ness so that re-serialising reproduces
 * the input text.
 * @param[out] out  new mixture, caller frees with fm_mix_free().
 * @param[out] err  optional buffer for a message (may be NULL).
 * @return 0, FM_EFORMAT (bad JSON or bad structure), FM_ENOMEM.
 */
int fm_mix_parse_json(const char *text, fm_mix_t **out, char *err, size_t errlen);
/**
 * Read a mixture JSON file (see fm_mix_parse_json()).
 * @return 0, FM_ENOENT/-errno if it cannot be read, FM_EFORMAT, FM_ENOMEM.
 */
int fm_mix_read_json(const char *path, fm_mix_t **out, char *err, size_t errlen);

/**
 * Write a .mode file line as flow-models fit does: {"in_file": ..., "y_value": ..., "max_iter":
 * ..., "initial": {"U": u, "P": p, "L": l} (non-zero counts only) or the --initial string,
 * "max_pareto_w": null or number} + "\n".
 * @param[in] in_file   path as given on the command line, or NULL to omit the key (agh_2015 style).
 * @param[in] initial   --initial file name, used when U, P and L are all 0; may be NULL.
 * @param[in] mpw       max Pareto weight, 0 for none (null).
 * @return 0, FM_ENOMEM or FM_EIO.
 */
int fm_mix_write_mode(FILE *out, const char *in_file, int y, unsigned max_iter, unsigned U,
                      unsigned P, unsigned L, const char *initial, double mpw);
