/* SPDX-License-Identifier: MIT */
/*
 * fuzz/gen_corpus.c - writes the seed corpora under fuzz/corpus/<target>/: valid packets of
 * every type at every protocol level, encoded with tern's own encoder (and checked to decode
 * back), property lists for every context, topics, UTF-8 and varint seeds, plus a few
 * malformed inputs written by hand.
 *
 *   fuzz_gen_corpus DIR      (DIR is fuzz/corpus; `cmake --build B --target fuzz_corpus`)
 *
 * Run once by hand when the seeds should change; the output is committed. File names are
 * fixed, so a rerun overwrites rather than adds.
 * Owns: its buffers. Thread: single-threaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tern/codec.h"

static const char *out_dir;
static int nfiles;

static void die(const char *what)
{
    fprintf(stderr, "gen_corpus: %s\n", what);
    exit(1);
}

static void write_seed(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", out_dir, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST)
        die(path);
    snprintf(path, sizeof(path), "%s/%s/%s", out_dir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0)
        die(path);
    nfiles++;
}

/* A seed from a prefix byte (or -1 for none) and bytes. */
static void seed2(const char *target, const char *name, int pre, const void *p, size_t n)
{
    uint8_t buf[8192];
    size_t k = 0;
    if (pre >= 0)
        buf[k++] = (uint8_t)pre;
    if (k + n > sizeof(buf))
        die("seed too large");
    memcpy(buf + k, p, n);
    write_seed(target, name, buf, k + n);
}

#define S(lit) TERN_SLICE_STR(lit)

/* ---- packets ---------------------------------------------------------------------------- */

static const struct tern_strpair user2[2] = {{S("k1"), S("v1")}, {S("k2"), S("\xc3\xa9t\xc3\xa9")}};
static const uint32_t subids[2] = {7, 300};

/* Encode and check that it decodes; returns the frame size. */
static size_t enc(const struct tern_packet *pkt, uint8_t ver, uint8_t *out, size_t cap)
{
    int n = tern_packet_encode(pkt, ver, out, cap);
    if (n < 0) {
        fprintf(stderr, "gen_corpus: cannot encode %s v%u: %s\n", tern_ptype_name(pkt->type), ver,
                tern_strerror(n));
        exit(1);
    }
    struct tern_packet back;
    uint8_t rc;
    int r = tern_packet_decode(out, (size_t)n, ver, &back, &rc);
    if (r != 0) {
        fprintf(stderr, "gen_corpus: own %s v%u does not decode: %s rc 0x%02x\n",
                tern_ptype_name(pkt->type), ver, tern_strerror(r), rc);
        exit(1);
    }
    return (size_t)n;
}

/* The packets of one level, in an order a session might see them. Returns how many. */
static int build_packets(uint8_t ver, struct tern_packet *pk, const char **names,
                         struct tern_sub_entry *subs)
{
    int n = 0;
    bool v5 = ver == TERN_V5;
    struct tern_packet *p;

    p = &pk[n];
    names[n++] = "connect-full";
    memset(p, 0, sizeof(*p));
    p->type = TERN_CONNECT;
    struct tern_connect *c = &p->u.connect;
    c->version = ver;
    c->clean = true;
    c->will = true;
    c->will_qos = 1;
    c->will_retain = true;
    c->has_username = c->has_password = true;
    c->keep_alive = 60;
    c->client_id = S("client-1");
    c->will_topic = S("status/client-1");
    c->will_payload = S("gone");
    c->username = S("user");
    c->password = S("\x00\x01pw");
    if (v5) {
        tern_props_set(&c->props, TERN_PROP_SESSION_EXPIRY_INTERVAL);
        c->props.session_expiry_interval = 3600;
        tern_props_set(&c->props, TERN_PROP_RECEIVE_MAXIMUM);
        c->props.receive_maximum = 20;
        tern_props_set(&c->props, TERN_PROP_MAXIMUM_PACKET_SIZE);
        c->props.maximum_packet_size = 65536;
        tern_props_set(&c->props, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
        c->props.topic_alias_maximum = 10;
        tern_props_set(&c->props, TERN_PROP_REQUEST_PROBLEM_INFORMATION);
        c->props.request_problem_information = 1;
        tern_props_set(&c->props, TERN_PROP_AUTHENTICATION_METHOD);
        c->props.authentication_method = S("SCRAM-SHA-1");
        tern_props_set(&c->props, TERN_PROP_AUTHENTICATION_DATA);
        c->props.authentication_data = S("\x01\x02");
        c->props.user = user2;
        c->props.user_n = 1;
        tern_props_set(&c->will_props, TERN_PROP_WILL_DELAY_INTERVAL);
        c->will_props.will_delay_interval = 5;
        tern_props_set(&c->will_props, TERN_PROP_PAYLOAD_FORMAT_INDICATOR);
        c->will_props.payload_format_indicator = 1;
        tern_props_set(&c->will_props, TERN_PROP_CONTENT_TYPE);
        c->will_props.content_type = S("text/plain");
        tern_props_set(&c->will_props, TERN_PROP_RESPONSE_TOPIC);
        c->will_props.response_topic = S("reply/x");
        tern_props_set(&c->will_props, TERN_PROP_CORRELATION_DATA);
        c->will_props.correlation_data = S("\xff\x00");
        c->will_props.user = user2 + 1;
        c->will_props.user_n = 1;
    }

    p = &pk[n];
    names[n++] = "connect-min";
    memset(p, 0, sizeof(*p));
    p->type = TERN_CONNECT;
    p->u.connect.version = ver;
    p->u.connect.clean = true;

    p = &pk[n];
    names[n++] = "connack";
    memset(p, 0, sizeof(*p));
    p->type = TERN_CONNACK;
    p->u.connack.session_present = true;
    if (v5) {
        struct tern_props *q = &p->u.connack.props;
        tern_props_set(q, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER);
        q->assigned_client_identifier = S("auto-1");
        tern_props_set(q, TERN_PROP_SERVER_KEEP_ALIVE);
        q->server_keep_alive = 30;
        tern_props_set(q, TERN_PROP_MAXIMUM_QOS);
        q->maximum_qos = 1;
        tern_props_set(q, TERN_PROP_RETAIN_AVAILABLE);
        q->retain_available = 0;
        tern_props_set(q, TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE);
        q->wildcard_subscription_available = 1;
        tern_props_set(q, TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE);
        q->shared_subscription_available = 1;
        tern_props_set(q, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
        q->topic_alias_maximum = 5;
        tern_props_set(q, TERN_PROP_RESPONSE_INFORMATION);
        q->response_information = S("resp/");
    }

    p = &pk[n];
    names[n++] = "connack-refused";
    memset(p, 0, sizeof(*p));
    p->type = TERN_CONNACK;
    p->u.connack.rc = v5 ? TERN_RC_NOT_AUTHORIZED : TERN_CONNACK_NOT_AUTHORIZED;
    if (v5) {
        tern_props_set(&p->u.connack.props, TERN_PROP_REASON_STRING);
        p->u.connack.props.reason_string = S("no");
    }

    for (uint8_t qos = 0; qos <= 2; qos++) {
        p = &pk[n];
        names[n++] = qos == 0 ? "publish-qos0" : qos == 1 ? "publish-qos1" : "publish-qos2";
        memset(p, 0, sizeof(*p));
        p->type = TERN_PUBLISH;
        struct tern_publish *pb = &p->u.publish;
        pb->qos = qos;
        pb->dup = qos == 2;
        pb->retain = qos == 1;
        pb->packet_id = qos ? (uint16_t)(qos * 1000) : 0;
        pb->topic = qos == 1 ? S("sport/tennis/player1") : S("a/b");
        pb->payload = qos == 2 ? S("") : S("hello");
        if (v5 && qos == 1) {
            struct tern_props *q = &pb->props;
            tern_props_set(q, TERN_PROP_PAYLOAD_FORMAT_INDICATOR);
            q->payload_format_indicator = 1;
            tern_props_set(q, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
            q->message_expiry_interval = 120;
            tern_props_set(q, TERN_PROP_TOPIC_ALIAS);
            q->topic_alias = 3;
            tern_props_set(q, TERN_PROP_CORRELATION_DATA);
            q->correlation_data = S("id");
            q->sub_ids = subids;
            q->sub_id_n = 2;
            q->user = user2;
            q->user_n = 2;
        }
    }
    if (v5) {
        p = &pk[n];
        names[n++] = "publish-alias";
        memset(p, 0, sizeof(*p));
        p->type = TERN_PUBLISH;
        tern_props_set(&p->u.publish.props, TERN_PROP_TOPIC_ALIAS);
        p->u.publish.props.topic_alias = 3;
        p->u.publish.payload = S("x");
    }

    static const uint8_t ack_types[4] = {TERN_PUBACK, TERN_PUBREC, TERN_PUBREL, TERN_PUBCOMP};
    static const char *ack_names[4] = {"puback", "pubrec", "pubrel", "pubcomp"};
    for (int i = 0; i < 4; i++) {
        p = &pk[n];
        names[n++] = ack_names[i];
        memset(p, 0, sizeof(*p));
        p->type = ack_types[i];
        p->u.ack.packet_id = (uint16_t)(1000 + i);
        if (v5 && i == 0) {
            p->u.ack.rc = TERN_RC_NO_MATCHING_SUBSCRIBERS;
            tern_props_set(&p->u.ack.props, TERN_PROP_REASON_STRING);
            p->u.ack.props.reason_string = S("nobody");
        } else if (v5 && i == 2) {
            p->u.ack.rc = TERN_RC_PACKET_IDENTIFIER_NOT_FOUND;
        }
    }

    subs[0] = (struct tern_sub_entry){S("sport/+/player1"), 1, v5, false, 0};
    subs[1] = (struct tern_sub_entry){S("#"), 2, false, v5, v5 ? 2 : 0};
    subs[2] = (struct tern_sub_entry){S("$share/g1/a/#"), 0, false, false, v5 ? 1 : 0};
    p = &pk[n];
    names[n++] = "subscribe";
    memset(p, 0, sizeof(*p));
    p->type = TERN_SUBSCRIBE;
    p->u.subscribe.packet_id = 10;
    p->u.subscribe.list = subs;
    p->u.subscribe.count = 3;
    if (v5) {
        p->u.subscribe.props.sub_id = 42;
        p->u.subscribe.props.sub_id_n = 1;
        p->u.subscribe.props.user = user2;
        p->u.subscribe.props.user_n = 1;
    }

    p = &pk[n];
    names[n++] = "suback";
    memset(p, 0, sizeof(*p));
    p->type = TERN_SUBACK;
    p->u.suback.packet_id = 10;
    p->u.suback.rcs = S("\x01\x02\x80");

    p = &pk[n];
    names[n++] = "unsubscribe";
    memset(p, 0, sizeof(*p));
    p->type = TERN_UNSUBSCRIBE;
    p->u.subscribe.packet_id = 11;
    p->u.subscribe.list = subs;
    p->u.subscribe.count = 2;

    p = &pk[n];
    names[n++] = "unsuback";
    memset(p, 0, sizeof(*p));
    p->type = TERN_UNSUBACK;
    p->u.suback.packet_id = 11;
    p->u.suback.rcs = S("\x00\x11");

    p = &pk[n];
    names[n++] = "pingreq";
    memset(p, 0, sizeof(*p));
    p->type = TERN_PINGREQ;

    p = &pk[n];
    names[n++] = "pingresp";
    memset(p, 0, sizeof(*p));
    p->type = TERN_PINGRESP;

    p = &pk[n];
    names[n++] = "disconnect";
    memset(p, 0, sizeof(*p));
    p->type = TERN_DISCONNECT;
    if (v5) {
        p->u.disconnect.rc = TERN_RC_SERVER_MOVED;
        struct tern_props *q = &p->u.disconnect.props;
        tern_props_set(q, TERN_PROP_SERVER_REFERENCE);
        q->server_reference = S("other:1883");
        tern_props_set(q, TERN_PROP_SESSION_EXPIRY_INTERVAL);
        q->session_expiry_interval = 0;
        tern_props_set(q, TERN_PROP_REASON_STRING);
        q->reason_string = S("bye");

        p = &pk[n];
        names[n++] = "auth";
        memset(p, 0, sizeof(*p));
        p->type = TERN_AUTH;
        p->u.disconnect.rc = TERN_RC_CONTINUE_AUTHENTICATION;
        q = &p->u.disconnect.props;
        tern_props_set(q, TERN_PROP_AUTHENTICATION_METHOD);
        q->authentication_method = S("SCRAM-SHA-1");
        tern_props_set(q, TERN_PROP_AUTHENTICATION_DATA);
        q->authentication_data = S("challenge");
    }
    return n;
}

/* Byte 0 of a packet seed: the level (bits 0-1), no size limit. */
static int level_byte(uint8_t ver)
{
    return ver - TERN_V31;
}

static void gen_packets(void)
{
    static const uint8_t vers[3] = {TERN_V31, TERN_V311, TERN_V5};
    static const char *vnames[3] = {"v31", "v311", "v5"};
    uint8_t streams[3][4096];
    size_t stream_n[3] = {0};
    for (int vi = 0; vi < 3; vi++) {
        struct tern_packet pk[32];
        const char *names[32];
        struct tern_sub_entry subs[3];
        int np = build_packets(vers[vi], pk, names, subs);
        for (int i = 0; i < np; i++) {
            uint8_t buf[1024];
            size_t n = enc(&pk[i], vers[vi], buf, sizeof(buf));
            char name[64];
            snprintf(name, sizeof(name), "%s-%s", vnames[vi], names[i]);
            seed2("packet", name, level_byte(vers[vi]), buf, n);
            /* A session-like stream: the minimal CONNECT, subscribe, publishes, pings. */
            if (strcmp(names[i], "connect-min") == 0 || strcmp(names[i], "subscribe") == 0 ||
                strncmp(names[i], "publish", 7) == 0 || strcmp(names[i], "pingreq") == 0 ||
                strcmp(names[i], "disconnect") == 0) {
                memcpy(streams[vi] + stream_n[vi], buf, n);
                stream_n[vi] += n;
            }
        }
        char name[64];
        snprintf(name, sizeof(name), "%s-stream", vnames[vi]);
        /* Bit 2: a CONNECT in the stream sets the level for what follows. */
        seed2("packet", name, level_byte(vers[vi]) | 4, streams[vi], stream_n[vi]);
    }

    /* Malformed or refused, by hand. */
    static const struct {
        const char *name;
        int ver;
        const char *bytes;
        size_t n;
    } bad[] = {
#define B(name, ver, lit) {name, ver, lit, sizeof(lit) - 1}
        B("bad-publish-qos3", 4,
          "\x36\x07\x00\x03"
          "a/b"
          "\x00\x01"),
        B("bad-remaining-5-bytes", 4, "\x30\xff\xff\xff\xff\x7f"),
        B("bad-connect-reserved-flag", 4, "\x10\x0c\x00\x04MQTT\x04\x03\x00\x3c\x00\x00"),
        B("bad-connect-version", 5, "\x10\x0c\x00\x04MQTT\x07\x02\x00\x3c\x00\x00"),
        B("bad-connect-mqisdp-v4", 4, "\x10\x0e\x00\x06MQIsdp\x04\x02\x00\x3c\x00\x00"),
        B("bad-auth-in-311", 4, "\xf0\x00"),
        B("bad-subscribe-empty", 4, "\x82\x02\x00\x01"),
        B("bad-subscribe-flags", 4,
          "\x80\x06\x00\x01\x00\x01"
          "a\x00"),
        B("bad-props-duplicate", 5, "\x40\x0b\x00\x01\x10\x07\x1f\x00\x01x\x1f\x00\x00"),
        B("bad-trailing-byte", 4, "\xc0\x01\x00"),
        B("bad-topic-utf8", 4, "\x30\x05\x00\x02\xc0\xafx"),
        B("bad-topic-wildcard", 5,
          "\x30\x06\x00\x03"
          "a/+"
          "\x00"),
        B("bad-packet-id-zero", 4, "\x40\x02\x00\x00"),
        B("bad-type-zero", 5, "\x00\x00"),
#undef B
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        seed2("packet", bad[i].name, bad[i].ver - TERN_V31, bad[i].bytes, bad[i].n);

    /* Framer: the streams with different limits/seeds, plus broken lengths. */
    for (int vi = 0; vi < 3; vi++) {
        uint8_t buf[4200];
        buf[0] = (uint8_t)(vi == 0 ? 0x00 : vi == 1 ? 0x05 : 0x0b); /* none, 128, 33 */
        buf[1] = (uint8_t)(0x31 * (vi + 1));
        memcpy(buf + 2, streams[vi], stream_n[vi]);
        char name[64];
        snprintf(name, sizeof(name), "%s-stream", vnames[vi]);
        write_seed("framer", name, buf, stream_n[vi] + 2);
    }
    seed2("framer", "zero-length-frames", -1, "\x00\x07\xc0\x00\xd0\x00\xe0\x00", 8);
    seed2("framer", "bad-varint", -1, "\x00\x01\xc0\x00\x30\x80\x80\x80\x80\x01", 10);
    seed2("framer", "nonminimal-varint", -1, "\x00\x02\x30\x80\x00", 5);
    seed2("framer", "partial-body", -1, "\x04\x03\x30\xc8\x01\x00\x01", 7);
    seed2("framer", "max-varint", -1, "\x00\x04\x30\xff\xff\xff\x7f\x00", 8);
}

/* ---- properties -------------------------------------------------------------------------- */

/* Give property id a valid value in p. */
static void set_prop(struct tern_props *p, unsigned id)
{
    tern_props_set(p, id);
    switch (tern_prop_kind(id)) {
    case TERN_PK_BYTE: /* every byte property accepts 1 */
        switch (id) {
        case TERN_PROP_PAYLOAD_FORMAT_INDICATOR: p->payload_format_indicator = 1; break;
        case TERN_PROP_REQUEST_PROBLEM_INFORMATION: p->request_problem_information = 1; break;
        case TERN_PROP_REQUEST_RESPONSE_INFORMATION: p->request_response_information = 1; break;
        case TERN_PROP_MAXIMUM_QOS: p->maximum_qos = 1; break;
        case TERN_PROP_RETAIN_AVAILABLE: p->retain_available = 1; break;
        case TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE:
            p->wildcard_subscription_available = 1;
            break;
        case TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE:
            p->subscription_identifier_available = 1;
            break;
        case TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE: p->shared_subscription_available = 1; break;
        default: break;
        }
        break;
    case TERN_PK_U16:
        switch (id) {
        case TERN_PROP_SERVER_KEEP_ALIVE: p->server_keep_alive = 100; break;
        case TERN_PROP_RECEIVE_MAXIMUM: p->receive_maximum = 65535; break;
        case TERN_PROP_TOPIC_ALIAS_MAXIMUM: p->topic_alias_maximum = 0; break;
        case TERN_PROP_TOPIC_ALIAS: p->topic_alias = 1; break;
        default: break;
        }
        break;
    case TERN_PK_U32:
        switch (id) {
        case TERN_PROP_MESSAGE_EXPIRY_INTERVAL: p->message_expiry_interval = 0xffffffffu; break;
        case TERN_PROP_SESSION_EXPIRY_INTERVAL: p->session_expiry_interval = 1; break;
        case TERN_PROP_WILL_DELAY_INTERVAL: p->will_delay_interval = 256; break;
        case TERN_PROP_MAXIMUM_PACKET_SIZE: p->maximum_packet_size = 1u << 20; break;
        default: break;
        }
        break;
    case TERN_PK_VARINT:
        p->sub_id = TERN_VARINT_MAX;
        p->sub_id_n = 1;
        break;
    case TERN_PK_UTF8:
    case TERN_PK_BINARY:
        switch (id) {
        case TERN_PROP_CONTENT_TYPE: p->content_type = S("application/json"); break;
        case TERN_PROP_RESPONSE_TOPIC: p->response_topic = S("r/1"); break;
        case TERN_PROP_CORRELATION_DATA: p->correlation_data = S("\x00\xff"); break;
        case TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER: p->assigned_client_identifier = S("c"); break;
        case TERN_PROP_AUTHENTICATION_METHOD: p->authentication_method = S("PLAIN"); break;
        case TERN_PROP_AUTHENTICATION_DATA: p->authentication_data = S("\x00u\x00p"); break;
        case TERN_PROP_RESPONSE_INFORMATION: p->response_information = S("ri"); break;
        case TERN_PROP_SERVER_REFERENCE: p->server_reference = S("srv"); break;
        case TERN_PROP_REASON_STRING: p->reason_string = S("\xe2\x82\xac"); break;
        default: break;
        }
        break;
    case TERN_PK_PAIR:
        p->user = user2;
        p->user_n = 2;
        break;
    default: break;
    }
}

static void gen_props(void)
{
    for (unsigned ctx = 0; ctx < 16; ctx++) {
        struct tern_props p;
        memset(&p, 0, sizeof(p));
        int count = 0;
        for (unsigned id = 1; id <= TERN_PROP_ID_MAX; id++)
            if (tern_prop_allowed(id, ctx)) {
                set_prop(&p, id);
                count++;
            }
        if (!count)
            continue;
        uint8_t buf[1024];
        int n = tern_props_encode(&p, ctx, buf, sizeof(buf));
        if (n < 0)
            die("props encode");
        struct tern_props back;
        uint8_t rc;
        if (tern_props_decode(buf, (size_t)n, ctx, &back, &rc) != n)
            die("own props do not decode");
        char name[64];
        snprintf(name, sizeof(name), "ctx%02u-all", ctx);
        seed2("props", name, (int)ctx, buf, (size_t)n);
    }
    seed2("props", "ctx03-empty", 3, "\x00", 1);
    seed2("props", "bad-duplicate", 3, "\x06\x23\x00\x01\x23\x00\x02", 7);
    seed2("props", "bad-subid-zero", 3, "\x02\x0b\x00", 3);
    seed2("props", "bad-unknown-id", 1, "\x02\x00\x00", 3);
    seed2("props", "bad-length", 1, "\x05\x11\x00\x00", 4);
    seed2("props", "bad-authdata-alone", 1, "\x04\x16\x00\x01x", 5);
    seed2("props", "multi-subid-publish", 3, "\x06\x0b\x01\x0b\xff\xff\x7f", 7);
}

/* ---- strings ----------------------------------------------------------------------------- */

static void gen_strings(void)
{
    static const struct {
        const char *name, *s;
        size_t n;
    } topics[] = {
#define T(name, lit) {name, lit, sizeof(lit) - 1}
        T("multi-level", "sport/tennis/#\xffsport/tennis/player1"),
        T("parent-level", "sport/tennis/#\xffsport/tennis"),
        T("single-level", "sport/+/player1\xffsport/tennis/player1"),
        T("plus-empty-levels", "+/+\xff/finance"),
        T("hash-dollar", "#\xff$SYS/broker/load"),
        T("plus-dollar", "+/monitor\xff$SYS/monitor"),
        T("dollar-literal", "$SYS/#\xff$SYS/x"),
        T("shared", "$share/group/a/+\xff"
                    "a/b"),
        T("shared-bad", "$share//a\xff"
                        "a"),
        T("shared-nofilter", "$share/g\xff"
                             "g"),
        T("bad-hash-middle", "a/#/b\xff"
                             "a/x/b"),
        T("bad-plus-partial", "a+/b\xff"
                              "a+/b"),
        T("utf8-levels", "\xc3\xbc/\xe2\x82\xac/+\xff\xc3\xbc/\xe2\x82\xac/x"),
        T("nul", "a\x00"
                 "b\xff"
                 "a\x00"
                 "b"),
        T("empty-name", "#\xff"),
        T("slashes", "//\xff//"),
#undef T
    };
    for (size_t i = 0; i < sizeof(topics) / sizeof(topics[0]); i++)
        seed2("topic", topics[i].name, -1, topics[i].s, topics[i].n);

    static const struct {
        const char *name, *s;
        size_t n;
    } utf[] = {
#define U(name, lit) {name, lit, sizeof(lit) - 1}
        U("ascii", "hello/world, 8+ bytes long"),
        U("two-three-four", "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"),
        U("max-code-point", "\xf4\x8f\xbf\xbf"),
        U("above-max", "\xf4\x90\x80\x80"),
        U("surrogate", "abcdefgh\xed\xa0\x80"),
        U("overlong-slash", "\xc0\xaf"),
        U("overlong-3", "\xe0\x80\xaf"),
        U("nul", "abc\x00"
                 "def"),
        U("truncated", "abcdefg\xe2\x82"),
        U("lone-continuation", "\x80"),
        U("bom-and-nonchar", "\xef\xbb\xbf\xef\xbf\xbf"),
#undef U
    };
    for (size_t i = 0; i < sizeof(utf) / sizeof(utf[0]); i++)
        seed2("utf8", utf[i].name, -1, utf[i].s, utf[i].n);

    static const struct {
        const char *name, *s;
        size_t n;
    } vi[] = {
#define V(name, lit) {name, lit, sizeof(lit) - 1}
        V("zero", "\x00"),
        V("127", "\x7f"),
        V("128", "\x80\x01"),
        V("16383", "\xff\x7f"),
        V("16384", "\x80\x80\x01"),
        V("max", "\xff\xff\xff\x7f"),
        V("five-bytes", "\xff\xff\xff\xff\x01"),
        V("nonminimal", "\x80\x00"),
        V("truncated", "\x80\x80"),
        V("values", "\x0f\xff\xff\xff\x10\x00\x00\x00\x00\x00\x00\x80\xff\xff\xff\xff"),
#undef V
    };
    for (size_t i = 0; i < sizeof(vi) / sizeof(vi[0]); i++)
        seed2("varint", vi[i].name, -1, vi[i].s, vi[i].n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s fuzz/corpus\n", argv[0]);
        return 2;
    }
    out_dir = argv[1];
    if (mkdir(out_dir, 0755) != 0 && errno != EEXIST)
        die(out_dir);
    gen_packets();
    gen_props();
    gen_strings();
    printf("gen_corpus: wrote %d seeds under %s\n", nfiles, out_dir);
    return 0;
}
