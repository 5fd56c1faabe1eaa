#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmixctl for people.  Golden tables: every readable layout (status busy and idle, exporters
# in default and --sort order, windows, fits, model, hist, hist --csv, model --flow-models) of
# the replies saved in tests/data/ctl (a real flowmixd fed a replayed capture, see gen.sh)
# printed with --reply-file, so ages and rates are fixed; idle 1-min rates print 0.  Live: a
# fresh daemon prints rates 0; `hist --csv | flowmix fit -` fits; `model --flow-models` is
# byte for byte the export's flow-models mixture file; hist --window takes latest, -1 and an
# ISO-8601 start and says in words when there is no such window.
. "$(dirname "$0")/lib.sh"
need python3
data="$top_srcdir/tests/data/ctl"

# golden OUT REPLY ARGS...: flowmixctl --reply-file REPLY.json ARGS must print OUT.txt.
golden() {
    outname=$1 reply=$2
    shift 2
    "$FLOWMIXCTL" --reply-file "$data/$reply.json" "$@" >"$fm_tmp/$outname.txt" ||
        fail "flowmixctl $* on $reply.json failed"
    if [ "${FM_CTL_REGEN:-0}" = 1 ]; then
        cp "$fm_tmp/$outname.txt" "$data/$outname.txt"
    fi
    diff -u "$data/$outname.txt" "$fm_tmp/$outname.txt" || fail "$outname: output differs"
}
golden status status status
golden status-idle status-idle status
golden exporters exporters exporters
golden exporters-by-bytes exporters exporters --sort bytes
golden windows windows windows
golden fits fits fits
golden model model model --job tcp-size-octets
golden model-flow-models model model --job tcp-size-octets --flow-models
golden hist hist hist --class tcp --metric size
golden hist-csv hist hist --csv
# Idle: the saved reply's 1-minute rates are 0 and print as 0, not 1e-10.
python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["result"]["rate_1m"]; sys.exit(any(r.values()))' \
    "$data/status-idle.json" || fail "status-idle.json has non-zero 1-min rates"
for what in records datagrams flows drops; do
    grep -Eq "^$what/s +0 +[0-9.]+k?$" "$data/status-idle.txt" || fail "idle $what/s not 0"
done
# --json stays the daemon's reply, byte for byte.
"$FLOWMIXCTL" --json --reply-file "$data/fits.json" fits | cmp - "$data/fits.json" ||
    fail "--json changed the reply"
expect_error 2 "cannot sort by 'nope'" "$FLOWMIXCTL" --reply-file "$data/exporters.json" \
    exporters --sort nope

# Live daemon.
port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
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
U = 1
L = 2
max_iter = 100
[fit.all-length-octets]
class = all
metric = length
y = octets
U = 1
L = 2
max_iter = 100
[export]
interval = 0
plots = no
EOC
ctl() { "$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d
ctl status > "$fm_tmp/fresh.txt"
for what in records datagrams flows drops; do
    grep -Eq "^$what/s +0 +0$" "$fm_tmp/fresh.txt" ||
        fail "a fresh daemon's $what/s is not 0: $(cat "$fm_tmp/fresh.txt")"
done
expect_error 1 'no windows stored yet' ctl hist --window latest
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 5000 1.5 - mixed >/dev/null
wait_for "ctl --json status | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"result\"][\"records\"] < 5000)'" 20 ||
    fail "records missing: $(ctl status)"
ctl flush >/dev/null
wait_for "ctl --json windows | grep -q start_ms" 20 || fail "no window stored"

# csv_hist straight into the toolkit's fit.
ctl hist --csv > "$fm_tmp/h.csv"
[ "$(sed -n 1p "$fm_tmp/h.csv")" = "bin_lo,bin_hi,flows_sum,packets_sum,octets_sum" ] ||
    fail "hist --csv header: $(head -1 "$fm_tmp/h.csv")"
ctl hist --csv | "$FLOWMIX" fit -U 1 -L 2 -i 50 -O "$fm_tmp/fit" - >"$fm_tmp/fit.out" 2>&1 ||
    fail "flowmix fit - rejected hist --csv: $(cat "$fm_tmp/fit.out")"
ctl --json hist > "$fm_tmp/h.json"
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); h=json.load(open(sys.argv[2]))
assert m["sum"] == h["result"]["flows"] > 0, (m, h["result"]["flows"])' \
    "$fm_tmp/fit/flows.json" "$fm_tmp/h.json" || fail "fit of hist --csv: $(cat "$fm_tmp/fit.out")"

# Windows by name: latest, -1 and the ISO-8601 start all give the same bins.
start=$(ctl --json windows | python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["windows"][-1]["start_ms"])')
iso=$(python3 -c 'import sys,datetime; print(datetime.datetime.fromtimestamp(int(sys.argv[1])/1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))' "$start")
ctl hist --csv --window "$start" > "$fm_tmp/w-ms.csv"
for w in latest -1 "$iso"; do
    ctl hist --csv --window "$w" | cmp -s - "$fm_tmp/w-ms.csv" || fail "hist --window $w differs"
done
ctl hist --window "$iso" | grep -q "start $iso" || fail "hist does not name the window start"
expect_error 1 'no window starting at 2001-01-01T00:00:00Z' ctl hist --window 2001-01-01T00:00Z
expect_error 1 'no window -9: only 1 stored' ctl hist --window -9
expect_error 1 'ISO-8601' ctl hist --window yesterday

# model --flow-models is flow-models' mixture file exactly (the export writes that file).
ctl fit --job all-length-flows >/dev/null
wait_for "ctl model --job all-length-flows" 30 || fail "no fit: $(ctl fits)"
ctl export >/dev/null
wait_for "test -f '$fm_tmp/state/export/latest/mixtures/all/length/flows.json'" 30 ||
    fail "no export"
ctl model --job all-length-flows --flow-models > "$fm_tmp/flows.json"
cmp "$fm_tmp/flows.json" "$fm_tmp/state/export/latest/mixtures/all/length/flows.json" ||
    fail "model --flow-models differs from the exported mixture"
ctl model --job all-length-flows | grep -Eq 'lognorm +s=[0-9.e-]+ loc=[0-9.e-]+ scale=' ||
    fail "model does not name the lognorm parameters: $(ctl model --job all-length-flows)"
if [ -n "${FLOW_MODELS_DIR:-}" ] &&
   /usr/bin/python3 -c 'import numpy, scipy, pandas' 2>/dev/null; then
    # generate reads a mixture directory: flows, packets and octets of one class and metric
    mkdir -p "$fm_tmp/mix"
    for y in packets octets; do
        ctl fit --job "all-length-$y" >/dev/null
        wait_for "ctl model --job all-length-$y" 30 || fail "no fit of $y: $(ctl fits)"
    done
    for y in flows packets octets; do
        ctl model --job "all-length-$y" --flow-models > "$fm_tmp/mix/$y.json" ||
            fail "model --job all-length-$y --flow-models"
    done
    (cd "$fm_tmp" && PYTHONPATH="$FLOW_MODELS_DIR" /usr/bin/python3 -m flow_models.generate \
        -s 10 -x length "$fm_tmp/mix") >"$fm_tmp/gen.log" 2>&1 ||
        fail "flow-models generate rejected model --flow-models: $(tail -3 "$fm_tmp/gen.log")"
    echo "flow-models generate read model --flow-models"
fi
stop_daemon d
# Log lines carry ISO-8601 UTC stamps with milliseconds and the Z offset.
bad=$(grep -Ev '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z flowmixd\[' "$fm_tmp/d.log" | head -3)
[ -z "$bad" ] || fail "log lines without an ISO-8601 UTC stamp: $bad"
echo PASS
