#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Time `ping` on flowmixd's control socket (tests/integration/222-kafka-apply-ping.sh).

usage: pingtime.py SOCKET STOPFILE OUTFILE [INTERVAL_MS]
Connects to the control socket once and sends {"cmd": "ping"} every INTERVAL_MS (default 20),
timing each round trip from the request's send to the reply's newline (no process start in the
measurement, so what is timed is the daemon's loop).  Stops when STOPFILE exists; writes one
round trip in ms per line to OUTFILE.
"""
import json
import os
import socket
import sys
import time

sock_path, stopfile, outfile = sys.argv[1], sys.argv[2], sys.argv[3]
interval = (int(sys.argv[4]) if len(sys.argv) > 4 else 20) / 1000.0

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
f = s.makefile("rb")
with open(outfile, "w") as out:
    while not os.path.exists(stopfile):
        t0 = time.monotonic()
        s.sendall(b'{"cmd": "ping"}\n')
        reply = json.loads(f.readline())
        dt = (time.monotonic() - t0) * 1000.0
        if not reply.get("ok"):
            sys.exit("ping failed: %r" % reply)
        out.write("%.3f\n" % dt)
        out.flush()
        time.sleep(max(0.0, interval - (time.monotonic() - t0)))
