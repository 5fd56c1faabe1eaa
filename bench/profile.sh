#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/profile: `perf record -g` of flowmixd under bench/cost.sh's stream (the same seeded
# `flowmix send --synthetic` records at a fixed rate, the bench/lib.sh configuration), from
# ready to exit as cost.sh counts it (perf attaches after start-up: the cache's prefault is not
# in it), flush and shutdown included; then perf report's top entries (self time).
#
# usage: bench/profile.sh [BUILDDIR]     (default: the current directory)
# env:   VERSION=5  RATE=200000  RECORDS=2000000  TOP=25  PERF_OUT=<file> (default in $tmp)
#        FM_CONF="[daemon]\nworkers = 1" (lines added to the configuration, printf %b)
set -eu
B=$(cd "${1:-.}" && pwd)
VERSION=${VERSION:-5}
RATE=${RATE:-200000}
RECORDS=${RECORDS:-2000000}
TOP=${TOP:-25}
. "$(dirname "$0")/lib.sh"
command -v perf >/dev/null || { echo "bench/profile: perf missing (Debian: linux-perf)" >&2; exit 1; }
out=${PERF_OUT:-$tmp/perf.data}
next_port; port=$port_base
printf "%b" "${FM_CONF:-}" | daemon_conf "$tmp/fm" "$port"
dsock=$tmp/fm/control.sock
"$B/flowmixd" -f -c "$tmp/fm/d.conf" 2>"$tmp/fm/d.log" &
dpid=$!
i=0
until "$B/flowmixctl" -s "$dsock" ping >/dev/null 2>&1; do
    i=$((i + 1)); [ $i -lt 400 ] || { echo "flowmixd did not start" >&2; exit 1; }
    sleep 0.05
done
perf record -q -g -p "$dpid" -o "$out" 2>/dev/null &
ppid_=$!
sleep 1   # perf attached
echo "bench/profile: v$VERSION, $RECORDS records at $RATE/s, load $(loadavg)"
"$B/flowmix" send -v "$VERSION" --synthetic "$RECORDS" --seed 7 --rate "$RATE" "127.0.0.1:$port"
got=$(settle drec)
"$B/flowmixctl" -t 60 -s "$dsock" flush >/dev/null
kill -TERM "$dpid"; wait "$dpid" || true; dpid=""
wait "$ppid_" || true
echo "received $got records; load at the end $(loadavg)"
perf report -i "$out" --no-children --sort symbol --stdio 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -n "$TOP"
