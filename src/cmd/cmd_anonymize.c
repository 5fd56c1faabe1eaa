/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmix anonymize: flow-models `anonymize`: keep the IPv4 records (af 2, or 0 = unknown) and
 * replace sa3 and da3 by their Crypto-PAn images under a 32-byte --key (cryptopan.h), each
 * address computed once and cached; everything else of the record is kept.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "cmd/cmdio.h"
#include "cmd/cryptopan.h"
#include "flowio.h"
#include "util/err.h"

int fm_cmd_anonymize(int argc, char **argv);

#define BATCH 1024

/* Address → image, open addressing; grows at half load. */
typedef struct {
    uint32_t *key, *val;
    uint8_t *used;
    size_t cap, n;
} cache_t;

static uint32_t image(cache_t *c, const fm_cryptopan_t *cp, uint32_t a)
{
    if (2 * (c->n + 1) > c->cap) {
        cache_t g = {.cap = c->cap ? 2 * c->cap : 4096};
        g.key = malloc(g.cap * sizeof(uint32_t));
        g.val = malloc(g.cap * sizeof(uint32_t));
        g.used = calloc(g.cap, 1);
        if (!g.key || !g.val || !g.used) {
            free(g.key), free(g.val), free(g.used);
            return fm_cryptopan_ipv4(cp, a); /* no room to cache: compute every time */
        }
        for (size_t i = 0; i < c->cap; i++) {
            if (c->used[i]) {
                size_t j = (c->key[i] * 2654435761u) & (g.cap - 1);
                while (g.used[j]) {
                    j = (j + 1) & (g.cap - 1);
                }
                g.used[j] = 1, g.key[j] = c->key[i], g.val[j] = c->val[i];
            }
        }
        g.n = c->n;
        free(c->key), free(c->val), free(c->used);
        *c = g;
    }
    size_t j = (a * 2654435761u) & (c->cap - 1);
    while (c->used[j] && c->key[j] != a) {
        j = (j + 1) & (c->cap - 1);
    }
    if (!c->used[j]) {
        c->used[j] = 1, c->key[j] = a, c->val[j] = fm_cryptopan_ipv4(cp, a), c->n++;
    }
    return c->val[j];
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmix anonymize --key KEY [-i FMT] [-o FMT] [-O OUT] [--filter-expr EXPR]\n"
            "                         [--skip-in N] [--count-in N] [--skip-out N]"
            " [--count-out N] FILE...\n\n"
            "Crypto-PAn prefix-preserving anonymisation of IPv4 flows (flow-models anonymize):\n"
            "IPv4 records (af 2 or 0) with sa3 and da3 replaced, other records dropped.\n"
            "  --key KEY   32 bytes long encryption key\n"
            "  -i FMT      input format (default nfcapd); -o FMT output (default csv_flow)\n");
}

static int anonymize_file(const char *path, fm_cmdio_t *io, const fm_cryptopan_t *cp,
                          cache_t *cache, fm_writer_t *w, fm_flow_t *buf)
{
    fm_reader_t *r;
    long n = 0;
    int rc = fm_reader_open(path, (fm_format_t)io->in_fmt, &r);

    if (rc < 0) {
        return rc;
    }
    rc = 1;
    while (rc == 1 && (n = fm_reader_read(r, buf, BATCH)) > 0) {
        size_t keep = 0;
        for (long i = 0; i < n && rc == 1; i++) {
            int s = fm_select_step(&io->sel, &buf[i]);
            uint64_t t[FM_FIELD_COUNT];
            if (s < 0) {
                rc = 0;
                break;
            }
            fm_flow_to_tuple(&buf[i], t);
            if (s == 0 || (t[FM_FIELD_AF] != 0 && t[FM_FIELD_AF] != 2)) {
                continue;
            }
            t[FM_FIELD_SA3] = image(cache, cp, (uint32_t)t[FM_FIELD_SA3]);
            t[FM_FIELD_DA3] = image(cache, cp, (uint32_t)t[FM_FIELD_DA3]);
            if (fm_flow_from_tuple(t, &buf[keep], NULL) == 0) {
                keep++;
            }
        }
        int wrc = w ? fm_writer_write(w, buf, keep) : 0;
        rc = wrc < 0 ? wrc : rc;
    }
    if (rc == 1 && n < 0) {
        rc = (int)n;
    }
    fm_reader_close(r);
    return rc;
}

int fm_cmd_anonymize(int argc, char **argv)
{
    static const struct option opts[] = {
        FM_CMDIO_LONGOPTS,
        {"key", required_argument, NULL, 'k'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fm_cmdio_t io;
    const char *key = "";
    int opt, rc;

    fm_cmdio_init(&io, "anonymize");
    optind = 1;
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":i:o:O:f:h", opts, NULL)) != -1) {
        if (opt == 'h') {
            usage(stdout);
            return 0;
        } else if (opt == 'k') {
            key = optarg;
        } else if (opt == '?' || opt == ':') {
            return fm_cmd_bad_option("anonymize", opt, argv);
        } else if (fm_cmdio_option(&io, opt, optarg, NULL) < 0) {
            return 2;
        }
    }
    if (strlen(key) != 32) {
        return fm_cmd_usage_error("anonymize", "--key: a 32 bytes long encryption key is needed");
    }
    if (optind >= argc) {
        return fm_cmd_usage_error("anonymize", "no input files");
    }
    if (fm_cmdio_finish(&io) < 0) {
        return 2;
    }
    fm_cryptopan_t cp;
    fm_cryptopan_init(&cp, (const uint8_t *)key);
    fm_writer_t *w = NULL;
    if (io.out_fmt != FM_CMDIO_OUT_NONE && fm_writer_open(io.out, (fm_format_t)io.out_fmt, &w) < 0) {
        fm_cmdio_free(&io);
        return 1;
    }
    cache_t cache = {0};
    fm_flow_t *buf = calloc(BATCH, sizeof(*buf));
    rc = buf ? 1 : FM_ENOMEM;
    for (int i = optind; i < argc && rc == 1; i++) {
        rc = anonymize_file(argv[i], &io, &cp, &cache, w, buf);
    }
    int wrc = w ? fm_writer_close(w) : 0;
    if (rc == FM_ENOMEM) {
        fprintf(stderr, "flowmix anonymize: %s\n", fm_strerror(rc));
    }
    free(buf);
    free(cache.key), free(cache.val), free(cache.used);
    fm_cmdio_free(&io);
    return rc < 0 || wrc < 0 ? 1 : 0;
}
