#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The control socket's idle sweep closes silent clients but never one waiting for a deferred
# reply (issue 20): with `[control] idle_timeout = 1s` and every store commit slowed to 3 s by
# the FLOWMIX_TEST_DELAY hook, a connection that sends nothing is closed within a few seconds,
# while `flowmixctl flush` (answered when its commit is done, 3 s later: three idle timeouts)
# gets its reply.  Before the sweep skipped deferred clients, flush lost its connection.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[control]
idle_timeout = 1s
[store]
commit_interval = 1h
[fit]
interval = 0
[export]
interval = 0
EOC
# The option check refuses a timeout below a second (it would close clients mid-request).
sed 's/^idle_timeout = 1s/idle_timeout = 0/' "$fm_tmp/d.conf" > "$fm_tmp/bad.conf"
expect_error 1 "idle_timeout must be at least 1s" "$FLOWMIXD" --check-config -c "$fm_tmp/bad.conf"

export FLOWMIX_TEST_DELAY=commit=3000
start_daemon "$fm_tmp/d.conf" d
sock="$fm_tmp/state/control.sock"

python3 - "$sock" "$FLOWMIXCTL" <<'EOP' || fail "idle sweep: $(tail -3 "$fm_tmp/d.log")"
import json, socket, subprocess, sys, time
path, ctl = sys.argv[1], sys.argv[2]
idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
idle.connect(path)
t0 = time.monotonic()
r = subprocess.run([ctl, "-s", path, "flush"], capture_output=True, text=True, timeout=60)
took = time.monotonic() - t0
if r.returncode != 0:
    print("FAIL: flush (a deferred reply, %.1f s) lost: %s" % (took, r.stderr.strip()),
          file=sys.stderr)
    sys.exit(1)
idle.settimeout(10)
data = idle.recv(4096)  # the sweep closed it long ago: EOF at once
if data:
    print("FAIL: the silent client was not closed (got %r)" % data[:80], file=sys.stderr)
    sys.exit(1)
st = json.loads(subprocess.run([ctl, "-s", path, "--json", "status"], capture_output=True,
                               text=True, timeout=20).stdout)["result"]["ctl"]
print("flush answered after %.1f s; idle_timeout_s %s, idle_closed %s" %
      (took, st["idle_timeout_s"], st["idle_closed"]))
if took < 2.5 or st["idle_timeout_s"] != 1 or st["idle_closed"] < 1:
    print("FAIL: flush was not slowed past the idle timeout or nothing was swept",
          file=sys.stderr)
    sys.exit(1)
EOP
stop_daemon d
