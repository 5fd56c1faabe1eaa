#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `flowmix send` → real flowmixd (biflow = no) for NetFlow v5, v9 and IPFIX: after `flowmixctl
# flush` the daemon's length, size and duration histograms per class equal those computed
# independently (sendcheck.py) from the very flows send exported.  v5 sends seeded synthetic
# flows and dumps them as csv_flow; v9 and IPFIX re-send that csv_flow file (-i csv_flow), so
# the file reader path is covered too.  A second IPFIX run adds the flows' own times
# (--replay-time) and IPv6 transport to the collector.
. "$(dirname "$0")/lib.sh"
need python3

N=20000
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
records() { ctl --json status | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["records"])'; }

# run_one NAME VERSION DEST_HOST EXPECT_CSV SEND_ARGS...: one daemon, one send, all histograms.
run_one() {
    name=$1; ver=$2; host=$3; csv=$4; shift 4
    port=$(free_udp_port)
    state="$fm_tmp/$name"
    listen="127.0.0.1:$port"
    [ "$host" = "[::1]" ] && listen="[::1]:$port"
    write_conf "$fm_tmp/$name.conf" "$state" "$port" <<EOC
[cache]
biflow = no
[fit]
interval = 0
[export]
interval = 0
EOC
    sed -i "s/^udp = .*/udp = $listen/" "$fm_tmp/$name.conf"
    sock="$state/control.sock"
    start_daemon "$fm_tmp/$name.conf" "$name"
    "$FLOWMIX" send -v "$ver" --rate 100000 "$host:$port" "$@" > "$fm_tmp/$name.send" ||
        fail "flowmix send -v $ver"
    cat "$fm_tmp/$name.send"
    sent=$(sed -n 's/^sent \([0-9]*\) records.*/\1/p' "$fm_tmp/$name.send")
    [ "$sent" = "$N" ] || fail "send reports $sent records, wanted $N"
    [ "$(grep -c . "$csv")" = "$N" ] || fail "$csv does not hold $N flows"
    wait_for "[ \$(records) -ge $N ]" 20 ||
        fail "v$ver: flowmixd received $(records) of $N records: $(ctl status)"
    [ "$(records)" = "$N" ] || fail "v$ver: flowmixd received $(records) records, sent $N"
    ctl flush >/dev/null || fail "flush"
    mkdir -p "$fm_tmp/$name.h"
    for cls in all tcp udp other; do
        for m in length size duration; do
            ctl --json hist --class $cls --metric $m > "$fm_tmp/$name.h/hist-$cls-$m.json" ||
                fail "hist $cls $m"
        done
    done
    ctl --json exporters > "$fm_tmp/$name.h/exporters.json" || fail "exporters"
    python3 "$top_srcdir/tests/integration/sendcheck.py" "$csv" "$fm_tmp/$name.h" 12 \
        > "$fm_tmp/$name.check" 2>&1 || fail "v$ver: $(cat "$fm_tmp/$name.check")"
    echo "v$ver: $(grep -c equal "$fm_tmp/$name.check") histograms equal;" \
        "$(grep all/length "$fm_tmp/$name.check")"
    stop_daemon "$name"
}

run_one v5 5 127.0.0.1 "$fm_tmp/flows.csv" --synthetic $N --seed 42 --dump "$fm_tmp/flows.csv"
run_one v9 9 127.0.0.1 "$fm_tmp/v9.csv" -i csv_flow --dump "$fm_tmp/v9.csv" "$fm_tmp/flows.csv"
run_one ipfix 10 127.0.0.1 "$fm_tmp/ipfix.csv" -i csv_flow --dump "$fm_tmp/ipfix.csv" \
    "$fm_tmp/flows.csv"
# --preload: every datagram encoded first (jumbo ones here), then sent: the same flows arrive.
run_one preload 10 127.0.0.1 "$fm_tmp/pre.csv" -i csv_flow --preload --mtu 9000 \
    --dump "$fm_tmp/pre.csv" "$fm_tmp/flows.csv"
rc=0
"$FLOWMIX" send --preload --synthetic 10 --duration 1 "127.0.0.1:$(free_udp_port)" \
    2>"$fm_tmp/pre.err" || rc=$?
[ $rc = 2 ] && grep -q 'finite input' "$fm_tmp/pre.err" ||
    fail "--preload with --duration: exit $rc, $(cat "$fm_tmp/pre.err")"
if ip -6 addr show lo 2>/dev/null | grep -q '::1'; then
    run_one ipfix6 10 "[::1]" "$fm_tmp/flows.csv" -i csv_flow --replay-time --template-every 5 \
        "$fm_tmp/flows.csv"
fi
# The same seed gives the same flows (times aside, which follow the clock).
"$FLOWMIX" send -q --synthetic $N --seed 42 --dump "$fm_tmp/again.csv" "127.0.0.1:$(free_udp_port)"
cut -d, -f1-14,19-21 "$fm_tmp/flows.csv" > "$fm_tmp/a.keys"
cut -d, -f1-14,19-21 "$fm_tmp/again.csv" > "$fm_tmp/b.keys"
cmp -s "$fm_tmp/a.keys" "$fm_tmp/b.keys" || fail "--seed 42 twice gave different flows"
echo PASS
