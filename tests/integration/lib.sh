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

# A free TCP port on 127.0.0.1 (the same small race).
free_tcp_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
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

# Start flowmixd in the foreground with config file $1, logging to $fm_tmp/$2.log (stdout to
# $fm_tmp/$2.out) and further arguments passed on (e.g. --dump); waits until its control socket
# answers (flowmixctl ping).  Sets fm_daemon_pid.
start_daemon() {
    conf=$1; name=$2
    shift 2
    sock=$(sed -n 's/^socket *= *//p' "$conf")
    "$FLOWMIXD" -f -c "$conf" "$@" >"$fm_tmp/$name.out" 2>"$fm_tmp/$name.log" &
    fm_daemon_pid=$!
    fm_pids="$fm_pids $fm_daemon_pid"
    wait_for "'$FLOWMIXCTL' -s '$sock' ping" 30 ||
        fail "flowmixd did not become ready: $(tail -5 "$fm_tmp/$name.log")"
}

# Stop the daemon with SIGTERM and check the exit status, the clean-shutdown line and that the
# log has no error lines (other than ones matching the optional pattern $2, expected by a test).
stop_daemon() {
    name=$1
    allowed=${2:-^\$}
    kill -TERM "$fm_daemon_pid"
    st=0; wait "$fm_daemon_pid" || st=$?
    [ "$st" = 0 ] || fail "flowmixd exited with status $st: $(tail -5 "$fm_tmp/$name.log")"
    grep -q 'clean shutdown' "$fm_tmp/$name.log" || fail "no clean shutdown line in $name.log"
    if grep '\[error\]' "$fm_tmp/$name.log" | grep -qv -e "$allowed"; then
        fail "error lines in $name.log: $(grep '\[error\]' "$fm_tmp/$name.log" | head -3)"
    fi
}

# Write a daemon config for tests: $1 file, $2 state dir, $3 UDP port; extra lines on stdin.
# A section repeated in the extra lines would be an error (flowmixd.conf(5)), so the keys set
# here go into the extra lines' [daemon], [listen] and [control] when they have them; the extra
# lines' own keys come after and win.
write_conf() {
    awk -v sd="$2" -v port="$3" -v workers="${FLOWMIX_TEST_WORKERS:-}" '
        BEGIN {
            add["daemon"] = "state_dir = " sd "\nlog_level = info"
            if (workers != "") add["daemon"] = add["daemon"] "\nworkers = " workers
            add["listen"] = "udp = 127.0.0.1:" port
            add["control"] = "socket = " sd "/control.sock"
            order[1] = "daemon"; order[2] = "listen"; order[3] = "control"
        }
        { lines[++n] = $0 }
        /^[ \t]*\[(daemon|listen|control)\]/ { s = $0; sub(/^[ \t]*\[/, "", s); sub(/\].*/, "", s); has[s] = 1 }
        END {
            for (i = 1; i <= 3; i++) if (!has[order[i]]) print "[" order[i] "]\n" add[order[i]]
            for (i = 1; i <= n; i++) {
                print lines[i]
                s = lines[i]
                if (s ~ /^[ \t]*\[(daemon|listen|control)\]/) {
                    sub(/^[ \t]*\[/, "", s); sub(/\].*/, "", s); print add[s]
                }
            }
        }' > "$1"
}

# Run a command that must fail: exit status $1 and a stderr line matching the grep pattern $2
# (e.g. 'file.csv:3:'); the rest is the command.  Standard output goes to $fm_tmp/out.
expect_error() {
    want=$1 pat=$2
    shift 2
    st=0; "$@" >"$fm_tmp/out" 2>"$fm_tmp/err" || st=$?
    [ "$st" = "$want" ] || fail "$* exited $st, want $want: $(cat "$fm_tmp/err")"
    grep -q -- "$pat" "$fm_tmp/err" || fail "$*: no '$pat' in: $(cat "$fm_tmp/err")"
}
