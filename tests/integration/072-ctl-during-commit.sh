#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# No control request blocks the loop (issue 17): with every store commit slowed to 1 s by the
# FLOWMIX_TEST_DELAY hook and records arriving, `windows`, `hist --window START` and `ping` run
# in a loop for 5 s (tests/integration/ctlload.py).  Every ping answers within 50 ms beyond twice
# the machine's own worst round trip (an in-run anchor: a trivial socket server pinged in
# alternation, so a loaded machine does not fail the test), the reads succeed,
# commits were in flight meanwhile, and the received-records counter grows in every 0.5 s
# status poll.  Before issue 17 a ping waited 1.0-1.4 s behind a `windows` that waited for the
# commit, and UDP receive stalled as long.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[cache]
biflow = no
memory = 32
[store]
commit_interval = 1s
[fit]
interval = 0
[export]
interval = 0
EOC
sock="$fm_tmp/state/control.sock"
ctl() { "$FLOWMIXCTL" -s "$sock" "$@"; }
export FLOWMIX_TEST_DELAY=commit=1000
start_daemon "$fm_tmp/d.conf" d
python3 "$top_srcdir/tests/integration/v5send.py" 127.0.0.1 "$port" 3000 12 - >/dev/null &
sender=$!
fm_pids="$fm_pids $sender"
# A stored window first (the first commits take a second each).
wait_for "ctl --json windows | grep -q start_ms" 20 || fail "no stored window: $(ctl windows)"
python3 "$top_srcdir/tests/integration/ctlload.py" "$sock" 5 "$fm_tmp/load.txt" ||
    fail "ctlload.py failed"
kill "$sender" 2>/dev/null || true
python3 - "$fm_tmp/load.txt" <<'PY' || fail "control requests were blocked (see above)"
import sys
anchor, pings, reads, status = [], [], [], []
for line in open(sys.argv[1]):
    f = line.split()
    if f[0] == "anchor":
        anchor.append(float(f[1]))
    elif f[0] == "ping":
        pings.append((float(f[1]), int(f[2])))
    elif f[0] == "read":
        reads.append((f[1], float(f[2]), int(f[3])))
    elif f[0] == "status":
        status.append((float(f[1]), int(f[2]), int(f[3]), int(f[4])))
limit = 50.0 + 2 * max(anchor)  # the machine's own worst delay, twice (once per side)
worst = max(ms for ms, _ in pings)
print("anchor max %.1f ms; %d pings, worst %.1f ms (limit %.1f); %d reads, worst %.1f ms"
      % (max(anchor), len(pings), worst, limit, len(reads), max(r[1] for r in reads)))
print("status polls (t, records, committing, commits):", status)
ok = True
if len(pings) < 20 or not all(good for _, good in pings):
    print("too few or failed pings"); ok = False
if worst > limit:
    print("a ping took %.1f ms" % worst); ok = False
if not any(r[0] == "hist" for r in reads) or not all(r[2] for r in reads):
    print("reads failed or no hist read"); ok = False
if not any(s[2] for s in status) or status[-1][3] - status[0][3] < 2:
    print("commits were not running during the test"); ok = False
for a, b in zip(status, status[1:]):
    if b[1] <= a[1]:
        print("records did not grow between %.1f s and %.1f s" % (a[0], b[0])); ok = False
sys.exit(0 if ok else 1)
PY
stop_daemon d
