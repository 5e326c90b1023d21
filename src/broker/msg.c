/* SPDX-License-Identifier: MIT */
/*
 * src/broker/msg.c - application messages: one allocation holding topic, forwarded properties
 * and payload, shared by reference by every subscriber, queue and the retained store.
 * Owns: struct tn_msg (see internal.h for the sharing rules). Thread: any.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct tn_msg *tn_msg_new(tern_slice topic, tern_slice props, tern_slice payload, uint8_t qos,
                          bool retain, uint64_t expiry_ms, uint64_t origin)
{
    struct tn_msg *m = malloc(sizeof(*m) + topic.n + props.n + payload.n + 1);
    uint8_t *p;

    if (!m)
        return NULL;
    atomic_init(&m->refs, 1);
    m->qos = qos;
    m->retain = retain;
    m->topic_n = (uint16_t)topic.n;
    m->props_n = (uint32_t)props.n;
    m->payload_n = (uint32_t)payload.n;
    m->expiry_ms = expiry_ms;
    m->origin = origin;
    p = m->data;
    if (topic.n)
        memcpy(p, topic.p, topic.n);
    m->topic = p;
    p += topic.n;
    *p++ = 0; /* the topic is also a C string, for logs */
    if (props.n)
        memcpy(p, props.p, props.n);
    m->props = p;
    p += props.n;
    if (payload.n)
        memcpy(p, payload.p, payload.n);
    m->payload = p;
    return m;
}

void tn_msg_unref(struct tn_msg *m)
{
    if (m && atomic_fetch_sub_explicit(&m->refs, 1, memory_order_acq_rel) == 1)
        free(m);
}

void tn_msg_unref_n(struct tn_msg *m, uint32_t k)
{
    if (m && k && atomic_fetch_sub_explicit(&m->refs, k, memory_order_acq_rel) == k)
        free(m);
}

/* Forwarded unchanged: the Server MUST send these to subscribers as received
 * [MQTT-3.3.2-4] (payload format), [MQTT-3.3.2-20] (content type), [MQTT-3.3.2-15]
 * (response topic), [MQTT-3.3.2-16] (correlation data), [MQTT-3.3.2-17] (user properties,
 * in order). Message Expiry is re-computed per delivery, Topic Alias is per connection and
 * Subscription Identifiers per subscriber. */
int tn_msg_forward_props(const struct tern_props *in, uint8_t *out, size_t cap)
{
    struct tern_props f = *in;
    int body, total;
    unsigned pre;

    f.present &= (1ull << TERN_PROP_PAYLOAD_FORMAT_INDICATOR) | (1ull << TERN_PROP_CONTENT_TYPE) |
                 (1ull << TERN_PROP_RESPONSE_TOPIC) | (1ull << TERN_PROP_CORRELATION_DATA);
    f.sub_id_n = 0;
    f.extra = (tern_slice){0};
    if (!f.present && !f.user_n)
        return 0;
    body = tern_props_body_size(&f, TERN_PUBLISH);
    if (body < 0)
        return body;
    pre = tern_varint_size((uint32_t)body);
    if ((size_t)body + pre > cap)
        return -ENOBUFS;
    total = tern_props_encode(&f, TERN_PUBLISH, out, cap);
    if (total < 0)
        return total;
    memmove(out, out + pre, (size_t)body); /* keep the body only: it is appended as `extra` */
    return body;
}

void tn_delivery_release(struct tn_delivery *d)
{
    tn_msg_unref(d->msg);
    d->msg = NULL;
    free(d->more_ids);
    d->more_ids = NULL;
    d->n_more = 0;
}
