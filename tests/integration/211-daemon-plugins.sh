#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Output plugins in the real daemon (issue 10): softflowd exports a generated pcap of 400
# bidirectional flows as NetFlow v9 with a 60 s active timeout to flowmixd running the csv
# (flow-models csv_flow), columnar and ftprofile plugins.  What the plugins wrote must equal what
# the offline toolkit makes of the same records:
#   csv       == flowmix merge --biflow -o csv_flow          (lines, order-free)
#   columnar  == the same, read back with flowmix convert -i binary
#   ftprofile == flowmix profile of flowmix convert -o ftcsv  (rows, order-free, times rebased),
#                from a second daemon run with [cache] merge = ft-profiler (flowmix profile's
#                rules; the first run uses flow-models' merge rules, as flowmix merge does)
# "The same records" are the ones flowmixd decoded (--dump), written as a flow-models CSV by
# this script; that decode is checked against nfcapd/nfdump here too (per-record protocol,
# ports, packets and octets — nfdump 1.7.1 resolves softflowd's v9 sysUpTime differently, so
# times are compared against the pcap in 001/010 rather than here).  The merge itself is
# checked against flow-models in 200-merge-parity.py; this test proves that the daemon's path
# (decode → cache → plugin queues → plugin files) loses and changes nothing.
. "$(dirname "$0")/lib.sh"
need softflowd nfcapd nfdump python3
PLUGDIR="${FM_PLUGIN_BUILD_DIR:-$top_builddir}/plugins/.libs"
for p in csv columnar ftprofile; do
    [ -f "$PLUGDIR/$p.so" ] || skip "plugin $p not built"
done

python3 "$top_srcdir/tests/integration/mkpcap.py" "$fm_tmp/g.pcap" 400 7
export_pcap() {
    softflowd -r "$fm_tmp/g.pcap" -n "127.0.0.1:$1" -v 9 -d -6 -t maxlife=60 >/dev/null 2>&1 ||
        fail "softflowd"
}

# Independent decode: nfcapd, read back by the toolkit through nfdump.
port=$(free_udp_port)
mkdir -p "$fm_tmp/nf"
nfcapd -w "$fm_tmp/nf" -p "$port" -b 127.0.0.1 -t 3600 >"$fm_tmp/nfcapd.log" 2>&1 &
nfpid=$!
fm_pids="$fm_pids $nfpid"
wait_for "ss -Hlun \"sport = :$port\" | grep -q ." 10 || fail "nfcapd did not start"
export_pcap "$port"
sleep 0.5   # nfcapd has no drain signal
kill -INT $nfpid; wait $nfpid 2>/dev/null || true
nfdump -R "$fm_tmp/nf" -q -o pipe > "$fm_tmp/records.pipe" || fail "nfdump"
nrec=$(wc -l < "$fm_tmp/records.pipe")
[ "$nrec" -gt 600 ] || fail "nfdump decoded only $nrec records"

# run NAME MERGE_RULES: flowmixd with the plugin sections on stdin, fed by softflowd, flushed,
# stopped; leaves NAME.out (--dump records) and NAME.status.json.
run() {
    port=$(free_udp_port)
    { printf '[cache]\nactive_timeout = 60\ninactive_timeout = 15\nmerge = %s\n' "$2"
      printf '[fit]\ninterval = 0\n[export]\ninterval = 0\n'
      cat; } | write_conf "$fm_tmp/$1.conf" "$fm_tmp/$1" "$port"
    sock="$fm_tmp/$1/control.sock"
    start_daemon "$fm_tmp/$1.conf" "$1" --dump
    export_pcap "$port"
    wait_for "'$FLOWMIXCTL' -s '$sock' --json status | python3 -c 'import json,sys; sys.exit(json.load(sys.stdin)[\"result\"][\"records\"] < $nrec)'" 20 ||
        fail "flowmixd received fewer than $nrec records: $("$FLOWMIXCTL" -s "$sock" status)"
    "$FLOWMIXCTL" -s "$sock" flush >/dev/null || fail "flush"
    # Plugins consume on their own threads and count a batch when consume returns: wait until
    # every plugin has seen every finished flow before keeping the status (a loaded machine
    # read it in between: plugin flows 0, queue_depth 1).
    wait_for "'$FLOWMIXCTL' -s '$sock' --json status | python3 -c 'import json,sys; \
r = json.load(sys.stdin)[\"result\"]; \
sys.exit(any(p[\"flows\"] + p[\"dropped\"] < r[\"flows_finished\"] for p in r[\"plugins\"]))'" 20 ||
        fail "plugins did not catch up: $("$FLOWMIXCTL" -s "$sock" --json status)"
    "$FLOWMIXCTL" -s "$sock" --json status > "$fm_tmp/$1.status.json" || fail "status"
    stop_daemon "$1"
}

run d flow-models <<EOC
[plugin.csv]
path = $PLUGDIR/csv.so
overflow = block
dir = $fm_tmp/csv
interval = 0
format = csv_flow
[plugin.columnar]
path = $PLUGDIR/columnar.so
overflow = block
dir = $fm_tmp/col
interval = 0
EOC
run p ft-profiler <<EOC
[plugin.ftprofile]
path = $PLUGDIR/ftprofile.so
overflow = block
output = $fm_tmp/profile.csv
EOC

# The decoded records as flow-models CSV (csv_flow), checked against nfdump's decode.
# (Each run has its own records: softflowd stamps the export with the wall clock, so decoded
# times may differ by a millisecond between runs.)
for r in d p; do
python3 - "$fm_tmp" "$r" <<'PY' || fail "flowmixd's records differ from nfdump's"
import collections, ipaddress, os, sys
tmp, run = sys.argv[1], sys.argv[2]
def words(text):
    a = ipaddress.ip_address(text)
    if a.version == 4:
        return 2, [0, 0, 0, int(a)]
    b = a.packed
    return 10, [int.from_bytes(b[i:i + 4], "big") for i in range(0, 16, 4)]
rows, mine = [], collections.Counter()
for line in open(os.path.join(tmp, run + ".out")):
    if not line.startswith("record "):
        continue
    kv = dict(w.split("=", 1) for w in line.split() if "=" in w)
    src, dst = line.split()[6], line.split()[8]
    sa, sp = src.rsplit(":", 1)
    da, dp = dst.rsplit(":", 1)
    af, sw = words(sa)
    _, dw = words(da)
    first, last = int(kv["first"]), int(kv["last"])
    assert kv["rev_packets"] == "0", line   # softflowd v9 sends one direction per record
    rows.append(", ".join(str(x) for x in [af, kv["proto"], 0, 0] + sw + dw +
                          [sp, dp, first // 1000, first % 1000, last // 1000, last % 1000,
                           kv["packets"], kv["octets"], 1]))
    mine[(int(kv["proto"]), int(sp), int(dp), int(kv["packets"]), int(kv["octets"]))] += 1
theirs = collections.Counter()
for line in open(os.path.join(tmp, "records.pipe")):
    v = line.split("|")
    # nfdump 1.7 pipe: af|first|last|proto|sa0..3|sp|da0..3|dp|srcas|dstas|in|out|flags|tos|
    #                  packets|bytes
    # nfdump shows ICMP type/code as the destination port; flowmix keeps ports 0 for
    # protocols without ports (fm_flow_t).
    ports = (int(v[8]), int(v[13])) if int(v[3]) in (6, 17) else (0, 0)
    theirs[(int(v[3]),) + ports + (int(v[20]), int(v[21]))] += 1
if mine != theirs:
    print("FAIL: decode: only flowmixd %s, only nfdump %s"
          % (list((mine - theirs).items())[:3], list((theirs - mine).items())[:3]))
    sys.exit(1)
with open(os.path.join(tmp, run + ".records.csv"), "w") as f:
    f.write("\n".join(rows) + "\n")
print("decode    %d records of run %s equal nfdump's (proto, ports, packets, octets)"
      % (len(rows), run))
PY
done

# Expectations from the toolkit on the same records.
"$FLOWMIX" merge -i csv_flow --biflow -A 60 -I 15 -o csv_flow -O "$fm_tmp/want.csv" \
    "$fm_tmp/d.records.csv" || fail "flowmix merge"
"$FLOWMIX" convert -i csv_flow -o ftcsv -O "$fm_tmp/records.ftcsv" "$fm_tmp/p.records.csv" ||
    fail "convert"
"$FLOWMIX" profile -a 60 -i 15 -o "$fm_tmp/want-profile.csv" "$fm_tmp/records.ftcsv" ||
    fail "flowmix profile"
"$FLOWMIX" convert -i binary -o csv_flow -O "$fm_tmp/col.csv" "$fm_tmp"/col/* ||
    fail "flowmix convert of the columnar output"

python3 - "$fm_tmp" "$nrec" <<'PY' || fail "plugin files differ from the toolkit's"
import glob, json, os, sys
tmp, nrec = sys.argv[1], int(sys.argv[2])

def lines(path):
    with open(path) as f:
        return f.read().splitlines()

def same(what, got, want):
    if sorted(got) != sorted(want):
        extra = sorted(set(got) - set(want))[:3]
        missing = sorted(set(want) - set(got))[:3]
        print("FAIL: %s: %d vs %d rows; only in plugin %s; only in toolkit %s"
              % (what, len(got), len(want), extra, missing))
        sys.exit(1)
    print("%-9s %d rows equal" % (what, len(got)))

def rebased(rows):
    # ft-profiler times are relative to the first flow written, which depends on output order.
    rows = [r.split(",") for r in rows[1:]]
    zero = min(int(r[0]) for r in rows)
    return [",".join([str(int(r[0]) - zero), str(int(r[1]) - zero)] + r[2:]) for r in rows]

want = lines(os.path.join(tmp, "want.csv"))
files = glob.glob(os.path.join(tmp, "csv", "*.csv"))
assert len(files) == 1, files
same("csv", lines(files[0]), want)
same("columnar", lines(os.path.join(tmp, "col.csv")), want)
got_p, want_p = lines(os.path.join(tmp, "profile.csv")), lines(os.path.join(tmp, "want-profile.csv"))
assert got_p[0] == want_p[0], (got_p[0], want_p[0])
same("ftprofile", rebased(got_p), rebased(want_p))

for run, names in (("d", ["columnar", "csv"]), ("p", ["ftprofile"])):
    st = json.load(open(os.path.join(tmp, run + ".status.json")))["result"]
    assert st["records"] == nrec, (st["records"], nrec)
    assert st["cache"]["merges"] > 0, "the pcap produced no active-timeout splits to merge"
    assert st["cache"]["biflow_pairs"] > 0, st["cache"]
    plugins = {p["name"]: p for p in st["plugins"]}
    assert sorted(plugins) == names, plugins
    for p in plugins.values():
        assert p["flows"] == st["flows_finished"] and p["dropped"] == 0 and p["errors"] == 0, p
    print("%s run: records %d, merges %d, biflow pairs %d, flows to each plugin %d"
          % (run, nrec, st["cache"]["merges"], st["cache"]["biflow_pairs"], st["flows_finished"]))
PY
echo "PASS"
