#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Shutdown with background work in flight loses nothing (issue 17): the daemon is stopped by
# SIGTERM or SIGINT while a store commit, a fit or an export is running, each slowed by the
# FLOWMIX_TEST_DELAY test hook (src/util/testhook.h) so it is caught in flight, with records
# still in the flow cache.  After the exit (status 0, clean shutdown) the database holds every
# record sent as a flow, the fit that was running is stored and the export snapshot is complete.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

sock="$fm_tmp/state/control.sock"
db="$fm_tmp/state/flowmix.db"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
field() { ctl --json status | python3 -c "import json,sys; r=json.load(sys.stdin)['result']; print($1)"; }
send() { # $1 records/s for 0.1 s; prints the number sent
    python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" "$1" 0.1 - mixed
}

# $1 case name, $2 signal, $3 FLOWMIX_TEST_DELAY, $4 python condition on the status for "in
# flight"; $5 optional command run before waiting for it (starts the job).
run_case() {
    name=$1 sig=$2 delay=$3 cond=$4 start=${5:-true}
    rm -rf "$fm_tmp/state"
    port=$(free_udp_port)
    # Long cache timeouts: the records stay in the cache until shutdown flushes them.
    write_conf "$fm_tmp/$name.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
active_timeout = 7200
inactive_timeout = 3600
[store]
commit_interval = 1s
[fit]
interval = 0
[fit.len]
class = all
metric = length
L = 2
max_iter = 50
[export]
interval = 0
plots = no
EOC
    export FLOWMIX_TEST_DELAY="$delay"
    start_daemon "$fm_tmp/$name.conf" "$name"
    # Some flows flushed and committed first (a fit needs a histogram), then more that stay
    # cached until the signal.
    a=$(send 20000)
    wait_for "[ \$(field \"r['records']\") -ge $a ]" 20 || fail "$name: records not received"
    ctl flush >/dev/null || fail "$name: flush"
    b=$(send 30000)
    total=$((a + b))
    wait_for "[ \$(field \"r['records']\") -ge $total ]" 20 || fail "$name: records not received"
    [ "$(field "r['cache']['entries']")" -gt 0 ] || fail "$name: nothing left in the cache"
    # In the background: `export` answers only once its snapshot is written.
    eval "$start" >/dev/null 2>&1 &
    wait_for "[ \$(field \"$cond\") = True ]" 20 || fail "$name: never saw $cond"
    kill "-$sig" "$fm_daemon_pid"
    st=0; wait "$fm_daemon_pid" || st=$?
    [ "$st" = 0 ] || fail "$name: exit status $st: $(tail -5 "$fm_tmp/$name.log")"
    grep -q 'clean shutdown' "$fm_tmp/$name.log" || fail "$name: no clean shutdown line"
    ! grep -q '\[error\]' "$fm_tmp/$name.log" || fail "$name: $(grep '\[error\]' "$fm_tmp/$name.log")"
    got=$(sqlite3 "$db" "SELECT coalesce(sum(flows), 0) FROM hist_bins WHERE window_id = 0 AND
        class = 0 AND direction = 0 AND metric = 0")
    [ "$got" = "$total" ] || fail "$name: $got flows in the database, $total sent"
    echo "$name: $total flows sent, $got in the database"
}

run_case commit-term TERM commit=1500 "r['store']['committing']"
run_case commit-int INT commit=1500 "r['store']['committing']"
run_case fit TERM fit=1500 "r['fits']['running'] > 0" "ctl fit"
n=$(sqlite3 "$db" "SELECT count(*) FROM fits WHERE job = 'len'")
[ "$n" -ge 1 ] || fail "fit: the fit running at shutdown was not stored"
run_case export TERM export=1500 "r['export']['running']" "ctl export"
[ -f "$fm_tmp/state/export/latest/summary.md" ] || fail "export: snapshot incomplete"
