#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Live capture (issue 15, must-show 3): a veth pair inside a network namespace this test creates,
# a capture replayed into one end with tcpreplay, `flowmix meter -i` on the other end.  Its flows
# (id, packets, bytes, endpoints) equal `flowmix meter` on the same capture file; so do those of
# flowmixd with [input.capture] interface = the other end (through its cache, csv plugin).  Then the
# interface is deleted under a running capture: the meter must report it, write the flows seen so
# far and exit 1, not crash or hang.  Skips where namespaces or veth are not allowed.
. "$(dirname "$0")/lib.sh"
need ip tcpreplay python3

[ "$(id -u)" = 0 ] || skip "needs root for network namespaces (ip netns add)"
ns="fm-meter-$$"
ip netns add "$ns" 2>/dev/null || skip "network namespaces are forbidden here (ip netns add failed)"
cleanup_ns() { ip netns del "$ns" 2>/dev/null || true; fm_cleanup; }
trap cleanup_ns EXIT
ip -n "$ns" link add veth-a type veth peer name veth-b 2>/dev/null ||
    skip "veth interfaces are not allowed here"
ip -n "$ns" link set lo up
for i in veth-a veth-b; do
    ip netns exec "$ns" sysctl -qw "net.ipv6.conf.$i.disable_ipv6=1" 2>/dev/null || true
    ip -n "$ns" link set "$i" up
done

cap="$FM_SHARED/data/nfstream/pcaps/google_ssl.pcap"
[ -f "$cap" ] || skip "no $cap"
cols='id,src_ip,src_port,dst_ip,dst_port,protocol,bidirectional_packets,bidirectional_bytes,src2dst_packets,dst2src_packets'
pick() { python3 -c '
import csv, sys
cols = sys.argv[1].split(",")
for r in csv.DictReader(sys.stdin):
    print(",".join(r[c] for c in cols))' "$cols"; }

"$FLOWMIX" meter --dissections 0 "$cap" | pick > "$fm_tmp/file.txt"

# 1. flowmix meter -i: replay and compare
ip netns exec "$ns" "$FLOWMIX" meter -v --dissections 0 -i veth-b -o "$fm_tmp/live.csv" \
    2> "$fm_tmp/live.err" &
mpid=$!
fm_pids="$fm_pids $mpid"
wait_for "grep -q 'capturing on' '$fm_tmp/live.err'" 20 || fail "meter did not start: $(cat "$fm_tmp/live.err")"
ip netns exec "$ns" tcpreplay -q -i veth-a --multiplier 20 "$cap" > "$fm_tmp/replay.log" 2>&1 ||
    fail "tcpreplay: $(cat "$fm_tmp/replay.log")"
sleep 1.5   # the ring hands packets over within its 1 s buffer timeout
kill -INT "$mpid"
st=0; wait "$mpid" || st=$?
[ "$st" = 0 ] || fail "meter -i exited $st: $(cat "$fm_tmp/live.err")"
pick < "$fm_tmp/live.csv" > "$fm_tmp/live.txt"
cmp -s "$fm_tmp/file.txt" "$fm_tmp/live.txt" ||
    fail "live flows differ from the file's: $(diff "$fm_tmp/file.txt" "$fm_tmp/live.txt" | head -5)"
echo "live capture: $(wc -l < "$fm_tmp/live.txt") flow(s) equal to the capture file's"

# 2. flowmixd [input.capture] on the same interface
plug="$top_builddir/plugins/.libs/csv.so"
if [ -f "$plug" ]; then
    printf '#!/bin/sh\nexec ip netns exec %s %s "$@"\n' "$ns" "$top_builddir/flowmixd" > "$fm_tmp/nsd"
    chmod +x "$fm_tmp/nsd"
    port=$(free_udp_port)
    write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[input.capture]
interface = veth-b
[plugin.csv]
path = $plug
overflow = block
dir = $fm_tmp/csv
interval = 0
EOC
    FLOWMIXD="$fm_tmp/nsd" start_daemon "$fm_tmp/d.conf" d
    sock="$fm_tmp/state/control.sock"
    ip netns exec "$ns" tcpreplay -q -i veth-a --multiplier 20 "$cap" > "$fm_tmp/replay.log" 2>&1 ||
        fail "tcpreplay: $(cat "$fm_tmp/replay.log")"
    wait_for "'$FLOWMIXCTL' -s '$sock' --json status | python3 -c 'import json,sys; c=json.load(sys.stdin)[\"result\"][\"capture\"][0]; sys.exit(c[\"parsed\"] < 28)'" 20 ||
        fail "flowmixd did not capture the packets: $("$FLOWMIXCTL" -s "$sock" status)"
    stop_daemon d
    "$FLOWMIX" meter --dissections 0 "$cap" > "$fm_tmp/file.csv"
    python3 "$top_srcdir/tests/integration/flowcmp.py" "$fm_tmp/csv" "$fm_tmp/file.csv" ||
        fail "flowmixd [input.capture] flows differ from the capture file's"
    echo "flowmixd [input.capture] on the interface: flows equal to the capture file's"
else
    echo "csv plugin not built: flowmixd leg left out"
fi

# 3. the interface disappears mid-capture
ip netns exec "$ns" "$FLOWMIX" meter -v --dissections 0 -i veth-b -o "$fm_tmp/gone.csv" \
    2> "$fm_tmp/gone.err" &
mpid=$!
fm_pids="$fm_pids $mpid"
wait_for "grep -q 'capturing on' '$fm_tmp/gone.err'" 20 || fail "meter did not start"
ip netns exec "$ns" tcpreplay -q -i veth-a --multiplier 20 "$cap" > /dev/null 2>&1 || true
sleep 1.5
ip -n "$ns" link del veth-a
wait_for "! kill -0 $mpid" 20 || fail "meter still running 20 s after its interface was deleted"
st=0; wait "$mpid" || st=$?
[ "$st" = 1 ] || fail "meter exited $st after its interface went away: $(cat "$fm_tmp/gone.err")"
grep -q 'veth-b' "$fm_tmp/gone.err" || fail "no message naming the interface: $(cat "$fm_tmp/gone.err")"
[ "$(pick < "$fm_tmp/gone.csv")" = "$(cat "$fm_tmp/file.txt")" ] ||
    fail "flows seen before the interface went away were not written: $(cat "$fm_tmp/gone.csv")"
echo "interface deleted mid-capture: exit 1, $(tail -n +2 "$fm_tmp/gone.csv" | wc -l) flow(s) written: $(grep -v capturing "$fm_tmp/gone.err" | head -1)"
