/* SPDX-License-Identifier: MIT */
/*
 * tests/client/client_fake_server_test.c - libtern against a scripted server in this process
 * (a listening socket on 127.0.0.1:0 that speaks MQTT through the codec), for behaviour a
 * real broker will not show on demand: incoming topic aliases, a server exceeding our Receive
 * Maximum or Topic Alias Maximum, keep alive (PINGREQ, and the timeout when no PINGRESP
 * comes), DUP resend of in-flight messages after a reconnect with Session Present 1, QoS 2
 * duplicate suppression, a server DISCONNECT, a refused CONNACK, the packet-id window; and
 * two regressions: callbacks that call the library (publish, drive, disconnect) while a batch
 * of events is being delivered, and a refused CONNACK that arrives together with the EOF.
 *
 * Owns: its sockets. Thread: main thread only (the client runs in fd mode between steps).
 */
#include "tn_test.h"
#include "tc_util.h"

#include <netinet/in.h>
#include <sys/ioctl.h>

struct fs {
    int lfd, fd;
    int port;
    uint8_t buf[65536];
    size_t n;
    uint8_t ver;
};

struct ev {
    bool connected, disconnected;
    int err;
    uint8_t rc;
    bool sp;
    int msgs, pubs;
    char topic[8][64];
};

static void e_conn(tern_client *c, void *ud, const struct tern_connect_event *e)
{
    (void)c;
    struct ev *x = ud;
    x->connected = e->rc == 0;
    x->rc = e->rc;
    x->sp = e->session_present;
}
static void e_disc(tern_client *c, void *ud, const struct tern_disconnect_event *e)
{
    (void)c;
    struct ev *x = ud;
    x->disconnected = true;
    x->connected = false;
    x->err = e->err;
    x->rc = e->rc;
}
static void e_msg(tern_client *c, void *ud, const struct tern_publish *p, uint8_t v)
{
    (void)c;
    (void)v;
    struct ev *x = ud;
    if (x->msgs < 8)
        snprintf(x->topic[x->msgs], 64, "%.*s", TERN_SLICE_FMT(p->topic));
    x->msgs++;
}
static void e_pub(tern_client *c, void *ud, const struct tern_publish_event *e)
{
    (void)c;
    (void)e;
    ((struct ev *)ud)->pubs++;
}

static bool fs_listen(struct fs *s)
{
    memset(s, 0, sizeof *s);
    s->fd = -1;
    s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (s->lfd < 0 || bind(s->lfd, (struct sockaddr *)&a, sizeof a) || listen(s->lfd, 4) ||
        getsockname(s->lfd, (struct sockaddr *)&a, &l))
        return false;
    s->port = ntohs(a.sin_port);
    return true;
}

static void fs_close(struct fs *s)
{
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->n = 0;
}

/* Drive the client while waiting for the server socket to become readable/acceptable. */
static bool fs_wait(tern_client *c, int fd, int ms)
{
    long long until = tc_now_ms() + ms;
    while (tc_now_ms() < until) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 0) > 0)
            return true;
        if (tern_client_run(c, 5) == -EBUSY) /* thread mode: the network thread drives it */
            poll(&p, 1, 5);
    }
    return false;
}

static bool fs_accept(struct fs *s, tern_client *c)
{
    fs_close(s);
    if (!fs_wait(c, s->lfd, 3000))
        return false;
    s->fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
    return s->fd >= 0;
}

/* Next packet from the client (decoded into *p, views into s->buf until the next call). */
static bool fs_recv(struct fs *s, tern_client *c, struct tern_packet *p, int ms)
{
    static uint8_t frame[65536];
    long long until = tc_now_ms() + ms;
    for (;;) {
        struct tern_frame f;
        uint8_t rc;
        if (tern_frame_peek(s->buf, s->n, 0, &f, &rc) == 1) {
            memcpy(frame, s->buf, f.size);
            memmove(s->buf, s->buf + f.size, s->n - f.size);
            s->n -= f.size;
            if (tern_packet_decode(frame, f.size, s->ver ? s->ver : 4, p, &rc))
                return false;
            if (p->type == TERN_CONNECT) /* decoded with the level it carries */
                s->ver = p->u.connect.version;
            return true;
        }
        if (tc_now_ms() >= until || !fs_wait(c, s->fd, (int)(until - tc_now_ms())))
            return false;
        ssize_t r = read(s->fd, s->buf + s->n, sizeof s->buf - s->n);
        if (r <= 0)
            return false;
        s->n += (size_t)r;
    }
}

static bool fs_send(struct fs *s, const struct tern_packet *p)
{
    uint8_t b[4096];
    int n = tern_packet_encode(p, s->ver, b, sizeof b);
    return n > 0 && write(s->fd, b, (size_t)n) == n;
}

static bool fs_connack(struct fs *s, bool sp, uint8_t rc, const struct tern_props *props)
{
    struct tern_packet a = {.type = TERN_CONNACK};
    a.u.connack.session_present = sp;
    a.u.connack.rc = rc;
    if (props)
        a.u.connack.props = *props;
    return fs_send(s, &a);
}

static tern_client *mk(struct fs *s, struct ev *x, uint8_t ver, uint16_t keepalive)
{
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)s->port;
    o.version = ver;
    o.client_id = "fake";
    o.keepalive = keepalive;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 40;
    o.topic_alias_maximum = 4;
    o.receive_maximum = 2;
    o.cb.on_connect = e_conn;
    o.cb.on_disconnect = e_disc;
    o.cb.on_message = e_msg;
    o.cb.on_publish = e_pub;
    o.user_data = x;
    tern_client *c = NULL;
    if (tern_client_new(&o, &c))
        return NULL;
    tern_client_connect(c);
    return c;
}

/* Accept, read CONNECT, answer CONNACK. */
static bool handshake(struct fs *s, tern_client *c, struct ev *x, bool sp,
                      const struct tern_props *props)
{
    struct tern_packet p;
    if (!fs_accept(s, c) || !fs_recv(s, c, &p, 3000) || p.type != TERN_CONNECT)
        return false;
    if (!fs_connack(s, sp, 0, props))
        return false;
    return tc_run_until(c, &x->connected, 3000);
}

static void send_pub(struct fs *s, const char *topic, uint8_t qos, uint16_t pid, uint16_t alias)
{
    struct tern_packet p = {.type = TERN_PUBLISH};
    p.u.publish.qos = qos;
    p.u.publish.packet_id = pid;
    p.u.publish.topic = tern_slice_cstr(topic);
    p.u.publish.payload = TERN_SLICE_STR("x");
    if (alias) {
        p.u.publish.props.topic_alias = alias;
        tern_props_set(&p.u.publish.props, TERN_PROP_TOPIC_ALIAS);
    }
    fs_send(s, &p);
}

/* CONNECT carries what we announce: Receive Maximum, Topic Alias Maximum (5.0). */
TN_TEST(connect_announces_limits_v5)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V5, 60);
    TN_REQUIRE(c);
    struct tern_packet p;
    TN_REQUIRE(fs_accept(&s, c) && fs_recv(&s, c, &p, 3000));
    TN_EXPECT_EQ_INT(p.type, TERN_CONNECT);
    TN_EXPECT_EQ_INT(p.u.connect.version, 5);
    TN_EXPECT(tern_props_has(&p.u.connect.props, TERN_PROP_RECEIVE_MAXIMUM));
    TN_EXPECT_EQ_INT(p.u.connect.props.receive_maximum, 2);
    TN_EXPECT_EQ_INT(p.u.connect.props.topic_alias_maximum, 4);
    TN_EXPECT_SLICE_STR(p.u.connect.client_id, "fake");
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* Incoming topic aliases are resolved for on_message; an alias above our maximum ends the
 * connection with DISCONNECT 0x94 [MQTT-3.3.2-11] (5.0). */
TN_TEST(incoming_topic_alias_v5)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V5, 60);
    TN_REQUIRE(c && handshake(&s, c, &x, false, NULL));
    send_pub(&s, "a/long/topic", 0, 0, 3);
    send_pub(&s, "", 0, 0, 3);
    long long until = tc_now_ms() + 2000;
    while (x.msgs < 2 && tc_now_ms() < until)
        tern_client_run(c, 5);
    TN_EXPECT_EQ_INT(x.msgs, 2);
    TN_EXPECT(!strcmp(x.topic[1], "a/long/topic"));
    send_pub(&s, "b", 0, 0, 5); /* above our maximum of 4 */
    struct tern_packet p;
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_DISCONNECT);
    TN_EXPECT_EQ_HEX(p.u.disconnect.rc, TERN_RC_TOPIC_ALIAS_INVALID);
    TN_EXPECT(tc_run_until(c, &x.disconnected, 2000));
    TN_EXPECT_EQ_INT(x.msgs, 2);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* QoS 2 from the server: delivered once even when the PUBLISH is repeated before PUBREL
 * [MQTT-4.3.3-10] (5.0); a third unreleased one exceeds our Receive Maximum of 2:
 * DISCONNECT 0x93 [MQTT-3.3.4-9] (5.0). */
TN_TEST(incoming_qos2_once_and_receive_maximum_v5)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V5, 60);
    TN_REQUIRE(c && handshake(&s, c, &x, false, NULL));
    struct tern_packet p;
    send_pub(&s, "q2", 2, 7, 0);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBREC && p.u.ack.packet_id == 7);
    send_pub(&s, "q2", 2, 7, 0); /* again, before PUBREL */
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBREC && p.u.ack.packet_id == 7);
    struct tern_packet rel = {.type = TERN_PUBREL};
    rel.u.ack.packet_id = 7;
    fs_send(&s, &rel);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBCOMP && p.u.ack.packet_id == 7);
    TN_EXPECT_EQ_INT(x.msgs, 1);
    send_pub(&s, "q2", 2, 8, 0);
    send_pub(&s, "q2", 2, 9, 0);
    send_pub(&s, "q2", 2, 10, 0); /* the third unreleased one */
    bool got = false;
    for (int i = 0; i < 4 && !got; i++)
        if (fs_recv(&s, c, &p, 2000) && p.type == TERN_DISCONNECT) {
            got = true;
            TN_EXPECT_EQ_HEX(p.u.disconnect.rc, TERN_RC_RECEIVE_MAXIMUM_EXCEEDED);
        }
    TN_EXPECT(got);
    TN_EXPECT(tc_run_until(c, &x.disconnected, 2000));
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* Keep alive: a PINGREQ after keepalive seconds of silence; no PINGRESP within the keep alive
 * again: the client closes and reconnects [MQTT-3.1.2-24]-style (the client's side, 3.1.1
 * 3.1.2.10). The reconnect resends the unacknowledged QoS 1 PUBLISH with DUP set when the
 * session is present [MQTT-4.4.0-1] (3.1.1) [MQTT-3.3.1-1]. */
TN_TEST(keepalive_timeout_and_dup_resend_311)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V311, 1);
    TN_REQUIRE(c && handshake(&s, c, &x, false, NULL));
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t/1", "m", 1, 1, false, NULL, NULL), 0);
    struct tern_packet p;
    TN_REQUIRE(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
    uint16_t pid = p.u.publish.packet_id;
    TN_EXPECT(!p.u.publish.dup);
    /* no PUBACK; silence: PINGREQ within ~1 s */
    long long t0 = tc_now_ms();
    TN_EXPECT(fs_recv(&s, c, &p, 3000) && p.type == TERN_PINGREQ);
    TN_EXPECT(tc_now_ms() - t0 < 2500);
    /* no PINGRESP: closed by the client within another keep alive */
    TN_EXPECT(tc_run_until(c, &x.disconnected, 3000));
    TN_EXPECT_EQ_INT(x.err, -ETIMEDOUT);
    x.connected = false;
    TN_REQUIRE(handshake(&s, c, &x, true, NULL));
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
    TN_EXPECT(p.u.publish.dup);
    TN_EXPECT_EQ_INT(p.u.publish.packet_id, pid);
    struct tern_packet ack = {.type = TERN_PUBACK};
    ack.u.ack.packet_id = pid;
    fs_send(&s, &ack);
    long long until = tc_now_ms() + 2000;
    while (x.pubs < 1 && tc_now_ms() < until)
        tern_client_run(c, 5);
    TN_EXPECT_EQ_INT(x.pubs, 1);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* Session Present 0 after a reconnect: in-flight messages start over as new PUBLISHes
 * (DUP 0). A server DISCONNECT reports -TERN_ESERVER with its reason code. */
TN_TEST(session_lost_resend_fresh_and_server_disconnect_v5)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V5, 60);
    TN_REQUIRE(c && handshake(&s, c, &x, false, NULL));
    tern_client_publish(c, "t/2", "m", 1, 2, false, NULL, NULL);
    struct tern_packet p;
    TN_REQUIRE(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
    struct tern_packet d = {.type = TERN_DISCONNECT};
    d.u.disconnect.rc = TERN_RC_SERVER_SHUTTING_DOWN;
    fs_send(&s, &d);
    TN_EXPECT(tc_run_until(c, &x.disconnected, 2000));
    TN_EXPECT_EQ_INT(x.err, -TERN_ESERVER);
    TN_EXPECT_EQ_HEX(x.rc, TERN_RC_SERVER_SHUTTING_DOWN);
    x.connected = false;
    TN_REQUIRE(handshake(&s, c, &x, false, NULL));
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
    TN_EXPECT(!p.u.publish.dup);
    TN_EXPECT_EQ_INT(p.u.publish.qos, 2);
    /* finish the QoS 2 exchange */
    struct tern_packet a = {.type = TERN_PUBREC};
    a.u.ack.packet_id = p.u.publish.packet_id;
    fs_send(&s, &a);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBREL);
    a.type = TERN_PUBCOMP;
    fs_send(&s, &a);
    long long until = tc_now_ms() + 2000;
    while (x.pubs < 1 && tc_now_ms() < until)
        tern_client_run(c, 5);
    TN_EXPECT_EQ_INT(x.pubs, 1);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* The window follows the server's Receive Maximum; ids are reused; 2000 messages pass
 * through a window of 3 and each completes once. */
TN_TEST(window_follows_server_receive_maximum_v5)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V5, 60);
    struct tern_props cp = {0};
    cp.receive_maximum = 3;
    tern_props_set(&cp, TERN_PROP_RECEIVE_MAXIMUM);
    TN_REQUIRE(c && handshake(&s, c, &x, false, &cp));
    for (int i = 0; i < 2000; i++)
        TN_REQUIRE(tern_client_publish(c, "w", "m", 1, 1, false, NULL, NULL) == 0);
    int outstanding = 0, acked = 0;
    bool extra = false;
    uint16_t ids[8];
    struct tern_packet p;
    while (acked < 2000) {
        int expect = 2000 - acked < 3 ? 2000 - acked : 3;
        while (outstanding < expect) {
            if (!fs_recv(&s, c, &p, 2000) || p.type != TERN_PUBLISH)
                break;
            ids[outstanding++] = p.u.publish.packet_id;
        }
        if (outstanding < expect)
            break;
        if (acked == 0 || acked == 1000) /* a full window: nothing more may come */
            extra |= fs_recv(&s, c, &p, 100);
        struct tern_packet a = {.type = TERN_PUBACK};
        a.u.ack.packet_id = ids[0];
        fs_send(&s, &a);
        memmove(ids, ids + 1, (size_t)--outstanding * sizeof ids[0]);
        acked++;
    }
    TN_EXPECT(!extra); /* never more than the server's Receive Maximum */
    TN_EXPECT_EQ_INT(acked, 2000);
    long long until = tc_now_ms() + 2000;
    while (x.pubs < 2000 && tc_now_ms() < until)
        tern_client_run(c, 5);
    TN_EXPECT_EQ_INT(x.pubs, 2000);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* A refused CONNACK: on_connect with the code, then a disconnect with -TERN_EREFUSED. */
TN_TEST(refused_connack_311)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V311, 60);
    struct tern_packet p;
    TN_REQUIRE(c && fs_accept(&s, c) && fs_recv(&s, c, &p, 3000));
    fs_connack(&s, false, TERN_CONNACK_NOT_AUTHORIZED, NULL);
    TN_EXPECT(tc_run_until(c, &x.disconnected, 2000));
    TN_EXPECT_EQ_INT(x.err, -TERN_EREFUSED);
    TN_EXPECT_EQ_INT(x.rc, TERN_CONNACK_NOT_AUTHORIZED);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* topic_alias_auto: the first distinct topics get aliases up to the server's Topic Alias
 * Maximum; later PUBLISHes carry only the alias; no alias above the maximum
 * [MQTT-3.3.2-9] (5.0); aliases start over on a new connection [MQTT-3.3.2-7] (5.0). */
TN_TEST(outgoing_topic_alias_auto_v5)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)s.port;
    o.version = TERN_V5;
    o.client_id = "alias";
    o.topic_alias_auto = true;
    o.reconnect_min_ms = 20;
    o.cb.on_connect = e_conn;
    o.cb.on_disconnect = e_disc;
    o.user_data = &x;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    struct tern_props cp = {0};
    cp.topic_alias_maximum = 2;
    tern_props_set(&cp, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
    TN_REQUIRE(handshake(&s, c, &x, false, &cp));
    const char *topics[] = {"a/1", "a/1", "b/2", "c/3", "a/1"};
    const char *want_t[] = {"a/1", "", "b/2", "c/3", ""};
    int want_a[] = {1, 1, 2, 0, 1};
    for (int i = 0; i < 5; i++)
        tern_client_publish(c, topics[i], "p", 1, 0, false, NULL, NULL);
    for (int i = 0; i < 5; i++) {
        struct tern_packet p;
        TN_REQUIRE(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
        TN_EXPECT_SLICE_STR(p.u.publish.topic, want_t[i]);
        bool has = tern_props_has(&p.u.publish.props, TERN_PROP_TOPIC_ALIAS);
        TN_EXPECT_EQ_INT(has ? p.u.publish.props.topic_alias : 0, want_a[i]);
        TN_EXPECT_SLICE_STR(p.u.publish.payload, "p");
    }
    /* new connection: the topic goes out in full again */
    fs_close(&s);
    TN_EXPECT(tc_run_until(c, &x.disconnected, 2000));
    x.connected = false;
    TN_REQUIRE(handshake(&s, c, &x, false, &cp));
    tern_client_publish(c, "a/1", "p", 1, 0, false, NULL, NULL);
    struct tern_packet p;
    TN_REQUIRE(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
    TN_EXPECT_SLICE_STR(p.u.publish.topic, "a/1");
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* With a store, the incoming QoS 2 state survives the client process: a client restarted
 * with the same store does not deliver again a QoS 2 message it received before the crash,
 * when the server repeats it (DUP) before PUBREL [MQTT-4.3.3-10] (5.0). */
TN_TEST(incoming_qos2_state_survives_restart_311)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    char dir[] = "/tmp/tern-rx2-test-XXXXXX";
    TN_REQUIRE(mkdtemp(dir));
    struct ev x = {0};
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)s.port;
    o.client_id = "rx2";
    o.clean = false;
    o.store_dir = dir;
    o.cb.on_connect = e_conn;
    o.cb.on_message = e_msg;
    o.user_data = &x;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    TN_REQUIRE(handshake(&s, c, &x, false, NULL));
    struct tern_packet p;
    send_pub(&s, "q2", 2, 9, 0);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBREC && p.u.ack.packet_id == 9);
    TN_EXPECT_EQ_INT(x.msgs, 1);
    tern_client_free(c); /* as good as a crash: nothing is sent */

    struct ev y = {0};
    o.user_data = &y;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    TN_REQUIRE(handshake(&s, c, &y, true, NULL));
    struct tern_packet dup = {.type = TERN_PUBLISH};
    dup.u.publish.qos = 2;
    dup.u.publish.dup = true;
    dup.u.publish.packet_id = 9;
    dup.u.publish.topic = TERN_SLICE_STR("q2");
    dup.u.publish.payload = TERN_SLICE_STR("x");
    fs_send(&s, &dup);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBREC && p.u.ack.packet_id == 9);
    struct tern_packet rel = {.type = TERN_PUBREL};
    rel.u.ack.packet_id = 9;
    fs_send(&s, &rel);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBCOMP && p.u.ack.packet_id == 9);
    TN_EXPECT_EQ_INT(y.msgs, 0); /* not delivered a second time */
    /* released: the same id is a new message now */
    send_pub(&s, "q2", 2, 9, 0);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBREC);
    TN_EXPECT_EQ_INT(y.msgs, 1);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TN_EXPECT(system(cmd) == 0);
}

/* TERN_SYNC_BATCH is a group commit: a QoS 1 PUBLISH goes out without waiting for the disk,
 * and the client then asks to be woken when its record falls due (next timeout at most
 * store_sync_ms, far below the keep alive) and syncs it then: the deadline goes away. A QoS 2
 * PUBLISH waits for its packet-id record to be synced, which takes the message with it: no
 * commit is pending once it is out. */
TN_TEST(store_group_commit_bounds_the_sync_delay_311)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    char dir[] = "/tmp/tern-gc-test-XXXXXX";
    TN_REQUIRE(mkdtemp(dir));
    struct ev x = {0};
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)s.port;
    o.client_id = "gc";
    o.keepalive = 60;
    o.store_dir = dir;
    o.store_sync_ms = 300;
    o.cb.on_connect = e_conn;
    o.user_data = &x;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    TN_REQUIRE(handshake(&s, c, &x, false, NULL));
    TN_EXPECT(tern_client_next_timeout_ms(c) > 300); /* only the keep alive is ahead */

    struct tern_packet p;
    TN_REQUIRE(tern_client_publish(c, "gc/1", "a", 1, 1, false, NULL, NULL) == 0);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH && p.u.publish.qos == 1);
    int t = tern_client_next_timeout_ms(c);
    TN_EXPECT(t >= 0 && t <= 300); /* the unsynced record asks for a wake-up */
    long long until = tc_now_ms() + 5000;
    while (tern_client_next_timeout_ms(c) <= 300 && tc_now_ms() < until)
        tern_client_run(c, 100);
    TN_EXPECT(tern_client_next_timeout_ms(c) > 300); /* synced at its deadline */

    TN_REQUIRE(tern_client_publish(c, "gc/2", "b", 1, 2, false, NULL, NULL) == 0);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH && p.u.publish.qos == 2);
    TN_EXPECT(tern_client_next_timeout_ms(c) > 300); /* synced before it went out */
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TN_EXPECT(system(cmd) == 0);
}

/* ---- the server's Maximum Packet Size [MQTT-3.2.2-15] (5.0) --------------------------------- */

struct mps {
    struct ev x; /* first: e_conn takes the same user data */
    int subs, pubs;
    uint8_t sub_rc, pub_rc;
};
static void mps_sub(tern_client *c, void *ud, const struct tern_sub_event *e)
{
    (void)c;
    struct mps *m = ud;
    m->subs++;
    m->sub_rc = e->n ? e->rcs[0] : 0;
}
static void mps_pub(tern_client *c, void *ud, const struct tern_publish_event *e)
{
    (void)c;
    struct mps *m = ud;
    m->pubs++;
    m->pub_rc = e->rc;
}
static bool mps_until(tern_client *c, int *n, int ms)
{
    long long until = tc_now_ms() + ms;
    while (!*n && tc_now_ms() < until)
        tern_client_run(c, 10);
    return *n != 0;
}

/* A SUBSCRIBE bigger than the server's Maximum Packet Size is never sent: the application gets
 * 0x95 (Packet too large) for it, and a smaller one after it goes out. An in-flight PUBLISH
 * that a reconnect's smaller limit no longer admits is not resent either: it completes with
 * 0x95 instead. */
TN_TEST(server_maximum_packet_size_holds_for_subscribe_and_resend_v5_3_2_2_15)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct mps m = {0};
    struct ev *xp = &m.x;
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)s.port;
    o.version = TERN_V5;
    o.client_id = "mps";
    o.clean = false;
    o.session_expiry = 300;
    o.reconnect_min_ms = 20;
    o.reconnect_max_ms = 40;
    o.cb.on_connect = e_conn;
    o.cb.on_subscribe = mps_sub;
    o.cb.on_publish = mps_pub;
    o.user_data = &m;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    struct tern_props lim = {0};
    tern_props_set(&lim, TERN_PROP_MAXIMUM_PACKET_SIZE);
    lim.maximum_packet_size = 40;
    TN_REQUIRE(handshake(&s, c, xp, false, &lim));
    struct tern_packet p;
    char longf[64];
    memset(longf, 'f', sizeof longf - 1);
    longf[sizeof longf - 1] = 0;
    TN_REQUIRE(tern_client_subscribe1(c, longf, 1, NULL) == 0);
    TN_REQUIRE(tern_client_subscribe1(c, "ok/t", 1, NULL) == 0);
    TN_EXPECT(mps_until(c, &m.subs, 2000));
    TN_EXPECT_EQ_INT(m.sub_rc, TERN_RC_PACKET_TOO_LARGE);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_SUBSCRIBE); /* the small one */
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    tern_sub_iter_init(&it, &p, TERN_V5);
    TN_EXPECT(tern_sub_iter_next(&it, &e) == 1 && e.filter.n == 4 &&
              !memcmp(e.filter.p, "ok/t", 4));

    /* a 30-byte payload PUBLISH fits 40 now, goes out and is not acknowledged */
    TN_REQUIRE(tern_client_publish(c, "t", "0123456789012345678901234567890", 31, 1, false, NULL,
                                   NULL) == 0);
    TN_EXPECT(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
    fs_close(&s); /* the link drops; the client comes back */
    xp->connected = false;
    lim.maximum_packet_size = 20;
    TN_REQUIRE(handshake(&s, c, xp, true, &lim));
    TN_EXPECT(mps_until(c, &m.pubs, 2000));
    TN_EXPECT_EQ_INT(m.pub_rc, TERN_RC_PACKET_TOO_LARGE);
    int resent = 0; /* the unacknowledged SUBSCRIBE may come again, the PUBLISH must not */
    while (fs_recv(&s, c, &p, 300))
        resent += p.type == TERN_PUBLISH;
    TN_EXPECT_EQ_INT(resent, 0);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* Re-subscriptions queued for a connection that dropped before its SUBACK are not added to
 * again by the next reconnect: a flapping link sends each filter once per connection. */
TN_TEST(resubscribe_once_per_connection_when_the_link_flaps_311)
{
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, TERN_V311, 60);
    TN_REQUIRE(c);
    TN_REQUIRE(handshake(&s, c, &x, false, NULL));
    struct tern_packet p;
    TN_REQUIRE(tern_client_subscribe1(c, "flap/t", 1, NULL) == 0);
    TN_REQUIRE(fs_recv(&s, c, &p, 2000) && p.type == TERN_SUBSCRIBE);
    struct tern_packet sa = {.type = TERN_SUBACK};
    uint8_t granted = 1;
    sa.u.suback.packet_id = p.u.subscribe.packet_id;
    sa.u.suback.rcs = (tern_slice){&granted, 1};
    TN_REQUIRE(fs_send(&s, &sa));
    for (int round = 0; round < 3; round++) { /* no session: re-subscribe, then drop again */
        fs_close(&s);
        x.connected = false;
        TN_REQUIRE(handshake(&s, c, &x, false, NULL));
        int subs = 0;
        while (fs_recv(&s, c, &p, 300))
            subs += p.type == TERN_SUBSCRIBE;
        TN_EXPECT_EQ_INT(subs, 1);
    }
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* Several packets in ONE write(), so the client reads them in one go and collects all their
 * events before it runs a callback; then, with close_after, the EOF right behind them. */
static bool fs_send_batch(struct fs *s, const struct tern_packet *pk, size_t n, bool close_after)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int k = tern_packet_size(&pk[i], s->ver);
        if (k < 0)
            return false;
        total += (size_t)k;
    }
    uint8_t *b = malloc(total ? total : 1);
    if (!b)
        return false;
    size_t off = 0;
    for (size_t i = 0; i < n; i++)
        off += (size_t)tern_packet_encode(&pk[i], s->ver, b + off, total - off);
    bool ok = off == total;
    for (size_t w = 0; ok && w < total;) {
        ssize_t r = write(s->fd, b + w, total - w);
        ok = r > 0;
        w += ok ? (size_t)r : 0;
    }
    free(b);
    if (close_after)
        fs_close(s);
    return ok;
}

/* Wait until the client's socket holds n unread bytes (without driving the client). */
static bool client_has_bytes(tern_client *c, int n, int ms)
{
    long long until = tc_now_ms() + ms;
    while (tc_now_ms() < until) {
        int avail = 0;
        if (ioctl(tern_client_fd(c), FIONREAD, &avail) == 0 && avail >= n)
            return true;
        struct pollfd p = {.fd = tern_client_fd(c), .events = POLLIN};
        poll(&p, 1, 5);
    }
    return false;
}

/* ---- callbacks that call the library ------------------------------------------------------ */

enum { RE_CONNECT = 1, RE_PUBLISH, RE_MESSAGE };
enum { RE_PUBS = 20 };

struct re {
    int where;   /* the callback that publishes and disconnects */
    bool nested; /* it also drives the client (tern_client_process) before disconnecting */
    bool acted;
    int pub_err, disc_err_ret;
    int conns, pubs, msgs, discs, traces, disc_err;
    int order[64]; /* the pad index of each on_message, in delivery order */
};

static void re_act(tern_client *c, struct re *x)
{
    if (x->acted)
        return;
    x->acted = true;
    for (int i = 0; i < RE_PUBS; i++) {
        int e = tern_client_publish(c, "re/out", "p", 1, 1, false, NULL, NULL);
        if (e)
            x->pub_err = e;
    }
    if (x->nested) /* writes the PUBLISHes: a trace event for each */
        tern_client_process(c, TERN_WANT_WRITE);
    x->disc_err_ret = tern_client_disconnect(c, 0, NULL);
}
static void re_conn(tern_client *c, void *ud, const struct tern_connect_event *e)
{
    struct re *x = ud;
    x->conns += e->rc == 0;
    if (x->where == RE_CONNECT)
        re_act(c, x);
}
static void re_pub(tern_client *c, void *ud, const struct tern_publish_event *e)
{
    (void)e;
    struct re *x = ud;
    x->pubs++;
    if (x->where == RE_PUBLISH)
        re_act(c, x);
}
static void re_msg(tern_client *c, void *ud, const struct tern_publish *p, uint8_t v)
{
    (void)v;
    struct re *x = ud;
    int k = 0; /* payload "#<n>" (a view: not NUL-terminated) */
    for (size_t i = 1; i < p->payload.n; i++)
        k = k * 10 + (p->payload.p[i] - '0');
    if (x->msgs < 64)
        x->order[x->msgs] = k;
    x->msgs++;
    if (x->where == RE_MESSAGE)
        re_act(c, x);
}
static void re_disc(tern_client *c, void *ud, const struct tern_disconnect_event *e)
{
    (void)c;
    struct re *x = ud;
    x->discs++;
    x->disc_err = e->err;
}
static void re_trace(tern_client *c, void *ud, const struct tern_trace_event *e)
{
    (void)c;
    (void)e;
    ((struct re *)ud)->traces++;
}

/* One run: the trigger packet and `pads` QoS 0 PUBLISHes reach the client in one read, so
 * their events (a trace and a callback each) are collected together; the trigger's callback
 * then publishes RE_PUBS messages, optionally drives the client, and disconnects. Every event
 * must still be delivered exactly once and in order, and the client must close cleanly. */
static void reentry_run(int where, int pads, bool nested)
{
    static char pl[64][8];
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct re x = {.where = where, .nested = nested};
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)s.port;
    o.version = TERN_V5;
    o.client_id = "reentry";
    o.auto_reconnect = false;
    o.cb.on_connect = re_conn;
    o.cb.on_publish = re_pub;
    o.cb.on_message = re_msg;
    o.cb.on_disconnect = re_disc;
    o.cb.on_trace = re_trace; /* more events: the callbacks' own packets add some */
    o.user_data = &x;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    struct tern_packet p;
    TN_REQUIRE(fs_accept(&s, c) && fs_recv(&s, c, &p, 3000) && p.type == TERN_CONNECT);

    struct tern_packet batch[66];
    size_t n = 0;
    memset(batch, 0, sizeof batch);
    int first_pad = 0;
    if (where == RE_CONNECT) {
        batch[n++].type = TERN_CONNACK;
    } else {
        TN_REQUIRE(fs_connack(&s, false, 0, NULL));
        long long until = tc_now_ms() + 3000;
        while (x.conns < 1 && tc_now_ms() < until)
            tern_client_run(c, 5);
        TN_REQUIRE(x.conns == 1);
    }
    if (where == RE_PUBLISH) {
        TN_REQUIRE(tern_client_publish(c, "re/first", "f", 1, 1, false, NULL, NULL) == 0);
        TN_REQUIRE(fs_recv(&s, c, &p, 2000) && p.type == TERN_PUBLISH);
        batch[n].type = TERN_PUBACK;
        batch[n++].u.ack.packet_id = p.u.publish.packet_id;
    }
    if (where == RE_MESSAGE)
        first_pad = -1; /* the first PUBLISH is the trigger: "#0" .. "#pads" */
    for (int i = first_pad; i < pads; i++) {
        int k = i - first_pad;
        snprintf(pl[k], sizeof pl[k], "#%d", k);
        batch[n].type = TERN_PUBLISH;
        batch[n].u.publish.topic = TERN_SLICE_STR("re/in");
        batch[n++].u.publish.payload = tern_slice_cstr(pl[k]);
    }
    TN_REQUIRE(fs_send_batch(&s, batch, n, false));
    int want_msgs = where == RE_MESSAGE ? pads + 1 : pads;

    /* the server sees the PUBLISHes written from the callback (when it drove the client),
     * then the DISCONNECT */
    int got_pubs = 0;
    bool got_disc = false;
    while (!got_disc && fs_recv(&s, c, &p, 3000)) {
        if (p.type == TERN_PUBLISH)
            got_pubs++;
        else if (p.type == TERN_DISCONNECT)
            got_disc = true;
    }
    long long until = tc_now_ms() + 3000;
    while (x.discs < 1 && tc_now_ms() < until)
        tern_client_run(c, 5);

    TN_EXPECT(x.acted);
    TN_EXPECT_EQ_INT(x.pub_err, 0);
    TN_EXPECT_EQ_INT(x.disc_err_ret, 0);
    TN_EXPECT(got_disc);
    TN_EXPECT_EQ_INT(got_pubs, nested ? RE_PUBS : 0);
    TN_EXPECT_EQ_INT(x.conns, 1);
    TN_EXPECT_EQ_INT(x.pubs, where == RE_PUBLISH ? 1 : 0);
    TN_EXPECT_EQ_INT(x.msgs, want_msgs); /* each once: none lost, none repeated */
    for (int i = 0; i < x.msgs && i < 64; i++)
        TN_EXPECT_EQ_INT(x.order[i], i);
    TN_EXPECT_EQ_INT(x.discs, 1);
    TN_EXPECT_EQ_INT(x.disc_err, 0);
    TN_EXPECT(x.traces > 0);
    size_t queued = 0;
    tern_client_queued(c, &queued, NULL);
    TN_EXPECT_EQ_INT(queued, RE_PUBS); /* unacknowledged: kept for the next connection */
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* The header promises callbacks may call the library. The events of one read are delivered
 * in a batch; a callback that publishes, drives the client or disconnects adds events (its
 * packets' traces, the close), which once grew the very array being delivered from under the
 * dispatcher (a use-after-free ASan caught in `tern pub -l`) or delivered the batch again from
 * a nested dispatch. 0..9 pads move the batch across the array's first growth (16 events). */
TN_TEST(callbacks_publish_and_disconnect_from_on_connect_v5)
{
    for (int pads = 0; pads <= 9; pads++)
        reentry_run(RE_CONNECT, pads, false);
    reentry_run(RE_CONNECT, 0, true);
    reentry_run(RE_CONNECT, 7, true);
}

TN_TEST(callbacks_publish_and_disconnect_from_on_publish_v5)
{
    for (int pads = 0; pads <= 9; pads++)
        reentry_run(RE_PUBLISH, pads, false);
    reentry_run(RE_PUBLISH, 0, true);
    reentry_run(RE_PUBLISH, 7, true);
}

TN_TEST(callbacks_publish_and_disconnect_from_on_message_v5)
{
    for (int pads = 0; pads <= 9; pads++)
        reentry_run(RE_MESSAGE, pads, false);
    reentry_run(RE_MESSAGE, 0, true);
    reentry_run(RE_MESSAGE, 7, true);
}

/* Thread mode: on_message (on the network thread) publishes an echo of each message while
 * the main thread publishes too and finally disconnects; every message arrives once and in
 * order, every publish completes once, and the DISCONNECT goes out after them. */
struct th {
    _Atomic int msgs, pubs, discs, traces, order_bad, pub_err;
};
static void th_msg(tern_client *c, void *ud, const struct tern_publish *p, uint8_t v)
{
    (void)v;
    struct th *x = ud;
    int k = 0;
    for (size_t i = 1; i < p->payload.n; i++)
        k = k * 10 + (p->payload.p[i] - '0');
    if (k != x->msgs)
        x->order_bad++;
    x->msgs++;
    if (tern_client_publish(c, "th/echo", p->payload.p, p->payload.n, 1, false, NULL, NULL))
        x->pub_err++;
}
static void th_pub(tern_client *c, void *ud, const struct tern_publish_event *e)
{
    (void)c;
    (void)e;
    ((struct th *)ud)->pubs++;
}
static void th_disc(tern_client *c, void *ud, const struct tern_disconnect_event *e)
{
    (void)c;
    (void)e;
    ((struct th *)ud)->discs++;
}
static void th_trace(tern_client *c, void *ud, const struct tern_trace_event *e)
{
    (void)c;
    (void)e;
    ((struct th *)ud)->traces++;
}

static bool th_wait(_Atomic int *v, int want, int ms)
{
    long long until = tc_now_ms() + ms;
    while (*v < want && tc_now_ms() < until)
        poll(NULL, 0, 2);
    return *v >= want;
}

TN_TEST(callbacks_publish_in_thread_mode_v5)
{
    enum { N = 100 };
    static char pl[N][8];
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct th x = {0};
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)s.port;
    o.version = TERN_V5;
    o.client_id = "thread";
    o.auto_reconnect = false;
    o.cb.on_message = th_msg;
    o.cb.on_publish = th_pub;
    o.cb.on_disconnect = th_disc;
    o.cb.on_trace = th_trace;
    o.user_data = &x;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    TN_REQUIRE(tern_client_start(c) == 0);
    struct tern_packet p;
    TN_REQUIRE(fs_accept(&s, c) && fs_recv(&s, c, &p, 3000) && p.type == TERN_CONNECT);
    TN_REQUIRE(fs_connack(&s, false, 0, NULL));
    TN_REQUIRE(th_wait(&x.traces, 2, 3000)); /* CONNECT out, CONNACK in: connected */
    struct tern_packet batch[10];
    memset(batch, 0, sizeof batch);
    for (int i = 0; i < N; i++) {
        snprintf(pl[i], sizeof pl[i], "#%d", i);
        struct tern_packet *b = &batch[i % 10];
        b->type = TERN_PUBLISH;
        b->u.publish.topic = TERN_SLICE_STR("th/in");
        b->u.publish.payload = tern_slice_cstr(pl[i]);
        if (i % 10 == 9)
            TN_REQUIRE(fs_send_batch(&s, batch, 10, false));
        TN_EXPECT_EQ_INT(tern_client_publish(c, "th/main", "m", 1, 1, false, NULL, NULL), 0);
    }
    int echo = 0, mains = 0;
    while (echo + mains < 2 * N && fs_recv(&s, c, &p, 3000)) {
        if (p.type != TERN_PUBLISH)
            continue;
        if (p.u.publish.topic.n == 7 && !memcmp(p.u.publish.topic.p, "th/echo", 7))
            echo++;
        else
            mains++;
        struct tern_packet a = {.type = TERN_PUBACK};
        a.u.ack.packet_id = p.u.publish.packet_id;
        fs_send(&s, &a);
    }
    TN_EXPECT_EQ_INT(echo, N);
    TN_EXPECT_EQ_INT(mains, N);
    TN_EXPECT(th_wait(&x.pubs, 2 * N, 3000));
    TN_EXPECT_EQ_INT(tern_client_disconnect(c, 0, NULL), 0);
    bool got_disc = false;
    while (!got_disc && fs_recv(&s, c, &p, 3000))
        got_disc = p.type == TERN_DISCONNECT;
    TN_EXPECT(got_disc);
    TN_EXPECT(th_wait(&x.discs, 1, 3000));
    TN_EXPECT_EQ_INT(tern_client_stop(c), 0);
    TN_EXPECT_EQ_INT(x.msgs, N);
    TN_EXPECT_EQ_INT(x.order_bad, 0);
    TN_EXPECT_EQ_INT(x.pub_err, 0);
    TN_EXPECT_EQ_INT(x.pubs, 2 * N);
    TN_EXPECT_EQ_INT(x.discs, 1);
    tern_client_free(c);
    fs_close(&s);
    close(s.lfd);
}

/* ---- a refusal followed by EOF ------------------------------------------------------------ */

/* The server answers CONNECT with a refusing CONNACK and closes the connection right behind it
 * (one write, then close: the usual broker behaviour, [MQTT-3.2.2-5] in 3.1.1, [MQTT-3.2.2-7]
 * in 5.0). The client must report the refusal, not the EOF ("connection reset"). `size` > 0
 * pads the 5.0 CONNACK with a Reason String to exactly that many bytes: 32768 fills the
 * client's first read exactly, so the EOF comes in the same read loop as the CONNACK. */
static void refusal_then_eof(uint8_t ver, uint8_t rc, int size)
{
    static char reason[40000];
    struct fs s;
    TN_REQUIRE(fs_listen(&s));
    struct ev x = {0};
    tern_client *c = mk(&s, &x, ver, 60);
    struct tern_packet p;
    TN_REQUIRE(c && fs_accept(&s, c) && fs_recv(&s, c, &p, 3000) && p.type == TERN_CONNECT);
    struct tern_packet a = {.type = TERN_CONNACK};
    a.u.connack.rc = rc;
    int n = tern_packet_size(&a, s.ver);
    for (size_t len = 1; size > 0 && len < sizeof reason && n != size; len++) {
        memset(reason, 'r', len);
        a.u.connack.props.reason_string = (tern_slice){(const uint8_t *)reason, len};
        tern_props_set(&a.u.connack.props, TERN_PROP_REASON_STRING);
        n = tern_packet_size(&a, s.ver);
    }
    TN_REQUIRE(n > 0 && (size <= 0 || n == size));
    TN_REQUIRE(fs_send_batch(&s, &a, 1, true));
    TN_REQUIRE(client_has_bytes(c, n, 3000)); /* all of it is there, the EOF behind it */
    TN_EXPECT(tc_run_until(c, &x.disconnected, 3000));
    TN_EXPECT_EQ_INT(x.err, -TERN_EREFUSED);
    TN_EXPECT_EQ_HEX(x.rc, rc);
    tern_client_free(c);
    close(s.lfd);
}

TN_TEST(refused_connack_then_eof_311)
{
    refusal_then_eof(TERN_V311, TERN_CONNACK_NOT_AUTHORIZED, 0);
}

TN_TEST(refused_connack_then_eof_v5)
{
    refusal_then_eof(TERN_V5, TERN_RC_NOT_AUTHORIZED, 0);
    refusal_then_eof(TERN_V5, TERN_RC_NOT_AUTHORIZED, 32768);
    refusal_then_eof(TERN_V5, TERN_RC_BAD_USER_NAME_OR_PASSWORD, 32768 + 1);
}

TN_TEST_MAIN()
