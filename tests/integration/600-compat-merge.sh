#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix merge with flow-models' command line (issue 18): af kept for merged IPv4 flows from
# csv_flow input (both IPv4 spellings: sa3 as flow-models/nfdump write it, sa0 as FLOW-MODELS.md
# §1 does), --filter-expr, --skip-in/--count-in/--skip-out/--count-out, -o none, and one-line
# usage errors.  Expected outputs worked out by hand from flow-models' merge rules.
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"

f=$fm_tmp/in.csv
cat > "$f" <<'CSV'
2, 6, 3, 4, 3232235521, 0, 0, 0, 167772162, 0, 0, 0, 11, 21, 1000, 0, 1299, 500, 10, 1000, 1
2, 6, 3, 4, 3232235521, 0, 0, 0, 167772162, 0, 0, 0, 11, 21, 1305, 200, 1500, 0, 3, 300, 1
2, 17, 3, 4, 0, 0, 0, 3232235521, 0, 0, 0, 167772162, 53, 53, 2000, 0, 2299, 0, 4, 400, 1
2, 17, 3, 4, 0, 0, 0, 3232235521, 0, 0, 0, 167772162, 53, 53, 2300, 0, 2400, 0, 1, 100, 1
10, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 80, 80, 100, 0, 150, 0, 5, 500, 1
CSV
run() { # expected-file args...
    want=$1; shift
    "$FLOWMIX" merge "$@" > "$fm_tmp/got" 2> "$fm_tmp/err" ||
        fail "merge $* exited $?: $(cat "$fm_tmp/err")"
    cmp -s "$want" "$fm_tmp/got" || fail "merge $*: got
$(cat "$fm_tmp/got")
want
$(cat "$want")"
}

cat > "$fm_tmp/all" <<'CSV'
2, 6, 3, 4, 3232235521, 0, 0, 0, 167772162, 0, 0, 0, 11, 21, 1000, 0, 1500, 0, 13, 1300, 2
2, 17, 3, 4, 0, 0, 0, 3232235521, 0, 0, 0, 167772162, 53, 53, 2000, 0, 2400, 0, 5, 500, 2
10, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 80, 80, 100, 0, 150, 0, 5, 500, 1
CSV
run "$fm_tmp/all" -i csv_flow "$f"
# af = 2 in, 2 out, also for the merged flows (flowmix wrote 10 for them)
awk -F', ' 'NR < 3 && $1 != 2 { exit 1 }' "$fm_tmp/got" || fail "merged IPv4 flow lost af = 2"

# the filter and the selection counters choose input records, before merging (flow-models)
sed -n 2p "$fm_tmp/all" > "$fm_tmp/udp"
run "$fm_tmp/udp" -i csv_flow --filter-expr 'prot==17' "$f"
run "$fm_tmp/udp" -i csv_flow --skip-in 2 --count-in 2 "$f"
run "$fm_tmp/udp" -i csv_flow --filter-expr 'af == 2' --skip-out 2 --count-out 2 "$f"
# --count-in stops across files: 3 records of two inputs
printf '%s\n' "2, 6, 3, 4, 3232235521, 0, 0, 0, 167772162, 0, 0, 0, 11, 21, 1000, 0, 1500, 0, 13, 1300, 2" \
    "2, 17, 3, 4, 0, 0, 0, 3232235521, 0, 0, 0, 167772162, 53, 53, 2000, 0, 2299, 0, 4, 400, 1" \
    > "$fm_tmp/three"
run "$fm_tmp/three" -i csv_flow --count-in 3 "$f" "$f"

# -o none: reads and merges, writes nothing
: > "$fm_tmp/empty"
run "$fm_tmp/empty" -i csv_flow -o none "$f"
grep -q 'Merged 2' "$fm_tmp/err" || fail "-o none: no statistics: $(cat "$fm_tmp/err")"

# usage errors: exit 2, one line naming the problem
for bad in "--count-in x" "-o append" "-o extend" "--bogus" "--filter-expr prot=="; do
    st=0
    # shellcheck disable=SC2086
    "$FLOWMIX" merge -i csv_flow $bad "$f" > /dev/null 2> "$fm_tmp/err" || st=$?
    [ "$st" = 2 ] || fail "merge $bad: exit $st, want 2"
    [ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "merge $bad: not one line: $(cat "$fm_tmp/err")"
done
exit 0
