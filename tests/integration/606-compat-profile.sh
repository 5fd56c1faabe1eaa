#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix profile reads every flow format flowmix reads (issue 18): the same records as ftcsv
# (ft-profiler's own input), csv_flow, a binary directory and nfcapd give the same profile; a
# failed run leaves no output file behind (it wrote a header-only file).
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"
in=$TDATA/ft-profiler/csv_basic_input.csv
[ -f "$in" ] || skip "no ft-profiler input"

"$FLOWMIX" profile -o "$fm_tmp/ft.csv" "$in" || fail "profile of ftcsv"
cmp -s "$fm_tmp/ft.csv" "$TDATA/ft-profiler/csv_basic_profile.csv" ||
    fail "ftcsv profile differs from ft-profiler's"
"$FLOWMIX" convert -i ftcsv -o csv_flow -O "$fm_tmp/in.csv" "$in" 2>/dev/null || fail "convert"
"$FLOWMIX" convert -i ftcsv -o binary -O "$fm_tmp/in.bin" "$in" 2>/dev/null || fail "convert"
"$FLOWMIX" profile -o "$fm_tmp/flow.csv" "$fm_tmp/in.csv" || fail "profile of csv_flow"
"$FLOWMIX" profile --in-format csv_flow -o "$fm_tmp/flow2.csv" "$fm_tmp/in.csv" ||
    fail "profile --in-format csv_flow"
"$FLOWMIX" profile -o "$fm_tmp/bin.csv" "$fm_tmp/in.bin" || fail "profile of binary"
cmp -s "$fm_tmp/flow.csv" "$fm_tmp/bin.csv" || fail "binary and csv_flow profiles differ"
cmp -s "$fm_tmp/flow.csv" "$fm_tmp/flow2.csv" || fail "--in-format csv_flow differs from auto"
[ "$(wc -l < "$fm_tmp/flow.csv")" -gt 1 ] || fail "empty csv_flow profile"

if command -v nfdump > /dev/null 2>&1; then
    nf=$TDATA/flowio/nfcapd.v5-60
    "$FLOWMIX" convert -i nfcapd -O "$fm_tmp/nf.csv" "$nf" || fail "convert nfcapd"
    "$FLOWMIX" profile --in-format nfcapd -o "$fm_tmp/nf1.csv" "$nf" || fail "profile nfcapd"
    "$FLOWMIX" profile -o "$fm_tmp/nf2.csv" "$fm_tmp/nf.csv" || fail "profile its csv_flow"
    cmp -s "$fm_tmp/nf1.csv" "$fm_tmp/nf2.csv" || fail "nfcapd profile differs from csv_flow's"
fi

# errors: exit 1, no output file (not even a header-only one), nothing left beside it
mkdir -p "$fm_tmp/out"
st=0
"$FLOWMIX" profile --in-format ftcsv -o "$fm_tmp/out/bad.csv" "$fm_tmp/in.csv" \
    2> "$fm_tmp/err" || st=$?
[ "$st" = 1 ] || fail "profile of a csv_flow read as ftcsv: exit $st, want 1"
[ -z "$(ls "$fm_tmp/out")" ] || fail "output left behind on error: $(ls "$fm_tmp/out")"
[ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "error not said once: $(cat "$fm_tmp/err")"
st=0; "$FLOWMIX" profile -g -o "$fm_tmp/out/gz.csv.gz" "$fm_tmp/missing" 2>/dev/null || st=$?
[ "$st" = 1 ] && [ -z "$(ls "$fm_tmp/out")" ] || fail "gzip output left behind on error"
exit 0
