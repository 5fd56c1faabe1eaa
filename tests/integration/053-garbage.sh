#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Hostile exporter, garbage: 2000 random datagrams of random sizes (1..9000 bytes, some with a
# valid version field); they are counted as malformed, nothing crashes, ping answers.
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
python3 "$top_srcdir/tests/integration/hostile.py" garbage "$port" "$fm_tmp/state/control.sock" \
    "$FLOWMIXCTL" "$fm_daemon_pid" 2000 || fail "garbage: $(tail -3 "$fm_tmp/d.log")"
"$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" ping >/dev/null || fail "no ping after garbage"
stop_daemon d
