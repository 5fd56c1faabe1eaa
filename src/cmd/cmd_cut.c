/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix cut: byte ranges of binary column files (flow-models `cut`, which runs dd): every
 * file of the input directories (recursively, sorted) or every input file is copied from record
 * --skip-in on, --count-in records of it (the item size from the file's type suffix), into the
 * -O directory under its own name, or to -O FILE for a single input file, or concatenated to
 * standard output (the default).  No filter, as flow-models.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "flowio.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

int fm_cmd_cut(int argc, char **argv);

typedef struct {
    char **v;
    size_t n, cap;
} list_t;

static void list_add(list_t *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->v = fm_xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n++] = fm_xstrdup(s);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Regular files below dir, recursively (flow-models prepare_file_list: sorted path order). */
static int expand(const char *path, list_t *out)
{
    struct stat st;
    if (stat(path, &st) < 0) {
        fprintf(stderr, "flowmix cut: %s: %s\n", path, strerror(errno));
        return FM_EIO;
    }
    if (!S_ISDIR(st.st_mode)) {
        list_add(out, path);
        return 0;
    }
    DIR *d = opendir(path);
    struct dirent *e;
    list_t sub = {0};
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            char p[4096];
            snprintf(p, sizeof(p), "%s/%s", path, e->d_name);
            list_add(&sub, p);
        }
    }
    if (d) {
        closedir(d);
    }
    qsort(sub.v, sub.n, sizeof(*sub.v), by_name);
    int rc = 0;
    for (size_t i = 0; i < sub.n; i++) {
        rc = rc < 0 ? rc : expand(sub.v[i], out);
        free(sub.v[i]);
    }
    free(sub.v);
    return rc;
}

/* Copy bytes [skip, skip + count) of in to out (count clipped to the file). */
static int copy_range(const char *in, int ofd, uint64_t skip, uint64_t count)
{
    int fd = open(in, O_RDONLY | O_CLOEXEC);
    char buf[1 << 16];
    if (fd < 0 || lseek(fd, (off_t)skip, SEEK_SET) < 0) {
        fprintf(stderr, "flowmix cut: %s: %s\n", in, strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return FM_EIO;
    }
    while (count > 0) {
        ssize_t k = read(fd, buf, count < sizeof(buf) ? (size_t)count : sizeof(buf));
        if (k < 0 && errno == EINTR) {
            continue;
        }
        if (k <= 0) {
            break;
        }
        for (ssize_t off = 0; off < k;) {
            ssize_t w = write(ofd, buf + off, (size_t)(k - off));
            if (w < 0 && errno != EINTR) {
                fprintf(stderr, "flowmix cut: writing: %s\n", strerror(errno));
                close(fd);
                return FM_EIO;
            }
            off += w > 0 ? w : 0;
        }
        count -= (uint64_t)k;
    }
    close(fd);
    return 0;
}

int fm_cmd_cut(int argc, char **argv)
{
    static const struct option opts[] = {
        {"in-format", required_argument, NULL, 'i'}, {"out-format", required_argument, NULL, 'o'},
        {"output", required_argument, NULL, 'O'},    {"skip-in", required_argument, NULL, 1},
        {"count-in", required_argument, NULL, 2},    {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    unsigned long long skip_in = 0, count_in = 0;
    bool has_count = false;
    const char *out = "-";
    list_t files = {0};
    int opt, rc = 0;

    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":i:o:O:h", opts, NULL)) != -1) {
        switch (opt) {
        case 'i':
        case 'o':
            if (strcmp(optarg, "binary") != 0) {
                return fm_cmd_usage_error("cut", "-%c %s: cut copies binary column files only",
                                          opt, optarg);
            }
            break;
        case 'O': out = optarg; break;
        case 1:
        case 2:
            if (fm_cmdio_count(optarg, opt == 1 ? &skip_in : &count_in) < 0) {
                return fm_cmd_usage_error("cut", "--%s: not a count: '%s'",
                                          opt == 1 ? "skip-in" : "count-in", optarg);
            }
            has_count |= opt == 2;
            break;
        case 'h':
            printf("usage: flowmix cut [-i binary] [-o binary] [-O OUT] [--skip-in N]"
                   " [--count-in N] FILE|DIR...\n\n"
                   "Copy records N.. of binary column files (flow-models cut): into the -O\n"
                   "directory under their names, to -O FILE for one input file, or to\n"
                   "standard output (default).\n");
            return 0;
        default: return fm_cmd_bad_option("cut", opt, argv);
        }
    }
    if (optind >= argc) {
        return fm_cmd_usage_error("cut", "no input files");
    }
    for (int i = optind; i < argc && rc == 0; i++) {
        rc = expand(argv[i], &files);
    }
    struct stat st;
    bool std = strcmp(out, "-") == 0;
    bool to_dir = !std && ((stat(out, &st) == 0 && S_ISDIR(st.st_mode)) || files.n > 1);
    if (rc == 0 && to_dir && fm_fs_mkdirs(out, 0755) < 0) {
        fprintf(stderr, "flowmix cut: %s: cannot create the directory\n", out);
        rc = -1;
    }
    for (size_t i = 0; i < files.n && rc == 0; i++) {
        const char *f = files.v[i], *dot = strrchr(f, '.');
        size_t isz = dot && dot[1] && !dot[2] ? fm_bin_code_size(dot[1]) : 0;
        if (!isz || stat(f, &st) < 0) {
            fprintf(stderr, "flowmix cut: %s: not a column file (<name>.<type>)\n", f);
            rc = -1;
            break;
        }
        uint64_t skip = skip_in * isz;
        uint64_t count = has_count ? count_in * isz
                                   : (uint64_t)st.st_size > skip ? (uint64_t)st.st_size - skip : 0;
        int ofd = STDOUT_FILENO;
        if (!std) {
            char p[4096];
            const char *base = strrchr(f, '/') ? strrchr(f, '/') + 1 : f;
            snprintf(p, sizeof(p), to_dir ? "%s/%s" : "%s", out, base);
            if ((ofd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666)) < 0) {
                fprintf(stderr, "flowmix cut: %s: %s\n", p, strerror(errno));
                rc = -1;
                break;
            }
        }
        rc = copy_range(f, ofd, skip, count);
        if (ofd != STDOUT_FILENO && close(ofd) < 0 && rc == 0) {
            rc = -1;
        }
    }
    for (size_t i = 0; i < files.n; i++) {
        free(files.v[i]);
    }
    free(files.v);
    return rc < 0 ? 1 : 0;
}
