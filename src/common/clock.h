/* SPDX-License-Identifier: MIT */
/*
 * src/common/clock.h - the two clocks tern uses: monotonic milliseconds for every timer and
 * interval, wall-clock seconds only for what a user reads ($SYS, log timestamps).
 * Owns: nothing. Thread: any.
 */
#ifndef TN_CLOCK_H
#define TN_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t tn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline uint64_t tn_wall_s(void)
{
    return (uint64_t)time(NULL);
}

#endif
