#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flow-models IO options of convert and generate (issue 18): convert -o none (select and count,
# write nothing), -o append/extend refused in one line (they fill a Python list in flow-models'
# library use), `dp in (80, 443)` in --filter-expr; generate -o binary writes the 21 columns
# flow-models writes (all 0 but packets and octets) with the same flows as csv_flow.
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"

f=$fm_tmp/flows.csv
cat > "$f" <<'CSV'
2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 100, 0, 150, 500, 5, 500, 1
2, 6, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4, 1000, 80, 200, 900, 201, 100, 4096, 6000000, 1
2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 443, 100, 0, 100, 7, 3, 700, 3
2, 17, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 80, 100, 0, 103, 0, 2, 1337, 1
CSV
"$FLOWMIX" convert -i csv_flow --filter-expr 'dp in (80, 443)' "$f" > "$fm_tmp/got" ||
    fail "dp in (80, 443) refused"
sed -n '2,4p' "$f" | cmp -s - "$fm_tmp/got" || fail "dp in (80, 443): $(cat "$fm_tmp/got")"
"$FLOWMIX" convert -i csv_flow --filter-expr '(prot == 6) & (dp not in [80, 443])' "$f" \
    > "$fm_tmp/got" || fail "not in refused"
sed -n '1p' "$f" | cmp -s - "$fm_tmp/got" || fail "dp not in: $(cat "$fm_tmp/got")"

"$FLOWMIX" convert -i csv_flow -o none -O "$fm_tmp/never" "$f" > "$fm_tmp/got" ||
    fail "-o none failed"
[ ! -s "$fm_tmp/got" ] && [ ! -e "$fm_tmp/never" ] || fail "-o none wrote something"
for o in append extend nfcapd bogus; do
    st=0
    "$FLOWMIX" convert -i csv_flow -o $o "$f" > /dev/null 2> "$fm_tmp/err" || st=$?
    [ "$st" = 2 ] || fail "convert -o $o: exit $st, want 2"
    [ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "convert -o $o: not one line: $(cat "$fm_tmp/err")"
done

# generate -o binary: the same flows as csv_flow, read back through convert
m=$TDATA/agh_2015/mixtures/all/length
[ -d "$m" ] || m=$FM_SHARED/data/agh_2015/mixtures/all/length
[ -d "$m" ] || skip "no agh_2015 mixture"
"$FLOWMIX" generate -s 300 --seed 5 "$m" > "$fm_tmp/gen.csv" || fail "generate csv_flow"
"$FLOWMIX" generate -s 300 --seed 5 -o binary -O "$fm_tmp/gen.bin" "$m" || fail "generate binary"
[ "$(ls "$fm_tmp/gen.bin" | wc -l)" = 21 ] || fail "binary output: $(ls "$fm_tmp/gen.bin")"
[ "$(stat -c %s "$fm_tmp/gen.bin/packets.Q")" = 2400 ] || fail "packets.Q: not 300 values"
"$FLOWMIX" convert -i binary "$fm_tmp/gen.bin" | cmp -s - "$fm_tmp/gen.csv" ||
    fail "generate -o binary differs from csv_flow"
st=0; "$FLOWMIX" generate -o binary "$m" > /dev/null 2>&1 || st=$?
[ "$st" = 2 ] || fail "generate -o binary without -O: exit $st, want 2"
exit 0
