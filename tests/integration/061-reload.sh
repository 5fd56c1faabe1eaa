#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# SIGHUP and `flowmixctl reload`: a changed fit job and export interval take effect (seen in
# `flowmixctl status` and `fits`) without losing the histograms; a broken configuration on
# reload is refused with file:line in the log and the daemon keeps running with the old one.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
conf="$fm_tmp/d.conf"
common() {
    cat <<EOC
[cache]
biflow = no
[fit]
interval = 0
EOC
}
{ common; printf '[fit.first]\nclass = all\nmetric = length\nL = 2\n[export]\ninterval = 1h\n'; } |
    write_conf "$conf" "$fm_tmp/state" "$port"
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
field() { ctl --json status | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print($1)"; }
start_daemon "$conf" d
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 20000 0.5 - mixed >/dev/null
ctl flush >/dev/null
flows=$(field "r['total']['flows']")
[ "$flows" -gt 0 ] || fail "no flows before reload"
[ "$(field "r['export']['interval_s']")" = 3600 ] || fail "initial export interval"
ctl --json fits | grep -q '"first"' || fail "job first missing"

# 1. SIGHUP with a changed fit job and export interval.
{ common; printf '[fit.second]\nclass = udp\nmetric = size\nL = 3\n[export]\ninterval = 90s\n'; } |
    write_conf "$conf" "$fm_tmp/state" "$port"
kill -HUP "$fm_daemon_pid"
wait_for "[ \"\$(field \"r['export']['interval_s']\")\" = 90 ]" 10 || fail "export interval not reloaded"
ctl --json fits > "$fm_tmp/fits.json"
grep -q '"second"' "$fm_tmp/fits.json" && ! grep -q '"first"' "$fm_tmp/fits.json" ||
    fail "fit jobs not reloaded: $(cat "$fm_tmp/fits.json")"
[ "$(field "r['total']['flows']")" = "$flows" ] || fail "histograms changed by the reload"

# 2. A broken configuration: refused, old one kept, reason with file:line in the log.
printf '[cache]\nbiflow = no\n[export]\ninterval = soon\n' > "$conf.new"
cp "$conf.new" "$conf"
kill -HUP "$fm_daemon_pid"
wait_for "grep -q 'reload failed' '$fm_tmp/d.log'" 10 || fail "no reload failure logged"
grep 'reload failed' "$fm_tmp/d.log" | grep -q "d.conf:4:" || fail "no file:line: $(grep 'reload failed' "$fm_tmp/d.log")"
ctl ping >/dev/null || fail "daemon died on a bad reload"
[ "$(field "r['export']['interval_s']")" = 90 ] || fail "old configuration not kept"
if ctl reload 2>"$fm_tmp/reload.err"; then fail "flowmixctl reload accepted a broken config"; fi
grep -q 'interval' "$fm_tmp/reload.err" || fail "flowmixctl reload error: $(cat "$fm_tmp/reload.err")"

stop_daemon d 'reload failed' # those error lines are expected
echo PASS
