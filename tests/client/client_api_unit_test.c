/* SPDX-License-Identifier: MIT */
/*
 * tests/client/client_api_unit_test.c - every libtern call validates its input and answers
 * bad input with an error code and a last-error message, never an assertion; result names;
 * the property set builder. No network.
 *
 * Owns: nothing. Thread: the test's only.
 */
#include "tn_test.h"

#include <errno.h>

#include "tern/client.h"

static tern_client *new_client(uint8_t ver)
{
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.version = ver;
    o.client_id = "api-test";
    tern_client *c = NULL;
    if (tern_client_new(&o, &c))
        return NULL;
    return c;
}

TN_TEST(opts_validation)
{
    tern_client *c = (tern_client *)1;
    struct tern_client_opts o;
    TN_EXPECT_EQ_INT(tern_client_new(NULL, &c), -EINVAL);
    TN_EXPECT(c == NULL);
    TN_EXPECT(tern_client_last_error()[0] != 0);
    tern_client_opts_init(&o);
    TN_EXPECT_EQ_INT(tern_client_new(&o, NULL), -EINVAL);
    o.version = 6;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    TN_EXPECT(strstr(tern_client_last_error(), "version") != NULL);
    tern_client_opts_init(&o);
    o.will_topic = "a/+/b"; /* wildcards are not allowed in a will topic [MQTT-3.1.3-11] */
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    tern_client_opts_init(&o);
    o.will_topic = "w";
    o.will_qos = 3;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    tern_client_opts_init(&o);
    o.client_id = "\xff\xfe";
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    tern_client_opts_init(&o);
    o.session_expiry = 10; /* 3.1.1 has no session expiry */
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    tern_client_opts_init(&o);
    o.version = TERN_V31;
    o.client_id = "this-id-is-longer-than-23-bytes";
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    tern_client_opts_init(&o);
    o.tls_cert_file = "/nonexistent";
    o.tls = true;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL); /* cert without key */
    tern_client_opts_init(&o);
    o.store_dir = "/tmp/x"; /* a store needs a fixed client id */
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    tern_client_opts_init(&o);
    o.max_queued = 0;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    tern_client_opts_init(&o);
    TN_EXPECT_EQ_INT((int)o.store_sync_ms, 10);
    o.store_sync_ms = 60001;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -EINVAL);
    TN_EXPECT(strstr(tern_client_last_error(), "store_sync_ms") != NULL);
    TN_EXPECT(c == NULL);
}

TN_TEST(publish_validation_311)
{
    tern_client *c = new_client(TERN_V311);
    TN_REQUIRE(c != NULL);
    TN_EXPECT_EQ_INT(tern_client_publish(NULL, "t", "x", 1, 0, false, NULL, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_publish(c, NULL, "x", 1, 0, false, NULL, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t", "x", 1, 3, false, NULL, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t", "x", 1, -1, false, NULL, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t", NULL, 5, 0, false, NULL, NULL), -EINVAL);
    /* wildcards in a topic name [MQTT-3.3.2-2] */
    TN_EXPECT_EQ_INT(tern_client_publish(c, "a/+", "x", 1, 0, false, NULL, NULL), -EINVAL);
    TN_EXPECT(strstr(tern_client_last_error(), "topic") != NULL);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "a/#", "x", 1, 0, false, NULL, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "", "x", 1, 0, false, NULL, NULL), -EINVAL);
    /* invalid UTF-8 [MQTT-1.5.3-1] */
    TN_EXPECT_EQ_INT(tern_client_publish(c, "a/\xc0\xaf", "x", 1, 0, false, NULL, NULL), -EINVAL);
    /* properties on a 3.1.1 client */
    struct tern_props p = {0};
    p.message_expiry_interval = 5;
    tern_props_set(&p, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t", "x", 1, 0, false, &p, NULL), -EINVAL);
    /* valid: queued while offline */
    uint64_t mid = 0;
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t", "x", 1, 1, false, NULL, &mid), 0);
    TN_EXPECT(mid > 0);
    size_t n = 0, bytes = 0;
    tern_client_queued(c, &n, &bytes);
    TN_EXPECT_EQ_INT(n, 1);
    TN_EXPECT(bytes > 0);
    tern_client_free(c);
}

TN_TEST(publish_validation_v5)
{
    tern_client *c = new_client(TERN_V5);
    TN_REQUIRE(c != NULL);
    struct tern_props p = {0};
    /* payload format indicator 1 with a payload that is not UTF-8 */
    p.payload_format_indicator = 1;
    tern_props_set(&p, TERN_PROP_PAYLOAD_FORMAT_INDICATOR);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "t", "\xff", 1, 0, false, &p, NULL), -EINVAL);
    /* a property not allowed in PUBLISH */
    struct tern_props q = {0};
    q.session_expiry_interval = 5;
    tern_props_set(&q, TERN_PROP_SESSION_EXPIRY_INTERVAL);
    TN_EXPECT(tern_client_publish(c, "t", "x", 1, 0, false, &q, NULL) < 0);
    /* empty topic is fine with a topic alias in 5.0 */
    struct tern_props a = {0};
    a.topic_alias = 1;
    tern_props_set(&a, TERN_PROP_TOPIC_ALIAS);
    TN_EXPECT_EQ_INT(tern_client_publish(c, "", "x", 1, 0, false, &a, NULL), 0);
    tern_client_free(c);
}

TN_TEST(subscribe_validation)
{
    tern_client *c = new_client(TERN_V311);
    TN_REQUIRE(c != NULL);
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, "a/#/b", 0, NULL), -EINVAL); /* [MQTT-4.7.1-2] */
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, "a+", 0, NULL), -EINVAL);    /* [MQTT-4.7.1-3] */
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, "a", 3, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, NULL, 0, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_subscribe(c, NULL, 1, NULL, NULL), -EINVAL);
    struct tern_sub_entry e = {.filter = TERN_SLICE_STR("a"), .no_local = true};
    TN_EXPECT_EQ_INT(tern_client_subscribe(c, &e, 1, NULL, NULL), -EINVAL); /* 5.0 option */
    TN_EXPECT_EQ_INT(tern_client_subscribe1(c, "a/+/b/#", 1, NULL), 0);
    const char *bad[] = {"ok", "x/#/y"};
    TN_EXPECT_EQ_INT(tern_client_unsubscribe(c, bad, 2, NULL, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_unsubscribe(c, NULL, 1, NULL, NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_client_unsubscribe(c, bad, 1, NULL, NULL), 0);
    TN_EXPECT_EQ_INT(tern_client_disconnect(c, 0, NULL), -ENOTCONN);
    tern_client_free(c);
    tern_client_free(NULL);
}

TN_TEST(v5_subscribe_options)
{
    tern_client *c = new_client(TERN_V5);
    TN_REQUIRE(c != NULL);
    struct tern_sub_entry e = {.filter = TERN_SLICE_STR("$share/g/a"), .no_local = true};
    TN_EXPECT_EQ_INT(tern_client_subscribe(c, &e, 1, NULL, NULL), -EINVAL); /* [MQTT-3.8.3-4] */
    e.no_local = false;
    e.retain_handling = 3;
    TN_EXPECT_EQ_INT(tern_client_subscribe(c, &e, 1, NULL, NULL), -EINVAL);
    e.retain_handling = 2;
    TN_EXPECT_EQ_INT(tern_client_subscribe(c, &e, 1, NULL, NULL), 0);
    TN_EXPECT_EQ_INT(tern_client_disconnect(c, 0x05, NULL), -EINVAL); /* not a DISCONNECT rc */
    tern_client_free(c);
}

TN_TEST(propset_validation)
{
    struct tern_propset *ps = NULL;
    TN_EXPECT_EQ_INT(tern_propset_new(99, &ps), -EINVAL);
    TN_REQUIRE(tern_propset_new(TERN_PUBLISH, &ps) == 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "no-such-property", "1", NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "session-expiry-interval", "1", NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "message-expiry-interval", "abc", NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "payload-format-indicator", "2", NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "topic-alias", "0", NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "user-property", "k", NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "response-topic", "a/#", NULL), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_str(ps, TERN_PROP_CONTENT_TYPE, "\xff", 1), -EINVAL);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "message-expiry-interval", "60", NULL), 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "Content Type", "a/b", NULL), 0);
    TN_EXPECT_EQ_INT(tern_propset_add_named(ps, "38", "k", "v"), 0); /* by id: user property */
    const struct tern_props *p = tern_propset_props(ps);
    TN_EXPECT(tern_props_has(p, TERN_PROP_MESSAGE_EXPIRY_INTERVAL));
    TN_EXPECT_EQ_U32(p->message_expiry_interval, 60);
    TN_EXPECT_SLICE_STR(p->content_type, "a/b");
    TN_EXPECT_EQ_U32(p->user_n, 1);
    uint8_t buf[128];
    TN_EXPECT(tern_props_encode(p, TERN_PUBLISH, buf, sizeof buf) > 0);
    tern_propset_free(ps);
    tern_propset_free(NULL);
}

TN_TEST(strerror_names_every_code)
{
    TN_EXPECT(!strcmp(tern_client_strerror(-TERN_EQUEUEFULL), "outgoing queue full"));
    TN_EXPECT(!strcmp(tern_client_strerror(-TERN_ECLOSED), "client closed"));
    TN_EXPECT(!strcmp(tern_client_strerror(-TERN_EMALFORMED), "malformed packet"));
    TN_EXPECT(!strcmp(tern_client_strerror(-EINVAL), "invalid argument"));
    for (int e = TERN_EQUEUEFULL; e <= TERN_EDNS; e++)
        TN_EXPECT(strcmp(tern_client_strerror(-e), "unknown error") != 0);
}

TN_TEST(fd_mode_calls_without_connection)
{
    tern_client *c = new_client(TERN_V311);
    TN_REQUIRE(c != NULL);
    TN_EXPECT_EQ_INT(tern_client_fd(c), -1);
    TN_EXPECT_EQ_INT(tern_client_want(c), 0);
    TN_EXPECT_EQ_INT(tern_client_next_timeout_ms(c), -1);
    TN_EXPECT_EQ_INT(tern_client_process(c, 0), 0);
    TN_EXPECT_EQ_INT(tern_client_state(c), TERN_CS_IDLE);
    TN_EXPECT_EQ_INT(tern_client_fd(NULL), -1);
    TN_EXPECT_EQ_INT(tern_client_process(NULL, 0), -EINVAL);
    tern_client_free(c);
}

/* A store's PUBLISH frames are encoded for the protocol level of the client that wrote them:
 * a client of another level refuses the store with a clear error (its frames would be
 * malformed on the wire) and leaves it intact for a client of the right level. */
TN_TEST(store_of_another_protocol_level_is_refused)
{
    char dir[] = "/tmp/tern-store-level-XXXXXX";
    TN_REQUIRE(mkdtemp(dir) != NULL);
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.version = TERN_V5;
    o.client_id = "level";
    o.store_dir = dir;
    tern_client *c = NULL;
    TN_REQUIRE(tern_client_new(&o, &c) == 0);
    TN_REQUIRE(tern_client_publish(c, "t", "x", 1, 1, false, NULL, NULL) == 0); /* queued */
    tern_client_free(c);
    c = NULL;
    o.version = TERN_V311;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), -TERN_ESTORE);
    TN_EXPECT(c == NULL);
    TN_EXPECT(strstr(tern_client_last_error(), "MQTT 5.0") != NULL);
    o.version = TERN_V5;
    TN_EXPECT_EQ_INT(tern_client_new(&o, &c), 0);
    tern_client_free(c);
    char cmd[64];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    TN_EXPECT(system(cmd) == 0);
}

TN_TEST_MAIN()
