#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# The threaded parts under ThreadSanitizer (gcc -fsanitize=thread): configures a TSan build in
# BUILDDIR (default ${TMPDIR:-/tmp}/flowmix-tsan; reused when it already has a Makefile), builds
# only what the tests below need, and runs them with halt_on_error, so any data race, lock-order
# inversion or unsafe signal use fails the run:
#   test_plugin    plugin host: one worker thread per plugin, bounded queues, drain at stop
#   test_ctl       control server on a loop in a second thread, driven from the test thread
#   test_fit       two EM fits on two threads at once (reentrancy)
#   060-export.sh  the real flowmixd with its thread-pool jobs (uv_queue_work): SQLite commits,
#                  GSL fits and export snapshots, results applied on the loop thread
#   614-daemon-capture.sh  flowmixd with an [input.capture] thread metering a capture file,
#                  its flows handed to the loop through a uv_async handle
#   test_daemon_modules  committer, fit scheduler and exporter jobs on a real loop
#   072-ctl-during-commit.sh  ctl reads on the read-only connection in the thread pool while
#                  the committer writes on its own (commits slowed to 1 s)
#   test_shard     cache shards on threads: SPSC rings, control messages, sync and flush
#   075-workers-identical.sh  flowmixd with workers = 1 and 2 on the same exports
#   The daemon tests run with [daemon] workers = 2 (FLOWMIX_TEST_WORKERS): records cross to
#   the cache shard threads, whose deltas the loop merges at ticks, queries and commits.
#   212-bad-plugins.sh  (TSAN_FULL=1 only) the real flowmixd with good, failing and slow
#                  plugins under v5 traffic; about 55 s under TSan, as every daemon start
#                  prefaults its 256 MiB cache through TSan's memset
# Reports that are not races in flowmix go in tests/tsan.supp, each with its reason.  CI runs
# the default set (1 m 50 s from a fresh clone on the 2-core machine, configure and build
# included).
#
# usage: [TSAN_FULL=1] tests/tsan.sh [BUILDDIR]   exit: 0 pass, 1 a test or TSan failed, 77 no
#        TSan toolchain
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
b=${1:-${TMPDIR:-/tmp}/flowmix-tsan}
mkdir -p "$b"
b=$(cd "$b" && pwd)

# gcc needs libtsan; a toolchain without it cannot link the probe.
probe="$b/probe"
printf 'int main(void) { return 0; }\n' > "$probe.c"
if ! ${CC:-gcc} -fsanitize=thread "$probe.c" -o "$probe" 2>/dev/null || ! "$probe"; then
    echo "SKIP: ${CC:-gcc} -fsanitize=thread does not link or run here" >&2
    exit 77
fi

cd "$b"
if [ ! -f Makefile ]; then
    "$src/configure" -q CFLAGS='-O1 -g -fsanitize=thread -fno-omit-frame-pointer' \
        LDFLAGS='-fsanitize=thread' >/dev/null
fi
make -j2 flowmixd flowmixctl flowmix test_plugin test_ctl test_fit test_daemon_modules test_shard \
    plugins/example.la \
    tests/plugins/tp_record.la tests/plugins/tp_badabi.la tests/plugins/tp_nosym.la \
    tests/plugins/tp_nofini.la tests/plugins/tp_abi1.la plugins/csv.la >/dev/null

# exitcode 66: a TSan report, told apart from a test's own failure in the summary.
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 history_size=4"
TSAN_OPTIONS="$TSAN_OPTIONS suppressions=$src/tests/tsan.supp"
top_srcdir=$src
top_builddir=$b
FM_PLUGIN_BUILD_DIR=$b
FM_SHARED=${FM_SHARED:-$src/../shared}
FLOWMIX_TEST_WORKERS=2
export TSAN_OPTIONS top_srcdir top_builddir FM_PLUGIN_BUILD_DIR FM_SHARED FLOWMIX_TEST_WORKERS

failed=0
run() {
    name=$1
    shift
    t0=$(date +%s)
    st=0
    "$@" > "$b/$name.log" 2>&1 || st=$?
    t=$(($(date +%s) - t0))
    case $st in
        0) echo "PASS: $name (${t} s)" ;;
        77) echo "SKIP: $name" ;;
        66) echo "FAIL: $name: ThreadSanitizer report (${t} s)"; failed=1 ;;
        *) echo "FAIL: $name: exit $st (${t} s)"; failed=1 ;;
    esac
    # A report from a daemon started by a script lands in that script's temporary logs; the
    # scripts fail on any error line, and TSan's "WARNING:" is checked here as well.
    if grep -q 'ThreadSanitizer' "$b/$name.log"; then
        [ $st = 66 ] || { echo "FAIL: $name: ThreadSanitizer report in its log"; failed=1; }
        grep -A30 'WARNING: ThreadSanitizer' "$b/$name.log" | head -60
    elif [ $st != 0 ] && [ $st != 77 ]; then
        tail -20 "$b/$name.log"
    fi
}
run test_plugin ./test_plugin
run test_ctl ./test_ctl
run test_fit ./test_fit
run test_daemon_modules ./test_daemon_modules
run test_shard ./test_shard
FM_KEEP=1 run 060-export sh "$src/tests/integration/060-export.sh"
FM_KEEP=1 run 614-daemon-capture sh "$src/tests/integration/614-daemon-capture.sh"
FM_KEEP=1 run 072-ctl-during-commit sh "$src/tests/integration/072-ctl-during-commit.sh"
FM_KEEP=1 run 075-workers-identical sh "$src/tests/integration/075-workers-identical.sh"
rm -f "$b/212-bad-plugins.log"
if [ "${TSAN_FULL:-0}" = 1 ]; then
    FM_KEEP=1 run 212-bad-plugins sh "$src/tests/integration/212-bad-plugins.sh"
fi
# The daemons' own stderr (where TSan writes) is in the kept temporary directories.
for d in $(sed -n 's/^kept //p' "$b"/060-export.log "$b"/072-ctl-during-commit.log \
    "$b"/075-workers-identical.log \
    "$b"/212-bad-plugins.log "$b"/614-daemon-capture.log 2>/dev/null); do
    if grep -l 'ThreadSanitizer' "$d"/*.log "$d"/*/*.log 2>/dev/null; then
        echo "FAIL: ThreadSanitizer report from a flowmixd in $d"
        grep -h -A30 'WARNING: ThreadSanitizer' "$d"/*.log "$d"/*/*.log 2>/dev/null | head -60
        failed=1
    else
        rm -rf "$d"
    fi
done
exit $failed
