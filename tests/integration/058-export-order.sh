#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Export pruning by creation order (issue 20 item 11): snapshots named in the future (as one
# RTC glitch leaves them) are older than the exports written now, so with keep = 2 two
# `flowmixctl export` runs keep exactly their own two snapshots, `latest` points at the
# newest, and the future-named ones are the ones pruned.  (Pruned by name, every new export
# used to be deleted at once and `latest` left dangling.)
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[fit]
interval = 0
[export]
interval = 0
keep = 2
plots = no
EOC
exp="$fm_tmp/state/export"
for n in 20991231T235957Z 20991231T235958Z 20991231T235959Z; do mkdir -p "$exp/$n"; done
ln -s 20991231T235959Z "$exp/latest"
start_daemon "$fm_tmp/d.conf" d
sock="$fm_tmp/state/control.sock"
# some flows: a snapshot of no data is refused (062-export-meta)
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 300 1.5 - mixed >/dev/null
"$FLOWMIXCTL" -s "$sock" flush >/dev/null || fail "flush"
made=""
for i in 1 2; do
    out=$("$FLOWMIXCTL" -s "$sock" --json export) || fail "export $i: $out"
    # the snapshot is written on the thread pool: wait until status counts it
    wait_for "'$FLOWMIXCTL' -s '$sock' --json status | python3 -c 'import json,sys; \
sys.exit(json.load(sys.stdin)[\"result\"][\"export\"][\"exports\"] < $i)'" 30 ||
        fail "export $i not written: $(tail -3 "$fm_tmp/d.log")"
    snap=$(readlink "$exp/latest")
    [ -d "$exp/$snap" ] || fail "export $i: latest -> $snap does not exist (left: $(ls "$exp"))"
    case "$snap" in 2099*) fail "export $i: latest still points at $snap";; esac
    made="$made $snap"
    sleep 1.1 # a new name (one per second)
done
left=$(cd "$exp" && ls -d 2*)
[ "$(echo $left)" = "$(echo $made)" ] || fail "kept: $(echo $left); expected our exports:$made"
echo "kept by creation order:$made; future-named snapshots pruned"
stop_daemon d
