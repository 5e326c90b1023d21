/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_util.c - property-list oracles shared by the `props` and `packet` fuzz targets
 * (see fuzz_util.h).
 *
 * Owns: nothing beyond the fz_arena allocations. Thread: the fuzz driver's.
 * The field table below is written independently of src/codec/props.c on purpose: a wrong
 * id-to-field mapping there shows up here as a value mismatch.
 */
#include "fuzz_util.h"

void *fz_arena_alloc(struct fz_arena *a, size_t size)
{
    FZ_CHECK(a->n < sizeof(a->ptr) / sizeof(a->ptr[0]), "fz_arena full");
    void *p = fz_alloc(size);
    a->ptr[a->n++] = p;
    return p;
}

void fz_arena_fini(struct fz_arena *a)
{
    for (unsigned i = 0; i < a->n; i++)
        free(a->ptr[i]);
    a->n = 0;
}

bool fz_prop_field(const struct tern_props *p, unsigned id, uint32_t *u, tern_slice *s)
{
    *u = 0;
    *s = (tern_slice){NULL, 0};
    switch (id) {
    case TERN_PROP_PAYLOAD_FORMAT_INDICATOR: *u = p->payload_format_indicator; return true;
    case TERN_PROP_MESSAGE_EXPIRY_INTERVAL: *u = p->message_expiry_interval; return true;
    case TERN_PROP_CONTENT_TYPE: *s = p->content_type; return true;
    case TERN_PROP_RESPONSE_TOPIC: *s = p->response_topic; return true;
    case TERN_PROP_CORRELATION_DATA: *s = p->correlation_data; return true;
    case TERN_PROP_SESSION_EXPIRY_INTERVAL: *u = p->session_expiry_interval; return true;
    case TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER: *s = p->assigned_client_identifier; return true;
    case TERN_PROP_SERVER_KEEP_ALIVE: *u = p->server_keep_alive; return true;
    case TERN_PROP_AUTHENTICATION_METHOD: *s = p->authentication_method; return true;
    case TERN_PROP_AUTHENTICATION_DATA: *s = p->authentication_data; return true;
    case TERN_PROP_REQUEST_PROBLEM_INFORMATION: *u = p->request_problem_information; return true;
    case TERN_PROP_WILL_DELAY_INTERVAL: *u = p->will_delay_interval; return true;
    case TERN_PROP_REQUEST_RESPONSE_INFORMATION: *u = p->request_response_information; return true;
    case TERN_PROP_RESPONSE_INFORMATION: *s = p->response_information; return true;
    case TERN_PROP_SERVER_REFERENCE: *s = p->server_reference; return true;
    case TERN_PROP_REASON_STRING: *s = p->reason_string; return true;
    case TERN_PROP_RECEIVE_MAXIMUM: *u = p->receive_maximum; return true;
    case TERN_PROP_TOPIC_ALIAS_MAXIMUM: *u = p->topic_alias_maximum; return true;
    case TERN_PROP_TOPIC_ALIAS: *u = p->topic_alias; return true;
    case TERN_PROP_MAXIMUM_QOS: *u = p->maximum_qos; return true;
    case TERN_PROP_RETAIN_AVAILABLE: *u = p->retain_available; return true;
    case TERN_PROP_MAXIMUM_PACKET_SIZE: *u = p->maximum_packet_size; return true;
    case TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
        *u = p->wildcard_subscription_available;
        return true;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
        *u = p->subscription_identifier_available;
        return true;
    case TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE:
        *u = p->shared_subscription_available;
        return true;
    default: return false;
    }
}

static bool kind_is_string(enum tern_prop_kind k)
{
    return k == TERN_PK_UTF8 || k == TERN_PK_BINARY || k == TERN_PK_PAIR;
}

void fz_props_check_decoded(const struct tern_props *p, unsigned ctx, const uint8_t *buf, size_t n)
{
    FZ_CHECK(fz_slice_inside(p->raw, buf, n), "props raw outside the input");
    FZ_CHECK(p->extra.n == 0 && p->user == NULL && p->sub_ids == NULL,
             "decoded props have extra/user/sub_ids set");
    struct tern_prop_iter it;
    tern_props_iter_init(&it, p);
    struct tern_prop pr;
    uint64_t seen = 0;
    uint32_t users = 0, subs = 0;
    while (tern_props_iter_next(&it, &pr)) {
        FZ_CHECK(pr.id <= TERN_PROP_ID_MAX, "id 0x%x", pr.id);
        FZ_CHECK(tern_prop_allowed(pr.id, ctx), "id 0x%02x not allowed in ctx %u", pr.id, ctx);
        FZ_CHECK(pr.kind == tern_prop_kind(pr.id) && pr.kind != TERN_PK_NONE, "id 0x%02x kind %d",
                 pr.id, pr.kind);
        FZ_CHECK(tern_prop_name(pr.id) != NULL, "no name for 0x%02x", pr.id);
        FZ_CHECK(fz_slice_inside(pr.s, p->raw.p, p->raw.n) &&
                     fz_slice_inside(pr.v, p->raw.p, p->raw.n),
                 "property 0x%02x value outside raw", pr.id);
        if (pr.kind == TERN_PK_UTF8 || pr.kind == TERN_PK_PAIR)
            FZ_CHECK(tern_utf8_is_valid(pr.s.p, pr.s.n) && tern_utf8_is_valid(pr.v.p, pr.v.n),
                     "property 0x%02x: invalid UTF-8 accepted", pr.id);
        if (pr.kind == TERN_PK_BYTE)
            FZ_CHECK(pr.u <= 1, "byte property 0x%02x = %u", pr.id, pr.u);
        bool again = (seen >> pr.id) & 1u;
        seen |= 1ull << pr.id;
        if (pr.id == TERN_PROP_USER_PROPERTY) {
            users++;
            continue;
        }
        if (pr.id == TERN_PROP_SUBSCRIPTION_IDENTIFIER) {
            FZ_CHECK(pr.u >= 1 && pr.u <= TERN_VARINT_MAX, "subscription id %u", pr.u);
            FZ_CHECK(!again || ctx == TERN_PUBLISH, "repeated subscription id in ctx %u", ctx);
            if (subs++ == 0)
                FZ_CHECK(p->sub_id == pr.u, "sub_id %u, first in raw %u", p->sub_id, pr.u);
            continue;
        }
        FZ_CHECK(!again, "property 0x%02x accepted twice", pr.id);
        uint32_t u;
        tern_slice s;
        FZ_CHECK(fz_prop_field(p, pr.id, &u, &s), "no field for 0x%02x", pr.id);
        if (kind_is_string(pr.kind))
            FZ_CHECK(s.n == pr.s.n && s.p == pr.s.p, "field of 0x%02x is not its raw view", pr.id);
        else
            FZ_CHECK(u == pr.u, "field of 0x%02x = %u, raw %u", pr.id, u, pr.u);
    }
    FZ_CHECK(it.p == it.end, "iterator stopped before the end of raw");
    FZ_CHECK(seen == p->present, "present 0x%llx, raw has 0x%llx", (unsigned long long)p->present,
             (unsigned long long)seen);
    FZ_CHECK(users == p->user_n && subs == p->sub_id_n, "user_n %u (raw %u) sub_id_n %u (%u)",
             p->user_n, users, p->sub_id_n, subs);
    if (tern_props_has(p, TERN_PROP_AUTHENTICATION_DATA))
        FZ_CHECK(tern_props_has(p, TERN_PROP_AUTHENTICATION_METHOD),
                 "Authentication Data without Authentication Method accepted");
}

void fz_props_prepare(struct tern_props *dst, const struct tern_props *src, enum fz_enc_mode mode,
                      struct fz_arena *a)
{
    *dst = *src;
    if (mode == FZ_ENC_ASIS)
        return;
    if (mode == FZ_ENC_EXTRA) {
        memset(dst, 0, sizeof(*dst));
        dst->extra = src->raw;
        return;
    }
    struct tern_strpair *user = NULL;
    uint32_t *subs = NULL;
    if (src->user_n)
        user = fz_arena_alloc(a, src->user_n * sizeof(*user));
    if (src->sub_id_n > 1)
        subs = fz_arena_alloc(a, src->sub_id_n * sizeof(*subs));
    struct tern_prop_iter it;
    struct tern_prop pr;
    uint32_t nu = 0, ns = 0;
    tern_props_iter_init(&it, src);
    while (tern_props_iter_next(&it, &pr)) {
        if (pr.id == TERN_PROP_USER_PROPERTY && nu < src->user_n)
            user[nu++] = (struct tern_strpair){pr.s, pr.v};
        else if (pr.id == TERN_PROP_SUBSCRIPTION_IDENTIFIER && subs && ns < src->sub_id_n)
            subs[ns++] = pr.u;
    }
    dst->user = user;
    dst->sub_ids = subs;
    dst->raw = (tern_slice){NULL, 0};
}

/* Next property with this id, or 0 at the end. */
static int next_with_id(struct tern_prop_iter *it, unsigned id, struct tern_prop *out)
{
    while (tern_props_iter_next(it, out))
        if (out->id == id)
            return 1;
    return 0;
}

void fz_props_expect_same(const struct tern_props *a, const struct tern_props *b, const char *what)
{
    FZ_CHECK(a->present == b->present, "%s: present 0x%llx vs 0x%llx", what,
             (unsigned long long)a->present, (unsigned long long)b->present);
    FZ_CHECK(a->user_n == b->user_n && a->sub_id_n == b->sub_id_n,
             "%s: user_n %u/%u sub_id_n %u/%u", what, a->user_n, b->user_n, a->sub_id_n,
             b->sub_id_n);
    for (unsigned id = 1; id <= TERN_PROP_ID_MAX; id++) {
        uint32_t ua, ub;
        tern_slice sa, sb;
        if (!tern_props_has(a, id) || !fz_prop_field(a, id, &ua, &sa))
            continue;
        fz_prop_field(b, id, &ub, &sb);
        FZ_CHECK(ua == ub && fz_slice_eq(sa, sb), "%s: property 0x%02x differs", what, id);
    }
    unsigned ids[2] = {TERN_PROP_USER_PROPERTY, TERN_PROP_SUBSCRIPTION_IDENTIFIER};
    for (int k = 0; k < 2; k++) {
        struct tern_prop_iter ia, ib;
        struct tern_prop pa, pb;
        tern_props_iter_init(&ia, a);
        tern_props_iter_init(&ib, b);
        for (;;) {
            int ra = next_with_id(&ia, ids[k], &pa), rb = next_with_id(&ib, ids[k], &pb);
            FZ_CHECK(ra == rb, "%s: different number of 0x%02x", what, ids[k]);
            if (!ra)
                break;
            FZ_CHECK(pa.u == pb.u && fz_slice_eq(pa.s, pb.s) && fz_slice_eq(pa.v, pb.v),
                     "%s: 0x%02x differs or is out of order", what, ids[k]);
        }
    }
}
