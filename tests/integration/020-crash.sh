#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Crash loop: under a steady NetFlow v5 load (RATE records/s, v5send.py), flowmixd is killed with
# SIGKILL at a random moment, ROUNDS (20) times in a row on the same database, with a short
# commit interval (500 ms) so most kills land near or inside a commit.  After every kill:
#   - PRAGMA integrity_check says ok;
#   - the flows in the database never go backwards and never exceed what was sent;
#   - the loss (records sent before the kill and not in the database) is at most what one commit
#     interval plus ALLOW_SLACK_MS (500 ms: a commit's own duration on a loaded machine and the
#     datagrams still queued in the socket) hold at RATE.
# Prints each round and the largest loss.  Bounded: about 3 s per round (under 90 s in all).
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

ROUNDS=${FM_CRASH_ROUNDS:-20}
RATE=3000
COMMIT_MS=500
SLACK_MS=${ALLOW_SLACK_MS:-500}
ALLOWED=$((RATE * (COMMIT_MS + SLACK_MS) / 1000))
port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[store]
commit_interval = ${COMMIT_MS}ms
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
max_loss=0
round=1
while [ $round -le $ROUNDS ]; do
    start_daemon "$fm_tmp/d.conf" "r$round"
    before=$(flows_in_db)
    rm -f "$fm_tmp/sent"
    python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" $RATE 10 "$fm_tmp/sent" \
        >/dev/null &
    sender=$!
    # Kill at a random point 0.2 to 2.2 s into the load (0.4 to 4.4 commit intervals).
    delay=$(python3 -c 'import random; print(round(random.uniform(0.2, 2.2), 3))')
    sleep "$delay"
    kill -KILL "$fm_daemon_pid"
    wait "$fm_daemon_pid" 2>/dev/null || true
    sent_at_kill=$(cat "$fm_tmp/sent" 2>/dev/null || echo 0)
    kill "$sender" 2>/dev/null || true
    wait "$sender" 2>/dev/null || true
    integrity=$(sqlite3 "$db" 'PRAGMA integrity_check')
    [ "$integrity" = ok ] || fail "round $round: integrity_check: $integrity"
    now=$(flows_in_db)
    total_sent=$((total_sent + sent_at_kill))
    loss=$((before + sent_at_kill - now))
    [ $loss -gt $max_loss ] && max_loss=$loss
    echo "round $round: killed after ${delay} s, sent $sent_at_kill, db $before -> $now," \
        "loss $loss (allowed $ALLOWED)"
    [ "$now" -ge "$prev" ] || fail "round $round: totals went backwards ($prev -> $now)"
    [ "$now" -le "$total_sent" ] || fail "round $round: more flows stored than sent"
    [ "$loss" -le "$ALLOWED" ] ||
        fail "round $round: lost $loss records, more than one commit interval holds ($ALLOWED)"
    prev=$now
    round=$((round + 1))
done
echo "crash loop: $ROUNDS kills, integrity ok every time, totals monotonic ($now flows of" \
    "$total_sent sent), largest loss $max_loss records = $((max_loss * 1000 / RATE)) ms at" \
    "$RATE records/s (commit interval $COMMIT_MS ms, allowed $ALLOWED)"
echo PASS
