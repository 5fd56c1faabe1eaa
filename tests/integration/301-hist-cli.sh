#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `flowmix hist` options on a small csv_flow file whose histograms were worked out by hand from
# flow-models' rules: classes and --filter-expr, durations (0 for one packet, ms otherwise, log
# bins above 2^b), record selection, stdin, and the errors (malformed line with file:line, bad
# options).
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"
"$FLOWMIX" hist --help >/dev/null 2>&1 || skip "flowmix hist not built"

f=$fm_tmp/flows.csv
cat > "$f" <<'CSV'
2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 100, 0, 150, 500, 5, 500, 1
2, 17, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 53, 53, 100, 0, 100, 0, 1, 64, 1
2, 6, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4, 1000, 80, 200, 900, 201, 100, 4096, 6000000, 1
2, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 300, 0, 305, 0, 1, 84, 1
2,6,0,0,0,0,0,7,0,0,0,8,22,2222,0,0,0,0,4097,4097000,2
CSV
H='bin_lo,bin_hi,flows_sum,packets_sum,octets_sum'

check() { # expected-file command...
    want=$1; shift
    "$@" > "$fm_tmp/got" 2> "$fm_tmp/err" || fail "$* exited $?: $(cat "$fm_tmp/err")"
    cmp -s "$want" "$fm_tmp/got" ||
        fail "$*: got $(cat "$fm_tmp/got") want $(cat "$want")"
}

printf '%s\n1,2,2,2,148\n5,6,1,5,500\n4096,4098,2,8193,10097000\n' "$H" > "$fm_tmp/len"
check "$fm_tmp/len" "$FLOWMIX" hist -i csv_flow -x length -b 12 "$f"
check "$fm_tmp/len" "$FLOWMIX" hist -b 12 "$f"              # defaults: auto format, length

printf '%s\n5,6,1,5,500\n4096,4098,2,8193,10097000\n' "$H" > "$fm_tmp/tcp"
check "$fm_tmp/tcp" "$FLOWMIX" hist -i csv_flow -b 12 --filter-expr 'prot == 6' "$f"
check "$fm_tmp/tcp" "$FLOWMIX" hist -i csv_flow -b 12 --class tcp "$f"
check "$fm_tmp/tcp" "$FLOWMIX" hist -i csv_flow -b 12 --filter 'packets > 1' "$f"

# durations: one packet is 0 even when last > first; 50 500 ms falls in [50496, 50512) at b=12
printf '%s\n0,1,3,4099,4097148\n200,201,1,4096,6000000\n50496,50512,1,5,500\n' "$H" > "$fm_tmp/dur"
check "$fm_tmp/dur" "$FLOWMIX" hist -i csv_flow -x duration -b 12 "$f"

# b = 0 (the default) and record selection: the first two records only
printf '%s\n64,65,1,1,64\n500,501,1,5,500\n' "$H" > "$fm_tmp/sel"
check "$fm_tmp/sel" "$FLOWMIX" hist -i csv_flow -x size --count-in 2 "$f"
printf '%s\n84,85,1,1,84\n4097000,4097001,1,4097,4097000\n' "$H" > "$fm_tmp/skip"
check "$fm_tmp/skip" "$FLOWMIX" hist -i csv_flow -x size --skip-in 3 "$f"

# stdin, several inputs add up, -O writes a file
cat "$f" | "$FLOWMIX" hist -i csv_flow -b 12 -O "$fm_tmp/out.csv" - ||
    fail "stdin input failed"
cmp -s "$fm_tmp/len" "$fm_tmp/out.csv" || fail "stdin/-O output differs"
printf '%s\n1,2,4,4,296\n5,6,2,10,1000\n4096,4098,4,16386,20194000\n' "$H" > "$fm_tmp/twice"
check "$fm_tmp/twice" "$FLOWMIX" hist -i csv_flow -b 12 "$f" "$f"

# A binary directory is read column by column (only the fields needed): the same histograms.
b=$fm_tmp/flows.bin
"$FLOWMIX" convert -i csv_flow -o binary -O "$b" "$f" || fail "convert to binary failed"
check "$fm_tmp/len" "$FLOWMIX" hist -i binary -x length -b 12 "$b"
check "$fm_tmp/tcp" "$FLOWMIX" hist -b 12 --filter-expr 'prot == 6' "$b"
check "$fm_tmp/tcp" "$FLOWMIX" hist -b 12 --class tcp "$b"
check "$fm_tmp/dur" "$FLOWMIX" hist -x duration -b 12 "$b"
check "$fm_tmp/sel" "$FLOWMIX" hist -x size --count-in 2 "$b"
check "$fm_tmp/skip" "$FLOWMIX" hist -x size --skip-in 3 "$b"
check "$fm_tmp/twice" "$FLOWMIX" hist -b 12 "$b" "$f"
"$FLOWMIX" hist -x rate -c aggs -c duration --class tcp "$f" > "$fm_tmp/rate" ||
    fail "hist -x rate failed"
check "$fm_tmp/rate" "$FLOWMIX" hist -x rate -c aggs -c duration --class tcp "$b"

# errors: a malformed line names file and line and writes no output; bad options exit 2
printf '2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 100, 0, 150, 500, 5, 500, 1\n1, 2, 3\n' \
    > "$fm_tmp/bad.csv"
st=0; "$FLOWMIX" hist -i csv_flow -O "$fm_tmp/none.csv" "$fm_tmp/bad.csv" 2> "$fm_tmp/err" ||
    st=$?
[ "$st" = 1 ] || fail "malformed input: exit $st, want 1"
grep -q 'bad.csv:2' "$fm_tmp/err" || fail "no file:line in: $(cat "$fm_tmp/err")"
[ ! -e "$fm_tmp/none.csv" ] || fail "output written despite the error"
for args in "-x speed $f" "-b 64 $f" "-b x $f" "-c icmp $f" "--filter-expr prot=== $f" ""; do
    st=0; "$FLOWMIX" hist $args > /dev/null 2>&1 || st=$?
    [ "$st" = 2 ] || fail "flowmix hist $args: exit $st, want 2"
done
st=0; "$FLOWMIX" hist -i csv_flow "$fm_tmp/missing.csv" > /dev/null 2>&1 || st=$?
[ "$st" = 1 ] || fail "missing input: exit $st, want 1"
echo "ok"
