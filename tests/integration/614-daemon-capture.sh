#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmixd [input.capture] with a capture file (issue 15): the metered flows go through the same
# cache to the output plugins, flow for flow what `flowmix meter` writes for that file (endpoints,
# packets and bytes per direction), and `flowmixctl status` shows the input's counters
# (packets, ignored by reason, flows) and that it finished, as does /metrics (flowmix_capture_*
# series labelled by input).  A section without interface or file is refused at start-up with
# its name.
. "$(dirname "$0")/lib.sh"
need python3
cap="$FM_SHARED/data/nfstream/pcaps/skype.pcap"
[ -f "$cap" ] || skip "no $cap"
plug="$top_builddir/plugins/.libs/csv.so"
[ -f "$plug" ] || skip "csv plugin not built"

port=$(free_udp_port)
mport=$(free_tcp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[metrics]
listen = 127.0.0.1:$mport
[input.capture]
file = $cap
[plugin.csv]
path = $plug
overflow = block
dir = $fm_tmp/csv
interval = 0
EOC
start_daemon "$fm_tmp/d.conf" d
sock="$fm_tmp/state/control.sock"
wait_for "'$FLOWMIXCTL' -s '$sock' --json status | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"result\"][\"capture\"][0]; sys.exit(c[\"running\"])'" 30 ||
    fail "the capture input did not finish: $("$FLOWMIXCTL" -s "$sock" status)"
"$FLOWMIXCTL" -s "$sock" --json status > "$fm_tmp/status.json"
if command -v curl > /dev/null; then
    wait_for "curl -sf http://127.0.0.1:$mport/metrics | grep -q '^flowmix_capture_packets_total{input=\"capture\"} 3284\$'" 10 ||
        fail "no capture counters in /metrics: $(curl -s "http://127.0.0.1:$mport/metrics" | grep capture)"
fi
"$FLOWMIXCTL" -s "$sock" flush > /dev/null
stop_daemon d
python3 - "$fm_tmp/status.json" <<'EOP' || fail "status counters: $(cat "$fm_tmp/status.json")"
import json, sys
c = json.load(open(sys.argv[1]))["result"]["capture"][0]
want = {"name": "capture", "packets": 3284, "parsed": 3069, "ignored": 215, "flows": 294,
        "error": ""}
bad = {k: c.get(k) for k, v in want.items() if c.get(k) != v}
if bad or c["ignored_by"]["not_ip"] != 215:
    print("unexpected", bad, c)
    sys.exit(1)
EOP
"$FLOWMIX" meter --dissections 0 "$cap" > "$fm_tmp/meter.csv"
python3 "$top_srcdir/tests/integration/flowcmp.py" "$fm_tmp/csv" "$fm_tmp/meter.csv" ||
    fail "flowmixd's flows differ from flowmix meter's"

# a section that names no source is a start-up error naming it
write_conf "$fm_tmp/bad.conf" "$fm_tmp/state2" "$port" <<EOC
[input.capture.lan]
bpf = tcp
EOC
expect_error 1 'input.capture.lan' "$FLOWMIXD" -f -c "$fm_tmp/bad.conf"
echo "flowmixd [input.capture]: counters and flows as flowmix meter's"
