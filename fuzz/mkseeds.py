#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Write the seed corpora of the fuzz targets (fuzz/run.sh calls this).

usage: mkseeds.py SRCDIR OUTDIR

decode seeds are built from the captured softflowd exports in tests/data/decode (one datagram
each) in fuzz_decode.c's input layout: a mode byte, then 2-byte big-endian length-prefixed
datagrams.  Sequences repeat and mix exports so that templates learnt from one datagram are
used by the next.  decode_diff gets the same seeds plus datagrams captured from `flowmix send`
(FM_FLOWMIX: its path) and nfreplay.  The other targets get small hand-written inputs plus, when FM_SHARED is
set, heads of the shared reference files.
"""
import glob
import os
import shutil
import socket
import struct
import subprocess
import sys


def frame(*dgs):
    return b"".join(struct.pack(">H", len(d)) + d for d in dgs)


def write(out, target, name, data):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def decode_seeds(src, out):
    bins = {}
    for p in sorted(glob.glob(os.path.join(src, "tests/data/decode/*.bin"))):
        with open(p, "rb") as f:
            bins[os.path.basename(p)[:-4]] = f.read()
    for name, dg in bins.items():
        write(out, "decode", name, b"\x00" + frame(dg))
        write(out, "decode", name + "-x2", b"\x00" + frame(dg, dg))
        write(out, "decode", name + "-limits", b"\x0c" + frame(dg, dg, dg))
    v9 = [dg for n, dg in bins.items() if "-v9" in n]
    v10 = [dg for n, dg in bins.items() if "-v10" in n]
    v5 = [dg for n, dg in bins.items() if "-v5" in n]
    write(out, "decode", "v9-all", b"\x00" + frame(*v9))
    write(out, "decode", "v10-all", b"\x00" + frame(*v10))
    write(out, "decode", "mixed", b"\x00" + frame(*(v5 + v9 + v10)))
    # v9 templates read as IPFIX and the reverse (the mode forces the version field)
    write(out, "decode", "v9-as-v10", b"\x03" + frame(*v9))
    write(out, "decode", "v10-as-v9", b"\x02" + frame(*v10))
    # the header alone of each version, and an IPFIX withdrawal of template 256
    write(out, "decode", "v5-hdr", b"\x00" + frame(struct.pack(">HHIIIIBBH", 5, 0, 0, 0, 0,
                                                               0, 0, 0, 0)))
    withdraw = struct.pack(">HHIII", 10, 16 + 8, 0, 0, 1) + struct.pack(">HHHH", 2, 8, 256, 0)
    write(out, "decode", "v10-withdraw", b"\x00" + frame(*(v10[:1] + [withdraw] + v10[:1])))


def capture(cmd, timeout=20):
    """Datagrams a real exporter (cmd, given the port) sends to a loopback socket."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(2.0)
    port = sock.getsockname()[1]
    proc = subprocess.Popen(cmd(port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    dgs = []
    try:
        while len(dgs) < 64:
            dgs.append(sock.recv(65535))
    except socket.timeout:
        pass
    finally:
        proc.wait(timeout=timeout)
        sock.close()
    return dgs


def exporter_seeds(src, out):
    """decode_diff also starts from `flowmix send` (every IPFIX time encoding is not reachable
    from its command line, but v9, IPFIX, biflow-free synthetic traffic is) and nfreplay
    exports of the nfcapd capture in tests/data, when those programs are at hand."""
    flowmix = os.environ.get("FM_FLOWMIX")
    if flowmix and os.access(flowmix, os.X_OK):
        for v in (9, 10):
            dgs = capture(lambda port: [flowmix, "send", "-q", "-v", str(v), "--synthetic",
                                        "300", "--seed", "3", "--template-every", "4",
                                        "127.0.0.1:%d" % port])
            for i in range(0, len(dgs), 4):
                write(out, "decode_diff", "send-v%d-%d" % (v, i), b"\x00" + frame(*dgs[i:i + 4]))
    nfcapd = os.path.join(src, "tests/data/flowio/nfcapd.v5-60")
    if shutil.which("nfreplay") and os.path.exists(nfcapd):
        for v in (5, 9):
            dgs = capture(lambda port: ["nfreplay", "-r", nfcapd, "-v", str(v), "-H",
                                        "127.0.0.1", "-p", str(port), "-d", "1000"])
            if dgs:
                write(out, "decode_diff", "nfreplay-v%d" % v, b"\x00" + frame(*dgs[:8]))


def text_seeds(src, out):
    ctl = [b'{"cmd":"status"}', b'{"cmd":"ping"}', b'{"cmd":"exporters"}',
           b'{"cmd":"hist","class":"tcp","metric":"size"}', b'{"cmd":"version"}',
           b'{"cmd":"fit","class":"all","metric":"length","dir":"uniflow"}',
           b'{"cmd":1}', b'[]', b'{"cmd":"status","x":"y"}']
    for i, line in enumerate(ctl):
        write(out, "ctl", "req%d" % i, b"\x00" + line)
    for i, line in enumerate([b'{"ok":true,"result":{"uptime":3}}',
                              b'{"ok":false,"error":"no such class"}',
                              b'{"ok":false,"error":"\xff\xfe bad utf8"}']):
        write(out, "ctl", "reply%d" % i, b"\x01" + line)

    conf = os.path.join(src, "etc/flowmixd.conf")
    if os.path.exists(conf):
        with open(conf, "rb") as f:
            write(out, "config", "flowmixd.conf", f.read())
    write(out, "config", "small",
          b"[listen]\nudp = 127.0.0.1:2055\nmax_templates = 8\n[cache]\nmemory = 64M\n"
          b"[exporter.r1]\naddress = 10.0.0.1\n[fit.x]\nU = 2\nmax_iter = 10\n")

    write(out, "hist_csv", "small", b"bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n"
          b"1,2,10,10,640\n2,3,5,10,900\n64,128,1,100,150000\n")
    write(out, "hist_csv", "extra-cols", b"x,bin_hi,bin_lo,octets_sum,packets_sum,flows_sum\n"
          b"a,2,1,64,1,1\n")

    write(out, "mixture", "obj", b'{"sum": 100, "mix": [[0.5, "lognorm", [0.3, 0, 106.1]],'
          b' [0.5, "gamma", [2, 0, 10]]]}')
    write(out, "mixture", "list", b'[[1.0, "pareto", [1.5, 0, 1]]]')
    write(out, "mixture", "weibull", b'{"sum": 7, "mix": [[1, "weibull_min", [0.5, 0, 3.0]]]}')

    tup = ",".join(["af", "prot", "inif", "outif", "sa0", "sa1", "sa2", "sa3", "da0", "da1",
                    "da2", "da3", "sp", "dp", "first", "first_ms", "last", "last_ms",
                    "packets", "octets", "aggs"])
    write(out, "flowio", "csv_flow", b"\x00" + tup.encode() +
          b"\n2,6,0,0,0,0,0,3232235777,0,0,0,3232235778,1234,80,1700000000,10,1700000001,"
          b"20,3,180,1\n")
    write(out, "flowio", "pipe", b"\x01" + b"2|1700000000000|1700000001000|6|0|0|0|3232235777|"
          b"1234|0|0|0|3232235778|80|0|0|1|2|27|0|3|180\n")
    ft = os.path.join(src, "tests/data/ft-profiler/csv_basic_input.csv")
    if os.path.exists(ft):
        with open(ft, "rb") as f:
            write(out, "flowio", "ftcsv", b"\x02" + f.read(4096))

    shared = os.environ.get("FM_SHARED")
    if shared:
        for p in glob.glob(os.path.join(shared, "data/agh_2015/mixtures/all/*/*.json")):
            with open(p, "rb") as f:
                write(out, "mixture", "agh-" + p.split("/")[-2] + "-" + os.path.basename(p),
                      f.read())
        for p in glob.glob(os.path.join(shared, "data/agh_2015/histograms/all/*.csv")):
            with open(p, "rb") as f:
                write(out, "hist_csv", "agh-" + os.path.basename(p), f.read(2048))


def meter_seeds(src, out):
    """nfstream's captures, cut at 8 KiB (so many end truncated); byte 0 picks the options."""
    shared = os.environ.get("FM_SHARED") or os.path.join(src, "..", "shared")
    for p in sorted(glob.glob(os.path.join(shared, "data/nfstream/pcaps/*"))):
        with open(p, "rb") as f:
            cap = f.read(8192)
        write(out, "meter", os.path.basename(p), bytes([len(cap) % 256]) + cap)


def main():
    src, out = sys.argv[1], sys.argv[2]
    decode_seeds(src, out)
    # the differential target starts from every decode seed, plus real exporters' datagrams
    ddir = os.path.join(out, "decode")
    for name in os.listdir(ddir):
        with open(os.path.join(ddir, name), "rb") as f:
            write(out, "decode_diff", name, f.read())
    try:
        exporter_seeds(src, out)
    except (OSError, subprocess.SubprocessError) as e:
        print("mkseeds: exporter seeds skipped: %s" % e, file=sys.stderr)
    text_seeds(src, out)
    meter_seeds(src, out)


if __name__ == "__main__":
    main()
