#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Configuration bounds (issue 20 items 7 and 12) through the real flowmixd: --check-config
# refuses max_templates = 0 (which used to start, log "ready" and drop every datagram
# uncounted), a plugin name escaping plugin_dir, an exporter whose inactive timeout exceeds its
# active one (used to be logged as applied, then silently rejected), an over-long line (used to
# be a bare "syntax error") and a cache larger than the machine (used to fail, then segfault on
# the shutdown path); a plugin in a world-writable directory loads with a warning.
. "$(dirname "$0")/lib.sh"
TP="${FM_PLUGIN_BUILD_DIR:-$top_builddir}/tests/plugins/.libs"

port=$(free_udp_port)
# bad NAME PATTERN: the config on stdin is refused by --check-config with PATTERN.
bad() {
    write_conf "$fm_tmp/$1.conf" "$fm_tmp/$1" "$port"
    expect_error 1 "$2" "$FLOWMIXD" --check-config -c "$fm_tmp/$1.conf"
    echo "$1: $(head -1 "$fm_tmp/err")"
}
printf '[listen]\nmax_templates = 0\n' | bad templates "max_templates.*at least 1"
printf '[plugin.../../x]\ndir = /tmp\n' | bad escape "a plugin name is letters"
printf '[exporter.a]\naddress = 192.0.2.1\nactive_timeout = 10\ninactive_timeout = 20\n' |
    bad exporter "inactive_timeout (20 s) is above active_timeout (10 s)"
# write_conf puts the long line after its own [daemon] keys (line 8, or 9 with
# FLOWMIX_TEST_WORKERS): the error names the line it is on.
printf '[daemon]\n# %0300d\n' 0 > "$fm_tmp/longline.in"
write_conf "$fm_tmp/ll.conf" "$fm_tmp/ll" "$port" < "$fm_tmp/longline.in"
n=$(grep -n '^# 000' "$fm_tmp/ll.conf" | cut -d: -f1)
bad longline ":$n: line longer than 198 characters" < "$fm_tmp/longline.in"
printf '[cache]\nmemory = 1048576\n' | bad bigcache "MiB of RAM"

[ -f "$TP/tp_record.so" ] || skip "test plugin tp_record not built (make check builds it)"
mkdir -p "$fm_tmp/pd"
cp "$TP/tp_record.so" "$fm_tmp/pd/rec.so"
chmod 0777 "$fm_tmp/pd"
write_conf "$fm_tmp/d.conf" "$fm_tmp/state" "$port" <<EOC
[daemon]
plugin_dir = $fm_tmp/pd
[fit]
interval = 0
[export]
interval = 0
[plugin.rec]
out = $fm_tmp/rec.bin
EOC
start_daemon "$fm_tmp/d.conf" d
grep -q "plugin rec: directory $fm_tmp/pd is writable by everyone" "$fm_tmp/d.log" ||
    fail "no warning for a world-writable plugin_dir: $(grep plugin "$fm_tmp/d.log")"
stop_daemon d
echo "world-writable plugin_dir: $(grep -o 'plugin rec: directory.*' "$fm_tmp/d.log")"
