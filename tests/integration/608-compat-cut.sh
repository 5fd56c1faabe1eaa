#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix cut (flow-models cut, issue 18): records --skip-in.. of every column file, into a
# directory, one file or standard output; the same records as convert --skip-in/--count-in.
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"
"$FLOWMIX" send -q --synthetic 500 --seed 2 --dump "$fm_tmp/in.csv" 127.0.0.1:9
"$FLOWMIX" convert -i csv_flow -o binary -O "$fm_tmp/bin" "$fm_tmp/in.csv" || fail "convert"
"$FLOWMIX" cut -i binary -o binary -O "$fm_tmp/cut" --skip-in 100 --count-in 250 "$fm_tmp/bin" ||
    fail "cut"
[ "$(ls "$fm_tmp/cut" | wc -l)" = 21 ] || fail "not 21 column files: $(ls "$fm_tmp/cut")"
"$FLOWMIX" convert -i binary "$fm_tmp/cut" > "$fm_tmp/got.csv" || fail "reading the cut"
sed -n '101,350p' "$fm_tmp/in.csv" | cmp -s - "$fm_tmp/got.csv" || fail "cut records differ"
"$FLOWMIX" cut --skip-in 498 "$fm_tmp/bin/packets.Q" | od -An -tu8 | tr -s ' \n' ' ' \
    > "$fm_tmp/tail"
want=$(sed -n '499,500p' "$fm_tmp/in.csv" | cut -d, -f19 | tr -d ' ' | tr '\n' ' ')
[ "$(tr -d ' ' < "$fm_tmp/tail")" = "$(echo "$want" | tr -d ' ')" ] ||
    fail "stdout: $(cat "$fm_tmp/tail") want $want"
"$FLOWMIX" cut -O "$fm_tmp/one.Q" --count-in 3 "$fm_tmp/bin/octets.Q" || fail "cut to a file"
[ "$(stat -c %s "$fm_tmp/one.Q")" = 24 ] || fail "-O FILE: not 3 values"
for bad in "-i csv_flow" "--filter-expr prot==6" "--skip-out 1"; do
    st=0
    # shellcheck disable=SC2086
    "$FLOWMIX" cut $bad "$fm_tmp/bin" > /dev/null 2> "$fm_tmp/err" || st=$?
    [ "$st" = 2 ] && [ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "cut $bad: exit $st"
done
exit 0
