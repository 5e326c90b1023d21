/* SPDX-License-Identifier: MIT */
/*
 * src/common/log.h - the daemon's log: one line per event, written with one write(2) so lines
 * from different threads never interleave. Types and destinations follow mosquitto.conf's
 * log_type and log_dest.
 * Owns: the process-wide log settings (set once at start-up and on reload by the main thread;
 * read by every thread, so they are plain atomics).
 * Thread: any.
 */
#ifndef TN_LOG_H
#define TN_LOG_H

#include <stdbool.h>

enum tn_log_type {
    TN_L_ERR = 1,
    TN_L_WARNING = 2,
    TN_L_NOTICE = 4,
    TN_L_INFO = 8,
    TN_L_DEBUG = 16,
    TN_L_SUBSCRIBE = 32,
    TN_L_UNSUBSCRIBE = 64,
    TN_L_PACKET = 256, /* -v: every packet in and out */
};

enum tn_log_dest {
    TN_LD_STDERR = 1,
    TN_LD_STDOUT = 2,
    TN_LD_FILE = 4,
    TN_LD_SYSLOG = 8,
};

/* Apply settings; file is opened (append) when dest has TN_LD_FILE. Returns 0 or -errno. */
int tn_log_setup(unsigned types, unsigned dest, const char *file, bool timestamp);
static inline bool tn_log_on(unsigned type);
void tn_log(unsigned type, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

extern unsigned tn_log_types_; /* read through tn_log_on */
static inline bool tn_log_on(unsigned type)
{
    return (__atomic_load_n(&tn_log_types_, __ATOMIC_RELAXED) & type) != 0;
}

#endif
