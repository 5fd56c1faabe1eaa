# SPDX-License-Identifier: BSD-2-Clause
"""flowmix meter on bad captures (issue 15, must-show 4): a clear error or counted and skipped,
never a crash.

  garbage / empty / header-only files  -> exit 1 with a message naming the file, no flows;
  a capture cut inside a record        -> exit 0, flows of the whole records, the unreadable
                                          record reported;
  a good file then a garbage file      -> the first file's flows written, exit 1, message;
  pcapng with three interfaces (if_tsresol 10^-6, 10^-9, 2^-10) carrying the same packet at the
  same instant -> one flow, every packet at the same ms (each interface scaled by its own
  resolution), and frames that are too short or not IP counted as ignored;
  random frames in a valid pcap (seeded)  -> exit 0.
A signal death (exit status < 0) is always a failure.
"""
import csv
import io
import os
import random
import struct
import subprocess
import sys
import tempfile

BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
FLOWMIX = os.path.join(BUILD, "flowmix")
failures = []


def meter(*args):
    p = subprocess.run([FLOWMIX, "meter", "-v", "--dissections", "0", *args],
                       capture_output=True, timeout=60)
    if p.returncode < 0:
        failures.append("%s: killed by signal %d" % (args, -p.returncode))
    return p.returncode, list(csv.DictReader(io.StringIO(p.stdout.decode()))), p.stderr.decode()


def check(case, cond, msg):
    if not cond:
        failures.append("%s: %s" % (case, msg))


def udp_frame(sport=1234, dport=53, payload=b"x" * 20):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0, 64, 17, 0,
                     bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])) + udp
    return b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip


def pcap(frames, t0=1700000000):
    out = struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1)
    for i, fr in enumerate(frames):
        out += struct.pack("<IIII", t0 + i, 0, len(fr), len(fr)) + fr
    return out


def block(btype, body):
    body += b"\x00" * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack("<II", btype, n) + body + struct.pack("<I", n)


def pcapng_multi_res(frame):
    shb = block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
    out = shb
    resolutions = [6, 9, 0x80 | 10]  # 10^-6, 10^-9, 2^-10
    for res in resolutions:
        opt = struct.pack("<HHB", 9, 1, res) + b"\x00" * 3 + struct.pack("<HH", 0, 0)
        out += block(1, struct.pack("<HHI", 1, 0, 65535) + opt)
    t = 1700000000  # seconds; 0.25 s exactly representable in every resolution
    for idx, res in enumerate(resolutions):
        units = 10 ** (res) if res < 0x80 else 2 ** (res & 0x7F)
        ts = t * units + units // 4
        for _ in range(2):
            out += block(6, struct.pack("<IIIII", idx, ts >> 32, ts & 0xFFFFFFFF, len(frame),
                                        len(frame)) + frame)
    # a frame too short to meter and a non-IP frame, on interface 1
    for fr in (b"\x00" * 20, b"\xff" * 14 + b"\x00" * 40):
        ts = t * 10 ** 9
        out += block(6, struct.pack("<IIIII", 1, ts >> 32, ts & 0xFFFFFFFF, len(fr), len(fr)) + fr)
    return out


def main():
    with tempfile.TemporaryDirectory() as d:
        def put(name, data):
            p = os.path.join(d, name)
            with open(p, "wb") as f:
                f.write(data)
            return p

        rnd = random.Random(15)
        for name, data in (("garbage.pcap", bytes(rnd.randrange(256) for _ in range(4096))),
                           ("empty.pcap", b""),
                           ("header-only.pcap", pcap([])[:10])):
            rc, rows, err = meter(put(name, data))
            check(name, rc == 1 and not rows and name in err, "rc %d, %d rows, stderr %r"
                  % (rc, len(rows), err))

        good = pcap([udp_frame(sport=1000 + i % 3) for i in range(9)])
        rc, rows, err = meter(put("cut.pcap", good[:-25]))
        check("cut", rc == 0 and sum(int(r["bidirectional_packets"]) for r in rows) == 8 and
              "could not be read" in err, "rc %d, rows %s, stderr %r" % (rc, rows, err))

        rc, rows, err = meter(put("good.pcap", good), os.path.join(d, "garbage.pcap"))
        check("good+garbage", rc == 1 and len(rows) == 3 and "garbage.pcap" in err,
              "rc %d, %d rows, stderr %r" % (rc, len(rows), err))

        rc, rows, err = meter(put("multi.pcapng", pcapng_multi_res(udp_frame())))
        ok = (rc == 0 and len(rows) == 1 and rows[0]["bidirectional_packets"] == "6" and
              rows[0]["bidirectional_first_seen_ms"] == "1700000000250" and
              rows[0]["bidirectional_duration_ms"] == "0" and "ignored 2" in err)
        check("pcapng tsresol", ok, "rc %d, rows %s, stderr %r" % (rc, rows, err))

        frames = []
        for i in range(3000):
            fr = bytearray(udp_frame())
            for _ in range(rnd.randrange(1, 6)):
                fr[rnd.randrange(len(fr))] = rnd.randrange(256)
            frames.append(bytes(fr[:rnd.randrange(1, len(fr) + 1)]))
        for opts in ([], ["--statistics", "--splt", "4", "--accounting-mode", "3"]):
            rc, rows, err = meter(*opts, put("random.pcap", pcap(frames)))
            check("random frames %s" % opts, rc == 0, "rc %d, stderr %r" % (rc, err))
    for f in failures:
        print("FAIL", f)
    print("bad input: %s" % ("handled" if not failures else "%d failure(s)" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
