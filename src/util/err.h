/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Error codes shared by every module.  0 is success, failures are negative.  Codes that have an
 * errno equivalent equal -errno (so libuv results pass straight through on Unix); project codes
 * sit below -1000.  fm_strerror() turns any of them into text.
 *
 * The convention everywhere (tests/errcodes.py keeps it): a function returns 0 (or a count, an
 * index, a parsed value >= 0) on success and one of these codes on failure, never -1 (which is
 * -EPERM here): a name parser returns FM_EINVAL for a name it does not know.  A sentinel that is
 * not an error gets a name of its own (FM_SELECT_STOP).  libuv results pass through as they
 * are, and every one is checked (or cast to void where libuv documents it cannot fail).  Out of
 * memory: see util/mem.h.
 */
#pragma once

#include <errno.h>

enum {
    FM_EOK = 0,
    FM_ENOMEM = -ENOMEM,
    FM_EINVAL = -EINVAL,
    FM_ENOENT = -ENOENT,
    FM_EEXIST = -EEXIST,
    FM_EAGAIN = -EAGAIN,
    FM_ERANGE = -ERANGE,
    FM_EIO = -EIO,
    FM_ENOSPC = -ENOSPC,
    FM_EBUSY = -EBUSY,

    FM_EFORMAT = -1001,   /* malformed input (datagram, file, JSON) */
    FM_ETEMPLATE = -1002, /* data set refers to an unknown template */
    FM_ESTORE = -1003,    /* SQLite error */
    FM_EFIT = -1004,      /* fit could not be computed */
    FM_ELIMIT = -1005,    /* a configured or hard limit was reached */
    FM_ETRUNC = -1006,    /* input shorter than its length fields claim */
    FM_EVERSION = -1007,  /* unknown or unsupported version */
    FM_ECONFIG = -1008,   /* invalid configuration */
    FM_EOVERFLOW = -1009, /* arithmetic overflow detected */
    FM_EPLUGIN = -1010,   /* plugin failed to load or initialise */
};

/**
 * Describe an error code.
 * @param[in] code  0, a negative FM_E* code or a negative errno.
 * @return static string, never NULL.
 */
const char *fm_strerror(int code);
