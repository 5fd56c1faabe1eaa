#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Documentation that cannot go stale (issue 18): every command example marked in README.md,
doc/guide.md (an `<!-- example -->` line before a fenced block) and the man pages (a `; example`
line before a ``` block in doc/*.scd) runs, block after block in one directory per document,
on small fixtures: flows.csv (csv_flow), input.csv (ft-profiler input), nfcapd/ (an nfcapd
capture) and capture.pcap.  Collector addresses 127.0.0.1:PORT are pointed at a UDP port this
test holds.  Then every option that flowmix(1) names under a command is given to that command
(`flowmix CMD OPT x --help`), which must not answer "unknown option" (must-show 5).

The daemon side (issue 17): a block marked `<!-- example daemon -->` (flowmixctl queries) runs
in the same directory against a flowmixd started for the document, its state in ./var and its
socket ./var/control.sock (where `./flowmixctl -s var/control.sock` and a plain `flowmixctl`
both find it), after 3000 flows in three 1 s windows were sent, flushed and one fit run; the daemon must then stop
cleanly (exit 0).  A block marked `<!-- example daemon-config -->` writes a configuration and
starts `flowmixd -f -c FILE`: it runs with /tmp/fm as a directory of the test, the UDP port as
a free one, and `flowmixd -f` as `flowmixd --check-config`, so the configuration the document
shows must be valid."""
import atexit
import glob
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

B = os.environ.get("top_builddir", os.path.join(os.path.dirname(__file__), "..", ".."))
S = os.environ.get("top_srcdir", B)
FLOWMIX = os.path.abspath(os.path.join(B, "flowmix"))
FLOWMIXD = os.path.abspath(os.path.join(B, "flowmixd"))
FLOWMIXCTL = os.path.abspath(os.path.join(B, "flowmixctl"))
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
        kind = re.match(r"<!-- example ?([a-z-]*)", line).group(1) if md else ""
        if kind not in ("", "daemon", "daemon-config"):
            sys.exit("FAIL: %s:%d: unknown example kind '%s'" % (path, i + 1, kind))
        if i + 1 >= len(lines) or not lines[i + 1].lstrip().startswith("```"):
            sys.exit("FAIL: %s:%d: an example marker not followed by a code block" % (path, i + 1))
        body = []
        for l in lines[i + 2:]:
            if l.lstrip().startswith("```"):
                break
            body.append(l)
        out.append((i + 1, kind, body))
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
    for prog in (FLOWMIXD, FLOWMIXCTL):  # as the guide runs them, and ./ as the README does
        os.symlink(prog, os.path.join(d, ".bin", os.path.basename(prog)))
        os.symlink(prog, os.path.join(d, os.path.basename(prog)))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ctl(d, *args, timeout=60):
    return subprocess.run([FLOWMIXCTL, "-s", os.path.join(d, "var", "control.sock"),
                           "-t", str(timeout)] + list(args), capture_output=True, text=True)


def daemon_start(d, env):
    """flowmixd on ./var of d with 3000 flows received in three windows, flushed, one fit run."""
    os.makedirs(os.path.join(d, "var"), exist_ok=True)
    port, conf = free_port(), os.path.join(d, "var", "flowmixd.conf")
    with open(conf, "w") as f:
        f.write("[daemon]\nstate_dir = %s/var\n[listen]\nudp = 127.0.0.1:%d\n"
                "[control]\nsocket = %s/var/control.sock\n[fit]\ninterval = 0\n"
                "[export]\ninterval = 0\n[hist]\nwindow = 1s\n" % (d, port, d))
    log = open(os.path.join(d, "var", "flowmixd.log"), "w")
    p = subprocess.Popen([FLOWMIXD, "-f", "-c", conf], stderr=log, env=env)
    atexit.register(lambda: p.poll() is None and p.kill())  # a failing test leaves no daemon
    for _ in range(400):
        if ctl(d, "ping").returncode == 0:
            break
        if p.poll() is not None:
            sys.exit("FAIL: flowmixd exited %d at start" % p.returncode)
        time.sleep(0.05)
    else:
        sys.exit("FAIL: flowmixd did not answer ping")
    # `hist --window -2` needs windows before the newest: 1 s windows, one batch of flows in
    # each of three (windows follow the wall clock, not the flows' own times).
    for seed in (1, 2, 3):
        subprocess.run([FLOWMIX, "send", "-q", "--synthetic", "1000", "--seed", str(seed),
                        "127.0.0.1:%d" % port], check=True)
        for _ in range(200):
            m = re.search(r'"records":\s*(\d+)', ctl(d, "--json", "status").stdout)
            if m and int(m.group(1)) >= 1000 * seed:
                break
            time.sleep(0.05)
        if ctl(d, "flush").returncode != 0:
            sys.exit("FAIL: flowmixctl flush")
        time.sleep(1.05)
    for args in (["flush"], ["fit", "--job", "all-length-flows"]):
        r = ctl(d, *args)
        if r.returncode != 0:
            sys.exit("FAIL: flowmixctl %s: %s" % (" ".join(args), r.stderr))
    return p


def daemon_stop(p):
    p.terminate()
    rc = p.wait(timeout=60)
    if rc != 0:
        sys.exit("FAIL: flowmixd exited %d after the examples" % rc)


def config_example(text, d, port):
    """A daemon-config block: in d, on a free port, checked rather than run."""
    text = text.replace("/tmp/fm", os.path.join(d, "fm"))
    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:%d" % port, text)
    if not re.search(r"^\s*flowmixd -f ", text, re.M):
        sys.exit("FAIL: a daemon-config block that does not start flowmixd -f")
    return re.sub(r"^(\s*)flowmixd -f ", r"\1flowmixd --check-config ", text, flags=re.M)


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
            env.pop("FLOWMIX_SOCKET", None)
            daemon = None
            for line, kind, body in bl:
                text = "\n".join(body)
                if kind == "daemon-config":
                    text = config_example(text, d, free_port())
                elif kind == "daemon" and not daemon:
                    t0 = time.monotonic()
                    daemon = daemon_start(d, env)
                    print("%s: flowmixd started and fed in %.1f s" % (doc, time.monotonic() - t0))
                else:
                    text = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:%d" % sink_port, text)
                if not re.search(r"^\s*(\./)?flowmix(d|ctl)? ", text, re.M):
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
                n = len(re.findall(r"^\s*(?:\./)?flowmix(?:d|ctl)? |\| flowmix ", text, re.M))
                print("%s:%d: %d %s command lines ran" % (doc, line, n, kind or "flowmix"))
                ran += n
            if daemon:
                daemon_stop(daemon)
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
