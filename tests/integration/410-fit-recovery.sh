#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Recovery: 200000 flows drawn from a known two-lognormal mixture with flowmix generate, binned
# here (flow-models hist rule, -b 12), then flowmix fit -L 2 recovers weights and parameters
# within 2 %.
. "$(dirname "$0")/lib.sh"
need python3
mix="$fm_tmp/model"
mkdir -p "$mix"
for y in flows:200000 packets:1000 octets:1000000; do
    cat > "$mix/${y%%:*}.json" <<JSON
{
  "sum": ${y#*:},
  "mix": [
    [0.6, "lognorm", [0.5, 0, 200.0]],
    [0.4, "lognorm", [1.0, 0, 20000.0]]
  ]
}
JSON
done
"$FLOWMIX" generate -s 200000 --seed 11 -O "$fm_tmp/flows.csv" "$mix" || fail "generate failed"
python3 - "$fm_tmp/flows.csv" "$fm_tmp/hist.csv" <<'PY'
import sys
bins = {}
for line in open(sys.argv[1]):
    f = [int(v) for v in line.split(",")]
    assert len(f) == 21
    p, o = f[18], f[19]
    w = 1 << max(0, p.bit_length() - 12)
    lo = p // w * w
    b = bins.setdefault(lo, [lo + w, 0, 0, 0])
    b[1] += 1; b[2] += p; b[3] += o
with open(sys.argv[2], "w") as out:
    out.write("bin_lo,bin_hi,flows_sum,packets_sum,octets_sum\n")
    for lo in sorted(bins):
        out.write("%d,%d,%d,%d,%d\n" % (lo, *bins[lo]))
PY
"$FLOWMIX" fit -i 3000 --tol 1e-13 -L 2 -O "$fm_tmp" "$fm_tmp/hist.csv" || fail "fit failed"
python3 - "$fm_tmp/flows.json" <<'PY' || fail "mixture not recovered"
import json, sys
m = json.load(open(sys.argv[1]))
print(m)
assert m["sum"] == 200000
want = [(0.6, 0.5, 200.0), (0.4, 1.0, 20000.0)]
got = sorted(((w, p[0], p[2]) for w, n, p in m["mix"]), key=lambda t: t[2])
for (w, s, sc), (ww, ws, wsc) in zip(got, want):
    for a, b in ((w, ww), (s, ws), (sc, wsc)):
        assert abs(a - b) <= 0.02 * b, (got, want)
PY
