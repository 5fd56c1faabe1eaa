#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Every flow-models command line of the agh_2015 Makefile runs with `flowmix X` in place of
# `python3 -m flow_models.X` / `pypy3 -m flow_models.X` (issue 18): the Makefile itself
# (tests/data/compat/agh_2015.mk, flow-models/agh_2015 at 690daad) is run with only that
# substitution, from `merged` to `plots`, `summary` and `series`, on a small nfcapd capture
# (2500 flows drawn from the agh_2015 all/size model by `flowmix send`, captured by nfcapd 1.7;
# tests/data/compat/nfcapd.synthetic) standing for `cleaned`.  Not run: `dumps` and `cleaned`
# (zstd/nfdump over the original captures) and `first_mirror` (flow-models' first_mirror
# package is not part of flowmix).  Then the command lines of flow-models' tutorial
# (docs/tutorial.rst; its README has none): all run, except `fit --interactive`, which opens a
# Tk window there and is refused here with a one-line reason (documented in flowmix(1)).
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"
need make nfdump
mk=$top_srcdir/tests/data/compat/agh_2015.mk
[ -f "$mk" ] || skip "no agh_2015 Makefile copy"

mkdir -p "$fm_tmp/bin" "$fm_tmp/agh/cleaned"
ln -s "$FLOWMIX" "$fm_tmp/bin/flowmix"
cp "$top_srcdir/tests/data/compat/nfcapd.synthetic" "$fm_tmp/agh/cleaned/nfcapd.201506101900"
sed -E 's/(pypy3|python3) -m flow_models\.([a-z_.]+)/flowmix \2/' "$mk" > "$fm_tmp/agh/Makefile"
if grep -v first_mirror "$fm_tmp/agh/Makefile" | grep -q 'm flow_models'; then
    fail "a flow-models line was not substituted"
fi
n=$(grep -c 'flowmix ' "$fm_tmp/agh/Makefile")
targets=""
for c in all tcp udp; do
    targets="$targets histograms/$c mixtures/$c plots/$c summary/$c series/$c"
done
(cd "$fm_tmp/agh" && PATH="$fm_tmp/bin:$PATH" make -o dumps -o cleaned $targets \
    > "$fm_tmp/make.log" 2>&1) || fail "the agh_2015 Makefile failed: $(tail -5 "$fm_tmp/make.log")"
ran=$(grep -c '^nice flowmix \|^cd .*; flowmix \|^flowmix ' "$fm_tmp/make.log")
# merge, sort, 12 hist, 18 fit, 12 plot, 6 summary, 3 series
[ "$ran" = 53 ] || fail "$ran flowmix command lines ran, not 53"
for c in all tcp udp; do
    for f in length.csv length_b0.csv size.csv size_b0.csv; do
        [ -s "$fm_tmp/agh/histograms/$c/$f" ] || fail "no histograms/$c/$f"
    done
    for x in length size; do
        for y in flows packets octets; do
            [ -s "$fm_tmp/agh/mixtures/$c/$x/$y.json" ] || fail "no mixtures/$c/$x/$y.json"
        done
        for p in cdf pdf-flows pdf-packets pdf-octets avg-packets avg-octets avg-packet_size \
            single; do
            [ -s "$fm_tmp/agh/plots/$c/$x/$p.pdf" ] || fail "no plots/$c/$x/$p.pdf"
        done
    done
    [ -n "$(ls "$fm_tmp/agh/series/$c")" ] || fail "no series/$c"
done
grep -q 'Number of flows' "$fm_tmp/make.log" || fail "no summary tables"
echo "agh_2015 Makefile: $ran flowmix command lines ran ($n in the Makefile)"

# flow-models' tutorial (docs/tutorial.rst), on the histograms made above
cd "$fm_tmp/agh"
run() { "$@" > "$fm_tmp/t.out" 2> "$fm_tmp/t.err" || fail "tutorial: $* exited $?: $(cat "$fm_tmp/t.err")"; }
run "$FLOWMIX" summary --help
run "$FLOWMIX" summary -x length histograms/all/length.csv
run "$FLOWMIX" summary -x size histograms/all/size.csv
run "$FLOWMIX" plot --help
run "$FLOWMIX" plot histograms/all/length.csv
run "$FLOWMIX" fit --help
run "$FLOWMIX" fit -i 400 -U 6 -L 4 -y flows histograms/all/length.csv
run "$FLOWMIX" fit -i 400 -U 6 -L 4 -y octets histograms/all/length.csv
st=0
"$FLOWMIX" fit -i 100 -L 1 -y packets --interactive histograms/all/length.csv 2> "$fm_tmp/t.err" ||
    st=$?
[ "$st" = 2 ] && [ "$(wc -l < "$fm_tmp/t.err")" = 1 ] && grep -q 'interactive' "$fm_tmp/t.err" ||
    fail "fit --interactive: exit $st: $(cat "$fm_tmp/t.err")"
run "$FLOWMIX" fit -i 100 -L 1 -y packets histograms/all/length.csv
mkdir -p my_mixture && mv flows.json packets.json octets.json my_mixture/
run "$FLOWMIX" plot histograms/all/length.csv my_mixture/
run "$FLOWMIX" generate --help
run "$FLOWMIX" generate -x length -s 20 --seed 0 my_mixture/
[ "$(wc -l < "$fm_tmp/t.out")" = 20 ] || fail "generate -s 20: $(wc -l < "$fm_tmp/t.out") lines"
run "$FLOWMIX" generate -x length -s 20 --seed 1 my_mixture/
echo "tutorial: ok"
