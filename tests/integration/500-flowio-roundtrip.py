# SPDX-License-Identifier: BSD-2-Clause
"""Round trips of 1 M generated flows through every writable flow-models format.

Python writes a binary flow directory with the canonical DETAIL §1.1 type codes (`array`, random
bytes; every 8th row IPv6 with four address words, the rest IPv4 in sa3/da3 with sa0..2 = 0), then:

  binary -> csv_flow -> binary      every column byte-identical to the generated one;
  binary -> pipe -> (stdin) csv_flow -> binary   identical except aggs = 0 (pipe has no aggs);
and the csv_flow and pipe texts are checked independently on a sample of lines, parsed here,
against the generated columns (field order, ", " separator, epoch-ms split of pipe times).
"""
import array
import itertools
import os
import random
import subprocess
import sys
import tempfile

BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
FLOWMIX = os.path.join(BUILD, "flowmix")
N = int(os.environ.get("FM_ROUNDTRIP_N", "1000000"))
FIELDS = ("af prot inif outif sa0 sa1 sa2 sa3 da0 da1 da2 da3 sp dp first first_ms last last_ms "
          "packets octets aggs").split()
CODES = "BBHHIIIIIIIIHHIHIHQQI"
SAMPLE = 20000


def rand_col(rnd, code, n):
    col = array.array(code)
    col.frombytes(rnd.randbytes(n * col.itemsize))
    return col


def generate(rnd):
    cols = {}
    n6 = len(range(0, N, 8))
    cols["af"] = array.array("B", [2]) * N
    cols["af"][0::8] = array.array("B", [10]) * n6
    cols["prot"] = array.array("B", [(6, 17, 1, 47, 0, 255)[x % 6] for x in rand_col(rnd, "B", N)])
    for name in ("inif", "outif", "sp", "dp"):
        cols[name] = rand_col(rnd, "H", N)
    for p in ("sa", "da"):
        for w in range(3):
            cols["%s%d" % (p, w)] = array.array("I", [0]) * N
            cols["%s%d" % (p, w)][0::8] = rand_col(rnd, "I", n6)
        cols[p + "3"] = rand_col(rnd, "I", N)
    cols["first"] = array.array("I", [1400000000 + x % 400000000 for x in rand_col(rnd, "I", N)])
    cols["last"] = array.array("I", [f + d % 4000 for f, d in zip(cols["first"],
                                                                  rand_col(rnd, "H", N))])
    cols["first_ms"] = array.array("H", [x % 1000 for x in rand_col(rnd, "H", N)])
    cols["last_ms"] = array.array("H", [x % 1000 for x in rand_col(rnd, "H", N)])
    cols["packets"] = rand_col(rnd, "Q", N)
    cols["octets"] = rand_col(rnd, "Q", N)
    cols["aggs"] = rand_col(rnd, "I", N)
    return cols


def write_bin(d, cols):
    os.mkdir(d)
    for k, name in enumerate(FIELDS):
        with open(os.path.join(d, "%s.%s" % (name, CODES[k])), "wb") as f:
            cols[name].tofile(f)


def check_bin(d, cols, what, zero=()):
    for k, name in enumerate(FIELDS):
        with open(os.path.join(d, "%s.%s" % (name, CODES[k])), "rb") as f:
            got = f.read()
        exp = bytes(len(got)) if name in zero else cols[name].tobytes()
        if got != exp:
            sys.exit("FAIL: %s: column %s differs" % (what, name))


def row(cols, i):
    return [cols[name][i] for name in FIELDS]


def check_text(path, cols, fmt):
    with open(path) as f:
        for i, line in enumerate(itertools.islice(f, SAMPLE)):
            t = row(cols, i)
            if fmt == "csv":
                exp = ", ".join(map(str, t))
            else:
                exp = "|".join(map(str, [t[0], t[14] * 1000 + t[15], t[16] * 1000 + t[17], t[1],
                                         *t[4:8], t[12], *t[8:12], t[13], 0, 0, t[2], t[3], 0, 0,
                                         t[18], t[19]]))
            if line.rstrip("\n") != exp:
                sys.exit("FAIL: %s line %d:\n got %s\n exp %s" % (path, i + 1, line, exp))


def run(*args, **kw):
    subprocess.run([FLOWMIX, *args], check=True, **kw)


def main():
    if not os.access(FLOWMIX, os.X_OK):
        sys.exit(77)
    seed = int(os.environ.get("FM_SEED", random.randrange(1 << 30)))
    print("seed", seed)
    cols = generate(random.Random(seed))
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        write_bin(src, cols)
        csv = os.path.join(tmp, "a.csv")
        run("convert", "-i", "binary", "-O", csv, src)
        check_text(csv, cols, "csv")
        run("convert", "-i", "csv_flow", "-o", "binary", "-O", os.path.join(tmp, "b1"), csv)
        check_bin(os.path.join(tmp, "b1"), cols, "binary -> csv_flow -> binary")
        pipe = os.path.join(tmp, "a.pipe")
        run("convert", "-i", "binary", "-o", "pipe", "-O", pipe, src)
        check_text(pipe, cols, "pipe")
        with open(pipe, "rb") as f:
            run("convert", "-i", "pipe", "-o", "binary", "-O", os.path.join(tmp, "b2"), "-",
                stdin=f)
        check_bin(os.path.join(tmp, "b2"), cols, "binary -> pipe -> binary", zero=("aggs",))
    print("ok: %d flows" % N)


main()
