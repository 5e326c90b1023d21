/* SPDX-License-Identifier: MIT */
/*
 * src/codec/control_test.c - table-driven tests of CONNACK, PINGREQ, PINGRESP, DISCONNECT and
 * AUTH decoding and encoding at levels 3, 4 and 5, and of the reserved packet types (0 always,
 * 15 before 5.0).
 *
 * Owns: nothing beyond its tables. Thread: single-threaded test binary.
 * Spec: 3.1.1 sections 3.2, 3.12-3.14; 5.0 sections 3.2, 3.12-3.15. Rule ids say which spec:
 * _311_ or _v5_. Rows run through packet_test_util.h (framing, byte-at-a-time, round trip).
 */
#include "packet_test_util.h"

#define MAL -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET
#define PROTO -EPROTO, TERN_RC_PROTOCOL_ERROR

/* ---- CONNACK ------------------------------------------------------------------------------- */

#define CONNACK_CHECK(name, sp, code)                                                              \
    static void name(const struct tern_packet *p)                                                  \
    {                                                                                              \
        TN_EXPECT_EQ_INT(p->u.connack.session_present, (sp));                                      \
        TN_EXPECT_EQ_HEX(p->u.connack.rc, (code));                                                 \
        TN_EXPECT_EQ_U64(p->u.connack.props.present, 0);                                           \
    }
CONNACK_CHECK(check_ca_0, 0, 0x00)
CONNACK_CHECK(check_ca_1, 0, 0x01)
CONNACK_CHECK(check_ca_2, 0, 0x02)
CONNACK_CHECK(check_ca_3, 0, 0x03)
CONNACK_CHECK(check_ca_4, 0, 0x04)
CONNACK_CHECK(check_ca_5, 0, 0x05)
CONNACK_CHECK(check_ca_sp, 1, 0x00)
CONNACK_CHECK(check_ca_80, 0, 0x80)
CONNACK_CHECK(check_ca_84, 0, 0x84)
CONNACK_CHECK(check_ca_9f, 0, 0x9f)

/* Every property a CONNACK may carry (5.0 3.2.2.3). */
static void check_connack_all_props(const struct tern_packet *p)
{
    const struct tern_props *pr = &p->u.connack.props;
    uint64_t want = 0;
    static const uint8_t ids[] = {0x11, 0x12, 0x13, 0x15, 0x16, 0x1a, 0x1c, 0x1f, 0x21,
                                  0x22, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a};
    for (unsigned i = 0; i < sizeof(ids); i++)
        want |= 1ull << ids[i];
    TN_EXPECT_EQ_U64(pr->present, want);
    TN_EXPECT_EQ_U32(pr->session_expiry_interval, 60);
    TN_EXPECT_SLICE_STR(pr->assigned_client_identifier, "auto-1");
    TN_EXPECT_EQ_INT(pr->server_keep_alive, 30);
    TN_EXPECT_SLICE_STR(pr->authentication_method, "SCRAM");
    TN_EXPECT_MEM(pr->authentication_data.p, pr->authentication_data.n, "\x01\x02", 2);
    TN_EXPECT_SLICE_STR(pr->response_information, "resp/info");
    TN_EXPECT_SLICE_STR(pr->server_reference, "other:1883");
    TN_EXPECT_SLICE_STR(pr->reason_string, "welcome");
    TN_EXPECT_EQ_INT(pr->receive_maximum, 16);
    TN_EXPECT_EQ_INT(pr->topic_alias_maximum, 5);
    TN_EXPECT_EQ_INT(pr->maximum_qos, 1);
    TN_EXPECT_EQ_INT(pr->retain_available, 0);
    TN_EXPECT_EQ_U32(pr->maximum_packet_size, 65536);
    TN_EXPECT_EQ_INT(pr->wildcard_subscription_available, 1);
    TN_EXPECT_EQ_INT(pr->subscription_identifier_available, 0);
    TN_EXPECT_EQ_INT(pr->shared_subscription_available, 1);
    static const char *const kv[] = {"a", "b", "c", "d"};
    pt_expect_users(pr, kv, 2);
    TN_EXPECT(p->u.connack.session_present);
}

/* clang-format off */
static const struct pt_row connack_rows[] = {
    /* 3.1.1 return codes 0..5 (3.2.2.3) */
    {"v311_accepted", 4, "20 02 00 00", 0, 0, check_ca_0, 0},
    {"v311_bad_protocol_version", 4, "20 02 00 01", 0, 0, check_ca_1, 0},
    {"v311_identifier_rejected", 4, "20 02 00 02", 0, 0, check_ca_2, 0},
    {"v311_server_unavailable", 4, "20 02 00 03", 0, 0, check_ca_3, 0},
    {"v311_bad_username_password", 4, "20 02 00 04", 0, 0, check_ca_4, 0},
    {"v311_not_authorized", 4, "20 02 00 05", 0, 0, check_ca_5, 0},
    {"v311_session_present", 4, "20 02 01 00", 0, 0, check_ca_sp, 0},
    {"v31_accepted", 3, "20 02 00 00", 0, 0, check_ca_0, 0},
    {"v31_not_authorized", 3, "20 02 00 05", 0, 0, check_ca_5, 0},
    /* 6-255 are reserved (3.2.2.3) */
    {"v311_code_6", 4, "20 02 00 06", PROTO, NULL, 0},
    {"v311_code_80", 4, "20 02 00 80", PROTO, NULL, 0},
    /* a refused connection has no session: 3.1.1 [MQTT-3.2.2-4], as 5.0 [MQTT-3.2.2-6] */
    {"v311_session_present_refused_311_3_2_2_4", 4, "20 02 01 05", PROTO, NULL, 0},
    /* acknowledge flags bits 7-1 are reserved (3.2.2.1; [MQTT-3.2.2-1] in 5.0) */
    {"v311_reserved_ack_flags", 4, "20 02 02 00", MAL, NULL, 0},
    {"v311_reserved_ack_flag_7", 4, "20 02 81 00", MAL, NULL, 0},
    {"v311_remaining_3", 4, "20 03 00 00 00", MAL, NULL, 0},
    {"v311_remaining_1", 4, "20 01 00", MAL, NULL, 0},
    {"v311_header_flags_311_2_2_2_2", 4, "21 02 00 00", MAL, NULL, 0},

    /* 5.0 */
    {"v5_success", 5, "20 03 00 00 00", 0, 0, check_ca_0, 0},
    {"v5_session_present", 5, "20 03 01 00 00", 0, 0, check_ca_sp, 0},
    {"v5_unspecified_error", 5, "20 03 00 80 00", 0, 0, check_ca_80, 0},
    {"v5_unsupported_version", 5, "20 03 00 84 00", 0, 0, check_ca_84, 0},
    {"v5_connection_rate_exceeded", 5, "20 03 00 9f 00", 0, 0, check_ca_9f, 0},
    {"v5_all_connack_props", 5,
     "20 [ 01 00 [ 11 0000003c 12 {'auto-1'} 13 001e 15 {'SCRAM'} 16 {01 02} 1a {'resp/info'}"
     " 1c {'other:1883'} 1f {'welcome'} 21 0010 22 0005 24 01 25 00 27 00010000 28 01 29 00"
     " 2a 01 26 {'a'}{'b'} 26 {'c'}{'d'} ] ]",
     0, 0, check_connack_all_props, 0},
    {"v5_reserved_ack_flags_v5_3_2_2_1", 5, "20 03 02 00 00", MAL, NULL, 0},
    {"v5_session_present_refused_v5_3_2_2_6", 5, "20 03 01 87 00", PROTO, NULL, 0},
    /* codes not in the CONNACK table (3.2.2.2) */
    {"v5_code_01", 5, "20 03 00 01 00", PROTO, NULL, 0},
    {"v5_code_04", 5, "20 03 00 04 00", PROTO, NULL, 0},
    {"v5_code_8b", 5, "20 03 00 8b 00", PROTO, NULL, 0},
    {"v5_code_8f", 5, "20 03 00 8f 00", PROTO, NULL, 0},
    {"v5_no_property_length", 5, "20 02 00 00", MAL, NULL, 0},
    {"v5_property_length_overruns", 5, "20 04 00 00 05 24", MAL, NULL, 0},
    {"v5_trailing_byte", 5, "20 04 00 00 00 00", MAL, NULL, 0},
    /* values and repeats the spec forbids (3.2.2.3) */
    {"v5_maximum_qos_2", 5, "20 [ 00 00 [ 24 02 ] ]", PROTO, NULL, 0},
    {"v5_retain_available_2", 5, "20 [ 00 00 [ 25 02 ] ]", PROTO, NULL, 0},
    {"v5_wildcard_available_2", 5, "20 [ 00 00 [ 28 02 ] ]", PROTO, NULL, 0},
    {"v5_receive_maximum_0", 5, "20 [ 00 00 [ 21 0000 ] ]", PROTO, NULL, 0},
    {"v5_maximum_packet_size_0", 5, "20 [ 00 00 [ 27 00000000 ] ]", PROTO, NULL, 0},
    {"v5_reason_string_twice", 5, "20 [ 00 00 [ 1f {'a'} 1f {'b'} ] ]", PROTO, NULL, 0},
    {"v5_auth_data_without_method", 5, "20 [ 00 00 [ 16 {01} ] ]", PROTO, NULL, 0},
    /* properties of other packets */
    {"v5_will_delay_not_allowed", 5, "20 [ 00 00 [ 18 00000001 ] ]", MAL, NULL, 0},
    {"v5_request_problem_info_not_allowed", 5, "20 [ 00 00 [ 17 01 ] ]", MAL, NULL, 0},
    {"v5_topic_alias_not_allowed", 5, "20 [ 00 00 [ 23 0001 ] ]", MAL, NULL, 0},
};
/* clang-format on */

TN_TEST(connack_rows_all_levels)
{
    PT_RUN(connack_rows);
}

/* ---- PINGREQ, PINGRESP --------------------------------------------------------------------- */

/* Remaining Length 0 and flags 0 (3.12, 3.13; [MQTT-2.2.2-2] in 3.1.1). */
TN_TEST(ping_rows_all_levels)
{
    static const struct pt_row rows[] = {
        {"pingreq", 0, "c0 00", 0, 0, NULL, 0},
        {"pingresp", 0, "d0 00", 0, 0, NULL, 0},
        {"pingreq_remaining_1", 0, "c0 01 00", MAL, NULL, 0},
        {"pingresp_remaining_2", 0, "d0 02 00 00", MAL, NULL, 0},
        {"pingreq_flags_1_311_2_2_2_2", 0, "c1 00", MAL, NULL, 0},
        {"pingreq_flags_8", 0, "c8 00", MAL, NULL, 0},
        {"pingresp_flags_2_311_2_2_2_2", 0, "d2 00", MAL, NULL, 0},
    };
    for (uint8_t v = TERN_V31; v <= TERN_V5; v++)
        for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            struct pt_row r = rows[i];
            r.version = v;
            pt_run_row(&r);
        }
}

/* ---- DISCONNECT ---------------------------------------------------------------------------- */

#define DISC_CHECK(name, code)                                                                     \
    static void name(const struct tern_packet *p)                                                  \
    {                                                                                              \
        TN_EXPECT_EQ_HEX(p->u.disconnect.rc, (code));                                              \
    }
DISC_CHECK(check_dc_0, 0x00)
DISC_CHECK(check_dc_4, 0x04)
DISC_CHECK(check_dc_8e, 0x8e)
DISC_CHECK(check_dc_18, 0x18)
DISC_CHECK(check_dc_19, 0x19)

static void check_dc_session_expiry(const struct tern_packet *p)
{
    TN_EXPECT_EQ_HEX(p->u.disconnect.rc, 0);
    TN_EXPECT_EQ_U64(p->u.disconnect.props.present, 1ull << TERN_PROP_SESSION_EXPIRY_INTERVAL);
    TN_EXPECT_EQ_U32(p->u.disconnect.props.session_expiry_interval, 60);
}

static void check_dc_reason_user(const struct tern_packet *p)
{
    static const char *const kv[] = {"k", "v"};
    TN_EXPECT_EQ_HEX(p->u.disconnect.rc, 0x80);
    TN_EXPECT_SLICE_STR(p->u.disconnect.props.reason_string, "bye");
    pt_expect_users(&p->u.disconnect.props, kv, 1);
}

static void check_dc_server_reference(const struct tern_packet *p)
{
    TN_EXPECT_EQ_HEX(p->u.disconnect.rc, 0x9c);
    TN_EXPECT_SLICE_STR(p->u.disconnect.props.server_reference, "other.host:1883");
}

/* clang-format off */
static const struct pt_row disconnect_rows[] = {
    /* 3.x: no variable header, flags 0 [MQTT-3.14.1-1] (3.1.1) */
    {"v311_plain", 4, "e0 00", 0, 0, check_dc_0, 0},
    {"v31_plain", 3, "e0 00", 0, 0, check_dc_0, 0},
    {"v311_remaining_1", 4, "e0 01 00", MAL, NULL, 0},
    {"v31_remaining_1", 3, "e0 01 04", MAL, NULL, 0},
    {"v311_flags_311_3_14_1_1", 4, "e1 00", MAL, NULL, 0},
    {"v311_flags_8_311_3_14_1_1", 4, "e8 00", MAL, NULL, 0},

    /* 5.0: Remaining Length 0 means Normal disconnection (3.14.2.1) */
    {"v5_remaining_0", 5, "e0 00", 0, 0, check_dc_0, 0},
    {"v5_with_will", 5, "e0 01 04", 0, 0, check_dc_4, 0},
    {"v5_session_taken_over", 5, "e0 01 8e", 0, 0, check_dc_8e, 0},
    /* longer forms of the same packets: valid, not what the encoder writes */
    {"v5_success_written_out", 5, "e0 01 00", 0, 0, check_dc_0, PT_NONCANON},
    {"v5_empty_props_written_out", 5, "e0 02 8e 00", 0, 0, check_dc_8e, PT_NONCANON},
    {"v5_session_expiry", 5, "e0 [ 00 [ 11 0000003c ] ]", 0, 0, check_dc_session_expiry, 0},
    {"v5_reason_string_user", 5, "e0 [ 80 [ 1f {'bye'} 26 {'k'}{'v'} ] ]", 0, 0,
     check_dc_reason_user, 0},
    {"v5_server_reference", 5, "e0 [ 9c [ 1c {'other.host:1883'} ] ]", 0, 0,
     check_dc_server_reference, 0},
    /* reason codes outside the DISCONNECT table [MQTT-3.14.2-1] (5.0) */
    {"v5_code_01_v5_3_14_2_1", 5, "e0 01 01", PROTO, NULL, 0},
    {"v5_code_84", 5, "e0 01 84", PROTO, NULL, 0},
    {"v5_code_18", 5, "e0 02 18 00", PROTO, NULL, 0},
    {"v5_flags", 5, "e2 00", MAL, NULL, 0},
    {"v5_receive_maximum_not_allowed", 5, "e0 [ 00 [ 21 0001 ] ]", MAL, NULL, 0},
    {"v5_will_delay_not_allowed", 5, "e0 [ 00 [ 18 00000001 ] ]", MAL, NULL, 0},
    {"v5_session_expiry_twice", 5, "e0 [ 00 [ 11 00000001 11 00000001 ] ]", PROTO, NULL, 0},
    {"v5_property_length_overruns", 5, "e0 03 00 04 11", MAL, NULL, 0},
    {"v5_trailing_byte", 5, "e0 03 00 00 00", MAL, NULL, 0},
    {"v5_reason_string_bad_utf8", 5, "e0 [ 00 [ 1f {ed a0 80} ] ]", MAL, NULL, 0},
};
/* clang-format on */

TN_TEST(disconnect_rows_all_levels)
{
    PT_RUN(disconnect_rows);
}

/* ---- AUTH (5.0 only) ------------------------------------------------------------------------ */

static void check_auth_continue(const struct tern_packet *p)
{
    const struct tern_props *pr = &p->u.disconnect.props;
    TN_EXPECT_EQ_HEX(p->u.disconnect.rc, 0x18);
    TN_EXPECT_SLICE_STR(pr->authentication_method, "SCRAM-SHA-256");
    TN_EXPECT_MEM(pr->authentication_data.p, pr->authentication_data.n, "\x00\x01\xff", 3);
}

static void check_auth_reauth(const struct tern_packet *p)
{
    TN_EXPECT_EQ_HEX(p->u.disconnect.rc, 0x19);
    TN_EXPECT_SLICE_STR(p->u.disconnect.props.authentication_method, "SCRAM-SHA-256");
    TN_EXPECT(!tern_props_has(&p->u.disconnect.props, TERN_PROP_AUTHENTICATION_DATA));
}

static void check_auth_success_props(const struct tern_packet *p)
{
    static const char *const kv[] = {"k", "v"};
    TN_EXPECT_EQ_HEX(p->u.disconnect.rc, 0);
    TN_EXPECT_SLICE_STR(p->u.disconnect.props.reason_string, "ok");
    pt_expect_users(&p->u.disconnect.props, kv, 1);
}

/* clang-format off */
static const struct pt_row auth_rows[] = {
    {"v5_remaining_0_success", 5, "f0 00", 0, 0, check_dc_0, 0},
    {"v5_continue", 5, "f0 [ 18 [ 15 {'SCRAM-SHA-256'} 16 {00 01 ff} ] ]", 0, 0,
     check_auth_continue, 0},
    {"v5_reauthenticate", 5, "f0 [ 19 [ 15 {'SCRAM-SHA-256'} ] ]", 0, 0, check_auth_reauth, 0},
    {"v5_success_with_props", 5, "f0 [ 00 [ 15 {'m'} 1f {'ok'} 26 {'k'}{'v'} ] ]", 0, 0,
     check_auth_success_props, 0},
    {"v5_continue_short", 5, "f0 01 18", 0, 0, check_dc_18, 0},
    {"v5_reauth_empty_props", 5, "f0 02 19 00", 0, 0, check_dc_19, PT_NONCANON},
    /* only 0x00, 0x18, 0x19 [MQTT-3.15.2-1] (5.0) */
    {"v5_code_01_v5_3_15_2_1", 5, "f0 01 01", PROTO, NULL, 0},
    {"v5_code_80_v5_3_15_2_1", 5, "f0 01 80", PROTO, NULL, 0},
    {"v5_code_04", 5, "f0 02 04 00", PROTO, NULL, 0},
    /* flags 0 [MQTT-3.15.1-1] (5.0) */
    {"v5_flags_v5_3_15_1_1", 5, "f1 00", MAL, NULL, 0},
    {"v5_flags_2", 5, "f2 01 18", MAL, NULL, 0},
    {"v5_session_expiry_not_allowed", 5, "f0 [ 18 [ 11 00000001 ] ]", MAL, NULL, 0},
    {"v5_auth_data_without_method", 5, "f0 [ 18 [ 16 {01} ] ]", PROTO, NULL, 0},
    {"v5_auth_method_twice", 5, "f0 [ 18 [ 15 {'a'} 15 {'a'} ] ]", PROTO, NULL, 0},
    {"v5_property_length_overruns", 5, "f0 03 18 09 15", MAL, NULL, 0},
    /* type 15 is reserved before 5.0: malformed */
    {"v311_auth_reserved", 4, "f0 00", MAL, NULL, 0},
    {"v311_auth_with_body", 4, "f0 [ 18 [ 15 {'m'} ] ]", MAL, NULL, 0},
    {"v31_auth_reserved", 3, "f0 00", MAL, NULL, 0},
};
/* clang-format on */

TN_TEST(auth_rows)
{
    PT_RUN(auth_rows);
}

/* ---- reserved type 0 ----------------------------------------------------------------------- */

TN_TEST(reserved_type_0_malformed)
{
    static const struct pt_row rows[] = {
        {"type0", 0, "00 00", MAL, NULL, 0},
        {"type0_flags", 0, "0f 00", MAL, NULL, 0},
        {"type0_body", 0, "00 02 0001", MAL, NULL, 0},
    };
    for (uint8_t v = TERN_V31; v <= TERN_V5; v++)
        for (unsigned i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            struct pt_row r = rows[i];
            r.version = v;
            pt_run_row(&r);
        }
}

/* ---- encoding ------------------------------------------------------------------------------ */

static struct tern_packet pkt_of(uint8_t type)
{
    struct tern_packet p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.flags = 0x0F; /* ignored for everything but PUBLISH */
    return p;
}

TN_TEST(connack_encode)
{
    struct tern_packet p = pkt_of(TERN_CONNACK);
    p.u.connack.session_present = true;
    pt_expect_encoding(&p, TERN_V311, "20 02 01 00");
    pt_expect_encoding(&p, TERN_V5, "20 03 01 00 00");
    p.u.connack.session_present = false;
    p.u.connack.rc = TERN_CONNACK_NOT_AUTHORIZED;
    pt_expect_encoding(&p, TERN_V31, "20 02 00 05");

    static const struct tern_strpair users[] = {{TERN_SLICE_STR("x"), TERN_SLICE_STR("y")}};
    p = pkt_of(TERN_CONNACK);
    struct tern_props *pr = &p.u.connack.props;
    tern_props_set(pr, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
    pr->topic_alias_maximum = 10;
    tern_props_set(pr, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER);
    pr->assigned_client_identifier = TERN_SLICE_STR("gen");
    tern_props_set(pr, TERN_PROP_MAXIMUM_QOS);
    pr->maximum_qos = 0;
    pr->user = users;
    pr->user_n = 1;
    pt_expect_encoding(&p, TERN_V5, "20 [ 00 00 [ 12 {'gen'} 22 000a 24 00 26 {'x'}{'y'} ] ]");
    /* 3.x leaves properties out */
    pt_expect_encoding(&p, TERN_V311, "20 02 00 00");
}

TN_TEST(ping_encode_all_levels)
{
    for (uint8_t v = TERN_V31; v <= TERN_V5; v++) {
        struct tern_packet p = pkt_of(TERN_PINGREQ);
        pt_expect_encoding(&p, v, "c0 00");
        p = pkt_of(TERN_PINGRESP);
        pt_expect_encoding(&p, v, "d0 00");
    }
}

/* 5.0 DISCONNECT and AUTH: nothing after the fixed header for Success without properties,
 * the reason code alone without properties (3.14.2.1, 3.15.2.1). 3.x DISCONNECT is empty. */
TN_TEST(disconnect_auth_encode_shortest_form)
{
    struct tern_packet p = pkt_of(TERN_DISCONNECT);
    pt_expect_encoding(&p, TERN_V5, "e0 00");
    pt_expect_encoding(&p, TERN_V311, "e0 00");
    p.u.disconnect.rc = TERN_RC_DISCONNECT_WITH_WILL;
    pt_expect_encoding(&p, TERN_V5, "e0 01 04");
    pt_expect_encoding(&p, TERN_V311, "e0 00");
    pt_expect_encoding(&p, TERN_V31, "e0 00");
    p.u.disconnect.rc = 0;
    tern_props_set(&p.u.disconnect.props, TERN_PROP_SESSION_EXPIRY_INTERVAL);
    p.u.disconnect.props.session_expiry_interval = 0;
    pt_expect_encoding(&p, TERN_V5, "e0 [ 00 [ 11 00000000 ] ]");
    pt_expect_encoding(&p, TERN_V311, "e0 00");

    p = pkt_of(TERN_AUTH);
    pt_expect_encoding(&p, TERN_V5, "f0 00");
    p.u.disconnect.rc = TERN_RC_CONTINUE_AUTHENTICATION;
    tern_props_set(&p.u.disconnect.props, TERN_PROP_AUTHENTICATION_METHOD);
    p.u.disconnect.props.authentication_method = TERN_SLICE_STR("K");
    tern_props_set(&p.u.disconnect.props, TERN_PROP_AUTHENTICATION_DATA);
    p.u.disconnect.props.authentication_data = TERN_SLICE_STR("\x01");
    pt_expect_encoding(&p, TERN_V5, "f0 [ 18 [ 15 {'K'} 16 {01} ] ]");
}

TN_TEST(control_encode_errors)
{
    static uint8_t big[65536];
    uint8_t buf[64];
    memset(big, 's', sizeof(big));

#define EXPECT_EINVAL(pkt, v)                                                                      \
    do {                                                                                           \
        TN_EXPECT_EQ_INT(tern_packet_size(&(pkt), (v)), -EINVAL);                                  \
        TN_EXPECT_EQ_INT(tern_packet_encode(&(pkt), (v), buf, sizeof(buf)), -EINVAL);              \
    } while (0)

    /* AUTH does not exist before 5.0 */
    struct tern_packet p = pkt_of(TERN_AUTH);
    EXPECT_EINVAL(p, TERN_V311);
    EXPECT_EINVAL(p, TERN_V31);
    /* reserved type 0, and types past 15 */
    p = pkt_of(0);
    EXPECT_EINVAL(p, TERN_V5);
    p = pkt_of(16);
    EXPECT_EINVAL(p, TERN_V5);
    /* strings over 65535 bytes */
    p = pkt_of(TERN_CONNACK);
    tern_props_set(&p.u.connack.props, TERN_PROP_SERVER_REFERENCE);
    p.u.connack.props.server_reference = (tern_slice){big, sizeof(big)};
    EXPECT_EINVAL(p, TERN_V5);
    p = pkt_of(TERN_DISCONNECT);
    tern_props_set(&p.u.disconnect.props, TERN_PROP_REASON_STRING);
    p.u.disconnect.props.reason_string = (tern_slice){big, sizeof(big)};
    EXPECT_EINVAL(p, TERN_V5);
    /* properties of other packets */
    p = pkt_of(TERN_CONNACK);
    tern_props_set(&p.u.connack.props, TERN_PROP_REQUEST_PROBLEM_INFORMATION);
    EXPECT_EINVAL(p, TERN_V5);
    p = pkt_of(TERN_DISCONNECT);
    tern_props_set(&p.u.disconnect.props, TERN_PROP_RECEIVE_MAXIMUM);
    p.u.disconnect.props.receive_maximum = 1;
    EXPECT_EINVAL(p, TERN_V5);
    p = pkt_of(TERN_AUTH);
    tern_props_set(&p.u.disconnect.props, TERN_PROP_SERVER_REFERENCE);
    EXPECT_EINVAL(p, TERN_V5);
    /* an unknown connection level */
    p = pkt_of(TERN_PINGREQ);
    EXPECT_EINVAL(p, 2);
    EXPECT_EINVAL(p, 6);
#undef EXPECT_EINVAL
}

TN_TEST_MAIN()
