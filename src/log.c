/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging to stderr (foreground, with a timestamp), syslog, or the systemd journal.  Writes are
 * whole lines so concurrent processes do not interleave partial messages.
 */
#include "config.h"
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifdef HAVE_SYSTEMD
#include <systemd/sd-journal.h>
#endif

#include "util/err.h"
#include "util/time.h"

static struct {
    fm_log_target_t target;
    int level;
    const char *ident;
    bool local_time; /* stderr stamps in local time (with its offset) instead of UTC */
} g_log = {FM_LOG_TARGET_STDERR, LOG_NOTICE, "flowmix", false};

static const char *const level_names[] = {"emerg", "alert", "crit", "error",
                                          "warning", "notice", "info", "debug"};

void fm_log_set_local_time(bool local)
{
    g_log.local_time = local;
}

void fm_log_init(const char *ident, fm_log_target_t target)
{
    g_log.ident = ident;
    g_log.target = target;
#ifndef HAVE_SYSTEMD
    if (target == FM_LOG_TARGET_JOURNAL) {
        g_log.target = FM_LOG_TARGET_SYSLOG;
    }
#endif
    if (g_log.target == FM_LOG_TARGET_SYSLOG) {
        openlog(ident, LOG_PID | LOG_NDELAY, LOG_DAEMON);
    }
}

void fm_log_set_level(int level)
{
    g_log.level = level;
}

int fm_log_get_level(void)
{
    return g_log.level;
}

int fm_log_parse_level(const char *name)
{
    for (int i = LOG_ERR; i <= LOG_DEBUG; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            return i;
        }
    }
    if (strcasecmp(name, "err") == 0) {
        return LOG_ERR;
    }
    if (strcasecmp(name, "warn") == 0) {
        return LOG_WARNING;
    }
    return FM_EINVAL;
}

const char *fm_log_level_name(int level)
{
    if (level < 0 || level > LOG_DEBUG) {
        return "unknown";
    }
    return level_names[level];
}

bool fm_log_enabled(int level)
{
    return level <= g_log.level;
}

static void write_stderr(int level, const char *msg)
{
    char stamp[FM_TIME_ISO_LEN];

    /* ISO-8601 with its offset, so lines from hosts in other zones (or DST) compare. */
    fm_time_format_iso_ms(stamp, sizeof(stamp), fm_time_wall_ms(), g_log.local_time);
    fprintf(stderr, "%s %s[%s]: %s\n", stamp, g_log.ident, level_names[level], msg);
    fflush(stderr);
}

void fm_log(int level, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    if (!fm_log_enabled(level)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);

    switch (g_log.target) {
    case FM_LOG_TARGET_SYSLOG:
        syslog(level, "%s", msg);
        break;
#ifdef HAVE_SYSTEMD
    case FM_LOG_TARGET_JOURNAL:
        sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%i", level, "SYSLOG_IDENTIFIER=%s",
                        g_log.ident, NULL);
        break;
#endif
    default:
        write_stderr(level, msg);
        break;
    }
}

void fm_ratelimit_init(fm_ratelimit_t *rl, uint32_t burst, uint32_t interval_ms)
{
    memset(rl, 0, sizeof(*rl));
    rl->burst = burst ? burst : 1;
    rl->tokens = rl->burst;
    rl->interval_ms = interval_ms ? interval_ms : 1000;
}

bool fm_ratelimit_allow(fm_ratelimit_t *rl)
{
    uint64_t now = fm_time_mono_ms();

    if (rl->burst == 0) {
        fm_ratelimit_init(rl, 10, 1000);
    }
    if (rl->last_ms == 0) {
        rl->last_ms = now;
    }
    if (now > rl->last_ms) {
        uint64_t refill = (now - rl->last_ms) / rl->interval_ms;
        if (refill > 0) {
            uint64_t t = rl->tokens + refill;
            rl->tokens = t > rl->burst ? rl->burst : (uint32_t)t;
            rl->last_ms += refill * rl->interval_ms;
        }
    }
    if (rl->tokens > 0) {
        rl->tokens--;
        rl->suppressed = 0;
        return true;
    }
    rl->suppressed++;
    return false;
}
