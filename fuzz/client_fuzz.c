/* SPDX-License-Identifier: MIT */
/*
 * fuzz/client_fuzz.c - a hostile-broker network fuzzer for libtern. Not a libFuzzer target: an
 * in-process fake server (a listening socket on 127.0.0.1:0) accepts the connections of a
 * libtern client driven in fd mode on the same thread, and answers them with generated, partly
 * mutated MQTT packet streams.
 *
 *   client_fuzz [--seconds N] [--seed S] [--keep-going] [--verbose]
 *
 * What it does. One client at a time lives for a random 0.2-3 s, then is freed (connected,
 * connecting, waiting to reconnect or closing) and a new one is made: MQTT 3.1, 3.1.1 or 5.0,
 * auto-reconnect with a 1-5 ms back-off, random Keep Alive (0-2 s), Receive Maximum, Topic
 * Alias Maximum, Maximum Packet Size, queue limits, sometimes a Will, a persistent session, a
 * durable store or a trace callback. The client publishes QoS 0/1/2 (5.0: with properties and
 * topic aliases), subscribes and unsubscribes at random, and sometimes disconnects itself.
 * The server answers every connection with a CONNACK (random flags, properties and reason
 * codes; sometimes garbage, a refusal, or nothing) and then, for each packet the client sends,
 * an answer with the right or a wrong packet id and random reason codes (PUBACK, PUBREC,
 * PUBCOMP, SUBACK/UNSUBACK with wrong counts, PINGRESP), plus unsolicited packets of every type
 * (PUBLISH of every QoS with random properties and topic aliases, PUBREL, stray acks, a second
 * CONNACK, DISCONNECT, AUTH, client-only types, garbage). A fraction of the frames is mutated at
 * the byte level (bit flips, truncation, bytes inserted/removed, Remaining Length tampering,
 * huge varints, wrong type/flags nibble, invalid UTF-8, injected raw properties). Output goes
 * out in random-sized chunks, and every connection is closed by the server after a random
 * lifetime (sometimes with an RST), so there are many connections per second.
 *
 * Oracles (any one ends the run with exit status 1 and "client_fuzz: FAIL <reason>"):
 *  - no crash and no sanitizer report (build with TERN_SANITIZE=ON: libtern is instrumented);
 *    a sanitizer death callback dumps the recent server output before the process dies;
 *  - no hang: a SIGALRM watchdog fires if one loop iteration takes over 10 s, and a single
 *    tern_client_* call taking over 2 s is a failure;
 *  - progress: with auto-reconnect on, the server must accept a new connection at least every
 *    5 s (the server ends every connection within 0.5 s, the back-off is at most 5 ms);
 *  - every frame the client sends must decode with the tern codec, and after an intact CONNACK
 *    it must respect the server's Maximum Packet Size [MQTT-3.2.2-15] and Topic Alias Maximum
 *    [MQTT-3.3.2-9] (the latter not for aliases the application chose itself). These protocol
 *    findings stop the run at once, or with --keep-going are counted (first 5 on stderr) and
 *    fail it at the end, so a long run can still look for memory errors;
 *  - views handed to callbacks are read in full (so ASan sees a stale view) and must be sane;
 *  - at the end every client has been freed and LeakSanitizer must find no leak.
 *
 * Reproducing. One seed drives every choice; what cannot be fixed is timing (how the kernel
 * splits reads, when timers fire). After a failure stderr holds the last 256 chunks the server
 * wrote, in hex, with their connection number and whether they were mutated.
 *
 * Owns: the listening and accepted sockets, every tern_client, the store directories under a
 * mkdtemp directory (removed at exit). Thread: main thread only (SIGALRM handler aside).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tern/client.h"
#include "tern/codec.h"

#if defined(__SANITIZE_ADDRESS__)
#define CF_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CF_ASAN 1
#endif
#endif
#ifdef CF_ASAN
#include <sanitizer/common_interface_defs.h>
#include <sanitizer/lsan_interface.h>
#endif

/* ---- rng ------------------------------------------------------------------------------ */

static uint64_t g_rng;

static uint64_t rnd64(void)
{
    uint64_t x = g_rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g_rng = x;
}
static uint32_t rnd(uint32_t n)
{
    return n ? (uint32_t)(rnd64() % n) : 0;
}
static bool chance(unsigned pct)
{
    return rnd(100) < pct;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- failure and the repro ring ------------------------------------------------------- */

#define RING_N 256
#define RING_MAX 512
struct chunk {
    uint64_t conn;
    int64_t ms;
    bool mutated;
    uint16_t n;
    uint8_t b[RING_MAX];
};
static struct chunk g_ring[RING_N];
static unsigned g_ring_pos;
static uint64_t g_seed;
static int64_t g_t0;

static void ring_add(uint64_t conn, const uint8_t *b, size_t n, bool mutated)
{
    struct chunk *c = &g_ring[g_ring_pos++ % RING_N];
    c->conn = conn;
    c->ms = now_ms() - g_t0;
    c->mutated = mutated;
    c->n = (uint16_t)(n < RING_MAX ? n : RING_MAX);
    memcpy(c->b, b, c->n);
}

static void ring_dump(void)
{
    dprintf(2, "client_fuzz: seed %" PRIu64 "; last server frames (oldest first):\n", g_seed);
    for (unsigned i = 0; i < RING_N; i++) {
        const struct chunk *c = &g_ring[(g_ring_pos + i) % RING_N];
        if (!c->n)
            continue;
        char line[RING_MAX * 2 + 1];
        for (unsigned k = 0; k < c->n; k++) {
            static const char hx[] = "0123456789abcdef";
            line[2 * k] = hx[c->b[k] >> 4];
            line[2 * k + 1] = hx[c->b[k] & 15];
        }
        line[2 * c->n] = 0;
        dprintf(2, "  conn %" PRIu64 " t=%" PRId64 "ms%s %s\n", c->conn, c->ms,
                c->mutated ? " MUT" : "", line);
    }
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
    va_list ap;
    ring_dump();
    printf("client_fuzz: FAIL ");
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf(" (seed %" PRIu64 ")\n", g_seed);
    fflush(stdout);
    _exit(1);
}

/* A protocol finding (not memory safety): fatal unless --keep-going, then counted. */
static bool g_keep_going;
static uint64_t g_findings;
#define finding(...)                                                                               \
    do {                                                                                           \
        if (!g_keep_going)                                                                         \
            die(__VA_ARGS__);                                                                      \
        if (g_findings++ < 5) {                                                                    \
            fprintf(stderr, "client_fuzz: finding: ");                                             \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
        }                                                                                          \
    } while (0)

static void on_alarm(int sig)
{
    (void)sig;
    ring_dump();
    static const char m[] = "client_fuzz: FAIL hang (one loop iteration took over 10 s)\n";
    if (write(1, m, sizeof m - 1) < 0)
        _exit(2);
    _exit(1);
}

/* ---- statistics ------------------------------------------------------------------------ */

static struct {
    uint64_t clients, conns, frames_out, mutated, frames_in, bytes_out;
    uint64_t pubs, pub_rej, subs, unsubs, ev_conn, ev_msg, ev_pub, ev_sub, ev_unsub, ev_disc;
    uint64_t in_by_type[16], iters;
} st;

/* ---- the fake server ------------------------------------------------------------------- */

#define IDS_N 16
struct srv {
    int lfd, fd;
    uint16_t port;
    uint64_t conn;
    uint8_t in[1 << 17];
    size_t in_n;
    uint8_t out[1 << 18];
    size_t out_n;
    uint8_t ver;
    bool got_connect, connack_intact, accepted, sp;
    bool connack_sent, second; /* a CONNACK was generated / encoded on this connection */
    uint32_t max_pkt;          /* Maximum Packet Size we announced (0: none) */
    uint16_t ta_max;           /* Topic Alias Maximum we announced */
    uint16_t cli_ta;           /* the client's Topic Alias Maximum (from its CONNECT) */
    int64_t close_at;          /* server closes the connection then */
    bool rst;                  /* close with an RST */
    bool silent;               /* never answer CONNECT */
    unsigned noise_pct;        /* chance per loop turn of an unsolicited packet */
    unsigned mut_pct;          /* chance per frame of a mutation */
    uint16_t ids[IDS_N];       /* recent packet ids from the client */
    unsigned ids_pos;
    uint16_t our_ids[IDS_N]; /* ids of QoS 2 PUBLISHes we sent */
    unsigned our_pos;
};

static const char *const g_topics[] = {"a",
                                       "a/b",
                                       "t/1",
                                       "t/2",
                                       "x/y/z",
                                       "$SYS/x",
                                       "long/topic/with/many/levels/0123456789",
                                       "sp ace",
                                       "\xc3\xa9t\xc3\xa9"};
#define N_TOPICS (sizeof g_topics / sizeof g_topics[0])

static const uint8_t *const g_bad_utf8[] = {(const uint8_t *)"\xc0\x80",
                                            (const uint8_t *)"\xff",
                                            (const uint8_t *)"\xed\xa0\x80",
                                            (const uint8_t *)"a\x00b",
                                            (const uint8_t *)"\xf4\x90\x80\x80",
                                            (const uint8_t *)"\xe2\x82",
                                            (const uint8_t *)"a/+/#",
                                            (const uint8_t *)"#"};
static const size_t g_bad_utf8_n[] = {2, 1, 3, 3, 4, 2, 5, 1};

static tern_slice rnd_str(void)
{
    if (chance(10)) {
        unsigned k = rnd(8);
        return (tern_slice){g_bad_utf8[k], g_bad_utf8_n[k]};
    }
    if (chance(5))
        return (tern_slice){(const uint8_t *)"", 0};
    return tern_slice_cstr(g_topics[rnd(N_TOPICS)]);
}

static uint8_t rnd_rc(void)
{
    static const uint8_t rcs[] = {0x00, 0x01, 0x02, 0x04, 0x10, 0x11, 0x18, 0x19, 0x80, 0x81,
                                  0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b,
                                  0x8c, 0x8d, 0x8e, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94, 0x95,
                                  0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
                                  0xa0, 0xa1, 0xa2, 0x03, 0x05, 0x06, 0x7f, 0xff};
    return chance(20) ? (uint8_t)rnd(256) : rcs[rnd(sizeof rcs)];
}

static struct tern_strpair g_user[3];
static bool g_explicit_alias; /* the current client published with its own Topic Alias */
static uint32_t g_subids[4];
static uint8_t g_extra[64];

/* Random properties for packet type `type` (may be invalid in value, never in context unless
 * raw bytes are injected through `extra`). */
static void rnd_props(struct tern_props *p, unsigned type, struct srv *s)
{
    memset(p, 0, sizeof *p);
    if (s->ver != TERN_V5 || chance(30))
        return;
#define SETP(id, field, val)                                                                       \
    do {                                                                                           \
        if (chance(25)) {                                                                          \
            p->field = (val);                                                                      \
            tern_props_set(p, id);                                                                 \
        }                                                                                          \
    } while (0)
    SETP(TERN_PROP_REASON_STRING, reason_string, rnd_str());
    if (chance(20)) {
        p->user_n = 1 + rnd(3);
        for (unsigned i = 0; i < p->user_n; i++)
            g_user[i] = (struct tern_strpair){rnd_str(), rnd_str()};
        p->user = g_user;
        tern_props_set(p, TERN_PROP_USER_PROPERTY);
    }
    switch (type) {
    case TERN_CONNACK:
        SETP(TERN_PROP_SESSION_EXPIRY_INTERVAL, session_expiry_interval,
             chance(50) ? rnd(10) : (uint32_t)rnd64());
        SETP(TERN_PROP_RECEIVE_MAXIMUM, receive_maximum, (uint16_t)(chance(70) ? rnd(5) : rnd64()));
        SETP(TERN_PROP_MAXIMUM_QOS, maximum_qos, (uint8_t)rnd(3));
        SETP(TERN_PROP_RETAIN_AVAILABLE, retain_available, (uint8_t)rnd(3));
        SETP(TERN_PROP_MAXIMUM_PACKET_SIZE, maximum_packet_size,
             chance(70) ? 1 + rnd(200) : (uint32_t)rnd64());
        SETP(TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER, assigned_client_identifier, rnd_str());
        SETP(TERN_PROP_TOPIC_ALIAS_MAXIMUM, topic_alias_maximum,
             (uint16_t)(chance(70) ? rnd(4) : rnd64()));
        SETP(TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, wildcard_subscription_available,
             (uint8_t)rnd(3));
        SETP(TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, subscription_identifier_available,
             (uint8_t)rnd(3));
        SETP(TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE, shared_subscription_available,
             (uint8_t)rnd(3));
        SETP(TERN_PROP_SERVER_KEEP_ALIVE, server_keep_alive, (uint16_t)rnd(3));
        SETP(TERN_PROP_RESPONSE_INFORMATION, response_information, rnd_str());
        SETP(TERN_PROP_SERVER_REFERENCE, server_reference, rnd_str());
        SETP(TERN_PROP_AUTHENTICATION_METHOD, authentication_method, rnd_str());
        SETP(TERN_PROP_AUTHENTICATION_DATA, authentication_data, rnd_str());
        break;
    case TERN_PUBLISH:
        SETP(TERN_PROP_PAYLOAD_FORMAT_INDICATOR, payload_format_indicator, (uint8_t)rnd(3));
        SETP(TERN_PROP_MESSAGE_EXPIRY_INTERVAL, message_expiry_interval, rnd(5));
        SETP(TERN_PROP_CONTENT_TYPE, content_type, rnd_str());
        SETP(TERN_PROP_RESPONSE_TOPIC, response_topic, rnd_str());
        SETP(TERN_PROP_CORRELATION_DATA, correlation_data, rnd_str());
        if (chance(20)) {
            p->sub_id_n = 1 + rnd(4);
            for (unsigned i = 0; i < p->sub_id_n; i++)
                g_subids[i] = chance(90) ? 1 + rnd(10) : (uint32_t)rnd64() & 0x0fffffff;
            p->sub_id = g_subids[0];
            p->sub_ids = p->sub_id_n > 1 ? g_subids : NULL;
            tern_props_set(p, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
        }
        break;
    case TERN_DISCONNECT:
        SETP(TERN_PROP_SESSION_EXPIRY_INTERVAL, session_expiry_interval, rnd(5));
        SETP(TERN_PROP_SERVER_REFERENCE, server_reference, rnd_str());
        break;
    case TERN_AUTH:
        SETP(TERN_PROP_AUTHENTICATION_METHOD, authentication_method, rnd_str());
        SETP(TERN_PROP_AUTHENTICATION_DATA, authentication_data, rnd_str());
        break;
    default: break;
    }
#undef SETP
    if (chance(8)) { /* raw property bytes: unknown ids, duplicates, misplaced ones */
        size_t n = 1 + rnd(sizeof g_extra);
        for (size_t i = 0; i < n; i++)
            g_extra[i] = (uint8_t)(chance(50) ? rnd(0x2c) : rnd64());
        p->extra = (tern_slice){g_extra, n};
    }
}

/* Byte-level mutation of one frame in place; returns its new length. */
static size_t mutate(uint8_t *b, size_t n, size_t cap)
{
    unsigned rounds = 1 + rnd(3);
    for (unsigned r = 0; r < rounds && n > 0; r++) {
        switch (rnd(9)) {
        case 0: /* bit flips */
            for (unsigned k = 1 + rnd(4); k; k--)
                b[rnd((uint32_t)n)] ^= (uint8_t)(1u << rnd(8));
            break;
        case 1: /* truncate */ n = rnd((uint32_t)n); break;
        case 2: /* insert bytes */
            if (n + 8 < cap) {
                size_t at = rnd((uint32_t)n + 1), k = 1 + rnd(8);
                memmove(b + at + k, b + at, n - at);
                for (size_t i = 0; i < k; i++)
                    b[at + i] = (uint8_t)rnd64();
                n += k;
            }
            break;
        case 3: /* remove bytes */
            if (n > 2) {
                size_t at = 1 + rnd((uint32_t)n - 1), k = 1 + rnd((uint32_t)(n - at));
                memmove(b + at, b + at + k, n - at - k);
                n -= k;
            }
            break;
        case 4: /* Remaining Length tampering */
            if (n > 1)
                b[1] = (uint8_t)(chance(50) ? (uint64_t)(b[1] + rnd(5) - 2) : rnd64());
            break;
        case 5: /* huge / overlong varint */
            if (n + 4 < cap && n > 1) {
                memmove(b + 5, b + 2, n - 2);
                b[1] = 0xff;
                b[2] = 0xff;
                b[3] = 0xff;
                b[4] = (uint8_t)(chance(50) ? 0x7f : 0xff);
                n += 3;
            }
            break;
        case 6: /* type or flags nibble */
            b[0] = chance(50) ? (uint8_t)((b[0] & 0xf0) | rnd(16))
                              : (uint8_t)((rnd(16) << 4) | (b[0] & 15));
            break;
        case 7: /* invalid UTF-8 somewhere */
            if (n > 4) {
                size_t at = 2 + rnd((uint32_t)n - 2);
                static const uint8_t bad[] = {0xc0, 0x80, 0xff, 0xed, 0xa0, 0x00};
                b[at] = bad[rnd(sizeof bad)];
            }
            break;
        default: /* a random byte */ b[rnd((uint32_t)n)] = (uint8_t)rnd64(); break;
        }
    }
    return n;
}

static void srv_queue(struct srv *s, const uint8_t *b, size_t n, bool mutated)
{
    if (s->fd < 0 || n == 0)
        return;
    if (s->out_n + n > sizeof s->out)
        return; /* the client is not reading: drop */
    memcpy(s->out + s->out_n, b, n);
    s->out_n += n;
    st.frames_out++;
    st.mutated += mutated;
    ring_add(s->conn, b, n, mutated);
}

static void srv_garbage(struct srv *s)
{
    uint8_t b[64];
    size_t n = 1 + rnd(sizeof b);
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)rnd64();
    srv_queue(s, b, n, true);
}

/* Encode and queue p (falling back to no properties if the encoder refuses), maybe mutated. */
static void srv_send(struct srv *s, struct tern_packet *p)
{
    static uint8_t b[70000];
    int n = tern_packet_encode(p, s->ver ? s->ver : TERN_V311, b, sizeof b - 64);
    if (n <= 0) {
        memset(&p->u.ack.props, 0, sizeof p->u.ack.props); /* best effort, any union member */
        switch (p->type) {
        case TERN_CONNACK: memset(&p->u.connack.props, 0, sizeof p->u.connack.props); break;
        case TERN_PUBLISH: memset(&p->u.publish.props, 0, sizeof p->u.publish.props); break;
        case TERN_SUBACK:
        case TERN_UNSUBACK: memset(&p->u.suback.props, 0, sizeof p->u.suback.props); break;
        case TERN_DISCONNECT:
        case TERN_AUTH: memset(&p->u.disconnect.props, 0, sizeof p->u.disconnect.props); break;
        default: break;
        }
        n = tern_packet_encode(p, s->ver ? s->ver : TERN_V311, b, sizeof b - 64);
        if (n <= 0) {
            srv_garbage(s);
            return;
        }
    }
    size_t len = (size_t)n;
    if (p->type == TERN_CONNACK && !s->second) {
        /* the limits the client learns are those of the CONNACK as encoded (its properties
         * may have been dropped above), and only at 5.0: a 3.x CONNACK carries none */
        const struct tern_props *pr = &p->u.connack.props;
        bool v5 = s->ver == TERN_V5;
        s->max_pkt =
            v5 && tern_props_has(pr, TERN_PROP_MAXIMUM_PACKET_SIZE) ? pr->maximum_packet_size : 0;
        s->ta_max =
            v5 && tern_props_has(pr, TERN_PROP_TOPIC_ALIAS_MAXIMUM) ? pr->topic_alias_maximum : 0;
    }
    bool mut = chance(s->mut_pct);
    if (mut)
        len = mutate(b, len, sizeof b);
    if (p->type == TERN_CONNACK && !mut && !s->connack_intact && !s->second)
        s->connack_intact = true;
    if (p->type == TERN_CONNACK)
        s->second = true;
    srv_queue(s, b, len, mut);
}

static uint16_t pick_id(struct srv *s, const uint16_t *ids)
{
    if (chance(60))
        return ids[rnd(IDS_N)] ? ids[rnd(IDS_N)] : 1;
    return chance(50) ? (uint16_t)(1 + rnd(10)) : (uint16_t)rnd64();
    (void)s;
}

static void srv_publish(struct srv *s)
{
    struct tern_packet p = {.type = TERN_PUBLISH};
    struct tern_publish *u = &p.u.publish;
    u->qos = (uint8_t)rnd(3);
    u->dup = chance(10);
    u->retain = chance(10);
    u->packet_id = u->qos ? (chance(80) ? (uint16_t)(1 + rnd(20)) : (uint16_t)rnd64()) : 0;
    u->topic = rnd_str();
    static uint8_t payload[2048];
    size_t pl = chance(90) ? rnd(64) : rnd(sizeof payload);
    for (size_t i = 0; i < pl; i++)
        payload[i] = (uint8_t)rnd64();
    u->payload = (tern_slice){payload, pl};
    rnd_props(&u->props, TERN_PUBLISH, s);
    if (s->ver == TERN_V5 && chance(40)) {
        u->props.topic_alias = (uint16_t)(chance(85) ? rnd((uint32_t)s->cli_ta + 2) : rnd64());
        tern_props_set(&u->props, TERN_PROP_TOPIC_ALIAS);
        if (chance(40))
            u->topic = (tern_slice){(const uint8_t *)"", 0};
    }
    if (u->qos == 2)
        s->our_ids[s->our_pos++ % IDS_N] = u->packet_id;
    srv_send(s, &p);
}

static void srv_ack(struct srv *s, uint8_t type, uint16_t id)
{
    struct tern_packet p = {.type = type};
    p.u.ack.packet_id = id;
    p.u.ack.rc = chance(70) ? 0 : rnd_rc();
    rnd_props(&p.u.ack.props, type, s);
    srv_send(s, &p);
}

static void srv_suback(struct srv *s, uint8_t type, uint16_t id, unsigned count)
{
    static uint8_t rcs[64];
    struct tern_packet p = {.type = type};
    p.u.suback.packet_id = id;
    unsigned n = count;
    if (chance(20))
        n = rnd(6);
    if (type == TERN_UNSUBACK && s->ver != TERN_V5)
        n = 0;
    for (unsigned i = 0; i < n && i < sizeof rcs; i++)
        rcs[i] = chance(60) ? (uint8_t)rnd(3) : rnd_rc();
    p.u.suback.rcs = (tern_slice){rcs, n};
    rnd_props(&p.u.suback.props, type, s);
    srv_send(s, &p);
}

static void srv_connack(struct srv *s)
{
    struct tern_packet p = {.type = TERN_CONNACK};
    if (chance(4)) {
        srv_garbage(s);
        return;
    }
    p.u.connack.session_present = chance(40);
    s->sp = p.u.connack.session_present;
    p.u.connack.rc = chance(85) ? 0 : (s->ver == TERN_V5 ? rnd_rc() : (uint8_t)rnd(7));
    rnd_props(&p.u.connack.props, TERN_CONNACK, s);
    if (s->connack_sent) { /* a second CONNACK: the client must not adopt its limits */
        srv_send(s, &p);
        return;
    }
    s->connack_sent = true;
    srv_send(s, &p);
}

/* An unsolicited packet of any kind. */
static void srv_noise(struct srv *s)
{
    struct tern_packet p = {0};
    switch (rnd(16)) {
    case 0:
    case 1:
    case 2:
    case 3: srv_publish(s); return;
    case 4: srv_ack(s, TERN_PUBREL, pick_id(s, s->our_ids)); return;
    case 5: srv_ack(s, (uint8_t)(TERN_PUBACK + rnd(4)), pick_id(s, s->ids)); return;
    case 6:
        srv_suback(s, (uint8_t)(chance(50) ? TERN_SUBACK : TERN_UNSUBACK), pick_id(s, s->ids),
                   rnd(4));
        return;
    case 7: p.type = TERN_PINGRESP; break;
    case 8: srv_connack(s); return;
    case 9:
        if (!chance(20))
            return;
        p.type = TERN_DISCONNECT;
        p.u.disconnect.rc = rnd_rc();
        rnd_props(&p.u.disconnect.props, TERN_DISCONNECT, s);
        break;
    case 10:
        if (s->ver != TERN_V5) {
            static const uint8_t auth[] = {0xf0, 0x00};
            srv_queue(s, auth, sizeof auth, true);
            return;
        }
        p.type = TERN_AUTH;
        p.u.disconnect.rc = chance(50) ? 0x18 : rnd_rc();
        rnd_props(&p.u.disconnect.props, TERN_AUTH, s);
        break;
    case 11: { /* client-only types, and reserved 0 */
        static const uint8_t f[][4] = {
            {0xc0, 0x00}, {0x82, 0x02, 0x00, 0x01}, {0xa2, 0x02, 0x00, 0x01}, {0x00, 0x00},
            {0x10, 0x00}, {0xe0, 0x01, 0x00}};
        static const size_t fn[] = {2, 4, 4, 2, 2, 3};
        unsigned k = rnd(6);
        srv_queue(s, f[k], fn[k], false);
        return;
    }
    case 12: srv_garbage(s); return;
    default: srv_publish(s); return;
    }
    srv_send(s, &p);
}

static void srv_close(struct srv *s)
{
    if (s->fd < 0)
        return;
    if (s->rst) {
        struct linger l = {1, 0};
        setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(s->fd);
    s->fd = -1;
    s->in_n = s->out_n = 0;
}

static void srv_accept(struct srv *s)
{
    int fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0)
        return;
    srv_close(s);
    s->fd = fd;
    s->conn++;
    st.conns++;
    s->accepted = true;
    s->got_connect = s->connack_intact = s->connack_sent = s->second = false;
    s->ver = 0;
    s->max_pkt = 0;
    s->ta_max = 0;
    s->cli_ta = 0;
    s->close_at = now_ms() + 5 + rnd(chance(20) ? 1000 : 300);
    s->rst = chance(20);
    s->silent = chance(3);
    s->noise_pct = chance(30) ? 0 : rnd(40);
    s->mut_pct = chance(30) ? 0 : 1 + rnd(25);
}

static void remember(uint16_t *ids, unsigned *pos, uint16_t id)
{
    ids[(*pos)++ % IDS_N] = id;
}

/* Answer one frame from the client. */
static void srv_handle(struct srv *s, const uint8_t *frame, size_t n)
{
    struct tern_packet p;
    uint8_t rc;
    uint8_t type = frame[0] >> 4;
    st.frames_in++;
    st.in_by_type[type]++;
    if (!s->got_connect) {
        if (type != TERN_CONNECT)
            die("client sent %s before CONNECT", tern_ptype_name(type));
        if (tern_packet_decode(frame, n, 0, &p, &rc))
            die("client sent a CONNECT that does not decode (rc 0x%02x)", rc);
        s->got_connect = true;
        s->ver = p.u.connect.version;
        s->cli_ta = tern_props_has(&p.u.connect.props, TERN_PROP_TOPIC_ALIAS_MAXIMUM)
                        ? p.u.connect.props.topic_alias_maximum
                        : 0;
        if (!s->silent)
            srv_connack(s);
        return;
    }
    int err = tern_packet_decode(frame, n, s->ver, &p, &rc);
    if (err) {
        fprintf(stderr, "client_fuzz: the frame (level %u):", (unsigned)s->ver);
        for (size_t i = 0; i < n && i < 160; i++)
            fprintf(stderr, " %02x", frame[i]);
        fprintf(stderr, "\n");
    }
    if (err)
        die("client sent a %s that does not decode: %s (rc 0x%02x, %zu bytes)",
            tern_ptype_name(type), tern_client_strerror(err), rc, n);
    /* below 4 bytes no acknowledgement fits (PUBACK is 4): no client can honour such a limit,
     * and the spec says nothing of what it should do then */
    if (s->connack_intact && s->max_pkt >= 4 && n > s->max_pkt)
        finding("client sent a %zu-byte %s (first byte 0x%02x) above the server's Maximum Packet "
                "Size %" PRIu32 " (CONNACK session present %d)",
                n, tern_ptype_name(type), frame[0], s->max_pkt, s->sp);
    switch (type) {
    case TERN_CONNECT: die("client sent a second CONNECT");
    case TERN_PUBLISH: {
        const struct tern_publish *u = &p.u.publish;
        if (s->connack_intact && !g_explicit_alias &&
            tern_props_has(&u->props, TERN_PROP_TOPIC_ALIAS) && u->props.topic_alias > s->ta_max)
            finding("client used Topic Alias %u above the server's maximum %u",
                    u->props.topic_alias, s->ta_max);
        if (u->qos == 0)
            break;
        remember(s->ids, &s->ids_pos, u->packet_id);
        if (chance(85))
            srv_ack(s, u->qos == 1 ? TERN_PUBACK : TERN_PUBREC,
                    chance(85) ? u->packet_id : pick_id(s, s->ids));
        break;
    }
    case TERN_PUBREL:
        if (chance(90))
            srv_ack(s, TERN_PUBCOMP, chance(85) ? p.u.ack.packet_id : pick_id(s, s->ids));
        break;
    case TERN_PUBREC:
        if (chance(90))
            srv_ack(s, TERN_PUBREL, chance(85) ? p.u.ack.packet_id : pick_id(s, s->our_ids));
        break;
    case TERN_PUBACK:
    case TERN_PUBCOMP: break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: {
        remember(s->ids, &s->ids_pos, p.u.subscribe.packet_id);
        unsigned cnt = 0;
        struct tern_sub_iter it;
        struct tern_sub_entry e;
        tern_sub_iter_init(&it, &p, s->ver);
        while (tern_sub_iter_next(&it, &e) == 1)
            cnt++;
        if (chance(90))
            srv_suback(s, type == TERN_SUBSCRIBE ? TERN_SUBACK : TERN_UNSUBACK,
                       chance(85) ? p.u.subscribe.packet_id : pick_id(s, s->ids), cnt);
        break;
    }
    case TERN_PINGREQ:
        if (chance(90)) {
            struct tern_packet r = {.type = TERN_PINGRESP};
            srv_send(s, &r);
        }
        break;
    case TERN_DISCONNECT: srv_close(s); break;
    case TERN_AUTH: break;
    default: die("client sent a server-only packet %s", tern_ptype_name(type));
    }
}

static void srv_read(struct srv *s)
{
    ssize_t r = read(s->fd, s->in + s->in_n, sizeof s->in - s->in_n);
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        srv_close(s);
        return;
    }
    s->in_n += (size_t)r;
    size_t off = 0;
    for (;;) {
        struct tern_frame f;
        uint8_t rc;
        int pr = tern_frame_peek(s->in + off, s->in_n - off, 0, &f, &rc);
        if (pr < 0)
            die("client sent bytes that do not frame (rc 0x%02x)", rc);
        if (pr != 1)
            break;
        static uint8_t frame[sizeof((struct srv *)0)->in];
        memcpy(frame, s->in + off, f.size);
        off += f.size;
        srv_handle(s, frame, f.size);
        if (s->fd < 0)
            return;
    }
    memmove(s->in, s->in + off, s->in_n - off);
    s->in_n -= off;
    if (s->in_n == sizeof s->in)
        die("client sent a frame larger than %zu bytes", sizeof s->in);
}

static void srv_write(struct srv *s)
{
    if (s->fd < 0 || !s->out_n)
        return;
    size_t n = chance(30) ? 1 + rnd((uint32_t)s->out_n) : s->out_n;
    ssize_t w = write(s->fd, s->out, n);
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            srv_close(s);
        return;
    }
    st.bytes_out += (uint64_t)w;
    memmove(s->out, s->out + w, s->out_n - (size_t)w);
    s->out_n -= (size_t)w;
}

/* ---- the client ------------------------------------------------------------------------ */

static volatile uint64_t g_sink; /* keeps view reads from being optimised out */

static void touch(tern_slice sl)
{
    uint64_t h = 0;
    if (sl.n && !sl.p)
        die("callback view with length %zu and NULL pointer", sl.n);
    for (size_t i = 0; i < sl.n; i++)
        h = h * 31 + sl.p[i];
    g_sink += h;
}

static void touch_props(const struct tern_props *p)
{
    if (!p)
        return;
    touch(p->raw);
    struct tern_prop_iter it = {p->raw.p, p->raw.p + p->raw.n};
    struct tern_prop pr;
    int guard = 0;
    while (tern_props_iter_next(&it, &pr) == 1) {
        touch(pr.s);
        touch(pr.v);
        if (++guard > 100000)
            die("property iterator does not end");
    }
    /* fields are valid only when their bit is present */
    if (tern_props_has(p, TERN_PROP_REASON_STRING))
        touch(p->reason_string);
    if (tern_props_has(p, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER))
        touch(p->assigned_client_identifier);
    if (tern_props_has(p, TERN_PROP_CONTENT_TYPE))
        touch(p->content_type);
    if (tern_props_has(p, TERN_PROP_RESPONSE_TOPIC))
        touch(p->response_topic);
    if (tern_props_has(p, TERN_PROP_CORRELATION_DATA))
        touch(p->correlation_data);
}

static void cb_conn(tern_client *c, void *ud, const struct tern_connect_event *e)
{
    (void)c;
    (void)ud;
    st.ev_conn++;
    touch_props(e->props);
    touch(e->assigned_client_id);
}
static void cb_msg(tern_client *c, void *ud, const struct tern_publish *m, uint8_t v)
{
    (void)ud;
    (void)v;
    st.ev_msg++;
    touch(m->topic);
    touch(m->payload);
    touch_props(&m->props);
    if (m->qos > 2)
        die("on_message with QoS %u", m->qos);
    if (m->topic.n == 0)
        die("on_message with an empty topic (alias not resolved)");
    if (chance(5)) /* reentrant call from a callback */
        tern_client_publish(c, "re/entrant", "x", 1, (int)rnd(3), false, NULL, NULL);
}
static void cb_pub(tern_client *c, void *ud, const struct tern_publish_event *e)
{
    (void)c;
    (void)ud;
    st.ev_pub++;
    touch_props(e->props);
    if (e->qos > 2)
        die("on_publish with QoS %u", e->qos);
}
static void cb_sub(tern_client *c, void *ud, const struct tern_sub_event *e)
{
    (void)c;
    (void)ud;
    st.ev_sub++;
    touch((tern_slice){e->rcs, e->n});
    touch_props(e->props);
}
static void cb_unsub(tern_client *c, void *ud, const struct tern_sub_event *e)
{
    (void)c;
    (void)ud;
    st.ev_unsub++;
    touch((tern_slice){e->rcs, e->n});
    touch_props(e->props);
}
static void cb_disc(tern_client *c, void *ud, const struct tern_disconnect_event *e)
{
    (void)c;
    (void)ud;
    st.ev_disc++;
    touch_props(e->props);
}
static void cb_trace(tern_client *c, void *ud, const struct tern_trace_event *e)
{
    (void)c;
    (void)ud;
    touch((tern_slice){e->raw, e->raw_len});
}
static void cb_log(tern_client *c, void *ud, int level, const char *msg)
{
    (void)c;
    (void)ud;
    (void)level;
    g_sink += strlen(msg);
}

static char g_store_root[64];
static bool g_verbose;
static unsigned g_refused;
static unsigned g_store_n;

static tern_client *cli_new(struct srv *s, int64_t *die_at)
{
    static const uint8_t vers[] = {TERN_V31, TERN_V311, TERN_V5, TERN_V5};
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = s->port;
    o.version = vers[rnd(4)];
    o.client_id = chance(30) ? "" : "cfuzz";
    if (o.version == TERN_V31 && !o.client_id[0])
        o.client_id = NULL;
    o.clean = chance(60);
    o.session_expiry = chance(50) ? 0 : rnd(100);
    o.keepalive = (uint16_t)(chance(50) ? 0 : 1 + rnd(2));
    if (chance(20)) {
        o.username = "u";
        o.password = "p";
        o.password_len = 1;
    }
    if (chance(20)) {
        o.will_topic = "will/t";
        o.will_payload = "bye";
        o.will_payload_len = 3;
        o.will_qos = (uint8_t)rnd(3);
        o.will_retain = chance(50);
    }
    o.max_inflight = (uint16_t)(1 + rnd(chance(50) ? 4 : 100));
    o.receive_maximum = (uint16_t)(1 + rnd(chance(50) ? 3 : 100));
    o.topic_alias_maximum = (uint16_t)rnd(6);
    o.topic_alias_auto = o.version == TERN_V5 && chance(50);
    o.max_packet_size = chance(70) ? 0 : 64 + rnd(2000);
    o.max_queued = 1 + rnd(200);
    o.max_queued_bytes = 1024 + rnd(100000);
    o.queue_qos0_offline = chance(50);
    o.auto_reconnect = true;
    o.reconnect_min_ms = 1;
    o.reconnect_max_ms = 5;
    o.connect_timeout_ms = 100 + rnd(400);
    char dir[96];
    if (g_store_root[0] && chance(10)) {
        snprintf(dir, sizeof dir, "%s/s%u", g_store_root, g_store_n++ % 4);
        o.store_dir = dir;
        o.store_sync = (enum tern_store_sync)rnd(3);
        o.store_sync_ms = rnd(20);
        o.client_id = "cfuzz-store";
    }
    o.cb.on_connect = cb_conn;
    o.cb.on_message = cb_msg;
    o.cb.on_publish = cb_pub;
    o.cb.on_subscribe = cb_sub;
    o.cb.on_unsubscribe = cb_unsub;
    o.cb.on_disconnect = cb_disc;
    o.cb.on_log = cb_log;
    if (chance(15))
        o.cb.on_trace = cb_trace;
    tern_client *c = NULL;
    int err = tern_client_new(&o, &c);
    if (err == -EINVAL && g_verbose) /* an option combination libtern refuses */
        fprintf(stderr, "tern_client_new: %s\n", tern_client_last_error());
    /* a reused store directory written by a client of another protocol level is refused */
    bool other_level =
        err == -TERN_ESTORE && strstr(tern_client_last_error(), "holds messages of") != NULL;
    if ((err == -EINVAL || other_level) && ++g_refused < 1000)
        return cli_new(s, die_at);
    if (err)
        die("tern_client_new: %s (%s)", tern_client_strerror(err), tern_client_last_error());
    st.clients++;
    g_explicit_alias = false;
    *die_at = now_ms() + 200 + rnd(2800);
    tern_client_connect(c);
    return c;
}

static void cli_op(tern_client *c)
{
    uint8_t v = tern_client_version(c);
    unsigned k = rnd(100);
    static uint8_t payload[4096];
    if (k < 60) {
        size_t n = chance(90) ? rnd(100) : rnd(sizeof payload);
        for (size_t i = 0; i < n; i++)
            payload[i] = (uint8_t)rnd64();
        struct tern_propset *ps = NULL;
        const char *topic = g_topics[rnd(5)];
        if (v == TERN_V5 && chance(40) && tern_propset_new(TERN_PUBLISH, &ps) == 0) {
            if (chance(40))
                tern_propset_add_int(ps, TERN_PROP_MESSAGE_EXPIRY_INTERVAL, rnd(10));
            if (chance(30))
                tern_propset_add_str(ps, TERN_PROP_CONTENT_TYPE, "text/plain", 10);
            if (chance(30))
                tern_propset_add_user(ps, "k", "v");
            if (chance(20))
                tern_propset_add_str(ps, TERN_PROP_RESPONSE_TOPIC, "r/t", 3);
            if (chance(20))
                tern_propset_add_str(ps, TERN_PROP_CORRELATION_DATA, "\x00\x01", 2);
            if (chance(25)) {
                tern_propset_add_int(ps, TERN_PROP_TOPIC_ALIAS, 1 + rnd(3));
                g_explicit_alias = true; /* the app's alias: libtern passes it through as is */
                if (chance(50))
                    topic = "";
            }
        }
        uint64_t mid;
        int err = tern_client_publish(c, topic, payload, n, (int)rnd(3), chance(10),
                                      ps ? tern_propset_props(ps) : NULL, &mid);
        tern_propset_free(ps);
        st.pubs++;
        st.pub_rej += err != 0;
    } else if (k < 80) {
        static const char *const filt[] = {"a/#", "t/+", "x/y/z", "#", "+/+", "$share/g/a"};
        struct tern_sub_entry e[3];
        size_t n = 1 + rnd(3);
        for (size_t i = 0; i < n; i++) {
            memset(&e[i], 0, sizeof e[i]);
            e[i].filter = tern_slice_cstr(filt[rnd(6)]);
            e[i].qos = (uint8_t)rnd(3);
            if (v == TERN_V5) {
                e[i].no_local = chance(20);
                e[i].retain_as_published = chance(20);
                e[i].retain_handling = (uint8_t)rnd(3);
            }
        }
        tern_client_subscribe(c, e, n, NULL, NULL);
        st.subs++;
    } else if (k < 95) {
        const char *f[2] = {"a/#", "t/+"};
        tern_client_unsubscribe(c, f, 1 + rnd(2), NULL, NULL);
        st.unsubs++;
    } else if (k < 97) {
        tern_client_disconnect(c, (uint8_t)(chance(50) ? 0 : 4), NULL);
    } else {
        size_t cnt, bytes;
        tern_client_queued(c, &cnt, &bytes);
        (void)tern_client_state(c);
    }
}

/* ---- main ----------------------------------------------------------------------------- */

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
    (void)sb;
    (void)flag;
    (void)f;
    remove(p);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: client_fuzz [--seconds N] [--seed S] [--keep-going] [--verbose]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    unsigned seconds = 10;
    g_seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 20;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            g_seed = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--keep-going"))
            g_keep_going = true;
        else if (!strcmp(argv[i], "--verbose"))
            g_verbose = true;
        else
            usage();
    }
    g_rng = g_seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
    if (!g_rng)
        g_rng = 1;
    printf("client_fuzz: seed %" PRIu64 ", %u s\n", g_seed, seconds);
    fflush(stdout);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGALRM, on_alarm);
#ifdef CF_ASAN
    __sanitizer_set_death_callback(ring_dump);
#endif
    snprintf(g_store_root, sizeof g_store_root, "/tmp/client-fuzz-XXXXXX");
    if (!mkdtemp(g_store_root))
        g_store_root[0] = 0;

    static struct srv s;
    s.fd = -1;
    s.lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s.lfd < 0 || bind(s.lfd, (struct sockaddr *)&a, sizeof a) || listen(s.lfd, 16) ||
        getsockname(s.lfd, (struct sockaddr *)&a, &al))
        die("listen: %s", strerror(errno));
    s.port = ntohs(a.sin_port);

    g_t0 = now_ms();
    int64_t end = g_t0 + (int64_t)seconds * 1000, die_at = 0, last_accept = g_t0;
    tern_client *c = cli_new(&s, &die_at);
    while (now_ms() < end) {
        alarm(10);
        st.iters++;
        int64_t t = now_ms();
        if (t >= die_at) {
            int64_t t0 = now_ms();
            tern_client_free(c);
            if (now_ms() - t0 > 2000)
                die("tern_client_free took %" PRId64 " ms", now_ms() - t0);
            if (chance(50))
                srv_close(&s);
            c = cli_new(&s, &die_at);
            last_accept = now_ms();
        }
        if (tern_client_state(c) == TERN_CS_IDLE)
            tern_client_connect(c);
        if (chance(15))
            cli_op(c);
        if (s.fd >= 0 && s.got_connect && chance(s.noise_pct))
            srv_noise(&s);
        if (s.fd >= 0 && now_ms() >= s.close_at)
            srv_close(&s);

        struct pollfd pf[3];
        int cfd = tern_client_fd(c);
        unsigned want = tern_client_want(c);
        pf[0] = (struct pollfd){.fd = cfd,
                                .events = (short)((want & TERN_WANT_READ ? POLLIN : 0) |
                                                  (want & TERN_WANT_WRITE ? POLLOUT : 0))};
        pf[1] = (struct pollfd){.fd = s.lfd, .events = POLLIN};
        pf[2] = (struct pollfd){.fd = s.fd, .events = (short)(POLLIN | (s.out_n ? POLLOUT : 0))};
        int to = tern_client_next_timeout_ms(c);
        if (to < 0 || to > 5)
            to = 5;
        if (poll(pf, 3, to) < 0 && errno != EINTR)
            die("poll: %s", strerror(errno));
        unsigned ev = 0;
        if (cfd >= 0) {
            if (pf[0].revents & (POLLIN | POLLHUP | POLLERR))
                ev |= TERN_WANT_READ;
            if (pf[0].revents & (POLLOUT | POLLHUP | POLLERR))
                ev |= want & TERN_WANT_WRITE;
        }
        int64_t t0 = now_ms();
        tern_client_process(c, ev);
        if (now_ms() - t0 > 2000)
            die("tern_client_process took %" PRId64 " ms", now_ms() - t0);

        if (pf[1].revents & POLLIN) {
            srv_accept(&s);
            last_accept = now_ms();
        }
        if (s.fd >= 0 && (pf[2].revents & (POLLIN | POLLHUP | POLLERR)))
            srv_read(&s);
        if (s.fd >= 0 && s.out_n)
            srv_write(&s);
        if (now_ms() - last_accept > 5000)
            die("no progress: no connection for 5 s (client state %d, fd %d, want %u, timeout %d)",
                (int)tern_client_state(c), tern_client_fd(c), tern_client_want(c),
                tern_client_next_timeout_ms(c));
        if (g_verbose && st.iters % 20000 == 0)
            fprintf(stderr, "... %" PRIu64 " conns\n", st.conns);
    }
    alarm(0);
    tern_client_free(c);
    srv_close(&s);
    close(s.lfd);
    if (g_store_root[0])
        nftw(g_store_root, rm_cb, 8, FTW_DEPTH | FTW_PHYS);

    double secs = (double)(now_ms() - g_t0) / 1000.0;
    printf("client_fuzz: %.1f s, %" PRIu64 " clients, %" PRIu64
           " connections, server frames out %" PRIu64 " (%" PRIu64 " mutated, %" PRIu64
           " bytes), client frames in %" PRIu64 " (publish %" PRIu64 " puback %" PRIu64
           " pubrec %" PRIu64 " pubrel %" PRIu64 " pubcomp %" PRIu64 " subscribe %" PRIu64
           " unsubscribe %" PRIu64 " pingreq %" PRIu64 " disconnect %" PRIu64
           "), ops publish %" PRIu64 " (rejected %" PRIu64 ") subscribe %" PRIu64
           " unsubscribe %" PRIu64 ", events connect %" PRIu64 " message %" PRIu64
           " publish %" PRIu64 " suback %" PRIu64 " unsuback %" PRIu64 " disconnect %" PRIu64 "\n",
           secs, st.clients, st.conns, st.frames_out, st.mutated, st.bytes_out, st.frames_in,
           st.in_by_type[3], st.in_by_type[4], st.in_by_type[5], st.in_by_type[6], st.in_by_type[7],
           st.in_by_type[8], st.in_by_type[10], st.in_by_type[12], st.in_by_type[14], st.pubs,
           st.pub_rej, st.subs, st.unsubs, st.ev_conn, st.ev_msg, st.ev_pub, st.ev_sub, st.ev_unsub,
           st.ev_disc);
#ifdef CF_ASAN
    if (__lsan_do_recoverable_leak_check()) {
        printf("client_fuzz: FAIL LeakSanitizer found leaks (seed %" PRIu64 ")\n", g_seed);
        return 1;
    }
#endif
    if (st.conns < 2)
        die("only %" PRIu64 " connections in %.1f s", st.conns, secs);
    if (g_findings) {
        printf("client_fuzz: FAIL %" PRIu64 " protocol findings (seed %" PRIu64 ")\n", g_findings,
               g_seed);
        return 1;
    }
    printf("client_fuzz: ok\n");
    return 0;
}
