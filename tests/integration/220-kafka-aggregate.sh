#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Scale-out over Kafka with the plugin at its defaults (issues 10 and 21, must-show 1): two
# flowmixd collectors publish histogram deltas with the kafka plugin configured only with
# brokers, flows = no and histograms = yes (no kafka.* tuning, default queue and overflow) to a
# librdkafka mock cluster (tests/kafka_mock, a separate process the daemons reach over loopback
# TCP); a third flowmixd with [input.kafka] consumes them.  edge1 gets 200 000 widely spread
# synthetic flows (a window delta far above librdkafka's default message.max.bytes of 1 MB when
# it was one JSON document), edge2 other traffic.  After `flowmixctl flush` on the collectors,
# the aggregator's histograms for every class x metric x direction equal the bin-wise sum of the
# two collectors', no delta failed (hist_failed = 0) and the aggregator applied every message
# once with nothing rejected.  Exit 77 when built without librdkafka.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/kafkalib.sh"

start_mock
collector edge1 </dev/null
collector edge2 </dev/null
aggregator_conf agg aggregators </dev/null
start_daemon "$fm_tmp/agg.conf" agg
pid_agg=$fm_daemon_pid

# Different traffic for each collector: other seeds, other sizes.
"$FLOWMIX" send -q -v 5 --rate 200000 --synthetic 200000 --seed 7 "127.0.0.1:$port_edge1" ||
    fail "send to edge1"
"$FLOWMIX" send -q -v 10 --rate 200000 --synthetic 12000 --seed 8 "127.0.0.1:$port_edge2" ||
    fail "send to edge2"
wait_for "[ \$(field edge1 \"s['records']\") -ge 200000 ]" 20 || fail "edge1 records"
wait_for "[ \$(field edge2 \"s['records']\") -ge 12000 ]" 20 || fail "edge2 records"
ctl edge1 flush >/dev/null || fail "flush edge1"
ctl edge2 flush >/dev/null || fail "flush edge2"

# Every part published must be delivered (none failed), then applied by the aggregator.
wait_settled edge1
wait_settled edge2
want=$(( $(settled edge1) + $(settled edge2) ))
wait_for "[ \$(field agg \"s['kafka_in']['applied']\") -ge $want ]" 20 ||
    fail "aggregator applied $(field agg "s['kafka_in']") of $want parts"
echo "parts: edge1 $(settled edge1), edge2 $(settled edge2), aggregator $(field agg "s['kafka_in']")"
echo "publish: edge1 $(field edge1 "s['hist_publish']"), edge2 $(field edge2 "s['hist_publish']")"

hist_sum_equal agg edge1 edge2 || fail "aggregator histograms differ from the collectors' sum"

# Per-collector lag in status: each collector's last delta complete, nothing rejected or
# repeated, and the human output has one line per collector.
ctl edge1 --json status > "$fm_tmp/edge1.status"
ctl edge2 --json status > "$fm_tmp/edge2.status"
ctl agg --json status | python3 -c "
import json, sys
s = json.load(sys.stdin)['result']
for n in ('edge1', 'edge2'):
    p = json.load(open('$fm_tmp/%s.status' % n))['result']['hist_publish']
    c = [c for c in s['kafka_collectors'] if c['collector'] == n]
    assert len(c) == 1, (n, s['kafka_collectors'])
    c = c[0]
    assert (c['run'], c['last_seq'], c['last_part'] + 1) == (p['run'], p['seq'], c['parts']), (c, p)
    assert c['rejected'] == 0 and c['duplicates'] == 0 and c['age_ms'] >= 0, c
" || fail "kafka_collectors in the aggregator's status: $(field agg "s['kafka_collectors']")"
ctl agg status | grep -E "^ *edge[12] " > "$fm_tmp/rows" || true
[ "$(wc -l < "$fm_tmp/rows")" = 2 ] || fail "human status: no line per collector: $(ctl agg status)"
cat "$fm_tmp/rows"
[ "$(field agg "s['kafka_in']['rejected']")" = 0 ] || fail "aggregator rejected deltas"
fm_daemon_pid=$pid_edge1; stop_daemon edge1
fm_daemon_pid=$pid_edge2; stop_daemon edge2
fm_daemon_pid=$pid_agg; stop_daemon agg
no_sanitizer_reports
echo PASS
