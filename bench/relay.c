/* SPDX-License-Identifier: MIT */
/*
 * bench/relay.c - the reference ceiling for broker benchmarks: a minimal single-threaded epoll
 * program that answers CONNECT and SUBSCRIBE and forwards every PUBLISH's bytes unchanged to
 * every subscribed connection. No topic matching, no sessions, no packet id rewriting, and
 * acknowledgements only as far as `tern bench` needs them. Whatever ternd reaches is reported
 * as a fraction of what this program reaches on the same machine.
 *
 * Owns: the listening socket, the signalfd, the epoll instance and every connection (socket,
 * read leftover, output buffer). Thread: the main thread only; nothing is shared.
 * Spec: just enough of MQTT 3.1.1 and 5.0 for tern bench (docs/bench.md).
 *
 * What it does per packet:
 *   CONNECT     -> CONNACK (3.1.1: 20 02 00 00; 5.0: 20 03 00 00 00, no properties)
 *   SUBSCRIBE   -> the connection becomes a subscriber; SUBACK grants each requested QoS
 *   PUBLISH     -> whole frame appended to every subscriber; QoS 1 PUBACK, QoS 2 PUBREC to the
 *                  publisher (the publisher's packet id is forwarded as is)
 *   PUBREL      -> PUBCOMP;  PUBREC (a subscriber's, for a QoS 2 forward) -> PUBREL
 *   PINGREQ     -> PINGRESP; PUBACK, PUBCOMP, UNSUBSCRIBE are ignored
 *   DISCONNECT, EOF, errors, a frame over 16 MiB, a bad varint or packet -> close
 *
 * How it stays fast: level-triggered epoll; one read of up to 64 KiB per readable connection
 * into a shared scratch buffer (only the incomplete tail of a read is kept per connection, so
 * idle connections hold no buffers); consecutive PUBLISH frames of one read are forwarded as
 * one block (the bytes are unchanged, so a run of frames is one memcpy per subscriber); each
 * connection with new output is written once per loop turn (a dirty list), EPOLLOUT is asked
 * for only after a partial write.
 *
 * Slow subscribers: while any subscriber has more than 1 MiB queued, connections that have
 * published and are not subscribers are not read (back-pressure through TCP, as a broker
 * pacing its publishers; new and idle connections are still served).
 * That bounds the queue in practice; as a hard bound, a QoS 0 forward that would take a
 * subscriber past 8 MiB is dropped (counted), and a subscriber whose queue passes 64 MiB (only
 * QoS 1/2 forwards, from publishers that are themselves subscribers) is disconnected.
 *
 * Usage: relay [-p PORT] [-b ADDR]   (IPv4, default 127.0.0.1:1883; -p 0 picks a free port)
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>

#define SCRATCH (64u * 1024u)           /* bytes asked of one read() */
#define MAX_FRAME (16u * 1024u * 1024u) /* larger frames close the connection */
#define OUT_HIGH (1024u * 1024u)        /* a subscriber past this pauses the publishers */
#define OUT_DROP (8u * 1024u * 1024u)   /* QoS 0 forwards past this are dropped */
#define OUT_KICK (64u * 1024u * 1024u)  /* a subscriber past this is disconnected */
#define OUT_MIN 256u                    /* first output buffer */
#define OUT_KEEP_MIN (16u * 1024u)      /* emptied output buffers in [MIN, MAX] are kept */
#define OUT_KEEP_MAX (1024u * 1024u)
#define RBUF_KEEP (64u * 1024u) /* a read leftover buffer larger than this shrinks again */
#define EV_MAX 256
#define ACCEPT_BURST 64

struct conn {
    int fd;
    bool v5;       /* CONNECT said protocol level 5 */
    bool is_sub;   /* sent a SUBSCRIBE: gets every PUBLISH */
    bool is_pub;   /* sent a PUBLISH */
    bool dirty;    /* on the dirty list */
    bool want_out; /* a write was partial: waiting for EPOLLOUT */
    bool paused;   /* not read while a subscriber is over OUT_HIGH */
    bool over;     /* subscriber with more than OUT_HIGH queued */
    bool dead;     /* closed; freed at the end of the loop turn */
    uint32_t ev;   /* epoll mask registered */
    uint32_t all_idx, sub_idx, pause_idx;
    uint8_t *rbuf;              /* owned: the incomplete tail of the last read */
    uint32_t rlen, rcap, rneed; /* rneed: size of the frame at rbuf[0] once its header is in */
    uint8_t *obuf;              /* owned: output not yet written, obuf[ooff..olen) */
    size_t ooff, olen, ocap;
    struct conn *next_dead;
};

struct stats {
    uint64_t accepted, closed, bad, publish_in, forwards, bytes_in, bytes_out, dropped, kicked,
        pauses;
};

/* All lists have room for `cap` entries: a connection is on each at most once and stays on
 * `all` (and so is counted in `nall`) until it is freed, so pushes never fail. */
struct relay {
    int ep, lfd, sfd;
    bool stop;
    uint8_t *scratch; /* owned, SCRATCH bytes */
    struct conn **all, **subs, **dirty, **paused;
    uint32_t nall, nsubs, ndirty, npaused, cap;
    uint32_t n_over; /* subscribers with c->over */
    struct conn *dead;
    struct stats st;
};

static void conn_set_ev(struct relay *r, struct conn *c)
{
    struct epoll_event ev;
    uint32_t want = (c->paused ? 0 : (uint32_t)EPOLLIN) | (c->want_out ? (uint32_t)EPOLLOUT : 0);

    if (c->dead || want == c->ev)
        return;
    ev.events = want;
    ev.data.ptr = c;
    if (epoll_ctl(r->ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        perror("relay: epoll_ctl");
        abort(); /* our own fd, registered: cannot fail in a correct program */
    }
    c->ev = want;
}

static size_t conn_pending(const struct conn *c)
{
    return c->olen - c->ooff;
}

/* Keep n_over in step with a subscriber's queue. */
static void conn_track_over(struct relay *r, struct conn *c)
{
    bool over = c->is_sub && !c->dead && conn_pending(c) > OUT_HIGH;

    if (over == c->over)
        return;
    c->over = over;
    if (over)
        r->n_over++;
    else
        r->n_over--;
}

static void conn_close(struct relay *r, struct conn *c)
{
    if (c->dead)
        return;
    c->dead = true;
    conn_track_over(r, c);
    if (c->is_sub) {
        r->subs[c->sub_idx] = r->subs[--r->nsubs];
        r->subs[c->sub_idx]->sub_idx = c->sub_idx;
    }
    if (c->paused) {
        r->paused[c->pause_idx] = r->paused[--r->npaused];
        r->paused[c->pause_idx]->pause_idx = c->pause_idx;
    }
    close(c->fd); /* also leaves the epoll set */
    c->fd = -1;
    c->next_dead = r->dead;
    r->dead = c;
    r->st.closed++;
}

static void conn_free(struct relay *r, struct conn *c)
{
    r->all[c->all_idx] = r->all[--r->nall];
    r->all[c->all_idx]->all_idx = c->all_idx;
    free(c->rbuf);
    free(c->obuf);
    free(c);
}

/* Room for n more output bytes; marks the connection dirty. NULL: out of memory (closed). */
static uint8_t *out_reserve(struct relay *r, struct conn *c, size_t n)
{
    if (c->ocap - c->olen < n) {
        size_t pending = conn_pending(c), cap = c->ocap ? c->ocap : OUT_MIN;
        uint8_t *p;

        if (c->ooff > 0) { /* slide the unwritten part to the front first */
            memmove(c->obuf, c->obuf + c->ooff, pending);
            c->ooff = 0;
            c->olen = pending;
        }
        while (cap - pending < n)
            cap *= 2;
        if (cap != c->ocap) {
            p = realloc(c->obuf, cap);
            if (!p) {
                fprintf(stderr, "relay: out of memory (%zu bytes of output)\n", cap);
                conn_close(r, c);
                return NULL;
            }
            c->obuf = p;
            c->ocap = cap;
        }
    }
    if (!c->dirty) {
        c->dirty = true;
        r->dirty[r->ndirty++] = c;
    }
    return c->obuf + c->olen;
}

static void out_put(struct relay *r, struct conn *c, const void *p, size_t n)
{
    uint8_t *d = out_reserve(r, c, n);

    if (d) {
        memcpy(d, p, n);
        c->olen += n;
    }
}

/* A four-byte acknowledgement: type byte, 02, packet id. */
static void out_ack(struct relay *r, struct conn *c, uint8_t type, const uint8_t *id)
{
    uint8_t b[4] = {type, 2, id[0], id[1]};

    out_put(r, c, b, sizeof(b));
}

/* Write what is queued, once. A partial write means the socket is full: wait for EPOLLOUT. */
static void conn_flush(struct relay *r, struct conn *c)
{
    ssize_t n;

    while (c->ooff < c->olen) {
        n = send(c->fd, c->obuf + c->ooff, c->olen - c->ooff, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            conn_close(r, c);
            return;
        }
        c->ooff += (size_t)n;
        r->st.bytes_out += (size_t)n;
        if (c->ooff < c->olen)
            break;
    }
    if (c->ooff == c->olen) {
        c->ooff = c->olen = 0;
        /* Idle connections give their buffer back; busy ones keep a moderate one. */
        if (c->ocap < OUT_KEEP_MIN || c->ocap > OUT_KEEP_MAX) {
            free(c->obuf);
            c->obuf = NULL;
            c->ocap = 0;
        }
        c->want_out = false;
    } else {
        c->want_out = true;
    }
    conn_track_over(r, c);
    conn_set_ev(r, c);
}

/* The Variable Byte Integer at p (n bytes available). Returns the bytes it takes, 0 if it is
 * incomplete, -1 if it runs past four bytes. */
static int varint(const uint8_t *p, size_t n, uint32_t *v)
{
    *v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (i >= n)
            return 0;
        *v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80))
            return (int)i + 1;
    }
    return -1;
}

/* Length of the frame at p (n >= 1 bytes available). Returns 1 with *size and *hdr set, 0 if
 * the fixed header is incomplete, -1 for a bad varint or a frame over MAX_FRAME. */
static int frame_peek(const uint8_t *p, size_t n, size_t *size, size_t *hdr)
{
    uint32_t rl;
    int k = varint(p + 1, n - 1, &rl);

    if (k <= 0)
        return k;
    *hdr = (size_t)k + 1;
    *size = *hdr + rl;
    return *size > MAX_FRAME ? -1 : 1;
}

static uint16_t get_be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

/* Append frames p[0..n) (a run of whole PUBLISH frames, `count` of them) to subscriber s. */
static void forward_run(struct relay *r, struct conn *s, const uint8_t *p, size_t n, size_t count)
{
    size_t pending = conn_pending(s), size = 0, hdr;
    uint8_t *d;

    if (pending == 0 || pending + n <= OUT_DROP) { /* the usual case: one copy */
        d = out_reserve(r, s, n);
        if (!d)
            return;
        memcpy(d, p, n);
        s->olen += n;
        r->st.forwards += count;
    } else { /* near the bound: frame by frame, QoS 0 may be dropped */
        for (size_t off = 0; off < n && !s->dead; off += size) {
            frame_peek(p + off, n - off, &size, &hdr); /* parsed once already: cannot fail */
            if ((p[off] & 0x06) == 0 && conn_pending(s) + size > OUT_DROP) {
                r->st.dropped++;
                continue;
            }
            out_put(r, s, p + off, size);
            r->st.forwards++;
        }
    }
    if (!s->dead && conn_pending(s) > OUT_KICK) {
        fprintf(stderr, "relay: subscriber fd %d has %zu bytes queued: disconnected\n", s->fd,
                conn_pending(s));
        r->st.kicked++;
        conn_close(r, s);
    }
    if (!s->dead)
        conn_track_over(r, s);
}

static void forward(struct relay *r, const uint8_t *p, size_t n, size_t count)
{
    /* Backwards: a subscriber closed here is swapped with the last one, already done. */
    for (uint32_t i = r->nsubs; i-- > 0;)
        forward_run(r, r->subs[i], p, n, count);
}

static int on_connect(struct relay *r, struct conn *c, const uint8_t *b, size_t n)
{
    static const uint8_t ack311[] = {0x20, 0x02, 0x00, 0x00};
    static const uint8_t ack5[] = {0x20, 0x03, 0x00, 0x00, 0x00};
    size_t name;

    if (n < 2 || (name = get_be16(b)) + 3 > n)
        return -1;
    c->v5 = b[2 + name] == 5;
    if (c->v5)
        out_put(r, c, ack5, sizeof(ack5));
    else
        out_put(r, c, ack311, sizeof(ack311));
    return 0;
}

static int on_subscribe(struct relay *r, struct conn *c, const uint8_t *b, size_t n)
{
    size_t pos = 2, nf = 0, rl;
    uint32_t props;
    uint8_t *d;
    int k;

    if (n < 3)
        return -1;
    if (c->v5) { /* skip the properties: a varint length and that many bytes */
        k = varint(b + 2, n - 2, &props);
        if (k <= 0 || props > n - 2 - (size_t)k)
            return -1;
        pos = 2 + (size_t)k + props;
    }
    for (size_t q = pos; q < n; nf++) { /* count and check the filters */
        if (n - q < 2 || get_be16(b + q) + 3u > n - q)
            return -1;
        q += get_be16(b + q) + 3u;
    }
    if (nf == 0)
        return -1;
    rl = 2 + (c->v5 ? 1 : 0) + nf;
    d = out_reserve(r, c, 1 + 4 + rl);
    if (!d)
        return 0;
    *d++ = 0x90;
    for (size_t v = rl;; v >>= 7) {
        *d++ = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        if (v <= 0x7f)
            break;
    }
    *d++ = b[0];
    *d++ = b[1];
    if (c->v5)
        *d++ = 0; /* no properties */
    for (size_t q = pos; q < n; q += get_be16(b + q) + 3u) {
        uint8_t qos = b[q + 2 + get_be16(b + q)] & 0x03;
        *d++ = qos == 3 ? 0x80 : qos;
    }
    c->olen = (size_t)(d - c->obuf);
    if (!c->is_sub) {
        c->is_sub = true;
        c->sub_idx = r->nsubs;
        r->subs[r->nsubs++] = c;
    }
    return 0;
}

/* Handle every complete frame in buf[0..len). Returns the bytes used; *need is the size of the
 * incomplete frame that follows (0: its header is incomplete too). -1: c was closed. */
static long conn_frames(struct relay *r, struct conn *c, const uint8_t *buf, size_t len,
                        size_t *need)
{
    size_t off = 0, run = 0, run_end = 0, run_n = 0, size = 0, hdr = 0;
    int k;

    *need = 0;
    while (off < len) {
        const uint8_t *p = buf + off, *b;
        size_t n;
        uint8_t type;

        k = frame_peek(p, len - off, &size, &hdr);
        if (k < 0)
            goto bad;
        if (k == 0 || size > len - off) {
            *need = k ? size : 0;
            break;
        }
        type = p[0] >> 4;
        b = p + hdr;
        n = size - hdr;
        if (type == 3) { /* PUBLISH */
            uint8_t qos = (p[0] >> 1) & 3;

            if (qos == 3 || n < 2 || get_be16(b) + 2u + (qos ? 2u : 0u) > n)
                goto bad;
            if (qos)
                out_ack(r, c, qos == 1 ? 0x40 : 0x50, b + 2 + get_be16(b));
            if (run_end != off) { /* not contiguous with the run: forward that first */
                if (run_n)
                    forward(r, buf + run, run_end - run, run_n);
                run = off;
                run_n = 0;
            }
            run_end = off + size;
            run_n++;
            r->st.publish_in++;
            c->is_pub = true;
        } else {
            switch (type) {
            case 1:
                if (on_connect(r, c, b, n) < 0)
                    goto bad;
                break;
            case 4:         /* PUBACK */
            case 7:         /* PUBCOMP */
            case 10: break; /* UNSUBSCRIBE: ignored */
            case 5:         /* PUBREC from a subscriber */
            case 6:         /* PUBREL from a publisher */
                if (n < 2)
                    goto bad;
                out_ack(r, c, type == 5 ? 0x62 : 0x70, b);
                break;
            case 8:
                if (on_subscribe(r, c, b, n) < 0)
                    goto bad;
                break;
            case 12: out_put(r, c, "\xd0\x00", 2); break;
            case 14: conn_close(r, c); break;
            default: goto bad;
            }
        }
        if (c->dead)
            break;
        off += size;
    }
    if (run_n)
        forward(r, buf + run, run_end - run, run_n);
    return c->dead ? -1 : (long)off;
bad:
    r->st.bad++;
    if (run_n)
        forward(r, buf + run, run_end - run, run_n);
    conn_close(r, c);
    return -1;
}

/* Make the leftover buffer hold at least `want` bytes; shrink it when it grew large. */
static int rbuf_fit(struct relay *r, struct conn *c, size_t want)
{
    size_t cap = want < 512 ? 512 : want;
    uint8_t *p;

    if (c->rcap >= want && (c->rcap <= RBUF_KEEP || want > RBUF_KEEP))
        return 0;
    p = realloc(c->rbuf, cap);
    if (!p) {
        fprintf(stderr, "relay: out of memory (%zu bytes of input)\n", cap);
        conn_close(r, c);
        return -1;
    }
    c->rbuf = p;
    c->rcap = (uint32_t)cap;
    return 0;
}

static void conn_read(struct relay *r, struct conn *c)
{
    size_t len = c->rlen, cap, rest, need;
    uint8_t *buf;
    ssize_t n;
    long used;

    if (c->rneed > SCRATCH) { /* a large frame is assembled in its own buffer */
        if (rbuf_fit(r, c, c->rneed) < 0)
            return;
        buf = c->rbuf;
        cap = c->rcap;
    } else {
        buf = r->scratch;
        cap = SCRATCH;
        if (len)
            memcpy(buf, c->rbuf, len);
    }
    n = read(c->fd, buf + len, cap - len);
    if (n <= 0) {
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            return; /* the leftover is still in c->rbuf */
        conn_close(r, c);
        return;
    }
    r->st.bytes_in += (size_t)n;
    len += (size_t)n;
    used = conn_frames(r, c, buf, len, &need);
    if (used < 0)
        return;
    rest = len - (size_t)used;
    if (rest == 0) {
        c->rlen = c->rneed = 0;
        free(c->rbuf); /* connections between frames keep no input buffer */
        c->rbuf = NULL;
        c->rcap = 0;
        return;
    }
    if (buf == c->rbuf) {
        memmove(c->rbuf, c->rbuf + used, rest);
    } else {
        if (rbuf_fit(r, c, rest) < 0)
            return;
        memcpy(c->rbuf, buf + used, rest);
    }
    c->rlen = (uint32_t)rest;
    c->rneed = (uint32_t)need;
}

/* Let paused connections be read again once no subscriber is over OUT_HIGH. */
static void resume_all(struct relay *r)
{
    while (r->npaused > 0) {
        struct conn *c = r->paused[--r->npaused];

        c->paused = false;
        conn_set_ev(r, c);
    }
}

static int lists_grow(struct relay *r)
{
    uint32_t cap = r->cap ? r->cap * 2 : 1024;
    struct conn ***lists[] = {&r->all, &r->subs, &r->dirty, &r->paused};

    for (size_t i = 0; i < sizeof(lists) / sizeof(lists[0]); i++) {
        struct conn **p = realloc(*lists[i], cap * sizeof(*p));
        if (!p)
            return -1; /* the lists that did grow are fine as they are */
        *lists[i] = p;
    }
    r->cap = cap;
    return 0;
}

static void on_accept(struct relay *r)
{
    struct epoll_event ev;
    int one = 1;

    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(r->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        struct conn *c;

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                perror("relay: accept"); /* EMFILE: ulimit -n */
            return;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if ((r->nall == r->cap && lists_grow(r) < 0) || !(c = calloc(1, sizeof(*c)))) {
            fprintf(stderr, "relay: out of memory: connection refused\n");
            close(fd);
            return;
        }
        c->fd = fd;
        c->ev = EPOLLIN;
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(r->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
            perror("relay: epoll_ctl");
            close(fd);
            free(c);
            return;
        }
        c->all_idx = r->nall;
        r->all[r->nall++] = c;
        r->st.accepted++;
    }
}

static void on_conn_event(struct relay *r, struct conn *c, uint32_t events)
{
    if (c->dead)
        return;
    if (events & EPOLLOUT) {
        conn_flush(r, c);
        if (c->dead)
            return;
    }
    if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
        return;
    if (r->n_over > 0 && c->is_pub && !c->is_sub && !(events & (EPOLLERR | EPOLLHUP))) {
        /* A subscriber is behind: leave this input in the kernel until it catches up. */
        c->paused = true;
        c->pause_idx = r->npaused;
        r->paused[r->npaused++] = c;
        r->st.pauses++;
        conn_set_ev(r, c);
        return;
    }
    conn_read(r, c);
}

static void relay_turn(struct relay *r, struct epoll_event *evs, int n)
{
    for (int i = 0; i < n; i++) {
        void *tag = evs[i].data.ptr;

        if (tag == &r->lfd) {
            on_accept(r);
        } else if (tag == &r->sfd) {
            struct signalfd_siginfo si;
            if (read(r->sfd, &si, sizeof(si)) > 0)
                r->stop = true;
        } else {
            on_conn_event(r, tag, evs[i].events);
        }
    }
    /* One write per connection with new output, after everything this turn read. */
    for (uint32_t i = 0; i < r->ndirty; i++) {
        struct conn *c = r->dirty[i];

        c->dirty = false;
        if (!c->dead && !c->want_out)
            conn_flush(r, c);
    }
    r->ndirty = 0;
    if (r->n_over == 0 && r->npaused > 0)
        resume_all(r);
    while (r->dead) {
        struct conn *c = r->dead;

        r->dead = c->next_dead;
        conn_free(r, c);
    }
}

static int relay_listen(struct relay *r, const char *addr, unsigned port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(sa);
    struct epoll_event ev;
    char text[INET_ADDRSTRLEN];
    int one = 1;

    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1) {
        fprintf(stderr, "relay: bad IPv4 address %s\n", addr);
        return -1;
    }
    r->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->lfd < 0 || setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(r->lfd, SOMAXCONN) < 0 ||
        getsockname(r->lfd, (struct sockaddr *)&sa, &len) < 0) {
        fprintf(stderr, "relay: cannot listen on %s:%u: %s\n", addr, port, strerror(errno));
        return -1;
    }
    ev.events = EPOLLIN;
    ev.data.ptr = &r->lfd;
    if (epoll_ctl(r->ep, EPOLL_CTL_ADD, r->lfd, &ev) < 0)
        return -1;
    inet_ntop(AF_INET, &sa.sin_addr, text, sizeof(text));
    printf("relay: listening on %s:%u\n", text, ntohs(sa.sin_port));
    fflush(stdout);
    return 0;
}

static int relay_init(struct relay *r)
{
    struct epoll_event ev;
    sigset_t set;

    memset(r, 0, sizeof(*r));
    r->lfd = r->sfd = -1;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
        return -1;
    r->ep = epoll_create1(EPOLL_CLOEXEC);
    r->sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    r->scratch = malloc(SCRATCH);
    if (r->ep < 0 || r->sfd < 0 || !r->scratch || lists_grow(r) < 0)
        return -1;
    ev.events = EPOLLIN;
    ev.data.ptr = &r->sfd;
    return epoll_ctl(r->ep, EPOLL_CTL_ADD, r->sfd, &ev);
}

static void relay_fini(struct relay *r)
{
    while (r->nall > 0) {
        struct conn *c = r->all[r->nall - 1];

        if (!c->dead)
            close(c->fd);
        conn_free(r, c);
    }
    free(r->all);
    free(r->subs);
    free(r->dirty);
    free(r->paused);
    free(r->scratch);
    if (r->lfd >= 0)
        close(r->lfd);
    if (r->sfd >= 0)
        close(r->sfd);
    if (r->ep >= 0)
        close(r->ep);
}

/* 100,000 idle connections need as many descriptors. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int main(int argc, char **argv)
{
    const char *addr = "127.0.0.1";
    unsigned long port = 1883;
    struct epoll_event evs[EV_MAX];
    struct relay r;
    char *end;
    int opt, rc = 0;

    while ((opt = getopt(argc, argv, "p:b:h")) != -1) {
        switch (opt) {
        case 'p':
            port = strtoul(optarg, &end, 10);
            if (*end || port > 65535) {
                fprintf(stderr, "relay: bad port %s\n", optarg);
                return 2;
            }
            break;
        case 'b': addr = optarg; break;
        default: fprintf(stderr, "usage: relay [-p PORT] [-b ADDR]\n"); return 2;
        }
    }
    raise_fd_limit();
    if (relay_init(&r) < 0) {
        perror("relay: setup");
        relay_fini(&r);
        return 1;
    }
    if (relay_listen(&r, addr, (unsigned)port) < 0) {
        relay_fini(&r);
        return 1;
    }
    while (!r.stop) {
        int n = epoll_wait(r.ep, evs, EV_MAX, -1);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("relay: epoll_wait");
            rc = 1;
            break;
        }
        relay_turn(&r, evs, n);
    }
    fprintf(stderr,
            "relay: %lu connections accepted, %lu closed (%lu bad input), %lu PUBLISH in, %lu "
            "forwarded, %lu dropped, %lu subscribers kicked, %lu pauses, %lu bytes in, %lu out\n",
            (unsigned long)r.st.accepted, (unsigned long)r.st.closed, (unsigned long)r.st.bad,
            (unsigned long)r.st.publish_in, (unsigned long)r.st.forwards,
            (unsigned long)r.st.dropped, (unsigned long)r.st.kicked, (unsigned long)r.st.pauses,
            (unsigned long)r.st.bytes_in, (unsigned long)r.st.bytes_out);
    relay_fini(&r);
    return rc;
}
