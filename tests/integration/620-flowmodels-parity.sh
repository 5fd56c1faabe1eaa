#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flow-models' own tools and flowmix side by side on the same inputs, for every command and
# option pair of issue 18, outputs compared byte for byte where flow-models is deterministic
# (must-show 2).  Needs flow-models (FLOW_MODELS_DIR = a checkout, e.g. of
# github.com/piotrjurkiewicz/flow-models) and a python3 with numpy, scipy and pandas; skipped
# otherwise.  Inputs avoid the cases where flowmix deliberately differs (merge conflicts and
# reversed records; sort --skip-in, which flow-models' sort cannot do: compared with cutting
# first; fit's crashing save: compared through flow-models' fit() and to_json()).
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"
[ -n "${FLOW_MODELS_DIR:-}" ] && [ -d "$FLOW_MODELS_DIR/flow_models" ] || skip "FLOW_MODELS_DIR not set"
PY=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import numpy, scipy, pandas' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || skip "no python3 with numpy, scipy and pandas"
fm() { (cd "$fm_tmp/fm" && PYTHONPATH="$FLOW_MODELS_DIR" "$PY" -m "flow_models.$@" 2>/dev/null); }
fx() { (cd "$fm_tmp/fx" && "$FLOWMIX" "$@"); }
mkdir -p "$fm_tmp/fm" "$fm_tmp/fx"
same() { # what file-in-fm [file-in-fx]
    cmp -s "$fm_tmp/fm/$2" "$fm_tmp/fx/${3:-$2}" || fail "$1: flowmix's $2 differs from flow-models'"
    pairs=$((pairs + 1))
}
pairs=0

# input: 3000 synthetic flows with addresses, ports 53/80/443, several exporter records per key
"$FLOWMIX" send -q --synthetic 3000 --seed 4 --dump "$fm_tmp/syn.csv" 127.0.0.1:9
awk -F', ' 'BEGIN { OFS = ", " } { $14 = (NR % 3 == 0) ? 443 : (NR % 3 == 1) ? 80 : 53; print }' \
    "$fm_tmp/syn.csv" > "$fm_tmp/in.csv"
cp "$fm_tmp/in.csv" "$fm_tmp/fm/"; cp "$fm_tmp/in.csv" "$fm_tmp/fx/"

# convert: selection, filters (dp in (...) works in flow-models' per-record csv_flow mode)
fm convert -i csv_flow --filter-expr 'prot==6' in.csv > "$fm_tmp/fm/c1.csv"
fx convert -i csv_flow --filter-expr 'prot==6' in.csv > "$fm_tmp/fx/c1.csv"
same "convert --filter-expr prot==6" c1.csv
fm convert -i csv_flow --filter-expr 'dp in (80, 443)' in.csv > "$fm_tmp/fm/c2.csv"
fx convert -i csv_flow --filter-expr 'dp in (80, 443)' in.csv > "$fm_tmp/fx/c2.csv"
same "convert --filter-expr 'dp in (80, 443)'" c2.csv
fm convert -i csv_flow --skip-in 10 --count-in 500 --skip-out 5 --count-out 100 \
    --filter-expr 'prot==17' in.csv > "$fm_tmp/fm/c3.csv"
fx convert -i csv_flow --skip-in 10 --count-in 500 --skip-out 5 --count-out 100 \
    --filter-expr 'prot==17' in.csv > "$fm_tmp/fx/c3.csv"
same "convert --skip-in/--count-in/--skip-out/--count-out" c3.csv
fm convert -i csv_flow -o binary -O bin in.csv; fx convert -i csv_flow -o binary -O bin in.csv
for f in "$fm_tmp"/fm/bin/*; do same "convert -o binary" "bin/${f##*/}"; done

# merge: af kept, selection before merging (keys repeat: every 3rd record shares a key)
awk -F', ' 'BEGIN { OFS = ", " } { k = NR % 500; $8 = k; $12 = k + 1; $13 = 1000 + k;
    $15 = 1000 + int(NR / 500) * 400; $16 = 0; $17 = $15 + 299; $18 = 0; print }' \
    "$fm_tmp/in.csv" > "$fm_tmp/fm/m.csv"
cp "$fm_tmp/fm/m.csv" "$fm_tmp/fx/m.csv"
for args in "" "--filter-expr prot==6" "--skip-in 100 --count-in 2000" "--skip-out 7 --count-out 900"; do
    # shellcheck disable=SC2086
    fm merge -i csv_flow $args m.csv > "$fm_tmp/fm/merged.csv"
    # shellcheck disable=SC2086
    fx merge -i csv_flow $args m.csv > "$fm_tmp/fx/merged.csv" 2>/dev/null
    sort "$fm_tmp/fm/merged.csv" > "$fm_tmp/fm/ms.csv"; sort "$fm_tmp/fx/merged.csv" > "$fm_tmp/fx/ms.csv"
    same "merge $args (as sets of records)" ms.csv
done
fx merge -i csv_flow -o none m.csv 2>/dev/null > "$fm_tmp/fx/none.out"
[ ! -s "$fm_tmp/fx/none.out" ] || fail "merge -o none wrote"

# hist: -x, -b, -c, -o csv_hist, binary input with -c for the times (flow-models' rule)
for args in "-x length -b 12" "-x size -b 0" "-x rate" "-x rate -b 8 -c rate" \
    "-x duration -b 4 -c duration -c aggs" "-x length -b 2 -c duration -c rate -c aggs -o csv_hist"; do
    # shellcheck disable=SC2086
    fm hist -i csv_flow $args in.csv > "$fm_tmp/fm/h.csv"
    # shellcheck disable=SC2086
    fx hist -i csv_flow $args in.csv > "$fm_tmp/fx/h.csv"
    same "hist $args" h.csv
    # shellcheck disable=SC2086
    fm hist -i binary -c duration $args bin > "$fm_tmp/fm/h.csv"
    # shellcheck disable=SC2086
    fx hist -i binary -c duration $args bin > "$fm_tmp/fx/h.csv"
    same "hist -i binary -c duration $args" h.csv
done

# sort: default output directory, -I naming, reuse; --skip-in/--count-in against cut-then-sort
mkdir "$fm_tmp/fm/s1" "$fm_tmp/fx/s1"
(cd "$fm_tmp/fm/s1" && PYTHONPATH="$FLOW_MODELS_DIR" "$PY" -m flow_models.sort -i binary -o binary \
    -k first first_ms -I idx ../bin 2>/dev/null) || fail "flow-models sort"
(cd "$fm_tmp/fx/s1" && "$FLOWMIX" sort -i binary -o binary -k first first_ms -I idx ../bin) ||
    fail "flowmix sort"
for f in "$fm_tmp"/fm/s1/*; do same "sort -k first first_ms -I idx" "s1/${f##*/}"; done
fm convert -i binary -o binary -O cut --skip-in 100 --count-in 1000 bin
mkdir "$fm_tmp/fm/s2" "$fm_tmp/fx/s2"
(cd "$fm_tmp/fm/s2" && PYTHONPATH="$FLOW_MODELS_DIR" "$PY" -m flow_models.sort -k sp first \
    -O . ../cut 2>/dev/null) || fail "flow-models sort of the cut"
(cd "$fm_tmp/fx/s2" && "$FLOWMIX" sort -k sp first --skip-in 100 --count-in 1000 \
    --measure-memory ../bin 2>/dev/null) || fail "flowmix sort --skip-in"
for f in "$fm_tmp"/fm/s2/*.?; do same "sort --skip-in 100 --count-in 1000" "s2/${f##*/}"; done

# cut
fm cut -O cut2 --skip-in 10 --count-in 300 bin; fx cut -O cut2 --skip-in 10 --count-in 300 bin
for f in "$fm_tmp"/fm/cut2/*; do same "cut" "cut2/${f##*/}"; done

# generate -o binary
m=$top_srcdir/tests/data/agh_2015/mixtures/all/length
fm generate -s 2000 --seed 3 -o binary -O gen "$m"; fx generate -s 2000 --seed 3 -o binary -O gen "$m"
for f in "$fm_tmp"/fm/gen/*; do same "generate -o binary" "gen/${f##*/}"; done

# summary and series
fm hist -i csv_flow -x length in.csv > "$fm_tmp/fm/l0.csv"; cp "$fm_tmp/fm/l0.csv" "$fm_tmp/fx/"
fm summary l0.csv > "$fm_tmp/fm/sum.tex"; fx summary l0.csv > "$fm_tmp/fx/sum.tex"
same "summary" sum.tex
fm series -i csv_flow -O ser in.csv; fx series -i csv_flow -O ser in.csv
for f in "$fm_tmp"/fm/ser/*; do same "series" "ser/${f##*/}"; done

# fit: the norm family from --initial, through flow-models' fit() (its CLI crashes saving)
fm hist -i csv_flow -x length -b 12 in.csv > "$fm_tmp/fm/l12.csv"; cp "$fm_tmp/fm/l12.csv" "$fm_tmp/fx/"
echo '[[0.4, "norm", [3.0, 2.0]], [0.4, "lognorm", [1.0, 0, 20]], [0.2, "uniform", [0, 1]]]' \
    > "$fm_tmp/fm/init.json"
cp "$fm_tmp/fm/init.json" "$fm_tmp/fx/"
(cd "$fm_tmp/fm" && PYTHONPATH="$FLOW_MODELS_DIR" "$PY" -c '
import sys
from flow_models.fit import fit
from flow_models.lib.mix import to_json
r = fit("l12.csv", "flows", max_iter=100, initial="init.json")
open("flows.json", "w").write(to_json(r["mix"], suma=r["sum"]) + "\n")' 2>/dev/null) || fail "fit()"
fx fit -i 100 --initial init.json l12.csv 2>/dev/null || fail "flowmix fit --initial (norm)"
"$PY" - "$fm_tmp/fm/flows.json" "$fm_tmp/fx/flows.json" <<'PYC' || fail "fit with norm differs"
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:])
assert a["sum"] == b["sum"] and len(a["mix"]) == len(b["mix"]), (a, b)
for ca, cb in zip(a["mix"], b["mix"]):
    assert ca[1] == cb[1], (ca, cb)
    for u, v in zip([ca[0]] + list(ca[2]), [cb[0]] + list(cb[2])):
        assert abs(u - v) <= 1e-9 * max(abs(u), abs(v), 1e-300), (ca, cb)
PYC
pairs=$((pairs + 1))
echo "flow-models and flowmix agree on $pairs outputs"
