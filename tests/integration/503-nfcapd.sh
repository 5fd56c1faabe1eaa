#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# nfcapd input through nfdump: `flowmix convert -i nfcapd` (and auto-detection, and a directory
# of nfcapd files) must give the records `nfdump -q -o pipe` prints, converted independently by
# awk here; without nfdump in PATH the reader must fail with a message naming nfdump.
. "$(dirname "$0")/lib.sh"
need nfdump awk
F="$TDATA/flowio/nfcapd.v5-60"
[ -f "$F" ] || skip "no $F"

# pipe fields: af first last prot sa0..3 sp da0..3 dp srcas dstas inif outif flags tos pkts octets
nfdump -r "$F" -q -o pipe | awk -F'|' '{
    printf "%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0\n",
        $1, $4, $17, $18, $5, $6, $7, $8, $10, $11, $12, $13, $9, $14,
        substr($2, 1, length($2) - 3), substr($2, length($2) - 2) + 0,
        substr($3, 1, length($3) - 3), substr($3, length($3) - 2) + 0, $21, $22 }' > "$fm_tmp/exp.csv"
[ "$(wc -l < "$fm_tmp/exp.csv")" -eq 60 ] || fail "nfdump printed $(wc -l < "$fm_tmp/exp.csv") records"

"$FLOWMIX" convert -i nfcapd -O "$fm_tmp/got.csv" "$F" || fail "convert -i nfcapd failed"
cmp "$fm_tmp/exp.csv" "$fm_tmp/got.csv" || fail "nfcapd records differ"
"$FLOWMIX" convert -O "$fm_tmp/auto.csv" "$F" || fail "auto-detected nfcapd failed"
cmp "$fm_tmp/exp.csv" "$fm_tmp/auto.csv" || fail "auto-detected nfcapd differs"

mkdir -p "$fm_tmp/dir/sub"
cp "$F" "$fm_tmp/dir/sub/b"; cp "$F" "$fm_tmp/dir/a"
"$FLOWMIX" convert -i nfcapd -O "$fm_tmp/dir.csv" "$fm_tmp/dir" || fail "directory input failed"
cat "$fm_tmp/exp.csv" "$fm_tmp/exp.csv" | cmp - "$fm_tmp/dir.csv" || fail "directory input differs"

# A file nfdump rejects: non-zero status must be an error.
printf 'not an nfcapd file\n' > "$fm_tmp/bad"
if "$FLOWMIX" convert -i nfcapd "$fm_tmp/bad" > /dev/null 2> "$fm_tmp/bad.err"; then
    fail "a file nfdump rejects was accepted"
fi
grep -q nfdump "$fm_tmp/bad.err" || fail "no nfdump error message: $(cat "$fm_tmp/bad.err")"

mkdir -p "$fm_tmp/emptypath"
if PATH="$fm_tmp/emptypath" "$FLOWMIX" convert -i nfcapd "$F" > /dev/null 2> "$fm_tmp/err"; then
    fail "convert succeeded without nfdump"
fi
grep -q 'nfdump not found' "$fm_tmp/err" || fail "no clear message: $(cat "$fm_tmp/err")"
echo ok
