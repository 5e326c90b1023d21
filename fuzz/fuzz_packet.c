/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_packet.c - libFuzzer target for the packet decoder and encoder (chapter 3 of the
 * 3.1.1 and 5.0 specs; 3.1 for level 3).
 *
 * Input: byte 0 picks the protocol level (bits 0-1: 3, 4, 5, 5), whether a decoded CONNECT
 * switches the rest of the stream to its level (bit 2), and a maximum frame size (bits 3-7:
 * mostly none, sometimes 16..128 bytes); the rest is a byte stream, cut into
 * frames with tern_frame_peek, each decoded with tern_packet_decode from an exactly sized
 * copy (so reading past the frame is a heap overflow).
 * Oracles, per frame:
 *  - failure: -TERN_EMALFORMED with rc 0x81, -EPROTO with another rc >= 0x80, or
 *    -TERN_EVERSION with rc 0x84 on a CONNECT whose version field holds the level sent;
 *  - success: type/flags from byte 0; every view (fields, property values, subscription
 *    entries) inside the frame; fields within their ranges; properties consistent
 *    (fz_props_check_decoded); the frame one byte shorter or longer does not decode;
 *  - round trip: re-encoded three ways (fuzz_util.h), tern_packet_size equals what
 *    tern_packet_encode writes, is at most the original size, one byte less of room is
 *    -ENOBUFS, the bytes frame as one whole frame and decode to the same meaning (CONNECT:
 *    every field); the as-decoded and array encodings are identical and a fixed point;
 *    tern_publish_encode_head writes the same bytes minus the payload.
 * Owns: nothing. Thread: the fuzz driver's.
 */
#include "fuzz_util.h"

struct pk_ctx {
    const uint8_t *frame; /* the exact-size copy being checked */
    size_t n;
    uint8_t ver;
};

static void check_slice(const struct pk_ctx *c, tern_slice s, const char *what)
{
    FZ_CHECK(fz_slice_inside(s, c->frame, c->n), "%s outside the frame", what);
}

static void check_props(const struct pk_ctx *c, const struct tern_props *p, unsigned ctx)
{
    fz_props_check_decoded(p, ctx, c->frame, c->n);
    if (c->ver != TERN_V5 && ctx != TERN_PROP_CTX_WILL)
        FZ_CHECK(p->present == 0 && p->raw.n == 0 && p->user_n == 0 && p->sub_id_n == 0,
                 "properties on a 3.x packet");
}

/* Entries of a decoded SUBSCRIBE/UNSUBSCRIBE: inside the frame, as many as count. */
static void check_entries(const struct pk_ctx *c, const struct tern_packet *pkt)
{
    const struct tern_subscribe *s = &pkt->u.subscribe;
    check_slice(c, s->raw, "subscribe raw");
    FZ_CHECK(s->list == NULL && s->count >= 1, "list %p count %u", (const void *)s->list, s->count);
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    uint32_t k = 0;
    tern_sub_iter_init(&it, pkt, c->ver);
    while (tern_sub_iter_next(&it, &e)) {
        k++;
        check_slice(c, e.filter, "subscription filter");
        FZ_CHECK(tern_utf8_is_valid(e.filter.p, e.filter.n), "filter not UTF-8");
        FZ_CHECK(e.qos <= 2 && e.retain_handling <= 2, "qos %u rh %u", e.qos, e.retain_handling);
        if (c->ver != TERN_V5 || pkt->type == TERN_UNSUBSCRIBE)
            FZ_CHECK(!e.no_local && !e.retain_as_published && e.retain_handling == 0,
                     "5.0 options outside a 5.0 SUBSCRIBE");
        if (pkt->type == TERN_UNSUBSCRIBE)
            FZ_CHECK(e.qos == 0, "UNSUBSCRIBE entry with qos %u", e.qos);
    }
    FZ_CHECK(k == s->count && it.p == it.end, "iterated %u of %u entries", k, s->count);
}

static void check_decoded(const struct pk_ctx *c, const struct tern_packet *pkt)
{
    FZ_CHECK(pkt->type == c->frame[0] >> 4 && pkt->flags == (c->frame[0] & 15), "type/flags");
    FZ_CHECK(pkt->type >= TERN_CONNECT && pkt->type <= TERN_AUTH, "type %u", pkt->type);
    if (pkt->type != TERN_PUBLISH)
        FZ_CHECK(pkt->flags == tern_ptype_fixed_flags(pkt->type), "flags of %s",
                 tern_ptype_name(pkt->type));
    FZ_CHECK(pkt->type != TERN_AUTH || c->ver == TERN_V5, "AUTH accepted in 3.x");
    const struct tern_connect *cn = &pkt->u.connect;
    const struct tern_publish *p = &pkt->u.publish;
    switch (pkt->type) {
    case TERN_CONNECT:
        FZ_CHECK(cn->version >= 3 && cn->version <= 5, "version %u", cn->version);
        FZ_CHECK(fz_slice_eq(cn->protocol_name,
                             cn->version == 3 ? TERN_SLICE_STR("MQIsdp") : TERN_SLICE_STR("MQTT")),
                 "protocol name for level %u", cn->version);
        FZ_CHECK(cn->will_qos <= 2 && (cn->will || (!cn->will_qos && !cn->will_retain)),
                 "will flags");
        check_slice(c, cn->protocol_name, "protocol name");
        check_slice(c, cn->client_id, "client id");
        FZ_CHECK(tern_utf8_is_valid(cn->client_id.p, cn->client_id.n), "client id UTF-8");
        if (cn->version == TERN_V5)
            fz_props_check_decoded(&cn->props, TERN_CONNECT, c->frame, c->n);
        if (cn->will) {
            if (cn->version == TERN_V5)
                fz_props_check_decoded(&cn->will_props, TERN_PROP_CTX_WILL, c->frame, c->n);
            check_slice(c, cn->will_topic, "will topic");
            check_slice(c, cn->will_payload, "will payload");
            FZ_CHECK(tern_topic_name_is_valid(cn->will_topic.p, cn->will_topic.n),
                     "will topic invalid");
        }
        if (cn->has_username) {
            check_slice(c, cn->username, "user name");
            FZ_CHECK(tern_utf8_is_valid(cn->username.p, cn->username.n), "user name UTF-8");
        }
        if (cn->has_password)
            check_slice(c, cn->password, "password");
        FZ_CHECK(cn->version == TERN_V5 || cn->has_username || !cn->has_password,
                 "3.x password without user name [MQTT-3.1.2-22]");
        break;
    case TERN_CONNACK:
        check_props(c, &pkt->u.connack.props, TERN_CONNACK);
        if (c->ver == TERN_V5)
            FZ_CHECK(tern_rc_is_valid_for(TERN_CONNACK, pkt->u.connack.rc) &&
                         (!pkt->u.connack.session_present || pkt->u.connack.rc == 0),
                     "CONNACK rc 0x%02x", pkt->u.connack.rc);
        else
            FZ_CHECK(pkt->u.connack.rc <= 5, "3.x CONNACK rc %u", pkt->u.connack.rc);
        break;
    case TERN_PUBLISH:
        FZ_CHECK(p->qos <= 2 && (p->qos || !p->dup), "qos %u dup %d", p->qos, p->dup);
        FZ_CHECK(pkt->flags == ((p->dup ? 8 : 0) | p->qos << 1 | (p->retain ? 1 : 0)),
                 "flags vs qos/dup/retain");
        FZ_CHECK(p->qos == 0 || p->packet_id != 0, "packet id 0");
        check_slice(c, p->topic, "topic");
        check_slice(c, p->payload, "payload");
        check_props(c, &p->props, TERN_PUBLISH);
        if (p->topic.n)
            FZ_CHECK(tern_topic_name_is_valid(p->topic.p, p->topic.n), "topic invalid");
        else
            FZ_CHECK(c->ver == TERN_V5 && tern_props_has(&p->props, TERN_PROP_TOPIC_ALIAS),
                     "empty topic without a Topic Alias");
        FZ_CHECK(p->payload.n == 0 || p->payload.p + p->payload.n == c->frame + c->n,
                 "payload does not end the frame");
        break;
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP:
        FZ_CHECK(pkt->u.ack.packet_id != 0, "ack packet id 0");
        check_props(c, &pkt->u.ack.props, pkt->type);
        FZ_CHECK(c->ver == TERN_V5 ? tern_rc_is_valid_for(pkt->type, pkt->u.ack.rc)
                                   : pkt->u.ack.rc == 0,
                 "ack rc 0x%02x", pkt->u.ack.rc);
        break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE:
        FZ_CHECK(pkt->u.subscribe.packet_id != 0, "subscribe packet id 0");
        check_props(c, &pkt->u.subscribe.props, pkt->type);
        check_entries(c, pkt);
        break;
    case TERN_SUBACK:
    case TERN_UNSUBACK:
        check_props(c, &pkt->u.suback.props, pkt->type);
        check_slice(c, pkt->u.suback.rcs, "suback codes");
        FZ_CHECK(pkt->u.suback.rcs.n > 0 || (c->ver != TERN_V5 && pkt->type == TERN_UNSUBACK),
                 "no reason codes");
        for (size_t i = 0; i < pkt->u.suback.rcs.n; i++) {
            uint8_t r = pkt->u.suback.rcs.p[i];
            FZ_CHECK(c->ver == TERN_V5 ? tern_rc_is_valid_for(pkt->type, r) : (r <= 2 || r == 0x80),
                     "suback code 0x%02x", r);
        }
        break;
    case TERN_DISCONNECT:
    case TERN_AUTH:
        check_props(c, &pkt->u.disconnect.props, pkt->type);
        FZ_CHECK(c->ver == TERN_V5 ? tern_rc_is_valid_for(pkt->type, pkt->u.disconnect.rc)
                                   : pkt->u.disconnect.rc == 0,
                 "disconnect rc 0x%02x", pkt->u.disconnect.rc);
        break;
    default: break;
    }
}

/* ---- meaning comparison ------------------------------------------------------------------- */

static void expect_same_entries(const struct tern_packet *a, const struct tern_packet *b,
                                uint8_t ver)
{
    struct tern_sub_iter ia, ib;
    struct tern_sub_entry ea, eb;
    tern_sub_iter_init(&ia, a, ver);
    tern_sub_iter_init(&ib, b, ver);
    for (;;) {
        int ra = tern_sub_iter_next(&ia, &ea), rb = tern_sub_iter_next(&ib, &eb);
        FZ_CHECK(ra == rb, "different number of entries");
        if (!ra)
            return;
        FZ_CHECK(fz_slice_eq(ea.filter, eb.filter) && ea.qos == eb.qos &&
                     ea.no_local == eb.no_local &&
                     ea.retain_as_published == eb.retain_as_published &&
                     ea.retain_handling == eb.retain_handling,
                 "subscription entry differs");
    }
}

static void expect_same_connect(const struct tern_connect *a, const struct tern_connect *b)
{
    FZ_CHECK(a->version == b->version && fz_slice_eq(a->protocol_name, b->protocol_name) &&
                 a->clean == b->clean && a->will == b->will && a->will_qos == b->will_qos &&
                 a->will_retain == b->will_retain && a->has_username == b->has_username &&
                 a->has_password == b->has_password && a->keep_alive == b->keep_alive &&
                 fz_slice_eq(a->client_id, b->client_id),
             "CONNECT header fields differ");
    if (a->version == TERN_V5)
        fz_props_expect_same(&a->props, &b->props, "CONNECT props");
    if (a->will) {
        if (a->version == TERN_V5)
            fz_props_expect_same(&a->will_props, &b->will_props, "will props");
        FZ_CHECK(fz_slice_eq(a->will_topic, b->will_topic) &&
                     fz_slice_eq(a->will_payload, b->will_payload),
                 "will differs");
    }
    FZ_CHECK(!a->has_username || fz_slice_eq(a->username, b->username), "user name differs");
    FZ_CHECK(!a->has_password || fz_slice_eq(a->password, b->password), "password differs");
}

static void expect_same(const struct tern_packet *a, const struct tern_packet *b, uint8_t ver)
{
    FZ_CHECK(a->type == b->type && a->flags == b->flags, "type/flags %u/%u vs %u/%u", a->type,
             a->flags, b->type, b->flags);
    switch (a->type) {
    case TERN_CONNECT: expect_same_connect(&a->u.connect, &b->u.connect); break;
    case TERN_CONNACK:
        FZ_CHECK(a->u.connack.session_present == b->u.connack.session_present &&
                     a->u.connack.rc == b->u.connack.rc,
                 "CONNACK differs");
        fz_props_expect_same(&a->u.connack.props, &b->u.connack.props, "CONNACK props");
        break;
    case TERN_PUBLISH:
        FZ_CHECK(a->u.publish.qos == b->u.publish.qos && a->u.publish.dup == b->u.publish.dup &&
                     a->u.publish.retain == b->u.publish.retain &&
                     (a->u.publish.qos == 0 || a->u.publish.packet_id == b->u.publish.packet_id) &&
                     fz_slice_eq(a->u.publish.topic, b->u.publish.topic) &&
                     fz_slice_eq(a->u.publish.payload, b->u.publish.payload),
                 "PUBLISH differs");
        fz_props_expect_same(&a->u.publish.props, &b->u.publish.props, "PUBLISH props");
        break;
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP:
        FZ_CHECK(a->u.ack.packet_id == b->u.ack.packet_id && a->u.ack.rc == b->u.ack.rc,
                 "%s differs", tern_ptype_name(a->type));
        fz_props_expect_same(&a->u.ack.props, &b->u.ack.props, "ack props");
        break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE:
        FZ_CHECK(a->u.subscribe.packet_id == b->u.subscribe.packet_id &&
                     a->u.subscribe.count == b->u.subscribe.count,
                 "%s differs", tern_ptype_name(a->type));
        fz_props_expect_same(&a->u.subscribe.props, &b->u.subscribe.props, "subscribe props");
        expect_same_entries(a, b, ver);
        break;
    case TERN_SUBACK:
    case TERN_UNSUBACK:
        FZ_CHECK(a->u.suback.packet_id == b->u.suback.packet_id &&
                     fz_slice_eq(a->u.suback.rcs, b->u.suback.rcs),
                 "%s differs", tern_ptype_name(a->type));
        fz_props_expect_same(&a->u.suback.props, &b->u.suback.props, "suback props");
        break;
    case TERN_DISCONNECT:
    case TERN_AUTH:
        FZ_CHECK(a->u.disconnect.rc == b->u.disconnect.rc, "%s differs", tern_ptype_name(a->type));
        fz_props_expect_same(&a->u.disconnect.props, &b->u.disconnect.props, "disconnect props");
        break;
    default: break;
    }
}

/* ---- re-encoding -------------------------------------------------------------------------- */

/* A copy of pkt ready to encode in the given mode (arrays from a). */
static void prepare(struct tern_packet *dst, const struct tern_packet *src, uint8_t ver,
                    enum fz_enc_mode mode, struct fz_arena *a)
{
    *dst = *src;
    switch (src->type) {
    case TERN_CONNECT:
        fz_props_prepare(&dst->u.connect.props, &src->u.connect.props, mode, a);
        fz_props_prepare(&dst->u.connect.will_props, &src->u.connect.will_props, mode, a);
        break;
    case TERN_CONNACK:
        fz_props_prepare(&dst->u.connack.props, &src->u.connack.props, mode, a);
        break;
    case TERN_PUBLISH:
        fz_props_prepare(&dst->u.publish.props, &src->u.publish.props, mode, a);
        break;
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP: fz_props_prepare(&dst->u.ack.props, &src->u.ack.props, mode, a); break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: {
        fz_props_prepare(&dst->u.subscribe.props, &src->u.subscribe.props, mode, a);
        if (mode == FZ_ENC_ASIS)
            break;
        struct tern_sub_entry *list = fz_arena_alloc(a, src->u.subscribe.count * sizeof(*list));
        struct tern_sub_iter it;
        uint32_t k = 0;
        tern_sub_iter_init(&it, src, ver);
        while (k < src->u.subscribe.count && tern_sub_iter_next(&it, &list[k]))
            k++;
        dst->u.subscribe.list = list;
        dst->u.subscribe.raw = (tern_slice){NULL, 0};
        break;
    }
    case TERN_SUBACK:
    case TERN_UNSUBACK:
        fz_props_prepare(&dst->u.suback.props, &src->u.suback.props, mode, a);
        break;
    case TERN_DISCONNECT:
    case TERN_AUTH:
        fz_props_prepare(&dst->u.disconnect.props, &src->u.disconnect.props, mode, a);
        break;
    default: break;
    }
}

/* The level to encode with: a CONNECT carries its own. */
static uint8_t enc_version(const struct tern_packet *pkt, uint8_t ver)
{
    return pkt->type == TERN_CONNECT ? pkt->u.connect.version : ver;
}

/* Encode pkt (prepared), check the size functions and the framing; returns the bytes. */
static uint8_t *encode_checked(const struct tern_packet *pkt, uint8_t ver, size_t limit,
                               size_t *len)
{
    uint8_t ev = enc_version(pkt, ver);
    int size = tern_packet_size(pkt, ev);
    FZ_CHECK(size >= 2, "%s: tern_packet_size %d (%s)", tern_ptype_name(pkt->type), size,
             tern_strerror(size));
    FZ_CHECK((size_t)size <= limit, "%s: re-encoded %d bytes, original %zu",
             tern_ptype_name(pkt->type), size, limit);
    uint8_t *out = fz_alloc((size_t)size);
    uint8_t *small = fz_alloc((size_t)size - 1);
    int r = tern_packet_encode(pkt, ev, small, (size_t)size - 1);
    FZ_CHECK(r == -ENOBUFS, "encode into %d bytes gave %d", size - 1, r);
    free(small);
    r = tern_packet_encode(pkt, ev, out, (size_t)size);
    FZ_CHECK(r == size, "encode gave %d, size %d", r, size);
    struct tern_frame f;
    uint8_t rc;
    FZ_CHECK(tern_frame_peek(out, (size_t)size, 0, &f, &rc) == 1 && f.size == (uint32_t)size,
             "re-encoded bytes are not one frame");
    if (pkt->type == TERN_PUBLISH) {
        size_t pl = pkt->u.publish.payload.n, hn = (size_t)size - pl;
        uint8_t *head = fz_alloc(hn);
        int h = tern_publish_encode_head(pkt, ev, head, hn);
        FZ_CHECK(h >= 0 && (size_t)h == hn && memcmp(head, out, hn) == 0,
                 "publish head %d bytes, want %zu", h, hn);
        FZ_CHECK(pl == 0 || memcmp(out + hn, pkt->u.publish.payload.p, pl) == 0,
                 "payload is not the frame's tail");
        if (hn > 1)
            FZ_CHECK(tern_publish_encode_head(pkt, ev, head, hn - 1) == -ENOBUFS,
                     "publish head into a short buffer");
        free(head);
    }
    *len = (size_t)size;
    return out;
}

/* Decode an encoding of ours; it must succeed. */
static void decode_ours(const uint8_t *buf, size_t n, uint8_t ver, struct tern_packet *out)
{
    uint8_t rc = 0;
    memset(out, 0xa5, sizeof(*out));
    int r = tern_packet_decode(buf, n, ver, out, &rc);
    if (r != 0)
        fz_hexdump("re-encoded frame", buf, n);
    FZ_CHECK(r == 0, "our encoding does not decode: %d (%s) rc 0x%02x", r, tern_strerror(r), rc);
    struct pk_ctx c = {buf, n, ver};
    check_decoded(&c, out);
}

static void roundtrip(const struct pk_ctx *c, const struct tern_packet *pkt)
{
    uint8_t *enc[FZ_ENC_MODES];
    size_t len[FZ_ENC_MODES];
    struct tern_packet back[FZ_ENC_MODES];
    for (int m = 0; m < FZ_ENC_MODES; m++) {
        struct fz_arena a = {0};
        struct tern_packet prep;
        prepare(&prep, pkt, c->ver, (enum fz_enc_mode)m, &a);
        enc[m] = encode_checked(&prep, c->ver, c->n, &len[m]);
        fz_arena_fini(&a);
        decode_ours(enc[m], len[m], c->ver, &back[m]);
        expect_same(pkt, &back[m], c->ver);
    }
    FZ_CHECK(len[FZ_ENC_ASIS] == len[FZ_ENC_ARRAYS] &&
                 memcmp(enc[FZ_ENC_ASIS], enc[FZ_ENC_ARRAYS], len[FZ_ENC_ASIS]) == 0,
             "as-decoded and array encodings differ");
    /* The canonical form is a fixed point. */
    size_t l2;
    uint8_t *e2 = encode_checked(&back[FZ_ENC_ASIS], c->ver, len[FZ_ENC_ASIS], &l2);
    FZ_CHECK(l2 == len[FZ_ENC_ASIS] && memcmp(e2, enc[FZ_ENC_ASIS], l2) == 0,
             "canonical encoding is not a fixed point");
    free(e2);
    for (int m = 0; m < FZ_ENC_MODES; m++)
        free(enc[m]);
}

static void check_failure(const struct pk_ctx *c, const struct tern_packet *pkt, int r, uint8_t rc)
{
    FZ_CHECK(r == -TERN_EMALFORMED || r == -EPROTO || r == -TERN_EVERSION, "decode returned %d", r);
    FZ_CHECK(r != -TERN_EMALFORMED || rc == TERN_RC_MALFORMED_PACKET, "malformed, rc 0x%02x", rc);
    FZ_CHECK(r != -EPROTO || (rc >= 0x80 && rc != TERN_RC_MALFORMED_PACKET &&
                              rc != TERN_RC_UNSUPPORTED_PROTOCOL_VERSION),
             "protocol error, rc 0x%02x", rc);
    if (r == -TERN_EVERSION) {
        FZ_CHECK(rc == TERN_RC_UNSUPPORTED_PROTOCOL_VERSION && (c->frame[0] >> 4) == TERN_CONNECT,
                 "EVERSION rc 0x%02x type %u", rc, c->frame[0] >> 4);
        /* The level byte follows the protocol name: [hdr][len16][name][level]. */
        size_t h = 1;
        while (c->frame[h] & 0x80)
            h++;
        h++;
        size_t nl = (size_t)c->frame[h] << 8 | c->frame[h + 1];
        FZ_CHECK(h + 2 + nl < c->n, "EVERSION without a level byte");
        FZ_CHECK(pkt->u.connect.version == c->frame[h + 2 + nl],
                 "EVERSION version %u, frame says %u", pkt->u.connect.version,
                 c->frame[h + 2 + nl]);
    }
}

/* Check one frame; returns the level a CONNECT announced (0 for anything else). */
static uint8_t check_frame(const uint8_t *bytes, size_t n, uint8_t ver)
{
    uint8_t *frame = fz_dup(bytes, n);
    struct pk_ctx c = {frame, n, ver};
    struct tern_packet pkt;
    memset(&pkt, 0xa5, sizeof(pkt));
    uint8_t rc = 0;
    int r = tern_packet_decode(frame, n, ver, &pkt, &rc);
    if (r != 0) {
        check_failure(&c, &pkt, r, rc);
        free(frame);
        return 0;
    }
    check_decoded(&c, &pkt);
    /* Only the whole frame decodes: one byte less or more is malformed. */
    uint8_t *shorter = fz_dup(frame, n - 1);
    struct tern_packet tmp;
    FZ_CHECK(tern_packet_decode(shorter, n - 1, ver, &tmp, &rc) == -TERN_EMALFORMED,
             "frame minus one byte decodes");
    free(shorter);
    uint8_t *longer = fz_alloc(n + 1);
    memcpy(longer, frame, n);
    FZ_CHECK(tern_packet_decode(longer, n + 1, ver, &tmp, &rc) == -TERN_EMALFORMED,
             "frame plus one byte decodes");
    free(longer);
    roundtrip(&c, &pkt);
    free(frame);
    return pkt.type == TERN_CONNECT ? pkt.u.connect.version : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const uint8_t levels[4] = {TERN_V31, TERN_V311, TERN_V5, TERN_V5};
    uint8_t ver = levels[data[0] & 3];
    bool follow = data[0] & 4;
    unsigned ms = data[0] >> 3;
    uint32_t max_size = ms < 24 ? 0 : (ms - 23) * 16;
    const uint8_t *s = data + 1;
    size_t n = size - 1, off = 0;
    for (;;) {
        struct tern_frame f;
        uint8_t rc = 0;
        int k = tern_frame_peek(s + off, n - off, max_size, &f, &rc);
        if (k != 1)
            break;
        uint8_t said = check_frame(s + off, f.size, ver);
        if (said && follow)
            ver = said; /* the rest of the stream speaks the CONNECT's level */
        off += f.size;
    }
    return 0;
}
