#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix send as flowmix(1) documents it (issue 18): `-f v5|v9|ipfix`, `-r RATE`, `FILE
# HOST:PORT` (destination last) as well as `HOST:PORT FILE`, and a mixture directory:
# `send HOST:PORT MODEL_DIR --count N` sends N flows whose packets and octets are exactly what
# `flowmix generate -s N --seed S MODEL_DIR` draws.  A real flowmixd counts the records.
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] && [ -x "$FLOWMIXD" ] || skip "not built"
m=$TDATA/agh_2015/mixtures/all/length
[ -d "$m" ] || skip "no agh_2015 mixture"

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
[fit]
interval = 0
[export]
interval = 0
EOC
sock="$fm_tmp/state/control.sock"
records() { # the machine interface: the human table's layout is not a contract
    "$FLOWMIXCTL" -s "$sock" --json status |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["result"]["records"])'
}
start_daemon "$fm_tmp/d.conf" d

"$FLOWMIX" send -q --synthetic 300 --seed 3 --dump "$fm_tmp/in.csv" \
    "127.0.0.1:$(free_udp_port)" || fail "making input"
total=0
expect_records() { # how many more the daemon must have
    total=$((total + $1))
    wait_for "[ \$(records) -ge $total ]" 20 || fail "$2: daemon has $(records) of $total"
}
# the man page's syntax: format, rate, FILE then HOST:PORT
"$FLOWMIX" send -q -f ipfix -r 100000 -i csv_flow "$fm_tmp/in.csv" "127.0.0.1:$port" ||
    fail "send -f ipfix -r R FILE HOST:PORT"
expect_records 300 "-f ipfix"
"$FLOWMIX" send -q -f v9 --rate 100000 "127.0.0.1:$port" -i csv_flow "$fm_tmp/in.csv" ||
    fail "send -f v9 HOST:PORT FILE"
expect_records 300 "-f v9"
"$FLOWMIX" send -q -f v5 -r 100000 -i csv_flow "$fm_tmp/in.csv" "127.0.0.1:$port" ||
    fail "send -f v5"
expect_records 300 "-f v5"

# a model directory: N flows with generate's lengths and sizes
"$FLOWMIX" send -q "127.0.0.1:$port" "$m" --count 400 --seed 7 -r 100000 \
    --dump "$fm_tmp/model.csv" || fail "send HOST:PORT MODEL_DIR --count N"
expect_records 400 "model"
"$FLOWMIX" generate -s 400 --seed 7 "$m" | cut -d, -f19,20 > "$fm_tmp/want"
cut -d, -f19,20 "$fm_tmp/model.csv" | cmp -s - "$fm_tmp/want" ||
    fail "the model's flows are not generate's"
"$FLOWMIX" send -q "$m" "127.0.0.1:$port" --count 10 -f ipfix || fail "MODEL_DIR HOST:PORT"
expect_records 10 "model, destination last"

for bad in "-f v7 $fm_tmp/in.csv 127.0.0.1:$port" "$m 127.0.0.1:$port" "$fm_tmp/in.csv" \
    "-r fast $fm_tmp/in.csv 127.0.0.1:$port" "--bogus 127.0.0.1:$port $fm_tmp/in.csv"; do
    st=0
    # shellcheck disable=SC2086
    "$FLOWMIX" send -q $bad > /dev/null 2> "$fm_tmp/err" || st=$?
    [ "$st" = 2 ] || fail "send $bad: exit $st, want 2"
    [ "$(wc -l < "$fm_tmp/err")" = 1 ] || fail "send $bad: not one line: $(cat "$fm_tmp/err")"
done
stop_daemon d
echo ok
