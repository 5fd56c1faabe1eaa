#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Control socket bounds (issue 20 item 10): 300 idle connections (more than the 256 clients
# allowed) cannot lock flowmixctl out - the idlest is displaced and the operator's request is
# answered - and `hist --window` refuses values >= 2^63 and answers -1 (the newest stored
# window) with "no windows stored yet" on an empty daemon, instead of answering with the
# stored total labelled as that window.
. "$(dirname "$0")/lib.sh"
need python3

port=$(free_udp_port)
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[fit]
interval = 0
[export]
interval = 0
EOC
start_daemon "$fm_tmp/d.conf" d
sock="$fm_tmp/state/control.sock"

for w in 9223372036854775808 18446744073709551615 -9223372036854775809; do
    expect_error 1 "window must be" "$FLOWMIXCTL" -s "$sock" hist --window="$w"
done
# -1 names the newest stored window (issue 19), never the store's total row (-1).
expect_error 1 "no windows stored yet" "$FLOWMIXCTL" -s "$sock" hist --window=-1

python3 - "$sock" "$FLOWMIXCTL" <<'EOP' || fail "idle clients: $(tail -3 "$fm_tmp/d.log")"
import json, socket, subprocess, sys, time
path, ctl = sys.argv[1], sys.argv[2]
idle = []
for _ in range(300):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    idle.append(s)
time.sleep(1.5)  # quiet for over a second: displaceable
for i in range(3):
    r = subprocess.run([ctl, "-s", path, "--json", "status"], capture_output=True, text=True,
                       timeout=20)
    if r.returncode != 0:
        print("FAIL: flowmixctl locked out: %s" % r.stderr.strip(), file=sys.stderr)
        sys.exit(1)
st = json.loads(r.stdout)["result"]["ctl"]
print("300 idle clients: status answered; ctl clients %s, displaced %s, refused %s" %
      (st.get("clients"), st.get("displaced"), st.get("refused")))
if st.get("clients", 999) > 256:
    print("FAIL: %s clients connected > 256" % st.get("clients"), file=sys.stderr)
    sys.exit(1)
EOP
stop_daemon d
