#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `flowmixd --check-config` checks each plugin's own keys through its validate callback (plugin
# ABI 4, issue 17 item 4): for every plugin shipped in plugins/, an unknown key and an invalid
# value make it exit 1 with CONF:LINE of the [plugin.NAME] section, the plugin and the key on
# stderr; a valid section passes and leaves nothing behind (no output directory or file
# created, no broker needed).  Before validate, --check-config passed all of these.
. "$(dirname "$0")/lib.sh"
PLUGDIR="${FM_PLUGIN_BUILD_DIR:-$top_builddir}/plugins/.libs"
for p in csv columnar ftprofile example; do
    [ -f "$PLUGDIR/$p.so" ] || skip "plugin $p not built"
done
port=$(free_udp_port)
n=0

# conf NAME SO: the section [plugin.NAME] with path SO and the keys on stdin, in a config of
# its own; sets cf and line (the section's line) unless run in a pipe's subshell.
conf() {
    n=$((n + 1))
    cf=$fm_tmp/c$n.conf
    { printf '[plugin.%s]\npath = %s\n' "$1" "$2"; cat; } |
        write_conf "$cf" "$fm_tmp/state$n" "$port"
    line=$(grep -n "^\[plugin\.$1\]" "$cf" | cut -d: -f1)
}

# bad NAME SO KEY: --check-config exits 1 naming CONF:LINE, the section and KEY.
bad() {
    conf "$1" "$2"
    expect_error 1 "c$n.conf:$line: \[plugin\.$1\] .*$3" "$FLOWMIXD" --check-config -c "$cf"
    echo "$1: $(cat "$fm_tmp/err")"
}

# good NAME SO: --check-config passes.
good() {
    conf "$1" "$2"
    st=0; "$FLOWMIXD" --check-config -c "$cf" >"$fm_tmp/out" 2>"$fm_tmp/err" || st=$?
    [ "$st" = 0 ] || fail "$1: a valid section failed --check-config ($st): $(cat "$fm_tmp/err")"
}

for p in csv columnar; do
    printf 'dir = %s/out-%s\nbogus = 1\n' "$fm_tmp" "$p" | bad "$p" "$PLUGDIR/$p.so" "unknown key 'bogus'"
    printf 'dir = %s/out-%s\ninterval = 5q\n' "$fm_tmp" "$p" | bad "$p" "$PLUGDIR/$p.so" "interval = 5q"
    printf 'prefix = x\n' | bad "$p" "$PLUGDIR/$p.so" "key 'dir'"
    printf 'dir = %s/out-%s\ninterval = 10m\n' "$fm_tmp" "$p" | good "$p" "$PLUGDIR/$p.so"
    [ ! -e "$fm_tmp/out-$p" ] || fail "$p: --check-config created its output directory"
done
printf 'dir = %s/out-csv\nformat = xml\n' "$fm_tmp" | bad csv "$PLUGDIR/csv.so" "format = xml"

printf 'output = %s/p.csv\ngzip = maybe\n' "$fm_tmp" | bad ftprofile "$PLUGDIR/ftprofile.so" "gzip = maybe"
printf 'output = %s/p.csv\ncompress = yes\n' "$fm_tmp" | bad ftprofile "$PLUGDIR/ftprofile.so" "unknown key 'compress'"
printf 'output = %s/p.csv.gz\n' "$fm_tmp" | good ftprofile "$PLUGDIR/ftprofile.so"
[ ! -e "$fm_tmp/p.csv.gz.part" ] && [ ! -e "$fm_tmp/p.csv.gz" ] ||
    fail "ftprofile: --check-config created its output file"

printf 'summary = %s/sum.txt\nsumary = x\n' "$fm_tmp" | bad example "$PLUGDIR/example.so" "unknown key 'sumary'"
printf 'summary = %s/sum.txt\n' "$fm_tmp" | good example "$PLUGDIR/example.so"

if [ -f "$PLUGDIR/kafka.so" ]; then
    # Port 1 on loopback: nothing listens; validate must neither connect nor wait for it.
    printf 'brokers = 127.0.0.1:1\nhist_format = xml\n' | bad kafka "$PLUGDIR/kafka.so" "hist_format = xml"
    printf 'brokers = 127.0.0.1:1\nkafka.no.such.property = 1\n' |
        bad kafka "$PLUGDIR/kafka.so" "kafka.no.such.property"
    printf 'topic = t\n' | bad kafka "$PLUGDIR/kafka.so" "key 'brokers'"
    printf 'brokers = 127.0.0.1:1\nhistograms = yes\nkafka.message.max.bytes = 1000\n' |
        bad kafka "$PLUGDIR/kafka.so" "message.max.bytes"
    printf 'brokers = 127.0.0.1:1\nhistograms = yes\n' | good kafka "$PLUGDIR/kafka.so"
else
    echo "kafka plugin not built: its keys not checked"
fi

# The same unknown key at start-up (no --check-config): exit 1, the plugin and the key.
printf 'dir = %s/out-start\nbogus = 1\n' "$fm_tmp" > "$fm_tmp/start.keys"
conf csv "$PLUGDIR/csv.so" < "$fm_tmp/start.keys"
expect_error 1 "plugin csv: .*unknown key 'bogus'" "$FLOWMIXD" -f -c "$cf"
[ ! -e "$fm_tmp/out-start" ] || fail "csv: a refused start created the output directory"
echo "start-up: $(grep bogus "$fm_tmp/err" | head -1)"
