#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Regenerate the saved control replies of tests/data/ctl (the fixed daemon state behind the
# golden flowmixctl tables of tests/integration/090-ctl-tables.sh): a real flowmixd fed by a
# replayed capture (softflowd on the tests/data pcaps, IPFIX) and NetFlow v5 records from
# v5send.py, one configured [exporter.NAME], a fit job per y value, then `--json` replies of
# every table; status is saved twice, busy and after 70 s without traffic (1-min rates 0).
# Run from the build tree:  sh tests/data/ctl/gen.sh && make check TESTS=tests/integration/090-ctl-tables.sh
# then review the diff of the .txt files it reports and copy them with FM_CTL_REGEN=1.
top_builddir=${top_builddir:-$(pwd)}
top_srcdir=${top_srcdir:-$top_builddir}
. "$top_srcdir/tests/integration/lib.sh"
need softflowd python3
out="$top_srcdir/tests/data/ctl"

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[hist]
window = 20s
[store]
commit_interval = 1s
[fit]
interval = 0
[fit.all-length-flows]
class = all
metric = length
y = flows
U = 1
L = 2
max_iter = 100
[fit.all-length-packets]
class = all
metric = length
y = packets
L = 2
max_iter = 100
[fit.tcp-size-octets]
class = tcp
metric = size
y = octets
L = 2
P = 1
max_iter = 100
[export]
interval = 0
[exporter.edge-router]
address = 127.0.0.1
EOC
ctl() { "$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d
for p in http_get dns_tcp icmp ipv6-smtp tls12; do
    softflowd -r "$TDATA/$p.pcap" -n "127.0.0.1:$port" -v 10 -d -6 >/dev/null 2>&1
done
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 20000 1.5 - mixed >/dev/null
sleep 21   # into the next window
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 3000 1.5 - mixed >/dev/null
ctl flush >/dev/null
ctl fit >/dev/null
wait_for "ctl --json fits | python3 -c 'import json,sys; r=json.load(sys.stdin)[\"result\"][\"fits\"]; sys.exit(not all(f[\"model\"] for f in r))'" 30 ||
    fail "fits did not finish"
sleep 2
ctl --json status > "$out/status.json"
ctl --json exporters > "$out/exporters.json"
ctl --json windows > "$out/windows.json"
ctl --json fits > "$out/fits.json"
ctl --json model --job tcp-size-octets > "$out/model.json"
ctl --json hist --class tcp --metric size > "$out/hist.json"
sleep 70
ctl --json status > "$out/status-idle.json"
stop_daemon d
echo "wrote $out/*.json"
