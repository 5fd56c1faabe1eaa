/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Logging: one entry point with syslog priorities, targets stderr / journal / syslog, runtime
 * level filter and a rate limiter for per-packet events.  The loop thread logs; thread-pool jobs
 * and signal handlers never do (they return a status that the loop thread logs).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

typedef enum {
    FM_LOG_TARGET_STDERR = 0,
    FM_LOG_TARGET_SYSLOG,
    FM_LOG_TARGET_JOURNAL,
} fm_log_target_t;

/** Initialise logging.  @param[in] ident program name shown in syslog. */
void fm_log_init(const char *ident, fm_log_target_t target);
/** Set the highest priority that is written (LOG_ERR … LOG_DEBUG). */
void fm_log_set_level(int level);
/** Stamp stderr lines in local time with its offset instead of UTC ("...Z", the default). */
void fm_log_set_local_time(bool local);
int fm_log_get_level(void);
/** Parse "error", "warning", "notice", "info", "debug".  @return level or FM_EINVAL. */
int fm_log_parse_level(const char *name);
const char *fm_log_level_name(int level);
/** @return true if a message at this level would be written. */
bool fm_log_enabled(int level);

void fm_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define fm_log_err(...) fm_log(LOG_ERR, __VA_ARGS__)
#define fm_log_warn(...) fm_log(LOG_WARNING, __VA_ARGS__)
#define fm_log_notice(...) fm_log(LOG_NOTICE, __VA_ARGS__)
#define fm_log_info(...) fm_log(LOG_INFO, __VA_ARGS__)
#define fm_log_debug(...) fm_log(LOG_DEBUG, __VA_ARGS__)

/**
 * Token bucket for per-packet messages: at most `burst` messages, refilled at one per
 * `interval_ms`.  Embed one per message class (or per exporter).  Public fields: none; zero
 * initialisation plus fm_ratelimit_init() is enough.
 */
typedef struct {
    uint64_t last_ms;    /* private */
    uint32_t tokens;     /* private */
    uint32_t burst;      /* private */
    uint32_t interval_ms;/* private */
    uint64_t suppressed; /* read-only: messages dropped since the last one written */
} fm_ratelimit_t;

void fm_ratelimit_init(fm_ratelimit_t *rl, uint32_t burst, uint32_t interval_ms);
/** @return true if the caller may log now; counts a suppressed message otherwise. */
bool fm_ratelimit_allow(fm_ratelimit_t *rl);

/** Log through a rate limiter; a note of how many were suppressed is appended when it reopens. */
#define fm_log_rl(rl, level, fmt, ...)                                                        \
    do {                                                                                       \
        if (fm_log_enabled(level)) {                                                           \
            uint64_t fm__sup = (rl)->suppressed;                                               \
            if (fm_ratelimit_allow(rl)) {                                                      \
                if (fm__sup) {                                                                 \
                    fm_log(level, fmt " (%llu similar messages suppressed)", ##__VA_ARGS__,    \
                           (unsigned long long)fm__sup);                                       \
                } else {                                                                       \
                    fm_log(level, fmt, ##__VA_ARGS__);                                         \
                }                                                                              \
            }                                                                                  \
        }                                                                                      \
    } while (0)
