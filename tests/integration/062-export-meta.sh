#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Export snapshots with no data are skipped, with a log line (scheduled) or an error in words
# (flowmixctl export), instead of a summary of nan; a snapshot carries meta.json: time range
# (ISO-8601 UTC and ms), flows/packets/octets equal to `flowmixctl --json hist`, collector id,
# version and the digest of the effective configuration; summary.md has no nan past the
# data's largest value.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[daemon]
collector_id = edge-7
[fit]
interval = 0
[export]
interval = 1s
plots = no
EOC
ctl() { "$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d
exp="$fm_tmp/state/export"
wait_for "grep -q 'export, scheduled snapshot skipped: no flows' '$fm_tmp/d.log'" 10 ||
    fail "no 'skipped' log line: $(tail -3 "$fm_tmp/d.log")"
[ -z "$(ls "$exp" 2>/dev/null)" ] || fail "a snapshot of no data was written: $(ls "$exp")"
expect_error 1 'no flows in the histograms yet' ctl export

python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 3000 1.5 - mixed >/dev/null
ctl flush >/dev/null
wait_for "test -f '$exp/latest/meta.json'" 20 || fail "no snapshot after data"
sleep 1.2 # the next scheduled snapshot holds every flushed flow
ctl --json hist > "$fm_tmp/hist.json"
ctl export >/dev/null
wait_for "python3 -c 'import json,sys; sys.exit(json.load(open(\"$exp/latest/meta.json\"))[\"flows\"] != json.load(open(\"$fm_tmp/hist.json\"))[\"result\"][\"flows\"])'" 20 ||
    fail "meta.json flows never matched hist: $(cat "$exp/latest/meta.json")"
python3 - "$exp/latest/meta.json" "$fm_tmp/hist.json" <<'PY' || fail "meta.json: $(cat "$exp/latest/meta.json")"
import json, re, sys
m = json.load(open(sys.argv[1]))
h = json.load(open(sys.argv[2]))["result"]
assert (m["flows"], m["packets"], m["octets"]) == (h["flows"], h["packets"], h["octets"]), m
assert m["collector_id"] == "edge-7", m
assert re.fullmatch(r"\d+\.\d+\.\d+\S*", m["version"]), m
assert re.fullmatch(r"xxh3:[0-9a-f]{16}", m["config_digest"]), m
t = m["time_range"]
iso = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ"
assert re.fullmatch(iso, t["from"]) and re.fullmatch(iso, t["to"]), t
assert 0 < t["from_ms"] <= t["to_ms"], t
print("meta.json:", json.dumps(m))
PY
# summary.md: no nan past the data's largest value (the CDF is 100 % there); a class without
# flows (other) shows "-".
grep -qi 'nan' "$exp/latest/summary.md" && fail "nan in summary.md: $(grep -i nan "$exp/latest/summary.md" | head -2)"
grep -Eq '^\| 16777216 \| 100\.0000 \|' "$exp/latest/summary.md" ||
    fail "summary.md: the CDF past the largest length is not 100 %: $(grep '^| 16777216' "$exp/latest/summary.md")"
stop_daemon d
echo PASS
