#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/cost: CPU seconds per million records of flowmixd, nfcapd (nfdump) and nfacctd (pmacct)
# for the same seeded stream at a fixed rate below all three collectors' saturation points.
# Each collector runs alone, a fresh process per run; CPU is user + system time of the process
# with its threads and children, counted from "ready" (listening, or answering ping) to exit:
#   flowmixd  default cache + histograms + store (fits and exports off); after the stream,
#             `flowmixctl flush`, then SIGTERM; the final commit is part of its cost.
#   nfcapd    stores every record in nfcapd files; SIGTERM once it is idle (it flushes).
#   nfacctd   5-tuple aggregation into its print plugin; it ignores SIGTERM, so its CPU (core
#             process + plugin children, /proc/PID/stat) is read once idle, then SIGKILL.
# flowmixd and nfcapd run under GNU time (wait4 rusage: every thread, every reaped child, the
# shutdown included) minus their CPU at ready (/proc/PID/stat).  Rounds alternate the
# collectors so that a change in the machine's load hits all three; the median of the rounds
# is printed with the ratios.  A run that lost records is flagged: its figure is not valid.
#
# The defaults stream 10 s per run: long enough that per-run fixed costs (flowmixd's final
# commit of every histogram bin the stream filled, nfcapd's file close) do not swamp the
# per-record cost, slow enough that none of the three loses records on a loaded 2-core box.
#
# usage: bench/cost.sh [BUILDDIR]          (default: the current directory)
# env:   VERSIONS="5 9 10"  RATE=200000 (records/s)  RECORDS=2000000  ROUNDS=3
#        COLLECTORS="flowmixd nfcapd nfacctd"  RCVBUF=16M  FM_KEEP=1 (keep the temp dir)
#        FM_CONF="[daemon]\nworkers = 1" (lines added to flowmixd's configuration, printf %b)
#        FM_BASE=<build dir> with collector "base": that build's flowmixd (same configuration,
#        same stream) runs in the same rounds, so a change is measured against the build
#        before it under the same load (the ratio flowmixd/base)
set -eu

B=$(cd "${1:-.}" && pwd)
VERSIONS=${VERSIONS:-"5 9 10"}
RATE=${RATE:-200000}
RECORDS=${RECORDS:-2000000}
ROUNDS=${ROUNDS:-3}
COLLECTORS=${COLLECTORS:-"flowmixd nfcapd nfacctd"}
FM_CONF=${FM_CONF:-}
FM_BASE=${FM_BASE:-}
D=$B   # the build whose flowmixd runs (run_base sets FM_BASE's)
. "$(dirname "$0")/lib.sh"
# Interrupted (SIGTERM, Ctrl-C): no collector may outlive the script.  They inherit the fd of
# `flock /tmp/fm-bench.lock`, so an orphaned nfacctd (it ignores SIGTERM) would hold the
# benchmark lock for everybody.
cost_cleanup() {
    if [ -n "$npid" ]; then
        pkill -KILL -P "$npid" 2>/dev/null || true
        kill -KILL "$npid" 2>/dev/null || true
        npid=""
    fi
    bench_cleanup
}
trap cost_cleanup EXIT
trap 'exit 1' INT TERM HUP
# lib.sh's status with a 60 s timeout: a loaded machine can keep the daemon from answering
# within flowmixctl's default 10 s.  JSON, as lib.sh reads it (the readable status is a table).
status() {
    "$D/flowmixctl" -t 60 -s "$dsock" --json status | grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2
}
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "bench/cost: GNU time ($TIME) missing (Debian: time)" >&2; exit 1; }
HZ=$(getconf CLK_TCK)
for c in $COLLECTORS; do
    case $c in
    flowmixd) ;;
    base) [ -n "$FM_BASE" ] && [ -x "$FM_BASE/flowmixd" ] ||
                { echo "bench/cost: collector base needs FM_BASE=<a build dir>" >&2; exit 1; }
          FM_BASE=$(cd "$FM_BASE" && pwd) ;;
    nfcapd) command -v nfcapd >/dev/null && command -v nfdump >/dev/null ||
                { echo "bench/cost: nfcapd/nfdump missing (Debian: nfdump)" >&2; exit 1; } ;;
    nfacctd) command -v nfacctd >/dev/null ||
                { echo "bench/cost: nfacctd missing (Debian: pmacct)" >&2; exit 1; } ;;
    *) echo "bench/cost: unknown collector $c" >&2; exit 1 ;;
    esac
done

# ticks PID: utime + stime + cutime + cstime of one process (clock ticks), 0 if gone.
ticks() {
    awk '{ sub(/^.*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null ||
        echo 0
}
# tree_ticks PID: ticks of PID and all its descendants.
tree_ticks() {
    t=0
    for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
        if [ "$p" = "$1" ]; then t=$((t + $(ticks "$p"))); else t=$((t + $(tree_ticks "$p"))); fi
    done
    echo "$t"
}
# idle PID: wait until the process tree's CPU stops moving for 0.5 s (it drained its socket).
idle() {
    last=-1; cur=$(tree_ticks "$1")
    while [ "$cur" != "$last" ]; do sleep 0.5; last=$cur; cur=$(tree_ticks "$1"); done
}
listening() {   # listening PORT: wait until something binds udp PORT
    i=0
    until ss -Hlun "sport = :$1" | grep -q .; do
        i=$((i + 1)); [ $i -lt 200 ] || { echo "bench/cost: nothing listens on $1" >&2; exit 1; }
        sleep 0.05
    done
}
# child_of PID: the single child of the GNU time wrapper.
child_of() {
    i=0
    until c=$(pgrep -P "$1" 2>/dev/null); do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "bench/cost: no child of $1" >&2; exit 1; }
        sleep 0.05
    done
    echo "$c"
}
# rusage FILE: user + system seconds GNU time wrote (last line).
rusage() { tail -n 1 "$1" | awk '{ print $1 + $2 }'; }
stream() {   # stream PORT: the seeded stream; sets sent
    sent=$("$B/flowmix" send -v "$VERSION" --synthetic "$RECORDS" --seed 7 --rate "$RATE" \
        "127.0.0.1:$1" | sed -n 's/^sent \([0-9]*\) records.*/\1/p')
}

# Each run_* sets cpu (seconds, ready to exit) and got (records the collector holds, or -).
run_flowmixd() {
    next_port; port=$port_base
    rm -rf "$tmp/fm"
    printf "%b" "$FM_CONF" | daemon_conf "$tmp/fm" "$port"
    $TIME -f '%U %S' -o "$tmp/rusage" "$D/flowmixd" -f -c "$tmp/fm/d.conf" 2>"$tmp/fm/d.log" &
    tpid=$!
    dsock=$tmp/fm/control.sock
    i=0
    until "$D/flowmixctl" -s "$dsock" ping >/dev/null 2>&1; do
        i=$((i + 1)); [ $i -lt 400 ] || { echo "flowmixd did not start" >&2; exit 1; }
        sleep 0.05
    done
    pid=$(child_of "$tpid"); dpid=$pid
    t0=$(ticks "$pid")
    stream "$port"
    got=$(settle drec)
    "$D/flowmixctl" -t 60 -s "$dsock" flush >/dev/null
    kill -TERM "$pid"; wait "$tpid" || true; dpid=""
    cpu=$(awk -v r="$(rusage "$tmp/rusage")" -v t="$t0" -v hz="$HZ" 'BEGIN { print r - t / hz }')
}
run_base() {
    D=$FM_BASE
    run_flowmixd
    D=$B
}
run_nfcapd() {
    next_port; port=$port_base
    rm -rf "$tmp/nf"; mkdir -p "$tmp/nf"
    $TIME -f '%U %S' -o "$tmp/rusage" nfcapd -w "$tmp/nf" -p "$port" -b 127.0.0.1 -t 3600 \
        -B "$(bytes "$RCVBUF")" >"$tmp/nfcapd.log" 2>&1 &
    tpid=$!
    listening "$port"
    pid=$(child_of "$tpid"); npid=$pid
    t0=$(ticks "$pid")
    stream "$port"
    idle "$pid"
    kill -TERM "$pid"; wait "$tpid" || true; npid=""
    cpu=$(awk -v r="$(rusage "$tmp/rusage")" -v t="$t0" -v hz="$HZ" 'BEGIN { print r - t / hz }')
    got=$(nfdump -R "$tmp/nf" -q -o pipe 2>/dev/null | wc -l)
}
run_nfacctd() {
    next_port; port=$port_base
    rm -rf "$tmp/pm"; mkdir -p "$tmp/pm"
    cat >"$tmp/pm/nfacctd.conf" <<EOC
daemonize: false
nfacctd_ip: 127.0.0.1
nfacctd_port: $port
nfacctd_pipe_size: $(bytes "$RCVBUF")
plugins: print
aggregate: src_host, dst_host, src_port, dst_port, proto
print_refresh_time: 3600
print_output: csv
print_output_file: $tmp/pm/out.csv
EOC
    nfacctd -f "$tmp/pm/nfacctd.conf" >"$tmp/pm/log" 2>&1 &
    pid=$!; npid=$pid
    listening "$port"
    sleep 0.5   # the plugin process starts after the socket is bound
    t0=$(tree_ticks "$pid")
    stream "$port"
    idle "$pid"
    t1=$(tree_ticks "$pid")
    pkill -KILL -P "$pid" 2>/dev/null || true
    kill -KILL "$pid"; wait "$pid" 2>/dev/null || true; npid=""
    cpu=$(awk -v a="$t0" -v b="$t1" -v hz="$HZ" 'BEGIN { print (b - a) / hz }')
    got=-
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "bench/cost: $RECORDS records at $RATE records/s, $ROUNDS rounds, rcvbuf $RCVBUF" \
    "(net.core.rmem_max $(rmem_max)), nproc $(nproc), load $(loadavg)"
printf '%-7s %5s %-9s %9s %9s %7s %14s\n' version round collector sent received cpu_s \
    cpu_s_per_Mrec
: >"$tmp/results"
for VERSION in $VERSIONS; do
    for r in $(seq "$ROUNDS"); do
        # rotate the order each round
        set -- $COLLECTORS
        k=$(( (r - 1) % $# )); while [ $k -gt 0 ]; do c=$1; shift; set -- "$@" "$c"; k=$((k - 1)); done
        for c in "$@"; do
            "run_$c"
            per=$(awk -v c="$cpu" -v n="$sent" 'BEGIN { printf "%.4f", (n > 0) ? c * 1e6 / n : 0 }')
            flag=""
            if [ "$got" != - ] && [ "$got" != "$sent" ]; then flag="  LOSS: invalid"; fi
            printf '%-7s %5s %-9s %9s %9s %7.3f %14s%s\n' "v$VERSION" "$r" "$c" "$sent" "$got" \
                "$cpu" "$per" "$flag"
            echo "$VERSION $c $per" >>"$tmp/results"
        done
    done
done
echo "median CPU seconds per million records (load at the end $(loadavg)):"
for VERSION in $VERSIONS; do
    line="  v$VERSION:"
    for c in $COLLECTORS; do
        m=$(awk -v v="$VERSION" -v c="$c" '$1 == v && $2 == c { print $3 }' "$tmp/results" | median)
        eval "med_$c=$m"
        line="$line $c $m"
    done
    if echo " $COLLECTORS " | grep -q ' flowmixd '; then
        for c in $COLLECTORS; do
            [ "$c" = flowmixd ] && continue
            line="$line, flowmixd/$c $(eval awk -v a="\$med_flowmixd" -v b="\$med_$c" \
                "'BEGIN { printf \"%.2f\", (b > 0) ? a / b : 0 }'")"
        done
    fi
    echo "$line"
done
