/* SPDX-License-Identifier: MIT */
/*
 * src/broker/worker.c - one worker thread: its event loop, its listening sockets (one per
 * listener, shared with the other workers through SO_REUSEPORT), its inbox, the sessions
 * homed on it (client id table and handle slots) and its connections.
 *
 * Owns: struct tn_worker and, through it, the sessions and connections homed here.
 * Thread: the worker's own; tn_worker_post appends to another worker's inbox (locked).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "listen.h"
#include "log.h"

/* FNV-1a: the client id decides the home worker. */
uint64_t tn_cid_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* ---- sessions homed here ------------------------------------------------------------------ */

struct tn_session *tn_worker_find_session(struct tn_worker *w, tern_slice cid)
{
    struct tn_session *s;

    if (!w->tab_cap)
        return NULL;
    s = w->tab[tn_cid_hash(cid.p, cid.n) & (w->tab_cap - 1)];
    for (; s; s = s->hnext)
        if (s->cid_n == cid.n && memcmp(s->client_id, cid.p, cid.n) == 0)
            return s;
    return NULL;
}

struct tn_session *tn_worker_session_by_handle(struct tn_worker *w, uint64_t h)
{
    uint32_t slot = tn_handle_slot(h);

    if (slot >= w->n_slots || !w->slots[slot] || w->gens[slot] != (uint32_t)h)
        return NULL;
    return w->slots[slot];
}

static int tab_grow(struct tn_worker *w)
{
    size_t ncap = w->tab_cap ? w->tab_cap * 2 : 64;
    struct tn_session **nt = calloc(ncap, sizeof(*nt));

    if (!nt)
        return -ENOMEM;
    for (size_t i = 0; i < w->tab_cap; i++) {
        struct tn_session *s = w->tab[i], *next;
        for (; s; s = next) {
            size_t k = tn_cid_hash((const uint8_t *)s->client_id, s->cid_n) & (ncap - 1);
            next = s->hnext;
            s->hnext = nt[k];
            nt[k] = s;
        }
    }
    free(w->tab);
    w->tab = nt;
    w->tab_cap = ncap;
    return 0;
}

static int slot_alloc(struct tn_worker *w, uint32_t *out)
{
    if (w->n_free) {
        *out = w->free_slots[--w->n_free];
        return 0;
    }
    if (w->n_slots == w->cap_slots) {
        uint32_t ncap = w->cap_slots ? w->cap_slots * 2 : 64;
        struct tn_session **ns;
        uint32_t *ng, *nf;
        if (ncap > 0xFFFFFFu)
            return -ENOSPC;
        ns = realloc(w->slots, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        w->slots = ns;
        ng = realloc(w->gens, ncap * sizeof(*ng));
        if (!ng)
            return -ENOMEM;
        w->gens = ng;
        nf = realloc(w->free_slots, ncap * sizeof(*nf));
        if (!nf)
            return -ENOMEM;
        w->free_slots = nf;
        w->cap_slots = ncap;
    }
    w->gens[w->n_slots] = 0;
    *out = w->n_slots++;
    return 0;
}

static void will_timer_fired(struct tn_loop *l, struct tn_timer *t);
static void expiry_timer_fired(struct tn_loop *l, struct tn_timer *t);

struct tn_session *tn_worker_session_new(struct tn_worker *w, tern_slice cid)
{
    struct tn_session *s = calloc(1, sizeof(*s));
    uint32_t slot;
    size_t k;

    if (!s)
        return NULL;
    s->client_id = malloc(cid.n + 1);
    if (!s->client_id || ((w->n_sess + 1) * 4 > w->tab_cap * 3 && tab_grow(w)) ||
        slot_alloc(w, &slot)) {
        free(s->client_id);
        free(s);
        return NULL;
    }
    memcpy(s->client_id, cid.p, cid.n);
    s->client_id[cid.n] = 0;
    s->cid_n = (uint16_t)cid.n;
    s->w = w;
    w->gens[slot]++;
    if (w->gens[slot] == 0)
        w->gens[slot] = 1; /* handle 0 means "nobody" */
    w->slots[slot] = s;
    s->handle = ((uint64_t)w->idx << 56) | ((uint64_t)slot << 32) | w->gens[slot];
    s->next_id = 1;
    tn_timer_init(&s->will_timer, will_timer_fired);
    tn_timer_init(&s->expiry_timer, expiry_timer_fired);
    k = tn_cid_hash(cid.p, cid.n) & (w->tab_cap - 1);
    s->hnext = w->tab[k];
    w->tab[k] = s;
    w->n_sess++;
    TN_STAT_ADD(w, sessions, 1);
    return s;
}

/* Unlink from the table and free the slot (the handle goes stale: deliveries addressed to it
 * are dropped). The caller frees the session's contents. */
void tn_worker_session_remove(struct tn_worker *w, struct tn_session *s)
{
    struct tn_session **pp =
        &w->tab[tn_cid_hash((const uint8_t *)s->client_id, s->cid_n) & (w->tab_cap - 1)];
    uint32_t slot = tn_handle_slot(s->handle);

    for (; *pp; pp = &(*pp)->hnext) {
        if (*pp == s) {
            *pp = s->hnext;
            break;
        }
    }
    w->slots[slot] = NULL;
    w->gens[slot]++;
    w->free_slots[w->n_free++] = slot;
    w->n_sess--;
    TN_STAT_ADD(w, sessions, -1);
}

static struct tn_session *timer_session(struct tn_timer *t, size_t off)
{
    return (struct tn_session *)(void *)((char *)t - off);
}

static void will_timer_fired(struct tn_loop *l, struct tn_timer *t)
{
    struct tn_session *s = timer_session(t, offsetof(struct tn_session, will_timer));
    struct tn_msg *will = s->will;

    (void)l;
    s->will = NULL;
    if (will) {
        tn_publish_internal(s->w, will);
        tn_msg_unref(will);
    }
}

static void expiry_timer_fired(struct tn_loop *l, struct tn_timer *t)
{
    struct tn_session *s = timer_session(t, offsetof(struct tn_session, expiry_timer));

    (void)l;
    if (!s->conn) {
        if (tn_conf(s->w->b)->connection_messages)
            tn_log(TN_L_NOTICE, "Session of %s expired", s->client_id);
        tn_session_destroy(s, true);
    }
}

/* ---- inbox -------------------------------------------------------------------------------- */

static int vec_push(struct tn_ib_vec *v, const struct tn_ib_item *it)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 64;
        struct tn_ib_item *nv = realloc(v->v, ncap * sizeof(*nv));
        if (!nv)
            return -ENOMEM;
        v->v = nv;
        v->cap = ncap;
    }
    v->v[v->n++] = *it;
    return 0;
}

/* Queue an item for another worker; it leaves in this worker's flush (once per loop
 * iteration, one lock and at most one wake-up per destination). */
void tn_worker_post(struct tn_worker *from, unsigned to, const struct tn_ib_item *it)
{
    if (vec_push(&from->outbox[to], it) < 0 && it->kind == TN_IB_DELIVER) {
        struct tn_delivery d = it->d;
        TN_STAT_ADD(from, pub_dropped, 1);
        tn_delivery_release(&d);
    }
}

/* Direct post to a worker's inbox from any thread (main thread: stop). */
static void inbox_push(struct tn_worker *w, const struct tn_ib_item *it)
{
    bool was_empty;

    pthread_mutex_lock(&w->inbox_mu);
    was_empty = w->inbox.n == 0;
    vec_push(&w->inbox, it);
    pthread_mutex_unlock(&w->inbox_mu);
    if (was_empty)
        tn_loop_wake(&w->loop);
}

static void flush_outboxes(struct tn_worker *w)
{
    struct tn_broker *b = w->b;

    for (unsigned j = 0; j < b->n_workers; j++) {
        struct tn_ib_vec *ob = &w->outbox[j];
        struct tn_worker *dst = &b->workers[j];
        bool was_empty;
        size_t i = 0;

        if (!ob->n)
            continue;
        pthread_mutex_lock(&dst->inbox_mu);
        was_empty = dst->inbox.n == 0;
        if (dst->inbox.n == 0 && dst->inbox.cap < ob->cap) {
            /* swap buffers: no copy in the common case */
            struct tn_ib_vec t = dst->inbox;
            dst->inbox = *ob;
            *ob = t;
            ob->n = 0;
            i = dst->inbox.n;
        } else {
            for (; i < ob->n; i++)
                if (vec_push(&dst->inbox, &ob->v[i]) < 0)
                    break;
        }
        pthread_mutex_unlock(&dst->inbox_mu);
        for (; i < ob->n; i++) { /* out of memory: drop what did not fit */
            if (ob->v[i].kind == TN_IB_DELIVER) {
                TN_STAT_ADD(w, pub_dropped, 1);
                tn_delivery_release(&ob->v[i].d);
            }
        }
        ob->n = 0;
        if (was_empty)
            tn_loop_wake(&dst->loop);
    }
}

static void stop_worker(struct tn_worker *w);

/* A fan-out from another worker arrives as a run of deliveries of one message, each holding a
 * reference: deliver them borrowing those (tn_session_deliver_borrowed takes its own only for
 * what it keeps) and drop them all with one atomic operation, not two per subscriber.
 * Returns the number of items used. */
static size_t deliver_run(struct tn_worker *w, struct tn_ib_item *v, size_t n)
{
    struct tn_msg *m = v[0].d.msg;
    size_t k = 0;

    for (; k < n && v[k].kind == TN_IB_DELIVER && v[k].d.msg == m; k++) {
        struct tn_delivery *d = &v[k].d;
        if (!tn_deliver_here_borrowed(w, v[k].target, d)) {
            tn_msg_ref(m);
            tn_deliver_to(w, v[k].target, d);
        }
    }
    tn_msg_unref_n(m, (uint32_t)k);
    return k;
}

static void on_wake(struct tn_loop *l, void *ctx)
{
    struct tn_worker *w = ctx;
    struct tn_ib_vec batch;

    (void)l;
    pthread_mutex_lock(&w->inbox_mu);
    batch = w->inbox;
    w->inbox = (struct tn_ib_vec){0};
    pthread_mutex_unlock(&w->inbox_mu);
    for (size_t i = 0; i < batch.n;) {
        struct tn_ib_item *it = &batch.v[i];
        if (it->kind == TN_IB_DELIVER) {
            i += deliver_run(w, it, batch.n - i);
            continue;
        }
        switch (it->kind) {
        case TN_IB_HANDOFF: tn_conn_adopt(w, it->conn); break;
        case TN_IB_STOP: stop_worker(w); break;
        case TN_IB_SLOWDOWN: tn_slowdown(w, it->target); break;
        }
        i++;
    }
    /* give the (now empty) buffer back if the inbox did not grow meanwhile */
    batch.n = 0;
    pthread_mutex_lock(&w->inbox_mu);
    if (w->inbox.cap == 0) {
        w->inbox = batch;
        batch.v = NULL;
    }
    pthread_mutex_unlock(&w->inbox_mu);
    free(batch.v);
}

void tn_worker_handoff(struct tn_worker *w, struct tn_conn *c, unsigned to)
{
    struct tn_ib_item it = {.kind = TN_IB_HANDOFF, .conn = c};
    tn_worker_post(w, to, &it);
}

/* ---- accepting ---------------------------------------------------------------------------- */

static void on_listen(struct tn_loop *l, void *ctx, uint32_t events)
{
    struct tn_worker *w = ctx;
    struct tn_io *lio = NULL;

    (void)l;
    (void)events;
    /* The loop passes ctx = worker: try each listener (a few, non-blocking). */
    for (int i = 0; i < w->n_lio; i++) {
        lio = &w->lio[i];
        for (int k = 0; k < 64; k++) {
            struct sockaddr_storage ss;
            socklen_t sl = sizeof(ss);
            int fd = accept4(lio->fd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
            char peer[64];
            const struct tn_broker_conf *conf = tn_conf(w->b);

            if (fd < 0)
                break;
            tn_sockaddr_str((struct sockaddr *)&ss, peer, sizeof(peer));
            if (conf->max_connections &&
                atomic_load_explicit(&w->b->n_conns, memory_order_relaxed) >=
                    conf->max_connections) {
                tn_log(TN_L_NOTICE, "Refused connection from %s: max_connections (%u) reached",
                       peer, conf->max_connections);
                close(fd);
                continue;
            }
            tn_conn_accept(w, fd, peer);
        }
    }
}

/* ---- the thread --------------------------------------------------------------------------- */

static void stop_worker(struct tn_worker *w)
{
    struct tn_conn *c, *next;

    w->stopping = true;
    for (int i = 0; i < w->n_lio; i++) {
        tn_loop_del(&w->loop, &w->lio[i]);
        close(w->lio[i].fd);
    }
    w->n_lio = 0;
    for (c = w->conns; c; c = next) {
        next = c->next;
        c->will_on_close = false; /* a broker shutting down is not the client's failure */
        if (tn_conf(w->b)->server_reference[0])
            tn_conn_close(c, TERN_RC_USE_ANOTHER_SERVER, "server shutting down");
        else
            tn_conn_close(c, TERN_RC_SERVER_SHUTTING_DOWN, "server shutting down");
    }
    w->loop.stop = true;
}

static void *worker_main(void *arg)
{
    struct tn_worker *w = arg;

    if (w->idx == 0)
        tn_sys_start(w);
    while (!w->loop.stop) {
        tn_loop_run_once(&w->loop, 1000);
        flush_outboxes(w);
        tn_worker_flush_all(w);
        tn_worker_free_dead(w);
    }
    flush_outboxes(w);
    return NULL;
}

int tn_worker_init(struct tn_worker *w, struct tn_broker *b, unsigned idx)
{
    int rc;

    memset(w, 0, sizeof(*w));
    w->b = b;
    w->idx = idx;
    pthread_mutex_init(&w->inbox_mu, NULL);
    rc = tn_loop_init(&w->loop, on_wake, w);
    if (rc < 0)
        return rc;
    w->outbox = calloc(b->n_workers, sizeof(*w->outbox));
    w->scratch_cap = 64 * 1024;
    w->scratch = malloc(w->scratch_cap);
    if (!w->outbox || !w->scratch || tab_grow(w) < 0)
        return -ENOMEM;
    return 0;
}

int tn_worker_listen(struct tn_worker *w, const char *host, uint16_t port, uint16_t *bound)
{
    int fd = tn_listen_tcp(host, port, true, bound);

    if (fd < 0)
        return fd;
    w->lio[w->n_lio] = (struct tn_io){.fd = fd, .fn = on_listen, .ctx = w};
    return tn_loop_add(&w->loop, &w->lio[w->n_lio++], EPOLLIN);
}

int tn_worker_start(struct tn_worker *w)
{
    return -pthread_create(&w->th, NULL, worker_main, w);
}

void tn_worker_stop(struct tn_worker *w)
{
    struct tn_ib_item it = {.kind = TN_IB_STOP};
    inbox_push(w, &it);
}

void tn_worker_fini(struct tn_worker *w)
{
    /* sessions left (persistent ones) are freed without wills: the process is ending */
    for (size_t i = 0; i < w->tab_cap; i++) {
        while (w->tab && w->tab[i])
            tn_session_destroy(w->tab[i], false);
    }
    tn_worker_free_dead(w);
    for (unsigned j = 0; w->outbox && j < w->b->n_workers; j++)
        free(w->outbox[j].v);
    for (size_t i = 0; i < w->inbox.n; i++) {
        struct tn_ib_item *it = &w->inbox.v[i];
        if (it->kind == TN_IB_DELIVER) {
            tn_delivery_release(&it->d);
        } else if (it->kind == TN_IB_HANDOFF) { /* arrived after this worker stopped */
            close(it->conn->fd);
            free(it->conn->rx);
            free(it->conn);
        }
    }
    free(w->inbox.v);
    free(w->outbox);
    free(w->scratch);
    free(w->paused);
    free(w->tab);
    free(w->slots);
    free(w->gens);
    free(w->free_slots);
    free(w->m);
    free(w->dset);
    tn_msg_unref(w->enc_msg);
    free(w->enc_buf);
    tn_loop_fini(&w->loop);
    pthread_mutex_destroy(&w->inbox_mu);
}
