/* SPDX-License-Identifier: BSD-2-Clause */
/* Error code to text. */
#include "config.h"
#include "util/err.h"

#include <string.h>

const char *fm_strerror(int code)
{
    switch (code) {
    case FM_EOK: return "success";
    case FM_EFORMAT: return "malformed input";
    case FM_ETEMPLATE: return "unknown template";
    case FM_ESTORE: return "database error";
    case FM_EFIT: return "fit failed";
    case FM_ELIMIT: return "limit reached";
    case FM_ETRUNC: return "truncated input";
    case FM_EVERSION: return "unsupported version";
    case FM_ECONFIG: return "invalid configuration";
    case FM_EOVERFLOW: return "arithmetic overflow";
    case FM_EPLUGIN: return "plugin error";
    default:
        break;
    }
    if (code < 0 && code > -1000) {
        return strerror(-code);
    }
    return "unknown error";
}
