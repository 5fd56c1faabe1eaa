#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Soak (issue 20, not in make check): flowmixd under 4 senders x 5000 records/s (IPFIX, v9, v5,
# IPFIX; random 5-tuples, so the cache stays busy), a new exporter every 5 s (a short-lived
# sender on a fresh source port), fits and exports every minute, commit_interval 2 s, for
# SOAK_SECONDS (default 600).  Every 10 s it prints RSS, VmHWM and the database + WAL size;
# at the end: RSS slope after warm-up (MiB/min, from the second third on), VmHWM against
# cache.memory + the documented overhead bound, and the daemon's disk write rate
# (/proc/PID/io write_bytes).  Run under flock /tmp/fm-bench.lock; `uptime` is printed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=${top_builddir:-$(cd "$here/.." && pwd)}
SECS=${SOAK_SECONDS:-600}
MEM=${SOAK_CACHE_MIB:-64}
BOUND=${SOAK_BOUND_MIB:-96}     # flowmixd.conf(5), [cache] memory: the overhead bound
RATE=${SOAK_RATE:-5000}
# Sample every 10 s: the fits and exports of every minute raise RSS for some seconds, and a
# 30 s period sampled them every other time (alternate highs and lows in the slope).
EVERY=${SOAK_SAMPLE:-10}
tmp=$(mktemp -d /tmp/flowmix-soak.XXXXXX)
pids=""
cleanup() { for p in $pids; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
            [ "${KEEP:-0}" = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
port=$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$tmp/d.conf" <<EOC
[daemon]
state_dir = $tmp/state
log_level = notice
[listen]
udp = 127.0.0.1:$port
[control]
socket = $tmp/state/control.sock
[cache]
memory = $MEM
[store]
commit_interval = 2s
[fit]
interval = 1m
[export]
interval = 1m
keep = 3
EOC
# SOAK_WRAP (e.g. "heaptrack -o /tmp/x") runs the daemon under a profiler; exec keeps the pid.
${SOAK_WRAP:-} "$top/flowmixd" -f -c "$tmp/d.conf" 2> "$tmp/d.log" &
dpid=$!
pids="$pids $dpid"
ctl() { "$top/flowmixctl" -s "$tmp/state/control.sock" "$@"; }
i=0
until ctl ping >/dev/null 2>&1; do i=$((i + 1)); [ $i -lt 600 ] || { echo "no daemon"; exit 1; }; sleep 0.1; done
if [ -n "${SOAK_WRAP:-}" ]; then  # sample (and stop) the daemon itself, not the wrapper
    dpid=$(pgrep -n -f "flowmixd -f -c $tmp/d.conf"); pids="$dpid $pids"
fi
echo "soak: ${SECS}s, 4 x $RATE records/s, cache.memory $MEM MiB, load: $(uptime)"
for f in ipfix v9 v5 ipfix; do
    "$top/flowmix" send -q -f "$f" --synthetic 0 --seed $$ -r "$RATE" --duration "${SECS}s" \
        "127.0.0.1:$port" &
    pids="$pids $!"
done
# a new exporter every 5 s: 2 s of 200 records/s from a fresh source port
( n=0; while [ $n -lt $((SECS / 5)) ]; do
      "$top/flowmix" send -q -f ipfix --synthetic 0 --seed $n -r 200 --duration 2s \
          --domain $n "127.0.0.1:$port" || true
      sleep 3; n=$((n + 1)); done ) &
pids="$pids $!"
st() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$dpid/status"; }
wb() { awk '$1 == "write_bytes:" { print $2 }' "/proc/$dpid/io"; }
# Attribution: anonymous memory, and how much of it lies in glibc's secondary malloc arenas
# (the 64 MiB-aligned heaps threads get; the main arena grows by brk, [heap]).
anon() { awk '$1 == "Anonymous:" { print $2 }' "/proc/$dpid/smaps_rollup"; }
# "brk-heap arena-count arena-kB": RSS of [heap] and of the 64 MiB-aligned secondary arenas.
# An arena heap is a 64 MiB-aligned rw-p mapping followed by its ---p reserve up to the next
# 64 MiB boundary (a big mmap()ed block, e.g. the cache, may be aligned too, but has no reserve).
heaps() { python3 -c '
import sys
maps = []
for line in open(sys.argv[1]):
    f = line.split()
    if "-" in f[0] and len(f) >= 5:
        lo, hi = (int(x, 16) for x in f[0].split("-"))
        maps.append([lo, hi, f[1], f[5] if len(f) > 5 else "", 0])
    elif f[0] == "Rss:" and maps:
        maps[-1][4] = int(f[1])
M = 64 << 20
heap = n = kb = 0
for i, (lo, hi, perm, path, rss) in enumerate(maps):
    nxt = maps[i + 1] if i + 1 < len(maps) else None
    if path == "[heap]":
        heap += rss
    elif (not path and perm.startswith("rw") and lo % M == 0 and nxt and nxt[0] == hi
          and nxt[2].startswith("---") and nxt[1] == lo + M):
        n += 1; kb += rss
print(heap, n, kb)' "/proc/$dpid/smaps"; }
t0=$(date +%s); wb0=$(wb)
: > "$tmp/rss"
while :; do
    sleep "$EVERY"
    now=$(date +%s); el=$((now - t0))
    db=$(du -k "$tmp/state/flowmix.db" | cut -f1)
    wal=$(du -k "$tmp/state/flowmix.db-wal" 2>/dev/null | cut -f1 || echo 0)
    echo "$el $(st VmRSS) $(st VmHWM) $db ${wal:-0} $(anon) $(heaps) $(st Threads)" | tee -a "$tmp/rss" |
        awk '{ printf "t=%4ds RSS %6.1f MiB  VmHWM %6.1f MiB  db %6.1f MiB  wal %6.1f MiB  anon %6.1f  brk-heap %6.1f  arenas %d %6.1f MiB  threads %d\n", $1, $2/1024, $3/1024, $4/1024, $5/1024, $6/1024, $7/1024, $8, $9/1024, $10 }'
    [ $el -lt "$SECS" ] || break
done
wb1=$(wb); t1=$(date +%s)
ctl --json status > "$tmp/status.json"
hwm=$(st VmHWM)
awk -v secs="$SECS" 'NR == 1 { next } $1 >= secs / 3 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2
         m = int($1 / 60)  # whole minutes only: the last sample alone is no minute low
         if ($1 < int(secs / 60) * 60) { if (!(m in lo) || $2 < lo[m]) lo[m] = $2; if (!(m in hi) || $2 > hi[m]) hi[m] = $2 } }
     function slope(a,   k, c, x, y, xx, xy) { for (k in a) { c++; x += k; y += a[k]; xx += k * k; xy += k * a[k] }
                                              return (c * xy - x * y) / (c * xx - x * x) / 1024 }
     END { b = (n * sxy - sx * sy) / (n * sxx - sx * sx)
           printf "RSS slope after warm-up: %.2f MiB/min (%d samples); per-minute lows %.2f, highs %.2f MiB/min\n", b * 60 / 1024, n, slope(lo), slope(hi) }' "$tmp/rss"
echo "VmHWM $((hwm / 1024)) MiB; bound cache.memory + $BOUND = $((MEM + BOUND)) MiB: $([ $((hwm / 1024)) -le $((MEM + BOUND)) ] && echo within || echo EXCEEDED)"
echo "disk writes: $(( (wb1 - wb0) / (t1 - t0) / 1024 )) KiB/s over $((t1 - t0)) s; db $(du -k "$tmp/state/flowmix.db" | cut -f1) KiB"
python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))["result"]; print("records %d, kernel_drops %d, exporters %d (evicted %d), cache sources %s/%s, ctl clients %s" % (s["records"], s["kernel_drops"], s["exporters"], s["exporters_evicted"], s["cache"].get("sources"), s["cache"].get("max_sources"), s["ctl"]["clients"]))' "$tmp/status.json"
echo "load: $(uptime)"
