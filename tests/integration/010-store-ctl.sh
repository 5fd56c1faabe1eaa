#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Real flowmixd + softflowd (IPFIX) on pcaps: after `flowmixctl flush` the daemon's histograms
# (flowmixctl --json hist) equal the histograms computed independently from nfcapd/nfdump's
# decode of the same export; `status` shows records, exporters and the cache; after SIGTERM and
# a restart the same totals come back from SQLite.
. "$(dirname "$0")/lib.sh"
need softflowd nfcapd nfdump python3 sqlite3

PCAPS="http_get dns_tcp icmp ipv6-smtp wg_udp_stream tls12"
export_pcaps() {
    for p in $PCAPS; do
        softflowd -r "$TDATA/$p.pcap" -n "127.0.0.1:$1" -v 10 -d -6 >/dev/null 2>&1 ||
            fail "softflowd on $p"
    done
}

# Independent decode: nfcapd + nfdump.
port=$(free_udp_port)
mkdir -p "$fm_tmp/nf"
nfcapd -w "$fm_tmp/nf" -p "$port" -b 127.0.0.1 -t 3600 >"$fm_tmp/nfcapd.log" 2>&1 &
nfpid=$!
fm_pids="$fm_pids $nfpid"
wait_for "ss -Hlun \"sport = :$port\" | grep -q ." 10 || fail "nfcapd did not start"
export_pcaps "$port"
sleep 0.5   # nfcapd has no drain signal
kill -INT $nfpid; wait $nfpid 2>/dev/null || true
nfdump -R "$fm_tmp/nf" -q -o pipe > "$fm_tmp/records.pipe"
nrec=$(wc -l < "$fm_tmp/records.pipe")
[ "$nrec" -gt 10 ] || fail "nfdump decoded only $nrec records"

# flowmixd with biflow pairing off, so uniflow histograms are the records themselves.
port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[store]
commit_interval = 1s
[fit]
interval = 0
[export]
interval = 0
EOC
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d1
export_pcaps "$port"
wait_for "ctl --json status | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"result\"][\"records\"] < $nrec)'" 20 ||
    fail "flowmixd received fewer than $nrec records: $(ctl status)"
ctl flush >/dev/null || fail "flush"

ctl status > "$fm_tmp/status.txt" || fail "status"
grep -qi 'records' "$fm_tmp/status.txt" || fail "status lacks records: $(cat "$fm_tmp/status.txt")"
ctl --json status > "$fm_tmp/status.json"
python3 - "$fm_tmp/status.json" "$nrec" <<'PY' || fail "status content"
import json, sys
r = json.load(open(sys.argv[1]))["result"]
assert r["records"] == int(sys.argv[2]), r["records"]
assert r["exporters"] >= 1, r
assert r["cache"]["capacity"] > 0 and r["cache"]["entries"] == 0, r["cache"]
PY

for cls in all tcp udp other; do
    for m in length size duration; do
        ctl --json hist --class $cls --metric $m > "$fm_tmp/h.json" || fail "hist $cls $m"
        python3 "$top_srcdir/tests/integration/histcheck.py" "$fm_tmp/records.pipe" \
            "$fm_tmp/h.json" $m $cls 12 || fail "hist $cls/$m"
    done
done
ctl hist --class tcp --metric length | tail -3

# Restart: the totals come back from the database.
ctl --json hist --class all --metric size > "$fm_tmp/before.json"
stop_daemon d1
[ "$(sqlite3 "$fm_tmp/state/flowmix.db" 'PRAGMA integrity_check')" = ok ] || fail "integrity"
start_daemon "$fm_tmp/d.conf" d2
ctl --json hist --class all --metric size > "$fm_tmp/after.json"
python3 - "$fm_tmp/before.json" "$fm_tmp/after.json" <<'PY' || fail "totals after restart differ"
import json, sys
a, b = (json.load(open(p))["result"] for p in sys.argv[1:3])
assert a["bins"] == b["bins"] and a["flows"] == b["flows"] and a["flows"] > 0, (a, b)
print("restart: %d flows restored" % b["flows"])
PY
stop_daemon d2
echo PASS
