#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Honest start-up (issue 17): without -f, flowmixd detaches but exits only once its sockets,
# database and plugins are open — 0 when ready, 1 with the reason on stderr when a port is in
# use, an endpoint is invalid, a plugin is missing or the state directory cannot be written;
# --check-config rejects the same configurations, and reports a malformed section header and a
# duplicated section with file:line.  A good configuration detaches and serves.
. "$(dirname "$0")/lib.sh"
need python3 ss

# $1 name, $2 expected stderr pattern; the config on stdin (state in $fm_tmp/$1).
bad() {
    name=$1 pat=$2
    port=$(free_udp_port)
    write_conf "$fm_tmp/$name.conf" "${state:-$fm_tmp/$name}" "${use_port:-$port}"
    expect_error 1 "$pat" "$FLOWMIXD" --check-config -c "$fm_tmp/$name.conf"
    # Without -f: the parent waits for the detached child's start-up.
    expect_error 1 "$pat" "$FLOWMIXD" -c "$fm_tmp/$name.conf"
    echo "$name: exit 1, $(cat "$fm_tmp/err")"
}

# A port held by another process.
held=$(free_udp_port)
python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('127.0.0.1', $held))
print('bound', flush=True)
time.sleep(120)" > "$fm_tmp/holder.out" &
fm_pids="$fm_pids $!"
wait_for "grep -q bound '$fm_tmp/holder.out'" 10 || fail "could not hold a port"
use_port=$held
bad port-in-use 'in use' </dev/null
use_port=

printf '[listen]\nudp = 127.0.0.1:99999\n' | bad bad-endpoint "127.0.0.1:99999"
printf '[plugin.nope]\npath = %s/nope.so\n' "$fm_tmp" | bad missing-plugin "plugin nope"
# A state directory below a regular file cannot be created, even by root.
: > "$fm_tmp/afile"
state="$fm_tmp/afile/state"
bad unwritable-state "afile/state" </dev/null
if [ "$(id -u)" != 0 ]; then
    mkdir -p "$fm_tmp/ro" && chmod 0500 "$fm_tmp/ro"
    state="$fm_tmp/ro/state"
    bad readonly-state "ro/state" </dev/null
fi
state=

# Section headers: file:line.
port=$(free_udp_port)
printf '[cache]\nbiflow = no\n[fit\ninterval = 0\n' | write_conf "$fm_tmp/hdr.conf" "$fm_tmp/hdr" "$port"
line=$(grep -n '^\[fit$' "$fm_tmp/hdr.conf" | cut -d: -f1)
expect_error 1 "hdr.conf:$line: malformed section header" "$FLOWMIXD" --check-config -c "$fm_tmp/hdr.conf"
printf '[cache]\nbiflow = no\n[fit]\ninterval = 0\n[cache]\nmemory = 64\n' |
    write_conf "$fm_tmp/dup.conf" "$fm_tmp/dup" "$port"
line=$(grep -n '^\[cache\]$' "$fm_tmp/dup.conf" | tail -1 | cut -d: -f1)
expect_error 1 "dup.conf:$line: duplicate section \[cache\]" "$FLOWMIXD" --check-config -c "$fm_tmp/dup.conf"

# A good configuration: --check-config passes; without -f the parent exits 0 once ready and the
# detached daemon answers.
port=$(free_udp_port)
printf '[fit]\ninterval = 0\n[export]\ninterval = 0\n' | write_conf "$fm_tmp/good.conf" "$fm_tmp/good" "$port"
"$FLOWMIXD" --check-config -c "$fm_tmp/good.conf" >/dev/null || fail "good config rejected"
"$FLOWMIXD" -c "$fm_tmp/good.conf" 2>"$fm_tmp/good.err" || fail "detached start failed: $(cat "$fm_tmp/good.err")"
"$FLOWMIXCTL" -s "$fm_tmp/good/control.sock" ping >/dev/null || fail "detached daemon does not answer"
pid=$(ss -Hlunp "sport = :$port" | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[ -n "$pid" ] || fail "no process on port $port"
fm_pids="$fm_pids $pid"
kill -TERM "$pid"
wait_for "! kill -0 $pid" 20 || fail "detached daemon did not stop"
echo "good: detached, answered, stopped"
