/* SPDX-License-Identifier: MIT */
/*
 * tests/broker/spec_gap_test.c - normative statements about Server behaviour that the other
 * broker test files did not check yet: CONNECT edge cases (5.0 password without user name,
 * CONNECT property errors, authentication method / data / AUTH, empty client id with Clean
 * Start 0), Will details (retain 0, QoS, removal after publishing, publishing after a
 * protocol error, Will Delay against the session's end), Packet Identifier reuse, Topic Alias
 * lifetime and re-mapping, client-sent Subscription Identifier and wildcard Response Topic,
 * error reason codes in PUBACK/PUBREC from a subscriber, re-send order on reconnect,
 * UNSUBSCRIBE matching and completion of in-flight messages, Subscription Identifier
 * replacement, shared subscription QoS / rejection / '$' topics, empty topics and filters, no
 * topic normalisation, and Maximum Packet Size for retained messages. MQTT 3.1.1 (OASIS 2014)
 * and MQTT 5.0 (OASIS 2019); ids in comments name their version, the two documents number
 * their statements separately.
 *
 * Owns: nothing (brokers and clients belong to the harness).
 * Thread: main only.
 *
 * Where mosquitto 2.0.11 deviates from the spec (the test keeps the spec's expectation, so
 * these fail against mosquitto):
 *   - auth_data_without_method_v5_3_1_2_11_10: accepts Authentication Data without a Method
 *     (CONNACK 0x00).
 *   - auth_without_method_v5_4_12_0_7: closes without the DISCONNECT 0x82 a Server SHOULD send.
 *   - will_delay_no_session_expiry_v5_3_1_2_8, will_published_when_clean_start_ends_session_
 *     v5_3_1_2_8: keeps waiting for the Will Delay Interval after the session has ended (no
 *     Will within 5 s).
 *   - subscription_identifier_from_client_v5_3_3_4_6: accepts and forwards a PUBLISH carrying
 *     a Subscription Identifier.
 *   - response_topic_wildcard_v5_3_3_2_14: accepts and forwards "reply/#" (ternd did until
 *     this test; it now answers DISCONNECT 0x82, and CONNACK 0x82 for such a Will);
 *     will_response_topic_wildcard_v5_3_3_2_14: mosquitto accepts that Will (CONNACK 0).
 *   - message_expiry_online_queue_v5_3_3_2_5: with the subscriber's Receive Maximum 1, the
 *     message queued behind the expired one never arrives after the PUBACK.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "tn_test.h"
#include "harness.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static struct tern_packet pub_pkt(const char *topic, const char *payload, uint8_t qos, uint16_t pid)
{
    struct tern_packet k = {.type = TERN_PUBLISH};
    k.u.publish.topic = tern_slice_cstr(topic);
    k.u.publish.payload = tern_slice_cstr(payload);
    k.u.publish.qos = qos;
    k.u.publish.packet_id = pid;
    return k;
}

static struct tern_packet ack_pkt(uint8_t type, uint16_t pid, uint8_t rc)
{
    struct tern_packet k = {.type = type};
    k.u.ack.packet_id = pid;
    k.u.ack.rc = rc;
    return k;
}

static const struct tern_props *keep60(uint8_t v)
{
    static struct tern_props p;
    memset(&p, 0, sizeof(p));
    tern_props_set(&p, TERN_PROP_SESSION_EXPIRY_INTERVAL);
    p.session_expiry_interval = 60;
    return v == TERN_V5 ? &p : NULL;
}

/* A clean client subscribed to one filter (options as TB_SUBOPT). */
static struct tb_client *sub_client(uint8_t v, const char *name, const char *filter, uint8_t opts)
{
    struct tb_client *s = tb_client(tb_shared(), v, name);
    int rc = s ? tb_subscribe(s, filter, opts, 0) : -1;
    if (rc != (opts & 3)) {
        tb_fail("subscribe %s: %d", filter, rc);
        return NULL;
    }
    return s;
}

/* End a stored session (connect clean, disconnect). */
static void forget(uint8_t v, const char *id)
{
    tb_disconnect(tb_connect_ok(tb_shared(), v, id, true, 60, NULL), 0);
}

/* 5.0: DISCONNECT with rc or rc2 (rc2 0: only rc), then the close. */
static bool expect_disconnect2(struct tb_client *c, uint8_t rc, uint8_t rc2)
{
    struct tern_packet p;
    int r = tb_recv(c, &p, TB_WAIT_MS);
    if (r != 0 || p.type != TERN_DISCONNECT ||
        (p.u.disconnect.rc != rc && (!rc2 || p.u.disconnect.rc != rc2))) {
        tb_fail("%s: want DISCONNECT %#x%s, got %s (rc %#x)", c->name, rc, rc2 ? " or alt" : "",
                r == -EPIPE ? "a close without DISCONNECT"
                : r != 0    ? "nothing"
                            : tern_ptype_name(p.type),
                r == 0 ? p.u.disconnect.rc : 0);
        return false;
    }
    if (!tb_expect_closed(c, TB_WAIT_MS)) {
        tb_fail("%s: not closed after DISCONNECT", c->name);
        return false;
    }
    return true;
}

/* A CONNECT the Server must refuse: a CONNACK with a failure code (rc or rc2 when rc is not 0,
 * else any code >= 0x80) and the close, or a close without CONNACK (the Server MAY send a
 * CONNACK and MUST close, 5.0 4.13.1 / 3.1.4). */
static bool connect_refused(struct tb_client *c, uint8_t rc, uint8_t rc2)
{
    struct tern_packet p;
    int r = tb_recv(c, &p, TB_WAIT_MS);
    if (r == -EPIPE)
        return true;
    if (r != 0) {
        tb_fail("%s: neither CONNACK nor close (%d)", c->name, r);
        return false;
    }
    if (p.type != TERN_CONNACK || p.u.connack.rc < 0x80) {
        tb_fail("%s: CONNECT accepted: %s rc %#x", c->name, tern_ptype_name(p.type),
                p.u.connack.rc);
        return false;
    }
    if (rc && p.u.connack.rc != rc && p.u.connack.rc != rc2) {
        tb_fail("%s: CONNACK %#x, want %#x or %#x", c->name, p.u.connack.rc, rc, rc2);
        return false;
    }
    if (p.u.connack.session_present) /* [MQTT-3.2.2-6] (5.0) */
        tb_fail("%s: failed CONNACK with Session Present 1", c->name);
    if (!tb_expect_closed(c, TB_WAIT_MS)) {
        tb_fail("%s: not closed after a refused CONNECT", c->name);
        return false;
    }
    return true;
}

/* A 5.0 CONNECT with Clean Start 1, Keep Alive 60, the given raw property bytes (without the
 * length) and client id. Returns the frame length. */
static size_t raw_connect_v5(const char *id, const uint8_t *props, size_t pn, uint8_t *buf,
                             size_t cap)
{
    size_t idn = strlen(id), i = 0;
    uint8_t body[512];
    static const uint8_t head[] = {0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3c};
    if (pn > 120 || idn > 200 || cap < 600)
        return 0;
    memcpy(body, head, sizeof(head));
    i = sizeof(head);
    body[i++] = (uint8_t)pn; /* < 128: one varint byte */
    memcpy(body + i, props, pn);
    i += pn;
    body[i++] = (uint8_t)(idn >> 8);
    body[i++] = (uint8_t)idn;
    memcpy(body + i, id, idn);
    i += idn;
    int h = tern_fixed_header_encode(TERN_CONNECT, 0, (uint32_t)i, buf);
    if (h < 0)
        return 0;
    memcpy(buf + h, body, i);
    return (size_t)h + i;
}

/* Send a raw 5.0 CONNECT with props on a fresh connection; the Server must refuse it. */
static void connect_props_refused(const char *what, const uint8_t *props, size_t pn, uint8_t rc,
                                  uint8_t rc2)
{
    uint8_t buf[600];
    size_t n = raw_connect_v5(tb_uniq(what), props, pn, buf, sizeof(buf));
    struct tb_client *c = tb_open(tb_shared(), TERN_V5, what);
    TN_REQUIRE(c && n);
    TN_REQUIRE(tb_send_raw(c, buf, n) == 0);
    if (!connect_refused(c, rc, rc2))
        fprintf(stderr, "  case %s\n", what);
    tb_close(c);
}

/* ---- CONNECT / CONNACK (5.0) ------------------------------------------------------------- */

/* 5.0 allows a Password without a User Name (3.1.2.9: "This version of the protocol allows the
 * sending of a Password with no User Name, where MQTT v3.1.1 did not"); it is not a malformed
 * CONNECT. With anonymous access allowed the connection is accepted. */
TN_TEST(password_without_username_v5_3_1_2_9)
{
    struct tern_packet ack, p;
    struct tb_conn_opts o = {.version = TERN_V5,
                             .client_id = tb_uniq("c"),
                             .clean = true,
                             .keepalive = 60,
                             .password = "secret"};
    struct tb_client *c = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(c);
    TN_EXPECT_EQ_HEX(ack.u.connack.rc, 0);
    if (ack.u.connack.rc == 0) {
        struct tern_packet ping = {.type = TERN_PINGREQ};
        TN_REQUIRE(tb_send(c, &ping) == 0);
        TN_REQUIRE(tb_recv(c, &p, TB_WAIT_MS) == 0);
        TN_EXPECT_EQ_INT(p.type, TERN_PINGRESP);
    }
}

/* "It is a Protocol Error to include Authentication Data if there is no Authentication
 * Method" (5.0 3.1.2.11.10): CONNACK 0x82 (or a close), never acceptance. */
TN_TEST(auth_data_without_method_v5_3_1_2_11_10)
{
    static const uint8_t props[] = {0x16, 0x00, 0x02, 'a', 'b'};
    connect_props_refused("auth-data-only", props, sizeof(props), TERN_RC_PROTOCOL_ERROR,
                          TERN_RC_MALFORMED_PACKET);
}

/* CONNECT property values the spec calls a Protocol Error (5.0 3.1.2.11): Receive Maximum 0,
 * Maximum Packet Size 0, Request Response Information 2, Request Problem Information 2, Session
 * Expiry Interval twice, Topic Alias Maximum twice. Each is refused: CONNACK 0x82/0x81 or a
 * close. */
TN_TEST(connect_property_errors_v5_3_1_2_11)
{
    static const uint8_t rm0[] = {0x21, 0x00, 0x00};
    static const uint8_t mps0[] = {0x27, 0x00, 0x00, 0x00, 0x00};
    static const uint8_t rri2[] = {0x19, 0x02};
    static const uint8_t rpi2[] = {0x17, 0x02};
    static const uint8_t sei2[] = {0x11, 0, 0, 0, 5, 0x11, 0, 0, 0, 6};
    static const uint8_t tam2[] = {0x22, 0, 5, 0x22, 0, 6};
    enum { P = TERN_RC_PROTOCOL_ERROR, M = TERN_RC_MALFORMED_PACKET };
    connect_props_refused("receive-max-0", rm0, sizeof(rm0), P, M);
    connect_props_refused("max-packet-0", mps0, sizeof(mps0), P, M);
    connect_props_refused("req-resp-info-2", rri2, sizeof(rri2), P, M);
    connect_props_refused("req-problem-info-2", rpi2, sizeof(rpi2), P, M);
    connect_props_refused("session-expiry-twice", sei2, sizeof(sei2), P, M);
    connect_props_refused("alias-max-twice", tam2, sizeof(tam2), P, M);
}

/* An Authentication Method the Server does not support: it MAY send CONNACK 0x8C (Bad
 * authentication method) or 0x87 (Not authorized) and MUST close the connection
 * [MQTT-4.12.0-1] (5.0). */
TN_TEST(auth_method_unsupported_v5_4_12_0_1)
{
    static const uint8_t props[] = {0x15, 0x00, 0x0a, 'T', 'B', '-', 'U',
                                    'N',  'K',  'N',  'O', 'W', 'N'};
    connect_props_refused("auth-method", props, sizeof(props), TERN_RC_BAD_AUTHENTICATION_METHOD,
                          TERN_RC_NOT_AUTHORIZED);
}

/* Without an Authentication Method in CONNECT the Server MUST NOT send one in CONNACK
 * [MQTT-4.12.0-6], and the Client MUST NOT send AUTH [MQTT-4.12.0-7] (5.0): an AUTH then is a
 * Protocol Error, DISCONNECT 0x82 and close. */
TN_TEST(auth_without_method_v5_4_12_0_7)
{
    struct tern_packet ack;
    struct tb_conn_opts o = {
        .version = TERN_V5, .client_id = tb_uniq("c"), .clean = true, .keepalive = 60};
    static const uint8_t auth[] = {0xf0, 0x02, 0x18, 0x00}; /* AUTH Continue authentication */
    struct tb_client *c = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(c);
    TN_EXPECT_EQ_HEX(ack.u.connack.rc, 0);
    TN_EXPECT(!tern_props_has(&ack.u.connack.props, TERN_PROP_AUTHENTICATION_METHOD));
    TN_REQUIRE(tb_send_raw(c, auth, sizeof(auth)) == 0);
    TN_EXPECT(expect_disconnect2(c, TERN_RC_PROTOCOL_ERROR, 0));
}

/* 5.0: a zero-length ClientId with Clean Start 0. The Server either accepts it, and then MUST
 * return an Assigned Client Identifier [MQTT-3.1.3-7] [MQTT-3.2.2-16], or refuses it with
 * CONNACK 0x85 (Client Identifier not valid) and closes [MQTT-3.1.3-8] (5.0). */
TN_TEST(empty_client_id_clean_start_0_v5_3_1_3_7)
{
    struct tern_packet ack;
    struct tb_conn_opts o = {.version = TERN_V5,
                             .client_id = "",
                             .clean = false,
                             .keepalive = 60,
                             .props = keep60(TERN_V5)};
    struct tb_client *c = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(c);
    if (ack.u.connack.rc == 0) {
        TN_EXPECT_EQ_INT(ack.u.connack.session_present, 0);
        TN_EXPECT(tern_props_has(&ack.u.connack.props, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER) &&
                  ack.u.connack.props.assigned_client_identifier.n > 0);
        struct tern_packet k = {.type = TERN_DISCONNECT};
        tern_props_set(&k.u.disconnect.props, TERN_PROP_SESSION_EXPIRY_INTERVAL);
        k.u.disconnect.props.session_expiry_interval = 0; /* leave nothing behind */
        tb_send(c, &k);
        tb_expect_closed(c, TB_WAIT_MS);
    } else {
        TN_EXPECT_EQ_HEX(ack.u.connack.rc, TERN_RC_CLIENT_IDENTIFIER_NOT_VALID);
        TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
    }
}

/* The Server MUST NOT send a Session Expiry Interval in a DISCONNECT [MQTT-3.14.2-2] (5.0; the
 * Protocol Error for a client raising it from 0 is the unnumbered sentence after it). Checked
 * on the DISCONNECT 0x8E of a session takeover of a session with an expiry. */
TN_TEST(server_disconnect_no_session_expiry_v5_3_14_2_2)
{
    const char *id = tb_uniq("dup");
    struct tern_packet p;
    struct tb_client *a = tb_connect_ok(tb_shared(), TERN_V5, id, false, 60, keep60(TERN_V5));
    TN_REQUIRE(a);
    struct tb_client *b = tb_connect_ok(tb_shared(), TERN_V5, id, false, 60, keep60(TERN_V5));
    TN_REQUIRE(b);
    int r = tb_recv(a, &p, TB_WAIT_MS);
    if (r == -EPIPE && !tb_is_ternd()) {
        /* mosquitto: closes without DISCONNECT (see connect_test.c); nothing to check */
    } else if (r == 0 && p.type == TERN_DISCONNECT) {
        TN_EXPECT_EQ_HEX(p.u.disconnect.rc, TERN_RC_SESSION_TAKEN_OVER);
        TN_EXPECT(!tern_props_has(&p.u.disconnect.props, TERN_PROP_SESSION_EXPIRY_INTERVAL));
    } else {
        tb_fail("old connection: no DISCONNECT (%d)", r);
    }
    tb_disconnect(b, 0);
    forget(TERN_V5, id);
}

/* ---- Will -------------------------------------------------------------------------------- */

static struct tb_client *watcher(uint8_t v, const char *name, const char *topic, uint8_t qos)
{
    return sub_client(v, name, topic, qos);
}

/* Will Flag 1 with Will Retain 0: the Server MUST publish the Will Message as a non-retained
 * message [MQTT-3.1.2-16] (3.1.1): a live subscriber gets it, a later one gets nothing. */
TN_TEST(will_retain_0_not_retained_311_3_1_2_16)
{
    const char *topic = tb_uniq("will");
    struct tb_client *s = watcher(TERN_V311, "watch", topic, 0);
    struct tern_packet ack, p;
    struct tb_conn_opts o = {.version = TERN_V311,
                             .client_id = tb_uniq("w"),
                             .clean = true,
                             .keepalive = 60,
                             .will_topic = topic,
                             .will_payload = "not kept",
                             .will_qos = 1};
    TN_REQUIRE(s);
    struct tb_client *w = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(w);
    tb_close(w);
    TN_REQUIRE(tb_recv_publish(s, &p, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(p.u.publish.payload, "not kept"));
    TN_EXPECT(!p.u.publish.retain);
    struct tb_client *s2 = watcher(TERN_V311, "late", topic, 0);
    TN_REQUIRE(s2);
    TN_EXPECT(tb_expect_nothing(s2, 300));
}

/* The Will is published with the Will QoS [MQTT-3.1.2-9] (3.1.1: "the Will QoS and Will Retain
 * fields in the Connect Flags will be used by the Server"), downgraded to each subscription's
 * QoS [MQTT-3.8.4-6]: Will QoS 2 reaches a QoS 2 subscriber at QoS 2, a QoS 1 one at QoS 1. */
TN_TEST(will_qos_311_3_1_2_9)
{
    const char *topic = tb_uniq("will");
    struct tb_client *s2 = watcher(TERN_V311, "w2", topic, 2);
    struct tb_client *s1 = watcher(TERN_V311, "w1", topic, 1);
    struct tern_packet ack, p;
    struct tb_conn_opts o = {.version = TERN_V311,
                             .client_id = tb_uniq("w"),
                             .clean = true,
                             .keepalive = 60,
                             .will_topic = topic,
                             .will_payload = "q2",
                             .will_qos = 2};
    TN_REQUIRE(s1 && s2);
    struct tb_client *w = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(w);
    tb_close(w);
    TN_REQUIRE(tb_recv_publish(s2, &p, TB_WAIT_MS) == 0);
    TN_EXPECT_EQ_INT(p.u.publish.qos, 2);
    TN_EXPECT(tb_ack(s2, &p) == 0);
    TN_REQUIRE(tb_recv_publish(s1, &p, TB_WAIT_MS) == 0);
    TN_EXPECT_EQ_INT(p.u.publish.qos, 1);
    TN_EXPECT(tb_ack(s1, &p) == 0);
}

/* The Will Message MUST be removed from the stored Session once it has been published
 * [MQTT-3.1.2-10] (3.1.1 and 5.0): a persistent session's Will goes out once; the next
 * connection to the session (without a Will) closing abruptly publishes nothing. */
TN_TEST(will_removed_after_publish_311_3_1_2_10)
{
    const char *topic = tb_uniq("will"), *id = tb_uniq("w");
    struct tb_client *s = watcher(TERN_V311, "watch", topic, 0);
    struct tern_packet ack, p;
    struct tb_conn_opts o = {.version = TERN_V311,
                             .client_id = id,
                             .clean = false,
                             .keepalive = 60,
                             .will_topic = topic,
                             .will_payload = "once"};
    TN_REQUIRE(s);
    struct tb_client *w = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(w);
    tb_close(w);
    TN_REQUIRE(tb_recv_publish(s, &p, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(p.u.publish.payload, "once"));
    o.will_topic = NULL;
    w = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(w);
    TN_EXPECT_EQ_INT(ack.u.connack.session_present, 1);
    tb_close(w);
    TN_EXPECT(tb_expect_nothing(s, 500));
    forget(TERN_V311, id);
}

/* The Will is published when the Server closes the connection because of a protocol error
 * [MQTT-3.1.2-8] (3.1.1; 5.0 3.1.2.5 lists the same case). The client sends a PUBLISH with
 * QoS 3 (malformed [MQTT-3.3.1-4]). */
static void will_on_protocol_error(uint8_t v)
{
    const char *topic = tb_uniq("will");
    struct tb_client *s = watcher(v, "watch", topic, 0);
    struct tern_packet ack, p;
    static const uint8_t bad[] = {0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01};
    struct tb_conn_opts o = {.version = v,
                             .client_id = tb_uniq("w"),
                             .clean = true,
                             .keepalive = 60,
                             .will_topic = topic,
                             .will_payload = "broken"};
    TN_REQUIRE(s);
    struct tb_client *w = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(w);
    TN_REQUIRE(tb_send_raw(w, bad, sizeof(bad)) == 0);
    TN_EXPECT(tb_expect_closed(w, TB_WAIT_MS));
    TN_REQUIRE(tb_recv_publish(s, &p, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(p.u.publish.payload, "broken"));
}

TN_TEST(will_on_protocol_error_311_3_1_2_8)
{
    will_on_protocol_error(TERN_V311);
}

TN_TEST(will_on_protocol_error_v5_3_1_2_8)
{
    will_on_protocol_error(TERN_V5);
}

/* 5.0: the Will is published after the connection closes and "either the Will Delay Interval
 * has elapsed or the Session ends" [MQTT-3.1.2-8] (5.0); 3.1.3.2.2: "The Server delays
 * publishing the Client's Will Message until the Will Delay Interval has passed or the Session
 * ends, whichever happens first". Will Delay 30 s with a session that ends sooner. */
static void will_delay_vs_session(uint32_t session_expiry, int min_ms)
{
    const char *topic = tb_uniq("will");
    struct tb_client *s = watcher(TERN_V5, "watch", topic, 0);
    struct tern_packet ack, p;
    struct tern_props cp = {0}, wp = {0};
    if (session_expiry) {
        tern_props_set(&cp, TERN_PROP_SESSION_EXPIRY_INTERVAL);
        cp.session_expiry_interval = session_expiry;
    }
    tern_props_set(&wp, TERN_PROP_WILL_DELAY_INTERVAL);
    wp.will_delay_interval = 30;
    struct tb_conn_opts o = {.version = TERN_V5,
                             .client_id = tb_uniq("w"),
                             .clean = true,
                             .keepalive = 60,
                             .props = &cp,
                             .will_topic = topic,
                             .will_payload = "session over",
                             .will_props = &wp};
    TN_REQUIRE(s);
    struct tb_client *w = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(w);
    int64_t t0 = tb_now_ms();
    tb_close(w);
    int r = tb_recv_publish(s, &p, (int)session_expiry * 1000 + TB_WAIT_MS);
    if (r != 0) {
        tb_fail("no Will within %u s + %d ms of the close (session expiry %u, will delay 30)",
                session_expiry, TB_WAIT_MS, session_expiry);
        return;
    }
    TN_EXPECT(tb_slice_eq(p.u.publish.payload, "session over"));
    TN_EXPECT(tb_now_ms() - t0 >= min_ms);
}

TN_TEST(will_delay_ends_with_session_v5_3_1_2_8)
{
    will_delay_vs_session(1, 700);
}

/* Session Expiry 0 (absent): the session ends with the connection, so the Will goes out at
 * once whatever its Will Delay. */
TN_TEST(will_delay_no_session_expiry_v5_3_1_2_8)
{
    will_delay_vs_session(0, 0);
}

/* 5.0: Will Payload Format Indicator 1 with a payload that is not UTF-8: a Server that
 * validates (a MAY, which ternd does) sends CONNACK 0x99 (Payload format invalid) (5.0
 * 3.1.3.2.3); required of ternd only, others may accept. */
TN_TEST(will_payload_format_invalid_v5_3_1_3_2_3)
{
    struct tern_packet ack;
    struct tern_props wp = {0};
    tern_props_set(&wp, TERN_PROP_PAYLOAD_FORMAT_INDICATOR);
    wp.payload_format_indicator = 1;
    struct tb_conn_opts o = {.version = TERN_V5,
                             .client_id = tb_uniq("w"),
                             .clean = true,
                             .keepalive = 60,
                             .will_topic = tb_uniq("will"),
                             .will_payload = "ok\xc3\x28",
                             .will_props = &wp};
    struct tb_client *c = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(c);
    if (tb_is_ternd() || ack.u.connack.rc != 0) {
        TN_EXPECT_EQ_HEX(ack.u.connack.rc, TERN_RC_PAYLOAD_FORMAT_INVALID);
        TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
    }
}

/* Retained messages are not part of the session state: they MUST NOT be deleted when the
 * session ends [MQTT-3.1.2-7] (3.1.1). A persistent session publishes a retained message and
 * is then discarded by a Clean Session 1 connection; the message stays. */
TN_TEST(retained_survives_session_end_311_3_1_2_7)
{
    const char *t = tb_uniq("r"), *id = tb_uniq("p");
    struct tern_packet got;
    struct tb_client *p = tb_connect_ok(tb_shared(), TERN_V311, id, false, 60, NULL);
    TN_REQUIRE(p);
    TN_REQUIRE(tb_publish_str(p, t, "stays", 1, true) == 0);
    tb_disconnect(p, 0);
    forget(TERN_V311, id);
    struct tb_client *s = sub_client(TERN_V311, "s", t, 1);
    TN_REQUIRE(s);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(got.u.publish.retain);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "stays"));
    TN_EXPECT(tb_ack(s, &got) == 0);
    tb_publish_str(s, t, "", 1, true);
}

/* ---- PUBLISH ----------------------------------------------------------------------------- */

/* After it has sent a PUBACK the receiver MUST treat a PUBLISH with the same Packet Identifier
 * as a new message, whatever its DUP flag [MQTT-4.3.2-2] (3.1.1) [MQTT-4.3.2-5] (5.0): both
 * reach the subscriber. */
static void qos1_id_reuse(uint8_t v)
{
    const char *t = tb_uniq("t");
    struct tb_client *s = sub_client(v, "s", t, 1);
    struct tb_client *p = tb_client(tb_shared(), v, "p");
    struct tern_packet k1 = pub_pkt(t, "first", 1, 7), k2 = pub_pkt(t, "second", 1, 7), a, got;
    TN_REQUIRE(s && p);
    k2.u.publish.dup = true;
    TN_REQUIRE(tb_send(p, &k1) == 0);
    TN_REQUIRE(tb_recv_type(p, TERN_PUBACK, &a, TB_WAIT_MS) == 0);
    TN_EXPECT_EQ_INT(a.u.ack.packet_id, 7);
    TN_REQUIRE(tb_send(p, &k2) == 0);
    TN_REQUIRE(tb_recv_type(p, TERN_PUBACK, &a, TB_WAIT_MS) == 0);
    TN_EXPECT_EQ_INT(a.u.ack.packet_id, 7);
    for (int i = 0; i < 2; i++) {
        TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
        TN_EXPECT(tb_slice_eq(got.u.publish.payload, i ? "second" : "first"));
        TN_EXPECT(tb_ack(s, &got) == 0);
    }
}

TN_TEST(qos1_packet_id_reuse_311_4_3_2_2)
{
    qos1_id_reuse(TERN_V311);
}

TN_TEST(qos1_packet_id_reuse_v5_4_3_2_5)
{
    qos1_id_reuse(TERN_V5);
}

/* 3.1.1: a PUBREL for an id the Server holds no state for is still answered with PUBCOMP, 70 02
 * id [MQTT-4.3.3-2] (3.1.1: "MUST respond to a PUBREL packet by sending a PUBCOMP packet
 * containing the same Packet Identifier"). */
TN_TEST(pubrel_unknown_id_311_4_3_3_2)
{
    struct tb_client *c = tb_client(tb_shared(), TERN_V311, "c");
    struct tern_packet rel = ack_pkt(TERN_PUBREL, 0x0abc, 0), p;
    static const uint8_t want[] = {0x70, 0x02, 0x0a, 0xbc};
    TN_REQUIRE(c);
    TN_REQUIRE(tb_send(c, &rel) == 0);
    TN_REQUIRE(tb_recv(c, &p, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_frame_is_bytes(c, want, sizeof(want)));
}

/* A zero-length Topic Name: 3.1.1 requires at least one character [MQTT-4.7.3-1], close; 5.0:
 * without a Topic Alias it is a Protocol Error (3.3.2.1, 3.3.4), DISCONNECT 0x82. */
TN_TEST(empty_topic_311_4_7_3_1)
{
    static const uint8_t bad[] = {0x30, 0x03, 0x00, 0x00, 'x'};
    struct tb_client *c = tb_client(tb_shared(), TERN_V311, "c");
    TN_REQUIRE(c);
    TN_REQUIRE(tb_send_raw(c, bad, sizeof(bad)) == 0);
    TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
}

TN_TEST(empty_topic_without_alias_v5_3_3_2_1)
{
    static const uint8_t bad[] = {0x30, 0x04, 0x00, 0x00, 0x00, 'x'};
    struct tb_client *c = tb_client(tb_shared(), TERN_V5, "c");
    TN_REQUIRE(c);
    TN_REQUIRE(tb_send_raw(c, bad, sizeof(bad)) == 0);
    TN_EXPECT(expect_disconnect2(c, TERN_RC_PROTOCOL_ERROR, TERN_RC_TOPIC_NAME_INVALID));
}

/* Topic Alias mappings last only for the Network Connection: a receiver MUST NOT carry them
 * forward to another connection [MQTT-3.3.2-7] (5.0), even of the same session. On the new
 * connection the alias is unknown: Protocol Error, DISCONNECT 0x82, and nothing is delivered. */
TN_TEST(topic_alias_not_carried_over_v5_3_3_2_7)
{
    const char *t = tb_uniq("t"), *id = tb_uniq("p");
    struct tb_client *s = sub_client(TERN_V5, "s", t, 0);
    struct tern_packet got;
    struct tb_client *p = tb_connect_ok(tb_shared(), TERN_V5, id, false, 60, keep60(TERN_V5));
    TN_REQUIRE(s && p);
    struct tern_packet k = pub_pkt(t, "set", 1, 1);
    tern_props_set(&k.u.publish.props, TERN_PROP_TOPIC_ALIAS);
    k.u.publish.props.topic_alias = 1;
    TN_REQUIRE(tb_send(p, &k) == 0);
    TN_REQUIRE(tb_recv_type(p, TERN_PUBACK, &got, TB_WAIT_MS) == 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "set"));
    tb_disconnect(p, 0);
    p = tb_connect_ok(tb_shared(), TERN_V5, id, false, 60, keep60(TERN_V5));
    TN_REQUIRE(p);
    k = pub_pkt("", "stale", 0, 0);
    tern_props_set(&k.u.publish.props, TERN_PROP_TOPIC_ALIAS);
    k.u.publish.props.topic_alias = 1;
    TN_REQUIRE(tb_send(p, &k) == 0);
    TN_EXPECT(expect_disconnect2(p, TERN_RC_PROTOCOL_ERROR, TERN_RC_TOPIC_ALIAS_INVALID));
    TN_EXPECT(tb_expect_nothing(s, 300));
    forget(TERN_V5, id);
}

/* A Topic Alias sent again with a different Topic Name replaces the mapping (5.0 3.3.2.3.4:
 * "the receiver ... can also use the same Topic Alias value with a different non-zero length
 * Topic Name" and [MQTT-3.3.2-12]..): after re-mapping, the alias alone goes to the new topic. */
TN_TEST(topic_alias_remap_v5_3_3_2_3_4)
{
    char t1[256], t2[256];
    snprintf(t1, sizeof(t1), "%s", tb_uniq("one"));
    snprintf(t2, sizeof(t2), "%s", tb_uniq("two"));
    struct tb_client *s1 = sub_client(TERN_V5, "s1", t1, 0);
    struct tb_client *s2 = sub_client(TERN_V5, "s2", t2, 0);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    TN_REQUIRE(s1 && s2 && p);
    const char *topics[] = {t1, "", t2, ""};
    const char *payloads[] = {"a", "b", "c", "d"};
    for (int i = 0; i < 4; i++) {
        struct tern_packet k = pub_pkt(topics[i], payloads[i], 0, 0);
        tern_props_set(&k.u.publish.props, TERN_PROP_TOPIC_ALIAS);
        k.u.publish.props.topic_alias = 1;
        TN_REQUIRE(tb_send(p, &k) == 0);
    }
    for (int i = 0; i < 2; i++) {
        TN_REQUIRE(tb_recv_publish(s1, &got, TB_WAIT_MS) == 0);
        TN_EXPECT(tb_slice_eq(got.u.publish.payload, payloads[i]));
        TN_REQUIRE(tb_recv_publish(s2, &got, TB_WAIT_MS) == 0);
        TN_EXPECT(tb_slice_eq(got.u.publish.payload, payloads[2 + i]));
        TN_EXPECT(tb_slice_eq(got.u.publish.topic, t2));
    }
    TN_EXPECT(tb_expect_nothing(s1, 200));
}

/* A PUBLISH from a Client MUST NOT contain a Subscription Identifier [MQTT-3.3.4-6] (5.0): the
 * Server treats it as a Protocol Error, DISCONNECT 0x82, and delivers nothing. */
TN_TEST(subscription_identifier_from_client_v5_3_3_4_6)
{
    const char *t = tb_uniq("t");
    struct tb_client *s = sub_client(TERN_V5, "s", t, 0);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    TN_REQUIRE(s && p);
    struct tern_packet k = pub_pkt(t, "x", 1, 1);
    tern_props_set(&k.u.publish.props, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
    k.u.publish.props.sub_id_n = 1;
    k.u.publish.props.sub_id = 5;
    TN_REQUIRE(tb_send(p, &k) == 0);
    TN_EXPECT(expect_disconnect2(p, TERN_RC_PROTOCOL_ERROR, TERN_RC_MALFORMED_PACKET));
    TN_EXPECT(tb_expect_nothing(s, 300));
}

/* The Response Topic MUST NOT contain wildcard characters [MQTT-3.3.2-14] (5.0): the Server
 * refuses such a PUBLISH (DISCONNECT 0x82, 0x90 or 0x81 accepted, then close) and does not
 * forward it. */
TN_TEST(response_topic_wildcard_v5_3_3_2_14)
{
    const char *t = tb_uniq("t");
    struct tb_client *s = sub_client(TERN_V5, "s", t, 1);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet a;
    TN_REQUIRE(s && p);
    struct tern_packet k = pub_pkt(t, "req", 1, 1);
    tern_props_set(&k.u.publish.props, TERN_PROP_RESPONSE_TOPIC);
    k.u.publish.props.response_topic = TERN_SLICE_STR("reply/#");
    TN_REQUIRE(tb_send(p, &k) == 0);
    int r = tb_recv(p, &a, TB_WAIT_MS);
    if (r == 0 && a.type == TERN_DISCONNECT) {
        TN_EXPECT(a.u.disconnect.rc == TERN_RC_PROTOCOL_ERROR ||
                  a.u.disconnect.rc == TERN_RC_TOPIC_NAME_INVALID ||
                  a.u.disconnect.rc == TERN_RC_MALFORMED_PACKET);
        TN_EXPECT(tb_expect_closed(p, TB_WAIT_MS));
    } else if (r != -EPIPE) {
        tb_fail("PUBLISH with Response Topic \"reply/#\" accepted: %s",
                r == 0 ? tern_ptype_name(a.type) : "no answer");
    }
    TN_EXPECT(tb_expect_nothing(s, 300));
}

/* The same rule for a Will's Response Topic: the Will Properties hold the PUBLISH properties
 * the will is sent with [MQTT-3.1.3-10], so a wildcard there is refused at CONNECT. */
TN_TEST(will_response_topic_wildcard_v5_3_3_2_14)
{
    struct tern_props wp = {0};
    tern_props_set(&wp, TERN_PROP_RESPONSE_TOPIC);
    wp.response_topic = TERN_SLICE_STR("reply/+/x");
    struct tb_conn_opts o = {.version = TERN_V5,
                             .client_id = tb_uniq("w"),
                             .clean = true,
                             .keepalive = 60,
                             .will_topic = "w/t",
                             .will_payload = "gone",
                             .will_props = &wp};
    struct tern_packet a;
    struct tb_client *c = tb_connect(tb_shared(), &o, &a);
    TN_REQUIRE(c);
    if (tb_is_ternd())
        TN_EXPECT_EQ_INT(a.u.connack.rc, TERN_RC_PROTOCOL_ERROR);
    else
        TN_EXPECT(a.u.connack.rc >= 0x80);
    TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
}

/* ---- acknowledgements with error codes (5.0) --------------------------------------------- */

/* A subscriber with Receive Maximum 1: a PUBREC with a Reason Code >= 0x80 ends the QoS 2
 * exchange: the Server MUST send PUBREL only for a PUBREC below 0x80 [MQTT-4.3.3-4] (5.0), and
 * the send quota grows again (4.9: "each time a PUBREC packet is received with a Return Code
 * of 0x80 or greater"), so the next message goes out. */
TN_TEST(pubrec_error_ends_exchange_v5_4_3_3_4)
{
    const char *t = tb_uniq("t");
    struct tern_props rm = {0};
    struct tern_packet got;
    tern_props_set(&rm, TERN_PROP_RECEIVE_MAXIMUM);
    rm.receive_maximum = 1;
    struct tb_client *s = tb_connect_ok(tb_shared(), TERN_V5, tb_uniq("s"), true, 60, &rm);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    TN_REQUIRE(s && p);
    TN_REQUIRE(tb_subscribe(s, t, 2, 0) == 2);
    TN_REQUIRE(tb_publish_str(p, t, "refused", 2, false) >= 0);
    TN_REQUIRE(tb_publish_str(p, t, "next", 2, false) >= 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "refused"));
    struct tern_packet rec =
        ack_pkt(TERN_PUBREC, got.u.publish.packet_id, TERN_RC_IMPLEMENTATION_SPECIFIC_ERROR);
    TN_REQUIRE(tb_send(s, &rec) == 0);
    int r = tb_recv(s, &got, TB_WAIT_MS);
    TN_REQUIRE(r == 0);
    if (got.type != TERN_PUBLISH) {
        tb_fail("after PUBREC 0x83: %s instead of the next PUBLISH", tern_ptype_name(got.type));
        return;
    }
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "next"));
    TN_EXPECT(tb_ack(s, &got) == 0);
    TN_EXPECT(tb_expect_nothing(s, 300));
}

/* The same for QoS 1: a PUBACK >= 0x80 completes the exchange (4.3.2) and frees the quota; the
 * message is not sent again. */
TN_TEST(puback_error_frees_quota_v5_4_9)
{
    const char *t = tb_uniq("t");
    struct tern_props rm = {0};
    struct tern_packet got;
    tern_props_set(&rm, TERN_PROP_RECEIVE_MAXIMUM);
    rm.receive_maximum = 1;
    struct tb_client *s = tb_connect_ok(tb_shared(), TERN_V5, tb_uniq("s"), true, 60, &rm);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    TN_REQUIRE(s && p);
    TN_REQUIRE(tb_subscribe(s, t, 1, 0) == 1);
    TN_REQUIRE(tb_publish_str(p, t, "refused", 1, false) >= 0);
    TN_REQUIRE(tb_publish_str(p, t, "next", 1, false) >= 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "refused"));
    struct tern_packet a =
        ack_pkt(TERN_PUBACK, got.u.publish.packet_id, TERN_RC_IMPLEMENTATION_SPECIFIC_ERROR);
    TN_REQUIRE(tb_send(s, &a) == 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "next"));
    TN_EXPECT(!got.u.publish.dup);
    TN_EXPECT(tb_ack(s, &got) == 0);
    TN_EXPECT(tb_expect_nothing(s, 300));
}

/* ---- re-send order on reconnect ---------------------------------------------------------- */

/* On reconnect the Server re-sends unacknowledged PUBLISH packets in the order they were first
 * sent [MQTT-4.6.0-1] and PUBREL packets in the order of the PUBRECs [MQTT-4.6.0-3] (3.1.1 and
 * 5.0), with DUP 1 and the original ids [MQTT-4.4.0-1] [MQTT-3.3.1-1]. Four messages (QoS 1, 2,
 * 1, 2); PUBREC for both QoS 2 ones; nothing else acknowledged. */
static void resend_order(uint8_t v)
{
    const char *id = tb_uniq("s"), *t = tb_uniq("t");
    struct tb_broker *b = tb_shared();
    struct tern_packet got, ack;
    static const char *pl[] = {"m0", "m1", "m2", "m3"};
    uint16_t ids[4];
    struct tb_conn_opts o = {
        .version = v, .client_id = id, .clean = false, .keepalive = 60, .props = keep60(v)};
    struct tb_client *s = tb_connect(b, &o, &ack);
    struct tb_client *p = tb_client(b, v, "p");
    TN_REQUIRE(s && p);
    TN_REQUIRE(ack.u.connack.rc == 0);
    TN_REQUIRE(tb_subscribe(s, t, 2, 0) == 2);
    for (int i = 0; i < 4; i++)
        TN_REQUIRE(tb_publish_str(p, t, pl[i], (uint8_t)(1 + i % 2), false) >= 0);
    for (int i = 0; i < 4; i++) {
        TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
        TN_REQUIRE(tb_slice_eq(got.u.publish.payload, pl[i]));
        ids[i] = got.u.publish.packet_id;
    }
    for (int i = 1; i < 4; i += 2) {
        struct tern_packet rec = ack_pkt(TERN_PUBREC, ids[i], 0);
        TN_REQUIRE(tb_send(s, &rec) == 0);
        TN_REQUIRE(tb_recv_type(s, TERN_PUBREL, &got, TB_WAIT_MS) == 0);
        TN_EXPECT_EQ_INT(got.u.ack.packet_id, ids[i]);
    }
    tb_close(s);
    s = tb_connect(b, &o, &ack);
    TN_REQUIRE(s);
    TN_REQUIRE(ack.u.connack.rc == 0 && ack.u.connack.session_present);
    int npub = 0, nrel = 0;
    for (int k = 0; k < 4; k++) {
        TN_REQUIRE(tb_recv(s, &got, TB_WAIT_MS) == 0);
        if (got.type == TERN_PUBLISH) {
            int want = npub == 0 ? 0 : 2;
            if (npub >= 2 || got.u.publish.packet_id != ids[want] ||
                !tb_slice_eq(got.u.publish.payload, pl[want])) {
                tb_fail("re-sent PUBLISH #%d: id %u \"%.*s\", want id %u \"%s\"", npub,
                        got.u.publish.packet_id, TERN_SLICE_FMT(got.u.publish.payload), ids[want],
                        pl[want]);
            }
            TN_EXPECT(got.u.publish.dup);
            npub++;
        } else if (got.type == TERN_PUBREL) {
            int want = nrel == 0 ? 1 : 3;
            if (nrel >= 2 || got.u.ack.packet_id != ids[want])
                tb_fail("re-sent PUBREL #%d: id %u, want %u", nrel, got.u.ack.packet_id, ids[want]);
            nrel++;
        } else {
            tb_fail("unexpected %s on resume", tern_ptype_name(got.type));
        }
    }
    for (int i = 0; i < 4; i++) {
        struct tern_packet a = ack_pkt(i % 2 ? TERN_PUBCOMP : TERN_PUBACK, ids[i], 0);
        TN_REQUIRE(tb_send(s, &a) == 0);
    }
    TN_EXPECT(tb_expect_nothing(s, 300));
    tb_disconnect(s, 0);
    forget(v, id);
}

TN_TEST(resend_order_311_4_6_0_1)
{
    resend_order(TERN_V311);
}

TN_TEST(resend_order_v5_4_6_0_1)
{
    resend_order(TERN_V5);
}

/* ---- UNSUBSCRIBE ------------------------------------------------------------------------- */

/* The Topic Filters of an UNSUBSCRIBE MUST be compared character by character with the
 * session's filters [MQTT-3.10.4-1] (3.1.1 and 5.0): "base/x" does not remove "base/+"; the
 * subscription keeps delivering. 5.0: reason 0x11 (No subscription existed) (3.11.3). */
static void unsubscribe_exact(uint8_t v)
{
    char filter[300], topic[300];
    const char *base = tb_uniq("u");
    snprintf(filter, sizeof(filter), "%s/+", base);
    snprintf(topic, sizeof(topic), "%s/x", base);
    struct tb_client *s = sub_client(v, "s", filter, 1);
    struct tern_packet got;
    TN_REQUIRE(s);
    int rc = tb_unsubscribe(s, topic);
    TN_EXPECT_EQ_INT(rc, v == TERN_V5 ? TERN_RC_NO_SUBSCRIPTION_EXISTED : 0);
    TN_REQUIRE(tb_publish_str(s, topic, "still", 1, false) >= 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "still"));
    TN_EXPECT(tb_ack(s, &got) == 0);
}

TN_TEST(unsubscribe_exact_filter_311_3_10_4_1)
{
    unsubscribe_exact(TERN_V311);
}

TN_TEST(unsubscribe_exact_filter_v5_3_10_4_1)
{
    unsubscribe_exact(TERN_V5);
}

/* An UNSUBSCRIBE with several filters is handled as a sequence of UNSUBSCRIBEs, with one
 * UNSUBACK [MQTT-3.10.4-6] (3.1.1): of a, b, c, unsubscribing a and c leaves b. */
TN_TEST(unsubscribe_multiple_311_3_10_4_6)
{
    char f[3][300];
    const char *base = tb_uniq("m");
    struct tb_client *s = tb_client(tb_shared(), TERN_V311, "s");
    struct tern_packet got;
    TN_REQUIRE(s);
    for (int i = 0; i < 3; i++) {
        snprintf(f[i], sizeof(f[i]), "%s/%c", base, 'a' + i);
        TN_REQUIRE(tb_subscribe(s, f[i], 1, 0) == 1);
    }
    struct tern_sub_entry e[2] = {{.filter = tern_slice_cstr(f[0])},
                                  {.filter = tern_slice_cstr(f[2])}};
    struct tern_packet k = {.type = TERN_UNSUBSCRIBE};
    k.u.subscribe.packet_id = 0x0777;
    k.u.subscribe.count = 2;
    k.u.subscribe.list = e;
    TN_REQUIRE(tb_send(s, &k) == 0);
    TN_REQUIRE(tb_recv(s, &got, TB_WAIT_MS) == 0);
    static const uint8_t want[] = {0xb0, 0x02, 0x07, 0x77};
    TN_EXPECT(tb_frame_is_bytes(s, want, sizeof(want)));
    for (int i = 0; i < 3; i++)
        TN_REQUIRE(tb_publish_str(s, f[i], f[i], 1, false) == 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.topic, f[1]));
    TN_EXPECT(tb_ack(s, &got) == 0);
    TN_EXPECT(tb_expect_nothing(s, 300));
}

/* On UNSUBSCRIBE the Server MUST complete the delivery of QoS 1 and QoS 2 messages matching
 * the filter that it has started to send [MQTT-3.10.4-3] (3.1.1 and 5.0): a QoS 2 PUBLISH
 * received before the UNSUBSCRIBE still gets its PUBREL after the PUBREC. */
static void unsubscribe_completes(uint8_t v)
{
    const char *t = tb_uniq("t");
    struct tb_client *s = sub_client(v, "s", t, 2);
    struct tb_client *p = tb_client(tb_shared(), v, "p");
    struct tern_packet got, rel;
    TN_REQUIRE(s && p);
    TN_REQUIRE(tb_publish_str(p, t, "inflight", 2, false) >= 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    uint16_t id = got.u.publish.packet_id;
    int rc = tb_unsubscribe(s, t);
    TN_EXPECT_EQ_INT(rc, 0);
    struct tern_packet rec = ack_pkt(TERN_PUBREC, id, 0);
    TN_REQUIRE(tb_send(s, &rec) == 0);
    int r = tb_recv_type(s, TERN_PUBREL, &rel, TB_WAIT_MS);
    TN_EXPECT_EQ_INT(r, 0);
    if (r == 0) {
        TN_EXPECT_EQ_INT(rel.u.ack.packet_id, id);
        if (v == TERN_V5)
            TN_EXPECT(rel.u.ack.rc < 0x80);
        struct tern_packet comp = ack_pkt(TERN_PUBCOMP, id, 0);
        TN_REQUIRE(tb_send(s, &comp) == 0);
    }
    TN_REQUIRE(tb_publish_str(p, t, "after", 2, false) >= 0);
    TN_EXPECT(tb_expect_nothing(s, 300));
}

TN_TEST(unsubscribe_completes_qos2_311_3_10_4_3)
{
    unsubscribe_completes(TERN_V311);
}

TN_TEST(unsubscribe_completes_qos2_v5_3_10_4_3)
{
    unsubscribe_completes(TERN_V5);
}

/* ---- SUBSCRIBE --------------------------------------------------------------------------- */

/* A SUBSCRIBE for a filter the session has replaces the subscription [MQTT-3.8.4-3] (5.0), and
 * "The Subscription Identifier is associated with any subscription created or modified as the
 * result of this SUBSCRIBE packet" (5.0 3.8.2.1.2): id 5, then id 9, then none. */
TN_TEST(subscription_identifier_replaced_v5_3_8_4_3)
{
    const char *t = tb_uniq("t");
    struct tb_client *s = tb_client(tb_shared(), TERN_V5, "s");
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    static const uint32_t ids[] = {5, 9, 0};
    TN_REQUIRE(s && p);
    for (int i = 0; i < 3; i++) {
        TN_REQUIRE(tb_subscribe(s, t, 0, ids[i]) == 0);
        TN_REQUIRE(tb_publish_str(p, t, "x", 0, false) == 0);
        TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
        if (ids[i]) {
            TN_EXPECT_EQ_U32(got.u.publish.props.sub_id_n, 1);
            TN_EXPECT_EQ_U32(got.u.publish.props.sub_id, ids[i]);
        } else {
            TN_EXPECT_EQ_U32(got.u.publish.props.sub_id_n, 0);
        }
        TN_EXPECT(tb_expect_nothing(s, 150)); /* one subscription, one copy */
    }
}

/* Topic Names and Topic Filters are at least one character long [MQTT-4.7.3-1] (3.1.1 and
 * 5.0): an empty filter is never granted. Accepted: a failure code for that entry (0x80 3.1.1,
 * 0x8F 5.0) with the other entry granted, or the close (3.1.1) / DISCONNECT (5.0). */
static void empty_filter(uint8_t v)
{
    static const uint8_t v311[] = {0x82, 0x09, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01, 'e', 0x00};
    static const uint8_t v50[] = {0x82, 0x0a, 0x00, 0x01, 0x00, 0x00,
                                  0x00, 0x00, 0x00, 0x01, 'e',  0x00};
    struct tb_client *c = tb_client(tb_shared(), v, "c");
    struct tern_packet a;
    TN_REQUIRE(c);
    if (v == TERN_V5)
        TN_REQUIRE(tb_send_raw(c, v50, sizeof(v50)) == 0);
    else
        TN_REQUIRE(tb_send_raw(c, v311, sizeof(v311)) == 0);
    int r = tb_recv(c, &a, TB_WAIT_MS);
    if (r == -EPIPE)
        return;
    TN_REQUIRE(r == 0);
    if (a.type == TERN_DISCONNECT) {
        TN_EXPECT(a.u.disconnect.rc >= 0x80);
        TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
        return;
    }
    TN_REQUIRE(a.type == TERN_SUBACK);
    TN_REQUIRE(a.u.suback.rcs.n == 2);
    TN_EXPECT_EQ_HEX(a.u.suback.rcs.p[0], v == TERN_V5 ? TERN_RC_TOPIC_FILTER_INVALID : 0x80);
    TN_EXPECT_EQ_HEX(a.u.suback.rcs.p[1], 0);
}

TN_TEST(empty_filter_311_4_7_3_1)
{
    empty_filter(TERN_V311);
}

TN_TEST(empty_filter_v5_4_7_3_1)
{
    empty_filter(TERN_V5);
}

/* The Server MUST NOT normalise Topic Names or Filters when matching [MQTT-4.7.3-4] (3.1.1 and
 * 5.0), and they are case sensitive (4.7.3): "X/Abc" matches neither "X/abc", "X/ABC",
 * "X/Abc/", "X/Abc " nor "X//Abc"; "X/\u00e9" does not match the decomposed "X/e\u0301". */
TN_TEST(topic_no_normalisation_311_4_7_3_4)
{
    char base[256], f1[300], f2[300], t[300];
    snprintf(base, sizeof(base), "%s", tb_uniq("n"));
    snprintf(f1, sizeof(f1), "%s/Abc", base);
    snprintf(f2, sizeof(f2), "%s/\xc3\xa9", base);
    struct tb_client *s = tb_client(tb_shared(), TERN_V311, "s");
    struct tern_packet got;
    TN_REQUIRE(s);
    TN_REQUIRE(tb_subscribe(s, f1, 1, 0) == 1);
    TN_REQUIRE(tb_subscribe(s, f2, 1, 0) == 1);
    static const char *other[] = {"abc", "ABC", "Abc/", "Abc ", "/Abc", "e\xcc\x81"};
    for (size_t i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
        snprintf(t, sizeof(t), "%s/%s", base, other[i]);
        TN_REQUIRE(tb_publish_str(s, t, "no", 1, false) == 0);
    }
    TN_REQUIRE(tb_publish_str(s, f1, "yes1", 1, false) == 0);
    TN_REQUIRE(tb_publish_str(s, f2, "yes2", 1, false) == 0);
    for (int i = 0; i < 2; i++) {
        TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
        if (!tb_slice_eq(got.u.publish.topic, i ? f2 : f1))
            tb_fail("got topic \"%.*s\", want \"%s\"", TERN_SLICE_FMT(got.u.publish.topic),
                    i ? f2 : f1);
        TN_EXPECT(tb_ack(s, &got) == 0);
    }
    TN_EXPECT(tb_expect_nothing(s, 200));
}

/* ---- shared subscriptions (5.0) ---------------------------------------------------------- */

/* The Server MUST respect the granted QoS of the chosen member's subscription [MQTT-4.8.2-3]
 * (5.0): a QoS 0 shared subscription gets a QoS 2 message at QoS 0. */
TN_TEST(shared_subscription_granted_qos_v5_4_8_2_3)
{
    char filter[300];
    const char *t = tb_uniq("t");
    snprintf(filter, sizeof(filter), "$share/g0/%s", t);
    struct tb_client *m = sub_client(TERN_V5, "m", filter, 0);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    TN_REQUIRE(m && p);
    TN_REQUIRE(tb_publish_str(p, t, "q2", 2, false) >= 0);
    TN_REQUIRE(tb_recv_publish(m, &got, TB_WAIT_MS) == 0);
    TN_EXPECT_EQ_INT(got.u.publish.qos, 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "q2"));
}

/* A member that answers PUBACK with a Reason Code >= 0x80: the Server MUST discard the message
 * and not send it to any other member [MQTT-4.8.2-6] (5.0). */
TN_TEST(shared_subscription_rejected_not_redelivered_v5_4_8_2_6)
{
    char filter[300];
    const char *t = tb_uniq("t");
    snprintf(filter, sizeof(filter), "$share/gr/%s", t);
    struct tb_client *m[2];
    m[0] = sub_client(TERN_V5, "m0", filter, 1);
    m[1] = sub_client(TERN_V5, "m1", filter, 1);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    TN_REQUIRE(m[0] && m[1] && p);
    TN_REQUIRE(tb_publish_str(p, t, "refused", 1, false) >= 0);
    int who = -1;
    int64_t deadline = tb_now_ms() + TB_WAIT_MS;
    while (who < 0 && tb_now_ms() < deadline) {
        for (int k = 0; k < 2 && who < 0; k++)
            if (tb_recv_publish(m[k], &got, 0) == 0)
                who = k;
        if (who < 0)
            tb_wait_any(m, 2, 100);
    }
    TN_REQUIRE(who >= 0);
    struct tern_packet a = ack_pkt(TERN_PUBACK, got.u.publish.packet_id, TERN_RC_UNSPECIFIED_ERROR);
    TN_REQUIRE(tb_send(m[who], &a) == 0);
    TN_EXPECT(tb_expect_nothing(m[1 - who], 500));
    TN_EXPECT(tb_expect_nothing(m[who], 100));
}

/* A shared subscription whose filter starts with a wildcard does not match '$' topics either
 * [MQTT-4.7.2-1] (5.0): "$share/g/+/X" gets "m/X" but not "$x/X". */
TN_TEST(shared_subscription_dollar_topic_v5_4_7_2_1)
{
    char filter[300], dollar[300], plain[300];
    const char *u = tb_uniq("d");
    snprintf(filter, sizeof(filter), "$share/gd/+/%s", u);
    snprintf(dollar, sizeof(dollar), "$x/%s", u);
    snprintf(plain, sizeof(plain), "m/%s", u);
    struct tb_client *m = sub_client(TERN_V5, "m", filter, 1);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    TN_REQUIRE(m && p);
    TN_REQUIRE(tb_publish_str(p, dollar, "dollar", 1, false) >= 0);
    TN_REQUIRE(tb_publish_str(p, plain, "plain", 1, false) >= 0);
    TN_REQUIRE(tb_recv_publish(m, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "plain"));
    TN_EXPECT(tb_ack(m, &got) == 0);
    TN_EXPECT(tb_expect_nothing(m, 200));
}

/* ---- Maximum Packet Size (5.0) ----------------------------------------------------------- */

/* The client's Maximum Packet Size also applies to retained messages sent on SUBSCRIBE: the
 * Server MUST NOT send a packet exceeding it [MQTT-3.1.2-24] and discards such a message
 * [MQTT-3.1.2-25] (5.0); smaller retained ones still arrive, and the SUBACK does. */
TN_TEST(retained_over_client_max_packet_size_v5_3_1_2_25)
{
    char base[256], big_t[300], small_t[300], filter[300];
    static uint8_t big[400];
    snprintf(base, sizeof(base), "%s", tb_uniq("r"));
    snprintf(big_t, sizeof(big_t), "%s/big", base);
    snprintf(small_t, sizeof(small_t), "%s/small", base);
    snprintf(filter, sizeof(filter), "%s/+", base);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_props mp = {0};
    struct tern_packet got;
    TN_REQUIRE(p);
    memset(big, 'b', sizeof(big));
    TN_REQUIRE(tb_publish(p, big_t, big, sizeof(big), 1, true, NULL) >= 0);
    TN_REQUIRE(tb_publish_str(p, small_t, "small", 1, true) >= 0);
    tern_props_set(&mp, TERN_PROP_MAXIMUM_PACKET_SIZE);
    mp.maximum_packet_size = 200;
    struct tb_client *s = tb_connect_ok(tb_shared(), TERN_V5, tb_uniq("s"), true, 60, &mp);
    TN_REQUIRE(s);
    TN_REQUIRE(tb_subscribe(s, filter, 1, 0) == 1);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "small"));
    size_t n;
    tb_frame_bytes(s, &n);
    TN_EXPECT(n <= 200);
    TN_EXPECT(tb_ack(s, &got) == 0);
    TN_EXPECT(tb_expect_nothing(s, 300));
    tb_publish_str(p, big_t, "", 1, true);
    tb_publish_str(p, small_t, "", 1, true);
}

/* ---- more Will / session / expiry cases -------------------------------------------------- */

/* 5.0: a session taken over by a new connection with Clean Start 0 before the Will Delay
 * Interval has passed: the Server MUST NOT send the Will [MQTT-3.1.3-9] (5.0). The takeover
 * closes the old connection without a DISCONNECT from its client, so its Will is pending, and
 * the new connection to the same session cancels it. */
TN_TEST(will_cancelled_by_takeover_v5_3_1_3_9)
{
    const char *topic = tb_uniq("will"), *id = tb_uniq("w");
    struct tb_client *s = watcher(TERN_V5, "watch", topic, 0);
    struct tern_packet ack;
    struct tern_props wp = {0};
    tern_props_set(&wp, TERN_PROP_WILL_DELAY_INTERVAL);
    wp.will_delay_interval = 2;
    struct tb_conn_opts o = {.version = TERN_V5,
                             .client_id = id,
                             .clean = false,
                             .keepalive = 60,
                             .props = keep60(TERN_V5),
                             .will_topic = topic,
                             .will_payload = "taken over",
                             .will_props = &wp};
    TN_REQUIRE(s);
    struct tb_client *a = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(a && ack.u.connack.rc == 0);
    o.will_topic = NULL;
    struct tb_client *b = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(b && ack.u.connack.rc == 0);
    TN_EXPECT_EQ_INT(ack.u.connack.session_present, 1);
    TN_EXPECT(tb_expect_closed(a, TB_WAIT_MS));
    TN_EXPECT(tb_expect_nothing(s, 3000)); /* past the 2 s Will Delay */
    tb_disconnect(b, 0);
    forget(TERN_V5, id);
}

/* 5.0: a new connection with Clean Start 1 ends the existing session (3.1.2.4); the Will of
 * the old connection, waiting for its Will Delay Interval, is published when the session ends
 * ([MQTT-3.1.2-8] (5.0), 3.1.3.2.2 "or the Session ends, whichever happens first"). */
TN_TEST(will_published_when_clean_start_ends_session_v5_3_1_2_8)
{
    const char *topic = tb_uniq("will"), *id = tb_uniq("w");
    struct tb_client *s = watcher(TERN_V5, "watch", topic, 0);
    struct tern_packet ack, p;
    struct tern_props wp = {0};
    tern_props_set(&wp, TERN_PROP_WILL_DELAY_INTERVAL);
    wp.will_delay_interval = 30;
    struct tb_conn_opts o = {.version = TERN_V5,
                             .client_id = id,
                             .clean = false,
                             .keepalive = 60,
                             .props = keep60(TERN_V5),
                             .will_topic = topic,
                             .will_payload = "ended",
                             .will_props = &wp};
    TN_REQUIRE(s);
    struct tb_client *a = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(a && ack.u.connack.rc == 0);
    tb_close(a);
    o.will_topic = NULL;
    o.clean = true;
    o.props = NULL;
    struct tb_client *b = tb_connect(tb_shared(), &o, &ack);
    TN_REQUIRE(b && ack.u.connack.rc == 0);
    TN_EXPECT_EQ_INT(ack.u.connack.session_present, 0);
    int r = tb_recv_publish(s, &p, TB_WAIT_MS);
    TN_EXPECT_EQ_INT(r, 0);
    if (r == 0)
        TN_EXPECT(tb_slice_eq(p.u.publish.payload, "ended"));
    tb_disconnect(b, 0);
}

/* 5.0: a message waiting for an online subscriber (its Receive Maximum 1 is used up) whose
 * Message Expiry Interval passes before onward delivery starts MUST be deleted for that
 * subscriber [MQTT-3.3.2-5] (5.0); a message without expiry behind it still arrives. */
TN_TEST(message_expiry_online_queue_v5_3_3_2_5)
{
    const char *t = tb_uniq("t");
    struct tern_props rm = {0}, ex = {0};
    struct tern_packet got;
    tern_props_set(&rm, TERN_PROP_RECEIVE_MAXIMUM);
    rm.receive_maximum = 1;
    struct tb_client *s = tb_connect_ok(tb_shared(), TERN_V5, tb_uniq("s"), true, 60, &rm);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    TN_REQUIRE(s && p);
    TN_REQUIRE(tb_subscribe(s, t, 1, 0) == 1);
    tern_props_set(&ex, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
    ex.message_expiry_interval = 1;
    TN_REQUIRE(tb_publish_str(p, t, "first", 1, false) >= 0);
    TN_REQUIRE(tb_publish(p, t, "short", 5, 1, false, &ex) >= 0);
    TN_REQUIRE(tb_publish_str(p, t, "last", 1, false) >= 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "first"));
    uint16_t id = got.u.publish.packet_id;
    tb_let_time_pass(2200); /* the expiry under test */
    struct tern_packet a = ack_pkt(TERN_PUBACK, id, 0);
    TN_REQUIRE(tb_send(s, &a) == 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    if (!tb_slice_eq(got.u.publish.payload, "last"))
        tb_fail("got \"%.*s\" (expiry left %u) after its Message Expiry Interval passed",
                TERN_SLICE_FMT(got.u.publish.payload), got.u.publish.props.message_expiry_interval);
    TN_EXPECT(tb_ack(s, &got) == 0);
}

/* Retained messages sent because of a SUBSCRIBE carry that subscription's Subscription
 * Identifier (5.0 3.8.2.1.2, [MQTT-3.3.4-3]). */
TN_TEST(retained_carries_subscription_identifier_v5_3_3_4_3)
{
    const char *t = tb_uniq("r");
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tb_client *s = tb_client(tb_shared(), TERN_V5, "s");
    struct tern_packet got;
    TN_REQUIRE(p && s);
    TN_REQUIRE(tb_publish_str(p, t, "kept", 1, true) >= 0);
    TN_REQUIRE(tb_subscribe(s, t, 1, 42) == 1);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(got.u.publish.retain);
    TN_EXPECT_EQ_U32(got.u.publish.props.sub_id_n, 1);
    TN_EXPECT_EQ_U32(got.u.publish.props.sub_id, 42);
    TN_EXPECT(tb_ack(s, &got) == 0);
    tb_publish_str(p, t, "", 1, true);
}

/* UNSUBSCRIBE of a shared subscription names it in full [MQTT-3.10.4-1] (5.0): "t" does not
 * remove "$share/g/t" (0x11), "$share/g/t" does (0x00), after which nothing is delivered
 * [MQTT-3.10.4-2]. */
TN_TEST(unsubscribe_shared_v5_3_10_4_1)
{
    char filter[300];
    const char *t = tb_uniq("t");
    snprintf(filter, sizeof(filter), "$share/gu/%s", t);
    struct tb_client *m = sub_client(TERN_V5, "m", filter, 1);
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    TN_REQUIRE(m && p);
    TN_EXPECT_EQ_INT(tb_unsubscribe(m, t), TERN_RC_NO_SUBSCRIPTION_EXISTED);
    TN_REQUIRE(tb_publish_str(p, t, "still", 1, false) >= 0);
    TN_REQUIRE(tb_recv_publish(m, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_ack(m, &got) == 0);
    TN_EXPECT_EQ_INT(tb_unsubscribe(m, filter), 0);
    TN_REQUIRE(tb_publish_str(p, t, "gone", 1, false) >= 0);
    TN_EXPECT(tb_expect_nothing(m, 300));
}

/* A PUBLISH with RETAIN 0: the Server MUST NOT store it and MUST NOT remove or replace the
 * existing retained message [MQTT-3.3.1-12] (3.1.1): a later subscriber still gets the retained
 * one. */
TN_TEST(retain_0_keeps_retained_311_3_3_1_12)
{
    const char *t = tb_uniq("r");
    struct tb_client *p = tb_client(tb_shared(), TERN_V311, "p");
    struct tern_packet got;
    TN_REQUIRE(p);
    TN_REQUIRE(tb_publish_str(p, t, "kept", 1, true) == 0);
    TN_REQUIRE(tb_publish_str(p, t, "live", 1, false) == 0);
    TN_REQUIRE(tb_publish_str(p, t, "", 1, false) == 0);
    struct tb_client *s = sub_client(TERN_V311, "s", t, 1);
    TN_REQUIRE(s);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(got.u.publish.retain);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "kept"));
    TN_EXPECT(tb_ack(s, &got) == 0);
    TN_EXPECT(tb_expect_nothing(s, 200));
    tb_publish_str(p, t, "", 1, true);
}

TB_MAIN()
