/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Flow writers of the meter (see output.h).  The CSV reproduces nfstream's to_csv: a header of
 * the enabled columns, strings in double quotes (inner quotes as \"), integers in decimal,
 * doubles as Python prints them, splt arrays as Python lists.
 */
#include "config.h"

#include "meter/output.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"

#define STDIO_BUFFER (1 << 20)

struct fm_meter_csv {
    FILE *f;
    char *iobuf;
    bool own;
    bool header_done;
    bool failed;
    fm_meter_opts_t o;
    char *buf;
    size_t cap;
};

int fm_meter_csv_open(const char *path, const fm_meter_opts_t *o, fm_meter_csv_t **out)
{
    fm_meter_csv_t *w = calloc(1, sizeof *w);

    if (!w) {
        return FM_ENOMEM;
    }
    w->o = *o;
    if (strcmp(path, "-") == 0) {
        w->f = stdout;
    } else {
        w->f = fopen(path, "w");
        w->own = true;
        if (!w->f) {
            int e = errno;
            free(w);
            return -e;
        }
    }
    /* a large stdio buffer: 16 times fewer write calls.  stdout's must outlive the writer,
     * so it is static (set before anything is written to stdout, once) */
    static char stdout_buf[STDIO_BUFFER];
    static bool stdout_buffered;
    if (w->own) {
        w->iobuf = malloc(STDIO_BUFFER);
        if (w->iobuf) {
            setvbuf(w->f, w->iobuf, _IOFBF, STDIO_BUFFER);
        }
    } else if (!stdout_buffered) {
        stdout_buffered = true;
        setvbuf(stdout, stdout_buf, _IOFBF, STDIO_BUFFER);
    }
    *out = w;
    return 0;
}

void fm_meter_fmt_double(char *buf, size_t len, double v)
{
    char tmp[40], digits[24];
    int nd = 0;

    if (isnan(v) || isinf(v)) {
        snprintf(buf, len, "%s", isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    /* shortest digit string that reads back to the same double (Python's repr) */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) {
            break;
        }
    }
    const char *t = tmp;
    bool neg = *t == '-';
    t += neg;
    for (; *t && *t != 'e'; t++) {
        if (*t != '.' && nd < (int)sizeof digits - 1) {
            digits[nd++] = *t;
        }
    }
    while (nd > 1 && digits[nd - 1] == '0') {
        nd--;
    }
    digits[nd] = '\0';
    int exp10 = atoi(t + 1);
    size_t o = 0;
#define PUT(...) (o += (size_t)snprintf(buf + o, o < len ? len - o : 0, __VA_ARGS__))
    if (neg) {
        PUT("-");
    }
    if (exp10 < -4 || exp10 >= 16) {
        PUT("%c", digits[0]);
        if (nd > 1) {
            PUT(".%s", digits + 1);
        }
        PUT("e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    } else if (exp10 < 0) {
        PUT("0.%0*d%s", -exp10 - 1, 0, digits);
        if (exp10 == -1) { /* "%0*d" with width 0 still printed one 0: redo */
            o = neg;
            PUT("0.%s", digits);
        }
    } else if (nd <= exp10 + 1) {
        PUT("%s%0*d.0", digits, exp10 + 1 - nd, 0);
        if (nd == exp10 + 1) {
            o = neg;
            PUT("%s.0", digits);
        }
    } else {
        PUT("%.*s.%s", exp10 + 1, digits, digits + exp10 + 1);
    }
#undef PUT
}

/* Rows are built in a line buffer with hand-written formatting (fprintf per field was most of
 * the writer's time) and written with one fwrite. */
typedef struct {
    char *p;
    char *end;
} line_t;

static void put_raw(line_t *l, const char *s, size_t n)
{
    if ((size_t)(l->end - l->p) < n) {
        n = (size_t)(l->end - l->p);
    }
    memcpy(l->p, s, n);
    l->p += n;
}

static void put_c(line_t *l, char c)
{
    if (l->p < l->end) {
        *l->p++ = c;
    }
}

static void put_u64(line_t *l, uint64_t v)
{
    char tmp[24];
    char *e = tmp + sizeof tmp, *q = e;

    do {
        *--q = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    put_raw(l, q, (size_t)(e - q));
}

static void put_i64(line_t *l, int64_t v)
{
    if (v < 0) {
        put_c(l, '-');
        put_u64(l, (uint64_t)0 - (uint64_t)v);
    } else {
        put_u64(l, (uint64_t)v);
    }
}

/* A string as nfstream's to_csv writes it: in double quotes, inner quotes as \". */
static void put_str(line_t *l, const char *s)
{
    put_c(l, '"');
    for (; *s; s++) {
        if (*s == '"') {
            put_c(l, '\\');
        }
        put_c(l, *s);
    }
    put_c(l, '"');
}

static void put_ip(line_t *l, const uint8_t ip[16], int version)
{
    char buf[INET6_ADDRSTRLEN];

    if (version == 4) { /* inet_ntop goes through sprintf: a third of the writer's time */
        put_c(l, '"');
        for (int i = 0; i < 4; i++) {
            if (i) {
                put_c(l, '.');
            }
            put_u64(l, ip[i]);
        }
        put_c(l, '"');
        return;
    }
    inet_ntop(AF_INET6, ip, buf, sizeof buf);
    put_str(l, buf);
}

static void put_mac(line_t *l, const uint8_t mac[6], bool oui)
{
    static const char hex[] = "0123456789abcdef";
    char buf[18];
    int n = oui ? 3 : 6;

    for (int i = 0; i < n; i++) {
        buf[3 * i] = hex[mac[i] >> 4];
        buf[3 * i + 1] = hex[mac[i] & 15];
        buf[3 * i + 2] = ':';
    }
    put_c(l, '"');
    put_raw(l, buf, (size_t)(3 * n - 1));
    put_c(l, '"');
}

static void put_double(line_t *l, double v)
{
    char buf[64];

    fm_meter_fmt_double(buf, sizeof buf, v);
    put_raw(l, buf, strlen(buf));
}

static const char *const scope_names[3] = {"bidirectional", "src2dst", "dst2src"};
static const char *const flag_names[FM_METER_NFLAGS] = {"syn", "cwr", "ece", "urg",
                                                        "ack", "psh", "rst", "fin"};

static void header(fm_meter_csv_t *w)
{
    FILE *f = w->f;

    fputs("id,expiration_id,src_ip,src_mac,src_oui,src_port,dst_ip,dst_mac,dst_oui,dst_port,"
          "protocol,ip_version,vlan_id", f);
    if (w->o.decode_tunnels) {
        fputs(",tunnel_id", f);
    }
    for (int s = 0; s < 3; s++) {
        fprintf(f, ",%1$s_first_seen_ms,%1$s_last_seen_ms,%1$s_duration_ms,%1$s_packets,"
                   "%1$s_bytes", scope_names[s]);
    }
    if (w->o.statistics) {
        for (int s = 0; s < 3; s++) {
            fprintf(f, ",%1$s_min_ps,%1$s_mean_ps,%1$s_stddev_ps,%1$s_max_ps", scope_names[s]);
        }
        for (int s = 0; s < 3; s++) {
            fprintf(f, ",%1$s_min_piat_ms,%1$s_mean_piat_ms,%1$s_stddev_piat_ms,"
                       "%1$s_max_piat_ms", scope_names[s]);
        }
        for (int s = 0; s < 3; s++) {
            for (int k = 0; k < FM_METER_NFLAGS; k++) {
                fprintf(f, ",%s_%s_packets", scope_names[s], flag_names[k]);
            }
        }
    }
    if (w->o.splt) {
        fputs(",splt_direction,splt_ps,splt_piat_ms", f);
    }
    if (w->o.dissections) {
        fputs(",application_name,application_category_name,application_is_guessed,"
              "application_confidence,requested_server_name,client_fingerprint,"
              "server_fingerprint,user_agent,content_type", f);
    }
    fputc('\n', f);
}

static void put_list(line_t *l, int n, const void *arr, int kind)
{
    put_raw(l, "\"[", 2);
    for (int i = 0; i < n; i++) {
        if (i) {
            put_raw(l, ", ", 2);
        }
        put_i64(l, kind == 0   ? ((const int8_t *)arr)[i]
                   : kind == 1 ? ((const int32_t *)arr)[i]
                               : ((const int64_t *)arr)[i]);
    }
    put_raw(l, "]\"", 2);
}

#define SEP() put_c(l, ',')

static void row_stats(line_t *l, const fm_meter_flow_t *fl)
{
    for (int s = 0; s < 3; s++) {
        SEP(), put_u64(l, fl->min_ps[s]);
        SEP(), put_double(l, fl->mean_ps[s]);
        SEP(), put_double(l, fl->stddev_ps[s]);
        SEP(), put_u64(l, fl->max_ps[s]);
    }
    for (int s = 0; s < 3; s++) {
        SEP(), put_u64(l, fl->min_piat_ms[s]);
        SEP(), put_double(l, fl->mean_piat_ms[s]);
        SEP(), put_double(l, fl->stddev_piat_ms[s]);
        SEP(), put_u64(l, fl->max_piat_ms[s]);
    }
    for (int s = 0; s < 3; s++) {
        for (int k = 0; k < FM_METER_NFLAGS; k++) {
            SEP(), put_u64(l, fl->flag_packets[s][k]);
        }
    }
}

static void row_ndpi(line_t *l, const fm_meter_flow_t *fl)
{
    SEP(), put_str(l, fl->application_name);
    SEP(), put_str(l, fl->category_name);
    SEP(), put_i64(l, fl->application_is_guessed);
    SEP(), put_i64(l, fl->application_confidence);
    SEP(), put_str(l, fl->requested_server_name);
    SEP(), put_str(l, fl->client_fingerprint);
    SEP(), put_str(l, fl->server_fingerprint);
    SEP(), put_str(l, fl->user_agent);
    SEP(), put_str(l, fl->content_type);
}

void fm_meter_csv_write(fm_meter_csv_t *w, const fm_meter_flow_t *fl)
{
    if (!w->header_done) {
        header(w);
        w->header_done = true;
    }
    /* splt lists can be long (65535 entries of up to 20 characters each) */
    size_t need = 8192 + (size_t)w->o.splt * 48;
    if (need > w->cap) {
        char *b = realloc(w->buf, need);
        if (!b) {
            w->failed = true;
            return;
        }
        w->buf = b;
        w->cap = need;
    }
    line_t line = {w->buf, w->buf + w->cap}, *l = &line;
    put_u64(l, fl->id);
    SEP(), put_i64(l, fl->expiration_id);
    SEP(), put_ip(l, fl->src_ip, fl->ip_version);
    SEP(), put_mac(l, fl->src_mac, false);
    SEP(), put_mac(l, fl->src_mac, true);
    SEP(), put_u64(l, fl->src_port);
    SEP(), put_ip(l, fl->dst_ip, fl->ip_version);
    SEP(), put_mac(l, fl->dst_mac, false);
    SEP(), put_mac(l, fl->dst_mac, true);
    SEP(), put_u64(l, fl->dst_port);
    SEP(), put_u64(l, fl->protocol);
    SEP(), put_u64(l, fl->ip_version);
    SEP(), put_u64(l, fl->vlan_id);
    if (w->o.decode_tunnels) {
        SEP(), put_u64(l, fl->tunnel_id);
    }
    for (int s = 0; s < 3; s++) {
        SEP(), put_u64(l, fl->first_ms[s]);
        SEP(), put_u64(l, fl->last_ms[s]);
        SEP(), put_u64(l, fl->duration_ms[s]);
        SEP(), put_u64(l, fl->packets[s]);
        SEP(), put_u64(l, fl->bytes[s]);
    }
    if (w->o.statistics) {
        row_stats(l, fl);
    }
    if (w->o.splt) {
        SEP(), put_list(l, w->o.splt, fl->splt_direction, 0);
        SEP(), put_list(l, w->o.splt, fl->splt_ps, 1);
        SEP(), put_list(l, w->o.splt, fl->splt_piat_ms, 2);
    }
    if (w->o.dissections) {
        row_ndpi(l, fl);
    }
    put_c(l, '\n');
    if (fwrite(w->buf, 1, (size_t)(l->p - w->buf), w->f) != (size_t)(l->p - w->buf)) {
        w->failed = true;
    }
}

int fm_meter_csv_close(fm_meter_csv_t *w)
{
    int rc = 0;

    if (!w) {
        return 0;
    }
    if (fflush(w->f) != 0 || ferror(w->f) || w->failed) {
        rc = FM_EIO;
    }
    if (w->own && fclose(w->f) != 0) {
        rc = FM_EIO;
    }
    free(w->iobuf);
    free(w->buf);
    free(w);
    return rc;
}

void fm_meter_to_flow(const fm_meter_flow_t *mf, fm_flow_t *out)
{
    memset(out, 0, sizeof *out);
    if (mf->ip_version == 4) {
        uint32_t a, b;
        memcpy(&a, mf->src_ip, 4);
        memcpy(&b, mf->dst_ip, 4);
        fm_flow_set_v4(out->src, ntohl(a));
        fm_flow_set_v4(out->dst, ntohl(b));
        out->af = FM_AF_INET;
    } else {
        memcpy(out->src, mf->src_ip, 16);
        memcpy(out->dst, mf->dst_ip, 16);
        out->af = FM_AF_INET6;
    }
    out->sport = mf->src_port;
    out->dport = mf->dst_port;
    out->proto = mf->protocol;
    out->first_ms = mf->first_ms[FM_METER_S2D];
    out->last_ms = mf->last_ms[FM_METER_S2D];
    out->packets = mf->packets[FM_METER_S2D];
    out->octets = mf->bytes[FM_METER_S2D];
    out->tcp_flags = mf->tcp_flags[FM_METER_S2D];
    if (mf->packets[FM_METER_D2S]) {
        out->rev_first_ms = mf->first_ms[FM_METER_D2S];
        out->rev_last_ms = mf->last_ms[FM_METER_D2S];
        out->rev_packets = mf->packets[FM_METER_D2S];
        out->rev_octets = mf->bytes[FM_METER_D2S];
        out->rev_tcp_flags = mf->tcp_flags[FM_METER_D2S];
        out->flags = FM_FLOW_BIFLOW;
    }
    out->sampling = 1;
    out->records = 1;
    out->fwd_first = 1;
}
