#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Test-side NetFlow v5 sender (RFC-less Cisco format, written from the published layout).

usage: v5send.py HOST PORT RATE SECONDS [COUNTFILE [mixed]]
Sends one-packet, 100-byte TCP records, 30 per datagram, at RATE records/s for SECONDS, and keeps
the number of records sent so far in COUNTFILE (rewritten after every datagram) so a test that
kills the collector knows how many had been sent.  With "mixed", packets per record follow a
seeded lognormal law (100 bytes each) and a third are UDP, so histograms have many bins.
Independent of flowmix's own encoder.
"""
import os
import random
import socket
import struct
import sys
import time

host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
countfile = sys.argv[5] if len(sys.argv) > 5 and sys.argv[5] != "-" else None
mixed = len(sys.argv) > 6 and sys.argv[6] == "mixed"
rnd = random.Random(7)
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
boot = time.time() - 1000.0
seq = 0
sent = 0
t0 = time.time()
per = 30
while time.time() - t0 < seconds:
    now = time.time()
    uptime = int((now - boot) * 1000) & 0xFFFFFFFF
    hdr = struct.pack("!HHIIIIBBH", 5, per, uptime, int(now), int((now % 1) * 1e9), seq, 0, 0, 0)
    recs = b""
    for i in range(per):
        n = sent + i
        pk, proto = 1, 6
        if mixed:
            pk = 1 + min(int(rnd.lognormvariate(1.0, 1.5)), 100000)
            proto = 17 if n % 3 == 0 else 6
        recs += struct.pack("!IIIHHIIIIHHBBBBHHBBH",
                            0x0A000000 | (n & 0xFFFFFF), 0xC0000201, 0, 1, 2, pk, 100 * pk,
                            uptime - 5, uptime - 5, 1024 + (n % 50000), 80, 0, 0x02, proto, 0,
                            0, 0, 24, 24, 0)
    sock.sendto(hdr + recs, (host, port))
    seq += per
    sent += per
    if countfile:
        with open(countfile + ".tmp", "w") as f:
            f.write("%d\n" % sent)
        os.replace(countfile + ".tmp", countfile)
    # Pace to RATE records/s.
    ahead = sent / rate - (time.time() - t0)
    if ahead > 0:
        time.sleep(ahead)
print(sent)
