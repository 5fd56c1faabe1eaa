#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/store_rate: does the store slow down receiving?  The real flowmixd on loopback takes
# `flowmix send` records at a fixed rate for SECONDS_PER_RUN, once committing its histogram
# deltas every second (store.commit_interval = 1s) and once with the store idle
# (commit_interval = 1h: no commit inside the run).  The cache's inactive timeout is 1 s so that
# flows finish and reach the histograms during the run: the commits carry real deltas.  Each
# run has a fresh daemon and database; ROUNDS alternates the two modes (idle, store, idle, ...)
# so that drift in the machine's load hits both.  Prints, per run, records sent and received,
# kernel drops (datagrams, from /proc/net/udp), commits and the last commit's seconds; then the
# mean received rate of each mode and their difference in % (issue 7: target < 5%).
# The received rate is records received / the sender's seconds.  bench/store prints the commit
# latency itself.  Bounded: 2 x ROUNDS x (SECONDS_PER_RUN + ~3 s).
#
# usage: bench/store_rate.sh [BUILDDIR]     (default: the current directory)
# env:   RATE=150000 (records/s)  SECONDS_PER_RUN=15 (at most 20)  ROUNDS=2  VERSION=9
#        RCVBUF=16M  FM_KEEP=1
set -eu

B=$(cd "${1:-.}" && pwd)
RATE=${RATE:-150000}
SECS=${SECONDS_PER_RUN:-15}
ROUNDS=${ROUNDS:-2}
[ "$SECS" -le 20 ] || { echo "bench/store_rate: SECONDS_PER_RUN is at most 20" >&2; exit 1; }
. "$(dirname "$0")/lib.sh"

# json KEY: the first integer "KEY": value of `flowmixctl --json status` (its keys are unique
# enough for the ones read here); decimals are cut.
json() {
    "$B/flowmixctl" -s "$dsock" --json status | grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2
}
jrec() { json records; }

# run MODE INTERVAL: one run with store.commit_interval = INTERVAL; appends a result line.
run() {
    next_port
    dir="$tmp/$1.$round"
    daemon_conf "$dir" "$port_base" <<EOC
[cache]
memory = 1024
biflow = no
inactive_timeout = 1
export_delay = 0
[store]
commit_interval = $2
EOC
    daemon_start "$dir"
    set -- "$1" $(send_for "$RATE" "$port_base")
    mode=$1 sent=$2 achieved=$3 secs=$4
    got=$(settle jrec)
    drops=$(json kernel_drops)
    commits=$(json commits)
    last=$(json last_commit_seconds)
    daemon_stop
    rate=$(awk -v g="$got" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0) ? g / s : 0 }')
    loss=$(awk -v s="$sent" -v g="$got" 'BEGIN { printf "%.2f", (s > 0) ? 100 * (s - g) / s : 0 }')
    printf '%-6s %5s %9s %9s %9s %6s %11s %8s %7s %9.3f\n' "$mode" "$round" "$sent" \
        "$achieved" "$got" "$loss" "$rate" "$drops" "$commits" "${last:-0}"
    echo "$mode $rate" >> "$tmp/rates"
}

echo "bench/store_rate: NetFlow v$VERSION over loopback at $RATE records/s, $SECS s per run," \
    "$ROUNDS rounds, rcvbuf $RCVBUF (net.core.rmem_max $(rmem_max)), $(nproc) CPUs," \
    "load $(loadavg)"
printf '%-6s %5s %9s %9s %9s %6s %11s %8s %7s %9s\n' mode round sent achieved received \
    loss% received/s k_drops commits commit_s
: > "$tmp/rates"
round=1
while [ "$round" -le "$ROUNDS" ]; do
    run idle 1h
    run store 1s
    round=$((round + 1))
done
awk '{ sum[$1] += $2; n[$1]++ }
    END {
      idle = sum["idle"] / n["idle"]; store = sum["store"] / n["store"]
      d = (idle > 0) ? 100 * (idle - store) / idle : 0
      printf "\nmean received rate: store idle %.0f records/s, store committing every 1 s %.0f" \
          " records/s\ndifference: %.2f%% (positive = slower with the store; target < 5%%)\n",
          idle, store, d
    }' "$tmp/rates"
echo "load at the end: $(loadavg)"
