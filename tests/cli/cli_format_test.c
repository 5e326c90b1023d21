/* SPDX-License-Identifier: MIT */
/*
 * tests/cli/cli_format_test.c - unit tests of what tern pub/sub/rr do without a network: the
 * -F formatter and its JSON (cli_format.c, cli_json.c), the --trace printer (cli_trace.c) and
 * the option parser (cli_opts.c). Output goes to memory streams and is compared exactly; time
 * stamps use a fixed instant in UTC.
 *
 * Owns: nothing beyond each test. Thread: single.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_format.h"
#include "cli_opts.h"
#include "cli_trace.h"
#include "tn_test.h"

/* 1970-01-02T03:04:05.000123456 UTC */
static const struct timespec T0 = {97445, 123456};

struct mem {
    char *buf;
    size_t len;
    FILE *f;
};

static void mem_open(struct mem *m)
{
    m->buf = NULL;
    m->len = 0;
    m->f = open_memstream(&m->buf, &m->len);
}

static const char *mem_str(struct mem *m)
{
    fflush(m->f);
    return m->buf;
}

static void mem_close(struct mem *m)
{
    fclose(m->f);
    free(m->buf);
}

/* Format one message and compare with `want` (which may contain NULs: wn bytes). */
static void check_fmt_n(const char *fmt, const struct tn_cli_msg *msg, bool pretty,
                        const char *want, size_t wn)
{
    struct mem m;
    struct tn_cli_out o = {fmt, false, true, pretty};

    mem_open(&m);
    tn_cli_print_msg(m.f, &o, msg, &T0);
    fflush(m.f);
    TN_EXPECT_MEM(m.buf, m.len, want, wn);
    if (m.len != wn || memcmp(m.buf, want, wn))
        fprintf(stderr, "got:\n%.*s\nwant:\n%.*s\n", (int)m.len, m.buf, (int)wn, want);
    mem_close(&m);
}

static void check_fmt(const char *fmt, const struct tn_cli_msg *msg, const char *want)
{
    check_fmt_n(fmt, msg, false, want, strlen(want));
}

static struct tn_cli_msg plain_msg(const char *topic, const char *payload)
{
    struct tn_cli_msg m;

    memset(&m, 0, sizeof(m));
    m.topic = tern_slice_cstr(topic);
    m.payload = tern_slice_cstr(payload);
    m.qos = 1;
    m.mid = 7;
    m.client_id = "me";
    return m;
}

static void utc(void)
{
    setenv("TZ", "UTC", 1);
    tzset();
}

TN_TEST(format_basic_specifiers)
{
    struct tn_cli_msg m = plain_msg("a/b", "hello");

    utc();
    check_fmt("%t|%p|%q|%r|%l|%m|%x|%X|%%|%i", &m,
              "a/b|hello|1|0|5|7|68656c6c6f|68656C6C6F|%|me\n");
    m.retain = true;
    check_fmt("%r", &m, "1\n");
}

TN_TEST(format_width_precision_flags)
{
    struct tn_cli_msg m = plain_msg("topic", "hello");

    check_fmt("[%8t][%-8t][%.2t][%6.3t][%-6.3t]", &m, "[   topic][topic   ][to][   top][top   ]\n");
    check_fmt("[%5l][%-5l][%05l][%4m][%04m]", &m, "[    5][5    ][00005][   7][0007]\n");
    /* mosquitto_sub's quirk: a width on %p also caps the bytes printed */
    check_fmt("[%3p][%8p][%-8p][%08p]", &m, "[hel][   hello][hello   ][000hello]\n");
    /* ... and for %x counts bytes against the width, then halves them */
    check_fmt("[%12x][%4x]", &m, "[        6865][6865]\n");
    /* absent v5 properties print as blanks of the field width */
    check_fmt("[%5A][%05E][%3C][%R][%P][%D]", &m, "[     ][00000][   ][][][]\n");
}

TN_TEST(format_time_and_escapes)
{
    struct tn_cli_msg m = plain_msg("t", "p");

    utc();
    check_fmt("%I|%U|@N|@H:@M:@S|@@|@Y", &m,
              "1970-01-02T03:04:05+0000|97445.000123456|000123456|03:04:05|@|1970\n");
    check_fmt_n("\\t\\n\\\\\\e\\0\\a\\v\\r", &m, false, "\t\n\\\033\0\a\v\r\n", 9);
}

TN_TEST(format_verbose_plain_and_eol)
{
    struct tn_cli_msg m = plain_msg("t", "p");
    struct tn_cli_out o = {NULL, true, true, false};
    struct mem mm;

    mem_open(&mm);
    tn_cli_print_msg(mm.f, &o, &m, &T0);
    m.payload.n = 0;
    tn_cli_print_msg(mm.f, &o, &m, &T0);
    o.verbose = false;
    tn_cli_print_msg(mm.f, &o, &m, &T0); /* empty payload, plain: nothing at all */
    m.payload = tern_slice_cstr("x");
    o.eol = false;
    tn_cli_print_msg(mm.f, &o, &m, &T0);
    TN_EXPECT_EQ_INT(strcmp(mem_str(&mm), "t p\nt (null)\nx"), 0);
    mem_close(&mm);
}

/* Decoded properties as a received PUBLISH carries them. */
static void make_props(struct tern_props *out, uint8_t *buf, size_t cap)
{
    struct tern_props p;
    struct tern_strpair up[2] = {{TERN_SLICE_STR("k1"), TERN_SLICE_STR("v1")},
                                 {TERN_SLICE_STR("k\"2"), TERN_SLICE_STR("v2")}};
    uint8_t rc = 0;
    int n;

    memset(&p, 0, sizeof(p));
    tern_props_set(&p, TERN_PROP_CONTENT_TYPE);
    p.content_type = TERN_SLICE_STR("text/plain");
    tern_props_set(&p, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
    p.message_expiry_interval = 60;
    tern_props_set(&p, TERN_PROP_CORRELATION_DATA);
    p.correlation_data = TERN_SLICE_STR("cd");
    tern_props_set(&p, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
    p.sub_id = 3;
    p.sub_id_n = 1;
    p.user = up;
    p.user_n = 2;
    n = tern_props_encode(&p, TERN_PUBLISH, buf, cap);
    TN_REQUIRE(n > 0);
    memset(out, 0, sizeof(*out));
    TN_REQUIRE(tern_props_decode(buf, (size_t)n, TERN_PUBLISH, out, &rc) == n);
}

TN_TEST(format_v5_properties)
{
    uint8_t buf[256];
    struct tern_props props;
    struct tn_cli_msg m = plain_msg("t", "p");

    make_props(&props, buf, sizeof(buf));
    m.props = &props;
    check_fmt("%P|%C|%D|%E|%S|[%5S]|[%-4E]|%F", &m,
              "k1:v1 k\"2:v2|text/plain|cd|60|3|[    3]|[60  ]|\n");
}

/* cJSON_Print's layout; properties in wire order (the encoder writes them by ascending id,
 * User Properties last). */
static const char want_J[] =
    "{\n\t\"tst\":\t\"1970-01-02T03:04:05.000123Z+0000\",\n\t\"topic\":\t\"t\",\n"
    "\t\"qos\":\t0,\n\t\"retain\":\t0,\n\t\"payloadlen\":\t25,\n"
    "\t\"properties\":\t{\n"
    "\t\t\"message-expiry-interval\":\t60,\n"
    "\t\t\"content-type\":\t\"text/plain\",\n"
    "\t\t\"correlation-data\":\t\"cd\",\n"
    "\t\t\"subscription-identifier\":\t3,\n"
    "\t\t\"user-properties\":\t{\n\t\t\t\"k1\":\t\"v1\",\n\t\t\t\"k\\\"2\":\t\"v2\"\n"
    "\t\t}\n\t},\n"
    "\t\"payload\":\t{\n\t\t\"x\":\t[1, 2.5, true]\n\t}\n}\n";

TN_TEST(format_json_j_and_J)
{
    uint8_t buf[256];
    struct tern_props props;
    struct tn_cli_msg m = plain_msg("a\"b", "q\"\x01\xc3\xa9");

    utc();
    check_fmt("%j", &m,
              "{\"tst\":\"1970-01-02T03:04:05.000123Z+0000\",\"topic\":\"a\\\"b\",\"qos\":1,"
              "\"retain\":0,\"payloadlen\":5,\"mid\":7,\"payload\":\"q\\\"\\u0001\xc3\xa9\"}\n");
    m.qos = 0;
    m.payload.n = 0;
    check_fmt("%j", &m,
              "{\"tst\":\"1970-01-02T03:04:05.000123Z+0000\",\"topic\":\"a\\\"b\",\"qos\":0,"
              "\"retain\":0,\"payloadlen\":0,\"payload\":null}\n");
    m.payload = tern_slice_cstr(" {\"x\" : [1, 2.50,true] } ");
    make_props(&props, buf, sizeof(buf));
    m.props = &props;
    m.topic = tern_slice_cstr("t");
    check_fmt_n("%J", &m, true, want_J, strlen(want_J));
}

static void check_json(const char *in, bool pretty, const char *want)
{
    struct mem m;
    int r;

    mem_open(&m);
    r = tn_json_reprint(m.f, (const uint8_t *)in, strlen(in), pretty, 0);
    fflush(m.f);
    if (want) {
        TN_EXPECT_EQ_INT(r, 0);
        TN_EXPECT_MEM(m.buf, m.len, want, strlen(want));
    } else {
        TN_EXPECT_EQ_INT(r, -22);
        TN_EXPECT_EQ_INT((long long)m.len, 0);
    }
    mem_close(&m);
}

TN_TEST(json_reprint_like_cjson)
{
    check_json("{\"a\":27.0,\"b\":0.1,\"c\":1e10,\"d\":-0.125,\"e\":[],\"f\":{}}", false,
               "{\"a\":27,\"b\":0.1,\"c\":10000000000,\"d\":-0.125,\"e\":[],\"f\":{}}");
    check_json("{}", true, "{\n}");
    check_json("[{\"a\":{}}]", true, "[{\n\t\t\"a\":\t{\n\t\t}\n\t}]");
    check_json("\"\\u00e9\\/\\ud83d\\ude00\\n\"", false, "\"\xc3\xa9/\xf0\x9f\x98\x80\\n\"");
    check_json("  null ", false, "null");
    check_json("[true,false]", true, "[true, false]");
    check_json("{\"a\":1,}", false, NULL);
    check_json("[1 2]", false, NULL);
    check_json("-", false, NULL);
    check_json("\"unterminated", false, NULL);
    check_json("\"\\ud83d\"", false, NULL); /* lone high surrogate */
    check_json("{} x", false, NULL);
    check_json("", false, NULL);
}

TN_TEST(json_depth_is_bounded)
{
    size_t n = 5000;
    char *deep = malloc(2 * n + 1);

    TN_REQUIRE(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    deep[2 * n] = '\0';
    TN_EXPECT(!tn_json_is_valid((const uint8_t *)deep, 2 * n));
    free(deep);
}

TN_TEST(format_check)
{
    char err[128];

    TN_EXPECT_EQ_INT(tn_cli_format_check("%t %-10.3p %05l @Y \\n %i %j", err, sizeof(err)), 0);
    TN_EXPECT_EQ_INT(tn_cli_format_check("x%", err, sizeof(err)), -22);
    TN_EXPECT_EQ_INT(tn_cli_format_check("%Z", err, sizeof(err)), -22);
    TN_EXPECT_EQ_INT(strcmp(err, "unknown format specifier '%Z'"), 0);
    TN_EXPECT_EQ_INT(tn_cli_format_check("\\q", err, sizeof(err)), -22);
    TN_EXPECT_EQ_INT(tn_cli_format_check("@", err, sizeof(err)), -22);
    TN_EXPECT_EQ_INT(tn_cli_format_check("%10.", err, sizeof(err)), -22);
}

static void check_trace(const struct tern_packet *p, bool sent, uint8_t version, const char *want)
{
    struct mem m;

    mem_open(&m);
    tn_cli_trace_packet(m.f, &T0, sent, p, version);
    TN_EXPECT_EQ_INT(strcmp(mem_str(&m), want), 0);
    if (strcmp(mem_str(&m), want))
        fprintf(stderr, "got:  %swant: %s", mem_str(&m), want);
    mem_close(&m);
}

TN_TEST(trace_lines)
{
    struct tern_packet p;
    struct tern_sub_entry e[2] = {{.filter = TERN_SLICE_STR("a/#"), .qos = 1},
                                  {.filter = TERN_SLICE_STR("b"), .qos = 2}};
    uint8_t rcs[2] = {1, 0x87};

    utc();
    memset(&p, 0, sizeof(p));
    p.type = TERN_PUBLISH;
    p.u.publish.qos = 2;
    p.u.publish.packet_id = 1;
    p.u.publish.topic = TERN_SLICE_STR("a");
    p.u.publish.payload = TERN_SLICE_STR("hello");
    check_trace(&p, true, TERN_V311, "03:04:05.000123 -> PUBLISH id=1 qos=2 topic=a payload=5B\n");
    memset(&p, 0, sizeof(p));
    p.type = TERN_PUBREC;
    p.u.ack.packet_id = 1;
    check_trace(&p, false, TERN_V311, "03:04:05.000123 <- PUBREC id=1\n");
    p.u.ack.rc = 0x10;
    check_trace(&p, false, TERN_V5,
                "03:04:05.000123 <- PUBREC id=1 rc=0x10(No matching subscribers)\n");
    memset(&p, 0, sizeof(p));
    p.type = TERN_SUBSCRIBE;
    p.u.subscribe.packet_id = 3;
    p.u.subscribe.count = 2;
    p.u.subscribe.list = e;
    check_trace(&p, true, TERN_V311, "03:04:05.000123 -> SUBSCRIBE id=3 a/#(qos=1) b(qos=2)\n");
    memset(&p, 0, sizeof(p));
    p.type = TERN_SUBACK;
    p.u.suback.packet_id = 3;
    p.u.suback.rcs = (tern_slice){rcs, 2};
    check_trace(&p, false, TERN_V5, "03:04:05.000123 <- SUBACK id=3 rcs=0x01,0x87\n");
    memset(&p, 0, sizeof(p));
    p.type = TERN_CONNECT;
    p.u.connect.version = 4;
    p.u.connect.client_id = TERN_SLICE_STR("c\x01");
    p.u.connect.clean = true;
    p.u.connect.keep_alive = 60;
    p.u.connect.has_username = true;
    p.u.connect.username = TERN_SLICE_STR("u");
    p.u.connect.has_password = true;
    p.u.connect.password = TERN_SLICE_STR("secret");
    check_trace(&p, true, TERN_V311,
                "03:04:05.000123 -> CONNECT v=4 id=c\\x01 clean=1 keepalive=60 user=u "
                "password=6B\n");
    memset(&p, 0, sizeof(p));
    p.type = TERN_PINGREQ;
    check_trace(&p, true, TERN_V5, "03:04:05.000123 -> PINGREQ\n");
}

TN_TEST(trace_frame_decodes_v5_props)
{
    uint8_t frame[128];
    struct tern_packet p;
    struct mem m;
    int n;

    utc();
    memset(&p, 0, sizeof(p));
    p.type = TERN_PUBLISH;
    p.u.publish.qos = 1;
    p.u.publish.packet_id = 9;
    p.u.publish.topic = TERN_SLICE_STR("x/y");
    p.u.publish.payload = TERN_SLICE_STR("pl");
    tern_props_set(&p.u.publish.props, TERN_PROP_CONTENT_TYPE);
    p.u.publish.props.content_type = TERN_SLICE_STR("ct");
    n = tern_packet_encode(&p, TERN_V5, frame, sizeof(frame));
    TN_REQUIRE(n > 0);
    mem_open(&m);
    TN_EXPECT_EQ_INT(tn_cli_trace_frame(m.f, &T0, false, frame, (size_t)n, TERN_V5), 0);
    TN_EXPECT_EQ_INT(strcmp(mem_str(&m), "03:04:05.000123 <- PUBLISH id=9 qos=1 topic=x/y "
                                         "payload=2B props{content-type=ct}\n"),
                     0);
    mem_close(&m);
}

static int parse(struct tn_cli_cfg *cfg, enum tn_cli_tool tool, char **argv)
{
    int argc = 0;

    while (argv[argc])
        argc++;
    tn_cli_cfg_init(cfg, tool);
    return tn_cli_parse(cfg, argc, argv);
}

TN_TEST(opts_defaults_and_flags)
{
    struct tn_cli_cfg c;
    char *a1[] = {"pub", "-t", "x", "-m", "hi", NULL};
    char *a2[] = {"sub",       "-V",
                  "mqttv5",    "-t",
                  "a",         "-t",
                  "b/#",       "-q",
                  "2",         "-x",
                  "-1",        "-D",
                  "subscribe", "subscription-identifier",
                  "5",         "-D",
                  "connect",   "user-property",
                  "k",         "v",
                  "-C",        "3",
                  "-N",        "-c",
                  "-i",        "id",
                  NULL};
    char *a3[] = {"pub", "-L", (char[]){"mqtts://u:p@example.org:1234/t/x"}, "-n", NULL};

    TN_REQUIRE(parse(&c, TN_CLI_PUB, a1) == 0);
    TN_EXPECT_EQ_INT(strcmp(c.host, "localhost"), 0);
    TN_EXPECT_EQ_INT(tn_cli_port(&c), 1883);
    TN_EXPECT_EQ_INT(c.version, TERN_V311);
    TN_EXPECT_EQ_INT(c.keepalive, 60);
    TN_EXPECT(c.clean);
    TN_EXPECT_EQ_INT(strncmp(c.id, "tern_pub_", 9), 0);
    TN_EXPECT_EQ_INT(c.msg_mode, TN_CLI_MSG_STRING);
    tn_cli_cfg_fini(&c);

    TN_REQUIRE(parse(&c, TN_CLI_SUB, a2) == 0);
    TN_EXPECT_EQ_INT(c.version, TERN_V5);
    TN_EXPECT_EQ_INT((long long)c.topics.n, 2);
    TN_EXPECT_EQ_INT(c.qos, 2);
    TN_EXPECT_EQ_U32(c.session_expiry, 0xFFFFFFFFu);
    TN_EXPECT(
        tern_props_has(&c.props[TN_CLI_PCMD_SUBSCRIBE].props, TERN_PROP_SUBSCRIPTION_IDENTIFIER));
    TN_EXPECT_EQ_U32(c.props[TN_CLI_PCMD_SUBSCRIBE].props.sub_id, 5);
    TN_EXPECT_EQ_U32(c.props[TN_CLI_PCMD_CONNECT].props.user_n, 1);
    TN_EXPECT_EQ_INT(c.msg_count, 3);
    TN_EXPECT(!c.eol && !c.clean);
    tn_cli_cfg_fini(&c);

    TN_REQUIRE(parse(&c, TN_CLI_PUB, a3) == 0);
    TN_EXPECT(c.tls);
    TN_EXPECT_EQ_INT(strcmp(c.host, "example.org"), 0);
    TN_EXPECT_EQ_INT(tn_cli_port(&c), 1234);
    TN_EXPECT_EQ_INT(strcmp(c.username, "u"), 0);
    TN_EXPECT_EQ_INT(strcmp(c.password, "p"), 0);
    TN_EXPECT_EQ_INT(strcmp(c.topics.v[0], "t/x"), 0);
    tn_cli_cfg_fini(&c);
}

TN_TEST(opts_errors)
{
    struct tn_cli_cfg c;
    char *bad_qos[] = {"pub", "-t", "x", "-m", "m", "-q", "3", NULL};
    char *bad_topic[] = {"pub", "-t", "x/+", "-m", "m", NULL};
    char *help[] = {"sub", "--help", NULL};

    fprintf(stderr, "(the two error lines below are expected)\n");
    TN_EXPECT_EQ_INT(parse(&c, TN_CLI_PUB, bad_qos), -1);
    tn_cli_cfg_fini(&c);
    TN_EXPECT_EQ_INT(parse(&c, TN_CLI_PUB, bad_topic), -1);
    tn_cli_cfg_fini(&c);
    TN_EXPECT_EQ_INT(parse(&c, TN_CLI_SUB, help), TN_CLI_HELP);
    tn_cli_cfg_fini(&c);
}

TN_TEST_MAIN()
