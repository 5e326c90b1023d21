/* SPDX-License-Identifier: MIT */
/*
 * src/cli/bench_loop.c - one worker thread of tern bench: an epoll loop over its share of the
 * connections (publishers, subscribers or idle clients), speaking MQTT through the codec.
 *
 * Built to stay out of the broker's way: level-triggered epoll, reads of up to 256 KiB at a
 * time, every frame in a read handled before the next syscall, acknowledgements of a whole
 * read sent in one write, and publishers encoding many PUBLISHes into one buffer per write()
 * (the PUBLISH head is encoded once by the codec; per message only the packet id and the
 * payload header change).
 *
 * Owns: its connections (sockets, buffers, sequence maps) and its epoll, eventfd and timerfd.
 * Thread: the worker thread only; the main thread reads the worker's counters (relaxed
 * atomics) while it runs and everything else after pthread_join.
 */
#include "bench.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "tern/codec.h"

#define RX_CHUNK (256u * 1024u) /* bytes asked of each read() */
#define TX_BATCH (64u * 1024u)  /* bytes of PUBLISHes encoded per fill */
#define TX_HIGH (512u * 1024u)  /* do not encode more while this much is unsent */
#define MAX_CONNECTING 128u     /* connects under way per worker */
#define EV_MAX 256

enum conn_state {
    ST_NEW,     /* not started */
    ST_TCP,     /* non-blocking connect under way */
    ST_CONNACK, /* CONNECT sent */
    ST_SUBACK,  /* SUBSCRIBE sent */
    ST_READY,
    ST_CLOSED,
};

/* Which sequence numbers of one publisher a subscriber has seen: a bitmap grown on demand. */
struct seqmap {
    uint64_t *bits;
    size_t nwords;
    uint64_t uniq;
};

struct tn_bench_conn {
    int fd;
    uint8_t role, state;
    bool done;    /* publisher: finished sending and every exchange completed */
    bool stopped; /* publisher: will send no new message */
    unsigned idx; /* index among the publishers, subscribers or idle clients */
    unsigned slot;
    uint32_t ev; /* epoll interest registered */
    uint8_t *rx, *tx;
    size_t rx_len, rx_cap, tx_off, tx_len, tx_cap;
    uint64_t t_connect;
    /* publisher */
    uint8_t head[300];
    unsigned head_len, pid_off; /* pid_off: packet id offset in head, qos > 0 */
    uint64_t seq;               /* messages sent */
    uint64_t t0;                /* pacing: when message 0 is due */
    unsigned inflight, window;
    uint16_t next_id;
    uint8_t *ids; /* enum tern_qos_state per packet id, qos > 0 */
    /* subscriber */
    struct seqmap *maps; /* one per publisher */
    uint8_t *in_ids;     /* QoS 2 receiver state per packet id */
    uint64_t dups, foreign;
};
typedef struct tn_bench_conn conn;

uint64_t tn_bench_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (unsigned i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
    for (unsigned i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v |= (uint32_t)p[i] << (8 * i);
    return v;
}

static uint64_t get_le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < 8; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void count_add(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

static void count_sub(_Atomic uint64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) - n,
                          memory_order_relaxed);
}

static const char *role_name(unsigned role)
{
    return role == TN_ROLE_PUB ? "publisher" : role == TN_ROLE_SUB ? "subscriber" : "client";
}

/* ---- connection lifecycle ---------------------------------------------------------------- */

static void conn_close(struct tn_bench_worker *w, conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(w->ep, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (c->state == ST_TCP || c->state == ST_CONNACK || c->state == ST_SUBACK)
        w->connecting--;
    c->state = ST_CLOSED;
}

/* A connection failed: say why once, close it. Publishers and subscribers end the run;
 * idle clients are counted and the rest go on. */
__attribute__((format(printf, 3, 4))) static void conn_fail(struct tn_bench_worker *w, conn *c,
                                                            const char *fmt, ...)
{
    struct tn_bench *b = w->b;
    va_list ap;

    if (c->state == ST_CLOSED)
        return;
    if (!w->err[0]) {
        va_start(ap, fmt);
        vsnprintf(w->err, sizeof(w->err), fmt, ap);
        va_end(ap);
    }
    count_add(&w->c.errors, 1);
    if (c->state != ST_READY)
        atomic_fetch_add(&b->failed, 1);
    if (c->role != TN_ROLE_IDLE || atomic_load(&b->phase) != TN_PH_CONNECT)
        atomic_store(&b->fatal, true);
    if (c->role == TN_ROLE_PUB && !c->done) {
        count_sub(&w->c.inflight, c->inflight);
        c->inflight = 0;
        c->done = c->stopped = true;
        atomic_fetch_add(&b->pubs_done, 1);
    }
    conn_close(w, c);
    /* The loop starts the next connections (not here: failures could recurse deeply). */
}

static bool stalled(const struct tn_bench_worker *w, const conn *c, uint64_t now)
{
    const struct tn_bench *b = w->b;

    return c->role == TN_ROLE_SUB && b->o.sub_stall > 0 &&
           atomic_load_explicit(&b->phase, memory_order_relaxed) == TN_PH_RUN &&
           now < b->t_start + (uint64_t)(b->o.sub_stall * 1e9);
}

/* Whether a publisher wants to be told when it can write more, with nothing queued. */
static bool wants_out(const struct tn_bench_worker *w, const conn *c)
{
    const struct tn_bench *b = w->b;

    return c->role == TN_ROLE_PUB && c->state == ST_READY && !c->stopped && b->per_pub_ns == 0 &&
           b->o.qos == 0 && atomic_load_explicit(&b->phase, memory_order_relaxed) == TN_PH_RUN;
}

static void conn_update_ev(struct tn_bench_worker *w, conn *c, uint64_t now)
{
    struct epoll_event ev;
    uint32_t want = 0;

    if (c->fd < 0)
        return;
    if (c->state == ST_TCP)
        want = EPOLLOUT;
    else {
        if (!stalled(w, c, now))
            want |= EPOLLIN;
        if (c->tx_len > c->tx_off || wants_out(w, c))
            want |= EPOLLOUT;
    }
    if (want == c->ev)
        return;
    ev.events = want;
    ev.data.u64 = (uint64_t)c->slot + 2u;
    if (epoll_ctl(w->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        conn_fail(w, c, "epoll_ctl: %s", strerror(errno));
        return;
    }
    c->ev = want;
}

static int tx_reserve(conn *c, size_t need)
{
    size_t cap;
    uint8_t *p;

    if (c->tx_off == c->tx_len)
        c->tx_off = c->tx_len = 0;
    if (c->tx_cap - c->tx_len >= need)
        return 0;
    if (c->tx_off > 0) {
        memmove(c->tx, c->tx + c->tx_off, c->tx_len - c->tx_off);
        c->tx_len -= c->tx_off;
        c->tx_off = 0;
        if (c->tx_cap - c->tx_len >= need)
            return 0;
    }
    cap = c->tx_cap ? c->tx_cap : 4096;
    while (cap - c->tx_len < need)
        cap *= 2;
    p = realloc(c->tx, cap);
    if (!p)
        return -ENOMEM;
    c->tx = p;
    c->tx_cap = cap;
    return 0;
}

/* Encode a whole packet at the end of the send buffer. */
static int put_packet(struct tn_bench_worker *w, conn *c, const struct tern_packet *pk)
{
    int n = tern_packet_size(pk, w->b->o.version);

    if (n < 0)
        return n;
    if (tx_reserve(c, (size_t)n) < 0)
        return -ENOMEM;
    n = tern_packet_encode(pk, w->b->o.version, c->tx + c->tx_len, c->tx_cap - c->tx_len);
    if (n < 0)
        return n;
    c->tx_len += (size_t)n;
    return 0;
}

static int put_simple(struct tn_bench_worker *w, conn *c, uint8_t type, uint16_t id)
{
    struct tern_packet pk;

    memset(&pk, 0, sizeof(pk));
    pk.type = type;
    pk.u.ack.packet_id = id;
    return put_packet(w, c, &pk);
}

/* Write what is queued. Returns 0, or -1 after failing the connection. */
static int conn_flush(struct tn_bench_worker *w, conn *c)
{
    ssize_t n;

    while (c->tx_off < c->tx_len) {
        n = send(c->fd, c->tx + c->tx_off, c->tx_len - c->tx_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_fail(w, c, "%s %u: write to %s:%u: %s", role_name(c->role), c->idx, w->b->o.host,
                      w->b->o.port, strerror(errno));
            return -1;
        }
        c->tx_off += (size_t)n;
    }
    if (c->tx_off == c->tx_len)
        c->tx_off = c->tx_len = 0;
    return 0;
}

static int send_connect(struct tn_bench_worker *w, conn *c)
{
    struct tn_bench *b = w->b;
    struct tern_packet pk;
    char id[96];

    snprintf(id, sizeof(id), "%s-%c%u", b->client_id, role_name(c->role)[0],
             c->idx); /* p, s or c */
    memset(&pk, 0, sizeof(pk));
    pk.type = TERN_CONNECT;
    pk.u.connect.version = b->o.version;
    pk.u.connect.clean = true;
    pk.u.connect.keep_alive = (uint16_t)b->o.keepalive;
    pk.u.connect.client_id = tern_slice_cstr(id);
    if (b->o.username) {
        pk.u.connect.has_username = true;
        pk.u.connect.username = tern_slice_cstr(b->o.username);
    }
    if (b->o.password) {
        pk.u.connect.has_password = true;
        pk.u.connect.password = tern_slice_cstr(b->o.password);
    }
    if (b->o.version == TERN_V5 && c->role == TN_ROLE_SUB) {
        /* Let the broker send as much as it likes: we acknowledge at once. */
        tern_props_set(&pk.u.connect.props, TERN_PROP_RECEIVE_MAXIMUM);
        pk.u.connect.props.receive_maximum = 65535;
    }
    if (put_packet(w, c, &pk) < 0)
        return -1;
    c->state = ST_CONNACK;
    c->t_connect = tn_bench_now();
    return 0;
}

static void conn_start(struct tn_bench_worker *w, conn *c)
{
    struct tn_bench *b = w->b;
    struct epoll_event ev;
    int one = 1, r;

    c->fd = socket(b->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        c->state = ST_TCP;
        w->connecting++;
        conn_fail(w, c, "socket: %s%s", strerror(errno),
                  errno == EMFILE ? " (raise the limit: ulimit -n)" : "");
        return;
    }
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (b->nsrc > 0 && b->addr.ss_family == AF_INET) {
        /* Many connections: spread them over 127.0.0.1..N so no source runs out of ports.
         * IP_BIND_ADDRESS_NO_PORT leaves the port to connect(), which picks per 4-tuple. */
        struct sockaddr_in src = {.sin_family = AF_INET};
        src.sin_addr.s_addr = htonl(0x7f000001u + c->idx % b->nsrc);
        setsockopt(c->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
        if (bind(c->fd, (struct sockaddr *)&src, sizeof(src)) < 0) {
            c->state = ST_TCP;
            w->connecting++;
            conn_fail(w, c, "bind to 127.0.0.%u: %s", 1 + c->idx % b->nsrc, strerror(errno));
            return;
        }
    }
    c->state = ST_TCP;
    w->connecting++;
    if (!w->first_connect_ns)
        w->first_connect_ns = tn_bench_now();
    ev.events = EPOLLOUT;
    ev.data.u64 = (uint64_t)c->slot + 2u;
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        conn_fail(w, c, "epoll_ctl: %s", strerror(errno));
        return;
    }
    c->ev = EPOLLOUT;
    do
        r = connect(c->fd, (struct sockaddr *)&b->addr, b->addrlen);
    while (r < 0 && errno == EINTR);
    if (r < 0 && errno != EINPROGRESS)
        conn_fail(w, c, "cannot connect to %s:%u: %s", b->o.host, b->o.port, strerror(errno));
    /* Either way the socket reports writable when the connect has finished. */
}

static void start_more(struct tn_bench_worker *w)
{
    while (w->next_start < w->nconns && w->connecting < MAX_CONNECTING &&
           !atomic_load_explicit(&w->b->fatal, memory_order_relaxed))
        conn_start(w, w->conns[w->next_start++]);
}

static void conn_ready(struct tn_bench_worker *w, conn *c, uint64_t now)
{
    c->state = ST_READY;
    w->connecting--;
    w->last_connack_ns = now;
    count_add(&w->c.connected, 1);
    atomic_fetch_add(&w->b->ready, 1);
}

/* ---- publishing ---------------------------------------------------------------------------- */

/* Encode the PUBLISH head once with the codec; per message only the packet id changes. The
 * offset of the id is checked by decoding a whole frame built from the head. */
static int pub_prepare(struct tn_bench_worker *w, conn *c)
{
    struct tn_bench *b = w->b;
    struct tern_packet pk, out;
    char topic[300];
    uint8_t *frame, rc;
    int n;

    snprintf(topic, sizeof(topic), "%s/%u", b->topic, c->idx);
    memset(&pk, 0, sizeof(pk));
    pk.type = TERN_PUBLISH;
    pk.u.publish.qos = b->o.qos;
    pk.u.publish.packet_id = b->o.qos ? 0x1234 : 0;
    pk.u.publish.topic = tern_slice_cstr(topic);
    pk.u.publish.payload.p = c->head; /* any non-NULL pointer: only the length is used */
    pk.u.publish.payload.n = b->o.size;
    n = tern_publish_encode_head(&pk, b->o.version, c->head, sizeof(c->head));
    if (n < 0)
        return n;
    c->head_len = (unsigned)n;
    c->pid_off = (unsigned)n - 2u - (b->o.version == TERN_V5 ? 1u : 0u);
    frame = calloc(1, (size_t)n + b->o.size);
    if (!frame)
        return -ENOMEM;
    memcpy(frame, c->head, (size_t)n);
    n = tern_packet_decode(frame, (size_t)n + b->o.size, b->o.version, &out, &rc);
    if (n == 0 && (out.u.publish.payload.n != b->o.size ||
                   (b->o.qos && (frame[c->pid_off] != 0x12 || frame[c->pid_off + 1] != 0x34))))
        n = -EPROTO;
    free(frame);
    if (n < 0)
        return n;
    if (b->o.qos) {
        c->ids = calloc(65536, 1);
        if (!c->ids)
            return -ENOMEM;
    }
    c->window = b->o.window;
    c->next_id = 1;
    return 0;
}

static uint16_t pub_take_id(conn *c)
{
    while (c->ids[c->next_id] != TERN_QS_FREE || c->next_id == 0)
        c->next_id++;
    return c->next_id++;
}

static void pub_check_done(struct tn_bench_worker *w, conn *c)
{
    if (c->stopped && c->inflight == 0 && !c->done) {
        c->done = true;
        atomic_fetch_add(&w->b->pubs_done, 1);
    }
}

/* Encode as many PUBLISHes as the window, the rate, the count and the batch allow. */
static void pub_fill(struct tn_bench_worker *w, conn *c, uint64_t now)
{
    struct tn_bench *b = w->b;
    uint64_t n = TX_BATCH / (c->head_len + b->o.size), ts = now;
    size_t frame = c->head_len + b->o.size;

    if (c->state != ST_READY || c->stopped ||
        atomic_load_explicit(&b->phase, memory_order_relaxed) != TN_PH_RUN)
        return;
    if (now >= atomic_load_explicit(&b->t_end, memory_order_relaxed) ||
        (b->o.count && c->seq >= b->o.count)) {
        c->stopped = true;
        pub_check_done(w, c);
        return;
    }
    if (c->tx_len - c->tx_off >= TX_HIGH)
        return;
    if (n == 0)
        n = 1;
    if (b->o.qos && n > c->window - c->inflight)
        n = c->window - c->inflight;
    if (b->o.count && n > b->o.count - c->seq)
        n = b->o.count - c->seq;
    if (b->per_pub_ns) {
        uint64_t due = now < c->t0 ? 0 : (now - c->t0) / b->per_pub_ns + 1;
        n = due > c->seq ? (n < due - c->seq ? n : due - c->seq) : 0;
    }
    if (n == 0)
        return;
    if (tx_reserve(c, (size_t)n * frame) < 0) {
        conn_fail(w, c, "out of memory");
        return;
    }
    for (uint64_t i = 0; i < n; i++) {
        uint8_t *p = c->tx + c->tx_len;

        memcpy(p, c->head, c->head_len);
        if (b->o.qos) {
            uint16_t id = pub_take_id(c);
            p[c->pid_off] = (uint8_t)(id >> 8);
            p[c->pid_off + 1] = (uint8_t)id;
            c->ids[id] = b->o.qos == 1 ? TERN_QS_WAIT_PUBACK : TERN_QS_WAIT_PUBREC;
        }
        /* Paced runs stamp the time the message was due, not when it went out, so a stall
         * on our side or the broker's shows as latency instead of hiding it (coordinated
         * omission). */
        if (b->per_pub_ns)
            ts = c->t0 + c->seq * b->per_pub_ns;
        p += c->head_len;
        put_le32(p, b->run_id);
        put_le32(p + 4, c->idx);
        put_le64(p + 8, c->seq);
        put_le64(p + 16, ts);
        memset(p + TN_BENCH_HDR, 0, b->o.size - TN_BENCH_HDR);
        c->tx_len += frame;
        c->seq++;
    }
    count_add(&w->c.sent, n);
    if (b->o.qos) {
        c->inflight += (unsigned)n;
        count_add(&w->c.inflight, n);
    }
}

/* Fill and write until the socket is full or there is nothing more to send. */
static void pub_pump(struct tn_bench_worker *w, conn *c, uint64_t now)
{
    for (int round = 0; round < 8; round++) {
        size_t before = c->tx_len - c->tx_off;

        pub_fill(w, c, now);
        if (c->fd < 0 || conn_flush(w, c) < 0)
            return;
        if (c->tx_len > c->tx_off || c->tx_len - c->tx_off == before)
            break;
    }
}

static void pub_ack(struct tn_bench_worker *w, conn *c, const struct tern_packet *pk)
{
    uint16_t id = pk->u.ack.packet_id;
    struct tern_qos_step st;

    if (c->role != TN_ROLE_PUB || !c->ids ||
        tern_qos_step(c->ids[id], pk->type, 0, pk->u.ack.rc, &st) < 0 || st.protocol_error) {
        conn_fail(w, c, "%s %u: unexpected %s for packet id %u", role_name(c->role), c->idx,
                  tern_ptype_name(pk->type), id);
        return;
    }
    c->ids[id] = st.next;
    if (st.reply && put_simple(w, c, st.reply, id) < 0) {
        conn_fail(w, c, "out of memory");
        return;
    }
    if (st.complete) {
        c->inflight--;
        count_sub(&w->c.inflight, 1);
        count_add(&w->c.completed, 1);
        if (st.failed) {
            w->rejected++;
            count_add(&w->c.errors, 1);
        }
        pub_check_done(w, c);
    }
}

/* ---- subscribing ---------------------------------------------------------------------------- */

static int send_subscribe(struct tn_bench_worker *w, conn *c)
{
    struct tern_sub_entry e;
    struct tern_packet pk;
    char filter[300];

    snprintf(filter, sizeof(filter), "%s/#", w->b->topic);
    memset(&e, 0, sizeof(e));
    e.filter = tern_slice_cstr(filter);
    e.qos = w->b->o.qos;
    memset(&pk, 0, sizeof(pk));
    pk.type = TERN_SUBSCRIBE;
    pk.u.subscribe.packet_id = 1;
    pk.u.subscribe.count = 1;
    pk.u.subscribe.list = &e;
    if (put_packet(w, c, &pk) < 0)
        return -1;
    c->state = ST_SUBACK;
    return 0;
}

static int seqmap_set(struct seqmap *m, uint64_t seq)
{
    size_t word = (size_t)(seq / 64u);
    uint64_t bit = 1ull << (seq % 64u);

    if (word >= m->nwords) {
        size_t n = m->nwords ? m->nwords : 64;
        uint64_t *p;

        while (n <= word)
            n *= 2;
        p = realloc(m->bits, n * sizeof(*p));
        if (!p)
            return -ENOMEM;
        memset(p + m->nwords, 0, (n - m->nwords) * sizeof(*p));
        m->bits = p;
        m->nwords = n;
    }
    if (m->bits[word] & bit)
        return 1;
    m->bits[word] |= bit;
    m->uniq++;
    return 0;
}

/* One of our messages reached a subscriber: latency, loss and duplicate accounting. */
static void sub_record(struct tn_bench_worker *w, conn *c, tern_slice pl, uint64_t now)
{
    struct tn_bench *b = w->b;
    uint32_t pub;
    uint64_t seq, ts;
    int r;

    if (pl.n < TN_BENCH_HDR || get_le32(pl.p) != b->run_id) {
        c->foreign++;
        return;
    }
    pub = get_le32(pl.p + 4);
    seq = get_le64(pl.p + 8);
    ts = get_le64(pl.p + 16);
    if (pub >= b->o.pubs || seq >= (1ull << 40)) {
        c->foreign++;
        return;
    }
    tn_hist_add(&w->lat, now > ts ? now - ts : 0);
    r = seqmap_set(&c->maps[pub], seq);
    if (r < 0) {
        conn_fail(w, c, "out of memory");
        return;
    }
    if (r > 0)
        c->dups++;
    count_add(&w->c.received, 1);
    w->last_rx_ns = now;
}

static void sub_publish(struct tn_bench_worker *w, conn *c, const struct tern_packet *pk,
                        uint64_t now)
{
    const struct tern_publish *p = &pk->u.publish;
    struct tern_qos_step st;
    bool deliver = true;

    if (c->role != TN_ROLE_SUB || c->state != ST_READY) {
        conn_fail(w, c, "%s %u: unexpected PUBLISH", role_name(c->role), c->idx);
        return;
    }
    if (p->qos == 1 && put_simple(w, c, TERN_PUBACK, p->packet_id) < 0)
        goto nomem;
    if (p->qos == 2) {
        if (!c->in_ids && !(c->in_ids = calloc(65536, 1)))
            goto nomem;
        if (tern_qos_step(c->in_ids[p->packet_id], TERN_PUBLISH, 2, 0, &st) < 0 ||
            st.protocol_error) {
            conn_fail(w, c, "subscriber %u: unexpected PUBLISH for packet id %u", c->idx,
                      p->packet_id);
            return;
        }
        c->in_ids[p->packet_id] = st.next;
        deliver = st.deliver;
        if (st.reply && put_simple(w, c, st.reply, p->packet_id) < 0)
            goto nomem;
    }
    if (deliver)
        sub_record(w, c, p->payload, now);
    return;
nomem:
    conn_fail(w, c, "out of memory");
}

static void sub_pubrel(struct tn_bench_worker *w, conn *c, const struct tern_packet *pk)
{
    uint16_t id = pk->u.ack.packet_id;
    struct tern_qos_step st;

    if (c->role != TN_ROLE_SUB || !c->in_ids ||
        tern_qos_step(c->in_ids[id], TERN_PUBREL, 0, pk->u.ack.rc, &st) < 0 || st.protocol_error) {
        conn_fail(w, c, "%s %u: unexpected PUBREL for packet id %u", role_name(c->role), c->idx,
                  id);
        return;
    }
    c->in_ids[id] = st.next;
    if (st.reply && put_simple(w, c, st.reply, id) < 0)
        conn_fail(w, c, "out of memory");
}

/* ---- receiving ------------------------------------------------------------------------------ */

static const char *connack_text(uint8_t version, uint8_t rc)
{
    static const char *const v311[] = {
        "accepted",           "unacceptable protocol version", "identifier rejected",
        "server unavailable", "bad user name or password",     "not authorized",
    };

    if (version == TERN_V5)
        return tern_rc_name(rc);
    return rc < 6 ? v311[rc] : "unknown return code";
}

static void on_connack(struct tn_bench_worker *w, conn *c, const struct tern_packet *pk,
                       uint64_t now)
{
    struct tn_bench *b = w->b;
    const struct tern_connack *ca = &pk->u.connack;

    if (c->state != ST_CONNACK) {
        conn_fail(w, c, "%s %u: unexpected CONNACK", role_name(c->role), c->idx);
        return;
    }
    if (ca->rc != 0) {
        conn_fail(w, c, "%s:%u refused the connection: %s (0x%02x)", b->o.host, b->o.port,
                  connack_text(b->o.version, ca->rc), ca->rc);
        return;
    }
    if (b->o.version == TERN_V5 && c->role == TN_ROLE_PUB &&
        tern_props_has(&ca->props, TERN_PROP_MAXIMUM_QOS) && ca->props.maximum_qos < b->o.qos) {
        /* Publishing above it would only get us disconnected [MQTT-3.2.2-11] (5.0). */
        conn_fail(w, c, "%s:%u accepts PUBLISH up to QoS %u (Maximum QoS in CONNACK), not %u",
                  b->o.host, b->o.port, ca->props.maximum_qos, b->o.qos);
        return;
    }
    tn_hist_add(&w->conn, now - c->t_connect);
    if (b->o.version == TERN_V5 && tern_props_has(&ca->props, TERN_PROP_RECEIVE_MAXIMUM) &&
        ca->props.receive_maximum < c->window)
        c->window = ca->props.receive_maximum; /* the broker's Receive Maximum binds us */
    if (c->role == TN_ROLE_SUB) {
        if (send_subscribe(w, c) < 0)
            conn_fail(w, c, "cannot encode SUBSCRIBE");
        return;
    }
    conn_ready(w, c, now);
}

static void on_frame(struct tn_bench_worker *w, conn *c, const uint8_t *p, size_t n, uint64_t now)
{
    struct tn_bench *b = w->b;
    struct tern_packet pk;
    uint8_t rc = 0;
    int r;

    r = tern_packet_decode(p, n, b->o.version, &pk, &rc);
    if (r < 0) {
        conn_fail(w, c, "%s %u: bad %s from the broker: %s (0x%02x)", role_name(c->role), c->idx,
                  tern_ptype_name(p[0] >> 4), tern_strerror(r), rc);
        return;
    }
    switch (pk.type) {
    case TERN_CONNACK: on_connack(w, c, &pk, now); break;
    case TERN_SUBACK:
        if (c->state != ST_SUBACK || pk.u.suback.rcs.n != 1) {
            conn_fail(w, c, "%s %u: unexpected SUBACK", role_name(c->role), c->idx);
        } else if (pk.u.suback.rcs.p[0] >= 0x80) {
            conn_fail(w, c, "%s:%u refused the subscription to %s/#: %s (0x%02x)", b->o.host,
                      b->o.port, b->topic,
                      b->o.version == TERN_V5 ? tern_rc_name(pk.u.suback.rcs.p[0]) : "failure",
                      pk.u.suback.rcs.p[0]);
        } else {
            if (pk.u.suback.rcs.p[0] < b->o.qos) /* allowed, but the report must say so */
                w->downgraded = true;
            conn_ready(w, c, now);
        }
        break;
    case TERN_PUBLISH: sub_publish(w, c, &pk, now); break;
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBCOMP: pub_ack(w, c, &pk); break;
    case TERN_PUBREL: sub_pubrel(w, c, &pk); break;
    case TERN_PINGRESP: break;
    case TERN_DISCONNECT:
        conn_fail(w, c, "%s %u: the broker disconnected: %s (0x%02x)", role_name(c->role), c->idx,
                  tern_rc_name(pk.u.disconnect.rc), pk.u.disconnect.rc);
        break;
    default:
        conn_fail(w, c, "%s %u: unexpected %s from the broker", role_name(c->role), c->idx,
                  tern_ptype_name(pk.type));
    }
}

static void conn_readable(struct tn_bench_worker *w, conn *c)
{
    struct tern_frame f;
    uint64_t now;
    size_t off;
    ssize_t n;
    uint8_t rc;
    int r;

    /* Idle clients only ever read CONNACK and PINGRESP: 50000 of them need no 256 KiB. */
    if (c->rx_cap - c->rx_len < (c->role == TN_ROLE_IDLE ? 64u : RX_CHUNK / 4)) {
        size_t cap = c->rx_cap ? c->rx_cap * 2 : c->role == TN_ROLE_IDLE ? 4096 : RX_CHUNK;
        uint8_t *p = realloc(c->rx, cap);
        if (!p) {
            conn_fail(w, c, "out of memory");
            return;
        }
        c->rx = p;
        c->rx_cap = cap;
    }
    n = read(c->fd, c->rx + c->rx_len, c->rx_cap - c->rx_len);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            conn_fail(w, c, "%s %u: read from %s:%u: %s", role_name(c->role), c->idx, w->b->o.host,
                      w->b->o.port, strerror(errno));
        return;
    }
    if (n == 0) {
        conn_fail(w, c, "%s %u: %s:%u closed the connection", role_name(c->role), c->idx,
                  w->b->o.host, w->b->o.port);
        return;
    }
    c->rx_len += (size_t)n;
    now = tn_bench_now(); /* one clock read per chunk: every frame in it arrived by now */
    for (off = 0; c->state != ST_CLOSED;) {
        r = tern_frame_peek(c->rx + off, c->rx_len - off, 0, &f, &rc);
        if (r < 0) {
            conn_fail(w, c, "%s %u: bad frame from the broker: %s", role_name(c->role), c->idx,
                      tern_strerror(r));
            return;
        }
        if (r == 0)
            break;
        on_frame(w, c, c->rx + off, f.size, now);
        off += f.size;
    }
    if (c->state == ST_CLOSED)
        return;
    if (off > 0) {
        memmove(c->rx, c->rx + off, c->rx_len - off);
        c->rx_len -= off;
    }
    if (r == 0 && f.size > c->rx_cap) { /* a frame larger than the buffer: make room */
        uint8_t *p = realloc(c->rx, f.size + RX_CHUNK);
        if (!p) {
            conn_fail(w, c, "out of memory");
            return;
        }
        c->rx = p;
        c->rx_cap = f.size + RX_CHUNK;
    }
    if (c->role == TN_ROLE_PUB)
        pub_pump(w, c, now);
    else
        conn_flush(w, c);
}

static void conn_writable(struct tn_bench_worker *w, conn *c, uint64_t now)
{
    int err = 0;
    socklen_t len = sizeof(err);

    if (c->state == ST_TCP) {
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
            err = errno;
        if (err) {
            conn_fail(w, c, "cannot connect to %s:%u: %s", w->b->o.host, w->b->o.port,
                      strerror(err));
            return;
        }
        if (send_connect(w, c) < 0) {
            conn_fail(w, c, "cannot encode CONNECT (client id, user name or password too long?)");
            return;
        }
    }
    if (c->role == TN_ROLE_PUB)
        pub_pump(w, c, now);
    else
        conn_flush(w, c);
}

/* ---- the worker ----------------------------------------------------------------------------- */

int tn_bench_worker_init(struct tn_bench_worker *w, struct tn_bench *b, unsigned id)
{
    struct epoll_event ev;

    memset(w, 0, sizeof(*w));
    w->b = b;
    w->id = id;
    w->ep = epoll_create1(EPOLL_CLOEXEC);
    w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    w->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    tn_hist_init(&w->lat);
    tn_hist_init(&w->conn);
    if (w->ep < 0 || w->evfd < 0 || w->tfd < 0)
        return -errno;
    ev.events = EPOLLIN;
    ev.data.u64 = 0;
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->evfd, &ev) < 0)
        return -errno;
    ev.data.u64 = 1;
    if (epoll_ctl(w->ep, EPOLL_CTL_ADD, w->tfd, &ev) < 0)
        return -errno;
    return 0;
}

int tn_bench_worker_add(struct tn_bench_worker *w, enum tn_bench_role role, unsigned idx)
{
    struct tn_bench *b = w->b;
    conn **v, *c;
    int r;

    v = realloc(w->conns, (w->nconns + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    w->conns = v;
    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->fd = -1;
    c->role = (uint8_t)role;
    c->idx = idx;
    c->slot = w->nconns;
    w->conns[w->nconns++] = c;
    if (role == TN_ROLE_PUB) {
        r = pub_prepare(w, c);
        if (r < 0)
            return r;
    } else if (role == TN_ROLE_SUB) {
        c->maps = calloc(b->o.pubs, sizeof(*c->maps));
        if (!c->maps)
            return -ENOMEM;
    }
    return 0;
}

void tn_bench_worker_fini(struct tn_bench_worker *w)
{
    for (unsigned i = 0; i < w->nconns; i++) {
        conn *c = w->conns[i];

        if (c->fd >= 0)
            close(c->fd);
        if (c->maps)
            for (unsigned p = 0; p < w->b->o.pubs; p++)
                free(c->maps[p].bits);
        free(c->maps);
        free(c->ids);
        free(c->in_ids);
        free(c->rx);
        free(c->tx);
        free(c);
    }
    free(w->conns);
    w->conns = NULL;
    w->nconns = 0;
    if (w->ep >= 0)
        close(w->ep);
    if (w->evfd >= 0)
        close(w->evfd);
    if (w->tfd >= 0)
        close(w->tfd);
    w->ep = w->evfd = w->tfd = -1;
}

void tn_bench_worker_wake(struct tn_bench_worker *w)
{
    uint64_t one = 1;
    ssize_t r = write(w->evfd, &one, sizeof(one));
    (void)r; /* a full eventfd counter already means "wake up" */
}

/* Publishing starts: stagger paced publishers over one interval, open the gates. */
static void worker_run(struct tn_bench_worker *w, uint64_t now)
{
    struct tn_bench *b = w->b;

    for (unsigned i = 0; i < w->nconns; i++) {
        conn *c = w->conns[i];

        if (c->role == TN_ROLE_PUB) {
            c->t0 = b->t_start + (b->per_pub_ns * c->idx) / (b->o.pubs ? b->o.pubs : 1);
            pub_pump(w, c, now);
        }
        conn_update_ev(w, c, now);
    }
}

/* Paced publishers: send what is due, then arm the timer for the next one due. */
static void worker_pace(struct tn_bench_worker *w, uint64_t now)
{
    struct tn_bench *b = w->b;
    uint64_t next = UINT64_MAX;
    struct itimerspec its;

    for (unsigned i = 0; i < w->nconns; i++) {
        conn *c = w->conns[i];
        uint64_t due;

        if (c->role != TN_ROLE_PUB || c->state != ST_READY || c->stopped)
            continue;
        pub_pump(w, c, now);
        conn_update_ev(w, c, now);
        if (c->state != ST_READY || c->stopped)
            continue;
        if (b->o.qos && c->inflight >= c->window)
            continue; /* an ack will call us */
        due = c->t0 + c->seq * b->per_pub_ns;
        if (due < next)
            next = due;
    }
    if (next == UINT64_MAX)
        return;
    if (next <= now)
        next = now + 1;
    if (next == w->timer_at)
        return; /* already armed for it: spare the syscall */
    w->timer_at = next;
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = (time_t)(next / 1000000000u);
    its.it_value.tv_nsec = (long)(next % 1000000000u);
    timerfd_settime(w->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void worker_ping(struct tn_bench_worker *w)
{
    for (unsigned i = 0; i < w->nconns; i++) {
        conn *c = w->conns[i];

        if (c->state == ST_READY && put_simple(w, c, TERN_PINGREQ, 0) == 0)
            conn_flush(w, c);
    }
}

static void worker_stop(struct tn_bench_worker *w)
{
    for (unsigned i = 0; i < w->nconns; i++) {
        conn *c = w->conns[i];

        if (c->fd < 0)
            continue;
        /* Best effort: a full socket just loses the DISCONNECT; the close follows anyway. */
        if (c->state == ST_READY && put_simple(w, c, TERN_DISCONNECT, 0) == 0)
            conn_flush(w, c);
        conn_close(w, c);
    }
}

/* Tallies the main thread reads after join. */
static void worker_tally(struct tn_bench_worker *w)
{
    struct tn_bench *b = w->b;

    for (unsigned i = 0; i < w->nconns; i++) {
        conn *c = w->conns[i];

        if (c->role == TN_ROLE_PUB) {
            b->pub_sent[c->idx] = c->seq;
        } else if (c->role == TN_ROLE_SUB) {
            for (unsigned p = 0; p < b->o.pubs; p++)
                b->sub_uniq[(size_t)c->idx * b->o.pubs + p] = c->maps[p].uniq;
            w->dups += c->dups;
            w->foreign += c->foreign;
        }
    }
}

void *tn_bench_worker_main(void *arg)
{
    struct tn_bench_worker *w = arg;
    struct tn_bench *b = w->b;
    struct epoll_event evs[EV_MAX];
    int phase = TN_PH_CONNECT, n;
    uint64_t now = tn_bench_now(), next_ping, stall_end = 0;
    uint64_t ping_every = (uint64_t)b->o.keepalive * 500000000u; /* half the keep-alive */

    next_ping = b->o.keepalive ? now + ping_every : UINT64_MAX;
    start_more(w);
    for (;;) {
        int timeout = 100;
        uint64_t soon = next_ping;

        if (phase == TN_PH_RUN && atomic_load_explicit(&b->t_end, memory_order_relaxed) < soon)
            soon = atomic_load_explicit(&b->t_end, memory_order_relaxed);
        if (stall_end && stall_end < soon)
            soon = stall_end;
        if (soon <= now)
            timeout = 0;
        else if (soon - now < 100000000u)
            timeout = (int)((soon - now + 999999u) / 1000000u);
        n = epoll_wait(w->ep, evs, EV_MAX, timeout);
        if (n < 0 && errno != EINTR) {
            snprintf(w->err, sizeof(w->err), "epoll_wait: %s", strerror(errno));
            atomic_store(&b->fatal, true);
            break;
        }
        now = tn_bench_now();
        for (int i = 0; i < n; i++) {
            uint64_t key = evs[i].data.u64, junk;
            conn *c;

            if (key < 2) {
                ssize_t r = read(key == 0 ? w->evfd : w->tfd, &junk, sizeof(junk));
                (void)r;
                continue;
            }
            c = w->conns[key - 2];
            if (c->fd < 0)
                continue;
            if (evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP) && c->state != ST_TCP)
                conn_readable(w, c);
            if (c->fd >= 0 && evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
                conn_writable(w, c, now);
            if (c->fd >= 0)
                conn_update_ev(w, c, now);
        }
        if (w->next_start < w->nconns)
            start_more(w);
        if (phase != atomic_load(&b->phase)) {
            phase = atomic_load(&b->phase);
            if (phase == TN_PH_STOP)
                break;
            if (phase == TN_PH_RUN) {
                if (b->o.sub_stall > 0)
                    stall_end = b->t_start + (uint64_t)(b->o.sub_stall * 1e9);
                worker_run(w, now);
            }
        }
        if (phase == TN_PH_RUN) {
            if (b->per_pub_ns)
                worker_pace(w, now);
            /* The duration is over: stop publishers that are waiting for nothing else. */
            if (now >= atomic_load_explicit(&b->t_end, memory_order_relaxed))
                for (unsigned i = 0; i < w->nconns; i++)
                    if (w->conns[i]->role == TN_ROLE_PUB)
                        pub_fill(w, w->conns[i], now);
            if (stall_end && now >= stall_end) {
                stall_end = 0;
                for (unsigned i = 0; i < w->nconns; i++)
                    conn_update_ev(w, w->conns[i], now);
            }
        }
        if (now >= next_ping) {
            worker_ping(w);
            next_ping = now + ping_every;
        }
    }
    worker_stop(w);
    worker_tally(w);
    return NULL;
}
