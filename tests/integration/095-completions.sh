#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Shell completions (generated at build time by tools/gen-completions.py): the bash and zsh
# files list every option of flowmixd, of flowmixctl and of every flowmix subcommand - as the
# built programs' own getopt_long() tables give them (read here with tools/optdump.so) - every
# flowmix subcommand and every flowmixctl command and argument (from their help); bash really
# completes with them (commands, options, argument values); bash -n and zsh -n accept them.
. "$(dirname "$0")/lib.sh"
need python3 bash
comp="$top_builddir/completions"
so="$top_builddir/tools/.libs/optdump.so"
[ -f "$comp/stamp" ] && [ -f "$so" ] || fail "completions not built (make all)"

python3 - "$so" "$comp" "$FLOWMIX" "$FLOWMIXCTL" "$FLOWMIXD" <<'PY' || fail "completions incomplete"
import os, re, subprocess, sys
so, comp, fm, ctl, fmd = sys.argv[1:6]
def opts(argv):
    out = subprocess.run(argv, env=dict(os.environ, LD_PRELOAD=so, ASAN_OPTIONS="verify_asan_link_order=0"),
                         capture_output=True, text=True).stdout
    o = []
    for line in out.splitlines():
        if line.startswith("short "):
            o += ["-" + c for c in line[6:] if c not in "+:-"]
        elif line.startswith("long "):
            o.append("--" + line.split()[1])
    assert o, argv
    return o
def need(path, items, what):
    text = open(path).read()
    missing = [i for i in items if not re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(i), text)]
    assert not missing, "%s lacks %s %s" % (path, what, missing)
def help_(argv):
    p = subprocess.run(argv, capture_output=True, text=True)
    return p.stdout + p.stderr
n = 0
for prog, name in ((fmd, "flowmixd"), (ctl, "flowmixctl")):
    for f in ("bash/" + name, "zsh/_" + name):
        need(os.path.join(comp, f), opts([prog]), "options"); n += 1
h = help_([fm, "--help"])
subs = [l.split()[0] for l in h.split("Subcommands:")[1].split("\n\n")[0].strip().splitlines()]
assert len(subs) >= 10, subs
for f in ("bash/flowmix", "zsh/_flowmix"):
    need(os.path.join(comp, f), subs, "subcommands")
    for s in subs:
        need(os.path.join(comp, f), opts([fm, s]), "options of " + s); n += 1
cmds = re.findall(r"^  [* ] ([a-z]+)", help_([ctl, "--help"]), re.M)
assert "hist" in cmds and "status" in cmds, cmds
for f in ("bash/flowmixctl", "zsh/_flowmixctl"):
    need(os.path.join(comp, f), cmds, "commands")
    for c in cmds:
        args = re.findall(r"^  (--[\w-]+)", help_([ctl, c, "--help"]), re.M)
        need(os.path.join(comp, f), args, "arguments of " + c); n += 1
print("%d option lists complete: %d flowmix subcommands, %d flowmixctl commands" % (n, len(subs), len(cmds)))
PY

for f in "$comp"/bash/*; do bash -n "$f" || fail "bash -n $f"; done
if command -v zsh >/dev/null 2>&1; then
    for f in "$comp"/zsh/_*; do zsh -n "$f" || fail "zsh -n $f"; done
fi
# What bash offers: complete LINE... WANT - the word list offered at the last word of LINE.
complete_in_bash() {
    prog=$1 want=$2
    shift 2
    got=$(bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); "_$0"; echo "${COMPREPLY[*]}"' \
        "$prog" "$comp/bash/$prog" "$@")
    case " $got " in *" $want "*) ;; *) fail "bash completion of '$*' offers '$got', not '$want'" ;; esac
}
complete_in_bash flowmixctl hist flowmixctl hi
complete_in_bash flowmixctl --window flowmixctl -s /x hist --w
complete_in_bash flowmixctl tcp flowmixctl hist --class t
complete_in_bash flowmixctl --flow-models flowmixctl model --job j --fl
complete_in_bash flowmix fit flowmix fi
complete_in_bash flowmix --initial flowmix fit --ini
complete_in_bash flowmixd --check-config flowmixd --check
echo PASS
