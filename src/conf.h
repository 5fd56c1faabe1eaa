/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Daemon configuration: one table of keys with types, defaults and help text drives the INI
 * parser (inih), validation, `flowmixd --print-config` and the shipped etc/flowmixd.conf.
 * A reload parses into a fresh object; the daemon swaps it in only if it validated.
 * Each module receives the typed section it needs.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define FM_CONFIG_MAX_LISTEN 16

typedef struct {
    char *name;        /* from [fit.NAME] */
    int cls;           /* fm_class_t */
    int metric;        /* fm_metric_t */
    int direction;     /* fm_dir_t */
    int y;             /* 0 flows, 1 packets, 2 octets */
    unsigned U, L, P;
    unsigned max_iter;
    double tol;
} fm_config_fit_t;

typedef struct {
    char *name;        /* from [exporter.NAME] */
    char *address;     /* IP address, optional ":port" / "[v6]:port" */
    uint64_t active_ms;
    uint64_t inactive_ms;
} fm_config_exporter_t;

typedef struct {
    char *name;        /* from [plugin.NAME] */
    char *path;        /* shared object; default PKGLIBDIR/plugins/NAME.so */
    size_t nkeys;
    char **keys;       /* other keys of the section, passed to the plugin's init */
    char **values;
    unsigned line;
} fm_config_plugin_t;

/* [input.kafka]: histogram deltas consumed from Kafka (an aggregating flowmixd, issue 10). */
typedef struct {
    bool enabled;      /* the section is present */
    char *brokers;     /* bootstrap servers */
    char *topic;       /* default flowmix.hist */
    char *group;       /* consumer group, default flowmix-aggregator */
    size_t nprops;     /* rdkafka.NAME = VALUE keys, NAME without the prefix */
    char **keys;
    char **values;
} fm_config_kafka_in_t;

/* [input.capture] / [input.capture.NAME]: packets metered by flowmixd itself (nfstream
 * semantics, src/meter/), on a thread of their own. */
typedef struct {
    char *name;                /* "capture" or "capture.NAME" */
    char *interface;           /* live interface (needs CAP_NET_RAW) ... */
    char *file;                /* ... or a capture file, read once */
    char *bpf;
    uint64_t idle_ms;          /* default 120 s */
    uint64_t active_ms;        /* default 1800 s */
    uint64_t accounting_mode;  /* 0-3, default 0 */
    uint64_t dissections;      /* nDPI packets per flow, default 0 here (labels are not stored) */
} fm_config_capture_t;

typedef struct fm_config {
    char *file;               /* path it was read from, or NULL for built-in defaults */
    /* [daemon] */
    char *state_dir;
    int log_level;
    char *log_target;         /* auto | stderr | syslog | journal */
    char *log_time;           /* utc | local: stderr time stamps */
    char *plugin_dir;
    char *collector_id;       /* names this daemon's histogram deltas; default the hostname */
    uint64_t workers;         /* cache shards on threads; 0 = one per online CPU */
    /* [listen] */
    char *udp;                /* comma-separated ADDR:PORT list */
    uint64_t rcvbuf;          /* bytes */
    uint64_t template_timeout_ms;
    uint64_t max_exporters;
    uint64_t max_templates;   /* per exporter */
    uint64_t max_templates_total; /* all exporters together */
    uint64_t exporter_timeout_ms; /* silent exporters are forgotten after it; 0: never */
    /* [control] */
    char *ctl_socket;
    uint64_t ctl_idle_ms;     /* idle control clients closed after it */
    /* [metrics] */
    char *metrics_listen;     /* ADDR:PORT of /metrics, "" = off */
    /* [cache] */
    uint64_t cache_memory;    /* MiB */
    uint64_t cache_max_sources;
    uint64_t active_ms;
    uint64_t inactive_ms;
    uint64_t export_delay_ms;
    bool biflow;
    char *cache_merge;        /* flow-models | ft-profiler: which rules join split records */
    /* [hist] */
    uint64_t bin_exp;
    uint64_t window_ms;
    /* [fit] */
    uint64_t fit_interval_ms;
    bool fit_defaults;        /* add the agh_2015 jobs when no [fit.NAME] is given */
    /* [store] */
    char *store_path;
    uint64_t commit_interval_ms;
    uint64_t retention_ms;
    /* [export] */
    char *export_dir;
    uint64_t export_interval_ms;
    uint64_t export_keep;
    bool export_plots;

    fm_config_fit_t *fits;
    size_t nfits;
    fm_config_exporter_t *exporters;
    size_t nexporters;
    fm_config_plugin_t *plugins;
    size_t nplugins;
    fm_config_kafka_in_t kafka_in;
    fm_config_capture_t *captures;
    size_t ncaptures;
} fm_config_t;

/**
 * Read a configuration file (or only defaults if path is NULL) and validate it.
 * @param[in]  path    INI file, or NULL.
 * @param[out] out     new config, caller frees with fm_config_free().
 * @param[out] err     message naming file:line on failure.
 * @return 0, FM_ECONFIG (syntax, unknown key, bad value) or -errno (cannot open).
 */
int fm_config_load(const char *path, fm_config_t **out, char *err, size_t errlen);
void fm_config_free(fm_config_t *cfg);

/**
 * What a reload from run to next changes, by the key table's reloadable column.
 * @param[out] applied  "[section] key, ..." of changed keys a reload applies (malloc'd or NULL).
 * @param[out] restart  the same for changed keys (and [plugin.*], [input.kafka],
 *                      [exporter.*] sections) that take effect only after a restart.
 * @return the number of restart-only changes.
 */
size_t fm_config_reload_diff(const fm_config_t *run, const fm_config_t *next, char **applied,
                             char **restart);

/**
 * Make next describe what keeps running after a reload: every restart-only key takes run's
 * value, and the [plugin.NAME] and [input.kafka] sections are swapped with run's (so freeing
 * run frees next's unused ones).
 */
void fm_config_keep_running(fm_config_t *next, fm_config_t *run);

/** Write every key with its default value and help text, as an INI file (etc/flowmixd.conf). */
void fm_config_print_defaults(FILE *out);
/** Write the effective configuration (after defaults) as INI. */
void fm_config_print(const fm_config_t *cfg, FILE *out);
