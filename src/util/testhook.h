/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Test hook: lets integration tests catch the daemon's thread-pool jobs in flight.  The
 * environment variable FLOWMIX_TEST_DELAY, a comma-separated list of STAGE=MS
 * (e.g. "commit=1500,fit=1000"), makes the job of that stage wait MS milliseconds on its
 * pool thread before doing its work.  Unset (always, outside tests) nothing waits.  Stages:
 * commit (store commit job), fit (fit job), export (export job).
 */
#pragma once

/**
 * Milliseconds the test hook asks a stage to wait (0 when FLOWMIX_TEST_DELAY is unset or does
 * not name the stage).  Reads the environment on every call; cheap enough for a job's start.
 * @param[in] stage  "commit", "fit" or "export".
 */
unsigned fm_testhook_delay_ms(const char *stage);

/** Wait fm_testhook_delay_ms(stage) milliseconds (thread-pool jobs only: it blocks). */
void fm_testhook_delay(const char *stage);
