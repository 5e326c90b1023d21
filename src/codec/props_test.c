/* SPDX-License-Identifier: MIT */
/*
 * src/codec/props_test.c - unit tests for MQTT 5 properties: the id/name/kind/context tables,
 * tern_props_decode (contexts, duplicates, value ranges, truncation, UTF-8), the iterator, and
 * tern_props_encode round trips.
 *
 * Owns: nothing beyond its static tables (including its own copy of the spec's property
 * table, written from 5.0 section 2.2.2.2, so the codec's table is checked against it).
 * Thread: single-threaded test binary.
 * Spec: MQTT 5.0 2.2.2 (properties), 3.1.2.11, 3.1.3.2, 3.2.2.3, 3.3.2.3, 3.8.2.1, 3.15.2.2.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"

#include <tern/codec.h>

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the spec's table (5.0 2.2.2.2), written independently of props.c ------------------ */

#define C(t) (1u << (t))
#define CW C(TERN_PROP_CTX_WILL)
#define CACKS (C(TERN_PUBACK) | C(TERN_PUBREC) | C(TERN_PUBREL) | C(TERN_PUBCOMP))

static const struct spec_prop {
    uint8_t id;
    enum tern_prop_kind kind;
    unsigned ctx;
    const char *name;
} spec_props[] = {
    {0x01, TERN_PK_BYTE, C(TERN_PUBLISH) | CW, "Payload Format Indicator"},
    {0x02, TERN_PK_U32, C(TERN_PUBLISH) | CW, "Message Expiry Interval"},
    {0x03, TERN_PK_UTF8, C(TERN_PUBLISH) | CW, "Content Type"},
    {0x08, TERN_PK_UTF8, C(TERN_PUBLISH) | CW, "Response Topic"},
    {0x09, TERN_PK_BINARY, C(TERN_PUBLISH) | CW, "Correlation Data"},
    {0x0B, TERN_PK_VARINT, C(TERN_PUBLISH) | C(TERN_SUBSCRIBE), "Subscription Identifier"},
    {0x11, TERN_PK_U32, C(TERN_CONNECT) | C(TERN_CONNACK) | C(TERN_DISCONNECT),
     "Session Expiry Interval"},
    {0x12, TERN_PK_UTF8, C(TERN_CONNACK), "Assigned Client Identifier"},
    {0x13, TERN_PK_U16, C(TERN_CONNACK), "Server Keep Alive"},
    {0x15, TERN_PK_UTF8, C(TERN_CONNECT) | C(TERN_CONNACK) | C(TERN_AUTH), "Authentication Method"},
    {0x16, TERN_PK_BINARY, C(TERN_CONNECT) | C(TERN_CONNACK) | C(TERN_AUTH), "Authentication Data"},
    {0x17, TERN_PK_BYTE, C(TERN_CONNECT), "Request Problem Information"},
    {0x18, TERN_PK_U32, CW, "Will Delay Interval"},
    {0x19, TERN_PK_BYTE, C(TERN_CONNECT), "Request Response Information"},
    {0x1A, TERN_PK_UTF8, C(TERN_CONNACK), "Response Information"},
    {0x1C, TERN_PK_UTF8, C(TERN_CONNACK) | C(TERN_DISCONNECT), "Server Reference"},
    {0x1F, TERN_PK_UTF8,
     C(TERN_CONNACK) | CACKS | C(TERN_SUBACK) | C(TERN_UNSUBACK) | C(TERN_DISCONNECT) |
         C(TERN_AUTH),
     "Reason String"},
    {0x21, TERN_PK_U16, C(TERN_CONNECT) | C(TERN_CONNACK), "Receive Maximum"},
    {0x22, TERN_PK_U16, C(TERN_CONNECT) | C(TERN_CONNACK), "Topic Alias Maximum"},
    {0x23, TERN_PK_U16, C(TERN_PUBLISH), "Topic Alias"},
    {0x24, TERN_PK_BYTE, C(TERN_CONNACK), "Maximum QoS"},
    {0x25, TERN_PK_BYTE, C(TERN_CONNACK), "Retain Available"},
    {0x26, TERN_PK_PAIR,
     C(TERN_CONNECT) | C(TERN_CONNACK) | C(TERN_PUBLISH) | CW | CACKS | C(TERN_SUBSCRIBE) |
         C(TERN_SUBACK) | C(TERN_UNSUBSCRIBE) | C(TERN_UNSUBACK) | C(TERN_DISCONNECT) |
         C(TERN_AUTH),
     "User Property"},
    {0x27, TERN_PK_U32, C(TERN_CONNECT) | C(TERN_CONNACK), "Maximum Packet Size"},
    {0x28, TERN_PK_BYTE, C(TERN_CONNACK), "Wildcard Subscription Available"},
    {0x29, TERN_PK_BYTE, C(TERN_CONNACK), "Subscription Identifier Available"},
    {0x2A, TERN_PK_BYTE, C(TERN_CONNACK), "Shared Subscription Available"},
};

static const struct spec_prop *spec_find(unsigned id)
{
    for (size_t i = 0; i < NROWS(spec_props); i++)
        if (spec_props[i].id == id)
            return &spec_props[i];
    return NULL;
}

/* Every context that has properties, plus PINGREQ/PINGRESP which have none. */
static const unsigned all_ctx[] = {
    TERN_PROP_CTX_WILL, TERN_CONNECT,  TERN_CONNACK,     TERN_PUBLISH,
    TERN_PUBACK,        TERN_PUBREC,   TERN_PUBREL,      TERN_PUBCOMP,
    TERN_SUBSCRIBE,     TERN_SUBACK,   TERN_UNSUBSCRIBE, TERN_UNSUBACK,
    TERN_PINGREQ,       TERN_PINGRESP, TERN_DISCONNECT,  TERN_AUTH,
};

/* ---- helpers --------------------------------------------------------------------------- */

/* A valid sample value of each kind, as it appears on the wire after the id byte. */
static size_t sample_value(enum tern_prop_kind k, uint8_t *w)
{
    /* clang-format off */
    switch (k) {
    case TERN_PK_BYTE: w[0] = 0x01; return 1;
    case TERN_PK_U16: memcpy(w, "\x12\x34", 2); return 2;
    case TERN_PK_U32: memcpy(w, "\x01\x02\x03\x04", 4); return 4;
    case TERN_PK_VARINT: memcpy(w, "\xac\x02", 2); return 2; /* 300 */
    case TERN_PK_UTF8: memcpy(w, "\x00\x02" "ab", 4); return 4;
    case TERN_PK_BINARY: memcpy(w, "\x00\x02\x00\xff", 4); return 4;
    case TERN_PK_PAIR: memcpy(w, "\x00\x01k\x00\x02vv", 7); return 7;
    default: return 0;
    }
    /* clang-format on */
}

/* Build "length, body" into out from a body; returns the total. */
static size_t with_len(const uint8_t *body, size_t n, uint8_t *out)
{
    unsigned k = tern_varint_encode((uint32_t)n, out);
    memcpy(out + k, body, n);
    return k + n;
}

/* The decoded value of a property, read from the struct's own field (not from the iterator). */
static void field_of(const struct tern_props *p, unsigned id, uint32_t *u, tern_slice *s)
{
    *u = 0;
    *s = (tern_slice){NULL, 0};
    /* clang-format off */
    switch (id) {
    case 0x01: *u = p->payload_format_indicator; break;
    case 0x02: *u = p->message_expiry_interval; break;
    case 0x03: *s = p->content_type; break;
    case 0x08: *s = p->response_topic; break;
    case 0x09: *s = p->correlation_data; break;
    case 0x0B: *u = p->sub_id; break;
    case 0x11: *u = p->session_expiry_interval; break;
    case 0x12: *s = p->assigned_client_identifier; break;
    case 0x13: *u = p->server_keep_alive; break;
    case 0x15: *s = p->authentication_method; break;
    case 0x16: *s = p->authentication_data; break;
    case 0x17: *u = p->request_problem_information; break;
    case 0x18: *u = p->will_delay_interval; break;
    case 0x19: *u = p->request_response_information; break;
    case 0x1A: *s = p->response_information; break;
    case 0x1C: *s = p->server_reference; break;
    case 0x1F: *s = p->reason_string; break;
    case 0x21: *u = p->receive_maximum; break;
    case 0x22: *u = p->topic_alias_maximum; break;
    case 0x23: *u = p->topic_alias; break;
    case 0x24: *u = p->maximum_qos; break;
    case 0x25: *u = p->retain_available; break;
    case 0x27: *u = p->maximum_packet_size; break;
    case 0x28: *u = p->wildcard_subscription_available; break;
    case 0x29: *u = p->subscription_identifier_available; break;
    case 0x2A: *u = p->shared_subscription_available; break;
    default: break;
    }
    /* clang-format on */
}

/* Re-encode a decoded struct the way a forwarder would: user pairs and subscription ids copied
 * out with the iterator, raw cleared, so the encoder works from the fields alone. The result
 * must equal the input bytes. Also checks that the decoded struct re-encodes as it is. */
static void check_round_trip(const uint8_t *in, size_t n, unsigned ctx,
                             const struct tern_props *dec)
{
    struct tern_strpair pairs[16];
    uint32_t subs[16];
    uint32_t np = 0, ns = 0;
    struct tern_prop_iter it;
    tern_props_iter_init(&it, dec);
    while (np < 16 && tern_props_next_user(&it, &pairs[np]))
        np++;
    TN_EXPECT_EQ_U32(np, dec->user_n);
    struct tern_prop pr;
    tern_props_iter_init(&it, dec);
    while (tern_props_iter_next(&it, &pr))
        if (pr.id == TERN_PROP_SUBSCRIPTION_IDENTIFIER && ns < 16)
            subs[ns++] = pr.u;
    TN_EXPECT_EQ_U32(ns, dec->sub_id_n);

    struct tern_props e = *dec;
    e.user = pairs;
    e.user_n = np;
    e.sub_ids = ns > 1 ? subs : NULL;
    e.raw = (tern_slice){NULL, 0};
    uint8_t out[512];
    memset(out, 0xee, sizeof(out));
    int body = tern_props_body_size(&e, ctx);
    int k = tern_props_encode(&e, ctx, out, sizeof(out));
    TN_EXPECT_EQ_INT(k, (int)n);
    TN_EXPECT_EQ_INT(body + (int)tern_varint_size((uint32_t)(body > 0 ? body : 0)), (int)n);
    TN_EXPECT_MEM(out, (size_t)(k > 0 ? k : 0), in, n);
    TN_EXPECT_EQ_HEX(out[n], 0xee);

    /* the decoded struct as it is */
    memset(out, 0xee, sizeof(out));
    k = tern_props_encode(dec, ctx, out, sizeof(out));
    TN_EXPECT_MEM(out, (size_t)(k > 0 ? k : 0), in, n);

    /* too small a buffer: -ENOBUFS, nothing written past cap */
    if (n > 0) {
        memset(out, 0xee, sizeof(out));
        TN_EXPECT_EQ_INT(tern_props_encode(&e, ctx, out, n - 1), -ENOBUFS);
        TN_EXPECT_EQ_HEX(out[n - 1], 0xee);
    }
}

/* Decode expecting failure; reports the input on mismatch. */
static void expect_fail(const uint8_t *in, size_t n, unsigned ctx, int err, uint8_t rc_want,
                        const char *what)
{
    uint8_t *buf = malloc(n ? n : 1); /* exact size: ASan sees an over-read */
    if (!buf)
        abort();
    memcpy(buf, in, n);
    struct tern_props p;
    uint8_t rc = 0;
    int r = tern_props_decode(buf, n, ctx, &p, &rc);
    if (r != err || rc != rc_want) {
        TN_EXPECT_EQ_INT(r, err);
        TN_EXPECT_EQ_HEX(rc, rc_want);
        fprintf(stderr, "    %s, ctx %u\n", what, ctx);
        tn_dump_("input", in, n);
    }
    free(buf);
}

/* Decode expecting success; returns the decoded struct. */
static bool expect_ok(const uint8_t *in, size_t n, unsigned ctx, struct tern_props *p,
                      const char *what)
{
    uint8_t rc = 0xee;
    int r = tern_props_decode(in, n, ctx, p, &rc);
    if (r != (int)n) {
        TN_EXPECT_EQ_INT(r, (int)n);
        fprintf(stderr, "    %s, ctx %u, rc %#x\n", what, ctx, rc);
        tn_dump_("input", in, n);
        return false;
    }
    return true;
}

/* ---- tables ---------------------------------------------------------------------------- */

TN_TEST(prop_tables_match_spec_v5_2_2_2_2)
{
    for (unsigned id = 0; id < 0x80; id++) {
        const struct spec_prop *sp = spec_find(id);
        if (!sp) {
            TN_EXPECT(tern_prop_name(id) == NULL);
            TN_EXPECT_EQ_INT(tern_prop_kind(id), TERN_PK_NONE);
            for (unsigned c = 0; c < 16; c++)
                TN_EXPECT(!tern_prop_allowed(id, c));
            continue;
        }
        const char *nm = tern_prop_name(id);
        TN_EXPECT(nm != NULL && strcmp(nm, sp->name) == 0);
        TN_EXPECT_EQ_INT(tern_prop_kind(id), sp->kind);
        for (unsigned c = 0; c < 16; c++) {
            bool want = (sp->ctx >> c) & 1u;
            if (tern_prop_allowed(id, c) != want) {
                TN_EXPECT(!"tern_prop_allowed disagrees with the spec");
                fprintf(stderr, "    id %#x ctx %u want %d\n", id, c, want);
            }
        }
        TN_EXPECT(!tern_prop_allowed(id, 16));
        TN_EXPECT(!tern_prop_allowed(id, 255));
    }
    /* A few spot checks spelled out. */
    TN_EXPECT(tern_prop_allowed(TERN_PROP_WILL_DELAY_INTERVAL, TERN_PROP_CTX_WILL));
    TN_EXPECT(!tern_prop_allowed(TERN_PROP_WILL_DELAY_INTERVAL, TERN_CONNECT));
    TN_EXPECT(tern_prop_allowed(TERN_PROP_REASON_STRING, TERN_PUBREL));
    TN_EXPECT(!tern_prop_allowed(TERN_PROP_REASON_STRING, TERN_CONNECT));
    TN_EXPECT(!tern_prop_allowed(TERN_PROP_REASON_STRING, TERN_PUBLISH));
    TN_EXPECT(tern_prop_allowed(TERN_PROP_SUBSCRIPTION_IDENTIFIER, TERN_SUBSCRIBE));
    TN_EXPECT(!tern_prop_allowed(TERN_PROP_SUBSCRIPTION_IDENTIFIER, TERN_UNSUBSCRIBE));
    TN_EXPECT(!tern_prop_allowed(TERN_PROP_USER_PROPERTY, TERN_PINGREQ));
    TN_EXPECT(tern_prop_allowed(TERN_PROP_USER_PROPERTY, TERN_AUTH));
    TN_EXPECT(!tern_prop_allowed(TERN_PROP_TOPIC_ALIAS, TERN_PROP_CTX_WILL));
    TN_EXPECT_EQ_INT(tern_prop_kind(TERN_PROP_USER_PROPERTY), TERN_PK_PAIR);
    TN_EXPECT_EQ_INT(tern_prop_kind(TERN_PROP_SUBSCRIPTION_IDENTIFIER), TERN_PK_VARINT);
    TN_EXPECT(tern_prop_name(0x100) == NULL);
}

/* ---- every id in every context --------------------------------------------------------- */

/* Authentication Data needs an Authentication Method beside it (3.1.2.11.10). */
static size_t single_prop_body(const struct spec_prop *sp, uint8_t *body)
{
    size_t n = 0;
    if (sp->id == TERN_PROP_AUTHENTICATION_DATA) {
        memcpy(body, "\x15\x00\x01m", 4);
        n = 4;
    }
    body[n++] = sp->id;
    n += sample_value(sp->kind, body + n);
    return n;
}

TN_TEST(props_every_id_in_every_allowed_context_round_trips)
{
    for (size_t i = 0; i < NROWS(spec_props); i++) {
        const struct spec_prop *sp = &spec_props[i];
        for (size_t c = 0; c < NROWS(all_ctx); c++) {
            unsigned ctx = all_ctx[c];
            if (!((sp->ctx >> ctx) & 1u))
                continue;
            uint8_t body[32], in[40];
            size_t bn = single_prop_body(sp, body);
            size_t n = with_len(body, bn, in);
            struct tern_props p;
            memset(&p, 0x5a, sizeof(p));
            if (!expect_ok(in, n, ctx, &p, sp->name))
                continue;
            TN_EXPECT(tern_props_has(&p, sp->id));
            TN_EXPECT(p.raw.p == in + 1 && p.raw.n == bn);
            uint64_t want_present = 1ull << sp->id;
            if (sp->id == TERN_PROP_AUTHENTICATION_DATA)
                want_present |= 1ull << TERN_PROP_AUTHENTICATION_METHOD;
            TN_EXPECT_EQ_U64(p.present, want_present);
            TN_EXPECT_EQ_U32(p.user_n, sp->id == TERN_PROP_USER_PROPERTY ? 1 : 0);
            TN_EXPECT_EQ_U32(p.sub_id_n, sp->id == TERN_PROP_SUBSCRIPTION_IDENTIFIER ? 1 : 0);
            TN_EXPECT(p.user == NULL);
            TN_EXPECT(p.sub_ids == NULL);
            TN_EXPECT(p.extra.n == 0);

            /* the field holds the value */
            uint32_t u;
            tern_slice s;
            field_of(&p, sp->id, &u, &s);
            /* clang-format off */
            switch (sp->kind) {
            case TERN_PK_BYTE: TN_EXPECT_EQ_U32(u, 1); break;
            case TERN_PK_U16: TN_EXPECT_EQ_U32(u, 0x1234); break;
            case TERN_PK_U32: TN_EXPECT_EQ_U32(u, 0x01020304); break;
            case TERN_PK_VARINT: TN_EXPECT_EQ_U32(u, 300); break;
            case TERN_PK_UTF8: TN_EXPECT_SLICE_STR(s, "ab"); break;
            case TERN_PK_BINARY: TN_EXPECT_MEM(s.p, s.n, "\x00\xff", 2); break;
            default: break;
            }
            /* clang-format on */

            /* the iterator reads it back (the last one, after a possible method) */
            struct tern_prop_iter it;
            struct tern_prop pr, last = {0};
            int cnt = 0;
            tern_props_iter_init(&it, &p);
            while (tern_props_iter_next(&it, &pr)) {
                last = pr;
                cnt++;
            }
            TN_EXPECT_EQ_INT(cnt, sp->id == TERN_PROP_AUTHENTICATION_DATA ? 2 : 1);
            TN_EXPECT_EQ_HEX(last.id, sp->id);
            TN_EXPECT_EQ_INT(last.kind, sp->kind);
            if (sp->kind == TERN_PK_PAIR) {
                TN_EXPECT_SLICE_STR(last.s, "k");
                TN_EXPECT_SLICE_STR(last.v, "vv");
            } else if (sp->kind <= TERN_PK_VARINT) {
                TN_EXPECT_EQ_U32(last.u, u);
            } else {
                TN_EXPECT_MEM(last.s.p, last.s.n, s.p, s.n);
            }
            check_round_trip(in, n, ctx, &p);
        }
    }
}

/* "A Control Packet which contains an Identifier which is not valid for its packet type ... is
 * a Malformed Packet" (5.0 2.2.2.2): 0x81. */
TN_TEST(props_id_not_allowed_in_context_malformed_v5_2_2_2_2)
{
    for (size_t i = 0; i < NROWS(spec_props); i++) {
        const struct spec_prop *sp = &spec_props[i];
        for (size_t c = 0; c < NROWS(all_ctx); c++) {
            unsigned ctx = all_ctx[c];
            if ((sp->ctx >> ctx) & 1u)
                continue;
            uint8_t body[32], in[40];
            size_t bn = 0;
            body[bn++] = sp->id;
            bn += sample_value(sp->kind, body + bn);
            size_t n = with_len(body, bn, in);
            expect_fail(in, n, ctx, -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET, sp->name);

            /* and the encoder refuses to write it */
            struct tern_props e;
            memset(&e, 0, sizeof(e));
            tern_props_set(&e, sp->id);
            if (sp->id == TERN_PROP_USER_PROPERTY) {
                static const struct tern_strpair kv = {{(const uint8_t *)"k", 1},
                                                       {(const uint8_t *)"v", 1}};
                e.user = &kv;
                e.user_n = 1;
            }
            if (sp->id == TERN_PROP_SUBSCRIPTION_IDENTIFIER) {
                e.sub_id = 1;
                e.sub_id_n = 1;
            }
            e.receive_maximum = e.topic_alias = 1;
            e.maximum_packet_size = 1;
            uint8_t out[64];
            TN_EXPECT_EQ_INT(tern_props_encode(&e, ctx, out, sizeof(out)), -EINVAL);
            TN_EXPECT_EQ_INT(tern_props_body_size(&e, ctx), -EINVAL);
        }
    }
}

/* Ids the spec does not define are malformed everywhere, including a two-byte varint id. */
TN_TEST(props_unknown_id_malformed_v5_2_2_2_2)
{
    static const uint8_t ids[] = {0x00, 0x04, 0x05, 0x06, 0x07, 0x0A, 0x0C, 0x10,
                                  0x14, 0x1B, 0x1D, 0x1E, 0x20, 0x2B, 0x3F, 0x7F};
    for (size_t i = 0; i < NROWS(ids); i++) {
        const uint8_t in[] = {0x02, ids[i], 0x00};
        for (size_t c = 0; c < NROWS(all_ctx); c++)
            expect_fail(in, sizeof(in), all_ctx[c], -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET,
                        "unknown id");
    }
    /* 0x81 0x00 would be id 1 in a non-minimal form; 0x80 0x01 is id 128. */
    const uint8_t a[] = {0x03, 0x81, 0x00, 0x01};
    expect_fail(a, sizeof(a), TERN_PUBLISH, -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET,
                "non-minimal id");
    const uint8_t b[] = {0x03, 0x80, 0x01, 0x00};
    expect_fail(b, sizeof(b), TERN_PUBLISH, -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET, "id 128");
}

/* ---- duplicates ------------------------------------------------------------------------ */

/* Every property except User Property (and Subscription Identifier in PUBLISH) may appear once:
 * "It is a Protocol Error to include the X more than once" (3.1.2.11, 3.2.2.3, 3.3.2.3, ...).
 * The duplicate is found whether adjacent or separated by another property. */
TN_TEST(props_duplicate_protocol_error_v5)
{
    for (size_t i = 0; i < NROWS(spec_props); i++) {
        const struct spec_prop *sp = &spec_props[i];
        for (size_t c = 0; c < NROWS(all_ctx); c++) {
            unsigned ctx = all_ctx[c];
            if (!((sp->ctx >> ctx) & 1u))
                continue;
            bool may_repeat = sp->id == TERN_PROP_USER_PROPERTY ||
                              (sp->id == TERN_PROP_SUBSCRIPTION_IDENTIFIER && ctx == TERN_PUBLISH);
            for (int gap = 0; gap < 2; gap++) {
                uint8_t body[64], in[72];
                size_t bn = single_prop_body(sp, body);
                if (gap) { /* a User Property in between */
                    memcpy(body + bn, "\x26\x00\x01x\x00\x00", 6);
                    bn += 6;
                }
                body[bn++] = sp->id;
                bn += sample_value(sp->kind, body + bn);
                size_t n = with_len(body, bn, in);
                if (may_repeat) {
                    struct tern_props p;
                    if (expect_ok(in, n, ctx, &p, sp->name)) {
                        if (sp->id == TERN_PROP_USER_PROPERTY)
                            TN_EXPECT_EQ_U32(p.user_n, 2 + gap);
                        else
                            TN_EXPECT_EQ_U32(p.sub_id_n, 2);
                    }
                } else {
                    expect_fail(in, n, ctx, -EPROTO, TERN_RC_PROTOCOL_ERROR, sp->name);
                }
            }
        }
    }
}

/* Several Subscription Identifiers in one PUBLISH (3.3.2.3.8): all kept, in order; the first
 * in sub_id; they round-trip through sub_ids. */
TN_TEST(props_publish_several_subscription_ids_v5_3_3_2_3_8)
{
    const uint8_t in[] = {0x09, 0x0b, 0x01, 0x0b, 0xff, 0xff, 0xff, 0x7f, 0x0b, 0x05};
    struct tern_props p;
    TN_REQUIRE(expect_ok(in, sizeof(in), TERN_PUBLISH, &p, "3 sub ids"));
    TN_EXPECT_EQ_U32(p.sub_id_n, 3);
    TN_EXPECT_EQ_U32(p.sub_id, 1);
    struct tern_prop_iter it;
    struct tern_prop pr;
    static const uint32_t want[] = {1, 268435455, 5};
    int k = 0;
    tern_props_iter_init(&it, &p);
    while (tern_props_iter_next(&it, &pr)) {
        TN_REQUIRE(k < 3);
        TN_EXPECT_EQ_HEX(pr.id, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
        TN_EXPECT_EQ_U32(pr.u, want[k]);
        k++;
    }
    TN_EXPECT_EQ_INT(k, 3);
    check_round_trip(in, sizeof(in), TERN_PUBLISH, &p);
    /* SUBSCRIBE carries at most one (3.8.2.1.2) */
    expect_fail(in, sizeof(in), TERN_SUBSCRIBE, -EPROTO, TERN_RC_PROTOCOL_ERROR,
                "sub ids in SUBSCRIBE");
}

/* ---- value ranges ---------------------------------------------------------------------- */

struct range_row {
    const char *what;
    unsigned ctx;
    uint8_t n;
    uint8_t b[12];
    int err;    /* 0: valid */
    uint8_t rc; /* when err */
};

#define OK 0, 0
#define PROTO -EPROTO, TERN_RC_PROTOCOL_ERROR
#define MALF -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET

/* clang-format off */
static const struct range_row range_rows[] = {
    /* byte flags are 0 or 1 */
    {"payload format indicator 0", TERN_PUBLISH, 3, {0x02, 0x01, 0x00}, OK},
    {"payload format indicator 1", TERN_PUBLISH, 3, {0x02, 0x01, 0x01}, OK},
    {"payload format indicator 2", TERN_PUBLISH, 3, {0x02, 0x01, 0x02}, PROTO},
    {"payload format indicator 255", TERN_PUBLISH, 3, {0x02, 0x01, 0xff}, PROTO},
    {"will payload format indicator 2", TERN_PROP_CTX_WILL, 3, {0x02, 0x01, 0x02}, PROTO},
    {"request problem information 0", TERN_CONNECT, 3, {0x02, 0x17, 0x00}, OK},
    {"request problem information 2", TERN_CONNECT, 3, {0x02, 0x17, 0x02}, PROTO},
    {"request response information 1", TERN_CONNECT, 3, {0x02, 0x19, 0x01}, OK},
    {"request response information 2", TERN_CONNECT, 3, {0x02, 0x19, 0x02}, PROTO},
    {"maximum qos 0", TERN_CONNACK, 3, {0x02, 0x24, 0x00}, OK},
    {"maximum qos 1", TERN_CONNACK, 3, {0x02, 0x24, 0x01}, OK},
    {"maximum qos 2 (3.2.2.3.4)", TERN_CONNACK, 3, {0x02, 0x24, 0x02}, PROTO},
    {"retain available 2", TERN_CONNACK, 3, {0x02, 0x25, 0x02}, PROTO},
    {"wildcard sub available 2", TERN_CONNACK, 3, {0x02, 0x28, 0x02}, PROTO},
    {"sub id available 2", TERN_CONNACK, 3, {0x02, 0x29, 0x02}, PROTO},
    {"shared sub available 2", TERN_CONNACK, 3, {0x02, 0x2a, 0x02}, PROTO},
    {"shared sub available 0", TERN_CONNACK, 3, {0x02, 0x2a, 0x00}, OK},
    /* receive maximum 1..65535 (3.1.2.11.3, 3.2.2.3.3) */
    {"receive maximum 0 CONNECT", TERN_CONNECT, 4, {0x03, 0x21, 0x00, 0x00}, PROTO},
    {"receive maximum 0 CONNACK", TERN_CONNACK, 4, {0x03, 0x21, 0x00, 0x00}, PROTO},
    {"receive maximum 1", TERN_CONNECT, 4, {0x03, 0x21, 0x00, 0x01}, OK},
    {"receive maximum 65535", TERN_CONNACK, 4, {0x03, 0x21, 0xff, 0xff}, OK},
    /* topic alias maximum 0 means "no aliases": allowed */
    {"topic alias maximum 0", TERN_CONNECT, 4, {0x03, 0x22, 0x00, 0x00}, OK},
    /* topic alias 0: "a Protocol Error, the receiver uses DISCONNECT with Reason Code of
     * 0x94 (Topic Alias invalid)" (3.3.4); the sender side is [MQTT-3.3.2-8] */
    {"topic alias 0", TERN_PUBLISH, 4, {0x03, 0x23, 0x00, 0x00}, -EPROTO,
     TERN_RC_TOPIC_ALIAS_INVALID},
    {"topic alias 1", TERN_PUBLISH, 4, {0x03, 0x23, 0x00, 0x01}, OK},
    /* maximum packet size 0 (3.1.2.11.4, 3.2.2.3.6) */
    {"maximum packet size 0 CONNECT", TERN_CONNECT, 6, {0x05, 0x27, 0, 0, 0, 0}, PROTO},
    {"maximum packet size 0 CONNACK", TERN_CONNACK, 6, {0x05, 0x27, 0, 0, 0, 0}, PROTO},
    {"maximum packet size 1", TERN_CONNECT, 6, {0x05, 0x27, 0, 0, 0, 1}, OK},
    /* server keep alive, session expiry: 0 is a meaningful value */
    {"server keep alive 0", TERN_CONNACK, 4, {0x03, 0x13, 0x00, 0x00}, OK},
    {"session expiry 0xffffffff", TERN_CONNECT, 6, {0x05, 0x11, 0xff, 0xff, 0xff, 0xff}, OK},
    /* subscription identifier 1..268435455 (3.3.2.3.8, 3.8.2.1.2) */
    {"sub id 0 PUBLISH", TERN_PUBLISH, 3, {0x02, 0x0b, 0x00}, PROTO},
    {"sub id 0 SUBSCRIBE", TERN_SUBSCRIBE, 3, {0x02, 0x0b, 0x00}, PROTO},
    {"sub id 1", TERN_SUBSCRIBE, 3, {0x02, 0x0b, 0x01}, OK},
    {"sub id 268435455", TERN_SUBSCRIBE, 6, {0x05, 0x0b, 0xff, 0xff, 0xff, 0x7f}, OK},
    {"sub id 5-byte varint", TERN_SUBSCRIBE, 7, {0x06, 0x0b, 0xff, 0xff, 0xff, 0xff, 0x01},
     MALF},
    {"sub id 5-byte varint PUBLISH", TERN_PUBLISH, 7,
     {0x06, 0x0b, 0x80, 0x80, 0x80, 0x80, 0x01}, MALF},
    {"sub id non-minimal [MQTT-1.5.5-1]", TERN_SUBSCRIBE, 4, {0x03, 0x0b, 0x81, 0x00}, MALF},
    {"sub id truncated varint", TERN_SUBSCRIBE, 3, {0x02, 0x0b, 0x80}, MALF},
    /* authentication data needs a method (3.1.2.11.10, 3.2.2.3.18) */
    {"auth data without method", TERN_CONNECT, 4, {0x03, 0x16, 0x00, 0x00}, PROTO},
    {"auth data with method", TERN_AUTH, 8, {0x07, 0x15, 0x00, 0x01, 'm', 0x16, 0x00, 0x00},
     OK},
};
/* clang-format on */

TN_TEST(props_value_ranges_v5)
{
    for (size_t i = 0; i < NROWS(range_rows); i++) {
        const struct range_row *r = &range_rows[i];
        if (r->err) {
            expect_fail(r->b, r->n, r->ctx, r->err, r->rc, r->what);
            continue;
        }
        struct tern_props p;
        if (expect_ok(r->b, r->n, r->ctx, &p, r->what)) {
            /* the value is stored */
            uint32_t u;
            tern_slice s;
            unsigned id = r->b[1];
            field_of(&p, id, &u, &s);
            if (tern_prop_kind(id) == TERN_PK_BYTE)
                TN_EXPECT_EQ_U32(u, r->b[2]);
            else if (tern_prop_kind(id) == TERN_PK_U16)
                TN_EXPECT_EQ_U32(u, (uint32_t)r->b[2] << 8 | r->b[3]);
            check_round_trip(r->b, r->n, r->ctx, &p);
        }
    }
}

/* ---- truncation and lengths ------------------------------------------------------------ */

/* clang-format off */
static const struct range_row trunc_rows[] = {
    {"empty input (no property length)", TERN_PUBLISH, 0, {0}, MALF},
    {"property length truncated varint", TERN_PUBLISH, 1, {0x80}, MALF},
    {"property length non-minimal", TERN_PUBLISH, 2, {0x80, 0x00}, MALF},
    {"property length 5 bytes", TERN_PUBLISH, 5, {0xff, 0xff, 0xff, 0xff, 0x7f}, MALF},
    {"property length beyond buffer", TERN_PUBLISH, 3, {0x05, 0x01, 0x01}, MALF},
    {"property length beyond buffer by 1", TERN_CONNACK, 5, {0x05, 0x13, 0x00, 0x0a, 0x24},
     MALF},
    {"byte value missing", TERN_PUBLISH, 2, {0x01, 0x01}, MALF},
    {"u16 value cut", TERN_PUBLISH, 3, {0x02, 0x23, 0x00}, MALF},
    {"u32 value cut", TERN_PUBLISH, 4, {0x03, 0x02, 0x00, 0x00}, MALF},
    {"string length cut", TERN_PUBLISH, 3, {0x02, 0x03, 0x00}, MALF},
    {"string body cut", TERN_PUBLISH, 5, {0x04, 0x03, 0x00, 0x02, 'a'}, MALF},
    /* The list says 4 bytes; the string claims 5 more, which the buffer has but the list does
     * not: values must stay inside the property length. */
    {"string runs past property length", TERN_PUBLISH, 10,
     {0x04, 0x03, 0x00, 0x05, 'a', 'b', 'c', 'd', 'e', 'f'}, MALF},
    {"u32 runs past property length", TERN_CONNECT, 8,
     {0x03, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, MALF},
    {"binary body cut", TERN_PUBLISH, 5, {0x04, 0x09, 0x00, 0x03, 0x00}, MALF},
    {"pair without value", TERN_PUBLISH, 5, {0x04, 0x26, 0x00, 0x01, 'k'}, MALF},
    {"pair value cut", TERN_PUBLISH, 8, {0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x02, 'v'}, MALF},
    {"id only", TERN_AUTH, 2, {0x01, 0x1f}, MALF},
};
/* clang-format on */

TN_TEST(props_truncated_malformed_v5)
{
    for (size_t i = 0; i < NROWS(trunc_rows); i++)
        expect_fail(trunc_rows[i].b, trunc_rows[i].n, trunc_rows[i].ctx, trunc_rows[i].err,
                    trunc_rows[i].rc, trunc_rows[i].what);
}

/* A valid list, cut at every byte (buffer short) and with its length prefix shortened to every
 * value that does not fall on a property boundary: always 0x81, never a read past the end. */
TN_TEST(props_every_truncation_malformed_v5)
{
    /* clang-format off */
    static const uint8_t body[] = {
        0x01, 0x01,                                    /* payload format indicator */
        0x02, 0x00, 0x00, 0x00, 0x3c,                  /* message expiry */
        0x03, 0x00, 0x04, 't', 'e', 'x', 't',          /* content type */
        0x09, 0x00, 0x02, 0x01, 0x02,                  /* correlation data */
        0x0b, 0x80, 0x01,                              /* sub id 128 */
        0x23, 0x00, 0x07,                              /* topic alias */
        0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v',        /* user property */
    };
    /* clang-format on */
    static const size_t bounds[] = {0, 2, 7, 14, 19, 22, 25, sizeof(body)};
    uint8_t in[64];
    size_t n = with_len(body, sizeof(body), in);
    struct tern_props p;
    TN_REQUIRE(expect_ok(in, n, TERN_PUBLISH, &p, "full list"));
    TN_EXPECT_EQ_U32(p.sub_id, 128);
    TN_EXPECT_EQ_U32(p.topic_alias, 7);
    TN_EXPECT_EQ_U32(p.user_n, 1);
    for (size_t cut = 0; cut < n; cut++)
        expect_fail(in, cut, TERN_PUBLISH, -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET,
                    "buffer cut");
    for (size_t len = 0; len < sizeof(body); len++) {
        uint8_t in2[64];
        size_t n2 = with_len(body, len, in2);
        bool boundary = false;
        for (size_t b = 0; b < NROWS(bounds); b++)
            boundary |= bounds[b] == len;
        if (boundary) {
            struct tern_props q;
            expect_ok(in2, n2, TERN_PUBLISH, &q, "cut at a boundary");
        } else {
            expect_fail(in2, n2, TERN_PUBLISH, -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET,
                        "length cut");
        }
    }
}

/* Bytes after the property list are not consumed: the return is the list's own size. */
TN_TEST(props_decode_returns_own_length)
{
    const uint8_t in[] = {0x03, 0x23, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef};
    struct tern_props p;
    uint8_t rc = 0;
    TN_EXPECT_EQ_INT(tern_props_decode(in, sizeof(in), TERN_PUBLISH, &p, &rc), 4);
    TN_EXPECT_EQ_U32(p.topic_alias, 5);
    TN_EXPECT(p.raw.p == in + 1 && p.raw.n == 3);
    /* an empty list */
    const uint8_t z[] = {0x00, 0xff};
    TN_EXPECT_EQ_INT(tern_props_decode(z, sizeof(z), TERN_CONNECT, &p, &rc), 1);
    TN_EXPECT_EQ_U64(p.present, 0);
    TN_EXPECT_EQ_U32(p.user_n, 0);
    TN_EXPECT_EQ_U32(p.raw.n, 0);
}

/* ---- UTF-8 in string properties ---------------------------------------------------------- */

/* A UTF-8 string property holding ill-formed UTF-8 or U+0000 is malformed [MQTT-1.5.4-1]
 * [MQTT-1.5.4-2]; Binary Data (Correlation Data, Authentication Data) may hold any bytes. */
TN_TEST(props_invalid_utf8_malformed_v5_1_5_4_1)
{
    static const struct {
        uint8_t n;
        uint8_t b[3];
    } bad[] = {{1, {0xff}},       {2, {'a', 0x00}}, {3, {0xed, 0xa0, 0x80}},
               {2, {0xc0, 0x80}}, {1, {0x80}},      {2, {0xe2, 0x82}}};
    static const struct {
        uint8_t id;
        unsigned ctx;
    } where[] = {{0x03, TERN_PUBLISH}, {0x08, TERN_PROP_CTX_WILL}, {0x12, TERN_CONNACK},
                 {0x15, TERN_CONNECT}, {0x1A, TERN_CONNACK},       {0x1C, TERN_DISCONNECT},
                 {0x1F, TERN_PUBACK},  {0x1F, TERN_AUTH}};
    for (size_t i = 0; i < NROWS(bad); i++) {
        for (size_t w = 0; w < NROWS(where); w++) {
            uint8_t body[16], in[20];
            size_t bn = 0;
            body[bn++] = where[w].id;
            body[bn++] = 0;
            body[bn++] = bad[i].n;
            memcpy(body + bn, bad[i].b, bad[i].n);
            bn += bad[i].n;
            size_t n = with_len(body, bn, in);
            expect_fail(in, n, where[w].ctx, -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET,
                        "bad utf8 string");
        }
        /* in a User Property key, then value */
        for (int side = 0; side < 2; side++) {
            uint8_t body[24], in[28];
            size_t bn = 0;
            body[bn++] = 0x26;
            if (side) {
                memcpy(body + bn, "\x00\x01k", 3);
                bn += 3;
            }
            body[bn++] = 0;
            body[bn++] = bad[i].n;
            memcpy(body + bn, bad[i].b, bad[i].n);
            bn += bad[i].n;
            if (!side) {
                memcpy(body + bn, "\x00\x01v", 3);
                bn += 3;
            }
            size_t n = with_len(body, bn, in);
            expect_fail(in, n, TERN_SUBACK, -TERN_EMALFORMED, TERN_RC_MALFORMED_PACKET,
                        side ? "bad utf8 user value" : "bad utf8 user key");
        }
        /* as binary data it is fine */
        uint8_t body[16], in[20];
        size_t bn = 0;
        body[bn++] = 0x09;
        body[bn++] = 0;
        body[bn++] = bad[i].n;
        memcpy(body + bn, bad[i].b, bad[i].n);
        bn += bad[i].n;
        size_t n = with_len(body, bn, in);
        struct tern_props p;
        if (expect_ok(in, n, TERN_PUBLISH, &p, "binary correlation data"))
            TN_EXPECT_MEM(p.correlation_data.p, p.correlation_data.n, bad[i].b, bad[i].n);
    }
}

/* ---- user properties ------------------------------------------------------------------- */

/* User Properties keep their order, may repeat a key, and may be empty strings (3.3.2.3.7:
 * "the order of User Properties ... MUST be maintained" [MQTT-3.3.2-18] for forwarding). */
TN_TEST(props_user_properties_in_order_v5_3_3_2_18)
{
    /* clang-format off */
    static const uint8_t body[] = {
        0x26, 0x00, 0x01, 'a', 0x00, 0x01, '1',
        0x23, 0x00, 0x09, /* topic alias in between */
        0x26, 0x00, 0x01, 'b', 0x00, 0x01, '2',
        0x26, 0x00, 0x01, 'a', 0x00, 0x01, '3',
        0x26, 0x00, 0x00, 0x00, 0x00,
    };
    /* clang-format on */
    uint8_t in[64];
    size_t n = with_len(body, sizeof(body), in);
    struct tern_props p;
    TN_REQUIRE(expect_ok(in, n, TERN_PUBLISH, &p, "user properties"));
    TN_EXPECT_EQ_U32(p.user_n, 4);
    TN_EXPECT_EQ_U32(p.topic_alias, 9);
    TN_EXPECT(tern_props_has(&p, TERN_PROP_USER_PROPERTY));
    static const char *const want[][2] = {{"a", "1"}, {"b", "2"}, {"a", "3"}, {"", ""}};
    struct tern_prop_iter it;
    struct tern_strpair kv;
    size_t k = 0;
    tern_props_iter_init(&it, &p);
    while (tern_props_next_user(&it, &kv)) {
        TN_REQUIRE(k < 4);
        TN_EXPECT_SLICE_STR(kv.k, want[k][0]);
        TN_EXPECT_SLICE_STR(kv.v, want[k][1]);
        k++;
    }
    TN_EXPECT_EQ_INT(k, 4);
    TN_EXPECT_EQ_INT(tern_props_next_user(&it, &kv), 0); /* stays at the end */

    /* The encoder writes scalars first, then User Properties in their order. */
    /* clang-format off */
    static const uint8_t canon[] = {
        0x1d, 0x23, 0x00, 0x09,
        0x26, 0x00, 0x01, 'a', 0x00, 0x01, '1',
        0x26, 0x00, 0x01, 'b', 0x00, 0x01, '2',
        0x26, 0x00, 0x01, 'a', 0x00, 0x01, '3',
        0x26, 0x00, 0x00, 0x00, 0x00,
    };
    /* clang-format on */
    uint8_t out[64];
    int r = tern_props_encode(&p, TERN_PUBLISH, out, sizeof(out));
    TN_EXPECT_MEM(out, (size_t)(r > 0 ? r : 0), canon, sizeof(canon));
}

/* Length of a property body laid out in a zero-padded array, walked with the spec's kinds. */
static size_t spec_body_len(const uint8_t *b, size_t cap)
{
    size_t i = 0;
    while (i < cap && b[i] != 0) {
        const struct spec_prop *sp = spec_find(b[i]);
        if (!sp)
            return 0;
        i++;
        /* clang-format off */
        switch (sp->kind) {
        case TERN_PK_BYTE: i += 1; break;
        case TERN_PK_U16: i += 2; break;
        case TERN_PK_U32: i += 4; break;
        case TERN_PK_VARINT:
            while (b[i] & 0x80)
                i++;
            i++;
            break;
        case TERN_PK_UTF8:
        case TERN_PK_BINARY: i += 2 + ((size_t)b[i] << 8 | b[i + 1]); break;
        case TERN_PK_PAIR:
            i += 2 + ((size_t)b[i] << 8 | b[i + 1]);
            i += 2 + ((size_t)b[i] << 8 | b[i + 1]);
            break;
        default: return 0;
        }
        /* clang-format on */
    }
    return i;
}

/* ---- multi-property round trips ---------------------------------------------------------- */

/* A full list per context, in the encoder's documented order (ascending id, Subscription
 * Identifiers at their id, User Properties last): decode -> encode gives the same bytes. */
TN_TEST(props_full_lists_round_trip)
{
    static const struct {
        unsigned ctx;
        uint8_t body[80]; /* ends at the first id 0 (zero padding) */
                          /* clang-format off */
    } lists[] = {
        {TERN_CONNECT,
         {0x11, 0, 0, 0x0e, 0x10, 0x15, 0, 2, 'g', 's', 0x16, 0, 1, 0x42, 0x17, 0, 0x19, 1,
          0x21, 0, 20, 0x22, 0, 5, 0x27, 0, 1, 0, 0, 0x26, 0, 1, 'a', 0, 1, 'b', 0, 0}},
        {TERN_PROP_CTX_WILL,
         {0x01, 1, 0x02, 0, 0, 0, 9, 0x03, 0, 1, 't', 0x08, 0, 1, 'r', 0x09, 0, 1, 0xcc, 0x18,
          0, 0, 0, 30, 0x26, 0, 1, 'k', 0, 1, 'v'}},
        {TERN_CONNACK,
         {0x11, 0, 0, 0, 60, 0x12, 0, 2, 'i', 'd', 0x13, 0, 30, 0x1a, 0, 1, 'r', 0x1c, 0, 1,
          's', 0x1f, 0, 1, 'x', 0x21, 0, 10, 0x22, 0, 3, 0x24, 1, 0x25, 0, 0x27, 0, 0, 1, 0,
          0x28, 1, 0x29, 0, 0x2a, 1, 0x26, 0, 0, 0, 0}},
        {TERN_PUBLISH,
         {0x01, 0, 0x0b, 0x02, 0x0b, 0x80, 0x01, 0x23, 0, 4, 0x26, 0, 1, 'a', 0, 1, '1', 0x26,
          0, 1, 'b', 0, 1, '2'}},
        {TERN_SUBSCRIBE, {0x0b, 0x7f, 0x26, 0, 1, 'a', 0, 1, 'b'}},
        {TERN_DISCONNECT,
         {0x11, 0, 0, 0, 0, 0x1c, 0, 1, 'h', 0x1f, 0, 1, 'r', 0x26, 0, 0, 0, 0}},
        {TERN_AUTH, {0x15, 0, 3, 'S', 'C', 'R', 0x16, 0, 2, 1, 2, 0x1f, 0, 1, 'c'}},
        {TERN_PUBREL, {0x1f, 0, 1, 'x', 0x26, 0, 0, 0, 0}},
    };
                          /* clang-format on */
    for (size_t i = 0; i < NROWS(lists); i++) {
        uint8_t in[96];
        size_t bn = spec_body_len(lists[i].body, sizeof(lists[i].body));
        TN_REQUIRE(bn > 0);
        size_t n = with_len(lists[i].body, bn, in);
        struct tern_props p;
        if (!expect_ok(in, n, lists[i].ctx, &p, "full list"))
            continue;
        check_round_trip(in, n, lists[i].ctx, &p);
    }
}

/* ---- encoder ----------------------------------------------------------------------------- */

TN_TEST(props_encode_zeroed_struct_is_empty_list)
{
    struct tern_props z;
    memset(&z, 0, sizeof(z));
    uint8_t out[4] = {0xee, 0xee, 0xee, 0xee};
    TN_EXPECT_EQ_INT(tern_props_body_size(&z, TERN_PUBLISH), 0);
    TN_EXPECT_EQ_INT(tern_props_encode(&z, TERN_PUBLISH, out, sizeof(out)), 1);
    TN_EXPECT_EQ_HEX(out[0], 0x00);
    TN_EXPECT_EQ_HEX(out[1], 0xee);
    TN_EXPECT_EQ_INT(tern_props_encode(&z, TERN_PINGREQ, out, sizeof(out)), 1);
    TN_EXPECT_EQ_INT(tern_props_encode(&z, TERN_PUBLISH, out, 0), -ENOBUFS);
}

/* `extra` is appended verbatim after everything else. */
TN_TEST(props_encode_extra_appended)
{
    struct tern_props e;
    memset(&e, 0, sizeof(e));
    tern_props_set(&e, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
    e.message_expiry_interval = 0x10;
    static const uint8_t fwd[] = {0x03, 0x00, 0x01, 'j'};
    e.extra = (tern_slice){fwd, sizeof(fwd)};
    uint8_t out[32];
    int r = tern_props_encode(&e, TERN_PUBLISH, out, sizeof(out));
    static const uint8_t want[] = {0x09, 0x02, 0x00, 0x00, 0x00, 0x10, 0x03, 0x00, 0x01, 'j'};
    TN_EXPECT_MEM(out, (size_t)(r > 0 ? r : 0), want, sizeof(want));
}

/* A property list needing a 2-byte length prefix. */
TN_TEST(props_encode_long_list_two_byte_length)
{
    static uint8_t big[200];
    memset(big, 'x', sizeof(big));
    struct tern_props e;
    memset(&e, 0, sizeof(e));
    tern_props_set(&e, TERN_PROP_REASON_STRING);
    e.reason_string = (tern_slice){big, sizeof(big)};
    uint8_t out[256];
    int r = tern_props_encode(&e, TERN_PUBACK, out, sizeof(out));
    TN_REQUIRE(r == 2 + 3 + 200);
    TN_EXPECT_EQ_HEX(out[0], 0xcb); /* 203 = 0xcb 0x01 */
    TN_EXPECT_EQ_HEX(out[1], 0x01);
    struct tern_props p;
    TN_REQUIRE(expect_ok(out, (size_t)r, TERN_PUBACK, &p, "long reason string"));
    TN_EXPECT_MEM(p.reason_string.p, p.reason_string.n, big, sizeof(big));
}

/* Values the encoder must refuse (-EINVAL): a string over 65535 bytes, a Subscription
 * Identifier of 0 or above 268435455, several Subscription Identifiers outside PUBLISH. */
TN_TEST(props_encode_invalid_values_einval)
{
    uint8_t *big = calloc(1, 65536);
    TN_REQUIRE(big != NULL);
    uint8_t out[64];
    struct tern_props e;
    memset(&e, 0, sizeof(e));
    tern_props_set(&e, TERN_PROP_CONTENT_TYPE);
    e.content_type = (tern_slice){big, 65536};
    TN_EXPECT_EQ_INT(tern_props_body_size(&e, TERN_PUBLISH), -EINVAL);
    TN_EXPECT_EQ_INT(tern_props_encode(&e, TERN_PUBLISH, out, sizeof(out)), -EINVAL);
    free(big);

    memset(&e, 0, sizeof(e));
    tern_props_set(&e, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
    e.sub_id_n = 1;
    e.sub_id = 0;
    TN_EXPECT_EQ_INT(tern_props_encode(&e, TERN_SUBSCRIBE, out, sizeof(out)), -EINVAL);
    e.sub_id = 268435456u;
    TN_EXPECT_EQ_INT(tern_props_encode(&e, TERN_SUBSCRIBE, out, sizeof(out)), -EINVAL);
    e.sub_id = 268435455u;
    TN_EXPECT_EQ_INT(tern_props_encode(&e, TERN_SUBSCRIBE, out, sizeof(out)), 6);
    static const uint32_t two[] = {1, 2};
    e.sub_ids = two;
    e.sub_id_n = 2;
    TN_EXPECT_EQ_INT(tern_props_encode(&e, TERN_SUBSCRIBE, out, sizeof(out)), -EINVAL);
    TN_EXPECT_EQ_INT(tern_props_encode(&e, TERN_PUBLISH, out, sizeof(out)), 5);
}

/* The encoder should not write what its own decoder calls a protocol error (the header promises
 * -EINVAL for "value out of range"): Maximum QoS 2, Receive Maximum 0, Topic Alias 0, Maximum
 * Packet Size 0, a byte flag of 2. */
TN_TEST(props_encode_out_of_range_values_einval)
{
    static const struct {
        uint8_t id;
        unsigned ctx;
    } rows[] = {{TERN_PROP_MAXIMUM_QOS, TERN_CONNACK},
                {TERN_PROP_RECEIVE_MAXIMUM, TERN_CONNECT},
                {TERN_PROP_TOPIC_ALIAS, TERN_PUBLISH},
                {TERN_PROP_MAXIMUM_PACKET_SIZE, TERN_CONNACK},
                {TERN_PROP_PAYLOAD_FORMAT_INDICATOR, TERN_PUBLISH},
                {TERN_PROP_RETAIN_AVAILABLE, TERN_CONNACK}};
    for (size_t i = 0; i < NROWS(rows); i++) {
        struct tern_props e;
        memset(&e, 0, sizeof(e));
        tern_props_set(&e, rows[i].id);
        e.maximum_qos = 2;
        e.payload_format_indicator = 2;
        e.retain_available = 2;
        /* receive_maximum, topic_alias, maximum_packet_size stay 0 */
        uint8_t out[16];
        int r = tern_props_encode(&e, rows[i].ctx, out, sizeof(out));
        if (r != -EINVAL) {
            TN_EXPECT_EQ_INT(r, -EINVAL);
            fprintf(stderr, "    id %#x (%s) encoded an invalid value\n", rows[i].id,
                    tern_prop_name(rows[i].id));
        }
    }
}

TN_TEST_MAIN()
