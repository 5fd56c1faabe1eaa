/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Private interface between src/flowio.c (text formats, dispatch) and src/flowio_binary.c (the
 * columnar directory format).  Nothing outside the flowio module includes it.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "flow.h"

typedef struct fm__binr fm__binr_t;
typedef struct fm__binw fm__binw_t;

/** @return true when dir holds at least one `<field>.<code>` or `_<field>.<code>` file. */
bool fm__flowio_is_bindir(const char *dir);

#define FM__ALL_FIELDS ((1u << 21) - 1)

/** Largest value fm_flow_from_tuple accepts for a field (times: seconds * 1000 + ms fits). */
uint64_t fm__field_max(int field);

/** Open a binary flow directory: every column file's length is checked, the columns of the
 * fields in the mask (bit i: FM_FIELD_* i) are mapped.  Errors are logged. */
int fm__binr_open(const char *dir, uint32_t fields, fm__binr_t **out);
/** @return records copied (0 at the end) or a negative code. */
long fm__binr_read(fm__binr_t *b, fm_flow_t *flows, size_t max);
/** Column-wise read, as fm_colreader_read. */
long fm__binr_read_cols(fm__binr_t *b, uint64_t *const scratch[21], const uint64_t *cols[21],
                        size_t max);
/** @return the directory's record count. */
size_t fm__binr_count(const fm__binr_t *b);
void fm__binr_close(fm__binr_t *b);

/** Create (or truncate) the 21 column files in dir, creating dir itself if needed. */
int fm__binw_open(const char *dir, fm__binw_t **out);
/** @return 0, or FM_ERANGE (logged) when a value does not fit its column type, or FM_EIO. */
int fm__binw_write(fm__binw_t *w, const fm_flow_t *flows, size_t n);
int fm__binw_close(fm__binw_t *w);
