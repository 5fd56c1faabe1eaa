# SPDX-License-Identifier: BSD-2-Clause
"""Parity of `flowmix merge --uniflow -I 15 -A 300` with flow-models merge.

The expected output comes from an independent Python port of flow-models merge written from
FLOW-MODELS-DETAIL.md §2 (quirks included), run here in the test:

  A. 120 000+ records of flows with known active-timeout splits, sorted by start time as
     flow-models requires, durations kept away from the "too short" boundary (flow-models tests
     it in whole seconds, flowmix in ms) and no overlaps: flowmix must equal flow-models exactly.
  B. The same kind of stream with the flow-models loss cases mixed in (overlapping duplicates,
     reversed arrival, durations on the boundary): flowmix must equal the reference with the
     documented fixes applied (ms arithmetic, conflicts kept, reversed merges kept), and must
     keep every packet, which flow-models does not.
Exit 77 (skip) while the flowmix binary or its flowio readers are not built.
"""
import os
import random
import subprocess
import sys
import tempfile

I_S, A_S = 15, 300
BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
FLOWMIX = os.path.join(BUILD, "flowmix")


def ms(t):
    return t // 1000, t % 1000


def make_rec(key, first, last, packets, octets):
    fs, fms = ms(first)
    ls, lms = ms(last)
    return list(key) + [fs, fms, ls, lms, packets, octets, 1]


def reference_merge(records, fixed):
    """flow-models merge.py as specified; fixed=True applies flowmix's documented differences."""
    i_ms = I_S * 1000
    a_eff = A_S - I_S
    cache = {}
    out = []

    def short(r):
        if fixed:
            return (r[16] * 1000 + r[17]) - (r[14] * 1000 + r[15]) < a_eff * 1000
        return r[16] - r[14] < a_eff

    for rec in records:
        r = list(rec)
        r[20] = r[20] or 1
        k = tuple(r[:14])
        if k not in cache:
            if short(r):
                out.append(r)
            else:
                cache[k] = r
            continue
        c = cache[k]
        if (r[14], r[15]) > (c[16], c[17]):
            e, l, reversed_ = c, r, False
        elif (c[14], c[15]) > (r[16], r[17]):
            e, l, reversed_ = r, c, True
        else:
            if fixed:
                out.append(r)  # conflict: both kept, the cached flow stays
            else:
                del cache[k]
            continue
        ds, dms = l[14] - e[16], l[15] - e[17]
        if dms < 0:
            ds -= 1
            dms = (1000 + dms) if fixed else (1000 - dms)
        if ds < I_S or (ds == I_S and dms < i_ms % 1000):
            e[16], e[17] = l[16], l[17]
            e[20] += l[20] if fixed else 1  # flow-models counts +1 even for a merged piece
            e[18] += l[18]
            e[19] += l[19]
            if short(l):
                del cache[k]
                out.append(e)
            elif reversed_ and fixed:
                cache[k] = e  # the merged flow stays cached (flow-models drops it)
        else:
            del cache[k]
            out.append(e)
            if short(l):
                out.append(l)
            else:
                cache[k] = l
    out.extend(cache.values())
    return out


def gen_flows(rng, n_keys, quirks):
    """Flows cut by the active timeout; returns records sorted by start (plus quirk cases)."""
    recs = []
    for k in range(n_keys):
        key = (2, rng.choice((6, 17, 1)), rng.randrange(4), rng.randrange(4),
               0, 0, 0, 0x0a000000 + k // 7, 0, 0, 0, 0xc0000000 + rng.randrange(50),
               1024 + k % 7, rng.choice((53, 80, 443)))
        t = 1433962800000 + rng.randrange(3600 * 1000)
        for _flow in range(rng.randint(1, 3)):
            pieces = rng.choices((1, 2, 3, 4, 6), weights=(40, 25, 15, 10, 10))[0]
            for p in range(pieces):
                last_piece = p == pieces - 1
                if last_piece and rng.random() < 0.8:
                    dur = rng.randrange(0, 283000)           # short: closes the flow
                else:
                    dur = rng.randrange(286000, A_S * 1000)  # long: may be continued
                if quirks and rng.random() < 0.03:
                    dur = 284000 + rng.randrange(2000)       # on the whole-second boundary
                pk = rng.randint(1, 5000)
                recs.append(make_rec(key, t, t + dur, pk, pk * rng.randint(40, 1500)))
                if quirks and rng.random() < 0.02:
                    recs.append(make_rec(key, t + dur // 2, t + dur // 2, 1, 64))  # overlap
                # Next piece: continuation within the inactive timeout (boundaries included;
                # a gap of 0 "touches", which flow-models treats as an overlap).
                t += dur + rng.choice((1, 500, 999, 1000, 14999, rng.randrange(1, 15000)))
                if quirks and rng.random() < 0.02:
                    t -= 1
            t += rng.choice((15000, 15001, 60000, rng.randrange(15000, 900000)))
    recs.sort(key=lambda r: (r[14], r[15]))
    if quirks:
        # Reversed arrival: swap some neighbouring pieces of the same key.
        by_key = {}
        for i, r in enumerate(recs):
            by_key.setdefault(tuple(r[:14]), []).append(i)
        for idx in by_key.values():
            for a, b in zip(idx, idx[1:]):
                if rng.random() < 0.05:
                    recs[a], recs[b] = recs[b], recs[a]
    return recs


def write_csv(path, recs):
    with open(path, "w") as f:
        for r in recs:
            f.write(", ".join(str(v) for v in r) + "\n")


def run_flowmix(path):
    p = subprocess.run([FLOWMIX, "merge", "-i", "csv_flow", "-o", "csv_flow", "-I", str(I_S),
                        "-A", str(A_S), "--uniflow", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        print(p.stderr, file=sys.stderr)
        sys.exit(1)
    print("flowmix:", p.stderr.strip())
    return [[int(x) for x in line.split(",")] for line in p.stdout.splitlines() if line.strip()]


def totals(recs):
    return (len(recs), sum(r[18] for r in recs), sum(r[19] for r in recs))


def compare(name, got, want):
    g, w = sorted(map(tuple, got)), sorted(map(tuple, want))
    if g != w:
        gs, ws = set(g), set(w)
        print(f"{name}: {len(g)} flows from flowmix, {len(w)} expected", file=sys.stderr)
        for r in sorted(ws - gs)[:5]:
            print("  missing   ", r, file=sys.stderr)
        for r in sorted(gs - ws)[:5]:
            print("  unexpected", r, file=sys.stderr)
        sys.exit(1)
    print(f"{name}: {len(g)} flows identical")


def main():
    if not os.access(FLOWMIX, os.X_OK):
        print("SKIP: flowmix not built", file=sys.stderr)
        sys.exit(77)
    probe = subprocess.run([FLOWMIX, "merge", "--help"], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        print("SKIP: flowmix merge not available", file=sys.stderr)
        sys.exit(77)
    seed = int(os.environ.get("FM_SEED", random.randrange(1 << 30)))
    print(f"seed {seed} (set FM_SEED to repeat)")
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        # A: no quirk is triggered, so flowmix must give flow-models' own output.
        recs = gen_flows(rng, 30000, quirks=False)
        assert len(recs) >= 100000, len(recs)
        want = reference_merge([list(r) for r in recs], fixed=False)
        assert sorted(map(tuple, want)) == sorted(map(tuple, reference_merge(
            [list(r) for r in recs], fixed=True))), "generator triggered a flow-models quirk"
        assert totals(want)[1:] == totals(recs)[1:]
        path = os.path.join(tmp, "a.csv")
        write_csv(path, recs)
        print(f"A: {len(recs)} records -> {len(want)} flows")
        compare("A (flow-models parity)", run_flowmix(path), want)

        # B: the loss cases; flowmix follows the documented fixes and keeps every packet.
        recs = gen_flows(rng, 8000, quirks=True)
        want = reference_merge([list(r) for r in recs], fixed=True)
        lossy = reference_merge([list(r) for r in recs], fixed=False)
        path = os.path.join(tmp, "b.csv")
        write_csv(path, recs)
        got = run_flowmix(path)
        print(f"B: {len(recs)} records; flow-models keeps {totals(lossy)[1]} of "
              f"{totals(recs)[1]} packets, flowmix {totals(got)[1]}")
        assert totals(lossy)[1] < totals(recs)[1], "quirk cases not exercised"
        compare("B (documented differences)", got, want)
        if totals(got)[1:] != totals(recs)[1:]:
            print("B: packets or octets lost", file=sys.stderr)
            sys.exit(1)


if __name__ == "__main__":
    main()
