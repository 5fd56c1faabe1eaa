#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# nfdump's nfreplay as the exporter (issue 3): softflowd exports a generated pcap (400
# bidirectional IPv4/IPv6 flows) to nfcapd; nfreplay sends the captured file to flowmixd as
# NetFlow v5 and as NetFlow v9.  The per-protocol sums of records, packets and octets flowmixd
# decoded (--dump) must equal nfdump's reading of the same file — IPv4 records only for v5,
# which cannot carry IPv6.
. "$(dirname "$0")/lib.sh"
need softflowd nfcapd nfdump nfreplay python3

python3 "$top_srcdir/tests/integration/mkpcap.py" "$fm_tmp/g.pcap" 400 3
port=$(free_udp_port)
mkdir -p "$fm_tmp/nf"
nfcapd -w "$fm_tmp/nf" -p "$port" -b 127.0.0.1 -t 3600 >"$fm_tmp/nfcapd.log" 2>&1 &
nfpid=$!
fm_pids="$fm_pids $nfpid"
wait_for "ss -Hlun \"sport = :$port\" | grep -q ." 10 || fail "nfcapd did not start"
softflowd -r "$fm_tmp/g.pcap" -n "127.0.0.1:$port" -v 9 -d -6 -t maxlife=60 >/dev/null 2>&1 ||
    fail "softflowd"
sleep 0.5   # nfcapd has no drain signal
kill -INT $nfpid; wait $nfpid 2>/dev/null || true
file=$(ls "$fm_tmp"/nf/nfcapd.* | grep -v current | head -1)
[ -f "$file" ] || fail "nfcapd wrote no file: $(ls "$fm_tmp/nf")"

for v in 5 9; do
    filter=any
    [ "$v" = 9 ] || filter=ipv4
    nfdump -r "$file" -q -o pipe "$filter" > "$fm_tmp/want$v.pipe" || fail "nfdump"
    nrec=$(wc -l < "$fm_tmp/want$v.pipe")
    [ "$nrec" -gt 300 ] || fail "only $nrec records to replay"
    want=$(python3 "$top_srcdir/tests/integration/flowsum.py" pipe "$fm_tmp/want$v.pipe")

    port=$(free_udp_port)
    write_conf "$fm_tmp/d$v.conf" "$fm_tmp/state$v" "$port" <<EOC
[fit]
interval = 0
[export]
interval = 0
EOC
    start_daemon "$fm_tmp/d$v.conf" "d$v" --dump
    nfreplay -r "$file" -H 127.0.0.1 -p "$port" -v "$v" -d 100 "$filter" >"$fm_tmp/replay$v.log" 2>&1 ||
        fail "nfreplay -v $v: $(cat "$fm_tmp/replay$v.log")"
    wait_for "[ \$(grep -c '^record ' '$fm_tmp/d$v.out') -ge $nrec ]" 20 || true
    stop_daemon "d$v"
    got=$(python3 "$top_srcdir/tests/integration/flowsum.py" dump "$fm_tmp/d$v.out")
    echo "v$v nfdump:   $want"
    echo "v$v flowmixd: $got"
    [ "$want" = "$got" ] || fail "v$v: sums differ"
done
echo "PASS"
