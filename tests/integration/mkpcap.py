# SPDX-License-Identifier: BSD-2-Clause
"""Write a pcap of synthetic bidirectional flows for exporter tests (no scapy needed).

usage: mkpcap.py [--uni TRUTH] OUT.pcap [NFLOWS] [SEED] [T0]

Flows are TCP, UDP and ICMP over IPv4 and IPv6 with 1..60 packets per direction and lifetimes
up to 200 s, so an exporter run with a short active timeout (softflowd -t maxlife=60) splits
the long ones and a collector has something to merge back.  With --uni, flows are one-way,
last under 30 s and have heavy-tailed lengths (1 to 6000 packets), and TRUTH gets one line per
flow in nfdump's pipe layout (af|first|last|proto|sa x4|sp|da x4|dp|0 x6|packets|octets, octets
counted as IP bytes) — the distribution an exporter must reproduce.  Packets of all flows are written in
timestamp order, from T0 (epoch seconds; default: 10 minutes ago — NetFlow v9 carries times
relative to a 32-bit millisecond sysUpTime, and a pcap far in the past makes softflowd's
sysUpTime wrap, which collectors resolve differently).  Checksums are left zero: softflowd does not verify them.
"""
import random
import struct
import sys
import time


def eth(v6):
    return b"\x02\x00\x00\x00\x00\x02" + b"\x02\x00\x00\x00\x00\x01" + \
        struct.pack("!H", 0x86DD if v6 else 0x0800)


def l4(proto, sp, dp, payload, fin):
    if proto == 6:
        flags = 0x11 if fin else 0x10  # ACK, FIN+ACK on the last packet
        return struct.pack("!HHIIBBHHH", sp, dp, 1, 1, 5 << 4, flags, 65535, 0, 0) + payload
    if proto == 17:
        return struct.pack("!HHHH", sp, dp, 8 + len(payload), 0) + payload
    return struct.pack("!BBHHH", 8, 0, 0, sp, 1) + payload  # ICMP echo, id = sport


def ip(v6, proto, src, dst, body):
    if v6:
        return struct.pack("!IHBB", 6 << 28, len(body), proto, 64) + src + dst + body
    return struct.pack("!BBHHHBBH", 0x45, 0, 20 + len(body), 0, 0, 64, proto, 0) + src + dst + body


def flows(n, rng, t0, truth=None):
    out = []
    for i in range(n):
        v6 = rng.random() < 0.25
        proto = rng.choice((6, 6, 6, 17, 17, 1))
        if v6:
            a = bytes.fromhex("20010db8000000000000000000%06x" % (i + 1))
            b = bytes.fromhex("20010db8ffff00000000000000%06x" % (i + 7))
        else:
            a = bytes((10, 1, (i >> 8) & 255, i & 255))
            b = bytes((192, 168, (i >> 8) & 255, (i * 7) & 255))
        sp, dp = 1024 + i, rng.choice((53, 80, 443, 8080))
        start = t0 + rng.uniform(0, 100)
        life = rng.choice((rng.uniform(0, 5), rng.uniform(5, 50), rng.uniform(60, 200)))
        if truth is not None:
            life = rng.uniform(0, 30)
        for d, (src, dst, s, t) in enumerate(((a, b, sp, dp), (b, a, dp, sp))):
            if truth is not None:
                k = 0 if d else min(int(rng.paretovariate(0.7)), 6000)
            else:
                k = rng.randint(1, 60) if d == 0 or rng.random() < 0.8 else 0
            times = sorted(start + d * 0.001 + rng.uniform(0, life) for _ in range(k))
            octets = 0
            for j, ts in enumerate(times):
                size = rng.choice((0, 40, 200, 1400))
                body = l4(proto, s, t, bytes(size), j == k - 1)
                pkt = ip(v6, proto if not (v6 and proto == 1) else 58, src, dst, body)
                octets += len(pkt)
                out.append((ts, eth(v6) + pkt))
            if truth is not None and k:
                truth.append("%d|%d|%d|%d|0|0|0|0|%d|0|0|0|0|%d|0|0|0|0|0|0|%d|%d" % (
                    10 if v6 else 2, int(times[0] * 1000), int(times[-1] * 1000),
                    58 if v6 and proto == 1 else proto, s, t, k, octets))
    return sorted(out, key=lambda p: p[0])


def main():
    args = sys.argv[1:]
    truth_path = None
    if args and args[0] == "--uni":
        truth_path, args = args[1], args[2:]
    path = args[0]
    n = int(args[1]) if len(args) > 1 else 400
    rng = random.Random(int(args[2]) if len(args) > 2 else 1)
    t0 = float(args[3]) if len(args) > 3 else float(int(time.time()) - 600)
    truth = [] if truth_path else None
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for ts, pkt in flows(n, rng, t0, truth):
            sec = int(ts)
            f.write(struct.pack("<IIII", sec, int((ts - sec) * 1e6), len(pkt), len(pkt)))
            f.write(pkt)
    if truth_path:
        with open(truth_path, "w") as f:
            f.write("\n".join(truth) + "\n")


if __name__ == "__main__":
    main()
