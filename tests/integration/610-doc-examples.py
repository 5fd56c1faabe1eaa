#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Documentation that cannot go stale (issue 18): every command example marked in README.md,
doc/guide.md (an `<!-- example -->` line before a fenced block) and the man pages (a `; example`
line before a ``` block in doc/*.scd) runs, block after block in one directory per document,
on small fixtures: flows.csv (csv_flow), input.csv (ft-profiler input), nfcapd/ (an nfcapd
capture) and capture.pcap.  Collector addresses 127.0.0.1:PORT are pointed at a UDP port this
test holds.  Then every option that flowmix(1) names under a command is given to that command
(`flowmix CMD OPT x --help`), which must not answer "unknown option" (must-show 5)."""
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

B = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
S = os.environ.get("top_srcdir", B)
FLOWMIX = os.path.abspath(os.path.join(B, "flowmix"))
DOCS = ["README.md", "doc/guide.md"] + sorted(os.path.relpath(p, S)
                                              for p in glob.glob(os.path.join(S, "doc", "*.scd")))


def blocks(path):
    """The marked example blocks of a document, as lists of lines."""
    md = path.endswith(".md")
    out, lines = [], open(os.path.join(S, path)).read().splitlines()
    for i, line in enumerate(lines):
        marked = line.startswith("<!-- example") if md else line.strip() == "; example"
        if not marked:
            continue
        if i + 1 >= len(lines) or not lines[i + 1].lstrip().startswith("```"):
            sys.exit("FAIL: %s:%d: an example marker not followed by a code block" % (path, i + 1))
        body = []
        for l in lines[i + 2:]:
            if l.lstrip().startswith("```"):
                break
            body.append(l)
        out.append((i + 1, body))
    return out


def fixtures(d, port):
    tdata = os.path.join(S, "tests", "data")
    subprocess.run([FLOWMIX, "send", "-q", "--synthetic", "3000", "--seed", "1", "--dump",
                    os.path.join(d, "flows.csv"), "127.0.0.1:%d" % port], check=True)
    shutil.copy(os.path.join(tdata, "ft-profiler", "csv_basic_input.csv"),
                os.path.join(d, "input.csv"))
    os.mkdir(os.path.join(d, "nfcapd"))
    shutil.copy(os.path.join(tdata, "compat", "nfcapd.synthetic"),
                os.path.join(d, "nfcapd", "nfcapd.201506101900"))
    shutil.copy(os.path.join(tdata, "http_get.pcap"), os.path.join(d, "capture.pcap"))
    os.mkdir(os.path.join(d, ".bin"))
    os.symlink(FLOWMIX, os.path.join(d, ".bin", "flowmix"))


def needs_missing(text):
    if "nfcapd" in text and not shutil.which("nfdump"):
        return "nfdump"
    if "flowmix meter" in text and subprocess.run([FLOWMIX, "meter", "--help"],
                                                  capture_output=True).returncode != 0:
        return "flowmix meter"
    return None


def run_examples(sink_port):
    ran = 0
    for doc in DOCS:
        bl = blocks(doc)
        if not bl:
            continue
        with tempfile.TemporaryDirectory() as d:
            fixtures(d, sink_port)
            env = dict(os.environ, PATH=os.path.join(d, ".bin") + ":" + os.environ["PATH"],
                       FLOWMIX_NO_PROGRESS="1")
            for line, body in bl:
                text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:%d" % sink_port, "\n".join(body))
                if not re.search(r"^\s*flowmix ", text, re.M):
                    sys.exit("FAIL: %s:%d: a marked block without a flowmix command" % (doc, line))
                missing = needs_missing(text)
                if missing:
                    print("%s:%d: skipped (no %s)" % (doc, line, missing))
                    continue
                r = subprocess.run(["sh", "-e", "-c", text], cwd=d, env=env, capture_output=True,
                                   text=True, timeout=600)
                if r.returncode != 0 or "see flowmix" in r.stderr:
                    sys.exit("FAIL: %s:%d: example exited %d:\n%s\n--- stderr:\n%s"
                             % (doc, line, r.returncode, text, r.stderr[-2000:]))
                n = len(re.findall(r"^\s*flowmix |\| flowmix ", text, re.M))
                print("%s:%d: %d flowmix command lines ran" % (doc, line, n))
                ran += n
    return ran


def man_options():
    """(command, option) for every option flowmix(1) names under a command."""
    text = open(os.path.join(S, "doc", "flowmix.1.scd")).read()
    common = {"convert", "merge", "hist", "series", "anonymize"}
    pairs, section = set(), None
    for line in text.splitlines():
        m = re.match(r"^(#+) (.*)", line)
        if m:
            title = m.group(2).strip()
            section = title if m.group(1) == "##" else ("COMMON" if title == "COMMON OPTIONS"
                                                        else None)
            continue
        if section is None or section.startswith("Not "):
            continue
        for tok in re.findall(r"\*(-[^*]+)\*", line):
            for part in tok.split(","):
                opt = part.strip().split()[0] if part.strip() else ""
                if re.fullmatch(r"--?[A-Za-z][-A-Za-z0-9_]*", opt) and opt not in ("-h", "--help"):
                    for cmd in (common if section == "COMMON" else [section]):
                        pairs.add((cmd, opt))
    return sorted(pairs)


def check_options():
    bad = []
    have = {}
    pairs = man_options()
    for cmd, opt in pairs:
        if cmd not in have:
            have[cmd] = subprocess.run([FLOWMIX, cmd, "--help"], capture_output=True).returncode == 0
        if not have[cmd]:
            continue
        r = subprocess.run([FLOWMIX, cmd, opt, "x", "--help"], capture_output=True, text=True,
                           timeout=60)
        if re.search(r"unknown option|unrecognized option|invalid option|unknown subcommand",
                     r.stderr):
            bad.append("%s %s: %s" % (cmd, opt, r.stderr.strip()))
    if bad:
        sys.exit("FAIL: flowmix(1) names options the program rejects:\n" + "\n".join(bad))
    print("flowmix(1): %d command options, all accepted" % len(pairs))


def main():
    if not os.access(FLOWMIX, os.X_OK):
        sys.exit(77)
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    sink.setblocking(False)
    ran = run_examples(sink.getsockname()[1])
    if ran < 20:
        sys.exit("FAIL: only %d example command lines found" % ran)
    check_options()
    print("ok")


main()
