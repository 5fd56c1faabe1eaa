#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Hostile exporter, source flood (issue 20 item 2): 70000 NetFlow v5 datagrams, each with a new
# (engine id, sampling interval) pair, i.e. a new cache source holding a long flow.  The
# daemon's resident memory grows by <= 32 MiB (the source table is bounded: [cache]
# max_sources), and a real exporter arriving afterwards still has its records merged.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
memory = 16
[fit]
interval = 0
[export]
interval = 0
EOC
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/hostile.py" sources "$port" "$fm_tmp/state/control.sock" \
    "$FLOWMIXCTL" "$fm_daemon_pid" 70000 || fail "sources: $(tail -3 "$fm_tmp/d.log")"
stop_daemon d
