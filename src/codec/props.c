/* SPDX-License-Identifier: MIT */
/*
 * src/codec/props.c - MQTT 5 properties (5.0 section 2.2.2): the table of every property id
 * with its type and the packets it may appear in, and decoding/encoding of property lists.
 *
 * Owns: the static property table. Thread: any.
 */
#include "codec_internal.h"

#define CX(t) (1u << (t))
#define CX_WILL CX(TERN_PROP_CTX_WILL)
#define CX_ACKS (CX(TERN_PUBACK) | CX(TERN_PUBREC) | CX(TERN_PUBREL) | CX(TERN_PUBCOMP))
#define CX_ALL                                                                                     \
    (CX(TERN_CONNECT) | CX(TERN_CONNACK) | CX(TERN_PUBLISH) | CX_WILL | CX_ACKS |                  \
     CX(TERN_SUBSCRIBE) | CX(TERN_SUBACK) | CX(TERN_UNSUBSCRIBE) | CX(TERN_UNSUBACK) |             \
     CX(TERN_DISCONNECT) | CX(TERN_AUTH))

struct prop_info {
    uint8_t kind; /* enum tern_prop_kind */
    uint16_t ctx; /* CX() bits of the contexts it may appear in */
    const char *name;
};

/* 5.0 table 2.2.2.2 "Properties". */
static const struct prop_info prop_table[TERN_PROP_ID_MAX + 1] = {
    [0x01] = {TERN_PK_BYTE, CX(TERN_PUBLISH) | CX_WILL, "Payload Format Indicator"},
    [0x02] = {TERN_PK_U32, CX(TERN_PUBLISH) | CX_WILL, "Message Expiry Interval"},
    [0x03] = {TERN_PK_UTF8, CX(TERN_PUBLISH) | CX_WILL, "Content Type"},
    [0x08] = {TERN_PK_UTF8, CX(TERN_PUBLISH) | CX_WILL, "Response Topic"},
    [0x09] = {TERN_PK_BINARY, CX(TERN_PUBLISH) | CX_WILL, "Correlation Data"},
    [0x0B] = {TERN_PK_VARINT, CX(TERN_PUBLISH) | CX(TERN_SUBSCRIBE), "Subscription Identifier"},
    [0x11] = {TERN_PK_U32, CX(TERN_CONNECT) | CX(TERN_CONNACK) | CX(TERN_DISCONNECT),
              "Session Expiry Interval"},
    [0x12] = {TERN_PK_UTF8, CX(TERN_CONNACK), "Assigned Client Identifier"},
    [0x13] = {TERN_PK_U16, CX(TERN_CONNACK), "Server Keep Alive"},
    [0x15] = {TERN_PK_UTF8, CX(TERN_CONNECT) | CX(TERN_CONNACK) | CX(TERN_AUTH),
              "Authentication Method"},
    [0x16] = {TERN_PK_BINARY, CX(TERN_CONNECT) | CX(TERN_CONNACK) | CX(TERN_AUTH),
              "Authentication Data"},
    [0x17] = {TERN_PK_BYTE, CX(TERN_CONNECT), "Request Problem Information"},
    [0x18] = {TERN_PK_U32, CX_WILL, "Will Delay Interval"},
    [0x19] = {TERN_PK_BYTE, CX(TERN_CONNECT), "Request Response Information"},
    [0x1A] = {TERN_PK_UTF8, CX(TERN_CONNACK), "Response Information"},
    [0x1C] = {TERN_PK_UTF8, CX(TERN_CONNACK) | CX(TERN_DISCONNECT), "Server Reference"},
    [0x1F] = {TERN_PK_UTF8,
              CX(TERN_CONNACK) | CX_ACKS | CX(TERN_SUBACK) | CX(TERN_UNSUBACK) |
                  CX(TERN_DISCONNECT) | CX(TERN_AUTH),
              "Reason String"},
    [0x21] = {TERN_PK_U16, CX(TERN_CONNECT) | CX(TERN_CONNACK), "Receive Maximum"},
    [0x22] = {TERN_PK_U16, CX(TERN_CONNECT) | CX(TERN_CONNACK), "Topic Alias Maximum"},
    [0x23] = {TERN_PK_U16, CX(TERN_PUBLISH), "Topic Alias"},
    [0x24] = {TERN_PK_BYTE, CX(TERN_CONNACK), "Maximum QoS"},
    [0x25] = {TERN_PK_BYTE, CX(TERN_CONNACK), "Retain Available"},
    [0x26] = {TERN_PK_PAIR, CX_ALL, "User Property"},
    [0x27] = {TERN_PK_U32, CX(TERN_CONNECT) | CX(TERN_CONNACK), "Maximum Packet Size"},
    [0x28] = {TERN_PK_BYTE, CX(TERN_CONNACK), "Wildcard Subscription Available"},
    [0x29] = {TERN_PK_BYTE, CX(TERN_CONNACK), "Subscription Identifier Available"},
    [0x2A] = {TERN_PK_BYTE, CX(TERN_CONNACK), "Shared Subscription Available"},
};

const char *tern_prop_name(unsigned id)
{
    return id <= TERN_PROP_ID_MAX ? prop_table[id].name : NULL;
}

enum tern_prop_kind tern_prop_kind(unsigned id)
{
    return id <= TERN_PROP_ID_MAX ? (enum tern_prop_kind)prop_table[id].kind : TERN_PK_NONE;
}

bool tern_prop_allowed(unsigned id, unsigned ctx)
{
    return id <= TERN_PROP_ID_MAX && ctx < 16 && (prop_table[id].ctx & CX(ctx));
}

/* User Property always may repeat; Subscription Identifier only in PUBLISH (3.3.2.3.8), not
 * in SUBSCRIBE (3.8.2.1.2). Every other property at most once. */
static bool prop_may_repeat(unsigned id, unsigned ctx)
{
    return id == TERN_PROP_USER_PROPERTY ||
           (id == TERN_PROP_SUBSCRIPTION_IDENTIFIER && ctx == TERN_PUBLISH);
}

/* ---- iteration over validated bytes ----------------------------------------------------- */

void tern_props_iter_init(struct tern_prop_iter *it, const struct tern_props *props)
{
    it->p = props->raw.p;
    it->end = props->raw.p ? props->raw.p + props->raw.n : NULL;
}

/* Read one property; false on bytes that do not parse (only possible on unvalidated input). */
static bool props_read_one(struct tn_rd *r, struct tern_prop *out)
{
    uint32_t id;
    if (!rd_varint(r, &id) || id > TERN_PROP_ID_MAX || !prop_table[id].kind)
        return false;
    out->id = (uint8_t)id;
    out->kind = (enum tern_prop_kind)prop_table[id].kind;
    out->u = 0;
    out->s = out->v = (tern_slice){NULL, 0};
    switch (out->kind) {
    case TERN_PK_BYTE: {
        uint8_t b;
        if (!rd_u8(r, &b))
            return false;
        out->u = b;
        return true;
    }
    case TERN_PK_U16: {
        uint16_t v;
        if (!rd_u16(r, &v))
            return false;
        out->u = v;
        return true;
    }
    case TERN_PK_U32: return rd_u32(r, &out->u);
    case TERN_PK_VARINT: return rd_varint(r, &out->u);
    case TERN_PK_UTF8: return rd_str(r, &out->s);
    case TERN_PK_BINARY: return rd_bin(r, &out->s);
    case TERN_PK_PAIR: return rd_str(r, &out->s) && rd_str(r, &out->v);
    default: return false;
    }
}

int tern_props_iter_next(struct tern_prop_iter *it, struct tern_prop *out)
{
    if (!it->p || it->p >= it->end)
        return 0;
    struct tn_rd r = {it->p, it->end};
    if (!props_read_one(&r, out)) {
        it->p = it->end;
        return 0;
    }
    it->p = r.p;
    return 1;
}

int tern_props_next_user(struct tern_prop_iter *it, struct tern_strpair *out)
{
    struct tern_prop pr;
    while (tern_props_iter_next(it, &pr)) {
        if (pr.id == TERN_PROP_USER_PROPERTY) {
            out->k = pr.s;
            out->v = pr.v;
            return 1;
        }
    }
    return 0;
}

/* ---- decoding --------------------------------------------------------------------------- */

/* The value ranges the spec fixes; 0 or the reason code for a value out of range. */
static uint8_t props_value_rc(const struct tern_prop *pr)
{
    switch (pr->id) {
    case TERN_PROP_PAYLOAD_FORMAT_INDICATOR:
    case TERN_PROP_REQUEST_PROBLEM_INFORMATION:
    case TERN_PROP_REQUEST_RESPONSE_INFORMATION:
    case TERN_PROP_MAXIMUM_QOS:
    case TERN_PROP_RETAIN_AVAILABLE:
    case TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
    case TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
        /* Every byte property is 0 or 1; anything else is a Protocol Error (e.g. Maximum QoS
         * 3.2.2.3.4, Request Problem Information 3.1.2.11.7). */
        return pr->u > 1 ? TERN_RC_PROTOCOL_ERROR : 0;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER: /* 1..268435455 (3.3.2.3.8, 3.8.2.1.2) */
    case TERN_PROP_RECEIVE_MAXIMUM:         /* not 0 (3.1.2.11.3, 3.2.2.3.3) */
    case TERN_PROP_MAXIMUM_PACKET_SIZE:     /* not 0 (3.1.2.11.4, 3.2.2.3.6) */
        return pr->u == 0 ? TERN_RC_PROTOCOL_ERROR : 0;
    case TERN_PROP_TOPIC_ALIAS: /* a Topic Alias of 0 is not permitted (3.3.2.3.4) */
        return pr->u == 0 ? TERN_RC_TOPIC_ALIAS_INVALID : 0;
    default: return 0;
    }
}

/* Store a validated property in its field; returns 0 or a protocol error for values the spec
 * forbids. */
static int props_store(struct tern_props *o, const struct tern_prop *pr, uint8_t *rc)
{
    uint8_t bad = props_value_rc(pr);
    if (bad)
        return tn_fail(rc, bad, -EPROTO);
    uint8_t b = (uint8_t)pr->u;
    uint16_t h = (uint16_t)pr->u;
    switch (pr->id) {
    case TERN_PROP_PAYLOAD_FORMAT_INDICATOR: o->payload_format_indicator = b; break;
    case TERN_PROP_MESSAGE_EXPIRY_INTERVAL: o->message_expiry_interval = pr->u; break;
    case TERN_PROP_CONTENT_TYPE: o->content_type = pr->s; break;
    case TERN_PROP_RESPONSE_TOPIC: o->response_topic = pr->s; break;
    case TERN_PROP_CORRELATION_DATA: o->correlation_data = pr->s; break;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER:
        if (o->sub_id_n++ == 0)
            o->sub_id = pr->u;
        break;
    case TERN_PROP_SESSION_EXPIRY_INTERVAL: o->session_expiry_interval = pr->u; break;
    case TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER: o->assigned_client_identifier = pr->s; break;
    case TERN_PROP_SERVER_KEEP_ALIVE: o->server_keep_alive = h; break;
    case TERN_PROP_AUTHENTICATION_METHOD: o->authentication_method = pr->s; break;
    case TERN_PROP_AUTHENTICATION_DATA: o->authentication_data = pr->s; break;
    case TERN_PROP_REQUEST_PROBLEM_INFORMATION: o->request_problem_information = b; break;
    case TERN_PROP_WILL_DELAY_INTERVAL: o->will_delay_interval = pr->u; break;
    case TERN_PROP_REQUEST_RESPONSE_INFORMATION: o->request_response_information = b; break;
    case TERN_PROP_RESPONSE_INFORMATION: o->response_information = pr->s; break;
    case TERN_PROP_SERVER_REFERENCE: o->server_reference = pr->s; break;
    case TERN_PROP_REASON_STRING: o->reason_string = pr->s; break;
    case TERN_PROP_RECEIVE_MAXIMUM: o->receive_maximum = h; break;
    case TERN_PROP_TOPIC_ALIAS_MAXIMUM: o->topic_alias_maximum = h; break;
    case TERN_PROP_TOPIC_ALIAS: o->topic_alias = h; break;
    case TERN_PROP_MAXIMUM_QOS: o->maximum_qos = b; break;
    case TERN_PROP_RETAIN_AVAILABLE: o->retain_available = b; break;
    case TERN_PROP_USER_PROPERTY: o->user_n++; break;
    case TERN_PROP_MAXIMUM_PACKET_SIZE: o->maximum_packet_size = pr->u; break;
    case TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: o->wildcard_subscription_available = b; break;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
        o->subscription_identifier_available = b;
        break;
    case TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE: o->shared_subscription_available = b; break;
    default: return TN_MALFORMED(rc);
    }
    return 0;
}

int tern_props_decode(const uint8_t *p, size_t n, unsigned ctx, struct tern_props *out, uint8_t *rc)
{
    uint32_t len;
    struct tn_rd hdr = {p, p + n};
    if (!rd_varint(&hdr, &len) || len > rd_left(&hdr))
        return TN_MALFORMED(rc);
    int k = (int)(hdr.p - p);
    tn_props_clear(out);
    out->raw = (tern_slice){p + k, len};
    struct tn_rd r = {p + k, p + k + len};
    while (r.p < r.end) {
        struct tern_prop pr;
        if (*r.p == TERN_PROP_USER_PROPERTY &&
            (prop_table[TERN_PROP_USER_PROPERTY].ctx & CX(ctx))) {
            /* Allowed everywhere and repeatable: the common repeated case skips the generic
             * path. */
            tern_slice k2, v2;
            r.p++;
            if (!rd_str(&r, &k2) || !rd_str(&r, &v2))
                return TN_MALFORMED(rc);
            out->present |= 1ull << TERN_PROP_USER_PROPERTY;
            out->user_n++;
            continue;
        }
        /* An id not valid for the packet, or a value not of the id's type, makes the packet
         * malformed (5.0 2.2.2.2). */
        if (!props_read_one(&r, &pr) || !(prop_table[pr.id].ctx & CX(ctx)))
            return TN_MALFORMED(rc);
        if (((out->present >> pr.id) & 1u) && !prop_may_repeat(pr.id, ctx))
            return TN_PROTOCOL(rc); /* "more than once is a Protocol Error" */
        out->present |= 1ull << pr.id;
        int err = props_store(out, &pr, rc);
        if (err)
            return err;
    }
    /* Authentication Data without an Authentication Method is a Protocol Error
     * (3.1.2.11.10, 3.2.2.3.18, 3.15.2.2.3). */
    if (tern_props_has(out, TERN_PROP_AUTHENTICATION_DATA) &&
        !tern_props_has(out, TERN_PROP_AUTHENTICATION_METHOD))
        return TN_PROTOCOL(rc);
    return k + (int)len;
}

/* ---- encoding --------------------------------------------------------------------------- */

/* The value of a scalar property from the struct, as a generic property. */
static void props_get(const struct tern_props *o, unsigned id, struct tern_prop *pr)
{
    pr->id = (uint8_t)id;
    pr->kind = (enum tern_prop_kind)prop_table[id].kind;
    pr->u = 0;
    pr->s = pr->v = (tern_slice){NULL, 0};
    switch (id) {
    case TERN_PROP_PAYLOAD_FORMAT_INDICATOR: pr->u = o->payload_format_indicator; break;
    case TERN_PROP_MESSAGE_EXPIRY_INTERVAL: pr->u = o->message_expiry_interval; break;
    case TERN_PROP_CONTENT_TYPE: pr->s = o->content_type; break;
    case TERN_PROP_RESPONSE_TOPIC: pr->s = o->response_topic; break;
    case TERN_PROP_CORRELATION_DATA: pr->s = o->correlation_data; break;
    case TERN_PROP_SESSION_EXPIRY_INTERVAL: pr->u = o->session_expiry_interval; break;
    case TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER: pr->s = o->assigned_client_identifier; break;
    case TERN_PROP_SERVER_KEEP_ALIVE: pr->u = o->server_keep_alive; break;
    case TERN_PROP_AUTHENTICATION_METHOD: pr->s = o->authentication_method; break;
    case TERN_PROP_AUTHENTICATION_DATA: pr->s = o->authentication_data; break;
    case TERN_PROP_REQUEST_PROBLEM_INFORMATION: pr->u = o->request_problem_information; break;
    case TERN_PROP_WILL_DELAY_INTERVAL: pr->u = o->will_delay_interval; break;
    case TERN_PROP_REQUEST_RESPONSE_INFORMATION: pr->u = o->request_response_information; break;
    case TERN_PROP_RESPONSE_INFORMATION: pr->s = o->response_information; break;
    case TERN_PROP_SERVER_REFERENCE: pr->s = o->server_reference; break;
    case TERN_PROP_REASON_STRING: pr->s = o->reason_string; break;
    case TERN_PROP_RECEIVE_MAXIMUM: pr->u = o->receive_maximum; break;
    case TERN_PROP_TOPIC_ALIAS_MAXIMUM: pr->u = o->topic_alias_maximum; break;
    case TERN_PROP_TOPIC_ALIAS: pr->u = o->topic_alias; break;
    case TERN_PROP_MAXIMUM_QOS: pr->u = o->maximum_qos; break;
    case TERN_PROP_RETAIN_AVAILABLE: pr->u = o->retain_available; break;
    case TERN_PROP_MAXIMUM_PACKET_SIZE: pr->u = o->maximum_packet_size; break;
    case TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
        pr->u = o->wildcard_subscription_available;
        break;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
        pr->u = o->subscription_identifier_available;
        break;
    case TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE: pr->u = o->shared_subscription_available; break;
    default: break;
    }
}

/* Encoded size of one property, or 0 when its value cannot be encoded. Ids are all < 128, so
 * the identifier takes one byte. */
static size_t props_one_size(const struct tern_prop *pr)
{
    switch (pr->kind) {
    case TERN_PK_BYTE: return pr->u <= 0xff ? 2 : 0;
    case TERN_PK_U16: return pr->u <= 0xffff ? 3 : 0;
    case TERN_PK_U32: return 5;
    case TERN_PK_VARINT: {
        unsigned k = tern_varint_size(pr->u);
        return k && pr->u ? 1 + k : 0;
    }
    case TERN_PK_UTF8:
    case TERN_PK_BINARY: return pr->s.n <= 65535 && (pr->s.p || !pr->s.n) ? 3 + pr->s.n : 0;
    case TERN_PK_PAIR: return pr->s.n <= 65535 && pr->v.n <= 65535 ? 5 + pr->s.n + pr->v.n : 0;
    default: return 0;
    }
}

static uint8_t *props_one_encode(uint8_t *w, const struct tern_prop *pr)
{
    *w++ = pr->id;
    switch (pr->kind) {
    case TERN_PK_BYTE: return wr_u8(w, (uint8_t)pr->u);
    case TERN_PK_U16: return wr_u16(w, (uint16_t)pr->u);
    case TERN_PK_U32: return wr_u32(w, pr->u);
    case TERN_PK_VARINT: return wr_varint(w, pr->u);
    case TERN_PK_UTF8:
    case TERN_PK_BINARY: return wr_bin(w, pr->s);
    case TERN_PK_PAIR: return wr_bin(wr_bin(w, pr->s), pr->v);
    default: return w;
    }
}

/* Subscription Identifiers or User Properties, n of them, from the arrays or from raw.
 * Advances *w when writing; returns their encoded size or -EINVAL. */
static long props_walk_repeated(const struct tern_props *o, unsigned ctx, unsigned want, uint32_t n,
                                uint8_t **w)
{
    size_t total = 0;
    struct tern_prop pr;
    struct tern_prop_iter it;
    bool subid = want == TERN_PROP_SUBSCRIPTION_IDENTIFIER;
    if (subid && n > 1 && ctx != TERN_PUBLISH)
        return -EINVAL; /* only PUBLISH may repeat it */
    bool from_raw = subid ? (n > 1 && !o->sub_ids) : !o->user;
    if (!subid && !from_raw) {
        /* User Properties from the caller's array: written directly, without a temporary
         * struct tern_prop per pair (which showed in clang's profile). */
        for (uint32_t i = 0; i < n; i++) {
            tern_slice k = o->user[i].k, v = o->user[i].v;
            if (k.n > 65535 || v.n > 65535 || (!k.p && k.n) || (!v.p && v.n))
                return -EINVAL;
            total += 5 + k.n + v.n;
            if (*w)
                *w = wr_bin(wr_bin(wr_u8(*w, TERN_PROP_USER_PROPERTY), k), v);
        }
        return (long)total;
    }
    tern_props_iter_init(&it, o);
    for (uint32_t i = 0; i < n; i++) {
        if (from_raw) {
            do {
                if (!tern_props_iter_next(&it, &pr))
                    return -EINVAL; /* fewer in raw than the count says */
            } while (pr.id != want);
        } else { /* Subscription Identifiers: User Properties from an array returned above */
            pr = (struct tern_prop){.id = TERN_PROP_SUBSCRIPTION_IDENTIFIER,
                                    .kind = TERN_PK_VARINT,
                                    .u = n == 1 && !o->sub_ids ? o->sub_id : o->sub_ids[i]};
        }
        size_t k = props_one_size(&pr);
        if (!k)
            return -EINVAL;
        total += k;
        if (*w)
            *w = props_one_encode(*w, &pr);
    }
    return (long)total;
}

/*
 * One walk serves both size and encode, so they cannot disagree: with w == NULL it only
 * adds up sizes. Returns the body size, or -EINVAL.
 */
static long props_walk(const struct tern_props *o, unsigned ctx, uint8_t *w)
{
    size_t total = 0;
    struct tern_prop pr;
    uint64_t scalars = o->present & ~((1ull << TERN_PROP_USER_PROPERTY) |
                                      (1ull << TERN_PROP_SUBSCRIPTION_IDENTIFIER));
    if (o->present >> (TERN_PROP_ID_MAX + 1))
        return -EINVAL;
    if (o->sub_id_n)
        scalars |= 1ull << TERN_PROP_SUBSCRIPTION_IDENTIFIER;
    if (o->user_n)
        scalars |= 1ull << TERN_PROP_USER_PROPERTY;
    /* Visit only the properties present, by ascending id. */
    for (uint64_t bits = scalars; bits; bits &= bits - 1) {
        unsigned id = (unsigned)__builtin_ctzll(bits);
        if (!prop_table[id].kind || !(prop_table[id].ctx & CX(ctx)))
            return -EINVAL;
        if (id == TERN_PROP_USER_PROPERTY)
            continue; /* after every other property, below */
        if (id == TERN_PROP_SUBSCRIPTION_IDENTIFIER) {
            long k = props_walk_repeated(o, ctx, id, o->sub_id_n, &w);
            if (k < 0)
                return k;
            total += (size_t)k;
            continue;
        }
        props_get(o, id, &pr);
        /* The encoder refuses what the decoder would call a Protocol Error. */
        size_t k = props_one_size(&pr);
        if (!k || props_value_rc(&pr))
            return -EINVAL;
        total += k;
        if (w)
            w = props_one_encode(w, &pr);
    }
    long k = props_walk_repeated(o, ctx, TERN_PROP_USER_PROPERTY, o->user_n, &w);
    if (k < 0)
        return k;
    total += (size_t)k;
    total += o->extra.n;
    if (w && o->extra.n)
        memcpy(w, o->extra.p, o->extra.n);
    if (total > TERN_VARINT_MAX)
        return -EINVAL;
    return (long)total;
}

int tern_props_body_size(const struct tern_props *p, unsigned ctx)
{
    if (ctx >= 16)
        return -EINVAL;
    return (int)props_walk(p, ctx, NULL);
}

void tn_props_encode_body(const struct tern_props *p, unsigned ctx, uint32_t body, uint8_t *out)
{
    props_walk(p, ctx, wr_varint(out, body));
}

int tern_props_encode(const struct tern_props *p, unsigned ctx, uint8_t *out, size_t cap)
{
    int body = tern_props_body_size(p, ctx);
    if (body < 0)
        return body;
    size_t total = tern_varint_size((uint32_t)body) + (size_t)body;
    if (total > cap)
        return -ENOBUFS;
    uint8_t *w = wr_varint(out, (uint32_t)body);
    props_walk(p, ctx, w);
    return (int)total;
}
