#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix summary on the agh_2015 all histograms: the totals, averages and CDF points of
# FLOW-MODELS-DETAIL §12.1/§12.2 in flow-models' TeX layout, and the Markdown/CSV forms.
. "$(dirname "$0")/lib.sh"
H="$FM_SHARED/data/agh_2015/histograms/all"
[ -f "$H/length.csv" ] || skip "agh_2015 histograms not found under FM_SHARED=$FM_SHARED"

tex="$fm_tmp/length.tex"
"$FLOWMIX" summary "$H/length.csv" > "$tex" || fail "summary failed"
has() { grep -qxF "$1" "$2" || fail "missing line '$1' in $2"; }
has '\textbf{Number of flows} & 4 032 376 751 & flows \\' "$tex"
has '\textbf{Number of packets} & 316 857 594 090 & packets \\' "$tex"
has '\textbf{Number of octets} & 275 858 498 994 998 & octets \\' "$tex"
has '\textbf{Average flow length} & 78.578370 & packets \\' "$tex"
has '\textbf{Average packet size} & 870.607188 & bytes \\' "$tex"
has '1 & 47.8326 & 0.6087 & 0.1047 \\' "$tex"
has '2 & 65.3421 & 1.0544 & 0.1728 \\' "$tex"
has '1024 & 99.4631 & 14.4387 & 8.1638 \\' "$tex"
has '4096 & 99.7996 & 22.9151 & 15.7909 \\' "$tex"
has '65536 & 99.9805 & 58.5799 & 50.6331 \\' "$tex"
has '16777216 & 100.0000 & 98.9066 & 98.5953 \\' "$tex"
has '\multicolumn{1}{c}{(packets)} & of flows & of packets & of octets \\' "$tex"
# Two tables, each followed by two empty lines; 25 CDF rows.
[ "$(grep -c '^\\end{tabular}$' "$tex")" = 2 ] || fail "table count"
[ "$(tail -c 3 "$tex" | od -An -tx1 | tr -d ' \n')" = 0a0a0a ] || fail "trailer"
[ "$(tail -n 3 "$tex" | head -n 1)" = '\end{tabular}' ] || fail "last table line"
[ "$(grep -c '^[0-9]* & [0-9.]* & ' "$tex")" = 25 ] || fail "CDF rows"

tex="$fm_tmp/size.tex"
"$FLOWMIX" summary -x size "$H/size.csv" > "$tex" || fail "summary -x size failed"
has '64 & 4.3082 & 0.0548 & 0.0040 \\' "$tex"
has '128 & 32.3376 & 0.4196 & 0.0424 \\' "$tex"
has '65536 & 97.9404 & 8.6738 & 2.4039 \\' "$tex"
has '4194304 & 99.8482 & 34.0454 & 15.4285 \\' "$tex"
has '1073741824 & 99.9998 & 93.8573 & 90.6786 \\' "$tex"
has '\textbf{Flows of size up to} & \multicolumn{3}{c}{\textbf{Make up \%}} \\' "$tex"

md="$fm_tmp/length.md"
"$FLOWMIX" summary --format md "$H/length.csv" > "$md" || fail "md failed"
has '| Average flow size | 68410.894128 | octets |' "$md"
has '| 1 024 | 99.4631 | 14.4387 | 8.1638 |' "$md"
csv="$fm_tmp/length.csv"
"$FLOWMIX" summary --format csv "$H/length.csv" > "$csv" || fail "csv failed"
has 'all,4032376751,316857594090,275858498994998,78.578370,68410.894128,870.607188' "$csv"
has 'all,4096,99.7996,22.9151,15.7909' "$csv"
if "$FLOWMIX" summary --format xml "$H/length.csv" 2>/dev/null; then fail "bad format accepted"; fi
