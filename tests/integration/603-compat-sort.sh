#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix sort with flow-models' command line (issue 18): `-k first first_ms DIR` writes to the
# current directory by default; -I X writes the permutation to X.<type> and a later run reuses
# X (or the one file X.*) without -k; --skip-in/--count-in sort only that slice (flow-models
# asserts there; flowmix gives the documented meaning: the same as cutting first); -i/-o binary
# accepted, other formats refused in one line; --measure-memory reports.
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"

python3 - "$fm_tmp/in.csv" <<'PY'
import random, sys
r = random.Random(4)
with open(sys.argv[1], 'w') as f:
    for i in range(300):
        first = r.randrange(100, 110)
        t = [2, r.choice([6, 17]), 0, 0, 0, 0, 0, r.randrange(1, 5), 0, 0, 0, r.randrange(1, 3),
             r.randrange(1, 4), r.choice([80, 443]), first, r.randrange(0, 1000),
             first + r.randrange(0, 3), r.randrange(0, 1000), r.randrange(1, 5),
             r.randrange(40, 2000), i]
        f.write(', '.join(map(str, t)) + '\n')
PY
"$FLOWMIX" convert -i csv_flow -o binary -O "$fm_tmp/rb" "$fm_tmp/in.csv" || fail "convert"
# the expected order: a stable sort on (first, first_ms); aggs holds the input position
sort -s -t, -k15,15n -k16,16n "$fm_tmp/in.csv" > "$fm_tmp/want.csv"

mkdir "$fm_tmp/cwd"
(cd "$fm_tmp/cwd" && "$FLOWMIX" sort -k first first_ms -I idx ../rb) || fail "sort -I"
[ -f "$fm_tmp/cwd/idx.H" ] || fail "-I idx: no idx.H (300 records): $(ls "$fm_tmp/cwd")"
"$FLOWMIX" convert -i binary "$fm_tmp/cwd" > "$fm_tmp/got.csv" 2>/dev/null ||
    fail "sorted output (default -O .) not readable"
cmp -s "$fm_tmp/want.csv" "$fm_tmp/got.csv" || fail "sort order differs"

# reuse the index: no -k needed, same output; also as the explicit file name
mkdir "$fm_tmp/again"
"$FLOWMIX" sort -I "$fm_tmp/cwd/idx" -i binary -o binary -O "$fm_tmp/again" "$fm_tmp/rb" ||
    fail "sort with an existing index"
"$FLOWMIX" convert -i binary "$fm_tmp/again" | cmp -s "$fm_tmp/want.csv" - ||
    fail "sorting by the saved index differs"
rm -rf "$fm_tmp/again"
"$FLOWMIX" sort -I "$fm_tmp/cwd/idx.H" -O "$fm_tmp/again" "$fm_tmp/rb" || fail "-I idx.H"
"$FLOWMIX" convert -i binary "$fm_tmp/again" | cmp -s "$fm_tmp/want.csv" - ||
    fail "sorting by the saved index file differs"
# an index whose entries are not records of the input is refused
printf '\377\377' > "$fm_tmp/bad.H"
st=0; "$FLOWMIX" sort -I "$fm_tmp/bad.H" -O "$fm_tmp/x" "$fm_tmp/rb" 2>/dev/null || st=$?
[ "$st" = 1 ] || fail "bad index: exit $st, want 1"

# --skip-in/--count-in: the same as cutting first, then sorting
"$FLOWMIX" sort -k first first_ms --skip-in 10 --count-in 200 --measure-memory \
    -O "$fm_tmp/slice" "$fm_tmp/rb" 2> "$fm_tmp/err" || fail "sort --skip-in"
grep -q 'memory max' "$fm_tmp/err" || fail "--measure-memory printed nothing"
sed -n '11,210p' "$fm_tmp/in.csv" | sort -s -t, -k15,15n -k16,16n > "$fm_tmp/want2.csv"
"$FLOWMIX" convert -i binary "$fm_tmp/slice" | cmp -s "$fm_tmp/want2.csv" - ||
    fail "--skip-in 10 --count-in 200 differs"

for bad in "-i csv_flow" "-o csv_flow" "--filter-expr prot==6" "--skip-out 1" "--bogus"; do
    st=0
    # shellcheck disable=SC2086
    "$FLOWMIX" sort -k first $bad -O "$fm_tmp/y" "$fm_tmp/rb" > /dev/null 2> "$fm_tmp/err" ||
        st=$?
    [ "$st" = 2 ] || fail "sort $bad: exit $st, want 2"
    [ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "sort $bad: not one line: $(cat "$fm_tmp/err")"
done
exit 0
