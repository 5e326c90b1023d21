/* SPDX-License-Identifier: MIT */
/*
 * src/codec/ack_test.c - table-driven tests of PUBACK, PUBREC, PUBREL and PUBCOMP decoding and
 * encoding at levels 3, 4 and 5: fixed-header flags, lengths, packet ids, the 5.0 short forms,
 * reason codes per packet type, properties, and the encoder's choice of the shortest form.
 *
 * Owns: nothing beyond its tables. Thread: single-threaded test binary.
 * Spec: 3.1.1 sections 3.4-3.7, 5.0 sections 3.4-3.7. Rule ids say which spec: _311_ / _v5_.
 * Rows run through packet_test_util.h (framing, byte-at-a-time framing, round trip).
 */
#include "packet_test_util.h"

#define MAL -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET
#define PROTO -EPROTO, TERN_RC_PROTOCOL_ERROR

/* The first byte of each ack as it must be on the wire [MQTT-2.2.2-1] (3.1.1). */
static const uint8_t ack_b0[] = {0x40, 0x50, 0x62, 0x70};
static const char *const ack_names[] = {"puback", "pubrec", "pubrel", "pubcomp"};

/* A row template: `fmt` holds one %02x for the first byte; valid rows must decode to
 * packet id `pid` and reason code `arc`. */
struct ack_tpl {
    const char *name;
    uint8_t version;
    const char *fmt;
    int want;
    uint8_t rc;
    void (*check)(const struct tern_packet *pkt);
    unsigned opts;
    uint16_t pid;
    uint8_t arc;
};

/* fmt with its "%02x" replaced by b0 in hex (by hand: -Wformat=2 refuses non-literal
 * formats). */
static void ack_fill(char *out, size_t cap, const char *fmt, uint8_t b0)
{
    const char *hole = strstr(fmt, "%02x");
    size_t pre = hole ? (size_t)(hole - fmt) : strlen(fmt);
    snprintf(out, cap, "%.*s%02x%s", (int)pre, fmt, b0, hole ? hole + 4 : "");
}

static void ack_run_one(const struct ack_tpl *t, unsigned type_i)
{
    char bytes[256], name[128];
    ack_fill(bytes, sizeof(bytes), t->fmt, ack_b0[type_i]);
    snprintf(name, sizeof(name), "%s_%s", ack_names[type_i], t->name);
    struct pt_row row = {name, t->version, bytes, t->want, t->rc, t->check, t->opts};
    pt_run_row(&row);
    if (t->want != 0)
        return;
    struct tern_packet pkt;
    uint8_t rc, *f;
    size_t n;
    int before = tn_cur_failed_;
    tn_cur_failed_ = 0;
    if (pt_decode_notation(bytes, t->version, &pkt, &rc, &f, &n) == 0) {
        TN_EXPECT_EQ_INT(pkt.type, ack_b0[type_i] >> 4);
        TN_EXPECT_EQ_INT(pkt.u.ack.packet_id, t->pid);
        TN_EXPECT_EQ_HEX(pkt.u.ack.rc, t->arc);
    }
    if (tn_cur_failed_)
        fprintf(stderr, "    ^ row \"%s\" (version %u)\n", name, t->version);
    tn_cur_failed_ |= before;
    free(f);
}

/* Run templates for the ack types whose bit is set in `types` (bit i = ack_b0[i]). */
static void ack_run(const struct ack_tpl *t, size_t n, unsigned types)
{
    for (size_t i = 0; i < n; i++)
        for (unsigned k = 0; k < 4; k++)
            if (types & (1u << k))
                ack_run_one(&t[i], k);
}
#define ACK_RUN(t, types) ack_run((t), sizeof(t) / sizeof((t)[0]), (types))
#define ALL_ACKS 0xFu
#define PUBACK_PUBREC 0x3u
#define PUBREL_PUBCOMP 0xCu

/* ---- 3.1 / 3.1.1: packet id only ----------------------------------------------------------- */

/* clang-format off */
static const struct ack_tpl ack_3x[] = {
    {"v311_ok", 4, "%02x 02 0001", 0, 0, NULL, 0, 1, 0},
    {"v311_max_id", 4, "%02x 02 ffff", 0, 0, NULL, 0, 0xffff, 0},
    {"v31_ok", 3, "%02x 02 1234", 0, 0, NULL, 0, 0x1234, 0},
    /* 3.1.1: the Remaining Length is exactly 2 (3.4.1 - 3.7.1) */
    {"v311_remaining_3", 4, "%02x 03 0001 00", MAL, NULL, 0, 0, 0},
    {"v311_remaining_4", 4, "%02x 04 0001 00 00", MAL, NULL, 0, 0, 0},
    {"v31_remaining_3", 3, "%02x 03 0001 10", MAL, NULL, 0, 0, 0},
    {"v311_remaining_1", 4, "%02x 01 00", MAL, NULL, 0, 0, 0},
    {"v311_remaining_0", 4, "%02x 00", MAL, NULL, 0, 0, 0},
    /* packet id 0 [MQTT-2.3.1-1] (3.1.1) */
    {"v311_packet_id_0_311_2_3_1_1", 4, "%02x 02 0000", PROTO, NULL, 0, 0, 0},
    {"v31_packet_id_0", 3, "%02x 02 0000", PROTO, NULL, 0, 0, 0},
};
/* clang-format on */

TN_TEST(ack_rows_3x)
{
    ACK_RUN(ack_3x, ALL_ACKS);
}

/* ---- 5.0: short forms, reason codes, properties -------------------------------------------- */

static void check_reason_and_user(const struct tern_packet *p)
{
    const struct tern_props *pr = &p->u.ack.props;
    TN_EXPECT_SLICE_STR(pr->reason_string, "because");
    static const char *const kv[] = {"a", "b", "c", "d"};
    pt_expect_users(pr, kv, 2);
    TN_EXPECT_EQ_U64(pr->present,
                     1ull << TERN_PROP_REASON_STRING | 1ull << TERN_PROP_USER_PROPERTY);
}

static void check_no_props(const struct tern_packet *p)
{
    TN_EXPECT_EQ_U64(p->u.ack.props.present, 0);
    TN_EXPECT_EQ_U32(p->u.ack.props.user_n, 0);
}

/* clang-format off */
static const struct ack_tpl ack_v5[] = {
    /* Remaining Length 2: Success, no properties (3.4.2.1) */
    {"v5_short_2", 5, "%02x 02 0001", 0, 0, check_no_props, 0, 1, 0},
    /* Remaining Length 3: a reason code, no Property Length (3.4.2.2.1); Success written
     * out is valid but longer than the encoder writes */
    {"v5_short_3_success", 5, "%02x 03 0002 00", 0, 0, check_no_props, PT_NONCANON, 2, 0},
    {"v5_rc_and_empty_props", 5, "%02x 04 0003 00 00", 0, 0, check_no_props, PT_NONCANON, 3, 0},
    {"v5_success_with_reason", 5, "%02x [ 0004 00 [ 1f {'ok'} ] ]", 0, 0, NULL, 0, 4, 0},
    {"v5_success_with_user", 5, "%02x [ 0005 00 [ 26 {'k'}{'v'} ] ]", 0, 0, NULL, 0, 5, 0},
    /* packet id 0 is a Protocol Error [MQTT-2.2.1-3] (5.0) */
    {"v5_packet_id_0", 5, "%02x 02 0000", PROTO, NULL, 0, 0, 0},
    {"v5_remaining_1", 5, "%02x 01 00", MAL, NULL, 0, 0, 0},
    {"v5_remaining_0", 5, "%02x 00", MAL, NULL, 0, 0, 0},
    /* properties that do not fit or may not be here */
    {"v5_props_overrun", 5, "%02x 05 0001 00 05 1f", MAL, NULL, 0, 0, 0},
    {"v5_message_expiry_not_allowed", 5, "%02x [ 0001 00 [ 02 00000001 ] ]", MAL, NULL, 0, 0, 0},
    {"v5_topic_alias_not_allowed", 5, "%02x [ 0001 00 [ 23 0001 ] ]", MAL, NULL, 0, 0, 0},
    {"v5_reason_string_twice", 5, "%02x [ 0001 00 [ 1f {'a'} 1f {'b'} ] ]", PROTO, NULL, 0, 0,
     0},
    {"v5_reason_string_bad_utf8", 5, "%02x [ 0001 00 [ 1f {c3} ] ]", MAL, NULL, 0, 0, 0},
    {"v5_trailing_byte", 5, "%02x [ 0001 00 [] 00 ]", MAL, NULL, 0, 0, 0},
};
/* clang-format on */

TN_TEST(ack_rows_v5_short_forms_and_props)
{
    ACK_RUN(ack_v5, ALL_ACKS);
}

/* Reason codes: each packet's table (3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1); any other code is a
 * Protocol Error [MQTT-3.4.2-1] [MQTT-3.5.2-1] [MQTT-3.6.2-1] [MQTT-3.7.2-1] (5.0). */
/* clang-format off */
static const struct ack_tpl puback_rcs[] = {
    {"rc10", 5, "%02x 03 0001 10", 0, 0, NULL, 0, 1, 0x10},
    {"rc80", 5, "%02x 03 0001 80", 0, 0, NULL, 0, 1, 0x80},
    {"rc83", 5, "%02x 03 0001 83", 0, 0, NULL, 0, 1, 0x83},
    {"rc87", 5, "%02x 03 0001 87", 0, 0, NULL, 0, 1, 0x87},
    {"rc90", 5, "%02x 03 0001 90", 0, 0, NULL, 0, 1, 0x90},
    {"rc91", 5, "%02x 03 0001 91", 0, 0, NULL, 0, 1, 0x91},
    {"rc97", 5, "%02x 03 0001 97", 0, 0, NULL, 0, 1, 0x97},
    {"rc99", 5, "%02x 03 0001 99", 0, 0, NULL, 0, 1, 0x99},
    {"rc80_reason_and_user", 5,
     "%02x [ 0001 80 [ 1f {'because'} 26 {'a'}{'b'} 26 {'c'}{'d'} ] ]", 0, 0,
     check_reason_and_user, 0, 1, 0x80},
    {"rc8f_v5_3_4_2_1", 5, "%02x 03 0001 8f", PROTO, NULL, 0, 0, 0},
    {"rc92", 5, "%02x 03 0001 92", PROTO, NULL, 0, 0, 0},
    {"rc01", 5, "%02x 03 0001 01", PROTO, NULL, 0, 0, 0},
    {"rc04", 5, "%02x 03 0001 04", PROTO, NULL, 0, 0, 0},
    {"rc81", 5, "%02x 04 0001 81 00", PROTO, NULL, 0, 0, 0},
};
/* clang-format on */

/* clang-format off */
static const struct ack_tpl pubrel_rcs[] = {
    {"rc92", 5, "%02x 03 0001 92", 0, 0, NULL, 0, 1, 0x92},
    {"rc92_reason_and_user", 5,
     "%02x [ 0001 92 [ 1f {'because'} 26 {'a'}{'b'} 26 {'c'}{'d'} ] ]", 0, 0,
     check_reason_and_user, 0, 1, 0x92},
    {"rc10_v5_3_6_2_1", 5, "%02x 03 0001 10", PROTO, NULL, 0, 0, 0},
    {"rc80", 5, "%02x 03 0001 80", PROTO, NULL, 0, 0, 0},
    {"rc8f", 5, "%02x 03 0001 8f", PROTO, NULL, 0, 0, 0},
    {"rc97", 5, "%02x 03 0001 97", PROTO, NULL, 0, 0, 0},
};
/* clang-format on */

TN_TEST(ack_reason_codes_per_type_v5_3_4_2_1)
{
    ACK_RUN(puback_rcs, PUBACK_PUBREC);
    ACK_RUN(pubrel_rcs, PUBREL_PUBCOMP);
}

/* ---- fixed-header flags ------------------------------------------------------------------- */

/* clang-format off */
static const struct pt_row ack_flag_rows[] = {
    /* PUBREL flags are 0010 [MQTT-3.6.1-1] (both specs) */
    {"pubrel_flags_0_311_3_6_1_1", 4, "60 02 0001", MAL, NULL, 0},
    {"pubrel_flags_3_311_3_6_1_1", 4, "63 02 0001", MAL, NULL, 0},
    {"pubrel_flags_a_311_3_6_1_1", 4, "6a 02 0001", MAL, NULL, 0},
    {"pubrel_flags_0_v5_3_6_1_1", 5, "60 02 0001", MAL, NULL, 0},
    {"pubrel_flags_0_v31", 3, "60 02 0001", MAL, NULL, 0},
    /* the others are 0000 [MQTT-2.2.2-2] (3.1.1), [MQTT-2.1.3-1] (5.0) */
    {"puback_flags_2_311_2_2_2_2", 4, "42 02 0001", MAL, NULL, 0},
    {"puback_flags_1_311_2_2_2_2", 4, "41 02 0001", MAL, NULL, 0},
    {"pubrec_flags_2_311_2_2_2_2", 4, "52 02 0001", MAL, NULL, 0},
    {"pubcomp_flags_8_311_2_2_2_2", 4, "78 02 0001", MAL, NULL, 0},
    {"puback_flags_2_v5_2_1_3_1", 5, "42 02 0001", MAL, NULL, 0},
    {"pubrec_flags_f_v5_2_1_3_1", 5, "5f 02 0001", MAL, NULL, 0},
    {"pubcomp_flags_2_v5_2_1_3_1", 5, "72 03 0001 92", MAL, NULL, 0},
};
/* clang-format on */

TN_TEST(ack_fixed_header_flags_311_3_6_1_1)
{
    PT_RUN(ack_flag_rows);
}

/* ---- encoding ---------------------------------------------------------------------------- */

static struct tern_packet ack_pkt(uint8_t type, uint16_t id, uint8_t rc)
{
    struct tern_packet p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.u.ack.packet_id = id;
    p.u.ack.rc = rc;
    return p;
}

/* The encoder writes the shortest form the spec allows (3.4.2.1): 5.0 Success without
 * properties has Remaining Length 2; a reason code without properties, 3. */
TN_TEST(ack_encode_shortest_form_v5_3_4_2_1)
{
    for (unsigned k = 0; k < 4; k++) {
        uint8_t t = (uint8_t)(ack_b0[k] >> 4);
        char want[64];
        struct tern_packet p = ack_pkt(t, 0x0a0b, 0);
        p.flags = 0x0F; /* ignored: the encoder supplies the fixed flags */
        snprintf(want, sizeof(want), "%02x 02 0a0b", ack_b0[k]);
        pt_expect_encoding(&p, TERN_V5, want);
        pt_expect_encoding(&p, TERN_V311, want);
        pt_expect_encoding(&p, TERN_V31, want);

        uint8_t rc = k < 2 ? 0x97 : 0x92;
        p = ack_pkt(t, 1, rc);
        snprintf(want, sizeof(want), "%02x 03 0001 %02x", ack_b0[k], rc);
        pt_expect_encoding(&p, TERN_V5, want);
        /* 3.x acks carry no reason code */
        snprintf(want, sizeof(want), "%02x 02 0001", ack_b0[k]);
        pt_expect_encoding(&p, TERN_V311, want);

        /* Success with a property needs the reason code and the Property Length */
        p = ack_pkt(t, 1, 0);
        tern_props_set(&p.u.ack.props, TERN_PROP_REASON_STRING);
        p.u.ack.props.reason_string = TERN_SLICE_STR("fine");
        snprintf(want, sizeof(want), "%02x [ 0001 00 [ 1f {'fine'} ] ]", ack_b0[k]);
        pt_expect_encoding(&p, TERN_V5, want);
        snprintf(want, sizeof(want), "%02x 02 0001", ack_b0[k]);
        pt_expect_encoding(&p, TERN_V311, want);
    }
}

TN_TEST(ack_encode_user_properties_in_order_v5)
{
    static const struct tern_strpair users[] = {
        {TERN_SLICE_STR("b"), TERN_SLICE_STR("1")},
        {TERN_SLICE_STR("a"), TERN_SLICE_STR("2")},
    };
    struct tern_packet p = ack_pkt(TERN_PUBREC, 9, 0x80);
    tern_props_set(&p.u.ack.props, TERN_PROP_REASON_STRING);
    p.u.ack.props.reason_string = TERN_SLICE_STR("no");
    p.u.ack.props.user = users;
    p.u.ack.props.user_n = 2;
    pt_expect_encoding(&p, TERN_V5, "50 [ 0009 80 [ 1f {'no'} 26 {'b'}{'1'} 26 {'a'}{'2'} ] ]");
}

TN_TEST(ack_encode_errors)
{
    static uint8_t big[65536];
    uint8_t buf[64];
    memset(big, 'r', sizeof(big));
    for (unsigned k = 0; k < 4; k++) {
        uint8_t t = (uint8_t)(ack_b0[k] >> 4);
        struct tern_packet p = ack_pkt(t, 1, 0x80);
        tern_props_set(&p.u.ack.props, TERN_PROP_REASON_STRING);
        p.u.ack.props.reason_string = (tern_slice){big, sizeof(big)};
        TN_EXPECT_EQ_INT(tern_packet_size(&p, TERN_V5), -EINVAL);
        TN_EXPECT_EQ_INT(tern_packet_encode(&p, TERN_V5, buf, sizeof(buf)), -EINVAL);
        p.u.ack.props.reason_string.n = 65535; /* the longest fits */
        TN_EXPECT_EQ_INT(tern_packet_size(&p, TERN_V5), 1 + 3 + 2 + 1 + 3 + 3 + 65535);

        /* a property not allowed in an ack */
        p = ack_pkt(t, 1, 0);
        tern_props_set(&p.u.ack.props, TERN_PROP_TOPIC_ALIAS);
        p.u.ack.props.topic_alias = 1;
        TN_EXPECT_EQ_INT(tern_packet_size(&p, TERN_V5), -EINVAL);
        TN_EXPECT_EQ_INT(tern_packet_encode(&p, TERN_V5, buf, sizeof(buf)), -EINVAL);

        /* packet id 0 cannot be sent [MQTT-2.3.1-1] (3.1.1) */
        p = ack_pkt(t, 0, 0);
        TN_EXPECT_EQ_INT(tern_packet_size(&p, TERN_V311), -EINVAL);
        TN_EXPECT_EQ_INT(tern_packet_encode(&p, TERN_V311, buf, sizeof(buf)), -EINVAL);

        /* an unknown connection level */
        p = ack_pkt(t, 1, 0);
        TN_EXPECT_EQ_INT(tern_packet_size(&p, 6), -EINVAL);
    }
}

TN_TEST_MAIN()
