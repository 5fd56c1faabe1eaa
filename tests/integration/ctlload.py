#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Control requests while the store is busy (tests/integration/072-ctl-during-commit.sh).

usage: ctlload.py SOCKET SECONDS OUTFILE
For SECONDS, three threads talk to flowmixd's control socket at once, each request on a fresh
connection: one sends `windows` then `hist --window START` (the first stored window) in a loop,
one sends `ping` every 20 ms and times the round trip (connect included), one reads `status`
every 0.5 s (records received, whether a commit is in flight).  The pinger alternates with an
anchor: the same round trip against a trivial Unix-socket server in this process, to tell the
machine's (and this client's) own delays from the daemon's.  Writes to OUTFILE one line per measurement:
  anchor MS | ping MS | status T RECORDS COMMITTING COMMITS | read CMD MS OK
"""
import json
import os
import socket
import sys
import threading
import time

sock_path, seconds, outfile = sys.argv[1], float(sys.argv[2]), sys.argv[3]
lines, lock = [], threading.Lock()


def out(s):
    with lock:
        lines.append(s)


def request(path, obj, timeout=30.0):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.connect(path)
    s.sendall((json.dumps(obj) + "\n").encode())
    buf = b""
    while not buf.endswith(b"\n"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf)


def anchor_server():
    """A trivial server answering like `ping`, in this process: its round trips show what the
    machine and this client (its threads share one interpreter lock) add by themselves."""
    path = os.path.join(os.path.dirname(sock_path), "anchor.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(path)
    srv.listen(8)

    def serve():
        while True:
            c, _ = srv.accept()
            data = b""
            while not data.endswith(b"\n"):
                chunk = c.recv(4096)
                if not chunk:
                    break
                data += chunk
            if data == b"stop\n":
                c.close()
                srv.close()
                os.unlink(path)
                return
            c.sendall(b'{"ok": true, "result": {}}\n')
            c.close()
    t = threading.Thread(target=serve)
    t.start()
    return path, t


stop = threading.Event()


def pinger(anchor_path):
    """Alternate pings to the daemon and to the anchor, so both see the same conditions."""
    while not stop.is_set():
        t0 = time.monotonic()
        r = request(sock_path, {"cmd": "ping"})
        ms = (time.monotonic() - t0) * 1000
        out("ping %.2f %d" % (ms, 1 if r.get("ok") else 0))
        t0 = time.monotonic()
        request(anchor_path, {"cmd": "ping"})
        out("anchor %.2f" % ((time.monotonic() - t0) * 1000))
        time.sleep(0.02)


def reader():
    while not stop.is_set():
        t0 = time.monotonic()
        r = request(sock_path, {"cmd": "windows"})
        out("read windows %.2f %d" % ((time.monotonic() - t0) * 1000, 1 if r.get("ok") else 0))
        wins = r.get("result", {}).get("windows", []) if r.get("ok") else []
        if wins:
            t0 = time.monotonic()
            r = request(sock_path, {"cmd": "hist", "window": str(wins[0]["start_ms"])})
            ok = 1 if r.get("ok") and r["result"]["flows"] > 0 else 0
            out("read hist %.2f %d" % ((time.monotonic() - t0) * 1000, ok))
        time.sleep(0.01)


def poller():
    t_start = time.monotonic()
    while not stop.is_set():
        r = request(sock_path, {"cmd": "status"})["result"]
        out("status %.2f %d %d %d" % (time.monotonic() - t_start, r["records"],
                                      1 if r["store"]["committing"] else 0,
                                      r["store"]["commits"]))
        time.sleep(0.5)


apath, athread = anchor_server()
threads = [threading.Thread(target=pinger, args=(apath,)), threading.Thread(target=reader),
           threading.Thread(target=poller)]
for t in threads:
    t.start()
time.sleep(seconds)
stop.set()
for t in threads:
    t.join()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(apath)
s.sendall(b"stop\n")
s.close()
athread.join()
with open(outfile, "w") as f:
    f.write("\n".join(lines) + "\n")
