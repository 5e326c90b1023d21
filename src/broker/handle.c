/* SPDX-License-Identifier: MIT */
/*
 * src/broker/handle.c - what the broker does with each packet a client sends, and routing:
 * matching a message against the subscriptions and handing a delivery to each subscriber's
 * session (directly on this worker, through the inbox otherwise).
 *
 * Spec references are to MQTT 5.0 unless marked 3.1.1. Reason codes chosen here are data
 * (tern_rc_name names them in logs).
 *
 * Owns: nothing beyond a call; the scratch match array belongs to the worker.
 * Thread: the connection's worker.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"

/* ---- routing ------------------------------------------------------------------------------ */

void tn_deliver_to(struct tn_worker *w, uint64_t h, struct tn_delivery *d)
{
    unsigned wi = tn_handle_worker(h);

    if (wi == w->idx) {
        struct tn_session *s = tn_worker_session_by_handle(w, h);
        if (s)
            tn_session_deliver(s, d);
        else
            tn_delivery_release(d); /* the session ended meanwhile */
    } else {
        struct tn_ib_item it = {.kind = TN_IB_DELIVER, .target = h, .d = *d};
        tn_worker_post(w, wi, &it);
    }
}

/* Deliver d, whose message reference is the caller's (held for the length of this call), to
 * session h if it lives on this worker. Returns false, with d untouched, if it lives on
 * another one: d then needs a reference of its own to travel (tn_deliver_to). */
bool tn_deliver_here_borrowed(struct tn_worker *w, uint64_t h, struct tn_delivery *d)
{
    struct tn_session *s;

    if (tn_handle_worker(h) != w->idx)
        return false;
    s = tn_worker_session_by_handle(w, h);
    if (s)
        tn_session_deliver_borrowed(s, d);
    else
        free(d->more_ids); /* the session ended meanwhile */
    return true;
}

/* Ask a publisher's connection to pause reading for a moment (from any worker). */
void tn_slowdown(struct tn_worker *w, uint64_t publisher)
{
    unsigned wi = tn_handle_worker(publisher);

    if (wi == w->idx) {
        struct tn_session *s = tn_worker_session_by_handle(w, publisher);
        if (s && s->conn)
            tn_conn_pause(s->conn);
    } else {
        struct tn_ib_item it = {.kind = TN_IB_SLOWDOWN, .target = publisher};
        tn_worker_post(w, wi, &it);
    }
}

static void match_cb(void *ctx, uint64_t sub, const struct tn_sub_opts *o,
                     const struct tn_share *share)
{
    struct tn_worker *w = ctx;

    if (w->m_n == w->m_cap) {
        size_t ncap = w->m_cap ? w->m_cap * 2 : 64;
        struct tn_match *nm = realloc(w->m, ncap * sizeof(*nm));
        if (!nm)
            return;
        w->m = nm;
        w->m_cap = ncap;
    }
    w->m[w->m_n++] = (struct tn_match){.h = sub, .o = *o, .shared = share != NULL};
}

static int match_cmp(const void *a, const void *b)
{
    const struct tn_match *x = a, *y = b;
    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return (int)x->shared - (int)y->shared;
}

/* Does every match name a different session (the usual case)? An open-addressing set of the
 * handles, built per message in a per-worker table. */
static bool matches_distinct(struct tn_worker *w, size_t n)
{
    size_t cap = 16, mask, i;

    while (cap < 2 * n)
        cap *= 2;
    if (cap > w->dset_cap) {
        uint64_t *nv = realloc(w->dset, cap * sizeof(*nv));
        if (!nv)
            return false; /* sort instead */
        w->dset = nv;
        w->dset_cap = cap;
    }
    memset(w->dset, 0, cap * sizeof(*w->dset));
    mask = cap - 1;
    for (i = 0; i < n; i++) {
        uint64_t h = w->m[i].h;
        size_t k = (size_t)((h * 0x9E3779B97F4A7C15ull) >> 32) & mask;
        if (!h)
            return false;
        while (w->dset[k]) {
            if (w->dset[k] == h)
                return false;
            k = (k + 1) & mask;
        }
        w->dset[k] = h;
    }
    return true;
}

/* The QoS a message goes out at: the lower of published and granted [MQTT-3.8.4-8] (3.1.1:
 * -6), or the subscription's with upgrade_outgoing_qos (non-standard, off by default). */
static uint8_t out_qos(bool upgrade, uint8_t sub_qos, uint8_t msg_qos)
{
    return upgrade || sub_qos < msg_qos ? sub_qos : msg_qos;
}

/* Route a message to every matching subscription (the caller holds a reference to m for the
 * length of the call). A session with several matching
 * (non-shared) subscriptions gets it once, at the highest granted QoS, with every
 * Subscription Identifier [MQTT-3.3.4-4] [MQTT-3.3.4-5]; each delivery's QoS is the minimum
 * of the message's and the subscription's [MQTT-3.8.4-8] (3.1.1: [MQTT-3.8.4-6]).
 * Returns the number of deliveries. */
size_t tn_route(struct tn_worker *w, struct tn_msg *m)
{
    size_t n, i, j, count = 0;
    uint32_t lent = 0;
    bool up = tn_conf(w->b)->upgrade_outgoing_qos; /* read once, not per subscriber */

    w->m_n = 0;
    tn_router_match(w->b->router, (tern_slice){m->topic, m->topic_n}, match_cb, w);
    n = w->m_n;
    /* a session with several matching subscriptions must get one delivery: sort to group
     * them, but only when some session does appear twice (sorting 100 distinct ones per
     * message was a tenth of a fan-out's time) */
    if (n > 1 && !matches_distinct(w, n))
        qsort(w->m, n, sizeof(*w->m), match_cmp);
    for (i = 0; i < n; i = j) {
        struct tn_delivery d = {0};
        uint32_t ids[64];
        unsigned n_ids = 0;
        bool any = false, rap = false;
        uint8_t qos = 0;

        for (j = i; j < n && w->m[j].h == w->m[i].h && w->m[j].shared == w->m[i].shared; j++) {
            const struct tn_match *x = &w->m[j];
            uint8_t q;
            /* No Local: not back to the publisher's own connection [MQTT-3.8.3-3] */
            if (x->o.no_local && x->h == m->origin)
                continue;
            q = out_qos(up, x->o.qos, m->qos);
            if (!any || q > qos)
                qos = q;
            any = true;
            rap |= x->o.rap;
            if (x->o.sub_id && n_ids < 64)
                ids[n_ids++] = x->o.sub_id;
            if (x->shared) {
                j++;
                break; /* each shared subscription is its own delivery */
            }
        }
        if (!any)
            continue;
        d.msg = m; /* borrowed below, or referenced for another worker */
        d.qos = qos;
        /* RETAIN is 0 on forwarding unless Retain As Published [MQTT-3.3.1-12] (3.1.1:
         * [MQTT-3.3.1-9]) */
        d.flags = (uint8_t)((m->retain && rap ? TN_DLV_RETAIN : 0) |
                            (w->m[i].shared ? TN_DLV_SHARED : 0));
        if (n_ids) {
            d.sub_id = ids[0];
            if (n_ids > 1) {
                d.more_ids = malloc((n_ids - 1) * sizeof(uint32_t));
                if (d.more_ids) {
                    memcpy(d.more_ids, ids + 1, (n_ids - 1) * sizeof(uint32_t));
                    d.n_more = (uint16_t)(n_ids - 1);
                }
            }
        }
        if (!tn_deliver_here_borrowed(w, w->m[i].h, &d)) { /* our caller holds m */
            /* references for other workers are taken in one atomic add (enough for every
             * match left), the unused ones given back at the end */
            if (!lent) {
                lent = (uint32_t)(n - i);
                tn_msg_ref_n(m, lent);
            }
            lent--;
            tn_deliver_to(w, w->m[i].h, &d);
        }
        count++;
    }
    tn_msg_unref_n(m, lent); /* never the last: our caller holds one */
    return count;
}

static void retain_store(struct tn_worker *w, struct tn_msg *m)
{
    tern_slice t = {m->topic, m->topic_n};

    /* an empty retained payload removes the retained message [MQTT-3.3.1-10] [MQTT-3.3.1-11] */
    struct tn_store *st = w->b->store;

    if (m->payload_n == 0) {
        tn_retained_set(w->b->retained, t, NULL);
        st->ops->retain_del(st, t);
    } else {
        struct tn_store_msg sm = {.topic = t,
                                  .payload = {m->payload, m->payload_n},
                                  .props = {m->props, m->props_n},
                                  .qos = m->qos,
                                  .retain = true};
        tn_retained_set(w->b->retained, t, m);
        st->ops->retain_put(st, &sm);
    }
}

/* A message the broker itself publishes (wills, $SYS). */
void tn_publish_internal(struct tn_worker *w, struct tn_msg *m)
{
    if (m->retain && tn_conf(w->b)->retain_available)
        retain_store(w, m);
    tn_route(w, m);
}

/* ---- helpers ------------------------------------------------------------------------------ */

static void send_ack(struct tn_conn *c, uint8_t type, uint16_t id, uint8_t rc)
{
    struct tern_packet p = {.type = type};
    p.u.ack.packet_id = id;
    p.u.ack.rc = c->version == 5 ? rc : 0;
    tn_conn_send(c, &p);
}

/* Protocol violation by a connected client: 5.0 gets DISCONNECT with the reason, 3.1.1 a
 * closed connection; the will is published (the client did not disconnect normally). */
static void violation(struct tn_conn *c, uint8_t rc, const char *why)
{
    tn_log(TN_L_NOTICE, "Client %s: %s (%s), disconnecting", tn_conn_name(c), why,
           tern_rc_name(rc));
    c->will_on_close = true;
    tn_conn_close(c, rc, why);
}

/* The Protocol Level byte of a CONNECT frame, or 0. */
static uint8_t connect_level(const uint8_t *f, size_t n)
{
    size_t i = 1;
    unsigned name_n;

    while (i < n && i < 5 && (f[i] & 0x80))
        i++;
    i++;
    if (i + 2 > n)
        return 0;
    name_n = (unsigned)f[i] << 8 | f[i + 1];
    i += 2 + name_n;
    return i < n ? f[i] : 0;
}

/* ---- CONNECT ------------------------------------------------------------------------------ */

static void connack_refuse(struct tn_conn *c, uint8_t version, uint8_t v5rc, uint8_t rc311)
{
    struct tern_packet p = {.type = TERN_CONNACK};

    c->version = version == 5 ? 5 : 4;
    p.u.connack.rc = version == 5 ? v5rc : rc311;
    tn_conn_send(c, &p);
    tn_log(TN_L_NOTICE, "Refused connection from %s: %s (CONNACK code 0x%02X)", c->peer,
           tern_rc_name(v5rc), p.u.connack.rc);
    c->will_on_close = false;
    tn_conn_close(c, -1, "connect refused");
}

static void connect_error(struct tn_conn *c, const uint8_t *frame, size_t n,
                          const struct tern_packet *p, int r, uint8_t rc)
{
    uint8_t level = r == -TERN_EVERSION ? p->u.connect.version : connect_level(frame, n);

    if (r == -TERN_EVERSION) {
        /* unsupported level: 3.1.1 CONNACK 0x01 [MQTT-3.1.2-2]; 5.0 0x84 */
        connack_refuse(c, level == 5 ? 5 : 4, TERN_RC_UNSUPPORTED_PROTOCOL_VERSION, 0x01);
        return;
    }
    if (level == 5) {
        if (!tern_rc_is_valid_for(TERN_CONNACK, rc))
            rc = TERN_RC_UNSPECIFIED_ERROR;
        connack_refuse(c, 5, rc, 0);
        return;
    }
    tn_log(TN_L_NOTICE, "Client %s sent a bad CONNECT (%s), closing", c->peer, tern_strerror(r));
    tn_conn_close(c, -1, "bad connect");
}

/* auto_id_prefix (default "auto-") and 16 hex digits. */
static void assign_client_id(struct tn_worker *w, const char *prefix, char *out, size_t cap)
{
    static _Atomic uint64_t ctr;
    unsigned n = w->b->n_workers;

    for (;;) {
        uint64_t v = atomic_fetch_add(&ctr, 1) * 0x9E3779B97F4A7C15ull ^ w->loop.now_ms;
        snprintf(out, cap, "%s%016llX", prefix, (unsigned long long)v);
        /* pick one homed on this worker: no hand-off needed */
        if (tn_cid_hash((const uint8_t *)out, strlen(out)) % n == w->idx)
            return;
    }
}

static struct tn_msg *make_will(struct tn_conn *c, const struct tern_connect *cn, uint64_t origin)
{
    uint8_t buf[1024], *tmp = buf;
    int pn = 0;
    uint64_t expiry = 0;
    struct tn_msg *m;

    if (cn->version == 5) {
        if (cn->will_props.raw.n + 5 > sizeof(buf) && !(tmp = malloc(cn->will_props.raw.n + 5)))
            return NULL;
        pn = tn_msg_forward_props(&cn->will_props, tmp, cn->will_props.raw.n + 5);
        if (pn < 0)
            pn = 0;
        if (tern_props_has(&cn->will_props, TERN_PROP_MESSAGE_EXPIRY_INTERVAL) &&
            cn->will_props.message_expiry_interval)
            expiry = c->w->loop.now_ms + (uint64_t)cn->will_props.message_expiry_interval * 1000u;
    }
    m = tn_msg_new(cn->will_topic, (tern_slice){tmp, (size_t)pn}, cn->will_payload, cn->will_qos,
                   cn->will_retain && tn_conf(c->w->b)->retain_available, expiry, origin);
    if (tmp != buf)
        free(tmp);
    return m;
}

/* A Response Topic, when present, is a topic name: no wildcards [MQTT-3.3.2-14] (also in a
 * Will's properties, which are the PUBLISH properties of the will). */
static bool response_topic_ok(const struct tern_props *pr)
{
    return !tern_props_has(pr, TERN_PROP_RESPONSE_TOPIC) ||
           tern_topic_name_is_valid(pr->response_topic.p, pr->response_topic.n);
}

static void handle_connect(struct tn_conn *c, struct tern_packet *p)
{
    struct tn_worker *w = c->w;
    struct tn_broker *b = w->b;
    const struct tn_broker_conf *conf = tn_conf(b);
    struct tern_connect *cn = &p->u.connect;
    uint8_t ver = cn->version;
    tern_slice cid = cn->client_id;
    char assigned[sizeof(conf->auto_id_prefix) + 20], resp_info[224];
    bool is_assigned = false, present = false;
    uint16_t ka = cn->keep_alive;
    struct tn_session *s;
    struct tern_packet ack = {.type = TERN_CONNACK};
    struct tern_props *ap = &ack.u.connack.props;
    unsigned home;
    uint16_t recv_max_in = conf->max_inflight_messages ? conf->max_inflight_messages : 65535;

    if (cid.n == 0) {
        /* 3.1.1: an empty id needs Clean Session 1 [MQTT-3.1.3-8]; 3.1 requires an id */
        if ((ver < 5 && !cn->clean) || ver == 3) {
            connack_refuse(c, ver, TERN_RC_CLIENT_IDENTIFIER_NOT_VALID, 0x02);
            return;
        }
        /* allow_zero_length_clientid false: refused as mosquitto does (3.1.1 0x02 "identifier
         * rejected" [MQTT-3.1.3-9]; 5.0 0x85) */
        if (!conf->allow_zero_length_clientid) {
            connack_refuse(c, ver, TERN_RC_CLIENT_IDENTIFIER_NOT_VALID, 0x02);
            return;
        }
        assign_client_id(w, conf->auto_id_prefix, assigned, sizeof(assigned));
        cid = tern_slice_cstr(assigned);
        is_assigned = true;
    } else if (ver == 3 && cid.n > 23) {
        connack_refuse(c, ver, TERN_RC_CLIENT_IDENTIFIER_NOT_VALID, 0x02);
        return;
    }
    if (!conf->allow_anonymous) {
        /* no password file support yet: with anonymous access off, nobody gets in */
        connack_refuse(
            c, ver, cn->has_username ? TERN_RC_BAD_USER_NAME_OR_PASSWORD : TERN_RC_NOT_AUTHORIZED,
            cn->has_username ? 0x04 : 0x05);
        return;
    }
    if (ver == 5 && tern_props_has(&cn->props, TERN_PROP_AUTHENTICATION_METHOD)) {
        connack_refuse(c, ver, TERN_RC_BAD_AUTHENTICATION_METHOD, 0);
        return;
    }
    if (conf->max_keepalive < 65535) {
        if (ver == 5) {
            if (ka > conf->max_keepalive || ka == 0) {
                ka = conf->max_keepalive; /* sent as Server Keep Alive [MQTT-3.2.2-21] */
            }
        } else if (ka > conf->max_keepalive) {
            /* 3.1.1 has no way to tell the client: refuse, as mosquitto does */
            connack_refuse(c, ver, TERN_RC_CLIENT_IDENTIFIER_NOT_VALID, 0x02);
            return;
        }
    }
    if (cn->will && cn->will_qos > conf->max_qos) {
        /* Will QoS above max_qos: 5.0 CONNACK 0x9B [MQTT-3.2.2-12]; 3.1.1 cannot say it, so
         * the connection is closed without CONNACK, as mosquitto does */
        if (ver == 5) {
            connack_refuse(c, ver, TERN_RC_QOS_NOT_SUPPORTED, 0);
        } else {
            tn_log(TN_L_NOTICE, "Client %s: will QoS %u above max_qos %u, closing", c->peer,
                   cn->will_qos, conf->max_qos);
            c->will_on_close = false;
            tn_conn_close(c, -1, "will QoS above max_qos");
        }
        return;
    }
    if (cn->will && cn->will_retain && !conf->retain_available && ver == 5) {
        connack_refuse(c, ver, TERN_RC_RETAIN_NOT_SUPPORTED, 0);
        return;
    }
    if (cn->will && ver == 5 && !response_topic_ok(&cn->will_props)) {
        connack_refuse(c, ver, TERN_RC_PROTOCOL_ERROR, 0);
        return;
    }
    if (cn->will && ver == 5 &&
        tern_props_has(&cn->will_props, TERN_PROP_PAYLOAD_FORMAT_INDICATOR) &&
        cn->will_props.payload_format_indicator == 1 &&
        !tern_utf8_is_valid(cn->will_payload.p, cn->will_payload.n)) {
        connack_refuse(c, ver, TERN_RC_PAYLOAD_FORMAT_INVALID, 0);
        return;
    }

    /* the session lives on the worker its client id hashes to */
    home = (unsigned)(tn_cid_hash(cid.p, cid.n) % b->n_workers);
    if (home != w->idx) {
        c->handoff_to = (int16_t)home;
        return;
    }

    s = tn_worker_find_session(w, cid);
    if (s && s->conn) {
        /* session takeover [MQTT-3.1.4-3]: the old connection gets DISCONNECT 0x8E */
        struct tn_conn *old = s->conn;
        if (conf->connection_messages)
            tn_log(TN_L_NOTICE, "Client %s already connected, closing old connection.",
                   s->client_id);
        old->will_on_close = true;
        tn_conn_close(old, TERN_RC_SESSION_TAKEN_OVER, "session taken over");
        s = tn_worker_find_session(w, cid); /* it may have ended with that connection */
    }
    if (s && cn->clean) {
        tn_session_destroy(s, true); /* Clean Start: discard it [MQTT-3.1.2-4] */
        s = NULL;
    }
    if (s) {
        present = true;
    } else if (!(s = tn_worker_session_new(w, cid))) {
        connack_refuse(c, ver, TERN_RC_SERVER_UNAVAILABLE, 0x03);
        return;
    }
    s->version = ver;
    if (ver == 5)
        s->expiry_s = tern_props_has(&cn->props, TERN_PROP_SESSION_EXPIRY_INTERVAL)
                          ? cn->props.session_expiry_interval
                          : 0;
    else
        s->expiry_s = cn->clean ? 0 : 0xFFFFFFFFu;
    if (s->expiry_s)
        b->store->ops->session_put(b->store, cid, s->expiry_s);
    s->window = conf->max_inflight_messages ? conf->max_inflight_messages : 65535;
    if (ver == 5 && tern_props_has(&cn->props, TERN_PROP_RECEIVE_MAXIMUM) &&
        cn->props.receive_maximum < s->window)
        s->window = cn->props.receive_maximum;
    tn_session_set_will(s, cn->will ? make_will(c, cn, s->handle) : NULL,
                        cn->will && ver == 5 &&
                                tern_props_has(&cn->will_props, TERN_PROP_WILL_DELAY_INTERVAL)
                            ? cn->will_props.will_delay_interval
                            : 0);

    c->version = ver;
    c->keepalive = ka;
    c->recv_max_in = recv_max_in;
    c->max_qos = conf->max_qos;
    if (ver == 5) {
        if (tern_props_has(&cn->props, TERN_PROP_MAXIMUM_PACKET_SIZE))
            c->max_out_packet = cn->props.maximum_packet_size;
        if (tern_props_has(&cn->props, TERN_PROP_TOPIC_ALIAS_MAXIMUM))
            c->alias_out_max = cn->props.topic_alias_maximum;
        c->alias_in_max = conf->max_topic_alias;
        c->req_problem_info = !tern_props_has(&cn->props, TERN_PROP_REQUEST_PROBLEM_INFORMATION) ||
                              cn->props.request_problem_information;
    }
    c->state = TN_CONN_ACTIVE;
    tn_session_attach(s, c);
    TN_STAT_ADD(w, clients_connected, 1);

    /* [MQTT-3.2.2-2] [MQTT-3.2.2-3]; 3.1's CONNACK has a reserved, unused byte there */
    ack.u.connack.session_present = present && ver >= 4;
    if (ver == 5) {
        if (is_assigned) {
            ap->assigned_client_identifier = cid; /* [MQTT-3.2.2-16] */
            tern_props_set(ap, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER);
        }
        if (ka != cn->keep_alive) { /* only changed by the Server Keep Alive rule above */
            ap->server_keep_alive = ka;
            tern_props_set(ap, TERN_PROP_SERVER_KEEP_ALIVE);
        }
        if (recv_max_in < 65535) {
            ap->receive_maximum = recv_max_in;
            tern_props_set(ap, TERN_PROP_RECEIVE_MAXIMUM);
        }
        if (c->alias_in_max) {
            ap->topic_alias_maximum = c->alias_in_max;
            tern_props_set(ap, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
        }
        if (c->max_qos < 2) { /* absent means 2 [MQTT-3.2.2-9] */
            ap->maximum_qos = c->max_qos;
            tern_props_set(ap, TERN_PROP_MAXIMUM_QOS);
        }
        if (!conf->retain_available) {
            ap->retain_available = 0;
            tern_props_set(ap, TERN_PROP_RETAIN_AVAILABLE);
        }
        if (conf->max_packet_size) {
            ap->maximum_packet_size = conf->max_packet_size;
            tern_props_set(ap, TERN_PROP_MAXIMUM_PACKET_SIZE);
        }
        if (tern_props_has(&cn->props, TERN_PROP_REQUEST_RESPONSE_INFORMATION) &&
            cn->props.request_response_information && cid.n <= 200) {
            /* Response Information: a topic prefix for this client's responses, the same
             * on every connection of the session (5.0 4.10.2); never sent unasked
             * [MQTT-3.1.2-28] */
            snprintf(resp_info, sizeof(resp_info), "tern/response/%.*s", TERN_SLICE_FMT(cid));
            ap->response_information = tern_slice_cstr(resp_info);
            tern_props_set(ap, TERN_PROP_RESPONSE_INFORMATION);
        }
        /* optional properties go before the packet would exceed the client's maximum */
        if (c->max_out_packet && (uint32_t)tern_packet_size(&ack, 5) > c->max_out_packet)
            ap->present &= ~(1ull << TERN_PROP_RESPONSE_INFORMATION);
    }
    tn_conn_send(c, &ack);
    if (ka)
        tn_timer_arm(&w->loop, &c->ka_timer, (uint64_t)ka * 1500u);
    else
        tn_timer_cancel(&w->loop, &c->ka_timer);
    if (conf->connection_messages)
        tn_log(TN_L_NOTICE, "New client connected from %s as %s (p%u, c%d, k%u).", c->peer,
               s->client_id,
               ver == 3   ? 1
               : ver == 4 ? 2
                          : 5,
               cn->clean, ka);
    {
        int64_t now_c = 0;
        for (unsigned i = 0; i < b->n_workers; i++)
            now_c +=
                atomic_load_explicit(&b->workers[i].st.clients_connected, memory_order_relaxed);
        if (now_c > atomic_load_explicit(&b->clients_max, memory_order_relaxed))
            atomic_store_explicit(&b->clients_max, now_c, memory_order_relaxed);
    }
    if (present)
        tn_session_resend(s);
    tn_session_pump(s);
}

/* ---- PUBLISH and the acks ----------------------------------------------------------------- */

static void handle_publish(struct tn_conn *c, struct tern_packet *p)
{
    struct tn_session *s = c->s;
    struct tn_worker *w = c->w;
    const struct tn_broker_conf *conf = tn_conf(w->b);
    struct tern_publish *pb = &p->u.publish;
    tern_slice topic = pb->topic;
    uint8_t buf[1024], *tmp = buf;
    uint64_t expiry = 0;
    int pn = 0;
    struct tn_msg *m;
    size_t routed;
    uint8_t okrc;

    TN_STAT_ADD(w, msgs_recv, 1);
    if (pb->qos > c->max_qos) {
        /* above the Maximum QoS we announced: 5.0 DISCONNECT 0x9B [MQTT-3.2.2-11]; 3.1.1 does
         * not know max_qos: closed, as mosquitto does */
        violation(c, TERN_RC_QOS_NOT_SUPPORTED, "PUBLISH QoS above max_qos");
        return;
    }
    if (c->version == 5) {
        struct tern_props *pr = &pb->props;
        /* a client must not send Subscription Identifiers [MQTT-3.3.4-6] */
        if (tern_props_has(pr, TERN_PROP_SUBSCRIPTION_IDENTIFIER)) {
            violation(c, TERN_RC_PROTOCOL_ERROR, "PUBLISH with a Subscription Identifier");
            return;
        }
        if (tern_props_has(pr, TERN_PROP_TOPIC_ALIAS)) {
            uint16_t a = pr->topic_alias;
            /* 0 or above our Topic Alias Maximum [MQTT-3.3.2-9] [MQTT-3.3.2-10] */
            if (a == 0 || a > c->alias_in_max) {
                violation(c, TERN_RC_TOPIC_ALIAS_INVALID, "topic alias out of range");
                return;
            }
            if (!c->alias_in &&
                !(c->alias_in = calloc((size_t)c->alias_in_max + 1, sizeof(char *)))) {
                violation(c, TERN_RC_UNSPECIFIED_ERROR, "out of memory");
                return;
            }
            if (topic.n) {
                char *t = malloc(topic.n + 1);
                if (!t) {
                    violation(c, TERN_RC_UNSPECIFIED_ERROR, "out of memory");
                    return;
                }
                memcpy(t, topic.p, topic.n);
                t[topic.n] = 0;
                free(c->alias_in[a]);
                c->alias_in[a] = t;
            } else if (c->alias_in[a]) {
                topic = tern_slice_cstr(c->alias_in[a]);
            } else {
                violation(c, TERN_RC_PROTOCOL_ERROR, "unknown topic alias");
                return;
            }
        }
    }
    if (pb->retain && !conf->retain_available) {
        violation(c, TERN_RC_RETAIN_NOT_SUPPORTED, "retain not available"); /* [MQTT-3.3.1-?] */
        return;
    }
    if (pb->qos == 2) {
        if (tn_qos2_in_test(s, pb->packet_id)) {
            /* a repeat before PUBREL: PUBREC again, no second delivery [MQTT-4.3.3-10] */
            send_ack(c, TERN_PUBREC, pb->packet_id, 0);
            return;
        }
        /* only 5.0 has a Receive Maximum to exceed [MQTT-3.3.4-9]; a 3.1.1 client's QoS 2
         * ids cost at most the 8 KiB bitmap */
        if (c->version == 5 && s->qos2_in_n >= c->recv_max_in) {
            violation(c, TERN_RC_RECEIVE_MAXIMUM_EXCEEDED, "receive maximum exceeded");
            return;
        }
    }
    if (c->version == 5 && !response_topic_ok(&pb->props)) {
        violation(c, TERN_RC_PROTOCOL_ERROR, "Response Topic is not a valid topic name");
        return;
    }
    if (conf->message_size_limit && pb->payload.n > conf->message_size_limit) {
        tn_log(TN_L_NOTICE, "Client %s: message of %zu bytes over message_size_limit dropped",
               tn_conn_name(c), pb->payload.n);
        if (pb->qos)
            send_ack(c, pb->qos == 1 ? TERN_PUBACK : TERN_PUBREC, pb->packet_id,
                     TERN_RC_IMPLEMENTATION_SPECIFIC_ERROR); /* as docs/ternd.conf.md says */
        return;
    }
    if (c->version == 5 && tern_props_has(&pb->props, TERN_PROP_PAYLOAD_FORMAT_INDICATOR) &&
        pb->props.payload_format_indicator == 1 &&
        !tern_utf8_is_valid(pb->payload.p, pb->payload.n)) {
        /* Payload Format Indicator 1 promises UTF-8 [MQTT-3.3.2-4] */
        if (pb->qos)
            send_ack(c, pb->qos == 1 ? TERN_PUBACK : TERN_PUBREC, pb->packet_id,
                     TERN_RC_PAYLOAD_FORMAT_INVALID);
        else
            violation(c, TERN_RC_PAYLOAD_FORMAT_INVALID, "payload is not UTF-8");
        return;
    }
    if (c->version == 5) {
        if (pb->props.raw.n + 5 > sizeof(buf) && !(tmp = malloc(pb->props.raw.n + 5))) {
            violation(c, TERN_RC_UNSPECIFIED_ERROR, "out of memory");
            return;
        }
        pn = tn_msg_forward_props(&pb->props, tmp, pb->props.raw.n + 5);
        if (pn < 0)
            pn = 0;
        if (tern_props_has(&pb->props, TERN_PROP_MESSAGE_EXPIRY_INTERVAL) &&
            pb->props.message_expiry_interval)
            expiry = w->loop.now_ms + (uint64_t)pb->props.message_expiry_interval * 1000u;
    }
    m = tn_msg_new(topic, (tern_slice){tmp, (size_t)pn}, pb->payload, pb->qos, pb->retain, expiry,
                   s->handle);
    if (tmp != buf)
        free(tmp);
    if (!m) {
        violation(c, TERN_RC_UNSPECIFIED_ERROR, "out of memory");
        return;
    }
    if (pb->retain)
        retain_store(w, m);
    routed = tn_route(w, m);
    tn_msg_unref(m);
    okrc = routed == 0 ? TERN_RC_NO_MATCHING_SUBSCRIBERS : 0;
    if (pb->qos == 1) {
        send_ack(c, TERN_PUBACK, pb->packet_id, okrc);
    } else if (pb->qos == 2) {
        tn_qos2_in_set(s, pb->packet_id);
        send_ack(c, TERN_PUBREC, pb->packet_id, okrc);
    }
}

static void handle_pubrel(struct tn_conn *c, struct tern_packet *p)
{
    uint16_t id = p->u.ack.packet_id;

    if (tn_qos2_in_test(c->s, id)) {
        tn_qos2_in_clear(c->s, id);
        send_ack(c, TERN_PUBCOMP, id, 0);
    } else {
        /* answered anyway, so a resumed sender can finish [MQTT-4.3.3-11] */
        send_ack(c, TERN_PUBCOMP, id, TERN_RC_PACKET_IDENTIFIER_NOT_FOUND);
    }
}

/* ---- SUBSCRIBE / UNSUBSCRIBE --------------------------------------------------------------- */

struct rcoll {
    struct tn_delivery *v;
    uint32_t n, cap;
};

static void collect_retained(struct tn_worker *w, struct rcoll *rc, tern_slice filter,
                             const struct tn_sub_opts *o)
{
    bool up = tn_conf(w->b)->upgrade_outgoing_qos;
    void **msgs = NULL;
    ssize_t k = tn_retained_collect(w->b->retained, filter, &msgs);

    if (k <= 0)
        return;
    if (rc->n + (uint32_t)k > rc->cap) {
        uint32_t ncap = rc->n + (uint32_t)k;
        struct tn_delivery *nv = realloc(rc->v, ncap * sizeof(*nv));
        if (!nv) {
            for (ssize_t i = 0; i < k; i++)
                tn_msg_unref(msgs[i]);
            free(msgs);
            return;
        }
        rc->v = nv;
        rc->cap = ncap;
    }
    for (ssize_t i = 0; i < k; i++) {
        struct tn_msg *m = msgs[i];
        /* sent because of a new subscription: RETAIN set [MQTT-3.3.1-8] (3.1.1: -8) */
        rc->v[rc->n++] = (struct tn_delivery){.msg = m,
                                              .qos = out_qos(up, o->qos, m->qos),
                                              .flags = TN_DLV_RETAIN,
                                              .sub_id = o->sub_id};
    }
    free(msgs);
}

static void handle_subscribe(struct tn_conn *c, struct tern_packet *p)
{
    struct tn_session *s = c->s;
    struct tn_worker *w = c->w;
    struct tern_subscribe *sb = &p->u.subscribe;
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    uint8_t rcs_buf[64], *rcs = rcs_buf;
    uint32_t i = 0, sub_id = 0;
    struct rcoll rc = {0};
    struct tern_packet ack = {.type = TERN_SUBACK};

    if (sb->count > sizeof(rcs_buf) && !(rcs = malloc(sb->count))) {
        violation(c, TERN_RC_UNSPECIFIED_ERROR, "out of memory");
        return;
    }
    if (c->version == 5 && tern_props_has(&sb->props, TERN_PROP_SUBSCRIPTION_IDENTIFIER))
        sub_id = sb->props.sub_id;
    tern_sub_iter_init(&it, p, c->version);
    while (tern_sub_iter_next(&it, &e) == 1 && i < sb->count) {
        tern_slice g, f;
        bool shared = e.filter.n >= 7 && !memcmp(e.filter.p, "$share/", 7);
        /* granted at most max_qos; the request itself is fine [MQTT-3.2.2-10] */
        uint8_t gq = e.qos < c->max_qos ? e.qos : c->max_qos;
        struct tn_sub_opts o = {.qos = gq,
                                .no_local = e.no_local,
                                .rap = e.retain_as_published,
                                .rh = e.retain_handling,
                                .sub_id = sub_id};
        int r;

        if (!tern_topic_filter_is_valid(e.filter.p, e.filter.n) ||
            (shared && tern_shared_parse(e.filter, &g, &f) < 0)) {
            /* per entry: 0x8F (5.0) / 0x80 (3.1.1), the others go on */
            rcs[i++] = c->version == 5 ? TERN_RC_TOPIC_FILTER_INVALID : 0x80;
            continue;
        }
        if (shared && e.no_local && c->version == 5) {
            /* No Local on a shared subscription is a protocol error [MQTT-3.8.3-4] */
            if (rcs != rcs_buf)
                free(rcs);
            free(rc.v);
            violation(c, TERN_RC_PROTOCOL_ERROR, "No Local on a shared subscription");
            return;
        }
        r = tn_router_subscribe(w->b->router, e.filter, s->handle, &o);
        if (r < 0 || tn_session_sub_put(s, e.filter, &o, shared) < 0) {
            if (r >= 0)
                tn_router_unsubscribe(w->b->router, e.filter, s->handle);
            rcs[i++] = c->version == 5 ? TERN_RC_UNSPECIFIED_ERROR : 0x80;
            continue;
        }
        rcs[i++] = gq;
        if (s->expiry_s)
            w->b->store->ops->sub_put(
                w->b->store, (tern_slice){(const uint8_t *)s->client_id, s->cid_n}, e.filter,
                (uint8_t)(gq | e.no_local << 2 | e.retain_as_published << 3 |
                          e.retain_handling << 4),
                sub_id);
        if (tn_log_on(TN_L_SUBSCRIBE))
            tn_log(TN_L_SUBSCRIBE, "%s %u %.*s", s->client_id, gq, TERN_SLICE_FMT(e.filter));
        /* retained messages: Retain Handling 0 always, 1 only for a new subscription, 2 never
         * [MQTT-3.3.1-9] [MQTT-3.3.1-10]; never for shared subscriptions [MQTT-3.8.4-?] */
        if (!shared && (o.rh == 0 || (o.rh == 1 && r == 1)))
            collect_retained(w, &rc, e.filter, &o);
    }
    ack.u.suback.packet_id = sb->packet_id;
    ack.u.suback.rcs = (tern_slice){rcs, i};
    tn_conn_send(c, &ack); /* SUBACK first, then the retained messages */
    if (rcs != rcs_buf)
        free(rcs);
    if (rc.n)
        tn_session_add_retained(s, rc.v, rc.n);
    free(rc.v);
}

static void handle_unsubscribe(struct tn_conn *c, struct tern_packet *p)
{
    struct tn_session *s = c->s;
    struct tern_subscribe *sb = &p->u.subscribe;
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    uint8_t rcs_buf[64], *rcs = rcs_buf;
    uint32_t i = 0;
    struct tern_packet ack = {.type = TERN_UNSUBACK};

    if (sb->count > sizeof(rcs_buf) && !(rcs = malloc(sb->count))) {
        violation(c, TERN_RC_UNSPECIFIED_ERROR, "out of memory");
        return;
    }
    tern_sub_iter_init(&it, p, c->version);
    while (tern_sub_iter_next(&it, &e) == 1 && i < sb->count) {
        int r;
        if (!tern_topic_filter_is_valid(e.filter.p, e.filter.n)) {
            rcs[i++] = TERN_RC_TOPIC_FILTER_INVALID;
            continue;
        }
        r = tn_router_unsubscribe(c->w->b->router, e.filter, s->handle);
        if (tn_session_sub_del(s, e.filter) == 0 && s->expiry_s)
            c->w->b->store->ops->sub_del(
                c->w->b->store, (tern_slice){(const uint8_t *)s->client_id, s->cid_n}, e.filter);
        rcs[i++] = r == 0 ? 0 : TERN_RC_NO_SUBSCRIPTION_EXISTED;
        if (tn_log_on(TN_L_UNSUBSCRIBE))
            tn_log(TN_L_UNSUBSCRIBE, "%s %.*s", s->client_id, TERN_SLICE_FMT(e.filter));
    }
    ack.u.suback.packet_id = sb->packet_id;
    ack.u.suback.rcs = (tern_slice){rcs, i};
    tn_conn_send(c, &ack);
    if (rcs != rcs_buf)
        free(rcs);
}

static void handle_disconnect(struct tn_conn *c, struct tern_packet *p)
{
    struct tn_session *s = c->s;

    if (c->version == 5) {
        const struct tern_props *pr = &p->u.disconnect.props;
        if (tern_props_has(pr, TERN_PROP_SESSION_EXPIRY_INTERVAL)) {
            /* 0 at CONNECT cannot become non-zero (5.0 3.14.2.2.2) */
            if (s->expiry_s == 0 && pr->session_expiry_interval != 0) {
                violation(c, TERN_RC_PROTOCOL_ERROR, "session expiry set at DISCONNECT");
                return;
            }
            s->expiry_s = pr->session_expiry_interval;
        }
    }
    /* 0x04 asks for the will; any other normal DISCONNECT deletes it [MQTT-3.14.4-3] */
    c->will_on_close = c->version == 5 && p->u.disconnect.rc == TERN_RC_DISCONNECT_WITH_WILL;
    if (tn_conf(c->w->b)->connection_messages)
        tn_log(TN_L_NOTICE, "Client %s disconnected.", tn_conn_name(c));
    tn_conn_close(c, -1, "client disconnected");
}

/* ---- dispatch ----------------------------------------------------------------------------- */

void tn_handle_frame(struct tn_conn *c, const uint8_t *frame, size_t n)
{
    struct tern_packet p;
    uint8_t rc = 0;
    int r;

    if (c->state == TN_CONN_NEW) {
        /* the first packet must be CONNECT [MQTT-3.1.0-1] */
        if ((frame[0] >> 4) != TERN_CONNECT) {
            tn_log(TN_L_NOTICE, "Client %s: first packet is not CONNECT, closing", c->peer);
            tn_conn_close(c, -1, "first packet not CONNECT");
            return;
        }
        r = tern_packet_decode(frame, n, 4, &p, &rc);
        if (r < 0) {
            connect_error(c, frame, n, &p, r, rc);
            return;
        }
        if (tn_log_on(TN_L_PACKET))
            tn_conn_log_packet(c, false, &p);
        handle_connect(c, &p);
        return;
    }
    r = tern_packet_decode(frame, n, c->version, &p, &rc);
    if (r < 0) {
        /* a second CONNECT is a protocol error whatever is wrong inside it [MQTT-3.1.0-2];
         * a code the decoder chose for CONNACK (0x84, 0x85, ...) cannot go in a DISCONNECT */
        if ((frame[0] >> 4) == TERN_CONNECT)
            rc = TERN_RC_PROTOCOL_ERROR;
        else if (!rc || !tern_rc_is_valid_for(TERN_DISCONNECT, rc))
            rc = TERN_RC_MALFORMED_PACKET;
        violation(c, rc, tern_strerror(r));
        return;
    }
    if (tn_log_on(TN_L_PACKET))
        tn_conn_log_packet(c, false, &p);
    switch (p.type) {
    case TERN_PUBLISH: handle_publish(c, &p); break;
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBCOMP:
        rc = (uint8_t)tn_session_ack(c->s, p.type, p.u.ack.packet_id, p.u.ack.rc);
        if (rc)
            violation(c, rc, "unexpected acknowledgement");
        break;
    case TERN_PUBREL: handle_pubrel(c, &p); break;
    case TERN_SUBSCRIBE: handle_subscribe(c, &p); break;
    case TERN_UNSUBSCRIBE: handle_unsubscribe(c, &p); break;
    case TERN_PINGREQ: {
        struct tern_packet pr = {.type = TERN_PINGRESP};
        tn_conn_send(c, &pr);
        break;
    }
    case TERN_DISCONNECT: handle_disconnect(c, &p); break;
    case TERN_CONNECT:
        /* a second CONNECT is a protocol violation [MQTT-3.1.0-2] */
        violation(c, TERN_RC_PROTOCOL_ERROR, "second CONNECT");
        break;
    default:
        /* AUTH without an authentication method [MQTT-4.12.0-?], or a server-to-client
         * packet (CONNACK, SUBACK, ...) */
        violation(c, TERN_RC_PROTOCOL_ERROR, "unexpected packet type");
        break;
    }
}
