#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# [input.kafka] exactly once across crashes (issue 21, must-show 2).  A collector publishes its
# deltas as many small parts (kafka.message.max.bytes = 16384) to a mock cluster.  For each step
# of the aggregator's path -- a message received, its bins added in memory, the SQLite commit
# holding them (and their high-water marks), the Kafka offset commit -- an aggregator is
# SIGKILLed there by the test hook (FM_TEST_KAFKA_KILL=STEP:N), then started again on the same
# database and consumer group.  Afterwards its histograms equal the collector's bin for bin:
# every part is counted once, none twice and none lost.  The kill after the SQLite commit but
# before the offset commit makes the restarted aggregator read parts it had stored again: they
# must be counted as duplicates.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafkalib.sh"

start_mock
collector edge1 <<EOC
kafka.message.max.bytes = 16384
EOC
"$FLOWMIX" send -q -v 10 --rate 100000 --synthetic 15000 --seed 11 "127.0.0.1:$port_edge1" ||
    fail "send to edge1"
wait_for "[ \$(field edge1 \"s['records']\") -ge 15000 ]" 20 || fail "edge1 records"
ctl edge1 flush >/dev/null || fail "flush edge1"
"$FLOWMIX" send -q -v 5 --rate 100000 --synthetic 5000 --seed 12 "127.0.0.1:$port_edge1" ||
    fail "send to edge1"
wait_for "[ \$(field edge1 \"s['records']\") -ge 20000 ]" 20 || fail "edge1 records"
ctl edge1 flush >/dev/null || fail "flush edge1"
wait_settled edge1
parts=$(settled edge1)
echo "edge1 published $parts parts: $(field edge1 "s['hist_publish']")"
[ "$parts" -ge 8 ] || fail "want at least 8 parts to kill between, got $parts"

HISTS="all/length/uniflow all/size/uniflow tcp/duration/biflow udp/size/biflow"
applied() { field "$1" "s['kafka_in']['applied']"; }
flows() { ctl "$1" --json hist | python3 -c "import json,sys; print(sum(b[2] for b in json.load(sys.stdin)['result']['bins']))"; }
want=$(flows edge1)
dups() { field "$1" "s['kafka_in']['duplicates']"; }

# step N: kill at the Nth time STEP is reached, restart, check.
for spec in received:4 applied:4 stored:1 committed:1; do
    step=${spec%:*}
    agg=agg-$step # (not $name: start_daemon sets that)
    # static membership: the restarted aggregator takes the killed one's partitions without
    # waiting for the group to give up on it (session.timeout.ms, 45 s by default)
    aggregator_conf "$agg" "group-$step" <<EOC
rdkafka.group.instance.id = $agg
rdkafka.session.timeout.ms = 6000
EOC
    # Not start_daemon: the hook may kill it before a ping gets through (the deltas are waiting
    # in the topic, and a start-up slowed by a loaded machine lets them pile up before ready).
    FM_TEST_KAFKA_KILL="$spec" "$FLOWMIXD" -f -c "$fm_tmp/$agg.conf" >"$fm_tmp/$agg-1.out" \
        2>"$fm_tmp/$agg-1.log" &
    fm_daemon_pid=$!
    fm_pids="$fm_pids $fm_daemon_pid"
    st=0; wait "$fm_daemon_pid" || st=$?
    [ "$st" = 137 ] || fail "$agg: killed by the hook? exit status $st: $(tail -3 "$fm_tmp/$agg-1.log")"
    grep -q "test hook: SIGKILL at $step" "$fm_tmp/$agg-1.log" || fail "$agg: no hook line"
    start_daemon "$fm_tmp/$agg.conf" "$agg-2"
    pid=$fm_daemon_pid
    wait_for "[ \$(flows $agg) -ge $want ]" 30 || true
    hist_sum_equal $agg edge1 -- $HISTS >/dev/null ||
        { hist_sum_equal $agg edge1 -- $HISTS; fail "$agg: histograms differ after the restart: $(field $agg "s['kafka_in']")"; }
    sleep 1 # nothing more may arrive: a part applied twice would show now
    hist_sum_equal $agg edge1 -- $HISTS >/dev/null ||
        { hist_sum_equal $agg edge1 -- $HISTS; fail "$agg: histograms grew past the collector's: $(field $agg "s['kafka_in']")"; }
    if [ "$step" = stored ]; then # the offsets were not committed: the parts come again
        wait_for "[ \$(dups $agg) -ge 1 ]" 20 ||
            fail "stored: parts read again were not counted as duplicates: $(field $agg "s['kafka_in']")"
        hist_sum_equal $agg edge1 -- $HISTS >/dev/null || fail "stored: histograms differ"
    fi
    echo "$step: after the restart applied $(applied $agg), duplicates $(dups $agg)" \
         "(of $parts parts); $(hist_sum_equal $agg edge1 -- $HISTS | tail -1)"
    [ "$(field $agg "s['kafka_in']['rejected']")" = 0 ] || fail "$agg rejected parts"
    fm_daemon_pid=$pid; stop_daemon "$agg-2"
done
fm_daemon_pid=$pid_edge1; stop_daemon edge1
no_sanitizer_reports
echo PASS
