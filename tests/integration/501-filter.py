# SPDX-License-Identifier: BSD-2-Clause
"""`flowmix convert --filter-expr` against Python's own eval() of the same expressions over the
flow-models field names (flow-models evaluates filters as Python expressions), and the
--skip-in/--count-in/--skip-out/--count-out selection against a port of DETAIL §1.3.
Expressions avoid `~` on truth values, where Python scalars and numpy arrays disagree (see the
filter unit test for that case)."""
import os
import random
import subprocess
import sys
import tempfile

BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
FLOWMIX = os.path.join(BUILD, "flowmix")
FIELDS = ("af prot inif outif sa0 sa1 sa2 sa3 da0 da1 da2 da3 sp dp first first_ms last last_ms "
          "packets octets aggs").split()
EXPRS = [
    "prot == 6", "prot==17", "(prot == 6) & (packets > 1)", "prot == 6 & packets > 1",
    "prot == 6 and packets > 1 or sp < 1024", "not prot == 6 or dp == 80",
    "not (prot == 6 or dp == 80)", "(prot == 6) | (prot == 17)", "1 < packets <= 10",
    "packets < octets // 1000 < 5", "sp % 7 == 3 and dp // 1000 >= 30", "~sp & 1",
    "(sp ^ dp) & 0xFF == 0x10", "(sa3 >> 24) == 10", "sa3 >> 24 == 10", "-sp + dp > 100",
    "packets * 2 - 1 > 7", "first - last < -100", "first_ms > last_ms", "af == 10",
    "af == 2 and sa0 == 0", "inif != outif", "aggs", "aggs and packets", "octets or 0",
    "(packets > 3) == (octets > 9)",
    "0b101 & prot", "0o17 == prot % 16", "True", "False or prot == 1", "((((prot))))==6",
    "1 << 3 == 8 and sp << 2 > 100000", "packets>=2 & octets>100",
]


def gen(rnd, n):
    rows = []
    for _ in range(n):
        v6 = rnd.random() < 0.2
        sa = [rnd.getrandbits(32) for _ in range(4)] if v6 else [0, 0, 0, rnd.getrandbits(32)]
        da = [rnd.getrandbits(32) for _ in range(4)] if v6 else [0, 0, 0, rnd.getrandbits(32)]
        f = rnd.randrange(1400000000, 1400000500)
        rows.append([10 if v6 else 2, rnd.choice([6, 17, 1]), rnd.randrange(4), rnd.randrange(4),
                     *sa, *da, rnd.randrange(65536), rnd.choice([80, 443, 53, rnd.randrange(65536)]),
                     f, rnd.randrange(1000), f + rnd.randrange(200), rnd.randrange(1000),
                     rnd.choice([1, 2, 3, rnd.randrange(1, 100)]), rnd.randrange(40, 20000),
                     rnd.randrange(3)])
    return rows


def select(rows, skip_in=0, count_in=None, expr=None, skip_out=0, count_out=None):
    out = []
    for t in rows:
        if skip_in > 0:
            skip_in -= 1
            continue
        if count_in is not None:
            if count_in == 0:
                break
            count_in -= 1
        if expr and not eval(expr, {}, dict(zip(FIELDS, t))):
            continue
        if skip_out > 0:
            skip_out -= 1
            continue
        if count_out is not None:
            if count_out == 0:
                break
            count_out -= 1
        out.append(t)
    return out


def main():
    if not os.access(FLOWMIX, os.X_OK):
        sys.exit(77)
    seed = int(os.environ.get("FM_SEED", random.randrange(1 << 30)))
    print("seed", seed)
    rows = gen(random.Random(seed), 5000)
    with tempfile.TemporaryDirectory() as tmp:
        # Two input files: selection counters are shared across inputs.
        paths = [os.path.join(tmp, "a.csv"), os.path.join(tmp, "b.csv")]
        for p, part in zip(paths, (rows[:2000], rows[2000:])):
            with open(p, "w") as f:
                f.write("".join(", ".join(map(str, t)) + "\n" for t in part))
        cases = [(e, {}) for e in EXPRS] + [
            ("prot == 6", dict(skip_in=1990, count_in=30, skip_out=2, count_out=5)),
            (None, dict(skip_in=3, count_out=2500)),
            ("packets > 2", dict(skip_out=1000)),
            (None, dict(count_in=0)),
        ]
        for expr, sel in cases:
            args = ["convert", "-i", "csv_flow"]
            if expr:
                args += ["--filter-expr", expr]
            for k, v in sel.items():
                args += ["--" + k.replace("_", "-"), str(v)]
            got = subprocess.run([FLOWMIX, *args, *paths], check=True, capture_output=True,
                                 text=True).stdout
            exp = "".join(", ".join(map(str, t)) + "\n" for t in select(rows, expr=expr, **sel))
            if got != exp:
                sys.exit("FAIL: %r %r: %d lines, expected %d" % (expr, sel, got.count("\n"),
                                                                 exp.count("\n")))
        for bad in ("prot = 6", "prot ==", "foo == 1", "(prot == 6", "prot == 6)", "packets / 2"):
            r = subprocess.run([FLOWMIX, "convert", "--filter", bad, paths[0]],
                               capture_output=True, text=True)
            if r.returncode != 2 or "column" not in r.stderr:
                sys.exit("FAIL: bad filter %r: status %d, %r" % (bad, r.returncode, r.stderr))
    print("ok: %d expressions" % len(cases))


main()
