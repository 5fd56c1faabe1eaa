#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# [metrics] with a real Prometheus: flowmixd serves /metrics on a loopback port, fed NetFlow v5
# records; a Prometheus server (Debian's, scrape interval 1 s, bounded run on loopback) scrapes
# it.  Its HTTP API must give flowmix_records_total equal to `flowmixctl --json status` records
# and flowmix_flow_length_bucket{class="all"} equal to the cumulative flows of `flowmixctl
# --json hist` at every bin's upper edge; `promtool check metrics` accepts the endpoint's text;
# wrong paths and methods get 404/405.
. "$(dirname "$0")/lib.sh"
need prometheus promtool curl python3

port=$(free_udp_port)
mport=$(free_tcp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[metrics]
listen = 127.0.0.1:$mport
[fit]
interval = 0
[fit.all-length-flows]
class = all
metric = length
y = flows
U = 1
L = 2
max_iter = 50
[export]
interval = 0
[exporter.edge-router]
address = 127.0.0.1
[plugin.csv]
path = ${FM_PLUGIN_BUILD_DIR:-$top_builddir}/plugins/.libs/csv.so
dir = $fm_tmp/csv
interval = 0
format = csv_flow
EOC
ctl() { "$FLOWMIXCTL" -s "$fm_tmp/state/control.sock" "$@"; }
start_daemon "$fm_tmp/d.conf" d
grep -q "metrics, Prometheus metrics on 127.0.0.1:$mport" "$fm_tmp/d.log" ||
    fail "no metrics line in the log: $(cat "$fm_tmp/d.log")"
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 4000 1.5 - mixed >/dev/null
wait_for "ctl --json status | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"result\"][\"records\"] < 4000)'" 20 ||
    fail "records missing: $(ctl status)"
ctl flush >/dev/null
ctl fit >/dev/null
wait_for "ctl model --job all-length-flows" 30 || fail "no fit"
sleep 1.5   # one tick: the published text has the flushed flows

curl -sf "http://127.0.0.1:$mport/metrics" > "$fm_tmp/metrics.txt" || fail "GET /metrics"
promtool check metrics < "$fm_tmp/metrics.txt" > "$fm_tmp/promtool.out" 2>&1 ||
    fail "promtool check metrics: $(head -5 "$fm_tmp/promtool.out")"
for m in flowmix_records_total flowmix_cache_entries flowmix_store_commits_total \
         'flowmix_exporter_records_total{exporter="127.0.0.1:' 'name="edge-router"' \
         'flowmix_flow_size_bytes_bucket{class="tcp"' 'flowmix_plugin_flows_total{plugin="csv"}' 'flowmix_mixture_weight{job="all-length-flows"' \
         'parameter="scale"'; do
    grep -qF "$m" "$fm_tmp/metrics.txt" || fail "/metrics lacks $m"
done
# Every metric the Grafana dashboard queries exists.
python3 - "$top_srcdir/contrib/grafana/flowmix.json" "$fm_tmp/metrics.txt" <<'PY' ||
import re, sys
names = set(re.findall(r"flowmix_[a-z_]+", open(sys.argv[1]).read()))
have = set(re.findall(r"^(flowmix_[a-z_]+)", open(sys.argv[2]).read(), re.M))
missing = sorted(n for n in names if n not in have)
sys.exit("dashboard queries unknown metrics: %s" % missing if missing else 0)
PY
    fail "contrib/grafana/flowmix.json is out of step with /metrics"
[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$mport/nope")" = 404 ] || fail "404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$mport/metrics")" = 405 ] ||
    fail "405"

# A real Prometheus scraping it.
pport=$(free_tcp_port)
cat > "$fm_tmp/prom.yml" <<EOC
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: flowmix
    static_configs:
      - targets: ['127.0.0.1:$mport']
EOC
prometheus --config.file="$fm_tmp/prom.yml" --storage.tsdb.path="$fm_tmp/prom" \
    --web.listen-address="127.0.0.1:$pport" >"$fm_tmp/prom.log" 2>&1 &
fm_pids="$fm_pids $!"
api="http://127.0.0.1:$pport/api/v1"
ctl --json status > "$fm_tmp/status.json"
ctl --json hist --class all --metric length > "$fm_tmp/hist.json"
check_records() {
    curl -sf "$api/query?query=flowmix_records_total" > "$fm_tmp/q1.json" &&
    python3 - "$fm_tmp/q1.json" "$fm_tmp/status.json" <<'PY'
import json, sys
q = json.load(open(sys.argv[1]))["data"]["result"]
want = json.load(open(sys.argv[2]))["result"]["records"]
sys.exit(not (len(q) == 1 and int(float(q[0]["value"][1])) == want))
PY
}
wait_for check_records 60 ||
    fail "Prometheus never had flowmix_records_total = status records: $(cat "$fm_tmp/q1.json" 2>/dev/null; tail -3 "$fm_tmp/prom.log")"
curl -sf "$api/query" --data-urlencode 'query=flowmix_flow_length_bucket{class="all"}' \
    > "$fm_tmp/q2.json" || fail "query buckets"
python3 - "$fm_tmp/q2.json" "$fm_tmp/hist.json" <<'PY' || fail "buckets differ from flowmixctl hist"
import json, sys
q = json.load(open(sys.argv[1]))["data"]["result"]
h = json.load(open(sys.argv[2]))["result"]
got = {r["metric"]["le"]: int(float(r["value"][1])) for r in q}
want, cum = {}, 0
for lo, hi, flows, packets, octets in sorted(h["bins"]):
    cum += flows
    want[str(hi - 1)] = cum
want["+Inf"] = h["flows"]
assert cum == h["flows"] > 0, (cum, h["flows"])
assert got == want, (sorted(got.items())[:5], sorted(want.items())[:5], len(got), len(want))
print(f"{len(got)} buckets, {h['flows']} flows agree")
PY
stop_daemon d
echo PASS
