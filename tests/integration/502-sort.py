# SPDX-License-Identifier: BSD-2-Clause
"""`flowmix sort` against Python's stable sorted() (what numpy lexsort gives flow-models, DETAIL
§3): several keys, signed/float/legacy-named columns, --reverse (the whole permutation reversed),
the -I index, in-place sorting, and the external merge sort (-m 1 forces sorted runs on disk),
which must give byte-identical output to the in-memory sort."""
import array
import os
import random
import subprocess
import sys
import tempfile

BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
FLOWMIX = os.path.join(BUILD, "flowmix")
N = 100000
# name, code: a legacy underscored key column, signed and float columns, a non-flow column.
COLS = [("_prot", "B"), ("first", "I"), ("first_ms", "H"), ("sp", "h"), ("octets", "d"),
        ("packets", "Q"), ("extra", "q")]


def read_cols(d):
    out = {}
    for name, code in COLS:
        a = array.array(code)
        with open(os.path.join(d, "%s.%s" % (name, code)), "rb") as f:
            a.frombytes(f.read())
        out[name] = list(a)
    return out


def flowmix(*args):
    subprocess.run([FLOWMIX, "sort", *args], check=True)


def expect(cols, keys, reverse):
    perm = sorted(range(N), key=lambda i: tuple(cols[k][i] for k in keys))
    return perm[::-1] if reverse else perm


def check(d, cols, perm, what):
    got = read_cols(d)
    for name, _ in COLS:
        if got[name] != [cols[name][i] for i in perm]:
            sys.exit("FAIL: %s: column %s not in the expected order" % (what, name))


def main():
    if not os.access(FLOWMIX, os.X_OK):
        sys.exit(77)
    seed = int(os.environ.get("FM_SEED", random.randrange(1 << 30)))
    print("seed", seed)
    rnd = random.Random(seed)
    cols = {
        "_prot": [rnd.choice([1, 6, 17]) for _ in range(N)],
        "first": [rnd.randrange(1000, 1100) for _ in range(N)],
        "first_ms": [rnd.randrange(1000) for _ in range(N)],
        "sp": [rnd.randrange(-300, 300) for _ in range(N)],
        "octets": [rnd.choice([-1.5, 0.0, 2.25, 1e300, -1e300, 3.0]) for _ in range(N)],
        "packets": [rnd.getrandbits(64) for _ in range(N)],
        "extra": list(range(N)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "src")
        os.mkdir(src)
        for name, code in COLS:
            with open(os.path.join(src, "%s.%s" % (name, code)), "wb") as f:
                array.array(code, cols[name]).tofile(f)
        cases = [(["first", "first_ms"], False), (["prot"], True), (["sp", "octets"], False),
                 (["octets"], True), (["packets"], False)]
        for n, (keys, rev) in enumerate(cases):
            perm = expect(cols, [("_prot" if k == "prot" else k) for k in keys], rev)
            opts = ["-k", *keys] + (["--reverse"] if rev else [])
            mem, ext = os.path.join(tmp, "m%d" % n), os.path.join(tmp, "e%d" % n)
            idx = os.path.join(tmp, "idx%d" % n)
            flowmix(*opts, "-O", mem, "-I", idx, src)
            check(mem, cols, perm, "in-memory %s" % keys)
            flowmix("-m", "1", *opts, "-O", ext, src)
            check(ext, cols, perm, "external %s" % keys)
            with open(idx + ".I", "rb") as f:  # flow-models names it X.<type>
                if list(array.array("I", f.read())) != perm:
                    sys.exit("FAIL: index file %s" % keys)
        flowmix("-k", "first,first_ms", "-O", src, src)  # in place
        check(src, cols, expect(cols, ["first", "first_ms"], False), "in place")
        r = subprocess.run([FLOWMIX, "sort", "-k", "nosuch", src], capture_output=True)
        if r.returncode == 0:
            sys.exit("FAIL: unknown key accepted")
    print("ok")


main()
