/* SPDX-License-Identifier: MIT */
/*
 * src/codec/subscribe_test.c - table-driven tests of SUBSCRIBE, SUBACK, UNSUBSCRIBE and
 * UNSUBACK decoding and encoding at levels 3, 4 and 5: fixed flags, entries and their
 * options, iteration order, 5.0 properties, return/reason codes, and encoder errors.
 *
 * Owns: nothing beyond its tables. Thread: single-threaded test binary.
 * Spec: 3.1.1 sections 3.8-3.11, 5.0 sections 3.8-3.11. Rule ids say which spec: _311_ / _v5_.
 * Rows run through packet_test_util.h (framing, byte-at-a-time framing, round trip).
 *
 * Note: the decoder does not judge topic filter syntax ('a/#/b', 'sport+', ''): packet.c
 * leaves that to the receiver, which answers per entry (SUBACK 0x80 in 3.1.1, 0x8F in 5.0).
 * The rows below pin that down.
 */
#include "packet_test_util.h"

#define MAL -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET
#define PROTO -EPROTO, TERN_RC_PROTOCOL_ERROR

/* ---- entry checks ------------------------------------------------------------------------- */

struct want_entry {
    const char *filter;
    uint8_t qos;
    bool nl, rap;
    uint8_t rh;
};

static void expect_entries(const struct tern_packet *p, uint8_t v, const struct want_entry *w,
                           unsigned n)
{
    struct tern_sub_entry got[16];
    TN_EXPECT_EQ_U32(p->u.subscribe.count, n);
    uint32_t k = pt_sub_entries(p, v, got, 16);
    TN_EXPECT_EQ_U32(k, n);
    for (unsigned i = 0; i < n && i < k; i++) {
        TN_EXPECT_SLICE_STR(got[i].filter, w[i].filter);
        TN_EXPECT_EQ_INT(got[i].qos, w[i].qos);
        TN_EXPECT_EQ_INT(got[i].no_local, w[i].nl);
        TN_EXPECT_EQ_INT(got[i].retain_as_published, w[i].rap);
        TN_EXPECT_EQ_INT(got[i].retain_handling, w[i].rh);
    }
}

static void check_one_qos1(const struct tern_packet *p)
{
    static const struct want_entry w[] = {{"a/b", 1, 0, 0, 0}};
    TN_EXPECT_EQ_INT(p->u.subscribe.packet_id, 1);
    expect_entries(p, 4, w, 1);
}

static void check_three_311(const struct tern_packet *p)
{
    static const struct want_entry w[] = {
        {"a", 0, 0, 0, 0}, {"b/+", 1, 0, 0, 0}, {"#", 2, 0, 0, 0}};
    TN_EXPECT_EQ_INT(p->u.subscribe.packet_id, 2);
    expect_entries(p, 4, w, 3);
}

static void check_v5_options(const struct tern_packet *p)
{
    static const struct want_entry w[] = {
        {"a", 2, 1, 1, 2}, {"b", 1, 0, 1, 1}, {"c", 0, 0, 0, 0}, {"d", 0, 1, 0, 0}};
    expect_entries(p, 5, w, 4);
    TN_EXPECT_EQ_U64(p->u.subscribe.props.present, 0);
}

static void check_v5_shared_no_nl(const struct tern_packet *p)
{
    static const struct want_entry w[] = {{"$share/g/a/#", 2, 0, 1, 0}};
    expect_entries(p, 5, w, 1);
}

static void check_sub_id_5(const struct tern_packet *p)
{
    static const uint32_t ids[] = {5};
    pt_expect_sub_ids(&p->u.subscribe.props, ids, 1);
}

static void check_sub_id_max_and_user(const struct tern_packet *p)
{
    static const uint32_t ids[] = {268435455};
    static const char *const kv[] = {"k", "v", "k", "w"};
    pt_expect_sub_ids(&p->u.subscribe.props, ids, 1);
    pt_expect_users(&p->u.subscribe.props, kv, 2);
}

/* The decoder passes filters through; the receiver finds them invalid. */
static void check_first_filter_invalid(const struct tern_packet *p)
{
    struct tern_sub_entry e[4];
    uint32_t k = pt_sub_entries(p, 4, e, 4);
    TN_REQUIRE(k >= 1);
    TN_EXPECT(!tern_topic_filter_is_valid(e[0].filter.p, e[0].filter.n));
}

static void check_unsub_two(const struct tern_packet *p)
{
    static const struct want_entry w[] = {{"a/b", 0, 0, 0, 0}, {"c/#", 0, 0, 0, 0}};
    TN_EXPECT_EQ_INT(p->u.subscribe.packet_id, 0x0a0b);
    expect_entries(p, 4, w, 2);
}

static void check_unsub_v5(const struct tern_packet *p)
{
    static const struct want_entry w[] = {{"a", 0, 0, 0, 0}, {"b", 0, 0, 0, 0}};
    static const char *const kv[] = {"k", "v"};
    expect_entries(p, 5, w, 2);
    pt_expect_users(&p->u.subscribe.props, kv, 1);
}

/* ---- SUBSCRIBE ------------------------------------------------------------------------------ */

/* clang-format off */
static const struct pt_row subscribe_rows[] = {
    {"v311_one", 4, "82 [ 0001 {'a/b'} 01 ]", 0, 0, check_one_qos1, 0},
    {"v31_one", 3, "82 [ 0001 {'a/b'} 01 ]", 0, 0, check_one_qos1, 0},
    {"v311_three_in_order", 4, "82 [ 0002 {'a'} 00 {'b/+'} 01 {'#'} 02 ]", 0, 0,
     check_three_311, 0},
    {"v311_share_is_just_a_filter", 4, "82 [ 0003 {'$share/g/a'} 01 ]", 0, 0, NULL, 0},
    /* filter syntax is the receiver's to judge (see the note at the top) */
    {"v311_filter_hash_not_last", 4, "82 [ 0001 {'a/#/b'} 00 ]", 0, 0,
     check_first_filter_invalid, 0},
    {"v311_filter_plus_in_level", 4, "82 [ 0001 {'sport+'} 00 ]", 0, 0,
     check_first_filter_invalid, 0},
    {"v311_filter_empty", 4, "82 [ 0001 {} 00 ]", 0, 0, check_first_filter_invalid, 0},
    {"v5_filter_hash_not_last", 5, "82 [ 0001 [] {'a/#/b'} 00 ]", 0, 0, NULL, 0},

    /* fixed-header flags 0010 [MQTT-3.8.1-1] (both specs) */
    {"v311_flags_0_311_3_8_1_1", 4, "80 [ 0001 {'a'} 00 ]", MAL, NULL, 0},
    {"v311_flags_3_311_3_8_1_1", 4, "83 [ 0001 {'a'} 00 ]", MAL, NULL, 0},
    {"v5_flags_a_v5_3_8_1_1", 5, "8a [ 0001 [] {'a'} 00 ]", MAL, NULL, 0},
    {"v31_flags_0", 3, "80 [ 0001 {'a'} 00 ]", MAL, NULL, 0},
    /* at least one entry: 3.1.1 [MQTT-3.8.3-3], 5.0 [MQTT-3.8.3-2] */
    {"v311_no_entries_311_3_8_3_3", 4, "82 02 0001", PROTO, NULL, 0},
    {"v5_no_entries_v5_3_8_3_2", 5, "82 [ 0001 [] ]", PROTO, NULL, 0},
    /* reserved option bits: 3.1.1 bits 7-2 [MQTT-3-8.3-4], 5.0 bits 7-6 [MQTT-3.8.3-5] */
    {"v311_option_bit2_311_3_8_3_4", 4, "82 [ 0001 {'a'} 04 ]", MAL, NULL, 0},
    {"v311_option_bit4", 4, "82 [ 0001 {'a'} 10 ]", MAL, NULL, 0},
    {"v311_option_bit7", 4, "82 [ 0001 {'a'} 00 {'b'} 81 ]", MAL, NULL, 0},
    {"v5_option_bit6_v5_3_8_3_5", 5, "82 [ 0001 [] {'a'} 40 ]", MAL, NULL, 0},
    {"v5_option_bit7_v5_3_8_3_5", 5, "82 [ 0001 [] {'a'} 80 ]", MAL, NULL, 0},
    /* requested QoS 3 */
    {"v311_qos3", 4, "82 [ 0001 {'a'} 03 ]", MAL, NULL, 0},
    {"v5_qos3", 5, "82 [ 0001 [] {'a'} 2f ]", MAL, NULL, 0},
    /* packet id 0 [MQTT-2.3.1-1] (3.1.1), [MQTT-2.2.1-3] (5.0) */
    {"v311_packet_id_0_311_2_3_1_1", 4, "82 [ 0000 {'a'} 00 ]", PROTO, NULL, 0},
    {"v5_packet_id_0_v5_2_2_1_3", 5, "82 [ 0000 [] {'a'} 00 ]", PROTO, NULL, 0},
    /* filters are UTF-8 strings [MQTT-3.8.3-1] */
    {"v311_filter_bad_utf8_311_3_8_3_1", 4, "82 [ 0001 {'a' c3} 00 ]", MAL, NULL, 0},
    {"v5_filter_nul", 5, "82 [ 0001 [] {'a' 00} 00 ]", MAL, NULL, 0},
    /* lengths */
    {"v311_missing_options", 4, "82 [ 0001 {'a'} ]", MAL, NULL, 0},
    {"v311_filter_overruns", 4, "82 [ 0001 0009 'ab' ]", MAL, NULL, 0},
    {"v311_second_entry_truncated", 4, "82 [ 0001 {'a'} 00 00 ]", MAL, NULL, 0},
    {"v311_remaining_1", 4, "82 01 00", MAL, NULL, 0},
    {"v5_no_property_length", 5, "82 02 0001", MAL, NULL, 0},

    /* 5.0 options: No Local, Retain As Published, Retain Handling (3.8.3.1) */
    {"v5_all_options", 5, "82 [ 0001 [] {'a'} 2e {'b'} 19 {'c'} 00 {'d'} 04 ]", 0, 0,
     check_v5_options, 0},
    /* Retain Handling 3 is a Protocol Error (3.8.3.1) */
    {"v5_retain_handling_3", 5, "82 [ 0001 [] {'a'} 30 ]", PROTO, NULL, 0},
    /* No Local on a shared subscription [MQTT-3.8.3-4] (5.0) */
    {"v5_no_local_shared_v5_3_8_3_4", 5, "82 [ 0001 [] {'$share/g/a'} 04 ]", PROTO, NULL, 0},
    {"v5_no_local_shared_second", 5, "82 [ 0001 [] {'x'} 04 {'$share/g/#'} 05 ]", PROTO, NULL,
     0},
    {"v5_no_local_bad_share", 5, "82 [ 0001 [] {'$share/g'} 04 ]", PROTO, NULL, 0},
    {"v5_shared_without_no_local", 5, "82 [ 0001 [] {'$share/g/a/#'} 0a ]", 0, 0,
     check_v5_shared_no_nl, 0},
    /* a 3.1.1 reader does not know No Local; bit 2 there is reserved (above) */

    /* 5.0 properties: one Subscription Identifier and User Properties (3.8.2.1) */
    {"v5_subscription_id", 5, "82 [ 0001 [ 0b 05 ] {'a'} 00 ]", 0, 0, check_sub_id_5, 0},
    {"v5_subscription_id_max_and_users", 5,
     "82 [ 0001 [ 0b ff ff ff 7f 26 {'k'}{'v'} 26 {'k'}{'w'} ] {'a'} 00 ]", 0, 0,
     check_sub_id_max_and_user, 0},
    {"v5_subscription_id_0", 5, "82 [ 0001 [ 0b 00 ] {'a'} 00 ]", PROTO, NULL, 0},
    {"v5_subscription_id_twice", 5, "82 [ 0001 [ 0b 01 0b 02 ] {'a'} 00 ]", PROTO, NULL, 0},
    {"v5_message_expiry_not_allowed", 5, "82 [ 0001 [ 02 00000001 ] {'a'} 00 ]", MAL, NULL, 0},
    {"v5_reason_string_not_allowed", 5, "82 [ 0001 [ 1f {'r'} ] {'a'} 00 ]", MAL, NULL, 0},
};
/* clang-format on */

TN_TEST(subscribe_rows_all_levels)
{
    PT_RUN(subscribe_rows);
}

/* Many entries: every one is read back, in order, with its options. */
static void subscribe_many(uint8_t v, unsigned n)
{
    size_t cap = 32 + (size_t)n * 24;
    char *bytes = malloc(cap);
    if (!bytes)
        abort();
    size_t w = (size_t)snprintf(bytes, cap, "82 [ 0007 %s", v == 5 ? "[ 26 {'a'}{'b'} ]" : "");
    for (unsigned i = 0; i < n; i++) {
        unsigned o = i % 3;
        if (v == 5)
            o |= ((i / 3) % 2) << 2 | ((i / 6) % 2) << 3 | ((i / 12) % 3) << 4;
        w += (size_t)snprintf(bytes + w, cap - w, "{'f/%u'} %02x ", i, o);
    }
    snprintf(bytes + w, cap - w, "]");

    struct pt_row row = {"subscribe_many", v, bytes, 0, 0, NULL, 0};
    pt_run_row(&row);

    struct tern_packet pkt;
    uint8_t rc, *f;
    size_t fn;
    TN_EXPECT_EQ_INT(pt_decode_notation(bytes, v, &pkt, &rc, &f, &fn), 0);
    struct tern_sub_entry *e = calloc(n + 1, sizeof(*e));
    if (!e)
        abort();
    TN_EXPECT_EQ_U32(pkt.u.subscribe.count, n);
    TN_EXPECT_EQ_U32(pt_sub_entries(&pkt, v, e, n + 1), n);
    for (unsigned i = 0; i < n; i++) {
        char want[16];
        snprintf(want, sizeof(want), "f/%u", i);
        TN_EXPECT_SLICE_STR(e[i].filter, want);
        TN_EXPECT_EQ_INT(e[i].qos, i % 3);
        TN_EXPECT_EQ_INT(e[i].no_local, v == 5 && (i / 3) % 2);
        TN_EXPECT_EQ_INT(e[i].retain_as_published, v == 5 && (i / 6) % 2);
        TN_EXPECT_EQ_INT(e[i].retain_handling, v == 5 ? (i / 12) % 3 : 0);
    }
    free(e);
    free(f);
    free(bytes);
}

TN_TEST(subscribe_many_entries_in_order)
{
    subscribe_many(TERN_V311, 300);
    subscribe_many(TERN_V5, 300);
    subscribe_many(TERN_V31, 40);
}

/* ---- UNSUBSCRIBE --------------------------------------------------------------------------- */

/* clang-format off */
static const struct pt_row unsubscribe_rows[] = {
    {"v311_two_in_order", 4, "a2 [ 0a0b {'a/b'} {'c/#'} ]", 0, 0, check_unsub_two, 0},
    {"v31_two_in_order", 3, "a2 [ 0a0b {'a/b'} {'c/#'} ]", 0, 0, NULL, 0},
    {"v5_with_user_property", 5, "a2 [ 0001 [ 26 {'k'}{'v'} ] {'a'} {'b'} ]", 0, 0,
     check_unsub_v5, 0},
    {"v311_invalid_filter_passed_through", 4, "a2 [ 0001 {'sport+'} ]", 0, 0,
     check_first_filter_invalid, 0},
    /* fixed-header flags 0010 [MQTT-3.10.1-1] (both specs) */
    {"v311_flags_0_311_3_10_1_1", 4, "a0 [ 0001 {'a'} ]", MAL, NULL, 0},
    {"v311_flags_3_311_3_10_1_1", 4, "a3 [ 0001 {'a'} ]", MAL, NULL, 0},
    {"v5_flags_0_v5_3_10_1_1", 5, "a0 [ 0001 [] {'a'} ]", MAL, NULL, 0},
    /* at least one filter [MQTT-3.10.3-2] (both specs) */
    {"v311_no_entries_311_3_10_3_2", 4, "a2 02 0001", PROTO, NULL, 0},
    {"v5_no_entries_v5_3_10_3_2", 5, "a2 [ 0001 [] ]", PROTO, NULL, 0},
    /* filters are UTF-8 strings [MQTT-3.10.3-1] */
    {"v311_filter_bad_utf8_311_3_10_3_1", 4, "a2 [ 0001 {ff} ]", MAL, NULL, 0},
    {"v311_packet_id_0", 4, "a2 [ 0000 {'a'} ]", PROTO, NULL, 0},
    {"v5_packet_id_0", 5, "a2 [ 0000 [] {'a'} ]", PROTO, NULL, 0},
    {"v311_filter_overruns", 4, "a2 [ 0001 {'a'} 0005 'b' ]", MAL, NULL, 0},
    {"v311_trailing_byte", 4, "a2 [ 0001 {'a'} 00 ]", MAL, NULL, 0},
    /* only User Property is allowed in UNSUBSCRIBE (3.10.2.1) */
    {"v5_subscription_id_not_allowed", 5, "a2 [ 0001 [ 0b 01 ] {'a'} ]", MAL, NULL, 0},
    {"v5_no_property_length", 5, "a2 02 0001", MAL, NULL, 0},
};
/* clang-format on */

TN_TEST(unsubscribe_rows_all_levels)
{
    PT_RUN(unsubscribe_rows);
}

/* ---- SUBACK and UNSUBACK ------------------------------------------------------------------- */

static void check_suback_311(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.suback.packet_id, 1);
    TN_EXPECT_MEM(p->u.suback.rcs.p, p->u.suback.rcs.n, "\x00\x01\x02\x80", 4);
}

static void check_suback_v5(const struct tern_packet *p)
{
    static const uint8_t want[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                   0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2};
    TN_EXPECT_MEM(p->u.suback.rcs.p, p->u.suback.rcs.n, want, sizeof(want));
    TN_EXPECT_EQ_U64(p->u.suback.props.present, 0);
}

static void check_ack_reason_user(const struct tern_packet *p)
{
    static const char *const kv[] = {"k", "v"};
    TN_EXPECT_SLICE_STR(p->u.suback.props.reason_string, "why");
    pt_expect_users(&p->u.suback.props, kv, 1);
    TN_EXPECT_EQ_U32(p->u.suback.rcs.n, 1);
}

static void check_unsuback_311(const struct tern_packet *p)
{
    TN_EXPECT_EQ_INT(p->u.suback.packet_id, 0x1234);
    TN_EXPECT_EQ_U32(p->u.suback.rcs.n, 0);
}

static void check_unsuback_v5(const struct tern_packet *p)
{
    TN_EXPECT_MEM(p->u.suback.rcs.p, p->u.suback.rcs.n, "\x00\x11\x80\x83\x87\x8f\x91", 7);
}

/* clang-format off */
static const struct pt_row suback_rows[] = {
    /* 3.1.1 return codes 0x00, 0x01, 0x02, 0x80 (3.9.3) */
    {"v311_suback_codes", 4, "90 [ 0001 00 01 02 80 ]", 0, 0, check_suback_311, 0},
    {"v31_suback_codes", 3, "90 [ 0001 00 01 02 80 ]", 0, 0, check_suback_311, 0},
    /* other codes are reserved [MQTT-3.9.3-2] (3.1.1) */
    {"v311_suback_code_3_311_3_9_3_2", 4, "90 [ 0001 03 ]", PROTO, NULL, 0},
    {"v311_suback_code_8f_311_3_9_3_2", 4, "90 [ 0001 00 8f ]", PROTO, NULL, 0},
    {"v311_suback_no_codes", 4, "90 02 0001", PROTO, NULL, 0},
    {"v311_suback_flags", 4, "92 [ 0001 00 ]", MAL, NULL, 0},
    {"v311_suback_packet_id_0", 4, "90 [ 0000 00 ]", PROTO, NULL, 0},
    {"v311_suback_remaining_1", 4, "90 01 00", MAL, NULL, 0},
    /* 5.0 reason codes (3.9.3) */
    {"v5_suback_codes", 5, "90 [ 0001 [] 00 01 02 80 83 87 8f 91 97 9e a1 a2 ]", 0, 0,
     check_suback_v5, 0},
    {"v5_suback_reason_and_user", 5, "90 [ 0001 [ 1f {'why'} 26 {'k'}{'v'} ] 87 ]", 0, 0,
     check_ack_reason_user, 0},
    {"v5_suback_code_10", 5, "90 [ 0001 [] 10 ]", PROTO, NULL, 0},
    {"v5_suback_code_03", 5, "90 [ 0001 [] 00 03 ]", PROTO, NULL, 0},
    {"v5_suback_code_81", 5, "90 [ 0001 [] 81 ]", PROTO, NULL, 0},
    {"v5_suback_no_codes", 5, "90 [ 0001 [] ]", PROTO, NULL, 0},
    {"v5_suback_no_property_length", 5, "90 02 0001", MAL, NULL, 0},
    {"v5_suback_subscription_id_not_allowed", 5, "90 [ 0001 [ 0b 01 ] 00 ]", MAL, NULL, 0},
    {"v5_suback_reason_twice", 5, "90 [ 0001 [ 1f {'a'} 1f {'a'} ] 00 ]", PROTO, NULL, 0},

    /* 3.1.1 UNSUBACK: exactly the packet id (3.11) */
    {"v311_unsuback", 4, "b0 02 1234", 0, 0, check_unsuback_311, 0},
    {"v31_unsuback", 3, "b0 02 1234", 0, 0, check_unsuback_311, 0},
    {"v311_unsuback_with_code", 4, "b0 03 0001 00", MAL, NULL, 0},
    {"v311_unsuback_flags", 4, "b2 02 0001", MAL, NULL, 0},
    {"v311_unsuback_packet_id_0", 4, "b0 02 0000", PROTO, NULL, 0},
    {"v311_unsuback_remaining_1", 4, "b0 01 00", MAL, NULL, 0},
    /* 5.0 UNSUBACK: properties and one reason code per filter (3.11.3) */
    {"v5_unsuback_codes", 5, "b0 [ 0001 [] 00 11 80 83 87 8f 91 ]", 0, 0, check_unsuback_v5, 0},
    {"v5_unsuback_reason_and_user", 5, "b0 [ 0001 [ 1f {'why'} 26 {'k'}{'v'} ] 11 ]", 0, 0,
     check_ack_reason_user, 0},
    {"v5_unsuback_code_01", 5, "b0 [ 0001 [] 01 ]", PROTO, NULL, 0},
    {"v5_unsuback_code_a1", 5, "b0 [ 0001 [] 00 a1 ]", PROTO, NULL, 0},
    {"v5_unsuback_no_codes", 5, "b0 [ 0001 [] ]", PROTO, NULL, 0},
    {"v5_unsuback_no_property_length", 5, "b0 02 0001", MAL, NULL, 0},
    {"v5_unsuback_flags", 5, "b1 [ 0001 [] 00 ]", MAL, NULL, 0},
};
/* clang-format on */

TN_TEST(suback_unsuback_rows_all_levels)
{
    PT_RUN(suback_rows);
}

/* ---- encoding ------------------------------------------------------------------------------ */

static const struct tern_sub_entry entries[] = {
    {TERN_SLICE_STR("a/+"), 1, true, false, 0},
    {TERN_SLICE_STR("$share/g/b"), 2, false, true, 2},
    {TERN_SLICE_STR("#"), 0, false, false, 1},
};

static struct tern_packet sub_pkt(uint8_t type, uint16_t id)
{
    struct tern_packet p;
    memset(&p, 0, sizeof(p));
    p.type = type;
    p.flags = 0; /* the encoder supplies 0x2 */
    p.u.subscribe.packet_id = id;
    p.u.subscribe.list = entries;
    p.u.subscribe.count = 3;
    return p;
}

TN_TEST(subscribe_encode_from_list)
{
    struct tern_packet p = sub_pkt(TERN_SUBSCRIBE, 5);
    pt_expect_encoding(&p, TERN_V5, "82 [ 0005 [] {'a/+'} 05 {'$share/g/b'} 2a {'#'} 10 ]");
    /* 3.x has only the QoS in the options byte */
    pt_expect_encoding(&p, TERN_V311, "82 [ 0005 {'a/+'} 01 {'$share/g/b'} 02 {'#'} 00 ]");
    pt_expect_encoding(&p, TERN_V31, "82 [ 0005 {'a/+'} 01 {'$share/g/b'} 02 {'#'} 00 ]");

    p.u.subscribe.props.sub_id_n = 1;
    p.u.subscribe.props.sub_id = 77;
    pt_expect_encoding(&p, TERN_V5, "82 [ 0005 [ 0b 4d ] {'a/+'} 05 {'$share/g/b'} 2a {'#'} 10 ]");

    /* UNSUBSCRIBE uses the filters only */
    p = sub_pkt(TERN_UNSUBSCRIBE, 6);
    pt_expect_encoding(&p, TERN_V311, "a2 [ 0006 {'a/+'} {'$share/g/b'} {'#'} ]");
    pt_expect_encoding(&p, TERN_V5, "a2 [ 0006 [] {'a/+'} {'$share/g/b'} {'#'} ]");
}

TN_TEST(suback_encode)
{
    static const uint8_t codes[] = {0x00, 0x02, 0x80};
    struct tern_packet p;
    memset(&p, 0, sizeof(p));
    p.type = TERN_SUBACK;
    p.u.suback.packet_id = 3;
    p.u.suback.rcs = (tern_slice){codes, sizeof(codes)};
    pt_expect_encoding(&p, TERN_V311, "90 [ 0003 00 02 80 ]");
    pt_expect_encoding(&p, TERN_V5, "90 [ 0003 [] 00 02 80 ]");
    tern_props_set(&p.u.suback.props, TERN_PROP_REASON_STRING);
    p.u.suback.props.reason_string = TERN_SLICE_STR("r");
    pt_expect_encoding(&p, TERN_V5, "90 [ 0003 [ 1f {'r'} ] 00 02 80 ]");
    pt_expect_encoding(&p, TERN_V311, "90 [ 0003 00 02 80 ]");

    /* 3.x UNSUBACK is the packet id alone, whatever rcs holds */
    p.type = TERN_UNSUBACK;
    pt_expect_encoding(&p, TERN_V311, "b0 02 0003");
    static const uint8_t ucodes[] = {0x11, 0x00};
    p.u.suback.rcs = (tern_slice){ucodes, sizeof(ucodes)};
    pt_expect_encoding(&p, TERN_V5, "b0 [ 0003 [ 1f {'r'} ] 11 00 ]");
}

TN_TEST(subscribe_encode_errors)
{
    static uint8_t big[65536];
    uint8_t buf[256];
    memset(big, 'f', sizeof(big));
    struct tern_sub_entry bad[1];
    struct tern_packet p;

#define EXPECT_EINVAL(v)                                                                           \
    do {                                                                                           \
        TN_EXPECT_EQ_INT(tern_packet_size(&p, (v)), -EINVAL);                                      \
        TN_EXPECT_EQ_INT(tern_packet_encode(&p, (v), buf, sizeof(buf)), -EINVAL);                  \
    } while (0)

    /* requested QoS 3 */
    bad[0] = (struct tern_sub_entry){TERN_SLICE_STR("a"), 3, false, false, 0};
    p = sub_pkt(TERN_SUBSCRIBE, 1);
    p.u.subscribe.list = bad;
    p.u.subscribe.count = 1;
    EXPECT_EINVAL(TERN_V311);
    EXPECT_EINVAL(TERN_V5);
    /* Retain Handling 3 */
    bad[0] = (struct tern_sub_entry){TERN_SLICE_STR("a"), 0, false, false, 3};
    EXPECT_EINVAL(TERN_V5);
    /* a filter over 65535 bytes */
    bad[0] = (struct tern_sub_entry){{big, sizeof(big)}, 0, false, false, 0};
    EXPECT_EINVAL(TERN_V311);
    p.type = TERN_UNSUBSCRIBE;
    EXPECT_EINVAL(TERN_V5);
    /* no entries [MQTT-3.8.3-3], packet id 0 [MQTT-2.3.1-1] (3.1.1) */
    p = sub_pkt(TERN_SUBSCRIBE, 1);
    p.u.subscribe.count = 0;
    EXPECT_EINVAL(TERN_V311);
    p = sub_pkt(TERN_UNSUBSCRIBE, 0);
    EXPECT_EINVAL(TERN_V311);
    /* two Subscription Identifiers in a SUBSCRIBE (3.8.2.1.2) */
    static const uint32_t ids[] = {1, 2};
    p = sub_pkt(TERN_SUBSCRIBE, 1);
    p.u.subscribe.props.sub_ids = ids;
    p.u.subscribe.props.sub_id_n = 2;
    EXPECT_EINVAL(TERN_V5);
    /* a property not allowed in SUBSCRIBE */
    p = sub_pkt(TERN_SUBSCRIBE, 1);
    tern_props_set(&p.u.subscribe.props, TERN_PROP_REASON_STRING);
    EXPECT_EINVAL(TERN_V5);
    /* SUBACK with no codes */
    memset(&p, 0, sizeof(p));
    p.type = TERN_SUBACK;
    p.u.suback.packet_id = 1;
    EXPECT_EINVAL(TERN_V311);
    EXPECT_EINVAL(TERN_V5);
#undef EXPECT_EINVAL
}

TN_TEST_MAIN()
