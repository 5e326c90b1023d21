/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/peer_log.c - codec_peer's JSON log (see peer_log.h): turns a packet decoded by
 * tern_packet_decode into one JSON line. Scalar properties come from the decoded struct fields
 * (what a broker would use); User Properties and Subscription Identifiers from the property
 * iterator, in wire order. Binary fields (payload, password, correlation data) are hex.
 *
 * Owns: nothing. Thread: codec_peer's only thread.
 */
#include "peer_log.h"

#include <stddef.h>
#include <string.h>

static void j_str(FILE *f, const uint8_t *p, size_t n)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t ch = p[i];
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f); /* the decoder has checked UTF-8 */
    }
    fputc('"', f);
}

static void j_slice(FILE *f, tern_slice s)
{
    j_str(f, s.p, s.n);
}

static void j_hex(FILE *f, tern_slice s)
{
    fputc('"', f);
    for (size_t i = 0; i < s.n; i++)
        fprintf(f, "%02x", s.p[i]);
    fputc('"', f);
}

/* "Message Expiry Interval" -> "message-expiry-interval", the names mosquitto's -D uses. */
static void j_prop_name(FILE *f, unsigned id)
{
    const char *name = tern_prop_name(id);
    if (!name) {
        fprintf(f, "\"prop-0x%02x\"", id);
        return;
    }
    fputc('"', f);
    for (; *name; name++)
        fputc(*name == ' ' ? '-' : (*name >= 'A' && *name <= 'Z' ? *name + 32 : *name), f);
    fputc('"', f);
}

/* Where struct tern_props keeps each scalar property: 1, 2 or 4-byte integer, or a slice. */
/* clang-format off */
#define PF(id, field) {id, sizeof(((struct tern_props *)0)->field), offsetof(struct tern_props, field)}
/* clang-format on */
static const struct prop_field {
    uint8_t id, size;
    size_t off;
} prop_fields[] = {
    PF(TERN_PROP_PAYLOAD_FORMAT_INDICATOR, payload_format_indicator),
    PF(TERN_PROP_MESSAGE_EXPIRY_INTERVAL, message_expiry_interval),
    PF(TERN_PROP_CONTENT_TYPE, content_type),
    PF(TERN_PROP_RESPONSE_TOPIC, response_topic),
    PF(TERN_PROP_CORRELATION_DATA, correlation_data),
    PF(TERN_PROP_SESSION_EXPIRY_INTERVAL, session_expiry_interval),
    PF(TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER, assigned_client_identifier),
    PF(TERN_PROP_SERVER_KEEP_ALIVE, server_keep_alive),
    PF(TERN_PROP_AUTHENTICATION_METHOD, authentication_method),
    PF(TERN_PROP_AUTHENTICATION_DATA, authentication_data),
    PF(TERN_PROP_REQUEST_PROBLEM_INFORMATION, request_problem_information),
    PF(TERN_PROP_WILL_DELAY_INTERVAL, will_delay_interval),
    PF(TERN_PROP_REQUEST_RESPONSE_INFORMATION, request_response_information),
    PF(TERN_PROP_RESPONSE_INFORMATION, response_information),
    PF(TERN_PROP_SERVER_REFERENCE, server_reference),
    PF(TERN_PROP_REASON_STRING, reason_string),
    PF(TERN_PROP_RECEIVE_MAXIMUM, receive_maximum),
    PF(TERN_PROP_TOPIC_ALIAS_MAXIMUM, topic_alias_maximum),
    PF(TERN_PROP_TOPIC_ALIAS, topic_alias),
    PF(TERN_PROP_MAXIMUM_QOS, maximum_qos),
    PF(TERN_PROP_RETAIN_AVAILABLE, retain_available),
    PF(TERN_PROP_MAXIMUM_PACKET_SIZE, maximum_packet_size),
    PF(TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, wildcard_subscription_available),
    PF(TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, subscription_identifier_available),
    PF(TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE, shared_subscription_available),
};

static void j_prop_field(FILE *f, const struct tern_props *pr, const struct prop_field *pf)
{
    const char *at = (const char *)pr + pf->off;
    uint8_t u8;
    uint16_t u16;
    uint32_t u32;
    tern_slice sl;
    switch (pf->size) {
    case 1:
        memcpy(&u8, at, 1);
        fprintf(f, "%u", u8);
        break;
    case 2:
        memcpy(&u16, at, 2);
        fprintf(f, "%u", u16);
        break;
    case 4:
        memcpy(&u32, at, 4);
        fprintf(f, "%u", u32);
        break;
    default:
        memcpy(&sl, at, sizeof(sl));
        if (tern_prop_kind(pf->id) == TERN_PK_BINARY)
            j_hex(f, sl);
        else
            j_slice(f, sl);
    }
}

/* Scalars come from the decoded struct fields (what a broker would use); User Properties and
 * Subscription Identifiers from the iterator, in wire order; "order" lists every id as sent. */
static void log_props(FILE *f, const char *key, const struct tern_props *pr)
{
    struct tern_prop_iter it;
    struct tern_prop prop;
    bool first = true;

    fprintf(f, ",\"%s\":{", key);
    for (size_t i = 0; i < sizeof(prop_fields) / sizeof(prop_fields[0]); i++) {
        if (!tern_props_has(pr, prop_fields[i].id))
            continue;
        fputs(first ? "" : ",", f);
        first = false;
        j_prop_name(f, prop_fields[i].id);
        fputc(':', f);
        j_prop_field(f, pr, &prop_fields[i]);
    }
    for (int pass = 0; pass < 3; pass++) {
        static const char *const names[] = {"user-property", "subscription-identifier", "order"};
        bool any = false;
        tern_props_iter_init(&it, pr);
        while (tern_props_iter_next(&it, &prop) == 1) {
            if (pass == 0 && prop.id != TERN_PROP_USER_PROPERTY)
                continue;
            if (pass == 1 && prop.id != TERN_PROP_SUBSCRIPTION_IDENTIFIER)
                continue;
            fprintf(f, "%s", any ? "," : (first ? "" : ","));
            if (!any)
                fprintf(f, "\"%s\":[", names[pass]);
            first = false;
            any = true;
            if (pass == 0) {
                fputc('[', f);
                j_slice(f, prop.s);
                fputc(',', f);
                j_slice(f, prop.v);
                fputc(']', f);
            } else {
                fprintf(f, "%u", pass == 1 ? prop.u : prop.id);
            }
        }
        if (any)
            fputc(']', f);
    }
    fputc('}', f);
}

void peer_log_event(FILE *f, unsigned conn, const char *event)
{
    fprintf(f, "{\"event\":\"%s\",\"conn\":%u}\n", event, conn);
    fflush(f);
}

void peer_log_error(FILE *f, unsigned conn, const char *event, int err, uint8_t rc, tern_slice raw)
{
    fprintf(f, "{\"event\":\"%s\",\"conn\":%u,\"err\":%d,\"error\":", event, conn, err);
    j_str(f, (const uint8_t *)tern_strerror(err), strlen(tern_strerror(err)));
    fprintf(f, ",\"rc\":%u,\"rc_name\":\"%s\",\"raw\":", rc, tern_rc_name(rc));
    j_hex(f, raw);
    fputs("}\n", f);
    fflush(f);
}

void peer_log_packet(FILE *f, unsigned conn, const char *event, const struct tern_packet *k,
                     tern_slice raw, uint8_t version)
{
    fprintf(f, "{\"event\":\"%s\",\"conn\":%u,\"type\":\"%s\",\"version\":%u,\"flags\":%u", event,
            conn, tern_ptype_name(k->type), version, k->flags);
    switch (k->type) {
    case TERN_CONNECT: {
        const struct tern_connect *x = &k->u.connect;
        fputs(",\"protocol_name\":", f);
        j_slice(f, x->protocol_name);
        fprintf(f, ",\"level\":%u,\"clean\":%s,\"keep_alive\":%u,\"client_id\":", x->version,
                x->clean ? "true" : "false", x->keep_alive);
        j_slice(f, x->client_id);
        fprintf(f, ",\"will\":%s", x->will ? "true" : "false");
        if (x->will) {
            fprintf(f, ",\"will_qos\":%u,\"will_retain\":%s,\"will_topic\":", x->will_qos,
                    x->will_retain ? "true" : "false");
            j_slice(f, x->will_topic);
            fputs(",\"will_payload\":", f);
            j_hex(f, x->will_payload);
            log_props(f, "will_props", &x->will_props);
        }
        fputs(",\"username\":", f);
        if (x->has_username)
            j_slice(f, x->username);
        else
            fputs("null", f);
        fputs(",\"password\":", f);
        if (x->has_password)
            j_hex(f, x->password);
        else
            fputs("null", f);
        log_props(f, "props", &x->props);
        break;
    }
    case TERN_CONNACK:
        fprintf(f, ",\"session_present\":%s,\"rc\":%u",
                k->u.connack.session_present ? "true" : "false", k->u.connack.rc);
        log_props(f, "props", &k->u.connack.props);
        break;
    case TERN_PUBLISH: {
        const struct tern_publish *x = &k->u.publish;
        fprintf(f, ",\"qos\":%u,\"dup\":%s,\"retain\":%s", x->qos, x->dup ? "true" : "false",
                x->retain ? "true" : "false");
        if (x->qos)
            fprintf(f, ",\"packet_id\":%u", x->packet_id);
        fputs(",\"topic\":", f);
        j_slice(f, x->topic);
        fputs(",\"payload\":", f);
        j_hex(f, x->payload);
        log_props(f, "props", &x->props);
        break;
    }
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP:
        fprintf(f, ",\"packet_id\":%u,\"rc\":%u", k->u.ack.packet_id, k->u.ack.rc);
        log_props(f, "props", &k->u.ack.props);
        break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: {
        struct tern_sub_iter it;
        struct tern_sub_entry e;
        bool first = true;
        fprintf(f, ",\"packet_id\":%u,\"count\":%u", k->u.subscribe.packet_id,
                k->u.subscribe.count);
        log_props(f, "props", &k->u.subscribe.props);
        fputs(",\"subs\":[", f);
        tern_sub_iter_init(&it, k, version);
        while (tern_sub_iter_next(&it, &e) == 1) {
            fputs(first ? "{\"filter\":" : ",{\"filter\":", f);
            first = false;
            j_slice(f, e.filter);
            if (k->type == TERN_SUBSCRIBE)
                fprintf(f, ",\"qos\":%u,\"nl\":%s,\"rap\":%s,\"rh\":%u", e.qos,
                        e.no_local ? "true" : "false", e.retain_as_published ? "true" : "false",
                        e.retain_handling);
            fputc('}', f);
        }
        fputc(']', f);
        break;
    }
    case TERN_SUBACK:
    case TERN_UNSUBACK:
        fprintf(f, ",\"packet_id\":%u,\"rcs\":[", k->u.suback.packet_id);
        for (size_t i = 0; i < k->u.suback.rcs.n; i++)
            fprintf(f, "%s%u", i ? "," : "", k->u.suback.rcs.p[i]);
        fputc(']', f);
        log_props(f, "props", &k->u.suback.props);
        break;
    case TERN_DISCONNECT:
    case TERN_AUTH:
        fprintf(f, ",\"rc\":%u", k->u.disconnect.rc);
        log_props(f, "props", &k->u.disconnect.props);
        break;
    default: break;
    }
    fputs(",\"raw\":", f);
    j_hex(f, raw);
    fputs("}\n", f);
    fflush(f);
}
