/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * flowmixd: the collector daemon.  A thin main: options, logging, configuration, then the daemon
 * object (src/daemon.c) runs the loop until SIGTERM/SIGINT.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "daemon_ctl.h"
#include "log.h"
#include "util/err.h"
#include "util/mem.h"

#define DEFAULT_CONFIG SYSCONFDIR "/flowmix/flowmixd.conf"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: flowmixd [-f] [-c FILE] [--check-config] [--dump] [--version] [--help]\n\n"
            "Collect NetFlow v5/v9 and IPFIX, rebuild flows, keep flow length/size/duration\n"
            "histograms and fit mixture models to them.\n\n"
            "  -c, --config FILE   configuration file (default %s if it exists,\n"
            "                      else built-in defaults with state in ./var)\n"
            "  -f, --foreground    stay in the foreground (always true under systemd)\n"
            "  -d, --debug         log level debug\n"
            "      --check-config  validate the configuration and exit\n"
            "      --print-config  print the effective configuration and exit\n"
            "      --print-defaults print every key with its default (etc/flowmixd.conf)\n"
            "      --dump          also print every decoded record on stdout\n"
            "  -V, --version       print the version and exit\n"
            "  -h, --help          this text\n\n"
            "See flowmixd(8) and flowmixd.conf(5).\n",
            DEFAULT_CONFIG);
}

enum { OPT_CHECK = 256, OPT_DUMP, OPT_PRINT, OPT_DEFAULTS };

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"foreground", no_argument, NULL, 'f'},
        {"debug", no_argument, NULL, 'd'},        {"check-config", no_argument, NULL, OPT_CHECK},
        {"dump", no_argument, NULL, OPT_DUMP},    {"print-config", no_argument, NULL, OPT_PRINT},
        {"print-defaults", no_argument, NULL, OPT_DEFAULTS},
        {"version", no_argument, NULL, 'V'},      {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    fm_daemon_opts_t opts = {0};
    bool check = false, print = false, debug = false;
    const char *path = NULL;
    int c;

    fm_mem_daemon_policy(); /* before any thread: freed job memory goes back (util/mem.h) */
    while ((c = getopt_long(argc, argv, "c:fdVh", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'f': opts.foreground = true; break;
        case 'd': debug = opts.debug = true; break;
        case OPT_CHECK: check = true; break;
        case OPT_DUMP: opts.dump = true; break;
        case OPT_PRINT: print = true; break;
        case OPT_DEFAULTS: fm_config_print_defaults(stdout); return 0;
        case 'V': printf("flowmixd %s\n", PACKAGE_VERSION); return 0;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "flowmixd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!path && access(DEFAULT_CONFIG, R_OK) == 0) {
        path = DEFAULT_CONFIG;
    }

    fm_config_t *cfg;
    char err[512];
    int rc = fm_config_load(path, &cfg, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "flowmixd: %s\n", err);
        return 1;
    }
    if (debug) {
        cfg->log_level = LOG_DEBUG;
    }
    if (check || print) {
        if (print) {
            fm_config_print(cfg, stdout);
        } else if ((rc = fm_daemon_check(cfg, err, sizeof(err))) < 0) {
            /* A message that names its own FILE:LINE is printed as it is. */
            size_t plen = path ? strlen(path) : 0;
            if (plen && !strncmp(err, path, plen) && err[plen] == ':') {
                fprintf(stderr, "flowmixd: %s\n", err);
            } else {
                fprintf(stderr, "flowmixd: %s: %s\n", path ? path : "(defaults)", err);
            }
            fm_config_free(cfg);
            return 1;
        } else {
            printf("flowmixd: configuration %s is valid\n", path ? path : "(defaults)");
        }
        fm_config_free(cfg);
        return 0;
    }
    opts.config_path = path;
    opts.control_start = fm_daemon_ctl_start;
    opts.control_stop = fm_daemon_ctl_stop;
    opts.control_free = fm_daemon_ctl_free;
    return fm_daemon_main(cfg, &opts);
}
