/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nDPI glue of the meter: one detection module per meter, all protocols enabled, and per flow
 * an ndpi_flow_struct kept inside the flow's slot (zeroed at creation, its inner allocations
 * released at expiry), driven as nfstream drives it (NFSTREAM.md §8).  Written against Debian's
 * libndpi 4.2 (no input_info argument; confidence enum 0-4), see doc/guide.md for how its labels
 * differ from the nDPI that produced nfstream's reference results.  Without nDPI (configure
 * --without-ndpi or not found) every function is a no-op and labels stay empty.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "meter/meter_int.h"
#include "util/err.h"

#ifdef HAVE_NDPI
#include <ndpi/ndpi_api.h>

struct fm__meter_dpi {
    struct ndpi_detection_module_struct *mod;
    size_t flow_size;
};

/* Per-flow state: the protocol nfstream keeps beside nDPI's flow, then nDPI's flow itself. */
typedef struct {
    ndpi_protocol detected;
    uint8_t guessed;
    _Alignas(16) unsigned char flow[];
} dpi_flow_t;

bool fm_meter_has_ndpi(const char **version)
{
    if (version) {
        *version = ndpi_revision();
    }
    return true;
}

int fm__meter_dpi_new(fm__meter_dpi_t **out)
{
    fm__meter_dpi_t *d = calloc(1, sizeof *d);

    if (!d) {
        return FM_ENOMEM;
    }
    d->mod = ndpi_init_detection_module(ndpi_no_prefs);
    if (!d->mod) {
        free(d);
        return FM_ENOMEM;
    }
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(d->mod, &all);
    ndpi_finalize_initialization(d->mod);
    d->flow_size = ndpi_detection_get_sizeof_ndpi_flow_struct();
    *out = d;
    return 0;
}

void fm__meter_dpi_free(fm__meter_dpi_t *d)
{
    if (d) {
        ndpi_exit_detection_module(d->mod);
        free(d);
    }
}

size_t fm__meter_dpi_flow_size(void)
{
    return sizeof(dpi_flow_t) + ndpi_detection_get_sizeof_ndpi_flow_struct();
}

void fm__meter_dpi_flow_init(fm__meter_dpi_t *d, void *st)
{
    memset(st, 0, sizeof(dpi_flow_t) + d->flow_size);
}

void fm__meter_dpi_flow_fini(fm__meter_dpi_t *d, void *st)
{
    (void)d;
    ndpi_free_flow_data((struct ndpi_flow_struct *)((dpi_flow_t *)st)->flow);
}

void fm__meter_dpi_process(fm__meter_dpi_t *d, void *st, const fm__meter_pkt_t *p, uint64_t t)
{
    dpi_flow_t *f = st;

    f->detected = ndpi_detection_process_packet(d->mod, (struct ndpi_flow_struct *)f->flow,
                                                p->ip, p->ip_len, t);
}

bool fm__meter_dpi_unknown(const void *st)
{
    return ((const dpi_flow_t *)st)->detected.app_protocol == NDPI_PROTOCOL_UNKNOWN;
}

bool fm__meter_dpi_extra_possible(fm__meter_dpi_t *d, void *st)
{
    return ndpi_extra_dissection_possible(d->mod,
                                          (struct ndpi_flow_struct *)((dpi_flow_t *)st)->flow);
}

void fm__meter_dpi_giveup(fm__meter_dpi_t *d, void *st)
{
    dpi_flow_t *f = st;

    f->detected = ndpi_detection_giveup(d->mod, (struct ndpi_flow_struct *)f->flow, 1,
                                        &f->guessed);
}

static bool is_proto(const ndpi_protocol *p, uint16_t id)
{
    return p->master_protocol == id || p->app_protocol == id;
}

static void copy_str(char *dst, size_t size, const char *src)
{
    snprintf(dst, size, "%s", src ? src : "");
}

void fm__meter_dpi_collect(fm__meter_dpi_t *d, void *st, fm_meter_flow_t *o)
{
    dpi_flow_t *f = st;
    struct ndpi_flow_struct *nf = (struct ndpi_flow_struct *)f->flow;
    const ndpi_protocol *p = &f->detected;

    ndpi_protocol2name(d->mod, *p, o->application_name, sizeof o->application_name);
    /* nfstream copies 24 bytes of the category name */
    snprintf(o->category_name, 25, "%s", ndpi_category_get_name(d->mod, p->category));
    o->application_is_guessed = f->guessed;
    o->application_confidence = (int)nf->confidence;
    copy_str(o->requested_server_name, sizeof o->requested_server_name, nf->host_server_name);
    o->client_fingerprint[0] = o->server_fingerprint[0] = '\0';
    o->user_agent[0] = o->content_type[0] = '\0';
    if (is_proto(p, NDPI_PROTOCOL_DHCP)) {
        copy_str(o->client_fingerprint, sizeof o->client_fingerprint,
                 nf->protos.dhcp.fingerprint);
    } else if (is_proto(p, NDPI_PROTOCOL_HTTP)) {
        copy_str(o->content_type, sizeof o->content_type, nf->http.content_type);
        copy_str(o->user_agent, sizeof o->user_agent, nf->http.user_agent);
    } else if (is_proto(p, NDPI_PROTOCOL_SSH)) {
        copy_str(o->client_fingerprint, sizeof o->client_fingerprint,
                 nf->protos.ssh.hassh_client);
        copy_str(o->server_fingerprint, sizeof o->server_fingerprint,
                 nf->protos.ssh.hassh_server);
    } else if (is_proto(p, NDPI_PROTOCOL_TLS) || is_proto(p, NDPI_PROTOCOL_DTLS) ||
               is_proto(p, NDPI_PROTOCOL_MAIL_SMTPS) || is_proto(p, NDPI_PROTOCOL_MAIL_IMAPS) ||
               is_proto(p, NDPI_PROTOCOL_MAIL_POPS) || is_proto(p, NDPI_PROTOCOL_QUIC)) {
        copy_str(o->user_agent, sizeof o->user_agent, nf->http.user_agent);
        copy_str(o->client_fingerprint, sizeof o->client_fingerprint,
                 nf->protos.tls_quic.ja3_client);
        copy_str(o->server_fingerprint, sizeof o->server_fingerprint,
                 nf->protos.tls_quic.ja3_server);
    }
}

#else /* !HAVE_NDPI */

struct fm__meter_dpi {
    int unused;
};

bool fm_meter_has_ndpi(const char **version)
{
    if (version) {
        *version = NULL;
    }
    return false;
}

int fm__meter_dpi_new(fm__meter_dpi_t **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? 0 : FM_ENOMEM;
}

void fm__meter_dpi_free(fm__meter_dpi_t *d)
{
    free(d);
}

size_t fm__meter_dpi_flow_size(void)
{
    return 0;
}

void fm__meter_dpi_flow_init(fm__meter_dpi_t *d, void *st)
{
    (void)d, (void)st;
}

void fm__meter_dpi_flow_fini(fm__meter_dpi_t *d, void *st)
{
    (void)d, (void)st;
}

void fm__meter_dpi_process(fm__meter_dpi_t *d, void *st, const fm__meter_pkt_t *p, uint64_t t)
{
    (void)d, (void)st, (void)p, (void)t;
}

bool fm__meter_dpi_unknown(const void *st)
{
    (void)st;
    return false; /* nothing to give up on */
}

bool fm__meter_dpi_extra_possible(fm__meter_dpi_t *d, void *st)
{
    (void)d, (void)st;
    return false;
}

void fm__meter_dpi_giveup(fm__meter_dpi_t *d, void *st)
{
    (void)d, (void)st;
}

void fm__meter_dpi_collect(fm__meter_dpi_t *d, void *st, fm_meter_flow_t *o)
{
    (void)d, (void)st;
    o->application_name[0] = o->category_name[0] = '\0';
    o->application_is_guessed = o->application_confidence = 0;
    o->requested_server_name[0] = o->client_fingerprint[0] = o->server_fingerprint[0] = '\0';
    o->user_agent[0] = o->content_type[0] = '\0';
}

#endif
