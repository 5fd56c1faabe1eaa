/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Frame decoding for the meter: link layer, VLAN/MPLS/PPPoE, IPv4/IPv6 (with IP-in-IP and IPv6
 * extension headers), GTP-U/TZSP/CAPWAP tunnels and the transport header, with the exact
 * acceptance rules and quirks of nfstream's engine (NFSTREAM.md §2, §12.8-9).  Offsets are kept
 * in the same integer widths nfstream uses (16-bit IP offsets and lengths) because the results
 * depend on them; unlike nfstream every read is checked against caplen (bytes nfstream would
 * read past the capture are taken as zero, packets whose headers leave the capture are ignored).
 */
#include "config.h"

#include <string.h>

#include "meter/meter_int.h"

/* libpcap DLT_ values (fixed numbers, so this file needs no pcap header). */
enum {
    DLT_NULL_ = 0, DLT_EN10MB_ = 1, DLT_PPP_ = 9, DLT_RAW_ = 12, DLT_PPP_SERIAL_ = 50,
    DLT_C_HDLC_ = 104, DLT_LINUX_SLL_ = 113, DLT_RADIOTAP_ = 127, DLT_IPV4_ = 228,
    DLT_IPV6_ = 229,
};

enum { ETH_IP = 0x0800, ETH_IPV6 = 0x86DD, ETH_VLAN = 0x8100, ETH_MPLS_UNI = 0x8847,
       ETH_MPLS_MULTI = 0x8848, ETH_PPPOE = 0x8864 };

enum { PORT_GTPU = 2152, PORT_TZSP = 37008, PORT_CAPWAP_DATA = 5247 };

typedef struct {
    const uint8_t *d;
    uint32_t caplen;
} frame_t;

static inline uint8_t b8(const frame_t *f, size_t off)
{
    return off < f->caplen ? f->d[off] : 0;
}

static inline uint16_t be16(const frame_t *f, size_t off)
{
    return (uint16_t)(b8(f, off) << 8 | b8(f, off + 1));
}

static inline uint32_t be32(const frame_t *f, size_t off)
{
    return (uint32_t)be16(f, off) << 16 | be16(f, off + 2);
}

/* nfstream reads some 16-bit fields without a byte swap (SNAP protocol id, radiotap length,
 * 802.11 frame control); on the little-endian hosts it runs on that is a little-endian read. */
static inline uint16_t le16(const frame_t *f, size_t off)
{
    return (uint16_t)(b8(f, off) | b8(f, off + 1) << 8);
}

/* Decoder state that survives the re-entries nfstream makes (TZSP restarts at the link layer,
 * IP-in-IP and CAPWAP restart at the IP header, keeping type, VLAN id and tunnel id). */
typedef struct {
    uint32_t eth_offset;
    uint16_t type, ip_offset, ip_len, frag_off, vlan_id;
    int pyld_eth_len;
    uint8_t proto;
    uint8_t tunnel_id;
    bool v6;
} state_t;

static int link_layer(int dlt, const frame_t *f, state_t *s, fm__meter_pkt_t *p)
{
    uint32_t e = s->eth_offset;

    switch (dlt) {
    case DLT_NULL_:
        /* the family is read big-endian: a little-endian AF_INET (2) reads as "IPv6" */
        s->type = be32(f, e) == 2 ? ETH_IP : ETH_IPV6;
        s->ip_offset = (uint16_t)(e + 4);
        return 1;
    case DLT_PPP_SERIAL_:
        s->ip_offset = (uint16_t)(e + 4);
        s->type = be16(f, e + 2);
        return 1;
    case DLT_C_HDLC_:
    case DLT_PPP_:
        /* nfstream tests the first byte of the frame, not of the link header */
        if (f->d[0] == 0x0f || f->d[0] == 0x8f) {
            s->ip_offset = (uint16_t)(e + 4);
            s->type = be16(f, e + 2);
        } else {
            s->ip_offset = (uint16_t)(e + 2);
            s->type = be16(f, e);
        }
        return 1;
    case DLT_IPV4_:
        s->type = ETH_IP;
        s->ip_offset = (uint16_t)e;
        return 1;
    case DLT_IPV6_:
        s->type = ETH_IPV6;
        s->ip_offset = (uint16_t)e;
        return 1;
    case DLT_EN10MB_: {
        memcpy(p->dst_mac, f->d + e, 6);
        memcpy(p->src_mac, f->d + e + 6, 6);
        s->ip_offset = (uint16_t)(e + 14);
        uint16_t check = be16(f, e + 12);
        if (check <= 1500) {
            s->pyld_eth_len = check;
        } else if (check >= 1536) {
            s->type = check;
        }
        if (s->pyld_eth_len != 0) {
            uint8_t dsap = b8(f, s->ip_offset), ssap = b8(f, s->ip_offset + 1u);
            if (dsap == 0xAA || ssap == 0xAA) {
                s->type = le16(f, s->ip_offset + 6u);
                s->ip_offset = (uint16_t)(s->ip_offset + 8);
            } else if (dsap == 0x42 || ssap == 0x42) {
                return 0; /* spanning tree */
            }
        }
        return 1;
    }
    case DLT_LINUX_SLL_:
        s->type = be16(f, e + 14);
        s->ip_offset = (uint16_t)(e + 16);
        return 1;
    case DLT_RADIOTAP_: {
        uint16_t radio_len = le16(f, e + 2);
        int wifi_len = 0;
        if ((b8(f, e + 16) & 0x50) == 0x50) {
            return 0; /* bad FCS */
        }
        if (f->caplen < e + radio_len + 24u) {
            return 0;
        }
        size_t w = e + radio_len;
        uint16_t fc = le16(f, w);
        if (((fc >> 2) & 0x3) != 0x2) {
            return 0; /* not a data frame */
        }
        bool to_ds = fc & 0x0100, from_ds = fc & 0x0200;
        if (to_ds != from_ds) {
            wifi_len = 26;
        }
        memcpy(p->src_mac, f->d + w + 10, 6);
        memcpy(p->dst_mac, f->d + w + 16, 6);
        if (f->caplen < e + (uint32_t)wifi_len + radio_len + 8u) {
            return 0;
        }
        size_t llc = e + (size_t)wifi_len + radio_len;
        if (b8(f, llc) == 0xAA) {
            s->type = be16(f, llc + 6);
        }
        s->ip_offset = (uint16_t)(llc + 8);
        return 1;
    }
    case DLT_RAW_:
        s->ip_offset = (uint16_t)e;
        if (f->caplen > e) {
            uint8_t v = f->d[e] >> 4;
            if (v == 4) {
                s->type = ETH_IP;
            } else if (v == 6) {
                s->type = ETH_IPV6;
            }
        }
        return 1;
    default:
        return 0;
    }
}

/* VLAN (innermost id wins), MPLS (skip to bottom of stack, assume IPv4), PPPoE (assume IPv4),
 * repeated until the type is none of them.  @return 0 when a tag does not fit. */
static int ether_types(const frame_t *f, state_t *s)
{
    for (;;) {
        switch (s->type) {
        case ETH_VLAN:
            if ((int)s->ip_offset + 4 >= (int)f->caplen) {
                return 0;
            }
            do {
                s->vlan_id = be16(f, s->ip_offset) & 0xFFF;
                s->type = be16(f, s->ip_offset + 2u);
                s->ip_offset = (uint16_t)(s->ip_offset + 4);
            } while (s->type == ETH_VLAN && (uint32_t)(s->ip_offset + 4) < f->caplen);
            break;
        case ETH_MPLS_UNI:
        case ETH_MPLS_MULTI: {
            if ((int)s->ip_offset + 4 >= (int)f->caplen) {
                return 0;
            }
            uint32_t label = be32(f, s->ip_offset);
            s->type = ETH_IP;
            s->ip_offset = (uint16_t)(s->ip_offset + 4);
            while (!(label & 0x100) && (uint32_t)s->ip_offset + 4 < f->caplen) {
                label = be32(f, s->ip_offset);
                s->ip_offset = (uint16_t)(s->ip_offset + 4);
            }
            break;
        }
        case ETH_PPPOE:
            s->type = ETH_IP;
            s->ip_offset = (uint16_t)(s->ip_offset + 8);
            break;
        default:
            return 1;
        }
    }
}

/*
 * IPv6 extension headers as nDPI's ndpi_handle_ipv6_extension_headers walks them: hop-by-hop,
 * routing, destination options, mobility skipped; a fragment header only with offset 0; "no next
 * header" or anything that does not fit fails.  l3len bounds the bytes read.
 * @return 0 on success (*l4, *l4len, *nxt advanced), 1 to ignore the packet.
 */
static int ipv6_ext_headers(const frame_t *f, uint16_t l3len, size_t *l4, uint16_t *l4len,
                            uint8_t *nxt)
{
    while (l3len > 1 && (*nxt == 0 || *nxt == 43 || *nxt == 44 || *nxt == 60 || *nxt == 135 ||
                         *nxt == 59)) {
        if (*nxt == 59) {
            return 1;
        }
        if (*nxt == 44) {
            if (*l4len < 8 || l3len < 5) {
                return 1;
            }
            l3len -= 5; /* sic: nDPI charges 5 bytes for the 8-byte fragment header */
            *nxt = b8(f, *l4);
            if ((be16(f, *l4 + 2) >> 3) != 0) {
                return 1; /* non-first fragment */
            }
            *l4len -= 8;
            *l4 += 8;
            continue;
        }
        if (*l4len < 2) {
            return 1;
        }
        uint16_t ehdr_len = (uint16_t)(b8(f, *l4 + 1) * 8 + 8);
        if (ehdr_len > l3len) {
            return 1;
        }
        l3len -= ehdr_len;
        if (*l4len < ehdr_len) {
            return 1;
        }
        *nxt = b8(f, *l4);
        *l4len -= ehdr_len;
        *l4 += ehdr_len;
    }
    return 0;
}

enum { TUN_NONE, TUN_RELINK, TUN_REIP, TUN_IGNORE };

/* GTP-U T-PDU: switch to the inner IP header (no fragment check, as nfstream). */
static int tunnel_gtp(const frame_t *f, state_t *s)
{
    unsigned offset = (unsigned)s->ip_offset + s->ip_len + 8;
    uint8_t flags = b8(f, offset), msg_type = b8(f, offset + 1);

    if (((flags & 0xE0) >> 5) != 1 || msg_type != 0xFF) {
        return TUN_NONE;
    }
    offset += 8;
    if (flags & 0x07) {
        offset += 4;
    }
    if (flags & 0x04) {
        while (offset < f->caplen) {
            unsigned ext_length = (unsigned)f->d[offset] << 2;
            offset += ext_length;
            if (offset >= f->caplen || ext_length == 0) {
                return TUN_NONE;
            }
            if (f->d[offset - 1] == 0) {
                break;
            }
        }
    }
    if (offset >= f->caplen) {
        return TUN_NONE;
    }
    s->tunnel_id = 1;
    s->ip_offset = (uint16_t)offset;
    uint8_t v = f->d[s->ip_offset] >> 4;
    if (v == 6) {
        s->v6 = true;
        return f->caplen < (uint32_t)s->ip_offset + 40 ? TUN_IGNORE : TUN_NONE;
    }
    if (v != 4) {
        return TUN_IGNORE;
    }
    s->v6 = false;
    return f->caplen < (uint32_t)s->ip_offset + 20 ? TUN_IGNORE : TUN_NONE;
}

/* TZSP: tunnel id 3 even when the payload is not Ethernet; otherwise re-parse the link layer
 * after the first tag (nfstream restarts after one tag whatever it is). */
static int tunnel_tzsp(const frame_t *f, state_t *s)
{
    unsigned offset = (unsigned)s->ip_offset + s->ip_len + 8;

    if (f->caplen < offset + 4) {
        return TUN_IGNORE;
    }
    s->tunnel_id = 3;
    if (!(f->d[offset] == 1 && f->d[offset + 1] == 0 && be16(f, offset + 2) == 1)) {
        return TUN_NONE;
    }
    offset += 4;
    if (offset >= f->caplen) {
        return TUN_NONE;
    }
    unsigned tag_len;
    switch (f->d[offset]) {
    case 0:
    case 1: tag_len = 1; break;
    default:
        if (offset + 1 >= f->caplen) {
            return TUN_IGNORE;
        }
        tag_len = f->d[offset + 1];
        break;
    }
    offset += tag_len;
    if (offset >= f->caplen) {
        return TUN_IGNORE;
    }
    s->eth_offset = offset;
    return TUN_RELINK;
}

/* CAPWAP data: MACs from the inner 802.11 header, then the IP header after its LLC/SNAP. */
static int tunnel_capwap(const frame_t *f, state_t *s, fm__meter_pkt_t *p)
{
    unsigned offset = (unsigned)s->ip_offset + s->ip_len + 8;

    if (offset + 1 >= f->caplen || (f->d[offset] & 0x0F) != 0) {
        return TUN_NONE;
    }
    offset += (f->d[offset + 1] & 0xF8) >> 1;
    if (offset + 32 >= f->caplen) {
        return TUN_NONE;
    }
    memcpy(p->src_mac, f->d + offset + 10, 6);
    memcpy(p->dst_mac, f->d + offset + 16, 6);
    offset += 24;
    s->type = be16(f, offset + 6);
    s->ip_offset = (uint16_t)(offset + 8);
    s->tunnel_id = 2;
    return TUN_REIP;
}

static int tunnels(const frame_t *f, state_t *s, fm__meter_pkt_t *p)
{
    uint32_t udp = (uint32_t)s->ip_offset + s->ip_len;

    if (f->caplen < udp + 8) {
        return TUN_IGNORE;
    }
    uint16_t sport = be16(f, udp), dport = be16(f, udp + 2);
    if ((sport == PORT_GTPU || dport == PORT_GTPU) && udp + 16 < f->caplen) {
        return tunnel_gtp(f, s);
    }
    if (sport == PORT_TZSP || dport == PORT_TZSP) {
        return tunnel_tzsp(f, s);
    }
    if (sport == PORT_CAPWAP_DATA || dport == PORT_CAPWAP_DATA) {
        return tunnel_capwap(f, s, p);
    }
    return TUN_NONE;
}

/* The IP layer loop (nfstream's iph_check).  @return 1 to go on to the transport, 0 to ignore
 * (*reason set), 2 to restart at the link layer (TZSP). */
static int ip_layer(const frame_t *f, bool decode_tunnels, state_t *s, fm__meter_pkt_t *p,
                    int *reason)
{
    for (;;) {
        if (f->caplen < (uint32_t)s->ip_offset + 20) {
            *reason = FM__METER_IGN_NOTIP;
            return 0;
        }
        size_t ip = s->ip_offset;
        uint8_t version = f->d[ip] >> 4;
        if (s->type == ETH_IP) {
            s->frag_off = be16(f, ip + 6);
            s->proto = f->d[ip + 9];
        }
        if (version == 4) {
            s->v6 = false;
            s->ip_len = (uint16_t)((f->d[ip] & 0x0F) * 4);
            if (f->d[ip + 9] == 41 || f->d[ip + 9] == 4) {
                s->ip_offset = (uint16_t)(s->ip_offset + s->ip_len);
                if (s->ip_len > 0) {
                    continue;
                }
            }
            if (s->frag_off & 0x1FFF) {
                *reason = FM__METER_IGN_FRAGMENT;
                return 0;
            }
        } else if (version == 6) {
            s->v6 = true;
            if (f->caplen < (uint32_t)s->ip_offset + 40) {
                *reason = FM__METER_IGN_TRUNC;
                return 0;
            }
            s->proto = f->d[ip + 6];
            s->ip_len = be16(f, ip + 4);
            if (f->caplen < (uint32_t)s->ip_offset + 40 + s->ip_len) {
                *reason = FM__METER_IGN_TRUNC;
                return 0;
            }
            size_t l4 = ip + 40;
            uint16_t ipsize = (uint16_t)(f->caplen - s->ip_offset);
            if (ipv6_ext_headers(f, (uint16_t)(ipsize - 40), &l4, &s->ip_len, &s->proto)) {
                *reason = FM__METER_IGN_FRAGMENT;
                return 0;
            }
            if (s->proto == 41 || s->proto == 4) {
                s->ip_offset = (uint16_t)l4;
                continue;
            }
        } else {
            *reason = FM__METER_IGN_NOTIP;
            return 0;
        }
        if (!decode_tunnels || s->proto != 17) {
            return 1;
        }
        switch (tunnels(f, s, p)) {
        case TUN_RELINK: return 2;
        case TUN_REIP: continue;
        case TUN_IGNORE: *reason = FM__METER_IGN_TRUNC; return 0;
        default: return 1;
        }
    }
}

/* Transport layer and the packet fields (nfstream's packet_parse / packet_get_ip_info). */
static int transport(const frame_t *f, const state_t *s, fm__meter_pkt_t *p)
{
    size_t ip = s->ip_offset;
    uint16_t ipsize = (uint16_t)(f->caplen - s->ip_offset);
    uint16_t tot_len, l4_len, l4_off;
    uint8_t proto;

    if (!s->v6) {
        if (ipsize < 20) {
            return 0;
        }
        l4_off = (uint16_t)((f->d[ip] & 0x0F) * 4);
        if (l4_off > ipsize) {
            return 0;
        }
        tot_len = be16(f, ip + 2);
        l4_len = (uint16_t)(tot_len - l4_off);
        proto = f->d[ip + 9];
        memset(p->src_ip, 0, sizeof p->src_ip);
        memset(p->dst_ip, 0, sizeof p->dst_ip);
        memcpy(p->src_ip, f->d + ip + 12, 4);
        memcpy(p->dst_ip, f->d + ip + 16, 4);
        p->ip_version = 4;
    } else {
        if (ipsize < 40) {
            return 0;
        }
        proto = f->d[ip + 6];
        tot_len = l4_len = be16(f, ip + 4);
        if (ipsize < 40 + tot_len) {
            return 0;
        }
        size_t l4 = ip + 40;
        if (ipv6_ext_headers(f, (uint16_t)(ipsize - 40), &l4, &l4_len, &proto)) {
            return 0;
        }
        l4_off = (uint16_t)(l4 - ip);
        if (l4_off > ipsize) {
            return 0;
        }
        memcpy(p->src_ip, f->d + ip + 8, 16);
        memcpy(p->dst_ip, f->d + ip + 24, 16);
        p->ip_version = 6;
    }
    if ((tot_len > ipsize ? tot_len : ipsize) < (int)l4_off + l4_len) {
        return 0;
    }
    size_t l4 = ip + l4_off;
    p->proto = proto;
    p->sport = p->dport = 0;
    p->tcp_flags = 0;
    p->transport_size = p->payload_size = 0;
    if (proto == 6 && l4_len >= 20) {
        p->sport = be16(f, l4);
        p->dport = be16(f, l4 + 2);
        p->tcp_flags = b8(f, l4 + 13);
        int doff = (b8(f, l4 + 12) >> 4) * 4;
        p->payload_size = (uint16_t)(l4_len > doff ? l4_len - doff : 0);
        p->transport_size = l4_len;
    } else if (proto == 17 && l4_len >= 8) {
        p->sport = be16(f, l4);
        p->dport = be16(f, l4 + 2);
        p->payload_size = (uint16_t)(l4_len > 8 ? l4_len - 8 : 0);
        p->transport_size = l4_len;
    } else if (proto == 1 || proto == 58) {
        p->payload_size = (uint16_t)(l4_len > 8 ? l4_len - 8 : 0);
        p->transport_size = l4_len;
    }
    p->vlan_id = s->vlan_id;
    p->tunnel_id = s->tunnel_id;
    p->ip_size = tot_len;
    p->ip = f->d + ip;
    p->ip_len = ipsize;
    return 1;
}

int fm__meter_decode(int dlt, const uint8_t *data, uint32_t caplen, uint32_t len,
                     bool decode_tunnels, fm__meter_pkt_t *p, int *reason)
{
    frame_t f = {data, caplen};
    state_t s = {0};

    memset(p->src_mac, 0, 6);
    memset(p->dst_mac, 0, 6);
    p->raw_size = (uint16_t)len;
    for (;;) {
        if (caplen < s.eth_offset + 28) {
            *reason = FM__METER_IGN_SHORT;
            return 0;
        }
        if (!link_layer(dlt, &f, &s, p)) {
            *reason = FM__METER_IGN_LINK;
            return 0;
        }
        if (!ether_types(&f, &s)) {
            *reason = FM__METER_IGN_TRUNC;
            return 0;
        }
        int r = ip_layer(&f, decode_tunnels, &s, p, reason);
        if (r == 0) {
            return 0;
        }
        if (r == 1) {
            break;
        }
    }
    if (!transport(&f, &s, p)) {
        *reason = FM__METER_IGN_TRUNC;
        return 0;
    }
    return 1;
}
