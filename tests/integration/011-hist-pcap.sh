#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# A known distribution end to end (issue 5): mkpcap.py writes 300 one-way flows of
# heavy-tailed lengths (1..6000 packets; TCP, UDP, ICMP, IPv4 and IPv6) and the truth — each
# flow's packets and IP bytes as written.  softflowd exports the pcap as IPFIX to flowmixd
# (hist bin_exp 6, so long flows land in grouped bins); after flush the daemon's uniflow
# histograms of length and size for all/tcp/udp/other equal the ones computed from the truth
# with flow-models' binning rule (histcheck.py, independent of the C code).
. "$(dirname "$0")/lib.sh"
need softflowd python3

N=300
python3 "$top_srcdir/tests/integration/mkpcap.py" --uni "$fm_tmp/truth.pipe" "$fm_tmp/u.pcap" $N 5
port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[hist]
bin_exp = 6
[fit]
interval = 0
[export]
interval = 0
EOC
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d
softflowd -r "$fm_tmp/u.pcap" -n "127.0.0.1:$port" -v 10 -d -6 >/dev/null 2>&1 || fail "softflowd"
wait_for "ctl --json status | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"result\"][\"records\"] < $N)'" 20 ||
    fail "flowmixd received fewer than $N records: $(ctl status)"
ctl flush >/dev/null || fail "flush"
for cls in all tcp udp other; do
    for m in length size; do
        ctl --json hist --class $cls --metric $m > "$fm_tmp/h.json" || fail "hist $cls $m"
        python3 "$top_srcdir/tests/integration/histcheck.py" "$fm_tmp/truth.pipe" \
            "$fm_tmp/h.json" $m $cls 6 || fail "$cls/$m differs from the written distribution"
    done
done
stop_daemon d
echo "PASS"
