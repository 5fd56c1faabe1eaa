#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Hostile exporter, template flood: 4 exporters define ~9600 IPFIX and v9 templates each over
# 40 observation domains / source ids.  Templates per exporter stay within [listen]
# max_templates, the overflow is counted, a fresh exporter is still decoded, the daemon stays up
# and its peak RSS is printed.  Datagrams are built in Python (hostile.py).
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[listen]
max_templates = 256
[fit]
interval = 0
[export]
interval = 0
EOC
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/hostile.py" templates "$port" "$fm_tmp/state/control.sock" \
    "$FLOWMIXCTL" "$fm_daemon_pid" 256 || fail "templates: $(tail -3 "$fm_tmp/d.log")"
"$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" ping >/dev/null || fail "no ping after templates"
stop_daemon d
