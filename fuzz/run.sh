#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# Build the libFuzzer targets in fuzz/ with clang (-fsanitize=fuzzer,address,undefined) from
# the library *sources* (the gcc-built libflowmix.la is not instrumented), then run each for a
# bounded time and print its executions.  Exits non-zero on any crash, leak, UB report,
# timeout, or when a target runs fewer executions than its FUZZ_MIN_EXECS_<NAME>.
#
#   make fuzz                                  (passes the flags below from the build)
#   FUZZ_SECONDS=10 make fuzz FUZZ_TARGETS='decode ctl'
#
# Environment:
#   FUZZ_SECONDS            seconds per target (default 60); FUZZ_SECONDS_<NAME> overrides
#                           it for one target (NAME upper case: DECODE, DECODE_DIFF, CTL,
#                           CONFIG, HIST_CSV, MIXTURE, FLOWIO).
#   FUZZ_MIN_EXECS_<NAME>   fail when the target ran fewer executions (default 0).
#   FUZZ_TARGETS            targets to build and run (default: all).
#   FUZZ_BUILD              work directory (default ./fuzz-build): objects, corpora, logs,
#                           crash artifacts.  Corpora persist there between runs.
#   FUZZ_CC                 clang (default clang).
#   FUZZ_JOBS               parallel compile jobs (default 2).
#   top_srcdir, top_builddir, FM_FUZZ_PKG_CFLAGS, FM_FUZZ_LIBS,
#   FM_FUZZ_SOURCES         set by `make fuzz`; without them the script finds the sources and
#                           asks pkg-config, and top_builddir (the current directory by
#                           default) must be a configured build holding config.h.
set -eu

srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
builddir=${top_builddir:-$(pwd)}
out=${FUZZ_BUILD:-$(pwd)/fuzz-build}
cc=${FUZZ_CC:-clang}
secs=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-decode decode_diff ctl config hist_csv mixture flowio}

if ! command -v "$cc" >/dev/null 2>&1; then
    echo "fuzz: $cc not found (Debian: apt-get install clang libclang-rt-dev)" >&2
    exit 1
fi
if [ ! -f "$builddir/config.h" ]; then
    echo "fuzz: $builddir/config.h missing: run from a configured build directory" >&2
    exit 1
fi

PKGS="libuv libfixbuf gsl sqlite3 inih jansson libxxhash zlib cairo fontconfig"
if pkg-config --exists libsystemd 2>/dev/null; then
    PKGS="$PKGS libsystemd"
fi
PKGS="$PKGS libpcap"
if grep -q '^#define HAVE_NDPI 1' "$builddir/config.h" 2>/dev/null; then
    PKGS="$PKGS libndpi"
fi
# AM_CPPFLAGS of Makefile.am; the directory macros only matter for defaults never used here
cppflags="-I$srcdir/src -I$srcdir/include -I$builddir -DSYSCONFDIR='\"/etc\"'"
cppflags="$cppflags -DLOCALSTATEDIR='\"/var\"' -DPKGLIBDIR='\"/usr/lib/flowmix\"'"
cppflags="$cppflags -DRUNSTATEDIR='\"/run\"'"
pkgcflags=${FM_FUZZ_PKG_CFLAGS:-$(pkg-config --cflags $PKGS)}
libs=${FM_FUZZ_LIBS:-"$(pkg-config --libs $PKGS) -lm"}
if [ -n "${FM_FUZZ_SOURCES:-}" ]; then
    sources=$FM_FUZZ_SOURCES
else
    sources=$(cd "$srcdir" && ls src/*.c src/decode/*.c src/util/*.c |
              grep -v -e '^src/flowmix\.c$' -e '^src/flowmixd\.c$' -e '^src/flowmixctl\.c$')
fi
san="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
cflags="-std=gnu11 -O1 -g $san -fsanitize=fuzzer-no-link"

# A generated makefile gives correct incremental rebuilds (-MMD header dependencies) for the
# clang build without touching the automake build.
mkdir -p "$out/obj" "$out/logs" "$out/artifacts"
mk="$out/Makefile"
{
    echo "CC = $cc"
    echo "CFLAGS = $cflags $cppflags $pkgcflags -DFM_FUZZ_BUILD=1"
    echo "LIBS = $libs"
    objs=""
    for s in $sources; do
        case $s in *.c) ;; *) continue ;; esac
        o="obj/$(echo "$s" | tr / _ | sed 's/\.c$/.o/')"
        objs="$objs $o"
        # A module that clang cannot compile is left out with a warning rather than stopping
        # every target: only the targets that need it then fail, at link time.
        printf '%s: %s\n\t$(CC) $(CFLAGS) -MMD -MP -c -o $@ %s || { rm -f $@; echo "fuzz: WARNING: %s does not compile with clang, left out of the fuzz library" >&2; }\n' \
            "$o" "$srcdir/$s" "$srcdir/$s" "$s"
    done
    echo "libfm-fuzz.a:$objs"
    printf '\trm -f $@ && ar rcs $@ $$(ls $^ 2>/dev/null)\n'
    all=""
    for t in $targets; do
        all="$all fuzz_$t"
        printf 'fuzz_%s: %s libfm-fuzz.a\n' "$t" "$srcdir/fuzz/fuzz_$t.c"
        printf '\t$(CC) $(CFLAGS) -fsanitize=fuzzer -MMD -MP -MF obj/fuzz_%s.d -o $@ %s libfm-fuzz.a $(LIBS)\n' \
            "$t" "$srcdir/fuzz/fuzz_$t.c"
    done
    echo "all:$all"
    echo ".DEFAULT_GOAL = all"
    echo "-include obj/*.d"
} >"$mk"
echo "=== fuzz: building with $cc into $out"
make -s -C "$out" -j"${FUZZ_JOBS:-2}" all

python3 "$srcdir/fuzz/mkseeds.py" "$srcdir" "$out/seeds"

# What a failure needs to be reproduced, printed again after the summary: CI logs are often
# read from their end only.  The input goes out in base64 when it is small.
failure_detail() {
    printf '\n--- %s\n' "$1"
    grep -m1 '^INFO: Seed' "$2" || true
    grep -m3 -E 'ERROR: |runtime error|decode check:|SUMMARY: ' "$2" || true
    for a in "$out/artifacts/$1-"*; do
        [ -f "$a" ] || continue
        printf 'input %s (%s bytes)\n' "$a" "$(wc -c <"$a")"
        if [ "$(wc -c <"$a")" -le 8192 ]; then
            base64 -w0 "$a"
            printf '\n'
        fi
    done
}

status=0
summary=""
failures=""
for t in $targets; do
    name=$(echo "$t" | tr a-z A-Z)
    tsecs=$(eval "echo \${FUZZ_SECONDS_$name:-$secs}")
    minexec=$(eval "echo \${FUZZ_MIN_EXECS_$name:-0}")
    corpus="$out/corpus/$t"
    mkdir -p "$corpus"
    seeddirs=""
    for d in "$out/seeds/$t"; do
        if [ -d "$d" ]; then
            seeddirs="$seeddirs $d"
        fi
    done
    log="$out/logs/$t.log"
    echo "=== fuzz: $t for ${tsecs}s"
    dict=""
    if [ -f "$srcdir/fuzz/dict/$t.dict" ]; then
        dict="-dict=$srcdir/fuzz/dict/$t.dict"
    fi
    rc=0
    # detect_leaks is libFuzzer's default under ASan; -timeout turns hangs into failures.
    # A 16 MB quarantine (default 256 MB) keeps the decoder's per-input libfixbuf buffers in
    # hot pages: five times the executions, use-after-free still caught within 16 MB.
    # shellcheck disable=SC2086
    ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1:quarantine_size_mb=16} \
    UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
        "$out/fuzz_$t" -max_total_time="$tsecs" -timeout=25 -rss_limit_mb=2048 \
        -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" \
        $dict "$corpus" $seeddirs >"$log" 2>&1 || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    execs=${execs:-0}
    verdict=ok
    if [ "$rc" -ne 0 ]; then
        verdict="FAILED (exit $rc)"
        status=1
        tail -60 "$log"
        ls "$out/artifacts/$t-"* 2>/dev/null || true
        failures="$failures$(failure_detail "$t" "$log")"
    elif [ "$execs" -lt "$minexec" ]; then
        verdict="FAILED (fewer than $minexec executions)"
        status=1
    fi
    ncorpus=$(ls "$corpus" | wc -l)
    line=$(printf '%-10s %6ss %12s execs %6s corpus  %s' "$t" "$tsecs" "$execs" "$ncorpus" \
           "$verdict")
    echo "fuzz: $line"
    summary="$summary
$line"
done
echo "=== fuzz summary (target, time, executions, corpus size, result)$summary"
if [ -n "$failures" ]; then
    echo "=== fuzz failures (replay: $out/fuzz_<target> <input>)$failures"
fi
exit $status
