#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Full disk (issue 20 item 9): the store on a 1.5 MiB tmpfs this test mounts, commits every
# 200 ms of histograms with many bins (bin_exp 0, 2 s windows).  The data fits; data plus an
# unbounded WAL did not: commits failed for good once the WAL had filled the filesystem (its
# frames could never be checkpointed into a database that had no room left to grow).  With the
# WAL checkpointed every 256 KiB, commits keep succeeding.  Skips where tmpfs cannot be mounted.
. "$(dirname "$0")/lib.sh"
need python3

mnt="$fm_tmp/small"
mkdir -p "$mnt"
mount -t tmpfs -o size=1500k tmpfs "$mnt" 2>/dev/null || skip "cannot mount a tmpfs (not root?)"
trap 'for p in $fm_pids; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
      umount "$mnt" 2>/dev/null || true; fm_pids=""; fm_cleanup' EXIT
port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[store]
path = $mnt/flowmix.db
commit_interval = 200ms
[cache]
biflow = no
inactive_timeout = 1
active_timeout = 2
export_delay = 0
[fit]
interval = 0
[export]
interval = 0
[hist]
bin_exp = 0
window = 2s
EOC
start_daemon "$fm_tmp/d.conf" d
sock="$fm_tmp/state/control.sock"
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 20000 8 - mixed >/dev/null
sleep 3 # the last windows close and are committed
st() { "$FLOWMIXCTL" -s "$sock" --json status | python3 -c 'import json,sys
s = json.load(sys.stdin)["result"]["store"]
print(int(s["ok"]), s["commits"], s["commit_failures"], s["error"][:60])'; }
set -- $(st)
c1=$2
sleep 1
set -- $(st)
echo "store on a 1.5 MiB tmpfs: ok $1, commits $2, failures $3; $(ls -l "$mnt" | awk 'NR > 1 { printf "%s %s  ", $9, $5 }')"
[ "$1" = 1 ] || fail "the store does not recover: $*"
[ "$2" -gt "$c1" ] || fail "commits stopped at $c1"
"$FLOWMIXCTL" -s "$sock" stop >/dev/null 2>&1 || kill -TERM "$fm_daemon_pid"
wait "$fm_daemon_pid" || true
