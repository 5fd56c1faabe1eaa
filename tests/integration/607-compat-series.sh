#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix series (flow-models series, issue 18): per-second flows/packets/octets files per UTC
# day, packets spread over the duration with flow-models' octet shares and day rollover, and
# series_plot's charts of them (every octets file as bits: flow-models multiplies only the
# first one by 8, as its loop renames 'octets' to 'bits'); the
# agh_2015 Makefile's command line; byte-identical to flow-models' series when FLOW_MODELS_DIR
# is set.
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"

# 3 packets, 1000 octets from 86399.500 to 86400.500: 333 + 333 octets in second 86399 of day
# 0, the third packet (334 octets) at 86400.167 in second 0 of day 1; a 1-packet flow at 10 s.
cat > "$fm_tmp/in.csv" <<'CSV'
2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 86399, 500, 86400, 500, 3, 1000, 1
2, 17, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 53, 53, 10, 0, 10, 0, 1, 64, 1
CSV
"$FLOWMIX" series -i csv_flow -O "$fm_tmp/s" "$fm_tmp/in.csv" || fail "series"
[ "$(ls "$fm_tmp/s" | tr '\n' ' ')" = "0.flows 0.octets 0.packets 1.flows 1.octets 1.packets " ] ||
    fail "files: $(ls "$fm_tmp/s")"
for f in "$fm_tmp"/s/*; do
    [ "$(wc -l < "$f")" = 86400 ] || fail "$f: not 86400 lines"
done
line() { sed -n "$(($2 + 1))p" "$fm_tmp/s/$1"; }
[ "$(line 0.flows 86399)" = 1 ] && [ "$(line 0.packets 86399)" = 2 ] &&
    [ "$(line 0.octets 86399)" = 666 ] || fail "day 0, second 86399"
[ "$(line 1.flows 0)" = 0 ] && [ "$(line 1.packets 0)" = 1 ] && [ "$(line 1.octets 0)" = 334 ] ||
    fail "day 1, second 0"
[ "$(line 0.flows 10)" = 1 ] && [ "$(line 0.octets 10)" = 64 ] || fail "the 1-packet flow"
[ "$(awk '{s += $1} END {print s}' "$fm_tmp/s/0.octets" "$fm_tmp/s/1.octets")" = 1064 ] ||
    fail "octets do not add up"

# the agh_2015 Makefile's lines, on a binary directory
"$FLOWMIX" convert -i csv_flow -o binary -O "$fm_tmp/sorted" "$fm_tmp/in.csv" || fail "convert"
(cd "$fm_tmp" && "$FLOWMIX" series -i binary -O series/tcp --filter-expr "prot==6" sorted) ||
    fail "series -i binary --filter-expr"
cmp -s "$fm_tmp/series/tcp/1.octets" "$fm_tmp/s/1.octets" || fail "binary input differs"
[ "$(line 0.flows 10)" = 1 ] && [ "$(sed -n 11p "$fm_tmp/series/tcp/0.flows")" = 0 ] ||
    fail "the filter did not drop the udp flow"

# series_plot: a chart per file (octets as bits) and a "TITLE WHAT SUM" line per file
(cd "$fm_tmp/s" && "$FLOWMIX" series_plot --format png,pdf > "$fm_tmp/sp.txt") ||
    fail "series_plot"
for d in 0 1; do
    for w in flows packets bits; do
        [ -s "$fm_tmp/s/$d.$w.pdf" ] && [ -s "$fm_tmp/s/$d.$w.png" ] || fail "no $d.$w chart"
    done
done
grep -qx '1970-01-01-Thu (Day 0) bits 5840' "$fm_tmp/sp.txt" &&
    grep -qx '1970-01-02-Fri (Day 1) bits 2672' "$fm_tmp/sp.txt" &&
    grep -qx '1970-01-01-Thu (Day 0) flows 2' "$fm_tmp/sp.txt" || fail "series_plot: $(cat "$fm_tmp/sp.txt")"

if [ -n "${FLOW_MODELS_DIR:-}" ]; then
    "$FLOWMIX" send -q --synthetic 2000 --seed 9 --dump "$fm_tmp/syn.csv" 127.0.0.1:9
    (cd "$FLOW_MODELS_DIR" && python3 -m flow_models.series -i csv_flow -O "$fm_tmp/fm" \
        "$fm_tmp/syn.csv" 2>/dev/null) || fail "flow-models series"
    "$FLOWMIX" series -i csv_flow -O "$fm_tmp/fx" "$fm_tmp/syn.csv" || fail "series"
    for f in "$fm_tmp"/fm/*; do
        cmp -s "$f" "$fm_tmp/fx/${f##*/}" || fail "${f##*/} differs from flow-models'"
    done
    echo "flow-models series: $(ls "$fm_tmp/fm" | wc -l) files identical"
fi
exit 0
