/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/codec_peer.c - a minimal single-threaded MQTT "broker" built only on the tern
 * codec (tern_frame_peek, tern_packet_decode, tern_packet_encode), so that clients we did not
 * write (mosquitto_pub/sub, paho) test our decoder as senders and our encoder as receivers.
 *
 * Usage: codec_peer LOGFILE [PORT]
 *   Listens on 127.0.0.1:PORT (0 or absent: a free port) and prints the port as the first line
 *   of stdout. Appends one JSON object per line to LOGFILE: every frame received ("recv") with
 *   all decoded fields and the raw bytes, every frame sent ("send": our encoding, decoded again
 *   by our decoder), every decode error ("error"), connections opened and closed. It answers
 *   like a broker (CONNACK, acks, SUBACK, UNSUBACK, PINGRESP), keeps retained messages and
 *   Wills, and forwards each PUBLISH to the connections whose subscriptions match.
 *   It exits cleanly when stdin reaches EOF (the test closes the pipe), or dies on SIGTERM;
 *   by hand, keep stdin open: `sleep infinity | codec_peer /tmp/peer.log`.
 *   The log format is in peer_log.h.
 *
 * Owns: everything it allocates (a test tool; one state struct in main).
 * Thread: main only.
 * Spec: MQTT 3.1.1 (2014) and 5.0 (2019); only the broker duties the interop tests need.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "tern/codec.h"
#include "peer_log.h"

#define MAX_CONNS 16
#define MAX_SUBS 16
#define MAX_ALIAS 10 /* the Topic Alias Maximum we announce in CONNACK */
#define MAX_RETAINED 64
#define MAX_FRAME (1u << 20)

struct blob { /* an owned copy of some bytes */
    uint8_t *p;
    size_t n;
};

struct sub {
    struct blob filter;
    uint8_t qos;
    bool nl, rap;
    uint32_t sub_id; /* 0: none */
};

struct conn {
    int fd; /* -1: free slot */
    unsigned id;
    uint8_t version; /* 0 until CONNECT */
    uint8_t *buf;
    size_t len, cap;
    uint16_t next_pid;
    struct sub subs[MAX_SUBS];
    unsigned nsubs;
    struct blob alias[MAX_ALIAS + 1]; /* incoming Topic Alias -> topic (5.0) */
    struct blob client_id;
    struct blob will; /* the Will as a 5.0 PUBLISH frame, empty if none */
};

struct peer {
    int lfd;
    FILE *log;
    unsigned next_id;
    struct conn c[MAX_CONNS];
    struct blob retained[MAX_RETAINED]; /* 5.0 PUBLISH frames */
};

static void blob_set(struct blob *b, const uint8_t *p, size_t n)
{
    free(b->p);
    b->p = malloc(n ? n : 1);
    if (!b->p)
        abort();
    if (n)
        memcpy(b->p, p, n);
    b->n = n;
}

static void blob_free(struct blob *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

static tern_slice blob_slice(const struct blob *b)
{
    return (tern_slice){b->p, b->n};
}

static bool slice_eq(tern_slice a, tern_slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* ---- sending ----------------------------------------------------------------------------- */

static int write_all(int fd, const uint8_t *b, size_t n)
{
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Encode pkt for c, decode our own bytes again and log what the peer will see, then write. */
static int send_pkt(struct peer *p, struct conn *c, const struct tern_packet *pkt)
{
    struct tern_packet back;
    uint8_t rc = 0;
    int size = tern_packet_size(pkt, c->version);
    if (size <= 0) {
        peer_log_error(p->log, c->id, "encode_error", size, 0, (tern_slice){NULL, 0});
        return -1;
    }
    uint8_t *b = malloc((size_t)size);
    if (!b)
        abort();
    int n = tern_packet_encode(pkt, c->version, b, (size_t)size);
    if (n != size) {
        peer_log_error(p->log, c->id, "encode_error", n, 0, (tern_slice){b, 0});
        free(b);
        return -1;
    }
    /* Log before writing: whatever a client has seen is then already in the log. */
    int err = tern_packet_decode(b, (size_t)n, c->version, &back, &rc);
    if (err == 0)
        peer_log_packet(p->log, c->id, "send", &back, (tern_slice){b, (size_t)n}, c->version);
    else
        peer_log_error(p->log, c->id, "send_decode_error", err, rc, (tern_slice){b, (size_t)n});
    int w = write_all(c->fd, b, (size_t)n);
    free(b);
    return w;
}

static void send_ack(struct peer *p, struct conn *c, uint8_t type, uint16_t pid)
{
    struct tern_packet k = {.type = type};
    k.u.ack.packet_id = pid;
    send_pkt(p, c, &k);
}

/* Copy the properties a server forwards with an Application Message (5.0): Payload Format
 * Indicator [MQTT-3.3.2-4], Message Expiry (nothing waits here) [MQTT-3.3.2-6], Response Topic
 * [MQTT-3.3.2-15], Correlation Data [MQTT-3.3.2-16], User Properties unaltered and in order
 * [MQTT-3.3.2-17] [MQTT-3.3.2-18], Content Type [MQTT-3.3.2-20]. *pairs is malloc'd; the
 * caller frees it. */
static void fwd_props(const struct tern_props *in, struct tern_props *out,
                      struct tern_strpair **pairs)
{
    static const unsigned ids[] = {TERN_PROP_PAYLOAD_FORMAT_INDICATOR,
                                   TERN_PROP_MESSAGE_EXPIRY_INTERVAL, TERN_PROP_CONTENT_TYPE,
                                   TERN_PROP_RESPONSE_TOPIC, TERN_PROP_CORRELATION_DATA};
    struct tern_prop_iter it;
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        if (tern_props_has(in, ids[i]))
            tern_props_set(out, ids[i]);
    out->payload_format_indicator = in->payload_format_indicator;
    out->message_expiry_interval = in->message_expiry_interval;
    out->content_type = in->content_type;
    out->response_topic = in->response_topic;
    out->correlation_data = in->correlation_data;
    *pairs = calloc(in->user_n + 1u, sizeof(**pairs));
    if (!*pairs)
        abort();
    tern_props_iter_init(&it, in);
    while (out->user_n < in->user_n && tern_props_next_user(&it, &(*pairs)[out->user_n]) == 1)
        out->user_n++;
    out->user = *pairs;
}

/* Encode a PUBLISH as a 5.0 frame (topic resolved, no alias, forwardable properties only): the
 * form in which retained messages and Wills are stored. */
static void store_publish(const struct tern_publish *in, struct blob *dst)
{
    struct tern_packet k = {.type = TERN_PUBLISH};
    struct tern_strpair *pairs;
    k.u.publish = *in;
    k.u.publish.packet_id = in->qos ? 1 : 0;
    fwd_props(&in->props, &k.u.publish.props, &pairs);
    int size = tern_packet_size(&k, TERN_V5);
    blob_free(dst);
    if (size > 0) {
        dst->p = malloc((size_t)size);
        if (!dst->p || tern_packet_encode(&k, TERN_V5, dst->p, (size_t)size) != size)
            abort();
        dst->n = (size_t)size;
    }
    free(pairs);
}

/* Deliver one message to c. retain as the subscription's rules give it; sub ids to add. */
static void deliver(struct peer *p, struct conn *c, const struct tern_publish *msg, uint8_t qos,
                    bool retain, const uint32_t *ids, uint32_t nids)
{
    struct tern_packet k = {.type = TERN_PUBLISH};
    struct tern_strpair *pairs;
    k.u.publish = *msg;
    k.u.publish.qos = qos;
    k.u.publish.dup = false;
    k.u.publish.retain = retain;
    k.u.publish.packet_id = 0;
    if (qos) {
        if (++c->next_pid == 0)
            c->next_pid = 1;
        k.u.publish.packet_id = c->next_pid;
    }
    fwd_props(&msg->props, &k.u.publish.props, &pairs);
    if (nids) { /* [MQTT-3.3.4-3] */
        k.u.publish.props.sub_id_n = nids;
        k.u.publish.props.sub_id = ids[0];
        k.u.publish.props.sub_ids = ids;
    }
    send_pkt(p, c, &k);
    free(pairs);
}

static bool decode_stored(const struct blob *b, struct tern_packet *k)
{
    uint8_t rc;
    return b->n && tern_packet_decode(b->p, b->n, TERN_V5, k, &rc) == 0;
}

/* Forward msg to every connection with a matching subscription; keep it if retained. */
static void route(struct peer *p, const struct conn *src, const struct tern_publish *msg)
{
    if (msg->retain) { /* store [MQTT-3.3.1-5]; an empty payload removes (3.1.1 -10, -11) */
        int slot = -1;
        for (int i = 0; i < MAX_RETAINED; i++) {
            struct tern_packet k;
            if (decode_stored(&p->retained[i], &k) && slice_eq(k.u.publish.topic, msg->topic))
                slot = i;
            else if (slot < 0 && !p->retained[i].n)
                slot = i;
        }
        if (slot >= 0 && msg->payload.n)
            store_publish(msg, &p->retained[slot]);
        else if (slot >= 0)
            blob_free(&p->retained[slot]);
    }
    for (int i = 0; i < MAX_CONNS; i++) {
        struct conn *c = &p->c[i];
        uint32_t ids[MAX_SUBS], nids = 0;
        bool any = false, rap = false;
        uint8_t qos = 0;
        if (c->fd < 0 || !c->version)
            continue;
        for (unsigned j = 0; j < c->nsubs; j++) {
            const struct sub *s = &c->subs[j];
            if (!tern_topic_matches(blob_slice(&s->filter), msg->topic))
                continue;
            if (s->nl && c == src) /* No Local [MQTT-3.8.3-3] */
                continue;
            any = true;
            rap |= s->rap;
            if (s->qos > qos)
                qos = s->qos;
            if (s->sub_id)
                ids[nids++] = s->sub_id;
        }
        if (any) /* 3.1.1 clears RETAIN for live delivery [MQTT-3.3.1-9]; 5.0 Retain As
                  * Published keeps it [MQTT-3.3.1-12] [MQTT-3.3.1-13] */
            deliver(p, c, msg, qos < msg->qos ? qos : msg->qos,
                    rap && c->version == TERN_V5 && msg->retain, ids, nids);
    }
}

/* ---- packet handlers --------------------------------------------------------------------- */

static void on_connect(struct peer *p, struct conn *c, const struct tern_connect *x)
{
    struct tern_packet k = {.type = TERN_CONNACK};
    char idbuf[32];
    c->version = x->version;
    blob_set(&c->client_id, x->client_id.p, x->client_id.n);
    if (x->will) {
        struct tern_publish w = {.qos = x->will_qos,
                                 .retain = x->will_retain,
                                 .topic = x->will_topic,
                                 .payload = x->will_payload,
                                 .props = x->will_props};
        store_publish(&w, &c->will);
    }
    if (c->version == TERN_V5) {
        struct tern_props *pr = &k.u.connack.props;
        tern_props_set(pr, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
        pr->topic_alias_maximum = MAX_ALIAS;
        tern_props_set(pr, TERN_PROP_RECEIVE_MAXIMUM);
        pr->receive_maximum = 20;
        if (!x->client_id.n) { /* [MQTT-3.2.2-16] */
            snprintf(idbuf, sizeof(idbuf), "tern-peer-%u", c->id);
            blob_set(&c->client_id, (const uint8_t *)idbuf, strlen(idbuf));
            tern_props_set(pr, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER);
            pr->assigned_client_identifier = blob_slice(&c->client_id);
        }
    }
    send_pkt(p, c, &k);
}

/* Returns false when the connection must close (a Topic Alias we cannot resolve). */
static bool on_publish(struct peer *p, struct conn *c, struct tern_publish *x)
{
    if (tern_props_has(&x->props, TERN_PROP_TOPIC_ALIAS)) {
        uint16_t a = x->props.topic_alias;
        if (a == 0 || a > MAX_ALIAS || (!x->topic.n && !c->alias[a].p))
            return false; /* Topic Alias invalid (5.0 3.3.2.3.4) */
        if (x->topic.n)
            blob_set(&c->alias[a], x->topic.p, x->topic.n);
        else
            x->topic = blob_slice(&c->alias[a]);
    }
    if (x->qos == 1)
        send_ack(p, c, TERN_PUBACK, x->packet_id);
    else if (x->qos == 2)
        send_ack(p, c, TERN_PUBREC, x->packet_id);
    route(p, c, x);
    return true;
}

static void on_subscribe(struct peer *p, struct conn *c, const struct tern_packet *k)
{
    struct tern_packet ack = {.type = TERN_SUBACK};
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    uint8_t rcs[MAX_SUBS];
    struct {
        struct tern_sub_entry e;
        bool existed;
    } added[MAX_SUBS];
    unsigned n = 0;
    uint32_t sub_id = tern_props_has(&k->u.subscribe.props, TERN_PROP_SUBSCRIPTION_IDENTIFIER)
                          ? k->u.subscribe.props.sub_id
                          : 0;

    tern_sub_iter_init(&it, k, c->version);
    while (n < MAX_SUBS && tern_sub_iter_next(&it, &e) == 1) {
        unsigned j = 0;
        while (j < c->nsubs && !slice_eq(blob_slice(&c->subs[j].filter), e.filter))
            j++;
        added[n].e = e;
        added[n].existed = j < c->nsubs;
        if (j == c->nsubs && c->nsubs == MAX_SUBS) {
            rcs[n++] = c->version == TERN_V5 ? TERN_RC_QUOTA_EXCEEDED : 0x80; /* 3.1.1: Failure */
            continue;
        }
        if (j == c->nsubs)
            c->nsubs++;
        struct sub *s = &c->subs[j]; /* replaces an existing one [MQTT-3.8.4-3] */
        blob_set(&s->filter, e.filter.p, e.filter.n);
        s->qos = e.qos;
        s->nl = e.no_local;
        s->rap = e.retain_as_published;
        s->sub_id = sub_id;
        rcs[n++] = e.qos; /* granted as requested [MQTT-3.9.3-1] */
    }
    ack.u.suback.packet_id = k->u.subscribe.packet_id; /* [MQTT-3.8.4-2] */
    ack.u.suback.rcs = (tern_slice){rcs, n};
    send_pkt(p, c, &ack);
    /* Retained messages follow the SUBACK with RETAIN set (3.1.1 [MQTT-3.3.1-8]); 5.0 Retain
     * Handling 0: send, 1: only for a new subscription, 2: never [MQTT-3.3.1-9..11]. */
    for (unsigned i = 0; i < n; i++) {
        if (rcs[i] > 2 || added[i].e.retain_handling == 2 ||
            (added[i].e.retain_handling == 1 && added[i].existed))
            continue;
        for (int r = 0; r < MAX_RETAINED; r++) {
            struct tern_packet m;
            if (!decode_stored(&p->retained[r], &m) ||
                !tern_topic_matches(added[i].e.filter, m.u.publish.topic))
                continue;
            deliver(p, c, &m.u.publish,
                    m.u.publish.qos < added[i].e.qos ? m.u.publish.qos : added[i].e.qos, true,
                    &sub_id, sub_id ? 1 : 0);
        }
    }
}

static void on_unsubscribe(struct peer *p, struct conn *c, const struct tern_packet *k)
{
    struct tern_packet ack = {.type = TERN_UNSUBACK};
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    uint8_t rcs[64];
    size_t n = 0;
    tern_sub_iter_init(&it, k, c->version);
    while (n < sizeof(rcs) && tern_sub_iter_next(&it, &e) == 1) {
        unsigned j = 0;
        while (j < c->nsubs && !slice_eq(blob_slice(&c->subs[j].filter), e.filter))
            j++;
        rcs[n++] = j < c->nsubs ? TERN_RC_SUCCESS : TERN_RC_NO_SUBSCRIPTION_EXISTED;
        if (j < c->nsubs) {
            blob_free(&c->subs[j].filter);
            c->subs[j] = c->subs[--c->nsubs];
            memset(&c->subs[c->nsubs], 0, sizeof(c->subs[0]));
        }
    }
    ack.u.suback.packet_id = k->u.subscribe.packet_id;
    ack.u.suback.rcs = (tern_slice){rcs, n};
    send_pkt(p, c, &ack);
}

/* Handle one decoded frame. Returns false when the connection must be closed. */
static bool on_packet(struct peer *p, struct conn *c, struct tern_packet *k)
{
    if (!c->version && k->type != TERN_CONNECT)
        return false; /* the first packet must be CONNECT [MQTT-3.1.0-1] */
    switch (k->type) {
    case TERN_CONNECT:
        if (c->version)
            return false; /* a second CONNECT is a protocol violation [MQTT-3.1.0-2] */
        on_connect(p, c, &k->u.connect);
        return true;
    case TERN_PUBLISH: return on_publish(p, c, &k->u.publish);
    case TERN_PUBREC: send_ack(p, c, TERN_PUBREL, k->u.ack.packet_id); return true;
    case TERN_PUBREL: send_ack(p, c, TERN_PUBCOMP, k->u.ack.packet_id); return true;
    case TERN_PUBACK:
    case TERN_PUBCOMP: return true;
    case TERN_SUBSCRIBE: on_subscribe(p, c, k); return true;
    case TERN_UNSUBSCRIBE: on_unsubscribe(p, c, k); return true;
    case TERN_PINGREQ: {
        struct tern_packet r = {.type = TERN_PINGRESP};
        send_pkt(p, c, &r);
        return true;
    }
    case TERN_DISCONNECT:
        /* DISCONNECT discards the Will (3.1.1 [MQTT-3.14.4-3]), in 5.0 unless its reason is
         * 0x04 Disconnect with Will Message [MQTT-3.1.2-10]. */
        if (c->version != TERN_V5 || k->u.disconnect.rc != TERN_RC_DISCONNECT_WITH_WILL)
            blob_free(&c->will);
        return false;
    default: return false; /* AUTH: no enhanced authentication here */
    }
}

/* Decode and handle every whole frame in c's buffer. Returns false to close. */
static bool conn_frames(struct peer *p, struct conn *c)
{
    size_t off = 0;
    bool keep = true;
    while (keep) {
        struct tern_frame fr;
        struct tern_packet k;
        uint8_t rc = 0;
        int r = tern_frame_peek(c->buf + off, c->len - off, MAX_FRAME, &fr, &rc);
        if (r == 0)
            break;
        if (r < 0) {
            peer_log_error(p->log, c->id, "error", r, rc, (tern_slice){c->buf + off, c->len - off});
            return false;
        }
        tern_slice raw = {c->buf + off, fr.size};
        uint8_t ver = c->version ? c->version : TERN_V311;
        int err = tern_packet_decode(raw.p, raw.n, ver, &k, &rc);
        if (err == -TERN_EVERSION && k.type == TERN_CONNECT) {
            struct tern_packet ack = {.type = TERN_CONNACK};
            peer_log_error(p->log, c->id, "error", err, rc, raw);
            c->version = k.u.connect.version == TERN_V5 ? TERN_V5 : TERN_V311;
            ack.u.connack.rc = c->version == TERN_V5 ? rc : tern_rc_to_connack311(rc);
            send_pkt(p, c, &ack); /* [MQTT-3.1.2-2] */
            return false;
        }
        if (err) {
            peer_log_error(p->log, c->id, "error", err, rc, raw);
            if (c->version == TERN_V5) { /* 5.0: DISCONNECT with the reason [MQTT-4.13.1-1] */
                struct tern_packet d = {.type = TERN_DISCONNECT};
                d.u.disconnect.rc = rc;
                send_pkt(p, c, &d);
            }
            return false;
        }
        peer_log_packet(p->log, c->id, "recv", &k, raw,
                        k.type == TERN_CONNECT ? k.u.connect.version : ver);
        keep = on_packet(p, c, &k);
        off += fr.size;
    }
    memmove(c->buf, c->buf + off, c->len - off);
    c->len -= off;
    return keep;
}

static void conn_close(struct peer *p, struct conn *c, bool send_will)
{
    struct tern_packet w;
    close(c->fd);
    c->fd = -1;
    /* Route the Will before logging "close", so a test that saw "close" sees its sends. */
    if (send_will && decode_stored(&c->will, &w)) /* [MQTT-3.1.2-8] */
        route(p, NULL, &w.u.publish);
    peer_log_event(p->log, c->id, "close");
    for (unsigned j = 0; j < c->nsubs; j++)
        blob_free(&c->subs[j].filter);
    for (int a = 0; a <= MAX_ALIAS; a++)
        blob_free(&c->alias[a]);
    blob_free(&c->client_id);
    blob_free(&c->will);
    free(c->buf);
    memset(c, 0, sizeof(*c));
    c->fd = -1;
}

static void conn_read(struct peer *p, struct conn *c)
{
    if (c->cap - c->len < 4096) {
        c->cap = c->cap ? c->cap * 2 : 8192;
        c->buf = realloc(c->buf, c->cap);
        if (!c->buf)
            abort();
    }
    ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        conn_close(p, c, true); /* closed without DISCONNECT: publish the Will */
        return;
    }
    c->len += (size_t)n;
    if (!conn_frames(p, c)) /* a normal DISCONNECT has already dropped the Will */
        conn_close(p, c, true);
}

static int listen_on(unsigned port, unsigned *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t len = sizeof(a);
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
        bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16) ||
        getsockname(fd, (struct sockaddr *)&a, &len))
        return -1;
    *bound = ntohs(a.sin_port);
    return fd;
}

int main(int argc, char **argv)
{
    static struct peer p; /* large; static keeps it off the stack */
    unsigned port = 0;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s LOGFILE [PORT]\n", argv[0]);
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    p.log = fopen(argv[1], "a");
    p.lfd = listen_on(argc == 3 ? (unsigned)atoi(argv[2]) : 0, &port);
    if (!p.log || p.lfd < 0) {
        perror("codec_peer");
        return 1;
    }
    for (int i = 0; i < MAX_CONNS; i++)
        p.c[i].fd = -1;
    printf("%u\n", port);
    fflush(stdout);

    for (;;) {
        struct pollfd fds[MAX_CONNS + 2];
        int map[MAX_CONNS + 2], nfds = 0;
        fds[nfds] = (struct pollfd){.fd = 0, .events = POLLIN};
        map[nfds++] = -2;
        fds[nfds] = (struct pollfd){.fd = p.lfd, .events = POLLIN};
        map[nfds++] = -1;
        for (int i = 0; i < MAX_CONNS; i++)
            if (p.c[i].fd >= 0) {
                fds[nfds] = (struct pollfd){.fd = p.c[i].fd, .events = POLLIN};
                map[nfds++] = i;
            }
        if (poll(fds, (nfds_t)nfds, -1) < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        if (fds[0].revents) { /* stdin: EOF means stop; anything written is ignored */
            char tmp[64];
            if (read(0, tmp, sizeof(tmp)) <= 0)
                break;
        }
        for (int i = 2; i < nfds; i++)
            if (fds[i].revents && p.c[map[i]].fd >= 0)
                conn_read(&p, &p.c[map[i]]);
        if (fds[1].revents & POLLIN) {
            int fd = accept4(p.lfd, NULL, NULL, SOCK_CLOEXEC);
            int slot = 0;
            while (slot < MAX_CONNS && p.c[slot].fd >= 0)
                slot++;
            if (fd >= 0 && slot == MAX_CONNS)
                close(fd);
            else if (fd >= 0) {
                p.c[slot].fd = fd;
                p.c[slot].id = ++p.next_id;
                peer_log_event(p.log, p.c[slot].id, "open");
            }
        }
    }
    for (int i = 0; i < MAX_CONNS; i++)
        if (p.c[i].fd >= 0)
            conn_close(&p, &p.c[i], false);
    for (int r = 0; r < MAX_RETAINED; r++)
        blob_free(&p.retained[r]);
    close(p.lfd);
    fclose(p.log);
    return 0;
}
