# SPDX-License-Identifier: BSD-2-Clause
# Shared helpers of the loopback benchmarks (bench/ingest.sh, bench/store_rate.sh): a private
# temporary directory, ports, starting and stopping the real flowmixd, reading its counters and
# driving `flowmix send`.  Source it after setting B (the build directory); it sets tmp and traps
# EXIT.  No Python: it starts slowly on a loaded machine.
#
# Callers may set: VERSION (NetFlow version for send, default 9), SECS (seconds per send, default
# 2), RCVBUF (default 16M), FM_KEEP=1 (keep $tmp).

VERSION=${VERSION:-9}
SECS=${SECS:-2}
RCVBUF=${RCVBUF:-16M}
for p in "$B/flowmixd" "$B/flowmixctl" "$B/flowmix"; do
    [ -x "$p" ] || { echo "bench: $p not built (run make)" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/flowmix-bench.XXXXXX")
dpid=""; npid=""
bench_cleanup() {
    [ -n "$dpid" ] && kill "$dpid" 2>/dev/null && wait "$dpid" 2>/dev/null
    [ -n "$npid" ] && kill "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
    if [ "${FM_KEEP:-0}" = 1 ]; then echo "kept $tmp" >&2; else rm -rf "$tmp"; fi
}
trap bench_cleanup EXIT

# Ports above 20000 picked from the PID.
port_base=$(( 20000 + $$ % 20000 ))
next_port() { port_base=$((port_base + 1)); }   # sets port_base (no subshell)
bytes() { case $1 in *M) echo $(( ${1%M} * 1048576 ));; *K) echo $(( ${1%K} * 1024 ));; *) echo "$1";; esac; }
rmem_max() { cat /proc/sys/net/core/rmem_max 2>/dev/null || echo '?'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# daemon_conf DIR PORT: write DIR/d.conf for a daemon on 127.0.0.1:PORT with its state in DIR
# (no fits, no exports, uniflows), merged with the sections on stdin: a section the bench gives
# too ([fit], [daemon], ...) gets these keys at its top, so the bench's own keys, later in the
# section, win, and no section appears twice (flowmixd refuses duplicate sections).
daemon_conf() {
    mkdir -p "$1"
    awk -v sd="$1" -v port="$2" -v rcvbuf="$RCVBUF" '
        BEGIN {
            add["daemon"] = "state_dir = " sd "\nlog_level = warning"
            add["listen"] = "udp = 127.0.0.1:" port "\nrcvbuf = " rcvbuf
            add["control"] = "socket = " sd "/control.sock"
            add["fit"] = "interval = 0"
            add["export"] = "interval = 0"
            order[1] = "daemon"; order[2] = "listen"; order[3] = "control"
            order[4] = "fit"; order[5] = "export"
        }
        function section(line, s) {
            if (line !~ /^[ \t]*\[[^]]*\]/) return ""
            s = line; sub(/^[ \t]*\[/, "", s); sub(/\].*/, "", s); return s
        }
        { lines[++n] = $0; s = section($0); if (s in add) has[s] = 1 }
        END {
            for (i = 1; i <= 5; i++) if (!has[order[i]]) print "[" order[i] "]\n" add[order[i]]
            for (i = 1; i <= n; i++) {
                print lines[i]
                s = section(lines[i])
                if (s in add) print add[s]
            }
        }' > "$1/d.conf"
}

# daemon_start DIR: start flowmixd on DIR/d.conf (log DIR/d.log), wait until it answers ping.
# Sets dpid and dsock.
daemon_start() {
    dsock=$1/control.sock
    "$B/flowmixd" -f -c "$1/d.conf" 2>"$1/d.log" &
    dpid=$!
    i=0
    until "$B/flowmixctl" -s "$dsock" ping >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 1200 ] || { echo "flowmixd did not start in 60 s" >&2; cat "$1/d.log" >&2; exit 1; }
        sleep 0.05
    done
}

# daemon_stop: SIGTERM and wait (the final commit is part of the shutdown, not of a run).
daemon_stop() {
    [ -n "$dpid" ] || return 0
    kill "$dpid" 2>/dev/null || true
    wait "$dpid" 2>/dev/null || true
    dpid=""
}

# status KEY: the first counter named KEY in `flowmixctl --json status` (records: the records
# received).  Not the readable layout: it groups counters under titles and is for people.
status() {
    "$B/flowmixctl" -s "$dsock" --json status | grep -o "\"$1\":[0-9.]*" | head -1 | cut -d: -f2
}
drec() { status records; }
# settle CMD: wait until the counter CMD prints stops moving (the socket is drained), print it.
settle() {
    last=-1; cur=$($1)
    while [ "$cur" != "$last" ]; do sleep 0.3; last=$cur; cur=$($1); done
    echo "$cur"
}

# send RATE PORT: SECS seconds of seeded synthetic records at RATE records/s to 127.0.0.1:PORT;
# prints the records sent, the achieved rate and the sender's seconds.
send() {
    # shellcheck disable=SC2086 # SEND_OPTS: extra options, split on purpose
    "$B/flowmix" send -v "$VERSION" --synthetic $(( $1 * SECS )) --seed 7 --rate "$1" \
        ${SEND_OPTS:-} "127.0.0.1:$2" |
        sed -n 's/^sent \([0-9]*\) records.* in \([0-9.]*\) s: \([0-9]*\) records\/s.*/\1 \3 \2/p'
}

# send_for RATE PORT: like send, but for SECS seconds whatever the sender achieves (RATE 0: as
# fast as it can); prints the same three fields.
send_for() {
    "$B/flowmix" send -v "$VERSION" --synthetic 0 --duration "$SECS" --seed 7 --rate "$1" \
        "127.0.0.1:$2" |
        sed -n 's/^sent \([0-9]*\) records.* in \([0-9.]*\) s: \([0-9]*\) records\/s.*/\1 \3 \2/p'
}
