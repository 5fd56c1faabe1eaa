/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Readable layouts of control replies for flowmixctl: "key : value" lines (chronyc tracking
 * style) for objects, aligned columns for arrays of objects, a bins table for `hist` and a
 * component table for mixtures, plus the help text built from the command table.  Layouts are
 * generic where they can be, so a field the daemon adds shows up without a client change;
 * scripts should use --json rather than parse these.
 */
#pragma once

#include <jansson.h>
#include <stddef.h>
#include <stdio.h>

#include "ctl_proto.h"

/**
 * Print one scalar the way every layout does: integers as they are, reals with up to six
 * significant digits (one decimal from a million up), booleans yes/no, null as "-", strings
 * unquoted, arrays and objects as compact JSON.
 * @param[out] buf  NUL-terminated text, truncated to len - 1 bytes.
 */
void fm_ctl_format_value(char *buf, size_t len, const json_t *v);

/**
 * Print an object as "key : value" lines with the colons aligned.  Nested objects are
 * flattened with dotted keys ("cache.entries"); arrays of objects are left out (see
 * fm_ctl_format_table).
 */
void fm_ctl_format_kv(FILE *out, const json_t *obj);

/**
 * Print an array of objects as a table: one column per scalar member (in order of first
 * appearance across the rows), numbers right-aligned, a missing member as "-".  Nested members
 * are left out.  An empty array prints "(none)".
 */
void fm_ctl_format_table(FILE *out, const json_t *rows);

/**
 * Print the readable layout of a command's result.  status, exporters, windows, fits, model
 * and hist have their own layouts (units, ISO-8601 UTC times, ages against the reply's now_ms);
 * every other command prints its object members as key : value lines followed by a table for
 * each member that is an array of objects.  An empty result prints "ok".
 * @param[in] cmd     the command's table row.
 * @param[in] result  the reply's "result" member (may be NULL).
 * @param[in] opts    the client options given (fm_ctl_arg_t.client): {"csv": true}, {"sort":
 *                    "bytes"}, ...; may be NULL.
 * @return 0, or FM_EINVAL after printing the reason to stderr (a reply the option cannot
 *         print).
 */
int fm_ctl_format(FILE *out, const fm_ctl_cmd_t *cmd, const json_t *result,
                  const json_t *opts);

/**
 * Check the client options of a command before asking the daemon (e.g. a --sort key).
 * @return 0, or FM_EINVAL after printing the reason to stderr.
 */
int fm_ctl_format_check_opts(const fm_ctl_cmd_t *cmd, const json_t *opts);

/** Print the usage line of one command, e.g. "hist [--class C] ...". */
void fm_ctl_format_synopsis(FILE *out, const fm_ctl_cmd_t *cmd);

/** Print flowmixctl's help: options, then every command of the table with its arguments. */
void fm_ctl_format_help(FILE *out);

/** Print the help of one command: synopsis, summary, one line per argument. */
void fm_ctl_format_cmd_help(FILE *out, const fm_ctl_cmd_t *cmd);
