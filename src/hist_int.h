/* SPDX-License-Identifier: BSD-2-Clause */
/* Private to hist*.c. */
#pragma once

#include "hist.h"

/** Bytes one histogram occupies. */
size_t fm__hist_memory(const fm_hist_t *h);
