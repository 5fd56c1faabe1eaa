#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/toolkit: the offline toolkit beside flow-models on FLOWS seeded export records (2 M by
# default; bench/flowgen writes them as a flow-models binary directory).  Each operation runs
# through `flowmix` and, when FLOW_MODELS_DIR holds a flow-models checkout and PYTHON has numpy,
# through flow-models' fastest equivalent on the same files in the same run:
#   hist:length   hist -x length -b 12        flow_models.hist_np (numpy bincount)
#   hist:size     hist -x size -b 12          flow_models.hist_np (np.add.at) and flow_models.hist
#   sort          sort -k first first_ms      flow_models.sort (numpy lexsort + gather)
#   convert:*     convert binary <-> csv_flow flow_models.convert
#   merge         merge binary -> binary      flow_models.merge
# Wall seconds (start-up included, date +%s.%N) and peak RSS (/usr/bin/time %M); the fast commands
# (every flowmix one, hist_np, sort) run REPEAT times and the table shows the fastest run and the
# largest RSS; the pure-Python tools run once.  After the table every output pair is compared
# byte for byte (csv files, hist files, every column file of the sort/merge/convert directories).
#
# usage: bench/toolkit.sh [BUILDDIR]    (default: the current directory)
# env:   FLOWS=2000000  SEED=1  REPEAT=3  FLOW_MODELS_DIR=/path/to/flow-models
#        PYTHON=/usr/bin/python3  ONLY="hist:length sort ..." (a subset)  FM_KEEP=1 (keep files)
set -eu

B=$(cd "${1:-.}" && pwd)
FLOWS=${FLOWS:-2000000}
SEED=${SEED:-1}
REPEAT=${REPEAT:-3}
PYTHON=${PYTHON:-/usr/bin/python3}
ONLY=${ONLY:-"hist:length hist:size sort convert:bin-csv convert:csv-bin merge"}
for p in "$B/flowmix" "$B/bench/flowgen" /usr/bin/time; do
    [ -x "$p" ] || { echo "bench/toolkit: $p not found (run make)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowmix-toolkit.XXXXXX")
cleanup() { if [ "${FM_KEEP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi; }
trap cleanup EXIT
: > "$tmp/results"
: > "$tmp/same"

load() { cut -d' ' -f1-3 /proc/loadavg; }
want() { case " $ONLY " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# run OP TOOL TIMES CMD...: run a command TIMES times (stdout discarded) under /usr/bin/time;
# record "OP TOOL BEST_SECONDS MAX_RSS_KB LOAD1".
run() {
    op=$1 tool=$2 times=$3
    shift 3
    best="" rss=0 k=0
    while [ $k -lt "$times" ]; do
        k=$((k + 1))
        t0=$(date +%s.%N)
        if ! /usr/bin/time -f '%M' -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err"; then
            echo "bench/toolkit: $tool $op failed:" >&2; tail -5 "$tmp/err" >&2; exit 1
        fi
        t1=$(date +%s.%N)
        s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')
        read -r m < "$tmp/time"
        best=$(awk -v a="$best" -v b="$s" 'BEGIN { print (a == "" || b < a) ? b : a }')
        [ "$m" -gt "$rss" ] && rss=$m
    done
    echo "$op $tool $best $rss $(cut -d' ' -f1 /proc/loadavg)" >> "$tmp/results"
}

# same NAME A B: byte comparison of two files or two directories' column files.
same() {
    r_=same
    if [ -d "$2" ]; then
        for f in "$2"/*; do
            cmp -s "$f" "$3/$(basename "$f")" || r_="DIFFERENT($(basename "$f"))"
        done
        [ "$(ls "$2" | wc -l)" = "$(ls "$3" | wc -l)" ] || r_="DIFFERENT(file count)"
    else
        cmp -s "$2" "$3" || r_=DIFFERENT
    fi
    echo "$1:$r_" >> "$tmp/same"
}

have_fm=0
if [ -z "${FLOW_MODELS_DIR:-}" ]; then
    why="FLOW_MODELS_DIR is not set"
elif [ ! -f "$FLOW_MODELS_DIR/flow_models/hist_np.py" ]; then
    why="no flow_models/hist_np.py in FLOW_MODELS_DIR=$FLOW_MODELS_DIR"
elif ! "$PYTHON" -c 'import numpy' 2>/dev/null; then
    why="$PYTHON cannot import numpy"
else
    have_fm=1
fi
# Commands as argument words (run() execs them through /usr/bin/time, so no shell functions).
# $py is split into words: FLOW_MODELS_DIR and PYTHON must not contain blanks.
fm=$B/flowmix
py="env PYTHONPATH=${FLOW_MODELS_DIR:-} $PYTHON -m"

echo "bench/toolkit: $FLOWS records (bench/flowgen seed $SEED), $(nproc) CPUs, REPEAT=$REPEAT," \
    "load $(load)"
"$B/bench/flowgen" "$FLOWS" "$tmp/in" "$SEED" >/dev/null
echo "input: $(du -sh "$tmp/in" | cut -f1) in $(ls "$tmp/in" | wc -l) column files"
in=$tmp/in

if want hist:length; then
    run hist:length flowmix:hist "$REPEAT" \
        "$fm" hist -i binary -x length -b 12 -O "$tmp/fx.hl" "$in"
    if [ $have_fm = 1 ]; then
        run hist:length flow_models.hist_np "$REPEAT" \
            $py flow_models.hist_np -i binary -x length -b 12 -O "$tmp/np.hl" "$in"
        same hist:length "$tmp/fx.hl" "$tmp/np.hl"
    fi
fi
if want hist:size; then
    run hist:size flowmix:hist "$REPEAT" "$fm" hist -i binary -x size -b 12 -O "$tmp/fx.hs" "$in"
    if [ $have_fm = 1 ]; then
        run hist:size flow_models.hist_np 1 \
            $py flow_models.hist_np -i binary -x size -b 12 -O "$tmp/np.hs" "$in"
        run hist:size flow_models.hist 1 \
            $py flow_models.hist -i binary -x size -b 12 -O "$tmp/py.hs" "$in"
        same hist:size:hist_np "$tmp/fx.hs" "$tmp/np.hs"
        same hist:size:hist "$tmp/fx.hs" "$tmp/py.hs"
    fi
fi
if want sort; then
    run sort flowmix:sort "$REPEAT" "$fm" sort -k first first_ms -O "$tmp/fx.sorted" "$in"
    if [ $have_fm = 1 ]; then
        # flow-models' -k takes every word after it, so the input directory comes first.
        run sort flow_models.sort "$REPEAT" \
            $py flow_models.sort "$in" -O "$tmp/py.sorted" -k first first_ms
        same sort "$tmp/fx.sorted" "$tmp/py.sorted"
    fi
    rm -rf "$tmp/fx.sorted" "$tmp/py.sorted"
fi
if want convert:bin-csv || want convert:csv-bin; then
    run convert:bin-csv flowmix:convert "$REPEAT" \
        "$fm" convert -i binary -o csv_flow -O "$tmp/fx.csv" "$in"
    if [ $have_fm = 1 ]; then
        run convert:bin-csv flow_models.convert 1 \
            $py flow_models.convert -i binary -o csv_flow -O "$tmp/py.csv" "$in"
        same convert:bin-csv "$tmp/fx.csv" "$tmp/py.csv"
    fi
fi
if want convert:csv-bin; then
    run convert:csv-bin flowmix:convert "$REPEAT" \
        "$fm" convert -i csv_flow -o binary -O "$tmp/fx.bin" "$tmp/fx.csv"
    if [ $have_fm = 1 ]; then
        run convert:csv-bin flow_models.convert 1 \
            $py flow_models.convert -i csv_flow -o binary -O "$tmp/py.bin" "$tmp/fx.csv"
        same convert:csv-bin "$tmp/fx.bin" "$tmp/py.bin"
    fi
    rm -rf "$tmp/fx.bin" "$tmp/py.bin"
fi
rm -f "$tmp/fx.csv" "$tmp/py.csv"
if want merge; then
    run merge flowmix:merge "$REPEAT" "$fm" merge -i binary -o binary -O "$tmp/fx.merged" "$in"
    if [ $have_fm = 1 ]; then
        run merge flow_models.merge 1 \
            $py flow_models.merge -i binary -o binary -O "$tmp/py.merged" "$in"
        same merge "$tmp/fx.merged" "$tmp/py.merged"
    fi
    rm -rf "$tmp/fx.merged" "$tmp/py.merged"
fi

# The table: ratio = that tool's seconds / flowmix's seconds (how many times faster flowmix is);
# rss ratio = flowmix's peak RSS / that tool's.
echo
printf '%-16s %-20s %8s %9s %8s %9s %6s\n' operation tool seconds rss_MB ratio rss_ratio load1
awk '
    { op[NR] = $1; tool[NR] = $2; s[NR] = $3; m[NR] = $4; l[NR] = $5
      if ($2 ~ /^flowmix:/) { fs[$1] = $3; fm[$1] = $4 } }
    END {
      for (i = 1; i <= NR; i++) {
        fx = tool[i] ~ /^flowmix:/
        r = fx ? "1.0" : sprintf("%.1f", (fs[op[i]] > 0) ? s[i] / fs[op[i]] : 0)
        q = fx ? "1.00" : sprintf("%.2f", (m[i] > 0) ? fm[op[i]] / m[i] : 0)
        t = tool[i]; sub(/:/, " ", t)
        printf "%-16s %-20s %8.3f %9.1f %8s %9s %6s\n", op[i], t, s[i], m[i] / 1024, r, q, l[i]
      }
    }' "$tmp/results"
echo
if [ $have_fm = 0 ]; then
    echo "flow-models comparison skipped: $why"
else
    echo "same output bytes (flowmix vs flow-models): $(tr '\n' ' ' < "$tmp/same")"
fi
echo "load at the end: $(load)"
