/* SPDX-License-Identifier: MIT */
/*
 * tests/client/client_mqtt_test.c - libtern against Debian's mosquitto: connect, subscribe
 * and publish at 3.1, 3.1.1 and 5.0 with QoS 0/1/2, MQTT 5 properties (checked by our own
 * subscriber and by mosquitto_sub -V 5 -F as an independent reader), offline buffering and
 * the queue-full result, delivery across a broker restart (persistent session), the thread
 * driver, and the trace hook.
 *
 * Owns: the brokers and mosquitto_sub processes it starts (tc_util.h stops them).
 * Thread: main thread (fd mode) plus libtern's network thread in the thread-mode test.
 */
#include "tn_test.h"
#include "tc_util.h"

#include <pthread.h>

#define MAXM 256

struct rx {
    char topic[128];
    char payload[256];
    size_t len;
    uint8_t qos;
    bool retain, dup;
    uint16_t pid;
    char user[256]; /* "k=v;k=v;" */
    char ctype[64], rtopic[64];
    uint8_t corr[32];
    size_t corr_n;
    uint32_t expiry;
    bool has_expiry;
};

struct ctx {
    pthread_mutex_t mu;
    bool connected, subscribed, unsubscribed, disconnected;
    bool session_present;
    uint8_t connect_rc, suback_rc[8];
    size_t suback_n;
    int connects, disconnects;
    struct rx m[MAXM];
    int nm;
    int published, pub_rc_bad;
    uint64_t pub_mids[MAXM];
    int traced_in, traced_out;
    int want_msgs, want_pubs;
};

static void on_connect(tern_client *c, void *ud, const struct tern_connect_event *ev)
{
    (void)c;
    struct ctx *x = ud;
    pthread_mutex_lock(&x->mu);
    x->connect_rc = ev->rc;
    x->connected = ev->rc == 0;
    x->session_present = ev->session_present;
    x->connects++;
    pthread_mutex_unlock(&x->mu);
}

static void on_message(tern_client *c, void *ud, const struct tern_publish *p, uint8_t ver)
{
    (void)c;
    (void)ver;
    struct ctx *x = ud;
    pthread_mutex_lock(&x->mu);
    if (x->nm < MAXM) {
        struct rx *r = &x->m[x->nm++];
        memset(r, 0, sizeof *r);
        snprintf(r->topic, sizeof r->topic, "%.*s", TERN_SLICE_FMT(p->topic));
        r->len = p->payload.n < sizeof r->payload - 1 ? p->payload.n : sizeof r->payload - 1;
        memcpy(r->payload, p->payload.p, r->len);
        r->qos = p->qos;
        r->retain = p->retain;
        r->dup = p->dup;
        r->pid = p->packet_id;
        struct tern_prop_iter it;
        struct tern_strpair up;
        tern_props_iter_init(&it, &p->props);
        size_t o = 0;
        while (tern_props_next_user(&it, &up) && o < sizeof r->user - 1)
            o += (size_t)snprintf(r->user + o, sizeof r->user - o, "%.*s=%.*s;",
                                  TERN_SLICE_FMT(up.k), TERN_SLICE_FMT(up.v));
        if (tern_props_has(&p->props, TERN_PROP_CONTENT_TYPE))
            snprintf(r->ctype, sizeof r->ctype, "%.*s", TERN_SLICE_FMT(p->props.content_type));
        if (tern_props_has(&p->props, TERN_PROP_RESPONSE_TOPIC))
            snprintf(r->rtopic, sizeof r->rtopic, "%.*s", TERN_SLICE_FMT(p->props.response_topic));
        if (tern_props_has(&p->props, TERN_PROP_CORRELATION_DATA)) {
            r->corr_n = p->props.correlation_data.n < 32 ? p->props.correlation_data.n : 32;
            memcpy(r->corr, p->props.correlation_data.p, r->corr_n);
        }
        r->has_expiry = tern_props_has(&p->props, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
        r->expiry = p->props.message_expiry_interval;
    }
    pthread_mutex_unlock(&x->mu);
}

static void on_publish(tern_client *c, void *ud, const struct tern_publish_event *ev)
{
    (void)c;
    struct ctx *x = ud;
    pthread_mutex_lock(&x->mu);
    if (x->published < MAXM)
        x->pub_mids[x->published] = ev->mid;
    x->published++;
    if (ev->rc >= 0x80)
        x->pub_rc_bad++;
    pthread_mutex_unlock(&x->mu);
}

static void on_subscribe(tern_client *c, void *ud, const struct tern_sub_event *ev)
{
    (void)c;
    struct ctx *x = ud;
    x->suback_n = ev->n;
    for (size_t i = 0; i < ev->n && i < 8; i++)
        x->suback_rc[i] = ev->rcs[i];
    x->subscribed = true;
}

static void on_unsubscribe(tern_client *c, void *ud, const struct tern_sub_event *ev)
{
    (void)c;
    (void)ev;
    ((struct ctx *)ud)->unsubscribed = true;
}

static void on_disconnect(tern_client *c, void *ud, const struct tern_disconnect_event *ev)
{
    (void)c;
    (void)ev;
    struct ctx *x = ud;
    pthread_mutex_lock(&x->mu);
    x->disconnected = true;
    x->connected = false;
    x->disconnects++;
    pthread_mutex_unlock(&x->mu);
}

static void on_trace(tern_client *c, void *ud, const struct tern_trace_event *ev)
{
    (void)c;
    struct ctx *x = ud;
    if (ev->pkt && ev->pkt->type >= TERN_CONNECT && ev->pkt->type <= TERN_DISCONNECT)
        (*(ev->dir == TERN_TRACE_IN ? &x->traced_in : &x->traced_out))++;
}

static void ctx_init(struct ctx *x)
{
    memset(x, 0, sizeof *x);
    pthread_mutex_init(&x->mu, NULL);
}

static void opts_for(struct tern_client_opts *o, struct ctx *x, int port, uint8_t ver,
                     const char *id)
{
    tern_client_opts_init(o);
    o->port = (uint16_t)port;
    o->version = ver;
    o->client_id = id;
    o->cb.on_connect = on_connect;
    o->cb.on_message = on_message;
    o->cb.on_publish = on_publish;
    o->cb.on_subscribe = on_subscribe;
    o->cb.on_unsubscribe = on_unsubscribe;
    o->cb.on_disconnect = on_disconnect;
    o->user_data = x;
    o->reconnect_min_ms = 50;
    o->reconnect_max_ms = 400;
}

static bool got_n(void *arg)
{
    struct ctx *x = arg;
    pthread_mutex_lock(&x->mu);
    bool r = x->nm >= x->want_msgs && x->published >= x->want_pubs;
    pthread_mutex_unlock(&x->mu);
    return r;
}

/* Self-subscribe, publish at QoS 0, 1, 2; each arrives once with its QoS; each publish ends
 * with on_publish. [MQTT-4.3.2-2] [MQTT-4.3.3-2] (QoS 1/2 flows, 3.1.1 numbering). */
static void pubsub_roundtrip(uint8_t ver)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    struct ctx x;
    ctx_init(&x);
    struct tern_client_opts o;
    char id[32];
    snprintf(id, sizeof id, "rt-%u", ver);
    opts_for(&o, &x, b.port, ver, id);
    o.cb.on_trace = on_trace;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    TN_EXPECT_EQ_INT(tern_client_connect(c), 0);
    TN_EXPECT(tc_run_until(c, &x.connected, 5000));
    TN_EXPECT_EQ_INT(x.connect_rc, 0);
    char filt[64];
    snprintf(filt, sizeof filt, "tern/rt/%u/#", ver);
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, filt, 2, NULL), 0);
    TN_EXPECT(tc_run_until(c, &x.subscribed, 5000));
    TN_EXPECT_EQ_INT(x.suback_n, 1);
    TN_EXPECT_EQ_INT(x.suback_rc[0], 2);
    for (int q = 0; q <= 2; q++) {
        char t[64], p[32];
        snprintf(t, sizeof t, "tern/rt/%u/q%d", ver, q);
        snprintf(p, sizeof p, "payload-%d", q);
        uint64_t mid = 0;
        TN_EXPECT_EQ_INT(tern_client_publish(c, t, p, strlen(p), q, false, NULL, &mid), 0);
        TN_EXPECT(mid != 0);
    }
    x.want_msgs = 3;
    x.want_pubs = 3;
    TN_EXPECT(tc_run2_until(c, NULL, got_n, &x, 5000));
    TN_EXPECT_EQ_INT(x.nm, 3);
    TN_EXPECT_EQ_INT(x.published, 3);
    TN_EXPECT_EQ_INT(x.pub_rc_bad, 0);
    for (int i = 0; i < x.nm; i++) {
        char p[32];
        snprintf(p, sizeof p, "payload-%d", x.m[i].qos);
        TN_EXPECT_EQ_INT(x.m[i].len, strlen(p));
        TN_EXPECT(!memcmp(x.m[i].payload, p, x.m[i].len));
        TN_EXPECT(x.m[i].qos == 0 ? x.m[i].pid == 0 : x.m[i].pid != 0);
    }
    /* the trace hook saw CONNECT, SUBSCRIBE, 3 PUBLISH, ... out and CONNACK, SUBACK ... in */
    TN_EXPECT(x.traced_out >= 6);
    TN_EXPECT(x.traced_in >= 6);
    const char *fl[] = {filt};
    TN_EXPECT_EQ_INT(tern_client_unsubscribe(c, fl, 1, NULL, NULL), 0);
    TN_EXPECT(tc_run_until(c, &x.unsubscribed, 5000));
    TN_EXPECT_EQ_INT(tern_client_disconnect(c, 0, NULL), 0);
    TN_EXPECT(tc_run_until(c, &x.disconnected, 5000));
    TN_EXPECT_EQ_INT(tern_client_state(c), TERN_CS_IDLE);
    tern_client_free(c);
    tc_broker_cleanup(&b);
}

TN_TEST(pubsub_qos012_v31)
{
    pubsub_roundtrip(TERN_V31);
}
TN_TEST(pubsub_qos012_311)
{
    pubsub_roundtrip(TERN_V311);
}
TN_TEST(pubsub_qos012_v5)
{
    pubsub_roundtrip(TERN_V5);
}

/* MQTT 5 properties survive a round trip through the broker: user properties in order
 * [MQTT-3.3.2-17], content type, response topic, correlation data, message expiry. */
TN_TEST(properties_round_trip_v5)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    struct ctx x;
    ctx_init(&x);
    struct tern_client_opts o;
    opts_for(&o, &x, b.port, TERN_V5, "props-v5");
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    TN_EXPECT_EQ_INT(tern_client_connect(c), 0);
    TN_EXPECT(tc_run_until(c, &x.connected, 5000));
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, "tern/props", 1, NULL), 0);
    TN_EXPECT(tc_run_until(c, &x.subscribed, 5000));

    /* an independent reader: mosquitto_sub prints what it got */
    char out[128], port[16];
    snprintf(out, sizeof out, "%s/sub.out", b.dir);
    snprintf(port, sizeof port, "%d", b.port);
    char *argv[] = {"mosquitto_sub",        "-V", "5", "-p", port, "-h", "127.0.0.1", "-t",
                    "tern/props",           "-q", "1", "-C", "1",  "-W", "15",        "-F",
                    "%t|%C|%R|%D|%E|%P|%p", NULL};
    pid_t sub = tc_spawn(argv, out);

    struct tern_propset *ps = NULL;
    TN_REQUIRE(tern_propset_new(TERN_PUBLISH, &ps) == 0);
    TN_EXPECT_EQ_INT(tern_propset_add_user(ps, "k1", "v1"), 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "user-property", "k2", "v2"), 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "content-type", "text/plain", NULL), 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "response-topic", "tern/reply", NULL), 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "correlation-data", "corr-42", NULL), 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "message-expiry-interval", "300", NULL), 0);
    /* mosquitto_sub has no subscribed-ack we can see: publish until it has printed */
    char *txt = NULL;
    long long until = tc_now_ms() + 10000;
    bool first = true;
    while (tc_now_ms() < until) {
        TN_EXPECT_EQ_INT(tern_client_publish(c, "tern/props", "hello", 5, 1, false,
                                             tern_propset_props(ps), NULL),
                         0);
        for (int i = 0; i < 10; i++)
            tern_client_run(c, 20);
        free(txt);
        txt = tc_wait_lines(out, 1, 0);
        if (txt && strchr(txt, '\n'))
            break;
        first = false;
    }
    (void)first;
    TN_REQUIRE(txt != NULL);
    TN_EXPECT(strstr(txt, "tern/props|text/plain|tern/reply|corr-42|") == txt);
    TN_EXPECT(strstr(txt, "k1:v1") != NULL);
    TN_EXPECT(strstr(txt, "k2:v2") != NULL);
    TN_EXPECT(strstr(txt, "|hello") != NULL);
    if (!strstr(txt, "k1:v1"))
        fprintf(stderr, "mosquitto_sub printed: %s\n", txt);
    free(txt);
    waitpid(sub, NULL, 0);
    tc_reap(sub);

    x.want_msgs = 1;
    TN_EXPECT(tc_run2_until(c, NULL, got_n, &x, 5000));
    TN_REQUIRE(x.nm >= 1);
    struct rx *r = &x.m[0];
    TN_EXPECT(!strcmp(r->topic, "tern/props"));
    TN_EXPECT(!strcmp(r->user, "k1=v1;k2=v2;"));
    TN_EXPECT(!strcmp(r->ctype, "text/plain"));
    TN_EXPECT(!strcmp(r->rtopic, "tern/reply"));
    TN_EXPECT_MEM(r->corr, r->corr_n, "corr-42", 7);
    TN_EXPECT(r->has_expiry);
    TN_EXPECT(r->expiry > 0 && r->expiry <= 300);
    tern_propset_free(ps);
    tern_client_free(c);
    tc_broker_cleanup(&b);
}

/* Offline publishes are buffered up to max_queued / max_queued_bytes; the next one is
 * rejected with -TERN_EQUEUEFULL; once connected every queued one is delivered. */
TN_TEST(offline_buffer_and_full_result_311)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    struct ctx xs, xp;
    ctx_init(&xs);
    ctx_init(&xp);
    struct tern_client_opts o;
    opts_for(&o, &xs, b.port, TERN_V311, "ob-sub");
    tern_client *s = NULL, *p = NULL;
    TN_REQUIRE(tern_client_new(&o, &s) == 0);
    tern_client_connect(s);
    TN_EXPECT(tc_run_until(s, &xs.connected, 5000));
    tern_client_subscribe1(s, "tern/ob/#", 1, NULL);
    TN_EXPECT(tc_run_until(s, &xs.subscribed, 5000));

    opts_for(&o, &xp, b.port, TERN_V311, "ob-pub");
    o.max_queued = 5;
    TN_REQUIRE(tern_client_new(&o, &p) == 0);
    for (int i = 0; i < 5; i++)
        TN_EXPECT_EQ_INT(tern_client_publish(p, "tern/ob/x", "m", 1, i % 3, false, NULL, NULL), 0);
    TN_EXPECT_EQ_INT(tern_client_publish(p, "tern/ob/x", "m", 1, 1, false, NULL, NULL),
                     -TERN_EQUEUEFULL);
    TN_EXPECT(strstr(tern_client_last_error(), "queue") != NULL);
    size_t n = 0;
    tern_client_queued(p, &n, NULL);
    TN_EXPECT_EQ_INT(n, 5);
    tern_client_connect(p);
    xs.want_msgs = 5;
    xp.want_pubs = 5;
    TN_EXPECT(tc_run2_until(p, s, got_n, &xs, 5000));
    TN_EXPECT(tc_run2_until(p, s, got_n, &xp, 5000));
    TN_EXPECT_EQ_INT(xs.nm, 5);
    TN_EXPECT_EQ_INT(xp.published, 5);
    tern_client_queued(p, &n, NULL);
    TN_EXPECT_EQ_INT(n, 0);
    tern_client_free(p);

    /* the byte limit */
    opts_for(&o, &xp, b.port, TERN_V311, "ob-pub2");
    o.max_queued_bytes = 100;
    TN_REQUIRE(tern_client_new(&o, &p) == 0);
    char big[60] = {0};
    TN_EXPECT_EQ_INT(tern_client_publish(p, "tern/ob/y", big, sizeof big, 1, false, NULL, NULL), 0);
    TN_EXPECT_EQ_INT(tern_client_publish(p, "tern/ob/y", big, sizeof big, 1, false, NULL, NULL),
                     -TERN_EQUEUEFULL);
    tern_client_free(p);
    tern_client_free(s);
    tc_broker_cleanup(&b);
}

/* QoS 1 and 2 messages published while the broker is down reach a persistent subscriber
 * after the broker restarts; QoS 2 ones exactly once. Both clients reconnect by themselves
 * and the subscriber's session is resumed (Session Present 1) [MQTT-3.2.2-2] (3.1.1). */
TN_TEST(delivery_across_broker_restart_311)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    struct ctx xs, xp;
    ctx_init(&xs);
    ctx_init(&xp);
    struct tern_client_opts o;
    opts_for(&o, &xs, b.port, TERN_V311, "rs-sub");
    o.clean = false;
    tern_client *s = NULL, *p = NULL;
    TN_REQUIRE(tern_client_new(&o, &s) == 0);
    tern_client_connect(s);
    TN_EXPECT(tc_run_until(s, &xs.connected, 5000));
    tern_client_subscribe1(s, "tern/rs/#", 2, NULL);
    TN_EXPECT(tc_run_until(s, &xs.subscribed, 5000));
    opts_for(&o, &xp, b.port, TERN_V311, "rs-pub");
    o.clean = false;
    TN_REQUIRE(tern_client_new(&o, &p) == 0);
    tern_client_connect(p);
    TN_EXPECT(tc_run_until(p, &xp.connected, 5000));

    tc_broker_stop(&b);
    xs.disconnected = xp.disconnected = false;
    TN_EXPECT(tc_run_until(s, &xs.disconnected, 5000));
    TN_EXPECT(tc_run_until(p, &xp.disconnected, 5000));
    for (int i = 0; i < 20; i++) {
        char pl[16];
        snprintf(pl, sizeof pl, "%d", i);
        TN_EXPECT_EQ_INT(
            tern_client_publish(p, "tern/rs/x", pl, strlen(pl), 1 + i % 2, false, NULL, NULL), 0);
    }
    TN_REQUIRE(tc_broker_start(&b));
    xs.want_msgs = 20;
    TN_EXPECT(tc_run2_until(p, s, got_n, &xs, 15000));
    xp.want_pubs = 20;
    TN_EXPECT(tc_run2_until(p, s, got_n, &xp, 5000));
    TN_EXPECT(xs.session_present);
    TN_EXPECT_EQ_INT(xs.connects, 2);
    int seen[20] = {0};
    for (int i = 0; i < xs.nm; i++) {
        int v = atoi(xs.m[i].payload);
        if (v >= 0 && v < 20)
            seen[v]++;
    }
    for (int i = 0; i < 20; i++) {
        if (i % 2) /* QoS 2: exactly once */
            TN_EXPECT_EQ_INT(seen[i], 1);
        else
            TN_EXPECT(seen[i] >= 1);
    }
    tern_client_free(p);
    tern_client_free(s);
    tc_broker_cleanup(&b);
}

/* Session Present 0 after a broker restart without persistence: the client subscribes
 * again by itself. */
TN_TEST(resubscribe_when_session_lost_v5)
{
    struct tc_broker b = {0};
    snprintf(b.extra, sizeof b.extra, "autosave_interval 0");
    TN_REQUIRE(tc_broker_start(&b));
    struct ctx x;
    ctx_init(&x);
    struct tern_client_opts o;
    opts_for(&o, &x, b.port, TERN_V5, "resub-v5");
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0); /* clean start, no expiry: session ends */
    tern_client_connect(c);
    TN_EXPECT(tc_run_until(c, &x.connected, 5000));
    tern_client_subscribe1(c, "tern/resub", 1, NULL);
    TN_EXPECT(tc_run_until(c, &x.subscribed, 5000));
    tc_broker_stop(&b);
    TN_EXPECT(tc_run_until(c, &x.disconnected, 5000));
    TN_REQUIRE(tc_broker_start(&b));
    x.connected = false;
    TN_EXPECT(tc_run_until(c, &x.connected, 10000));
    TN_EXPECT(!x.session_present);
    /* publish to ourselves until it arrives (the re-subscribe is in flight first) */
    long long until = tc_now_ms() + 5000;
    while (x.nm == 0 && tc_now_ms() < until) {
        tern_client_publish(c, "tern/resub", "again", 5, 1, false, NULL, NULL);
        for (int i = 0; i < 5 && x.nm == 0; i++)
            tern_client_run(c, 20);
    }
    TN_EXPECT(x.nm >= 1);
    tern_client_free(c);
    tc_broker_cleanup(&b);
}

/* Thread mode: callbacks on the network thread, publish from the test thread. */
TN_TEST(thread_driver_pubsub_v5)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    struct ctx x;
    ctx_init(&x);
    struct tern_client_opts o;
    opts_for(&o, &x, b.port, TERN_V5, "thr-v5");
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, "tern/thr/#", 1, NULL), 0); /* before connect */
    TN_EXPECT_EQ_INT(tern_client_start(c), 0);
    TN_EXPECT_EQ_INT(tern_client_start(c), -EBUSY);
    long long until = tc_now_ms() + 5000;
    while (!x.subscribed && tc_now_ms() < until)
        poll(NULL, 0, 10);
    TN_EXPECT(x.subscribed);
    for (int i = 0; i < 200; i++)
        TN_EXPECT_EQ_INT(tern_client_publish(c, "tern/thr/a", "x", 1, 1, false, NULL, NULL), 0);
    until = tc_now_ms() + 10000;
    while (tc_now_ms() < until) {
        pthread_mutex_lock(&x.mu);
        bool done = x.nm >= 200 && x.published >= 200;
        pthread_mutex_unlock(&x.mu);
        if (done)
            break;
        poll(NULL, 0, 10);
    }
    TN_EXPECT_EQ_INT(x.nm, 200);
    TN_EXPECT_EQ_INT(x.published, 200);
    TN_EXPECT_EQ_INT(tern_client_disconnect(c, 0, NULL), 0);
    TN_EXPECT_EQ_INT(tern_client_stop(c), 0);
    TN_EXPECT(x.disconnected);
    tern_client_free(c);
    tc_broker_cleanup(&b);
}

/* topic_alias_auto against mosquitto (Topic Alias Maximum 10 by default): the broker resolves
 * our aliases, so every message arrives under its full topic. */
TN_TEST(topic_alias_auto_against_broker_v5)
{
    struct tc_broker b = {0};
    TN_REQUIRE(tc_broker_start(&b));
    struct ctx x;
    ctx_init(&x);
    struct tern_client_opts o;
    opts_for(&o, &x, b.port, TERN_V5, "alias-v5");
    o.topic_alias_auto = true;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    tern_client_connect(c);
    TN_EXPECT(tc_run_until(c, &x.connected, 5000));
    tern_client_subscribe1(c, "tern/alias/#", 1, NULL);
    TN_EXPECT(tc_run_until(c, &x.subscribed, 5000));
    for (int i = 0; i < 6; i++)
        TN_EXPECT_EQ_INT(tern_client_publish(c, i % 2 ? "tern/alias/odd" : "tern/alias/even", "v",
                                             1, 1, false, NULL, NULL),
                         0);
    x.want_msgs = 6;
    x.want_pubs = 6;
    TN_EXPECT(tc_run2_until(c, NULL, got_n, &x, 5000));
    TN_EXPECT_EQ_INT(x.nm, 6);
    TN_EXPECT_EQ_INT(x.pub_rc_bad, 0);
    for (int i = 0; i < x.nm; i++)
        TN_EXPECT(!strcmp(x.m[i].topic, i % 2 ? "tern/alias/odd" : "tern/alias/even"));
    TN_EXPECT_EQ_INT(x.disconnects, 0);
    tern_client_free(c);
    tc_broker_cleanup(&b);
}

TN_TEST_MAIN()
