#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Crash safety: under a steady NetFlow v5 load, flowmixd is killed with SIGKILL at a random
# moment, several times.  Each time the database must pass PRAGMA integrity_check, the flows it
# holds must be at least what was sent up to one commit interval (plus a second of slack) before
# the kill, never more than was sent, and never fewer than after the previous round.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

ROUNDS=${FM_CRASH_ROUNDS:-5}
RATE=3000
port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[store]
commit_interval = 1s
[fit]
interval = 0
[export]
interval = 0
EOC
db="$fm_tmp/state/flowmix.db"
flows_in_db() {
    sqlite3 "$db" "SELECT COALESCE(SUM(flows),0) FROM hist_bins WHERE window_id = 0 AND
                   class = 0 AND direction = 0 AND metric = 0"
}
prev=0
total_sent=0
round=1
while [ $round -le $ROUNDS ]; do
    start_daemon "$fm_tmp/d.conf" "r$round"
    before=$(flows_in_db)
    rm -f "$fm_tmp/sent"
    python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" $RATE 6 "$fm_tmp/sent" \
        >/dev/null &
    sender=$!
    # Kill at a random point between 2 and 4.5 s into the load.
    sleep "$(python3 -c 'import random; print(round(random.uniform(2, 4.5), 2))')"
    kill -KILL "$fm_daemon_pid"
    wait "$fm_daemon_pid" 2>/dev/null || true
    sent_at_kill=$(cat "$fm_tmp/sent")
    wait $sender || true
    [ "$(sqlite3 "$db" 'PRAGMA integrity_check')" = ok ] || fail "round $round: integrity_check"
    now=$(flows_in_db)
    total_sent=$((total_sent + sent_at_kill))
    lower=$((before + sent_at_kill - 2 * RATE))   # one commit interval + 1 s slack
    echo "round $round: sent $sent_at_kill before kill, db $before -> $now (lower bound $lower)"
    [ "$now" -ge "$prev" ] || fail "round $round: totals went backwards ($prev -> $now)"
    [ "$now" -ge "$lower" ] || fail "round $round: lost more than one commit interval"
    [ "$now" -le "$total_sent" ] || fail "round $round: more flows stored than sent"
    prev=$now
    round=$((round + 1))
done
echo PASS
