/* SPDX-License-Identifier: MIT */
/*
 * src/codec/connect_test.c - table-driven tests of CONNECT decoding and encoding at levels
 * 3 (3.1, "MQIsdp"), 4 (3.1.1) and 5 (5.0): flags, protocol name and level, payload fields,
 * 5.0 connect and will properties, truncation, and encoder errors.
 *
 * Owns: nothing beyond its tables. Thread: single-threaded test binary.
 * Spec: 3.1.1 section 3.1, 5.0 section 3.1. Rule ids say which spec: _311_ or _v5_.
 * Rows run through packet_test_util.h (framing, byte-at-a-time framing, round trip).
 */
#include "packet_test_util.h"

/* ---- checks ------------------------------------------------------------------------------- */

static void check_v31_minimal(const struct tern_packet *p)
{
    const struct tern_connect *c = &p->u.connect;
    TN_EXPECT_EQ_INT(p->type, TERN_CONNECT);
    TN_EXPECT_EQ_INT(c->version, 3);
    TN_EXPECT_SLICE_STR(c->protocol_name, "MQIsdp");
    TN_EXPECT(c->clean);
    TN_EXPECT(!c->will && !c->has_username && !c->has_password);
    TN_EXPECT_EQ_INT(c->keep_alive, 60);
    TN_EXPECT_SLICE_STR(c->client_id, "cid");
}

static void check_v311_minimal(const struct tern_packet *p)
{
    const struct tern_connect *c = &p->u.connect;
    TN_EXPECT_EQ_INT(c->version, 4);
    TN_EXPECT_SLICE_STR(c->protocol_name, "MQTT");
    TN_EXPECT(c->clean);
    TN_EXPECT(!c->will && !c->will_retain && !c->has_username && !c->has_password);
    TN_EXPECT_EQ_INT(c->will_qos, 0);
    TN_EXPECT_EQ_INT(c->keep_alive, 60);
    TN_EXPECT_SLICE_STR(c->client_id, "cid");
    TN_EXPECT_EQ_U64(c->props.present, 0);
}

static void check_v5_minimal(const struct tern_packet *p)
{
    const struct tern_connect *c = &p->u.connect;
    TN_EXPECT_EQ_INT(c->version, 5);
    TN_EXPECT_SLICE_STR(c->protocol_name, "MQTT");
    TN_EXPECT(!c->clean);
    TN_EXPECT_EQ_INT(c->keep_alive, 60);
    TN_EXPECT_SLICE_STR(c->client_id, "cid");
    TN_EXPECT_EQ_U64(c->props.present, 0);
    TN_EXPECT_EQ_U32(c->props.user_n, 0);
}

static void check_keep_alive_0(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.keep_alive, 0);
}
static void check_keep_alive_1(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.keep_alive, 1);
}
static void check_keep_alive_max(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.keep_alive, 0xFFFF);
}
static void check_keep_alive_0x1234(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.keep_alive, 0x1234);
}

static void check_empty_client_id(const struct tern_packet *p)
{
    TN_EXPECT_EQ_U32(p->u.connect.client_id.n, 0);
}

static void check_binary_password(const struct tern_packet *p)
{
    const struct tern_connect *c = &p->u.connect;
    TN_EXPECT(c->has_username && c->has_password);
    TN_EXPECT_SLICE_STR(c->username, "u");
    TN_EXPECT_MEM(c->password.p, c->password.n, "\xff\x00\xfe", 3);
}

static void check_binary_will_payload(const struct tern_packet *p)
{
    const struct tern_connect *c = &p->u.connect;
    TN_EXPECT(c->will);
    TN_EXPECT_SLICE_STR(c->will_topic, "w");
    TN_EXPECT_MEM(c->will_payload.p, c->will_payload.n, "\x00\xc3\x28", 3);
}

static void check_empty_will_payload(const struct tern_packet *p)
{
    TN_EXPECT(p->u.connect.will);
    TN_EXPECT_EQ_U32(p->u.connect.will_payload.n, 0);
}

static void check_v5_password_only(const struct tern_packet *p)
{
    const struct tern_connect *c = &p->u.connect;
    TN_EXPECT(!c->has_username);
    TN_EXPECT(c->has_password);
    TN_EXPECT_SLICE_STR(c->password, "secret");
}

static void check_level_seen_6(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.version, 6);
}
static void check_level_seen_2(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.version, 2);
}
static void check_level_seen_0(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.version, 0);
}
static void check_level_seen_3(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.version, 3);
}
static void check_level_seen_4(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.version, 4);
}
static void check_level_seen_5(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.connect.version, 5);
}

/* Every property a CONNECT may carry (5.0 3.1.2.11). */
static void check_v5_all_connect_props(const struct tern_packet *p)
{
    const struct tern_props *pr = &p->u.connect.props;
    uint64_t want =
        1ull << TERN_PROP_SESSION_EXPIRY_INTERVAL | 1ull << TERN_PROP_AUTHENTICATION_METHOD |
        1ull << TERN_PROP_AUTHENTICATION_DATA | 1ull << TERN_PROP_REQUEST_PROBLEM_INFORMATION |
        1ull << TERN_PROP_REQUEST_RESPONSE_INFORMATION | 1ull << TERN_PROP_RECEIVE_MAXIMUM |
        1ull << TERN_PROP_TOPIC_ALIAS_MAXIMUM | 1ull << TERN_PROP_USER_PROPERTY |
        1ull << TERN_PROP_MAXIMUM_PACKET_SIZE;
    TN_EXPECT_EQ_U64(pr->present, want);
    TN_EXPECT_EQ_U32(pr->session_expiry_interval, 3600);
    TN_EXPECT_SLICE_STR(pr->authentication_method, "SCRAM-SHA-1");
    TN_EXPECT_MEM(pr->authentication_data.p, pr->authentication_data.n, "\x01\x02\x03", 3);
    TN_EXPECT_EQ_INT(pr->request_problem_information, 0);
    TN_EXPECT_EQ_INT(pr->request_response_information, 1);
    TN_EXPECT_EQ_INT(pr->receive_maximum, 20);
    TN_EXPECT_EQ_INT(pr->topic_alias_maximum, 10);
    TN_EXPECT_EQ_U32(pr->maximum_packet_size, 0x100000);
    static const char *const kv[] = {"k1", "v1", "k2", "v2", "k1", "v3"};
    pt_expect_users(pr, kv, 3);
    TN_EXPECT_EQ_U64(p->u.connect.will_props.present, 0);
}

/* Every property a Will may carry (5.0 3.1.3.2). */
static void check_v5_all_will_props(const struct tern_packet *p)
{
    const struct tern_connect *c = &p->u.connect;
    const struct tern_props *w = &c->will_props;
    TN_EXPECT(c->will);
    TN_EXPECT_EQ_INT(c->will_qos, 1);
    TN_EXPECT(c->will_retain);
    uint64_t want = 1ull << TERN_PROP_PAYLOAD_FORMAT_INDICATOR |
                    1ull << TERN_PROP_MESSAGE_EXPIRY_INTERVAL | 1ull << TERN_PROP_CONTENT_TYPE |
                    1ull << TERN_PROP_RESPONSE_TOPIC | 1ull << TERN_PROP_CORRELATION_DATA |
                    1ull << TERN_PROP_WILL_DELAY_INTERVAL | 1ull << TERN_PROP_USER_PROPERTY;
    TN_EXPECT_EQ_U64(w->present, want);
    TN_EXPECT_EQ_INT(w->payload_format_indicator, 1);
    TN_EXPECT_EQ_U32(w->message_expiry_interval, 60);
    TN_EXPECT_SLICE_STR(w->content_type, "text/plain");
    TN_EXPECT_SLICE_STR(w->response_topic, "reply/to");
    TN_EXPECT_MEM(w->correlation_data.p, w->correlation_data.n, "\xc0\xff\xee", 3);
    TN_EXPECT_EQ_U32(w->will_delay_interval, 10);
    static const char *const kv[] = {"wk", "wv"};
    pt_expect_users(w, kv, 1);
    TN_EXPECT_SLICE_STR(c->will_topic, "will/t");
    TN_EXPECT_SLICE_STR(c->will_payload, "gone");
    TN_EXPECT_EQ_U64(c->props.present, 1ull << TERN_PROP_SESSION_EXPIRY_INTERVAL);
}

static void check_v5_auth_method_only(const struct tern_packet *p)
{
    const struct tern_props *pr = &p->u.connect.props;
    TN_EXPECT(tern_props_has(pr, TERN_PROP_AUTHENTICATION_METHOD));
    TN_EXPECT(!tern_props_has(pr, TERN_PROP_AUTHENTICATION_DATA));
    TN_EXPECT_SLICE_STR(pr->authentication_method, "PLAIN");
}

/* ---- the table ----------------------------------------------------------------------------- */

#define MAL -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET
#define PROTO -EPROTO, TERN_RC_PROTOCOL_ERROR
#define BADVER -TERN_EVERSION, TERN_RC_UNSUPPORTED_PROTOCOL_VERSION

/* clang-format off */
static const struct pt_row connect_rows[] = {
    /* minimal packets, one per level */
    {"v31_minimal", 3, "10 [ {'MQIsdp'} 03 02 003c {'cid'} ]", 0, 0, check_v31_minimal, 0},
    {"v311_minimal", 4, "10 [ {'MQTT'} 04 02 003c {'cid'} ]", 0, 0, check_v311_minimal, 0},
    {"v5_minimal", 5, "10 [ {'MQTT'} 05 00 003c [ ] {'cid'} ]", 0, 0, check_v5_minimal, 0},

    /* keep alive is taken as is; 0 switches it off (3.1.2.10) */
    {"v311_keep_alive_0", 4, "10 [ {'MQTT'} 04 02 0000 {'c'} ]", 0, 0, check_keep_alive_0, 0},
    {"v311_keep_alive_1", 4, "10 [ {'MQTT'} 04 02 0001 {'c'} ]", 0, 0, check_keep_alive_1, 0},
    {"v311_keep_alive_max", 4, "10 [ {'MQTT'} 04 02 ffff {'c'} ]", 0, 0, check_keep_alive_max,
     0},
    {"v5_keep_alive_0x1234", 5, "10 [ {'MQTT'} 05 02 1234 [] {'c'} ]", 0, 0,
     check_keep_alive_0x1234, 0},
    {"v31_keep_alive_0", 3, "10 [ {'MQIsdp'} 03 02 0000 {'c'} ]", 0, 0, check_keep_alive_0, 0},

    /* reserved flag bit 0 [MQTT-3.1.2-3] (both specs) */
    {"v311_reserved_flag_311_3_1_2_3", 4, "10 [ {'MQTT'} 04 03 003c {'c'} ]", MAL, NULL, 0},
    {"v5_reserved_flag_v5_3_1_2_3", 5, "10 [ {'MQTT'} 05 03 003c [] {'c'} ]", MAL, NULL, 0},
    {"v31_reserved_flag", 3, "10 [ {'MQIsdp'} 03 01 003c {'c'} ]", MAL, NULL, 0},

    /* Will QoS / Will Retain without the Will Flag: 3.1.1 [MQTT-3.1.2-11] [MQTT-3.1.2-13]
     * [MQTT-3.1.2-15], 5.0 [MQTT-3.1.2-11] [MQTT-3.1.2-13] */
    {"v311_will_qos1_without_will_311_3_1_2_13", 4, "10 [ {'MQTT'} 04 0a 003c {'c'} ]", MAL,
     NULL, 0},
    {"v311_will_qos2_without_will_311_3_1_2_13", 4, "10 [ {'MQTT'} 04 12 003c {'c'} ]", MAL,
     NULL, 0},
    {"v311_will_retain_without_will_311_3_1_2_15", 4, "10 [ {'MQTT'} 04 22 003c {'c'} ]", MAL,
     NULL, 0},
    {"v5_will_qos_without_will_v5_3_1_2_11", 5, "10 [ {'MQTT'} 05 0a 003c [] {'c'} ]", MAL,
     NULL, 0},
    {"v5_will_retain_without_will_v5_3_1_2_13", 5, "10 [ {'MQTT'} 05 22 003c [] {'c'} ]", MAL,
     NULL, 0},
    /* Will QoS 3: 3.1.1 [MQTT-3.1.2-14], 5.0 [MQTT-3.1.2-12] */
    {"v311_will_qos3_311_3_1_2_14", 4, "10 [ {'MQTT'} 04 1e 003c {'c'} {'w'} {'x'} ]", MAL, NULL,
     0},
    {"v5_will_qos3_v5_3_1_2_12", 5, "10 [ {'MQTT'} 05 1e 003c [] {'c'} [] {'w'} {'x'} ]", MAL,
     NULL, 0},
    {"v31_will_qos3", 3, "10 [ {'MQIsdp'} 03 1e 003c {'c'} {'w'} {'x'} ]", MAL, NULL, 0},

    /* Password without User Name: forbidden in 3.1.1 [MQTT-3.1.2-22], allowed in 5.0 */
    {"v311_password_without_username_311_3_1_2_22", 4,
     "10 [ {'MQTT'} 04 42 003c {'c'} {'secret'} ]", MAL, NULL, 0},
    {"v31_password_without_username", 3, "10 [ {'MQIsdp'} 03 42 003c {'c'} {'secret'} ]", MAL,
     NULL, 0},
    {"v5_password_without_username_allowed", 5,
     "10 [ {'MQTT'} 05 42 003c [] {'c'} {'secret'} ]", 0, 0, check_v5_password_only, 0},
    /* Password is Binary Data: any bytes */
    {"v311_binary_password", 4, "10 [ {'MQTT'} 04 c2 003c {'c'} {'u'} {ff 00 fe} ]", 0, 0,
     check_binary_password, 0},
    {"v5_binary_password", 5, "10 [ {'MQTT'} 05 c2 003c [] {'c'} {'u'} {ff 00 fe} ]", 0, 0,
     check_binary_password, 0},
    /* Will Payload is Binary Data too; it may be empty */
    {"v311_binary_will_payload", 4, "10 [ {'MQTT'} 04 06 003c {'c'} {'w'} {00 c3 28} ]", 0, 0,
     check_binary_will_payload, 0},
    {"v311_empty_will_payload", 4, "10 [ {'MQTT'} 04 06 003c {'c'} {'w'} {} ]", 0, 0,
     check_empty_will_payload, 0},

    /* unknown protocol level: CONNACK 0x01 (3.1.1) / 0x84 (5.0) [MQTT-3.1.2-2]; the level seen
     * is reported so the caller can answer in kind */
    {"level6_unsupported_311_3_1_2_2", 4, "10 [ {'MQTT'} 06 02 003c {'c'} ]", BADVER,
     check_level_seen_6, 0},
    {"level2_unsupported_v5_3_1_2_2", 5, "10 [ {'MQTT'} 02 02 003c {'c'} ]", BADVER,
     check_level_seen_2, 0},
    {"level0_unsupported", 4, "10 [ {'MQTT'} 00 02 003c {'c'} ]", BADVER, check_level_seen_0, 0},
    /* the layout after the level belongs to the level: an unknown one is not parsed */
    {"level6_unparseable_body", 4, "10 [ {'MQTT'} 06 ff ]", BADVER, check_level_seen_6, 0},
    /* protocol name and level disagree, or the name is wrong [MQTT-3.1.2-1] */
    {"name_mqtt_level3", 4, "10 [ {'MQTT'} 03 02 003c {'c'} ]", BADVER, check_level_seen_3, 0},
    {"name_mqisdp_level4", 4, "10 [ {'MQIsdp'} 04 02 003c {'c'} ]", BADVER, check_level_seen_4,
     0},
    {"name_mqisdp_level5", 5, "10 [ {'MQIsdp'} 05 02 003c [] {'c'} ]", BADVER,
     check_level_seen_5, 0},
    {"name_mqtx_311_3_1_2_1", 4, "10 [ {'MQTX'} 04 02 003c {'c'} ]", BADVER, check_level_seen_4,
     0},
    {"name_lowercase_v5_3_1_2_1", 5, "10 [ {'mqtt'} 05 02 003c [] {'c'} ]", BADVER,
     check_level_seen_5, 0},
    {"name_empty", 4, "10 [ {} 04 02 003c {'c'} ]", BADVER, check_level_seen_4, 0},

    /* client id: empty is the broker's policy, not the decoder's (header: "may be empty") */
    {"v311_empty_client_id_clean", 4, "10 [ {'MQTT'} 04 02 003c {} ]", 0, 0,
     check_empty_client_id, 0},
    {"v311_empty_client_id_not_clean", 4, "10 [ {'MQTT'} 04 00 003c {} ]", 0, 0,
     check_empty_client_id, 0},
    {"v5_empty_client_id", 5, "10 [ {'MQTT'} 05 02 003c [] {} ]", 0, 0, check_empty_client_id,
     0},
    {"v31_empty_client_id", 3, "10 [ {'MQIsdp'} 03 02 003c {} ]", 0, 0, check_empty_client_id,
     0},
    /* strings must be valid UTF-8: client id [MQTT-3.1.3-4] (both), U+0000 3.1.1
     * [MQTT-1.5.3-2] / 5.0 [MQTT-1.5.4-2], user name 3.1.1 [MQTT-3.1.3-11] / 5.0
     * [MQTT-3.1.3-12], will topic 3.1.1 [MQTT-3.1.3-10] / 5.0 [MQTT-3.1.3-11] */
    {"v311_client_id_bad_utf8_311_3_1_3_4", 4, "10 [ {'MQTT'} 04 02 003c {c3 28} ]", MAL, NULL,
     0},
    {"v5_client_id_bad_utf8_v5_3_1_3_4", 5, "10 [ {'MQTT'} 05 02 003c [] {'a' ff} ]", MAL, NULL,
     0},
    {"v311_client_id_nul_311_1_5_3_2", 4, "10 [ {'MQTT'} 04 02 003c {'a' 00 'b'} ]", MAL, NULL,
     0},
    {"v5_client_id_surrogate_v5_1_5_4_1", 5, "10 [ {'MQTT'} 05 02 003c [] {ed a0 80} ]", MAL,
     NULL, 0},
    {"v311_username_bad_utf8_311_3_1_3_11", 4, "10 [ {'MQTT'} 04 82 003c {'c'} {c0 80} ]", MAL,
     NULL, 0},
    {"v5_username_bad_utf8_v5_3_1_3_12", 5, "10 [ {'MQTT'} 05 82 003c [] {'c'} {f8 88 80 80 80} ]",
     MAL, NULL, 0},
    {"v311_will_topic_bad_utf8_311_3_1_3_10", 4,
     "10 [ {'MQTT'} 04 06 003c {'c'} {e0 80 80} {'x'} ]", MAL, NULL, 0},
    {"v5_will_topic_bad_utf8_v5_3_1_3_11", 5,
     "10 [ {'MQTT'} 05 06 003c [] {'c'} [] {'a' 00} {'x'} ]", MAL, NULL, 0},
    /* the Will Topic is a topic name: no wildcards [MQTT-3.3.2-2], not empty [MQTT-4.7.3-1]
     * (3.1.1 ids); the decoder answers 0x90 Topic Name invalid */
    {"v311_will_topic_wildcard", 4, "10 [ {'MQTT'} 04 06 003c {'c'} {'a/+'} {'x'} ]", -EPROTO,
     TERN_RC_TOPIC_NAME_INVALID, NULL, 0},
    {"v5_will_topic_hash", 5, "10 [ {'MQTT'} 05 06 003c [] {'c'} [] {'#'} {'x'} ]", -EPROTO,
     TERN_RC_TOPIC_NAME_INVALID, NULL, 0},
    {"v311_will_topic_empty", 4, "10 [ {'MQTT'} 04 06 003c {'c'} {} {'x'} ]", -EPROTO,
     TERN_RC_TOPIC_NAME_INVALID, NULL, 0},

    /* lengths that do not fit */
    {"v311_no_client_id", 4, "10 [ {'MQTT'} 04 02 003c ]", MAL, NULL, 0},
    {"v311_client_id_overruns", 4, "10 [ {'MQTT'} 04 02 003c 0010 'abc' ]", MAL, NULL, 0},
    {"v311_missing_password", 4, "10 [ {'MQTT'} 04 c2 003c {'c'} {'u'} ]", MAL, NULL, 0},
    {"v311_missing_will_payload", 4, "10 [ {'MQTT'} 04 06 003c {'c'} {'w'} ]", MAL, NULL, 0},
    {"v311_no_keep_alive", 4, "10 [ {'MQTT'} 04 02 00 ]", MAL, NULL, 0},
    {"v5_no_property_length", 5, "10 [ {'MQTT'} 05 02 003c ]", MAL, NULL, 0},
    {"v5_property_length_overruns", 5, "10 [ {'MQTT'} 05 02 003c 20 11 0000000a {'c'} ]", MAL,
     NULL, 0},
    {"v5_will_property_length_overruns", 5,
     "10 [ {'MQTT'} 05 06 003c [] {'c'} 30 {'w'} {'x'} ]", MAL, NULL, 0},
    /* trailing bytes after the last field */
    {"v311_trailing_byte", 4, "10 [ {'MQTT'} 04 02 003c {'cid'} 00 ]", MAL, NULL, 0},
    {"v31_trailing_bytes", 3, "10 [ {'MQIsdp'} 03 02 003c {'cid'} 'xy' ]", MAL, NULL, 0},
    {"v5_trailing_byte", 5, "10 [ {'MQTT'} 05 c6 003c [] {'c'} [] {'w'} {'x'} {'u'} {'p'} 00 ]",
     MAL, NULL, 0},
    /* fixed header flags must be 0 [MQTT-2.2.2-2] (3.1.1) */
    {"v311_header_flags_311_2_2_2_2", 4, "11 [ {'MQTT'} 04 02 003c {'c'} ]", MAL, NULL, 0},
    {"v5_header_flags", 5, "18 [ {'MQTT'} 05 02 003c [] {'c'} ]", MAL, NULL, 0},

    /* 5.0 properties */
    {"v5_all_connect_props", 5,
     "10 [ {'MQTT'} 05 02 003c [ 11 00000e10 15 {'SCRAM-SHA-1'} 16 {01 02 03} 17 00 19 01"
     " 21 0014 22 000a 27 00100000 26 {'k1'}{'v1'} 26 {'k2'}{'v2'} 26 {'k1'}{'v3'} ] {'c'} ]",
     0, 0, check_v5_all_connect_props, 0},
    {"v5_all_will_props", 5,
     "10 [ {'MQTT'} 05 2e 003c [ 11 0000000a ] {'c'} [ 01 01 02 0000003c 03 {'text/plain'}"
     " 08 {'reply/to'} 09 {c0 ff ee} 18 0000000a 26 {'wk'}{'wv'} ] {'will/t'} {'gone'} ]",
     0, 0, check_v5_all_will_props, 0},
    {"v5_auth_method_only", 5, "10 [ {'MQTT'} 05 02 003c [ 15 {'PLAIN'} ] {'c'} ]", 0, 0,
     check_v5_auth_method_only, 0},
    /* Authentication Data without Authentication Method is a Protocol Error (3.1.2.11.10) */
    {"v5_auth_data_without_method", 5, "10 [ {'MQTT'} 05 02 003c [ 16 {01} ] {'c'} ]", PROTO,
     NULL, 0},
    /* properties not allowed where they appear: malformed (header) */
    {"v5_topic_alias_in_will_props", 5,
     "10 [ {'MQTT'} 05 06 003c [] {'c'} [ 23 0001 ] {'w'} {'x'} ]", MAL, NULL, 0},
    {"v5_session_expiry_in_will_props", 5,
     "10 [ {'MQTT'} 05 06 003c [] {'c'} [ 11 00000001 ] {'w'} {'x'} ]", MAL, NULL, 0},
    {"v5_will_delay_in_connect_props", 5, "10 [ {'MQTT'} 05 02 003c [ 18 00000001 ] {'c'} ]",
     MAL, NULL, 0},
    {"v5_topic_alias_in_connect_props", 5, "10 [ {'MQTT'} 05 02 003c [ 23 0001 ] {'c'} ]", MAL,
     NULL, 0},
    {"v5_unknown_property_id", 5, "10 [ {'MQTT'} 05 02 003c [ 7f 00 ] {'c'} ]", MAL, NULL, 0},
    /* duplicates and values out of range: protocol errors (3.1.2.11) */
    {"v5_session_expiry_twice", 5,
     "10 [ {'MQTT'} 05 02 003c [ 11 00000001 11 00000002 ] {'c'} ]", PROTO, NULL, 0},
    {"v5_auth_method_twice", 5, "10 [ {'MQTT'} 05 02 003c [ 15 {'a'} 15 {'a'} ] {'c'} ]", PROTO,
     NULL, 0},
    {"v5_receive_maximum_0", 5, "10 [ {'MQTT'} 05 02 003c [ 21 0000 ] {'c'} ]", PROTO, NULL, 0},
    {"v5_maximum_packet_size_0", 5, "10 [ {'MQTT'} 05 02 003c [ 27 00000000 ] {'c'} ]", PROTO,
     NULL, 0},
    {"v5_request_problem_information_2", 5, "10 [ {'MQTT'} 05 02 003c [ 17 02 ] {'c'} ]", PROTO,
     NULL, 0},
    {"v5_request_response_information_2", 5, "10 [ {'MQTT'} 05 02 003c [ 19 02 ] {'c'} ]",
     PROTO, NULL, 0},
    {"v5_will_payload_format_2", 5,
     "10 [ {'MQTT'} 05 06 003c [] {'c'} [ 01 02 ] {'w'} {'x'} ]", PROTO, NULL, 0},
    {"v5_will_delay_twice", 5,
     "10 [ {'MQTT'} 05 06 003c [] {'c'} [ 18 00000001 18 00000001 ] {'w'} {'x'} ]", PROTO,
     NULL, 0},
    /* strings inside properties must be UTF-8 too */
    {"v5_will_content_type_bad_utf8", 5,
     "10 [ {'MQTT'} 05 06 003c [] {'c'} [ 03 {c3} ] {'w'} {'x'} ]", MAL, NULL, 0},
    {"v5_user_property_key_bad_utf8", 5, "10 [ {'MQTT'} 05 02 003c [ 26 {ff}{'v'} ] {'c'} ]",
     MAL, NULL, 0},
    {"v5_property_value_truncated", 5, "10 [ {'MQTT'} 05 02 003c [ 11 0000 ] {'c'} ]", MAL, NULL,
     0},
};
/* clang-format on */

TN_TEST(connect_rows_all_levels)
{
    PT_RUN(connect_rows);
}

/* ---- every combination of the connect flags -------------------------------------------- */

/* Which flag bytes a decoder must refuse, per level (3.1.2.3 - 3.1.2.9 of both specs). */
static bool connect_flags_valid(uint8_t v, unsigned fl)
{
    bool user = fl & 0x80, pass = fl & 0x40, wret = fl & 0x20, will = fl & 0x04;
    unsigned wqos = (fl >> 3) & 3;
    if (fl & 0x01)
        return false; /* [MQTT-3.1.2-3] */
    if (!will && (wqos || wret))
        return false; /* 3.1.1 [MQTT-3.1.2-13] [MQTT-3.1.2-15] */
    if (will && wqos == 3)
        return false; /* 3.1.1 [MQTT-3.1.2-14] */
    if (v < 5 && pass && !user)
        return false; /* 3.1.1 [MQTT-3.1.2-22] */
    return true;
}

static void connect_flags_one(uint8_t v, unsigned fl)
{
    bool user = fl & 0x80, pass = fl & 0x40, will = fl & 0x04;
    char bytes[512], name[64];
    snprintf(bytes, sizeof(bytes), "10 [ {'%s'} %02x %02x 0102 %s {'cid-%02x'} %s %s %s %s ]",
             v == 3 ? "MQIsdp" : "MQTT", v, fl, v == 5 ? "[ 11 0000000a ]" : "", fl,
             will && v == 5 ? "[ 18 00000005 ]" : "", will ? "{'will/t'} {'bye'}" : "",
             user ? "{'user'}" : "", pass ? "{ 00 ff 'pw' }" : "");
    snprintf(name, sizeof(name), "connect_flags_%02x", fl);
    bool ok = connect_flags_valid(v, fl);
    struct pt_row row = {
        name, v, bytes, ok ? 0 : -TERN_EMALFORMED, ok ? 0 : TERN_RC_MALFORMED_PACKET, NULL, 0};
    pt_run_row(&row);
    if (!ok)
        return;

    struct tern_packet pkt;
    uint8_t rc, *f;
    size_t n;
    int before = tn_cur_failed_;
    tn_cur_failed_ = 0;
    int r = pt_decode_notation(bytes, v, &pkt, &rc, &f, &n);
    TN_EXPECT_EQ_INT(r, 0);
    const struct tern_connect *c = &pkt.u.connect;
    if (r == 0) {
        char cid[16];
        snprintf(cid, sizeof(cid), "cid-%02x", fl);
        TN_EXPECT_EQ_INT(c->version, v);
        TN_EXPECT_EQ_INT(c->clean, (fl & 0x02) != 0);
        TN_EXPECT_EQ_INT(c->will, will);
        TN_EXPECT_EQ_INT(c->will_qos, (fl >> 3) & 3);
        TN_EXPECT_EQ_INT(c->will_retain, (fl & 0x20) != 0);
        TN_EXPECT_EQ_INT(c->has_username, user);
        TN_EXPECT_EQ_INT(c->has_password, pass);
        TN_EXPECT_EQ_INT(c->keep_alive, 0x0102);
        TN_EXPECT_SLICE_STR(c->client_id, cid);
        if (will) {
            TN_EXPECT_SLICE_STR(c->will_topic, "will/t");
            TN_EXPECT_SLICE_STR(c->will_payload, "bye");
        }
        if (user)
            TN_EXPECT_SLICE_STR(c->username, "user");
        if (pass)
            TN_EXPECT_MEM(c->password.p, c->password.n, "\x00\xffpw", 4);
        if (v == 5) {
            TN_EXPECT_EQ_U32(c->props.session_expiry_interval, 10);
            TN_EXPECT_EQ_U64(c->will_props.present,
                             will ? 1ull << TERN_PROP_WILL_DELAY_INTERVAL : 0);
            if (will)
                TN_EXPECT_EQ_U32(c->will_props.will_delay_interval, 5);
        } else {
            TN_EXPECT_EQ_U64(c->props.present, 0);
        }
    }
    if (tn_cur_failed_)
        fprintf(stderr, "    ^ %s (version %u)\n", name, v);
    tn_cur_failed_ |= before;
    free(f);
}

/* All 256 flag bytes at every level: valid ones decode with exactly the fields announced and
 * round-trip; invalid ones are malformed [MQTT-3.1.2-3] [MQTT-3.1.2-13] [MQTT-3.1.2-14]
 * [MQTT-3.1.2-15] [MQTT-3.1.2-22] (3.1.1 ids). */
TN_TEST(connect_all_flag_combinations_311_3_1_2_3_to_22)
{
    static const uint8_t levels[] = {3, 4, 5};
    for (unsigned i = 0; i < 3; i++)
        for (unsigned fl = 0; fl < 256; fl++)
            connect_flags_one(levels[i], fl);
}

/* ---- truncation ------------------------------------------------------------------------- */

/* Every field of a CONNECT is announced by the flags before it comes, so any prefix of a full
 * CONNECT given as a whole frame is malformed, never a crash or a success. */
TN_TEST(connect_every_truncation_is_malformed)
{
    static const struct {
        uint8_t v;
        const char *bytes;
    } full[] = {
        {3, "10 [ {'MQIsdp'} 03 ee 003c {'client'} {'will/t'} {'payload'} {'user'} {'pass'} ]"},
        {4, "10 [ {'MQTT'} 04 ee 003c {'client'} {'will/t'} {'payload'} {'user'} {'pass'} ]"},
        {5, "10 [ {'MQTT'} 05 ee 003c [ 11 0000000a 15 {'m'} 16 {'d'} 26 {'k'}{'v'} ] {'client'}"
            " [ 01 01 18 00000003 26 {'a'}{'b'} ] {'will/t'} {'payload'} {'user'} {'pass'} ]"},
    };
    for (unsigned i = 0; i < sizeof(full) / sizeof(full[0]); i++) {
        uint8_t *f;
        size_t n = pt_bytes(full[i].bytes, &f);
        struct pt_row row = {"connect_full", full[i].v, full[i].bytes, 0, 0, NULL, 0};
        pt_run_row(&row);
        pt_check_truncations(f, n, full[i].v, true);
        free(f);
    }
}

/* The level comes from the packet, not from the connection's version argument. */
TN_TEST(connect_decoder_ignores_version_argument)
{
    static const char *v5 = "10 [ {'MQTT'} 05 02 003c [ 11 0000000a ] {'c'} ]";
    static const uint8_t args[] = {0, 3, 4, 5};
    for (unsigned i = 0; i < sizeof(args); i++) {
        struct tern_packet pkt;
        uint8_t rc, *f;
        size_t n;
        TN_EXPECT_EQ_INT(pt_decode_notation(v5, args[i], &pkt, &rc, &f, &n), 0);
        TN_EXPECT_EQ_INT(pkt.u.connect.version, 5);
        TN_EXPECT_EQ_U32(pkt.u.connect.props.session_expiry_interval, 10);
        free(f);
    }
}

/* ---- encoding ------------------------------------------------------------------------------ */

static struct tern_packet connect_pkt(uint8_t v)
{
    struct tern_packet p;
    memset(&p, 0, sizeof(p));
    p.type = TERN_CONNECT;
    p.u.connect.version = v;
    p.u.connect.protocol_name = v == 3 ? TERN_SLICE_STR("MQIsdp") : TERN_SLICE_STR("MQTT");
    p.u.connect.clean = true;
    p.u.connect.keep_alive = 30;
    p.u.connect.client_id = TERN_SLICE_STR("id");
    return p;
}

TN_TEST(connect_encode_by_hand_each_level)
{
    struct tern_packet p = connect_pkt(3);
    pt_expect_encoding(&p, 3, "10 [ {'MQIsdp'} 03 02 001e {'id'} ]");

    p = connect_pkt(4);
    p.u.connect.will = true;
    p.u.connect.will_qos = 2;
    p.u.connect.will_retain = true;
    p.u.connect.will_topic = TERN_SLICE_STR("w/t");
    p.u.connect.will_payload = TERN_SLICE_STR("bye");
    p.u.connect.has_username = true;
    p.u.connect.username = TERN_SLICE_STR("u");
    p.u.connect.has_password = true;
    p.u.connect.password = TERN_SLICE_STR("p");
    pt_expect_encoding(&p, 4, "10 [ {'MQTT'} 04 f6 001e {'id'} {'w/t'} {'bye'} {'u'} {'p'} ]");

    /* 3.x has no properties: set ones are left out */
    tern_props_set(&p.u.connect.props, TERN_PROP_SESSION_EXPIRY_INTERVAL);
    p.u.connect.props.session_expiry_interval = 5;
    pt_expect_encoding(&p, 4, "10 [ {'MQTT'} 04 f6 001e {'id'} {'w/t'} {'bye'} {'u'} {'p'} ]");

    static const struct tern_strpair users[] = {
        {TERN_SLICE_STR("a"), TERN_SLICE_STR("1")},
        {TERN_SLICE_STR("b"), TERN_SLICE_STR("2")},
    };
    p = connect_pkt(5);
    p.u.connect.clean = false;
    tern_props_set(&p.u.connect.props, TERN_PROP_SESSION_EXPIRY_INTERVAL);
    p.u.connect.props.session_expiry_interval = 0xFFFFFFFF;
    tern_props_set(&p.u.connect.props, TERN_PROP_RECEIVE_MAXIMUM);
    p.u.connect.props.receive_maximum = 100;
    p.u.connect.props.user = users;
    p.u.connect.props.user_n = 2;
    p.u.connect.will = true;
    p.u.connect.will_qos = 1;
    p.u.connect.will_topic = TERN_SLICE_STR("w");
    p.u.connect.will_payload = TERN_SLICE_STR("");
    tern_props_set(&p.u.connect.will_props, TERN_PROP_WILL_DELAY_INTERVAL);
    p.u.connect.will_props.will_delay_interval = 7;
    p.u.connect.has_password = true; /* without a user name: fine in 5.0 */
    p.u.connect.password = TERN_SLICE_STR("pw");
    pt_expect_encoding(
        &p, 5,
        "10 [ {'MQTT'} 05 4c 001e [ 11 ffffffff 21 0064 26 {'a'}{'1'} 26 {'b'}{'2'} ]"
        " {'id'} [ 18 00000007 ] {'w'} {} {'pw'} ]");
}

static void expect_einval(const struct tern_packet *p, uint8_t v)
{
    uint8_t buf[64];
    TN_EXPECT_EQ_INT(tern_packet_size(p, v), -EINVAL);
    TN_EXPECT_EQ_INT(tern_packet_encode(p, v, buf, sizeof(buf)), -EINVAL);
}

TN_TEST(connect_encode_errors)
{
    static uint8_t big[65536];
    tern_slice huge = {big, sizeof(big)};
    memset(big, 'a', sizeof(big));

    struct tern_packet p = connect_pkt(4);
    p.u.connect.will = true;
    p.u.connect.will_qos = 3; /* [MQTT-3.1.2-14] */
    p.u.connect.will_topic = TERN_SLICE_STR("w");
    expect_einval(&p, 4);

    p = connect_pkt(4);
    p.u.connect.client_id = huge;
    expect_einval(&p, 4);

    p = connect_pkt(5);
    p.u.connect.has_username = true;
    p.u.connect.username = huge;
    expect_einval(&p, 5);

    p = connect_pkt(4);
    p.u.connect.has_username = true;
    p.u.connect.username = TERN_SLICE_STR("u");
    p.u.connect.has_password = true;
    p.u.connect.password = huge;
    expect_einval(&p, 4);

    p = connect_pkt(3);
    p.u.connect.will = true;
    p.u.connect.will_topic = TERN_SLICE_STR("w");
    p.u.connect.will_payload = huge;
    expect_einval(&p, 3);

    p = connect_pkt(5);
    p.u.connect.will = true;
    p.u.connect.will_topic = huge;
    expect_einval(&p, 5);

    /* a user property value over 65535 bytes */
    struct tern_strpair up = {TERN_SLICE_STR("k"), huge};
    p = connect_pkt(5);
    p.u.connect.props.user = &up;
    p.u.connect.props.user_n = 1;
    expect_einval(&p, 5);

    /* a property not allowed in CONNECT / in a Will */
    p = connect_pkt(5);
    tern_props_set(&p.u.connect.props, TERN_PROP_TOPIC_ALIAS);
    p.u.connect.props.topic_alias = 1;
    expect_einval(&p, 5);
    p = connect_pkt(5);
    p.u.connect.will = true;
    p.u.connect.will_topic = TERN_SLICE_STR("w");
    tern_props_set(&p.u.connect.will_props, TERN_PROP_SESSION_EXPIRY_INTERVAL);
    expect_einval(&p, 5);

    /* the largest strings that fit are fine */
    p = connect_pkt(4);
    p.u.connect.client_id = (tern_slice){big, 65535};
    TN_EXPECT_EQ_INT(tern_packet_size(&p, 4), 1 + 3 + 10 + 2 + 65535);
}

TN_TEST_MAIN()
