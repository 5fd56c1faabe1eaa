# SPDX-License-Identifier: BSD-2-Clause
"""Content of the csv, columnar and ftprofile plugins' files.

tests/plugin_feed generates pseudo-random finished flows (IPv4/IPv6, TCP/UDP/ICMP/GRE,
uniflows and biflows, interface numbers that overflow flow-models' 16-bit columns), dumps them
as text and feeds them through the real plugin host (overflow = block).  This script computes
every expected file from the dump on its own — ipaddress for the text addresses, the flow-models
tuple from FLOW-MODELS-DETAIL §1.1, the ft-profiler profile from FLOW-MODELS.md §7, the
binary columns read back with the array module — and compares.  Rotation is forced with a tick
past the interval after half the flows: two outputs, split exactly there, no .part left over.
"""
import array
import datetime
import gzip
import ipaddress
import os
import subprocess
import sys
import tempfile

BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
PLUGDIR = os.path.join(os.environ.get("FM_PLUGIN_BUILD_DIR", BUILD), "plugins", ".libs")
FEED = os.path.join(BUILD, "tests", "plugin_feed")
N = 3000
T0 = 1433962800000 + 1234          # first tick, inside the 19:00 interval
INTERVAL_S = 300
T1 = T0 - 1234 + INTERVAL_S * 1000  # second tick: the next interval starts
HALF = (N // 200) * 100            # flows fed before the second tick

FIELDS = ("first_ms last_ms rev_first_ms rev_last_ms packets octets rev_packets rev_octets "
          "src dst exporter domain inif outif sampling records sport dport af proto tcp_flags "
          "rev_tcp_flags flags fwd_first").split()
COLS = [("af", "B"), ("prot", "B"), ("inif", "H"), ("outif", "H"), ("sa0", "I"), ("sa1", "I"),
        ("sa2", "I"), ("sa3", "I"), ("da0", "I"), ("da1", "I"), ("da2", "I"), ("da3", "I"),
        ("sp", "H"), ("dp", "H"), ("first", "I"), ("first_ms", "H"), ("last", "I"),
        ("last_ms", "H"), ("packets", "Q"), ("octets", "Q"), ("aggs", "I")]


def fail(msg):
    print("FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def feed(so, tmp, name, *kv, ticks=True):
    dump = os.path.join(tmp, name + ".dump")
    args = [FEED, "-n", str(N), "-t", str(T0)] + (["-T", str(T1)] if ticks else [])
    r = subprocess.run(args + [os.path.join(PLUGDIR, so), dump] + list(kv),
                       capture_output=True, text=True)
    if r.returncode != 0:
        fail("%s: plugin_feed exit %d: %s %s" % (so, r.returncode, r.stdout, r.stderr))
    flows = []
    with open(dump) as f:
        for line in f:
            v = line.split()
            d = {k: (bytes.fromhex(x) if k in ("src", "dst") else int(x))
                 for k, x in zip(FIELDS, v)}
            flows.append(d)
    if len(flows) != N:
        fail("dump has %d flows" % len(flows))
    return flows


def addr_text(a, af):
    return str(ipaddress.IPv6Address(a) if af == 10 else ipaddress.IPv4Address(a[12:]))


def words(a, af):
    w = [int.from_bytes(a[4 * k:4 * k + 4], "big") for k in range(4)]
    return w if af == 10 else [0, 0, 0, w[3]]


def tuples(f):
    def one(sa, da, sp, dp, i, o, first, last, p, b):
        return ([f["af"], f["proto"], i, o] + words(sa, f["af"]) + words(da, f["af"]) +
                [sp, dp, first // 1000, first % 1000, last // 1000, last % 1000, p, b,
                 f["records"]])
    out = [one(f["src"], f["dst"], f["sport"], f["dport"], f["inif"], f["outif"],
               f["first_ms"], f["last_ms"], f["packets"], f["octets"])]
    if f["flags"] & 1 and f["rev_packets"]:
        out.append(one(f["dst"], f["src"], f["dport"], f["sport"], f["outif"], f["inif"],
                       f["rev_first_ms"], f["rev_last_ms"], f["rev_packets"], f["rev_octets"]))
    return out


def stamp(ms):
    t = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return t.strftime("%Y%m%dT%H%M%SZ")


def interval_names(prefix, suffix):
    s = INTERVAL_S * 1000
    return ["%s-%s%s" % (prefix, stamp(T0 - T0 % s), suffix),
            "%s-%s%s" % (prefix, stamp(T1 - T1 % s), suffix)]


def check_listing(d, want):
    got = sorted(os.listdir(d))
    if got != sorted(want):
        fail("%s holds %s, expected %s" % (d, got, sorted(want)))


def check_csv(tmp):
    d = os.path.join(tmp, "csv")
    flows = feed("csv.so", tmp, "csv", "dir=" + d, "interval=%d" % INTERVAL_S)
    names = interval_names("flows", ".csv")
    check_listing(d, names)
    hdr = ("first_ms,last_ms,af,proto,src,dst,sport,dport,packets,octets,rev_first_ms,"
           "rev_last_ms,rev_packets,rev_octets,tcp_flags,rev_tcp_flags,exporter,domain,inif,"
           "outif,sampling,records,flags")
    for name, part in zip(names, (flows[:HALF], flows[HALF:])):
        want = [hdr] + [",".join(str(x) for x in (
            f["first_ms"], f["last_ms"], f["af"], f["proto"], addr_text(f["src"], f["af"]),
            addr_text(f["dst"], f["af"]), f["sport"], f["dport"], f["packets"], f["octets"],
            f["rev_first_ms"], f["rev_last_ms"], f["rev_packets"], f["rev_octets"],
            f["tcp_flags"], f["rev_tcp_flags"], f["exporter"], f["domain"], f["inif"],
            f["outif"], f["sampling"], f["records"], f["flags"])) for f in part]
        with open(os.path.join(d, name)) as fh:
            got = fh.read().splitlines()
        if got != want:
            bad = next(i for i in range(min(len(got), len(want))) if got[i] != want[i]) \
                if got[:len(want)] != want[:len(got)] else min(len(got), len(want))
            fail("csv %s line %d: got %r want %r" % (name, bad, got[bad:bad + 1],
                                                     want[bad:bad + 1]))


def check_csv_flow(tmp):
    d = os.path.join(tmp, "csvflow")
    flows = feed("csv.so", tmp, "csvflow", "dir=" + d, "interval=0", "format=csv_flow",
                 "prefix=fm", ticks=False)
    check_listing(d, ["fm-%s.csv" % stamp(T0)])
    want = [", ".join(str(x) for x in t) for f in flows for t in tuples(f)]
    with open(os.path.join(d, "fm-%s.csv" % stamp(T0))) as fh:
        got = fh.read().splitlines()
    if got != want:
        fail("csv_flow differs (%d vs %d lines)" % (len(got), len(want)))


def check_columnar(tmp):
    d = os.path.join(tmp, "col")
    flows = feed("columnar.so", tmp, "col", "dir=" + d, "interval=5m")
    names = interval_names("flows", "")
    check_listing(d, names)
    for name, part in zip(names, (flows[:HALF], flows[HALF:])):
        want = [t for f in part for t in tuples(f)]
        sub = os.path.join(d, name)
        check_listing(sub, ["%s.%s" % c for c in COLS])
        for i, (field, code) in enumerate(COLS):
            a = array.array(code)
            with open(os.path.join(sub, "%s.%s" % (field, code)), "rb") as fh:
                a.frombytes(fh.read())
            exp = [min(t[i], 65535) if code == "H" else t[i] for t in want]
            if a.tolist() != exp:
                fail("columnar %s/%s.%s differs" % (name, field, code))
    if not any(f["inif"] > 65535 for f in flows):
        fail("test data lacks an interface index above 65535")


def profile_lines(flows):
    zero = None
    out = ["START_TIME,END_TIME,L3_PROTO,L4_PROTO,SRC_PORT,DST_PORT,PACKETS,BYTES,PACKETS_REV,"
           "BYTES_REV"]
    for f in flows:
        first, last = f["first_ms"], f["last_ms"]
        if f["rev_packets"]:
            first, last = min(first, f["rev_first_ms"]), max(last, f["rev_last_ms"])
        if zero is None:
            zero = first
        ports = f["proto"] in (6, 17)
        out.append("%d,%d,%d,%d,%d,%d,%d,%d,%d,%d" % (
            first - zero, last - zero, 6 if f["af"] == 10 else 4, f["proto"],
            f["sport"] if ports else 0, f["dport"] if ports else 0, f["packets"], f["octets"],
            f["rev_packets"], f["rev_octets"]))
    return out


def check_ftprofile(tmp):
    for name, opener in (("profile.csv", open), ("profile.csv.gz", gzip.open)):
        path = os.path.join(tmp, name)
        flows = feed("ftprofile.so", tmp, "ftp", "output=" + path)
        if os.path.exists(path + ".part"):
            fail("ftprofile left " + path + ".part")
        with opener(path, "rt") as fh:
            got = fh.read().splitlines()
        want = profile_lines(flows)
        if got != want:
            fail("%s differs (%d vs %d lines; first %r / %r)" % (name, len(got), len(want),
                                                                 got[1:2], want[1:2]))
        if not any(int(line.split(",")[0]) < 0 for line in got[1:]):
            fail("test data lacks a flow that started before the first one")


def main():
    for so in ("csv.so", "columnar.so", "ftprofile.so"):
        if not os.path.exists(os.path.join(PLUGDIR, so)):
            print("SKIP: %s not built" % so)
            sys.exit(77)
    if not os.path.exists(FEED):
        print("SKIP: tests/plugin_feed not built")
        sys.exit(77)
    with tempfile.TemporaryDirectory(prefix="fm-plugin-files.") as tmp:
        check_csv(tmp)
        check_csv_flow(tmp)
        check_columnar(tmp)
        check_ftprofile(tmp)
    print("ok: csv, csv_flow, columnar and ftprofile files equal the expectation")


main()
