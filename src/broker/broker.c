/* SPDX-License-Identifier: MIT */
/*
 * src/broker/broker.c - the broker as a whole: settings, the shared router and retained
 * store, the workers and their listeners; start, reload and graceful stop.
 *
 * Owns: struct tn_broker, the router, the retained store, the store, the workers array and
 * every struct tn_broker_conf it has published (kept until free: workers read the current
 * one without locks).
 * Thread: main thread (new/start/reload/stop/free).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "internal.h"
#include "listen.h"
#include "log.h"

void tn_broker_conf_defaults(struct tn_broker_conf *c)
{
    memset(c, 0, sizeof(*c));
    c->allow_anonymous = true;
    c->max_keepalive = 65535;
    c->max_inflight_messages = 20;
    c->max_queued_messages = 100000;
    c->retain_available = true;
    c->persistent_client_expiration = -1;
    c->sys_interval = 10;
    c->connection_messages = true;
    c->max_topic_alias = 10;
    c->max_qos = 2;
    c->allow_zero_length_clientid = true;
    snprintf(c->auto_id_prefix, sizeof(c->auto_id_prefix), "auto-");
    c->set_tcp_nodelay = true;
}

static void msg_ref(void *m)
{
    tn_msg_ref(m);
}
static void msg_unref(void *m)
{
    tn_msg_unref(m);
}

struct tn_broker *tn_broker_new(const struct tn_broker_conf *conf, char *err, unsigned errlen)
{
    struct tn_broker *b = calloc(1, sizeof(*b));
    struct tn_broker_conf *c = malloc(sizeof(*c));
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    int rc;

    if (!b || !c) {
        snprintf(err, errlen, "out of memory");
        free(b);
        free(c);
        return NULL;
    }
    *c = *conf;
    atomic_init(&b->conf, c);
    b->n_workers = conf->workers ? conf->workers : (ncpu > 0 ? (unsigned)ncpu : 1);
    if (b->n_workers > 255)
        b->n_workers = 255; /* a handle has 8 bits for the worker */
    b->start_ms = tn_now_ms();
    b->router = tn_router_new();
    b->retained = tn_retained_new(msg_ref, msg_unref);
    b->store = tn_store_mem_new();
    b->workers = calloc(b->n_workers, sizeof(*b->workers));
    if (!b->router || !b->retained || !b->store || !b->workers) {
        snprintf(err, errlen, "out of memory");
        tn_broker_free(b);
        return NULL;
    }
    for (unsigned i = 0; i < b->n_workers; i++) {
        rc = tn_worker_init(&b->workers[i], b, i);
        if (rc < 0) {
            snprintf(err, errlen, "cannot create worker %u: %s", i, strerror(-rc));
            tn_broker_free(b);
            return NULL;
        }
    }
    for (int l = 0; l < conf->n_listeners; l++) {
        const struct tn_broker_listener *li = &conf->listeners[l];
        uint16_t port = li->port;
        /* not a port another ternd already holds: the workers' SO_REUSEPORT group would
         * join it and split the clients between two brokers */
        rc = port ? tn_listen_check_free(li->host, port) : 0;
        for (unsigned i = 0; rc == 0 && i < b->n_workers; i++) {
            uint16_t bound = 0;
            rc = tn_worker_listen(&b->workers[i], li->host, port, &bound);
            port = bound; /* port 0: every worker shares the port the first one got */
        }
        if (rc < 0) {
            snprintf(err, errlen, "cannot listen on %s%s%s:%u: %s",
                     strchr(li->host, ':') ? "[" : "", *li->host ? li->host : "*",
                     strchr(li->host, ':') ? "]" : "", li->port, strerror(-rc));
            tn_broker_free(b);
            return NULL;
        }
        b->ports[l] = port;
    }
    return b;
}

uint16_t tn_broker_port(const struct tn_broker *b, int listener)
{
    return listener >= 0 && listener < TN_BROKER_MAX_LISTENERS ? b->ports[listener] : 0;
}

int tn_broker_start(struct tn_broker *b)
{
    for (unsigned i = 0; i < b->n_workers; i++) {
        int rc = tn_worker_start(&b->workers[i]);
        if (rc < 0)
            return rc;
    }
    return 0;
}

void tn_broker_reload(struct tn_broker *b, const struct tn_broker_conf *conf)
{
    struct tn_broker_conf *c = malloc(sizeof(*c)), *old, **no;

    if (!c)
        return;
    *c = *conf;
    no = realloc(b->old_confs, (b->n_old + 1) * sizeof(*no));
    if (!no) {
        free(c);
        return;
    }
    b->old_confs = no;
    old = atomic_exchange_explicit(&b->conf, c, memory_order_acq_rel);
    b->old_confs[b->n_old++] = old;
}

void tn_broker_stop(struct tn_broker *b)
{
    for (unsigned i = 0; i < b->n_workers; i++)
        tn_worker_stop(&b->workers[i]);
    for (unsigned i = 0; i < b->n_workers; i++)
        if (b->workers[i].th)
            pthread_join(b->workers[i].th, NULL);
}

void tn_broker_free(struct tn_broker *b)
{
    if (!b)
        return;
    for (unsigned i = 0; b->workers && i < b->n_workers; i++)
        if (b->workers[i].b)
            tn_worker_fini(&b->workers[i]);
    free(b->workers);
    if (b->retained)
        tn_retained_free(b->retained);
    if (b->router)
        tn_router_free(b->router);
    if (b->store)
        b->store->ops->free(b->store);
    for (unsigned i = 0; i < b->n_old; i++)
        free(b->old_confs[i]);
    free(b->old_confs);
    free(atomic_load(&b->conf));
    free(b);
}
