/* SPDX-License-Identifier: MIT */
/*
 * src/broker/conn.c - one client's network connection: reading and framing, the output
 * buffer, flushing, closing, and the one-line-per-packet log of -v.
 *
 * Memory: a connection with nothing to read or write holds no buffer. Reads go into the
 * worker's scratch buffer; only the bytes of an incomplete frame are copied into the
 * connection (rx), and the output buffer (tx) is freed once written out.
 *
 * Owns: struct tn_conn, its socket, rx/tx buffers and topic alias tables.
 * Thread: its worker's only (a connection handed to another worker moves with all of this).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "internal.h"
#include "log.h"

#define TN_CONNECT_TIMEOUT_MS 10000u
/* Output kept per connection before QoS 0 is dropped and QoS 1/2 wait in the session
 * queue: a slow subscriber costs at most this much memory and never slows the others. */
#define TN_TX_HIGH (1024u * 1024u)

static void on_io(struct tn_loop *l, void *ctx, uint32_t events);

/* What to wait for: input unless paused, output while a write is blocked. */
static uint32_t conn_events(const struct tn_conn *c)
{
    return (c->paused ? 0 : (uint32_t)EPOLLIN) | (c->want_out ? (uint32_t)EPOLLOUT : 0);
}

static void conn_process(struct tn_conn *c, uint8_t *buf, size_t n);

/* Handle what c->rx holds, the buffer taken from the connection (the rest goes back). */
static void conn_process_rx(struct tn_conn *c)
{
    uint8_t *b = c->rx;
    size_t n = c->rx_n;

    c->rx = NULL;
    c->rx_n = c->rx_cap = 0;
    conn_process(c, b, n);
    free(b);
}

/* Read again after a pause. */
static void conn_resume(struct tn_conn *c)
{
    c->paused = false;
    if (c->state == TN_CONN_CLOSED)
        return;
    /* not reading was our choice: it is no silence of the client's (keep-alive) */
    c->last_rx_ms = c->w->loop.now_ms;
    tn_loop_mod(&c->w->loop, &c->io, conn_events(c));
    /* frames held back when the pause began go first; they may pause it again (the socket
     * may hold nothing more, so no read would come to handle them) */
    if (c->rx_n)
        conn_process_rx(c);
}

static void paused_remove(struct tn_worker *w, struct tn_conn *c)
{
    for (size_t i = 0; i < w->paused_n; i++) {
        if (w->paused[i] == c) {
            w->paused[i] = w->paused[--w->paused_n];
            return;
        }
    }
}

/* Resume every connection of this worker paused for a subscriber: one has drained, or a
 * tick has passed. Those still too fast pause again at their next message to a full
 * subscriber. */
static void tn_worker_resume_paused(struct tn_worker *w)
{
    struct tn_conn **v = w->paused;
    size_t n = w->paused_n, cap = w->paused_cap;

    if (!n)
        return;
    tn_timer_cancel(&w->loop, &w->pause_timer);
    /* take the list: resuming handles held frames, which may pause some again */
    w->paused = NULL;
    w->paused_n = w->paused_cap = 0;
    for (size_t i = 0; i < n; i++) {
        struct tn_conn *c = v[i]; /* closed ones are freed only at the end of the turn */
        if (c->state == TN_CONN_ACTIVE && c->paused)
            conn_resume(c);
    }
    if (!w->paused) { /* nothing paused again: keep the array */
        w->paused = v;
        w->paused_cap = cap;
    } else {
        free(v);
    }
}

static void pause_tick(struct tn_loop *l, struct tn_timer *t)
{
    struct tn_worker *w =
        (struct tn_worker *)(void *)((char *)t - offsetof(struct tn_worker, pause_timer));

    (void)l;
    tn_worker_resume_paused(w);
}

/* Stop handling a publisher's packets: a subscriber it feeds is falling behind (see
 * pace_publisher in session.c). The frames already read wait in c->rx, so a pause takes
 * effect at once, not after the rest of a 64 KiB read. Reading resumes when a subscriber of
 * this worker that paused publishers has drained, or at the worker's next pause tick at the
 * latest (a subscriber on another worker cannot wake us): one timer per worker, none per
 * connection (32 bytes less for each idle one). The time paused does not count against the
 * client's keep-alive. */
void tn_conn_pause(struct tn_conn *c)
{
    struct tn_worker *w = c->w;

    if (c->state != TN_CONN_ACTIVE || c->paused)
        return;
    if (w->paused_n == w->paused_cap) {
        size_t ncap = w->paused_cap ? w->paused_cap * 2 : 16;
        struct tn_conn **nv = realloc(w->paused, ncap * sizeof(*nv));
        if (!nv)
            return; /* no pause rather than one nothing would end */
        w->paused = nv;
        w->paused_cap = ncap;
    }
    w->paused[w->paused_n++] = c;
    c->paused = true;
    tn_loop_mod(&w->loop, &c->io, conn_events(c));
    if (!tn_timer_armed(&w->pause_timer)) {
        tn_timer_init(&w->pause_timer, pause_tick);
        tn_timer_arm(&w->loop, &w->pause_timer, TN_TICK_MS);
    }
}

const char *tn_conn_name(const struct tn_conn *c)
{
    return c->s ? c->s->client_id : c->peer;
}

static void ka_fired(struct tn_loop *l, struct tn_timer *t)
{
    struct tn_conn *c = (struct tn_conn *)(void *)((char *)t - offsetof(struct tn_conn, ka_timer));
    uint64_t limit;

    if (c->state == TN_CONN_NEW) {
        tn_log(TN_L_NOTICE, "Client %s sent no CONNECT within %u s, closing", c->peer,
               TN_CONNECT_TIMEOUT_MS / 1000);
        tn_conn_close(c, -1, "connect timeout");
        return;
    }
    /* 1.5 times the Keep Alive without a packet: disconnect [MQTT-3.1.2-24] (3.1.1),
     * [MQTT-3.1.2-22] (5.0). */
    limit = (uint64_t)c->keepalive * 1500u;
    if (l->now_ms - c->last_rx_ms >= limit) {
        if (tn_conf(c->w->b)->connection_messages)
            tn_log(TN_L_NOTICE, "Client %s has exceeded timeout, disconnecting.", tn_conn_name(c));
        c->will_on_close = true;
        tn_conn_close(c, 0x8D, "keep alive timeout");
        return;
    }
    tn_timer_arm(l, t, limit - (l->now_ms - c->last_rx_ms));
}

static void conn_link(struct tn_worker *w, struct tn_conn *c)
{
    c->w = w;
    c->prev = NULL;
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
}

static void conn_unlink(struct tn_worker *w, struct tn_conn *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else if (w->conns == c)
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->next = c->prev = NULL;
}

void tn_conn_accept(struct tn_worker *w, int fd, const char *peer)
{
    struct tn_conn *c = calloc(1, sizeof(*c));
    int one = 1;

    if (!c) {
        close(fd);
        return;
    }
    if (tn_conf(w->b)->set_tcp_nodelay) /* set_tcp_nodelay false: keep Nagle's algorithm */
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->fd = fd;
    c->io = (struct tn_io){.fd = fd, .fn = on_io, .ctx = c};
    c->state = TN_CONN_NEW;
    c->handoff_to = -1;
    snprintf(c->peer, sizeof(c->peer), "%s", peer);
    c->last_rx_ms = w->loop.now_ms;
    conn_link(w, c);
    atomic_fetch_add_explicit(&w->b->n_conns, 1, memory_order_relaxed);
    TN_STAT_ADD(w, conns_total, 1);
    tn_timer_init(&c->ka_timer, ka_fired);
    tn_timer_arm(&w->loop, &c->ka_timer, TN_CONNECT_TIMEOUT_MS);
    if (tn_loop_add(&w->loop, &c->io, EPOLLIN) < 0) {
        tn_conn_close(c, -1, "epoll");
        return;
    }
    if (tn_log_on(TN_L_DEBUG))
        tn_log(TN_L_DEBUG, "New connection from %s on worker %u", peer, w->idx);
}

/* A connection handed over by another worker after its CONNECT: its unprocessed bytes (the
 * CONNECT frame first) are in c->rx. */
void tn_conn_adopt(struct tn_worker *w, struct tn_conn *c)
{
    size_t n = c->rx_n;

    conn_link(w, c);
    c->in_flush = false;
    c->paused = c->want_out = false;
    tn_timer_init(&c->ka_timer, ka_fired);
    tn_timer_arm(&w->loop, &c->ka_timer, TN_CONNECT_TIMEOUT_MS);
    if (w->stopping || tn_loop_add(&w->loop, &c->io, EPOLLIN) < 0) {
        tn_conn_close(c, -1, "handoff");
        return;
    }
    /* process what was buffered, from the scratch buffer like any read */
    if (n > w->scratch_cap) {
        uint8_t *ns = realloc(w->scratch, n);
        if (!ns) {
            tn_conn_close(c, -1, "out of memory");
            return;
        }
        w->scratch = ns;
        w->scratch_cap = n;
    }
    memcpy(w->scratch, c->rx, n);
    free(c->rx);
    c->rx = NULL;
    c->rx_n = c->rx_cap = 0;
    conn_process(c, w->scratch, n);
}

/* ---- output ------------------------------------------------------------------------------- */

bool tn_conn_tx_full(const struct tn_conn *c)
{
    return c->tx_n >= TN_TX_HIGH;
}

/* Does this connection's client read fast: a tenth of the output bound (about 1 MB/s) or more
 * written to it within the last 100-200 ms? A write that blocks for longer ends that. */
static bool tx_fast(const struct tn_conn *c)
{
    uint32_t age = (uint32_t)c->w->loop.now_ms - c->txw_ms;

    /* the window that began at txw_ms is still open below 100 ms, complete up to 200 ms */
    return age < 200 &&
           (c->txw_bytes >= TN_TX_HIGH / 10 || (age < 100 && c->tx_rate >= TN_TX_HIGH / 10));
}

/* May this connection's publishers wait for it: it reads fast, or its socket is not blocked
 * (a burst filled its buffer within one loop turn; the flush at the end of the turn will take
 * it, and the publishers go on right after). A slow reader's socket stays blocked. */
static bool tx_may_pace(const struct tn_conn *c)
{
    return !c->want_out || tx_fast(c);
}

/* Is this connection past half its output bound while its client keeps up? Such a
 * subscriber's QoS 0 publishers are paced; a slow reader's are not: it must not slow the
 * others down to its pace. */
bool tn_conn_tx_behind(const struct tn_conn *c)
{
    return c->state == TN_CONN_ACTIVE && c->tx_n >= TN_TX_HIGH / 2 && tx_may_pace(c);
}

/* Room for one more QoS 0 message? Up to the output bound; for a connection that paces its
 * publishers up to four times that, the slack for publishers on other workers, which a hint
 * to pause reaches only after their next reads (a tick at most). */
bool tn_conn_qos0_room(const struct tn_conn *c)
{
    return c->tx_n < TN_TX_HIGH || (c->tx_n < 4 * TN_TX_HIGH && tx_may_pace(c));
}

static void tx_rate_add(struct tn_conn *c, size_t k)
{
    uint32_t now = (uint32_t)c->w->loop.now_ms;

    if (now - c->txw_ms >= 100) {
        c->tx_rate = now - c->txw_ms < 200 ? c->txw_bytes : 0;
        c->txw_ms = now;
        c->txw_bytes = 0;
    }
    c->txw_bytes += (uint32_t)(k < UINT32_MAX - c->txw_bytes ? k : UINT32_MAX - c->txw_bytes);
}

uint8_t *tn_conn_tx_reserve(struct tn_conn *c, size_t n)
{
    if (c->tx_head + c->tx_n + n > c->tx_cap) {
        if (c->tx_head) {
            memmove(c->tx, c->tx + c->tx_head, c->tx_n);
            c->tx_head = 0;
        }
        if (c->tx_n + n > c->tx_cap) {
            size_t ncap = c->tx_cap ? c->tx_cap : 1024;
            uint8_t *nt;
            while (ncap < c->tx_n + n)
                ncap *= 2;
            nt = realloc(c->tx, ncap);
            if (!nt)
                return NULL;
            c->tx = nt;
            c->tx_cap = ncap;
        }
    }
    return c->tx + c->tx_head + c->tx_n;
}

void tn_conn_tx_commit(struct tn_conn *c, size_t n)
{
    struct tn_worker *w = c->w;

    c->tx_n += n;
    if (!c->in_flush) {
        c->in_flush = true;
        c->flush_next = w->flush;
        w->flush = c;
    }
}

int tn_conn_send(struct tn_conn *c, const struct tern_packet *p)
{
    int n = tern_packet_size(p, c->version);
    uint8_t *out;

    if (c->state == TN_CONN_CLOSED)
        return -EPIPE;
    if (n < 0)
        return n;
    out = tn_conn_tx_reserve(c, (size_t)n);
    if (!out)
        return -ENOMEM;
    n = tern_packet_encode(p, c->version, out, (size_t)n);
    if (n < 0)
        return n;
    tn_conn_tx_commit(c, (size_t)n);
    if (tn_log_on(TN_L_PACKET))
        tn_conn_log_packet(c, true, p);
    return n;
}

/* Write what is buffered. Returns false if the connection was closed. */
static bool conn_write(struct tn_conn *c)
{
    while (c->tx_n) {
        ssize_t k = send(c->fd, c->tx + c->tx_head, c->tx_n, MSG_NOSIGNAL);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                c->want_out = true;
                tn_loop_mod(&c->w->loop, &c->io, conn_events(c));
                return true;
            }
            c->will_on_close = c->state == TN_CONN_ACTIVE;
            tn_conn_close(c, -1, strerror(errno));
            return false;
        }
        TN_STAT_ADD(c->w, bytes_sent, (uint64_t)k);
        tx_rate_add(c, (size_t)k);
        c->tx_head += (size_t)k;
        c->tx_n -= (size_t)k;
    }
    /* all written: keep no buffer while idle */
    free(c->tx);
    c->tx = NULL;
    c->tx_cap = c->tx_head = 0;
    if (c->want_out) {
        c->want_out = false;
        tn_loop_mod(&c->w->loop, &c->io, conn_events(c));
    }
    return true;
}

void tn_conn_flush(struct tn_conn *c)
{
    bool was_full = tn_conn_tx_full(c);

    if (c->state == TN_CONN_CLOSED || !conn_write(c))
        return;
    /* it drained: let the publishers paused for it go on (before the pump refills it) */
    if (c->pacing && c->tx_n <= TN_TX_HIGH / 4 &&
        (!c->s || c->s->q.n <= tn_session_pace_mark(c->s) / 2)) {
        c->pacing = false;
        tn_worker_resume_paused(c->w);
    }
    /* room again: move queued messages (and retained backlog) in */
    if (c->s && c->state == TN_CONN_ACTIVE && (was_full || c->s->rbl || c->s->q.n) &&
        !tn_conn_tx_full(c))
        tn_session_pump(c->s);
}

void tn_worker_flush_all(struct tn_worker *w)
{
    /* pumping may queue more output on the same connection; loop until the list is empty */
    while (w->flush) {
        struct tn_conn *c = w->flush;
        w->flush = c->flush_next;
        c->in_flush = false;
        c->flush_next = NULL;
        if (c->state != TN_CONN_CLOSED)
            tn_conn_flush(c);
    }
}

/* ---- input -------------------------------------------------------------------------------- */

/* Move a connection whose CONNECT names a session homed elsewhere to that worker, with every
 * byte not yet processed (the CONNECT frame first). */
static void conn_handoff(struct tn_conn *c, const uint8_t *rest, size_t n)
{
    struct tn_worker *w = c->w;
    unsigned to = (unsigned)c->handoff_to;

    c->handoff_to = -1;
    c->rx = malloc(n);
    if (!c->rx) {
        tn_conn_close(c, -1, "out of memory");
        return;
    }
    memcpy(c->rx, rest, n);
    c->rx_n = c->rx_cap = n;
    tn_loop_del(&w->loop, &c->io);
    tn_timer_cancel(&w->loop, &c->ka_timer);
    conn_unlink(w, c);
    tn_worker_handoff(w, c, to);
}

/* Handle the whole frames in buf[0..n); keep the rest in c->rx. */
static void conn_process(struct tn_conn *c, uint8_t *buf, size_t n)
{
    size_t off = 0;
    uint32_t max = tn_conf(c->w->b)->max_packet_size;

    while (off < n && c->state != TN_CONN_CLOSED) {
        struct tern_frame f;
        uint8_t rc = 0;
        int r = tern_frame_peek(buf + off, n - off, max, &f, &rc);

        if (r < 0) {
            tn_log(TN_L_NOTICE, "Client %s sent %s, disconnecting", tn_conn_name(c),
                   r == -TERN_ETOOBIG ? "a packet larger than max_packet_size"
                                      : "a malformed packet");
            c->will_on_close = true;
            tn_conn_close(c, rc, r == -TERN_ETOOBIG ? "packet too large" : "malformed packet");
            return;
        }
        if (r == 0)
            break;
        tn_handle_frame(c, buf + off, f.size);
        if (c->handoff_to >= 0) {
            conn_handoff(c, buf + off, n - off);
            return;
        }
        off += f.size;
        if (c->paused)
            break; /* the rest waits in c->rx until it is resumed */
    }
    if (c->state == TN_CONN_CLOSED || off == n)
        return;
    /* keep the incomplete frame only */
    {
        size_t left = n - off;
        size_t cap = left < 256 ? 256 : left;
        uint8_t *nr = malloc(cap);
        if (!nr) {
            tn_conn_close(c, -1, "out of memory");
            return;
        }
        memcpy(nr, buf + off, left);
        c->rx = nr;
        c->rx_n = left;
        c->rx_cap = cap;
    }
}

static void conn_read(struct tn_conn *c)
{
    struct tn_worker *w = c->w;
    uint8_t *buf;
    size_t have = c->rx_n, cap;
    ssize_t k;
    uint32_t need = 0;

    if (have) {
        struct tern_frame f;
        uint8_t rc;
        if (tern_frame_peek(c->rx, have, tn_conf(w->b)->max_packet_size, &f, &rc) == 0)
            need = f.size;
    }
    if (have && need > w->scratch_cap / 2) {
        /* a large frame in progress: read straight into its own buffer */
        if (c->rx_cap == c->rx_n) {
            /* grow as bytes arrive, not to the announced size at once: a peer announcing a
             * huge packet and sending nothing must not make us reserve it */
            size_t ncap = c->rx_cap * 2 > need ? need : c->rx_cap * 2;
            uint8_t *nr;
            if (ncap < w->scratch_cap)
                ncap = w->scratch_cap < need ? w->scratch_cap : need;
            nr = realloc(c->rx, ncap);
            if (!nr) {
                tn_conn_close(c, -1, "out of memory");
                return;
            }
            c->rx = nr;
            c->rx_cap = ncap;
        }
        k = recv(c->fd, c->rx + have, c->rx_cap - have, 0);
        if (k > 0) {
            c->rx_n += (size_t)k;
            c->last_rx_ms = w->loop.now_ms;
            TN_STAT_ADD(w, bytes_recv, (uint64_t)k);
            if (c->rx_n >= need)
                conn_process_rx(c);
            return;
        }
    } else {
        buf = w->scratch;
        cap = w->scratch_cap;
        if (have) {
            memcpy(buf, c->rx, have);
            free(c->rx);
            c->rx = NULL;
            c->rx_n = c->rx_cap = 0;
        }
        k = recv(c->fd, buf + have, cap - have, 0);
        if (k > 0) {
            c->last_rx_ms = w->loop.now_ms;
            TN_STAT_ADD(w, bytes_recv, (uint64_t)k);
            conn_process(c, buf, have + (size_t)k);
            return;
        }
        if (have) { /* nothing new: put the partial frame back */
            c->rx = malloc(have);
            if (c->rx) {
                memcpy(c->rx, buf, have);
                c->rx_n = c->rx_cap = have;
            }
        }
    }
    if (k == 0) {
        if (c->state == TN_CONN_ACTIVE && tn_conf(w->b)->connection_messages)
            tn_log(TN_L_NOTICE, "Client %s closed its connection.", tn_conn_name(c));
        c->will_on_close = c->state == TN_CONN_ACTIVE;
        tn_conn_close(c, -1, "closed by client");
    } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        c->will_on_close = c->state == TN_CONN_ACTIVE;
        tn_conn_close(c, -1, strerror(errno));
    }
}

static void on_io(struct tn_loop *l, void *ctx, uint32_t events)
{
    struct tn_conn *c = ctx;

    (void)l;
    if (c->state == TN_CONN_CLOSED)
        return;
    if (events & (EPOLLIN | EPOLLERR | EPOLLHUP))
        conn_read(c);
    if (c->state != TN_CONN_CLOSED && (events & EPOLLOUT))
        tn_conn_flush(c);
}

/* ---- closing ------------------------------------------------------------------------------ */

/* Close: for a 5.0 client that completed CONNECT and v5_rc >= 0, send DISCONNECT with that
 * reason first (a server may only send DISCONNECT after CONNACK [MQTT-3.14.0-1]). For a
 * CONNECT refused before CONNACK the caller has sent CONNACK already. The struct is freed at
 * the end of the loop iteration (other events of this iteration may still point at it). */
void tn_conn_close(struct tn_conn *c, int v5_rc, const char *why)
{
    struct tn_worker *w = c->w;

    if (c->state == TN_CONN_CLOSED)
        return;
    if (c->state == TN_CONN_ACTIVE && c->version == 5 && v5_rc >= 0) {
        struct tern_packet p = {.type = TERN_DISCONNECT};
        p.u.disconnect.rc = (uint8_t)v5_rc;
        /* a Reason String is allowed on DISCONNECT whatever Request Problem Information
         * says [MQTT-3.1.2-29] */
        p.u.disconnect.props.reason_string = tern_slice_cstr(why);
        tern_props_set(&p.u.disconnect.props, TERN_PROP_REASON_STRING);
        if (v5_rc == TERN_RC_USE_ANOTHER_SERVER || v5_rc == TERN_RC_SERVER_MOVED) {
            /* where to go: Server Reference [MQTT-4.11] (5.0) */
            p.u.disconnect.props.server_reference =
                tern_slice_cstr(tn_conf(w->b)->server_reference);
            tern_props_set(&p.u.disconnect.props, TERN_PROP_SERVER_REFERENCE);
        }
        if (c->max_out_packet && (uint32_t)tern_packet_size(&p, 5) > c->max_out_packet)
            p.u.disconnect.props.present = 0; /* [MQTT-3.1.2-25]: drop the optional part */
        tn_conn_send(c, &p);
    }
    if (c->tx_n) /* best effort, once: the socket closes next */
        (void)!send(c->fd, c->tx + c->tx_head, c->tx_n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (tn_log_on(TN_L_DEBUG))
        tn_log(TN_L_DEBUG, "Closing connection of %s (%s)", tn_conn_name(c), why);
    c->state = TN_CONN_CLOSED;
    tn_loop_del(&w->loop, &c->io);
    tn_timer_cancel(&w->loop, &c->ka_timer);
    if (c->paused)
        paused_remove(w, c);
    close(c->fd);
    c->fd = -1;
    atomic_fetch_sub_explicit(&w->b->n_conns, 1, memory_order_relaxed);
    if (c->s) {
        struct tn_session *s = c->s;
        TN_STAT_ADD(w, clients_connected, -1);
        c->s = NULL;
        tn_session_detach(s, c->will_on_close);
    }
    conn_unlink(w, c);
    c->next = w->dead;
    w->dead = c;
}

static void conn_free(struct tn_conn *c)
{
    if (c->alias_out) {
        for (unsigned i = 0; i < c->alias_out_max; i++)
            free(c->alias_out[i].topic);
        free(c->alias_out);
    }
    if (c->alias_in) {
        for (unsigned i = 0; i <= c->alias_in_max; i++)
            free(c->alias_in[i]);
        free(c->alias_in);
    }
    free(c->rx);
    free(c->tx);
    free(c);
}

void tn_worker_free_dead(struct tn_worker *w)
{
    while (w->dead) {
        struct tn_conn *c = w->dead;
        w->dead = c->next;
        conn_free(c);
    }
}

/* ---- -v: one line per packet -------------------------------------------------------------- */

void tn_conn_log_packet(struct tn_conn *c, bool out, const struct tern_packet *p)
{
    const char *dir = out ? "Sending" : "Received";
    const char *prep = out ? "to" : "from";
    const char *name = tn_conn_name(c);
    const char *type = tern_ptype_name(p->type);

    switch (p->type) {
    case TERN_PUBLISH: {
        const struct tern_publish *pb = &p->u.publish;
        tn_log(TN_L_PACKET, "%s PUBLISH %s %s (d%d, q%u, r%d, m%u, '%.*s', ... (%zu bytes))", dir,
               prep, name, pb->dup, pb->qos, pb->retain, pb->packet_id, TERN_SLICE_FMT(pb->topic),
               pb->payload.n);
        break;
    }
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP:
        tn_log(TN_L_PACKET, "%s %s %s %s (m%u, rc%u)", dir, type, prep, name, p->u.ack.packet_id,
               p->u.ack.rc);
        break;
    case TERN_CONNECT:
        tn_log(TN_L_PACKET, "%s CONNECT %s %s (p%u, c%d, k%u, id '%.*s')", dir, prep, c->peer,
               p->u.connect.version, p->u.connect.clean, p->u.connect.keep_alive,
               TERN_SLICE_FMT(p->u.connect.client_id));
        break;
    case TERN_CONNACK:
        tn_log(TN_L_PACKET, "%s CONNACK %s %s (%d, %u)", dir, prep, name,
               p->u.connack.session_present, p->u.connack.rc);
        break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE:
        tn_log(TN_L_PACKET, "%s %s %s %s (m%u, %u filters)", dir, type, prep, name,
               p->u.subscribe.packet_id, p->u.subscribe.count);
        break;
    case TERN_SUBACK:
    case TERN_UNSUBACK:
        tn_log(TN_L_PACKET, "%s %s %s %s (m%u)", dir, type, prep, name, p->u.suback.packet_id);
        break;
    case TERN_DISCONNECT:
        tn_log(TN_L_PACKET, "%s DISCONNECT %s %s (rc 0x%02X)", dir, prep, name, p->u.disconnect.rc);
        break;
    default: tn_log(TN_L_PACKET, "%s %s %s %s", dir, type, prep, name); break;
    }
}
