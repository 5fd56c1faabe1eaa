#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""No dependency cycles among src/ files (issue 17; STYLE.md §1 "no import cycles").

usage: cycles.py [SRCDIR]   (default $top_srcdir/src)
Derives the graph from the sources themselves: a file A depends on a file B when A #includes a
header that declares a function B defines, and A calls it.  Each .c file is a node (a header's
declarations belong to the .c files that define them, so a private header shared by several
files hides nothing).  Prints every cycle (a strongly connected component of more than one
file) with one call per edge, and exits 1 if there is any; 0 otherwise.  Callbacks passed as
function pointers are not edges: that is how a lower module calls back up.

KNOWN may list a cycle being broken, with the files it spans: it is reported but does not fail
the test (a listed cycle that no longer exists fails, so the list only shrinks).  It is empty:
the last three (decode/, ctl_format/ctl_tables, histdelta/histdelta_json) were broken by moving
what both sides call into a file below them.  Any cycle fails.
"""
import os
import re
import sys

# Cycles left to break: none.  Every cycle fails the test; break it (move what both sides call
# into a file below them) rather than list it here.
KNOWN = []

src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.environ.get("top_srcdir", "."), "src")

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\])*"')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
CALL = re.compile(r"\b(fm_\w+)\s*\(")
# A definition: starts at column 0, not static, name followed by a parameter list and a body.
DEFN = re.compile(r"^(?!static\b)[A-Za-z_][^;{}()]*?\b(fm_\w+)\s*\([^;{}]*\)\s*\{", re.M)


def clean(text):
    text = COMMENT.sub(" ", text)
    return STRING.sub('""', text)


files, raw = {}, {}
for root, _, names in os.walk(src):
    for n in names:
        if n.endswith((".c", ".h")):
            p = os.path.join(root, n)
            with open(p, encoding="utf-8", errors="replace") as f:
                rel = os.path.relpath(p, src)
                raw[rel] = COMMENT.sub(" ", f.read())
                files[rel] = clean(raw[rel])

owner = {}
for path, text in files.items():
    if path.endswith(".c"):
        for m in DEFN.finditer(text):
            owner.setdefault(m.group(1), path)

declares = {path: set(CALL.findall(text)) for path, text in files.items() if path.endswith(".h")}


def includes(path):
    """Headers a file includes, resolved against src/ and the file's own directory."""
    out = []
    for inc in INCLUDE.findall(raw[path]):
        for cand in (inc, os.path.normpath(os.path.join(os.path.dirname(path), inc))):
            if cand in files:
                out.append(cand)
                break
    return out


edges = {}
for path, text in files.items():
    if not path.endswith(".c"):
        continue
    visible = set()
    for h in includes(path):
        visible |= declares.get(h, set())
    defined_here = {m.group(1) for m in DEFN.finditer(text)}
    for fn in set(CALL.findall(text)) - defined_here:
        dep = owner.get(fn)
        if dep and dep != path and fn in visible:
            edges.setdefault(path, {}).setdefault(dep, fn)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def visit(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in edges.get(v, {}):
        if w not in index:
            visit(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop()
            on.discard(w)
            comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            sccs.append(sorted(comp))


sys.setrecursionlimit(10000)
for v in sorted(files):
    if v.endswith(".c") and v not in index:
        visit(v)

if not any(p.endswith(".c") for p in files):
    print("no .c files under %s: wrong SRCDIR" % src)
    sys.exit(99)
nedges = sum(len(d) for d in edges.values())
failed = False
for comp in sccs:
    known = set(comp) in KNOWN
    print("%scycle among: %s" % ("known " if known else "", " ".join(comp)))
    for a in comp:
        for b, fn in sorted(edges.get(a, {}).items()):
            if b in comp:
                print("  %s -> %s (calls %s)" % (a, b, fn))
    failed = failed or not known
for k in KNOWN:
    if sorted(k) not in sccs:
        print("the known cycle among %s is gone: remove it from KNOWN" % " ".join(sorted(k)))
        failed = True
print("%d source files, %d dependencies, %d cycle(s), %d known"
      % (sum(p.endswith(".c") for p in files), nedges, len(sccs), len(KNOWN)))
sys.exit(1 if failed else 0)
