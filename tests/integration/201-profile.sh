#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `flowmix profile` reproduces FlowTest ft-profiler's profile of its own test input
# (tests/data/ft-profiler, from FlowTest): same header, same rows (order may differ), with the
# ft-profiler command-line syntax too, and the same bytes after gunzip with -g.
. "$(dirname "$0")/lib.sh"

[ -x "$FLOWMIX" ] || skip "flowmix not built"
"$FLOWMIX" profile --help >/dev/null 2>&1 || skip "flowmix profile not available"
need gzip
in="$TDATA/ft-profiler/csv_basic_input.csv"
want="$TDATA/ft-profiler/csv_basic_profile.csv"

check() {
    got=$1
    [ "$(head -1 "$got")" = "$(head -1 "$want")" ] || fail "header: $(head -1 "$got")"
    tail -n +2 "$got" | sort > "$fm_tmp/got.sorted"
    tail -n +2 "$want" | sort > "$fm_tmp/want.sorted"
    diff -u "$fm_tmp/want.sorted" "$fm_tmp/got.sorted" || fail "profile rows differ ($2)"
}

"$FLOWMIX" profile -o "$fm_tmp/p1.csv" "$in" || fail "flowmix profile exited $?"
check "$fm_tmp/p1.csv" "FILE"

# ft-profiler's own syntax: explicit defaults and the csvfile reader.
"$FLOWMIX" profile -o "$fm_tmp/p2.csv" -a 300 -i 30 -m 64 csvfile -f "$in" ||
    fail "ft-profiler syntax exited $?"
check "$fm_tmp/p2.csv" "csvfile -f"

"$FLOWMIX" profile -g -o "$fm_tmp/p3.csv.gz" "$in" || fail "-g exited $?"
gzip -dc "$fm_tmp/p3.csv.gz" > "$fm_tmp/p3.csv" || fail "output is not gzip"
cmp -s "$fm_tmp/p1.csv" "$fm_tmp/p3.csv" || fail "gzip output differs from plain output"

# Shorter timeouts change the result: the 900 s SIP conversation is no longer one flow.
"$FLOWMIX" profile -a 60 -i 5 -o "$fm_tmp/p4.csv" "$in" || fail "-a 60 -i 5 exited $?"
n=$(grep -c ',4,17,5060,5060,' "$fm_tmp/p4.csv")
[ "$n" -gt 1 ] || fail "expected the SIP flow split with -a 60 -i 5, got $n rows"

# Usage errors exit 2.
st=0; "$FLOWMIX" profile -a x "$in" 2>/dev/null || st=$?
[ "$st" = 2 ] || fail "bad -a gave exit status $st"
echo "profile OK"
