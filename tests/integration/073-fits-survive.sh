#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Fit results survive a reload and a restart (issue 17): a job's model, once fitted, is still
# there after SIGHUP with the job unchanged (its warm start kept) and after a restart (read back
# from the database with fm_store_latest_fit); a job whose parameters changed starts afresh.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
conf="$fm_tmp/d.conf"
cfg() { # $1: L of job b
    write_conf "$conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[fit]
interval = 0
[fit.a]
class = all
metric = length
L = 2
max_iter = 30
[fit.b]
class = all
metric = size
L = $1
max_iter = 30
[export]
interval = 0
EOC
}
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
model() { ctl --json model --job "$1" | python3 -c 'import json,sys; r=json.load(sys.stdin)["result"]; print(r["created_ms"], r["loglik"])'; }
cfg 2
start_daemon "$conf" d1
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 20000 0.5 - mixed >/dev/null
ctl flush >/dev/null
ctl fit >/dev/null
wait_for "ctl model --job a && ctl model --job b" 30 || fail "fits did not finish: $(ctl fits)"
a1=$(model a); b1=$(model b)

# Reload: a unchanged keeps its result; b with another L starts afresh.
cfg 3
kill -HUP "$fm_daemon_pid"
wait_for "grep -q 'reloaded' '$fm_tmp/d1.log'" 10 || fail "no reload"
[ "$(model a)" = "$a1" ] || fail "job a lost its fit on reload: $(model a) vs $a1"
if ctl model --job b >/dev/null 2>&1; then fail "job b kept a fit of other parameters"; fi
ctl fit --job b >/dev/null
wait_for "ctl model --job b" 30 || fail "job b did not fit again"
b2=$(model b)
stop_daemon d1

# Restart: both come back from the database.
start_daemon "$conf" d2
grep -q 'fit result(s) restored' "$fm_tmp/d2.log" || fail "no restore line: $(cat "$fm_tmp/d2.log")"
[ "$(model a)" = "$a1" ] || fail "job a after restart: $(model a) vs $a1"
[ "$(model b)" = "$b2" ] || fail "job b after restart: $(model b) vs $b2"
stop_daemon d2
echo "a $a1 kept across reload and restart; b refitted after its change ($b2), kept across restart"
