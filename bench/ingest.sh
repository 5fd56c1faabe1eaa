#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/ingest: the highest UDP rate over loopback that flowmixd and nfcapd (Debian nfdump)
# each take without loss.  For every step rate the same seeded synthetic datagrams (`flowmix
# send --synthetic`, identical records, only the times differ) go first to flowmixd, then to
# nfcapd; each collector's count of received records gives the loss.  Prints a table and the
# highest lossless step of each.  Bounded: STEPS x 2 x SECONDS plus start-up, < 2 minutes with
# the defaults.
#
# usage: bench/ingest.sh [BUILDDIR]     (default: the current directory)
# env:   RATES="50000 100000 200000 400000 800000"  SECONDS_PER_STEP=2  VERSION=9 (5, 9, 10)
#        RCVBUF=16M (both collectors ask for it; the kernel caps it at net.core.rmem_max)
#        SEND_OPTS="--preload --mtu 9000" (more `flowmix send` options: --preload encodes every
#        datagram before sending, so the sender is not what limits; with IPFIX, --mtu 9000 puts
#        ~200 records in a datagram: loopback's per-datagram cost, which the kernel charges to
#        the sender, then limits it above 10 M records/s on the 2-core machine)
set -eu

B=$(cd "${1:-.}" && pwd)
RATES=${RATES:-"50000 100000 200000 400000 800000"}
SECS=${SECONDS_PER_STEP:-2}
. "$(dirname "$0")/lib.sh"
have_nfcapd=1
command -v nfcapd >/dev/null 2>&1 && command -v nfdump >/dev/null 2>&1 || have_nfcapd=0

# flowmixd: one daemon for the whole run, records counted as deltas of `status`.
next_port; dport=$port_base
daemon_conf "$tmp/state" "$dport" <<EOC
[cache]
memory = 1024
biflow = no
EOC
daemon_start "$tmp/state"

nf_count() {   # nf_count RATE: got_n = records nfcapd stored for one step (fresh nfcapd each)
    next_port; nport=$port_base
    rm -rf "$tmp/nf"; mkdir -p "$tmp/nf"
    nfcapd -w "$tmp/nf" -p "$nport" -b 127.0.0.1 -t 3600 -B "$(bytes "$RCVBUF")" \
        >"$tmp/nfcapd.log" 2>&1 &
    npid=$!
    i=0
    until ss -Hlun "sport = :$nport" | grep -q .; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "nfcapd did not start" >&2; exit 1; }
        sleep 0.05
    done
    send "$1" "$nport" >/dev/null
    sleep 1   # nfcapd has no drain signal; SIGINT flushes what it has
    kill -INT "$npid"; wait "$npid" 2>/dev/null || true; npid=""
    got_n=$(nfdump -R "$tmp/nf" -q -o pipe 2>/dev/null | wc -l)
}

loss() { awk -v s="$1" -v r="$2" 'BEGIN { printf "%.2f", (s > 0) ? 100 * (s - r) / s : 0 }'; }

echo "bench/ingest: NetFlow v$VERSION over loopback, $SECS s per step, rcvbuf $RCVBUF," \
    "send options '${SEND_OPTS:-}'" \
    "(net.core.rmem_max $(rmem_max)), load $(loadavg)"
printf '%9s %9s %9s %17s %7s %16s %7s\n' rate sent achieved flowmixd_received loss% \
    nfcapd_received loss%
best_d=0; best_n=0
for r in $RATES; do
    before=$(settle drec)
    set -- $(send "$r" "$dport")
    sent=$1; achieved=$2
    got_d=$(( $(settle drec) - before ))
    got_n=-
    if [ $have_nfcapd = 1 ]; then nf_count "$r"; fi
    ld=$(loss "$sent" "$got_d")
    ln=-; [ "$got_n" = - ] || ln=$(loss "$sent" "$got_n")
    printf '%9s %9s %9s %17s %7s %16s %7s\n' "$r" "$sent" "$achieved" "$got_d" "$ld" "$got_n" "$ln"
    if [ "$got_d" = "$sent" ]; then best_d=$r; fi
    if [ "$got_n" = "$sent" ]; then best_n=$r; fi
done
echo "kernel_drops reported by flowmixd: $(status kernel_drops)"
echo "highest lossless rate: flowmixd $best_d records/s, nfcapd $best_n records/s" \
    "(0 = none of the steps; the sender's achieved rate caps both)"
