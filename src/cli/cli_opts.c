/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_opts.c - parses the command line of tern pub / sub / rr into struct tn_cli_cfg.
 *
 * Flags and their meanings follow mosquitto_pub, mosquitto_sub and mosquitto_rr (2.0), long
 * aliases included (--host, --qos, ...). Where mosquitto silently ignores a mistake (-D with
 * MQTT 3.1.1, --will-qos without --will-topic) tern says so and exits 1 instead.
 *
 * Owns: the arrays inside struct tn_cli_cfg (see cli_opts.h).
 * Thread: the main thread only.
 */
#include "cli_opts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_format.h"
#include "tern/codec.h"

static const char *const tool_names[] = {"tern pub", "tern sub", "tern rr"};

static const char *const pcmd_names[TN_CLI_PCMD_COUNT] = {
    "connect", "publish", "subscribe", "unsubscribe", "disconnect", "will",
};
static const unsigned pcmd_ctx[TN_CLI_PCMD_COUNT] = {
    TERN_CONNECT,     TERN_PUBLISH,    TERN_SUBSCRIBE,
    TERN_UNSUBSCRIBE, TERN_DISCONNECT, TERN_PROP_CTX_WILL,
};

__attribute__((format(printf, 2, 3))) static void opt_err(const struct tn_cli_cfg *cfg,
                                                          const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s: ", cfg->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void tn_cli_cfg_init(struct tn_cli_cfg *cfg, enum tn_cli_tool tool)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->tool = tool;
    cfg->prog = tool_names[tool];
    cfg->host = "localhost";
    cfg->version = tool == TN_CLI_RR ? TERN_V5 : TERN_V311;
    cfg->keepalive = 60;
    cfg->clean = true;
    cfg->eol = true;
    cfg->repeat = 1;
}

static void strv_fini(struct tn_cli_strv *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

void tn_cli_cfg_fini(struct tn_cli_cfg *cfg)
{
    size_t i;

    if (!cfg)
        return;
    strv_fini(&cfg->topics);
    strv_fini(&cfg->unsub_topics);
    strv_fini(&cfg->filter_outs);
    for (i = 0; i < TN_CLI_PCMD_COUNT; i++) {
        free(cfg->props[i].user);
        cfg->props[i].user = NULL;
    }
}

static int strv_push(struct tn_cli_strv *s, const char *str)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 4;
        const char **v = realloc(s->v, cap * sizeof(*v));

        if (!v)
            return -ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = str;
    return 0;
}

uint16_t tn_cli_port(const struct tn_cli_cfg *cfg)
{
    if (cfg->port)
        return cfg->port;
    return cfg->tls ? 8883 : 1883;
}

/* ---- number parsing ----------------------------------------------------------------------- */

/* A whole decimal integer in [min, max]. */
static int parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    long v;

    if (!s || !*s || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

/* A whole unsigned integer in [0, max], decimal or 0x-hex (for -D values). */
static int parse_ulong(const char *s, unsigned long max, unsigned long *out)
{
    char *end = NULL;
    unsigned long v;

    if (!s || !*s || *s == '-' || *s == '+' || isspace((unsigned char)*s))
        return -EINVAL;
    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || *end || v > max)
        return -EINVAL;
    *out = v;
    return 0;
}

static int parse_qos(const struct tn_cli_cfg *cfg, const char *what, const char *s, uint8_t *out)
{
    long v;

    if (parse_long(s, 0, 2, &v) < 0) {
        opt_err(cfg, "invalid %s %s (0, 1 or 2)", what, s);
        return -1;
    }
    *out = (uint8_t)v;
    return 0;
}

/* ---- -D properties ------------------------------------------------------------------------ */

const char *tn_cli_prop_name(unsigned id, char *buf, size_t cap)
{
    const char *name = tern_prop_name(id);
    size_t i;

    if (!name || cap == 0)
        return NULL;
    for (i = 0; name[i] && i + 1 < cap; i++)
        buf[i] = name[i] == ' ' ? '-' : (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}

static unsigned prop_by_name(const char *s)
{
    char buf[64];
    unsigned id;

    for (id = 1; id <= TERN_PROP_ID_MAX; id++) {
        const char *n = tn_cli_prop_name(id, buf, sizeof(buf));

        if (n && !strcmp(n, s))
            return id;
    }
    return 0;
}

static int props_add_user(struct tn_cli_props *p, const char *k, const char *v)
{
    if (p->props.user_n == p->user_cap) {
        size_t cap = p->user_cap ? p->user_cap * 2 : 4;
        struct tern_strpair *u = realloc(p->user, cap * sizeof(*u));

        if (!u)
            return -ENOMEM;
        p->user = u;
        p->user_cap = cap;
    }
    p->user[p->props.user_n].k = tern_slice_cstr(k);
    p->user[p->props.user_n].v = tern_slice_cstr(v);
    p->props.user_n++;
    p->props.user = p->user;
    return 0;
}

static bool utf8_ok(const char *s)
{
    size_t n = strlen(s);

    return n <= 65535 && tern_utf8_is_valid((const uint8_t *)s, n);
}

/* -D command identifier value [value2]; the caller checked that argv[i + 3] exists.
 * *used = arguments consumed after "-D". */
static int parse_property(struct tn_cli_cfg *cfg, int argc, char **argv, int i, int *used)
{
    const char *cmd, *name, *val;
    struct tn_cli_props *p;
    unsigned id, c;
    unsigned long u = 0;
    struct tern_props *tp;

    cmd = argv[i + 1];
    name = argv[i + 2];
    val = argv[i + 3];
    for (c = 0; c < TN_CLI_PCMD_COUNT; c++)
        if (!strcmp(cmd, pcmd_names[c]))
            break;
    if (c == TN_CLI_PCMD_COUNT) {
        opt_err(cfg,
                "-D: unknown command '%s' (connect, publish, subscribe, unsubscribe, "
                "disconnect or will)",
                cmd);
        return -1;
    }
    id = prop_by_name(name);
    if (!id) {
        opt_err(cfg, "-D: unknown property '%s'", name);
        return -1;
    }
    if (!tern_prop_allowed(id, pcmd_ctx[c])) {
        opt_err(cfg, "-D: property %s is not allowed in %s", name, cmd);
        return -1;
    }
    p = &cfg->props[c];
    tp = &p->props;
    *used = 3;
    switch (tern_prop_kind(id)) {
    case TERN_PK_BYTE:
    case TERN_PK_U16:
    case TERN_PK_U32:
    case TERN_PK_VARINT: {
        enum tern_prop_kind k = tern_prop_kind(id);
        unsigned long max = k == TERN_PK_BYTE  ? 0xFF
                            : k == TERN_PK_U16 ? 0xFFFF
                            : k == TERN_PK_U32 ? 0xFFFFFFFFul
                                               : TERN_VARINT_MAX;

        if (parse_ulong(val, max, &u) < 0) {
            opt_err(cfg, "-D: invalid value '%s' for %s (0 to %lu)", val, name, max);
            return -1;
        }
        break;
    }
    case TERN_PK_UTF8:
        if (!utf8_ok(val)) {
            opt_err(cfg, "-D: value of %s is not valid UTF-8", name);
            return -1;
        }
        break;
    case TERN_PK_BINARY:
        if (strlen(val) > 65535) {
            opt_err(cfg, "-D: value of %s is longer than 65535 bytes", name);
            return -1;
        }
        break;
    case TERN_PK_PAIR:
        if (i + 4 >= argc) {
            opt_err(cfg, "-D %s user-property needs a key and a value", cmd);
            return -1;
        }
        if (!utf8_ok(val) || !utf8_ok(argv[i + 4])) {
            opt_err(cfg, "-D: user-property key and value must be valid UTF-8");
            return -1;
        }
        *used = 4;
        if (props_add_user(p, val, argv[i + 4]) < 0) {
            opt_err(cfg, "out of memory");
            return -1;
        }
        p->any = true;
        return 0;
    case TERN_PK_NONE: return -1;
    }
    if (tern_props_has(tp, id)) {
        opt_err(cfg, "-D: property %s given twice for %s", name, cmd);
        return -1;
    }
    tern_props_set(tp, id);
    p->any = true;
    switch (id) {
    case TERN_PROP_PAYLOAD_FORMAT_INDICATOR: tp->payload_format_indicator = (uint8_t)u; break;
    case TERN_PROP_MESSAGE_EXPIRY_INTERVAL: tp->message_expiry_interval = (uint32_t)u; break;
    case TERN_PROP_CONTENT_TYPE: tp->content_type = tern_slice_cstr(val); break;
    case TERN_PROP_RESPONSE_TOPIC: tp->response_topic = tern_slice_cstr(val); break;
    case TERN_PROP_CORRELATION_DATA: tp->correlation_data = tern_slice_cstr(val); break;
    case TERN_PROP_SUBSCRIPTION_IDENTIFIER:
        tp->sub_id = (uint32_t)u;
        tp->sub_id_n = 1;
        break;
    case TERN_PROP_SESSION_EXPIRY_INTERVAL: tp->session_expiry_interval = (uint32_t)u; break;
    case TERN_PROP_AUTHENTICATION_METHOD: tp->authentication_method = tern_slice_cstr(val); break;
    case TERN_PROP_AUTHENTICATION_DATA: tp->authentication_data = tern_slice_cstr(val); break;
    case TERN_PROP_REQUEST_PROBLEM_INFORMATION: tp->request_problem_information = (uint8_t)u; break;
    case TERN_PROP_WILL_DELAY_INTERVAL: tp->will_delay_interval = (uint32_t)u; break;
    case TERN_PROP_REQUEST_RESPONSE_INFORMATION:
        tp->request_response_information = (uint8_t)u;
        break;
    case TERN_PROP_REASON_STRING: tp->reason_string = tern_slice_cstr(val); break;
    case TERN_PROP_RECEIVE_MAXIMUM: tp->receive_maximum = (uint16_t)u; break;
    case TERN_PROP_TOPIC_ALIAS_MAXIMUM: tp->topic_alias_maximum = (uint16_t)u; break;
    case TERN_PROP_TOPIC_ALIAS: tp->topic_alias = (uint16_t)u; break;
    case TERN_PROP_MAXIMUM_PACKET_SIZE: tp->maximum_packet_size = (uint32_t)u; break;
    case TERN_PROP_SERVER_KEEP_ALIVE: tp->server_keep_alive = (uint16_t)u; break;
    case TERN_PROP_MAXIMUM_QOS: tp->maximum_qos = (uint8_t)u; break;
    case TERN_PROP_RETAIN_AVAILABLE: tp->retain_available = (uint8_t)u; break;
    case TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER:
        tp->assigned_client_identifier = tern_slice_cstr(val);
        break;
    case TERN_PROP_RESPONSE_INFORMATION: tp->response_information = tern_slice_cstr(val); break;
    case TERN_PROP_SERVER_REFERENCE: tp->server_reference = tern_slice_cstr(val); break;
    default: opt_err(cfg, "-D: property %s cannot be sent by a client", name); return -1;
    }
    /* The encoder knows every value rule (Receive Maximum 0, a flag other than 0/1, ...). */
    if (tern_props_body_size(tp, pcmd_ctx[c]) < 0) {
        opt_err(cfg, "-D: invalid value '%s' for %s", val, name);
        return -1;
    }
    return 0;
}

/* ---- -L URL ------------------------------------------------------------------------------- */

/* mqtt(s)://[username[:password]@]host[:port][/topic]. Writes NULs into url (argv storage). */
static int parse_url(struct tn_cli_cfg *cfg, char *url)
{
    char *p, *at, *slash, *colon;
    long port;

    if (!strncmp(url, "mqtt://", 7)) {
        p = url + 7;
    } else if (!strncmp(url, "mqtts://", 8)) {
        p = url + 8;
        cfg->tls = true;
    } else {
        opt_err(cfg, "-L: URL must start with mqtt:// or mqtts://");
        return -1;
    }
    slash = strchr(p, '/');
    if (slash) {
        *slash = '\0';
        if (slash[1] && strv_push(&cfg->topics, slash + 1) < 0)
            return -1;
    }
    at = strrchr(p, '@');
    if (at) {
        *at = '\0';
        colon = strchr(p, ':');
        if (colon) {
            *colon = '\0';
            cfg->password = colon + 1;
        }
        cfg->username = p;
        p = at + 1;
    }
    colon = strrchr(p, ':');
    if (colon && !strchr(colon, ']')) {
        *colon = '\0';
        if (parse_long(colon + 1, 1, 65535, &port) < 0) {
            opt_err(cfg, "-L: invalid port '%s' (1-65535)", colon + 1);
            return -1;
        }
        cfg->port = (uint16_t)port;
    }
    if (*p == '[') { /* [::1] */
        size_t n = strlen(p);

        if (n > 2 && p[n - 1] == ']') {
            p[n - 1] = '\0';
            p++;
        }
    }
    if (!*p) {
        opt_err(cfg, "-L: URL has no host");
        return -1;
    }
    cfg->host = p;
    return 0;
}

/* ---- the option table --------------------------------------------------------------------- */

enum opt_id {
    O_HOST,
    O_PORT,
    O_TOPIC,
    O_MESSAGE,
    O_FILE,
    O_LINES,
    O_NULL,
    O_STDIN,
    O_QOS,
    O_RETAIN,
    O_ID,
    O_ID_PREFIX,
    O_USER,
    O_PASS,
    O_KEEPALIVE,
    O_NOCLEAN,
    O_SESSEXP,
    O_VERSION,
    O_PROP,
    O_VERBOSE,
    O_FORMAT,
    O_COUNT,
    O_TIMEOUT,
    O_NORETAIN,
    O_NOEOL,
    O_RESPTOPIC,
    O_FILTEROUT,
    O_UNSUB,
    O_WTOPIC,
    O_WPAYLOAD,
    O_WQOS,
    O_WRETAIN,
    O_CAFILE,
    O_CAPATH,
    O_CERT,
    O_KEY,
    O_INSECURE,
    O_TLSVER,
    O_DEBUG,
    O_QUIET,
    O_PRETTY,
    O_URL,
    O_REPEAT,
    O_REPEAT_DELAY,
    O_RETONLY,
    O_REMRET,
    O_EXITSUB,
    O_HELP,
    O_TRACE,
    O_NODELAY,
    O_UNSUPPORTED,
};

/* Which tools accept an option. */
#define T_PUB (1u << TN_CLI_PUB)
#define T_SUB (1u << TN_CLI_SUB)
#define T_RR (1u << TN_CLI_RR)
#define T_ALL (T_PUB | T_SUB | T_RR)

static const struct opt {
    const char *s, *l; /* short and long spelling (either may be NULL) */
    enum opt_id id;
    bool arg;
    unsigned tools;
} opts[] = {
    {"-h", "--host", O_HOST, true, T_ALL},
    {"-p", "--port", O_PORT, true, T_ALL},
    {"-t", "--topic", O_TOPIC, true, T_ALL},
    {"-m", "--message", O_MESSAGE, true, T_PUB | T_RR},
    {"-f", "--file", O_FILE, true, T_PUB | T_RR},
    {"-l", "--stdin-line", O_LINES, false, T_PUB},
    {"-n", "--null-message", O_NULL, false, T_PUB | T_RR},
    {"-s", "--stdin-file", O_STDIN, false, T_PUB | T_RR},
    {"-q", "--qos", O_QOS, true, T_ALL},
    {"-r", "--retain", O_RETAIN, false, T_PUB},
    {"-i", "--id", O_ID, true, T_ALL},
    {"-I", "--id-prefix", O_ID_PREFIX, true, T_ALL},
    {"-u", "--username", O_USER, true, T_ALL},
    {"-P", "--pw", O_PASS, true, T_ALL},
    {NULL, "--password", O_PASS, true, T_ALL},
    {"-k", "--keepalive", O_KEEPALIVE, true, T_ALL},
    {"-c", "--disable-clean-session", O_NOCLEAN, false, T_ALL},
    {"-x", "--session-expiry-interval", O_SESSEXP, true, T_ALL},
    {"-V", "--protocol-version", O_VERSION, true, T_ALL},
    {"-D", "--property", O_PROP, false, T_ALL},
    {"-v", "--verbose", O_VERBOSE, false, T_SUB | T_RR},
    {"-F", "--format", O_FORMAT, true, T_SUB | T_RR},
    {"-C", "--count", O_COUNT, true, T_SUB},
    {"-W", "--timeout", O_TIMEOUT, true, T_SUB | T_RR},
    {"-R", "--no-retained", O_NORETAIN, false, T_SUB | T_RR},
    {"-N", "--no-eol", O_NOEOL, false, T_SUB | T_RR},
    {"-e", "--response-topic", O_RESPTOPIC, true, T_RR},
    {"-T", "--filter-out", O_FILTEROUT, true, T_SUB},
    {"-U", "--unsubscribe", O_UNSUB, true, T_SUB},
    {"-E", "--exit-after-sub", O_EXITSUB, false, T_SUB},
    {"-d", "--debug", O_DEBUG, false, T_ALL},
    {"-L", "--url", O_URL, true, T_ALL},
    {NULL, "--will-topic", O_WTOPIC, true, T_ALL},
    {NULL, "--will-payload", O_WPAYLOAD, true, T_ALL},
    {NULL, "--will-qos", O_WQOS, true, T_ALL},
    {NULL, "--will-retain", O_WRETAIN, false, T_ALL},
    {NULL, "--cafile", O_CAFILE, true, T_ALL},
    {NULL, "--capath", O_CAPATH, true, T_ALL},
    {NULL, "--cert", O_CERT, true, T_ALL},
    {NULL, "--key", O_KEY, true, T_ALL},
    {NULL, "--insecure", O_INSECURE, false, T_ALL},
    {NULL, "--tls-version", O_TLSVER, true, T_ALL},
    {NULL, "--quiet", O_QUIET, false, T_ALL},
    {NULL, "--pretty", O_PRETTY, false, T_SUB | T_RR},
    {NULL, "--repeat", O_REPEAT, true, T_PUB},
    {NULL, "--repeat-delay", O_REPEAT_DELAY, true, T_PUB},
    {NULL, "--retained-only", O_RETONLY, false, T_SUB},
    {NULL, "--remove-retained", O_REMRET, false, T_SUB},
    {NULL, "--trace", O_TRACE, false, T_ALL},
    {NULL, "--nodelay", O_NODELAY, false, T_ALL},
    {NULL, "--help", O_HELP, false, T_ALL},
    /* mosquitto flags tern does not have: named so the error can say so. */
    {"-S", NULL, O_UNSUPPORTED, false, T_ALL},
    {NULL, "--unix", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--psk", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--psk-identity", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--proxy", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--tls-engine", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--tls-engine-kpass-sha1", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--keyform", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--tls-use-os-certs", O_UNSUPPORTED, false, T_ALL},
    {NULL, "--random-filter", O_UNSUPPORTED, true, T_ALL},
    {"-A", NULL, O_UNSUPPORTED, true, T_ALL},
    {NULL, "--ciphers", O_UNSUPPORTED, true, T_ALL},
    {NULL, "--tls-alpn", O_UNSUPPORTED, true, T_ALL},
};

static const struct opt *find_opt(const char *a)
{
    size_t i;

    for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
        if ((opts[i].s && !strcmp(a, opts[i].s)) || (opts[i].l && !strcmp(a, opts[i].l)))
            return &opts[i];
    return NULL;
}

static int set_msg_mode(struct tn_cli_cfg *cfg, enum tn_cli_msg_mode m)
{
    if (cfg->msg_mode != TN_CLI_MSG_NONE && cfg->msg_mode != m) {
        opt_err(cfg, "only one of -m, -f, -l, -n and -s may be given");
        return -1;
    }
    cfg->msg_mode = m;
    return 0;
}

static int parse_version(struct tn_cli_cfg *cfg, const char *v)
{
    if (!strcmp(v, "31") || !strcmp(v, "mqttv31"))
        cfg->version = TERN_V31;
    else if (!strcmp(v, "311") || !strcmp(v, "mqttv311"))
        cfg->version = TERN_V311;
    else if (!strcmp(v, "5") || !strcmp(v, "mqttv5"))
        cfg->version = TERN_V5;
    else {
        opt_err(cfg,
                "invalid protocol version '%s' (5, 311 or 31; or mqttv5, mqttv311, "
                "mqttv31)",
                v);
        return -1;
    }
    return 0;
}

/* -x: seconds, or -1 / 4294967295 / "∞" for never. */
static int parse_session_expiry(struct tn_cli_cfg *cfg, const char *v)
{
    unsigned long u;

    if (!strcmp(v, "-1") || !strcmp(v, "\xE2\x88\x9E")) {
        cfg->session_expiry = 0xFFFFFFFFu;
    } else if (parse_ulong(v, 0xFFFFFFFFul, &u) == 0) {
        cfg->session_expiry = (uint32_t)u;
    } else {
        opt_err(cfg,
                "invalid session expiry interval '%s' (0-4294967295 seconds, or -1 for "
                "never)",
                v);
        return -1;
    }
    cfg->session_expiry_set = true;
    return 0;
}

/* Apply one option with its argument (NULL when it takes none). */
static int apply_opt(struct tn_cli_cfg *cfg, const struct opt *o, const char *flag, char *arg)
{
    long v;
    char *end;

    switch (o->id) {
    case O_HOST: cfg->host = arg; break;
    case O_PORT:
        if (parse_long(arg, 1, 65535, &v) < 0) {
            opt_err(cfg, "invalid port '%s' (1-65535)", arg);
            return -1;
        }
        cfg->port = (uint16_t)v;
        break;
    case O_TOPIC:
        if (cfg->tool != TN_CLI_SUB && cfg->topics.n > 0) {
            opt_err(cfg, "only one topic (-t) may be given");
            return -1;
        }
        if (strv_push(&cfg->topics, arg) < 0)
            return -1;
        break;
    case O_MESSAGE:
        if (set_msg_mode(cfg, TN_CLI_MSG_STRING) < 0)
            return -1;
        cfg->message = arg;
        break;
    case O_FILE:
        if (set_msg_mode(cfg, TN_CLI_MSG_FILE) < 0)
            return -1;
        cfg->file = arg;
        break;
    case O_LINES: return set_msg_mode(cfg, TN_CLI_MSG_LINES);
    case O_NULL: return set_msg_mode(cfg, TN_CLI_MSG_NULL);
    case O_STDIN: return set_msg_mode(cfg, TN_CLI_MSG_STDIN);
    case O_QOS: return parse_qos(cfg, "QoS", arg, &cfg->qos);
    case O_RETAIN: cfg->retain = true; break;
    case O_ID: cfg->id = arg; break;
    case O_ID_PREFIX: cfg->id_prefix = arg; break;
    case O_USER: cfg->username = arg; break;
    case O_PASS: cfg->password = arg; break;
    case O_KEEPALIVE:
        /* 0 turns keep-alive off, which mosquitto's tools refuse; tern allows it. */
        if (parse_long(arg, 0, 65535, &v) < 0 || (v > 0 && v < 5)) {
            opt_err(cfg, "invalid keepalive '%s' (0 for none, or 5-65535 seconds)", arg);
            return -1;
        }
        cfg->keepalive = (uint16_t)v;
        break;
    case O_NOCLEAN: cfg->clean = false; break;
    case O_SESSEXP: return parse_session_expiry(cfg, arg);
    case O_VERSION: return parse_version(cfg, arg);
    case O_VERBOSE: cfg->verbose = true; break;
    case O_FORMAT: cfg->format = arg; break;
    case O_COUNT:
        if (parse_long(arg, 1, LONG_MAX, &v) < 0) {
            opt_err(cfg, "invalid message count '%s' (1 or more)", arg);
            return -1;
        }
        cfg->msg_count = v;
        break;
    case O_TIMEOUT:
        if (parse_long(arg, 1, 86400L * 365, &v) < 0) {
            opt_err(cfg, "invalid timeout '%s' (1 or more seconds)", arg);
            return -1;
        }
        cfg->timeout = v;
        break;
    case O_NORETAIN: cfg->no_retain = true; break;
    case O_NOEOL: cfg->eol = false; break;
    case O_RESPTOPIC: cfg->response_topic = arg; break;
    case O_FILTEROUT:
        if (!tern_topic_filter_is_valid((const uint8_t *)arg, strlen(arg))) {
            opt_err(cfg,
                    "invalid filter-out topic '%s': '+' and '#' must each be a whole "
                    "level, '#' the last one",
                    arg);
            return -1;
        }
        return strv_push(&cfg->filter_outs, arg);
    case O_UNSUB: return strv_push(&cfg->unsub_topics, arg);
    case O_EXITSUB: cfg->exit_after_sub = true; break;
    case O_DEBUG: cfg->debug = true; break;
    case O_URL: return parse_url(cfg, arg);
    case O_WTOPIC:
        if (!tern_topic_name_is_valid((const uint8_t *)arg, strlen(arg))) {
            opt_err(cfg,
                    "invalid will topic '%s': a topic name cannot be empty or contain "
                    "'+' or '#'",
                    arg);
            return -1;
        }
        cfg->will_topic = arg;
        break;
    case O_WPAYLOAD: cfg->will_payload = arg; break;
    case O_WQOS: return parse_qos(cfg, "will QoS", arg, &cfg->will_qos);
    case O_WRETAIN: cfg->will_retain = true; break;
    case O_CAFILE: cfg->cafile = arg, cfg->tls = true; break;
    case O_CAPATH: cfg->capath = arg, cfg->tls = true; break;
    case O_CERT: cfg->cert = arg; break;
    case O_KEY: cfg->key = arg; break;
    case O_INSECURE: cfg->insecure = true; break;
    case O_TLSVER:
        /* libtern speaks TLS 1.2 and 1.3 only: tlsv1.1 is refused rather than ignored. */
        if (strcmp(arg, "tlsv1.3") && strcmp(arg, "tlsv1.2")) {
            opt_err(cfg, "invalid TLS version '%s' (tlsv1.3 or tlsv1.2)", arg);
            return -1;
        }
        cfg->tls_version = arg;
        break;
    case O_QUIET: cfg->quiet = true; break;
    case O_PRETTY: cfg->pretty = true; break;
    case O_REPEAT:
        if (parse_long(arg, 1, LONG_MAX, &v) < 0) {
            opt_err(cfg, "invalid --repeat '%s' (1 or more)", arg);
            return -1;
        }
        cfg->repeat = v;
        break;
    case O_REPEAT_DELAY:
        errno = 0;
        cfg->repeat_delay = strtod(arg, &end);
        if (errno || !*arg || *end || !(cfg->repeat_delay >= 0.0) || cfg->repeat_delay > 86400.0) {
            opt_err(cfg, "invalid --repeat-delay '%s' (seconds, 0 or more)", arg);
            return -1;
        }
        break;
    case O_RETONLY: cfg->retained_only = true; break;
    case O_REMRET: cfg->remove_retained = true; break;
    case O_TRACE: cfg->trace = true; break;
    case O_NODELAY: cfg->nodelay = true; break;
    case O_HELP: return TN_CLI_HELP;
    case O_UNSUPPORTED:
        opt_err(cfg, "%s is a mosquitto option tern does not support", flag);
        return -1;
    case O_PROP: return -1; /* handled by the caller */
    }
    return 0;
}

/* Rules that involve more than one option, checked once all are read. */
static int check_cfg(struct tn_cli_cfg *cfg)
{
    size_t i;
    bool any_props = false;

    for (i = 0; i < TN_CLI_PCMD_COUNT; i++)
        any_props |= cfg->props[i].any;
    if (any_props && cfg->version != TERN_V5) {
        opt_err(cfg, "-D sets MQTT 5 properties: add -V 5");
        return -1;
    }
    if (cfg->session_expiry_set && cfg->version != TERN_V5) {
        opt_err(cfg, "-x (session expiry interval) needs MQTT 5: add -V 5");
        return -1;
    }
    if (cfg->id && cfg->id_prefix) {
        opt_err(cfg, "-i and -I cannot be used together");
        return -1;
    }
    if (!cfg->will_topic && (cfg->will_payload || cfg->will_qos || cfg->will_retain)) {
        opt_err(cfg, "--will-payload, --will-qos and --will-retain need --will-topic");
        return -1;
    }
    if (cfg->props[TN_CLI_PCMD_WILL].any && !cfg->will_topic) {
        opt_err(cfg, "-D will ... needs --will-topic");
        return -1;
    }
    if (cfg->password && !cfg->username && cfg->version != TERN_V5) {
        opt_err(cfg, "a password (-P) needs a username (-u) before MQTT 5");
        return -1;
    }
    if ((cfg->cert && !cfg->key) || (cfg->key && !cfg->cert)) {
        opt_err(cfg, "--cert and --key must be given together");
        return -1;
    }
    if ((cfg->cert || cfg->insecure || cfg->tls_version) && !cfg->tls) {
        opt_err(cfg, "TLS options need --cafile or --capath (or an mqtts:// URL)");
        return -1;
    }
    if (cfg->no_retain && cfg->retained_only) {
        opt_err(cfg, "-R and --retained-only cannot be used together");
        return -1;
    }
    if (!cfg->clean && !cfg->id && !cfg->id_prefix) {
        opt_err(cfg, "-c (persistent session) needs a client id (-i)");
        return -1;
    }
    if (cfg->topics.n == 0) {
        opt_err(cfg, cfg->tool == TN_CLI_SUB ? "no topic to subscribe to (-t)"
                                             : "no topic to publish to (-t)");
        return -1;
    }
    for (i = 0; i < cfg->topics.n; i++) {
        const char *t = cfg->topics.v[i];
        size_t n = strlen(t);

        if (cfg->tool == TN_CLI_SUB) {
            if (!tern_topic_filter_is_valid((const uint8_t *)t, n)) {
                opt_err(cfg,
                        "invalid topic filter '%s': '+' and '#' must each be a whole "
                        "level, '#' the last one",
                        t);
                return -1;
            }
        } else if (!tern_topic_name_is_valid((const uint8_t *)t, n)) {
            opt_err(cfg,
                    "invalid topic '%s': a topic name cannot be empty or contain '+' or "
                    "'#'",
                    t);
            return -1;
        }
    }
    for (i = 0; i < cfg->unsub_topics.n; i++) {
        const char *t = cfg->unsub_topics.v[i];

        if (!tern_topic_filter_is_valid((const uint8_t *)t, strlen(t))) {
            opt_err(cfg, "invalid unsubscribe topic '%s'", t);
            return -1;
        }
    }
    if (cfg->tool == TN_CLI_PUB && cfg->msg_mode == TN_CLI_MSG_NONE) {
        opt_err(cfg, "no message: give one of -m MESSAGE, -f FILE, -l, -n or -s");
        return -1;
    }
    if (cfg->tool == TN_CLI_PUB && cfg->msg_mode == TN_CLI_MSG_LINES && cfg->repeat > 1) {
        opt_err(cfg, "--repeat cannot be used with -l");
        return -1;
    }
    if (cfg->tool == TN_CLI_RR) {
        if (!cfg->response_topic) {
            opt_err(cfg, "no response topic (-e)");
            return -1;
        }
        if (!tern_topic_filter_is_valid((const uint8_t *)cfg->response_topic,
                                        strlen(cfg->response_topic))) {
            opt_err(cfg, "invalid response topic '%s'", cfg->response_topic);
            return -1;
        }
    }
    if (cfg->format) {
        char why[128];

        if (tn_cli_format_check(cfg->format, why, sizeof(why)) < 0) {
            opt_err(cfg, "invalid -F format: %s", why);
            return -1;
        }
    }
    if (cfg->id && strlen(cfg->id) > 65535) {
        opt_err(cfg, "client id longer than 65535 bytes");
        return -1;
    }
    if (!cfg->id) {
        static const char *const base[] = {"tern_pub_", "tern_sub_", "tern_rr_"};

        snprintf(cfg->id_buf, sizeof(cfg->id_buf), "%.40s%ld",
                 cfg->id_prefix ? cfg->id_prefix : base[cfg->tool], (long)getpid());
        cfg->id = cfg->id_buf;
    }
    /* mosquitto: with -c a v5 session never expires unless -x says otherwise. */
    if (!cfg->clean && !cfg->session_expiry_set && cfg->version == TERN_V5) {
        cfg->session_expiry = 0xFFFFFFFFu;
        cfg->session_expiry_set = true;
    }
    return 0;
}

int tn_cli_setup(struct tn_cli_cfg *cfg, enum tn_cli_tool tool, int argc, char **argv)
{
    int r;

    tn_cli_cfg_init(cfg, tool);
    r = tn_cli_parse(cfg, argc, argv);
    if (r == 0)
        return -1;
    if (r == TN_CLI_HELP)
        tn_cli_usage(tool, stdout);
    tn_cli_cfg_fini(cfg);
    return r == TN_CLI_HELP ? TN_CLI_EXIT_OK : TN_CLI_EXIT_ERR;
}

int tn_cli_parse(struct tn_cli_cfg *cfg, int argc, char **argv)
{
    int i, r;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const struct opt *o = find_opt(a);

        if (!o) {
            if (a[0] == '-')
                opt_err(cfg, "unknown option '%s' (see '%s --help')", a, cfg->prog);
            else
                opt_err(cfg, "unexpected argument '%s' (see '%s --help')", a, cfg->prog);
            return -1;
        }
        if (!(o->tools & (1u << cfg->tool))) {
            opt_err(cfg, "option %s does not apply to %s", a, cfg->prog);
            return -1;
        }
        if (o->id == O_PROP) {
            int used = 0;

            if (i + 3 >= argc) {
                opt_err(cfg, "-D needs a command, a property name and a value "
                             "(e.g. -D publish content-type text/plain)");
                return -1;
            }
            if (parse_property(cfg, argc, argv, i, &used) < 0)
                return -1;
            i += used;
            continue;
        }
        if (o->arg && i + 1 >= argc) {
            opt_err(cfg, "option %s needs an argument", a);
            return -1;
        }
        r = apply_opt(cfg, o, a, o->arg ? argv[++i] : NULL);
        if (r != 0)
            return r;
    }
    return check_cfg(cfg);
}

/* ---- usage -------------------------------------------------------------------------------- */

static const char usage_common[] =
    "Connection:\n"
    "  -h HOST        broker host (default localhost)\n"
    "  -p PORT        broker port (default 1883, or 8883 with TLS)\n"
    "  -L URL         mqtt(s)://[user[:password]@]host[:port]/topic\n"
    "  -V VERSION     protocol: 5, 311 or 31 (also mqttv5, mqttv311, mqttv31)\n"
    "  -i ID          client id (default tern_TOOL_PID)\n"
    "  -I PREFIX      client id PREFIX followed by the process id\n"
    "  -u USER        username\n"
    "  -P PASSWORD    password\n"
    "  -k SECONDS     keep alive (default 60; 0 for none)\n"
    "  -c             persistent session (clean session / clean start off)\n"
    "  -x SECONDS     MQTT 5 session expiry interval (-1: never)\n"
    "  -D CMD PROP VALUE\n"
    "                 MQTT 5 property; CMD is connect, publish, subscribe, unsubscribe,\n"
    "                 disconnect or will, e.g. -D publish user-property key value\n"
    "  --will-topic TOPIC  --will-payload PAYLOAD  --will-qos QOS  --will-retain\n"
    "                 the message the broker publishes if this client vanishes\n"
    "TLS:\n"
    "  --cafile FILE  --capath DIR   trusted CA certificates (turns TLS on)\n"
    "  --cert FILE  --key FILE       client certificate and its key\n"
    "  --insecure     do not check the server's host name\n"
    "  --tls-version VERSION  lowest TLS version: tlsv1.2 (default) or tlsv1.3\n"
    "Output:\n"
    "  -d, --trace    print every packet sent (->) and received (<-) to stderr\n"
    "  --quiet        print no error messages\n"
    "  --help         this help\n";

static const char usage_format[] =
    "Printing (sub, rr):\n"
    "  -v             print the topic before the payload\n"
    "  -N             no newline after each message\n"
    "  -F FORMAT      format each message: %t topic, %p payload, %q QoS, %r retain,\n"
    "                 %l length, %m message id, %x/%X payload in hex, %i client id,\n"
    "                 %j/%J JSON (add --pretty), %I ISO-8601 time, %U Unix time,\n"
    "                 MQTT 5: %A topic alias, %C content type, %D correlation data,\n"
    "                 %E expiry, %F payload format, %P user properties, %R response topic,\n"
    "                 %S subscription id; @X strftime field (@N nanoseconds);\n"
    "                 \\n \\t \\0 \\e ... escapes; %% @@ \\\\ literals\n"
    "  --pretty       indent %j / %J JSON\n"
    "  -R             skip retained (stale) messages\n"
    "  -W SECONDS     give up after SECONDS (exit status 27)\n";

void tn_cli_usage(enum tn_cli_tool tool, FILE *out)
{
    switch (tool) {
    case TN_CLI_PUB:
        fprintf(out, "Usage: tern pub [OPTIONS] -t TOPIC {-m MESSAGE | -f FILE | -l | -n | -s}\n"
                     "Publish a message, like mosquitto_pub.\n\n"
                     "Publishing:\n"
                     "  -t TOPIC       topic to publish to\n"
                     "  -m MESSAGE     the message\n"
                     "  -f FILE        the contents of FILE as the message\n"
                     "  -l             one message per line read from stdin\n"
                     "  -n             an empty (zero-length) message\n"
                     "  -s             all of stdin as one message\n"
                     "  -q QOS         0, 1 or 2 (default 0)\n"
                     "  -r             retain the message\n"
                     "  --repeat N     publish N times\n"
                     "  --repeat-delay SECONDS  wait between repeats (fractions allowed)\n");
        break;
    case TN_CLI_SUB:
        fprintf(out, "Usage: tern sub [OPTIONS] -t FILTER [-t FILTER...]\n"
                     "Subscribe and print messages, like mosquitto_sub.\n\n"
                     "Subscribing:\n"
                     "  -t FILTER      topic filter to subscribe to (repeatable)\n"
                     "  -q QOS         maximum QoS of the subscription (default 0)\n"
                     "  -C COUNT       exit after COUNT messages\n"
                     "  -E             exit once the subscriptions are acknowledged\n"
                     "  -T FILTER      do not print messages matching FILTER (repeatable)\n"
                     "  -U FILTER      unsubscribe from FILTER (repeatable)\n"
                     "  --retained-only    print retained messages only; exit at the first\n"
                     "                     message that is not retained\n"
                     "  --remove-retained  clear each retained message received\n");
        break;
    case TN_CLI_RR:
        fprintf(out, "Usage: tern rr [OPTIONS] -t TOPIC -e RESPONSE_TOPIC "
                     "{-m MESSAGE | -f FILE | -n | -s}\n"
                     "Send a request and print the response, like mosquitto_rr.\n"
                     "MQTT 5 (the default) sets the Response Topic property of the request.\n\n"
                     "Request/response:\n"
                     "  -t TOPIC       topic to send the request to\n"
                     "  -e TOPIC       topic to wait for the response on\n"
                     "  -m MESSAGE  -f FILE  -n  -s   the request, as for tern pub\n"
                     "  -q QOS         QoS of the request and the subscription\n");
        break;
    }
    if (tool != TN_CLI_PUB)
        fputs(usage_format, out);
    fputs(usage_common, out);
}
