#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Export pruning by creation order (issue 20 item 11): snapshots named in the future (as one
# RTC glitch leaves them) are older than the exports written now, so with keep = 2 two
# `flowmixctl export` runs keep exactly their own two snapshots, `latest` points at the
# newest, and the future-named ones are the ones pruned.  (Pruned by name, every new export
# used to be deleted at once and `latest` left dangling.)  The order is recorded in the store
# (table exports, written by the committer) and survives a restart: a future-named snapshot
# recorded between our two (a run whose clock was wrong) is pruned after the restart before
# the newer of ours, though its name sorts last.
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
[ ! -e "$exp/.order" ] || fail "the order is still kept in $exp/.order"

# The store holds both, oldest first.  Put a future-named snapshot between them, as a run with
# a wrong clock would have recorded it (renumbering: AUTOINCREMENT only ever grows).
set -- $made
python3 - "$fm_tmp/state/flowmix.db" "$exp" "$1" "$2" <<'PY' || fail "store order"
import sqlite3, sys
db, exp, a, b = sys.argv[1:]
c = sqlite3.connect(db)
rows = [r[0] for r in c.execute("SELECT name FROM exports WHERE dir = ? ORDER BY seq", (exp,))]
if rows != [a, b]:
    sys.exit("exports table: %s, expected %s" % (rows, [a, b]))
(sb,) = c.execute("SELECT seq FROM exports WHERE name = ?", (b,)).fetchone()
c.execute("UPDATE exports SET seq = ? WHERE name = ?", (sb + 10, b))
c.execute("INSERT INTO exports (seq, dir, name, created_ms) VALUES (?, ?, '20991231T235959Z', 0)",
          (sb + 5, exp))
c.commit()
PY
mkdir "$exp/20991231T235959Z"
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 300 1.5 - mixed >/dev/null
"$FLOWMIXCTL" -s "$sock" flush >/dev/null || fail "flush after restart"
out=$("$FLOWMIXCTL" -s "$sock" --json export) || fail "export after restart: $out"
wait_for "'$FLOWMIXCTL' -s '$sock' --json status | python3 -c 'import json,sys; \
sys.exit(json.load(sys.stdin)[\"result\"][\"export\"][\"exports\"] < 1)'" 30 ||
    fail "export after restart not written: $(tail -3 "$fm_tmp/d.log")"
c=$(readlink "$exp/latest")
left=$(cd "$exp" && ls -d 2*)
[ "$(echo $left)" = "$(echo $2 $c)" ] ||
    fail "after restart kept: $(echo $left); expected by recorded order: $2 $c"
echo "after a restart kept by the recorded order: $2 $c (pruned $1 and the future-named one)"
stop_daemon d
