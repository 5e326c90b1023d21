/* SPDX-License-Identifier: MIT */
/*
 * src/common/log.c - see log.h. Lines look like mosquitto's: "1732521600: message" with
 * log_timestamp true, so existing log readers keep working.
 * Owns: the log settings and the log file descriptor (global: there is one log per process).
 * Thread: any; settings change only from the main thread.
 */
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

unsigned tn_log_types_ = TN_L_ERR | TN_L_WARNING | TN_L_NOTICE | TN_L_INFO;
static unsigned log_dest = TN_LD_STDERR;
static bool log_ts = true;
static int log_fd = -1;

int tn_log_setup(unsigned types, unsigned dest, const char *file, bool timestamp)
{
    int fd = -1;

    if ((dest & TN_LD_FILE) && file && *file) {
        fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        if (fd < 0)
            return -errno;
    }
    if (log_fd >= 0)
        close(log_fd);
    log_fd = fd;
    if (dest & TN_LD_SYSLOG)
        openlog("ternd", LOG_PID, LOG_DAEMON);
    __atomic_store_n(&tn_log_types_, types, __ATOMIC_RELAXED);
    log_dest = dest;
    log_ts = timestamp;
    return 0;
}

static int syslog_prio(unsigned type)
{
    if (type & TN_L_ERR)
        return LOG_ERR;
    if (type & TN_L_WARNING)
        return LOG_WARNING;
    if (type & TN_L_NOTICE)
        return LOG_NOTICE;
    if (type & TN_L_INFO)
        return LOG_INFO;
    return LOG_DEBUG;
}

void tn_log(unsigned type, const char *fmt, ...)
{
    char line[2048];
    size_t n = 0;
    va_list ap;
    int k;

    if (!tn_log_on(type))
        return;
    if (log_ts) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        k = snprintf(line, sizeof(line), "%lld: ", (long long)ts.tv_sec);
        n = k > 0 ? (size_t)k : 0;
    }
    va_start(ap, fmt);
    k = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (k < 0)
        return;
    n += (size_t)k < sizeof(line) - n - 1 ? (size_t)k : sizeof(line) - n - 2;
    if (log_dest & TN_LD_SYSLOG)
        syslog(syslog_prio(type), "%.*s", (int)n, line);
    line[n++] = '\n';
    if (log_dest & TN_LD_STDERR)
        (void)!write(2, line, n);
    if (log_dest & TN_LD_STDOUT)
        (void)!write(1, line, n);
    if ((log_dest & TN_LD_FILE) && log_fd >= 0)
        (void)!write(log_fd, line, n);
}
