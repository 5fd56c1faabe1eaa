# SPDX-License-Identifier: BSD-2-Clause
"""flowmix meter against nfstream's own results, capture by capture (issue 15, must-show 1).

Every capture in ../shared/data/nfstream/pcaps goes through `flowmix meter` with nfstream's
producer options (defaults, n_dissections=20), and again with --dissections 0 (the meter then
takes packets in prefetched groups: a different code path that must give the same flows).  The result file of the same name holds nfstream's
flows in emission order: id, bidirectional_packets and bidirectional_bytes must be equal row for
row (same count, same order) in every file.  The four nDPI columns are compared as well; Debian's
nDPI 4.2 names some applications differently from the nDPI 4.5-dev that produced the results, so
that agreement is printed, not required; required is a non-empty application_name on every row
when nDPI is built in.  Captures run in parallel, a few at a time.
"""
import concurrent.futures
import csv
import io
import os
import subprocess
import sys

BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
FLOWMIX = os.path.join(BUILD, "flowmix")
SHARED = os.environ.get("FM_SHARED", os.path.join(BUILD, "..", "shared"))
DATA = os.path.join(SHARED, "data", "nfstream")
# nDPI 4.2's confidence numbers -> the same names' numbers in nDPI 4.5-dev (NFSTREAM.md §11):
# Unknown 0, Match-by-port 1, DPI-cache 3 -> 5, DPI 4 -> 6 (Match-by-IP 2 has no counterpart).
CONF_42_TO_45 = {"0": "0", "1": "1", "3": "5", "4": "6"}
NDPI_COLS = ("application_name", "application_category_name", "application_is_guessed",
             "application_confidence")


def skip(msg):
    print("SKIP:", msg)
    sys.exit(77)


def run(name, *opts):
    cap = os.path.join(DATA, "pcaps", name)
    p = subprocess.run([FLOWMIX, "meter", *opts, cap], capture_output=True, timeout=120)
    if p.returncode != 0:
        return name, None, "exit %d: %s" % (p.returncode, p.stderr.decode(errors="replace"))
    rows = list(csv.DictReader(io.StringIO(p.stdout.decode("utf-8", errors="replace"))))
    return name, rows, p.stderr.decode(errors="replace")


def main():
    if not os.path.isdir(os.path.join(DATA, "pcaps")):
        skip("no nfstream reference data at %s" % DATA)
    ndpi = b"nDPI: yes" in subprocess.run([FLOWMIX, "meter", "--version"],
                                          capture_output=True).stdout
    names = sorted(os.listdir(os.path.join(DATA, "pcaps")))
    equal_files = 0
    equal_nodpi = 0
    rows_total = rows_ndpi_equal = unlabelled = 0
    per_col = dict.fromkeys(NDPI_COLS, 0)
    conf_mapped = 0
    failures = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
        nodpi = {name: rows for name, rows, _ in ex.map(lambda n: run(n, "--dissections", "0"),
                                                         names)}
        for name, rows, err in ex.map(run, names):
            if rows is None:
                failures.append("%s: %s" % (name, err))
                continue
            with open(os.path.join(DATA, "results", name), newline="") as f:
                want = list(csv.DictReader(f))
            got3 = [(r["id"], r["bidirectional_packets"], r["bidirectional_bytes"]) for r in rows]
            want3 = [(r["id"], r["bidirectional_packets"], r["bidirectional_bytes"]) for r in want]
            plain = nodpi.get(name) or []
            if [(r["id"], r["bidirectional_packets"], r["bidirectional_bytes"])
                    for r in plain] == want3:
                equal_nodpi += 1
            else:
                failures.append("%s: differs with --dissections 0" % name)
            if got3 == want3:
                equal_files += 1
            else:
                first = next((i for i, (a, b) in enumerate(zip(got3, want3)) if a != b),
                             min(len(got3), len(want3)))
                failures.append("%s: %d flows, expected %d; first difference at row %d: %s vs %s"
                                % (name, len(got3), len(want3), first,
                                   got3[first] if first < len(got3) else None,
                                   want3[first] if first < len(want3) else None))
            for g, w in zip(rows, want):
                rows_total += 1
                if ndpi and not g["application_name"]:
                    unlabelled += 1
                same = [g[c] == w[c] for c in NDPI_COLS]
                for c, s in zip(NDPI_COLS, same):
                    per_col[c] += s
                rows_ndpi_equal += all(same)
                conf_mapped += CONF_42_TO_45.get(g["application_confidence"]) == \
                    w["application_confidence"]
    print("id/bidirectional_packets/bidirectional_bytes equal in %d of %d captures "
          "(%d of %d with --dissections 0)" % (equal_files, len(names), equal_nodpi, len(names)))
    if ndpi:
        print("nDPI columns (Debian nDPI, results from nDPI 4.5-dev): all four equal on %d of %d "
              "rows; %s; confidence mapped by name %d"
              % (rows_ndpi_equal, rows_total,
                 ", ".join("%s %d" % (c, n) for c, n in per_col.items()), conf_mapped))
    else:
        print("nDPI not built in: labels not compared")
    for f in failures:
        print("FAIL", f)
    if unlabelled:
        print("FAIL %d rows without application_name" % unlabelled)
    return 1 if failures or unlabelled else 0


if __name__ == "__main__":
    sys.exit(main())
