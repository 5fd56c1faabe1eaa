#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Overload: `flowmix send` drives NetFlow v5 at full speed (no pacing: above the lossless rate,
# see bench/ingest.sh) for 30 s into a flowmixd with a small receive buffer and a 32 MiB flow
# cache that the random 5-tuples overfill, while `flowmixctl status` is polled every second
# (ctlpoll.py).  Proves:
#   - overload was reached: status reports kernel drops (/proc/net/udp "drops") > 0;
#   - the daemon stays responsive: every status reply within FM_OVERLOAD_CTL_MS (1000 ms);
#   - the drops are all reported: received + kernel_drops = datagrams sent, within a tolerance
#     of 0.1 % + 10 datagrams for loss before the socket (loopback backlog, counted only in
#     /proc/net/softnet_stat; measured 0).  The "drops" column is the socket's sk_drops, the
#     same counter SO_RXQ_OVFL would deliver per datagram;
#   - memory: VmHWM <= cache.memory + FM_OVERLOAD_OVERHEAD_MIB (the overhead documented under
#     [cache] memory in flowmixd.conf(5); skipped under ASan, whose shadow memory counts too);
#   - clean shutdown afterwards.
# Bounded: FM_OVERLOAD_SECONDS (30) and at most 200M records.  If the machine cannot overload
# the daemon (no drops), lower FM_OVERLOAD_RCVBUF.
. "$(dirname "$0")/lib.sh"
need python3
[ -r /proc/net/udp ] || skip "no /proc/net/udp (kernel drop counters are Linux-only)"

SECS=${FM_OVERLOAD_SECONDS:-30}
RCVBUF=${FM_OVERLOAD_RCVBUF:-64K}
MEM=32
OVERHEAD=${FM_OVERLOAD_OVERHEAD_MIB:-96}
CTL_MS=${FM_OVERLOAD_CTL_MS:-1000}
port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[listen]
rcvbuf = $RCVBUF
[cache]
memory = $MEM
biflow = no
active_timeout = 2
inactive_timeout = 1
export_delay = 120
[fit]
interval = 0
[export]
interval = 0
EOC
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
status_field() {
    ctl --json status | python3 -c "import json,sys; print(json.load(sys.stdin)['result']['$1'])"
}

start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/ctlpoll.py" "$FLOWMIXCTL" "$sock" "$fm_daemon_pid" \
    "$fm_tmp/stop" "$fm_tmp/poll" &
poller=$!
fm_pids="$fm_pids $poller"

"$FLOWMIX" send -v 5 --synthetic 0 --seed 40 --rate 0 --duration "$SECS" --count 200000000 \
    "127.0.0.1:$port" > "$fm_tmp/send.out" || fail "flowmix send: $(cat "$fm_tmp/send.out")"
# The queue drains: wait until the received count stops moving (the daemon has caught up).
last=-1
now=$(status_field datagrams)
while [ "$now" != "$last" ]; do
    last=$now
    sleep 0.5
    now=$(status_field datagrams)
done
touch "$fm_tmp/stop"
wait "$poller" || fail "status poller failed"

cat "$fm_tmp/send.out"
# "sent R records in D datagrams (B bytes) in S s: R/s records/s, ...; E send errors, ..."
n='\([0-9.]*\)'
re="^sent $n records in $n datagrams.* in $n s: $n records.*; $n send errors.*"
set -- $(sed -n "s/$re/\\1 \\2 \\3 \\4 \\5/p" "$fm_tmp/send.out")
[ $# = 5 ] || fail "cannot read the send summary"
sent_rec=$1; sent_dg=$2; send_s=$3; rate=$4; send_err=$5
ctl --json status > "$fm_tmp/status.json" || fail "final status"
set -- $(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))["result"]
print(r["datagrams"], r["kernel_drops"], r["records"], r["malformed"], r["cache"]["evicted"])
' "$fm_tmp/status.json")
recv_dg=$1; drops=$2; recv_rec=$3; malformed=$4; evicted=$5
set -- $(awk '{ n++; if ($1 > max) max = $1; if (!$2) bad++; if ($5 > hwm) hwm = $5 }
              END { printf "%d %.1f %d %d\n", n, max, bad + 0, hwm }' "$fm_tmp/poll")
polls=$1; max_ms=$2; failed_polls=$3
hwm=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$fm_daemon_pid/status")
missing=$((sent_dg - recv_dg - drops))
tol=$((sent_dg / 1000 + 10))
echo "overload: sent $sent_rec records / $sent_dg datagrams in $send_s s ($rate records/s," \
    "$send_err send errors); received $recv_dg datagrams / $recv_rec records; kernel_drops" \
    "$drops ($(awk -v d="$drops" -v s="$sent_dg" 'BEGIN { printf "%.1f", 100 * d / s }') %);" \
    "unaccounted $missing (tolerance $tol); cache evicted $evicted"
echo "overload: $polls status polls, max latency $max_ms ms (bound $CTL_MS), $failed_polls" \
    "failed; VmHWM $hwm kB (cache.memory $MEM MiB + overhead bound $OVERHEAD MiB)"

[ "$send_err" = 0 ] || fail "flowmix send reported $send_err send errors"
[ "$malformed" = 0 ] || fail "$malformed datagrams counted malformed"
[ "$drops" -gt 0 ] ||
    fail "no kernel drops: overload not reached (lower FM_OVERLOAD_RCVBUF, now $RCVBUF)"
[ "$polls" -ge $((${send_s%.*} / 2)) ] || fail "only $polls status polls in $send_s s of load"
[ "$failed_polls" = 0 ] || fail "$failed_polls status requests failed"
awk -v m="$max_ms" -v b="$CTL_MS" 'BEGIN { exit !(m < b) }' ||
    fail "status took $max_ms ms (bound $CTL_MS ms): daemon not responsive under load"
[ "$missing" -ge 0 ] || fail "received + dropped ($recv_dg + $drops) exceed sent ($sent_dg)"
[ "$missing" -le "$tol" ] ||
    fail "$missing datagrams neither received nor reported dropped (tolerance $tol)"
[ "$recv_rec" -le "$sent_rec" ] || fail "more records received than sent"
[ "$evicted" -gt 0 ] || fail "the cache never filled (no evictions): memory bound not exercised"
if grep -q libasan "/proc/$fm_daemon_pid/maps" 2>/dev/null; then
    echo "VmHWM bound not checked: ASan build"
else
    [ "$hwm" -le $(((MEM + OVERHEAD) * 1024)) ] ||
        fail "VmHWM $hwm kB above cache.memory $MEM MiB + $OVERHEAD MiB"
fi
stop_daemon d
echo PASS
