#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Install what flowmix needs to build, run and test on Debian (bookworm or later).
# The one list of packages: README.md and .ci/run both use this script.
set -eu

BUILD="build-essential autoconf automake libtool pkg-config
  libuv1-dev libfixbuf-dev libgsl-dev libsqlite3-dev libinih-dev libjansson-dev
  libxxhash-dev zlib1g-dev libsystemd-dev libcairo2-dev scdoc librdkafka-dev
  libpcap-dev libndpi-dev libmicrohttpd-dev"
TEST="libcmocka-dev sqlite3 softflowd nfdump libfixbuf-tools python3 python3-numpy
  python3-scipy python3-pandas python3-scapy libxml2-utils systemd prometheus tcpreplay iproute2"
# Debian packages (.ci/run: dpkg-buildpackage, lintian).
PKG="debhelper dh-autoreconf dpkg-dev lintian"
# Fuzzing only (`make fuzz`, fuzz/run.sh): clang with its libFuzzer and sanitizer runtimes.
FUZZ="clang libclang-rt-dev"

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
if [ "${FM_SKIP_APT_UPDATE:-0}" != 1 ]; then
    $SUDO apt-get update -q
fi
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $BUILD $TEST $PKG $FUZZ
