# SPDX-License-Identifier: BSD-2-Clause
"""Compare flowmixd's finished flows (csv plugin, format = csv) with `flowmix meter`'s CSV.

usage: flowcmp.py DAEMON_CSV_DIR METER_CSV
Each flow becomes its two endpoints with their packets and bytes, in a canonical order (the
daemon's cache may orient a biflow either way); the two multisets must be equal.  Prints the
count and exits 1 with the first differences otherwise.
"""
import collections
import csv
import glob
import os
import sys


def canon(a, b):
    return tuple(sorted([a, b]))


def daemon_flows(d):
    out = collections.Counter()
    for path in glob.glob(os.path.join(d, "*.csv")):
        with open(path, newline="") as f:
            for r in csv.DictReader(f):
                out[canon((r["src"], r["sport"], r["packets"], r["octets"]),
                          (r["dst"], r["dport"], r["rev_packets"], r["rev_octets"]))
                    + (r["proto"],)] += 1
    return out


def meter_flows(path):
    out = collections.Counter()
    with open(path, newline="") as f:
        for r in csv.DictReader(f):
            out[canon((r["src_ip"], r["src_port"], r["src2dst_packets"], r["src2dst_bytes"]),
                      (r["dst_ip"], r["dst_port"], r["dst2src_packets"], r["dst2src_bytes"]))
                + (r["protocol"],)] += 1
    return out


def main():
    d, m = daemon_flows(sys.argv[1]), meter_flows(sys.argv[2])
    if d == m:
        print("%d flows, equal" % sum(m.values()))
        return 0
    print("daemon %d flows, meter %d; only in the daemon: %s; only in the meter: %s"
          % (sum(d.values()), sum(m.values()), list((d - m).items())[:3],
             list((m - d).items())[:3]))
    return 1


if __name__ == "__main__":
    sys.exit(main())
