/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow file readers and writers (FLOW-MODELS-DETAIL §1).  This file holds the text formats (csv_flow, pipe, ftcsv), nfcapd input through the nfdump program and
 * the dispatch to the columnar binary format in flowio_binary.c.  Text input is read through one
 * large buffer and parsed with hand-written integer scanners, so a reader costs about one pass
 * over the bytes; record selection (skip/count/filter) is left to the callers.
 */
#include "config.h"

#include "flowio.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "flowio_int.h"
#include "log.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/progress.h"

extern char **environ;

#define LINEBUF_SIZE (1u << 20) /* read size; also the longest accepted line */
#define OUTBUF_SIZE (1u << 20)

/* ------------------------------------------------------------------------------------------ */
/* Format names                                                                                 */

static const char *const format_names[] = {"auto", "csv_flow", "pipe", "nfcapd", "binary",
                                           "ftcsv"};

int fm_format_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (strcmp(name, format_names[i]) == 0) {
            return (int)i;
        }
    }
    return FM_EINVAL;
}

const char *fm_format_name(fm_format_t f)
{
    return (unsigned)f < sizeof(format_names) / sizeof(format_names[0]) ? format_names[f] : "?";
}

/* ------------------------------------------------------------------------------------------ */
/* Buffered line input                                                                          */

typedef struct {
    int fd;
    pid_t child; /* nfdump, or 0 */
    char *buf;
    size_t beg, end;
    bool eof;
} linebuf_t;

/* Top up the buffer.  @return bytes added, 0 at end of input, negative on error. */
static ssize_t lb_fill(linebuf_t *lb)
{
    if (lb->beg > 0) {
        memmove(lb->buf, lb->buf + lb->beg, lb->end - lb->beg);
        lb->end -= lb->beg;
        lb->beg = 0;
    }
    while (lb->end < LINEBUF_SIZE) {
        ssize_t n = read(lb->fd, lb->buf + lb->end, LINEBUF_SIZE - lb->end);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        if (n == 0) {
            lb->eof = true;
        }
        lb->end += (size_t)n;
        return n;
    }
    return FM_ELIMIT;
}

/* Next line without its newline, NUL-terminated in place.
 * @return 1 with *line set, 0 at end, FM_ELIMIT for an over-long line, or -errno. */
static int lb_line(linebuf_t *lb, char **line)
{
    for (;;) {
        char *s = lb->buf + lb->beg;
        char *nl = memchr(s, '\n', lb->end - lb->beg);
        if (nl) {
            *nl = '\0';
            lb->beg = (size_t)(nl - lb->buf) + 1;
            *line = s;
            return 1;
        }
        if (lb->eof) {
            if (lb->beg == lb->end) {
                return 0;
            }
            /* A last line without a newline: terminate it in the spare byte. */
            lb->buf[lb->end] = '\0';
            *line = s;
            lb->beg = lb->end;
            return 1;
        }
        ssize_t n = lb_fill(lb);
        if (n < 0) {
            return (int)n;
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Input lists: directories expand to their regular files, recursively, sorted (DETAIL §1.8).   */

typedef struct {
    char **v;
    size_t n, cap;
} strlist_t;

static void sl_push(strlist_t *l, char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = fm_xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int expand_dir(const char *dir, strlist_t *out)
{
    DIR *d = opendir(dir);
    strlist_t here = {0};
    struct dirent *e;
    int rc = 0;

    if (!d) {
        fm_log_err("flowio, %s: %s", dir, strerror(errno));
        return -errno;
    }
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            continue;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        char *p = fm_xmalloc(len);
        snprintf(p, len, "%s/%s", dir, e->d_name);
        sl_push(&here, p);
    }
    closedir(d);
    /* Sorting full paths of one directory level at a time gives the global sorted path order
     * because all of them share the same prefix. */
    qsort(here.v, here.n, sizeof(*here.v), cmp_str);
    for (size_t i = 0; i < here.n; i++) {
        struct stat st;
        bool ok = rc == 0 && stat(here.v[i], &st) == 0;
        if (ok && S_ISDIR(st.st_mode)) {
            rc = expand_dir(here.v[i], out);
            free(here.v[i]);
        } else if (ok && S_ISREG(st.st_mode)) {
            sl_push(out, here.v[i]);
        } else {
            free(here.v[i]);
        }
    }
    free(here.v);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Readers                                                                                      */

enum { FT_START, FT_DUR, FT_PROTO, FT_SRC, FT_DST, FT_SP, FT_DP, FT_PKTS, FT_BYTES, FT_NCOL };
static const char *const ft_cols[FT_NCOL] = {"START_TIME", "DURATION", "PROTO",
                                             "SRC_IP",     "DST_IP",   "SRC_PORT",
                                             "DST_PORT",   "PACKETS",  "BYTES"};
#define FT_MAXCOL 64

struct fm_reader {
    fm_format_t req;    /* as asked for (may be AUTO) */
    fm_format_t fmt;    /* of the current file */
    strlist_t files;    /* inputs still to open, in order */
    size_t next;        /* index into files */
    const char *cur;    /* current file name, for messages */
    uint64_t line;
    bool open;
    linebuf_t lb;
    int ft_idx[FT_NCOL]; /* column of each ftcsv field */
    int ft_ncols;
    bool ft_header;
    fm__binr_t *bin;
    fm_progress_t prog; /* stderr progress line (only when enabled, see util/progress.h) */
};

static int spawn_nfdump(fm_reader_t *r, const char *path)
{
    int pfd[2];
    posix_spawn_file_actions_t fa;
    char *argv[] = {"nfdump", "-r", (char *)path, "-q", "-o", "pipe", NULL};
    pid_t pid;
    int rc;

    if (pipe2(pfd, O_CLOEXEC) < 0) {
        return -errno;
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
    rc = posix_spawnp(&pid, "nfdump", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[1]);
    if (rc != 0) {
        close(pfd[0]);
        if (rc == ENOENT) {
            fm_log_err("flowio, %s: nfdump not found in PATH; install nfdump (1.6 or 1.7) to "
                       "read nfcapd files",
                       path);
        } else {
            fm_log_err("flowio, %s: cannot run nfdump: %s", path, strerror(rc));
        }
        return -rc;
    }
    r->lb.fd = pfd[0];
    r->lb.child = pid;
    return 0;
}

/* Reap nfdump; a non-zero exit status is an error (DETAIL §1.5). */
static int reap_child(fm_reader_t *r, bool report)
{
    int st;
    pid_t c = r->lb.child;

    r->lb.child = 0;
    if (c <= 0) {
        return 0;
    }
    while (waitpid(c, &st, 0) < 0) {
        if (errno != EINTR) {
            return -errno;
        }
    }
    if (report && !(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        fm_log_err("flowio, %s: nfdump failed (%s %d)", r->cur,
                   WIFEXITED(st) ? "exit status" : "signal",
                   WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
        return FM_EFORMAT;
    }
    return 0;
}

static void close_current(fm_reader_t *r, bool report, int *rc)
{
    if (!r->open) {
        return;
    }
    if (r->bin) {
        fm__binr_close(r->bin);
        r->bin = NULL;
    }
    if (r->lb.fd > STDIN_FILENO) {
        close(r->lb.fd);
    }
    r->lb.fd = -1;
    int crc = reap_child(r, report);
    if (rc && *rc >= 0 && crc < 0) {
        *rc = crc;
    }
    r->open = false;
}

/* Guess the format of a text or nfcapd file from its first bytes (buffer already filled). */
static fm_format_t sniff(linebuf_t *lb)
{
    const unsigned char *s = (const unsigned char *)lb->buf + lb->beg;
    size_t n = lb->end - lb->beg;

    /* nfdump files start with the 16-bit magic 0xA50C in host (little-endian) order. */
    if (n >= 2 && s[0] == 0x0C && s[1] == 0xA5) {
        return FM_FMT_NFCAPD;
    }
    size_t i = 0;
    while (i < n && s[i] == '#') { /* ftcsv comment lines */
        const unsigned char *nl = memchr(s + i, '\n', n - i);
        i = nl ? (size_t)(nl - s) + 1 : n;
    }
    const unsigned char *nl = memchr(s + i, '\n', n - i);
    size_t len = nl ? (size_t)(nl - (s + i)) : n - i;
    if (len >= 10 && memcmp(s + i, "START_TIME", 10) == 0) {
        return FM_FMT_FTCSV;
    }
    if (memchr(s + i, '|', len)) {
        return FM_FMT_PIPE;
    }
    if (memchr(s + i, ',', len)) {
        return FM_FMT_CSV_FLOW;
    }
    return FM_FMT_AUTO;
}

static int open_text(fm_reader_t *r, const char *path)
{
    if (strcmp(path, "-") == 0) {
        r->lb.fd = STDIN_FILENO;
    } else if ((r->lb.fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        fm_log_err("flowio, %s: %s", path, strerror(errno));
        return -errno;
    }
    r->lb.beg = r->lb.end = 0;
    r->lb.eof = false;
    if (r->fmt != FM_FMT_AUTO) {
        return 0;
    }
    ssize_t n = lb_fill(&r->lb);
    if (n < 0) {
        fm_log_err("flowio, %s: %s", path, fm_strerror((int)n));
        return (int)n;
    }
    r->fmt = sniff(&r->lb);
    if (r->fmt == FM_FMT_NFCAPD) {
        if (r->lb.fd > STDIN_FILENO) {
            close(r->lb.fd);
        }
        r->lb.fd = -1;
        r->lb.beg = r->lb.end = 0; /* drop the sniffed bytes: nfdump's output replaces them */
        r->lb.eof = false;
        if (strcmp(path, "-") == 0) {
            fm_log_err("flowio, -: nfcapd input cannot be read from stdin");
            return FM_EINVAL;
        }
        return spawn_nfdump(r, path);
    }
    if (r->fmt == FM_FMT_AUTO && r->lb.end > 0) {
        fm_log_err("flowio, %s: cannot guess the format; give it with -i", path);
        return FM_EFORMAT;
    }
    if (r->fmt == FM_FMT_AUTO) {
        r->fmt = FM_FMT_CSV_FLOW; /* empty input: any text format reads no records */
    }
    return 0;
}

/* Open the next input file.  @return 1 opened, 0 no more files, negative on error. */
static int open_next(fm_reader_t *r)
{
    if (r->next >= r->files.n) {
        return 0;
    }
    const char *path = r->files.v[r->next++];
    int rc;

    r->cur = path;
    r->prog.what = path;
    r->line = 0;
    r->ft_header = false;
    r->fmt = r->req;
    r->lb.child = 0;
    r->lb.beg = r->lb.end = 0;
    r->lb.eof = false;
    if (r->fmt == FM_FMT_AUTO && strcmp(path, "-") != 0) {
        struct stat st;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
            r->fmt = FM_FMT_BINARY;
        }
    }
    if (r->fmt == FM_FMT_BINARY) {
        rc = fm__binr_open(path, FM__ALL_FIELDS, &r->bin);
    } else if (r->fmt == FM_FMT_NFCAPD) {
        rc = strcmp(path, "-") == 0 ? FM_EINVAL : spawn_nfdump(r, path);
        if (rc == FM_EINVAL) {
            fm_log_err("flowio, -: nfcapd input cannot be read from stdin");
        }
    } else {
        rc = open_text(r, path);
    }
    if (rc < 0) {
        if (r->lb.fd > STDIN_FILENO) {
            close(r->lb.fd);
        }
        r->lb.fd = -1;
        reap_child(r, false);
        return rc;
    }
    r->open = true;
    return 1;
}

int fm_reader_open(const char *path, fm_format_t fmt, fm_reader_t **out)
{
    struct stat st;
    fm_reader_t *r;
    int rc;

    if (!path || !out || (unsigned)fmt > FM_FMT_FTCSV) {
        return FM_EINVAL;
    }
    r = fm_xcalloc(1, sizeof(*r));
    fm_progress_start(&r->prog, path);
    r->req = fmt;
    r->lb.fd = -1;
    r->lb.buf = fm_xmalloc(LINEBUF_SIZE + 1);
    if (strcmp(path, "-") == 0) {
        if (fmt == FM_FMT_BINARY) {
            fm_log_err("flowio, -: binary input must be a directory");
            rc = FM_EINVAL;
            goto fail;
        }
        sl_push(&r->files, fm_xstrdup(path));
    } else if (stat(path, &st) < 0) {
        fm_log_err("flowio, %s: %s", path, strerror(errno));
        rc = -errno;
        goto fail;
    } else if (S_ISDIR(st.st_mode) && fmt != FM_FMT_BINARY &&
               !(fmt == FM_FMT_AUTO && fm__flowio_is_bindir(path))) {
        if ((rc = expand_dir(path, &r->files)) < 0) {
            goto fail;
        }
    } else {
        sl_push(&r->files, fm_xstrdup(path));
    }
    if ((rc = open_next(r)) < 0) {
        goto fail;
    }
    *out = r;
    return 0;
fail:
    fm_reader_close(r);
    return rc;
}

void fm_reader_close(fm_reader_t *r)
{
    if (!r) {
        return;
    }
    if (r->open && r->lb.child > 0) {
        kill(r->lb.child, SIGTERM); /* closed early: nfdump may block on a full pipe */
    }
    close_current(r, false, NULL);
    fm_progress_done(&r->prog);
    for (size_t i = 0; i < r->files.n; i++) {
        free(r->files.v[i]);
    }
    free(r->files.v);
    free(r->lb.buf);
    free(r);
}

/* ------------------------------------------------------------------------------------------ */
/* Line parsers.  Each returns 1 for a record, 0 for a line without one (comment, header, blank)
 * and a negative code for a malformed line, with *why set.                                       */

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* Decimal unsigned integer with surrounding blanks, as Python's int() accepts them (an
 * optional '+' too).  Advances *sp past the number and trailing blanks. */
static inline int scan_u64(char **sp, uint64_t *v, const char **why)
{
    char *s = *sp;
    uint64_t x = 0;

    while (is_blank(*s)) {
        s++;
    }
    if (*s == '+') {
        s++;
    }
    if ((unsigned)(*s - '0') > 9) {
        *why = *s == '-' ? "negative value" : "expected an integer";
        return FM_EFORMAT;
    }
    do {
        unsigned d = (unsigned)(*s - '0');
        if (x > (UINT64_MAX - d) / 10) {
            *why = "integer too large";
            return FM_ERANGE;
        }
        x = x * 10 + d;
        s++;
    } while ((unsigned)(*s - '0') <= 9);
    while (is_blank(*s)) {
        s++;
    }
    *v = x;
    *sp = s;
    return 0;
}

/* n integers separated by sep, nothing after the last. */
static int scan_fields(char *s, char sep, uint64_t *v, int n, const char **why)
{
    for (int i = 0; i < n; i++) {
        int rc = scan_u64(&s, &v[i], why);
        if (rc < 0) {
            return rc;
        }
        if (i + 1 < n) {
            if (*s != sep) {
                *why = *s ? "bad separator" : "too few fields";
                return FM_EFORMAT;
            }
            s++;
        }
    }
    if (*s != '\0') {
        *why = *s == sep ? "too many fields" : "trailing characters";
        return FM_EFORMAT;
    }
    return 0;
}

static bool line_is_blank(const char *s)
{
    while (is_blank(*s)) {
        s++;
    }
    return *s == '\0';
}

static int tuple_to_flow(const uint64_t *t, fm_flow_t *f, const char **why)
{
    static char msg[64];
    int bad;

    if (fm_flow_from_tuple(t, f, &bad) < 0) {
        snprintf(msg, sizeof(msg), "%s out of range", fm_field_name(bad));
        *why = msg;
        return FM_ERANGE;
    }
    return 1;
}

static int parse_csv_flow(char *s, fm_flow_t *f, const char **why)
{
    uint64_t t[FM_FIELD_COUNT];
    int rc;

    if (line_is_blank(s)) {
        return 0;
    }
    if ((rc = scan_fields(s, ',', t, FM_FIELD_COUNT, why)) < 0) {
        return rc;
    }
    return tuple_to_flow(t, f, why);
}

/* nfdump -o pipe: af|first|last|prot|sa0..3|sp|da0..3|dp|srcas|dstas|inif|outif|flags|tos|
 * packets|octets, first/last in epoch ms.  aggs is 0 as in flow-models (DETAIL §1.5). */
static int parse_pipe(char *s, fm_flow_t *f, const char **why)
{
    uint64_t p[22], t[FM_FIELD_COUNT];
    int rc;

    if (line_is_blank(s)) {
        return 0;
    }
    if ((rc = scan_fields(s, '|', p, 22, why)) < 0) {
        return rc;
    }
    if (p[18] > UINT8_MAX) {
        *why = "tcp_flags out of range";
        return FM_ERANGE;
    }
    t[FM_FIELD_AF] = p[0];
    t[FM_FIELD_FIRST] = p[1] / 1000;
    t[FM_FIELD_FIRST_MS] = p[1] % 1000;
    t[FM_FIELD_LAST] = p[2] / 1000;
    t[FM_FIELD_LAST_MS] = p[2] % 1000;
    t[FM_FIELD_PROT] = p[3];
    memcpy(&t[FM_FIELD_SA0], &p[4], 4 * sizeof(uint64_t));
    t[FM_FIELD_SP] = p[8];
    memcpy(&t[FM_FIELD_DA0], &p[9], 4 * sizeof(uint64_t));
    t[FM_FIELD_DP] = p[13];
    t[FM_FIELD_INIF] = p[16];
    t[FM_FIELD_OUTIF] = p[17];
    t[FM_FIELD_PACKETS] = p[20];
    t[FM_FIELD_OCTETS] = p[21];
    t[FM_FIELD_AGGS] = 0;
    if ((rc = tuple_to_flow(t, f, why)) == 1) {
        f->tcp_flags = (uint8_t)p[18];
    }
    return rc;
}

/* "1653637473.475" (seconds, optional fraction) → epoch ms, from the decimal text so no binary
 * floating-point rounding is involved; digits past the millisecond are truncated. */
static int scan_seconds_ms(char *s, uint64_t *ms, const char **why)
{
    uint64_t sec;
    char *p = s;
    uint64_t frac = 0;
    int digits = 0;

    if (scan_u64(&p, &sec, why) < 0 || sec > UINT64_MAX / 1000 - 1) {
        *why = "bad time value";
        return FM_EFORMAT;
    }
    if (*p == '.') {
        p++;
        while ((unsigned)(*p - '0') <= 9) {
            if (digits < 3) {
                frac = frac * 10 + (uint64_t)(*p - '0');
                digits++;
            }
            p++;
        }
    }
    for (; digits < 3; digits++) {
        frac *= 10;
    }
    while (is_blank(*p)) {
        p++;
    }
    if (*p != '\0') {
        *why = "bad time value";
        return FM_EFORMAT;
    }
    *ms = sec * 1000 + frac;
    return 0;
}

/* Split a CSV line on ',' (ft-profiler files have no quoting).  @return the column count. */
static int split_csv(char *s, char **col, int max)
{
    int n = 0;

    col[n++] = s;
    for (; *s; s++) {
        if (*s == ',') {
            *s = '\0';
            if (n == max) {
                return max + 1;
            }
            col[n++] = s + 1;
        }
    }
    return n;
}

static int parse_ft_header(fm_reader_t *r, char *s, const char **why)
{
    static char msg[64];
    char *col[FT_MAXCOL];
    int n = split_csv(s, col, FT_MAXCOL);

    for (int k = 0; k < FT_NCOL; k++) {
        r->ft_idx[k] = -1;
        for (int i = 0; i < n && i < FT_MAXCOL; i++) {
            char *c = col[i];
            size_t len = strlen(c);
            while (len > 0 && is_blank(c[len - 1])) {
                c[--len] = '\0';
            }
            if (strcmp(c, ft_cols[k]) == 0) {
                r->ft_idx[k] = i;
            }
        }
        if (r->ft_idx[k] < 0) {
            snprintf(msg, sizeof(msg), "header has no %s column", ft_cols[k]);
            *why = msg;
            return FM_EFORMAT;
        }
    }
    r->ft_ncols = n;
    r->ft_header = true;
    return 0;
}

/* ft-profiler input CSV: header with named columns, '#' comment lines. */
static int parse_ftcsv(fm_reader_t *r, char *s, fm_flow_t *f, const char **why)
{
    char *col[FT_MAXCOL];
    uint64_t start, dur, v[5];
    uint8_t af2;
    int rc;

    if (s[0] == '#' || line_is_blank(s)) {
        return 0;
    }
    if (!r->ft_header) {
        return parse_ft_header(r, s, why) < 0 ? FM_EFORMAT : 0;
    }
    if (split_csv(s, col, FT_MAXCOL) != r->ft_ncols) {
        *why = "column count differs from the header";
        return FM_EFORMAT;
    }
    if ((rc = scan_seconds_ms(col[r->ft_idx[FT_START]], &start, why)) < 0 ||
        (rc = scan_seconds_ms(col[r->ft_idx[FT_DUR]], &dur, why)) < 0) {
        return rc;
    }
    static const int ints[5] = {FT_PROTO, FT_SP, FT_DP, FT_PKTS, FT_BYTES};
    for (int i = 0; i < 5; i++) {
        char *p = col[r->ft_idx[ints[i]]];
        if ((rc = scan_u64(&p, &v[i], why)) < 0 || *p != '\0') {
            *why = rc < 0 ? *why : "trailing characters";
            return FM_EFORMAT;
        }
    }
    if (v[0] > UINT8_MAX || v[1] > UINT16_MAX || v[2] > UINT16_MAX || dur > UINT64_MAX - start) {
        *why = "value out of range";
        return FM_ERANGE;
    }
    memset(f, 0, sizeof(*f));
    if (fm_flow_addr_parse(col[r->ft_idx[FT_SRC]], f->src, &f->af) < 0 ||
        fm_flow_addr_parse(col[r->ft_idx[FT_DST]], f->dst, &af2) < 0) {
        *why = "bad IP address";
        return FM_EFORMAT;
    }
    f->first_ms = start;
    f->last_ms = start + dur;
    f->proto = (uint8_t)v[0];
    f->sport = (uint16_t)v[1];
    f->dport = (uint16_t)v[2];
    f->packets = v[3];
    f->octets = v[4];
    f->records = 1;
    f->sampling = 1;
    f->fwd_first = 1;
    return 1;
}

static int parse_line(fm_reader_t *r, char *s, fm_flow_t *f, const char **why)
{
    switch (r->fmt) {
    case FM_FMT_CSV_FLOW: return parse_csv_flow(s, f, why);
    case FM_FMT_PIPE:
    case FM_FMT_NFCAPD: return parse_pipe(s, f, why);
    case FM_FMT_FTCSV: return parse_ftcsv(r, s, f, why);
    default: *why = "unsupported format"; return FM_EINVAL;
    }
}

/* Read text records into flows[0..max).  @return count (0 = this file is done) or negative. */
static long read_text(fm_reader_t *r, fm_flow_t *flows, size_t max)
{
    size_t n = 0;

    while (n < max) {
        char *line = NULL;
        const char *why = NULL;
        int rc = lb_line(&r->lb, &line);
        if (rc == 0) {
            break;
        }
        if (rc < 0) {
            fm_log_err("flowio, %s:%llu: %s", r->cur, (unsigned long long)r->line + 1,
                       rc == FM_ELIMIT ? "line too long" : fm_strerror(rc));
            return rc;
        }
        r->line++;
        rc = parse_line(r, line, &flows[n], &why);
        if (rc < 0 && r->fmt == FM_FMT_FTCSV && r->ft_header) {
            /* ft-profiler logs and skips rows it cannot convert; so do we. */
            fm_log_warn("flowio, %s:%llu: %s, row skipped", r->cur,
                        (unsigned long long)r->line, why);
            continue;
        }
        if (rc < 0) {
            fm_log_err("flowio, %s:%llu: %s", r->cur, (unsigned long long)r->line, why);
            return rc;
        }
        n += (size_t)rc;
    }
    return (long)n;
}

long fm_reader_read(fm_reader_t *r, fm_flow_t *flows, size_t max)
{
    if (!r || !flows) {
        return FM_EINVAL;
    }
    while (r->open && max > 0) {
        long n = r->bin ? fm__binr_read(r->bin, flows, max) : read_text(r, flows, max);
        if (n > 0) {
            fm_progress_add(&r->prog, (uint64_t)n);
        }
        if (n != 0) {
            return n;
        }
        int rc = 0;
        close_current(r, true, &rc);
        if (rc < 0) {
            return rc;
        }
        if ((rc = open_next(r)) < 0) {
            return rc;
        }
    }
    return 0;
}

int fm_reader_next(fm_reader_t *r, fm_flow_t *flow)
{
    return (int)fm_reader_read(r, flow, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Writers                                                                                      */

struct fm_writer {
    fm_format_t fmt;
    char *path;
    int fd;
    char *buf;
    size_t len;
    int err;
    fm__binw_t *bin;
};

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0) {
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int out_flush(fm_writer_t *w)
{
    if (w->err == 0 && w->len > 0) {
        w->err = write_all(w->fd, w->buf, w->len);
        if (w->err < 0) {
            fm_log_err("flowio, %s: write failed: %s", w->path, fm_strerror(w->err));
        }
    }
    w->len = 0;
    return w->err;
}

/* Decimal digits of v, written backwards from end.  @return the start. */
static inline char *fmt_u64(char *end, uint64_t v)
{
    do {
        *--end = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return end;
}

static inline char *put_u64(char *p, uint64_t v)
{
    char tmp[20];
    char *s = fmt_u64(tmp + sizeof(tmp), v);
    size_t n = (size_t)(tmp + sizeof(tmp) - s);
    memcpy(p, s, n);
    return p + n;
}

static char *put_csv_flow(char *p, const fm_flow_t *f)
{
    uint64_t t[FM_FIELD_COUNT];

    fm_flow_to_tuple(f, t);
    for (int i = 0; i < FM_FIELD_COUNT; i++) {
        p = put_u64(p, t[i]);
        if (i + 1 < FM_FIELD_COUNT) {
            *p++ = ',';
            *p++ = ' ';
        }
    }
    *p++ = '\n';
    return p;
}

static char *put_pipe(char *p, const fm_flow_t *f)
{
    uint64_t t[FM_FIELD_COUNT];

    fm_flow_to_tuple(f, t);
    const uint64_t v[22] = {
        t[FM_FIELD_AF], f->first_ms, f->last_ms, t[FM_FIELD_PROT], t[FM_FIELD_SA0],
        t[FM_FIELD_SA1], t[FM_FIELD_SA2], t[FM_FIELD_SA3], t[FM_FIELD_SP], t[FM_FIELD_DA0],
        t[FM_FIELD_DA1], t[FM_FIELD_DA2], t[FM_FIELD_DA3], t[FM_FIELD_DP], 0, 0,
        t[FM_FIELD_INIF], t[FM_FIELD_OUTIF], f->tcp_flags, 0, f->packets, f->octets,
    };
    for (int i = 0; i < 22; i++) {
        p = put_u64(p, v[i]);
        *p++ = i + 1 < 22 ? '|' : '\n';
    }
    return p;
}

static char *put_secs(char *p, uint64_t ms)
{
    p = put_u64(p, ms / 1000);
    *p++ = '.';
    p[0] = (char)('0' + ms % 1000 / 100);
    p[1] = (char)('0' + ms % 100 / 10);
    p[2] = (char)('0' + ms % 10);
    return p + 3;
}

static char *put_ftcsv(char *p, const fm_flow_t *f)
{
    char a[64];

    p = put_secs(p, f->first_ms);
    *p++ = ',';
    p = put_secs(p, f->last_ms >= f->first_ms ? f->last_ms - f->first_ms : 0);
    *p++ = ',';
    p = put_u64(p, f->proto);
    *p++ = ',';
    fm_flow_addr_str(f->src, a, sizeof(a));
    p += sprintf(p, "%s,", a);
    fm_flow_addr_str(f->dst, a, sizeof(a));
    p += sprintf(p, "%s,", a);
    const uint64_t v[4] = {f->sport, f->dport, f->packets, f->octets};
    for (int i = 0; i < 4; i++) {
        p = put_u64(p, v[i]);
        *p++ = i + 1 < 4 ? ',' : '\n';
    }
    return p;
}

#define MAX_LINE 512 /* longest text record any writer produces */

int fm_writer_open(const char *path, fm_format_t fmt, fm_writer_t **out)
{
    fm_writer_t *w;
    int rc;

    if (!path || !out) {
        return FM_EINVAL;
    }
    if (fmt != FM_FMT_CSV_FLOW && fmt != FM_FMT_PIPE && fmt != FM_FMT_BINARY &&
        fmt != FM_FMT_FTCSV) {
        fm_log_err("flowio, %s: cannot write %s files", path, fm_format_name(fmt));
        return FM_EINVAL;
    }
    if (fmt == FM_FMT_BINARY && strcmp(path, "-") == 0) {
        fm_log_err("flowio, -: binary output must be a directory");
        return FM_EINVAL;
    }
    w = fm_xcalloc(1, sizeof(*w));
    w->fmt = fmt;
    w->path = fm_xstrdup(path);
    w->fd = -1;
    if (fmt == FM_FMT_BINARY) {
        if ((rc = fm__binw_open(path, &w->bin)) < 0) {
            goto fail;
        }
    } else {
        if (strcmp(path, "-") == 0) {
            w->fd = STDOUT_FILENO;
        } else if ((w->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
            rc = -errno;
            fm_log_err("flowio, %s: %s", path, strerror(errno));
            goto fail;
        }
        w->buf = fm_xmalloc(OUTBUF_SIZE);
        if (fmt == FM_FMT_FTCSV) {
            static const char hdr[] =
                "START_TIME,DURATION,PROTO,SRC_IP,DST_IP,SRC_PORT,DST_PORT,PACKETS,BYTES\n";
            memcpy(w->buf, hdr, sizeof(hdr) - 1);
            w->len = sizeof(hdr) - 1;
        }
    }
    *out = w;
    return 0;
fail:
    free(w->path);
    free(w);
    return rc;
}

static int write_one(fm_writer_t *w, const fm_flow_t *f)
{
    if (w->bin) {
        return w->err = fm__binw_write(w->bin, f, 1);
    }
    if (OUTBUF_SIZE - w->len < MAX_LINE && out_flush(w) < 0) {
        return w->err;
    }
    char *p = w->buf + w->len;
    switch (w->fmt) {
    case FM_FMT_CSV_FLOW: p = put_csv_flow(p, f); break;
    case FM_FMT_PIPE: p = put_pipe(p, f); break;
    default: p = put_ftcsv(p, f); break;
    }
    w->len = (size_t)(p - w->buf);
    return 0;
}

int fm_writer_write(fm_writer_t *w, const fm_flow_t *flows, size_t n)
{
    fm_flow_t rev;

    if (!w || (!flows && n)) {
        return FM_EINVAL;
    }
    if (w->err < 0) {
        return w->err;
    }
    /* Every format holds one direction per row: a biflow is written as its two directions,
     * forward first (a direction without packets, as RFC 5103 allows, has no row). */
    for (size_t i = 0; i < n; i++) {
        const fm_flow_t *f = &flows[i];
        if ((f->packets || !f->rev_packets) && write_one(w, f) < 0) {
            return w->err;
        }
        if (fm_flow_reverse(f, &rev) && write_one(w, &rev) < 0) {
            return w->err;
        }
    }
    return 0;
}

int fm_writer_close(fm_writer_t *w)
{
    int rc;

    if (!w) {
        return 0;
    }
    if (w->bin) {
        rc = fm__binw_close(w->bin);
        rc = w->err < 0 ? w->err : rc;
    } else {
        rc = out_flush(w);
        if (w->fd > STDOUT_FILENO && close(w->fd) < 0 && rc == 0) {
            rc = -errno;
            fm_log_err("flowio, %s: close failed: %s", w->path, strerror(errno));
        }
    }
    free(w->buf);
    free(w->path);
    free(w);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Column reader                                                                                */

int fm_colreader_open(const char *path, fm_format_t fmt, uint32_t fields, fm_colreader_t **out)
{
    struct stat st;

    if (!path || !out || (fmt != FM_FMT_BINARY && fmt != FM_FMT_AUTO) ||
        strcmp(path, "-") == 0 || stat(path, &st) < 0 || !S_ISDIR(st.st_mode) ||
        (fmt == FM_FMT_AUTO && !fm__flowio_is_bindir(path))) {
        return 0; /* not binary input; fm_reader_open reads it (or says what is wrong) */
    }
    int rc = fm__binr_open(path, fields & FM__ALL_FIELDS, out);
    return rc < 0 ? rc : 1;
}

long fm_colreader_read(fm_colreader_t *r, uint64_t *const scratch[], const uint64_t *cols[],
                       size_t max)
{
    return r ? fm__binr_read_cols(r, scratch, cols, max) : FM_EINVAL;
}

void fm_colreader_close(fm_colreader_t *r)
{
    fm__binr_close(r);
}
