/* SPDX-License-Identifier: MIT */
/*
 * src/ternd/config.c - ternd's configuration: defaults, the Mosquitto-format file parser, the
 * command line, the listener rules (local-only default, -p) and the reload comparison.
 *
 * File format (mosquitto.conf(5)): one `option value...` per line, separated by spaces or
 * tabs; blank lines and lines whose first non-blank character is `#` are ignored; CRLF line
 * ends and a UTF-8 byte order mark are accepted. Every bad line is an error naming the file,
 * the line and the option; nothing is silently ignored. The reference of every option is
 * docs/ternd.conf.md.
 *
 * Owns: nothing beyond the caller's struct tn_config; no globals, no getopt state.
 * Thread: the main thread (start-up and SIGHUP reload).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tern/codec.h"

#define LINE_MAX_LEN 65536
#define MAX_TOKENS 16
#define MQTT_MAX_PAYLOAD 268435455u      /* largest Remaining Length */
#define MQTT_MAX_PACKET (268435455u + 5) /* plus fixed header byte and 4-byte length */
#define WORKERS_MAX 1024
#define DEFAULT_PORT 1883

__attribute__((format(printf, 3, 4))) static void set_err(char *err, size_t n, const char *fmt, ...)
{
    va_list ap;

    if (!err || n == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, n, fmt, ap);
    va_end(ap);
}

void tn_config_defaults(struct tn_config *c)
{
    memset(c, 0, sizeof *c);
    c->allow_anonymous = false;
    c->max_connections = 0;
    c->max_keepalive = 65535;
    c->max_packet_size = 0;
    c->message_size_limit = 0;
    c->max_inflight_messages = 20;
    c->max_queued_messages = 100000; /* mosquitto: 1000; see docs/ternd.conf.md */
    c->max_queued_bytes = 0;
    c->queue_qos0_messages = false;
    c->retain_available = true;
    c->persistent_client_expiration = -1;
    c->sys_interval = 10;
    c->log_dest = TN_LOGDEST_STDERR;
    c->log_type = TN_LOG_ERR | TN_LOG_WARNING | TN_LOG_NOTICE | TN_LOG_INFO;
    c->log_timestamp = true;
    c->connection_messages = true;
    c->workers = 0;
    c->max_qos = 2;
    c->max_topic_alias = 10;
    c->allow_zero_length_clientid = true;
    snprintf(c->auto_id_prefix, sizeof c->auto_id_prefix, "auto-");
    c->set_tcp_nodelay = true; /* mosquitto: false; see docs/ternd.conf.md */
    c->check_retain_source = true;
    snprintf(c->persistence_file, sizeof c->persistence_file, "mosquitto.db");
    c->autosave_interval = 1800;
    c->def_port = DEFAULT_PORT;
}

/* ---- listeners -------------------------------------------------------------------------- */

const char *tn_config_listener_str(const struct tn_listener_conf *l, char *buf, size_t n)
{
    if (n == 0)
        return buf;
    if (l->host[0] == '\0')
        snprintf(buf, n, "*:%u", (unsigned)l->port);
    else if (strchr(l->host, ':'))
        snprintf(buf, n, "[%s]:%u", l->host, (unsigned)l->port);
    else
        snprintf(buf, n, "%s:%u", l->host, (unsigned)l->port);
    return buf;
}

/* Validate a bind address and write its canonical form: numeric IPv4, numeric IPv6 (brackets
 * allowed), or "localhost", which is kept as is and becomes 127.0.0.1 + ::1 when added.
 * Host names are not resolved: a listener must not depend on DNS at start-up. */
static int host_parse(const char *in, char out[64])
{
    unsigned char bin[16];
    char tmp[64];
    size_t len = strlen(in);

    if (strcmp(in, "localhost") == 0) {
        strcpy(out, "localhost");
        return 0;
    }
    if (len == 0 || len >= sizeof tmp)
        return -EINVAL;
    if (in[0] == '[') {
        if (len < 3 || in[len - 1] != ']')
            return -EINVAL;
        memcpy(tmp, in + 1, len - 2);
        tmp[len - 2] = '\0';
        if (inet_pton(AF_INET6, tmp, bin) != 1)
            return -EINVAL;
        return inet_ntop(AF_INET6, bin, out, 64) ? 0 : -EINVAL;
    }
    if (inet_pton(AF_INET, in, bin) == 1)
        return inet_ntop(AF_INET, bin, out, 64) ? 0 : -EINVAL;
    if (inet_pton(AF_INET6, in, bin) == 1)
        return inet_ntop(AF_INET6, bin, out, 64) ? 0 : -EINVAL;
    return -EINVAL;
}

static bool host_is_v6(const char *h)
{
    return strchr(h, ':') != NULL;
}

/* Two listeners on one port collide when one address includes the other. */
static bool listeners_overlap(const struct tn_listener_conf *a, const struct tn_listener_conf *b)
{
    if (a->port != b->port)
        return false;
    if (a->host[0] == '\0' || b->host[0] == '\0' || strcmp(a->host, b->host) == 0)
        return true;
    if (strcmp(a->host, "0.0.0.0") == 0 && !host_is_v6(b->host))
        return true;
    if (strcmp(b->host, "0.0.0.0") == 0 && !host_is_v6(a->host))
        return true;
    if (strcmp(a->host, "::") == 0 && host_is_v6(b->host))
        return true;
    if (strcmp(b->host, "::") == 0 && host_is_v6(a->host))
        return true;
    return false;
}

/* Append one listener ("localhost" adds two). On error writes a reason (no location). */
static int listener_add(struct tn_config *c, const char *host, uint16_t port, char *why, size_t n)
{
    struct tn_listener_conf l;
    char a[96], b[96];

    if (strcmp(host, "localhost") == 0) {
        int r = listener_add(c, "127.0.0.1", port, why, n);
        return r < 0 ? r : listener_add(c, "::1", port, why, n);
    }
    memset(&l, 0, sizeof l);
    snprintf(l.host, sizeof l.host, "%s", host);
    l.port = port;
    for (int i = 0; i < c->n_listeners; i++) {
        if (listeners_overlap(&c->listeners[i], &l)) {
            set_err(why, n, "%s overlaps listener %s defined before",
                    tn_config_listener_str(&l, a, sizeof a),
                    tn_config_listener_str(&c->listeners[i], b, sizeof b));
            return -EINVAL;
        }
    }
    if (c->n_listeners >= TN_MAX_LISTENERS) {
        set_err(why, n, "more than %d listeners (each of localhost's 127.0.0.1 and ::1 counts)",
                TN_MAX_LISTENERS);
        return -EINVAL;
    }
    c->listeners[c->n_listeners++] = l;
    return 0;
}

/* ---- value parsing ---------------------------------------------------------------------- */

/* Strict decimal integer: optional '-', digits only, no overflow. */
static int int_parse(const char *s, int64_t *out)
{
    const char *p = s;
    bool neg = false;
    uint64_t v = 0;

    if (*p == '-') {
        neg = true;
        p++;
    }
    if (*p == '\0')
        return -EINVAL;
    for (; *p; p++) {
        if (*p < '0' || *p > '9')
            return -EINVAL;
        if (v > ((uint64_t)INT64_MAX - (uint64_t)(*p - '0')) / 10)
            return -ERANGE;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    *out = neg ? -(int64_t)v : (int64_t)v;
    return 0;
}

/* Mosquitto's duration: a positive integer and a unit, h d w m y (m = 30 days, y = 365 days);
 * tern also takes s (seconds). */
static int duration_parse(const char *s, int64_t *out)
{
    size_t len = strlen(s);
    int64_t mult, v = 0;
    char num[32];

    if (len < 2 || len >= sizeof num)
        return -EINVAL;
    switch (s[len - 1]) {
    case 's': mult = 1; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 7 * 86400; break;
    case 'm': mult = 30 * 86400; break;
    case 'y': mult = 365 * 86400; break;
    default: return -EINVAL;
    }
    memcpy(num, s, len - 1);
    num[len - 1] = '\0';
    if (num[0] == '-' || int_parse(num, &v) < 0)
        return -EINVAL;
    if (v == 0)
        return -ERANGE;
    if (__builtin_mul_overflow(v, mult, out))
        return -ERANGE;
    return 0;
}

/* ---- the file parser -------------------------------------------------------------------- */

struct parse {
    struct tn_config *c;
    const char *file; /* as the user named it (or include_dir/NAME), for messages */
    unsigned line;
    const char *opt; /* option being parsed */
    char *err;
    size_t errlen;
    unsigned level; /* 0: the main file; 1: a file read by include_dir */
    dev_t main_dev; /* the main file, which an include_dir must not contain */
    ino_t main_ino;
    bool log_dest_set, log_type_set, max_conn_set; /* shared by the main and included files */
};

__attribute__((format(printf, 2, 3))) static int perr(struct parse *p, const char *fmt, ...)
{
    char why[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    set_err(p->err, p->errlen, "%s:%u: %s: %s", p->file, p->line, p->opt, why);
    return -EINVAL;
}

static int nargs(struct parse *p, int argc, int min, int max)
{
    if (argc < min)
        return perr(p, min == 1 && max == 1 ? "missing value" : "missing value (needs %d)", min);
    if (argc > max)
        return perr(p, "too many values (takes %d%s)", max, max == 1 ? "" : " at most");
    return 0;
}

static int get_int(struct parse *p, int argc, char **argv, int64_t min, int64_t max, int64_t *out)
{
    int r = nargs(p, argc, 1, 1);

    if (r < 0)
        return r;
    r = int_parse(argv[0], out);
    if (r == -EINVAL)
        return perr(p, "expected an integer, got '%.64s'", argv[0]);
    if (r < 0 || *out < min || *out > max)
        return perr(p, "%.64s is out of range (%lld..%lld)", argv[0], (long long)min,
                    (long long)max);
    return 0;
}

/* true/false (mosquitto also takes 1/0). */
static int get_bool(struct parse *p, int argc, char **argv, bool *out)
{
    int r = nargs(p, argc, 1, 1);

    if (r < 0)
        return r;
    if (strcmp(argv[0], "true") == 0 || strcmp(argv[0], "1") == 0)
        *out = true;
    else if (strcmp(argv[0], "false") == 0 || strcmp(argv[0], "0") == 0)
        *out = false;
    else
        return perr(p, "expected true or false, got '%.64s'", argv[0]);
    return 0;
}

static int get_port(struct parse *p, const char *s, uint16_t *out)
{
    int64_t v = 0;

    if (int_parse(s, &v) < 0 || v < 1 || v > 65535) {
        if (strcmp(s, "0") == 0)
            return perr(p, "port 0 (a unix socket listener) is not supported yet");
        return perr(p, "invalid port '%.64s' (1..65535)", s);
    }
    *out = (uint16_t)v;
    return 0;
}

/* argv: the values (the option name excluded); rest: the line from the first value on, blanks
 * kept, for values that may contain blanks (paths), as mosquitto reads them. */
typedef int (*opt_fn)(struct parse *p, int argc, char **argv, const char *rest);

static int opt_listener(struct parse *p, int argc, char **argv, const char *rest)
{
    char host[64] = "", why[256];
    uint16_t port = 0;
    int r = nargs(p, argc, 1, 2);

    (void)rest;
    if (r < 0 || (r = get_port(p, argv[0], &port)) < 0)
        return r;
    if (argc == 2 && host_parse(argv[1], host) < 0)
        return perr(p,
                    "invalid bind address '%.64s' (a numeric IPv4 or IPv6 address or "
                    "localhost; host names and unix sockets are not supported)",
                    argv[1]);
    if (listener_add(p->c, host, port, why, sizeof why) < 0)
        return perr(p, "%s", why);
    return 0;
}

static int opt_port(struct parse *p, int argc, char **argv, const char *rest)
{
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0 || (r = get_port(p, argv[0], &p->c->def_port)) < 0)
        return r;
    p->c->def_listener = true;
    p->c->def_line = p->line;
    return 0;
}

static int opt_bind_address(struct parse *p, int argc, char **argv, const char *rest)
{
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0)
        return r;
    if (host_parse(argv[0], p->c->def_host) < 0)
        return perr(p,
                    "invalid address '%.64s' (a numeric IPv4 or IPv6 address or "
                    "localhost; host names are not supported)",
                    argv[0]);
    p->c->def_listener = true;
    p->c->def_line = p->line;
    return 0;
}

static int opt_allow_anonymous(struct parse *p, int argc, char **argv, const char *rest)
{
    (void)rest;
    p->c->anon_set = true;
    return get_bool(p, argc, argv, &p->c->allow_anonymous);
}

static int opt_max_connections(struct parse *p, int argc, char **argv, const char *rest)
{
    int64_t v = 0;
    int r = get_int(p, argc, argv, -1, INT32_MAX, &v);

    (void)rest;
    if (r < 0)
        return r;
    /* mosquitto sets it per listener; tern has one broker-wide limit, so a second value would
     * silently mean something else than the file says. */
    if (p->max_conn_set)
        return perr(p, "given twice; tern has one broker-wide limit, not one per listener");
    p->max_conn_set = true;
    p->c->max_connections = v <= 0 ? 0 : (uint32_t)v;
    return 0;
}

#define INT_OPT(fname, field, type, min, max)                                                      \
    static int fname(struct parse *p, int argc, char **argv, const char *rest)                     \
    {                                                                                              \
        int64_t v = 0;                                                                             \
        int r = get_int(p, argc, argv, min, max, &v);                                              \
        (void)rest;                                                                                \
        if (r == 0)                                                                                \
            p->c->field = (type)v;                                                                 \
        return r;                                                                                  \
    }
INT_OPT(opt_max_keepalive, max_keepalive, uint16_t, 10, 65535)
INT_OPT(opt_max_packet_size, max_packet_size, uint32_t, 20, MQTT_MAX_PACKET)
INT_OPT(opt_message_size_limit, message_size_limit, uint32_t, 0, MQTT_MAX_PAYLOAD)
INT_OPT(opt_max_inflight_messages, max_inflight_messages, uint16_t, 0, 65535)
INT_OPT(opt_max_queued_messages, max_queued_messages, uint32_t, 0, INT32_MAX)
INT_OPT(opt_max_queued_bytes, max_queued_bytes, uint64_t, 0, INT64_MAX)
INT_OPT(opt_sys_interval, sys_interval, uint32_t, 0, 65535)

#define BOOL_OPT(fname, field)                                                                     \
    static int fname(struct parse *p, int argc, char **argv, const char *rest)                     \
    {                                                                                              \
        (void)rest;                                                                                \
        return get_bool(p, argc, argv, &p->c->field);                                              \
    }
BOOL_OPT(opt_queue_qos0_messages, queue_qos0_messages)
BOOL_OPT(opt_retain_available, retain_available)
BOOL_OPT(opt_log_timestamp, log_timestamp)
BOOL_OPT(opt_connection_messages, connection_messages)
BOOL_OPT(opt_allow_zero_length_clientid, allow_zero_length_clientid)
BOOL_OPT(opt_set_tcp_nodelay, set_tcp_nodelay)
BOOL_OPT(opt_upgrade_outgoing_qos, upgrade_outgoing_qos)
BOOL_OPT(opt_check_retain_source, check_retain_source)
BOOL_OPT(opt_persistence, persistence)
BOOL_OPT(opt_autosave_on_changes, autosave_on_changes)
INT_OPT(opt_max_qos, max_qos, uint8_t, 0, 2)
INT_OPT(opt_max_topic_alias, max_topic_alias, uint16_t, 0, 65535)
INT_OPT(opt_autosave_interval, autosave_interval, uint32_t, 0, INT32_MAX)

/* Deprecated in mosquitto 2, which ignores it. tern sends a message once per client however
 * many of its subscriptions match, so either value means nothing here; main says so. */
static int opt_allow_duplicate_messages(struct parse *p, int argc, char **argv, const char *rest)
{
    bool v = false;
    int r = get_bool(p, argc, argv, &v);

    (void)rest;
    if (r == 0)
        p->c->dup_msgs_set = true;
    return r;
}

/* A value that is the rest of the line (a path may contain blanks), at most cap - 1 bytes. */
static int get_text(struct parse *p, int argc, const char *rest, char *out, size_t cap)
{
    if (argc < 1)
        return perr(p, "missing value");
    if (strlen(rest) >= cap)
        return perr(p, "longer than %zu bytes", cap - 1);
    snprintf(out, cap, "%s", rest);
    return 0;
}

#define TEXT_OPT(fname, field)                                                                     \
    static int fname(struct parse *p, int argc, char **argv, const char *rest)                     \
    {                                                                                              \
        (void)argv;                                                                                \
        return get_text(p, argc, rest, p->c->field, sizeof p->c->field);                           \
    }
TEXT_OPT(opt_pid_file, pid_file)
TEXT_OPT(opt_persistence_location, persistence_location)
TEXT_OPT(opt_persistence_file, persistence_file)

/* The prefix goes into 5.0 CONNACK's Assigned Client Identifier, a UTF-8 string: no control
 * characters either, as it also ends up in log lines. */
static int opt_auto_id_prefix(struct parse *p, int argc, char **argv, const char *rest)
{
    char v[sizeof p->c->auto_id_prefix];
    int r = get_text(p, argc, rest, v, sizeof v);

    (void)argv;
    if (r < 0)
        return r;
    for (const unsigned char *q = (const unsigned char *)v; *q; q++)
        if (*q < 0x20 || *q == 0x7F)
            return perr(p, "contains a control character");
    if (!tern_utf8_is_valid((const uint8_t *)v, strlen(v)))
        return perr(p, "is not valid UTF-8");
    memcpy(p->c->auto_id_prefix, v, sizeof v);
    return 0;
}

static int opt_persistent_client_expiration(struct parse *p, int argc, char **argv,
                                            const char *rest)
{
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0)
        return r;
    r = duration_parse(argv[0], &p->c->persistent_client_expiration);
    if (r == -ERANGE)
        return perr(p, "duration '%.64s' is out of range (more than 0)", argv[0]);
    if (r < 0)
        return perr(p,
                    "invalid duration '%.64s' (a number and a unit: s, h, d, w, m = 30 days, "
                    "y = 365 days, e.g. 14d)",
                    argv[0]);
    return 0;
}

static int opt_log_dest(struct parse *p, int argc, char **argv, const char *rest)
{
    struct tn_config *c = p->c;
    unsigned bit = 0;

    if (argc < 1)
        return perr(p, "missing value");
    if (strcmp(argv[0], "file") == 0) {
        if (argc < 2)
            return perr(p, "'file' needs a path");
        if (c->log_dest & TN_LOGDEST_FILE)
            return perr(p, "only one 'file' destination may be given");
        rest += 4; /* "file", then the rest of the line: a path may contain spaces */
        while (*rest == ' ' || *rest == '\t')
            rest++;
        if (strlen(rest) >= sizeof c->log_file)
            return perr(p, "path too long");
        strcpy(c->log_file, rest);
        bit = TN_LOGDEST_FILE;
    } else {
        int r = nargs(p, argc, 1, 1);
        if (r < 0)
            return r;
        if (strcmp(argv[0], "stderr") == 0)
            bit = TN_LOGDEST_STDERR;
        else if (strcmp(argv[0], "stdout") == 0)
            bit = TN_LOGDEST_STDOUT;
        else if (strcmp(argv[0], "syslog") == 0)
            bit = TN_LOGDEST_SYSLOG;
        else if (strcmp(argv[0], "none") == 0)
            bit = 0;
        else if (strcmp(argv[0], "topic") == 0 || strcmp(argv[0], "dlt") == 0)
            return perr(p, "destination '%s' is not supported yet", argv[0]);
        else
            return perr(p,
                        "unknown destination '%.64s' (stderr, stdout, file PATH, syslog, "
                        "none)",
                        argv[0]);
    }
    /* As in mosquitto: the first log_dest replaces the default, later ones add; none clears. */
    if (!p->log_dest_set) {
        if (!(bit & TN_LOGDEST_FILE))
            c->log_file[0] = '\0';
        c->log_dest = 0;
        p->log_dest_set = true;
    }
    if (bit == 0) {
        c->log_dest = 0;
        c->log_file[0] = '\0';
    }
    c->log_dest |= bit;
    return 0;
}

static int opt_log_type(struct parse *p, int argc, char **argv, const char *rest)
{
    static const struct {
        const char *name;
        unsigned bits;
    } types[] = {
        {"error", TN_LOG_ERR},
        {"warning", TN_LOG_WARNING},
        {"notice", TN_LOG_NOTICE},
        {"information", TN_LOG_INFO},
        {"debug", TN_LOG_DEBUG},
        {"subscribe", TN_LOG_SUBSCRIBE},
        {"unsubscribe", TN_LOG_UNSUBSCRIBE},
        {"websockets", TN_LOG_WEBSOCKETS},
        {"all", TN_LOG_ALL},
        {"none", 0},
    };
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0)
        return r;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(argv[0], types[i].name) != 0)
            continue;
        if (!p->log_type_set) { /* the first log_type replaces the default */
            p->c->log_type = 0;
            p->log_type_set = true;
        }
        if (types[i].bits == 0)
            p->c->log_type = 0;
        p->c->log_type |= types[i].bits;
        return 0;
    }
    return perr(p,
                "unknown type '%.64s' (error, warning, notice, information, debug, "
                "subscribe, unsubscribe, websockets, all, none)",
                argv[0]);
}

static int opt_workers(struct parse *p, int argc, char **argv, const char *rest)
{
    int64_t v = 0;
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0)
        return r;
    if (strcmp(argv[0], "auto") == 0) {
        p->c->workers = 0;
        return 0;
    }
    if (int_parse(argv[0], &v) < 0 || v < 1 || v > WORKERS_MAX)
        return perr(p, "expected auto or a number 1..%d, got '%.64s'", WORKERS_MAX, argv[0]);
    p->c->workers = (int)v;
    return 0;
}

/* mosquitto's `user`: when started as root, switch to this user (and its primary group) once
 * the listening sockets are open. "root" stays root. Checked to exist at start-up by main. */
static int opt_user(struct parse *p, int argc, char **argv, const char *rest)
{
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0)
        return r;
    if (strlen(argv[0]) >= sizeof(p->c->user))
        return perr(p, "longer than %zu bytes", sizeof(p->c->user) - 1);
    snprintf(p->c->user, sizeof(p->c->user), "%s", argv[0]);
    return 0;
}

/* tern's own: where 5.0 clients should go while this broker stops (Server Reference with
 * DISCONNECT 0x9C "Use another server" at a graceful stop). */
static int opt_server_reference(struct parse *p, int argc, char **argv, const char *rest)
{
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0)
        return r;
    if (strlen(argv[0]) >= sizeof(p->c->server_reference))
        return perr(p, "longer than %zu bytes", sizeof(p->c->server_reference) - 1);
    snprintf(p->c->server_reference, sizeof(p->c->server_reference), "%s", argv[0]);
    return 0;
}

static int opt_per_listener_settings(struct parse *p, int argc, char **argv, const char *rest)
{
    bool v = false;
    int r = get_bool(p, argc, argv, &v);

    (void)rest;
    if (r == 0 && v)
        return perr(p, "true is not supported: tern's settings apply to every listener");
    return r;
}

static int opt_protocol(struct parse *p, int argc, char **argv, const char *rest)
{
    int r = nargs(p, argc, 1, 1);

    (void)rest;
    if (r < 0 || strcmp(argv[0], "mqtt") == 0)
        return r;
    if (strcmp(argv[0], "websockets") == 0)
        return perr(p, "websockets is not supported yet");
    return perr(p, "unknown protocol '%.64s' (mqtt)", argv[0]);
}

static int opt_include_dir(struct parse *p, int argc, char **argv, const char *rest);

static const struct {
    const char *name;
    opt_fn fn;
} options[] = {
    {"listener", opt_listener},
    {"port", opt_port},
    {"bind_address", opt_bind_address},
    {"allow_anonymous", opt_allow_anonymous},
    {"max_connections", opt_max_connections},
    {"max_keepalive", opt_max_keepalive},
    {"max_packet_size", opt_max_packet_size},
    {"message_size_limit", opt_message_size_limit},
    {"max_inflight_messages", opt_max_inflight_messages},
    {"max_queued_messages", opt_max_queued_messages},
    {"max_queued_bytes", opt_max_queued_bytes},
    {"queue_qos0_messages", opt_queue_qos0_messages},
    {"retain_available", opt_retain_available},
    {"persistent_client_expiration", opt_persistent_client_expiration},
    {"sys_interval", opt_sys_interval},
    {"log_dest", opt_log_dest},
    {"log_type", opt_log_type},
    {"log_timestamp", opt_log_timestamp},
    {"connection_messages", opt_connection_messages},
    {"workers", opt_workers},
    {"server_reference", opt_server_reference},
    {"user", opt_user},
    {"per_listener_settings", opt_per_listener_settings},
    {"protocol", opt_protocol},
    {"include_dir", opt_include_dir},
    {"pid_file", opt_pid_file},
    {"persistence", opt_persistence},
    {"persistence_location", opt_persistence_location},
    {"persistence_file", opt_persistence_file},
    {"autosave_interval", opt_autosave_interval},
    {"autosave_on_changes", opt_autosave_on_changes},
    {"max_qos", opt_max_qos},
    {"max_topic_alias", opt_max_topic_alias},
    {"allow_zero_length_clientid", opt_allow_zero_length_clientid},
    {"auto_id_prefix", opt_auto_id_prefix},
    {"set_tcp_nodelay", opt_set_tcp_nodelay},
    {"upgrade_outgoing_qos", opt_upgrade_outgoing_qos},
    {"check_retain_source", opt_check_retain_source},
    {"allow_duplicate_messages", opt_allow_duplicate_messages},
};

/* Mosquitto options tern does not implement yet, with the feature they belong to. They are
 * errors: a broker that ignored password_file would run open. */
static const struct {
    const char *name;
    const char *area;
} unsupported[] = {
    {"password_file", "authentication"},
    {"acl_file", "access control"},
    {"psk_file", "TLS-PSK"},
    {"psk_hint", "TLS-PSK"},
    {"auth_plugin", "plugins"},
    {"auth_plugin_deny_special_chars", "plugins"},
    {"plugin", "plugins"},
    {"clientid_prefixes", "authentication"},
    {"use_identity_as_username", "TLS"},
    {"use_subject_as_username", "TLS"},
    {"use_username_as_clientid", "authentication"},
    {"require_certificate", "TLS"},
    {"cafile", "TLS"},
    {"capath", "TLS"},
    {"certfile", "TLS"},
    {"keyfile", "TLS"},
    {"ciphers", "TLS"},
    {"ciphers_tls1.3", "TLS"},
    {"crlfile", "TLS"},
    {"dhparamfile", "TLS"},
    {"tls_engine", "TLS"},
    {"tls_engine_kpass_sha1", "TLS"},
    {"tls_keyform", "TLS"},
    {"tls_version", "TLS"},
    {"http_dir", "websockets"},
    {"websockets_log_level", "websockets"},
    {"websockets_headers_size", "websockets"},
    {"memory_limit", "limits"},
    {"max_inflight_bytes", "limits"},
    {"mount_point", "listeners"},
    {"socket_domain", "listeners"},
    {"bind_interface", "listeners"},
    {"log_facility", "logging"},
    {"log_timestamp_format", "logging"},
    {"connection", "bridges"},
    {"address", "bridges"},
    {"addresses", "bridges"},
    {"cleansession", "bridges"},
    {"local_cleansession", "bridges"},
    {"keepalive_interval", "bridges"},
    {"idle_timeout", "bridges"},
    {"local_clientid", "bridges"},
    {"local_password", "bridges"},
    {"local_username", "bridges"},
    {"notifications", "bridges"},
    {"notifications_local_only", "bridges"},
    {"notification_topic", "bridges"},
    {"remote_clientid", "bridges"},
    {"remote_password", "bridges"},
    {"remote_username", "bridges"},
    {"restart_timeout", "bridges"},
    {"round_robin", "bridges"},
    {"start_type", "bridges"},
    {"threshold", "bridges"},
    {"topic", "bridges"},
    {"try_private", "bridges"},
};

static const char *unsupported_area(const char *name)
{
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++)
        if (strcmp(name, unsupported[i].name) == 0)
            return unsupported[i].area;
    if (strncmp(name, "bridge_", 7) == 0)
        return "bridges";
    if (strncmp(name, "auth_opt_", 9) == 0 || strncmp(name, "plugin_opt_", 11) == 0)
        return "plugins";
    return NULL;
}

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

/* One line, already stripped of its line end. Returns 0 or -EINVAL with p->err set. */
static int parse_line(struct parse *p, char *line)
{
    char *argv[MAX_TOKENS], *cut[MAX_TOKENS];
    char cut_ch[MAX_TOKENS];
    /* twice the longest text value: a truncated rest is still too long for any of them */
    char rest[2 * TN_CONFIG_PATH_MAX] = "";
    size_t len = strlen(line);
    int n = 0, ncut = 0;
    char *s = line, *end;

    while (len > 0 && (is_blank(line[len - 1]) || line[len - 1] == '\r'))
        line[--len] = '\0';
    end = line + len;
    while (is_blank(*s))
        s++;
    if (*s == '\0' || *s == '#')
        return 0;
    /* Split in place, remembering what each cut replaced so that the text from the second
     * token on can be given whole (pid_file PATH, log_dest file PATH: a path may contain
     * blanks). */
    while (*s) {
        if (n == MAX_TOKENS) {
            p->opt = argv[0];
            return perr(p, "too many values");
        }
        argv[n++] = s;
        while (*s && !is_blank(*s))
            s++;
        if (*s) {
            cut[ncut] = s;
            cut_ch[ncut++] = *s;
            *s++ = '\0';
            while (is_blank(*s))
                s++;
        }
    }
    if (n > 1) {
        size_t k = 0;
        for (const char *q = argv[1]; q < end && k < sizeof rest - 1; q++) {
            char ch = *q;
            for (int i = 0; i < ncut; i++)
                if (cut[i] == q)
                    ch = cut_ch[i];
            rest[k++] = ch;
        }
        rest[k] = '\0';
    }
    p->opt = argv[0];
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if (strcmp(argv[0], options[i].name) == 0)
            return options[i].fn(p, n - 1, argv + 1, rest);
    if (unsupported_area(argv[0]))
        return perr(p, "not supported yet (%s)", unsupported_area(argv[0]));
    set_err(p->err, p->errlen, "%s:%u: unknown option '%.64s'", p->file, p->line, argv[0]);
    return -EINVAL;
}

/* Parse the lines of an open file into p (p->file names it; p->line counts from 0). */
static int parse_stream(struct parse *p, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int r = 0;

    p->line = 0;
    errno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        char *s = line;
        p->line++;
        if ((size_t)n > LINE_MAX_LEN) {
            set_err(p->err, p->errlen, "%s:%u: line longer than %d bytes", p->file, p->line,
                    LINE_MAX_LEN);
            r = -EINVAL;
            break;
        }
        if (strlen(line) != (size_t)n) {
            set_err(p->err, p->errlen, "%s:%u: line contains a NUL byte", p->file, p->line);
            r = -EINVAL;
            break;
        }
        if (n > 0 && line[n - 1] == '\n')
            line[--n] = '\0';
        if (p->line == 1 && strncmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3; /* UTF-8 byte order mark */
        if ((r = parse_line(p, s)) < 0)
            break;
        errno = 0;
    }
    if (r == 0 && ferror(f)) {
        r = errno ? -errno : -EIO;
        set_err(p->err, p->errlen, "%s: read error: %s", p->file, strerror(-r));
    }
    free(line);
    return r;
}

/* mosquitto's include_dir order (its scmp_p): letter by letter, case-insensitively first, then
 * upper case before lower case of the same letter: 00.conf 01.conf A.conf a.conf B.conf. */
static int include_cmp(const void *a, const void *b)
{
    const unsigned char *x = *(const unsigned char *const *)a;
    const unsigned char *y = *(const unsigned char *const *)b;

    for (; *x && *y; x++, y++) {
        int d = toupper(*x) - toupper(*y);
        if (d == 0)
            d = *x - *y;
        if (d != 0)
            return d;
    }
    return *x - *y;
}

static void names_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* The names in dir ending in ".conf" (more than the suffix, as in mosquitto), sorted. */
static int include_list(struct parse *p, const char *dir, char ***out, size_t *nout)
{
    char **v = NULL;
    size_t n = 0, cap = 0;
    struct dirent *de;
    DIR *d = opendir(dir);

    if (!d)
        return perr(p, "cannot open directory '%s': %s", dir, strerror(errno));
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nv = realloc(v, ncap * sizeof *nv);
            if (!nv)
                break;
            v = nv;
            cap = ncap;
        }
        if (!(v[n] = strdup(de->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (de) {
        names_free(v, n);
        return perr(p, "out of memory");
    }
    if (n > 1)
        qsort(v, n, sizeof *v, include_cmp);
    *out = v;
    *nout = n;
    return 0;
}

/* mosquitto's include_dir: read every DIR/\*.conf now, in include_cmp order. Only the main file
 * may use it (mosquitto: "only valid in the main configuration file"). */
static int opt_include_dir(struct parse *p, int argc, char **argv, const char *rest)
{
    char dir[TN_CONFIG_PATH_MAX], path[TN_CONFIG_PATH_MAX];
    const char *file = p->file, *opt = p->opt;
    unsigned line = p->line;
    char **names = NULL;
    size_t n = 0, dlen;
    int r;

    (void)argv;
    if (p->level > 0)
        return perr(p, "only allowed in the main configuration file, not in an included one");
    if ((r = get_text(p, argc, rest, dir, sizeof dir)) < 0)
        return r;
    dlen = strlen(dir);
    while (dlen > 1 && dir[dlen - 1] == '/')
        dir[--dlen] = '\0';
    if ((r = include_list(p, dir, &names, &n)) < 0)
        return r;
    for (size_t i = 0; i < n && r == 0; i++) {
        struct stat st;
        FILE *f;
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, names[i]) >= sizeof path) {
            r = perr(p, "%s/%s: path too long", dir, names[i]);
            break;
        }
        if (stat(path, &st) < 0) {
            r = -errno;
            set_err(p->err, p->errlen, "%s: cannot open: %s", path, strerror(errno));
            break;
        }
        if (!S_ISREG(st.st_mode)) {
            r = perr(p, "%s is not a regular file", path);
            break;
        }
        if (st.st_dev == p->main_dev && st.st_ino == p->main_ino) {
            r = perr(p, "'%s' contains the main configuration file (%s)", dir, names[i]);
            break;
        }
        if (!(f = fopen(path, "r"))) {
            r = -errno;
            set_err(p->err, p->errlen, "%s: cannot open: %s", path, strerror(errno));
            break;
        }
        p->level = 1;
        p->file = path;
        r = parse_stream(p, f);
        fclose(f);
        p->level = 0;
        p->file = file;
        p->line = line;
        p->opt = opt;
    }
    names_free(names, n);
    return r;
}

int tn_config_load_file(struct tn_config *c, const char *path, char *err, size_t errlen)
{
    struct parse p = {.c = c, .file = path, .err = err, .errlen = errlen};
    struct stat st;
    char *abs;
    FILE *f;
    int r;

    if (strlen(path) >= sizeof c->path) {
        set_err(err, errlen, "%.64s...: path too long", path);
        return -ENAMETOOLONG;
    }
    f = fopen(path, "r");
    if (!f) {
        r = -errno;
        set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return r;
    }
    if (fstat(fileno(f), &st) == 0) {
        p.main_dev = st.st_dev;
        p.main_ino = st.st_ino;
    }
    abs = realpath(path, NULL);
    snprintf(c->path, sizeof c->path, "%s", abs && strlen(abs) < sizeof c->path ? abs : path);
    free(abs);
    r = parse_stream(&p, f);
    fclose(f);
    return r;
}

/* ---- listeners made final ----------------------------------------------------------------- */

int tn_config_finish(struct tn_config *c, char *err, size_t errlen)
{
    int from_file = c->n_listeners;
    char why[256];
    const char *file = c->path[0] ? c->path : "(no file)";

    if (c->finished) {
        set_err(err, errlen, "configuration already finished");
        return -EINVAL;
    }
    c->finished = true;
    if (c->def_listener) {
        /* port / bind_address: the default listener; -p replaces its port, more -p add
         * listeners on the same address. */
        uint16_t port = c->n_cli_ports > 0 ? c->cli_ports[0] : c->def_port;
        if (listener_add(c, c->def_host, port, why, sizeof why) < 0) {
            set_err(err, errlen, "%s:%u: default listener (port/bind_address): %s", file,
                    c->def_line, why);
            return -EINVAL;
        }
        for (int i = 1; i < c->n_cli_ports; i++) {
            if (listener_add(c, c->def_host, c->cli_ports[i], why, sizeof why) < 0) {
                set_err(err, errlen, "-p %u: %s", (unsigned)c->cli_ports[i], why);
                return -EINVAL;
            }
        }
    } else {
        /* -p without a default listener in the file: loopback only (stricter than mosquitto,
         * whose -p without a file also binds loopback, but which ignores -p next to a file's
         * listeners). */
        for (int i = 0; i < c->n_cli_ports; i++) {
            if (listener_add(c, "localhost", c->cli_ports[i], why, sizeof why) < 0) {
                set_err(err, errlen, "-p %u: %s", (unsigned)c->cli_ports[i], why);
                return -EINVAL;
            }
        }
        if (from_file == 0 && c->n_cli_ports == 0 &&
            listener_add(c, "localhost", DEFAULT_PORT, why, sizeof why) < 0) {
            set_err(err, errlen, "default listener: %s", why);
            return -EINVAL;
        }
    }
    /* Mosquitto 2's local-only mode: no listener in the file, so only this machine can
     * connect, and anonymous clients are allowed unless the file said otherwise (mosquitto
     * allows them even then; tern keeps an explicit "allow_anonymous false"). */
    c->local_only = from_file == 0 && !c->def_listener;
    if (c->local_only && !c->anon_set)
        c->allow_anonymous = true;
    return 0;
}

/* ---- command line ------------------------------------------------------------------------- */

void tn_config_usage(FILE *out)
{
    fprintf(out,
            "Usage: ternd [-c FILE] [-p PORT]... [-v] [--test-config] [-h] [-V]\n"
            "\n"
            "ternd is tern's MQTT 3.1 / 3.1.1 / 5.0 broker. Its configuration file uses\n"
            "mosquitto.conf's format (see docs/ternd.conf.md).\n"
            "\n"
            "  -c, --config FILE  load the configuration file FILE\n"
            "  -p, --port PORT    listen on PORT (repeatable). If FILE sets a default listener\n"
            "                     (port / bind_address), the first -p replaces its port and\n"
            "                     further ones add listeners on its address. Otherwise each -p\n"
            "                     listens on 127.0.0.1 and ::1 only (stricter than mosquitto).\n"
            "  -v, --verbose      log everything, every packet included (log_type all)\n"
            "      --test-config  check the configuration, print a summary and exit\n"
            "  -V, --version      print the version and exit\n"
            "  -h, --help         print this help and exit\n"
            "\n"
            "Without a listener in FILE nor -p, ternd listens on 127.0.0.1:1883 and [::1]:1883\n"
            "only and allows anonymous clients (mosquitto 2's local-only mode).\n"
            "mosquitto's -d (daemon) is not supported: run ternd under a service manager.\n"
            "SIGHUP reloads FILE; listener and workers changes need a restart.\n");
}

/* Matches "-x", "--long" (value in the next argument) and "--long=VALUE". */
static bool arg_is(const char *a, const char *s, const char *l, const char **inl)
{
    size_t n = strlen(l);

    *inl = NULL;
    if ((s && strcmp(a, s) == 0) || strcmp(a, l) == 0)
        return true;
    if (strncmp(a, l, n) == 0 && a[n] == '=') {
        *inl = a + n + 1;
        return true;
    }
    return false;
}

static void print_summary(const struct tn_config *c)
{
    char b[96];

    printf("ternd: %s: configuration OK; listeners:", c->path[0] ? c->path : "(no file)");
    for (int i = 0; i < c->n_listeners; i++)
        printf("%s %s", i ? "," : "", tn_config_listener_str(&c->listeners[i], b, sizeof b));
    printf("%s\n", c->local_only ? " (local only)" : "");
}

int tn_config_from_args(struct tn_config *c, int argc, char **argv, char *err, size_t errlen)
{
    const char *file = NULL;
    int r;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val;
        if (arg_is(a, "-c", "--config", &val) || arg_is(a, "-p", "--port", &val)) {
            bool is_port = a[1] == 'p' || strncmp(a, "--port", 6) == 0;
            if (!val) {
                if (i + 1 >= argc) {
                    set_err(err, errlen, "option %s needs %s", a, is_port ? "a PORT" : "a FILE");
                    return -EINVAL;
                }
                val = argv[++i];
            }
            if (!is_port) {
                if (file) {
                    set_err(err, errlen, "option -c given twice");
                    return -EINVAL;
                }
                file = val;
                continue;
            }
            int64_t v = 0;
            if (int_parse(val, &v) < 0 || v < 1 || v > 65535) {
                set_err(err, errlen, "invalid port '%.64s' for -p (1..65535)", val);
                return -EINVAL;
            }
            if (c->n_cli_ports >= TN_MAX_LISTENERS) {
                set_err(err, errlen, "too many -p options (at most %d)", TN_MAX_LISTENERS);
                return -EINVAL;
            }
            c->cli_ports[c->n_cli_ports++] = (uint16_t)v;
        } else if (arg_is(a, "-v", "--verbose", &val) && !val) {
            c->verbose = true;
        } else if (arg_is(a, "-h", "--help", &val) && !val) {
            tn_config_usage(stdout);
            return 1;
        } else if (arg_is(a, "-V", "--version", &val) && !val) {
            c->print_version = true;
            return 1;
        } else if (arg_is(a, NULL, "--test-config", &val) && !val) {
            c->test_config = true;
        } else if (arg_is(a, "-d", "--daemon", &val) && !val) {
            set_err(err, errlen,
                    "option %s (daemon mode) is not supported: run ternd in the "
                    "foreground under a service manager (systemd, runit, ...)",
                    a);
            return -ENOTSUP;
        } else if (a[0] == '-') {
            set_err(err, errlen, "unknown option '%.64s' (try -h)", a);
            return -EINVAL;
        } else {
            set_err(err, errlen, "unexpected argument '%.64s' (try -h)", a);
            return -EINVAL;
        }
    }
    if (file && (r = tn_config_load_file(c, file, err, errlen)) < 0)
        return r;
    if (c->verbose)
        c->log_type = TN_LOG_ALL; /* as mosquitto's -v: overrides log_type */
    if ((r = tn_config_finish(c, err, errlen)) < 0)
        return r;
    if (c->test_config) {
        print_summary(c);
        return 1;
    }
    return 0;
}

int tn_config_reload(struct tn_config *neu, const struct tn_config *old, char *err, size_t errlen)
{
    int r;

    tn_config_defaults(neu);
    memcpy(neu->cli_ports, old->cli_ports, sizeof neu->cli_ports);
    neu->n_cli_ports = old->n_cli_ports;
    neu->verbose = old->verbose;
    if (old->path[0] && (r = tn_config_load_file(neu, old->path, err, errlen)) < 0)
        return r;
    if (neu->verbose)
        neu->log_type = TN_LOG_ALL;
    return tn_config_finish(neu, err, errlen);
}

/* ---- reload comparison -------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static void msg_append(char *msg, size_t msglen,
                                                             const char *fmt, ...)
{
    size_t used;
    va_list ap;

    if (!msg || msglen == 0)
        return;
    used = strnlen(msg, msglen);
    if (used >= msglen - 1)
        return;
    va_start(ap, fmt);
    vsnprintf(msg + used, msglen - used, fmt, ap);
    va_end(ap);
}

static bool listener_in(const struct tn_listener_conf *l, const struct tn_config *c)
{
    for (int i = 0; i < c->n_listeners; i++)
        if (c->listeners[i].port == l->port && strcmp(c->listeners[i].host, l->host) == 0)
            return true;
    return false;
}

static void listeners_str(const struct tn_config *c, char *msg, size_t msglen)
{
    char b[96];

    for (int i = 0; i < c->n_listeners; i++)
        msg_append(msg, msglen, "%s%s", i ? " " : "",
                   tn_config_listener_str(&c->listeners[i], b, sizeof b));
    if (c->n_listeners == 0)
        msg_append(msg, msglen, "none");
}

int tn_config_restart_needed(const struct tn_config *old, const struct tn_config *neu, char *msg,
                             size_t msglen)
{
    bool same = old->n_listeners == neu->n_listeners;
    int n = 0;

    if (msg && msglen)
        msg[0] = '\0';
    for (int i = 0; same && i < old->n_listeners; i++)
        same = listener_in(&old->listeners[i], neu) && listener_in(&neu->listeners[i], old);
    if (!same) {
        msg_append(msg, msglen, "listeners changed (");
        listeners_str(old, msg, msglen);
        msg_append(msg, msglen, " -> ");
        listeners_str(neu, msg, msglen);
        msg_append(msg, msglen, "): restart ternd to apply\n");
        n++;
    }
    if (strcmp(old->pid_file, neu->pid_file) != 0) {
        msg_append(msg, msglen, "pid_file changed ('%s' -> '%s'): restart ternd to apply\n",
                   old->pid_file, neu->pid_file);
        n++;
    }
    if (old->workers != neu->workers) {
        char a[16], b[16];
        snprintf(a, sizeof a, "%d", old->workers);
        snprintf(b, sizeof b, "%d", neu->workers);
        msg_append(msg, msglen, "workers changed (%s -> %s): restart ternd to apply\n",
                   old->workers ? a : "auto", neu->workers ? b : "auto");
        n++;
    }
    return n;
}
