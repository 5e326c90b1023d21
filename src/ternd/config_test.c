/* SPDX-License-Identifier: MIT */
/*
 * src/ternd/config_test.c - unit tests of ternd's configuration (config.c): every option
 * valid and invalid, file syntax (comments, blanks, CRLF, BOM), error locations, durations,
 * defaults, listener rules and the local-only default, the command line and reload.
 *
 * Owns: the temporary directory it creates (mkdtemp under $TMPDIR or /tmp) and its files,
 * removed as each test ends.
 * Thread: single-threaded test binary.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tn_test.h"

/* ---- helpers -------------------------------------------------------------------------------- */

/* The directory every fixture goes into; made once, emptied by each test. */
static const char *tmp_dir(void)
{
    static char dir[256];

    if (!dir[0]) {
        const char *t = getenv("TMPDIR");
        snprintf(dir, sizeof dir, "%s/tn_config_test.XXXXXX", t && t[0] ? t : "/tmp");
        if (!mkdtemp(dir)) {
            perror("mkdtemp");
            exit(2);
        }
    }
    return dir;
}

/* Write text to DIR/name; returns the path in a static buffer (one fixture at a time). */
static const char *fixture(const char *name, const char *text, size_t len)
{
    static char path[512];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", tmp_dir(), name);
    f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fwrite(text, 1, len, f);
    fclose(f);
    return path;
}

static const char *fixture_s(const char *name, const char *text)
{
    return fixture(name, text, strlen(text));
}

static void fixture_rm(const char *name)
{
    char path[512];

    snprintf(path, sizeof path, "%s/%s", tmp_dir(), name);
    unlink(path);
}

/* Defaults + the text as a file. Returns tn_config_load_file's result. */
static int load(struct tn_config *c, const char *text, char *err, size_t errlen)
{
    const char *path = fixture("t.conf", text, strlen(text));
    int r;

    tn_config_defaults(c);
    err[0] = '\0';
    r = tn_config_load_file(c, path, err, errlen);
    fixture_rm("t.conf");
    return r;
}

/* Defaults + the text + tn_config_finish. */
static int load_finish(struct tn_config *c, const char *text, char *err, size_t errlen)
{
    int r = load(c, text, err, errlen);
    return r < 0 ? r : tn_config_finish(c, err, errlen);
}

/* Run tn_config_from_args on defaults with a NULL-terminated list of arguments. */
static int args(struct tn_config *c, char *err, size_t errlen, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;

    argv[argc++] = (char *)"ternd";
    va_start(ap, errlen);
    for (char *a; argc < 63 && (a = va_arg(ap, char *)) != NULL;)
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    tn_config_defaults(c);
    err[0] = '\0';
    return tn_config_from_args(c, argc, argv, err, errlen);
}

/* Send stdout to a file while a call runs; read it back. */
struct capture {
    int saved;
    char path[512];
};

static void capture_begin(struct capture *cap)
{
    int fd;

    fflush(stdout);
    snprintf(cap->path, sizeof cap->path, "%s/stdout", tmp_dir());
    fd = open(cap->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    cap->saved = dup(1);
    dup2(fd, 1);
    close(fd);
}

static void capture_end(struct capture *cap, char *out, size_t n)
{
    FILE *f;
    size_t got = 0;

    fflush(stdout);
    dup2(cap->saved, 1);
    close(cap->saved);
    f = fopen(cap->path, "r");
    if (f) {
        got = fread(out, 1, n - 1, f);
        fclose(f);
    }
    out[got] = '\0';
    unlink(cap->path);
}

static bool has_listener(const struct tn_config *c, const char *host, unsigned port)
{
    for (int i = 0; i < c->n_listeners; i++)
        if (strcmp(c->listeners[i].host, host) == 0 && c->listeners[i].port == port)
            return true;
    return false;
}

#define EXPECT_STR_HAS(hay, needle)                                                                \
    do {                                                                                           \
        if (!strstr((hay), (needle))) {                                                            \
            tn_fail_(__FILE__, __LINE__);                                                          \
            fprintf(stderr, "expected \"%s\" in \"%s\"\n", (needle), (hay));                       \
        }                                                                                          \
    } while (0)

#define EXPECT_STR_EQ(a, b)                                                                        \
    do {                                                                                           \
        if (strcmp((a), (b)) != 0) {                                                               \
            tn_fail_(__FILE__, __LINE__);                                                          \
            fprintf(stderr, "expected \"%s\" == \"%s\"\n", (a), (b));                              \
        }                                                                                          \
    } while (0)

/* ---- defaults and syntax -------------------------------------------------------------------- */

TN_TEST(defaults)
{
    struct tn_config c;

    tn_config_defaults(&c);
    EXPECT_STR_EQ(c.path, "");
    TN_EXPECT_EQ_INT(c.n_listeners, 0);
    TN_EXPECT(!c.allow_anonymous);
    TN_EXPECT_EQ_U32(c.max_connections, 0);
    TN_EXPECT_EQ_U32(c.max_keepalive, 65535);
    TN_EXPECT_EQ_U32(c.max_packet_size, 0);
    TN_EXPECT_EQ_U32(c.message_size_limit, 0);
    TN_EXPECT_EQ_U32(c.max_inflight_messages, 20);
    TN_EXPECT_EQ_U32(c.max_queued_messages, 100000);
    TN_EXPECT_EQ_U64(c.max_queued_bytes, 0);
    TN_EXPECT(!c.queue_qos0_messages);
    TN_EXPECT(c.retain_available);
    TN_EXPECT_EQ_INT(c.persistent_client_expiration, -1);
    TN_EXPECT_EQ_U32(c.sys_interval, 10);
    TN_EXPECT_EQ_HEX(c.log_dest, TN_LOGDEST_STDERR);
    EXPECT_STR_EQ(c.log_file, "");
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_ERR | TN_LOG_WARNING | TN_LOG_NOTICE | TN_LOG_INFO);
    TN_EXPECT(c.log_timestamp);
    TN_EXPECT(c.connection_messages);
    TN_EXPECT_EQ_INT(c.workers, 0);
    TN_EXPECT(!c.verbose);
    EXPECT_STR_EQ(c.pid_file, "");
    TN_EXPECT_EQ_U32(c.max_qos, 2);
    TN_EXPECT_EQ_U32(c.max_topic_alias, 10);
    TN_EXPECT(c.allow_zero_length_clientid);
    EXPECT_STR_EQ(c.auto_id_prefix, "auto-");
    TN_EXPECT(c.set_tcp_nodelay);
    TN_EXPECT(!c.upgrade_outgoing_qos);
    TN_EXPECT(c.check_retain_source);
    TN_EXPECT(!c.persistence);
    EXPECT_STR_EQ(c.persistence_location, "");
    EXPECT_STR_EQ(c.persistence_file, "mosquitto.db");
    TN_EXPECT_EQ_U32(c.autosave_interval, 1800);
    TN_EXPECT(!c.autosave_on_changes);
    TN_EXPECT(!c.dup_msgs_set);
}

TN_TEST(empty_file_keeps_defaults)
{
    struct tn_config c, d;
    char err[512];

    TN_REQUIRE(load(&c, "", err, sizeof err) == 0);
    tn_config_defaults(&d);
    memcpy(d.path, c.path, sizeof d.path);
    TN_EXPECT(memcmp(&c, &d, sizeof c) == 0);
    TN_EXPECT(c.path[0] == '/'); /* made absolute so that a reload does not depend on cwd */
}

TN_TEST(comments_blanks_tabs_crlf_bom)
{
    struct tn_config c;
    char err[512];
    const char *text = "\xEF\xBB\xBF# a comment\n"
                       "\n"
                       "   \t\n"
                       "  # indented comment\n"
                       "max_keepalive 60\r\n"
                       "\tsys_interval\t\t30  \t\r\n"
                       "max_queued_messages    7   \n"
                       "#max_inflight_messages 3\n"
                       "retain_available false"; /* no final newline */

    TN_REQUIRE(load(&c, text, err, sizeof err) == 0);
    TN_EXPECT_EQ_U32(c.max_keepalive, 60);
    TN_EXPECT_EQ_U32(c.sys_interval, 30);
    TN_EXPECT_EQ_U32(c.max_queued_messages, 7);
    TN_EXPECT_EQ_U32(c.max_inflight_messages, 20);
    TN_EXPECT(!c.retain_available);
}

TN_TEST(every_option_valid)
{
    struct tn_config c;
    char err[512];
    const char *text = "listener 1884\n"
                       "listener 1885 127.0.0.1\n"
                       "protocol mqtt\n"
                       "port 1886\n"
                       "bind_address 10.1.2.3\n"
                       "allow_anonymous true\n"
                       "max_connections 500\n"
                       "max_keepalive 120\n"
                       "max_packet_size 1048576\n"
                       "message_size_limit 268435455\n"
                       "max_inflight_messages 0\n"
                       "max_queued_messages 0\n"
                       "max_queued_bytes 9000000000\n"
                       "queue_qos0_messages true\n"
                       "retain_available false\n"
                       "persistent_client_expiration 2d\n"
                       "sys_interval 0\n"
                       "log_dest stdout\n"
                       "log_dest syslog\n"
                       "log_type error\n"
                       "log_type subscribe\n"
                       "log_timestamp false\n"
                       "connection_messages false\n"
                       "workers 3\n"
                       "per_listener_settings false\n";

    TN_REQUIRE(load_finish(&c, text, err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 3);
    TN_EXPECT(has_listener(&c, "", 1884));
    TN_EXPECT(has_listener(&c, "127.0.0.1", 1885));
    TN_EXPECT(has_listener(&c, "10.1.2.3", 1886));
    TN_EXPECT(!c.local_only);
    TN_EXPECT(c.allow_anonymous);
    TN_EXPECT_EQ_U32(c.max_connections, 500);
    TN_EXPECT_EQ_U32(c.max_keepalive, 120);
    TN_EXPECT_EQ_U32(c.max_packet_size, 1048576);
    TN_EXPECT_EQ_U32(c.message_size_limit, 268435455);
    TN_EXPECT_EQ_U32(c.max_inflight_messages, 0);
    TN_EXPECT_EQ_U32(c.max_queued_messages, 0);
    TN_EXPECT_EQ_U64(c.max_queued_bytes, 9000000000ull);
    TN_EXPECT(c.queue_qos0_messages);
    TN_EXPECT(!c.retain_available);
    TN_EXPECT_EQ_INT(c.persistent_client_expiration, 2 * 86400);
    TN_EXPECT_EQ_U32(c.sys_interval, 0);
    TN_EXPECT_EQ_HEX(c.log_dest, TN_LOGDEST_STDOUT | TN_LOGDEST_SYSLOG);
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_ERR | TN_LOG_SUBSCRIBE);
    TN_EXPECT(!c.log_timestamp);
    TN_EXPECT(!c.connection_messages);
    TN_EXPECT_EQ_INT(c.workers, 3);
}

TN_TEST(numeric_bounds_valid)
{
    static const struct {
        const char *line;
        size_t off;
        size_t size;
        uint64_t want;
    } cases[] = {
#define F(field) offsetof(struct tn_config, field), sizeof(((struct tn_config *)0)->field)
        {"max_keepalive 10", F(max_keepalive), 10},
        {"max_keepalive 65535", F(max_keepalive), 65535},
        {"max_packet_size 20", F(max_packet_size), 20},
        {"max_packet_size 268435460", F(max_packet_size), 268435460},
        {"message_size_limit 0", F(message_size_limit), 0},
        {"max_inflight_messages 65535", F(max_inflight_messages), 65535},
        {"max_inflight_messages 1", F(max_inflight_messages), 1},
        {"max_queued_messages 2147483647", F(max_queued_messages), 2147483647},
        {"max_queued_bytes 0", F(max_queued_bytes), 0},
        {"sys_interval 65535", F(sys_interval), 65535},
        {"max_connections -1", F(max_connections), 0},
        {"max_connections 0", F(max_connections), 0},
        {"max_connections 1", F(max_connections), 1},
        {"max_connections 2147483647", F(max_connections), 2147483647},
#undef F
    };
    struct tn_config c;
    char err[512], text[128];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t got = 0;
        snprintf(text, sizeof text, "%s\n", cases[i].line);
        if (load(&c, text, err, sizeof err) != 0) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "'%s' rejected: %s\n", cases[i].line, err);
            continue;
        }
        switch (cases[i].size) {
        case 2: got = *(uint16_t *)((char *)&c + cases[i].off); break;
        case 4: got = *(uint32_t *)((char *)&c + cases[i].off); break;
        case 8: got = *(uint64_t *)((char *)&c + cases[i].off); break;
        }
        if (got != cases[i].want) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "'%s' gave %llu\n", cases[i].line, (unsigned long long)got);
        }
    }
}

TN_TEST(booleans)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load(&c, "queue_qos0_messages 1\nlog_timestamp 0\n", err, sizeof err) == 0);
    TN_EXPECT(c.queue_qos0_messages); /* mosquitto also takes 1/0 */
    TN_EXPECT(!c.log_timestamp);
    TN_REQUIRE(load(&c, "retain_available true\nconnection_messages true\n", err, sizeof err) == 0);
    TN_EXPECT(c.retain_available);
    TN_EXPECT(c.connection_messages);
}

/* Every line here must be rejected with "FILE:LINE: <want>". */
TN_TEST(invalid_values)
{
    static const struct {
        const char *line;
        const char *want;
    } cases[] = {
        {"foo bar", "unknown option 'foo'"},
        {"Max_keepalive 60", "unknown option 'Max_keepalive'"},
        {"max_keepalive", "max_keepalive: missing value"},
        {"max_keepalive 60 70", "max_keepalive: too many values"},
        {"max_keepalive 60 # comment", "max_keepalive: too many values"},
        {"max_keepalive abc", "max_keepalive: expected an integer, got 'abc'"},
        {"max_keepalive 12abc", "max_keepalive: expected an integer"},
        {"max_keepalive 0x10", "max_keepalive: expected an integer"},
        {"max_keepalive 9", "max_keepalive: 9 is out of range (10..65535)"},
        {"max_keepalive 0", "max_keepalive: 0 is out of range"},
        {"max_keepalive 65536", "max_keepalive: 65536 is out of range"},
        {"max_keepalive 99999999999999999999999", "max_keepalive: 99999999999999999999999 is out"},
        {"max_packet_size 19", "max_packet_size: 19 is out of range (20..268435460)"},
        {"max_packet_size 0", "max_packet_size: 0 is out of range"},
        {"max_packet_size 268435461", "max_packet_size: 268435461 is out of range"},
        {"message_size_limit 268435456", "message_size_limit: 268435456 is out of range"},
        {"message_size_limit -1", "message_size_limit: -1 is out of range"},
        {"max_inflight_messages 65536", "max_inflight_messages: 65536 is out of range"},
        {"max_queued_messages -1", "max_queued_messages: -1 is out of range"},
        {"max_queued_bytes -5", "max_queued_bytes: -5 is out of range"},
        {"sys_interval 65536", "sys_interval: 65536 is out of range"},
        {"sys_interval -1", "sys_interval: -1 is out of range"},
        {"max_connections -2", "max_connections: -2 is out of range"},
        {"max_connections", "max_connections: missing value"},
        {"allow_anonymous yes", "allow_anonymous: expected true or false, got 'yes'"},
        {"allow_anonymous TRUE", "allow_anonymous: expected true or false"},
        {"allow_anonymous", "allow_anonymous: missing value"},
        {"allow_anonymous true extra", "allow_anonymous: too many values"},
        {"queue_qos0_messages 2", "queue_qos0_messages: expected true or false"},
        {"retain_available", "retain_available: missing value"},
        {"log_timestamp on", "log_timestamp: expected true or false"},
        {"connection_messages no", "connection_messages: expected true or false"},
        {"workers 0", "workers: expected auto or a number 1..1024, got '0'"},
        {"workers -1", "workers: expected auto"},
        {"workers 1025", "workers: expected auto"},
        {"workers many", "workers: expected auto"},
        {"workers", "workers: missing value"},
        {"log_dest", "log_dest: missing value"},
        {"log_dest file", "log_dest: 'file' needs a path"},
        {"log_dest printer", "log_dest: unknown destination 'printer'"},
        {"log_dest stderr stdout", "log_dest: too many values"},
        {"log_dest topic", "log_dest: destination 'topic' is not supported yet"},
        {"log_dest dlt", "log_dest: destination 'dlt' is not supported yet"},
        {"log_type bogus", "log_type: unknown type 'bogus'"},
        {"log_type", "log_type: missing value"},
        {"log_type error warning", "log_type: too many values"},
        {"persistent_client_expiration", "persistent_client_expiration: missing value"},
        {"persistent_client_expiration 3600", "persistent_client_expiration: invalid duration"},
        {"persistent_client_expiration 1h 2h", "persistent_client_expiration: too many values"},
        {"protocol http", "protocol: unknown protocol 'http'"},
        {"port", "port: missing value"},
        {"port 0", "port: port 0 (a unix socket listener) is not supported yet"},
        {"port 65536", "port: invalid port '65536'"},
        {"port -1", "port: invalid port"},
        {"port http", "port: invalid port 'http'"},
        {"bind_address", "bind_address: missing value"},
        {"bind_address example.com", "bind_address: invalid address 'example.com'"},
        {"bind_address 1.2.3", "bind_address: invalid address"},
        {"bind_address 256.1.1.1", "bind_address: invalid address"},
        {"bind_address [1.2.3.4]", "bind_address: invalid address"},
        {"bind_address [::1", "bind_address: invalid address"},
        {"bind_address fe80::1%eth0", "bind_address: invalid address"},
        {"listener", "listener: missing value"},
        {"listener 1883 127.0.0.1 extra", "listener: too many values"},
        {"listener 0 /tmp/mqtt.sock", "listener: port 0 (a unix socket listener) is not supp"},
        {"listener 70000", "listener: invalid port '70000'"},
        {"listener 1883 broker.local", "listener: invalid bind address 'broker.local'"},
        {"a b c d e f g h i j k l m n o p q", "a: too many values"},
        {"max_qos 3", "max_qos: 3 is out of range (0..2)"},
        {"max_qos -1", "max_qos: -1 is out of range"},
        {"max_qos", "max_qos: missing value"},
        {"max_qos one", "max_qos: expected an integer, got 'one'"},
        {"max_topic_alias 65536", "max_topic_alias: 65536 is out of range (0..65535)"},
        {"max_topic_alias -1", "max_topic_alias: -1 is out of range"},
        {"allow_zero_length_clientid maybe", "allow_zero_length_clientid: expected true or false"},
        {"auto_id_prefix", "auto_id_prefix: missing value"},
        {"auto_id_prefix 0123456789012345678901234567890123456789012345678901234567890123",
         "auto_id_prefix: longer than 63 bytes"},
        {"auto_id_prefix a\x01"
         "b",
         "auto_id_prefix: contains a control character"},
        {"auto_id_prefix a\xC3(", "auto_id_prefix: is not valid UTF-8"},
        {"set_tcp_nodelay yes", "set_tcp_nodelay: expected true or false"},
        {"upgrade_outgoing_qos 2", "upgrade_outgoing_qos: expected true or false"},
        {"check_retain_source", "check_retain_source: missing value"},
        {"allow_duplicate_messages x", "allow_duplicate_messages: expected true or false"},
        {"persistence on", "persistence: expected true or false"},
        {"persistence", "persistence: missing value"},
        {"persistence_location", "persistence_location: missing value"},
        {"persistence_file", "persistence_file: missing value"},
        {"autosave_interval -1", "autosave_interval: -1 is out of range (0..2147483647)"},
        {"autosave_interval 30s", "autosave_interval: expected an integer"},
        {"autosave_on_changes 2", "autosave_on_changes: expected true or false"},
        {"pid_file", "pid_file: missing value"},
        {"include_dir", "include_dir: missing value"},
    };
    struct tn_config c;
    char err[512], text[256], want[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        /* Line 3, after a comment and a valid line, so the line number is checked too. */
        snprintf(text, sizeof text, "# x\nmax_queued_messages 5\n%s\n", cases[i].line);
        int r = load(&c, text, err, sizeof err);
        snprintf(want, sizeof want, "t.conf:3: %s", cases[i].want);
        if (r != -EINVAL || !strstr(err, want)) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "'%s': r=%d err=\"%s\", want \"%s\"\n", cases[i].line, r, err, want);
        }
    }
}

TN_TEST(unsupported_options_say_so)
{
    static const char *const lines[] = {
        "password_file /etc/ternd/passwd",
        "acl_file /etc/ternd/acl",
        "cafile /etc/ca.pem",
        "certfile /etc/c.pem",
        "keyfile /etc/k.pem",
        "protocol websockets",
        "per_listener_settings true",
        "psk_file /x",
        "auth_plugin /x.so",
        "plugin /x.so",
        "auth_opt_db x",
        "plugin_opt_x y",
        "connection br",
        "address 1.2.3.4",
        "bridge_cafile /x",
        "topic # both 0",
        "mount_point x/",
        "tls_version tlsv1.2",
        "http_dir /x",
        "memory_limit 0",
        "log_timestamp_format %Y",
        "socket_domain ipv4",
        "clientid_prefixes x-",
        "max_inflight_bytes 0",
    };
    struct tn_config c;
    char err[512], text[256];

    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        snprintf(text, sizeof text, "%s\n", lines[i]);
        int r = load(&c, text, err, sizeof err);
        if (r != -EINVAL || !strstr(err, "t.conf:1: ") || !strstr(err, "not supported")) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "'%s': r=%d err=\"%s\"\n", lines[i], r, err);
        }
    }
    TN_EXPECT(load(&c, "password_file /x\n", err, sizeof err) == -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:1: password_file: not supported yet (authentication)");
}

TN_TEST(line_numbers_count_every_line)
{
    struct tn_config c;
    char err[512];

    TN_EXPECT(load(&c, "# 1\r\n\r\n  \r\nmax_keepalive 60\r\n\n# 6\nsys_interval x\n", err,
                   sizeof err) == -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:7: sys_interval:");
    TN_EXPECT(load(&c, "bogus 1\n", err, sizeof err) == -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:1: unknown option 'bogus'");
    /* The file name is the one the caller gave, followed by the line. */
    TN_EXPECT(strncmp(err, tmp_dir(), strlen(tmp_dir())) == 0);
}

TN_TEST(nul_byte_and_long_line_rejected)
{
    struct tn_config c;
    char err[512];
    const char *path = fixture("nul.conf", "max_keepalive 60\nsys_\0interval 5\n", 33);
    char *big;

    tn_config_defaults(&c);
    TN_EXPECT_EQ_INT(tn_config_load_file(&c, path, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "nul.conf:2: line contains a NUL byte");
    fixture_rm("nul.conf");

    big = malloc(70000);
    TN_REQUIRE(big);
    memset(big, 'x', 69999);
    big[69999] = '\0';
    TN_EXPECT_EQ_INT(load(&c, big, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:1: line longer than");
    free(big);
}

TN_TEST(missing_file_and_directory)
{
    struct tn_config c;
    char err[512], path[512];

    snprintf(path, sizeof path, "%s/does-not-exist.conf", tmp_dir());
    tn_config_defaults(&c);
    TN_EXPECT_EQ_INT(tn_config_load_file(&c, path, err, sizeof err), -ENOENT);
    EXPECT_STR_HAS(err, "does-not-exist.conf: cannot open: ");
    TN_EXPECT(strstr(err, ":1:") == NULL);

    tn_config_defaults(&c);
    int r = tn_config_load_file(&c, tmp_dir(), err, sizeof err);
    TN_EXPECT_EQ_INT(r, -EISDIR);
    EXPECT_STR_HAS(err, "read error");
}

/* ---- durations, logging, max_connections ------------------------------------------------------
 */

TN_TEST(duration_syntax)
{
    static const struct {
        const char *v;
        int64_t want; /* 0 = must be rejected */
    } cases[] = {
        {"1h", 3600},       {"2d", 2 * 86400},   {"3w", 3 * 7 * 86400},
        {"1m", 30 * 86400}, {"1y", 365 * 86400}, {"14d", 14 * 86400},
        {"90s", 90},        {"0h", 0},           {"3600", 0},
        {"h", 0},           {"-1h", 0},          {"1x", 0},
        {"1H", 0},          {"1.5h", 0},         {"99999999999999999y", 0},
        {"1hh", 0},
    };
    struct tn_config c;
    char err[512], text[128];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(text, sizeof text, "persistent_client_expiration %s\n", cases[i].v);
        int r = load(&c, text, err, sizeof err);
        if (cases[i].want) {
            if (r != 0 || c.persistent_client_expiration != cases[i].want) {
                tn_fail_(__FILE__, __LINE__);
                fprintf(stderr, "%s: r=%d got %lld (%s)\n", cases[i].v, r,
                        (long long)c.persistent_client_expiration, err);
            }
        } else if (r != -EINVAL || !strstr(err, "t.conf:1: persistent_client_expiration: ")) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "%s accepted (r=%d)\n", cases[i].v, r);
        }
    }
}

TN_TEST(log_dest_rules)
{
    struct tn_config c;
    char err[512];

    /* The first log_dest replaces the default (stderr); later ones add. */
    TN_REQUIRE(load(&c, "log_dest stdout\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_dest, TN_LOGDEST_STDOUT);
    TN_REQUIRE(load(&c, "log_dest stdout\nlog_dest stderr\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_dest, TN_LOGDEST_STDOUT | TN_LOGDEST_STDERR);
    TN_REQUIRE(load(&c, "log_dest none\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_dest, 0);
    TN_REQUIRE(load(&c, "log_dest syslog\nlog_dest none\nlog_dest stdout\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_dest, TN_LOGDEST_STDOUT);

    /* file takes the rest of the line: a path may contain blanks. */
    TN_REQUIRE(load(&c, "log_dest file /var/log/my  tern\tlog.txt  \r\nlog_dest stderr\n", err,
                    sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_dest, TN_LOGDEST_FILE | TN_LOGDEST_STDERR);
    EXPECT_STR_EQ(c.log_file, "/var/log/my  tern\tlog.txt");
    TN_REQUIRE(load(&c, "log_dest file /a.log\n", err, sizeof err) == 0);
    EXPECT_STR_EQ(c.log_file, "/a.log");
    TN_EXPECT_EQ_HEX(c.log_dest, TN_LOGDEST_FILE);
    TN_REQUIRE(load(&c, "log_dest file /a.log\nlog_dest none\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_dest, 0);
    EXPECT_STR_EQ(c.log_file, "");

    /* Only one file, as in mosquitto. */
    TN_EXPECT(load(&c, "log_dest file /a.log\nlog_dest file /b.log\n", err, sizeof err) == -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:2: log_dest: only one 'file' destination");
}

TN_TEST(log_dest_file_path_too_long)
{
    struct tn_config c;
    char err[512];
    char *text = malloc(5000);

    TN_REQUIRE(text);
    strcpy(text, "log_dest file /");
    memset(text + 15, 'a', 4200);
    strcpy(text + 4215, "\n");
    TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:1: log_dest: path too long");
    free(text);
}

TN_TEST(log_type_rules)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load(&c, "log_type debug\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_DEBUG); /* first one replaces the default */
    TN_REQUIRE(load(&c, "log_type all\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_ALL);
    TN_REQUIRE(load(&c, "log_type all\nlog_type none\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_type, 0);
    TN_REQUIRE(load(&c,
                    "log_type none\nlog_type warning\nlog_type notice\nlog_type information\n"
                    "log_type unsubscribe\nlog_type websockets\n",
                    err, sizeof err) == 0);
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_WARNING | TN_LOG_NOTICE | TN_LOG_INFO | TN_LOG_UNSUBSCRIBE |
                                     TN_LOG_WEBSOCKETS);
}

TN_TEST(max_connections_once_only)
{
    struct tn_config c;
    char err[512];

    TN_EXPECT(load(&c, "listener 1884\nmax_connections 5\nlistener 1885\nmax_connections 9\n", err,
                   sizeof err) == -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:4: max_connections: given twice");
}

TN_TEST(workers_auto)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load(&c, "workers 4\nworkers auto\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.workers, 0);
    TN_REQUIRE(load(&c, "workers 1024\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.workers, 1024);
}

TN_TEST(user_option)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load(&c, "user nobody\n", err, sizeof err) == 0);
    TN_EXPECT(strcmp(c.user, "nobody") == 0);
    TN_EXPECT(load(&c, "user\n", err, sizeof err) < 0);
    TN_EXPECT(load(&c, "user a b\n", err, sizeof err) < 0);
}

TN_TEST(server_reference)
{
    struct tn_config c;
    char err[512], line[400];

    TN_REQUIRE(load(&c, "", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.server_reference[0], 0);
    TN_REQUIRE(load(&c, "server_reference other.example:1883\n", err, sizeof err) == 0);
    TN_EXPECT(strcmp(c.server_reference, "other.example:1883") == 0);
    TN_EXPECT(load(&c, "server_reference\n", err, sizeof err) < 0);
    snprintf(line, sizeof line, "server_reference %0300d\n", 1);
    TN_EXPECT(load(&c, line, err, sizeof err) < 0);
    TN_EXPECT(strstr(err, "server_reference: longer than 255 bytes") != NULL);
}

/* ---- mosquitto 2.0 options: process, persistence, clients, delivery ----------------------------
 */

TN_TEST(mosquitto_options_valid)
{
    struct tn_config c;
    char err[512];
    const char *text = "pid_file /run/my mosquitto/mosquitto.pid\n"
                       "persistence true\n"
                       "persistence_location /var/lib/mosquitto/\n"
                       "persistence_file tern.db\n"
                       "autosave_interval 0\n"
                       "autosave_on_changes true\n"
                       "max_qos 1\n"
                       "max_topic_alias 0\n"
                       "allow_zero_length_clientid false\n"
                       "auto_id_prefix gen \xC3\xA9-\n"
                       "set_tcp_nodelay false\n"
                       "upgrade_outgoing_qos true\n"
                       "check_retain_source false\n"
                       "allow_duplicate_messages true\n";

    TN_REQUIRE(load(&c, text, err, sizeof err) == 0);
    EXPECT_STR_EQ(c.pid_file, "/run/my mosquitto/mosquitto.pid"); /* rest of the line */
    TN_EXPECT(c.persistence);
    EXPECT_STR_EQ(c.persistence_location, "/var/lib/mosquitto/");
    EXPECT_STR_EQ(c.persistence_file, "tern.db");
    TN_EXPECT_EQ_U32(c.autosave_interval, 0);
    TN_EXPECT(c.autosave_on_changes);
    TN_EXPECT_EQ_U32(c.max_qos, 1);
    TN_EXPECT_EQ_U32(c.max_topic_alias, 0);
    TN_EXPECT(!c.allow_zero_length_clientid);
    EXPECT_STR_EQ(c.auto_id_prefix, "gen \xC3\xA9-");
    TN_EXPECT(!c.set_tcp_nodelay);
    TN_EXPECT(c.upgrade_outgoing_qos);
    TN_EXPECT(!c.check_retain_source);
    TN_EXPECT(c.dup_msgs_set);

    TN_REQUIRE(load(&c,
                    "max_qos 0\nmax_topic_alias 65535\npersistence false\n"
                    "autosave_interval 2147483647\nallow_duplicate_messages false\n",
                    err, sizeof err) == 0);
    TN_EXPECT_EQ_U32(c.max_qos, 0);
    TN_EXPECT_EQ_U32(c.max_topic_alias, 65535);
    TN_EXPECT(!c.persistence);
    TN_EXPECT_EQ_U32(c.autosave_interval, 2147483647);
    TN_EXPECT(c.dup_msgs_set); /* either value: main logs the deprecation notice */
    TN_REQUIRE(load(&c, "max_qos 2\nmax_qos 0\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_U32(c.max_qos, 0); /* the last one wins */
}

TN_TEST(pid_file_path_too_long)
{
    struct tn_config c;
    char err[512];
    char *text = malloc(9000);

    TN_REQUIRE(text);
    strcpy(text, "pid_file /");
    memset(text + 10, 'p', 8500);
    strcpy(text + 8510, "\n");
    TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:1: pid_file: longer than 4095 bytes");
    free(text);
}

TN_TEST(pid_file_change_needs_restart)
{
    struct tn_config a, b;
    char err[512], msg[1024];

    TN_REQUIRE(load_finish(&a, "pid_file /run/a.pid\n", err, sizeof err) == 0);
    TN_REQUIRE(load_finish(&b, "pid_file /run/b.pid\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 1);
    EXPECT_STR_HAS(msg, "pid_file changed");
    TN_REQUIRE(load_finish(&b, "pid_file /run/a.pid\nmax_qos 1\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 0);
}

/* ---- include_dir ------------------------------------------------------------------------------
 */

/* Make DIR/sub (emptied first) and return its path (static). */
static const char *inc_dir(const char *sub)
{
    static char path[512];
    char cmd[1100];

    snprintf(path, sizeof path, "%s/%s", tmp_dir(), sub);
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && mkdir -p '%s'", path, path);
    if (system(cmd) != 0) {
        perror(cmd);
        exit(2);
    }
    return path;
}

static void inc_file(const char *dir, const char *name, const char *text)
{
    char path[1024];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(2);
    }
    fputs(text, f);
    fclose(f);
}

static void inc_rm(const char *dir)
{
    char cmd[1100];

    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        perror(cmd);
}

/* mosquitto.conf(5): "loaded in case sensitive alphabetical order, with the upper case of each
 * letter ordered before the lower case of the same letter": 00 01 A a B b. Each file appends
 * one log_type, and sys_interval's last value tells which file was read last. */
TN_TEST(include_dir_reads_conf_files_in_mosquitto_order)
{
    char dirbuf[512], text[700], err[512];
    const char *dir;
    struct tn_config c;
    static const struct {
        const char *name;
        const char *text;
    } files[] = {
        {"b.conf", "sys_interval 6\n"},  {"A.conf", "sys_interval 3\n"},
        {"01.conf", "sys_interval 2\n"}, {"a.conf", "sys_interval 4\n"},
        {"B.conf", "sys_interval 5\n"},  {"00.conf", "sys_interval 1\nlog_type debug\n"},
        {"_x.conf", "sys_interval 7\n"}, {"notes.txt", "bogus line\n"},
        {".conf", "bogus line\n"},       {"x.conf.bak", "bogus line\n"},
    };

    dir = inc_dir("inc");
    snprintf(dirbuf, sizeof dirbuf, "%s", dir);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        inc_file(dirbuf, files[i].name, files[i].text);
    /* Track the order: each file overwrites sys_interval; put the expected-last one last. */
    snprintf(text, sizeof text, "log_type error\ninclude_dir %s\nmax_keepalive 99\n", dirbuf);
    TN_REQUIRE(load(&c, text, err, sizeof err) == 0);
    /* '_' (0x5F) sorts after letters compared case-insensitively ('B' 0x42): _x.conf last */
    TN_EXPECT_EQ_U32(c.sys_interval, 7);
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_ERR | TN_LOG_DEBUG); /* the log_type rule spans files */
    TN_EXPECT_EQ_U32(c.max_keepalive, 99); /* lines after include_dir still apply */
    EXPECT_STR_HAS(c.path, "t.conf");      /* the main file stays the config path */

    /* Order: drop _x.conf; then b.conf (6) must be last, and a.conf (4) after A.conf (3). */
    {
        char p[1024];
        snprintf(p, sizeof p, "%s/_x.conf", dirbuf);
        unlink(p);
        TN_REQUIRE(load(&c, text, err, sizeof err) == 0);
        TN_EXPECT_EQ_U32(c.sys_interval, 6);
        snprintf(p, sizeof p, "%s/b.conf", dirbuf);
        unlink(p);
        TN_REQUIRE(load(&c, text, err, sizeof err) == 0);
        TN_EXPECT_EQ_U32(c.sys_interval, 5);
        snprintf(p, sizeof p, "%s/B.conf", dirbuf);
        unlink(p);
        TN_REQUIRE(load(&c, text, err, sizeof err) == 0);
        TN_EXPECT_EQ_U32(c.sys_interval, 4); /* a.conf after A.conf */
        snprintf(p, sizeof p, "%s/a.conf", dirbuf);
        unlink(p);
        TN_REQUIRE(load(&c, text, err, sizeof err) == 0);
        TN_EXPECT_EQ_U32(c.sys_interval, 3); /* A.conf after 01.conf */
    }
    inc_rm(dirbuf);
}

TN_TEST(include_dir_errors_name_the_included_file_and_line)
{
    char dirbuf[512], text[700], err[700], want[700];
    struct tn_config c;

    snprintf(dirbuf, sizeof dirbuf, "%s", inc_dir("inc err"));
    inc_file(dirbuf, "10-ok.conf", "max_keepalive 60\n");
    inc_file(dirbuf, "20-bad.conf", "# c\n\nmax_qos 5\n");
    /* a trailing slash and a blank in the path (rest of the line, as mosquitto reads it) */
    snprintf(text, sizeof text, "# main\ninclude_dir %s/\n", dirbuf);
    TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want, "%s/20-bad.conf:3: max_qos: 5 is out of range", dirbuf);
    EXPECT_STR_HAS(err, want);

    /* nested include_dir: only the main file may use it (mosquitto too) */
    inc_file(dirbuf, "20-bad.conf", "include_dir /tmp\n");
    TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
    snprintf(want, sizeof want,
             "%s/20-bad.conf:1: include_dir: only allowed in the main configuration file", dirbuf);
    EXPECT_STR_HAS(err, want);

    /* a directory that cannot be opened: the main file's line */
    snprintf(text, sizeof text, "sys_interval 3\ninclude_dir %s/missing\n", dirbuf);
    TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:2: include_dir: cannot open directory");
    EXPECT_STR_HAS(err, "No such file or directory");

    /* a *.conf that is a directory */
    {
        char sub[1024];
        snprintf(sub, sizeof sub, "%s/30-dir.conf", dirbuf);
        inc_file(dirbuf, "20-bad.conf", "sys_interval 1\n");
        TN_REQUIRE(mkdir(sub, 0700) == 0);
        snprintf(text, sizeof text, "include_dir %s\n", dirbuf);
        TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
        EXPECT_STR_HAS(err, "t.conf:1: include_dir: ");
        EXPECT_STR_HAS(err, "30-dir.conf is not a regular file");
        rmdir(sub);
        TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), 0);
        TN_EXPECT_EQ_U32(c.max_keepalive, 60);
    }
    inc_rm(dirbuf);
}

/* mosquitto.conf(5): "The directory specified must not contain the main configuration file". */
TN_TEST(include_dir_containing_the_main_file_is_an_error)
{
    char dirbuf[512], text[700], path[1024], err[700];
    struct tn_config c;

    snprintf(dirbuf, sizeof dirbuf, "%s", inc_dir("inc self"));
    snprintf(text, sizeof text, "include_dir %s\n", dirbuf);
    inc_file(dirbuf, "main.conf", text);
    snprintf(path, sizeof path, "%s/main.conf", dirbuf);
    tn_config_defaults(&c);
    TN_EXPECT_EQ_INT(tn_config_load_file(&c, path, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "main.conf:1: include_dir: ");
    EXPECT_STR_HAS(err, "contains the main configuration file");
    inc_rm(dirbuf);
}

TN_TEST(include_dir_empty_and_reload_rereads_it)
{
    char dirbuf[512], text[700], err[700];
    struct tn_config c, neu;
    const char *path;

    snprintf(dirbuf, sizeof dirbuf, "%s", inc_dir("inc reload"));
    snprintf(text, sizeof text, "listener 18830 127.0.0.1\ninclude_dir %s\n", dirbuf);
    path = fixture_s("main.conf", text);
    TN_REQUIRE(args(&c, err, sizeof err, "-c", path, NULL) == 0);
    TN_EXPECT_EQ_U32(c.max_qos, 2); /* an empty directory is fine */
    inc_file(dirbuf, "qos.conf", "max_qos 1\n");
    TN_REQUIRE(tn_config_reload(&neu, &c, err, sizeof err) == 0);
    TN_EXPECT_EQ_U32(neu.max_qos, 1);
    fixture_rm("main.conf");
    inc_rm(dirbuf);
}

/* ---- listeners ----------------------------------------------------------------------------------
 */

TN_TEST(local_only_default_without_file)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(args(&c, err, sizeof err, NULL) == 0);
    EXPECT_STR_EQ(c.path, "");
    TN_EXPECT_EQ_INT(c.n_listeners, 2);
    TN_EXPECT(has_listener(&c, "127.0.0.1", 1883));
    TN_EXPECT(has_listener(&c, "::1", 1883));
    TN_EXPECT(c.local_only);
    TN_EXPECT(c.allow_anonymous);
}

TN_TEST(local_only_when_file_has_no_listener)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load_finish(&c, "max_keepalive 30\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 2);
    TN_EXPECT(has_listener(&c, "127.0.0.1", 1883));
    TN_EXPECT(has_listener(&c, "::1", 1883));
    TN_EXPECT(c.local_only);
    TN_EXPECT(c.allow_anonymous);

    /* An explicit "allow_anonymous false" is kept (mosquitto 2.0 overrides it). */
    TN_REQUIRE(load_finish(&c, "allow_anonymous false\n", err, sizeof err) == 0);
    TN_EXPECT(c.local_only);
    TN_EXPECT(!c.allow_anonymous);
}

TN_TEST(listener_forms)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load_finish(&c,
                           "listener 1884\n"
                           "listener 1885 127.0.0.1\n"
                           "listener 1886 ::1\n"
                           "listener 1887 [::1]\n"
                           "listener 1888 localhost\n"
                           "listener 1889 0:0:0:0:0:0:0:1\n"
                           "listener 1890 0.0.0.0\n"
                           "listener 1890 ::\n",
                           err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 9);
    TN_EXPECT(has_listener(&c, "", 1884));
    TN_EXPECT(has_listener(&c, "127.0.0.1", 1885));
    TN_EXPECT(has_listener(&c, "::1", 1886));
    TN_EXPECT(has_listener(&c, "::1", 1887));
    TN_EXPECT(has_listener(&c, "127.0.0.1", 1888));
    TN_EXPECT(has_listener(&c, "::1", 1888));
    TN_EXPECT(has_listener(&c, "::1", 1889)); /* canonical form */
    TN_EXPECT(has_listener(&c, "0.0.0.0", 1890));
    TN_EXPECT(has_listener(&c, "::", 1890));
    TN_EXPECT(!c.local_only);
    TN_EXPECT(!c.allow_anonymous); /* mosquitto 2: false once a listener is configured */
}

TN_TEST(listener_conflicts)
{
    static const struct {
        const char *text;
        const char *want;
    } cases[] = {
        {"listener 1884\nlistener 1884\n", "t.conf:2: listener: *:1884 overlaps listener *:1884"},
        {"listener 1884 127.0.0.1\nlistener 1884 127.0.0.1\n", "t.conf:2: listener: 127.0.0.1"},
        {"listener 1884 127.0.0.1\nlistener 1884\n", "t.conf:2: listener: *:1884 overlaps"},
        {"listener 1884 ::1\nlistener 1884 ::0:1\n", "t.conf:2: listener: [::1]:1884 overlaps"},
        {"listener 1884 0.0.0.0\nlistener 1884 10.0.0.1\n", "t.conf:2: listener: 10.0.0.1:1884"},
        {"listener 1884 ::\nlistener 1884 ::1\n", "t.conf:2: listener: [::1]:1884 overlaps"},
        {"listener 1884 localhost\nlistener 1884 ::1\n", "t.conf:2: listener: [::1]:1884"},
        {"listener 1883\nport 1883\n", "t.conf:2: default listener (port/bind_address): *:1883"},
        {"listener 1883 127.0.0.1\nbind_address 127.0.0.1\n", "t.conf:2: default listener"},
    };
    struct tn_config c;
    char err[512];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = load_finish(&c, cases[i].text, err, sizeof err);
        if (r != -EINVAL || !strstr(err, cases[i].want)) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "case %zu: r=%d err=\"%s\" want \"%s\"\n", i, r, err, cases[i].want);
        }
    }
    /* Different families or addresses on one port do not conflict. */
    TN_EXPECT(load_finish(&c, "listener 1884 0.0.0.0\nlistener 1884 ::1\n", err, sizeof err) == 0);
    TN_EXPECT(load_finish(&c, "listener 1884 127.0.0.1\nlistener 1884 127.0.0.2\n", err,
                          sizeof err) == 0);
}

TN_TEST(too_many_listeners)
{
    struct tn_config c;
    char err[512], text[1024];
    size_t n = 0;

    for (int i = 0; i < TN_MAX_LISTENERS; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "listener %d\n", 2000 + i);
    TN_REQUIRE(load_finish(&c, text, err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, TN_MAX_LISTENERS);

    snprintf(text + n, sizeof text - n, "listener 3000\n");
    TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:17: listener: more than 16 listeners");

    /* localhost counts twice: 15 + 2 > 16. */
    n = 0;
    for (int i = 0; i < TN_MAX_LISTENERS - 1; i++)
        n += (size_t)snprintf(text + n, sizeof text - n, "listener %d\n", 2000 + i);
    snprintf(text + n, sizeof text - n, "listener 3000 localhost\n");
    TN_EXPECT_EQ_INT(load(&c, text, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "t.conf:16: listener: more than 16 listeners");
}

TN_TEST(default_listener_port_and_bind_address)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load_finish(&c, "port 1999\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 1);
    TN_EXPECT(has_listener(&c, "", 1999));
    TN_EXPECT(!c.local_only);
    TN_EXPECT(!c.allow_anonymous);

    TN_REQUIRE(load_finish(&c, "bind_address 127.0.0.1\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 1);
    TN_EXPECT(has_listener(&c, "127.0.0.1", 1883));

    TN_REQUIRE(load_finish(&c, "bind_address localhost\nport 1999\nlistener 2000\n", err,
                           sizeof err) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 3);
    TN_EXPECT(has_listener(&c, "127.0.0.1", 1999));
    TN_EXPECT(has_listener(&c, "::1", 1999));
    TN_EXPECT(has_listener(&c, "", 2000));

    TN_REQUIRE(load_finish(&c, "port 1999\nport 2001\n", err, sizeof err) == 0); /* last wins */
    TN_EXPECT_EQ_INT(c.n_listeners, 1);
    TN_EXPECT(has_listener(&c, "", 2001));
}

TN_TEST(finish_twice_is_an_error)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(load_finish(&c, "", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_finish(&c, err, sizeof err), -EINVAL);
    TN_EXPECT_EQ_INT(c.n_listeners, 2);
}

TN_TEST(listener_str)
{
    struct tn_listener_conf l = {.host = "", .port = 1883};
    char b[96];

    EXPECT_STR_EQ(tn_config_listener_str(&l, b, sizeof b), "*:1883");
    strcpy(l.host, "127.0.0.1");
    EXPECT_STR_EQ(tn_config_listener_str(&l, b, sizeof b), "127.0.0.1:1883");
    strcpy(l.host, "::1");
    EXPECT_STR_EQ(tn_config_listener_str(&l, b, sizeof b), "[::1]:1883");
    EXPECT_STR_EQ(tn_config_listener_str(&l, b, 4), "[::");
}

/* ---- command line
 * -------------------------------------------------------------------------------- */

TN_TEST(args_p_repeatable_without_file)
{
    struct tn_config c;
    char err[512];

    TN_REQUIRE(args(&c, err, sizeof err, "-p", "2001", "--port", "2002", "--port=2003", NULL) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 6);
    TN_EXPECT(has_listener(&c, "127.0.0.1", 2001));
    TN_EXPECT(has_listener(&c, "::1", 2001));
    TN_EXPECT(has_listener(&c, "127.0.0.1", 2002));
    TN_EXPECT(has_listener(&c, "::1", 2003));
    TN_EXPECT(!has_listener(&c, "127.0.0.1", 1883));
    TN_EXPECT(c.local_only);
    TN_EXPECT(c.allow_anonymous);
}

TN_TEST(args_p_replaces_default_listener_port)
{
    struct tn_config c;
    char err[512];
    const char *path = fixture_s("p.conf", "port 1999\nbind_address 10.0.0.1\nlistener 2000\n");

    TN_REQUIRE(args(&c, err, sizeof err, "-c", path, "-p", "2001", "-p", "2002", NULL) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 3);
    TN_EXPECT(has_listener(&c, "", 2000));
    TN_EXPECT(has_listener(&c, "10.0.0.1", 2001));
    TN_EXPECT(has_listener(&c, "10.0.0.1", 2002));
    TN_EXPECT(!has_listener(&c, "10.0.0.1", 1999));
    TN_EXPECT(!c.local_only);
    fixture_rm("p.conf");
}

TN_TEST(args_p_next_to_file_listeners_is_loopback)
{
    struct tn_config c;
    char err[512];
    const char *path = fixture_s("l.conf", "listener 2000\n");

    TN_REQUIRE(args(&c, err, sizeof err, "-p", "2001", "-c", path, NULL) == 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 3);
    TN_EXPECT(has_listener(&c, "", 2000));
    TN_EXPECT(has_listener(&c, "127.0.0.1", 2001));
    TN_EXPECT(has_listener(&c, "::1", 2001));
    TN_EXPECT(!c.local_only);
    TN_EXPECT(!c.allow_anonymous);

    /* -p on a port a file listener already has is an error, not a silent duplicate. */
    TN_EXPECT(args(&c, err, sizeof err, "-c", path, "-p", "2000", NULL) == -EINVAL);
    EXPECT_STR_HAS(err, "-p 2000: 127.0.0.1:2000 overlaps listener *:2000");
    fixture_rm("l.conf");
}

TN_TEST(args_errors)
{
    static const struct {
        const char *a[4];
        int r;
        const char *want;
    } cases[] = {
        {{"-c"}, -EINVAL, "option -c needs a FILE"},
        {{"-p"}, -EINVAL, "option -p needs a PORT"},
        {{"-p", "0"}, -EINVAL, "invalid port '0' for -p"},
        {{"-p", "65536"}, -EINVAL, "invalid port '65536'"},
        {{"-p", "x1"}, -EINVAL, "invalid port 'x1'"},
        {{"-p", "1884", "-p", "1884"}, -EINVAL, "-p 1884: 127.0.0.1:1884 overlaps"},
        {{"-d"}, -ENOTSUP, "option -d (daemon mode) is not supported"},
        {{"--daemon"}, -ENOTSUP, "not supported"},
        {{"-x"}, -EINVAL, "unknown option '-x'"},
        {{"--verbose=yes"}, -EINVAL, "unknown option '--verbose=yes'"},
        {{"extra"}, -EINVAL, "unexpected argument 'extra'"},
        {{"-c", "/nonexistent/a.conf", "-c", "/b"}, -EINVAL, "option -c given twice"},
    };
    struct tn_config c;
    char err[512];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int r = args(&c, err, sizeof err, cases[i].a[0], cases[i].a[1], cases[i].a[2],
                     cases[i].a[3], NULL);
        if (r != cases[i].r || !strstr(err, cases[i].want)) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "case %zu: r=%d err=\"%s\" want \"%s\"\n", i, r, err, cases[i].want);
        }
    }
}

TN_TEST(args_too_many_p)
{
    struct tn_config c;
    char err[512], ports[TN_MAX_LISTENERS + 1][8];
    char *argv[2 * (TN_MAX_LISTENERS + 1) + 1];
    int argc = 0;

    argv[argc++] = (char *)"ternd";
    for (int i = 0; i <= TN_MAX_LISTENERS; i++) {
        snprintf(ports[i], sizeof ports[i], "%d", 3000 + i);
        argv[argc++] = (char *)"-p";
        argv[argc++] = ports[i];
    }
    tn_config_defaults(&c);
    TN_EXPECT_EQ_INT(tn_config_from_args(&c, argc, argv, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "too many -p options");

    /* 8 loopback pairs fill the 16 slots; the 9th -p does not fit. */
    tn_config_defaults(&c);
    TN_EXPECT_EQ_INT(tn_config_from_args(&c, 1 + 2 * 9, argv, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "-p 3008: more than 16 listeners");
    tn_config_defaults(&c);
    TN_EXPECT_EQ_INT(tn_config_from_args(&c, 1 + 2 * 8, argv, err, sizeof err), 0);
    TN_EXPECT_EQ_INT(c.n_listeners, 16);
}

TN_TEST(args_c_missing_file)
{
    struct tn_config c;
    char err[512], path[512];

    snprintf(path, sizeof path, "%s/missing.conf", tmp_dir());
    TN_EXPECT_EQ_INT(args(&c, err, sizeof err, "-c", path, NULL), -ENOENT);
    EXPECT_STR_HAS(err, "missing.conf: cannot open: No such file or directory");
}

TN_TEST(args_c_bad_file_reports_line)
{
    struct tn_config c;
    char err[512];
    const char *path = fixture_s("bad.conf", "listener 1884\n\nmax_keepalive 1\n");

    TN_EXPECT_EQ_INT(args(&c, err, sizeof err, "--config", path, NULL), -EINVAL);
    EXPECT_STR_HAS(err, "bad.conf:3: max_keepalive: 1 is out of range");
    TN_EXPECT_EQ_INT(args(&c, err, sizeof err, "--test-config", "-c", path, NULL), -EINVAL);
    fixture_rm("bad.conf");
}

TN_TEST(args_config_long_form_and_verbose)
{
    struct tn_config c;
    char err[512], opt[600];
    const char *path = fixture_s("v.conf", "log_type error\nlistener 2000 127.0.0.1\n");

    snprintf(opt, sizeof opt, "--config=%s", path);
    TN_REQUIRE(args(&c, err, sizeof err, opt, "-v", NULL) == 0);
    TN_EXPECT(c.verbose);
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_ALL); /* -v overrides log_type, as mosquitto's */
    TN_EXPECT(c.path[0] == '/');
    EXPECT_STR_HAS(c.path, "v.conf");
    TN_EXPECT_EQ_INT(c.n_listeners, 1);

    TN_REQUIRE(args(&c, err, sizeof err, "-c", path, NULL) == 0);
    TN_EXPECT(!c.verbose);
    TN_EXPECT_EQ_HEX(c.log_type, TN_LOG_ERR);
    fixture_rm("v.conf");
}

TN_TEST(args_help_and_version)
{
    struct tn_config c;
    char err[512], out[4096];
    struct capture cap;

    capture_begin(&cap);
    int r = args(&c, err, sizeof err, "-h", NULL);
    capture_end(&cap, out, sizeof out);
    TN_EXPECT_EQ_INT(r, 1);
    EXPECT_STR_HAS(out, "Usage: ternd");
    EXPECT_STR_HAS(out, "127.0.0.1 and ::1");
    EXPECT_STR_HAS(out, "-d (daemon) is not supported");

    capture_begin(&cap);
    r = args(&c, err, sizeof err, "--help", NULL);
    capture_end(&cap, out, sizeof out);
    TN_EXPECT_EQ_INT(r, 1);
    EXPECT_STR_HAS(out, "--test-config");

    TN_EXPECT_EQ_INT(args(&c, err, sizeof err, "-V", NULL), 1);
    TN_EXPECT(c.print_version);
    TN_EXPECT_EQ_INT(args(&c, err, sizeof err, "--version", NULL), 1);
    TN_EXPECT(c.print_version);
    TN_EXPECT_EQ_INT(args(&c, err, sizeof err, NULL), 0);
    TN_EXPECT(!c.print_version);
}

TN_TEST(args_test_config)
{
    struct tn_config c;
    char err[512], out[4096];
    struct capture cap;
    const char *path = fixture_s("tc.conf", "listener 2000 127.0.0.1\nlistener 2001 ::1\n");

    capture_begin(&cap);
    int r = args(&c, err, sizeof err, "-c", path, "--test-config", NULL);
    capture_end(&cap, out, sizeof out);
    TN_EXPECT_EQ_INT(r, 1);
    TN_EXPECT(c.test_config);
    EXPECT_STR_HAS(out, "tc.conf: configuration OK; listeners: 127.0.0.1:2000, [::1]:2001\n");

    capture_begin(&cap);
    r = args(&c, err, sizeof err, "--test-config", NULL);
    capture_end(&cap, out, sizeof out);
    TN_EXPECT_EQ_INT(r, 1);
    EXPECT_STR_HAS(out, "(no file): configuration OK; listeners: 127.0.0.1:1883, [::1]:1883 "
                        "(local only)");
    fixture_rm("tc.conf");
}

/* ---- reload -------------------------------------------------------------------------------------
 */

TN_TEST(restart_needed)
{
    struct tn_config a, b;
    char err[512], msg[1024];

    TN_REQUIRE(load_finish(&a, "listener 2000\nlistener 2001 127.0.0.1\n", err, sizeof err) == 0);
    b = a;
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 0);
    EXPECT_STR_EQ(msg, "");

    /* Settings that apply at run time do not count. */
    b.max_keepalive = 30;
    b.allow_anonymous = !a.allow_anonymous;
    b.max_connections = 3;
    b.log_dest = TN_LOGDEST_FILE;
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 0);

    /* The same listeners in another order are the same. */
    TN_REQUIRE(load_finish(&b, "listener 2001 127.0.0.1\nlistener 2000\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 0);

    TN_REQUIRE(load_finish(&b, "listener 2000\nlistener 2002 127.0.0.1\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 1);
    EXPECT_STR_EQ(msg, "listeners changed (*:2000 127.0.0.1:2001 -> *:2000 127.0.0.1:2002): "
                       "restart ternd to apply\n");

    b = a;
    b.workers = 4;
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 1);
    EXPECT_STR_EQ(msg, "workers changed (auto -> 4): restart ternd to apply\n");

    b.n_listeners = 1;
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 2);
    EXPECT_STR_HAS(msg, "listeners changed (*:2000 127.0.0.1:2001 -> *:2000)");
    EXPECT_STR_HAS(msg, "workers changed");

    /* A small or absent buffer still gets the count, and a terminated message. */
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, NULL, 0), 2);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, 10), 2);
    TN_EXPECT_EQ_INT((long long)strlen(msg), 9);

    /* Duplicate-free lists of equal size but different content differ both ways. */
    TN_REQUIRE(load_finish(&b, "listener 2000\nlistener 2001\n", err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&a, &b, msg, sizeof msg), 1);
}

TN_TEST(reload_rereads_file_and_keeps_command_line)
{
    struct tn_config old, neu;
    char err[512], msg[1024];
    const char *path = fixture_s("r.conf", "port 2000\nmax_keepalive 60\n");
    char saved[512];

    snprintf(saved, sizeof saved, "%s", path);
    TN_REQUIRE(args(&old, err, sizeof err, "-c", saved, "-p", "2100", "-v", NULL) == 0);
    TN_EXPECT(has_listener(&old, "", 2100));
    TN_EXPECT_EQ_U32(old.max_keepalive, 60);

    fixture_s("r.conf", "port 2000\nmax_keepalive 90\nlog_type error\n");
    TN_REQUIRE(tn_config_reload(&neu, &old, err, sizeof err) == 0);
    TN_EXPECT_EQ_U32(neu.max_keepalive, 90);
    TN_EXPECT_EQ_INT(neu.n_listeners, 1);
    TN_EXPECT(has_listener(&neu, "", 2100)); /* -p still replaces the port */
    TN_EXPECT(neu.verbose);
    TN_EXPECT_EQ_HEX(neu.log_type, TN_LOG_ALL);
    EXPECT_STR_EQ(neu.path, old.path);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&old, &neu, msg, sizeof msg), 0);

    fixture_s("r.conf", "port 2000\nlistener 2200\nworkers 2\n");
    TN_REQUIRE(tn_config_reload(&neu, &old, err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&old, &neu, msg, sizeof msg), 2);

    fixture_s("r.conf", "port 2000\nmax_keepalive 1\n");
    TN_EXPECT_EQ_INT(tn_config_reload(&neu, &old, err, sizeof err), -EINVAL);
    EXPECT_STR_HAS(err, "r.conf:2: max_keepalive:");

    fixture_rm("r.conf");
    TN_EXPECT_EQ_INT(tn_config_reload(&neu, &old, err, sizeof err), -ENOENT);

    /* Without a file, a reload rebuilds the defaults and the -p listeners. */
    TN_REQUIRE(args(&old, err, sizeof err, "-p", "2300", NULL) == 0);
    TN_REQUIRE(tn_config_reload(&neu, &old, err, sizeof err) == 0);
    TN_EXPECT_EQ_INT(tn_config_restart_needed(&old, &neu, msg, sizeof msg), 0);
    TN_EXPECT(neu.local_only);
}

/* The sample configurations in tests/ternd/, found from this file's path. */
TN_TEST(sample_configs_in_tree_are_valid)
{
    static const char *const names[] = {"ternd.conf", "local-only.conf"};
    struct tn_config c;
    char err[512], path[1100], dir[1024];
    char *slash;

    snprintf(dir, sizeof dir, "%s", __FILE__);
    slash = strstr(dir, "src/ternd/config_test.c");
    TN_REQUIRE(slash != NULL);
    *slash = '\0';
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%stests/ternd/%s", dir, names[i]);
        tn_config_defaults(&c);
        int r = tn_config_load_file(&c, path, err, sizeof err);
        if (r == 0)
            r = tn_config_finish(&c, err, sizeof err);
        if (r != 0) {
            tn_fail_(__FILE__, __LINE__);
            fprintf(stderr, "%s: %s\n", path, err);
        }
    }
}

/* Last in file order, so it runs last: removes the fixture directory. */
TN_TEST(zz_cleanup)
{
    TN_EXPECT_EQ_INT(rmdir(tmp_dir()), 0);
}

TN_TEST_MAIN()
