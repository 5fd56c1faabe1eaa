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
need python3
MOCK="$top_builddir/tests/kafka_mock"
KAFKA_SO="$top_builddir/plugins/.libs/kafka.so"
[ -x "$MOCK" ] && [ -f "$KAFKA_SO" ] || skip "built without librdkafka (no tests/kafka_mock)"

# The mock cluster lives until its stdin (a FIFO we hold open) closes or the trap kills it.
mkfifo "$fm_tmp/mock.in"
"$MOCK" -p 3 flowmix.hist < "$fm_tmp/mock.in" > "$fm_tmp/mock.out" 2> "$fm_tmp/mock.log" &
fm_pids="$fm_pids $!"
exec 3> "$fm_tmp/mock.in"
wait_for "[ -s '$fm_tmp/mock.out' ]" 10 || fail "mock cluster: $(cat "$fm_tmp/mock.log")"
brokers=$(head -1 "$fm_tmp/mock.out")
echo "mock cluster at $brokers"

# collector NAME: a daemon publishing deltas every second (commit_interval)
collector() {
    port=$(free_udp_port)
    write_conf "$fm_tmp/$1.conf" "$fm_tmp/$1" "$port" <<EOC
[fit]
interval = 0
[export]
interval = 0
[store]
commit_interval = 1s
[daemon]
collector_id = $1
[plugin.kafka]
path = $KAFKA_SO
brokers = $brokers
flows = no
histograms = yes
EOC
    start_daemon "$fm_tmp/$1.conf" "$1"
    eval "pid_$1=\$fm_daemon_pid port_$1=\$port"
}
collector edge1
collector edge2
write_conf "$fm_tmp/agg.conf" "$fm_tmp/agg" "$(free_udp_port)" <<EOC
[fit]
interval = 0
[export]
interval = 0
[store]
commit_interval = 1s
[input.kafka]
brokers = $brokers
group = aggregators
EOC
start_daemon "$fm_tmp/agg.conf" agg
pid_agg=$fm_daemon_pid

ctl() { n=$1; shift; "$FLOWMIXCTL" -s "$fm_tmp/$n/control.sock" "$@"; }
field() { # field NAME PYTHON-EXPR-ON-STATUS
    ctl "$1" --json status | python3 -c "import json,sys; s=json.load(sys.stdin)['result']; print($2)"
}

# Different traffic for each collector: other seeds, other sizes.
"$FLOWMIX" send -q -v 5 --rate 200000 --synthetic 200000 --seed 7 "127.0.0.1:$port_edge1" ||
    fail "send to edge1"
"$FLOWMIX" send -q -v 10 --rate 200000 --synthetic 12000 --seed 8 "127.0.0.1:$port_edge2" ||
    fail "send to edge2"
wait_for "[ \$(field edge1 \"s['records']\") -ge 200000 ]" 20 || fail "edge1 records"
wait_for "[ \$(field edge2 \"s['records']\") -ge 12000 ]" 20 || fail "edge2 records"
ctl edge1 flush >/dev/null || fail "flush edge1"
ctl edge2 flush >/dev/null || fail "flush edge2"

# Wait until every message the collector published is accounted for by the plugin (delivered
# or failed, nothing outstanding); then none may have failed.
settled() {
    field "$1" "c['hist_delivered'] if (c := (p := s['plugins'][0])['plugin_counters'])['outstanding'] == 0 and p['hist_deltas'] > 0 and c['hist_delivered'] + c['hist_failed'] == p['hist_deltas'] == s['hist_publish'].get('messages', s['hist_publish']['deltas']) else -1"
}
for n in edge1 edge2; do
    wait_for "[ \$(settled $n) -ge 0 ]" 20 || fail "$n deltas not settled: $(ctl $n --json status)"
    failed=$(field $n "s['plugins'][0]['plugin_counters']['hist_failed']")
    [ "$failed" = 0 ] || fail "$n: hist_failed = $failed: $(field $n "s['plugins'][0]")"
done
delivered() { settled "$1"; }
want=$(( $(delivered edge1) + $(delivered edge2) ))
wait_for "[ \$(field agg \"s['kafka_in']['applied']\") -ge $want ]" 20 ||
    fail "aggregator applied $(field agg "s['kafka_in']") of $want deltas"
echo "deltas: edge1 $(delivered edge1), edge2 $(delivered edge2), aggregator $(field agg "s['kafka_in']")"
echo "last delta sizes: edge1 $(field edge1 "s['hist_publish']['last_bytes']") bytes," \
     "edge2 $(field edge2 "s['hist_publish']['last_bytes']") bytes"

for n in edge1 edge2 agg; do
    mkdir -p "$fm_tmp/h/$n"
    for cls in all tcp udp other; do
        for m in length size duration; do
            for dir in uniflow biflow; do
                ctl $n --json hist --class $cls --metric $m --direction $dir \
                    > "$fm_tmp/h/$n/$cls-$m-$dir.json" || fail "hist $n $cls $m $dir"
            done
        done
    done
done
python3 - "$fm_tmp/h" <<'EOP' || fail "aggregator histograms differ from the collectors' sum"
import json, os, sys
root = sys.argv[1]
def bins(n, f):  # bins are [bin_lo, bin_hi, flows, packets, octets]
    r = json.load(open(os.path.join(root, n, f)))["result"]
    return {b[0]: list(b[2:5]) for b in r["bins"]}
bad = 0
nonempty = 0
for f in sorted(os.listdir(os.path.join(root, "agg"))):
    a, b, g = bins("edge1", f), bins("edge2", f), bins("agg", f)
    want = {}
    for h in (a, b):
        for lo, v in h.items():
            w = want.setdefault(lo, [0, 0, 0])
            for i in range(3):
                w[i] += v[i]
    if want != g:
        bad += 1
        diff = sorted(lo for lo in set(want) | set(g) if want.get(lo) != g.get(lo))[:3]
        print("DIFF %s: %d bins wanted, %d got; first differing bins %s" % (f, len(want), len(g),
              [(lo, want.get(lo), g.get(lo)) for lo in diff]))
    elif want:
        nonempty += 1
flows = sum(v[0] for v in bins("agg", "all-length-uniflow.json").values())
print("%d histograms compared, %d non-empty equal, %d differ; aggregator all/length flows %d"
      % (len(os.listdir(os.path.join(root, "agg"))), nonempty, bad, flows))
sys.exit(1 if bad or nonempty < 12 else 0)
EOP

[ "$(field agg "s['kafka_in']['rejected']")" = 0 ] || fail "aggregator rejected deltas"
fm_daemon_pid=$pid_edge1; stop_daemon edge1
fm_daemon_pid=$pid_edge2; stop_daemon edge2
fm_daemon_pid=$pid_agg; stop_daemon agg
# Under ASan/UBSan builds, a report in any daemon's log fails the test.
if grep -l -E 'runtime error|Sanitizer' "$fm_tmp"/*.log; then
    fail "sanitizer report: $(grep -h -E 'runtime error|Sanitizer' "$fm_tmp"/*.log | head -3)"
fi
echo PASS
