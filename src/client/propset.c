/* SPDX-License-Identifier: MIT */
/*
 * src/client/propset.c - struct tern_propset, an owned and growable set of MQTT 5 properties
 * (the API behind the CLI's `-D command identifier value`), and tn_props_dup, the deep copy
 * libtern makes of every property set a caller hands it.
 *
 * Owns: the strings and User Properties it copied. Thread: whoever owns the set.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "client_internal.h"

struct tern_propset {
    unsigned ctx;
    struct tern_props p;
    struct tern_strpair *user; /* owned keys/values */
    uint32_t user_cap;
    uint8_t *str[TERN_PROP_ID_MAX + 1]; /* owned copies of string/binary values */
};

int tern_propset_new(unsigned ctx, struct tern_propset **out)
{
    if (!out)
        return tn_fail(-EINVAL, "propset_new: out is NULL");
    *out = NULL;
    if (ctx > TERN_AUTH)
        return tn_fail(-EINVAL, "propset_new: context %u is not a packet type", ctx);
    struct tern_propset *ps = calloc(1, sizeof *ps);
    if (!ps)
        return tn_fail(-ENOMEM, "propset_new");
    ps->ctx = ctx;
    *out = ps;
    return 0;
}

void tern_propset_free(struct tern_propset *ps)
{
    if (!ps)
        return;
    for (uint32_t i = 0; i < ps->p.user_n; i++) {
        free((void *)ps->user[i].k.p);
        free((void *)ps->user[i].v.p);
    }
    free(ps->user);
    for (unsigned i = 0; i <= TERN_PROP_ID_MAX; i++)
        free(ps->str[i]);
    free(ps);
}

const struct tern_props *tern_propset_props(const struct tern_propset *ps)
{
    return ps ? &ps->p : NULL;
}

static tern_slice *slice_field(struct tern_props *p, unsigned id)
{
    switch (id) {
    case TERN_PROP_CONTENT_TYPE: return &p->content_type;
    case TERN_PROP_RESPONSE_TOPIC: return &p->response_topic;
    case TERN_PROP_CORRELATION_DATA: return &p->correlation_data;
    case TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER: return &p->assigned_client_identifier;
    case TERN_PROP_AUTHENTICATION_METHOD: return &p->authentication_method;
    case TERN_PROP_AUTHENTICATION_DATA: return &p->authentication_data;
    case TERN_PROP_RESPONSE_INFORMATION: return &p->response_information;
    case TERN_PROP_SERVER_REFERENCE: return &p->server_reference;
    case TERN_PROP_REASON_STRING: return &p->reason_string;
    default: return NULL;
    }
}

static int set_int_field(struct tern_props *p, unsigned id, uint32_t v)
{
    switch (id) {
    case TERN_PROP_PAYLOAD_FORMAT_INDICATOR: p->payload_format_indicator = (uint8_t)v; break;
    case TERN_PROP_MESSAGE_EXPIRY_INTERVAL: p->message_expiry_interval = v; break;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER:
        p->sub_id = v;
        p->sub_id_n = 1;
        break;
    case TERN_PROP_SESSION_EXPIRY_INTERVAL: p->session_expiry_interval = v; break;
    case TERN_PROP_SERVER_KEEP_ALIVE: p->server_keep_alive = (uint16_t)v; break;
    case TERN_PROP_REQUEST_PROBLEM_INFORMATION: p->request_problem_information = (uint8_t)v; break;
    case TERN_PROP_WILL_DELAY_INTERVAL: p->will_delay_interval = v; break;
    case TERN_PROP_REQUEST_RESPONSE_INFORMATION:
        p->request_response_information = (uint8_t)v;
        break;
    case TERN_PROP_RECEIVE_MAXIMUM: p->receive_maximum = (uint16_t)v; break;
    case TERN_PROP_TOPIC_ALIAS_MAXIMUM: p->topic_alias_maximum = (uint16_t)v; break;
    case TERN_PROP_TOPIC_ALIAS: p->topic_alias = (uint16_t)v; break;
    case TERN_PROP_MAXIMUM_QOS: p->maximum_qos = (uint8_t)v; break;
    case TERN_PROP_RETAIN_AVAILABLE: p->retain_available = (uint8_t)v; break;
    case TERN_PROP_MAXIMUM_PACKET_SIZE: p->maximum_packet_size = v; break;
    case TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
        p->wildcard_subscription_available = (uint8_t)v;
        break;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
        p->subscription_identifier_available = (uint8_t)v;
        break;
    case TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
        p->shared_subscription_available = (uint8_t)v;
        break;
    default: return -EINVAL;
    }
    return 0;
}

static int check_id(const struct tern_propset *ps, unsigned id, const char *what)
{
    if (id > TERN_PROP_ID_MAX || tern_prop_kind(id) == TERN_PK_NONE)
        return tn_fail(-EINVAL, "%s: unknown property id %u", what, id);
    if (!tern_prop_allowed(id, ps->ctx))
        return tn_fail(-EINVAL, "%s: property %s not allowed in %s", what, tern_prop_name(id),
                       ps->ctx == TERN_PROP_CTX_WILL ? "will" : tern_ptype_name(ps->ctx));
    return 0;
}

int tern_propset_add_int(struct tern_propset *ps, unsigned id, uint32_t value)
{
    if (!ps)
        return tn_fail(-EINVAL, "propset_add_int: set is NULL");
    int err = check_id(ps, id, "propset_add_int");
    if (err)
        return err;
    enum tern_prop_kind k = tern_prop_kind(id);
    uint32_t max = k == TERN_PK_BYTE     ? 0xFF
                   : k == TERN_PK_U16    ? 0xFFFF
                   : k == TERN_PK_VARINT ? TERN_VARINT_MAX
                   : k == TERN_PK_U32    ? UINT32_MAX
                                         : 0;
    if (max == 0)
        return tn_fail(-EINVAL, "propset_add_int: %s is not a number", tern_prop_name(id));
    if (value > max)
        return tn_fail(-EINVAL, "propset_add_int: %s value %u out of range", tern_prop_name(id),
                       value);
    struct tern_props save = ps->p;
    set_int_field(&ps->p, id, value);
    tern_props_set(&ps->p, id);
    if (tern_props_body_size(&ps->p, ps->ctx) < 0) {
        ps->p = save;
        return tn_fail(-EINVAL, "propset_add_int: %s value %u not allowed", tern_prop_name(id),
                       value);
    }
    return 0;
}

int tern_propset_add_str(struct tern_propset *ps, unsigned id, const void *p, size_t n)
{
    if (!ps || (!p && n))
        return tn_fail(-EINVAL, "propset_add_str: NULL argument");
    int err = check_id(ps, id, "propset_add_str");
    if (err)
        return err;
    enum tern_prop_kind k = tern_prop_kind(id);
    if (k != TERN_PK_UTF8 && k != TERN_PK_BINARY)
        return tn_fail(-EINVAL, "propset_add_str: %s is not a string", tern_prop_name(id));
    if (n > 65535)
        return tn_fail(-EINVAL, "propset_add_str: %s longer than 65535 bytes", tern_prop_name(id));
    if (k == TERN_PK_UTF8 && !tern_utf8_is_valid(p, n))
        return tn_fail(-EINVAL, "propset_add_str: %s is not valid UTF-8", tern_prop_name(id));
    if (id == TERN_PROP_RESPONSE_TOPIC && !tern_topic_name_is_valid(p, n))
        return tn_fail(-EINVAL, "propset_add_str: response topic is not a valid topic name");
    uint8_t *copy = malloc(n ? n : 1);
    if (!copy)
        return tn_fail(-ENOMEM, "propset_add_str");
    if (n)
        memcpy(copy, p, n);
    free(ps->str[id]);
    ps->str[id] = copy;
    *slice_field(&ps->p, id) = (tern_slice){copy, n};
    tern_props_set(&ps->p, id);
    return 0;
}

int tern_propset_add_user(struct tern_propset *ps, const char *key, const char *value)
{
    if (!ps || !key || !value)
        return tn_fail(-EINVAL, "propset_add_user: NULL argument");
    int err = check_id(ps, TERN_PROP_USER_PROPERTY, "propset_add_user");
    if (err)
        return err;
    size_t kn = strlen(key), vn = strlen(value);
    if (kn > 65535 || vn > 65535 || !tern_utf8_is_valid((const uint8_t *)key, kn) ||
        !tern_utf8_is_valid((const uint8_t *)value, vn))
        return tn_fail(-EINVAL, "propset_add_user: key/value not valid UTF-8 of <= 65535 bytes");
    if (ps->p.user_n == ps->user_cap) {
        uint32_t nc = ps->user_cap ? ps->user_cap * 2 : 4;
        struct tern_strpair *nu = realloc(ps->user, nc * sizeof *nu);
        if (!nu)
            return tn_fail(-ENOMEM, "propset_add_user");
        ps->user = nu;
        ps->user_cap = nc;
    }
    char *k = strdup(key), *v = strdup(value);
    if (!k || !v) {
        free(k);
        free(v);
        return tn_fail(-ENOMEM, "propset_add_user");
    }
    ps->user[ps->p.user_n++] = (struct tern_strpair){{(uint8_t *)k, kn}, {(uint8_t *)v, vn}};
    ps->p.user = ps->user;
    return 0;
}

/* mosquitto's -D names. */
static const struct {
    const char *name;
    uint8_t id;
} names[] = {
    {"payload-format-indicator", 0x01},
    {"message-expiry-interval", 0x02},
    {"content-type", 0x03},
    {"response-topic", 0x08},
    {"correlation-data", 0x09},
    {"subscription-identifier", 0x0B},
    {"session-expiry-interval", 0x11},
    {"assigned-client-identifier", 0x12},
    {"server-keep-alive", 0x13},
    {"authentication-method", 0x15},
    {"authentication-data", 0x16},
    {"request-problem-information", 0x17},
    {"will-delay-interval", 0x18},
    {"request-response-information", 0x19},
    {"response-information", 0x1A},
    {"server-reference", 0x1C},
    {"reason-string", 0x1F},
    {"receive-maximum", 0x21},
    {"topic-alias-maximum", 0x22},
    {"topic-alias", 0x23},
    {"maximum-qos", 0x24},
    {"retain-available", 0x25},
    {"user-property", 0x26},
    {"maximum-packet-size", 0x27},
    {"wildcard-subscription-available", 0x28},
    {"subscription-identifier-available", 0x29},
    {"shared-subscription-available", 0x2A},
};

static int name_to_id(const char *name)
{
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(name, names[i].name))
            return names[i].id;
    for (unsigned id = 1; id <= TERN_PROP_ID_MAX; id++) {
        const char *n = tern_prop_name(id);
        if (n && !strcasecmp(name, n))
            return (int)id;
    }
    char *end;
    unsigned long v = strtoul(name, &end, 10);
    if (*name && !*end && v <= TERN_PROP_ID_MAX && tern_prop_kind((unsigned)v) != TERN_PK_NONE)
        return (int)v;
    return -1;
}

int tern_propset_add_named(struct tern_propset *ps, const char *name, const char *value,
                           const char *value2)
{
    if (!ps || !name || !value)
        return tn_fail(-EINVAL, "propset_add_named: NULL argument");
    int id = name_to_id(name);
    if (id < 0)
        return tn_fail(-EINVAL, "property '%s' unknown", name);
    switch (tern_prop_kind((unsigned)id)) {
    case TERN_PK_PAIR:
        if (!value2)
            return tn_fail(-EINVAL, "property '%s' needs a key and a value", name);
        return tern_propset_add_user(ps, value, value2);
    case TERN_PK_UTF8:
    case TERN_PK_BINARY: return tern_propset_add_str(ps, (unsigned)id, value, strlen(value));
    default: {
        char *end;
        errno = 0;
        unsigned long long v = strtoull(value, &end, 10);
        if (!*value || *end || errno || v > UINT32_MAX || value[0] == '-')
            return tn_fail(-EINVAL, "property '%s': '%s' is not a number", name, value);
        return tern_propset_add_int(ps, (unsigned)id, (uint32_t)v);
    }
    }
}

int tn_props_dup(const struct tern_props *src, unsigned ctx, struct tn_ownprops *out)
{
    memset(out, 0, sizeof *out);
    if (!src)
        return 0;
    int n = tern_props_body_size(src, ctx);
    if (n < 0)
        return n;
    size_t cap = (size_t)n + 4;
    out->buf = malloc(cap);
    if (!out->buf)
        return -ENOMEM;
    int w = tern_props_encode(src, ctx, out->buf, cap);
    uint8_t rc;
    if (w < 0 || tern_props_decode(out->buf, (size_t)w, ctx, &out->p, &rc) < 0) {
        free(out->buf);
        out->buf = NULL;
        return w < 0 ? w : -EINVAL;
    }
    out->set = n > 0;
    return 0;
}

void tn_ownprops_fini(struct tn_ownprops *o)
{
    free(o->buf);
    memset(o, 0, sizeof *o);
}
