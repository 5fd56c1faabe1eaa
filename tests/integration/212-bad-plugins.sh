#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Bad output plugins in the real daemon (issue 10): a missing file, a wrong ABI version and a
# missing descriptor are refused at start with a message naming the file and the reason; a
# plugin whose consume() fails and a slow plugin with a tiny queue (overflow = drop) run beside
# a good one while v5 traffic arrives: the daemon receives every record, answers the control
# socket, the good plugin gets every finished flow, and `status` counts the failing plugin's
# errors and the slow plugin's dropped flows.
. "$(dirname "$0")/lib.sh"
need python3
TP="${FM_PLUGIN_BUILD_DIR:-$top_builddir}/tests/plugins/.libs"
for p in tp_record tp_badabi tp_nosym; do
    [ -f "$TP/$p.so" ] || skip "test plugin $p not built (make check builds it)"
done

# refused NAME SO PATTERN: flowmixd must exit 1 at start with PATTERN in its log.
refused() {
    port=$(free_udp_port)
    printf '[plugin.%s]\npath = %s\n' "$1" "$2" | write_conf "$fm_tmp/$1.conf" "$fm_tmp/$1" "$port"
    st=0
    timeout 20 "$FLOWMIXD" -f -c "$fm_tmp/$1.conf" >/dev/null 2>"$fm_tmp/$1.log" || st=$?
    [ "$st" = 1 ] || fail "$1: flowmixd exit status $st, expected 1: $(tail -3 "$fm_tmp/$1.log")"
    grep -q "$3" "$fm_tmp/$1.log" || fail "$1: no '$3' in the log: $(cat "$fm_tmp/$1.log")"
    echo "$1: refused: $(grep -o 'plugin .*' "$fm_tmp/$1.log" | head -1)"
}
refused missing "$fm_tmp/nowhere/missing.so" "missing.so"
refused badabi "$TP/tp_badabi.so" "ABI"
refused nosym "$TP/tp_nosym.so" "fm_plugin_descriptor"

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[fit]
interval = 0
[export]
interval = 0
[plugin.good]
path = $TP/tp_record.so
overflow = block
out = $fm_tmp/good.bin
[plugin.failing]
path = $TP/tp_record.so
fail = 1
[plugin.slow]
path = $TP/tp_record.so
queue = 1
delay_ms = 300
EOC
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 3000 4 "$fm_tmp/sent" &
spid=$!
fm_pids="$fm_pids $spid"
# Flush often so finished flows reach the plugins as many batches while traffic arrives; every
# reply must come back within 2 s however slow the plugins are.
while kill -0 $spid 2>/dev/null; do
    timeout 2 "$FLOWMIXCTL" -s "$sock" flush >/dev/null || fail "control socket did not answer flush"
    sleep 0.1
done
wait $spid || fail "v5send"
sent=$(cat "$fm_tmp/sent")
wait_for "ctl --json status | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"result\"][\"records\"] < $sent)'" 10 ||
    fail "flowmixd received fewer than the $sent records sent: $(ctl status)"
ctl flush >/dev/null
# The good plugin is overflow = block: wait until it has everything, and until the slow one has
# finished the batch it may still be sleeping in (a batch is counted when consume returns).
wait_for "ctl --json status | python3 -c '
import json,sys
r = json.load(sys.stdin)[\"result\"]
p = {x[\"name\"]: x for x in r[\"plugins\"]}
g, s, n = p[\"good\"], p[\"slow\"], r[\"flows_finished\"]
sys.exit(g[\"flows\"] != n or g[\"queue_depth\"] != 0 or s[\"flows\"] + s[\"dropped\"] != n)'" 20 ||
    fail "plugins did not catch up: $(ctl status | sed -n '/^Plugins/,$p')"
ctl --json status > "$fm_tmp/status.json" || fail "status"
ctl status | sed -n '/^Plugins/,$p'
stop_daemon d

python3 - "$fm_tmp/status.json" "$sent" "$fm_tmp/good.bin" <<'PY' || fail "plugin counters"
import json, os, sys
r = json.load(open(sys.argv[1]))["result"]
sent = int(sys.argv[2])
p = {x["name"]: x for x in r["plugins"]}
assert r["records"] == sent, (r["records"], sent)
assert r["flows_finished"] == sent, (r["flows_finished"], sent)   # one-packet v5 flows, unpaired
g, f, s = p["good"], p["failing"], p["slow"]
assert g["flows"] == sent and g["dropped"] == 0 and g["errors"] == 0, g
# tp_record writes each flow raw (sizeof fm_plugin_flow_t = 136 bytes).
assert os.path.getsize(sys.argv[3]) == 136 * sent, os.path.getsize(sys.argv[3])
assert f["batches"] > 1 and f["errors"] == f["batches"] and f["dropped"] == 0, f
assert f["flows"] == sent, f
assert s["dropped"] > 0 and s["flows"] + s["dropped"] == sent, s
assert s["dropped_batches"] > 0 and s["queue_max"] <= 1, s
print("sent %d: good %d flows; failing %d errors in %d batches; slow %d consumed, %d dropped "
      "in %d batches" % (sent, g["flows"], f["errors"], f["batches"], s["flows"], s["dropped"],
                         s["dropped_batches"]))
PY
echo "PASS"
