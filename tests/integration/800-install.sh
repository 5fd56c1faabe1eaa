#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# `make install DESTDIR=...` from the build tree: programs, configuration, man pages, guide,
# README/NEWS/COPYING, the example plugin's source (not the plugin), plugin.h with its
# pkg-config file, systemd unit and sysusers.d file land where they belong; an edited
# configuration survives a second install (and uninstall); the unit has @sbindir@ substituted
# and every required directive; systemd-analyze verifies it and rates its exposure <= 2.0 (when
# systemd-analyze is installed); `make uninstall` removes every file again.
. "$(dirname "$0")/lib.sh"
need make

dest=$fm_tmp/dest
make -C "$top_builddir" install DESTDIR="$dest" >"$fm_tmp/install.log" 2>&1 ||
    fail "make install failed: $(tail -20 "$fm_tmp/install.log")"

# One installed file whose path ends in $1; fails unless exactly one matches.
installed() {
    n=$(find "$dest" -path "*/$1" | wc -l)
    [ "$n" -eq 1 ] || fail "expected one installed */$1, found $n: $(find "$dest" -type f | head -30)"
    find "$dest" -path "*/$1"
}

for f in sbin/flowmixd bin/flowmix; do
    p=$(installed "$f")
    [ -x "$p" ] || fail "$p is not executable"
done
if [ -x "$top_builddir/flowmixctl" ]; then
    installed bin/flowmixctl >/dev/null
fi
conf=$(installed etc/flowmix/flowmixd.conf)
cmp -s "$conf" "$top_srcdir/etc/flowmixd.conf" || fail "installed config differs from etc/flowmixd.conf"
for m in man8/flowmixd.8 man1/flowmix.1 man5/flowmixd.conf.5; do
    p=$(installed "share/man/$m")
    grep -q '^\.TH' "$p" || fail "$p is not a man page"
done
if [ -f "$top_srcdir/doc/flowmixctl.1.scd" ]; then
    installed share/man/man1/flowmixctl.1 >/dev/null
fi
installed share/doc/flowmix/guide.md >/dev/null
for f in README.md NEWS COPYING examples/plugin/example.c examples/plugin/Makefile.example; do
    installed "share/doc/flowmix/$f" >/dev/null
done
# The example plugin is documentation, not a production plugin.
[ -z "$(find "$dest" -name 'example.so')" ] || fail "example.so installed: $(find "$dest" -name example.so)"
pc=$(installed lib/pkgconfig/flowmix-plugin.pc)
installed include/flowmix/plugin.h >/dev/null
# pkg-config points plugin authors at the installed header and plugin directory.
if command -v pkg-config >/dev/null 2>&1; then
    inc=$(PKG_CONFIG_SYSROOT_DIR="$dest" PKG_CONFIG_PATH="${pc%/*}" pkg-config --cflags flowmix-plugin)
    inc=$(echo $inc)
    [ -f "${inc#-I}/flowmix/plugin.h" ] || fail "pkg-config --cflags gives '$inc', no plugin.h there"
    pdir=$(PKG_CONFIG_PATH="${pc%/*}" pkg-config --variable=plugindir flowmix-plugin)
    case $pdir in */flowmix/plugins) ;; *) fail "plugindir is $pdir" ;; esac
fi

# An edited configuration survives a second `make install`; the shipped one lands beside it.
echo "# edited by the operator" >> "$conf"
make -C "$top_builddir" install DESTDIR="$dest" >"$fm_tmp/install2.log" 2>&1 ||
    fail "second make install failed: $(tail -20 "$fm_tmp/install2.log")"
tail -1 "$conf" | grep -q 'edited by the operator' || fail "make install overwrote the edited $conf"
cmp -s "$conf.new" "$top_srcdir/etc/flowmixd.conf" || fail "no fresh $conf.new beside the edited one"

# The unit and the sysusers.d file are installed only with libsystemd (Type=notify needs it).
if grep -q '^#define HAVE_SYSTEMD 1' "$top_builddir/config.h"; then
    unit=$(installed lib/systemd/system/flowmixd.service)
    sysusers=$(installed lib/sysusers.d/flowmix.conf)
    grep -q '@[a-z_]*@' "$unit" && fail "unsubstituted @variable@ in $unit"
    grep -Eq '^u[[:space:]]+flowmix[[:space:]]' "$sysusers" || fail "no flowmix user in $sysusers"
    sbin_path=$(installed sbin/flowmixd)
    sbin_path=${sbin_path#"$dest"}
    for d in "Type=notify" "NotifyAccess=main" "WatchdogSec=30" \
        "ExecStart=$sbin_path -f -c /etc/flowmix/flowmixd.conf" \
        'ExecReload=/bin/kill -HUP $MAINPID' \
        "User=flowmix" "Group=flowmix" "StateDirectory=flowmix" "RuntimeDirectory=flowmix" \
        "ConfigurationDirectory=flowmix" "ProtectSystem=strict" "ProtectHome=yes" \
        "PrivateTmp=yes" "PrivateDevices=yes" "NoNewPrivileges=yes" \
        "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "CapabilityBoundingSet=" \
        "AmbientCapabilities=" "SystemCallFilter=@system-service" \
        "SystemCallArchitectures=native" "MemoryDenyWriteExecute=yes" "LockPersonality=yes" \
        "RestrictRealtime=yes" "RestrictNamespaces=yes" "RestrictSUIDSGID=yes" \
        "ProtectKernelTunables=yes" "ProtectKernelModules=yes" "ProtectKernelLogs=yes" \
        "ProtectControlGroups=yes" "ProtectClock=yes" "ProtectHostname=yes" \
        "ProtectProc=invisible" "ProcSubset=pid" "UMask=0027" "RemoveIPC=yes" \
        "DevicePolicy=closed" "WantedBy=multi-user.target"; do
        grep -qxF "$d" "$unit" || fail "$unit lacks the line '$d'"
    done
    grep -q '^IPAddressDeny=' "$unit" && fail "IPAddressDeny= would block exporters"

    if command -v systemd-analyze >/dev/null 2>&1; then
        # Verify a copy whose ExecStart= points into DESTDIR, where the binary really is.
        mkdir -p "$fm_tmp/verify"
        sed "s|^ExecStart=|ExecStart=$dest|" "$unit" >"$fm_tmp/verify/flowmixd.service"
        systemd-analyze verify --man=no "$fm_tmp/verify/flowmixd.service" \
            >"$fm_tmp/verify.log" 2>&1 || fail "systemd-analyze verify: $(cat "$fm_tmp/verify.log")"
        if systemd-analyze security --offline=yes "$unit" >"$fm_tmp/security.log" 2>&1; then
            score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' \
                "$fm_tmp/security.log")
            [ -n "$score" ] || fail "no exposure level in: $(tail -3 "$fm_tmp/security.log")"
            awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' || fail "exposure $score > 2.0"
            echo "systemd-analyze security: exposure $score"
        else
            echo "systemd-analyze security --offline not supported here; not rated"
        fi
    else
        echo "systemd-analyze not installed; unit not verified"
    fi
else
    echo "built without libsystemd; unit not installed"
fi

make -C "$top_builddir" uninstall DESTDIR="$dest" >"$fm_tmp/uninstall.log" 2>&1 ||
    fail "make uninstall failed: $(tail -20 "$fm_tmp/uninstall.log")"
# The edited configuration is the operator's: uninstall keeps it, and removes everything else.
left=$(find "$dest" -type f -o -type l)
[ "$left" = "$conf" ] || fail "make uninstall left files other than the edited config: $left"
exit 0
