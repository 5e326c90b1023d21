/* SPDX-License-Identifier: MIT */
/*
 * src/codec/publish_test.c - table-driven tests of PUBLISH decoding and encoding at levels
 * 3, 4 and 5: QoS/DUP/RETAIN flags, packet ids, topic names, payloads, 5.0 properties,
 * Remaining Length boundaries, tern_publish_encode_head, and encoder errors.
 *
 * Owns: nothing beyond its tables. Thread: single-threaded test binary.
 * Spec: 3.1.1 section 3.3, 5.0 section 3.3. Rule ids say which spec: _311_ or _v5_.
 * Rows run through packet_test_util.h (framing, byte-at-a-time framing, round trip).
 */
#include "packet_test_util.h"

#define MAL -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET
#define PROTO -EPROTO, TERN_RC_PROTOCOL_ERROR
#define BADTOPIC -EPROTO, TERN_RC_TOPIC_NAME_INVALID

/* A row plus the fields a valid one must decode to. */
struct pub_row {
    struct pt_row row;
    uint8_t qos;
    bool dup, retain;
    uint16_t packet_id;
    const char *topic;
    const char *payload; /* NULL: not checked (binary) */
};

static void pub_run(const struct pub_row *rows, size_t n, uint8_t version)
{
    for (size_t i = 0; i < n; i++) {
        struct pt_row row = rows[i].row;
        if (version)
            row.version = version;
        pt_run_row(&row);
        if (row.want != 0)
            continue;
        struct tern_packet pkt;
        uint8_t rc, *f;
        size_t fn;
        int before = tn_cur_failed_;
        tn_cur_failed_ = 0;
        if (pt_decode_notation(row.bytes, row.version, &pkt, &rc, &f, &fn) == 0) {
            const struct tern_publish *p = &pkt.u.publish;
            TN_EXPECT_EQ_INT(p->qos, rows[i].qos);
            TN_EXPECT_EQ_INT(p->dup, rows[i].dup);
            TN_EXPECT_EQ_INT(p->retain, rows[i].retain);
            TN_EXPECT_EQ_INT(p->packet_id, rows[i].packet_id);
            TN_EXPECT_SLICE_STR(p->topic, rows[i].topic);
            if (rows[i].payload)
                TN_EXPECT_SLICE_STR(p->payload, rows[i].payload);
        }
        if (tn_cur_failed_)
            fprintf(stderr, "    ^ row \"%s\" (version %u)\n", row.name, row.version);
        tn_cur_failed_ |= before;
        free(f);
    }
}

/* ---- 3.1 and 3.1.1 (the same layout) ------------------------------------------------------ */

/* clang-format off */
static const struct pub_row pub_rows_3x[] = {
    {{"qos0", 0, "30 [ {'a/b'} 'hello' ]", 0, 0, NULL, 0}, 0, 0, 0, 0, "a/b", "hello"},
    {{"qos0_retain", 0, "31 [ {'a/b'} 'hello' ]", 0, 0, NULL, 0}, 0, 0, 1, 0, "a/b", "hello"},
    {{"qos1", 0, "32 [ {'a/b'} 0001 'hi' ]", 0, 0, NULL, 0}, 1, 0, 0, 1, "a/b", "hi"},
    {{"qos1_retain", 0, "33 [ {'a/b'} 0102 'hi' ]", 0, 0, NULL, 0}, 1, 0, 1, 0x102, "a/b", "hi"},
    {{"qos1_dup", 0, "3a [ {'a/b'} 8000 'hi' ]", 0, 0, NULL, 0}, 1, 1, 0, 0x8000, "a/b", "hi"},
    {{"qos1_dup_retain", 0, "3b [ {'a/b'} ffff 'hi' ]", 0, 0, NULL, 0}, 1, 1, 1, 0xffff, "a/b",
     "hi"},
    {{"qos2", 0, "34 [ {'x'} 0002 'p' ]", 0, 0, NULL, 0}, 2, 0, 0, 2, "x", "p"},
    {{"qos2_retain", 0, "35 [ {'x'} 0003 'p' ]", 0, 0, NULL, 0}, 2, 0, 1, 3, "x", "p"},
    {{"qos2_dup", 0, "3c [ {'x'} 0004 'p' ]", 0, 0, NULL, 0}, 2, 1, 0, 4, "x", "p"},
    {{"qos2_dup_retain", 0, "3d [ {'x'} 0005 'p' ]", 0, 0, NULL, 0}, 2, 1, 1, 5, "x", "p"},
    {{"qos0_empty_payload", 0, "30 [ {'a/b'} ]", 0, 0, NULL, 0}, 0, 0, 0, 0, "a/b", ""},
    {{"qos2_empty_payload", 0, "34 [ {'a/b'} 0002 ]", 0, 0, NULL, 0}, 2, 0, 0, 2, "a/b", ""},
    /* the payload is bytes, not text */
    {{"binary_payload", 0, "30 [ {'t'} 00 ff c3 28 ]", 0, 0, NULL, 0}, 0, 0, 0, 0, "t", NULL},
    /* any valid UTF-8, '/' alone, '$' topics, spaces: topic policy is not the decoder's */
    {{"utf8_topic", 0, "30 [ {'caf' c3 a9 ' /x'} ]", 0, 0, NULL, 0}, 0, 0, 0, 0,
     "caf\xc3\xa9 /x", ""},
    {{"slash_topic", 0, "30 [ {'/'} ]", 0, 0, NULL, 0}, 0, 0, 0, 0, "/", ""},
    {{"dollar_topic", 0, "30 [ {'$SYS/x'} ]", 0, 0, NULL, 0}, 0, 0, 0, 0, "$SYS/x", ""},

    /* QoS 3 [MQTT-3.3.1-4] (both specs) */
    {{"qos3_311_3_3_1_4", 0, "36 [ {'a'} 0001 ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"qos3_retain", 0, "37 [ {'a'} 0001 ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"qos3_dup_retain", 0, "3f [ {'a'} 0001 ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    /* DUP on QoS 0 [MQTT-3.3.1-2] (both specs) */
    {{"dup_qos0_311_3_3_1_2", 0, "38 [ {'a'} ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"dup_qos0_retain", 0, "39 [ {'a'} 'x' ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    /* packet id 0 with QoS > 0 [MQTT-2.3.1-1] (3.1.1) */
    {{"qos1_packet_id_0_311_2_3_1_1", 0, "32 [ {'a'} 0000 ]", PROTO, NULL, 0}, 0, 0, 0, 0, "",
     NULL},
    {{"qos2_packet_id_0_311_2_3_1_1", 0, "34 [ {'a'} 0000 'x' ]", PROTO, NULL, 0}, 0, 0, 0, 0,
     "", NULL},
    /* wildcards in a topic name [MQTT-3.3.2-2] */
    {{"topic_plus_311_3_3_2_2", 0, "30 [ {'a/+'} ]", BADTOPIC, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"topic_hash_311_3_3_2_2", 0, "30 [ {'#'} ]", BADTOPIC, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"topic_plus_inside_level", 0, "32 [ {'a+b'} 0001 ]", BADTOPIC, NULL, 0}, 0, 0, 0, 0, "",
     NULL},
    /* a topic name is at least one character [MQTT-4.7.3-1]: packet.c reports 0x82 */
    {{"empty_topic_311_4_7_3_1", 0, "30 [ {} 'x' ]", PROTO, NULL, 0}, 0, 0, 0, 0, "", NULL},
    /* the topic is a UTF-8 string [MQTT-3.3.2-1] */
    {{"topic_bad_utf8_311_3_3_2_1", 0, "30 [ {c3 28} ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"topic_nul_311_1_5_3_2", 0, "30 [ {'a' 00 'b'} ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"topic_surrogate", 0, "30 [ {ed b0 80} ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    /* lengths */
    {{"topic_overruns", 0, "30 [ 0005 'ab' ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"remaining_1", 0, "30 01 00", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"remaining_0", 0, "30 00", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"qos1_half_packet_id", 0, "32 [ {'a'} 00 ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"qos1_no_packet_id", 0, "32 [ {'a'} ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
};
/* clang-format on */

TN_TEST(publish_rows_v31)
{
    pub_run(pub_rows_3x, sizeof(pub_rows_3x) / sizeof(pub_rows_3x[0]), TERN_V31);
}

TN_TEST(publish_rows_311)
{
    pub_run(pub_rows_3x, sizeof(pub_rows_3x) / sizeof(pub_rows_3x[0]), TERN_V311);
}

/* ---- 5.0 ----------------------------------------------------------------------------------- */

/* clang-format off */
static const struct pub_row pub_rows_v5[] = {
    {{"v5_qos0", 5, "30 [ {'a/b'} [] 'hello' ]", 0, 0, NULL, 0}, 0, 0, 0, 0, "a/b", "hello"},
    {{"v5_qos0_retain", 5, "31 [ {'a/b'} [] ]", 0, 0, NULL, 0}, 0, 0, 1, 0, "a/b", ""},
    {{"v5_qos1", 5, "32 [ {'a/b'} 0001 [] 'hi' ]", 0, 0, NULL, 0}, 1, 0, 0, 1, "a/b", "hi"},
    {{"v5_qos1_dup_retain", 5, "3b [ {'a/b'} ffff [] 'hi' ]", 0, 0, NULL, 0}, 1, 1, 1, 0xffff,
     "a/b", "hi"},
    {{"v5_qos2", 5, "34 [ {'a/b'} 0010 [] 'hi' ]", 0, 0, NULL, 0}, 2, 0, 0, 16, "a/b", "hi"},
    {{"v5_qos2_dup", 5, "3c [ {'a/b'} 0010 [] 'hi' ]", 0, 0, NULL, 0}, 2, 1, 0, 16, "a/b", "hi"},
    {{"v5_qos2_empty_payload", 5, "34 [ {'a/b'} 0002 [] ]", 0, 0, NULL, 0}, 2, 0, 0, 2, "a/b",
     ""},
    /* empty topic with a Topic Alias (3.3.2.3.4) */
    {{"v5_empty_topic_with_alias", 5, "30 [ {} [ 23 0001 ] 'x' ]", 0, 0, NULL, 0}, 0, 0, 0, 0,
     "", "x"},
    {{"v5_topic_and_alias", 5, "32 [ {'a/b'} 0009 [ 23 ffff ] ]", 0, 0, NULL, 0}, 1, 0, 0, 9,
     "a/b", ""},

    {{"v5_qos3_v5_3_3_1_4", 5, "36 [ {'a'} 0001 [] ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"v5_dup_qos0_v5_3_3_1_2", 5, "38 [ {'a'} [] ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    /* packet id 0 with QoS > 0 [MQTT-2.2.1-3] (5.0) */
    {{"v5_qos1_packet_id_0_v5_2_2_1_3", 5, "32 [ {'a'} 0000 [] ]", PROTO, NULL, 0}, 0, 0, 0, 0,
     "", NULL},
    {{"v5_topic_wildcard_v5_3_3_2_2", 5, "30 [ {'a/#'} [] ]", BADTOPIC, NULL, 0}, 0, 0, 0, 0,
     "", NULL},
    {{"v5_topic_bad_utf8_v5_3_3_2_1", 5, "30 [ {'a' ff} [] ]", MAL, NULL, 0}, 0, 0, 0, 0, "",
     NULL},
    /* empty topic without a Topic Alias: Protocol Error (3.3.2.3.4) */
    {{"v5_empty_topic_without_alias", 5, "30 [ {} [] 'x' ]", PROTO, NULL, 0}, 0, 0, 0, 0, "",
     NULL},
    {{"v5_empty_topic_other_props", 5, "30 [ {} [ 02 00000001 ] 'x' ]", PROTO, NULL, 0}, 0, 0,
     0, 0, "", NULL},
    /* Topic Alias 0 is not permitted: 0x94 Topic Alias invalid (3.3.2.3.4) */
    {{"v5_topic_alias_0", 5, "30 [ {'a'} [ 23 0000 ] ]", -EPROTO, TERN_RC_TOPIC_ALIAS_INVALID,
      NULL, 0},
     0, 0, 0, 0, "", NULL},
    /* the Property Length is not optional in a 5.0 PUBLISH */
    {{"v5_no_property_length", 5, "30 [ {'a/b'} ]", MAL, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"v5_property_length_overruns", 5, "30 [ {'a'} 05 01 01 ]", MAL, NULL, 0}, 0, 0, 0, 0, "",
     NULL},
    /* properties that may not be in a PUBLISH: malformed */
    {{"v5_session_expiry_in_publish", 5, "30 [ {'a'} [ 11 00000001 ] ]", MAL, NULL, 0}, 0, 0, 0,
     0, "", NULL},
    {{"v5_reason_string_in_publish", 5, "30 [ {'a'} [ 1f {'r'} ] ]", MAL, NULL, 0}, 0, 0, 0, 0,
     "", NULL},
    {{"v5_will_delay_in_publish", 5, "30 [ {'a'} [ 18 00000001 ] ]", MAL, NULL, 0}, 0, 0, 0, 0,
     "", NULL},
    /* values the spec forbids and repeats: protocol errors */
    {{"v5_payload_format_2", 5, "30 [ {'a'} [ 01 02 ] ]", PROTO, NULL, 0}, 0, 0, 0, 0, "", NULL},
    {{"v5_subscription_id_0", 5, "30 [ {'a'} [ 0b 00 ] ]", PROTO, NULL, 0}, 0, 0, 0, 0, "",
     NULL},
    {{"v5_message_expiry_twice", 5, "30 [ {'a'} [ 02 00000001 02 00000001 ] ]", PROTO, NULL, 0},
     0, 0, 0, 0, "", NULL},
    {{"v5_content_type_twice", 5, "30 [ {'a'} [ 03 {'x'} 03 {'y'} ] ]", PROTO, NULL, 0}, 0, 0,
     0, 0, "", NULL},
    {{"v5_topic_alias_twice", 5, "30 [ {'a'} [ 23 0001 23 0002 ] ]", PROTO, NULL, 0}, 0, 0, 0,
     0, "", NULL},
    {{"v5_subscription_id_5_bytes", 5, "30 [ {'a'} [ 0b ff ff ff ff 01 ] ]", MAL, NULL, 0}, 0,
     0, 0, 0, "", NULL},
    {{"v5_response_topic_bad_utf8", 5, "30 [ {'a'} [ 08 {c0 af} ] ]", MAL, NULL, 0}, 0, 0, 0, 0,
     "", NULL},
    {{"v5_user_value_bad_utf8", 5, "30 [ {'a'} [ 26 {'k'}{ed bf bf} ] ]", MAL, NULL, 0}, 0, 0,
     0, 0, "", NULL},
};
/* clang-format on */

TN_TEST(publish_rows_v5)
{
    pub_run(pub_rows_v5, sizeof(pub_rows_v5) / sizeof(pub_rows_v5[0]), 0);
}

/* 5.0 property rows, checked field by field. */

static void check_two_users_in_order(const struct tern_packet *p)
{
    static const char *const kv[] = {"b", "2", "a", "1"};
    pt_expect_users(&p->u.publish.props, kv, 2);
    TN_EXPECT_SLICE_STR(p->u.publish.payload, "x");
}

static void check_all_publish_props(const struct tern_packet *p)
{
    const struct tern_props *pr = &p->u.publish.props;
    TN_EXPECT_EQ_U64(pr->present,
                     1ull << TERN_PROP_PAYLOAD_FORMAT_INDICATOR |
                         1ull << TERN_PROP_MESSAGE_EXPIRY_INTERVAL |
                         1ull << TERN_PROP_CONTENT_TYPE | 1ull << TERN_PROP_RESPONSE_TOPIC |
                         1ull << TERN_PROP_CORRELATION_DATA | 1ull << TERN_PROP_TOPIC_ALIAS |
                         1ull << TERN_PROP_USER_PROPERTY);
    TN_EXPECT_EQ_INT(pr->payload_format_indicator, 1);
    TN_EXPECT_EQ_U32(pr->message_expiry_interval, 3600);
    TN_EXPECT_SLICE_STR(pr->content_type, "text/plain");
    TN_EXPECT_SLICE_STR(pr->response_topic, "reply/to");
    TN_EXPECT_MEM(pr->correlation_data.p, pr->correlation_data.n, "\x00\x01\x02", 3);
    TN_EXPECT_EQ_INT(pr->topic_alias, 7);
    static const char *const kv[] = {"k", "v"};
    pt_expect_users(pr, kv, 1);
    TN_EXPECT_EQ_INT(p->u.publish.qos, 1);
    TN_EXPECT_EQ_INT(p->u.publish.packet_id, 0x1234);
    TN_EXPECT_SLICE_STR(p->u.publish.payload, "{\"t\":1}");
}

static void check_three_sub_ids(const struct tern_packet *p)
{
    static const uint32_t ids[] = {1, 128, 268435455};
    pt_expect_sub_ids(&p->u.publish.props, ids, 3);
}

static void check_sub_ids_and_alias(const struct tern_packet *p)
{
    static const uint32_t ids[] = {5, 16384};
    pt_expect_sub_ids(&p->u.publish.props, ids, 2);
    TN_EXPECT_EQ_U32(p->u.publish.props.message_expiry_interval, 10);
    TN_EXPECT_EQ_INT(p->u.publish.props.topic_alias, 2);
}

static void check_one_sub_id(const struct tern_packet *p)
{
    static const uint32_t ids[] = {0x3fff};
    pt_expect_sub_ids(&p->u.publish.props, ids, 1);
}

/* clang-format off */
static const struct pt_row publish_prop_rows[] = {
    {"v5_two_user_props_order_kept", 5, "30 [ {'t'} [ 26 {'b'}{'2'} 26 {'a'}{'1'} ] 'x' ]", 0,
     0, check_two_users_in_order, 0},
    {"v5_all_publish_props", 5,
     "32 [ {'a/b'} 1234 [ 01 01 02 00000e10 03 {'text/plain'} 08 {'reply/to'} 09 {00 01 02}"
     " 23 0007 26 {'k'}{'v'} ] '{\"t\":1}' ]",
     0, 0, check_all_publish_props, 0},
    {"v5_several_subscription_ids", 5, "30 [ {'t'} [ 0b 01 0b 80 01 0b ff ff ff 7f ] ]", 0, 0,
     check_three_sub_ids, 0},
    {"v5_one_subscription_id", 5, "30 [ {'t'} [ 0b ff 7f ] ]", 0, 0, check_one_sub_id, 0},
};
/* clang-format on */

TN_TEST(publish_property_rows_v5)
{
    PT_RUN(publish_prop_rows);
}

/* codec.h: properties are encoded "by ascending id", Subscription Identifiers (0x0B)
 * included, so they come before a Topic Alias (0x23): what a broker sends when it forwards a
 * message with an alias to a subscriber with subscription ids. */
TN_TEST(publish_sub_ids_encoded_in_id_order_v5)
{
    static const struct pt_row rows[] = {
        {"v5_sub_ids_before_topic_alias", 5,
         "30 [ {'t'} [ 02 0000000a 0b 05 0b 80 80 01 23 0002 ] ]", 0, 0, check_sub_ids_and_alias,
         0},
    };
    PT_RUN(rows);
}

/* ---- Remaining Length boundaries ------------------------------------------------------------ */

/* A PUBLISH to "t" whose Remaining Length is exactly `rem` (3.x: 3 bytes before the payload;
 * 5.0 QoS 1: topic 3 + packet id 2 + property length 1). */
static void publish_of_remaining(uint8_t version, uint32_t rem, unsigned hdr_len)
{
    size_t pre = version == TERN_V5 ? 6 : 3;
    size_t pl = rem - pre;
    size_t n = 1 + tern_varint_size(rem) + rem;
    TN_EXPECT_EQ_U32(n - rem, hdr_len);
    uint8_t *f = malloc(n);
    if (!f)
        abort();
    uint8_t *w = f;
    *w++ = version == TERN_V5 ? 0x32 : 0x30;
    w += tern_varint_encode(rem, w);
    *w++ = 0;
    *w++ = 1;
    *w++ = 't';
    if (version == TERN_V5) {
        *w++ = 0x12;
        *w++ = 0x34;
        *w++ = 0;
    }
    for (size_t i = 0; i < pl; i++)
        w[i] = (uint8_t)(i * 7);
    char name[64];
    snprintf(name, sizeof(name), "remaining_%u", rem);
    struct pt_row row = {name, version, "", 0, 0, NULL, 0};
    int before = tn_cur_failed_;
    tn_cur_failed_ = 0;
    pt_run_frame(&row, f, n);

    struct tern_packet pkt;
    uint8_t rc;
    memset(&pkt, 0, sizeof(pkt));
    TN_EXPECT_EQ_INT(tern_packet_decode(f, n, version, &pkt, &rc), 0);
    TN_EXPECT_EQ_U32(pkt.u.publish.payload.n, pl);
    TN_EXPECT(pkt.u.publish.payload.p == f + n - pl);
    TN_EXPECT_EQ_INT(tern_packet_size(&pkt, version), (long long)n);
    if (tn_cur_failed_)
        fprintf(stderr, "    ^ %s (version %u)\n", name, version);
    tn_cur_failed_ |= before;
    free(f);
}

/* The Remaining Length at each change of its encoded size (2.2.3 / 2.1.4): 1 byte up to 127,
 * 2 up to 16383, 3 up to 2097151, 4 above. */
TN_TEST(publish_remaining_length_boundaries)
{
    static const struct {
        uint32_t rem;
        unsigned hdr_len;
    } b[] = {{127, 2}, {128, 3}, {16383, 3}, {16384, 4}, {2097151, 4}, {2097152, 5}};
    for (unsigned i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
        publish_of_remaining(TERN_V311, b[i].rem, b[i].hdr_len);
        publish_of_remaining(TERN_V5, b[i].rem, b[i].hdr_len);
    }
}

/* ---- encoding ------------------------------------------------------------------------------- */

static struct tern_packet publish_pkt(uint8_t qos, uint16_t id)
{
    struct tern_packet p;
    memset(&p, 0, sizeof(p));
    p.type = TERN_PUBLISH;
    p.u.publish.qos = qos;
    p.u.publish.packet_id = id;
    p.u.publish.topic = TERN_SLICE_STR("a/b");
    p.u.publish.payload = TERN_SLICE_STR("data");
    return p;
}

TN_TEST(publish_encode_flags_from_fields)
{
    /* pkt->flags is ignored for PUBLISH: the flags come from qos/dup/retain */
    struct tern_packet p = publish_pkt(1, 7);
    p.flags = 0x0F;
    p.u.publish.dup = true;
    p.u.publish.retain = true;
    pt_expect_encoding(&p, TERN_V311, "3b [ {'a/b'} 0007 'data' ]");

    p = publish_pkt(2, 0x1234);
    p.flags = 0;
    pt_expect_encoding(&p, TERN_V31, "34 [ {'a/b'} 1234 'data' ]");

    /* QoS 0 carries no packet id, whatever the field says */
    p = publish_pkt(0, 99);
    p.flags = 0x06;
    pt_expect_encoding(&p, TERN_V311, "30 [ {'a/b'} 'data' ]");

    /* 3.x has no properties: set ones are left out */
    p = publish_pkt(0, 0);
    tern_props_set(&p.u.publish.props, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
    p.u.publish.props.message_expiry_interval = 9;
    pt_expect_encoding(&p, TERN_V311, "30 [ {'a/b'} 'data' ]");
    pt_expect_encoding(&p, TERN_V5, "30 [ {'a/b'} [ 02 00000009 ] 'data' ]");
}

TN_TEST(publish_encode_v5_props_from_arrays)
{
    static const struct tern_strpair users[] = {
        {TERN_SLICE_STR("z"), TERN_SLICE_STR("1")},
        {TERN_SLICE_STR("a"), TERN_SLICE_STR("2")},
        {TERN_SLICE_STR("z"), TERN_SLICE_STR("3")},
    };
    static const uint32_t ids[] = {3, 200};
    struct tern_packet p = publish_pkt(1, 1);
    struct tern_props *pr = &p.u.publish.props;
    tern_props_set(pr, TERN_PROP_CONTENT_TYPE);
    pr->content_type = TERN_SLICE_STR("ct");
    tern_props_set(pr, TERN_PROP_PAYLOAD_FORMAT_INDICATOR);
    pr->payload_format_indicator = 1;
    pr->user = users;
    pr->user_n = 3;
    pr->sub_ids = ids;
    pr->sub_id_n = 2;
    pt_expect_encoding(&p, TERN_V5,
                       "32 [ {'a/b'} 0001 [ 01 01 03 {'ct'} 0b 03 0b c8 01"
                       " 26 {'z'}{'1'} 26 {'a'}{'2'} 26 {'z'}{'3'} ] 'data' ]");

    /* one Subscription Identifier comes from sub_id */
    p = publish_pkt(0, 0);
    p.u.publish.props.sub_id_n = 1;
    p.u.publish.props.sub_id = 268435455;
    pt_expect_encoding(&p, TERN_V5, "30 [ {'a/b'} [ 0b ff ff ff 7f ] 'data' ]");

    /* `extra` is appended verbatim after everything else */
    p = publish_pkt(0, 0);
    p.u.publish.props.user = users;
    p.u.publish.props.user_n = 1;
    static const uint8_t extra[] = {0x26, 0x00, 0x01, 'x', 0x00, 0x01, 'y'};
    p.u.publish.props.extra = (tern_slice){extra, sizeof(extra)};
    pt_expect_encoding(&p, TERN_V5, "30 [ {'a/b'} [ 26 {'z'}{'1'} 26 {'x'}{'y'} ] 'data' ]");
}

TN_TEST(publish_encode_head_equals_whole_frame)
{
    static uint8_t big[300];
    memset(big, 0x5a, sizeof(big));
    struct tern_packet p = publish_pkt(2, 0x0102);
    p.u.publish.payload = (tern_slice){big, sizeof(big)};
    tern_props_set(&p.u.publish.props, TERN_PROP_RESPONSE_TOPIC);
    p.u.publish.props.response_topic = TERN_SLICE_STR("r");
    for (uint8_t v = TERN_V31; v <= TERN_V5; v++) {
        size_t len = 0;
        uint8_t *enc = pt_encode(&p, v, &len);
        if (!enc)
            continue;
        pt_check_publish_head(&p, v, enc, len);
        free(enc);
    }
    /* an empty payload: the head is the whole frame */
    p.u.publish.payload = (tern_slice){NULL, 0};
    uint8_t head[64], whole[64];
    int h = tern_publish_encode_head(&p, TERN_V5, head, sizeof(head));
    int w = tern_packet_encode(&p, TERN_V5, whole, sizeof(whole));
    TN_EXPECT(h > 0);
    TN_EXPECT_MEM(head, (size_t)h, whole, (size_t)w);

    /* only for PUBLISH */
    struct tern_packet ping;
    memset(&ping, 0, sizeof(ping));
    ping.type = TERN_PINGREQ;
    TN_EXPECT_EQ_INT(tern_publish_encode_head(&ping, TERN_V311, head, sizeof(head)), -EINVAL);
}

static void expect_einval(const struct tern_packet *p, uint8_t v)
{
    uint8_t buf[128];
    TN_EXPECT_EQ_INT(tern_packet_size(p, v), -EINVAL);
    TN_EXPECT_EQ_INT(tern_packet_encode(p, v, buf, sizeof(buf)), -EINVAL);
    TN_EXPECT_EQ_INT(tern_publish_encode_head(p, v, buf, sizeof(buf)), -EINVAL);
}

TN_TEST(publish_encode_errors)
{
    static uint8_t big[65536];
    memset(big, 'a', sizeof(big));

    struct tern_packet p = publish_pkt(3, 1); /* [MQTT-3.3.1-4] */
    expect_einval(&p, TERN_V311);
    expect_einval(&p, TERN_V5);

    p = publish_pkt(1, 1);
    p.u.publish.topic = (tern_slice){big, sizeof(big)};
    expect_einval(&p, TERN_V311);
    p.u.publish.topic.n = 65535; /* the longest topic fits */
    TN_EXPECT_EQ_INT(tern_packet_size(&p, TERN_V311), 1 + 3 + 2 + 65535 + 2 + 4);

    /* QoS > 0 needs a packet id [MQTT-2.3.1-1]; DUP needs QoS > 0 [MQTT-3.3.1-2] */
    p = publish_pkt(1, 0);
    expect_einval(&p, TERN_V311);
    p = publish_pkt(0, 0);
    p.u.publish.dup = true;
    expect_einval(&p, TERN_V5);

    /* 5.0 properties: too long, not allowed in PUBLISH */
    p = publish_pkt(0, 0);
    tern_props_set(&p.u.publish.props, TERN_PROP_CORRELATION_DATA);
    p.u.publish.props.correlation_data = (tern_slice){big, sizeof(big)};
    expect_einval(&p, TERN_V5);
    p = publish_pkt(0, 0);
    tern_props_set(&p.u.publish.props, TERN_PROP_SESSION_EXPIRY_INTERVAL);
    expect_einval(&p, TERN_V5);
    p = publish_pkt(0, 0);
    tern_props_set(&p.u.publish.props, TERN_PROP_REASON_STRING);
    p.u.publish.props.reason_string = TERN_SLICE_STR("r");
    expect_einval(&p, TERN_V5);

    /* too large for a frame: the largest Remaining Length fits, one more byte does not
     * (only sizes are asked: the payload bytes are never read) */
    p = publish_pkt(0, 0);
    p.u.publish.topic = TERN_SLICE_STR("t");
    p.u.publish.payload = (tern_slice){big, TERN_VARINT_MAX - 3};
    TN_EXPECT_EQ_INT(tern_packet_size(&p, TERN_V311), (long long)TERN_MAX_FRAME);
    p.u.publish.payload.n++;
    TN_EXPECT_EQ_INT(tern_packet_size(&p, TERN_V311), -EINVAL);
}

TN_TEST_MAIN()
