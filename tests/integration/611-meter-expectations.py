# SPDX-License-Identifier: BSD-2-Clause
"""flowmix meter reproduces the values nfstream's tests.py asserts (issue 15, must-show 2).

../shared/data/nfstream/tests_py_expectations.json holds them, transcribed from tests.py:
statistics of google_ssl (accounting mode 1), its first five packets (splt), one flow across four
files read as one source, idle/active timeouts of 0, GTP tunnel ids (and no tunnel_id column
without tunnel decoding), the flow count of skype.pcap, a BPF filter.  Floats are checked as the
file says (expected <= actual < expected + 0.001, the expected numbers being truncated); every
other non-nDPI value must be equal.  The nDPI-dependent values (produced by nDPI 4.5/4.7-dev) are
printed beside ours, not required.
"""
import csv
import io
import json
import os
import subprocess
import sys

BUILD = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
FLOWMIX = os.path.join(BUILD, "flowmix")
SHARED = os.environ.get("FM_SHARED", os.path.join(BUILD, "..", "shared"))
DATA = os.path.join(SHARED, "data", "nfstream")
NDPI_FIELDS = {"application_name", "application_category_name", "application_is_guessed",
               "application_confidence", "requested_server_name", "client_fingerprint",
               "server_fingerprint", "user_agent", "content_type"}
failures = []


def meter(pcaps, *opts):
    args = [FLOWMIX, "meter", *opts] + [os.path.join(DATA, "pcaps", p) for p in pcaps]
    p = subprocess.run(args, capture_output=True, timeout=120)
    if p.returncode != 0:
        failures.append("%s: exit %d %s" % (" ".join(args), p.returncode, p.stderr.decode()))
        return []
    return list(csv.DictReader(io.StringIO(p.stdout.decode())))


def check(case, cond, msg):
    if not cond:
        failures.append("%s: %s" % (case, msg))


def compare_flow(case, got, want):
    for k, v in want.items():
        if k in NDPI_FIELDS:
            print("  %s %s: nfstream %r, here %r (nDPI-dependent, not compared)"
                  % (case, k, v, got.get(k)))
            continue
        if k not in got:
            failures.append("%s: column %s missing" % (case, k))
        elif isinstance(v, float):
            check(case, v <= float(got[k]) < v + 0.001, "%s = %s, expected %s (+0.001)"
                  % (k, got[k], v))
        else:
            check(case, got[k] == str(v), "%s = %s, expected %s" % (k, got[k], v))


def main():
    path = os.path.join(DATA, "tests_py_expectations.json")
    if not os.path.exists(path):
        print("SKIP: no %s" % path)
        return 77
    with open(path) as f:
        exp = json.load(f)

    e = exp["statistical_google_ssl"]
    rows = meter([e["pcap"]], "--statistics", "--accounting-mode", "1")
    check("statistics", len(rows) == e["flow_count"], "%d flows" % len(rows))
    if rows:
        compare_flow("statistics", rows[0], e["flow"])

    e = exp["splt_google_ssl"]
    rows = meter([e["pcap"]], "--splt", "5")
    for k, v in e["first_flow"].items():
        check("splt", rows and json.loads(rows[0][k]) == v, "%s = %s, expected %s"
              % (k, rows[0][k] if rows else None, v))

    e = exp["multi_files_one_flow"]
    rows = meter(e["pcaps_in_order"])
    check("multi-file", len(rows) == e["flow_count"], "%d flows" % len(rows))
    if rows:
        compare_flow("multi-file", rows[0], e["flow"])

    e = exp["expiration_google_ssl"]
    for opt, key in (("--idle-timeout", "idle_timeout_0"), ("--active-timeout", "active_timeout_0")):
        rows = meter([e["pcap"]], opt, "0", "--dissections", "0")
        check(key, len(rows) == e[key]["flow_count"] and rows[-1]["id"] == str(e[key]["last_id"]),
              "%d flows, last id %s" % (len(rows), rows[-1]["id"] if rows else None))

    e = exp["tunnel_gtp"]
    rows = meter([e["pcap"]], "--statistics")
    check("gtp", rows and all(r["tunnel_id"] == "1" for r in rows),
          "tunnel ids %s" % sorted({r.get("tunnel_id") for r in rows}))
    rows = meter([e["pcap"]], "--no-tunnels", "--dissections", "0")
    check("gtp", rows and "tunnel_id" not in rows[0], "tunnel_id column without decoding")

    e = exp["flow_count_skype_default"]
    rows = meter([e["pcap"]])
    check("skype", len(rows) == e["flow_count"], "%d flows, expected %d"
          % (len(rows), e["flow_count"]))

    e = exp["bpf_facebook"]
    rows = meter([e["pcap"]], "--bpf", e["options"]["bpf_filter"])
    check("bpf", len(rows) == e["flow_count"] and
          all(r["src_port"] == str(e["every_flow"]["src_port"]) for r in rows),
          "%d flows, ports %s" % (len(rows), [r["src_port"] for r in rows]))

    e = exp["fingerprint_facebook_ndpi_dependent"]
    rows = meter([e["pcap"]], "--statistics", "--accounting-mode", "1")
    for r in rows:
        print("  facebook (nDPI-dependent, not compared): nfstream %s / %s / %s, here %s / %s / %s"
              % (e["every_flow"]["application_name"], e["every_flow"]["client_fingerprint_one_of"],
                 e["every_flow"]["requested_server_name_one_of"], r.get("application_name"),
                 r.get("client_fingerprint"), r.get("requested_server_name")))

    for f in failures:
        print("FAIL", f)
    print("tests.py expectations: %s" % ("all reproduced" if not failures else
                                         "%d failure(s)" % len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
