/* SPDX-License-Identifier: MIT */
/*
 * src/codec/packet_test_util.h - the shared row runner of the packet codec tests
 * (connect_test.c, publish_test.c, ack_test.c, subscribe_test.c, control_test.c).
 *
 * Owns: nothing; static inline helpers only, included by one test binary at a time.
 * Thread: single-threaded test binaries only.
 *
 * A row is {name, version, bytes, expected result, expected rc, check}. pt_run_rows() runs
 * each row through:
 *   1. tern_frame_peek on the whole input: must delimit exactly this frame;
 *   2. tern_frame_peek fed the bytes one at a time: 0 until the last byte, the same frame
 *      then, and f->size known as soon as the fixed header is complete;
 *   3. tern_packet_decode on an exactly-sized heap copy (ASan sees any over-read): the result,
 *      and *rc when it fails, must be the row's; the row's check function then runs;
 *   4. for a valid row: every slice points into the frame, property fields agree with what
 *      tern_props_iter reads back, and the packet round-trips: the decoded struct is rebuilt
 *      for encoding (user properties copied out with tern_props_next_user, SUBSCRIBE entries
 *      with tern_sub_iter), tern_packet_size equals the frame size, tern_packet_encode gives
 *      the same bytes (and so does encoding the decoded struct as it is, from its raw
 *      views), every smaller cap gives -ENOBUFS without writing past cap (canary),
 *      and for PUBLISH tern_publish_encode_head + payload equals the frame.
 *      Rows flagged PT_NONCANON hold valid bytes the encoder writes differently (a longer
 *      form than needed): for them the encoding must decode and re-encode to itself;
 *   5. every truncation of a valid frame (body cut short, Remaining Length fixed up) must
 *      decode without crashing; a failure must carry a reason code.
 *
 * Bytes are written in a small notation (pt_bytes):
 *   hex pairs     "10 0c 00"      bytes as written; whitespace between tokens is ignored
 *   'text'        "'MQTT'"        the ASCII bytes of text (no escapes)
 *   [ ... ]       "10 [ ... ]"    a Variable Byte Integer length, then the enclosed bytes
 *   { ... }       "{'MQTT'}"      a two-byte length, then the enclosed bytes
 * so a CONNECT is "10 [ {'MQTT'} 04 02 003c {'cid'} ]" and a property list "[ 02 0000003c ]".
 */
#ifndef TERN_PACKET_TEST_UTIL_H
#define TERN_PACKET_TEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"
#include "tern/codec.h"

/* ---- byte notation -------------------------------------------------------------------- */

struct pt_buf {
    uint8_t *p;
    size_t n, cap;
};

static inline void pt_buf_put(struct pt_buf *b, const void *src, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap : 64;
        while (c < b->n + n)
            c *= 2;
        b->p = realloc(b->p, c);
        if (!b->p)
            abort();
        b->cap = c;
    }
    if (n)
        memcpy(b->p + b->n, src, n);
    b->n += n;
}

static inline void pt_bad_notation(const char *s, const char *why)
{
    fprintf(stderr, "packet_test_util: bad byte notation (%s) at \"%.20s\"\n", why, s);
    abort();
}

static inline int pt_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Parse until the closing bracket `close` (or NUL when close is 0); returns the position
 * after it. */
static inline const char *pt_parse(const char *s, char close, struct pt_buf *out)
{
    for (;;) {
        char c = *s;
        if (c == '\0') {
            if (close)
                pt_bad_notation(s, "unclosed group");
            return s;
        }
        if (c == close)
            return s + 1;
        if (c == ' ' || c == '\n' || c == '\t') {
            s++;
        } else if (c == '\'') {
            const char *e = strchr(s + 1, '\'');
            if (!e)
                pt_bad_notation(s, "unclosed quote");
            pt_buf_put(out, s + 1, (size_t)(e - s - 1));
            s = e + 1;
        } else if (c == '[' || c == '{') {
            struct pt_buf in = {0};
            s = pt_parse(s + 1, c == '[' ? ']' : '}', &in);
            if (c == '[') {
                uint8_t v[4];
                unsigned k = tern_varint_encode((uint32_t)in.n, v);
                if (!k)
                    pt_bad_notation(s, "group too long");
                pt_buf_put(out, v, k);
            } else {
                if (in.n > 0xFFFF)
                    pt_bad_notation(s, "group too long");
                uint8_t v[2] = {(uint8_t)(in.n >> 8), (uint8_t)in.n};
                pt_buf_put(out, v, 2);
            }
            pt_buf_put(out, in.p, in.n);
            free(in.p);
        } else {
            int hi = pt_hexval(c), lo = pt_hexval(s[1]);
            if (hi < 0 || lo < 0)
                pt_bad_notation(s, "not a hex pair");
            uint8_t b = (uint8_t)(hi << 4 | lo);
            pt_buf_put(out, &b, 1);
            s += 2;
        }
    }
}

/* The bytes `notation` describes, in an exactly-sized heap block (so ASan catches reads past
 * the end). The caller frees *p. */
static inline size_t pt_bytes(const char *notation, uint8_t **p)
{
    struct pt_buf b = {0};
    pt_parse(notation, 0, &b);
    *p = malloc(b.n ? b.n : 1);
    if (!*p)
        abort();
    if (b.n)
        memcpy(*p, b.p, b.n);
    free(b.p);
    return b.n;
}

static inline uint8_t *pt_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (!d)
        abort();
    if (n)
        memcpy(d, p, n);
    return d;
}

/* ---- rows ------------------------------------------------------------------------------ */

enum {
    PT_NONCANON = 1u << 0, /* valid, but the encoder writes a different (shorter) form */
};

struct pt_row {
    const char *name;
    uint8_t version; /* the connection's level passed to the decoder and the encoder */
    const char *bytes;
    int want;   /* 0, -TERN_EMALFORMED, -EPROTO, -TERN_EVERSION */
    uint8_t rc; /* *rc expected when want < 0 */
    /* Runs when the decoder returned `want` (success or the expected failure). */
    void (*check)(const struct tern_packet *pkt);
    unsigned opts;
};

/* ---- views and properties ---------------------------------------------------------------- */

static inline bool pt_in(tern_slice s, const uint8_t *f, size_t n)
{
    if (s.n == 0)
        return true;
    return s.p >= f && s.p <= f + n && s.n <= (size_t)(f + n - s.p);
}

/* The property struct of a decoded packet (NULL for types without one). */
static inline struct tern_props *pt_props_of(struct tern_packet *pkt)
{
    switch (pkt->type) {
    case TERN_CONNECT: return &pkt->u.connect.props;
    case TERN_CONNACK: return &pkt->u.connack.props;
    case TERN_PUBLISH: return &pkt->u.publish.props;
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP: return &pkt->u.ack.props;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: return &pkt->u.subscribe.props;
    case TERN_SUBACK:
    case TERN_UNSUBACK: return &pkt->u.suback.props;
    case TERN_DISCONNECT:
    case TERN_AUTH: return &pkt->u.disconnect.props;
    default: return NULL;
    }
}

/* The scalar field of props holding property id: 1 with *u set for numbers, 2 with *s set
 * for strings and binary data, 0 for User Property / Subscription Identifier / unknown. */
static inline int pt_prop_field(const struct tern_props *p, unsigned id, uint32_t *u, tern_slice *s)
{
    switch (id) {
    case TERN_PROP_PAYLOAD_FORMAT_INDICATOR: *u = p->payload_format_indicator; return 1;
    case TERN_PROP_MESSAGE_EXPIRY_INTERVAL: *u = p->message_expiry_interval; return 1;
    case TERN_PROP_CONTENT_TYPE: *s = p->content_type; return 2;
    case TERN_PROP_RESPONSE_TOPIC: *s = p->response_topic; return 2;
    case TERN_PROP_CORRELATION_DATA: *s = p->correlation_data; return 2;
    case TERN_PROP_SESSION_EXPIRY_INTERVAL: *u = p->session_expiry_interval; return 1;
    case TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER: *s = p->assigned_client_identifier; return 2;
    case TERN_PROP_SERVER_KEEP_ALIVE: *u = p->server_keep_alive; return 1;
    case TERN_PROP_AUTHENTICATION_METHOD: *s = p->authentication_method; return 2;
    case TERN_PROP_AUTHENTICATION_DATA: *s = p->authentication_data; return 2;
    case TERN_PROP_REQUEST_PROBLEM_INFORMATION: *u = p->request_problem_information; return 1;
    case TERN_PROP_WILL_DELAY_INTERVAL: *u = p->will_delay_interval; return 1;
    case TERN_PROP_REQUEST_RESPONSE_INFORMATION: *u = p->request_response_information; return 1;
    case TERN_PROP_RESPONSE_INFORMATION: *s = p->response_information; return 2;
    case TERN_PROP_SERVER_REFERENCE: *s = p->server_reference; return 2;
    case TERN_PROP_REASON_STRING: *s = p->reason_string; return 2;
    case TERN_PROP_RECEIVE_MAXIMUM: *u = p->receive_maximum; return 1;
    case TERN_PROP_TOPIC_ALIAS_MAXIMUM: *u = p->topic_alias_maximum; return 1;
    case TERN_PROP_TOPIC_ALIAS: *u = p->topic_alias; return 1;
    case TERN_PROP_MAXIMUM_QOS: *u = p->maximum_qos; return 1;
    case TERN_PROP_RETAIN_AVAILABLE: *u = p->retain_available; return 1;
    case TERN_PROP_MAXIMUM_PACKET_SIZE: *u = p->maximum_packet_size; return 1;
    case TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
        *u = p->wildcard_subscription_available;
        return 1;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
        *u = p->subscription_identifier_available;
        return 1;
    case TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE: *u = p->shared_subscription_available; return 1;
    default: return 0;
    }
}

#define PT_MAX_USER 64
#define PT_MAX_SUBID 64

/* Storage that a rebuilt (encodable) property struct points to. */
struct pt_props_store {
    struct tern_strpair user[PT_MAX_USER];
    uint32_t sub_ids[PT_MAX_SUBID];
};

/*
 * Check a decoded property struct against its raw bytes, then turn it into one the encoder
 * takes: user pairs copied out with tern_props_next_user, Subscription Identifiers collected,
 * raw cleared (else the encoder would write everything twice).
 */
static inline void pt_props_rebuild(struct tern_props *p, struct pt_props_store *st,
                                    const uint8_t *f, size_t n)
{
    struct tern_prop_iter it;
    struct tern_prop pr;
    uint64_t seen = 0;
    uint32_t nsub = 0, nuser = 0;

    TN_EXPECT(pt_in(p->raw, f, n));
    TN_EXPECT(p->user == NULL);
    TN_EXPECT(p->sub_ids == NULL);
    TN_EXPECT_EQ_U32(p->extra.n, 0);
    tern_props_iter_init(&it, p);
    while (tern_props_iter_next(&it, &pr) == 1) {
        uint32_t u = 0;
        tern_slice s = {0};
        seen |= 1ull << pr.id;
        TN_EXPECT(tern_props_has(p, pr.id));
        TN_EXPECT_EQ_INT(pr.kind, tern_prop_kind(pr.id));
        TN_EXPECT(pt_in(pr.s, f, n));
        TN_EXPECT(pt_in(pr.v, f, n));
        switch (pt_prop_field(p, pr.id, &u, &s)) {
        case 1: TN_EXPECT_EQ_U32(pr.u, u); break;
        case 2:
            TN_EXPECT_MEM(pr.s.p, pr.s.n, s.p, s.n);
            TN_EXPECT(pt_in(s, f, n));
            break;
        default:
            if (pr.id == TERN_PROP_SUBSCRIPTION_IDENTIFIER) {
                TN_REQUIRE(nsub < PT_MAX_SUBID);
                st->sub_ids[nsub++] = pr.u;
            } else if (pr.id == TERN_PROP_USER_PROPERTY) {
                nuser++;
            }
        }
    }
    TN_EXPECT_EQ_U64(seen, p->present);
    TN_EXPECT_EQ_U32(nsub, p->sub_id_n);
    TN_EXPECT_EQ_U32(nuser, p->user_n);
    if (nsub)
        TN_EXPECT_EQ_U32(st->sub_ids[0], p->sub_id);

    /* the user pairs, in order, with the convenience iterator */
    uint32_t k = 0;
    tern_props_iter_init(&it, p);
    while (k < PT_MAX_USER && tern_props_next_user(&it, &st->user[k]) == 1) {
        TN_EXPECT(pt_in(st->user[k].k, f, n));
        TN_EXPECT(pt_in(st->user[k].v, f, n));
        k++;
    }
    TN_EXPECT_EQ_U32(k, p->user_n);

    p->user = k ? st->user : NULL;
    p->user_n = k;
    p->sub_ids = nsub > 1 ? st->sub_ids : NULL;
    p->raw = (tern_slice){0};
}

/* The User Properties of p must be exactly kv[0..2*n) = k0, v0, k1, v1, ... in that order. */
static inline void pt_expect_users(const struct tern_props *p, const char *const *kv, unsigned n)
{
    struct tern_prop_iter it;
    struct tern_strpair up;
    unsigned k = 0;
    TN_EXPECT_EQ_U32(p->user_n, n);
    TN_EXPECT_EQ_INT(tern_props_has(p, TERN_PROP_USER_PROPERTY), n > 0);
    tern_props_iter_init(&it, p);
    while (tern_props_next_user(&it, &up) == 1) {
        if (k < n) {
            TN_EXPECT_SLICE_STR(up.k, kv[2 * k]);
            TN_EXPECT_SLICE_STR(up.v, kv[2 * k + 1]);
        }
        k++;
    }
    TN_EXPECT_EQ_U32(k, n);
}

/* The Subscription Identifiers of p must be ids[0..n) in that order. */
static inline void pt_expect_sub_ids(const struct tern_props *p, const uint32_t *ids, unsigned n)
{
    struct tern_prop_iter it;
    struct tern_prop pr;
    unsigned k = 0;
    TN_EXPECT_EQ_U32(p->sub_id_n, n);
    TN_EXPECT_EQ_INT(tern_props_has(p, TERN_PROP_SUBSCRIPTION_IDENTIFIER), n > 0);
    if (n)
        TN_EXPECT_EQ_U32(p->sub_id, ids[0]);
    tern_props_iter_init(&it, p);
    while (tern_props_iter_next(&it, &pr) == 1) {
        if (pr.id != TERN_PROP_SUBSCRIPTION_IDENTIFIER)
            continue;
        if (k < n)
            TN_EXPECT_EQ_U32(pr.u, ids[k]);
        k++;
    }
    TN_EXPECT_EQ_U32(k, n);
}

/* ---- whole packets ------------------------------------------------------------------------ */

#define PT_MAX_ENTRIES 512

/* A decoded packet turned into one the encoder takes, plus the storage it points to. */
struct pt_rebuilt {
    struct tern_packet pkt;
    struct pt_props_store props, will_props;
    struct tern_sub_entry entries[PT_MAX_ENTRIES];
};

/* Read the entries of a decoded SUBSCRIBE/UNSUBSCRIBE into out[]; returns how many. */
static inline uint32_t pt_sub_entries(const struct tern_packet *pkt, uint8_t version,
                                      struct tern_sub_entry *out, uint32_t max)
{
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    uint32_t k = 0;
    tern_sub_iter_init(&it, pkt, version);
    while (tern_sub_iter_next(&it, &e) == 1) {
        if (k < max)
            out[k] = e;
        k++;
    }
    return k;
}

/* Check the views of a decoded packet and rebuild it for encoding into r (heap, large). */
static inline void pt_rebuild(const struct tern_packet *in, uint8_t version, const uint8_t *f,
                              size_t n, struct pt_rebuilt *r)
{
    r->pkt = *in;
    struct tern_packet *p = &r->pkt;
    struct tern_props *props = pt_props_of(p);
    if (props)
        pt_props_rebuild(props, &r->props, f, n);

    switch (p->type) {
    case TERN_CONNECT: {
        struct tern_connect *c = &p->u.connect;
        TN_EXPECT(pt_in(c->protocol_name, f, n));
        TN_EXPECT(pt_in(c->client_id, f, n));
        TN_EXPECT(pt_in(c->will_topic, f, n));
        TN_EXPECT(pt_in(c->will_payload, f, n));
        TN_EXPECT(pt_in(c->username, f, n));
        TN_EXPECT(pt_in(c->password, f, n));
        if (c->will)
            pt_props_rebuild(&c->will_props, &r->will_props, f, n);
        break;
    }
    case TERN_PUBLISH:
        TN_EXPECT(pt_in(p->u.publish.topic, f, n));
        TN_EXPECT(pt_in(p->u.publish.payload, f, n));
        break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: {
        struct tern_subscribe *s = &p->u.subscribe;
        TN_EXPECT(pt_in(s->raw, f, n));
        TN_EXPECT(s->list == NULL);
        uint32_t k = pt_sub_entries(in, version, r->entries, PT_MAX_ENTRIES);
        TN_EXPECT_EQ_U32(k, s->count);
        TN_REQUIRE(k <= PT_MAX_ENTRIES);
        for (uint32_t i = 0; i < k; i++)
            TN_EXPECT(pt_in(r->entries[i].filter, f, n));
        s->list = r->entries;
        s->count = k;
        s->raw = (tern_slice){0};
        break;
    }
    case TERN_SUBACK:
    case TERN_UNSUBACK: TN_EXPECT(pt_in(p->u.suback.rcs, f, n)); break;
    default: break;
    }
}

/* Encode pkt; returns a heap block (caller frees) and its length in *len, or NULL. */
static inline uint8_t *pt_encode(const struct tern_packet *pkt, uint8_t version, size_t *len)
{
    int sz = tern_packet_size(pkt, version);
    TN_EXPECT(sz > 0);
    if (sz <= 0)
        return NULL;
    uint8_t *out = malloc((size_t)sz);
    if (!out)
        abort();
    int w = tern_packet_encode(pkt, version, out, (size_t)sz);
    TN_EXPECT_EQ_INT(w, sz);
    if (w != sz) {
        free(out);
        return NULL;
    }
    *len = (size_t)sz;
    return out;
}

/* Every cap below the size must give -ENOBUFS and leave the bytes at and past cap alone. For
 * large frames only a few caps are tried. */
static inline void pt_check_small_caps(const struct tern_packet *pkt, uint8_t version, size_t size)
{
    uint8_t *buf = malloc(size + 1);
    if (!buf)
        abort();
    for (size_t cap = 0; cap < size; cap++) {
        if (size > 1024 && cap > 8 && cap + 8 < size && cap != size / 2)
            continue;
        memset(buf, 0xA5, size + 1);
        int r = tern_packet_encode(pkt, version, buf, cap);
        TN_EXPECT_EQ_INT(r, -ENOBUFS);
        size_t bad = size + 1;
        for (size_t i = cap; i <= size; i++)
            if (buf[i] != 0xA5) {
                bad = i;
                break;
            }
        if (bad != size + 1) {
            TN_EXPECT(bad == size + 1);
            fprintf(stderr, "    encode with cap %zu of %zu wrote byte %zu\n", cap, size, bad);
            break;
        }
        if (r != -ENOBUFS) {
            fprintf(stderr, "    (cap %zu of %zu)\n", cap, size);
            break;
        }
    }
    free(buf);
}

/* tern_publish_encode_head + the payload must equal the whole frame. */
static inline void pt_check_publish_head(const struct tern_packet *pkt, uint8_t version,
                                         const uint8_t *frame, size_t size)
{
    size_t pl = pkt->u.publish.payload.n;
    TN_REQUIRE(pl <= size);
    size_t hl = size - pl;
    uint8_t *head = malloc(hl + 1);
    if (!head)
        abort();
    memset(head, 0xA5, hl + 1);
    int r = tern_publish_encode_head(pkt, version, head, hl + 1);
    TN_EXPECT_EQ_INT(r, (long long)hl);
    if (r == (int)hl) {
        TN_EXPECT_MEM(head, hl, frame, hl);
        TN_EXPECT_MEM(pkt->u.publish.payload.p, pl, frame + hl, pl);
    }
    if (hl > 0) {
        memset(head, 0xA5, hl + 1);
        r = tern_publish_encode_head(pkt, version, head, hl - 1);
        TN_EXPECT_EQ_INT(r, -ENOBUFS);
        TN_EXPECT_EQ_HEX(head[hl - 1], 0xA5);
    }
    free(head);
}

/* Round trip of a valid decoded frame (see the header comment, step 4). */
static inline void pt_roundtrip(const struct tern_packet *pkt, uint8_t version, const uint8_t *f,
                                size_t n, unsigned opts)
{
    /* "a decoded struct re-encodes as it is" (codec.h): properties and SUBSCRIBE entries
     * from the raw views */
    if (!(opts & PT_NONCANON)) {
        size_t l0 = 0;
        uint8_t *e0 = pt_encode(pkt, version, &l0);
        if (e0)
            TN_EXPECT_MEM(e0, l0, f, n);
        free(e0);
    }

    /* rebuilt the way an application builds one: user pairs and entries in arrays */
    struct pt_rebuilt *r = calloc(1, sizeof(*r));
    if (!r)
        abort();
    pt_rebuild(pkt, version, f, n, r);

    int sz = tern_packet_size(&r->pkt, version);
    size_t len = 0;
    uint8_t *enc = pt_encode(&r->pkt, version, &len);
    if (!enc)
        goto out;
    if (!(opts & PT_NONCANON)) {
        TN_EXPECT_EQ_INT(sz, (long long)n);
        TN_EXPECT_MEM(enc, len, f, n);
    } else {
        /* the encoder's form must be stable: decode it, rebuild, encode again */
        struct tern_packet again;
        uint8_t rc = 0;
        memset(&again, 0, sizeof(again));
        int d = tern_packet_decode(enc, len, version, &again, &rc);
        TN_EXPECT_EQ_INT(d, 0);
        if (d == 0) {
            struct pt_rebuilt *r2 = calloc(1, sizeof(*r2));
            if (!r2)
                abort();
            pt_rebuild(&again, version, enc, len, r2);
            size_t len2 = 0;
            uint8_t *enc2 = pt_encode(&r2->pkt, version, &len2);
            if (enc2)
                TN_EXPECT_MEM(enc2, len2, enc, len);
            free(enc2);
            free(r2);
        }
        TN_EXPECT(len <= n);
    }
    pt_check_small_caps(&r->pkt, version, len);
    if (r->pkt.type == TERN_PUBLISH)
        pt_check_publish_head(&r->pkt, version, enc, len);
    free(enc);
out:
    free(r);
}

/* ---- framing ------------------------------------------------------------------------------- */

/* Step 1 and 2: tern_frame_peek on the whole input and on every prefix. */
static inline void pt_check_framing(const uint8_t *f, size_t n)
{
    struct tern_frame fr, whole;
    uint8_t rc = 0;
    memset(&whole, 0, sizeof(whole));
    int r = tern_frame_peek(f, n, 0, &whole, &rc);
    TN_EXPECT_EQ_INT(r, 1);
    TN_EXPECT_EQ_U32(whole.size, n);
    TN_EXPECT_EQ_HEX(whole.type, f[0] >> 4);
    TN_EXPECT_EQ_HEX(whole.flags, f[0] & 0x0F);
    TN_EXPECT_EQ_U32(whole.hdr_len + whole.remaining, whole.size);
    if (r != 1)
        return;

    for (size_t i = 0; i <= n; i++) {
        /* small prefixes get exact-sized copies so an over-read shows; for large frames the
         * body is not looked at, so only the ends are tried */
        if (n > 65536 && i > 8 && i + 2 < n)
            continue;
        uint8_t *cp = i <= 8 ? pt_dup(f, i) : NULL;
        memset(&fr, 0, sizeof(fr));
        r = tern_frame_peek(cp ? cp : f, i, 0, &fr, &rc);
        free(cp);
        if (i < n) {
            TN_EXPECT_EQ_INT(r, 0);
            TN_EXPECT_EQ_U32(fr.size, i >= whole.hdr_len ? n : 0);
        } else {
            TN_EXPECT_EQ_INT(r, 1);
        }
        if (i >= whole.hdr_len) {
            TN_EXPECT_EQ_HEX(fr.type, whole.type);
            TN_EXPECT_EQ_HEX(fr.flags, whole.flags);
            TN_EXPECT_EQ_U32(fr.hdr_len, whole.hdr_len);
            TN_EXPECT_EQ_U32(fr.remaining, whole.remaining);
        }
        if (r != (i < n ? 0 : 1)) {
            fprintf(stderr, "    (prefix of %zu of %zu bytes)\n", i, n);
            break;
        }
    }

    /* followed by the start of the next frame: still this frame */
    uint8_t *two = malloc(n + 2);
    if (!two)
        abort();
    memcpy(two, f, n);
    two[n] = 0xC0;
    two[n + 1] = 0x00;
    memset(&fr, 0, sizeof(fr));
    TN_EXPECT_EQ_INT(tern_frame_peek(two, n + 2, 0, &fr, &rc), 1);
    TN_EXPECT_EQ_U32(fr.size, n);
    free(two);
}

/* A frame whose body is body[0..k), with the Remaining Length fixed up. */
static inline size_t pt_reframe(uint8_t b0, const uint8_t *body, size_t k, uint8_t **out)
{
    uint8_t v[4];
    unsigned vl = tern_varint_encode((uint32_t)k, v);
    uint8_t *p = malloc(1 + vl + k);
    if (!p)
        abort();
    p[0] = b0;
    memcpy(p + 1, v, vl);
    if (k)
        memcpy(p + 1 + vl, body, k);
    *out = p;
    return 1 + vl + k;
}

/*
 * Step 5: decode every truncation of frame f. When must_fail is set each one must fail
 * with -TERN_EMALFORMED / 0x81 (for packets all of whose fields are announced before they
 * come, like CONNECT); otherwise any result is fine but a failure must carry a reason code.
 */
static inline void pt_check_truncations(const uint8_t *f, size_t n, uint8_t version, bool must_fail)
{
    struct tern_frame fr;
    uint8_t rc = 0;
    if (tern_frame_peek(f, n, 0, &fr, &rc) != 1 || n > 4096)
        return;
    const uint8_t *body = f + fr.hdr_len;
    for (size_t k = 0; k < fr.remaining; k++) {
        uint8_t *t;
        size_t tn = pt_reframe(f[0], body, k, &t);
        struct tern_packet pkt;
        memset(&pkt, 0, sizeof(pkt));
        rc = 0;
        int r = tern_packet_decode(t, tn, version, &pkt, &rc);
        bool ok = must_fail ? (r == -TERN_EMALFORMED && rc == TERN_RC_MALFORMED_PACKET)
                            : (r == 0 || (r < 0 && rc != 0));
        if (!ok) {
            TN_EXPECT(ok);
            fprintf(stderr, "    truncated to %zu of %u body bytes: result %d rc %#x\n", k,
                    fr.remaining, r, rc);
            free(t);
            break;
        }
        free(t);
    }
}

/* ---- the runner ------------------------------------------------------------------------------ */

/* Decode an exactly-sized frame (steps 1-3); returns the decoder's result. */
static inline int pt_decode_checked(const uint8_t *f, size_t n, uint8_t version,
                                    struct tern_packet *pkt, uint8_t *rc)
{
    pt_check_framing(f, n);
    memset(pkt, 0, sizeof(*pkt));
    *rc = 0;
    return tern_packet_decode(f, n, version, pkt, rc);
}

static inline void pt_run_frame(const struct pt_row *row, const uint8_t *f, size_t n)
{
    struct tern_packet pkt;
    uint8_t rc;
    int r = pt_decode_checked(f, n, row->version, &pkt, &rc);

    TN_EXPECT_EQ_INT(r, row->want);
    if (r < 0) {
        TN_EXPECT_EQ_HEX(rc, row->rc);
    } else if (r == 0) {
        TN_EXPECT_EQ_HEX(pkt.type, f[0] >> 4);
        TN_EXPECT_EQ_HEX(pkt.flags, f[0] & 0x0F);
    }
    if (r == row->want && row->check)
        row->check(&pkt);
    if (r == 0 && row->want == 0) {
        pt_roundtrip(&pkt, row->version, f, n, row->opts);
        pt_check_truncations(f, n, row->version, false);
    }
}

/* Run one row; the row's name is printed under any failure it causes. */
static inline void pt_run_row(const struct pt_row *row)
{
    int before = tn_cur_failed_;
    uint8_t *f;
    size_t n = pt_bytes(row->bytes, &f);
    tn_cur_failed_ = 0;
    if (n < 2) {
        TN_EXPECT(n >= 2);
    } else {
        pt_run_frame(row, f, n);
    }
    if (tn_cur_failed_)
        fprintf(stderr, "    ^ row \"%s\" (version %u)\n", row->name, row->version);
    tn_cur_failed_ |= before;
    free(f);
}

static inline void pt_run_rows(const struct pt_row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pt_run_row(&rows[i]);
}

#define PT_RUN(rows) pt_run_rows((rows), sizeof(rows) / sizeof((rows)[0]))

/* Decode bytes given in the notation with the row runner's checks, for tests that look at
 * the packet themselves. Returns the result; *f (caller frees) holds the frame pkt points
 * into. */
static inline int pt_decode_notation(const char *notation, uint8_t version, struct tern_packet *pkt,
                                     uint8_t *rc, uint8_t **f, size_t *n)
{
    *n = pt_bytes(notation, f);
    return pt_decode_checked(*f, *n, version, pkt, rc);
}

/* Encode a packet built by hand and compare with bytes in the notation, then decode those
 * bytes and round-trip them (so a hand-built struct and the decoder agree). */
static inline void pt_expect_encoding(const struct tern_packet *pkt, uint8_t version,
                                      const char *notation)
{
    uint8_t *want;
    size_t wn = pt_bytes(notation, &want);
    size_t len = 0;
    uint8_t *enc = pt_encode(pkt, version, &len);
    if (enc) {
        TN_EXPECT_MEM(enc, len, want, wn);
        pt_check_small_caps(pkt, version, len);
        if (pkt->type == TERN_PUBLISH)
            pt_check_publish_head(pkt, version, enc, len);
    }
    free(enc);
    struct pt_row row = {"pt_expect_encoding", version, notation, 0, 0, NULL, 0};
    pt_run_frame(&row, want, wn);
    free(want);
}

#endif
