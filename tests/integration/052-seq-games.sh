#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Hostile exporter, sequence-number games: wraps, forward jumps, duplicates and backwards jumps
# in v5 (records), v9 (datagrams) and IPFIX (records); seq_gaps and seq_lost equal an independent
# Python model of the RFC rules, nothing is counted as malformed, the daemon stays up.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[listen]

[fit]
interval = 0
[export]
interval = 0
EOC
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/hostile.py" seq "$port" "$fm_tmp/state/control.sock" \
    "$FLOWMIXCTL" "$fm_daemon_pid"  || fail "seq: $(tail -3 "$fm_tmp/d.log")"
"$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" ping >/dev/null || fail "no ping after seq"
stop_daemon d
