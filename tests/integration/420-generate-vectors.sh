#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# flowmix generate reproduces flow-models generate's random streams: the test vectors of
# FLOW-MODELS-DETAIL §8.4 (published agh_2015 mixtures and histograms, seed 0).
. "$(dirname "$0")/lib.sh"
M="$TDATA/agh_2015/mixtures/all"
H="$FM_SHARED/data/agh_2015/histograms/all"

pk_oct() { awk -F', ' 'NF != 21 { exit 1 } { printf "%s %s; ", $19, $20 }'; }
check() {
    want=$1; shift
    got=$("$FLOWMIX" generate "$@" | pk_oct) || fail "generate $*: bad output"
    [ "$got" = "$want" ] || fail "generate $*: got '$got', want '$want'"
}
check "2 257; 4 752; 2 257; 2 258; 2 257; 3 491; 2 257; 87 51132; 937 628162; 1 150; " \
    -s 10 --seed 0 -x length "$M/length"
check "4 684; 35 8922; 2 341; 3 458; 2 195; 5 872; 1 122; 9 1643; 425 168014; 2 149; " \
    -s 10 --seed 0 -x size "$M/size"
# Every field but packets and octets is 0, as in flow-models.
line=$("$FLOWMIX" generate --seed 0 "$M/length")
[ "$line" = "0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 257, 0" ] ||
    fail "csv_flow line: $line"
# Different seeds differ; -O writes a file.
[ "$("$FLOWMIX" generate -s 5 --seed 1 "$M/length" | pk_oct)" != \
  "$("$FLOWMIX" generate -s 5 --seed 0 "$M/length" | pk_oct)" ] || fail "seed ignored"
"$FLOWMIX" generate -s 3 --seed 0 -O "$fm_tmp/o.csv" "$M/length"
[ "$(wc -l < "$fm_tmp/o.csv")" = 3 ] || fail "-O output"
# Bad arguments are errors.
if "$FLOWMIX" generate -s 0 "$M/length" 2>/dev/null; then fail "-s 0 on a mixture accepted"; fi
if "$FLOWMIX" generate -x duration "$M/length" 2>/dev/null; then fail "-x duration accepted"; fi
if "$FLOWMIX" generate "$fm_tmp/missing" 2>/dev/null; then fail "missing input accepted"; fi

if [ -f "$H/length.csv" ]; then
    check "2 266; 4 740; 2 266; 2 266; 1 150; " -s 5 --seed 0 "$H/length.csv"
    check "2 225; 4 532; 2 304; 3 218; 1 149; " -s 5 --seed 0 -x size "$H/size.csv"
else
    echo "agh_2015 histograms not found; histogram-mode vectors skipped" >&2
fi
