#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# bench/meter.sh BUILDDIR: packets per second of `flowmix meter` on one large generated capture
# (bench/pcapgen: PACKETS packets over FLOWS flows, default 3 M over 300 k), in the same run as
# softflowd -r and nfpcapd -r (Debian packages) on the same file.  flowmix is measured with nDPI
# off (--dissections 0) and nfstream's CSV to /dev/null, then with nDPI on (its cost), then with
# -f binary output.  Each program's figure is the best of RUNS runs (default 3) of wall time;
# user CPU seconds are printed beside it, and the load average with every figure (the machine
# may be shared).  Runs under flock /tmp/fm-bench.lock.
set -eu
B=${1:-.}
B=$(cd "$B" && pwd)
PACKETS=${PACKETS:-3000000}
FLOWS=${FLOWS:-300000}
RUNS=${RUNS:-3}
WORK=${WORK:-${TMPDIR:-/tmp}/flowmix-bench-meter}
mkdir -p "$WORK"
cap="$WORK/gen-$PACKETS-$FLOWS.pcap"
[ -f "$cap" ] || "$B/bench/pcapgen" "$cap" "$PACKETS" "$FLOWS"

# best wall seconds and its user seconds of RUNS runs of a command
measure() {
    best=""
    i=0
    while [ $i -lt "$RUNS" ]; do
        /usr/bin/time -f '%e %U' -o "$WORK/time" "$@" >/dev/null 2>"$WORK/err" ||
            { echo "failed: $* : $(tail -3 "$WORK/err")" >&2; exit 1; }
        read -r wall user < "$WORK/time"
        if [ -z "$best" ] || awk "BEGIN{exit !($wall < $best)}"; then best=$wall; bestuser=$user; fi
        i=$((i + 1))
    done
    echo "$best $bestuser"
}

report() { # name wall user
    pps=$(awk "BEGIN{printf \"%.2f\", $PACKETS / $2 / 1e6}")
    printf '%-40s %8.2f s  %6.2f s user  %7s M packets/s   load %s\n' "$1" "$2" "$3" "$pps" \
        "$(cut -d' ' -f1-3 /proc/loadavg)"
    eval "pps_$4=$pps"
}

exec 9>/tmp/fm-bench.lock
flock 9
echo "capture: $cap ($PACKETS packets, $FLOWS flows), best of $RUNS"
uptime
set -- $(measure "$B/flowmix" meter --dissections 0 -o /dev/null "$cap"); report "flowmix meter (nDPI off, CSV)" "$1" "$2" fm
set -- $(measure "$B/flowmix" meter --dissections 0 -f binary -o "$WORK/bin" "$cap"); report "flowmix meter (nDPI off, -f binary)" "$1" "$2" fmbin
set -- $(measure softflowd -r "$cap" -n 127.0.0.1:9 -d -c none -m 1000000); report "softflowd -r" "$1" "$2" sf
rm -rf "$WORK/nfp"; mkdir -p "$WORK/nfp"
set -- $(measure nfpcapd -r "$cap" -w "$WORK/nfp"); report "nfpcapd -r" "$1" "$2" nfp
set -- $(measure "$B/flowmix" meter -o /dev/null "$cap"); report "flowmix meter (nDPI on, 20 dissections)" "$1" "$2" fmdpi
awk "BEGIN{printf \"ratios (nDPI off, CSV): %.1fx softflowd (target 5), %.1fx nfpcapd (target 8); nDPI on costs %.1fx\n\", $pps_fm / $pps_sf, $pps_fm / $pps_nfp, $pps_fm / $pps_fmdpi}"
uptime
