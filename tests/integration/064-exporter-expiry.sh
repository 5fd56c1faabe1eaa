#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Silent exporters are forgotten (issue 20, soak): with `[listen] exporter_timeout = 2s`, ten
# short-lived IPFIX exporters (each `flowmix send` a fresh source port, as a collector sees
# exporters restart) leave the exporter table within seconds of falling silent, counted as
# exporters_expired and logged, their records all counted; a later exporter is tracked anew.
# Before, they stayed (with their decoder and templates) until max_exporters made room, so a
# collector seeing a new source port every few seconds grew for hours (bench/soak.sh).
# The address is an [exporter.NAME], so each exporter id also got a timeout override in the
# cache: those go with their exporters (cache.timeout_overrides back to 0; before, one stayed
# per source port ever seen, without bound).
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[listen]
exporter_timeout = 2s
[exporter.lo]
address = 127.0.0.1
active_timeout = 120
inactive_timeout = 10
[fit]
interval = 0
[export]
interval = 0
EOC
sed 's/^exporter_timeout = 2s/exporter_timeout = 500ms/' "$fm_tmp/d.conf" > "$fm_tmp/bad.conf"
expect_error 1 "exporter_timeout must be 0 or at least 1s" \
    "$FLOWMIXD" --check-config -c "$fm_tmp/bad.conf"

start_daemon "$fm_tmp/d.conf" d
sock="$fm_tmp/state/control.sock"
st() { "$FLOWMIXCTL" -s "$sock" --json status |
       python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r["exporters"], r.get("exporters_expired", -1), r["records"])'; }
ovr() { "$FLOWMIXCTL" -s "$sock" --json status |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["cache"]["timeout_overrides"])'; }

senders=""
for i in 1 2 3 4 5 6 7 8 9 10; do
    "$FLOWMIX" send -q -f ipfix --synthetic 0 --seed "$i" --count 200 -r 1000 \
        "127.0.0.1:$port" &
    senders="$senders $!"
done
for p in $senders; do wait "$p" || fail "flowmix send failed"; done
wait_for '[ "$(st | cut -d" " -f3)" = 2000 ]' 20 || fail "records not all counted: $(st)"
wait_for '[ "$(st | cut -d" " -f1-2)" = "0 10" ]' 20 ||
    fail "silent exporters not forgotten (exporters expired records): $(st)"
grep -q "silent for [0-9]* s, forgotten" "$fm_tmp/d.log" || fail "no log line for an expiry"
grep -q "exporter 127.0.0.1 uses the timeouts of \[exporter.lo\]" "$fm_tmp/d.log" ||
    fail "the [exporter.lo] timeouts were not applied"
wait_for '[ "$(ovr)" = 0 ]' 10 || fail "cache timeout overrides of forgotten exporters kept: $(ovr)"

"$FLOWMIX" send -q -f ipfix --synthetic 0 --seed 11 --count 100 "127.0.0.1:$port" ||
    fail "flowmix send failed"
wait_for '[ "$(st)" = "1 10 2100" ]' 20 || fail "a new exporter after the expiry: $(st)"
[ "$(ovr)" = 1 ] || fail "the new exporter's timeout override: $(ovr), want 1"
echo "exporters, expired, records: $(st)"
stop_daemon d
