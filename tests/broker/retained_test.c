/* SPDX-License-Identifier: MIT */
/*
 * tests/broker/retained_test.c - retained messages through the broker: set, replace, clear,
 * delivery with RETAIN 1 on subscribe, live delivery with RETAIN 0, QoS of retained
 * deliveries, 5.0 Retain Handling, Retain Available, shared subscriptions (no retained), and
 * one subscription to '#' over 20,000 retained messages. MQTT 3.1.1 (2014) 3.3.1.3 and MQTT
 * 5.0 (2019) 3.3.1.3, 3.8.3.1; ids cite their version.
 *
 * Owns: nothing (brokers and clients belong to the harness).
 * Thread: main only.
 *
 * Where mosquitto 2.0.11 deviates from the spec (the test keeps the spec's expectation):
 *   - no_retained_for_shared_v5_4_8_2: mosquitto sends the retained message when a shared
 *     subscription is made; 5.0 3.3.1.3 sends retained messages only "when a new Non-shared
 *     Subscription is made".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"
#include "harness.h"

static struct tb_client *sub_now(uint8_t v, const char *name, const char *filter, uint8_t opts)
{
    struct tb_client *s = tb_client(tb_shared(), v, name);
    if (s && tb_subscribe(s, filter, opts, 0) != (opts & 3)) {
        tb_fail("subscribe %s failed", filter);
        return NULL;
    }
    return s;
}

/* A retained PUBLISH is stored [MQTT-3.3.1-5] and sent to a new subscription [MQTT-3.3.1-6]
 * with RETAIN 1 [MQTT-3.3.1-8] (3.1.1): for a QoS 0 subscriber exactly 31 len topic payload. */
TN_TEST(retained_on_subscribe_311_3_3_1_6)
{
    const char *t = tb_uniq("r");
    struct tb_client *p = tb_client(tb_shared(), TERN_V311, "p");
    struct tern_packet got;
    TN_REQUIRE(p);
    TN_REQUIRE(tb_publish_str(p, t, "kept", 1, true) == 0);
    struct tb_client *s = sub_now(TERN_V311, "s", t, 0);
    TN_REQUIRE(s);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    struct tern_packet want = {.type = TERN_PUBLISH};
    want.u.publish.retain = true;
    want.u.publish.topic = tern_slice_cstr(t);
    want.u.publish.payload = TERN_SLICE_STR("kept");
    TN_EXPECT(tb_frame_is(s, &want));
    TN_EXPECT(tb_expect_nothing(s, 200));
    tb_publish_str(p, t, "", 1, true);
}

/* A new retained message replaces the old one [MQTT-3.3.1-5] (3.1.1). A live subscriber gets
 * it with RETAIN 0 [MQTT-3.3.1-9] (3.1.1). */
TN_TEST(retained_replaced_311_3_3_1_5)
{
    const char *t = tb_uniq("r");
    struct tb_client *live = sub_now(TERN_V311, "live", t, 1);
    struct tb_client *p = tb_client(tb_shared(), TERN_V311, "p");
    struct tern_packet got;
    TN_REQUIRE(live && p);
    TN_REQUIRE(tb_publish_str(p, t, "first", 1, true) == 0);
    TN_REQUIRE(tb_publish_str(p, t, "second", 1, true) == 0);
    for (int i = 0; i < 2; i++) {
        TN_REQUIRE(tb_recv_publish(live, &got, TB_WAIT_MS) == 0);
        TN_EXPECT(!got.u.publish.retain);
        TN_EXPECT(tb_ack(live, &got) == 0);
    }
    struct tb_client *s = sub_now(TERN_V311, "s", t, 1);
    TN_REQUIRE(s);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(got.u.publish.retain);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "second"));
    TN_EXPECT(tb_ack(s, &got) == 0);
    TN_EXPECT(tb_expect_nothing(s, 200));
    tb_publish_str(p, t, "", 1, true);
}

/* A retained PUBLISH with an empty payload removes the retained message [MQTT-3.3.1-10] and
 * is not stored itself [MQTT-3.3.1-11], but is delivered to live subscribers as normal
 * [MQTT-3.3.1-10] (3.1.1). */
TN_TEST(retained_cleared_311_3_3_1_10)
{
    const char *t = tb_uniq("r");
    struct tb_client *live = sub_now(TERN_V311, "live", t, 0);
    struct tb_client *p = tb_client(tb_shared(), TERN_V311, "p");
    struct tern_packet got;
    TN_REQUIRE(live && p);
    TN_REQUIRE(tb_publish_str(p, t, "x", 1, true) == 0);
    TN_REQUIRE(tb_publish_str(p, t, "", 1, true) == 0);
    TN_REQUIRE(tb_recv_publish(live, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "x"));
    TN_REQUIRE(tb_recv_publish(live, &got, TB_WAIT_MS) == 0);
    TN_EXPECT_EQ_U32(got.u.publish.payload.n, 0);
    struct tb_client *s = sub_now(TERN_V311, "s", t, 0);
    TN_REQUIRE(s);
    TN_EXPECT(tb_expect_nothing(s, 300));
}

/* A retained QoS 0 PUBLISH replaces the retained message too [MQTT-3.3.1-7] (3.1.1: MUST
 * discard the old one, SHOULD store the new one; ternd stores it, so that is required of
 * ternd only). */
TN_TEST(retained_qos0_replaces_311_3_3_1_7)
{
    const char *t = tb_uniq("r");
    struct tb_client *p = tb_client(tb_shared(), TERN_V311, "p");
    struct tern_packet got;
    TN_REQUIRE(p);
    TN_REQUIRE(tb_publish_str(p, t, "old", 1, true) == 0);
    TN_REQUIRE(tb_publish_str(p, t, "new0", 0, true) == 0);
    TN_REQUIRE(tb_publish_str(p, t, "sync", 1, false) == 0); /* the QoS 0 one is processed */
    struct tb_client *s = sub_now(TERN_V311, "s", t, 1);
    TN_REQUIRE(s);
    int r = tb_recv_publish(s, &got, tb_is_ternd() ? TB_WAIT_MS : 500);
    if (r == 0) {
        TN_EXPECT(tb_slice_eq(got.u.publish.payload, "new0"));
        TN_EXPECT_EQ_INT(got.u.publish.qos, 0);
    } else {
        TN_EXPECT(!tb_is_ternd());
    }
    tb_publish_str(p, t, "", 1, true);
}

/* Retained deliveries follow the same QoS rule as others: min(message QoS, granted QoS)
 * [MQTT-3.8.4-6] (3.1.1). */
TN_TEST(retained_qos_downgrade_311_3_8_4_6)
{
    const char *t = tb_uniq("r");
    struct tb_client *p = tb_client(tb_shared(), TERN_V311, "p");
    struct tern_packet got;
    TN_REQUIRE(p);
    TN_REQUIRE(tb_publish_str(p, t, "q2", 2, true) == 0);
    for (int q = 0; q < 3; q++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", q);
        struct tb_client *s = sub_now(TERN_V311, name, t, (uint8_t)q);
        TN_REQUIRE(s);
        TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
        TN_EXPECT_EQ_INT(got.u.publish.qos, q);
        TN_EXPECT(got.u.publish.retain);
        TN_EXPECT(tb_ack(s, &got) == 0);
    }
    tb_publish_str(p, t, "", 1, true);
}

/* A wildcard subscription gets every matching retained message, each with RETAIN 1
 * [MQTT-3.3.1-6] (3.1.1); non-matching ones are not sent. */
TN_TEST(retained_wildcard_311_3_3_1_6)
{
    const char *base = tb_uniq("w");
    char topics[4][300], filter[300];
    struct tb_client *p = tb_client(tb_shared(), TERN_V311, "p");
    struct tern_packet got;
    TN_REQUIRE(p);
    snprintf(topics[0], sizeof(topics[0]), "%s/a", base);
    snprintf(topics[1], sizeof(topics[1]), "%s/b", base);
    snprintf(topics[2], sizeof(topics[2]), "%s/b/c", base);
    snprintf(topics[3], sizeof(topics[3]), "%s-other/a", base);
    for (int i = 0; i < 4; i++)
        TN_REQUIRE(tb_publish_str(p, topics[i], topics[i], 1, true) == 0);
    snprintf(filter, sizeof(filter), "%s/#", base);
    struct tb_client *s = sub_now(TERN_V311, "s", filter, 0);
    TN_REQUIRE(s);
    bool seen[3] = {false, false, false};
    for (int i = 0; i < 3; i++) {
        TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
        TN_EXPECT(got.u.publish.retain);
        int k;
        for (k = 0; k < 3; k++)
            if (tb_slice_eq(got.u.publish.topic, topics[k]))
                break;
        TN_REQUIRE(k < 3);
        TN_EXPECT(!seen[k]);
        seen[k] = true;
        TN_EXPECT(tb_slice_eq(got.u.publish.payload, topics[k]));
    }
    TN_EXPECT(tb_expect_nothing(s, 200));
    for (int i = 0; i < 4; i++)
        tb_publish_str(p, topics[i], "", 1, true);
}

/* 5.0 Retain Handling: 0 sends retained messages at every SUBSCRIBE [MQTT-3.3.1-9]; 1 only
 * when the subscription did not exist [MQTT-3.3.1-10]; 2 never [MQTT-3.3.1-11] (5.0). */
TN_TEST(retain_handling_v5_3_3_1_9_10_11)
{
    const char *t = tb_uniq("r");
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    TN_REQUIRE(p);
    TN_REQUIRE(tb_publish_str(p, t, "kept", 1, true) >= 0);
    for (uint8_t rh = 0; rh < 3; rh++) {
        char name[16];
        snprintf(name, sizeof(name), "rh%u", rh);
        struct tb_client *s = tb_client(tb_shared(), TERN_V5, name);
        TN_REQUIRE(s);
        for (int round = 0; round < 2; round++) {
            TN_REQUIRE(tb_subscribe(s, t, TB_SUBOPT(0, 0, 0, rh), 0) == 0);
            bool want = rh == 0 || (rh == 1 && round == 0);
            if (want) {
                TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
                TN_EXPECT(got.u.publish.retain);
                TN_EXPECT(tb_slice_eq(got.u.publish.payload, "kept"));
            } else if (!tb_expect_nothing(s, 200)) {
                tb_fail("retain handling %u, subscribe %d: unexpected retained message", rh,
                        round + 1);
            }
        }
    }
    tb_publish_str(p, t, "", 1, true);
}

/* 5.0: a retained message with a Message Expiry Interval is not delivered once it expired
 * [MQTT-3.3.2-5], and before that it goes out with the remaining interval [MQTT-3.3.2-6]
 * (5.0). */
TN_TEST(retained_message_expiry_v5_3_3_2_5)
{
    const char *t1 = tb_uniq("short"), *t2 = tb_uniq("long");
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_props ex = {0};
    struct tern_packet got;
    TN_REQUIRE(p);
    tern_props_set(&ex, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
    ex.message_expiry_interval = 1;
    TN_REQUIRE(tb_publish(p, t1, "s", 1, 1, true, &ex) >= 0);
    ex.message_expiry_interval = 60;
    TN_REQUIRE(tb_publish(p, t2, "l", 1, 1, true, &ex) >= 0);
    tb_let_time_pass(2200); /* the expiry under test */
    struct tb_client *s = sub_now(TERN_V5, "s", t1, 0);
    TN_REQUIRE(s);
    TN_EXPECT(tb_expect_nothing(s, 300));
    TN_REQUIRE(tb_subscribe(s, t2, 0, 0) == 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "l"));
    TN_EXPECT(tern_props_has(&got.u.publish.props, TERN_PROP_MESSAGE_EXPIRY_INTERVAL));
    uint32_t left = got.u.publish.props.message_expiry_interval;
    TN_EXPECT(left >= 50 && left <= 58);
    tb_publish_str(p, t2, "", 1, true);
}

/* 5.0: a server without retained messages says Retain Available 0 in CONNACK, and a PUBLISH
 * with RETAIN 1 is then a Protocol Error: DISCONNECT 0x9A (Retain not supported)
 * [MQTT-3.2.2-9] [MQTT-3.3.1-13]... (5.0 3.2.2.3.5). */
TN_TEST(retain_not_available_v5_3_2_2_9)
{
    struct tb_broker *b = tb_broker_start("retain_available false", NULL);
    struct tern_packet ack;
    TN_REQUIRE(b);
    struct tb_conn_opts o = {.version = TERN_V5, .client_id = "nr", .clean = true, .keepalive = 60};
    struct tb_client *c = tb_connect(b, &o, &ack);
    TN_REQUIRE(c);
    TN_EXPECT(tern_props_has(&ack.u.connack.props, TERN_PROP_RETAIN_AVAILABLE));
    TN_EXPECT_EQ_INT(ack.u.connack.props.retain_available, 0);
    struct tern_packet k = {.type = TERN_PUBLISH};
    k.u.publish.topic = TERN_SLICE_STR("nr/t");
    k.u.publish.payload = TERN_SLICE_STR("x");
    k.u.publish.retain = true;
    k.u.publish.qos = 1;
    k.u.publish.packet_id = 1;
    TN_REQUIRE(tb_send(c, &k) == 0);
    TN_EXPECT(tb_expect_disconnect(c, TERN_RC_RETAIN_NOT_SUPPORTED, TB_WAIT_MS));
}

/* 5.0: retained messages are sent "when a new Non-shared Subscription is made" (5.0 3.3.1.3),
 * so none when a shared subscription is established (4.8.2); live messages do arrive. */
TN_TEST(no_retained_for_shared_v5_4_8_2)
{
    const char *t = tb_uniq("r");
    char filter[300];
    struct tb_client *p = tb_client(tb_shared(), TERN_V5, "p");
    struct tern_packet got;
    TN_REQUIRE(p);
    TN_REQUIRE(tb_publish_str(p, t, "kept", 1, true) >= 0);
    snprintf(filter, sizeof(filter), "$share/g/%s", t);
    struct tb_client *s = sub_now(TERN_V5, "s", filter, 1);
    TN_REQUIRE(s);
    TN_EXPECT(tb_expect_nothing(s, 300));
    TN_REQUIRE(tb_publish_str(p, t, "live", 1, false) >= 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT(tb_slice_eq(got.u.publish.payload, "live"));
    TN_EXPECT(tb_ack(s, &got) == 0);
    tb_publish_str(p, t, "", 1, true);
}

/* 20,000 retained messages, published fast (pipelined QoS 0, then one QoS 1 whose PUBACK says
 * the broker has read them all), then one '#' subscription receives every one of them, each
 * exactly once with RETAIN 1 [MQTT-3.3.1-6] [MQTT-3.3.1-8] (3.1.1). A private broker keeps
 * them from other tests. */
TN_TEST(retained_20000_hash_311_3_3_1_6)
{
    enum { N = 20000 };
    struct tb_broker *b = tb_broker_start("max_queued_messages 0", "workers 2");
    TN_REQUIRE(b);
    struct tb_client *p = tb_connect_ok(b, TERN_V311, "bulk-pub", true, 60, NULL);
    TN_REQUIRE(p);
    uint8_t *buf = malloc((size_t)N * 40);
    TN_REQUIRE(buf);
    size_t len = 0;
    for (int i = 0; i < N; i++) {
        char topic[32], payload[16];
        snprintf(topic, sizeof(topic), "bulk/%d/%d", i % 100, i);
        snprintf(payload, sizeof(payload), "%d", i);
        struct tern_packet k = {.type = TERN_PUBLISH};
        k.u.publish.retain = true;
        k.u.publish.topic = tern_slice_cstr(topic);
        k.u.publish.payload = tern_slice_cstr(payload);
        len += tb_encode(&k, TERN_V311, buf + len, 40);
    }
    int64_t t0 = tb_now_ms();
    int r = tb_send_raw(p, buf, len);
    free(buf);
    TN_REQUIRE(r == 0);
    TN_REQUIRE(tb_publish_str(p, "bulk/done", "done", 1, true) == 0);

    struct tb_client *s = tb_connect_ok(b, TERN_V311, "bulk-sub", true, 60, NULL);
    TN_REQUIRE(s);
    TN_REQUIRE(tb_subscribe(s, "#", 0, 0) == 0);
    uint8_t *seen = calloc(N, 1);
    TN_REQUIRE(seen);
    int got_n = 0, dups = 0;
    bool done = false;
    struct tern_packet got;
    while (got_n < N || !done) {
        r = tb_recv_publish(s, &got, TB_WAIT_MS);
        if (r != 0) {
            tb_fail("after %d of %d retained messages: %d", got_n, N, r);
            break;
        }
        if (!got.u.publish.retain)
            tb_fail("retained message without RETAIN 1");
        if (tb_slice_eq(got.u.publish.topic, "bulk/done")) {
            done = true;
            continue;
        }
        char tmp[16];
        snprintf(tmp, sizeof(tmp), "%.*s", TERN_SLICE_FMT(got.u.publish.payload));
        int i = atoi(tmp);
        if (i < 0 || i >= N) {
            tb_fail("bad payload %s", tmp);
            break;
        }
        if (seen[i])
            dups++;
        seen[i] = 1;
        got_n++;
    }
    free(seen);
    TN_EXPECT_EQ_INT(dups, 0);
    TN_EXPECT_EQ_INT(got_n, N);
    fprintf(stderr, "  (%d retained messages stored and delivered in %lld ms)\n", got_n,
            (long long)(tb_now_ms() - t0));
}

TB_MAIN()
