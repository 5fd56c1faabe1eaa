#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Reload changes every key of the table (issue 17): starting from `flowmixd --print-defaults`
(every key of the fixed sections), each key in turn gets another valid value and the daemon is
told to reload (`flowmixctl --json reload`), then the key is changed back.  Each change must be
either applied — named in the log's "reloaded ...; applied: ..." line — or named in the reply's
restart_needed list (and in the log's warning); never silently ignored.  Some applied keys are
also checked where they show: export and fit intervals in `status`.  Named sections are
covered elsewhere: [fit.NAME] by 061-reload and 073-fits-survive; [plugin.NAME],
[input.kafka] and [exporter.NAME] changes are named as restart-only by the same code."""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

top_b = os.environ.get("top_builddir", ".")
FLOWMIXD = os.path.join(top_b, "flowmixd")
FLOWMIXCTL = os.path.join(top_b, "flowmixctl")

# Another valid value per key; a key missing here is changed generically (numbers + 1,
# yes/no flipped) or, for a string, reported as not covered.
OTHER = {
    ("daemon", "log_level"): "debug",
    ("daemon", "log_target"): "stderr",
    ("daemon", "log_time"): "local",
    ("daemon", "plugin_dir"): "/nonexistent/plugins",
    ("daemon", "collector_id"): "another-collector",
    ("daemon", "state_dir"): "{tmp}/state2",
    ("listen", "udp"): "127.0.0.1:{port2}",
    ("listen", "rcvbuf"): "8M",
    ("listen", "template_timeout"): "40m",
    ("control", "socket"): "{tmp}/other.sock",
    ("metrics", "listen"): "127.0.0.1:{port3}",
    ("cache", "merge"): "ft-profiler",
    ("hist", "window"): "2h",
    ("fit", "interval"): "20m",
    ("store", "path"): "{tmp}/other.db",
    ("store", "commit_interval"): "11s",
    ("store", "retention"): "31d",
    ("export", "dir"): "{tmp}/export2",
    ("export", "interval"): "2h",
}


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def parse_defaults(text):
    rows, section = [], None
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = re.match(r"\[(.+)\]$", line)
        if m:
            section = m.group(1)
            continue
        k, _, v = line.partition("=")
        rows.append((section, k.strip(), v.strip()))
    return rows


def other_value(section, key, value, subst):
    if (section, key) in OTHER:
        return OTHER[(section, key)].format(**subst)
    if value in ("yes", "no"):
        return "no" if value == "yes" else "yes"
    m = re.match(r"^(\d+)([smhdKMG]?)$", value)
    if m:
        return "%d%s" % (int(m.group(1)) + 1, m.group(2))
    return None


def write(path, rows, base, change=None):
    with open(path, "w") as f:
        section = None
        for s, k, v in rows:
            if s != section:
                f.write("[%s]\n" % s)
                section = s
            v = base.get((s, k), v)
            if change and change[0] == (s, k):
                v = change[1]
            f.write("%s = %s\n" % (k, v))
        f.write("[fit.len]\nclass = all\nmetric = length\nL = 2\n")


def main():
    tmp = tempfile.mkdtemp(prefix="flowmix-test.")
    proc = None
    try:
        subst = {"tmp": tmp, "port2": free_port(socket.SOCK_DGRAM),
                 "port3": free_port(socket.SOCK_STREAM)}
        rows = parse_defaults(subprocess.run([FLOWMIXD, "--print-defaults"], check=True,
                                             capture_output=True, text=True).stdout)
        sock = os.path.join(tmp, "control.sock")
        base = {("daemon", "state_dir"): os.path.join(tmp, "state"),
                ("daemon", "log_level"): "info",
                ("listen", "udp"): "127.0.0.1:%d" % free_port(socket.SOCK_DGRAM),
                ("control", "socket"): sock, ("cache", "memory"): "16",
                ("fit", "interval"): "15m", ("export", "interval"): "1h"}
        conf = os.path.join(tmp, "d.conf")
        log = os.path.join(tmp, "d.log")
        write(conf, rows, base)
        proc = subprocess.Popen([FLOWMIXD, "-f", "-c", conf], stdout=subprocess.DEVNULL,
                                stderr=open(log, "w"))

        def ctl(*args):
            p = subprocess.run([FLOWMIXCTL, "-s", sock, "--json"] + list(args),
                               capture_output=True, text=True, timeout=30)
            return json.loads(p.stdout) if p.stdout else {"ok": False, "error": p.stderr}

        for _ in range(600):
            if os.path.exists(sock) and ctl("ping").get("ok"):
                break
            time.sleep(0.05)
        else:
            sys.exit("FAIL: flowmixd did not start: " + open(log).read()[-500:])

        failures, covered, uncovered = [], 0, []
        for s, k, v in rows:
            cur = base.get((s, k), v)
            new = other_value(s, k, cur, subst)
            if new is None or new == cur:
                uncovered.append("[%s] %s" % (s, k))
                continue
            name = "[%s] %s" % (s, k)
            before = len(open(log).read())
            write(conf, rows, base, ((s, k), new))
            r = ctl("reload")
            if not r.get("ok"):
                failures.append("%s = %s: reload refused: %s" % (name, new, r.get("error")))
                continue
            restart = r["result"]["restart_needed"]
            text = open(log).read()[before:]
            m = re.search(r"reloaded .*; applied: (.*)", text)
            applied = m.group(1) if m else ""
            how = None
            if name in restart and name in text:
                how = "restart (named in the reply and the log)"
            elif name in applied:
                how = "applied"
                st = ctl("status")["result"]
                if (s, k) == ("export", "interval") and st["export"]["interval_s"] != 7200:
                    failures.append("%s applied but status shows %s" % (name, st["export"]))
                if (s, k) == ("fit", "interval") and st["fits"]["interval_s"] != 1200:
                    failures.append("%s applied but status shows %s" % (name, st["fits"]))
            else:
                failures.append("%s = %s: neither applied nor named (reply %s, log %r)"
                                % (name, new, r["result"], text[-300:]))
            covered += 1
            print("%-32s -> %-28s %s" % (name, new, how))
            write(conf, rows, base)  # and back
            r = ctl("reload")
            if not r.get("ok"):
                failures.append("%s: reload back refused: %s" % (name, r.get("error")))
        print("%d keys changed, %d not covered: %s" % (covered, len(uncovered),
                                                      ", ".join(uncovered) or "none"))
        if uncovered:
            failures.append("no test value for %s: add one to OTHER" % ", ".join(uncovered))
        if not ctl("ping").get("ok"):
            failures.append("daemon stopped answering")
        proc.terminate()
        st = proc.wait(timeout=60)
        proc = None
        if st != 0:
            failures.append("exit status %d" % st)
        if failures:
            print("FAIL:\n  " + "\n  ".join(failures))
            sys.exit(1)
    finally:
        if proc:
            proc.kill()
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


main()
