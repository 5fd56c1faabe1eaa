/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flow-models binary format (FLOW-MODELS-DETAIL §1.2): a directory with one raw native-endian
 * array per field, named `<field>.<code>` (or `_<field>.<code>` as written before mid-2023).
 * The reader memory-maps every column it finds and accepts any Python array code; missing
 * fields read as 0.  The writer always produces the 21 canonical columns, in chunks.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "flowio.h"
#include "flowio_int.h"
#include "log.h"
#include "util/err.h"
#include "util/mem.h"

#define BIN_CHUNK 32768 /* records buffered per column by the writer */
#define BIN_BATCH 256   /* records converted per pass by the reader */

size_t fm_bin_code_size(char code)
{
    switch (code) {
    case 'b':
    case 'B': return 1;
    case 'h':
    case 'H': return 2;
    case 'i':
    case 'I':
    case 'f': return 4;
    case 'l':
    case 'L':
    case 'q':
    case 'Q':
    case 'd': return 8; /* l/L: LP64 Linux, as flow-models writes them there */
    default: return 0;
    }
}

int fm_bin_get(const void *base, char code, size_t i, uint64_t *v)
{
    int64_t s;
    double d;

    switch (code) {
    case 'B': *v = ((const uint8_t *)base)[i]; return 0;
    case 'H': *v = ((const uint16_t *)base)[i]; return 0;
    case 'I': *v = ((const uint32_t *)base)[i]; return 0;
    case 'L':
    case 'Q': *v = ((const uint64_t *)base)[i]; return 0;
    case 'b': s = ((const int8_t *)base)[i]; break;
    case 'h': s = ((const int16_t *)base)[i]; break;
    case 'i': s = ((const int32_t *)base)[i]; break;
    case 'l':
    case 'q': s = ((const int64_t *)base)[i]; break;
    case 'f': d = ((const float *)base)[i]; goto real;
    case 'd': d = ((const double *)base)[i]; goto real;
    default: return FM_EINVAL;
    }
    *v = (uint64_t)s;
    return s < 0 ? FM_ERANGE : 0;
real:
    if (!(d >= 0 && d < 18446744073709551616.0)) {
        *v = 0;
        return FM_ERANGE;
    }
    *v = (uint64_t)d;
    return 0;
}

/* "sa0.I" or "_sa0.I" → field index and code.  @return the field, or -1. */
static int parse_colname(const char *name, char *code)
{
    char buf[32];
    size_t len = strlen(name);

    if (name[0] == '_') {
        name++;
        len--;
    }
    if (len < 3 || len >= sizeof(buf) || name[len - 2] != '.' ||
        fm_bin_code_size(name[len - 1]) == 0) {
        return FM_EINVAL;
    }
    memcpy(buf, name, len - 2);
    buf[len - 2] = '\0';
    *code = name[len - 1];
    return fm_field_parse(buf);
}

bool fm__flowio_is_bindir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    bool found = false;
    char code;

    if (!d) {
        return false;
    }
    while (!found && (e = readdir(d)) != NULL) {
        found = parse_colname(e->d_name, &code) >= 0;
    }
    closedir(d);
    return found;
}

/* ------------------------------------------------------------------------------------------ */
/* Reader                                                                                       */

struct fm__binr {
    char *dir;
    uint32_t fields; /* FM_FIELD_* bits the caller reads; other columns are checked, not mapped */
    const void *col[FM_FIELD_COUNT]; /* NULL: field absent, reads 0 */
    char code[FM_FIELD_COUNT];
    size_t maplen[FM_FIELD_COUNT];
    size_t n, i;
};

/* Check the column's length; map it when the caller wants the field. */
static int map_column(fm__binr_t *b, int field, const char *path, size_t *n)
{
    struct stat st;
    size_t isz = fm_bin_code_size(b->code[field]);
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0 || fstat(fd, &st) < 0) {
        int rc = -errno;
        fm_log_err("flowio, %s: %s", path, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return rc;
    }
    if ((size_t)st.st_size % isz != 0) {
        fm_log_err("flowio, %s: size %lld is not a multiple of %zu", path, (long long)st.st_size,
                   isz);
        close(fd);
        return FM_EFORMAT;
    }
    *n = (size_t)st.st_size / isz;
    if (st.st_size > 0 && (b->fields >> field & 1u)) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            int rc = -errno;
            fm_log_err("flowio, %s: mmap: %s", path, strerror(errno));
            close(fd);
            return rc;
        }
        madvise(p, (size_t)st.st_size, MADV_SEQUENTIAL);
        b->col[field] = p;
        b->maplen[field] = (size_t)st.st_size;
    }
    close(fd);
    return 0;
}

static int bin_scan(fm__binr_t *b, DIR *d)
{
    struct dirent *e;
    bool have[FM_FIELD_COUNT] = {false};
    bool any = false;
    char code;

    while ((e = readdir(d)) != NULL) {
        int f = parse_colname(e->d_name, &code);
        if (f < 0) {
            continue;
        }
        if (have[f]) {
            fm_log_err("flowio, %s: more than one file for field %s", b->dir, fm_field_name(f));
            return FM_EFORMAT;
        }
        size_t len = strlen(b->dir) + strlen(e->d_name) + 2, n = 0;
        char *path = fm_xmalloc(len);
        snprintf(path, len, "%s/%s", b->dir, e->d_name);
        b->code[f] = code;
        int rc = map_column(b, f, path, &n);
        if (rc == 0 && any && n != b->n) {
            fm_log_err("flowio, %s: %zu records, other columns have %zu", path, n, b->n);
            rc = FM_EFORMAT;
        }
        free(path);
        if (rc < 0) {
            return rc;
        }
        have[f] = any = true;
        b->n = n;
    }
    if (!any) {
        fm_log_err("flowio, %s: no flow field files (<field>.<code>) in this directory", b->dir);
        return FM_EFORMAT;
    }
    return 0;
}

void fm__binr_close(fm__binr_t *b)
{
    if (!b) {
        return;
    }
    for (int f = 0; f < FM_FIELD_COUNT; f++) {
        if (b->col[f]) {
            munmap((void *)b->col[f], b->maplen[f]);
        }
    }
    free(b->dir);
    free(b);
}

int fm__binr_open(const char *dir, uint32_t fields, fm__binr_t **out)
{
    fm__binr_t *b = fm_xcalloc(1, sizeof(*b));
    DIR *d = opendir(dir);
    int rc;

    b->dir = fm_xstrdup(dir);
    b->fields = fields;
    if (!d) {
        rc = -errno;
        fm_log_err("flowio, %s: %s", dir, strerror(errno));
        fm__binr_close(b);
        return rc;
    }
    rc = bin_scan(b, d);
    closedir(d);
    if (rc < 0) {
        fm__binr_close(b);
        return rc;
    }
    *out = b;
    return 0;
}

/* One column into the tuples of m records starting at record i. */
static int load_column(const fm__binr_t *b, int f, size_t i, size_t m, uint64_t (*t)[FM_FIELD_COUNT])
{
    const void *c = b->col[f];

    switch (b->code[f]) { /* the common canonical codes get a tight loop */
    case 'B': for (size_t k = 0; k < m; k++) t[k][f] = ((const uint8_t *)c)[i + k]; return 0;
    case 'H': for (size_t k = 0; k < m; k++) t[k][f] = ((const uint16_t *)c)[i + k]; return 0;
    case 'I': for (size_t k = 0; k < m; k++) t[k][f] = ((const uint32_t *)c)[i + k]; return 0;
    case 'Q': for (size_t k = 0; k < m; k++) t[k][f] = ((const uint64_t *)c)[i + k]; return 0;
    default: break;
    }
    for (size_t k = 0; k < m; k++) {
        if (fm_bin_get(c, b->code[f], i + k, &t[k][f]) < 0) {
            fm_log_err("flowio, %s: record %zu: %s.%c value out of range", b->dir, i + k,
                       fm_field_name(f), b->code[f]);
            return FM_ERANGE;
        }
    }
    return 0;
}

long fm__binr_read(fm__binr_t *b, fm_flow_t *flows, size_t max)
{
    uint64_t t[BIN_BATCH][FM_FIELD_COUNT];
    size_t done = 0;

    while (done < max && b->i < b->n) {
        size_t m = b->n - b->i;
        m = m < max - done ? m : max - done;
        m = m < BIN_BATCH ? m : BIN_BATCH;
        for (int f = 0; f < FM_FIELD_COUNT; f++) {
            if (!b->col[f]) {
                for (size_t k = 0; k < m; k++) {
                    t[k][f] = 0;
                }
            } else if (load_column(b, f, b->i, m, t) < 0) {
                return FM_ERANGE;
            }
        }
        for (size_t k = 0; k < m; k++) {
            int bad;
            if (fm_flow_from_tuple(t[k], &flows[done + k], &bad) < 0) {
                fm_log_err("flowio, %s: record %zu: %s out of range", b->dir, b->i + k,
                           fm_field_name(bad));
                return FM_ERANGE;
            }
        }
        b->i += m;
        done += m;
    }
    return (long)done;
}

/* One column into out[0..m) from record i, range-checked as fm_flow_from_tuple checks it. */
static int load_flat(const fm__binr_t *b, int f, size_t i, size_t m, uint64_t *out)
{
    const void *c = b->col[f];
    uint64_t max = fm__field_max(f), over = 0;
    size_t k = 0;

    switch (b->code[f]) { /* canonical codes: loops the compiler vectorises */
    case 'B': for (; k < m; k++) out[k] = ((const uint8_t *)c)[i + k]; break;
    case 'H': for (; k < m; k++) out[k] = ((const uint16_t *)c)[i + k]; break;
    case 'I': for (; k < m; k++) out[k] = ((const uint32_t *)c)[i + k]; break;
    case 'Q': memcpy(out, (const uint64_t *)c + i, m * sizeof(uint64_t)); break;
    default:
        for (; k < m; k++) {
            if (fm_bin_get(c, b->code[f], i + k, &out[k]) < 0) {
                goto bad;
            }
        }
        break;
    }
    if (max != UINT64_MAX) {
        for (k = 0; k < m; k++) {
            over |= out[k] > max;
        }
        for (k = 0; over && k < m; k++) {
            if (out[k] > max) {
                goto bad;
            }
        }
    }
    return 0;
bad:
    fm_log_err("flowio, %s: record %zu: %s.%c value out of range", b->dir, i + k,
               fm_field_name(f), b->code[f]);
    return FM_ERANGE;
}

long fm__binr_read_cols(fm__binr_t *b, uint64_t *const scratch[FM_FIELD_COUNT],
                        const uint64_t *cols[FM_FIELD_COUNT], size_t max)
{
    size_t m = b->n - b->i < max ? b->n - b->i : max;

    for (int f = 0; f < FM_FIELD_COUNT && m > 0; f++) {
        if (!(b->fields >> f & 1u) || !scratch[f]) {
            continue;
        }
        cols[f] = scratch[f];
        if (!b->col[f]) {
            memset(scratch[f], 0, m * sizeof(uint64_t));
        } else if (b->code[f] == 'Q' && fm__field_max(f) == UINT64_MAX) {
            cols[f] = (const uint64_t *)b->col[f] + b->i; /* no copy: the map itself */
        } else if (load_flat(b, f, b->i, m, scratch[f]) < 0) {
            return FM_ERANGE;
        }
    }
    b->i += m;
    return (long)m;
}

size_t fm__binr_count(const fm__binr_t *b)
{
    return b->n;
}

/* ------------------------------------------------------------------------------------------ */
/* Writer                                                                                       */

struct fm__binw {
    char *dir;
    int fd[FM_FIELD_COUNT];
    void *buf[FM_FIELD_COUNT];
    size_t n;     /* records buffered */
    uint64_t rec; /* records written before the buffer */
    int err;
};

/* Remove stale columns of a field under any code or spelling so the reader sees one file. */
static int remove_stale(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char code;

    if (!d) {
        return -errno;
    }
    while ((e = readdir(d)) != NULL) {
        if (parse_colname(e->d_name, &code) >= 0) {
            char path[4096];
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            if (unlink(path) < 0 && errno != ENOENT) {
                int rc = -errno;
                closedir(d);
                return rc;
            }
        }
    }
    closedir(d);
    return 0;
}

int fm__binw_open(const char *dir, fm__binw_t **out)
{
    fm__binw_t *w = fm_xcalloc(1, sizeof(*w));
    int rc;

    w->dir = fm_xstrdup(dir);
    for (int f = 0; f < FM_FIELD_COUNT; f++) {
        w->fd[f] = -1;
    }
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        rc = -errno;
        fm_log_err("flowio, %s: cannot create directory: %s", dir, strerror(errno));
        goto fail;
    }
    if ((rc = remove_stale(dir)) < 0) {
        fm_log_err("flowio, %s: %s", dir, fm_strerror(rc));
        goto fail;
    }
    for (int f = 0; f < FM_FIELD_COUNT; f++) {
        char path[4096];
        snprintf(path, sizeof(path), "%s/%s.%c", dir, fm_field_name(f), fm_field_code(f));
        if ((w->fd[f] = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
            rc = -errno;
            fm_log_err("flowio, %s: %s", path, strerror(errno));
            goto fail;
        }
        w->buf[f] = fm_xmalloc(BIN_CHUNK * fm_bin_code_size(fm_field_code(f)));
    }
    *out = w;
    return 0;
fail:
    w->err = rc;
    fm__binw_close(w);
    return rc;
}

static int binw_flush(fm__binw_t *w)
{
    for (int f = 0; f < FM_FIELD_COUNT && w->err == 0 && w->n > 0; f++) {
        const char *p = w->buf[f];
        size_t left = w->n * fm_bin_code_size(fm_field_code(f));
        while (left > 0) {
            ssize_t k = write(w->fd[f], p, left);
            if (k < 0 && errno == EINTR) {
                continue;
            }
            if (k < 0) {
                w->err = -errno;
                fm_log_err("flowio, %s: write %s: %s", w->dir, fm_field_name(f), strerror(errno));
                break;
            }
            p += k;
            left -= (size_t)k;
        }
    }
    w->rec += w->n;
    w->n = 0;
    return w->err;
}

/* Check and store column f of m tuples at buffer position w->n. */
static int binw_column(fm__binw_t *w, int f, uint64_t (*t)[FM_FIELD_COUNT], size_t m)
{
    static const uint64_t limit[] = {['B'] = UINT8_MAX, ['H'] = UINT16_MAX, ['I'] = UINT32_MAX,
                                     ['Q'] = UINT64_MAX};
    char c = fm_field_code(f);
    uint64_t lim = limit[(unsigned char)c], over = 0;
    void *buf = w->buf[f];

    for (size_t k = 0; k < m; k++) {
        over |= t[k][f] > lim;
    }
    for (size_t k = 0; over && k < m; k++) {
        if (t[k][f] > lim) {
            fm_log_err("flowio, %s: record %llu: %s = %llu does not fit type '%c'", w->dir,
                       (unsigned long long)(w->rec + w->n + k), fm_field_name(f),
                       (unsigned long long)t[k][f], c);
            return w->err = FM_ERANGE;
        }
    }
    switch (c) {
    case 'B': for (size_t k = 0; k < m; k++) ((uint8_t *)buf)[w->n + k] = (uint8_t)t[k][f]; break;
    case 'H':
        for (size_t k = 0; k < m; k++) {
            ((uint16_t *)buf)[w->n + k] = (uint16_t)t[k][f];
        }
        break;
    case 'I':
        for (size_t k = 0; k < m; k++) {
            ((uint32_t *)buf)[w->n + k] = (uint32_t)t[k][f];
        }
        break;
    default: for (size_t k = 0; k < m; k++) ((uint64_t *)buf)[w->n + k] = t[k][f]; break;
    }
    return 0;
}

int fm__binw_write(fm__binw_t *w, const fm_flow_t *flows, size_t n)
{
    uint64_t t[BIN_BATCH][FM_FIELD_COUNT];

    /* Tuples of a batch, then column by column: a record that does not fit stops the write
     * before any column of its batch is stored, as a row-by-row check would. */
    for (size_t i = 0; i < n && w->err == 0;) {
        size_t m = n - i < BIN_BATCH ? n - i : BIN_BATCH;
        m = m < BIN_CHUNK - w->n ? m : BIN_CHUNK - w->n;
        for (size_t k = 0; k < m; k++) {
            fm_flow_to_tuple(&flows[i + k], t[k]);
        }
        for (int f = 0; f < FM_FIELD_COUNT; f++) {
            if (binw_column(w, f, t, m) < 0) {
                return w->err;
            }
        }
        w->n += m;
        i += m;
        if (w->n == BIN_CHUNK) {
            binw_flush(w);
        }
    }
    return w->err;
}

int fm__binw_close(fm__binw_t *w)
{
    int rc;

    if (!w) {
        return 0;
    }
    rc = binw_flush(w);
    for (int f = 0; f < FM_FIELD_COUNT; f++) {
        if (w->fd[f] >= 0 && close(w->fd[f]) < 0 && rc == 0) {
            rc = -errno;
            fm_log_err("flowio, %s: close %s: %s", w->dir, fm_field_name(f), strerror(errno));
        }
        free(w->buf[f]);
    }
    free(w->dir);
    free(w);
    return rc;
}
