#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Poll `flowmixctl status` once a second while a load runs (tests/integration/040-overload.sh).

usage: ctlpoll.py FLOWMIXCTL SOCKET PID STOPFILE OUTFILE
Every second runs `FLOWMIXCTL -s SOCKET --json status` with a 10 s timeout, timing the whole
round trip (client start included, as an operator sees it), and reads VmHWM of PID.  Stops when
STOPFILE exists.  Writes to OUTFILE one line per poll: "latency_ms ok datagrams kernel_drops
vmhwm_kb", and exits 0 (the shell test judges the numbers).
"""
import json
import os
import subprocess
import sys
import time

ctl, sock, pid, stopfile, outfile = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], \
    sys.argv[5]


def vmhwm_kb():
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


with open(outfile, "w") as out:
    nxt = time.monotonic()
    while not os.path.exists(stopfile):
        t0 = time.monotonic()
        ok, dgrams, drops = 0, -1, -1
        try:
            p = subprocess.run([ctl, "-s", sock, "--json", "status"], capture_output=True,
                               text=True, timeout=10)
            if p.returncode == 0:
                r = json.loads(p.stdout)["result"]
                ok, dgrams, drops = 1, r["datagrams"], r["kernel_drops"]
        except (subprocess.TimeoutExpired, ValueError, KeyError):
            pass
        ms = (time.monotonic() - t0) * 1000.0
        out.write("%.1f %d %d %d %d\n" % (ms, ok, dgrams, drops, vmhwm_kb()))
        out.flush()
        nxt += 1.0
        time.sleep(max(0.0, nxt - time.monotonic()))
