#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""One error convention (issue 17 item 6; STYLE §4): functions return 0 (or a count/index) on
success and a negative FM_E code on failure, and every libuv result is looked at.

usage: errcodes.py [TOP_SRCDIR]   (default $top_srcdir, else .)
Reads every .c file under src/ and plugins/ (comments and strings removed) and reports:
  - `return -1;` and `return COND ? -1 : 0;` / `? 0 : -1;`: -1 is -EPERM among the FM_E codes,
    so a caller printing fm_strerror() says "Operation not permitted".  Use the FM_E code that
    says what failed (FM_EINVAL for an unknown name or bad value, FM_ENOMEM, FM_EFORMAT, ...);
    plugins, which link nothing from flowmix, use -errno (-EINVAL, -ERANGE, ...), the same
    numbers.  A sentinel that is not an error (a node index, "stop reading") gets a name.
  - a statement that calls an int-returning uv_* function and drops its result: check it, or
    cast it to (void) with a comment saying why it cannot fail.
Comparison functions (`x < y ? -1 : 1`) are not affected.
Exits 1 on any finding, 0 otherwise.

EXCEPTIONS lists the functions the first rule does not apply to, each with the reason.
"""
import os
import re
import sys

EXCEPTIONS = [
    # (file pattern, function pattern, reason).  The toolkit's option parsers follow getopt's
    # driver protocol: they return the process's exit status (0 after --help, 2 after a usage
    # error, printed) or -1 for "go on", and only the subcommand's main calls them.
    (re.compile(r"^src/cmd/cmd_[a-z_]+\.c$"), re.compile(r"^(parse|place)_args$"),
     "subcommand option parsers return an exit status or -1 = go on"),
]

# libuv functions returning void.
UV_VOID = {
    "uv_close", "uv_ref", "uv_unref", "uv_update_time", "uv_stop", "uv_walk",
    "uv_print_all_handles", "uv_print_active_handles", "uv_handle_set_data", "uv_req_set_data",
    "uv_loop_set_data",
    "uv_library_shutdown", "uv_mutex_lock", "uv_mutex_unlock", "uv_mutex_destroy",
    "uv_cond_signal", "uv_cond_broadcast", "uv_cond_wait", "uv_cond_destroy", "uv_rwlock_rdlock",
    "uv_rwlock_wrlock", "uv_rwlock_rdunlock", "uv_rwlock_wrunlock", "uv_rwlock_destroy",
    "uv_once", "uv_sem_post", "uv_sem_wait", "uv_sem_destroy", "uv_barrier_destroy",
    "uv_fs_req_cleanup", "uv_freeaddrinfo", "uv_os_free_passwd", "uv_os_free_environ",
    "uv_free_interface_addresses", "uv_free_cpu_info", "uv_timer_set_repeat", "uv_disable_stdio",
    "uv_loadavg", "uv_key_set", "uv_key_delete", "uv_dlclose",
}

COMMENT = re.compile(r"/\*.*?\*/|//[^\n]*", re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
RET_MINUS1 = re.compile(r"\breturn\s+-1\s*;|\breturn\b[^;{}]*\?\s*(?:-1\s*:\s*0|0\s*:\s*-1)\s*;")
UV_STMT = re.compile(r"[;{}]\s*(uv_\w+)\s*\(")
# A function definition: its name on a line starting at column 0, then the parameters and {.
DEFN = re.compile(r"^[A-Za-z_][^;{}()\n]*?\b(\w+)\s*\([^;{}]*\)\s*\{", re.M)


def clean(text):
    text = COMMENT.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    return STRING.sub('""', text)


top = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("top_srcdir", ".")
findings, nfiles = [], 0
for base in ("src", "plugins"):
    for root, _, names in os.walk(os.path.join(top, base)):
        for n in sorted(names):
            if not n.endswith(".c"):
                continue
            path = os.path.join(root, n)
            rel = os.path.relpath(path, top)
            with open(path, encoding="utf-8", errors="replace") as f:
                text = clean(f.read())
            nfiles += 1
            defs = [(d.start(), d.group(1)) for d in DEFN.finditer(text)]
            for m in RET_MINUS1.finditer(text):
                fn = ([name for pos, name in defs if pos < m.start()] or [""])[-1]
                if not any(fp.match(rel) and np.match(fn) for fp, np, _ in EXCEPTIONS):
                    line = text.count("\n", 0, m.start()) + 1
                    findings.append("%s:%d: %s() returns -1 (= -EPERM): return an FM_E code"
                                    % (rel, line, fn))
            for m in UV_STMT.finditer(text):
                name = m.group(1)
                if name in UV_VOID:
                    continue
                line = text.count("\n", 0, m.start(1)) + 1
                findings.append("%s:%d: the result of %s() is dropped: check it (or (void) it "
                                "with the reason it cannot fail)" % (rel, line, name))
if nfiles == 0:
    print("no .c files under %s/src or %s/plugins: wrong TOP_SRCDIR" % (top, top))
    sys.exit(99)
for f in findings:
    print(f)
exc = "; ".join("%s in %s (%s)" % (n.pattern, f.pattern, why) for f, n, why in EXCEPTIONS)
print("%d files, %d finding(s); exceptions: %s" % (nfiles, len(findings), exc))
sys.exit(1 if findings else 0)
