#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix plot on the agh_2015 all/length and all/size histograms with their published
# mixtures: flow-models' chart set (cdf, pdf-flows/packets/octets, avg-*) is valid PNG, SVG
# (parsed by Python's XML parser) and PDF, and the plotted series (--csv) equal an independent
# computation: the histogram's density what/Σwhat/(distance to the next bin), cumulative shares
# and averages, and the mixture's discrete-aware pdf and cdf (flow-models lib/mix.py,
# FLOW-MODELS-DETAIL §7) evaluated with scipy.stats on flow-models' 128-point grid.  Bad inputs
# give file:line errors and the documented exit codes.
. "$(dirname "$0")/lib.sh"
H="$FM_SHARED/data/agh_2015/histograms/all"
M="$FM_SHARED/data/agh_2015/mixtures/all"
[ -f "$H/length.csv" ] && [ -f "$M/length/flows.json" ] ||
    skip "agh_2015 histograms/mixtures not found under FM_SHARED=$FM_SHARED"
# A python3 with numpy and scipy: the one on PATH, else Debian's.
PY=python3
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import scipy.stats, numpy' 2>/dev/null; then PY=$p; break; fi
    PY=
done
[ -n "$PY" ] || skip "no python3 with numpy and scipy"

"$FLOWMIX" plot --help | grep -q 'usage: flowmix plot' || fail "--help"

# Length: mixture directory (flows, packets, octets), into a directory, all three formats.
"$FLOWMIX" plot -o "$fm_tmp/len/" --format png,svg,pdf --csv "$fm_tmp/len.csv" \
    "$H/length.csv" "$M/length" || fail "plot length exited $?"
# Size: one mixture file (y from its name), metric inferred from the file name, prefix output.
cp "$M/size/flows.json" "$fm_tmp/flows.json"
"$FLOWMIX" plot -o "$fm_tmp/size-" --format svg,pdf --csv "$fm_tmp/size.csv" \
    "$H/size.csv" "$fm_tmp/flows.json" || fail "plot size exited $?"
ls -l "$fm_tmp/len" "$fm_tmp"/size-*
python3 "$top_srcdir/tests/integration/imgcheck.py" "$fm_tmp"/len/pdf-flows.png "$fm_tmp"/len/cdf.png \
    "$fm_tmp"/len/pdf-flows.svg "$fm_tmp"/len/cdf.svg "$fm_tmp"/len/pdf-flows.pdf "$fm_tmp"/len/cdf.pdf \
    "$fm_tmp"/size-pdf-flows.svg "$fm_tmp"/size-cdf.svg "$fm_tmp"/size-pdf-flows.pdf "$fm_tmp"/size-cdf.pdf ||
    fail "invalid image"
[ ! -e "$fm_tmp/size-pdf-flows.png" ] || fail "png written without --format png"

"$PY" - "$fm_tmp" "$H" "$M" <<'PY' || fail "plot files or series differ"
import csv, json, os, sys
import numpy as np
import scipy.stats as st

tmp, H, M = sys.argv[1:4]

def mix_of(path):
    j = json.load(open(path))
    w = np.array([c[0] for c in j["mix"]], dtype=float)
    w = w / w.sum()
    dists = []
    for c in j["mix"]:
        name, p = c[1], c[2]
        dists.append(getattr(st, name)(*p))
    return w, dists

def mix_cdf(mix, x):
    w, ds = mix
    return sum(wi * d.cdf(x) for wi, d in zip(w, ds))

def mix_pdf_discrete(mix, x, xmin):
    # flow-models lib/mix.py pdf(): probability mass of (x-1, x] below 1024 ((0, x] at xmin),
    # the density from 1024 on.
    w, ds = mix
    lo = np.where(x == xmin, 0.0, x - 1.0)
    out = np.zeros_like(x)
    for wi, d in zip(w, ds):
        out += wi * np.where(x < 1024, d.cdf(x) - d.cdf(lo), d.pdf(x))
    return out

def series(path):
    got = {}
    with open(path) as f:
        r = csv.reader(f)
        assert next(r) == ["chart", "y", "source", "x", "value"]
        for chart, y, source, x, v in r:
            got.setdefault((chart, y, source), ([], []))
            got[(chart, y, source)][0].append(float(x))
            got[(chart, y, source)][1].append(float(v))
    return {k: (np.array(a), np.array(b)) for k, (a, b) in got.items()}

def close(a, b, rtol, atol, what):
    bad = ~np.isclose(a, b, rtol=rtol, atol=atol)
    assert not bad.any(), "%s: %d values differ, first at %d: %r vs %r" % (
        what, bad.sum(), np.argmax(bad), a[bad][0], b[bad][0])
    # The comparison must be able to fail: a 0.1 % error is caught.
    assert not np.isclose(a * 1.001, b, rtol=rtol, atol=atol).all(), what

def check(csvpath, histpath, mixes, xmin):
    rows = np.loadtxt(histpath, delimiter=",", skiprows=1, dtype=np.float64)
    lo, hi = rows[:, 0], rows[:, 1]
    cols = {"flows": rows[:, 2], "packets": rows[:, 3], "octets": rows[:, 4]}
    got = series(csvpath)
    # flow-models plot's chart set: pdf and cdf of every column, avg per flow and packet size
    want_keys = {(c, y, "data") for c in ("pdf", "cdf") for y in cols}
    want_keys |= {("avg", y, "data") for y in ("packets", "octets", "packet_size")}
    want_keys |= {(c, y, "mixture") for c in ("pdf", "cdf") for y in mixes}
    pairs = {"packets": ("packets", "flows"), "octets": ("octets", "flows"),
             "packet_size": ("octets", "packets")}
    want_keys |= {("avg", y, "mixture") for y, (n, d) in pairs.items()
                  if n in mixes and d in mixes}
    assert set(got) == want_keys, (sorted(got), sorted(want_keys))
    # mixture lines on flow-models' grid, data at every bin_lo
    grid = np.unique(np.rint(np.geomspace(lo[0], lo[-1], 128)))
    for k, (x, v) in got.items():
        assert np.array_equal(x, grid if k[2] == "mixture" else lo), (k, "x")
    width = np.append(np.diff(lo), hi[-1] - lo[-1])
    for y, c in cols.items():
        close(got[("pdf", y, "data")][1], c / c.sum() / width, 1e-12, 0, "pdf data " + y)
        close(got[("cdf", y, "data")][1], np.cumsum(c) / c.sum(), 1e-12, 0, "cdf data " + y)
    for y, (n, d) in pairs.items():
        close(got[("avg", y, "data")][1], cols[n] / cols[d], 1e-12, 0, "avg data " + y)
    for y, m in mixes.items():
        close(got[("cdf", y, "mixture")][1], mix_cdf(m, grid), 1e-9, 1e-12, "cdf mixture " + y)
        close(got[("pdf", y, "mixture")][1], mix_pdf_discrete(m, grid, xmin), 1e-7, 0,
              "pdf mixture " + y)
    print(csvpath, "ok:", len(lo), "bins,", len(got), "series")

mixes = {y: mix_of(os.path.join(M, "length", y + ".json")) for y in ("flows", "packets", "octets")}
check(os.path.join(tmp, "len.csv"), os.path.join(H, "length.csv"), mixes, 1)
check(os.path.join(tmp, "size.csv"), os.path.join(H, "size.csv"),
      {"flows": mix_of(os.path.join(M, "size", "flows.json"))}, 64)
PY

# The discrete pdf's x_min is the first bin of the data, whatever -x says (issue 18: a size
# histogram starting at 40 B got a spike at 64 B because x_min was 64).  The size histogram
# without its rows below 128 B: the mixture's value at the new first bin is the whole mass up to
# it, so it is much larger there than on the full histogram, where 128 is an inner point.
"$FLOWMIX" plot -x length -o "$fm_tmp/forced-" --csv "$fm_tmp/forced.csv" "$H/size.csv" \
    "$fm_tmp/flows.json" || fail "plot -x length exited $?"
a=$(grep '^pdf,flows,mixture,64,' "$fm_tmp/size.csv")
b=$(grep '^pdf,flows,mixture,64,' "$fm_tmp/forced.csv")
[ -n "$a" ] && [ "$a" = "$b" ] || fail "x_min depends on -x ($a / $b)"
awk -F, 'NR == 1 || $1 >= 128' "$H/size.csv" > "$fm_tmp/size128.csv"
"$FLOWMIX" plot -o "$fm_tmp/s128-" --csv "$fm_tmp/s128.csv" "$fm_tmp/size128.csv" \
    "$fm_tmp/flows.json" || fail "plot of size128.csv exited $?"
python3 - "$fm_tmp/size.csv" "$fm_tmp/s128.csv" <<'PY' || fail "x_min is not the data's first bin"
import sys
def at128(path):
    for line in open(path):
        f = line.strip().split(",")
        if f[:3] == ["pdf", "flows", "mixture"] and float(f[3]) == 128:
            return float(f[4])
full, cut = at128(sys.argv[1]), at128(sys.argv[2])
assert cut > 10 * full, (full, cut)
PY

# Errors: usage (2), unreadable or malformed input (1) naming the file and line.
printf 'bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n1,2,5,5,300\n2,3,x,1,1\n' > "$fm_tmp/bad.csv"
expect_error 1 "bad.csv:3" "$FLOWMIX" plot -o "$fm_tmp/" "$fm_tmp/bad.csv"
printf 'bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n4,5,1,4,9\n1,2,5,5,300\n' > "$fm_tmp/uns.csv"
expect_error 1 "row 2 .*sorted" "$FLOWMIX" plot -o "$fm_tmp/" "$fm_tmp/uns.csv"
printf 'bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n' > "$fm_tmp/empty.csv"
expect_error 1 "no bins" "$FLOWMIX" plot -o "$fm_tmp/" "$fm_tmp/empty.csv"
printf '{"sum": 3, "mix": [\n  [1, "uniform", [0, 1]],\n  [1, "nosuch", [1]]\n]}\n' > "$fm_tmp/m.json"
expect_error 1 "m.json: " "$FLOWMIX" plot -o "$fm_tmp/" "$H/length.csv" "$fm_tmp/m.json"
printf '{"sum": 3, "mix": [\n  [1, "uniform", [0, 1]\n' > "$fm_tmp/t.json"
expect_error 1 "t.json: line" "$FLOWMIX" plot -o "$fm_tmp/" "$H/length.csv" "$fm_tmp/t.json"
mkdir -p "$fm_tmp/nomix"
expect_error 1 "no flows.json" "$FLOWMIX" plot -o "$fm_tmp/" "$H/length.csv" "$fm_tmp/nomix"
expect_error 1 "nosuch.csv" "$FLOWMIX" plot -o "$fm_tmp/" "$fm_tmp/nosuch.csv"
expect_error 2 "invalid value for --format" "$FLOWMIX" plot --format png,gif "$H/length.csv"
expect_error 2 "invalid value for -x" "$FLOWMIX" plot -x speed "$H/length.csv"
expect_error 2 "no histogram" "$FLOWMIX" plot
echo PASS
