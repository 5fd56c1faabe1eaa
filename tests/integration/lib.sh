# SPDX-License-Identifier: BSD-2-Clause
# Shared helpers for integration tests: a private temporary directory, a free UDP port, starting
# and stopping the real flowmixd, and waiting for readiness without sleeps.  Source it first.
set -eu

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_srcdir:=$top_builddir}"
: "${FM_SHARED:=$top_srcdir/../shared}"
FLOWMIXD="$top_builddir/flowmixd"
FLOWMIXCTL="$top_builddir/flowmixctl"
FLOWMIX="$top_builddir/flowmix"
TDATA="$top_srcdir/tests/data"

fm_tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowmix-test.XXXXXX")
fm_pids=""
fm_cleanup() {
    for p in $fm_pids; do kill "$p" 2>/dev/null || true; done
    for p in $fm_pids; do wait "$p" 2>/dev/null || true; done
    if [ "${FM_KEEP:-0}" = 1 ]; then echo "kept $fm_tmp" >&2; else rm -rf "$fm_tmp"; fi
}
trap fm_cleanup EXIT

skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
need() { for c in "$@"; do command -v "$c" >/dev/null 2>&1 || skip "$c not installed"; done; }

# A free UDP port on 127.0.0.1 (the kernel picks one; small race accepted).
free_udp_port() {
    python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Poll a command until it succeeds, up to $2 seconds (default 20).
wait_for() {
    local tries=$(( ${2:-20} * 20 ))
    while [ $tries -gt 0 ]; do
        if eval "$1" >/dev/null 2>&1; then return 0; fi
        tries=$((tries - 1))
        sleep 0.05
    done
    return 1
}
