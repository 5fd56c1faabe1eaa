/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Shared flow-models IO options and one-line usage errors of the `flowmix` subcommands
 * (cmdio.h).  flow-models' argparse prints one usage error line; so do we, with a pointer to
 * --help instead of the whole help text.
 */
#include "config.h"

#include "cmd/cmdio.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "util/err.h"

void fm_cmdio_init(fm_cmdio_t *io, const char *cmd)
{
    memset(io, 0, sizeof(*io));
    io->cmd = cmd;
    io->in_fmt = FM_FMT_NFCAPD;
    io->out_fmt = FM_FMT_CSV_FLOW;
    io->out = "-";
}

int fm_cmd_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "flowmix %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see flowmix %s --help)\n", cmd);
    return 2;
}

int fm_cmd_bad_option(const char *cmd, int opt, char **argv)
{
    const char *text = optind > 0 ? argv[optind - 1] : "?";

    if (optopt > 0 && optopt < 0x100) {
        return fm_cmd_usage_error(cmd, opt == ':' ? "option -%c needs a value"
                                                  : "unknown option -%c", optopt);
    }
    if (opt == ':' || optopt != 0) {
        return fm_cmd_usage_error(cmd, "option %s needs a value", text);
    }
    return fm_cmd_usage_error(cmd, "unknown option %s", text);
}

int fm_cmdio_count(const char *text, unsigned long long *v)
{
    char *end;

    if (!text[0] || text[0] == '-' || text[0] == '+') {
        return FM_EINVAL;
    }
    errno = 0;
    *v = strtoull(text, &end, 10);
    return errno || *end ? FM_EINVAL : 0;
}

/* Is name one of the space-separated words of list? */
static bool in_list(const char *list, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ' ');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) {
            return true;
        }
        p = e ? e + 1 : NULL;
    }
    return false;
}

static int out_format(fm_cmdio_t *io, const char *arg, const char *extra)
{
    int f;

    if (strcmp(arg, "none") == 0) {
        io->out_fmt = FM_CMDIO_OUT_NONE;
        return 1;
    }
    if (in_list(extra, arg)) {
        io->out_fmt = FM_FMT_AUTO;
        return 1;
    }
    if (strcmp(arg, "append") == 0 || strcmp(arg, "extend") == 0) {
        fm_cmd_usage_error(io->cmd, "-o %s collects records into a Python list when flow-models"
                                    " is used as a library; there is no list here (use -o none"
                                    " to read without writing)", arg);
        return FM_EINVAL;
    }
    if (extra) {
        fm_cmd_usage_error(io->cmd, "-o %s: not an output format of this command (%s, none)",
                           arg, extra);
        return FM_EINVAL;
    }
    f = fm_format_parse(arg);
    if (f <= 0 || f == FM_FMT_NFCAPD) {
        fm_cmd_usage_error(io->cmd, "-o %s: not an output format (csv_flow, binary, pipe, ftcsv, none)",
                           arg);
        return FM_EINVAL;
    }
    io->out_fmt = f;
    return 1;
}

static int count_opt(fm_cmdio_t *io, const char *name, const char *arg, uint64_t *v, bool *has)
{
    unsigned long long x;

    if (fm_cmdio_count(arg, &x) < 0) {
        fm_cmd_usage_error(io->cmd, "--%s: not a count: '%s'", name, arg);
        return FM_EINVAL;
    }
    *v = x;
    if (has) {
        *has = true;
    }
    return 1;
}

int fm_cmdio_option(fm_cmdio_t *io, int opt, const char *arg, const char *out_formats)
{
    switch (opt) {
    case 'i':
        io->in_fmt = fm_format_parse(arg);
        if (io->in_fmt < 0) {
            fm_cmd_usage_error(io->cmd, "-i %s: not an input format (csv_flow, pipe, nfcapd,"
                                        " binary, ftcsv, auto)", arg);
            return FM_EINVAL;
        }
        return 1;
    case 'o': return out_format(io, arg, out_formats);
    case 'O': io->out = arg; return 1;
    case 'f': io->expr = arg; return 1;
    case FM_CMDIO_SKIP_IN: return count_opt(io, "skip-in", arg, &io->sel.skip_in, NULL);
    case FM_CMDIO_COUNT_IN:
        return count_opt(io, "count-in", arg, &io->sel.count_in, &io->sel.has_count_in);
    case FM_CMDIO_SKIP_OUT: return count_opt(io, "skip-out", arg, &io->sel.skip_out, NULL);
    case FM_CMDIO_COUNT_OUT:
        return count_opt(io, "count-out", arg, &io->sel.count_out, &io->sel.has_count_out);
    default: return 0;
    }
}

int fm_cmdio_finish(fm_cmdio_t *io)
{
    char err[256];

    if (!io->expr) {
        return 0;
    }
    if (fm_filter_compile(io->expr, &io->filter, err, sizeof(err)) < 0) {
        fprintf(stderr, "flowmix %s: --filter-expr: %s: %s\n", io->cmd, err, io->expr);
        return FM_EINVAL;
    }
    io->sel.filter = io->filter;
    return 0;
}

void fm_cmdio_free(fm_cmdio_t *io)
{
    fm_filter_free(io->filter);
    io->filter = NULL;
    io->sel.filter = NULL;
}

void fm_cmd_print_memory(const char *cmd)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) == 0) {
        fprintf(stderr, "flowmix %s: memory max: %ld KiB resident\n", cmd, ru.ru_maxrss);
    }
}
