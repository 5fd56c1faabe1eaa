# SPDX-License-Identifier: BSD-2-Clause
# Helpers for the Kafka scale-out tests (22x-*.sh), sourced after lib.sh: a librdkafka mock
# cluster in its own process, collectors publishing with the kafka plugin, control-socket
# queries and the "aggregator equals the bin-wise sum" check.  Skips (exit 77) when built
# without librdkafka.
need python3
MOCK="$top_builddir/tests/kafka_mock"
KAFKA_SO="$top_builddir/plugins/.libs/kafka.so"
[ -x "$MOCK" ] && [ -f "$KAFKA_SO" ] || skip "built without librdkafka (no tests/kafka_mock)"

# start_mock: the cluster lives until its stdin (a FIFO held open on fd 3) closes or the trap
# kills it.  Sets brokers.
start_mock() {
    mkfifo "$fm_tmp/mock.in"
    "$MOCK" -p 3 flowmix.hist < "$fm_tmp/mock.in" > "$fm_tmp/mock.out" 2> "$fm_tmp/mock.log" &
    fm_pids="$fm_pids $!"
    exec 3> "$fm_tmp/mock.in"
    wait_for "[ -s '$fm_tmp/mock.out' ]" 10 || fail "mock cluster: $(cat "$fm_tmp/mock.log")"
    brokers=$(head -1 "$fm_tmp/mock.out")
    echo "mock cluster at $brokers"
}

# collector NAME: a daemon publishing deltas every second (commit_interval) with the kafka
# plugin at its defaults (extra [plugin.kafka] lines on stdin).  Sets pid_NAME and port_NAME.
collector() {
    port=$(free_udp_port)
    extra=$(cat)
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
$extra
EOC
    start_daemon "$fm_tmp/$1.conf" "$1"
    eval "pid_$1=\$fm_daemon_pid port_$1=\$port"
}

# aggregator_conf NAME GROUP: the config of a daemon consuming deltas with [input.kafka]
# (extra [input.kafka] lines on stdin).
aggregator_conf() {
    extra=$(cat)
    write_conf "$fm_tmp/$1.conf" "$fm_tmp/$1" "$(free_udp_port)" <<EOC
[fit]
interval = 0
[export]
interval = 0
[store]
commit_interval = 1s
[input.kafka]
brokers = $brokers
group = $2
$extra
EOC
}

ctl() { n=$1; shift; "$FLOWMIXCTL" -s "$fm_tmp/$n/control.sock" "$@"; }
field() { # field NAME PYTHON-EXPR-ON-STATUS
    ctl "$1" --json status | python3 -c "import json,sys; s=json.load(sys.stdin)['result']; print($2)"
}

# settled NAME: hist_delivered once every part the collector published is accounted for by
# the plugin (delivered or failed, nothing outstanding), else -1.
settled() {
    field "$1" "c['hist_delivered'] if (c := (p := s['plugins'][0])['plugin_counters'])['outstanding'] == 0 and p['hist_deltas'] > 0 and c['hist_delivered'] + c['hist_failed'] == p['hist_deltas'] == s['hist_publish'].get('messages', s['hist_publish']['deltas']) else -1"
}

# wait_settled NAME: wait for settled, then no part may have failed.
wait_settled() {
    wait_for "[ \$(settled $1) -ge 0 ]" 20 || fail "$1 deltas not settled: $(ctl $1 --json status)"
    failed=$(field $1 "s['plugins'][0]['plugin_counters']['hist_failed']")
    [ "$failed" = 0 ] || fail "$1: hist_failed = $failed: $(field $1 "s['plugins'][0]")"
}

# hist_sum_equal AGG COLLECTOR... [-- CLASS/METRIC/DIR...]: the aggregator's histograms equal
# the bin-wise sum of the collectors' (all 24 unless some are named).
hist_sum_equal() {
    hs_agg=$1; shift
    names="$hs_agg"; which=""
    while [ $# -gt 0 ] && [ "$1" != -- ]; do names="$names $1"; shift; done
    [ $# -gt 0 ] && { shift; which="$*"; }
    if [ -z "$which" ]; then
        for cls in all tcp udp other; do for m in length size duration; do
            for dir in uniflow biflow; do which="$which $cls/$m/$dir"; done
        done; done
    fi
    rm -rf "$fm_tmp/h"
    for n in $names; do
        mkdir -p "$fm_tmp/h/$n"
        for h in $which; do
            IFS=/ read -r cls m dir <<EOH
$h
EOH
            ctl "$n" --json hist --class "$cls" --metric "$m" --direction "$dir" \
                > "$fm_tmp/h/$n/$cls-$m-$dir.json" || fail "hist $n $h"
        done
    done
    python3 - "$fm_tmp/h" $names <<'EOP' || return 1
import json, os, sys
root, agg, cols = sys.argv[1], sys.argv[2], sys.argv[3:]
def bins(n, f):  # bins are [bin_lo, bin_hi, flows, packets, octets]
    r = json.load(open(os.path.join(root, n, f)))["result"]
    return {b[0]: list(b[2:5]) for b in r["bins"]}
bad = nonempty = 0
files = sorted(os.listdir(os.path.join(root, agg)))
for f in files:
    g, want = bins(agg, f), {}
    for n in cols:
        for lo, v in bins(n, f).items():
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
first = files[0]
flows = sum(v[0] for v in bins(agg, first).values())
print("%d histograms compared, %d non-empty equal, %d differ; aggregator %s flows %d"
      % (len(files), nonempty, bad, first, flows))
sys.exit(1 if bad or nonempty < len(files) // 2 else 0)
EOP
}

# No sanitizer report in any daemon's log (ASan/UBSan builds).
no_sanitizer_reports() {
    if grep -l -E 'runtime error|Sanitizer' "$fm_tmp"/*.log; then
        fail "sanitizer report: $(grep -h -E 'runtime error|Sanitizer' "$fm_tmp"/*.log | head -3)"
    fi
}
