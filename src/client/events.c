/* SPDX-License-Identifier: MIT */
/*
 * src/client/events.c - libtern's events: collected under the client's lock while packets are
 * handled (connect, message, publish done, suback/unsuback, disconnect, trace, log) and
 * dispatched to the user's callbacks after the lock is released.
 *
 * Owns: the event array of a client and the copies events own (trace frames, log lines).
 * Thread: tn_ev_add/tn_log/tn_trace with c->mu held, from the driver or from any thread that
 * calls the API (a disconnect traces its DISCONNECT); dispatch on the driver, taking c->mu only
 * to take the collected events out of c->ev (callbacks may call the library, which adds events
 * and may grow c->ev, so the events being dispatched must not live in it).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client_internal.h"

static int64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- events ------------------------------------------------------------------------------- */

struct tn_ev *tn_ev_add(tern_client *c, uint8_t type)
{
    if (c->evn == c->evcap) {
        size_t nc = c->evcap ? c->evcap * 2 : 16;
        struct tn_ev *ne = realloc(c->ev, nc * sizeof *ne);
        if (!ne)
            return NULL; /* an event lost to OOM; nothing better to do */
        c->ev = ne;
        c->evcap = nc;
    }
    struct tn_ev *e = &c->ev[c->evn++];
    memset(e, 0, sizeof *e);
    e->type = type;
    return e;
}

void tn_log(tern_client *c, int level, const char *fmt, ...)
{
    if (!c->o.cb.on_log)
        return;
    struct tn_ev *e = tn_ev_add(c, TN_EV_LOG);
    if (!e)
        return;
    char *s = malloc(256);
    if (!s) {
        c->evn--;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, 256, fmt, ap);
    va_end(ap);
    e->a = (uint8_t)level;
    e->owned = (uint8_t *)s;
}

void tn_trace(tern_client *c, int dir, const uint8_t *frame, size_t n)
{
    if (!c->o.cb.on_trace)
        return;
    struct tn_ev *e = tn_ev_add(c, TN_EV_TRACE);
    if (!e)
        return;
    e->owned = malloc(n ? n : 1);
    if (e->owned)
        memcpy(e->owned, frame, n);
    e->owned_len = n;
    e->a = (uint8_t)dir;
    e->b = c->o.version;
    e->mono_ns = now_ns(CLOCK_MONOTONIC);
    e->real_ns = now_ns(CLOCK_REALTIME);
}

/* Run the callback of one event. e is not in c->ev: the callback may add events. */
static void dispatch_one(tern_client *c, struct tn_ev *e)
{
    const struct tern_client_callbacks *cb = &c->o.cb;
    void *ud = c->o.user_data;
    switch (e->type) {
    case TN_EV_CONNECT:
        if (cb->on_connect) {
            struct tern_connect_event ce = {.version = c->o.version,
                                            .rc = e->a,
                                            .session_present = e->b,
                                            .props = &e->props,
                                            .receive_maximum = (uint16_t)(e->u32 >> 16),
                                            .keep_alive = (uint16_t)e->u32};
            if (tern_props_has(&e->props, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER))
                ce.assigned_client_id = e->props.assigned_client_identifier;
            cb->on_connect(c, ud, &ce);
        }
        break;
    case TN_EV_MESSAGE:
        if (cb->on_message)
            cb->on_message(c, ud, &e->pub, c->o.version);
        break;
    case TN_EV_PUBLISH:
        if (cb->on_publish) {
            struct tern_publish_event pe = {
                .mid = e->mid, .qos = e->a, .rc = e->b, .props = &e->props};
            cb->on_publish(c, ud, &pe);
        }
        break;
    case TN_EV_SUB:
    case TN_EV_UNSUB: {
        struct tern_sub_event se = {.mid = e->mid, .rcs = e->rcs, .n = e->u32, .props = &e->props};
        if (e->type == TN_EV_SUB && cb->on_subscribe)
            cb->on_subscribe(c, ud, &se);
        else if (e->type == TN_EV_UNSUB && cb->on_unsubscribe)
            cb->on_unsubscribe(c, ud, &se);
        break;
    }
    case TN_EV_DISC:
        if (cb->on_disconnect) {
            struct tern_disconnect_event de = {.err = e->err,
                                               .rc = e->a,
                                               .props = e->owned ? &e->props : NULL,
                                               .will_reconnect = e->b,
                                               .reconnect_in_ms = e->u32};
            cb->on_disconnect(c, ud, &de);
        }
        break;
    case TN_EV_TRACE:
        if (cb->on_trace && e->owned) {
            struct tern_packet pkt;
            uint8_t rc;
            if (tern_packet_decode(e->owned, e->owned_len, e->b, &pkt, &rc) == 0) {
                struct tern_trace_event te = {.dir = e->a,
                                              .version = e->b,
                                              .pkt = &pkt,
                                              .raw = e->owned,
                                              .raw_len = e->owned_len,
                                              .mono_ns = e->mono_ns,
                                              .real_ns = e->real_ns};
                cb->on_trace(c, ud, &te);
            }
        }
        break;
    case TN_EV_LOG:
        if (cb->on_log)
            cb->on_log(c, ud, e->a, (const char *)e->owned);
        break;
    }
}

void tn_client_dispatch(tern_client *c)
{
    pthread_mutex_lock(&c->mu);
    if (c->dispatching) {
        /* a callback drove the client (tern_client_process, tern_client_connect): the events
         * it added are delivered by the dispatch already running, after the current batch, so
         * that they keep their order. */
        pthread_mutex_unlock(&c->mu);
        return;
    }
    c->dispatching = true; /* also keeps rx (the events' views point into it) as it is */
    while (c->evn) {
        /* take the batch out of c->ev: callbacks add events there (a DISCONNECT traced, a
         * connection closed) and a realloc must not move the events being delivered */
        struct tn_ev *ev = c->ev;
        size_t n = c->evn, cap = c->evcap;
        c->ev = NULL;
        c->evn = c->evcap = 0;
        pthread_mutex_unlock(&c->mu);
        for (size_t i = 0; i < n; i++) {
            dispatch_one(c, &ev[i]);
            free(ev[i].owned);
        }
        pthread_mutex_lock(&c->mu);
        if (!c->ev) { /* keep the array for the next batch (trim frees it when idle) */
            c->ev = ev;
            c->evcap = cap;
        } else {
            free(ev);
        }
    }
    c->dispatching = false;
    pthread_mutex_unlock(&c->mu);
}
