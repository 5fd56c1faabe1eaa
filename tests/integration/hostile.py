#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Hostile exporters against a running flowmixd (driven by tests/integration/05x-*.sh).

usage: hostile.py CMD PORT SOCKET FLOWMIXCTL PID [ARGS]
  templates MAX_TEMPLATES   template flood: IPFIX and v9 template IDs over many domains
  exporters MAX_EXPORTERS N many source ports (spoofed exporter count)
  seq                       sequence-number games (wraps, backwards jumps, duplicates)
  garbage N                 random datagrams of random sizes
  sources N                 source flood: N v5 datagrams with distinct (engine id, sampling)
                            pairs; RSS growth <= 32 MiB, a new exporter still merged
  churn N                   template churn: N messages, each withdrawing template X-1 and
                            defining a 100-field template X (half of them with random
                            enterprise elements); RSS growth <= 32 MiB

Datagrams are packed here with struct, independently of the C encoders; expectations come from
RFC 3954/7011 and the counting rules in src/decode/decode.h.  Prints the figures it measured
and exits non-zero (with a message) on the first failed check.
"""
import json
import random
import socket
import struct
import subprocess
import sys
import time

PORT, SOCK, CTL, PID = 0, "", "", 0


def ctl(*args):
    out = subprocess.run([CTL, "-s", SOCK, "--json"] + list(args), check=True,
                         capture_output=True, text=True, timeout=20).stdout
    return json.loads(out)["result"]


def check(cond, msg):
    if not cond:
        print("FAIL: " + msg, file=sys.stderr)
        sys.exit(1)


def rss_kb(field):
    with open("/proc/%d/status" % PID) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def wait_datagrams(n, timeout=20.0):
    """Wait until the daemon has received at least n datagrams (all ingest is one loop)."""
    end = time.time() + timeout
    st = ctl("status")
    while st["datagrams"] < n and time.time() < end:
        time.sleep(0.05)
        st = ctl("status")
    return st


def sender():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def send_paced(s, dgs):
    # localhost delivery is lossless while the receive buffer has room: pause every 200
    for i, d in enumerate(dgs):
        s.sendto(d, ("127.0.0.1", PORT))
        if i % 200 == 199:
            time.sleep(0.01)


# ---- NetFlow v5 (fixed 24-byte header, 48-byte records) ----
def v5(seq, nrec=1, engine=0, t=1700000000):
    hdr = struct.pack(">HHIIIIBBH", 5, nrec, 100000, t, 0, seq, 0, engine, 0)
    recs = b"".join(struct.pack(">IIIHHIIIIHHBBBBHHBBH", 0x0a000001, 0x0a000002 + i, 0, 1, 2,
                                3, 300, 99000, 99500, 1024 + i, 80, 0, 0x1b, 6, 0, 0, 0, 24,
                                24, 0) for i in range(nrec))
    return hdr + recs


# ---- NetFlow v9 (RFC 3954) ----
V9_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 4), (1, 4), (22, 4), (21, 4)]


def v9(seq, source_id, flowsets, t=1700000000):
    body = b"".join(flowsets)
    return struct.pack(">HHIIII", 9, len(flowsets), 100000, t, seq, source_id) + body


def v9_template_set(tids):
    recs = b""
    for tid in tids:
        recs += struct.pack(">HH", tid, len(V9_FIELDS))
        recs += b"".join(struct.pack(">HH", f, n) for f, n in V9_FIELDS)
    return struct.pack(">HH", 0, 4 + len(recs)) + recs


# ---- IPFIX (RFC 7011) ----
IPFIX_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (2, 8), (1, 8), (152, 8), (153, 8)]


def ipfix(seq, domain, sets, t=1700000000):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), t, seq, domain) + body


def ipfix_template_set(tids):
    recs = b""
    for tid in tids:
        recs += struct.pack(">HH", tid, len(IPFIX_FIELDS))
        recs += b"".join(struct.pack(">HH", f, n) for f, n in IPFIX_FIELDS)
    return struct.pack(">HH", 2, 4 + len(recs)) + recs


def ipfix_data_set(tid, n):
    recs = b"".join(struct.pack(">IIHHBQQQQ", 0x0a000001, 0x0a000002, 1000 + i, 53, 17, 1, 80,
                                1700000000000, 1700000000100) for i in range(n))
    return struct.pack(">HH", tid, 4 + len(recs)) + recs


# ---- the four games ----
def templates(max_templates):
    """Thousands of distinct template IDs, IPFIX and v9, over many domains / source ids, from
    a few exporters.  Each exporter's templates stay at or under max_templates; the overflow is
    refused (counted as malformed datagrams); a well-behaved exporter still gets through."""
    base_rss = rss_kb("VmRSS")
    flooders = [sender() for _ in range(4)]
    sent = 0
    defined = 0
    for rnd in range(2):
        for k, s in enumerate(flooders):
            dgs = []
            for dom in range(40):
                for chunk in range(6):
                    tids = [256 + (rnd * 6 + chunk) * 20 + j for j in range(20)]
                    if k % 2 == 0:
                        dgs.append(ipfix(0, 1000 * k + dom, [ipfix_template_set(tids)]))
                    else:
                        dgs.append(v9(chunk, 1000 * k + dom, [v9_template_set(tids)]))
                    defined += len(tids)
            send_paced(s, dgs)
            sent += len(dgs)
        wait_datagrams(sent)
    st = wait_datagrams(sent)
    check(st["datagrams"] >= sent * 0.99, "daemon lost flood datagrams: %d of %d" %
          (st["datagrams"], sent))
    ports = {s.getsockname()[1] for s in flooders}
    exps = [e for e in ctl("exporters")["exporters"] if e["port"] in ports]
    check(len(exps) == len(flooders), "flooding exporters not listed: %s" % exps)
    for e in exps:
        check(e["templates"] <= max_templates,
              "exporter %d holds %d templates > max_templates %d" % (e["port"], e["templates"],
                                                                     max_templates))
        check(e["templates"] >= min(max_templates, 100),
              "exporter %d kept only %d templates" % (e["port"], e["templates"]))
        if "limit_drops" in e:
            check(e["limit_drops"] > 0, "no limit_drops counted for %d" % e["port"])
    check(st["malformed"] > 0, "template overflow not counted (malformed = 0)")
    # a fresh exporter is still served: template + 5 records in one message
    good = sender()
    before = st["records"]
    good.sendto(ipfix(0, 7, [ipfix_template_set([300]), ipfix_data_set(300, 5)]),
                ("127.0.0.1", PORT))
    st = wait_datagrams(sent + 1)
    end = time.time() + 10
    while st["records"] < before + 5 and time.time() < end:
        time.sleep(0.05)
        st = ctl("status")
    check(st["records"] == before + 5, "records after flood: %d, expected %d" %
          (st["records"], before + 5))
    hwm = rss_kb("VmHWM")
    print("template flood: %d datagrams, %d template definitions from %d exporters; "
          "templates per exporter %s (limit %d); malformed %d; RSS %d kB before, VmHWM %d kB "
          "after" % (sent, defined, len(flooders), [e["templates"] for e in exps], max_templates,
                     st["malformed"], base_rss, hwm))
    ctl("ping")


def exporters(max_exporters, n):
    """n distinct source ports (sockets opened in batches of 250 to stay under the fd limit),
    one valid v5 datagram each: the table stays at max_exporters and every exporter beyond it
    evicts exactly one."""
    seen = set()
    sent = 0
    while len(seen) < n:
        batch = [sender() for _ in range(min(250, n - len(seen)))]
        for s in batch:
            port = s.getsockname()[1]
            if port in seen:
                continue
            seen.add(port)
            s.sendto(v5(0), ("127.0.0.1", PORT))
            sent += 1
        time.sleep(0.02)
        for s in batch:
            s.close()
    st = wait_datagrams(sent)
    check(st["datagrams"] == sent, "datagrams %d != sent %d" % (st["datagrams"], sent))
    check(st["exporters"] == max_exporters, "exporters %d != max_exporters %d" %
          (st["exporters"], max_exporters))
    check(st["exporters_evicted"] == sent - max_exporters,
          "exporters_evicted %d != %d" % (st["exporters_evicted"], sent - max_exporters))
    listed = ctl("exporters")["exporters"]
    check(len(listed) == max_exporters, "exporters lists %d" % len(listed))
    check(st["records"] == sent, "records %d != %d" % (st["records"], sent))
    print("spoofed exporters: %d source ports, table %d (limit %d), evicted %d, VmHWM %d kB" %
          (sent, st["exporters"], max_exporters, st["exporters_evicted"], rss_kb("VmHWM")))


class SeqModel:
    """Independent model of RFC 3954/7011 sequence accounting: a forward jump of d (mod 2^32,
    d < 2^31) is one gap of d lost units; a backwards jump resynchronises; wrap is no gap."""

    def __init__(self):
        self.next = {}
        self.gaps = 0
        self.lost = 0

    def see(self, key, seq, advance):
        if key in self.next and seq != self.next[key]:
            diff = (seq - self.next[key]) % (1 << 32)
            if diff < (1 << 31):
                self.gaps += 1
                self.lost += diff
        self.next[key] = (seq + advance) % (1 << 32)


def seq():
    m = SeqModel()
    s = sender()
    dgs = []
    # v5, 2 records per datagram, engine 1: normal, wrap, jump, duplicate, backwards, restart
    for sq in [0, 2, 4, 0xFFFFFFFE, 0, 2, 10, 10, 4, 6, 1000, 0x7FFFFFFF, 0, 7]:
        dgs.append(v5(sq, nrec=2, engine=1))
        m.see(("v5", 1), sq, 2)
    # v9 counts datagrams: template first, then sequences with gaps and wrap
    for i, sq in enumerate([5, 6, 7, 9, 9, 3, 0xFFFFFFFF, 0, 1, 50]):
        sets = [v9_template_set([260])] if i == 0 else []
        dgs.append(v9(sq, 77, sets))
        m.see(("v9", 77), sq, 1)
    # IPFIX counts data records: 3 per message after the template message
    dgs.append(ipfix(100, 5, [ipfix_template_set([261])]))
    m.see(("ipfix", 5), 100, 0)
    for sq in [100, 103, 106, 200, 203, 150, 153, 0xFFFFFFFE, 1, 4, 4]:
        dgs.append(ipfix(sq, 5, [ipfix_data_set(261, 3)]))
        m.see(("ipfix", 5), sq, 3)
    send_paced(s, dgs)
    st = wait_datagrams(len(dgs))
    check(st["datagrams"] == len(dgs), "datagrams %d != %d" % (st["datagrams"], len(dgs)))
    port = s.getsockname()[1]
    e = [x for x in ctl("exporters")["exporters"] if x["port"] == port]
    check(len(e) == 1, "exporter not listed")
    e = e[0]
    check(e["malformed"] == 0, "sequence games counted as malformed: %d" % e["malformed"])
    check(e["seq_gaps"] == m.gaps, "seq_gaps %d, model %d" % (e["seq_gaps"], m.gaps))
    check(e["seq_lost"] == m.lost, "seq_lost %d, model %d" % (e["seq_lost"], m.lost))
    print("sequence games: %d datagrams, seq_gaps %d, seq_lost %d (model agrees)" %
          (len(dgs), e["seq_gaps"], e["seq_lost"]))


def garbage(n):
    """Random bytes of random sizes (1..9000; an empty datagram is not seen by the daemon at
    all), with a plausible version field in a quarter of them: every datagram
    that cannot be decoded is counted as malformed (or bad version), and ping still answers."""
    rnd = random.Random(11)
    s = sender()
    dgs = []
    for i in range(n):
        size = rnd.choice([1, 2, 3, 15, 16, 23, 24, 100, rnd.randrange(1, 9000)])
        b = bytearray(rnd.getrandbits(8) for _ in range(size))
        if i % 4 == 1 and size >= 2:
            b[0:2] = struct.pack(">H", rnd.choice([5, 9, 10]))  # a plausible version field
        dgs.append(bytes(b))
    send_paced(s, dgs)
    st = wait_datagrams(len(dgs))
    check(st["datagrams"] == len(dgs), "datagrams %d != %d" % (st["datagrams"], len(dgs)))
    # random data is overwhelmingly invalid; require most to be counted, none to crash
    check(st["malformed"] >= len(dgs) * 0.9, "malformed %d of %d garbage datagrams" %
          (st["malformed"], len(dgs)))
    check(st["records"] == 0 or st["records"] < len(dgs), "records from garbage")
    ctl("ping")
    print("garbage: %d datagrams, malformed %d, records %d, VmHWM %d kB" %
          (len(dgs), st["malformed"], st["records"], rss_kb("VmHWM")))


def asan():
    with open("/proc/%d/maps" % PID) as f:
        return "libasan" in f.read()


def churn_template(tid, rnd):
    """A 100-field template record: IANA counters, or random enterprise elements when rnd."""
    if rnd is None:
        fields = b"".join(struct.pack(">HH", 1 + i % 2, 8) for i in range(100))
    else:
        fields = b"".join(struct.pack(">HHI", 0x8000 | rnd.randrange(1, 0x7fff), 4,
                                      rnd.randrange(1, 1 << 32)) for _ in range(100))
    return struct.pack(">HH", tid, 100) + fields


def churn(n):
    """Issue 20 item 1: one exporter withdraws template X-1 and defines template X in every
    message; ids run over 256..65535 and domains 0..255.  The exporter holds 1 template at a
    time, so neither our table nor libfixbuf's session nor the information model may grow with
    n.  Afterwards the exporter's current template still decodes."""
    rnd = random.Random(20)
    s = sender()
    st = wait_datagrams(0)
    base_dg, base_rec = st["datagrams"], st["records"]
    base_rss = rss_kb("VmRSS")
    prev = {}
    for i in range(n):
        tid = 256 + (i * 7919) % 65280
        dom = i % 256
        wd = struct.pack(">HHHH", 2, 8, prev.get(dom, 256), 0)
        prev[dom] = tid
        t = churn_template(tid, rnd if i % 2 else None)
        s.sendto(ipfix(i, dom, [wd, struct.pack(">HH", 2, 4 + len(t)) + t]), ("127.0.0.1", PORT))
        if i % 100 == 99:
            time.sleep(0.004)
        if i % 2000 == 1999:
            wait_datagrams(base_dg + i + 1)
    st = wait_datagrams(base_dg + n)
    check(st["datagrams"] >= base_dg + n, "daemon lost churn datagrams")
    # the live template of a real exporter on the same transport still decodes
    s.sendto(ipfix(n, 9, [ipfix_template_set([300]), ipfix_data_set(300, 5)]),
             ("127.0.0.1", PORT))
    st = wait_datagrams(base_dg + n + 1)
    end = time.time() + 10
    while st["records"] < base_rec + 5 and time.time() < end:
        time.sleep(0.05)
        st = ctl("status")
    check(st["records"] == base_rec + 5, "records after churn: %d, expected %d" %
          (st["records"] - base_rec, 5))
    port = s.getsockname()[1]
    e = [x for x in ctl("exporters")["exporters"] if x["port"] == port][0]
    rss = rss_kb("VmRSS")
    print("template churn: %d messages, templates held %d, malformed %d; RSS %d kB before, "
          "%d kB after (+%d kB), VmHWM %d kB" % (n, e["templates"], e["malformed"], base_rss,
                                                  rss, rss - base_rss, rss_kb("VmHWM")))
    check(e["malformed"] == 0, "churn messages counted as malformed: %d" % e["malformed"])
    if asan():
        print("RSS bound not checked: ASan build")
    else:
        check(rss - base_rss <= 32 * 1024, "RSS grew by %d kB > 32 MiB" % (rss - base_rss))


def v5_flow(seq, engine, sampling, first_up, last_up, uptime=1000000, nrec=1):
    hdr = struct.pack(">HHIIIIBBH", 5, nrec, uptime, 1700000000, 0, seq, 0, engine,
                      sampling & 0x3fff)
    rec = struct.pack(">IIIHHIIIIHHBBBBHHBBH", 0x0a000001, 0x0a000002, 0, 1, 2, 3, 300,
                      first_up, last_up, 1024, 80, 0, 0x1b, 6, 0, 0, 0, 24, 24, 0)
    return hdr + rec * nrec


def sources(n):
    """Issue 20 item 2: every datagram a new cache source (engine id, sampling interval), each
    holding a long flow.  The cache's source table stays bounded (RSS), and an exporter that
    arrives afterwards (a real one restarting on a new port) still has its records merged."""
    s = sender()
    st = wait_datagrams(0)
    base_dg = st["datagrams"]
    base_rss = rss_kb("VmRSS")
    for i in range(n):
        # 200 s long flows: not finished by the exporter, so they stay in the cache
        s.sendto(v5_flow(i, i % 256, 1 + i // 256, 700000, 900000), ("127.0.0.1", PORT))
        if i % 200 == 199:
            time.sleep(0.004)
        if i % 5000 == 4999:
            wait_datagrams(base_dg + i + 1)
    st = wait_datagrams(base_dg + n)
    check(st["datagrams"] >= base_dg + n, "daemon lost flood datagrams")
    merges = st["cache"]["merges"]
    # a flow cut by the exporter's 300 s active timeout, then its continuation 1 s later
    good = sender()
    good.sendto(v5_flow(0, 0, 0, 100000, 400000), ("127.0.0.1", PORT))
    good.sendto(v5_flow(1, 0, 0, 401000, 420000), ("127.0.0.1", PORT))
    st = wait_datagrams(base_dg + n + 2)
    end = time.time() + 10
    while st["cache"]["merges"] < merges + 1 and time.time() < end:
        time.sleep(0.05)
        st = ctl("status")
    rss = rss_kb("VmRSS")
    c = st["cache"]
    print("source flood: %d datagrams, sources %s (limit %s), evicted %s; merges %d -> %d; "
          "RSS %d kB before, %d kB after (+%d kB), VmHWM %d kB" %
          (n, c.get("sources"), c.get("max_sources"), c.get("sources_evicted"), merges,
           c["merges"], base_rss, rss, rss - base_rss, rss_kb("VmHWM")))
    check(c["merges"] == merges + 1, "the new exporter's records were not merged")
    if asan():
        print("RSS bound not checked: ASan build")
    else:
        check(rss - base_rss <= 32 * 1024, "RSS grew by %d kB > 32 MiB" % (rss - base_rss))


def main():
    global PORT, SOCK, CTL, PID
    cmd, PORT, SOCK, CTL, PID = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], \
        int(sys.argv[5])
    args = [int(a) for a in sys.argv[6:]]
    {"templates": templates, "exporters": exporters, "seq": seq, "garbage": garbage,
     "churn": churn, "sources": sources}[cmd](*args)


if __name__ == "__main__":
    main()
