/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Mixture models: component families with scipy.stats conventions evaluated through GSL, the
 * mixture JSON format of flow-models (read with jansson, written in its exact byte layout with
 * Python repr() numbers) and the weighted log-likelihood used to compare fits.
 *
 * Where GSL's convention differs from scipy's we say so and compute the scipy value: GSL's flat
 * density is zero at the upper end while scipy's uniform is closed, and GSL has no generalised
 * Pareto.  The lognormal density is evaluated in the log form scipy uses (exp of the log-density),
 * which keeps fitted numbers within a few ulp of flow-models.
 */
#include "config.h"

#include "mixture.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_randist.h>
#include <jansson.h>

#include "util/err.h"
#include "util/mem.h"

struct fm_mix {
    uint64_t sum;
    size_t n;
    size_t cap;
    fm_mix_comp_t *c;
};

static const char *const family_names[FM_FAM_COUNT] = {
    "uniform", "lognorm", "genpareto", "gamma", "weibull_min", "norm",
};

static const char *const y_names[] = {"flows", "packets", "octets"};

int fm_mix_y_parse(const char *name)
{
    for (int i = 0; i < 3; i++) {
        if (name && strcmp(name, y_names[i]) == 0) {
            return i;
        }
    }
    return FM_EINVAL;
}

const char *fm_mix_y_name(int y)
{
    return y >= 0 && y < 3 ? y_names[y] : "?";
}

const char *fm_mix_family_name(fm_family_t fam)
{
    return (unsigned)fam < FM_FAM_COUNT ? family_names[fam] : "?";
}

int fm_mix_family_parse(const char *name)
{
    for (int i = 0; i < FM_FAM_COUNT; i++) {
        if (name && strcmp(name, family_names[i]) == 0) {
            return i;
        }
    }
    return FM_EINVAL;
}

unsigned fm_mix_family_nparams(fm_family_t fam)
{
    if ((unsigned)fam >= FM_FAM_COUNT) {
        return 0;
    }
    return fam == FM_FAM_UNIFORM || fam == FM_FAM_NORM ? 2 : 3;
}

const char *fm_mix_family_param_name(fm_family_t fam, unsigned i)
{
    /* scipy's names of the positional parameters; the shape differs per family. */
    static const char *const shape[FM_FAM_COUNT] = {
        [FM_FAM_UNIFORM] = NULL, [FM_FAM_LOGNORM] = "s", [FM_FAM_GENPARETO] = "c",
        [FM_FAM_GAMMA] = "a", [FM_FAM_WEIBULL_MIN] = "c"};
    unsigned np = fm_mix_family_nparams(fam);
    if (i >= np) {
        return NULL;
    }
    return i == np - 1 ? "scale" : i == np - 2 ? "loc" : shape[fam];
}

/* ------------------------------------------------------------------------------------------ */
/* Object */

fm_mix_t *fm_mix_new(uint64_t sum)
{
    fm_mix_t *m = fm_xcalloc(1, sizeof(*m));
    m->sum = sum;
    return m;
}

void fm_mix_free(fm_mix_t *m)
{
    if (m) {
        free(m->c);
        free(m);
    }
}

fm_mix_t *fm_mix_clone(const fm_mix_t *m)
{
    fm_mix_t *c = fm_mix_new(m->sum);
    if (m->n) {
        c->c = fm_xreallocarray(NULL, m->n, sizeof(*c->c));
        memcpy(c->c, m->c, m->n * sizeof(*c->c));
        c->n = c->cap = m->n;
    }
    return c;
}

int fm_mix_add(fm_mix_t *m, const fm_mix_comp_t *c)
{
    if (!m || !c || fm_mix_family_nparams(c->fam) == 0 || c->np != fm_mix_family_nparams(c->fam)) {
        return FM_EINVAL;
    }
    if (m->n == m->cap) {
        m->cap = m->cap ? 2 * m->cap : 8;
        m->c = fm_xreallocarray(m->c, m->cap, sizeof(*m->c));
    }
    m->c[m->n++] = *c;
    return 0;
}

int fm_mix_remove(fm_mix_t *m, size_t i)
{
    if (!m || i >= m->n) {
        return FM_EINVAL;
    }
    memmove(&m->c[i], &m->c[i + 1], (m->n - i - 1) * sizeof(*m->c));
    m->n--;
    return 0;
}

size_t fm_mix_count(const fm_mix_t *m)
{
    return m ? m->n : 0;
}

const fm_mix_comp_t *fm_mix_comp(const fm_mix_t *m, size_t i)
{
    return m && i < m->n ? &m->c[i] : NULL;
}

fm_mix_comp_t *fm_mix_comp_mut(fm_mix_t *m, size_t i)
{
    return m && i < m->n ? &m->c[i] : NULL;
}

uint64_t fm_mix_sum(const fm_mix_t *m)
{
    return m->sum;
}

void fm_mix_set_sum(fm_mix_t *m, uint64_t sum)
{
    m->sum = sum;
}

/* ------------------------------------------------------------------------------------------ */
/* Families */

double fm_mix_comp_pdf(const fm_mix_comp_t *c, double x)
{
    double loc = c->p[c->np - 2], scale = c->p[c->np - 1];
    double z, s, a;

    if (!(scale > 0)) {
        return NAN;
    }
    z = (x - loc) / scale;
    switch (c->fam) {
    case FM_FAM_UNIFORM:
        /* scipy's support is closed, gsl_ran_flat_pdf's is [a, b): compute it directly. */
        return z >= 0 && z <= 1 ? 1.0 / scale : 0.0;
    case FM_FAM_LOGNORM:
        if (!(z > 0)) {
            return 0.0;
        }
        s = c->p[0];
        a = log(z);
        return exp(-a * a / (2 * s * s) - log(s * z * sqrt(2 * M_PI))) / scale;
    case FM_FAM_GENPARETO:
        s = c->p[0];
        if (!(z >= 0) || (s < 0 && z > -1.0 / s)) {
            return 0.0;
        }
        return (s != 0 ? exp(-(s + 1) / s * log1p(s * z)) : exp(-z)) / scale;
    case FM_FAM_GAMMA:
        return z >= 0 ? gsl_ran_gamma_pdf(z, c->p[0], 1.0) / scale : 0.0;
    case FM_FAM_WEIBULL_MIN:
        return z >= 0 ? gsl_ran_weibull_pdf(z, 1.0, c->p[0]) / scale : 0.0;
    case FM_FAM_NORM: /* scipy: exp(-z^2 / 2) / sqrt(2 pi) / scale */
        return exp(-z * z / 2.0) / sqrt(2 * M_PI) / scale;
    default:
        return NAN;
    }
}

double fm_mix_comp_cdf(const fm_mix_comp_t *c, double x)
{
    double loc = c->p[c->np - 2], scale = c->p[c->np - 1];
    double z, s;

    if (!(scale > 0)) {
        return NAN;
    }
    z = (x - loc) / scale;
    switch (c->fam) {
    case FM_FAM_UNIFORM:
        return z <= 0 ? 0.0 : z >= 1 ? 1.0 : z;
    case FM_FAM_LOGNORM:
        return z > 0 ? gsl_cdf_ugaussian_P(log(z) / c->p[0]) : 0.0;
    case FM_FAM_GENPARETO:
        s = c->p[0];
        if (!(z > 0)) {
            return 0.0;
        }
        if (s < 0 && z >= -1.0 / s) {
            return 1.0;
        }
        return s != 0 ? -expm1(-log1p(s * z) / s) : -expm1(-z);
    case FM_FAM_GAMMA:
        return z > 0 ? gsl_cdf_gamma_P(z, c->p[0], 1.0) : 0.0;
    case FM_FAM_WEIBULL_MIN:
        return z > 0 ? gsl_cdf_weibull_P(z, 1.0, c->p[0]) : 0.0;
    case FM_FAM_NORM:
        return gsl_cdf_ugaussian_P(z);
    default:
        return NAN;
    }
}

/* numpy's pairwise summation of a strided double array (8 partial sums per block of <= 128). */
static double pairwise_sum(const fm_mix_comp_t *c, size_t n)
{
    if (n < 8) {
        double res = 0.;
        for (size_t i = 0; i < n; i++) {
            res += c[i].w;
        }
        return res;
    }
    if (n <= 128) {
        double r[8], res;
        size_t i;
        for (int j = 0; j < 8; j++) {
            r[j] = c[j].w;
        }
        for (i = 8; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; j++) {
                r[j] += c[i + j].w;
            }
        }
        res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; i++) {
            res += c[i].w;
        }
        return res;
    }
    size_t n2 = n / 2;
    n2 -= n2 % 8;
    return pairwise_sum(c, n2) + pairwise_sum(c + n2, n - n2);
}

/*
 * Total weight as flow-models normalises it (numpy sum: the reduction starts from the first
 * element and adds the pairwise sum of the rest), so normalised weights match to the bit.
 */
static double weight_total(const fm_mix_t *m)
{
    return m->n ? m->c[0].w + pairwise_sum(m->c + 1, m->n - 1) : 0.0;
}

double fm_mix_weight_total(const fm_mix_t *m)
{
    return weight_total(m);
}

double fm_mix_cdf(const fm_mix_t *m, double x)
{
    double t = weight_total(m), v = 0;
    for (size_t k = 0; k < m->n; k++) {
        v += m->c[k].w / t * fm_mix_comp_cdf(&m->c[k], x);
    }
    return t > 0 ? v : NAN;
}

double fm_mix_pdf(const fm_mix_t *m, double x)
{
    double t = weight_total(m), v = 0;
    for (size_t k = 0; k < m->n; k++) {
        v += m->c[k].w / t * fm_mix_comp_pdf(&m->c[k], x);
    }
    return t > 0 ? v : NAN;
}

double fm_mix_pdf_discrete(const fm_mix_t *m, double x, double xmin)
{
    double t = weight_total(m), v = 0;

    if (!(t > 0)) {
        return NAN;
    }
    if (x >= 1024) {
        return fm_mix_pdf(m, x);
    }
    /* flow-models assigns the whole mass below the smallest possible value to it. */
    double prev = x == xmin ? 0.0 : x - 1;
    for (size_t k = 0; k < m->n; k++) {
        v += m->c[k].w / t * (fm_mix_comp_cdf(&m->c[k], x) - fm_mix_comp_cdf(&m->c[k], prev));
    }
    return v;
}

static uint64_t bin_y(const fm_hist_bin_t *b, int y)
{
    return y == FM_Y_PACKETS ? b->packets : y == FM_Y_OCTETS ? b->octets : b->flows;
}

double fm_mix_loglik(const fm_mix_t *m, const fm_hist_bin_t *bins, size_t n, int y)
{
    double num = 0, den = 0;

    for (size_t i = 0; i < n; i++) {
        double x = (double)bins[i].lo, w = (double)bin_y(&bins[i], y), s = 0;
        if (w == 0) {
            continue;
        }
        for (size_t k = 0; k < m->n; k++) {
            const fm_mix_comp_t *c = &m->c[k];
            double f = i == 0 ? fm_mix_comp_cdf(c, x) - fm_mix_comp_cdf(c, 0)
                              : fm_mix_comp_pdf(c, x);
            s += c->w * f;
        }
        num += w * log(s);
        den += w;
    }
    return den > 0 ? num / den : NAN;
}

/* ------------------------------------------------------------------------------------------ */
/* Number formatting: Python repr(float) */

/* Shortest digit string that reads back as v: try precisions until one round-trips. */
static int shortest_digits(double v, char *digits, int *exp10)
{
    char tmp[40];
    int prec;

    for (prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    /* tmp is "d.ddde[+-]XX" (v > 0 here). */
    int nd = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++) {
        if (*p >= '0' && *p <= '9') {
            digits[nd++] = *p;
        }
    }
    while (nd > 1 && digits[nd - 1] == '0') {
        nd--;
    }
    digits[nd] = '\0';
    *exp10 = atoi(p + 1);
    return nd;
}

char *fm_mix_repr_double(double v, char *buf, size_t size)
{
    char d[24];
    int e, nd, pos = 0;

    if (isnan(v)) {
        snprintf(buf, size, "NaN");
        return buf;
    }
    if (isinf(v)) {
        snprintf(buf, size, v > 0 ? "Infinity" : "-Infinity");
        return buf;
    }
    if (v == 0) {
        snprintf(buf, size, signbit(v) ? "-0.0" : "0.0");
        return buf;
    }
    char out[64];
    if (v < 0) {
        out[pos++] = '-';
        v = -v;
    }
    nd = shortest_digits(v, d, &e);
    if (e >= -4 && e < 16) {
        if (e < 0) {
            pos += sprintf(out + pos, "0.%.*s%s", -e - 1, "0000", d);
        } else if (nd <= e + 1) {
            pos += sprintf(out + pos, "%s%.*s.0", d, e + 1 - nd, "0000000000000000");
        } else {
            pos += sprintf(out + pos, "%.*s.%s", e + 1, d, d + e + 1);
        }
    } else {
        pos += sprintf(out + pos, "%c", d[0]);
        if (nd > 1) {
            pos += sprintf(out + pos, ".%s", d + 1);
        }
        pos += sprintf(out + pos, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
    }
    snprintf(buf, size, "%s", out);
    return buf;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON output */

static void print_param(FILE *f, double v, bool is_int)
{
    char b[40];
    if (is_int && isfinite(v) && fabs(v) < 9.2e18 && v == trunc(v)) {
        fprintf(f, "%lld", (long long)v);
    } else {
        fputs(fm_mix_repr_double(v, b, sizeof(b)), f);
    }
}

static void print_comp(FILE *f, const fm_mix_comp_t *c)
{
    char b[40];
    fprintf(f, "[%s, \"%s\", [", fm_mix_repr_double(c->w, b, sizeof(b)),
            fm_mix_family_name(c->fam));
    for (unsigned i = 0; i < c->np; i++) {
        if (i) {
            fputs(", ", f);
        }
        print_param(f, c->p[i], c->intmask & (1u << i));
    }
    fputs("]]", f);
}

char *fm_mix_to_json(const fm_mix_t *m)
{
    char *s = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&s, &len);

    if (!f) {
        return NULL;
    }
    /* Layout of flow-models' json.dump(indent=2)-like writer (FLOW-MODELS-DETAIL §6.5). */
    const char *sep = m->sum ? ",\n    " : ",\n  ";
    if (m->sum) {
        fprintf(f, "{\n  \"sum\": %" PRIu64 ",\n  \"mix\": [\n    ", m->sum);
    } else {
        fputs("[\n  ", f);
    }
    for (size_t k = 0; k < m->n; k++) {
        if (k) {
            fputs(sep, f);
        }
        print_comp(f, &m->c[k]);
    }
    fputs(m->sum ? "\n  ]\n}\n" : "\n]\n", f);
    if (fclose(f) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

char *fm_mix_to_json_string(const fm_mix_t *m)
{
    return fm_mix_to_json(m);
}

int fm_mix_write_json(const fm_mix_t *m, FILE *out)
{
    char *s = fm_mix_to_json(m);
    int rc = 0;
    if (!s) {
        return FM_ENOMEM;
    }
    if (fputs(s, out) == EOF) {
        rc = FM_EIO;
    }
    free(s);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON input */

static int seterr(char *err, size_t errlen, const char *msg, size_t k)
{
    if (err && errlen) {
        snprintf(err, errlen, "component %zu: %s", k, msg);
    }
    return FM_EFORMAT;
}

static int parse_comp(json_t *jc, size_t k, fm_mix_comp_t *c, char *err, size_t errlen)
{
    json_t *jw = json_array_get(jc, 0), *jn = json_array_get(jc, 1), *jp = json_array_get(jc, 2);
    int fam;

    memset(c, 0, sizeof(*c));
    if (!json_is_array(jc) || json_array_size(jc) != 3 || !json_is_number(jw) ||
        !json_is_string(jn) || !json_is_array(jp)) {
        return seterr(err, errlen, "expected [weight, \"family\", [params]]", k);
    }
    fam = fm_mix_family_parse(json_string_value(jn));
    if (fam < 0) {
        return seterr(err, errlen, "unknown family", k);
    }
    c->fam = (fm_family_t)fam;
    c->np = fm_mix_family_nparams(c->fam);
    c->w = json_number_value(jw);
    if (json_array_size(jp) != c->np) {
        return seterr(err, errlen, "wrong number of parameters", k);
    }
    for (unsigned i = 0; i < c->np; i++) {
        json_t *v = json_array_get(jp, i);
        /* flow-models stores gamma's shape as a one-element array; accept that too. */
        if (json_is_array(v) && json_array_size(v) == 1) {
            v = json_array_get(v, 0);
        }
        if (!json_is_number(v)) {
            return seterr(err, errlen, "parameter is not a number", k);
        }
        c->p[i] = json_number_value(v);
        if (json_is_integer(v)) {
            c->intmask |= 1u << i;
        }
    }
    return 0;
}

static int parse_root(json_t *root, fm_mix_t **out, char *err, size_t errlen)
{
    json_t *list = root, *jsum;
    uint64_t sum = 0;

    if (json_is_object(root)) {
        list = json_object_get(root, "mix");
        jsum = json_object_get(root, "sum");
        /* A real sum must be below 2^63: converting 2e45 is undefined, and a sum past
         * INT64_MAX would be written as an integer that no JSON reader with int64 integers
         * (jansson among them) reads back (both found by fuzz_mixture). */
        if (!json_is_array(list) || !json_is_number(jsum) || json_number_value(jsum) < 0 ||
            !(json_number_value(jsum) < 9223372036854775808.0)) {
            if (err && errlen) {
                snprintf(err, errlen, "expected {\"sum\": N, \"mix\": [...]}");
            }
            return FM_EFORMAT;
        }
        sum = json_is_integer(jsum) ? (uint64_t)json_integer_value(jsum)
                                    : (uint64_t)json_real_value(jsum);
    } else if (!json_is_array(root)) {
        if (err && errlen) {
            snprintf(err, errlen, "expected an object or a list of components");
        }
        return FM_EFORMAT;
    }
    fm_mix_t *m = fm_mix_new(sum);
    for (size_t k = 0; k < json_array_size(list); k++) {
        fm_mix_comp_t c;
        int rc = parse_comp(json_array_get(list, k), k, &c, err, errlen);
        if (rc < 0) {
            fm_mix_free(m);
            return rc;
        }
        fm_mix_add(m, &c);
    }
    *out = m;
    return 0;
}

/* Parse what jansson loaded (NULL: report its error) and release it. */
static int parse_loaded(json_t *root, const json_error_t *je, fm_mix_t **out, char *err,
                        size_t errlen)
{
    if (!root) {
        if (err && errlen) {
            snprintf(err, errlen, "line %d: %s", je->line, je->text);
        }
        return FM_EFORMAT;
    }
    int rc = parse_root(root, out, err, errlen);
    json_decref(root);
    return rc;
}

int fm_mix_parse_json(const char *text, fm_mix_t **out, char *err, size_t errlen)
{
    json_error_t je;
    return parse_loaded(json_loads(text, JSON_DECODE_ANY, &je), &je, out, err, errlen);
}

int fm_mix_read_json(const char *path, fm_mix_t **out, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root;
    int rc;

    FILE *f = fopen(path, "r");
    if (!f) {
        rc = -errno;
        if (err && errlen) {
            snprintf(err, errlen, "%s", strerror(-rc));
        }
        return rc;
    }
    root = json_loadf(f, JSON_DECODE_ANY, &je);
    fclose(f);
    return parse_loaded(root, &je, out, err, errlen);
}

/* A JSON string literal of s, escaped by jansson. */
static char *json_quote(const char *s)
{
    json_t *j = json_string(s);
    char *q = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    json_decref(j);
    return q;
}

int fm_mix_write_mode(FILE *out, const char *in_file, int y, unsigned max_iter, unsigned U,
                      unsigned P, unsigned L, const char *initial, double mpw)
{
    char b[40];
    char *q;

    /* Python json.dumps separators (", " and ": "); numbers as repr(). */
    fputc('{', out);
    if (in_file) {
        if (!(q = json_quote(in_file))) {
            return FM_ENOMEM;
        }
        fprintf(out, "\"in_file\": %s, ", q);
        free(q);
    }
    fprintf(out, "\"y_value\": \"%s\", \"max_iter\": %u, \"initial\": ", fm_mix_y_name(y),
            max_iter);
    if (U || P || L) {
        const char *sep = "";
        fputc('{', out);
        if (U) {
            fprintf(out, "\"U\": %u", U);
            sep = ", ";
        }
        if (P) {
            fprintf(out, "%s\"P\": %u", sep, P);
            sep = ", ";
        }
        if (L) {
            fprintf(out, "%s\"L\": %u", sep, L);
        }
        fputc('}', out);
    } else if (initial) {
        if (!(q = json_quote(initial))) {
            return FM_ENOMEM;
        }
        fputs(q, out);
        free(q);
    } else {
        fputs("{}", out);
    }
    fprintf(out, ", \"max_pareto_w\": %s}\n", mpw > 0 ? fm_mix_repr_double(mpw, b, sizeof(b))
                                                      : "null");
    return ferror(out) ? FM_EIO : 0;
}
