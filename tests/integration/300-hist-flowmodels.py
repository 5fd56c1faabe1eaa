#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""`flowmix hist` against flow-models' documented hist rule (FLOW-MODELS.md §4,
FLOW-MODELS-DETAIL.md §4.2-4.3), re-implemented here with numpy and nothing from the C code.

1 M flows (250 k distinct ones, each four times, shuffled) with heavy-tailed lengths (Pareto,
~48 % one-packet flows, a few flows of 10^8 packets and sizes past 10^11 bytes) are written as
csv_flow (21 ints joined by ", "); then
`flowmix hist -x length|size -b 12|0` and `-x duration -b 12` must print exactly the bytes the
reference computes: header, rows sorted by bin_lo, only non-empty bins, integer sums.
Exit 77 while `flowmix hist` is not in the binary.
"""
import os
import subprocess
import sys
import tempfile
import time

try:
    import numpy as np
except ImportError:  # configure may have found a python3 without numpy; the system one has it
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != \
            os.path.realpath("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("SKIP: numpy is not installed", file=sys.stderr)
    sys.exit(77)

N = 1_000_000      # flows in the file
DISTINCT = 250_000  # distinct flows among them, each written four times in a shuffled order
HEADER = "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n"


def generate(rng):
    """Columns of DISTINCT flows; lengths and sizes heavy-tailed, durations consistent with them."""
    n = DISTINCT
    one = rng.random(n) < 0.48
    pareto = np.floor(2.0 / rng.random(n) ** (1 / 0.9))
    packets = np.where(one, 1, np.minimum(pareto, 2e8)).astype(np.uint64)
    pktsize = rng.integers(40, 1501, n, dtype=np.uint64)
    octets = packets * pktsize
    # a few elephants: sizes of 10^9 .. 3*10^11 bytes (agh_2015's largest bins are ~2.6e11)
    big = rng.choice(n, 40, replace=False)
    packets[big] = rng.integers(700_000, 190_000_000, 40, dtype=np.uint64)
    octets[big] = packets[big] * rng.integers(1400, 1501, 40, dtype=np.uint64)
    packets[big[:3]] = [185_900_000, 1, 4096]
    octets[big[:3]] = [261_500_000_000, 1_000_000_001, 4096 * 64]
    first = rng.integers(1433962800, 1433966400, n, dtype=np.int64)
    first_ms = rng.integers(0, 1000, n, dtype=np.int64)
    dur = np.where(packets == 1, 0, rng.integers(0, 600_000, n, dtype=np.int64))
    end = first * 1000 + first_ms + dur
    prot = rng.choice(np.array([6, 17, 1]), n, p=[0.55, 0.42, 0.03])
    return dict(prot=prot, first=first, first_ms=first_ms, last=end // 1000,
                last_ms=end % 1000, packets=packets, octets=octets,
                sa=rng.integers(1, 2**32, n, dtype=np.uint64),
                sp=rng.integers(1024, 65536, n))


def write_csv_flow(path, c, idx):
    """flow-models csv_flow: af, prot, inif, outif, sa0-3, da0-3, sp, dp, first, first_ms, last,
    last_ms, packets, octets, aggs -- one flow per line, ", " between values.  Python's string
    formatting is the slow part, so each distinct flow is formatted once and written at the
    positions idx gives it."""
    cols = [c[k].tolist() for k in ("prot", "sa", "sp", "first", "first_ms", "last", "last_ms",
                                    "packets", "octets")]
    fmt = "2, %d, 0, 0, 0, 0, 0, %d, 0, 0, 0, 167772161, %d, 443, %d, %d, %d, %d, %d, %d, 1\n"
    lines = list(map(fmt.__mod__, zip(*cols)))
    with open(path, "w") as f:
        f.writelines(map(lines.__getitem__, idx.tolist()))


def bitlen(x):
    """Bit length of each uint64 (0 for 0), by comparison with powers of two."""
    n = np.zeros(x.shape, dtype=np.uint64)
    for k in range(64):
        n += (x >> np.uint64(k)) > 0
    return n


def reference(x, packets, octets, b):
    """flow-models hist: bin each x, sum flows/packets/octets per bin, rows sorted by bin_lo."""
    if b == 0:
        lo = x
        w = np.ones_like(x)
    else:
        shift = np.maximum(bitlen(x).astype(np.int64) - b, 0).astype(np.uint64)
        w = np.uint64(1) << shift
        lo = x // w * w
    order = np.argsort(lo, kind="stable")
    lo, w, p, o = lo[order], w[order], packets[order], octets[order]
    starts = np.flatnonzero(np.r_[True, lo[1:] != lo[:-1]])
    flows = np.diff(np.r_[starts, len(lo)])
    psum = np.add.reduceat(p, starts)  # integer sums: exact, unlike float weights
    osum = np.add.reduceat(o, starts)
    rows = zip(lo[starts].tolist(), (lo[starts] + w[starts]).tolist(), flows.tolist(),
               psum.tolist(), osum.tolist())
    return HEADER + "".join("%d,%d,%d,%d,%d\n" % r for r in rows)


def spot_check(x, b, rng):
    """The numpy binning equals the rule as written (Python ints) on a sample."""
    if b == 0:
        return
    for v in rng.choice(x, 20000).tolist() + [4095, 4096, 8191, 65535, 65536, 1000000]:
        w = 1 << max(0, int(v).bit_length() - b)
        lo = v // w * w
        s = np.uint64(max(0, int(v).bit_length() - b))
        assert int(np.uint64(v) // (np.uint64(1) << s) * (np.uint64(1) << s)) == lo, v


def main():
    builddir = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "../.."))
    flowmix = os.path.join(builddir, "flowmix")
    probe = subprocess.run([flowmix, "hist", "--help"], capture_output=True) \
        if os.access(flowmix, os.X_OK) else None
    if probe is None or probe.returncode != 0:
        print("SKIP: flowmix hist is not built", file=sys.stderr)
        return 77
    rng = np.random.default_rng(20150610)
    distinct = generate(rng)
    idx = rng.permutation(np.tile(np.arange(DISTINCT), N // DISTINCT))
    c = {k: v[idx] for k, v in distinct.items()}  # the file's flows in file order
    dur = np.where(c["packets"] == 1, 0,
                   (c["last"] - c["first"]) * 1000 + c["last_ms"] - c["first_ms"])
    assert int(c["octets"].max()) >= 10**9 and int(c["packets"].max()) >= 10**8
    with tempfile.TemporaryDirectory(prefix="flowmix-300-") as tmp:
        flows = os.path.join(tmp, "flows.csv")
        t = time.monotonic()
        write_csv_flow(flows, distinct, idx)
        print("wrote %d flows in %.1f s" % (N, time.monotonic() - t))
        runs = [("length", 12, c["packets"]), ("length", 0, c["packets"]),
                ("size", 12, c["octets"]), ("size", 0, c["octets"]),
                ("duration", 12, dur.astype(np.uint64))]
        failed = 0
        for metric, b, x in runs:
            out = os.path.join(tmp, "%s_b%d.csv" % (metric, b))
            t = time.monotonic()
            r = subprocess.run([flowmix, "hist", "-i", "csv_flow", "-x", metric, "-b", str(b),
                                "-O", out, flows], capture_output=True, text=True)
            took = time.monotonic() - t
            if r.returncode != 0:
                print("FAIL: flowmix hist -x %s -b %d exited %d: %s"
                      % (metric, b, r.returncode, r.stderr), file=sys.stderr)
                failed += 1
                continue
            spot_check(x, b, rng)
            want = reference(x, c["packets"], c["octets"], b)
            got = open(out).read()
            if got != want:
                gl, wl = got.splitlines(), want.splitlines()
                diff = next((i for i, (g, w) in enumerate(zip(gl, wl)) if g != w),
                            min(len(gl), len(wl)))
                print("FAIL: -x %s -b %d differs at line %d: got %r want %r (%d vs %d lines)"
                      % (metric, b, diff + 1, gl[diff:diff + 1], wl[diff:diff + 1], len(gl),
                         len(wl)), file=sys.stderr)
                failed += 1
            else:
                print("ok: -x %s -b %d, %d bins, byte-identical (%.2f s)"
                      % (metric, b, len(want.splitlines()) - 1, took))
        return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
