/* SPDX-License-Identifier: MIT */
/*
 * src/codec/packet.c - decoding and encoding of every MQTT control packet for protocol
 * levels 3 (3.1), 4 (3.1.1) and 5 (5.0), with the checks chapter 3 of each spec demands.
 *
 * Owns: nothing; decoded packets are views into the caller's frame. Thread: any.
 * Decoding and encoding sit side by side per packet so that a rule read in one place is
 * honoured in both.
 */
#include "codec_internal.h"

/* ---- decoding ----------------------------------------------------------------------------- */

static int dec_props(struct tn_rd *r, unsigned ctx, struct tern_props *out, uint8_t *rc)
{
    int k = tern_props_decode(r->p, rd_left(r), ctx, out, rc);
    if (k < 0)
        return k;
    r->p += k;
    return 0;
}

static int dec_connect(struct tn_rd *r, struct tern_connect *c, uint8_t *rc)
{
    uint8_t flags;
    memset(c, 0, sizeof *c);
    if (!rd_bin(r, &c->protocol_name) || !rd_u8(r, &c->version))
        return TN_MALFORMED(rc);
    bool mqtt = c->protocol_name.n == 4 && !memcmp(c->protocol_name.p, "MQTT", 4);
    bool mqisdp = c->protocol_name.n == 6 && !memcmp(c->protocol_name.p, "MQIsdp", 6);
    /* 3.1.1 [MQTT-3.1.2-2]: an unsupported level gets CONNACK 0x01 and the connection closes;
     * 5.0: CONNACK 0x84. The level seen stays in c->version for the caller. */
    if (!((mqtt && (c->version == TERN_V311 || c->version == TERN_V5)) ||
          (mqisdp && c->version == TERN_V31)))
        return tn_fail(rc, TERN_RC_UNSUPPORTED_PROTOCOL_VERSION, -TERN_EVERSION);
    if (!rd_u8(r, &flags) || !rd_u16(r, &c->keep_alive))
        return TN_MALFORMED(rc);
    /* The reserved flag must be zero [MQTT-3.1.2-3] (both versions). */
    if (flags & 0x01)
        return TN_MALFORMED(rc);
    c->clean = flags & 0x02;
    c->will = flags & 0x04;
    c->will_qos = (uint8_t)((flags >> 3) & 3);
    c->will_retain = flags & 0x20;
    c->has_password = flags & 0x40;
    c->has_username = flags & 0x80;
    /* Will QoS 3 is malformed [MQTT-3.1.2-14] (3.1.1); without a will, Will QoS and Will
     * Retain must be 0 [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15] (3.1.1). */
    if (c->will_qos == 3 || (!c->will && (c->will_qos || c->will_retain)))
        return TN_MALFORMED(rc);
    /* 3.1.1: no password without a user name [MQTT-3.1.2-22]; 5.0 allows it. */
    if (c->version != TERN_V5 && c->has_password && !c->has_username)
        return TN_MALFORMED(rc);
    int err;
    if (c->version == TERN_V5 && (err = dec_props(r, TERN_CONNECT, &c->props, rc)))
        return err;
    /* The Client Identifier is a UTF-8 string [MQTT-3.1.3-4] (3.1.1); its length and
     * emptiness are the broker's policy. */
    if (!rd_str(r, &c->client_id))
        return TN_MALFORMED(rc);
    if (c->will) {
        if (c->version == TERN_V5 && (err = dec_props(r, TERN_PROP_CTX_WILL, &c->will_props, rc)))
            return err;
        if (!rd_str(r, &c->will_topic) || !rd_bin(r, &c->will_payload))
            return TN_MALFORMED(rc);
        /* The Will Topic is a topic name: no wildcards, not empty [MQTT-3.1.3-11]. */
        if (!tern_topic_name_is_valid(c->will_topic.p, c->will_topic.n))
            return tn_fail(rc, TERN_RC_TOPIC_NAME_INVALID, -EPROTO);
    }
    if (c->has_username && !rd_str(r, &c->username))
        return TN_MALFORMED(rc);
    if (c->has_password && !rd_bin(r, &c->password))
        return TN_MALFORMED(rc);
    return 0;
}

static int dec_connack(struct tn_rd *r, uint8_t ver, struct tern_connack *c, uint8_t *rc)
{
    uint8_t flags;
    tn_props_clear(&c->props);
    if (!rd_u8(r, &flags) || !rd_u8(r, &c->rc))
        return TN_MALFORMED(rc);
    /* Bits 7-1 of the acknowledge flags are reserved and 0 [MQTT-3.2.2-1] (5.0). */
    if (flags & 0xfe)
        return TN_MALFORMED(rc);
    c->session_present = flags & 1;
    /* A refused connection never has a session [MQTT-3.2.2-4] (3.1.1) [MQTT-3.2.2-6] (5.0). */
    if (c->rc && c->session_present)
        return TN_PROTOCOL(rc);
    if (ver != TERN_V5)
        return c->rc <= TERN_CONNACK_NOT_AUTHORIZED ? 0 : TN_PROTOCOL(rc);
    if (!tern_rc_is_valid_for(TERN_CONNACK, c->rc))
        return TN_PROTOCOL(rc);
    return dec_props(r, TERN_CONNACK, &c->props, rc);
}

static int dec_publish(struct tn_rd *r, uint8_t ver, uint8_t flags, struct tern_publish *p,
                       uint8_t *rc)
{
    p->qos = (uint8_t)((flags >> 1) & 3);
    p->dup = flags & 0x08;
    p->retain = flags & 0x01;
    p->packet_id = 0;
    tn_props_clear(&p->props);
    /* QoS 3 is malformed [MQTT-3.3.1-4]; DUP must be 0 for QoS 0 [MQTT-3.3.1-2]. */
    if (p->qos == 3 || (p->dup && p->qos == 0))
        return TN_MALFORMED(rc);
    if (!rd_bin(r, &p->topic))
        return TN_MALFORMED(rc);
    int wild = tn_utf8_topic_scan(p->topic.p, p->topic.n);
    if (wild < 0)
        return TN_MALFORMED(rc);
    if (p->qos) {
        if (!rd_u16(r, &p->packet_id))
            return TN_MALFORMED(rc);
        /* Non-zero packet identifier [MQTT-2.3.1-1] (3.1.1) [MQTT-2.2.1-3] (5.0). */
        if (p->packet_id == 0)
            return TN_PROTOCOL(rc);
    }
    int err;
    if (ver == TERN_V5 && (err = dec_props(r, TERN_PUBLISH, &p->props, rc)))
        return err;
    if (p->topic.n == 0) {
        /* 5.0: an empty topic needs a Topic Alias (3.3.2.3.4); 3.x: a topic name is at least
         * one character [MQTT-4.7.3-1]. */
        if (ver != TERN_V5 || !tern_props_has(&p->props, TERN_PROP_TOPIC_ALIAS))
            return TN_PROTOCOL(rc);
    } else if (wild) {
        /* No wildcards in a topic name [MQTT-3.3.2-2]. */
        return tn_fail(rc, TERN_RC_TOPIC_NAME_INVALID, -EPROTO);
    }
    p->payload.p = r->p;
    p->payload.n = rd_left(r);
    r->p = r->end;
    return 0;
}

static int dec_ack(struct tn_rd *r, uint8_t ver, uint8_t type, struct tern_ack *a, uint8_t *rc)
{
    a->rc = 0;
    tn_props_clear(&a->props);
    if (!rd_u16(r, &a->packet_id))
        return TN_MALFORMED(rc);
    if (a->packet_id == 0)
        return TN_PROTOCOL(rc); /* [MQTT-2.3.1-1] (3.1.1) [MQTT-2.2.1-3] (5.0) */
    if (ver != TERN_V5 || rd_left(r) == 0)
        return 0; /* 5.0: Remaining Length 2 means Success, no properties (3.4.2.1) */
    if (!rd_u8(r, &a->rc))
        return TN_MALFORMED(rc);
    if (!tern_rc_is_valid_for(type, a->rc))
        return TN_PROTOCOL(rc);
    if (rd_left(r) == 0)
        return 0; /* Remaining Length 3: no Property Length (3.4.2.2.1) */
    return dec_props(r, type, &a->props, rc);
}

static int dec_subscribe(struct tn_rd *r, uint8_t ver, uint8_t type, struct tern_subscribe *s,
                         uint8_t *rc)
{
    s->count = 0;
    s->list = NULL;
    tn_props_clear(&s->props);
    if (!rd_u16(r, &s->packet_id))
        return TN_MALFORMED(rc);
    if (s->packet_id == 0)
        return TN_PROTOCOL(rc);
    int err;
    if (ver == TERN_V5 && (err = dec_props(r, type, &s->props, rc)))
        return err;
    s->raw.p = r->p;
    s->raw.n = rd_left(r);
    while (rd_left(r)) {
        tern_slice f;
        uint8_t o;
        if (!rd_str(r, &f))
            return TN_MALFORMED(rc);
        s->count++;
        if (type == TERN_UNSUBSCRIBE)
            continue;
        if (!rd_u8(r, &o))
            return TN_MALFORMED(rc);
        /* Reserved option bits must be 0: 3.1.1 bits 7-2 [MQTT-3.8.3-4], 5.0 bits 7-6
         * [MQTT-3.8.3-5]; QoS 3 is malformed either way. */
        if ((o & (ver == TERN_V5 ? 0xc0 : 0xfc)) || (o & 3) == 3)
            return TN_MALFORMED(rc);
        if (ver == TERN_V5) {
            if (((o >> 4) & 3) == 3) /* Retain Handling 3 is a Protocol Error (3.8.3.1) */
                return TN_PROTOCOL(rc);
            tern_slice g, sf;
            /* No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4] (5.0). */
            if ((o & 0x04) && tern_shared_parse(f, &g, &sf) != 0)
                return TN_PROTOCOL(rc);
        }
    }
    /* At least one topic filter [MQTT-3.8.3-3] [MQTT-3.10.3-2] (3.1.1 and 5.0). The
     * filters' syntax is checked per entry by the receiver, which answers with a per-entry
     * reason code (SUBACK 0x8F / 0x80) rather than dropping the whole packet. */
    if (s->count == 0)
        return TN_PROTOCOL(rc);
    return 0;
}

static int dec_suback(struct tn_rd *r, uint8_t ver, uint8_t type, struct tern_suback *s,
                      uint8_t *rc)
{
    tn_props_clear(&s->props);
    s->rcs = (tern_slice){r->p, 0};
    if (!rd_u16(r, &s->packet_id))
        return TN_MALFORMED(rc);
    if (s->packet_id == 0)
        return TN_PROTOCOL(rc);
    if (ver != TERN_V5 && type == TERN_UNSUBACK)
        return 0; /* 3.x UNSUBACK carries the packet id only */
    int err;
    if (ver == TERN_V5 && (err = dec_props(r, type, &s->props, rc)))
        return err;
    s->rcs.p = r->p;
    s->rcs.n = rd_left(r);
    r->p = r->end;
    if (s->rcs.n == 0)
        return TN_PROTOCOL(rc); /* one code per filter, and there is at least one */
    for (size_t i = 0; i < s->rcs.n; i++) {
        uint8_t c = s->rcs.p[i];
        bool ok = ver == TERN_V5 ? tern_rc_is_valid_for(type, c) : (c <= 2 || c == 0x80);
        if (!ok)
            return TN_PROTOCOL(rc);
    }
    return 0;
}

/* DISCONNECT and AUTH (5.0): Remaining Length 0 means Success / Normal disconnection. */
static int dec_disconnect(struct tn_rd *r, uint8_t ver, uint8_t type, struct tern_disconnect *d,
                          uint8_t *rc)
{
    d->rc = 0;
    tn_props_clear(&d->props);
    if (ver != TERN_V5 || rd_left(r) == 0)
        return 0;
    if (!rd_u8(r, &d->rc))
        return TN_MALFORMED(rc);
    if (!tern_rc_is_valid_for(type, d->rc))
        return TN_PROTOCOL(rc);
    if (rd_left(r) == 0)
        return 0;
    return dec_props(r, type, &d->props, rc);
}

int tern_packet_decode(const uint8_t *frame, size_t n, uint8_t version, struct tern_packet *out,
                       uint8_t *rc)
{
    uint32_t rem;
    uint8_t dummy;
    if (!rc)
        rc = &dummy;
    if (n < 2)
        return TN_MALFORMED(rc);
    int k = tern_varint_decode(frame + 1, n - 1, &rem);
    if (k <= 0 || (size_t)k + 1 + rem != n)
        return TN_MALFORMED(rc);
    uint8_t type = (uint8_t)(frame[0] >> 4), flags = (uint8_t)(frame[0] & 0x0f);
    out->type = type;
    out->flags = flags;
    /* Type 0 is reserved; AUTH exists only in 5.0 (type 15 is reserved in 3.1.1). */
    if (type == 0 || (type == TERN_AUTH && version != TERN_V5))
        return TN_MALFORMED(rc);
    /* Fixed-header flags are fixed for all but PUBLISH [MQTT-2.2.2-1] [MQTT-2.2.2-2]
     * (3.1.1), [MQTT-2.1.3-1] (5.0). */
    if (type != TERN_PUBLISH && flags != tern_ptype_fixed_flags(type))
        return TN_MALFORMED(rc);
    struct tn_rd r = {frame + 1 + k, frame + n};
    int err;
    switch (type) {
    case TERN_CONNECT: err = dec_connect(&r, &out->u.connect, rc); break;
    case TERN_CONNACK: err = dec_connack(&r, version, &out->u.connack, rc); break;
    case TERN_PUBLISH: err = dec_publish(&r, version, flags, &out->u.publish, rc); break;
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP: err = dec_ack(&r, version, type, &out->u.ack, rc); break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: err = dec_subscribe(&r, version, type, &out->u.subscribe, rc); break;
    case TERN_SUBACK:
    case TERN_UNSUBACK: err = dec_suback(&r, version, type, &out->u.suback, rc); break;
    case TERN_PINGREQ:
    case TERN_PINGRESP: err = 0; break;
    default: /* DISCONNECT, AUTH */
        err = dec_disconnect(&r, version, type, &out->u.disconnect, rc);
        break;
    }
    if (err)
        return err;
    /* Anything left over means the lengths inside disagree with the Remaining Length. */
    if (r.p != r.end)
        return TN_MALFORMED(rc);
    return 0;
}

/* ---- subscription entries ----------------------------------------------------------------- */

void tern_sub_iter_init(struct tern_sub_iter *it, const struct tern_packet *pkt, uint8_t version)
{
    it->p = pkt->u.subscribe.raw.p;
    it->end = it->p ? it->p + pkt->u.subscribe.raw.n : NULL;
    it->type = pkt->type;
    it->version = version;
}

int tern_sub_iter_next(struct tern_sub_iter *it, struct tern_sub_entry *out)
{
    struct tn_rd r = {it->p, it->end};
    uint8_t o = 0;
    if (!it->p || r.p >= r.end || !rd_bin(&r, &out->filter))
        return 0;
    if (it->type == TERN_SUBSCRIBE && !rd_u8(&r, &o))
        return 0;
    out->qos = o & 3;
    out->no_local = it->version == TERN_V5 && (o & 0x04);
    out->retain_as_published = it->version == TERN_V5 && (o & 0x08);
    out->retain_handling = it->version == TERN_V5 ? (uint8_t)((o >> 4) & 3) : 0;
    it->p = r.p;
    return 1;
}

/* ---- encoding ----------------------------------------------------------------------------- */

/* A writer that only counts when p is NULL, so sizing and writing share one walk and cannot
 * disagree. The counting pass remembers each property list's size (at most four per packet)
 * so the writing pass, which meets them in the same order, does not walk them again. */
struct tn_wr {
    uint8_t *p;
    size_t n;
    int err;
    uint8_t nsizes, next;
    int sizes[4];
};

static void w_u8(struct tn_wr *w, uint8_t v)
{
    if (w->p)
        w->p[w->n] = v;
    w->n++;
}

static void w_u16(struct tn_wr *w, uint16_t v)
{
    if (w->p)
        wr_u16(w->p + w->n, v);
    w->n += 2;
}

static void w_raw(struct tn_wr *w, tern_slice s)
{
    if (w->p && s.n)
        memcpy(w->p + w->n, s.p, s.n);
    w->n += s.n;
}

static void w_bin(struct tn_wr *w, tern_slice s)
{
    if (s.n > 65535 || (!s.p && s.n)) {
        w->err = -EINVAL;
        return;
    }
    w_u16(w, (uint16_t)s.n);
    w_raw(w, s);
}

/* Returns the property body size (so callers can choose a short form), or -1 on error. */
static long w_props(struct tn_wr *w, const struct tern_props *pr, unsigned ctx, bool emit)
{
    int body;
    if (w->p && w->next < w->nsizes) {
        body = w->sizes[w->next++];
    } else {
        body = tern_props_body_size(pr, ctx);
        if (body < 0) {
            w->err = body;
            return -1;
        }
        if (!w->p && w->nsizes < 4)
            w->sizes[w->nsizes++] = body;
    }
    if (!emit)
        return body;
    size_t total = tern_varint_size((uint32_t)body) + (size_t)body;
    if (w->p)
        tn_props_encode_body(pr, ctx, (uint32_t)body, w->p + w->n);
    w->n += total;
    return body;
}

static void enc_connect(struct tn_wr *w, const struct tern_connect *c, uint8_t ver)
{
    tern_slice name = c->protocol_name;
    if (!name.n)
        name = ver == TERN_V31 ? TERN_SLICE_STR("MQIsdp") : TERN_SLICE_STR("MQTT");
    bool name_ok = ver == TERN_V31 ? name.n == 6 && !memcmp(name.p, "MQIsdp", 6)
                                   : name.n == 4 && !memcmp(name.p, "MQTT", 4);
    if (ver < TERN_V31 || ver > TERN_V5 || !name_ok || c->will_qos > 2 ||
        (!c->will && (c->will_qos || c->will_retain)) ||
        (ver != TERN_V5 && c->has_password && !c->has_username)) {
        w->err = -EINVAL;
        return;
    }
    w_bin(w, name);
    w_u8(w, ver);
    w_u8(w, (uint8_t)((c->has_username ? 0x80 : 0) | (c->has_password ? 0x40 : 0) |
                      (c->will_retain ? 0x20 : 0) | c->will_qos << 3 | (c->will ? 0x04 : 0) |
                      (c->clean ? 0x02 : 0)));
    w_u16(w, c->keep_alive);
    if (ver == TERN_V5)
        w_props(w, &c->props, TERN_CONNECT, true);
    w_bin(w, c->client_id);
    if (c->will) {
        if (ver == TERN_V5)
            w_props(w, &c->will_props, TERN_PROP_CTX_WILL, true);
        w_bin(w, c->will_topic);
        w_bin(w, c->will_payload);
    }
    if (c->has_username)
        w_bin(w, c->username);
    if (c->has_password)
        w_bin(w, c->password);
}

/* The 5.0 tail shared by acks, DISCONNECT and AUTH: nothing when Success with no properties,
 * the reason code alone when there are no properties, else both (3.4.2.1, 3.14.2.1). */
static void enc_rc_props(struct tn_wr *w, uint8_t rc, const struct tern_props *pr, unsigned ctx)
{
    long body = w_props(w, pr, ctx, false);
    if (body < 0)
        return;
    if (rc == 0 && body == 0)
        return;
    w_u8(w, rc);
    if (body > 0)
        w_props(w, pr, ctx, true);
}

static void enc_subscribe(struct tn_wr *w, const struct tern_packet *pkt, uint8_t ver)
{
    const struct tern_subscribe *s = &pkt->u.subscribe;
    if (s->packet_id == 0 || s->count == 0) {
        w->err = -EINVAL;
        return;
    }
    w_u16(w, s->packet_id);
    if (ver == TERN_V5)
        w_props(w, &s->props, pkt->type, true);
    struct tern_sub_iter it;
    tern_sub_iter_init(&it, pkt, ver);
    for (uint32_t i = 0; i < s->count; i++) {
        struct tern_sub_entry e;
        if (s->list) {
            e = s->list[i];
        } else if (!tern_sub_iter_next(&it, &e)) {
            w->err = -EINVAL; /* a decoded packet re-encodes from raw */
            return;
        }
        w_bin(w, e.filter);
        if (pkt->type == TERN_UNSUBSCRIBE)
            continue;
        if (e.qos > 2 || e.retain_handling > 2) {
            w->err = -EINVAL;
            return;
        }
        uint8_t o = e.qos;
        if (ver == TERN_V5)
            o = (uint8_t)(o | (e.no_local ? 0x04 : 0) | (e.retain_as_published ? 0x08 : 0) |
                          e.retain_handling << 4);
        w_u8(w, o);
    }
}

/* The body (everything after the fixed header); with_payload false leaves out a PUBLISH's
 * payload. Returns the fixed-header flags. */
static uint8_t enc_body(struct tn_wr *w, const struct tern_packet *pkt, uint8_t ver,
                        bool with_payload)
{
    const struct tern_publish *p = &pkt->u.publish;
    const struct tern_ack *a = &pkt->u.ack;
    const struct tern_suback *sa = &pkt->u.suback;
    const struct tern_disconnect *d = &pkt->u.disconnect;
    switch (pkt->type) {
    case TERN_CONNECT:
        enc_connect(w, &pkt->u.connect, pkt->u.connect.version ? pkt->u.connect.version : ver);
        return 0;
    case TERN_CONNACK:
        w_u8(w, pkt->u.connack.session_present ? 1 : 0);
        w_u8(w, pkt->u.connack.rc);
        if (ver == TERN_V5)
            w_props(w, &pkt->u.connack.props, TERN_CONNACK, true);
        return 0;
    case TERN_PUBLISH:
        if (p->qos > 2 || (p->qos && !p->packet_id) || (p->dup && !p->qos) ||
            (!p->payload.p && p->payload.n)) {
            w->err = -EINVAL;
            return 0;
        }
        w_bin(w, p->topic);
        if (p->qos)
            w_u16(w, p->packet_id);
        if (ver == TERN_V5)
            w_props(w, &p->props, TERN_PUBLISH, true);
        if (with_payload)
            w_raw(w, p->payload);
        else
            w->n += p->payload.n; /* counted for the Remaining Length, written by the caller */
        return (uint8_t)((p->dup ? 0x08 : 0) | p->qos << 1 | (p->retain ? 1 : 0));
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP:
        if (!a->packet_id)
            w->err = -EINVAL;
        w_u16(w, a->packet_id);
        if (ver == TERN_V5)
            enc_rc_props(w, a->rc, &a->props, pkt->type);
        break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: enc_subscribe(w, pkt, ver); break;
    case TERN_SUBACK:
    case TERN_UNSUBACK:
        if (!sa->packet_id)
            w->err = -EINVAL;
        w_u16(w, sa->packet_id);
        if (ver != TERN_V5 && pkt->type == TERN_UNSUBACK)
            break;
        if (ver == TERN_V5)
            w_props(w, &sa->props, pkt->type, true);
        if (!sa->rcs.n)
            w->err = -EINVAL;
        w_raw(w, sa->rcs);
        break;
    case TERN_PINGREQ:
    case TERN_PINGRESP: break;
    case TERN_DISCONNECT:
    case TERN_AUTH:
        if (ver == TERN_V5)
            enc_rc_props(w, d->rc, &d->props, pkt->type);
        else if (pkt->type == TERN_AUTH)
            w->err = -EINVAL;
        break;
    default: w->err = -EINVAL; break;
    }
    return (uint8_t)tern_ptype_fixed_flags(pkt->type);
}

/* The counting pass: fills *hdr with the fixed header and w with the remembered sizes;
 * returns the frame size or a negative error. */
static long enc_plan(const struct tern_packet *pkt, uint8_t ver, struct tn_wr *w, uint8_t hdr[5],
                     int *hdr_len)
{
    *w = (struct tn_wr){0};
    uint8_t flags = enc_body(w, pkt, ver, true);
    if (w->err)
        return w->err;
    if (ver < TERN_V31 || ver > TERN_V5 || w->n > TERN_VARINT_MAX)
        return -EINVAL;
    *hdr_len = tern_fixed_header_encode(pkt->type, flags, (uint32_t)w->n, hdr);
    if (*hdr_len < 0)
        return *hdr_len;
    return (long)w->n + *hdr_len;
}

int tern_packet_size(const struct tern_packet *pkt, uint8_t version)
{
    uint8_t hdr[5];
    int hl = 0;
    struct tn_wr w;
    return (int)enc_plan(pkt, version, &w, hdr, &hl);
}

static int enc_into(const struct tern_packet *pkt, uint8_t version, uint8_t *out, size_t cap,
                    bool with_payload)
{
    uint8_t hdr[5];
    int hl = 0;
    struct tn_wr w;
    long total = enc_plan(pkt, version, &w, hdr, &hl);
    if (total < 0)
        return (int)total;
    size_t need = (size_t)total - (with_payload ? 0 : pkt->u.publish.payload.n);
    if (need > cap)
        return -ENOBUFS;
    memcpy(out, hdr, (size_t)hl);
    w.p = out + hl;
    w.n = 0;
    w.next = 0;
    enc_body(&w, pkt, version, with_payload);
    return (int)need;
}

int tern_packet_encode(const struct tern_packet *pkt, uint8_t version, uint8_t *out, size_t cap)
{
    return enc_into(pkt, version, out, cap, true);
}

int tern_publish_encode_head(const struct tern_packet *pkt, uint8_t version, uint8_t *out,
                             size_t cap)
{
    if (pkt->type != TERN_PUBLISH)
        return -EINVAL;
    return enc_into(pkt, version, out, cap, false);
}
