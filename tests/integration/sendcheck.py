#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Compare a `flowmixctl --json hist` reply with the histogram of the flows `flowmix send --dump`
wrote (flow-models csv_flow, 21 columns), binned here by flow-models' rule (re-implemented
independently of the C code).  Each record is one flow: send's synthetic flows have unique keys
and the daemon runs with biflow = no, so nothing is merged or paired.

usage: sendcheck.py CSV DIR BIN_EXP
DIR holds hist-CLASS-METRIC.json (flowmixctl --json hist) for every class and metric, and
exporters.json (flowmixctl --json exporters): one exporter, no loss, nothing malformed.
One process checks everything (Python starts slowly on a loaded machine).
"""
import json
import sys


def bin_of(x, b):
    if b == 0:
        return x, x + 1
    w = 1 << max(0, x.bit_length() - b)
    lo = x // w * w
    return lo, lo + w


def expected(path, metric, cls, b):
    bins = {}
    for path in [path]:
        for line in open(path):
            f = [int(v) for v in line.split(",")]
            if len(f) != 21:
                continue
            proto, packets, octets = f[1], f[18], f[19]
            first, last = f[14] * 1000 + f[15], f[16] * 1000 + f[17]
            if cls == "tcp" and proto != 6 or cls == "udp" and proto != 17:
                continue
            if cls == "other" and proto in (6, 17):
                continue
            x = {"length": packets, "size": octets,
                 "duration": 0 if packets == 1 else last - first}[metric]
            lo, hi = bin_of(x, b)
            s = bins.setdefault(lo, [lo, hi, 0, 0, 0])
            s[2] += 1
            s[3] += packets
            s[4] += octets
    return [bins[k] for k in sorted(bins)]


def check(csv, reply, metric, cls, b):
    want = expected(csv, metric, cls, b)
    got = json.load(open(reply))
    if not got.get("ok"):
        sys.exit("daemon error: %s" % got.get("error"))
    bins = got["result"]["bins"]
    if bins != want:
        diff = [(g, w) for g, w in zip(bins, want) if g != w][:5]
        print("first differing bins (got, expected):", diff)
        print("bins got %d, expected %d" % (len(bins), len(want)))
        sys.exit("histogram %s/%s differs" % (cls, metric))
    return len(want), sum(r[2] for r in want)


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    csv, d, b = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for cls in ("all", "tcp", "udp", "other"):
        for metric in ("length", "size", "duration"):
            nb, nf = check(csv, "%s/hist-%s-%s.json" % (d, cls, metric), metric, cls, b)
            print("%s/%s: %d bins, %d flows equal" % (cls, metric, nb, nf))
    e = json.load(open(d + "/exporters.json"))["result"]["exporters"]
    assert len(e) == 1, e
    assert e[0]["seq_lost"] == 0 and e[0]["malformed"] == 0, e
    assert e[0]["unknown_template"] == 0, e


main()
