/* SPDX-License-Identifier: MIT */
/*
 * src/client/err.c - libtern's result names and the per-thread "last error" detail string.
 *
 * Owns: one thread-local message buffer. It is mutable global state on purpose: the public
 * API promises a detail string for the calling thread's last failing call, even for calls
 * that got no client (tern_client_new with bad options). Thread: any (thread-local).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "client_internal.h"

static _Thread_local char last_err[256];

const char *tern_client_strerror(int err)
{
    int e = err < 0 ? -err : err;
    switch (e) {
    case TERN_EQUEUEFULL: return "outgoing queue full";
    case TERN_ECLOSED: return "client closed";
    case TERN_EREFUSED: return "connection refused by server";
    case TERN_ESERVER: return "server disconnected";
    case TERN_ETLS: return "TLS error";
    case TERN_ESTORE: return "store error";
    case TERN_ENOTSUP: return "not supported";
    case TERN_EDNS: return "host name not resolved";
    case ENOTCONN: return "not connected";
    case EBUSY: return "busy";
    case EHOSTUNREACH: return "host unreachable";
    case ENETUNREACH: return "network unreachable";
    default: return tern_strerror(err);
    }
}

const char *tern_client_last_error(void)
{
    return last_err;
}

int tn_fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_err, sizeof last_err, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_err - 2)
        snprintf(last_err + n, sizeof last_err - (size_t)n, ": %s", tern_client_strerror(err));
    return err;
}
