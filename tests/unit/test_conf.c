/* SPDX-License-Identifier: BSD-2-Clause */
/* Unit tests of the configuration parser: defaults, errors with file:line, sections. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "conf.h"
#include "hist.h"
#include "util/err.h"

static char path[64];

static const char *write_conf(const char *text)
{
    snprintf(path, sizeof(path), "/tmp/fm-test-conf.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    return path;
}

static int load(const char *text, fm_config_t **cfg, char *err, size_t len)
{
    int rc = fm_config_load(write_conf(text), cfg, err, len);
    unlink(path);
    return rc;
}

static void test_defaults(void **state)
{
    fm_config_t *cfg;
    char err[256];
    (void)state;
    unsetenv("STATE_DIRECTORY");
    unsetenv("RUNTIME_DIRECTORY");
    assert_int_equal(fm_config_load(NULL, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->state_dir, "./var");
    assert_string_equal(cfg->store_path, "./var/flowmix.db");
    assert_string_equal(cfg->ctl_socket, "./var/control.sock");
    assert_string_equal(cfg->udp, "[::]:2055, [::]:4739");
    assert_int_equal(cfg->cache_memory, 256);
    assert_int_equal(cfg->active_ms, 300000);
    assert_int_equal(cfg->inactive_ms, 15000);
    assert_int_equal(cfg->export_delay_ms, 5000);
    assert_int_equal(cfg->bin_exp, 12);
    assert_int_equal(cfg->window_ms, 3600000);
    assert_int_equal(cfg->commit_interval_ms, 10000);
    assert_int_equal(cfg->rcvbuf, 16u << 20);
    /* The agh_2015 jobs: all/tcp/udp x length/size x flows/packets/octets. */
    assert_int_equal(cfg->nfits, 18);
    assert_string_equal(cfg->fits[0].name, "all-length-flows");
    assert_int_equal(cfg->fits[0].U, 6);
    assert_int_equal(cfg->fits[0].L, 4);
    assert_int_equal(cfg->fits[0].max_iter, 400);
    fm_config_free(cfg);
}

static void test_systemd_dirs(void **state)
{
    fm_config_t *cfg;
    char err[256];
    (void)state;
    setenv("STATE_DIRECTORY", "/var/lib/flowmix", 1);
    setenv("RUNTIME_DIRECTORY", "/run/flowmix", 1);
    assert_int_equal(fm_config_load(NULL, &cfg, err, sizeof(err)), 0);
    assert_string_equal(cfg->store_path, "/var/lib/flowmix/flowmix.db");
    assert_string_equal(cfg->ctl_socket, "/run/flowmix/control.sock");
    fm_config_free(cfg);
    unsetenv("STATE_DIRECTORY");
    unsetenv("RUNTIME_DIRECTORY");
}

static void test_values(void **state)
{
    fm_config_t *cfg;
    char err[256];
    (void)state;
    assert_int_equal(load("[daemon]\nstate_dir = /tmp/x\nlog_level = debug\n"
                          "[cache]\nmemory = 8\nactive_timeout = 30m\ninactive_timeout = 1.5s\n"
                          "[listen]\nrcvbuf = 4M\n[hist]\nwindow = 5m\n"
                          "[fit.a]\nclass = tcp\nmetric = size\ny = octets\nL = 5\n"
                          "[exporter.r1]\naddress = 192.0.2.1\nactive_timeout = 1800\n",
                          &cfg, err, sizeof(err)), 0);
    assert_int_equal(cfg->cache_memory, 8);
    assert_int_equal(cfg->active_ms, 1800000);
    assert_int_equal(cfg->inactive_ms, 1500);
    assert_int_equal(cfg->rcvbuf, 4u << 20);
    assert_int_equal(cfg->window_ms, 300000);
    assert_string_equal(cfg->store_path, "/tmp/x/flowmix.db");
    assert_int_equal(cfg->nfits, 1); /* explicit jobs replace the defaults */
    assert_int_equal(cfg->fits[0].cls, FM_CLASS_TCP);
    assert_int_equal(cfg->fits[0].metric, FM_METRIC_SIZE);
    assert_int_equal(cfg->fits[0].y, 2);
    assert_int_equal(cfg->fits[0].L, 5);
    assert_int_equal(cfg->nexporters, 1);
    assert_int_equal(cfg->exporters[0].active_ms, 1800000);
    fm_config_free(cfg);
}

static void expect_error(const char *text, const char *needle)
{
    fm_config_t *cfg = NULL;
    char err[256] = "";
    int rc = load(text, &cfg, err, sizeof(err));
    if (rc == 0 || !strstr(err, needle)) {
        fail_msg("config %s: rc %d, message '%s', expected '%s'", text, rc, err, needle);
    }
    assert_null(cfg);
}

static void test_errors(void **state)
{
    (void)state;
    expect_error("[cache]\nmemroy = 8\n", ":2: unknown key 'memroy' in [cache]");
    expect_error("[daemon]\n\n[cache]\nmemory = lots\n", ":4: [cache] memory = 'lots'");
    expect_error("[nope]\nx = 1\n", ":2: key 'x' in unknown section [nope]");
    expect_error("[cache]\nactive_timeout = -5\n", ":2:");
    expect_error("[cache]\nactive_timeout = 5q\n", "duration");
    expect_error("[daemon]\nlog_level = loud\n", ":2:");
    expect_error("[hist]\nbin_exp = 99\n", ":2:");
    expect_error("[fit.x]\nclass = ipx\n", "[fit.x] class = 'ipx'");
    expect_error("[fit.x]\nfoo = 1\n", "unknown key 'foo' in [fit.x]");
    expect_error("[exporter.e]\nactive_timeout = 5\n", "[exporter.e] needs address");
    expect_error("[cache]\nactive_timeout = 10\ninactive_timeout = 15\n", "larger than");
    expect_error("this is not ini\n", ":1: syntax error");
    expect_error("[export]\nplots = maybe\n", "yes or no");
}

/* Issue 20 items 7 and 12: values that parsed but left the daemon useless, unbounded or
 * loading code from outside plugin_dir are refused, each with its reason. */
static void test_bounds(void **state)
{
    (void)state;
    char line[400];
    expect_error("[listen]\nmax_templates = 0\n", "must be at least 1");
    expect_error("[listen]\nmax_exporters = 0\n", "must be at least 1");
    expect_error("[cache]\nmax_sources = 0\n", "must be at least 1");
    expect_error("[cache]\nmax_sources = 65536\n", "within range");
    expect_error("[cache]\nmemory = 1048576\n", "MiB of RAM");
    expect_error("[exporter.a]\naddress = 192.0.2.1\nactive_timeout = 10\n"
                 "inactive_timeout = 20\n", "[exporter.a] inactive_timeout (20 s) is above");
    expect_error("[exporter.a]\naddress = 192.0.2.1\nactive_timeout = 10\n",
                 "inactive_timeout (15 s) is above active_timeout (10 s)");
    expect_error("[plugin.../../x]\ndir = /tmp\n", "a plugin name is letters");
    expect_error("[plugin...]\ndir = /tmp\n", "a plugin name is letters");
    expect_error("[plugin.a]\npath = ..\n", "a file name in plugin_dir");
    snprintf(line, sizeof(line), "[daemon]\n# %0300d\n", 0);
    expect_error(line, ":2: line longer than 198 characters");
}

static void test_missing_file(void **state)
{
    fm_config_t *cfg = NULL;
    char err[256];
    (void)state;
    assert_int_equal(fm_config_load("/nonexistent/flowmixd.conf", &cfg, err, sizeof(err)),
                     -ENOENT);
    assert_non_null(strstr(err, "/nonexistent/flowmixd.conf"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),  cmocka_unit_test(test_systemd_dirs),
        cmocka_unit_test(test_values),    cmocka_unit_test(test_errors),
        cmocka_unit_test(test_missing_file), cmocka_unit_test(test_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
