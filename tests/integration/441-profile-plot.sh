#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix profile-plot on ft-profiler's test profile (plain and gzip) and on a seeded random
# profile (gzip, 0.25 s bins, inactive extension): the four charts are valid PNG, SVG (parsed
# by Python's XML parser) and PDF, and the series (--csv) equal a direct Python computation
# from the profile rows — per bin, each flow's overlap with the bin / its span × its packets and
# bytes (whole if START == END), flows whose [START, END + inactive] meets the bin, starts and
# ends in the bin.  Bad inputs give file:line errors and the documented exit codes.
. "$(dirname "$0")/lib.sh"
P="$FM_SHARED/data/ft-profiler/csv_basic_profile.csv"
[ -f "$P" ] || skip "ft-profiler profile not found under FM_SHARED=$FM_SHARED"
need python3 gzip

"$FLOWMIX" profile-plot --help | grep -q 'usage: flowmix profile-plot' || fail "--help"

"$FLOWMIX" profile-plot -o "$fm_tmp/basic/" --format png,svg,pdf --csv "$fm_tmp/basic.csv" "$P" ||
    fail "profile-plot exited $?"
gzip -c "$P" > "$fm_tmp/basic.csv.gz"
"$FLOWMIX" profile-plot -o "$fm_tmp/gz-" --format svg --csv "$fm_tmp/basic-gz.csv" \
    "$fm_tmp/basic.csv.gz" || fail "profile-plot .gz exited $?"
cmp "$fm_tmp/basic.csv" "$fm_tmp/basic-gz.csv" || fail "gzip input gives other series"

# A larger random profile: 3000 flows, some zero-length, some ending exactly on bin edges.
python3 - "$fm_tmp/rand.csv" <<'PY'
import random, sys
r = random.Random(441)
with open(sys.argv[1], "w") as f:
    f.write("START_TIME,END_TIME,L3_PROTO,L4_PROTO,SRC_PORT,DST_PORT,PACKETS,BYTES,"
            "PACKETS_REV,BYTES_REV\n# comment line\n")
    for i in range(3000):
        s = r.randint(-5000, 60000)
        d = r.choice([0, 0, 250, 1000, r.randint(1, 400), r.randint(1, 30000)])
        p = r.randint(1, 500)
        f.write("%d,%d,4,6,%d,443,%d,%d,%d,%d\n" % (s, s + d, r.randint(1024, 65535), p,
                p * r.randint(40, 1500), r.randint(0, p), r.randint(0, p * 1500)))
PY
gzip "$fm_tmp/rand.csv"
"$FLOWMIX" profile-plot -b 0.25 -i 2 -o "$fm_tmp/rand-" --format png --csv "$fm_tmp/rand-s.csv" \
    "$fm_tmp/rand.csv.gz" || fail "profile-plot random exited $?"

imgs=""
for c in packets bits flows starts-ends; do
    imgs="$imgs $fm_tmp/basic/$c.png $fm_tmp/basic/$c.svg $fm_tmp/basic/$c.pdf"
    imgs="$imgs $fm_tmp/gz-$c.svg $fm_tmp/rand-$c.png"
done
# shellcheck disable=SC2086
python3 "$top_srcdir/tests/integration/imgcheck.py" $imgs || fail "invalid image"
[ ! -e "$fm_tmp/gz-flows.png" ] || fail "png written without --format png"

python3 - "$fm_tmp" "$P" <<'PY' || fail "profile-plot files or series differ"
import csv, gzip, math, os, sys

tmp, basic = sys.argv[1:3]

def flows_of(path):
    op = gzip.open if path.endswith(".gz") else open
    with op(path, "rt") as f:
        rows = [l for l in f if l.strip() and not l.startswith("#")]
    out = []
    for row in csv.DictReader(rows):
        out.append((int(row["START_TIME"]), int(row["END_TIME"]),
                    int(row["PACKETS"]) + int(row["PACKETS_REV"]),
                    int(row["BYTES"]) + int(row["BYTES_REV"])))
    return out

def expected(flows, w, inactive):
    # Straightforward per-bin, per-flow evaluation of the documented rules.
    t0 = min(s for s, e, p, b in flows)
    t1 = max(e + inactive for s, e, p, b in flows)
    nb = (t1 - t0) // w + 1
    rows = []
    for k in range(nb):
        lo, hi = t0 + k * w, t0 + (k + 1) * w
        pk = by = 0.0
        act = st = en = 0
        for s, e, p, b in flows:
            if e == s:
                frac = 1.0 if lo <= s < hi else 0.0
            else:
                frac = max(0, min(e, hi) - max(s, lo)) / (e - s)
            pk += frac * p
            by += frac * b * 8
            act += s < hi and e + inactive >= lo
            st += lo <= s < hi
            en += lo <= e < hi
        rows.append((lo, pk * 1000 / w, by * 1000 / w, act, st, en))
    return rows

def compare(csvpath, flows, w, inactive):
    with open(csvpath) as f:
        r = csv.reader(f)
        assert next(r) == ["bin_start_ms", "packets_per_s", "bits_per_s", "active_flows",
                           "flow_starts", "flow_ends"]
        got = [(int(a), float(b), float(c), int(d), int(e), int(g)) for a, b, c, d, e, g in r]
    want = expected(flows, w, inactive)
    assert len(got) == len(want), (len(got), len(want))
    for g, x in zip(got, want):
        assert g[0] == x[0] and g[3:] == x[3:], (csvpath, g, x)
        for i in (1, 2):
            assert math.isclose(g[i], x[i], rel_tol=1e-9, abs_tol=1e-6), (csvpath, i, g, x)
    # Totals: every packet and byte is plotted once.
    assert math.isclose(sum(g[1] for g in got) * w / 1000, sum(f[2] for f in flows), rel_tol=1e-9)
    assert math.isclose(sum(g[2] for g in got) * w / 1000, 8 * sum(f[3] for f in flows),
                        rel_tol=1e-9)
    assert sum(g[4] for g in got) == sum(g[5] for g in got) == len(flows)
    print(csvpath, "ok:", len(got), "bins,", len(flows), "flows")

compare(os.path.join(tmp, "basic.csv"), flows_of(basic), 1000, 0)
compare(os.path.join(tmp, "rand-s.csv"), flows_of(os.path.join(tmp, "rand.csv.gz")), 250, 2000)
PY

# Errors: usage (2), unreadable or malformed input (1) naming the file and line.
H=$(head -1 "$P")
printf '%s\n1,2,4,6,1,2,3,4,5,6\n\n5,4,4,6,1,2,3,4,5,6\n' "$H" > "$fm_tmp/rev.csv"
expect_error 1 "rev.csv:4: " "$FLOWMIX" profile-plot -o "$fm_tmp/" "$fm_tmp/rev.csv"
printf '%s\n1,2,4,6,1,2,3,4,5\n' "$H" | gzip > "$fm_tmp/short.csv.gz"
expect_error 1 "short.csv.gz:2: " "$FLOWMIX" profile-plot -o "$fm_tmp/" "$fm_tmp/short.csv.gz"
printf '%s\n1,2,4,6,1,2,-3,4,5,6\n' "$H" > "$fm_tmp/neg.csv"
expect_error 1 "neg.csv:2: " "$FLOWMIX" profile-plot -o "$fm_tmp/" "$fm_tmp/neg.csv"
printf 'START_TIME,DURATION,PROTO\n1,2,3\n' > "$fm_tmp/hdr.csv"
expect_error 1 "hdr.csv:1: expected the header" "$FLOWMIX" profile-plot -o "$fm_tmp/" "$fm_tmp/hdr.csv"
printf '%s\n' "$H" > "$fm_tmp/none.csv"
expect_error 1 "no flows" "$FLOWMIX" profile-plot -o "$fm_tmp/" "$fm_tmp/none.csv"
head -c 200 "$fm_tmp/rand.csv.gz" > "$fm_tmp/trunc.csv.gz"
expect_error 1 "trunc.csv.gz:" "$FLOWMIX" profile-plot -o "$fm_tmp/" "$fm_tmp/trunc.csv.gz"
expect_error 1 "nosuch.csv" "$FLOWMIX" profile-plot -o "$fm_tmp/" "$fm_tmp/nosuch.csv"
printf '%s\n0,0,4,6,1,2,3,4,5,6\n100000000000,100000000000,4,6,1,2,3,4,5,6\n' "$H" > "$fm_tmp/wide.csv"
expect_error 1 "raise --interval" "$FLOWMIX" profile-plot -b 0.001 -o "$fm_tmp/" "$fm_tmp/wide.csv"
expect_error 2 "invalid value for --interval" "$FLOWMIX" profile-plot -b 0 "$P"
expect_error 2 "invalid value for --format" "$FLOWMIX" profile-plot --format jpg "$P"
expect_error 2 "no profile" "$FLOWMIX" profile-plot
echo PASS
