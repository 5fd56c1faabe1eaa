#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Scheduled export: flowmixd with export.interval = 2s, fed NetFlow v5 records with many flow
# lengths, fits run on demand.  A snapshot appears with every file: the histogram CSVs re-read
# to what `flowmixctl hist` reports, the mixture JSON parses in flow-models' layout, PNG and SVG
# are valid images, `latest` points at the newest snapshot, old ones beyond `keep` are removed,
# and no half-written snapshot is ever visible (polled while exports are written).
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[fit]
interval = 0
[fit.all-length-flows]
class = all
metric = length
y = flows
U = 2
L = 2
max_iter = 100
[fit.udp-length-packets]
class = udp
metric = length
y = packets
U = 1
L = 2
max_iter = 100
[export]
interval = 2s
keep = 2
EOC
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 20000 1.5 - mixed >/dev/null
ctl flush >/dev/null
ctl fit >/dev/null || fail "fit"
wait_for "ctl --json fits | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"result\"][\"fits\"]; sys.exit(not all(f[\"model\"] for f in r))'" 30 ||
    fail "fits did not finish: $(ctl fits)"
ctl fits | head -5

# Watch the export directory while snapshots are written: a snapshot directory is either
# absent or complete (summary.md is the last thing written into the temporary directory).
python3 - "$fm_tmp/state/export" 7 <<'PY' || fail "a half-written snapshot was visible"
import os, sys, time
d, secs = sys.argv[1], float(sys.argv[2])
end = time.time() + secs
seen = set()
while time.time() < end:
    if os.path.isdir(d):
        for n in os.listdir(d):
            p = os.path.join(d, n)
            if n.startswith(".") or n == "latest" or not os.path.isdir(p):
                continue
            need = ["histograms/all/length.csv", "summary.md", "summary.csv"]
            try:
                missing = [f for f in need if not os.path.exists(os.path.join(p, f))]
            except OSError:
                continue  # pruned while we looked
            if missing and os.path.isdir(p):
                sys.exit("incomplete snapshot %s: missing %s" % (n, missing))
            seen.add(n)
    time.sleep(0.01)
print("snapshots seen:", len(seen))
sys.exit(0 if len(seen) >= 2 else "fewer than two snapshots in %s s" % secs)
PY

ctl --json hist --class all --metric length > "$fm_tmp/hist.json"
ctl --json hist --class udp --metric size > "$fm_tmp/hist-udp.json"
stop_daemon d

exp="$fm_tmp/state/export"
[ -L "$exp/latest" ] || fail "no latest link"
latest=$(readlink "$exp/latest")
newest=$(ls "$exp" | grep -E '^[0-9]{8}T[0-9]{6}Z$' | sort | tail -1)
[ "$latest" = "$newest" ] || fail "latest -> $latest, newest is $newest"
n=$(ls "$exp" | grep -cE '^[0-9]{8}T[0-9]{6}Z$')
[ "$n" -le 2 ] || fail "$n snapshots kept, keep = 2"
ls -R "$exp/latest" | head -40

python3 - "$exp/latest" "$fm_tmp/hist.json" "$fm_tmp/hist-udp.json" <<'PY' || fail "snapshot content"
import csv, json, os, sys
snap, hj, hu = sys.argv[1:4]
def rows(path):
    with open(path) as f:
        r = list(csv.reader(f))
    assert r[0] == ["bin_lo", "bin_hi", "flows_sum", "packets_sum", "octets_sum"], r[0]
    return [[int(v) for v in row] for row in r[1:]]
for path, reply in (("histograms/all/length.csv", hj), ("histograms/udp/size.csv", hu)):
    got = rows(os.path.join(snap, path))
    want = json.load(open(reply))["result"]["bins"]
    assert got == want and got, (path, got[:3], want[:3])
for cls in ("all", "tcp", "udp", "other"):
    for m in ("length", "size", "duration"):
        assert os.path.exists(os.path.join(snap, "histograms", cls, m + ".csv")), (cls, m)
# Mixture files in flow-models' layout.
for rel in ("mixtures/all/length/flows", "mixtures/udp/length/packets"):
    text = open(os.path.join(snap, rel + ".json")).read()
    j = json.loads(text)
    assert text.startswith('{\n  "sum": ') and '"mix": [' in text, text[:80]
    assert j["sum"] > 0 and abs(sum(c[0] for c in j["mix"]) - 1) < 1e-6, j
    assert all(c[1] in ("uniform", "lognorm") for c in j["mix"]), j
    mode = json.loads(open(os.path.join(snap, rel + ".mode")).read())
    assert mode["max_iter"] == 100 and "initial" in mode, mode
# Plots: valid PNG and SVG.
for cls, m in (("all", "length"), ("udp", "size")):
    base = os.path.join(snap, "plots", cls, m)
    for kind in ("pdf", "cdf"):
        png = open(os.path.join(base, kind + ".png"), "rb").read()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000, (base, kind)
        svg = open(os.path.join(base, kind + ".svg")).read()
        assert svg.lstrip().startswith("<?xml") and svg.rstrip().endswith("</svg>"), (base, kind)
summary = open(os.path.join(snap, "summary.md")).read()
assert "Number of flows" in summary and "Flows of length up to" in summary
print("snapshot ok:", snap)
PY
if command -v xmllint >/dev/null; then
    xmllint --noout "$exp/latest/plots/all/length/pdf.svg" || fail "xmllint"
fi
# flow-models itself reads the snapshot unchanged (optional: FLOW_MODELS_DIR = a flow-models
# checkout, with numpy, scipy, pandas and matplotlib for /usr/bin/python3).
if [ -n "${FLOW_MODELS_DIR:-}" ] &&
   /usr/bin/python3 -c 'import numpy, scipy, pandas, matplotlib' 2>/dev/null; then
    fmx() { tool=$1; shift
            (cd "$fm_tmp" && PYTHONPATH="$FLOW_MODELS_DIR" MPLBACKEND=Agg \
             /usr/bin/python3 -m "flow_models.$tool" "$@") >"$fm_tmp/fmx.log" 2>&1 ||
            fail "flow-models $tool rejected the snapshot: $(tail -3 "$fm_tmp/fmx.log")"; }
    snap="$exp/latest"
    fmx generate -s 10 -x length "$snap/histograms/all/length.csv"
    [ "$(grep -c , "$fm_tmp/fmx.log")" -ge 10 ] || fail "flow-models generate wrote no flows"
    fmx plot -x length "$snap/histograms/all/length.csv" "$snap/mixtures/all/length"
    ls "$fm_tmp"/pdf-flows.png >/dev/null || fail "flow-models plot drew nothing"
    echo "flow-models generate and plot read the snapshot"
fi
echo PASS
