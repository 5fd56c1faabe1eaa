#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Hostile exporters, spoofed exporter count: 3000 distinct source ports send one NetFlow v5
# datagram each; the exporter table stays at [listen] max_exporters and status counts every
# eviction (exporters_evicted = sources - max_exporters).
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[listen]
max_exporters = 100
[fit]
interval = 0
[export]
interval = 0
EOC
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/hostile.py" exporters "$port" "$fm_tmp/state/control.sock" \
    "$FLOWMIXCTL" "$fm_daemon_pid" 100 3000 || fail "exporters: $(tail -3 "$fm_tmp/d.log")"
"$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" ping >/dev/null || fail "no ping after exporters"
stop_daemon d
