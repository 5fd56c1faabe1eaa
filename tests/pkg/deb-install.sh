#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The Debian packages as an operator meets them (CI, root, after dpkg-buildpackage): install
# flowmix and flowmix-dev from DIR with apt-get, run flowmixd --check-config on the shipped
# configuration (a conffile), flowmix --version, flowmixctl --version, build the example
# plugin from the docs with pkg-config flowmix-plugin; then edit the configuration, remove the
# packages, reinstall, and check the edit survived (remove keeps conffiles, reinstall does not
# overwrite them); purge at the end.  Usage: deb-install.sh DIR
set -eu
dir=$(cd "${1:?usage: deb-install.sh DIR-with-debs}" && pwd)
conf=/etc/flowmix/flowmixd.conf
fail() { echo "FAIL: $*" >&2; exit 1; }
export DEBIAN_FRONTEND=noninteractive
apt_install() { apt-get install -y -q --no-install-recommends "$@" >/tmp/flowmix-apt.log 2>&1 ||
                    fail "apt-get install $*: $(tail -5 /tmp/flowmix-apt.log)"; }

apt_install "$dir"/flowmix_*.deb "$dir"/flowmix-dev_*.deb
dpkg-query -W -f '${Conffiles}\n' flowmix | grep -q " $conf " || fail "$conf is not a conffile"
flowmixd --check-config -c "$conf" || fail "flowmixd --check-config rejects the shipped $conf"
flowmix --version | grep -q '^flowmix [0-9]' || fail "flowmix --version: $(flowmix --version)"
flowmixctl --version | grep -q '^flowmixctl [0-9]' || fail "flowmixctl --version"
getent passwd flowmix >/dev/null || fail "no flowmix system user after install"
[ -f /lib/systemd/system/flowmixd.service ] || fail "no flowmixd.service"

# Plugin authors: the example from the docs builds against the installed header by pkg-config.
tmp=$(mktemp -d)
cp /usr/share/doc/flowmix/examples/plugin/example.c /usr/share/doc/flowmix/examples/plugin/Makefile.example "$tmp/"
make -s -C "$tmp" -f Makefile.example >/dev/null || fail "the example plugin does not build"
[ -f "$tmp/example.so" ] || fail "no example.so"
case $(pkg-config --variable=plugindir flowmix-plugin) in
    /usr/lib/*/flowmix/plugins) ;;
    *) fail "plugindir: $(pkg-config --variable=plugindir flowmix-plugin)" ;;
esac
rm -rf "$tmp"

# An edited conffile survives remove + reinstall.
echo "# edited by the operator" >> "$conf"
apt-get remove -y -q flowmix-dev flowmix >/dev/null 2>&1 || fail "apt-get remove"
[ -f "$conf" ] || fail "remove deleted the conffile"
[ ! -e /usr/sbin/flowmixd ] || fail "flowmixd still installed after remove"
apt_install "$dir"/flowmix_*.deb
tail -1 "$conf" | grep -q 'edited by the operator' || fail "reinstall overwrote the edited $conf"
flowmixd --check-config -c "$conf" || fail "--check-config after reinstall"
apt-get purge -y -q flowmix >/dev/null 2>&1 || fail "apt-get purge"
[ ! -e "$conf" ] || fail "purge left $conf"
echo "PASS: packages install, check their configuration, keep an edited conffile, purge"
