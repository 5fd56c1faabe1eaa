#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Hostile exporter, template churn (issue 20 item 1): every IPFIX message withdraws template
# X-1 and defines a 100-field template X, half of them made of random enterprise elements.  The
# exporter never holds more than one template, so the daemon's resident memory must not grow
# with the number of messages (<= 32 MiB over 10000 messages; libfixbuf's session and its
# information model included), and a template defined afterwards still decodes.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[fit]
interval = 0
[export]
interval = 0
EOC
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/hostile.py" churn "$port" "$fm_tmp/state/control.sock" \
    "$FLOWMIXCTL" "$fm_daemon_pid" 10000 || fail "churn: $(tail -3 "$fm_tmp/d.log")"
stop_daemon d
