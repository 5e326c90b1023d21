/* SPDX-License-Identifier: MIT */
/*
 * src/broker/session.c - MQTT sessions: outgoing QoS 1/2 in-flight window, the queue of
 * messages waiting for the window or for the client to come back, retained messages being
 * streamed after a SUBSCRIBE, incoming QoS 2 ids awaiting PUBREL, subscriptions, the will,
 * and the session's end (expiry).
 *
 * Flow control, in one place: a message goes out at once only if nothing is queued before
 * it (ordering, [MQTT-4.6.0-6]), the client's window has room (Receive Maximum,
 * [MQTT-3.3.4-7] in 5.0) and the connection's output is below its bound; otherwise QoS 1/2
 * wait in the queue and QoS 0 is dropped (counted) for a connected client. tn_session_pump
 * moves queued messages out whenever one of those conditions clears.
 *
 * Owns: struct tn_session and everything it points to (deliveries hold message refs).
 * Thread: the session's home worker only.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "log.h"

/* ---- sending one PUBLISH ------------------------------------------------------------------ */

/* Topic alias for this topic on this connection (5.0, the client allowed aliases): the
 * broker assigns aliases in order until the client's Topic Alias Maximum is reached
 * [MQTT-3.3.2-8]; later topics go out in full. *fresh says whether the topic must be sent
 * with the alias (first use). Returns 0 for no alias. */
static uint16_t alias_for(struct tn_conn *c, const struct tn_msg *m, bool *fresh)
{
    unsigned max = c->alias_out_max < 64 ? c->alias_out_max : 64; /* bounded scan */

    *fresh = false;
    if (!max || !m->topic_n)
        return 0;
    for (unsigned i = 0; i < c->alias_out_used; i++)
        if (c->alias_out[i].n == m->topic_n && !memcmp(c->alias_out[i].topic, m->topic, m->topic_n))
            return (uint16_t)(i + 1);
    if (c->alias_out_used >= max)
        return 0;
    if (!c->alias_out) {
        c->alias_out = calloc(c->alias_out_max, sizeof(*c->alias_out));
        if (!c->alias_out)
            return 0;
    }
    c->alias_out[c->alias_out_used].topic = malloc(m->topic_n);
    if (!c->alias_out[c->alias_out_used].topic)
        return 0;
    memcpy(c->alias_out[c->alias_out_used].topic, m->topic, m->topic_n);
    c->alias_out[c->alias_out_used].n = m->topic_n;
    *fresh = true;
    return ++c->alias_out_used;
}

/* Encode a PUBLISH for d into the connection's output. Returns 1 when written, 0 when the
 * message was dropped instead (expired, or larger than the client's Maximum Packet Size:
 * "discard without sending and behave as if it completed" [MQTT-3.1.2-25]), <0 on error. */
static int send_publish(struct tn_conn *c, const struct tn_delivery *d, uint16_t id, bool dup)
{
    const struct tn_msg *m = d->msg;
    struct tern_packet p = {.type = TERN_PUBLISH};
    struct tern_publish *pb = &p.u.publish;
    uint32_t ids_buf[16], *ids = ids_buf;
    uint64_t now = c->w->loop.now_ms;
    int size, n;
    uint8_t *out;

    uint8_t key = (uint8_t)((c->version == 5) | (d->flags & TN_DLV_RETAIN ? 2 : 0));
    bool cacheable =
        d->qos == 0 && (c->version < 5 || (!m->expiry_ms && !d->sub_id && !c->alias_out_max));
    struct tn_worker *w = c->w;

    if (cacheable && w->enc_msg == m && w->enc_key == key) {
        if (c->max_out_packet && w->enc_n > c->max_out_packet) {
            TN_STAT_ADD(w, pub_dropped, 1);
            return 0;
        }
        out = tn_conn_tx_reserve(c, w->enc_n);
        if (!out)
            return -ENOMEM;
        memcpy(out, w->enc_buf, w->enc_n);
        tn_conn_tx_commit(c, w->enc_n);
        TN_STAT_ADD(w, msgs_sent, 1);
        if (tn_log_on(TN_L_PACKET)) {
            pb->topic = (tern_slice){m->topic, m->topic_n};
            pb->payload = (tern_slice){m->payload, m->payload_n};
            pb->retain = key & 2;
            tn_conn_log_packet(c, true, &p);
        }
        return 1;
    }
    pb->qos = d->qos;
    pb->dup = dup;
    pb->retain = (d->flags & TN_DLV_RETAIN) != 0;
    pb->packet_id = id;
    pb->topic = (tern_slice){m->topic, m->topic_n};
    pb->payload = (tern_slice){m->payload, m->payload_n};
    /* expired before onward delivery started: not delivered [MQTT-3.3.2-5]; a re-send (dup)
     * continues a delivery that has started */
    if (m->expiry_ms && now >= m->expiry_ms && !dup)
        return 0;
    if (c->version == 5) {
        struct tern_props *pr = &pb->props;
        pr->extra = (tern_slice){m->props, m->props_n};
        if (m->expiry_ms) {
            /* the remaining lifetime is forwarded [MQTT-3.3.2-6] */
            pr->message_expiry_interval =
                m->expiry_ms > now ? (uint32_t)((m->expiry_ms - now + 999) / 1000) : 1;
            tern_props_set(pr, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
        }
        if (d->sub_id) {
            unsigned k = 1u + d->n_more;
            if (k == 1) {
                pr->sub_id = d->sub_id;
            } else {
                if (k > 16 && !(ids = malloc(k * sizeof(*ids))))
                    return -ENOMEM;
                ids[0] = d->sub_id;
                memcpy(ids + 1, d->more_ids, d->n_more * sizeof(*ids));
                pr->sub_ids = ids;
            }
            pr->sub_id_n = k;
            tern_props_set(pr, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
        }
        if (c->alias_out_max) {
            bool fresh;
            uint16_t a = alias_for(c, m, &fresh);
            if (a) {
                pr->topic_alias = a;
                tern_props_set(pr, TERN_PROP_TOPIC_ALIAS);
                if (!fresh)
                    pb->topic = (tern_slice){NULL, 0};
            }
        }
    }
    size = tern_packet_size(&p, c->version);
    if (size < 0 || (c->max_out_packet && (uint32_t)size > c->max_out_packet)) {
        if (size >= 0)
            TN_STAT_ADD(c->w, pub_dropped, 1);
        if (ids != ids_buf)
            free(ids);
        return 0;
    }
    out = tn_conn_tx_reserve(c, (size_t)size);
    n = out ? tern_packet_encode(&p, c->version, out, (size_t)size) : -ENOMEM;
    if (ids != ids_buf)
        free(ids);
    if (n < 0)
        return n;
    if (cacheable && (size_t)n <= TN_ENC_CACHE_MAX &&
        (w->enc_buf || (w->enc_buf = malloc(TN_ENC_CACHE_MAX)))) {
        memcpy(w->enc_buf, out, (size_t)n);
        if (w->enc_msg != m) {
            tn_msg_unref(w->enc_msg);
            w->enc_msg = tn_msg_ref((struct tn_msg *)m);
        }
        w->enc_key = key;
        w->enc_n = (uint32_t)n;
    }
    tn_conn_tx_commit(c, (size_t)n);
    TN_STAT_ADD(c->w, msgs_sent, 1);
    if (tn_log_on(TN_L_PACKET))
        tn_conn_log_packet(c, true, &p);
    return 1;
}

/* ---- the in-flight window ----------------------------------------------------------------- */

static struct tn_inflight *inf_find(struct tn_session *s, uint16_t id)
{
    struct tn_inflight *e;

    if (!s->inf_cap)
        return NULL;
    e = &s->inf[id & (s->inf_cap - 1)];
    return e->state != TERN_QS_FREE && e->id == id ? e : NULL;
}

static int inf_grow(struct tn_session *s)
{
    uint32_t ncap = s->inf_cap ? s->inf_cap * 2 : 16;
    struct tn_inflight *ni;

    if (ncap > 65536)
        return -ENOSPC;
    ni = calloc(ncap, sizeof(*ni));
    if (!ni)
        return -ENOMEM;
    for (uint32_t i = 0; i < s->inf_cap; i++)
        if (s->inf[i].state != TERN_QS_FREE)
            ni[s->inf[i].id & (ncap - 1)] = s->inf[i];
    free(s->inf);
    s->inf = ni;
    s->inf_cap = ncap;
    return 0;
}

/* A free packet id and its slot. Ids go up one by one (wrapping, skipping 0 and ids in use);
 * the table stays at most half full, so the id's slot is nearly always free. */
static struct tn_inflight *inf_alloc(struct tn_session *s)
{
    for (unsigned tries = 0; tries < 65536; tries++) {
        struct tn_inflight *e;
        uint16_t id;

        if ((s->inf_n + 1) * 2 > s->inf_cap && inf_grow(s) < 0 && s->inf_n >= s->inf_cap)
            return NULL;
        id = s->next_id;
        s->next_id = id == 65535 ? 1 : (uint16_t)(id + 1);
        e = &s->inf[id & (s->inf_cap - 1)];
        if (e->state == TERN_QS_FREE) {
            e->id = id;
            return e;
        }
    }
    return NULL;
}

static bool inf_room(const struct tn_session *s)
{
    return s->inf_n < s->window;
}

static void inf_free(struct tn_session *s, struct tn_inflight *e)
{
    tn_delivery_release(&e->d);
    e->state = TERN_QS_FREE;
    s->inf_n--;
}

/* Send d as a new QoS 1/2 exchange (window room checked by the caller). */
static void send_inflight(struct tn_session *s, struct tn_delivery *d)
{
    struct tn_inflight *e = inf_alloc(s);
    int r;

    if (!e) {
        tn_delivery_release(d);
        TN_STAT_ADD(s->w, pub_dropped, 1);
        return;
    }
    e->d = *d;
    e->state = d->qos == 1 ? TERN_QS_WAIT_PUBACK : TERN_QS_WAIT_PUBREC;
    e->seq = ++s->seq;
    s->inf_n++;
    r = send_publish(s->conn, &e->d, e->id, false);
    if (r <= 0)
        inf_free(s, e); /* dropped: behave as if it completed */
}

/* ---- the queue ---------------------------------------------------------------------------- */

static uint64_t dlv_bytes(const struct tn_delivery *d)
{
    return (uint64_t)d->msg->payload_n + d->msg->topic_n;
}

static bool queue_push(struct tn_session *s, struct tn_delivery *d)
{
    const struct tn_broker_conf *conf = tn_conf(s->w->b);
    struct tn_queue *q = &s->q;

    if ((conf->max_queued_messages && q->n >= conf->max_queued_messages) ||
        (conf->max_queued_bytes && q->bytes + dlv_bytes(d) > conf->max_queued_bytes)) {
        /* Drop policy: the newest message is dropped; what is queued keeps its order. */
        TN_STAT_ADD(s->w, pub_dropped, 1);
        if (tn_log_on(TN_L_DEBUG))
            tn_log(TN_L_DEBUG, "Outgoing messages are being dropped for client %s.", s->client_id);
        tn_delivery_release(d);
        return false;
    }
    if (q->n == q->cap) {
        uint32_t ncap = q->cap ? q->cap * 2 : 16;
        struct tn_delivery *nv = malloc(ncap * sizeof(*nv));
        if (!nv) {
            TN_STAT_ADD(s->w, pub_dropped, 1);
            tn_delivery_release(d);
            return false;
        }
        for (uint32_t i = 0; i < q->n; i++)
            nv[i] = q->v[(q->head + i) % (q->cap ? q->cap : 1)];
        free(q->v);
        q->v = nv;
        q->cap = ncap;
        q->head = 0;
    }
    q->v[(q->head + q->n) % q->cap] = *d;
    q->n++;
    q->bytes += dlv_bytes(d);
    return true;
}

static struct tn_delivery *queue_front(struct tn_session *s)
{
    return s->q.n ? &s->q.v[s->q.head] : NULL;
}

static void queue_pop(struct tn_session *s, struct tn_delivery *out)
{
    struct tn_queue *q = &s->q;

    *out = q->v[q->head];
    q->head = (q->head + 1) % q->cap;
    q->n--;
    q->bytes -= dlv_bytes(out);
    if (!q->n) { /* an empty queue holds no memory */
        free(q->v);
        q->v = NULL;
        q->cap = q->head = 0;
    }
}

/* Message Expiry Interval passed [MQTT-3.3.2-5]. */
static bool expired(const struct tn_session *s, const struct tn_msg *m)
{
    return m->expiry_ms && s->w->loop.now_ms >= m->expiry_ms;
}

/* ---- delivering --------------------------------------------------------------------------- */

static bool online(const struct tn_session *s)
{
    return s->conn && s->conn->state == TN_CONN_ACTIVE;
}

/* Send now, assuming flow control allows it. Consumes d. */
static void send_now(struct tn_session *s, struct tn_delivery *d)
{
    if (d->qos == 0) {
        send_publish(s->conn, d, 0, false);
        tn_delivery_release(d);
    } else {
        send_inflight(s, d);
    }
}

/* Publisher pacing. A single worker serving everyone paces a fast publisher to its
 * subscribers for free (mosquitto does, by reading one packet per client per turn); tern's
 * workers do not, so without this a burst to a subscriber that is slower but keeping up
 * would overflow its bounds and be dropped. While such a subscriber is behind (its QoS 1/2
 * queue past half max_queued_messages, or its output past half the 1 MiB bound at QoS 0),
 * every publisher whose message lands there is paused (tn_conn_pause: at once, mid-read), so
 * a fan-in of many publishers slows down as a whole; they read again as soon as it has
 * drained (publishers on its own worker), or after a tick. A subscriber that is not keeping
 * up at all is stalled, not slow: it is not allowed to slow anyone [the issue: "a slow or
 * stalled subscriber never slows the others"], and its messages drop at the bound. At QoS
 * 1/2 "stalled" is nothing acknowledged for a second; at QoS 0 it is reading less than about
 * 1 MB/s (tn_conn_tx_behind): a display reading a few messages a second never holds up a
 * sensor. Hints to a publisher on another worker go at most twice a tick. */
uint32_t tn_session_pace_mark(const struct tn_session *s)
{
    const struct tn_broker_conf *conf = tn_conf(s->w->b);

    return conf->max_queued_messages ? conf->max_queued_messages / 2 : 10000u;
}

static void pace_publisher(struct tn_session *s, uint64_t origin)
{
    uint64_t now = s->w->loop.now_ms;

    if (tn_handle_worker(origin) != s->w->idx) {
        if (origin == s->last_hint_to && now - s->last_hint_ms < TN_TICK_MS / 2)
            return;
        s->last_hint_ms = now;
        s->last_hint_to = origin;
    }
    s->conn->pacing = true;
    tn_slowdown(s->w, origin);
}

static void pace_qos12(struct tn_session *s, uint64_t origin)
{
    if (origin && s->q.n >= tn_session_pace_mark(s) && s->w->loop.now_ms - s->last_ack_ms <= 1000)
        pace_publisher(s, origin);
}

/* A QoS 0 delivery to an online session: sent now, or dropped past the output bound. The
 * caller still owns d (its message reference included). */
static void qos0_now(struct tn_session *s, const struct tn_delivery *d)
{
    struct tn_conn *c = s->conn;
    uint64_t origin = d->msg->origin;

    if (!tn_conn_qos0_room(c))
        TN_STAT_ADD(s->w, pub_dropped, 1); /* slow consumer: QoS 0 is dropped */
    else
        send_publish(c, d, 0, false);
    if (origin && tn_conn_tx_behind(c))
        pace_publisher(s, origin);
}

void tn_session_deliver(struct tn_session *s, struct tn_delivery *d)
{
    if (expired(s, d->msg)) {
        tn_delivery_release(d);
        return;
    }
    if (!online(s)) {
        if (d->qos == 0 && !tn_conf(s->w->b)->queue_qos0_messages)
            tn_delivery_release(d);
        else
            queue_push(s, d);
        return;
    }
    if (d->qos == 0) {
        qos0_now(s, d);
        tn_delivery_release(d);
        return;
    }
    if (s->q.n || !inf_room(s) || tn_conn_tx_full(s->conn)) {
        uint64_t origin = d->msg->origin;
        if (queue_push(s, d))
            pace_qos12(s, origin);
        return;
    }
    send_now(s, d);
}

/* tn_session_deliver for a delivery whose message is borrowed: the caller holds a reference
 * for the length of this call. A QoS 0 message sent at once needs none of its own, and a
 * fan-out spent a third of its time on the atomic pair per subscriber; anything kept for
 * later takes one. Consumes d's other parts. */
void tn_session_deliver_borrowed(struct tn_session *s, struct tn_delivery *d)
{
    if (d->qos == 0 && online(s) && !expired(s, d->msg)) {
        qos0_now(s, d);
        d->msg = NULL;
        tn_delivery_release(d);
        return;
    }
    tn_msg_ref(d->msg);
    tn_session_deliver(s, d);
}

/* The retained backlog's next delivery, moved out (the backlog is freed when emptied). */
static void rbl_take(struct tn_session *s, struct tn_delivery *out)
{
    struct tn_delivery *f = &s->rbl[s->rbl_i];

    *out = *f;
    f->msg = NULL;
    f->more_ids = NULL;
    if (++s->rbl_i == s->rbl_n) {
        free(s->rbl);
        s->rbl = NULL;
        s->rbl_n = s->rbl_i = 0;
    }
}

/* Move waiting messages out while flow control allows: the queue first (older), then the
 * retained backlog of a SUBSCRIBE. */
void tn_session_pump(struct tn_session *s)
{
    while (online(s) && !tn_conn_tx_full(s->conn)) {
        struct tn_delivery *f = queue_front(s), d;
        bool from_queue = f != NULL;

        if (!f && s->rbl)
            f = &s->rbl[s->rbl_i];
        if (!f || (f->qos > 0 && !inf_room(s)))
            return;
        if (from_queue)
            queue_pop(s, &d);
        else
            rbl_take(s, &d);
        if (expired(s, d.msg))
            tn_delivery_release(&d); /* expired while waiting [MQTT-3.3.2-5] */
        else
            send_now(s, &d);
    }
}

/* Queue retained messages found by a SUBSCRIBE behind whatever is already being streamed. */
int tn_session_add_retained(struct tn_session *s, struct tn_delivery *v, uint32_t n)
{
    uint32_t left = s->rbl_n - s->rbl_i;
    struct tn_delivery *nv = malloc(((size_t)left + n) * sizeof(*nv));

    if (!nv) {
        for (uint32_t i = 0; i < n; i++)
            tn_delivery_release(&v[i]);
        return -ENOMEM;
    }
    if (left)
        memcpy(nv, s->rbl + s->rbl_i, left * sizeof(*nv));
    memcpy(nv + left, v, n * sizeof(*nv));
    free(s->rbl);
    s->rbl = nv;
    s->rbl_i = 0;
    s->rbl_n = left + n;
    tn_session_pump(s);
    return 0;
}

/* Re-send every unacknowledged exchange in its original order, PUBLISH with DUP set or
 * PUBREL, when a session resumes [MQTT-4.4.0-1] (5.0) / [MQTT-4.4.0-1] (3.1.1). */
void tn_session_resend(struct tn_session *s)
{
    struct tn_inflight **order;
    uint32_t k = 0;

    if (!s->inf_n)
        return;
    order = malloc(s->inf_n * sizeof(*order));
    if (!order)
        return;
    for (uint32_t i = 0; i < s->inf_cap; i++)
        if (s->inf[i].state != TERN_QS_FREE)
            order[k++] = &s->inf[i];
    /* insertion sort by seq: the window is usually small, and nearly sorted */
    for (uint32_t i = 1; i < k; i++) {
        struct tn_inflight *x = order[i];
        uint32_t j = i;
        for (; j > 0 && order[j - 1]->seq > x->seq; j--)
            order[j] = order[j - 1];
        order[j] = x;
    }
    for (uint32_t i = 0; i < k; i++) {
        struct tn_inflight *e = order[i];
        uint8_t what = tern_qos_resend(e->state);
        if (what == TERN_PUBLISH) {
            if (send_publish(s->conn, &e->d, e->id, true) <= 0)
                inf_free(s, e);
        } else if (what == TERN_PUBREL) {
            struct tern_packet p = {.type = TERN_PUBREL};
            p.u.ack.packet_id = e->id;
            tn_conn_send(s->conn, &p);
        }
    }
    free(order);
}

/* PUBACK, PUBREC or PUBCOMP from the client. Returns 0, or a 5.0 reason code (> 0) for a
 * protocol error the caller answers with DISCONNECT. */
int tn_session_ack(struct tn_session *s, uint8_t type, uint16_t id, uint8_t rc)
{
    struct tn_inflight *e = inf_find(s, id);
    struct tern_qos_step st;

    if (tern_qos_step(e ? e->state : TERN_QS_FREE, type, 0, rc, &st) < 0)
        return TERN_RC_PROTOCOL_ERROR;
    if (st.protocol_error)
        return TERN_RC_PROTOCOL_ERROR;
    if (st.reply && s->conn) {
        struct tern_packet p = {.type = st.reply};
        p.u.ack.packet_id = id;
        p.u.ack.rc = st.reply_rc;
        tn_conn_send(s->conn, &p);
    }
    if (!e)
        return 0;
    e->state = st.next;
    if (st.complete) {
        s->last_ack_ms = s->w->loop.now_ms;
        e->state = TERN_QS_WAIT_PUBACK; /* so inf_free's bookkeeping holds */
        inf_free(s, e);
        tn_session_pump(s);
    }
    return 0;
}

/* ---- incoming QoS 2 ids ------------------------------------------------------------------- */

bool tn_qos2_in_test(struct tn_session *s, uint16_t id)
{
    return s->qos2_in && (s->qos2_in[id >> 3] >> (id & 7)) & 1;
}

int tn_qos2_in_set(struct tn_session *s, uint16_t id)
{
    if (!s->qos2_in && !(s->qos2_in = calloc(8192, 1)))
        return -ENOMEM;
    if (!tn_qos2_in_test(s, id)) {
        s->qos2_in[id >> 3] |= (uint8_t)(1u << (id & 7));
        s->qos2_in_n++;
    }
    return 0;
}

void tn_qos2_in_clear(struct tn_session *s, uint16_t id)
{
    if (!tn_qos2_in_test(s, id))
        return;
    s->qos2_in[id >> 3] &= (uint8_t) ~(1u << (id & 7));
    if (--s->qos2_in_n == 0) {
        free(s->qos2_in);
        s->qos2_in = NULL;
    }
}

/* ---- subscriptions (the session's own list, mirrored in the router) ------------------------ */

int tn_session_sub_put(struct tn_session *s, tern_slice filter, const struct tn_sub_opts *o,
                       bool shared)
{
    for (uint32_t i = 0; i < s->n_subs; i++) {
        if (s->subs[i].len == filter.n && !memcmp(s->subs[i].filter, filter.p, filter.n)) {
            s->subs[i].o = *o;
            return 0;
        }
    }
    if (s->n_subs == s->cap_subs) {
        uint32_t ncap = s->cap_subs ? s->cap_subs * 2 : 4;
        struct tn_sub_rec *ns = realloc(s->subs, ncap * sizeof(*ns));
        if (!ns)
            return -ENOMEM;
        s->subs = ns;
        s->cap_subs = ncap;
    }
    s->subs[s->n_subs].filter = malloc(filter.n + 1);
    if (!s->subs[s->n_subs].filter)
        return -ENOMEM;
    memcpy(s->subs[s->n_subs].filter, filter.p, filter.n);
    s->subs[s->n_subs].filter[filter.n] = 0;
    s->subs[s->n_subs].len = (uint16_t)filter.n;
    s->subs[s->n_subs].shared = shared;
    s->subs[s->n_subs].o = *o;
    s->n_subs++;
    return 1;
}

int tn_session_sub_del(struct tn_session *s, tern_slice filter)
{
    for (uint32_t i = 0; i < s->n_subs; i++) {
        if (s->subs[i].len == filter.n && !memcmp(s->subs[i].filter, filter.p, filter.n)) {
            free(s->subs[i].filter);
            s->subs[i] = s->subs[--s->n_subs];
            return 0;
        }
    }
    return -ENOENT;
}

/* ---- connecting, disconnecting, ending ------------------------------------------------------ */

void tn_session_set_will(struct tn_session *s, struct tn_msg *will, uint32_t delay_s)
{
    tn_timer_cancel(&s->w->loop, &s->will_timer);
    tn_msg_unref(s->will);
    s->will = will;
    s->will_delay_s = delay_s;
}

void tn_session_attach(struct tn_session *s, struct tn_conn *c)
{
    /* the client is back: a delayed will is cancelled [MQTT-3.1.3-9] (5.0), the session does
     * not expire */
    tn_timer_cancel(&s->w->loop, &s->will_timer);
    tn_timer_cancel(&s->w->loop, &s->expiry_timer);
    s->conn = c;
    c->s = s;
}

static void publish_will(struct tn_session *s)
{
    struct tn_msg *will = s->will;

    s->will = NULL;
    tn_timer_cancel(&s->w->loop, &s->will_timer);
    if (will) {
        tn_publish_internal(s->w, will);
        tn_msg_unref(will);
    }
}

/* Re-send what a leaving member of a shared subscription had in flight or queued to another
 * member of the same group (5.0, 4.8.2: "the Server SHOULD send the Application Message to
 * another Client that is subscribed to the same Shared Subscription"). PUBREL-stage QoS 2
 * exchanges stay: the client has the message already. */
static void reroute_shared(struct tn_session *s)
{
    struct tn_broker *b = s->w->b;

    for (uint32_t i = 0; i < s->inf_cap; i++) {
        struct tn_inflight *e = &s->inf[i];
        struct tn_delivery d;
        bool sent = false;

        if (e->state == TERN_QS_FREE || e->state == TERN_QS_WAIT_PUBCOMP ||
            !(e->d.flags & TN_DLV_SHARED))
            continue;
        d = e->d;
        for (uint32_t k = 0; k < s->n_subs && !sent; k++) {
            struct tn_sub_rec *r = &s->subs[k];
            tern_slice f = {(const uint8_t *)r->filter, r->len};
            uint64_t to;
            struct tn_sub_opts o;
            if (!r->shared || !tern_topic_matches(f, (tern_slice){d.msg->topic, d.msg->topic_n}))
                continue;
            if (tn_router_share_pick(b->router, f, s->handle, &to, &o) == 0) {
                struct tn_delivery nd = {
                    .msg = tn_msg_ref(d.msg), .qos = d.qos, .flags = d.flags, .sub_id = o.sub_id};
                tn_deliver_to(s->w, to, &nd);
                sent = true;
            }
        }
        if (sent)
            inf_free(s, e);
    }
}

void tn_session_detach(struct tn_session *s, bool send_will)
{
    const struct tn_broker_conf *conf = tn_conf(s->w->b);
    uint64_t expiry_ms;

    s->conn = NULL;
    if (s->n_subs)
        reroute_shared(s);
    if (!send_will) {
        /* normal DISCONNECT: the will is deleted [MQTT-3.1.2-10] (3.1.1) */
        tn_session_set_will(s, NULL, 0);
    }
    if (s->expiry_s == 0) {
        tn_session_destroy(s, true);
        return;
    }
    if (s->will) {
        if (s->will_delay_s == 0)
            publish_will(s);
        else /* at the delay or at the session's end, whichever comes first */
            tn_timer_arm(&s->w->loop, &s->will_timer,
                         (uint64_t)(s->will_delay_s < s->expiry_s ? s->will_delay_s : s->expiry_s) *
                             1000u);
    }
    expiry_ms = s->expiry_s == 0xFFFFFFFFu ? 0 : (uint64_t)s->expiry_s * 1000u;
    if (s->version < 5 || s->expiry_s == 0xFFFFFFFFu) {
        /* persistent_client_expiration bounds "never" (and 3.1.1 persistent sessions) */
        if (conf->persistent_client_expiration >= 0) {
            uint64_t cap = (uint64_t)conf->persistent_client_expiration * 1000u;
            if (!expiry_ms || cap < expiry_ms)
                expiry_ms = cap;
        }
    }
    if (expiry_ms)
        tn_timer_arm(&s->w->loop, &s->expiry_timer, expiry_ms);
}

void tn_session_destroy(struct tn_session *s, bool will)
{
    struct tn_worker *w = s->w;
    struct tn_delivery d;

    if (s->conn) { /* taken over or shut down with a connection still attached */
        s->conn->s = NULL;
        s->conn = NULL;
    }
    if (will && s->will)
        publish_will(s); /* the session ends: a delayed will goes now [MQTT-3.1.3-9] */
    tn_session_set_will(s, NULL, 0);
    tn_timer_cancel(&w->loop, &s->expiry_timer);
    for (uint32_t i = 0; i < s->n_subs; i++) {
        tern_slice f = {(const uint8_t *)s->subs[i].filter, s->subs[i].len};
        tn_router_unsubscribe(w->b->router, f, s->handle);
        free(s->subs[i].filter);
    }
    free(s->subs);
    for (uint32_t i = 0; i < s->inf_cap; i++)
        if (s->inf[i].state != TERN_QS_FREE)
            tn_delivery_release(&s->inf[i].d);
    free(s->inf);
    while (s->q.n) {
        queue_pop(s, &d);
        tn_delivery_release(&d);
    }
    for (uint32_t i = s->rbl_i; i < s->rbl_n; i++)
        tn_delivery_release(&s->rbl[i]);
    free(s->rbl);
    free(s->qos2_in);
    if (s->expiry_s)
        w->b->store->ops->session_del(w->b->store,
                                      (tern_slice){(const uint8_t *)s->client_id, s->cid_n});
    tn_worker_session_remove(w, s);
    free(s->client_id);
    free(s);
}
