#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# [daemon] workers (issue 16 item 4): the same IPFIX exports, replayed with their own times by
# `flowmix send` into flowmixd with workers = 1 and workers = 2, give bit-identical results:
# every histogram of `flowmixctl hist` (4 classes x 3 metrics x uniflow/biflow), the total bins
# stored in SQLite, and the cache's counters (records, merges, biflow pairs, conflicts, flows).
# The exports exercise what sharding could break: flows split by the active timeout (the
# continuation must meet its first part in the same shard), both directions of a conversation
# (paired into a biflow only if they meet), RFC 5103-style answers and single records.  A long
# export_delay keeps expiry out of it, so the flows finish only at `flush` and the result depends
# on the records alone, not on when ticks fall.
. "$(dirname "$0")/lib.sh"
need python3 sqlite3

# The exports: csv_flow, ordered by end time as an exporter sends them.
python3 - "$fm_tmp/flows.csv" <<'EOF'
import random, sys, time
rnd = random.Random(7516)
base = (int(time.time()) - 900) * 1000
rows = []
def rec(proto, sa, da, sp, dp, first, last, pk, octets):
    rows.append((last, "2, %d, 0, 0, 0, 0, 0, %d, 0, 0, 0, %d, %d, %d, %d, %d, %d, %d, %d, %d, 1"
                 % (proto, sa, da, sp, dp, first // 1000, first % 1000, last // 1000,
                    last % 1000, pk, octets)))
for k in range(3000):
    sa = 0x0a000000 + rnd.randrange(1 << 16)
    da = 0xc0a80000 + rnd.randrange(1 << 16)
    proto = rnd.choice((6, 6, 6, 17, 17, 1))
    sp, dp = (rnd.randrange(1024, 65535), rnd.choice((80, 443, 53, 22))) if proto != 1 else (0, 0)
    t = base + rnd.randrange(300000)
    kind = k % 4
    if kind == 0:       # a long flow cut by the active timeout (60 s), continued twice
        a = t
        for part in range(3):
            dur = 50000 + rnd.randrange(10000) if part < 2 else rnd.randrange(20000)
            pk = 1 + rnd.randrange(5000)
            rec(proto, sa, da, sp, dp, a, a + dur, pk, pk * rnd.randrange(40, 1500))
            a += dur + rnd.randrange(1, 10000)
    elif kind == 1:     # a conversation: request and answer
        pk = 1 + rnd.randrange(20)
        rec(proto, sa, da, sp, dp, t, t + rnd.randrange(5000), pk, pk * 80)
        pk = 1 + rnd.randrange(200)
        rec(proto, da, sa, dp, sp, t + 3, t + 3 + rnd.randrange(8000), pk, pk * 1200)
    elif kind == 2:     # a long conversation, both directions cut by the active timeout
        for first_dir in (0, 1):
            a = t + first_dir * 7
            for part in range(2):
                dur = 50000 + rnd.randrange(10000) if part == 0 else rnd.randrange(9000)
                pk = 1 + rnd.randrange(900)
                if first_dir == 0:
                    rec(proto, sa, da, sp, dp, a, a + dur, pk, pk * 300)
                else:
                    rec(proto, da, sa, dp, sp, a, a + dur, pk, pk * 900)
                a += dur + rnd.randrange(1, 5000)
    else:               # a single record
        pk = 1 + rnd.randrange(3)
        rec(proto, sa, da, sp, dp, t, t + rnd.randrange(1000), pk, pk * 64)
rows.sort(key=lambda r: r[0])
with open(sys.argv[1], "w") as f:
    for _, line in rows:
        f.write(line + "\n")
EOF
N=$(grep -c . "$fm_tmp/flows.csv")

ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
# An integer "KEY":N of status (the rates with the same names are reals, written with a point;
# python would cost a second per call on a loaded machine).
field() { ctl --json status | grep -o "\"$1\":[0-9]*[,}]" | head -1 | tr -dc 0-9; }

# run W: one daemon with W workers, the exports replayed, every result written to $fm_tmp/rW/.
run() {
    w=$1
    port=$(free_udp_port)
    state="$fm_tmp/w$w"
    write_conf "$fm_tmp/w$w.conf" "$state" "$port" <<EOC
[daemon]
workers = $w
[cache]
memory = 16
active_timeout = 60
inactive_timeout = 15
export_delay = 1h
[fit]
interval = 0
[export]
interval = 0
[store]
commit_interval = 1h
EOC
    sock="$state/control.sock"
    start_daemon "$fm_tmp/w$w.conf" "w$w"
    if [ "$w" -gt 1 ]; then
        grep -q "cache, $w shards" "$fm_tmp/w$w.log" || fail "workers = $w: no shards in the log"
    fi
    "$FLOWMIX" send -q -f ipfix -i csv_flow --replay-time --rate 50000 "127.0.0.1:$port" \
        "$fm_tmp/flows.csv" || fail "flowmix send"
    wait_for "[ \$(field records) -ge $N ]" 20 ||
        fail "workers = $w: received $(field records) of $N records"
    ctl flush >/dev/null || fail "flush"
    out="$fm_tmp/r$w"
    mkdir -p "$out"
    for cls in all tcp udp other; do
        for m in length size duration; do
            for dir in uniflow biflow; do
                ctl --json hist --class $cls --metric $m --direction $dir \
                    > "$out/hist-$cls-$m-$dir.json" || fail "hist $cls $m $dir"
            done
        done
    done
    for k in records flows_finished inserts merges biflow_pairs merge_conflicts emitted entries; do
        echo "$k $(field $k)"
    done > "$out/status"
    stop_daemon "w$w"
    sqlite3 "$state/flowmix.db" "SELECT class, direction, metric, bin_lo, bin_hi, flows, packets,
        octets FROM hist_bins WHERE window_id = 0 ORDER BY 1, 2, 3, 4" > "$out/stored" ||
        fail "reading the store"
}

run 1
run 2
grep -q 'merges [1-9]' "$fm_tmp/r1/status" && grep -q 'biflow_pairs [1-9]' "$fm_tmp/r1/status" ||
    fail "the exports did not exercise merging and pairing: $(cat "$fm_tmp/r1/status")"
[ "$(grep -c . "$fm_tmp/r1/stored")" -gt 100 ] || fail "too few stored bins"
for f in "$fm_tmp"/r1/*; do
    b=$(basename "$f")
    cmp -s "$f" "$fm_tmp/r2/$b" ||
        fail "workers = 1 and 2 differ in $b: $(diff "$f" "$fm_tmp/r2/$b" | cut -c1-200 | head -4)"
done
echo "workers = 1 and 2: $(ls "$fm_tmp/r1" | wc -l) results identical;" \
    "$(tr '\n' ' ' < "$fm_tmp/r1/status")"
echo PASS
