#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/toolkit: flows per second of the offline toolkit on FLOWS seeded export records (10 M by
# default; bench/flowgen writes them as a flow-models binary directory): `flowmix convert`
# binary -> csv_flow and back, `flowmix merge` (binary -> binary) and `flowmix hist -x length`
# and `-x size`.  When FLOW_MODELS_DIR holds a flow-models checkout and PYTHON has numpy, the same
# operations run through flow-models' own convert, merge, hist and hist_np on the same records
# (or on their first PY_FLOWS, said in the table).  Prints one table; the ratio column says how
# many times flowmix's rate is that flow-models tool's.  Wall-clock seconds of each command,
# start-up included.  Needs about 1 GB of temporary disk per million records at most.
#
# usage: bench/toolkit.sh [BUILDDIR]    (default: the current directory)
# env:   FLOWS=10000000  SEED=1  FLOW_MODELS_DIR=/path/to/flow-models  PYTHON=/usr/bin/python3
#        PY_FLOWS=$FLOWS (records given to flow-models)  FM_KEEP=1 (keep the temporary directory)
set -eu

B=$(cd "${1:-.}" && pwd)
FLOWS=${FLOWS:-10000000}
SEED=${SEED:-1}
PYTHON=${PYTHON:-/usr/bin/python3}
PY_FLOWS=${PY_FLOWS:-$FLOWS}
for p in "$B/flowmix" "$B/bench/flowgen"; do
    [ -x "$p" ] || { echo "bench/toolkit: $p not built (run make)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowmix-toolkit.XXXXXX")
cleanup() { if [ "${FM_KEEP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
: > "$tmp/results"

now() { date +%s.%N; }
# run OP TOOL FLOWS CMD...: time one command (stdout discarded), record "OP TOOL FLOWS SECONDS".
run() {
    op=$1 tool=$2 n=$3
    shift 3
    t0=$(now)
    if ! "$@" >/dev/null 2>"$tmp/err"; then
        echo "bench/toolkit: $tool $op failed:" >&2; tail -5 "$tmp/err" >&2; exit 1
    fi
    t1=$(now)
    echo "$op $tool $n $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" \
        >> "$tmp/results"
}

echo "bench/toolkit: $FLOWS records (bench/flowgen seed $SEED), $(nproc) CPUs," \
    "load $(cut -d' ' -f1-3 /proc/loadavg)"
"$B/bench/flowgen" "$FLOWS" "$tmp/in" "$SEED"

fm() { "$B/flowmix" "$@"; }
run convert:bin-csv flowmix:convert "$FLOWS" \
    fm convert -i binary -o csv_flow -O "$tmp/fx.csv" "$tmp/in"
run convert:csv-bin flowmix:convert "$FLOWS" \
    fm convert -i csv_flow -o binary -O "$tmp/fx.bin" "$tmp/fx.csv"
rm -rf "$tmp/fx.bin"
run merge flowmix:merge "$FLOWS" fm merge -i binary -o binary -O "$tmp/fx.merged" "$tmp/in"
rm -rf "$tmp/fx.merged"
run hist:length flowmix:hist "$FLOWS" fm hist -i binary -x length -O "$tmp/fx.hl" "$tmp/in"
run hist:size flowmix:hist "$FLOWS" fm hist -i binary -x size -O "$tmp/fx.hs" "$tmp/in"

have_fm=0
if [ -z "${FLOW_MODELS_DIR:-}" ]; then
    why="FLOW_MODELS_DIR is not set"
elif [ ! -f "$FLOW_MODELS_DIR/flow_models/merge.py" ]; then
    why="no flow_models/merge.py in FLOW_MODELS_DIR=$FLOW_MODELS_DIR"
elif ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    why="$PYTHON cannot import numpy"
else
    have_fm=1
fi

if [ $have_fm = 1 ]; then
    pin="$tmp/in"
    if [ "$PY_FLOWS" -lt "$FLOWS" ]; then
        pin="$tmp/sample"
        fm convert -i binary -o binary --count-in "$PY_FLOWS" -O "$pin" "$tmp/in"
    fi
    fmod() { m_=$1; shift; PYTHONPATH="$FLOW_MODELS_DIR" "$PYTHON" -m "flow_models.$m_" "$@"; }
    N=$PY_FLOWS
    run convert:bin-csv flow_models.convert "$N" \
        fmod convert -i binary -o csv_flow -O "$tmp/py.csv" "$pin"
    run convert:csv-bin flow_models.convert "$N" \
        fmod convert -i csv_flow -o binary -O "$tmp/py.bin" "$tmp/py.csv"
    rm -rf "$tmp/py.bin"
    run merge flow_models.merge "$N" fmod merge -i binary -o binary -O "$tmp/py.merged" "$pin"
    rm -rf "$tmp/py.merged"
    run hist:length flow_models.hist "$N" fmod hist -i binary -x length -O "$tmp/py.hl" "$pin"
    run hist:length flow_models.hist_np "$N" fmod hist_np -i binary -x length -O "$tmp/np.hl" "$pin"
    run hist:size flow_models.hist "$N" fmod hist -i binary -x size -O "$tmp/py.hs" "$pin"
    run hist:size flow_models.hist_np "$N" fmod hist_np -i binary -x size -O "$tmp/np.hs" "$pin"
    # Same records in, so the same bytes out (a sanity check of the comparison, not a test).
    if [ "$PY_FLOWS" = "$FLOWS" ]; then
        same=""
        for f in csv hl hs; do
            if cmp -s "$tmp/fx.$f" "$tmp/py.$f"; then r_=same; else r_=DIFFERENT; fi
            same="$same $f:$r_"
        done
    fi
fi

# The table: operations in order, flowmix first; ratio = flowmix flows/s / this row's flows/s.
echo
printf '%-16s %-20s %9s %8s %11s %7s\n' operation tool flows seconds flows/s ratio
awk '
    { op[NR] = $1; tool[NR] = $2; n[NR] = $3; s[NR] = $4; r[NR] = ($4 > 0) ? $3 / $4 : 0
      fx_row[NR] = ($2 ~ /^flowmix:/)
      if (!($1 in seen)) { seen[$1] = 1; ops[++nops] = $1 }
      if (fx_row[NR]) fx[$1] = r[NR]
      else if (!($1 in best) || r[NR] > best[$1]) best[$1] = r[NR] }
    END {
      for (k = 1; k <= nops; k++) for (i = 1; i <= NR; i++) if (op[i] == ops[k]) {
        ratio = fx_row[i] ? "1.0" : sprintf("%.1f", fx[op[i]] / r[i])
        t = tool[i]; sub(/:/, " ", t)
        printf "%-16s %-20s %9d %8.2f %11.0f %7s\n", op[i], t, n[i], s[i], r[i], ratio
      }
      line = ""; worst = -1
      for (k = 1; k <= nops; k++) if (ops[k] in best) {
        q = fx[ops[k]] / best[ops[k]]
        line = line sprintf(" %s %.1fx,", ops[k], q)
        if (worst < 0 || q < worst) worst = q
      }
      if (line != "") {
        sub(/,$/, "", line)
        printf "\nflowmix / fastest flow-models tool:%s\n", line
        printf "target >= 20x: %s (lowest %.1fx)\n", (worst >= 20) ? "met" : "NOT met", worst
      }
    }' "$tmp/results"

if [ $have_fm = 0 ]; then
    echo "flow-models comparison skipped: $why"
elif [ "$PY_FLOWS" -lt "$FLOWS" ]; then
    echo "flow-models ran on the first $PY_FLOWS of the $FLOWS records (PY_FLOWS)"
else
    echo "same output bytes (flowmix vs flow-models):$same"
fi
echo "load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
