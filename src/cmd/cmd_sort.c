/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix sort: sort a binary flow directory by key columns (flow-models `sort`, DETAIL §3).
 * The sort is stable (ties keep their original order; --reverse reverses the whole permutation,
 * so ties come out in reverse original order) and every column file of the directory is
 * permuted the same way.  Keys are turned into order-preserving 64-bit integers and sorted with
 * the record index as the last key, which makes any sort stable.  When the keys do not fit the
 * memory budget (-m MiB), sorted runs are written to temporary files and merged with a heap
 * (an external merge sort); the resulting permutation is streamed from a file while each column
 * is gathered from its memory map, so only the budget is held on the heap.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "cmd/sort_radix.h"
#include "flowio.h"
#include "util/err.h"
#include "util/mem.h"

#define MAX_KEYS 16
#define MAX_COLS 256
#define OUT_CHUNK (1u << 16) /* records gathered per write */

int fm_cmd_sort(int argc, char **argv);

typedef struct {
    char *name; /* file name inside the directory */
    char code;
    size_t isz;
    const uint8_t *data; /* mapped, NULL when empty */
    size_t len;
} column_t;

typedef struct {
    const char *in, *out, *index;
    const char *keys[MAX_KEYS];
    int nkeys;
    bool reverse;
    uint64_t budget; /* bytes */
    column_t cols[MAX_COLS];
    int ncols;
    size_t n;
    int key_col[MAX_KEYS];
} sort_t;

static void usage(FILE *out)
{
    fprintf(out, "usage: flowmix sort [-k FIELD [FIELD...]] [--reverse] [-O OUTDIR] [-I INDEX]\n"
                 "                    [-i binary] [-o binary] [--skip-in N] [--count-in N]\n"
                 "                    [--measure-memory] [-m MiB] DIR\n\n"
                 "Stable sort of a binary flow directory by the key fields (first most\n"
                 "significant); every column file is permuted alike and written to OUTDIR\n"
                 "(default: the current directory, as flow-models; OUTDIR = DIR sorts in place).\n"
                 "  -k, --key-fields F...  key fields (also comma-separated)\n"
                 "  -I, --index-file X     the permutation: read from X (or the one file X.*) when\n"
                 "                         it exists, else written to X.B/H/I/Q (type by size)\n"
                 "      --skip-in N, --count-in N  sort only records N.. of the input\n"
                 "      --measure-memory   print the peak memory use on stderr\n"
                 "  -m MiB                 memory for keys (default 512); larger inputs are sorted\n"
                 "                         externally through temporary run files in $TMPDIR\n");
}

/* An order-preserving unsigned image of item i of a column of any type. */
static uint64_t key_at(const column_t *c, size_t i)
{
    return fm_sort_key_at(&(fm_sort_key_t){.data = c->data, .code = c->code}, i);
}

/* ------------------------------------------------------------------------------------------ */
/* Columns                                                                                      */

static int map_columns(sort_t *s)
{
    DIR *d = opendir(s->in);
    struct dirent *e;
    int rc = 0;

    if (!d) {
        fprintf(stderr, "flowmix sort: %s: %s\n", s->in, strerror(errno));
        return -errno;
    }
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        char path[4096];
        struct stat st;
        snprintf(path, sizeof(path), "%s/%s", s->in, e->d_name);
        if (e->d_name[0] == '.' || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            continue;
        }
        if (len < 3 || e->d_name[len - 2] != '.' || !fm_bin_code_size(e->d_name[len - 1])) {
            fprintf(stderr, "flowmix sort: %s: not a column file (<name>.<code>), ignored\n",
                    path);
            continue;
        }
        if (s->ncols == MAX_COLS) {
            fprintf(stderr, "flowmix sort: %s: too many column files\n", s->in);
            rc = FM_ELIMIT;
            break;
        }
        column_t *c = &s->cols[s->ncols++];
        c->name = fm_xstrdup(e->d_name);
        c->code = e->d_name[len - 1];
        c->isz = fm_bin_code_size(c->code);
        c->len = (size_t)st.st_size;
        size_t n = c->len / c->isz;
        if (c->len % c->isz || (s->ncols > 1 && n != s->n)) {
            fprintf(stderr, "flowmix sort: %s: length differs from the other columns\n", path);
            rc = FM_EFORMAT;
            break;
        }
        s->n = n;
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            rc = -errno;
            break;
        }
        if (c->len) {
            void *m = mmap(NULL, c->len, PROT_READ, MAP_PRIVATE, fd, 0);
            c->data = m == MAP_FAILED ? NULL : m;
            rc = m == MAP_FAILED ? -errno : 0;
        }
        close(fd);
    }
    closedir(d);
    return rc;
}

static int find_keys(sort_t *s)
{
    for (int k = 0; k < s->nkeys; k++) {
        s->key_col[k] = -1;
        for (int c = 0; c < s->ncols; c++) {
            const char *nm = s->cols[c].name;
            size_t kl = strlen(s->keys[k]);
            if (nm[0] == '_' && strncmp(nm + 1, s->keys[k], kl) == 0 && nm[kl + 1] == '.') {
                s->key_col[k] = c;
            } else if (strncmp(nm, s->keys[k], kl) == 0 && nm[kl] == '.') {
                s->key_col[k] = c;
            }
        }
        if (s->key_col[k] < 0) {
            fprintf(stderr, "flowmix sort: %s: no column file for key '%s'\n", s->in,
                    s->keys[k]);
            return FM_ENOENT;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Sorting records of (keys..., index) as arrays of nkeys + 1 uint64                           */

static int g_width;     /* qsort has no context argument */
static bool g_reverse;

static int cmp_rec(const void *a, const void *b)
{
    const uint64_t *x = a, *y = b;
    for (int i = 0; i < g_width; i++) {
        if (x[i] != y[i]) {
            return (x[i] < y[i]) != g_reverse ? -1 : 1;
        }
    }
    return 0;
}

static void fill_recs(const sort_t *s, uint64_t *rec, size_t from, size_t m)
{
    int w = s->nkeys + 1;
    for (int k = 0; k < s->nkeys; k++) {
        const column_t *c = &s->cols[s->key_col[k]];
        for (size_t i = 0; i < m; i++) {
            rec[i * w + k] = key_at(c, from + i);
        }
    }
    for (size_t i = 0; i < m; i++) {
        rec[i * w + s->nkeys] = from + i;
    }
}

typedef struct {
    FILE *f;
    uint64_t cur[MAX_KEYS + 1];
} run_t;

static bool run_advance(run_t *r, int w)
{
    return fread(r->cur, sizeof(uint64_t), (size_t)w, r->f) == (size_t)w;
}

static void heap_down(run_t **h, size_t n, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i;
        if (l < n && cmp_rec(h[l]->cur, h[m]->cur) < 0) {
            m = l;
        }
        if (l + 1 < n && cmp_rec(h[l + 1]->cur, h[m]->cur) < 0) {
            m = l + 1;
        }
        if (m == i) {
            return;
        }
        run_t *t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
}

/* External sort: write sorted runs, merge them into a permutation file.  @return open FILE. */
static FILE *external_sort(const sort_t *s, size_t per_run)
{
    int w = s->nkeys + 1;
    size_t nruns = (s->n + per_run - 1) / per_run;
    run_t *runs = fm_xcalloc(nruns, sizeof(*runs));
    run_t **heap = fm_xcalloc(nruns, sizeof(*heap));
    uint64_t *rec = fm_xreallocarray(NULL, per_run, (size_t)w * sizeof(uint64_t));
    FILE *perm = tmpfile();
    size_t hn = 0;
    bool ok = perm != NULL;

    for (size_t r = 0; r < nruns && ok; r++) {
        size_t from = r * per_run, m = s->n - from < per_run ? s->n - from : per_run;
        fill_recs(s, rec, from, m);
        qsort(rec, m, (size_t)w * sizeof(uint64_t), cmp_rec);
        ok = (runs[r].f = tmpfile()) != NULL &&
             fwrite(rec, (size_t)w * sizeof(uint64_t), m, runs[r].f) == m &&
             fflush(runs[r].f) == 0;
        if (ok) {
            rewind(runs[r].f);
            setvbuf(runs[r].f, NULL, _IOFBF, 1 << 16);
        }
    }
    free(rec);
    for (size_t r = 0; r < nruns && ok; r++) {
        if (run_advance(&runs[r], w)) {
            heap[hn++] = &runs[r];
        }
    }
    for (size_t i = hn; i-- > 0;) {
        heap_down(heap, hn, i);
    }
    while (ok && hn > 0) {
        ok = fwrite(&heap[0]->cur[s->nkeys], sizeof(uint64_t), 1, perm) == 1;
        if (!run_advance(heap[0], w)) {
            heap[0] = heap[--hn];
        }
        heap_down(heap, hn, 0);
    }
    for (size_t r = 0; r < nruns; r++) {
        if (runs[r].f) {
            fclose(runs[r].f);
        }
    }
    free(runs);
    free(heap);
    if (!ok || fflush(perm) != 0) {
        fprintf(stderr, "flowmix sort: temporary file: %s\n", strerror(errno));
        if (perm) {
            fclose(perm);
        }
        return NULL;
    }
    rewind(perm);
    return perm;
}

/* ------------------------------------------------------------------------------------------ */
/* Applying the permutation                                                                     */

typedef struct {
    const uint64_t *mem;   /* in-memory permutation, or */
    const uint32_t *mem32; /* the radix sort's, or */
    FILE *f;               /* a file of uint64 indexes */
} perm_t;

static size_t perm_read(const perm_t *p, size_t from, size_t m, uint64_t *out)
{
    if (p->mem) {
        memcpy(out, p->mem + from, m * sizeof(uint64_t));
        return m;
    }
    if (p->mem32) {
        for (size_t i = 0; i < m; i++) {
            out[i] = p->mem32[from + i];
        }
        return m;
    }
    if (from == 0) {
        rewind(p->f);
    }
    return fread(out, sizeof(uint64_t), m, p->f);
}

static int write_file(const char *path, const void *buf, size_t len, int fd)
{
    const char *q = buf;
    while (len > 0) {
        ssize_t k = write(fd, q, len);
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k < 0) {
            fprintf(stderr, "flowmix sort: %s: %s\n", path, strerror(errno));
            return -errno;
        }
        q += k;
        len -= (size_t)k;
    }
    return 0;
}

/* Give back the pages of a column read to the end: the mapping stays, the resident set does not
 * grow with every column gathered (peak RSS near one column plus the permutation). */
static void drop_pages(const column_t *c)
{
    if (c->data && c->len) {
        uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE), beg = (uintptr_t)c->data & ~(pg - 1);
        madvise((void *)beg, (uintptr_t)c->data + c->len - beg, MADV_DONTNEED);
    }
}

/* buf[i] = item idx[i] of column c, for i < m. */
static void gather32(const column_t *c, const uint32_t *idx, size_t m, uint8_t *buf)
{
    const uint8_t *d = c->data;

    switch (c->isz) {
    case 1: for (size_t i = 0; i < m; i++) buf[i] = d[idx[i]]; break;
    case 2: for (size_t i = 0; i < m; i++) memcpy(buf + 2 * i, d + 2 * (size_t)idx[i], 2); break;
    case 4: for (size_t i = 0; i < m; i++) memcpy(buf + 4 * i, d + 4 * (size_t)idx[i], 4); break;
    default:
        for (size_t i = 0; i < m; i++) {
            memcpy(buf + 8 * i, d + 8 * (size_t)idx[i], 8);
        }
        break;
    }
}

/* Gather column c in permutation order into OUT/.name.tmp, then rename over OUT/name (safe
 * in place: the input stays mapped through the old inode). */
static int permute_column(const sort_t *s, const column_t *c, const perm_t *p, uint64_t *idx,
                          uint8_t *buf)
{
    char tmp[4096], dst[4096];
    int rc = 0;

    snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", s->out, c->name);
    snprintf(dst, sizeof(dst), "%s/%s", s->out, c->name);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) {
        fprintf(stderr, "flowmix sort: %s: %s\n", tmp, strerror(errno));
        return -errno;
    }
    for (size_t from = 0; from < s->n && rc == 0; from += OUT_CHUNK) {
        size_t m = s->n - from < OUT_CHUNK ? s->n - from : OUT_CHUNK;
        if (p->mem32) {
            gather32(c, p->mem32 + from, m, buf);
            rc = write_file(tmp, buf, m * c->isz, fd);
            continue;
        }
        if (perm_read(p, from, m, idx) != m) {
            fprintf(stderr, "flowmix sort: permutation file truncated\n");
            rc = FM_EIO;
            break;
        }
        switch (c->isz) {
        case 1: for (size_t i = 0; i < m; i++) buf[i] = c->data[idx[i]]; break;
        case 2: for (size_t i = 0; i < m; i++) memcpy(buf + 2 * i, c->data + 2 * idx[i], 2); break;
        case 4: for (size_t i = 0; i < m; i++) memcpy(buf + 4 * i, c->data + 4 * idx[i], 4); break;
        default: for (size_t i = 0; i < m; i++) memcpy(buf + 8 * i, c->data + 8 * idx[i], 8); break;
        }
        rc = write_file(tmp, buf, m * c->isz, fd);
    }
    drop_pages(c);
    if (close(fd) < 0 && rc == 0) {
        rc = -errno;
    }
    if (rc == 0 && rename(tmp, dst) < 0) {
        rc = -errno;
        fprintf(stderr, "flowmix sort: %s: %s\n", dst, strerror(errno));
    }
    if (rc < 0) {
        unlink(tmp);
    }
    return rc;
}

/* The permutation itself, in the smallest of B/H/I/Q that holds N (flow-models -I). */
static int write_index(const sort_t *s, const perm_t *p, uint64_t *idx, uint8_t *buf)
{
    column_t c = {.code = s->n <= 1u << 8 ? 'B' : s->n <= 1u << 16 ? 'H'
                          : s->n <= 1ull << 32 ? 'I' : 'Q'};
    int rc = 0;
    int fd = open(s->index, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);

    if (fd < 0) {
        fprintf(stderr, "flowmix sort: %s: %s\n", s->index, strerror(errno));
        return -errno;
    }
    c.isz = fm_bin_code_size(c.code);
    for (size_t from = 0; from < s->n && rc == 0; from += OUT_CHUNK) {
        size_t m = s->n - from < OUT_CHUNK ? s->n - from : OUT_CHUNK;
        if (perm_read(p, from, m, idx) != m) {
            rc = FM_EIO;
            break;
        }
        for (size_t i = 0; i < m; i++) {
            uint64_t v = idx[i];
            memcpy(buf + i * c.isz, &v, c.isz); /* little-endian: the low bytes come first */
        }
        rc = write_file(s->index, buf, m * c.isz, fd);
    }
    close(fd);
    return rc;
}

/* ------------------------------------------------------------------------------------------ */

static int do_sort(sort_t *s)
{
    int w = s->nkeys + 1;
    size_t rec_size = (size_t)w * sizeof(uint64_t);
    perm_t p = {0};
    uint32_t *perm32 = NULL;
    int rc = 0;

    g_width = w;
    g_reverse = s->reverse;
    if (fm_sort_radix_bytes(s->n) <= s->budget && s->n <= UINT32_MAX) {
        fm_sort_key_t keys[MAX_KEYS];
        for (int k = 0; k < s->nkeys; k++) {
            keys[k] = (fm_sort_key_t){s->cols[s->key_col[k]].data, s->cols[s->key_col[k]].code};
        }
        if (!(perm32 = fm_sort_radix(keys, s->nkeys, s->n, s->reverse))) {
            fprintf(stderr, "flowmix sort: %s\n", fm_strerror(FM_ENOMEM));
            return FM_ENOMEM;
        }
        for (int k = 0; k < s->nkeys; k++) {
            drop_pages(&s->cols[s->key_col[k]]);
        }
        p.mem32 = perm32;
    } else {
        size_t per_run = (size_t)(s->budget / rec_size);
        per_run = per_run < 1024 ? 1024 : per_run;
        if (!(p.f = external_sort(s, per_run))) {
            return FM_EIO;
        }
    }
    uint64_t *idx = fm_xmalloc(OUT_CHUNK * sizeof(uint64_t));
    uint8_t *buf = fm_xmalloc(OUT_CHUNK * 8);
    for (int c = 0; c < s->ncols && rc == 0; c++) {
        rc = permute_column(s, &s->cols[c], &p, idx, buf);
    }
    if (rc == 0 && s->index) {
        rc = write_index(s, &p, idx, buf);
    }
    free(idx);
    free(buf);
    free(perm32);
    if (p.f) {
        fclose(p.f);
    }
    return rc;
}

/* ------------------------------------------------------------------------------------------ */
/* Command line (flow-models sort's options)                                                   */

typedef struct {
    unsigned long long skip_in, count_in;
    bool has_count_in, measure_memory;
    const uint8_t *map[MAX_COLS]; /* the mappings before --skip-in/--count-in slicing */
    size_t map_len[MAX_COLS];
    char index_path[4096];        /* -I: the file read or written */
} sort_cli_t;

static int add_keys(sort_t *s, char *list)
{
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
        if (s->nkeys == MAX_KEYS) {
            return fm_cmd_usage_error("sort", "at most %d keys", MAX_KEYS);
        }
        s->keys[s->nkeys++] = tok;
    }
    return 0;
}

static int parse_args(int argc, char **argv, sort_t *s, sort_cli_t *cli)
{
    static const struct option opts[] = {
        {"key-fields", required_argument, NULL, 'k'}, {"keys", required_argument, NULL, 'k'},
        {"reverse", no_argument, NULL, 'r'},          {"output", required_argument, NULL, 'O'},
        {"index-file", required_argument, NULL, 'I'}, {"index", required_argument, NULL, 'I'},
        {"memory", required_argument, NULL, 'm'},     {"help", no_argument, NULL, 'h'},
        {"in-format", required_argument, NULL, 'i'},  {"out-format", required_argument, NULL, 'o'},
        {"skip-in", required_argument, NULL, 1},      {"count-in", required_argument, NULL, 2},
        {"measure-memory", no_argument, NULL, 3},     {NULL, 0, NULL, 0},
    };
    unsigned long long mib;
    int opt;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":k:rO:I:m:i:o:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'k':
            if (add_keys(s, optarg) != 0) {
                return -1;
            }
            break;
        case 'r': s->reverse = true; break;
        case 'O': s->out = optarg; break;
        case 'I': s->index = optarg; break;
        case 'm':
            if (fm_cmdio_count(optarg, &mib) < 0 || mib == 0 || mib > (1ull << 40)) {
                fm_cmd_usage_error("sort", "-m: not a size in MiB: '%s'", optarg);
                return -1;
            }
            s->budget = mib << 20;
            break;
        case 'i':
        case 'o':
            if (strcmp(optarg, "binary") != 0) {
                fm_cmd_usage_error("sort", "-%c %s: sort reads and writes binary directories"
                                           " only, as flow-models", opt, optarg);
                return -1;
            }
            break;
        case 1:
        case 2:
            if (fm_cmdio_count(optarg, opt == 1 ? &cli->skip_in : &cli->count_in) < 0) {
                fm_cmd_usage_error("sort", "--%s: not a count: '%s'",
                                   opt == 1 ? "skip-in" : "count-in", optarg);
                return -1;
            }
            cli->has_count_in |= opt == 2;
            break;
        case 3: cli->measure_memory = true; break;
        case 'h': usage(stdout); return 1;
        default: fm_cmd_bad_option("sort", opt, argv); return -1;
        }
    }
    /* `-k first first_ms DIR`, as flow-models' nargs='*': all but the last positional are keys. */
    for (; optind < argc - 1; optind++) {
        if (add_keys(s, argv[optind]) != 0) {
            return -1;
        }
    }
    if (optind != argc - 1) {
        fm_cmd_usage_error("sort", optind < argc ? "one input directory only"
                                                 : "no input directory");
        return -1;
    }
    s->in = argv[optind];
    s->out = s->out ? s->out : ".";
    if (!s->out[0]) {
        fm_cmd_usage_error("sort", "-O: empty output directory (give DIR to sort in place)");
        return -1;
    }
    return 0;
}

/* --skip-in/--count-in: the columns start skip records later and hold count records. */
static int slice_columns(sort_t *s, sort_cli_t *cli)
{
    size_t skip = cli->skip_in < s->n ? (size_t)cli->skip_in : s->n;
    size_t n = s->n - skip;

    if (cli->has_count_in && cli->count_in > 0 && cli->count_in < n) {
        n = (size_t)cli->count_in; /* flow-models: --count-in 0 means all */
    }
    for (int c = 0; c < s->ncols; c++) {
        column_t *col = &s->cols[c];
        cli->map[c] = col->data;
        cli->map_len[c] = col->len;
        col->data = col->data ? col->data + skip * col->isz : NULL;
        col->len = n * col->isz;
    }
    s->n = n;
    return 0;
}

/* flow-models' find_array_path: X itself when it has a suffix, else the one file X.*.
 * @return 1 found (path in cli->index_path), 0 not there, -1 ambiguous. */
static int find_index(const char *x, sort_cli_t *cli)
{
    const char *base = strrchr(x, '/');
    struct stat st;

    base = base ? base + 1 : x;
    if (strchr(base, '.')) {
        snprintf(cli->index_path, sizeof(cli->index_path), "%s", x);
        return stat(x, &st) == 0 && S_ISREG(st.st_mode);
    }
    char dir[4096];
    snprintf(dir, sizeof(dir), "%.*s", base == x ? 1 : (int)(base - x), base == x ? "." : x);
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    size_t bl = strlen(base);
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, base, bl) == 0 && e->d_name[bl] == '.' && e->d_name[bl + 1]) {
            found++;
            snprintf(cli->index_path, sizeof(cli->index_path), "%s.%s", x, e->d_name + bl + 1);
        }
    }
    if (d) {
        closedir(d);
    }
    if (found > 1) {
        fm_cmd_usage_error("sort", "-I %s: more than one file %s.*", x, x);
        return FM_EINVAL;
    }
    return found;
}

/* Sort by an existing index file: every entry must name a record of the (sliced) input. */
static int sort_by_index(sort_t *s, const char *path)
{
    size_t len = strlen(path), isz = fm_bin_code_size(len > 2 && path[len - 2] == '.'
                                                          ? path[len - 1] : 0);
    int rc = 0;

    if (!isz) {
        fprintf(stderr, "flowmix sort: %s: not an index file (<name>.<code>)\n", path);
        return FM_EFORMAT;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "flowmix sort: %s: %s\n", path, strerror(errno));
        return -errno;
    }
    uint64_t *perm = fm_xreallocarray(NULL, s->n ? s->n : 1, sizeof(uint64_t));
    uint8_t item[8];
    size_t i = 0;
    for (; i < s->n && fread(item, isz, 1, f) == 1; i++) {
        if (fm_bin_get(item, path[len - 1], 0, &perm[i]) < 0 || perm[i] >= s->n) {
            fprintf(stderr, "flowmix sort: %s: entry %zu is not a record of the input\n", path,
                    i);
            rc = FM_EFORMAT;
            break;
        }
    }
    if (rc == 0 && (i != s->n || fread(item, 1, 1, f) != 0)) {
        fprintf(stderr, "flowmix sort: %s: holds not %zu entries, as the input has\n", path,
                s->n);
        rc = FM_EFORMAT;
    }
    fclose(f);
    perm_t p = {.mem = perm};
    uint64_t *idx = fm_xmalloc(OUT_CHUNK * sizeof(uint64_t));
    uint8_t *buf = fm_xmalloc(OUT_CHUNK * 8);
    for (int c = 0; c < s->ncols && rc == 0; c++) {
        rc = permute_column(s, &s->cols[c], &p, idx, buf);
    }
    free(idx);
    free(buf);
    free(perm);
    return rc;
}

int fm_cmd_sort(int argc, char **argv)
{
    sort_t *s = fm_xcalloc(1, sizeof(*s));
    sort_cli_t *cli = fm_xcalloc(1, sizeof(*cli));
    int rc, have_index = 0;

    s->budget = 512ull << 20;
    rc = parse_args(argc, argv, s, cli);
    if (rc == 0 && s->index && (have_index = find_index(s->index, cli)) < 0) {
        rc = -1;
    }
    if (rc == 0 && !have_index && s->nkeys == 0) {
        fm_cmd_usage_error("sort", "no key fields (-k) and no existing index file (-I)");
        rc = -1;
    }
    if (rc != 0) {
        free(cli);
        free(s);
        return rc > 0 ? 0 : 2;
    }
    if (mkdir(s->out, 0777) < 0 && errno != EEXIST) {
        fprintf(stderr, "flowmix sort: %s: %s\n", s->out, strerror(errno));
        rc = -errno;
    }
    if (rc == 0 && (rc = map_columns(s)) == 0) {
        slice_columns(s, cli);
        if (have_index) {
            rc = sort_by_index(s, cli->index_path);
        } else if ((rc = find_keys(s)) == 0) {
            if (s->index) { /* flow-models names the new index X.<type> */
                const char code = s->n <= 1u << 8 ? 'B' : s->n <= 1u << 16 ? 'H'
                                  : s->n <= 1ull << 32 ? 'I' : 'Q';
                snprintf(cli->index_path, sizeof(cli->index_path), "%s.%c", s->index, code);
                s->index = cli->index_path;
            }
            rc = do_sort(s);
        }
    }
    for (int c = 0; c < s->ncols; c++) {
        if (cli->map[c]) {
            munmap((void *)cli->map[c], cli->map_len[c]);
        }
        free(s->cols[c].name);
    }
    if (cli->measure_memory) {
        fm_cmd_print_memory("sort");
    }
    free(cli);
    free(s);
    /* the failing step has said what failed */
    return rc < 0 ? 1 : 0;
}
