/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Histogram delta wire format: encoder and strict decoder (see histdelta.h for the shape).
 * The decoder runs on messages from the network (Kafka), so it never asserts on input: each
 * check fails with FM_EFORMAT and a message saying which field is wrong.  Parsing uses
 * jansson with JSON_REJECT_DUPLICATES (a key twice is ambiguous) and its bounded nesting depth.
 */
#include "config.h"

#include "histdelta.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/err.h"

#define NHISTS (FM_CLASS_COUNT * FM_DIR_COUNT * FM_METRIC_COUNT)

int fm_histdelta_check_id(const char *id)
{
    size_t n = id ? strlen(id) : 0;
    if (n == 0 || n > FM_HISTDELTA_ID_MAX) {
        return FM_EINVAL;
    }
    for (size_t i = 0; i < n; i++) {
        if (id[i] <= ' ' || id[i] > '~') {
            return FM_EINVAL;
        }
    }
    return 0;
}

/* ---- encoding ---- */

static bool fits_json(uint64_t v)
{
    return v <= (uint64_t)INT64_MAX;
}

/* The bins of one histogram as [[lo, flows, packets, octets], ...]; *arr NULL if empty. */
static int bins_json(const fm_hist_t *h, json_t **arr)
{
    fm_hist_bin_t *bins;
    long n = fm_hist_bins(h, &bins);
    int rc = 0;

    *arr = NULL;
    if (n <= 0) {
        return n < 0 ? (int)n : 0;
    }
    *arr = json_array();
    for (long i = 0; i < n && rc == 0 && *arr; i++) {
        const fm_hist_bin_t *b = &bins[i];
        if (!fits_json(b->lo) || !fits_json(b->flows) || !fits_json(b->packets) ||
            !fits_json(b->octets)) {
            rc = FM_ERANGE;
        } else if (json_array_append_new(*arr, json_pack("[IIII]", (json_int_t)b->lo,
                                                         (json_int_t)b->flows,
                                                         (json_int_t)b->packets,
                                                         (json_int_t)b->octets)) < 0) {
            rc = FM_ENOMEM;
        }
    }
    free(bins);
    if (!*arr || rc < 0) {
        json_decref(*arr);
        *arr = NULL;
        return rc < 0 ? rc : FM_ENOMEM;
    }
    return 0;
}

static int hists_json(const fm_histset_t *set, json_t *hists)
{
    for (int c = 0; c < FM_CLASS_COUNT; c++) {
        for (int d = 0; d < FM_DIR_COUNT; d++) {
            for (int m = 0; m < FM_METRIC_COUNT; m++) {
                json_t *bins;
                int rc = bins_json(fm_histset_cget(set, c, d, m), &bins);
                if (rc < 0) {
                    return rc;
                }
                if (bins && json_array_append_new(
                                hists, json_pack("{ss ss ss so}", "class", fm_class_name(c),
                                                 "direction", fm_dir_name(d), "metric",
                                                 fm_metric_name(m), "bins", bins)) < 0) {
                    return FM_ENOMEM;
                }
            }
        }
    }
    return 0;
}

int fm_histdelta_encode(const fm_histdelta_meta_t *meta, const fm_histset_t *set, char **out,
                        size_t *len)
{
    json_t *doc, *hists;
    int rc;

    *out = NULL;
    *len = 0;
    if (fm_histdelta_check_id(meta->collector) < 0 ||
        meta->window_end_ms <= meta->window_start_ms ||
        fm_hist_bin_exp(fm_histset_cget(set, FM_CLASS_ALL, FM_DIR_UNIFLOW, FM_METRIC_LENGTH)) !=
            meta->bin_exp) {
        return FM_EINVAL;
    }
    if (!fits_json(meta->run) || !fits_json(meta->seq) || !fits_json(meta->window_end_ms)) {
        return FM_ERANGE;
    }
    hists = json_array();
    if (!hists) {
        return FM_ENOMEM;
    }
    if ((rc = hists_json(set, hists)) < 0) {
        json_decref(hists);
        return rc;
    }
    doc = json_pack("{ss si ss sI sI sI sI si so}", "format", FM_HISTDELTA_FORMAT, "version",
                    FM_HISTDELTA_VERSION, "collector", meta->collector, "run",
                    (json_int_t)meta->run, "seq", (json_int_t)meta->seq, "window_start_ms",
                    (json_int_t)meta->window_start_ms, "window_end_ms",
                    (json_int_t)meta->window_end_ms, "bin_exp", (int)meta->bin_exp, "hists",
                    hists); /* "o" steals hists even on failure */
    if (!doc) {
        return FM_ENOMEM;
    }
    *out = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(doc);
    if (!*out) {
        return FM_ENOMEM;
    }
    *len = strlen(*out);
    return 0;
}

/* ---- decoding ---- */

typedef struct {
    char *err;
    size_t errlen;
} dec_t;

__attribute__((format(printf, 3, 4))) static int fail(dec_t *x, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->err, x->errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* A non-negative JSON integer (jansson already refuses integers beyond int64). */
static int get_u64(dec_t *x, const json_t *o, const char *key, uint64_t *v)
{
    const json_t *j = json_object_get(o, key);
    if (!j) {
        return fail(x, FM_EFORMAT, "missing \"%s\"", key);
    }
    if (!json_is_integer(j) || json_integer_value(j) < 0) {
        return fail(x, FM_EFORMAT, "\"%s\" must be a non-negative integer", key);
    }
    *v = (uint64_t)json_integer_value(j);
    return 0;
}

static int get_str(dec_t *x, const json_t *o, const char *key, const char **v)
{
    const json_t *j = json_object_get(o, key);
    if (!j || !json_is_string(j)) {
        return fail(x, FM_EFORMAT, "\"%s\" must be a string", key);
    }
    *v = json_string_value(j);
    return 0;
}

static int decode_meta(dec_t *x, const json_t *doc, fm_histdelta_meta_t *m)
{
    const char *s = NULL;
    uint64_t v, b;
    int rc;

    if ((rc = get_str(x, doc, "format", &s)) < 0) {
        return rc;
    }
    if (strcmp(s, FM_HISTDELTA_FORMAT)) {
        return fail(x, FM_EFORMAT, "format is not " FM_HISTDELTA_FORMAT);
    }
    if ((rc = get_u64(x, doc, "version", &v)) < 0) {
        return rc;
    }
    if (v != FM_HISTDELTA_VERSION) {
        return fail(x, FM_EVERSION, "version %" PRIu64 ", this flowmix reads version %d", v,
                    FM_HISTDELTA_VERSION);
    }
    if ((rc = get_str(x, doc, "collector", &s)) < 0) {
        return rc;
    }
    /* jansson refuses \u0000 unless asked (JSON_ALLOW_NUL); the length check keeps that so */
    if (fm_histdelta_check_id(s) < 0 ||
        strlen(s) != json_string_length(json_object_get(doc, "collector"))) {
        return fail(x, FM_EFORMAT, "collector must be 1-%d printable characters without spaces",
                    FM_HISTDELTA_ID_MAX);
    }
    memcpy(m->collector, s, strlen(s) + 1);
    if ((rc = get_u64(x, doc, "run", &m->run)) < 0 || (rc = get_u64(x, doc, "seq", &m->seq)) < 0 ||
        (rc = get_u64(x, doc, "window_start_ms", &m->window_start_ms)) < 0 ||
        (rc = get_u64(x, doc, "window_end_ms", &m->window_end_ms)) < 0 ||
        (rc = get_u64(x, doc, "bin_exp", &b)) < 0) {
        return rc;
    }
    if (m->window_end_ms <= m->window_start_ms) {
        return fail(x, FM_EFORMAT, "window_end_ms must be after window_start_ms");
    }
    if (b > 63) {
        return fail(x, FM_EFORMAT, "bin_exp %" PRIu64 " is out of range 0-63", b);
    }
    m->bin_exp = (unsigned)b;
    return 0;
}

/* One [lo, flows, packets, octets] row into h; *prev_lo enforces strictly ascending bins. */
static int decode_bin(dec_t *x, const json_t *row, size_t hi, size_t bi, unsigned bin_exp,
                      bool first, uint64_t *prev_lo, uint64_t tot[3], fm_hist_t *h)
{
    uint64_t v[4];
    fm_hist_bin_t b;

    if (!json_is_array(row) || json_array_size(row) != 4) {
        return fail(x, FM_EFORMAT, "hists[%zu].bins[%zu]: expected [bin_lo, flows, packets, "
                    "octets]", hi, bi);
    }
    for (size_t k = 0; k < 4; k++) {
        const json_t *j = json_array_get(row, k);
        if (!json_is_integer(j) || json_integer_value(j) < 0) {
            return fail(x, FM_EFORMAT, "hists[%zu].bins[%zu]: values must be non-negative "
                        "integers", hi, bi);
        }
        v[k] = (uint64_t)json_integer_value(j);
    }
    fm_hist_bin_of(v[0], bin_exp, &b.lo, &b.hi);
    if (b.lo != v[0]) {
        return fail(x, FM_EFORMAT, "hists[%zu].bins[%zu]: bin_lo %" PRIu64 " is not a bin edge "
                    "for bin_exp %u", hi, bi, v[0], bin_exp);
    }
    if (!first && v[0] <= *prev_lo) {
        return fail(x, FM_EFORMAT, "hists[%zu].bins[%zu]: bins must be in ascending bin_lo, "
                    "each once", hi, bi);
    }
    if (v[1] == 0) {
        return fail(x, FM_EFORMAT, "hists[%zu].bins[%zu]: a bin with 0 flows", hi, bi);
    }
    for (int k = 0; k < 3; k++) {
        if (__builtin_add_overflow(tot[k], v[k + 1], &tot[k])) {
            return fail(x, FM_EOVERFLOW, "hists[%zu]: sums exceed 64 bits", hi);
        }
    }
    *prev_lo = v[0];
    b.flows = v[1];
    b.packets = v[2];
    b.octets = v[3];
    return fm_hist_add_bin(h, &b) < 0 ? fail(x, FM_ENOMEM, "out of memory") : 0;
}

static int decode_hist(dec_t *x, const json_t *e, size_t hi, unsigned bin_exp, bool seen[],
                       fm_histset_t *set)
{
    const char *cs = NULL, *ds = NULL, *ms = NULL;
    const json_t *bins;
    int c, d, m, rc;
    uint64_t prev = 0, tot[3] = {0, 0, 0};

    if (!json_is_object(e) || json_object_size(e) != 4) {
        return fail(x, FM_EFORMAT, "hists[%zu]: expected {class, direction, metric, bins}", hi);
    }
    if ((rc = get_str(x, e, "class", &cs)) < 0 || (rc = get_str(x, e, "direction", &ds)) < 0 ||
        (rc = get_str(x, e, "metric", &ms)) < 0) {
        return fail(x, rc, "hists[%zu]: class, direction and metric must be strings", hi);
    }
    c = fm_class_parse(cs);
    d = fm_dir_parse(ds);
    m = fm_metric_parse(ms);
    if (c < 0 || c >= FM_CLASS_COUNT || d < 0 || m < 0) {
        return fail(x, FM_EFORMAT, "hists[%zu]: unknown class, direction or metric", hi);
    }
    if (seen[(c * FM_DIR_COUNT + d) * FM_METRIC_COUNT + m]) {
        return fail(x, FM_EFORMAT, "hists[%zu]: %s/%s/%s appears twice", hi, cs, ds, ms);
    }
    seen[(c * FM_DIR_COUNT + d) * FM_METRIC_COUNT + m] = true;
    bins = json_object_get(e, "bins");
    if (!json_is_array(bins)) {
        return fail(x, FM_EFORMAT, "hists[%zu]: bins must be an array", hi);
    }
    fm_hist_t *h = fm_histset_get(set, c, d, m);
    for (size_t bi = 0; bi < json_array_size(bins); bi++) {
        if ((rc = decode_bin(x, json_array_get(bins, bi), hi, bi, bin_exp, bi == 0, &prev, tot,
                             h)) < 0) {
            return rc;
        }
    }
    return 0;
}

static int decode_doc(dec_t *x, const json_t *doc, fm_histdelta_meta_t *meta, fm_histset_t **out)
{
    const json_t *hists;
    bool seen[NHISTS] = {false};
    int rc;

    if (!json_is_object(doc)) {
        return fail(x, FM_EFORMAT, "not a JSON object");
    }
    if ((rc = decode_meta(x, doc, meta)) < 0) {
        return rc;
    }
    hists = json_object_get(doc, "hists");
    if (!json_is_array(hists)) {
        return fail(x, FM_EFORMAT, "\"hists\" must be an array");
    }
    if (json_array_size(hists) > NHISTS) {
        return fail(x, FM_EFORMAT, "more than %d histograms", NHISTS);
    }
    if (fm_histset_new(meta->bin_exp, out) < 0) {
        return fail(x, FM_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < json_array_size(hists); i++) {
        if ((rc = decode_hist(x, json_array_get(hists, i), i, meta->bin_exp, seen, *out)) < 0) {
            fm_histset_free(*out);
            *out = NULL;
            return rc;
        }
    }
    return 0;
}

int fm_histdelta_decode(const char *buf, size_t len, fm_histdelta_meta_t *meta,
                        fm_histset_t **out, char *err, size_t errlen)
{
    dec_t x = {err, errlen};
    json_error_t jerr;
    json_t *doc;
    int rc;

    *out = NULL;
    memset(meta, 0, sizeof(*meta));
    if (errlen) {
        err[0] = '\0';
    }
    if (len > FM_HISTDELTA_MAX_BYTES) {
        return fail(&x, FM_ELIMIT, "%zu bytes, more than the limit of %u", len,
                    FM_HISTDELTA_MAX_BYTES);
    }
    doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        return fail(&x, FM_EFORMAT, "not JSON: %s (at byte %d)", jerr.text, jerr.position);
    }
    rc = decode_doc(&x, doc, meta, out);
    json_decref(doc);
    return rc;
}
