#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Offline errors are said once (issue 18): a missing input gives exactly one stderr line and exit
# 1 for every command (they printed a log line and then their own line), and a bad option or
# value one line with the reason and "see flowmix CMD --help" and exit 2 (not the whole help).
. "$(dirname "$0")/lib.sh"
[ -x "$FLOWMIX" ] || skip "flowmix not built"
cd "$fm_tmp"
while read -r cmd; do
    st=0
    # shellcheck disable=SC2086
    "$FLOWMIX" $cmd > /dev/null 2> err || st=$?
    [ "$st" = 1 ] || fail "flowmix $cmd: exit $st, want 1"
    [ "$(grep -vc '^Records ' err)" = 1 ] || fail "flowmix $cmd: said $(wc -l < err) times: $(cat err)"
done <<'EOF2'
fit -U 1 nope.csv
summary nope.csv
plot nope.csv
generate nope.csv
hist -i csv_flow nope
merge -i csv_flow nope
sort -k first nope
convert -i binary nope
series -i csv_flow nope
profile nope
profile-plot nope
cut nope
send -q -i csv_flow nope 127.0.0.1:9
EOF2
# meter (only when built with libpcap) printed getopt's line and then its own (issue 17).
cmds="convert merge sort hist fit generate summary plot profile profile-plot send series cut"
cmds="$cmds anonymize series_plot"
if "$FLOWMIX" meter --help > /dev/null 2>&1; then
    cmds="$cmds meter"
    for bad in "--splt abc" "-i" "x.pcap -i lo"; do
        st=0
        # shellcheck disable=SC2086
        "$FLOWMIX" meter $bad > /dev/null 2> err || st=$?
        [ "$st" = 2 ] && [ "$(wc -l < err)" = 1 ] && grep -q "see flowmix meter --help" err ||
            fail "flowmix meter $bad: exit $st: $(cat err)"
    done
fi
for cmd in $cmds; do
    st=0
    "$FLOWMIX" "$cmd" --no-such-option x > /dev/null 2> err || st=$?
    [ "$st" = 2 ] || fail "flowmix $cmd --no-such-option: exit $st, want 2"
    [ "$(wc -l < err)" = 1 ] && grep -q "see flowmix $cmd --help" err ||
        fail "flowmix $cmd --no-such-option: $(cat err)"
done
st=0; "$FLOWMIX" nosuch 2> err || st=$?
[ "$st" = 2 ] && [ "$(wc -l < err)" = 1 ] || fail "unknown subcommand: $(cat err)"
exit 0
