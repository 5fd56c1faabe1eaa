#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Sum records/packets/octets per IP protocol, from flowmixd --dump lines or nfdump -o pipe.

Used by the integration tests to compare what flowmixd decoded with an independent decoder.
Prints one JSON object {proto: [records, packets, octets]} (proto as a string).
"""
import json
import sys


def from_dump(lines):
    sums = {}
    for line in lines:
        if not line.startswith("record "):
            continue
        kv = dict(tok.split("=", 1) for tok in line.split() if "=" in tok)
        p = kv["proto"]
        s = sums.setdefault(p, [0, 0, 0])
        # A biflow record (RFC 5103) carries both directions; nfdump counts them separately.
        for d in ("", "rev_"):
            pk = int(kv[d + "packets"])
            if pk or not d:
                s[0] += 1 if (pk or not d) else 0
                s[1] += pk
                s[2] += int(kv[d + "octets"])
    return sums


def from_pipe(lines):
    sums = {}
    for line in lines:
        f = line.strip().split("|")
        if len(f) < 22:
            continue
        s = sums.setdefault(str(int(f[3])), [0, 0, 0])
        s[0] += 1
        s[1] += int(f[20])
        s[2] += int(f[21])
    return sums


if __name__ == "__main__":
    kind, path = sys.argv[1], sys.argv[2]
    with open(path) as fp:
        lines = fp.readlines()
    res = from_dump(lines) if kind == "dump" else from_pipe(lines)
    print(json.dumps(res, sort_keys=True))
