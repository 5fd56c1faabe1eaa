/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Model export.  A snapshot is first written completely into a hidden temporary directory next
 * to its final place and then rename()d, so a reader never sees a half-written snapshot; the
 * `latest` symlink is replaced atomically the same way.  Old snapshots beyond `keep` are removed
 * oldest first.  Everything here runs on a thread-pool thread and reports through return codes.
 */
#include "config.h"
#include "export.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "export_int.h"
#include "util/err.h"
#include "util/fs.h"
#include "util/mem.h"

static const char *const y_names[] = {"flows", "packets", "octets"};
/* Classes and metrics exported, in the agh_2015 layout. */
static const fm_class_t classes[] = {FM_CLASS_ALL, FM_CLASS_TCP, FM_CLASS_UDP, FM_CLASS_OTHER};
static const fm_metric_t metrics[] = {FM_METRIC_LENGTH, FM_METRIC_SIZE, FM_METRIC_DURATION};

/* Write a whole file and make sure it reached the disk before the directory is renamed. */
static int write_file(const char *path, int (*fn)(FILE *, const void *), const void *arg)
{
    FILE *f = fopen(path, "w");
    int rc;
    if (!f) {
        return -errno;
    }
    rc = fn(f, arg);
    if (fflush(f) != 0 || fsync(fileno(f)) != 0) {
        rc = rc ? rc : -errno;
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
    }
    return rc;
}

static int put_hist(FILE *f, const void *arg)
{
    return fm_hist_write_csv(arg, f);
}

static int put_text(FILE *f, const void *arg)
{
    return fputs(arg, f) < 0 ? FM_EIO : 0;
}

static int write_histograms(const fm_export_req_t *req, const char *root, char *err,
                            size_t errlen)
{
    char path[8192];
    for (size_t c = 0; c < sizeof(classes) / sizeof(classes[0]); c++) {
        snprintf(path, sizeof(path), "%s/histograms/%s", root, fm_class_name(classes[c]));
        int rc = fm_fs_mkdirs(path, 0755);
        for (size_t m = 0; rc == 0 && m < sizeof(metrics) / sizeof(metrics[0]); m++) {
            snprintf(path, sizeof(path), "%s/histograms/%s/%s.csv", root,
                     fm_class_name(classes[c]), fm_metric_name(metrics[m]));
            rc = write_file(path, put_hist,
                            fm_histset_cget(req->hist, classes[c], FM_DIR_UNIFLOW, metrics[m]));
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", path, fm_strerror(rc));
            return rc;
        }
    }
    return 0;
}

/* flow-models' .mode file: the fit's options as one JSON line. */
static void mode_text(const fm_export_fit_t *f, char *buf, size_t len)
{
    char initial[96];
    size_t off = (size_t)snprintf(initial, sizeof(initial), "{");
    const struct { const char *k; unsigned v; } counts[] = {{"U", f->U}, {"P", f->P},
                                                           {"L", f->L}};
    for (size_t i = 0; i < 3; i++) {
        if (counts[i].v) {
            off += (size_t)snprintf(initial + off, sizeof(initial) - off, "%s\"%s\": %u",
                                    off > 1 ? ", " : "", counts[i].k, counts[i].v);
        }
    }
    snprintf(initial + off, sizeof(initial) - off, "}");
    snprintf(buf, len, "{\"y_value\": \"%s\", \"max_iter\": %u, \"initial\": %s, "
                       "\"max_pareto_w\": null}\n", y_names[f->y], f->max_iter, initial);
}

static int write_mixtures(const fm_export_req_t *req, const char *root, char *err, size_t errlen)
{
    char dir[8192], path[8300], mode[256];
    for (size_t i = 0; i < req->nfits; i++) {
        const fm_export_fit_t *f = &req->fits[i];
        snprintf(dir, sizeof(dir), "%s/mixtures/%s/%s", root, fm_class_name(f->cls),
                 fm_metric_name(f->metric));
        int rc = fm_fs_mkdirs(dir, 0755);
        if (rc == 0) {
            snprintf(path, sizeof(path), "%s/%s.json", dir, y_names[f->y]);
            rc = write_file(path, put_text, f->json);
        }
        if (rc == 0) {
            mode_text(f, mode, sizeof(mode));
            snprintf(path, sizeof(path), "%s/%s.mode", dir, y_names[f->y]);
            rc = write_file(path, put_text, mode);
        }
        if (rc < 0) {
            snprintf(err, errlen, "%s: %s", path, fm_strerror(rc));
            return rc;
        }
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

int fm__export_rmtree(const char *path)
{
    return nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) < 0 && errno != ENOENT ? -errno : 0;
}

/* Remove a visible snapshot so that readers never see it half-deleted: rename it to a hidden
 * name first (atomic), then delete the files. */
static void remove_snapshot(const char *dir, const char *name)
{
    char path[4096], hidden[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    snprintf(hidden, sizeof(hidden), "%s/.old-%s", dir, name);
    fm__export_rmtree(hidden);
    if (rename(path, hidden) == 0) {
        fm__export_rmtree(hidden);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool snapshot_name(const char *n)
{
    return strlen(n) == 16 && n[8] == 'T' && n[15] == 'Z';
}

static bool in_list(char **names, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(names[i], name)) {
            return true;
        }
    }
    return false;
}

/* Snapshots in creation order, newest last: those of req->order (the store's record, see
 * exporter.h) that are still there, then `newest`.  Names say the wall-clock time of their
 * export, and a clock set wrong (an RTC glitch) names them in the future: ordered by name,
 * every new export would be the oldest and be deleted at once.  Snapshots on disk missing from
 * the record (written before it existed, or by hand) count as older than every recorded one,
 * in name order among themselves. */
static size_t creation_order(const fm_export_req_t *req, const char *newest, char ***out)
{
    char path[4096];
    char **all = NULL;
    size_t n = 0;
    DIR *d = opendir(req->dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (snapshot_name(e->d_name) && strcmp(e->d_name, newest) &&
            !in_list(req->order, req->norder, e->d_name)) {
            all = fm_xreallocarray(all, n + 1, sizeof(char *));
            all[n++] = fm_xstrdup(e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
    if (n > 1) {
        qsort(all, n, sizeof(char *), cmp_str);
    }
    for (size_t i = 0; i < req->norder; i++) {
        struct stat st;
        const char *name = req->order[i];
        snprintf(path, sizeof(path), "%s/%s", req->dir, name);
        if (snapshot_name(name) && strcmp(name, newest) && !in_list(all, n, name) &&
            stat(path, &st) == 0) { /* recorded and still there */
            all = fm_xreallocarray(all, n + 1, sizeof(char *));
            all[n++] = fm_xstrdup(name);
        }
    }
    all = fm_xreallocarray(all, n + 1, sizeof(char *));
    all[n++] = fm_xstrdup(newest);
    *out = all;
    return n;
}

/* Keep the newest `keep` snapshots by creation order (never the one just written).  The
 * previous release kept the order in DIR/.order: the store has it now. */
static void prune_old(const fm_export_req_t *req, const char *newest, uint64_t keep)
{
    char **names, path[4096];
    size_t n = creation_order(req, newest, &names);
    for (size_t i = 0; i < n; i++) {
        if (n - i > keep) {
            remove_snapshot(req->dir, names[i]);
        }
        free(names[i]);
    }
    free(names);
    snprintf(path, sizeof(path), "%s/.order", req->dir);
    unlink(path);
}

static int update_latest(const char *dir, const char *name)
{
    char tmp[4096], link[4096];
    snprintf(tmp, sizeof(tmp), "%s/.latest.tmp", dir);
    snprintf(link, sizeof(link), "%s/latest", dir);
    unlink(tmp);
    if (symlink(name, tmp) < 0 || rename(tmp, link) < 0) {
        return -errno;
    }
    return 0;
}

int fm_export_write(const fm_export_req_t *req, char *path, size_t pathlen, char *err,
                    size_t errlen)
{
    char name[32], tmp[4096], final[4096];
    time_t secs = (time_t)(req->now_ms / 1000);
    struct tm tm;
    int rc;

    gmtime_r(&secs, &tm);
    strftime(name, sizeof(name), "%Y%m%dT%H%M%SZ", &tm);
    snprintf(tmp, sizeof(tmp), "%s/.tmp-%s", req->dir, name);
    snprintf(final, sizeof(final), "%s/%s", req->dir, name);
    fm__export_rmtree(tmp); /* left over from a crash during an earlier export */
    if ((rc = fm_fs_mkdirs(tmp, 0755)) < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, fm_strerror(rc));
        return rc;
    }
    if ((rc = write_histograms(req, tmp, err, errlen)) < 0 ||
        (rc = write_mixtures(req, tmp, err, errlen)) < 0 ||
        (rc = fm__export_summary(req, tmp, err, errlen)) < 0 ||
        (rc = fm__export_meta(req, tmp, err, errlen)) < 0 ||
        (req->plots && (rc = fm__export_plots(req, tmp, err, errlen)) < 0)) {
        fm__export_rmtree(tmp);
        return rc;
    }
    remove_snapshot(req->dir, name); /* two exports within one second: the newer one wins */
    if (rename(tmp, final) < 0) {
        rc = -errno;
        snprintf(err, errlen, "rename %s → %s: %s", tmp, final, strerror(errno));
        fm__export_rmtree(tmp);
        return rc;
    }
    if ((rc = update_latest(req->dir, name)) < 0) {
        snprintf(err, errlen, "cannot update %s/latest: %s", req->dir, fm_strerror(rc));
        return rc;
    }
    prune_old(req, name, req->keep ? req->keep : 1);
    snprintf(path, pathlen, "%s", final);
    return 0;
}

void fm_export_req_fini(fm_export_req_t *req)
{
    for (size_t i = 0; i < req->nfits; i++) {
        free(req->fits[i].json);
    }
    free(req->fits);
    fm_histset_free(req->hist);
    free(req->dir);
    free(req->collector_id);
    free(req->config_digest);
    for (size_t i = 0; i < req->norder; i++) {
        free(req->order[i]);
    }
    free(req->order);
    memset(req, 0, sizeof(*req));
}
