#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# softflowd exports real pcaps as NetFlow v5, v9 and IPFIX twice: once to nfcapd (the independent
# decoder; its records are read back with nfdump -o pipe) and once to flowmixd --dump.  The
# per-protocol sums of records, packets and octets must be equal.
. "$(dirname "$0")/lib.sh"
need softflowd nfcapd nfdump python3

PCAPS="http_get dns_tcp icmp ipv6-smtp wg_udp_stream tls12"

# Export every pcap to 127.0.0.1:$1 with NetFlow version $2.
export_pcaps() {
    for p in $PCAPS; do
        softflowd -r "$TDATA/$p.pcap" -n "127.0.0.1:$1" -v "$2" -d -6 >/dev/null 2>&1 ||
            fail "softflowd -v $2 on $p"
    done
}

expected() {   # version → JSON sums decoded by nfcapd/nfdump
    port=$(free_udp_port)
    dir="$fm_tmp/nf$1"
    mkdir -p "$dir"
    nfcapd -w "$dir" -p "$port" -b 127.0.0.1 -t 3600 >"$dir.log" 2>&1 &
    pid=$!
    fm_pids="$fm_pids $pid"
    wait_for "ss -Hlun \"sport = :$port\" | grep -q ." 10 || fail "nfcapd did not bind port $port"
    export_pcaps "$port" "$1"
    sleep 0.5   # nfcapd has no readiness or drain signal; give the kernel queue time to empty
    kill -INT $pid; wait $pid 2>/dev/null || true
    nfdump -R "$dir" -q -o pipe > "$dir.pipe" || fail "nfdump"
    python3 "$top_srcdir/tests/integration/flowsum.py" pipe "$dir.pipe"
}

got() {        # version → JSON sums decoded by flowmixd
    port=$(free_udp_port)
    cat > "$fm_tmp/fd$1.conf" <<EOC
[daemon]
state_dir = $fm_tmp/state$1
log_level = info
${FLOWMIX_TEST_WORKERS:+workers = $FLOWMIX_TEST_WORKERS}
[listen]
udp = 127.0.0.1:$port
[fit]
interval = 0
[export]
interval = 0
EOC
    "$FLOWMIXD" -f --dump -c "$fm_tmp/fd$1.conf" >"$fm_tmp/dump$1" 2>"$fm_tmp/log$1" &
    pid=$!
    fm_pids="$fm_pids $pid"
    wait_for "grep -q 'ready' '$fm_tmp/log$1'" 20 || fail "flowmixd did not start: $(cat "$fm_tmp/log$1")"
    export_pcaps "$port" "$1"
    want=$(printf '%s' "$2" | python3 -c 'import json,sys; print(sum(v[0] for v in json.load(sys.stdin).values()))')
    # Records may be biflow records (IPFIX -b is not used, so one per direction); wait for all.
    wait_for "[ \$(grep -c '^record ' '$fm_tmp/dump$1') -ge $want ]" 20 || true
    kill -TERM $pid; wait $pid || fail "flowmixd exited with $?: $(tail "$fm_tmp/log$1")"
    grep -q 'clean shutdown' "$fm_tmp/log$1" || fail "no clean shutdown line"
    if grep -q '\[error\]' "$fm_tmp/log$1"; then fail "errors in log: $(grep '\[error\]' "$fm_tmp/log$1")"; fi
    python3 "$top_srcdir/tests/integration/flowsum.py" dump "$fm_tmp/dump$1"
}

for v in 5 9 10; do
    exp=$(expected $v)
    [ "$exp" != "{}" ] || fail "nfdump decoded nothing for v$v"
    res=$(got $v "$exp")
    echo "v$v expected (nfcapd/nfdump): $exp"
    echo "v$v flowmixd:                 $res"
    [ "$exp" = "$res" ] || fail "v$v sums differ"
done
echo "PASS"
