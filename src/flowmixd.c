/* SPDX-License-Identifier: BSD-2-Clause */
/* flowmixd: the collector daemon (being assembled; see daemon.c). */
#include "config.h"

#include <stdio.h>

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    printf("flowmixd %s\n", PACKAGE_VERSION);
    return 0;
}
