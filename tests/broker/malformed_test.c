/* SPDX-License-Identifier: MIT */
/*
 * tests/broker/malformed_test.c - malformed packets and protocol errors sent to the broker
 * after a valid CONNECT (and malformed CONNECTs): bad Remaining Length, bad fixed-header
 * flags, truncated bodies, zero packet ids, bad UTF-8, properties in the wrong packet or
 * twice, empty SUBSCRIBE/UNSUBSCRIBE, reserved subscription option bits, packets only a server
 * may send, and a packet over the Maximum Packet Size. MQTT 5.0 (2019): the broker sends
 * DISCONNECT with the reason code (0x81 Malformed Packet, 0x82 Protocol Error, ...) and closes
 * (4.13); MQTT 3.1.1 (2014): the broker closes the connection [MQTT-4.8.0-1]. After every case
 * a well-behaved client on the same broker still publishes and receives.
 *
 * The byte strings here are deliberately malformed, so they are written out by hand; every
 * valid packet comes from the codec. Topics are "a", packet ids 1, unless the case is about
 * them.
 *
 * Owns: nothing (brokers and clients belong to the harness).
 * Thread: main only.
 *
 * Where mosquitto 2.0.11 deviates from the spec (the test keeps the spec's expectation):
 *   mosquitto is lax about malformed packets; most of these tests fail against it. In short:
 *   - it ignores wrong fixed-header flags of PUBACK, PUBREC, PUBCOMP, PINGREQ (and answers
 *     PUBREC with PUBREL, PINGREQ with PINGRESP); 3.1.1 likewise;
 *   - it accepts a non-minimal Remaining Length and trailing bytes in PINGREQ (PINGRESP);
 *   - it ignores SUBACK, UNSUBACK and PINGRESP sent by a client (3.1.1 and 5.0), and a
 *     PUBLISH QoS 0 with DUP 1, and Payload Format Indicator 2;
 *   - 5.0: it often closes without the DISCONNECT a Server SHOULD send (4.13.1): 5-byte
 *     Remaining Length, short PUBACK, bad PUBREL/DISCONNECT flags, CONNACK from a client,
 *     PUBREL without id, bad UTF-8 in a User Property, duplicate properties;
 *   - 5.0: it says 0x81 where the spec says Protocol Error (0x82): empty SUBSCRIBE
 *     [MQTT-3.8.3-2], empty UNSUBSCRIBE [MQTT-3.10.3-2], Subscription Identifier 0; and 0x81
 *     for Topic Alias 0 where the spec says 0x94 (Topic Alias invalid).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"
#include "harness.h"

struct mcase {
    const char *name;
    uint8_t rc, rc_alt; /* 5.0 reason codes accepted (rc_alt 0: only rc) */
    uint8_t n;
    uint8_t b[24];
};

#define MC(nm, r, r2, ...)                                                                         \
    {                                                                                              \
        .name = nm, .rc = r, .rc_alt = r2, .n = sizeof((uint8_t[]){__VA_ARGS__}), .b = {           \
            __VA_ARGS__                                                                            \
        }                                                                                          \
    }

enum { M = TERN_RC_MALFORMED_PACKET, P = TERN_RC_PROTOCOL_ERROR };

/* A well-behaved client still gets its own QoS 1 message through the broker. */
static bool healthy(struct tb_broker *b, const char *after)
{
    struct tern_packet got;
    struct tb_client *c = tb_connect_ok(b, TERN_V311, "health", true, 30, NULL);
    bool ok = c && tb_subscribe(c, "health/t", 1, 0) == 1 &&
              tb_publish_str(c, "health/t", after, 1, false) == 0 &&
              tb_recv_publish(c, &got, TB_WAIT_MS) == 0 &&
              tb_slice_eq(got.u.publish.payload, after);
    if (!ok)
        tb_fail("the broker no longer works after case %s", after);
    tb_disconnect(c, 0);
    return ok;
}

/* How long a broker may take to react to a bad packet. Short, because a test binary runs
 * dozens of cases and a broker that ignores them (mosquitto) must not make it take minutes. */
#define REACT_MS 1500

/* 5.0: DISCONNECT with rc (or rc_alt), then close; 3.x: close. */
static bool expect_rejected(struct tb_client *c, const struct mcase *mc)
{
    if (c->version == TERN_V5) {
        struct tern_packet p;
        int r = tb_recv(c, &p, REACT_MS);
        if (r != 0 || p.type != TERN_DISCONNECT ||
            (p.u.disconnect.rc != mc->rc && (!mc->rc_alt || p.u.disconnect.rc != mc->rc_alt))) {
            tb_fail("case %s: want DISCONNECT %#x%s, got %s", mc->name, mc->rc,
                    mc->rc_alt ? " (or alternative)" : "",
                    r == -EPIPE                 ? "a close without DISCONNECT"
                    : r != 0                    ? "nothing"
                    : p.type == TERN_DISCONNECT ? tern_rc_name(p.u.disconnect.rc)
                                                : tern_ptype_name(p.type));
            if (r == 0)
                tb_expect_closed(c, REACT_MS);
            return false;
        }
    }
    if (!tb_expect_closed(c, REACT_MS)) {
        tb_fail("case %s: connection not closed", mc->name);
        return false;
    }
    return true;
}

/* Each case on its own connection after a valid CONNECT, then the health check. */
static void run_cases(uint8_t v, const struct mcase *cs, size_t n)
{
    struct tb_broker *b = tb_shared();
    for (size_t i = 0; i < n; i++) {
        struct tb_client *c = tb_connect_ok(b, v, tb_uniq(cs[i].name), true, 30, NULL);
        TN_REQUIRE(c);
        TN_REQUIRE(tb_send_raw(c, cs[i].b, cs[i].n) == 0);
        expect_rejected(c, &cs[i]);
        tb_close(c);
        if (!healthy(b, cs[i].name))
            return;
    }
}

#define RUN(v, cases) run_cases(v, cases, sizeof(cases) / sizeof(cases[0]))

/* ---- Remaining Length --------------------------------------------------------------------- */

/* A fifth Remaining Length byte [MQTT-1.5.5-1] (5.0: at most 4 bytes, minimum encoding);
 * a Remaining Length too short for the packet's fixed fields. */
TN_TEST(remaining_length_v5_1_5_5_1)
{
    static const struct mcase cs[] = {
        MC("rl_five_bytes", M, 0, 0x30, 0xff, 0xff, 0xff, 0xff, 0x7f),
        MC("rl_not_minimal", M, 0, 0xc0, 0x80, 0x00),
        MC("pingreq_rl_1", M, 0, 0xc0, 0x01, 0x00),
        MC("puback_rl_1", M, 0, 0x40, 0x01, 0x00),
    };
    RUN(TERN_V5, cs);
}

TN_TEST(remaining_length_311_2_2_3)
{
    static const struct mcase cs[] = {
        MC("rl_five_bytes", 0, 0, 0x30, 0xff, 0xff, 0xff, 0xff, 0x7f),
        MC("pingreq_rl_1", 0, 0, 0xc0, 0x01, 0x00),
        MC("puback_rl_1", 0, 0, 0x40, 0x01, 0x00),
    };
    RUN(TERN_V311, cs);
}

/* ---- fixed-header flags and packet types ------------------------------------------------- */

/* Flags other than the ones fixed for a type: malformed [MQTT-2.2.2-2] (3.1.1: close)
 * [MQTT-2.1.3-1] (5.0: 0x81); reserved type 0 and, in 3.1.1, 15 [MQTT-2.2.1]... */
TN_TEST(bad_flags_v5_2_1_3_1)
{
    static const struct mcase cs[] = {
        MC("puback_flags", M, 0, 0x41, 0x02, 0x00, 0x01),
        MC("pubrec_flags", M, 0, 0x51, 0x02, 0x00, 0x01),
        MC("pubrel_flags_0", M, 0, 0x60, 0x02, 0x00, 0x01),
        MC("pubcomp_flags", M, 0, 0x71, 0x02, 0x00, 0x01),
        MC("subscribe_flags_0", M, 0, 0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x00),
        MC("unsubscribe_flags_0", M, 0, 0xa0, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'),
        MC("pingreq_flags", M, 0, 0xc1, 0x00),
        MC("disconnect_flags", M, 0, 0xe1, 0x00),
        MC("type_0", M, P, 0x00, 0x00),
        MC("publish_qos0_dup", M, 0, 0x38, 0x04, 0x00, 0x01, 'a', 0x00), /* [MQTT-3.3.1-2] */
    };
    RUN(TERN_V5, cs);
}

TN_TEST(bad_flags_311_2_2_2_2)
{
    static const struct mcase cs[] = {
        MC("puback_flags", 0, 0, 0x41, 0x02, 0x00, 0x01),
        MC("pubrec_flags", 0, 0, 0x51, 0x02, 0x00, 0x01),
        MC("pubrel_flags_0", 0, 0, 0x60, 0x02, 0x00, 0x01),
        MC("pubcomp_flags", 0, 0, 0x71, 0x02, 0x00, 0x01),
        MC("subscribe_flags_0", 0, 0, 0x80, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x00),
        MC("unsubscribe_flags_0", 0, 0, 0xa0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
        MC("pingreq_flags", 0, 0, 0xc1, 0x00),
        MC("disconnect_flags", 0, 0, 0xe1, 0x00),
        MC("type_0", 0, 0, 0x00, 0x00),
        MC("type_15_auth", 0, 0, 0xf0, 0x00),
    };
    RUN(TERN_V311, cs);
}

/* Packets only a Server sends, received from a Client: a protocol violation (5.0 accepts
 * 0x81 or 0x82; 3.1.1: close) [MQTT-4.8.0-1] (3.1.1). */
TN_TEST(server_packets_from_client_v5)
{
    static const struct mcase cs[] = {
        MC("connack", P, M, 0x20, 0x03, 0x00, 0x00, 0x00),
        MC("suback", P, M, 0x90, 0x04, 0x00, 0x01, 0x00, 0x00),
        MC("unsuback", P, M, 0xb0, 0x04, 0x00, 0x01, 0x00, 0x00),
        MC("pingresp", P, M, 0xd0, 0x00),
    };
    RUN(TERN_V5, cs);
}

TN_TEST(server_packets_from_client_311_4_8_0_1)
{
    static const struct mcase cs[] = {
        MC("connack", 0, 0, 0x20, 0x02, 0x00, 0x00),
        MC("suback", 0, 0, 0x90, 0x03, 0x00, 0x01, 0x00),
        MC("pingresp", 0, 0, 0xd0, 0x00),
    };
    RUN(TERN_V311, cs);
}

/* A second CONNECT is a Protocol Error whatever its body holds [MQTT-3.1.0-2]: a protocol
 * level the broker does not speak, a wrong protocol name, a truncated body. The decoder's own
 * answer to such a CONNECT (0x84, 0x81) is a CONNACK code; DISCONNECT must carry 0x82, a code
 * it allows [MQTT-3.14.2-1]. Found by fuzz/broker_fuzz (ternd sent DISCONNECT 0x84). */
TN_TEST(second_connect_bad_body_v5_3_1_0_2)
{
    static const struct mcase cs[] = {
        MC("level6", P, 0, 0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3c, 0x00,
           0x01, 'r'),
        MC("name", P, 0, 0x10, 0x0e, 0x00, 0x04, 'M', 'Q', 'X', 'X', 0x05, 0x02, 0x00, 0x3c, 0x00,
           0x00, 0x01, 'r'),
        MC("short", P, 0, 0x10, 0x04, 0x00, 0x04, 'M', 'Q'),
    };
    RUN(TERN_V5, cs);
}

TN_TEST(second_connect_bad_body_311_3_1_0_2)
{
    static const struct mcase cs[] = {
        MC("level6", 0, 0, 0x10, 0x0d, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06, 0x02, 0x00, 0x3c, 0x00,
           0x01, 'r'),
        MC("short", 0, 0, 0x10, 0x04, 0x00, 0x04, 'M', 'Q'),
    };
    RUN(TERN_V311, cs);
}

/* ---- truncated bodies --------------------------------------------------------------------- */

TN_TEST(truncated_v5)
{
    static const struct mcase cs[] = {
        MC("publish_qos1_no_id", M, 0, 0x32, 0x03, 0x00, 0x01, 'a'),
        MC("publish_topic_overrun", M, 0, 0x30, 0x04, 0x00, 0x10, 'a', 'b'),
        MC("publish_props_overrun", M, 0, 0x30, 0x05, 0x00, 0x01, 'a', 0x05, 0x01),
        MC("subscribe_no_options", M, 0, 0x82, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 'a'),
        MC("unsubscribe_filter_overrun", M, 0, 0xa2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x05, 'a'),
        MC("pubrel_no_id", M, 0, 0x62, 0x01, 0x00),
    };
    RUN(TERN_V5, cs);
}

TN_TEST(truncated_311)
{
    static const struct mcase cs[] = {
        MC("publish_qos1_no_id", 0, 0, 0x32, 0x03, 0x00, 0x01, 'a'),
        MC("publish_topic_overrun", 0, 0, 0x30, 0x04, 0x00, 0x10, 'a', 'b'),
        MC("subscribe_no_qos", 0, 0, 0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'),
        MC("pubrel_no_id", 0, 0, 0x62, 0x01, 0x00),
    };
    RUN(TERN_V311, cs);
}

/* ---- empty SUBSCRIBE / UNSUBSCRIBE, packet id 0 ------------------------------------------ */

/* SUBSCRIBE/UNSUBSCRIBE without a filter: Protocol Error [MQTT-3.8.3-2] [MQTT-3.10.3-2] (5.0);
 * packet id 0 [MQTT-2.2.1-3] (5.0): the spec names no code; 0x82 or 0x81 accepted. */
TN_TEST(empty_and_zero_id_v5_3_8_3_2)
{
    static const struct mcase cs[] = {
        MC("subscribe_empty", P, 0, 0x82, 0x03, 0x00, 0x01, 0x00),
        MC("unsubscribe_empty", P, 0, 0xa2, 0x03, 0x00, 0x01, 0x00),
        MC("publish_id_0", P, M, 0x32, 0x06, 0x00, 0x01, 'a', 0x00, 0x00, 0x00),
        MC("subscribe_id_0", P, M, 0x82, 0x07, 0x00, 0x00, 0x00, 0x00, 0x01, 'a', 0x00),
        MC("unsubscribe_id_0", P, M, 0xa2, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 'a'),
    };
    RUN(TERN_V5, cs);
}

/* 3.1.1: SUBSCRIBE with no payload is a protocol violation [MQTT-3.8.3-3]; UNSUBSCRIBE too
 * [MQTT-3.10.3-2]; packet id 0 [MQTT-2.3.1-1]. */
TN_TEST(empty_and_zero_id_311_3_8_3_3)
{
    static const struct mcase cs[] = {
        MC("subscribe_empty", 0, 0, 0x82, 0x02, 0x00, 0x01),
        MC("unsubscribe_empty", 0, 0, 0xa2, 0x02, 0x00, 0x01),
        MC("publish_id_0", 0, 0, 0x32, 0x05, 0x00, 0x01, 'a', 0x00, 0x00),
        MC("subscribe_id_0", 0, 0, 0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00),
    };
    RUN(TERN_V311, cs);
}

/* ---- UTF-8 --------------------------------------------------------------------------------- */

/* Ill-formed UTF-8 (a bare 0xFF, an encoded surrogate) and U+0000 in a topic or filter:
 * Malformed Packet [MQTT-1.5.4-1] [MQTT-1.5.4-2] (5.0); close [MQTT-1.5.3-1] [MQTT-1.5.3-2]
 * (3.1.1). */
TN_TEST(utf8_v5_1_5_4_1)
{
    static const struct mcase cs[] = {
        MC("topic_ff", M, 0, 0x30, 0x05, 0x00, 0x02, 'a', 0xff, 0x00),
        MC("topic_surrogate", M, 0, 0x30, 0x06, 0x00, 0x03, 0xed, 0xa0, 0x80, 0x00),
        MC("topic_overlong", M, 0, 0x30, 0x05, 0x00, 0x02, 0xc0, 0xaf, 0x00),
        MC("topic_nul", M, 0, 0x30, 0x05, 0x00, 0x02, 'a', 0x00, 0x00),
        MC("filter_nul", M, 0, 0x82, 0x08, 0x00, 0x01, 0x00, 0x00, 0x02, 'a', 0x00, 0x00),
        MC("unsub_filter_ff", M, 0, 0xa2, 0x07, 0x00, 0x01, 0x00, 0x00, 0x02, 'a', 0xff),
        /* a User Property key with 0xFF */
        MC("user_property_ff", M, 0, 0x30, 0x0b, 0x00, 0x01, 'a', 0x07, 0x26, 0x00, 0x01, 0xff,
           0x00, 0x01, 'v'),
    };
    RUN(TERN_V5, cs);
}

TN_TEST(utf8_311_1_5_3_1)
{
    static const struct mcase cs[] = {
        MC("topic_ff", 0, 0, 0x30, 0x04, 0x00, 0x02, 'a', 0xff),
        MC("topic_surrogate", 0, 0, 0x30, 0x05, 0x00, 0x03, 0xed, 0xa0, 0x80),
        MC("topic_nul", 0, 0, 0x30, 0x04, 0x00, 0x02, 'a', 0x00),
        MC("filter_nul", 0, 0, 0x82, 0x07, 0x00, 0x01, 0x00, 0x02, 'a', 0x00, 0x00),
    };
    RUN(TERN_V311, cs);
}

/* ---- properties (5.0) --------------------------------------------------------------------- */

/* A property the packet may not carry (Session Expiry in PUBLISH, Topic Alias in SUBSCRIBE),
 * an unknown property id, a property given twice (Protocol Error, 2.2.2.2), Topic Alias 0
 * (0x94, 3.3.2.3.4) and Subscription Identifier 0 (Protocol Error, 3.8.2.1.2). */
TN_TEST(properties_v5_2_2_2_2)
{
    static const struct mcase cs[] = {
        MC("publish_session_expiry", M, P, 0x30, 0x09, 0x00, 0x01, 'a', 0x05, 0x11, 0x00, 0x00,
           0x00, 0x0a),
        MC("subscribe_topic_alias", M, P, 0x82, 0x0a, 0x00, 0x01, 0x03, 0x23, 0x00, 0x01, 0x00,
           0x01, 'a', 0x00),
        MC("publish_unknown_prop", M, P, 0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x7f, 0x00),
        MC("publish_expiry_twice", P, 0, 0x30, 0x0e, 0x00, 0x01, 'a', 0x0a, 0x02, 0x00, 0x00, 0x00,
           0x0a, 0x02, 0x00, 0x00, 0x00, 0x0b),
        MC("publish_alias_twice", P, 0, 0x30, 0x0a, 0x00, 0x01, 'a', 0x06, 0x23, 0x00, 0x01, 0x23,
           0x00, 0x01),
        MC("publish_topic_alias_0", TERN_RC_TOPIC_ALIAS_INVALID, 0, 0x30, 0x07, 0x00, 0x01, 'a',
           0x03, 0x23, 0x00, 0x00),
        MC("subscribe_sub_id_0", P, 0, 0x82, 0x09, 0x00, 0x01, 0x02, 0x0b, 0x00, 0x00, 0x01, 'a',
           0x00),
        MC("publish_pfi_2", P, M, 0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x01, 0x02),
    };
    RUN(TERN_V5, cs);
}

/* ---- subscription options ----------------------------------------------------------------- */

/* Reserved bits 6-7 of the Subscription Options set [MQTT-3.8.3-5] and QoS 3 (5.0: Malformed),
 * Retain Handling 3 (5.0: Protocol Error, 3.8.3.1). */
TN_TEST(subscription_options_v5_3_8_3_5)
{
    static const struct mcase cs[] = {
        MC("options_reserved_bits", M, 0, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0xc0),
        MC("options_qos_3", M, 0, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x03),
        MC("options_retain_handling_3", P, M, 0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30),
    };
    RUN(TERN_V5, cs);
}

/* 3.1.1: the upper 6 bits of the requested QoS byte must be 0 and QoS 3 is invalid: close
 * [MQTT-3.8.3-4] (3.1.1). */
TN_TEST(subscription_options_311_3_8_3_4)
{
    static const struct mcase cs[] = {
        MC("qos_byte_reserved_bits", 0, 0, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x04),
        MC("qos_3", 0, 0, 0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03),
    };
    RUN(TERN_V311, cs);
}

/* ---- malformed CONNECT ---------------------------------------------------------------------- */

/* Encode a CONNECT (with a Will when will_qos is not 0xff) and patch the Connect Flags byte
 * with flags_or / flags_and; send it on a fresh connection; the broker must close it,
 * answering at most with a CONNACK carrying a failure code. */
static void bad_connect(uint8_t v, const char *name, uint8_t will_qos, bool user, uint8_t flags_or,
                        uint8_t flags_and)
{
    struct tern_packet k = {.type = TERN_CONNECT}, ack;
    struct tern_frame f;
    uint8_t buf[256], rc;
    k.u.connect.version = v;
    k.u.connect.protocol_name = TERN_SLICE_STR("MQTT");
    k.u.connect.clean = true;
    k.u.connect.keep_alive = 30;
    k.u.connect.client_id = tern_slice_cstr(name);
    if (will_qos != 0xff) {
        k.u.connect.will = true;
        k.u.connect.will_qos = will_qos;
        k.u.connect.will_topic = TERN_SLICE_STR("w");
        k.u.connect.will_payload = TERN_SLICE_STR("x");
    }
    if (user) {
        k.u.connect.has_username = true;
        k.u.connect.username = TERN_SLICE_STR("u");
        k.u.connect.has_password = true;
        k.u.connect.password = TERN_SLICE_STR("p");
    }
    size_t n = tb_encode(&k, v, buf, sizeof(buf));
    TN_REQUIRE(n && tern_frame_peek(buf, n, 0, &f, &rc) == 1);
    buf[f.hdr_len + 7] = (uint8_t)((buf[f.hdr_len + 7] | flags_or) & flags_and);
    struct tb_client *c = tb_open(tb_shared(), v, name);
    TN_REQUIRE(c);
    TN_REQUIRE(tb_send_raw(c, buf, n) == 0);
    int r = tb_recv(c, &ack, TB_WAIT_MS);
    if (r == 0) {
        if (ack.type != TERN_CONNACK || ack.u.connack.rc == 0)
            tb_fail("case %s: got %s rc %#x instead of a close", name, tern_ptype_name(ack.type),
                    ack.u.connack.rc);
        TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
    } else {
        TN_EXPECT_EQ_INT(r, -EPIPE);
    }
    healthy(tb_shared(), name);
}

/* Will Flag 0 with Will QoS 1 [MQTT-3.1.2-13] or Will Retain 1 [MQTT-3.1.2-15]; Will QoS 3
 * [MQTT-3.1.2-14]; Password Flag 1 with User Name Flag 0 [MQTT-3.1.2-22] (3.1.1). */
TN_TEST(bad_connect_flags_311_3_1_2_13)
{
    bad_connect(TERN_V311, "tb-will-qos-no-will", 0xff, false, 0x08, 0xff);
    bad_connect(TERN_V311, "tb-will-retain-no-will", 0xff, false, 0x20, 0xff);
    bad_connect(TERN_V311, "tb-will-qos-3", 1, false, 0x18, 0xff);
    bad_connect(TERN_V311, "tb-password-no-user", 0xff, true, 0x00, 0x7f);
}

/* 5.0: Will QoS 3 and Will QoS without Will Flag are Malformed [MQTT-3.1.2-11] [MQTT-3.1.2-12]
 * (5.0): close, at most a CONNACK with a failure code. */
TN_TEST(bad_connect_flags_v5_3_1_2_11)
{
    bad_connect(TERN_V5, "tb-v5-will-qos-no-will", 0xff, false, 0x08, 0xff);
    bad_connect(TERN_V5, "tb-v5-will-qos-3", 1, false, 0x18, 0xff);
}

/* A Client Identifier that is not UTF-8 [MQTT-1.5.3-1] (3.1.1) [MQTT-1.5.4-1] (5.0): close,
 * with at most a CONNACK carrying a failure code (5.0: 0x81 or 0x85). */
static void bad_client_id(uint8_t v)
{
    struct tern_packet k = {.type = TERN_CONNECT}, ack;
    uint8_t buf[64];
    k.u.connect.version = v;
    k.u.connect.protocol_name = TERN_SLICE_STR("MQTT");
    k.u.connect.clean = true;
    k.u.connect.keep_alive = 30;
    k.u.connect.client_id = TERN_SLICE_STR("tb-bad-utf8-X");
    size_t n = tb_encode(&k, v, buf, sizeof(buf));
    TN_REQUIRE(n);
    buf[n - 1] = 0xff; /* the id is the last field */
    struct tb_client *c = tb_open(tb_shared(), v, "bad-id");
    TN_REQUIRE(c);
    TN_REQUIRE(tb_send_raw(c, buf, n) == 0);
    int r = tb_recv(c, &ack, TB_WAIT_MS);
    if (r == 0) {
        TN_EXPECT_EQ_INT(ack.type, TERN_CONNACK);
        TN_EXPECT(ack.u.connack.rc != 0);
        TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
    } else {
        TN_EXPECT_EQ_INT(r, -EPIPE);
    }
    healthy(tb_shared(), "bad_client_id");
}

TN_TEST(connect_client_id_not_utf8_311_1_5_3_1)
{
    bad_client_id(TERN_V311);
}

TN_TEST(connect_client_id_not_utf8_v5_1_5_4_1)
{
    bad_client_id(TERN_V5);
}

/* ---- Maximum Packet Size (5.0) ---------------------------------------------------------- */

/* With max_packet_size 1000 the CONNACK says Maximum Packet Size 1000 (3.2.2.3.6) and a
 * larger PUBLISH gets DISCONNECT 0x95 (Packet too large) [MQTT-3.2.2-15]... (5.0 3.1.2.10,
 * 4.13); 3.1.1 closes. The broker keeps working. */
TN_TEST(packet_too_large_v5_0x95)
{
    struct tb_broker *b = tb_broker_start("max_packet_size 1000", NULL);
    struct tern_packet ack;
    static uint8_t payload[2000];
    TN_REQUIRE(b);
    struct tb_conn_opts o = {
        .version = TERN_V5, .client_id = "big5", .clean = true, .keepalive = 30};
    struct tb_client *c = tb_connect(b, &o, &ack);
    TN_REQUIRE(c);
    TN_EXPECT(tern_props_has(&ack.u.connack.props, TERN_PROP_MAXIMUM_PACKET_SIZE));
    TN_EXPECT_EQ_U32(ack.u.connack.props.maximum_packet_size, 1000);
    memset(payload, 'x', sizeof(payload));
    TN_REQUIRE(tb_publish(c, "big", payload, sizeof(payload), 0, false, NULL) == 0);
    TN_EXPECT(tb_expect_disconnect(c, TERN_RC_PACKET_TOO_LARGE, TB_WAIT_MS));
    /* just under the limit still works */
    struct tb_client *s = tb_connect_ok(b, TERN_V5, "ok5", true, 30, NULL);
    struct tern_packet got;
    TN_REQUIRE(s);
    TN_REQUIRE(tb_subscribe(s, "big", 0, 0) == 0);
    TN_REQUIRE(tb_publish(s, "big", payload, 900, 0, false, NULL) == 0);
    TN_REQUIRE(tb_recv_publish(s, &got, TB_WAIT_MS) == 0);
    TN_EXPECT_EQ_U32(got.u.publish.payload.n, 900);
}

TN_TEST(packet_too_large_311)
{
    struct tb_broker *b = tb_broker_start("max_packet_size 1000", NULL);
    static uint8_t payload[2000];
    TN_REQUIRE(b);
    struct tb_client *c = tb_connect_ok(b, TERN_V311, "big3", true, 30, NULL);
    TN_REQUIRE(c);
    TN_REQUIRE(tb_publish(c, "big", payload, sizeof(payload), 0, false, NULL) == 0);
    TN_EXPECT(tb_expect_closed(c, TB_WAIT_MS));
    healthy(b, "after_too_large");
}

TB_MAIN()
