#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix hist with flow-models' options (issue 18): -x rate, -c/--additional-columns
# duration|rate|aggs (repeatable, in command-line order), -o csv_hist|none, the class filter
# under its long name --class, -o append refused in one line.  The expected histograms are
# flow-models hist's output on the same file (flow-models 2.2, run side by side).
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"

f=$fm_tmp/flows.csv
cat > "$f" <<'CSV'
2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 20, 100, 0, 150, 500, 5, 500, 1
2, 17, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 53, 53, 100, 0, 100, 0, 1, 64, 1
2, 6, 0, 0, 0, 0, 0, 3, 0, 0, 0, 4, 1000, 80, 200, 900, 201, 100, 4096, 6000000, 1
2, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0, 300, 0, 305, 0, 1, 84, 1
2,6,0,0,0,0,0,7,0,0,0,8,22,2222,0,0,0,0,4097,4097000,2
2, 6, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 443, 100, 0, 100, 7, 3, 700, 3
2, 17, 0, 0, 0, 0, 0, 1, 0, 0, 0, 2, 10, 80, 100, 0, 103, 0, 2, 1337, 1
CSV
H='bin_lo,bin_hi,flows_sum,packets_sum,octets_sum'
check() { # args... (expected on stdin)
    cat > "$fm_tmp/want"
    "$FLOWMIX" hist -i csv_flow "$@" "$f" > "$fm_tmp/got" 2> "$fm_tmp/err" ||
        fail "hist $* exited $?: $(cat "$fm_tmp/err")"
    cmp -s "$fm_tmp/want" "$fm_tmp/got" || fail "hist $*: got
$(cat "$fm_tmp/got")
want
$(cat "$fm_tmp/want")"
}

check -x rate <<EOF2
$H
0,1,3,4099,4097148
79,80,1,5,500
3565,3566,1,2,1337
800000,800001,1,3,700
240000000,240000001,1,4096,6000000
EOF2
check -x rate -b 4 <<EOF2
$H
0,1,3,4099,4097148
72,80,1,5,500
3328,3584,1,2,1337
786432,851968,1,3,700
234881024,251658240,1,4096,6000000
EOF2
check -x rate -b 12 --additional-columns rate <<EOF2
$H,rate_sum
0,1,3,4099,4097148,0
79,80,1,5,500,79
3565,3566,1,2,1337,3565
800000,800256,1,3,700,800000
239992832,240058368,1,4096,6000000,240000000
EOF2
check -b 2 -c duration -c rate -c aggs <<EOF2
$H,duration_sum,rate_sum,aggs_sum
1,2,2,2,148,0,0,2
2,3,1,2,1337,3000,3565,1
3,4,1,3,700,7,800000,3
4,6,1,5,500,50500,79,1
4096,6144,2,8193,10097000,200,240000000,3
EOF2
check -x duration -b 3 -c aggs -c duration -o csv_hist <<EOF2
$H,aggs_sum,duration_sum
0,1,3,4099,4097148,4,0
7,8,1,3,700,3,7
192,224,1,4096,6000000,1,200
2560,3072,1,2,1337,1,3000
49152,57344,1,5,500,1,50500
EOF2
check -x size -c rate -c rate --class udp <<EOF2
$H,rate_sum,rate_sum
64,65,1,1,64,0,0
1337,1338,1,2,1337,3565,3565
EOF2
check -o none </dev/null
check -o none -O "$fm_tmp/never.csv" </dev/null
[ ! -e "$fm_tmp/never.csv" ] || fail "-o none wrote a file"

for bad in "-c tcp" "-o append" "-o csv_flow" "-x speed" "--nope" "-b"; do
    st=0
    # shellcheck disable=SC2086
    "$FLOWMIX" hist -i csv_flow $bad "$f" > /dev/null 2> "$fm_tmp/err" || st=$?
    [ "$st" = 2 ] || fail "hist $bad: exit $st, want 2"
    [ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "hist $bad: not one line: $(cat "$fm_tmp/err")"
done
exit 0
