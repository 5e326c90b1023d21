/* SPDX-License-Identifier: MIT */
/*
 * src/broker/sys.c - $SYS/broker/... topics with mosquitto's names, published (retained) by
 * worker 0 every sys_interval seconds from the workers' counters.
 *
 * Owns: the $SYS timer and load averages (in struct tn_broker, touched by worker 0 only).
 * Thread: worker 0.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "internal.h"

#ifndef TERN_VERSION
#define TERN_VERSION "0.0.0"
#endif

static void sys_pub(struct tn_worker *w, const char *topic, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void sys_pub(struct tn_worker *w, const char *topic, const char *fmt, ...)
{
    char val[128];
    va_list ap;
    int n;
    struct tn_msg *m;

    va_start(ap, fmt);
    n = vsnprintf(val, sizeof(val), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    m = tn_msg_new(tern_slice_cstr(topic), (tern_slice){0},
                   (tern_slice){(const uint8_t *)val, (size_t)n}, 0, true, 0, 0);
    if (!m)
        return;
    tn_publish_internal(w, m);
    tn_msg_unref(m);
}

enum { L_RECV, L_SENT, L_BRECV, L_BSENT, L_CONNS };

static void sys_tick(struct tn_loop *l, struct tn_timer *t)
{
    struct tn_worker *w =
        (struct tn_worker *)(void *)((char *)t - offsetof(struct tn_worker, sys_timer));
    struct tn_broker *b = w->b;
    const struct tn_broker_conf *conf = tn_conf(b);
    uint64_t recv = 0, sent = 0, brecv = 0, bsent = 0, dropped = 0, conns = 0;
    int64_t connected = 0, sessions = 0;
    uint64_t cur[5];
    static const char *const names[5] = {"messages/received", "messages/sent", "bytes/received",
                                         "bytes/sent", "connections"};
    static const char *const spans[3] = {"1min", "5min", "15min"};
    static const double mins[3] = {1, 5, 15};
    char topic[128];

    (void)l;
    for (unsigned i = 0; i < b->n_workers; i++) {
        struct tn_stats *st = &b->workers[i].st;
        recv += atomic_load_explicit(&st->msgs_recv, memory_order_relaxed);
        sent += atomic_load_explicit(&st->msgs_sent, memory_order_relaxed);
        brecv += atomic_load_explicit(&st->bytes_recv, memory_order_relaxed);
        bsent += atomic_load_explicit(&st->bytes_sent, memory_order_relaxed);
        dropped += atomic_load_explicit(&st->pub_dropped, memory_order_relaxed);
        conns += atomic_load_explicit(&st->conns_total, memory_order_relaxed);
        connected += atomic_load_explicit(&st->clients_connected, memory_order_relaxed);
        sessions += atomic_load_explicit(&st->sessions, memory_order_relaxed);
    }
    sys_pub(w, "$SYS/broker/version", "tern version %s", TERN_VERSION);
    sys_pub(w, "$SYS/broker/uptime", "%llu seconds",
            (unsigned long long)((tn_now_ms() - b->start_ms) / 1000u));
    sys_pub(w, "$SYS/broker/clients/connected", "%lld", (long long)connected);
    sys_pub(w, "$SYS/broker/clients/active", "%lld", (long long)connected);
    sys_pub(w, "$SYS/broker/clients/disconnected", "%lld", (long long)(sessions - connected));
    sys_pub(w, "$SYS/broker/clients/inactive", "%lld", (long long)(sessions - connected));
    sys_pub(w, "$SYS/broker/clients/total", "%lld", (long long)sessions);
    sys_pub(w, "$SYS/broker/clients/maximum", "%lld",
            (long long)atomic_load_explicit(&b->clients_max, memory_order_relaxed));
    sys_pub(w, "$SYS/broker/messages/received", "%llu", (unsigned long long)recv);
    sys_pub(w, "$SYS/broker/messages/sent", "%llu", (unsigned long long)sent);
    sys_pub(w, "$SYS/broker/publish/messages/received", "%llu", (unsigned long long)recv);
    sys_pub(w, "$SYS/broker/publish/messages/sent", "%llu", (unsigned long long)sent);
    sys_pub(w, "$SYS/broker/publish/messages/dropped", "%llu", (unsigned long long)dropped);
    sys_pub(w, "$SYS/broker/bytes/received", "%llu", (unsigned long long)brecv);
    sys_pub(w, "$SYS/broker/bytes/sent", "%llu", (unsigned long long)bsent);
    sys_pub(w, "$SYS/broker/subscriptions/count", "%zu", tn_router_count(b->router));
    sys_pub(w, "$SYS/broker/retained messages/count", "%zu", tn_retained_count(b->retained));
    sys_pub(w, "$SYS/broker/store/messages/count", "%zu", tn_retained_count(b->retained));

    /* load averages: per-minute rates smoothed over 1, 5 and 15 minutes, like mosquitto */
    cur[L_RECV] = recv;
    cur[L_SENT] = sent;
    cur[L_BRECV] = brecv;
    cur[L_BSENT] = bsent;
    cur[L_CONNS] = conns;
    for (int k = 0; k < 5; k++) {
        double rate = (double)(cur[k] - b->load_prev[k]) * 60.0 / (double)conf->sys_interval;
        b->load_prev[k] = cur[k];
        for (int s = 0; s < 3; s++) {
            double f = exp(-(double)conf->sys_interval / (60.0 * mins[s]));
            b->load[s][k] = b->load[s][k] * f + rate * (1.0 - f);
            snprintf(topic, sizeof(topic), "$SYS/broker/load/%s/%s", names[k], spans[s]);
            sys_pub(w, topic, "%.2f", b->load[s][k]);
        }
    }
    if (conf->sys_interval)
        tn_timer_arm(&w->loop, &w->sys_timer, (uint64_t)conf->sys_interval * 1000u);
}

void tn_sys_start(struct tn_worker *w)
{
    tn_timer_init(&w->sys_timer, sys_tick);
    if (tn_conf(w->b)->sys_interval) {
        w->loop.now_ms = tn_now_ms();
        tn_timer_arm(&w->loop, &w->sys_timer, 0);
    }
}
