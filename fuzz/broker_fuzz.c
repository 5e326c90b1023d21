/* SPDX-License-Identifier: MIT */
/*
 * fuzz/broker_fuzz.c - a hostile-input network fuzzer for ternd. Not a libFuzzer target: the
 * broker is a multi-threaded epoll daemon, so this program starts it on a free 127.0.0.1 port
 * and drives it over TCP with many concurrent, stateful, partly malformed MQTT sessions.
 *
 *   broker_fuzz TERND_PATH [--seconds N] [--seed S] [--conns C] [--out DIR] [--keep-going]
 *
 * What it does. C connections (default 50) are kept open at once (non-blocking sockets, one
 * poll loop). Most send a valid CONNECT (protocol level 3, 4 or 5, random flags, a client id
 * from a small pool so that session takeover, persistent sessions and Session Expiry happen,
 * sometimes a Will with a delay), then a stream of packets of every type built with the tern
 * codec, a fraction of which is then mutated at the byte level (bit flips, truncation, bytes
 * inserted/removed, Remaining Length tampering, huge varints, wrong flags or types, invalid
 * UTF-8, injected duplicate/unknown/misplaced properties). Some connections send garbage
 * before or instead of CONNECT, some write one byte at a time, some never read (so the
 * broker's output queues fill), some go idle (keep-alive), some end with an RST mid-packet.
 *
 * Oracles (any one ends the run with exit status 1 and "broker_fuzz: FAIL <reason>"):
 *  - the broker process exits (waitpid) at any time;
 *  - liveness: every ~250 ms a canary client (fresh connection, 5.0 and 3.1.1 alternately)
 *    does CONNECT, SUBSCRIBE to a private topic, PUBLISH QoS 1 to it and must see CONNACK,
 *    SUBACK, PUBACK and its message within 5 s;
 *  - every frame the broker sends must decode with the tern codec, be of a server-to-client
 *    type, and (on connections whose CONNECT was sent intact) obey: CONNACK first
 *    [MQTT-3.2.0-1], Session Present 0 after Clean Start or a refusal [MQTT-3.2.2-2]
 *    [MQTT-3.2.2-6], no DISCONNECT after a refused CONNACK [MQTT-3.14.0-1] nor on 3.x, no
 *    packet above our Maximum Packet Size [MQTT-3.1.2-24], no Topic Alias above our Topic Alias
 *    Maximum [MQTT-3.1.2-26], and a connection idle past 1.5 x Keep Alive (+3 s slack) is
 *    closed [MQTT-3.1.2-22] (3.1.1: [MQTT-3.1.2-24]). --keep-going counts these protocol
 *    findings instead of stopping at the first one;
 *  - on a hang the broker's threads' stacks go to hang-stacks.txt (gdb, when installed);
 *  - at the end the broker gets SIGTERM and must exit with status 0 within 10 s (the ASan
 *    build's LeakSanitizer makes a leak a non-zero exit), and its log must not contain
 *    "ERROR: AddressSanitizer", "runtime error:" (UBSan) or "LeakSanitizer".
 *
 * Output. --out DIR (default a fresh /tmp/broker-fuzz-XXXXXX, removed after a passing run)
 * holds ternd.conf, ternd.log (the broker's stdout+stderr), repro.txt (the command line and
 * seed) and, after a failure, conn-<N>.txt for every live connection and the last 200 closed
 * ones: the connection's seed and kind and its last 256 sent chunks in hex with a millisecond
 * timestamp and whether the chunk was mutated. The last two lines on stdout are a summary
 * (seconds, connections, packets sent and received by type, canary round trips) and
 * "broker_fuzz: ok" or "broker_fuzz: FAIL <reason>".
 *
 * Reproducing. One seed drives everything: the config choices come first, then connection
 * number k always gets the k-th seed of the master generator and draws its kind, its packets
 * and its mutations from its own generator, so connection k sends the same bytes in every run
 * with the same --seed. What cannot be fixed is timing: which packets of different
 * connections interleave, and the acks this program sends for what the broker sent.
 *
 * `make fuzz-broker` builds the gcc ASan+UBSan build in build/fuzz-broker and runs this for
 * FUZZ_SECONDS with a random seed; ctest runs it for 20 s with seed 1 (broker_fuzz_smoke).
 *
 * Owns: the ternd child process (SIGTERM/SIGKILL on every exit path; the child also has
 * PR_SET_PDEATHSIG), every socket it opens, the --out directory.
 * Thread: the main thread runs the poll loop and everything else; one canary thread runs the
 * liveness probe and shares only atomics and a reason string published before an atomic flag.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tern/codec.h"

#define MAX_CONNS 512
#define LOG_KEEP 256      /* sent chunks remembered per connection */
#define GRAVE_KEEP 200    /* closed connections whose logs are kept */
#define CANARY_MS 5000    /* a canary round trip slower than this is a hang */
#define CANARY_EVERY 250  /* ms between canary rounds */
#define SHUTDOWN_MS 10000 /* SIGTERM to exit */
#define NREPLY 64

/* ---- options, stats, failure ------------------------------------------------------------ */

static struct {
    const char *ternd;
    int seconds;
    uint64_t seed;
    int conns;
    char out[512];
    bool out_given;
    bool keep_going;
} opt = {.seconds = 60, .conns = 50};

static struct {
    uint64_t opened, broker_closed, mutated, encode_fail, bugs, bytes_sent, bytes_recv;
    uint64_t sent[17]; /* by packet type; [16] = garbage (not a packet) */
    uint64_t recv[16];
} st;

static atomic_uint_fast64_t canary_rounds;
static atomic_int canary_failed;
static char canary_reason[512]; /* written before canary_failed is set */
static atomic_int stop_canary;

static char fail_reason[1024];
static bool failed;

static pid_t broker_pid = -1;
static uint16_t broker_port;
static char log_path[600];
static int64_t t_start;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void set_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void set_fail(const char *fmt, ...)
{
    va_list ap;
    if (failed)
        return;
    failed = true;
    va_start(ap, fmt);
    vsnprintf(fail_reason, sizeof(fail_reason), fmt, ap);
    va_end(ap);
}

static void die(const char *what)
{
    fprintf(stderr, "broker_fuzz: %s: %s\n", what, strerror(errno));
    if (broker_pid > 0) {
        kill(broker_pid, SIGKILL);
        waitpid(broker_pid, NULL, 0);
    }
    exit(2);
}

/* ---- random numbers: splitmix64, one master state, one per connection -------------------- */

static uint64_t rnd64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* Uniform-enough in [0, n); 0 when n is 0. */
static uint32_t rnd(uint64_t *s, uint32_t n)
{
    uint64_t v = rnd64(s);
    return n ? (uint32_t)(v % n) : 0;
}

static bool chance(uint64_t *s, unsigned pct)
{
    return rnd(s, 100) < pct;
}

/* ---- byte buffers ------------------------------------------------------------------------ */

struct bbuf {
    uint8_t *p;
    size_t n, cap;
};

static void bb_reserve(struct bbuf *b, size_t extra)
{
    if (b->n + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        die("realloc");
    b->p = p;
    b->cap = cap;
}

static void bb_put(struct bbuf *b, const void *p, size_t n)
{
    bb_reserve(b, n);
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void bb_free(struct bbuf *b)
{
    free(b->p);
    *b = (struct bbuf){0};
}

static void hex_to(FILE *f, const uint8_t *p, size_t n, size_t max)
{
    for (size_t i = 0; i < n && i < max; i++)
        fprintf(f, "%02x", p[i]);
    if (n > max)
        fprintf(f, "...(%zu bytes)", n);
}

/* ---- the per-connection log of sent chunks ------------------------------------------------ */

struct sent_rec {
    int64_t t; /* ms since start */
    bool mutated;
    uint8_t type; /* generated packet type, 16 = garbage */
    uint8_t *p;
    size_t n;
};

struct sentlog {
    uint64_t serial, seed;
    const char *kind;
    uint8_t version;
    struct sent_rec rec[LOG_KEEP];
    unsigned next, count;
};

static void sentlog_add(struct sentlog *l, uint8_t type, bool mutated, const uint8_t *p, size_t n)
{
    struct sent_rec *r = &l->rec[l->next];
    free(r->p);
    r->p = malloc(n ? n : 1);
    if (!r->p)
        die("malloc");
    memcpy(r->p, p, n);
    r->n = n;
    r->t = now_ms() - t_start;
    r->type = type;
    r->mutated = mutated;
    l->next = (l->next + 1) % LOG_KEEP;
    if (l->count < LOG_KEEP)
        l->count++;
}

static void sentlog_free(struct sentlog *l)
{
    for (unsigned i = 0; i < LOG_KEEP; i++)
        free(l->rec[i].p);
    free(l);
}

static void sentlog_dump(const struct sentlog *l, const char *state)
{
    char path[700];
    snprintf(path, sizeof(path), "%s/conn-%06" PRIu64 ".txt", opt.out, l->serial);
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fprintf(f, "# connection %" PRIu64 " (%s, %s) seed %#" PRIx64 " protocol level %u\n", l->serial,
            l->kind, state, l->seed, l->version);
    fprintf(f, "# last %u sent chunks: +ms type mutated hex\n", l->count);
    for (unsigned i = 0; i < l->count; i++) {
        const struct sent_rec *r = &l->rec[(l->next + LOG_KEEP - l->count + i) % LOG_KEEP];
        fprintf(f, "+%" PRId64 " %s %s ", r->t, r->type < 16 ? tern_ptype_name(r->type) : "GARBAGE",
                r->mutated ? "M" : "-");
        hex_to(f, r->p, r->n, SIZE_MAX);
        fputc('\n', f);
    }
    fclose(f);
}

static struct sentlog *grave[GRAVE_KEEP];
static unsigned grave_next;

static void grave_add(struct sentlog *l)
{
    if (grave[grave_next])
        sentlog_free(grave[grave_next]);
    grave[grave_next] = l;
    grave_next = (grave_next + 1) % GRAVE_KEEP;
}

/* ---- the broker process ------------------------------------------------------------------- */

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int tcp_socket(int rcvbuf)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0)
        return -errno;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    return fd;
}

/* Non-blocking connect; returns fd (connected or in progress, *pending says which). */
static int tcp_connect_nb(int rcvbuf, bool *pending)
{
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(broker_port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = tcp_socket(rcvbuf);
    if (fd < 0)
        return fd;
    *pending = false;
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        if (errno != EINPROGRESS) {
            int e = -errno;
            close(fd);
            return e;
        }
        *pending = true;
    }
    return fd;
}

/* Whether the broker still runs; if it has exited, records why as the failure. */
static bool broker_check(void)
{
    int status;
    if (broker_pid <= 0)
        return false;
    pid_t r = waitpid(broker_pid, &status, WNOHANG);
    if (r == 0)
        return true;
    broker_pid = -1;
    if (WIFSIGNALED(status))
        set_fail("broker died: signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        set_fail("broker exited during the run with status %d", WEXITSTATUS(status));
    return false;
}

static void broker_kill(void)
{
    if (broker_pid > 0) {
        kill(broker_pid, SIGKILL);
        waitpid(broker_pid, NULL, 0);
        broker_pid = -1;
    }
}

static void on_signal(int sig)
{
    if (broker_pid > 0)
        kill(broker_pid, SIGKILL);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Config limits are drawn from the master generator first, so they depend on the seed only. */
static void broker_start(uint64_t *master)
{
    static const unsigned pkt[] = {2048, 4096, 65536};
    static const unsigned inflight[] = {1, 5, 20};
    static const unsigned queued[] = {5, 50, 200};
    char conf[600];
    int port = free_port();
    if (port <= 0)
        die("no free port");
    broker_port = (uint16_t)port;
    snprintf(conf, sizeof(conf), "%s/ternd.conf", opt.out);
    snprintf(log_path, sizeof(log_path), "%s/ternd.log", opt.out);
    FILE *f = fopen(conf, "w");
    if (!f)
        die(conf);
    fprintf(f, "listener %u 127.0.0.1\nallow_anonymous true\nworkers 2\n", broker_port);
    fprintf(f, "max_packet_size %u\n", pkt[rnd(master, 3)]);
    fprintf(f, "max_inflight_messages %u\n", inflight[rnd(master, 3)]);
    fprintf(f, "max_queued_messages %u\n", queued[rnd(master, 3)]);
    fprintf(f, "max_queued_bytes %u\n", chance(master, 50) ? 65536u : 0u);
    fprintf(f, "message_size_limit %u\n", chance(master, 30) ? 1500u : 0u);
    fprintf(f, "queue_qos0_messages %s\n", chance(master, 50) ? "true" : "false");
    fprintf(f, "retain_available %s\n", chance(master, 85) ? "true" : "false");
    fprintf(f, "max_keepalive 60\nsys_interval 1\n");
    fclose(f);

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        die("fork");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int nul = open("/dev/null", O_RDONLY);
        if (nul >= 0) {
            dup2(nul, 0);
            close(nul);
        }
        execl(opt.ternd, opt.ternd, "-c", conf, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", opt.ternd, strerror(errno));
        _exit(127);
    }
    broker_pid = pid;
    /* Poll until the port accepts a connection or the broker exits (10 s). */
    int64_t deadline = now_ms() + 10000;
    for (;;) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons(broker_port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
            close(fd);
            return;
        }
        if (fd >= 0)
            close(fd);
        if (!broker_check() || now_ms() > deadline) {
            fprintf(stderr, "broker_fuzz: %s did not start listening on 127.0.0.1:%u (log %s)\n",
                    opt.ternd, broker_port, log_path);
            broker_kill();
            exit(2);
        }
        sleep_ms(10);
    }
}

/* Print the sanitizer reports in the broker log (each with the lines that follow it).
 * Returns the first finding's name, or NULL when there is none. */
static const char *scan_log(void)
{
    static const char *const pats[] = {"ERROR: AddressSanitizer",
                                       "runtime error:", "LeakSanitizer"};
    const char *found = NULL;
    char line[2048];
    int show = 0, shown = 0;
    FILE *f = fopen(log_path, "r");
    if (!f)
        return NULL;
    while (fgets(line, sizeof(line), f)) {
        for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
            if (strstr(line, pats[i])) {
                if (!found)
                    found = pats[i];
                show = 60;
            }
        if (show > 0 && shown < 400) {
            fprintf(stderr, "ternd.log: %s", line);
            show--;
            shown++;
        }
    }
    fclose(f);
    return found;
}

/* ---- value pools -------------------------------------------------------------------------- */

#define SL(s)                                                                                      \
    {                                                                                              \
        (const uint8_t *)(s), sizeof(s) - 1                                                        \
    }

static const tern_slice topics_ok[] = {
    SL("a"),
    SL("a/b"),
    SL("a/b/c"),
    SL("b"),
    SL("t/1"),
    SL("t/2"),
    SL("x/y/z"),
    SL("/"),
    SL("a//b"),
    SL("fz/retained"),
    SL("s/t"),
    SL("$SYS/fz"),
    SL("\xc3\xa9t\xc3\xa9"),
    SL("sport/tennis/player1"),
};
static const tern_slice topics_bad[] = {
    SL("a/+"),      SL("#"),         SL("a/#"),           SL(""),        SL("+"),
    SL("\xff\xfe"), SL("a\xc0\x80"), SL("t\xed\xa0\x80"), SL("nul\0in"), SL("\xf4\x90\x80\x80"),
};
static const tern_slice filters_ok[] = {
    SL("#"),
    SL("+"),
    SL("a/#"),
    SL("a/+"),
    SL("+/+"),
    SL("a/b"),
    SL("t/#"),
    SL("$SYS/#"),
    SL("$share/g/a/#"),
    SL("$share/g/#"),
    SL("$share/h/t/+"),
    SL("$share/g/+/b"),
    SL("sport/+/player1"),
    SL("fz/retained"),
    SL("/#"),
    SL("+/#"),
};
static const tern_slice filters_bad[] = {
    SL("a/#/b"), SL("a+"),   SL("#/a"),         SL("$share/g"), SL("$share//a"),  SL("$share/+/a"),
    SL(""),      SL("\xff"), SL("$share/g/a#"), SL("a\0b"),     SL("$share/#/x"),
};
static const tern_slice keys[] = {SL("k"), SL("fz"), SL(""), SL("\xc3\xa9"), SL("k\xc0\x80")};

#define NPOOL(a) ((uint32_t)(sizeof(a) / sizeof((a)[0])))

static tern_slice pick_topic(uint64_t *r, unsigned bad_pct)
{
    if (chance(r, bad_pct))
        return topics_bad[rnd(r, NPOOL(topics_bad))];
    return topics_ok[rnd(r, NPOOL(topics_ok))];
}

static tern_slice pick_filter(uint64_t *r, unsigned bad_pct)
{
    if (chance(r, bad_pct))
        return filters_bad[rnd(r, NPOOL(filters_bad))];
    return filters_ok[rnd(r, NPOOL(filters_ok))];
}

/* Payloads and other random strings of the packet being built: a bump allocator reset for
 * every packet, so that the slices of one packet never overlap. Main thread only. */
static uint8_t scratch[80000];
static size_t scratch_used;

static tern_slice random_bytes(uint64_t *r, size_t n)
{
    uint8_t *p = scratch + scratch_used;
    if (n > sizeof(scratch) - scratch_used)
        n = sizeof(scratch) - scratch_used;
    for (size_t i = 0; i < n; i++)
        p[i] = chance(r, 70) ? (uint8_t)('a' + rnd(r, 26)) : (uint8_t)rnd(r, 256);
    scratch_used += n;
    return (tern_slice){p, n};
}

static size_t payload_len(uint64_t *r)
{
    unsigned k = rnd(r, 100);
    if (k < 50)
        return rnd(r, 16);
    if (k < 90)
        return rnd(r, 300);
    if (k < 98)
        return 1000 + rnd(r, 3000);
    return 5000 + rnd(r, 65000); /* above most max_packet_size choices */
}

/* ---- hostile property bytes (props.extra) ------------------------------------------------- */

static uint8_t *put_u16(uint8_t *w, uint32_t v)
{
    *w++ = (uint8_t)(v >> 8);
    *w++ = (uint8_t)v;
    return w;
}

static uint8_t *put_str(uint64_t *r, uint8_t *w)
{
    tern_slice s =
        chance(r, 30) ? topics_bad[rnd(r, NPOOL(topics_bad))] : topics_ok[rnd(r, NPOOL(topics_ok))];
    w = put_u16(w, (uint32_t)s.n);
    memcpy(w, s.p, s.n);
    return w + s.n;
}

/* 1..3 properties with any id (unknown, duplicated from `present`, not allowed here) and
 * extreme values. Writes at most 200 bytes. */
static size_t hostile_props(uint64_t *r, uint64_t present, uint8_t *out)
{
    uint8_t *w = out;
    unsigned n = 1 + rnd(r, 3);
    for (unsigned i = 0; i < n; i++) {
        unsigned id;
        if (present && chance(r, 40)) {
            do
                id = rnd(r, TERN_PROP_ID_MAX + 1);
            while (!((present >> id) & 1));
        } else if (chance(r, 15)) {
            id = chance(r, 50) ? rnd(r, 256) : 0x80 | rnd(r, 128); /* unknown or varint-ish */
        } else {
            id = 1 + rnd(r, TERN_PROP_ID_MAX);
        }
        *w++ = (uint8_t)id;
        static const uint32_t ext[] = {0, 1, 2, 3, 0xff, 0xffff, 0xffffffffu, 268435455u};
        uint32_t v = chance(r, 60) ? ext[rnd(r, NPOOL(ext))] : (uint32_t)rnd64(r);
        switch (tern_prop_kind(id)) {
        case TERN_PK_BYTE: *w++ = (uint8_t)v; break;
        case TERN_PK_U16: w = put_u16(w, v & 0xffff); break;
        case TERN_PK_U32:
            w = put_u16(w, v >> 16);
            w = put_u16(w, v & 0xffff);
            break;
        case TERN_PK_VARINT:
            if (chance(r, 20)) { /* non-minimal or 5-byte varint */
                *w++ = 0x80;
                *w++ = 0x80;
                *w++ = 0x80;
                *w++ = 0x80;
                *w++ = 0x01;
            } else {
                w += tern_varint_encode(v & TERN_VARINT_MAX, w);
            }
            break;
        case TERN_PK_UTF8:
        case TERN_PK_BINARY: w = put_str(r, w); break;
        case TERN_PK_PAIR:
            w = put_str(r, w);
            w = put_str(r, w);
            break;
        default: /* unknown id: a few random bytes */
            for (unsigned k = rnd(r, 4); k; k--)
                *w++ = (uint8_t)rnd(r, 256);
            break;
        }
    }
    return (size_t)(w - out);
}

/* ---- connections -------------------------------------------------------------------------- */

enum kind { K_NORMAL, K_GARBAGE, K_BYTEWISE, K_NOREAD, K_RST, K_IDLE, K_NKINDS };
static const char *const kind_names[] = {"normal",  "garbage-first", "bytewise",
                                         "no-read", "rst",           "idle"};

struct reply {
    uint8_t type;
    uint16_t id;
};

struct conn {
    int fd;
    uint64_t serial;
    uint64_t rng;
    enum kind kind;
    uint8_t version;
    bool tcp_pending;  /* non-blocking connect in progress */
    bool strict;       /* first bytes sent were an intact CONNECT: strict checks */
    bool loose;        /* something other than an intact CONNECT went first */
    bool connect_sent; /* the first CONNECT has been generated */
    bool wait_connack; /* send nothing after CONNECT until CONNACK */
    bool got_connack;
    bool clean;         /* Clean Start / Clean Session of our CONNECT */
    bool finishing;     /* close once the output is flushed */
    bool rst_at_finish; /* ... with SO_LINGER 0 */
    uint8_t connack_rc;
    uint16_t keepalive;     /* effective (Server Keep Alive applied) */
    uint32_t max_pkt;       /* our Maximum Packet Size (5.0), 0: none */
    uint16_t alias_max;     /* our Topic Alias Maximum (5.0) */
    uint16_t srv_alias_max; /* the broker's, from CONNACK */
    uint16_t next_pid;
    unsigned mut_pct;      /* percent of packets mutated */
    unsigned gap_ms;       /* max pause between packets */
    int budget;            /* packets left to generate */
    int pre_garbage;       /* garbage chunks before the CONNECT (K_GARBAGE) */
    int64_t next_ms;       /* earliest next generation */
    int64_t next_write_ms; /* bytewise pacing */
    int64_t deadline;      /* hard end of life */
    int64_t last_sent_ms;
    struct bbuf out;
    size_t out_off;
    struct bbuf in;
    struct reply rq[NREPLY];
    unsigned rq_n;
    struct sentlog *log;
};

static struct conn *conns[MAX_CONNS];
static unsigned nconns;

/* A frame built with the codec into f (replacing its contents). Returns false if the codec
 * refused the packet (counted; the generator then sends a PINGREQ instead). */
static bool encode(const struct tern_packet *k, uint8_t ver, struct bbuf *f)
{
    f->n = 0;
    int sz = tern_packet_size(k, ver);
    if (sz < 0) {
        st.encode_fail++;
        return false;
    }
    bb_reserve(f, (size_t)sz);
    int w = tern_packet_encode(k, ver, f->p, f->cap);
    if (w < 0) {
        st.encode_fail++;
        return false;
    }
    f->n = (size_t)w;
    return true;
}

static uint16_t take_pid(struct conn *c)
{
    uint16_t id = c->next_pid++;
    if (!c->next_pid)
        c->next_pid = 1;
    return id;
}

static uint16_t some_pid(struct conn *c)
{
    if (chance(&c->rng, 5))
        return (uint16_t)(1 + rnd(&c->rng, 65535)); /* maybe in use, maybe not */
    return take_pid(c);
}

static struct tern_strpair user_buf[8];

static void add_user_props(uint64_t *r, struct tern_props *p)
{
    unsigned n = rnd(r, 4) == 0 ? 1 + rnd(r, 8) : 0;
    for (unsigned i = 0; i < n; i++)
        user_buf[i] = (struct tern_strpair){keys[rnd(r, NPOOL(keys))],
                                            chance(r, 80) ? topics_ok[rnd(r, NPOOL(topics_ok))]
                                                          : topics_bad[rnd(r, NPOOL(topics_bad))]};
    p->user_n = n;
    p->user = n ? user_buf : NULL;
}

static uint8_t extra_buf[2][256];

/* Maybe hostile extra properties (counted as a mutation by the caller via *mut). */
static void maybe_extra(struct conn *c, struct tern_props *p, unsigned slot, bool *mut)
{
    if (c->version != TERN_V5 || !chance(&c->rng, c->mut_pct / 3 + 1))
        return;
    size_t n = hostile_props(&c->rng, p->present, extra_buf[slot]);
    p->extra = (tern_slice){extra_buf[slot], n};
    *mut = true;
}

static void gen_connect(struct conn *c, struct bbuf *f, bool *mut)
{
    uint64_t *r = &c->rng;
    struct tern_packet k = {.type = TERN_CONNECT};
    struct tern_connect *cn = &k.u.connect;
    char cid[80];
    cn->version = c->version;
    cn->protocol_name = c->version == TERN_V31 ? TERN_SLICE_STR("MQIsdp") : TERN_SLICE_STR("MQTT");
    cn->clean = chance(r, 55);
    static const uint16_t kas[] = {0, 1, 2, 5, 30, 60, 65535};
    cn->keep_alive = c->kind == K_IDLE ? (uint16_t)(1 + rnd(r, 2)) : kas[rnd(r, NPOOL(kas))];
    unsigned idk = rnd(r, 100);
    if (idk < 88)
        snprintf(cid, sizeof(cid), "fz-%u", rnd(r, 12));
    else if (idk < 94)
        cid[0] = '\0';
    else if (idk < 98)
        snprintf(cid, sizeof(cid), "fz-a-very-long-client-identifier-%u", rnd(r, 4));
    else
        snprintf(cid, sizeof(cid), "fz-\xc0\x80-%u", rnd(r, 2));
    cn->client_id = tern_slice_cstr(cid);
    if (c->version == TERN_V5) {
        struct tern_props *p = &cn->props;
        if (chance(r, 60)) {
            static const uint32_t sei[] = {0, 1, 2, 5, 10, 0xffffffffu};
            tern_props_set(p, TERN_PROP_SESSION_EXPIRY_INTERVAL);
            p->session_expiry_interval = sei[rnd(r, NPOOL(sei))];
        }
        if (chance(r, 30)) {
            tern_props_set(p, TERN_PROP_RECEIVE_MAXIMUM);
            p->receive_maximum = (uint16_t)(chance(r, 50) ? 1 + rnd(r, 4) : 1 + rnd(r, 65535));
        }
        if (chance(r, 30)) {
            tern_props_set(p, TERN_PROP_MAXIMUM_PACKET_SIZE);
            p->maximum_packet_size = 128 + rnd(r, 4096);
        }
        if (chance(r, 40)) {
            tern_props_set(p, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
            p->topic_alias_maximum = (uint16_t)rnd(r, 11);
        }
        if (chance(r, 15)) {
            tern_props_set(p, TERN_PROP_REQUEST_RESPONSE_INFORMATION);
            p->request_response_information = (uint8_t)rnd(r, 2);
        }
        if (chance(r, 15)) {
            tern_props_set(p, TERN_PROP_REQUEST_PROBLEM_INFORMATION);
            p->request_problem_information = (uint8_t)rnd(r, 2);
        }
        if (chance(r, 3)) {
            tern_props_set(p, TERN_PROP_AUTHENTICATION_METHOD);
            p->authentication_method = TERN_SLICE_STR("SCRAM-SHA-1");
        }
        add_user_props(r, p);
        maybe_extra(c, p, 0, mut);
    }
    if (chance(r, 30)) {
        cn->will = true;
        cn->will_qos = (uint8_t)rnd(r, 3);
        cn->will_retain = chance(r, 30);
        cn->will_topic = pick_topic(r, 8);
        cn->will_payload = random_bytes(r, rnd(r, 64));
        if (c->version == TERN_V5) {
            struct tern_props *w = &cn->will_props;
            if (chance(r, 60)) {
                tern_props_set(w, TERN_PROP_WILL_DELAY_INTERVAL);
                w->will_delay_interval = rnd(r, 4);
            }
            if (chance(r, 20)) {
                tern_props_set(w, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
                w->message_expiry_interval = rnd(r, 5);
            }
            if (chance(r, 20)) {
                tern_props_set(w, TERN_PROP_PAYLOAD_FORMAT_INDICATOR);
                w->payload_format_indicator = (uint8_t)rnd(r, 2);
            }
            if (chance(r, 20)) {
                tern_props_set(w, TERN_PROP_CONTENT_TYPE);
                w->content_type = TERN_SLICE_STR("text/plain");
            }
            if (chance(r, 20)) {
                tern_props_set(w, TERN_PROP_RESPONSE_TOPIC);
                w->response_topic = pick_topic(r, 20);
            }
            if (chance(r, 20)) {
                tern_props_set(w, TERN_PROP_CORRELATION_DATA);
                w->correlation_data = TERN_SLICE_STR("corr");
            }
            maybe_extra(c, w, 1, mut);
        }
    }
    if (chance(r, 15)) {
        cn->has_username = true;
        cn->username = TERN_SLICE_STR("fuzzer");
        if (chance(r, 50)) {
            cn->has_password = true;
            cn->password = TERN_SLICE_STR("secret");
        }
    } else if (c->version == TERN_V5 && chance(r, 3)) {
        cn->has_password = true; /* 5.0 allows a password without a user name */
        cn->password = TERN_SLICE_STR("pw");
    }
    if (!c->connect_sent) { /* what the session runs with: the first CONNECT's values */
        c->clean = cn->clean;
        c->keepalive = cn->keep_alive;
        c->max_pkt = tern_props_has(&cn->props, TERN_PROP_MAXIMUM_PACKET_SIZE)
                         ? cn->props.maximum_packet_size
                         : 0;
        c->alias_max = tern_props_has(&cn->props, TERN_PROP_TOPIC_ALIAS_MAXIMUM)
                           ? cn->props.topic_alias_maximum
                           : 0;
    }
    encode(&k, c->version, f);
}

static void gen_publish(struct conn *c, struct bbuf *f, bool *mut)
{
    uint64_t *r = &c->rng;
    struct tern_packet k = {.type = TERN_PUBLISH};
    struct tern_publish *p = &k.u.publish;
    p->qos = (uint8_t)rnd(r, 3);
    p->retain = chance(r, 15);
    p->dup = p->qos && chance(r, 10);
    if (p->qos)
        p->packet_id = some_pid(c);
    p->topic = pick_topic(r, 6);
    size_t plen = payload_len(r);
    if (p->retain && chance(r, 30))
        plen = 0; /* deletes a retained message */
    p->payload = random_bytes(r, plen);
    if (c->version == TERN_V5) {
        struct tern_props *pr = &p->props;
        if (chance(r, 25)) {
            tern_props_set(pr, TERN_PROP_TOPIC_ALIAS);
            pr->topic_alias =
                (uint16_t)(1 + rnd(r, c->srv_alias_max ? c->srv_alias_max + 2u : 12u));
            if (chance(r, 50))
                p->topic = (tern_slice){(const uint8_t *)"", 0}; /* use the alias */
        }
        if (chance(r, 20)) {
            tern_props_set(pr, TERN_PROP_MESSAGE_EXPIRY_INTERVAL);
            pr->message_expiry_interval = rnd(r, 4);
        }
        if (chance(r, 15)) {
            tern_props_set(pr, TERN_PROP_PAYLOAD_FORMAT_INDICATOR);
            pr->payload_format_indicator = (uint8_t)rnd(r, 2);
        }
        if (chance(r, 10)) {
            tern_props_set(pr, TERN_PROP_CONTENT_TYPE);
            pr->content_type = pick_topic(r, 10);
        }
        if (chance(r, 15)) {
            tern_props_set(pr, TERN_PROP_RESPONSE_TOPIC);
            pr->response_topic = pick_topic(r, 20);
        }
        if (chance(r, 15)) {
            tern_props_set(pr, TERN_PROP_CORRELATION_DATA);
            pr->correlation_data = random_bytes(r, rnd(r, 20));
        }
        if (chance(r, 3)) { /* only the server may send it: a protocol error */
            tern_props_set(pr, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
            pr->sub_id = 1 + rnd(r, 1000);
            pr->sub_id_n = 1;
        }
        add_user_props(r, pr);
        maybe_extra(c, pr, 0, mut);
    }
    encode(&k, c->version, f);
}

static void gen_subscribe(struct conn *c, struct bbuf *f, bool *mut, bool unsub)
{
    uint64_t *r = &c->rng;
    struct tern_packet k = {.type = unsub ? TERN_UNSUBSCRIBE : TERN_SUBSCRIBE};
    struct tern_subscribe *s = &k.u.subscribe;
    struct tern_sub_entry e[6];
    s->packet_id = some_pid(c);
    s->count = 1 + (chance(r, 30) ? rnd(r, 6) : 0);
    for (uint32_t i = 0; i < s->count; i++) {
        e[i] = (struct tern_sub_entry){.filter = pick_filter(r, 8),
                                       .qos = (uint8_t)rnd(r, 3),
                                       .no_local = chance(r, 20),
                                       .retain_as_published = chance(r, 20),
                                       .retain_handling = (uint8_t)rnd(r, 3)};
        if (c->kind == K_NOREAD && i == 0)
            e[i].filter = (tern_slice)SL("#");
    }
    s->list = e;
    if (c->version == TERN_V5) {
        if (!unsub && chance(r, 30)) {
            tern_props_set(&s->props, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
            s->props.sub_id = chance(r, 80) ? 1 + rnd(r, 100) : 1 + rnd(r, TERN_VARINT_MAX);
            s->props.sub_id_n = 1;
        }
        add_user_props(r, &s->props);
        maybe_extra(c, &s->props, 0, mut);
    }
    encode(&k, c->version, f);
}

static void gen_ack(struct conn *c, struct bbuf *f, bool *mut)
{
    uint64_t *r = &c->rng;
    struct tern_packet k = {.type = (uint8_t)(TERN_PUBACK + rnd(r, 4))};
    /* The draws are the same whether or not a reply is pending (reproducibility). */
    uint32_t pick = rnd(r, 100), idx = rnd(r, NREPLY);
    uint16_t wrong = (uint16_t)(1 + rnd(r, 65535));
    k.u.ack.packet_id = wrong;
    if (c->rq_n && pick < 80) {
        struct reply *q = &c->rq[idx % c->rq_n];
        k.type = q->type;
        k.u.ack.packet_id = q->id;
        *q = c->rq[--c->rq_n];
    }
    if (c->version == TERN_V5) {
        static const uint8_t rcs[] = {0x00, 0x00, 0x00, 0x10, 0x80, 0x83, 0x87, 0x92, 0x97, 0xff};
        k.u.ack.rc = rcs[rnd(r, NPOOL(rcs))];
        if (chance(r, 15)) {
            tern_props_set(&k.u.ack.props, TERN_PROP_REASON_STRING);
            k.u.ack.props.reason_string = pick_topic(r, 20);
        }
        add_user_props(r, &k.u.ack.props);
        maybe_extra(c, &k.u.ack.props, 0, mut);
    }
    encode(&k, c->version, f);
}

static void gen_disconnect_or_auth(struct conn *c, struct bbuf *f, bool *mut, uint8_t type)
{
    uint64_t *r = &c->rng;
    struct tern_packet k = {.type = type};
    static const uint8_t rcs[] = {0x00, 0x04, 0x18, 0x19, 0x80, 0x81, 0x8b, 0x8e, 0x95, 0x42};
    k.u.disconnect.rc = rcs[rnd(r, NPOOL(rcs))];
    struct tern_props *p = &k.u.disconnect.props;
    if (type == TERN_DISCONNECT && chance(r, 30)) {
        tern_props_set(p, TERN_PROP_SESSION_EXPIRY_INTERVAL);
        p->session_expiry_interval = chance(r, 50) ? 0 : rnd(r, 10);
    }
    if (type == TERN_AUTH && chance(r, 70)) {
        tern_props_set(p, TERN_PROP_AUTHENTICATION_METHOD);
        p->authentication_method =
            chance(r, 50) ? TERN_SLICE_STR("SCRAM-SHA-1") : pick_topic(r, 20);
        if (chance(r, 50)) {
            tern_props_set(p, TERN_PROP_AUTHENTICATION_DATA);
            p->authentication_data = random_bytes(r, rnd(r, 40));
        }
    }
    if (chance(r, 15)) {
        tern_props_set(p, TERN_PROP_REASON_STRING);
        p->reason_string = pick_topic(r, 20);
    }
    if (c->version == TERN_V5) {
        add_user_props(r, p);
        maybe_extra(c, p, 0, mut);
    }
    if (c->version != TERN_V5 && type == TERN_AUTH) {
        static const uint8_t auth[] = {0xf0, 0x00};
        f->n = 0;
        bb_put(f, auth, sizeof(auth)); /* AUTH does not exist in 3.x */
        return;
    }
    encode(&k, c->version, f);
}

/* A packet only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP), or reserved type 0. */
static void gen_server_only(struct conn *c, struct bbuf *f)
{
    uint64_t *r = &c->rng;
    static const uint8_t types[] = {TERN_CONNACK, TERN_SUBACK, TERN_UNSUBACK, TERN_PINGRESP, 0};
    struct tern_packet k = {.type = types[rnd(r, NPOOL(types))]};
    static const uint8_t rcs[] = {0x00, 0x01, 0x02, 0x80};
    uint16_t id = (uint16_t)(1 + rnd(r, 65535));
    if (k.type == 0) {
        uint8_t raw[2] = {(uint8_t)rnd(r, 16), 0};
        f->n = 0;
        bb_put(f, raw, sizeof(raw));
        return;
    }
    if (k.type == TERN_SUBACK || k.type == TERN_UNSUBACK) {
        k.u.suback.packet_id = id;
        k.u.suback.rcs = (tern_slice){&rcs[rnd(r, NPOOL(rcs))], 1};
    }
    encode(&k, c->version, f);
}

static void gen_garbage(struct conn *c, struct bbuf *f)
{
    uint64_t *r = &c->rng;
    f->n = 0;
    size_t n = 1 + rnd(r, chance(r, 10) ? 4000 : 64);
    bb_reserve(f, n);
    if (chance(r, 30)) { /* text, as from a confused HTTP client */
        static const char http[] = "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n\r\n";
        bb_put(f, http, sizeof(http) - 1);
        return;
    }
    for (size_t i = 0; i < n; i++)
        f->p[i] = (uint8_t)rnd(r, 256);
    f->n = n;
}

/* ---- byte-level mutation ------------------------------------------------------------------ */

static size_t varint_put(uint8_t *w, uint32_t v, unsigned pad)
{
    size_t n = tern_varint_encode(v, w);
    if (pad && n < 4) { /* non-minimal encoding [MQTT-1.5.5-1] */
        w[n - 1] |= 0x80;
        for (unsigned i = 0; i < pad && n < 4; i++) {
            w[n++] = 0x80;
        }
        w[n - 1] = 0x00;
    }
    return n;
}

static void mutate(uint64_t *r, struct bbuf *f)
{
    unsigned rounds = 1 + (chance(r, 25) ? rnd(r, 3) : 0);
    for (unsigned round = 0; round < rounds; round++) {
        size_t n = f->n;
        uint8_t hdr[8];
        bb_reserve(f, 16);
        switch (rnd(r, 12)) {
        case 0: /* bit flips */
            for (unsigned i = 1 + rnd(r, 4); n && i; i--)
                f->p[rnd(r, (uint32_t)n)] ^= (uint8_t)(1u << rnd(r, 8));
            break;
        case 1: /* truncate: the rest of the stream is read as this frame's tail */
            if (n > 1)
                f->n = 1 + rnd(r, (uint32_t)(n - 1));
            break;
        case 2: { /* insert bytes */
            size_t at = rnd(r, (uint32_t)n + 1), k = 1 + rnd(r, 8);
            memmove(f->p + at + k, f->p + at, n - at);
            for (size_t i = 0; i < k; i++)
                f->p[at + i] = (uint8_t)rnd(r, 256);
            f->n += k;
            break;
        }
        case 3: { /* delete bytes */
            if (n < 2)
                break;
            size_t at = rnd(r, (uint32_t)n), k = 1 + rnd(r, 8);
            if (k > n - at)
                k = n - at;
            memmove(f->p + at, f->p + at + k, n - at - k);
            f->n -= k;
            break;
        }
        case 4:
        case 5: { /* rewrite the Remaining Length */
            struct tern_frame fr;
            uint8_t rc;
            if (tern_frame_peek(f->p, n, 0, &fr, &rc) != 1)
                break;
            uint32_t rl = fr.remaining;
            switch (rnd(r, 6)) {
            case 0: rl = rl + 1 + rnd(r, 3); break;
            case 1: rl = rl > 0 ? rl - 1 - rnd(r, rl < 3 ? rl : 3) : 1; break;
            case 2: rl = 0; break;
            case 3: rl = 100000000u + rnd(r, 168435455u); break; /* huge, never sent */
            case 4: rl = TERN_VARINT_MAX; break;
            default: rl = rnd(r, 70000); break;
            }
            size_t hl;
            hdr[0] = f->p[0];
            if (chance(r, 15)) { /* five-byte varint: malformed */
                memcpy(hdr + 1, "\xff\xff\xff\xff\x7f", 5);
                hl = 6;
            } else {
                hl = 1 + varint_put(hdr + 1, rl, chance(r, 20) ? 1 + rnd(r, 2) : 0);
            }
            size_t body = n - fr.hdr_len;
            bb_reserve(f, hl);
            memmove(f->p + hl, f->p + fr.hdr_len, body);
            memcpy(f->p, hdr, hl);
            f->n = hl + body;
            break;
        }
        case 6: /* wrong fixed-header flags */
            if (n)
                f->p[0] = (uint8_t)((f->p[0] & 0xf0) | rnd(r, 16));
            break;
        case 7: /* wrong type, incl. server-only and reserved types */
            if (n)
                f->p[0] = (uint8_t)((rnd(r, 16) << 4) | (f->p[0] & 0x0f));
            break;
        case 8: /* invalid UTF-8 where text is likely */
            for (unsigned tries = 0; n > 2 && tries < 16; tries++) {
                size_t at = 2 + rnd(r, (uint32_t)(n - 2));
                if (f->p[at] >= 0x20 && f->p[at] < 0x7f) {
                    static const uint8_t bad[] = {0x00, 0xff, 0xc0, 0xed, 0x80, 0xf5, 0xfe};
                    f->p[at] = bad[rnd(r, NPOOL(bad))];
                    break;
                }
            }
            break;
        case 9: { /* a huge varint in the body (property length, sub id, ...) */
            if (n < 3)
                break;
            size_t at = 2 + rnd(r, (uint32_t)(n - 2));
            static const uint8_t hv[] = {0xff, 0xff, 0xff, 0xff, 0x7f};
            size_t k = 2 + rnd(r, 4);
            memmove(f->p + at + k, f->p + at, n - at);
            memcpy(f->p + at, hv + 5 - k, k);
            f->n += k;
            break;
        }
        case 10: /* set a byte to an extreme value */
            if (n)
                f->p[rnd(r, (uint32_t)n)] = chance(r, 50) ? 0xff : 0x00;
            break;
        default: { /* duplicate a chunk of the frame at its end */
            if (n < 2)
                break;
            size_t at = rnd(r, (uint32_t)n), k = 1 + rnd(r, (uint32_t)(n - at));
            if (k > 64)
                k = 64;
            bb_reserve(f, k);
            memcpy(f->p + n, f->p + at, k);
            f->n += k;
            break;
        }
        }
    }
}

/* ---- receiving: decode and check every frame the broker sends ------------------------------ */

static void bug(struct conn *c, const uint8_t *frame, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void bug(struct conn *c, const uint8_t *frame, size_t n, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    st.bugs++;
    fprintf(stderr, "broker_fuzz: BUG conn %" PRIu64 " (%s, v%u, seed %#" PRIx64 "): %s\n",
            c->serial, kind_names[c->kind], c->version, c->log->seed, msg);
    if (frame) {
        fprintf(stderr, "broker_fuzz:   frame from the broker: ");
        hex_to(stderr, frame, n, 512);
        fputc('\n', stderr);
    }
    sentlog_dump(c->log, "at a protocol finding");
    fprintf(stderr, "broker_fuzz:   what it sent: %s/conn-%06" PRIu64 ".txt\n", opt.out, c->serial);
    if (!opt.keep_going)
        set_fail("conn %" PRIu64 ": %s", c->serial, msg);
}

static void push_reply(struct conn *c, uint8_t type, uint16_t id)
{
    if (!id)
        return;
    if (c->rq_n == NREPLY) {
        memmove(c->rq, c->rq + 1, sizeof(c->rq[0]) * (NREPLY - 1));
        c->rq_n--;
    }
    c->rq[c->rq_n++] = (struct reply){type, id};
}

static void on_frame(struct conn *c, const uint8_t *f, size_t n)
{
    struct tern_packet k;
    uint8_t rc = 0;
    int r;
    if (c->strict) {
        r = tern_packet_decode(f, n, c->version, &k, &rc);
    } else {
        static const uint8_t vs[] = {TERN_V5, TERN_V311, TERN_V31};
        r = -1;
        for (unsigned i = 0; i < 3 && r < 0; i++)
            r = tern_packet_decode(f, n, vs[i], &k, &rc);
    }
    if (r < 0) {
        bug(c, f, n, "broker sent a %s frame the codec rejects (%s, reason 0x%02x)%s",
            tern_ptype_name(f[0] >> 4), tern_strerror(r), rc,
            c->strict ? "" : " as any protocol level");
        return;
    }
    st.recv[k.type & 15]++;
    switch (k.type) {
    case TERN_CONNECT:
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE:
    case TERN_PINGREQ:
        bug(c, f, n, "broker sent a client-to-server packet (%s)", tern_ptype_name(k.type));
        return;
    case TERN_PUBLISH:
        if (k.u.publish.qos == 1)
            push_reply(c, TERN_PUBACK, k.u.publish.packet_id);
        else if (k.u.publish.qos == 2)
            push_reply(c, TERN_PUBREC, k.u.publish.packet_id);
        break;
    case TERN_PUBREC: push_reply(c, TERN_PUBREL, k.u.ack.packet_id); break;
    case TERN_PUBREL: push_reply(c, TERN_PUBCOMP, k.u.ack.packet_id); break;
    default: break;
    }
    if (!c->strict)
        return;
    if (!c->got_connack && k.type != TERN_CONNACK) {
        bug(c, f, n, "first packet from the broker is %s, not CONNACK [MQTT-3.2.0-1]",
            tern_ptype_name(k.type));
        return;
    }
    if (c->max_pkt && n > c->max_pkt)
        bug(c, f, n, "%s of %zu bytes exceeds our Maximum Packet Size %u [MQTT-3.1.2-24]",
            tern_ptype_name(k.type), n, c->max_pkt);
    switch (k.type) {
    case TERN_CONNACK:
        if (c->got_connack) {
            bug(c, f, n, "second CONNACK");
            return;
        }
        c->got_connack = true;
        c->connack_rc = k.u.connack.rc;
        if (k.u.connack.session_present && (c->clean || k.u.connack.rc))
            bug(c, f, n, "Session Present set with %s [MQTT-3.2.2-2] [MQTT-3.2.2-6]",
                k.u.connack.rc ? "a refusal" : "Clean Start");
        if (c->version == TERN_V5 &&
            tern_props_has(&k.u.connack.props, TERN_PROP_SERVER_KEEP_ALIVE))
            c->keepalive = k.u.connack.props.server_keep_alive;
        if (c->version == TERN_V5 &&
            tern_props_has(&k.u.connack.props, TERN_PROP_TOPIC_ALIAS_MAXIMUM))
            c->srv_alias_max = k.u.connack.props.topic_alias_maximum;
        break;
    case TERN_DISCONNECT:
        if (c->version != TERN_V5)
            bug(c, f, n, "DISCONNECT sent to a 3.x client (client-to-server only in 3.x)");
        else if (c->connack_rc >= 0x80)
            bug(c, f, n, "DISCONNECT after CONNACK 0x%02x [MQTT-3.14.0-1]", c->connack_rc);
        break;
    case TERN_PUBLISH:
        if (c->version == TERN_V5 && tern_props_has(&k.u.publish.props, TERN_PROP_TOPIC_ALIAS) &&
            k.u.publish.props.topic_alias > c->alias_max)
            bug(c, f, n, "Topic Alias %u above our Topic Alias Maximum %u [MQTT-3.1.2-26]",
                k.u.publish.props.topic_alias, c->alias_max);
        break;
    default: break;
    }
}

/* Frame what has arrived; false when the stream is broken (a bug was reported). */
static bool on_bytes(struct conn *c)
{
    size_t off = 0;
    while (off < c->in.n && !failed) {
        struct tern_frame fr;
        uint8_t rc = 0;
        int r = tern_frame_peek(c->in.p + off, c->in.n - off, 0, &fr, &rc);
        if (r == 0)
            break;
        if (r < 0) {
            bug(c, c->in.p + off, c->in.n - off > 16 ? 16 : c->in.n - off,
                "broker sent a bad fixed header (%s)", tern_strerror(r));
            c->in.n = 0;
            return false;
        }
        on_frame(c, c->in.p + off, fr.size);
        off += fr.size;
    }
    memmove(c->in.p, c->in.p + off, c->in.n - off);
    c->in.n -= off;
    return true;
}

/* ---- connection life ---------------------------------------------------------------------- */

static uint64_t master_rng;

static void conn_free(struct conn *c, bool rst)
{
    if (c->fd >= 0) {
        if (rst) {
            struct linger lg = {1, 0};
            setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(c->fd);
    }
    grave_add(c->log);
    bb_free(&c->out);
    bb_free(&c->in);
    free(c);
}

static void conn_open(void)
{
    struct conn *c = calloc(1, sizeof(*c));
    if (!c || !(c->log = calloc(1, sizeof(*c->log))))
        die("calloc");
    c->serial = ++st.opened;
    c->log->serial = c->serial;
    c->log->seed = c->rng = rnd64(&master_rng);
    uint64_t *r = &c->rng;
    static const uint8_t kind_w[K_NKINDS] = {58, 10, 8, 8, 10, 6};
    unsigned k = rnd(r, 100), acc = 0;
    c->kind = K_NORMAL;
    for (int i = 0; i < K_NKINDS; i++) {
        acc += kind_w[i];
        if (k < acc) {
            c->kind = (enum kind)i;
            break;
        }
    }
    static const uint8_t vers[] = {TERN_V31, TERN_V311, TERN_V311, TERN_V5, TERN_V5, TERN_V5};
    c->version = vers[rnd(r, NPOOL(vers))];
    static const uint8_t muts[] = {0, 0, 2, 5, 10, 30, 100};
    c->mut_pct = muts[rnd(r, NPOOL(muts))];
    static const uint8_t gaps[] = {0, 2, 5, 20, 50};
    c->gap_ms = gaps[rnd(r, NPOOL(gaps))];
    c->budget = chance(r, 60) ? (int)rnd(r, 20) : (int)rnd(r, 300);
    c->wait_connack = chance(r, 50);
    c->next_pid = (uint16_t)(1 + rnd(r, 65535));
    c->pre_garbage = c->kind == K_GARBAGE ? (int)(1 + rnd(r, 3)) : 0;
    int64_t now = now_ms();
    c->deadline = now + 2000 + rnd(r, 8000);
    if (c->kind == K_NOREAD) {
        c->budget = 5 + (int)rnd(r, 40);
        c->deadline = now + 1000 + rnd(r, 4000);
    }
    if (c->kind == K_IDLE) { /* Keep Alive 1-2 s: the broker must close it within 3 s */
        c->budget = 0;
        c->deadline = now + 7000 + rnd(r, 2000);
    }
    c->log->kind = kind_names[c->kind];
    c->log->version = c->version;
    c->fd = tcp_connect_nb(c->kind == K_NOREAD ? 2048 : 0, &c->tcp_pending);
    if (c->fd < 0) {
        errno = -c->fd;
        c->fd = -1;
        fprintf(stderr, "broker_fuzz: connect: %s\n", strerror(errno));
        conn_free(c, false);
        return;
    }
    conns[nconns++] = c;
}

static void conn_remove(unsigned i, bool rst)
{
    struct conn *c = conns[i];
    conns[i] = conns[--nconns];
    conn_free(c, rst);
}

/* Write what is queued. Returns false if the connection is gone. */
static bool conn_flush(struct conn *c, int64_t now)
{
    while (c->out_off < c->out.n) {
        size_t n = c->out.n - c->out_off;
        if (c->kind == K_BYTEWISE) {
            if (now < c->next_write_ms)
                return true;
            n = 1;
        }
        ssize_t w = send(c->fd, c->out.p + c->out_off, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EAGAIN || errno == EINTR)
                return true;
            return false; /* EPIPE / ECONNRESET: the broker closed it */
        }
        c->out_off += (size_t)w;
        st.bytes_sent += (uint64_t)w;
        c->last_sent_ms = now;
        if (c->kind == K_BYTEWISE)
            c->next_write_ms = now + rnd(&c->rng, 4);
    }
    c->out.n = c->out_off = 0;
    return true;
}

static struct bbuf frame; /* the packet being generated; main thread only */

/* Generate the next packet, mutate it maybe, log it and queue it. */
static void conn_generate(struct conn *c)
{
    uint64_t *r = &c->rng;
    bool mut = false, is_connect = false;
    uint8_t type;
    frame.n = 0;
    scratch_used = 0;
    if (c->pre_garbage > 0) {
        c->pre_garbage--;
        c->loose = true;
        if (chance(r, 50)) {
            gen_garbage(c, &frame);
            type = 16;
        } else { /* a packet that may not come first */
            gen_publish(c, &frame, &mut);
            type = TERN_PUBLISH;
        }
        if (c->pre_garbage == 0 && chance(r, 50))
            c->budget = 0; /* never sends a CONNECT */
    } else if (!c->connect_sent) {
        gen_connect(c, &frame, &mut);
        type = TERN_CONNECT;
        is_connect = true;
    } else {
        unsigned k = rnd(r, 100);
        if (c->kind == K_NOREAD && k < 60)
            k = k < 20 ? 40 : 0; /* mostly SUBSCRIBE #, then PUBLISH */
        if (k < 38) {
            gen_publish(c, &frame, &mut);
            type = TERN_PUBLISH;
        } else if (k < 50) {
            gen_subscribe(c, &frame, &mut, false);
            type = TERN_SUBSCRIBE;
        } else if (k < 56) {
            gen_subscribe(c, &frame, &mut, true);
            type = TERN_UNSUBSCRIBE;
        } else if (k < 78) {
            gen_ack(c, &frame, &mut);
            type = frame.n ? (uint8_t)(frame.p[0] >> 4) : TERN_PUBACK;
        } else if (k < 85) {
            static const uint8_t ping[] = {0xc0, 0x00};
            bb_put(&frame, ping, 2);
            type = TERN_PINGREQ;
        } else if (k < 89) {
            gen_disconnect_or_auth(c, &frame, &mut, TERN_AUTH);
            type = TERN_AUTH;
        } else if (k < 92) {
            gen_disconnect_or_auth(c, &frame, &mut, TERN_DISCONNECT);
            type = TERN_DISCONNECT;
            c->budget = 0; /* the broker closes after it anyway */
        } else if (k < 94) {
            gen_connect(c, &frame, &mut); /* a second CONNECT: protocol error */
            type = TERN_CONNECT;
        } else if (k < 97) {
            gen_server_only(c, &frame);
            type = frame.n ? (uint8_t)(frame.p[0] >> 4) : 0;
        } else {
            gen_garbage(c, &frame);
            type = 16;
        }
    }
    if (frame.n == 0) { /* the codec refused what we built */
        static const uint8_t ping[] = {0xc0, 0x00};
        bb_put(&frame, ping, 2);
        type = TERN_PINGREQ;
    }
    if (type != 16 && chance(r, c->mut_pct)) {
        mutate(r, &frame);
        mut = true;
    }
    if (is_connect) {
        c->connect_sent = true;
        if (mut || c->loose)
            c->loose = true;
        else
            c->strict = true;
    }
    if (mut)
        st.mutated++;
    st.sent[type]++;
    sentlog_add(c->log, type, mut, frame.p, frame.n);
    bb_put(&c->out, frame.p, frame.n);
}

/* Advance one connection (timers, generation, writing). false: remove it (rst says how). */
static bool conn_step(struct conn *c, int64_t now, bool *rst)
{
    *rst = false;
    if (c->tcp_pending)
        return now < c->deadline;
    if (now >= c->deadline) {
        if (c->kind == K_IDLE && c->strict && c->got_connack && c->connack_rc == 0 &&
            c->keepalive && now - c->last_sent_ms > (int64_t)c->keepalive * 1500 + 3000)
            bug(c, NULL, 0, "idle for %" PRId64 " ms with Keep Alive %u s and still open [%s]",
                now - c->last_sent_ms, c->keepalive,
                c->version == TERN_V5 ? "MQTT-3.1.2-22" : "MQTT-3.1.2-24");
        *rst = chance(&c->rng, 30);
        return false;
    }
    if (c->out_off < c->out.n)
        return conn_flush(c, now);
    if (c->finishing) {
        *rst = c->rst_at_finish;
        return false;
    }
    if (now < c->next_ms || (c->wait_connack && c->strict && !c->got_connack))
        return true;
    if (c->budget <= 0 && c->connect_sent && !c->pre_garbage) {
        if (c->kind == K_NOREAD || c->kind == K_IDLE)
            return true; /* wait for the deadline */
        if (c->kind == K_RST) {
            /* Part of one more packet, then an RST. */
            conn_generate(c);
            if (c->out.n > 1)
                c->out.n = 1 + rnd(&c->rng, (uint32_t)(c->out.n - 1));
            c->log->rec[(c->log->next + LOG_KEEP - 1) % LOG_KEEP].n = c->out.n;
            c->finishing = c->rst_at_finish = true;
            return conn_flush(c, now);
        }
        c->finishing = true;
        c->rst_at_finish = chance(&c->rng, 10);
        return true;
    }
    bool first = c->log->count == 0;
    conn_generate(c);
    if (!first)
        c->budget--;
    c->next_ms = now + rnd(&c->rng, c->gap_ms + 1);
    return conn_flush(c, now);
}

/* Read what the broker sent. false: the connection is closed. */
static bool conn_read(struct conn *c)
{
    for (int loops = 0; loops < 4; loops++) {
        bb_reserve(&c->in, 65536);
        ssize_t n = recv(c->fd, c->in.p + c->in.n, c->in.cap - c->in.n, 0);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
            st.broker_closed++;
            return false;
        }
        if (n < 0)
            return true;
        c->in.n += (size_t)n;
        st.bytes_recv += (uint64_t)n;
        if (!on_bytes(c))
            return false;
    }
    return true;
}

/* ---- the canary --------------------------------------------------------------------------- */

struct canary {
    int fd;
    uint8_t ver;
    uint8_t buf[65536];
    size_t n;
};

static bool cy_send(struct canary *y, const struct tern_packet *k, int64_t deadline)
{
    uint8_t out[512];
    int n = tern_packet_encode(k, y->ver, out, sizeof(out));
    if (n < 0)
        return false;
    for (int off = 0; off < n;) {
        ssize_t w = send(y->fd, out + off, (size_t)(n - off), MSG_NOSIGNAL);
        if (w > 0) {
            off += (int)w;
            continue;
        }
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return false;
        struct pollfd p = {y->fd, POLLOUT, 0};
        int64_t left = deadline - now_ms();
        if (left <= 0 || atomic_load(&stop_canary))
            return false;
        poll(&p, 1, left > 100 ? 100 : (int)left);
    }
    return true;
}

/* One round; NULL on success, else why it failed (into why). */
static const char *canary_round(unsigned n, char *why, size_t cap)
{
    struct canary *y = calloc(1, sizeof(*y));
    char topic[64], id[32], payload[32];
    const char *stage = "TCP connect";
    int64_t t0 = now_ms(), deadline = t0 + CANARY_MS;
    bool pending, got_puback = false, got_msg = false;
    int step = 0;
    if (!y)
        die("calloc");
    y->ver = n % 2 ? TERN_V311 : TERN_V5;
    snprintf(topic, sizeof(topic), "zz-canary/%d/%u", (int)getpid(), n);
    snprintf(id, sizeof(id), "zz-canary-%u", n);
    snprintf(payload, sizeof(payload), "ping %u", n);
    y->fd = tcp_connect_nb(0, &pending);
    if (y->fd < 0) {
        snprintf(why, cap, "canary %u: connect: %s", n, strerror(-y->fd));
        free(y);
        return why;
    }
    const char *res = NULL;
    struct tern_packet k = {.type = TERN_CONNECT};
    k.u.connect = (struct tern_connect){
        .version = y->ver, .clean = true, .keep_alive = 30, .client_id = tern_slice_cstr(id)};
    stage = "sending CONNECT";
    if (!cy_send(y, &k, deadline))
        goto fail;
    stage = "CONNACK";
    while (!(got_puback && got_msg)) {
        struct tern_frame fr;
        uint8_t rc;
        int r = tern_frame_peek(y->buf, y->n, 0, &fr, &rc);
        if (r < 0) {
            snprintf(why, cap, "canary %u (v%u): broker sent a bad fixed header", n, y->ver);
            res = why;
            break;
        }
        if (r == 0) {
            struct pollfd p = {y->fd, POLLIN, 0};
            int64_t left = deadline - now_ms();
            if (left <= 0 || atomic_load(&stop_canary))
                goto fail;
            if (poll(&p, 1, left > 100 ? 100 : (int)left) == 0)
                continue;
            ssize_t got = recv(y->fd, y->buf + y->n, sizeof(y->buf) - y->n, 0);
            if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
                snprintf(why, cap,
                         "canary %u (v%u): the broker closed the connection waiting for %s", n,
                         y->ver, stage);
                res = why;
                break;
            }
            if (got > 0)
                y->n += (size_t)got;
            continue;
        }
        struct tern_packet in;
        if (tern_packet_decode(y->buf, fr.size, y->ver, &in, &rc) < 0) {
            snprintf(why, cap,
                     "canary %u (v%u): broker sent a frame the codec rejects (%02x %02x..)", n,
                     y->ver, y->buf[0], fr.size > 1 ? y->buf[1] : 0);
            res = why;
            break;
        }
        if (step == 0 && in.type == TERN_CONNACK) {
            if (in.u.connack.rc) {
                snprintf(why, cap, "canary %u (v%u): CONNACK 0x%02x", n, y->ver, in.u.connack.rc);
                res = why;
                break;
            }
            struct tern_sub_entry e = {.filter = tern_slice_cstr(topic), .qos = 1};
            k = (struct tern_packet){.type = TERN_SUBSCRIBE};
            k.u.subscribe.packet_id = 1;
            k.u.subscribe.count = 1;
            k.u.subscribe.list = &e;
            stage = "SUBACK";
            step = 1;
            if (!cy_send(y, &k, deadline))
                goto fail;
        } else if (step == 1 && in.type == TERN_SUBACK && in.u.suback.packet_id == 1) {
            if (in.u.suback.rcs.n != 1 || in.u.suback.rcs.p[0] >= 0x80) {
                snprintf(why, cap, "canary %u (v%u): SUBACK refused", n, y->ver);
                res = why;
                break;
            }
            k = (struct tern_packet){.type = TERN_PUBLISH};
            k.u.publish = (struct tern_publish){.qos = 1,
                                                .packet_id = 2,
                                                .topic = tern_slice_cstr(topic),
                                                .payload = tern_slice_cstr(payload)};
            stage = "PUBACK and the message";
            step = 2;
            if (!cy_send(y, &k, deadline))
                goto fail;
        } else if (step == 2 && in.type == TERN_PUBACK && in.u.ack.packet_id == 2) {
            got_puback = true;
        } else if (step == 2 && in.type == TERN_PUBLISH) {
            tern_slice t = tern_slice_cstr(topic), p = tern_slice_cstr(payload);
            if (in.u.publish.topic.n == t.n && !memcmp(in.u.publish.topic.p, t.p, t.n) &&
                in.u.publish.payload.n == p.n && !memcmp(in.u.publish.payload.p, p.p, p.n))
                got_msg = true;
            if (in.u.publish.qos == 1) {
                struct tern_packet a = {.type = TERN_PUBACK};
                a.u.ack.packet_id = in.u.publish.packet_id;
                if (!cy_send(y, &a, deadline))
                    goto fail;
            }
        } else if (in.type == TERN_DISCONNECT) {
            snprintf(why, cap, "canary %u (v%u): DISCONNECT 0x%02x waiting for %s", n, y->ver,
                     in.u.disconnect.rc, stage);
            res = why;
            break;
        }
        memmove(y->buf, y->buf + fr.size, y->n - fr.size);
        y->n -= fr.size;
    }
    if (!res) {
        k = (struct tern_packet){.type = TERN_DISCONNECT};
        cy_send(y, &k, deadline);
    }
    close(y->fd);
    free(y);
    return res;
fail:
    if (atomic_load(&stop_canary)) {
        close(y->fd);
        free(y);
        return NULL;
    }
    snprintf(why, cap, "hang: canary %u (v%u) got no %s within %d ms", n, y->ver, stage,
             (int)(now_ms() - t0));
    close(y->fd);
    free(y);
    return why;
}

static void *canary_main(void *arg)
{
    (void)arg;
    char why[sizeof(canary_reason)];
    for (unsigned n = 0; !atomic_load(&stop_canary); n++) {
        int64_t t0 = now_ms();
        if (canary_round(n, why, sizeof(why))) {
            memcpy(canary_reason, why, sizeof(why));
            atomic_store(&canary_failed, 1);
            return NULL;
        }
        if (atomic_load(&stop_canary))
            break;
        atomic_fetch_add(&canary_rounds, 1);
        int64_t left = t0 + CANARY_EVERY - now_ms();
        while (left > 0 && !atomic_load(&stop_canary)) { /* pacing, not synchronisation */
            sleep_ms(left > 50 ? 50 : (int)left);
            left = t0 + CANARY_EVERY - now_ms();
        }
    }
    return NULL;
}

/* ---- main --------------------------------------------------------------------------------- */

static void usage(void)
{
    fprintf(stderr, "usage: broker_fuzz TERND_PATH [--seconds N] [--seed S] [--conns C] "
                    "[--out DIR] [--keep-going]\n");
    exit(2);
}

static void parse_args(int argc, char **argv)
{
    bool seeded = false;
    if (argc < 2 || argv[1][0] == '-')
        usage();
    opt.ternd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--keep-going")) {
            opt.keep_going = true;
            continue;
        }
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--seconds"))
            opt.seconds = atoi(v);
        else if (!strcmp(a, "--seed")) {
            opt.seed = strtoull(v, NULL, 0);
            seeded = true;
        } else if (!strcmp(a, "--conns"))
            opt.conns = atoi(v);
        else if (!strcmp(a, "--out")) {
            snprintf(opt.out, sizeof(opt.out), "%s", v);
            opt.out_given = true;
        } else
            usage();
    }
    if (opt.seconds < 1 || opt.conns < 1 || opt.conns > MAX_CONNS)
        usage();
    if (!seeded) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        opt.seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec ^ (uint64_t)getpid();
        opt.seed %= 1000000000u;
    }
    if (!opt.out_given) {
        snprintf(opt.out, sizeof(opt.out), "/tmp/broker-fuzz-XXXXXX");
        if (!mkdtemp(opt.out))
            die("mkdtemp");
    } else if (mkdir(opt.out, 0700) != 0 && errno != EEXIST) {
        die(opt.out);
    }
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void summary_types(char *buf, size_t cap, const uint64_t *v, unsigned n)
{
    size_t off = 0;
    buf[0] = '\0';
    for (unsigned i = 0; i < n && off < cap; i++)
        if (v[i])
            off += (size_t)snprintf(buf + off, cap - off, "%s%s=%" PRIu64, off ? "," : "",
                                    i < 16 ? tern_ptype_name(i) : "garbage", v[i]);
}

/* One pass of the poll loop. generate: also open/advance connections (not at shutdown). */
static void loop_once(bool generate, int64_t now)
{
    static struct pollfd pfd[MAX_CONNS];
    bool rst;
    if (generate)
        while (nconns < (unsigned)opt.conns)
            conn_open();
    for (unsigned i = 0; i < nconns;) {
        if (generate && !conn_step(conns[i], now, &rst)) {
            conn_remove(i, rst);
            continue;
        }
        i++;
    }
    int timeout = 10;
    for (unsigned i = 0; i < nconns; i++) {
        struct conn *c = conns[i];
        short ev = 0;
        if (c->tcp_pending)
            ev = POLLOUT;
        else {
            if (c->kind != K_NOREAD)
                ev |= POLLIN;
            if (c->out_off < c->out.n && generate) {
                if (c->kind == K_BYTEWISE && c->next_write_ms > now)
                    timeout = 2;
                else
                    ev |= POLLOUT;
            }
            if (generate && c->out_off == c->out.n && c->next_ms > now &&
                c->next_ms - now < timeout)
                timeout = (int)(c->next_ms - now);
        }
        pfd[i] = (struct pollfd){c->fd, ev, 0};
    }
    if (poll(pfd, nconns, timeout) < 0 && errno != EINTR)
        die("poll");
    now = now_ms();
    for (unsigned i = nconns; i-- > 0;) {
        struct conn *c = conns[i];
        if (!pfd[i].revents || pfd[i].fd != c->fd)
            continue;
        if (c->tcp_pending) {
            int err = 0;
            socklen_t len = sizeof(err);
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err) {
                conn_remove(i, false);
                continue;
            }
            c->tcp_pending = false;
            c->last_sent_ms = now;
            continue;
        }
        bool ok = true;
        if (pfd[i].revents & (POLLIN | POLLHUP | POLLERR))
            ok = c->kind == K_NOREAD ? true : conn_read(c);
        if (ok && (pfd[i].revents & POLLOUT) && generate)
            ok = conn_flush(c, now);
        if (!ok || ((pfd[i].revents & (POLLHUP | POLLERR)) && c->kind == K_NOREAD))
            conn_remove(i, false);
    }
}

/* Where every broker thread is, for a hang: gdb's backtraces into hang-stacks.txt. */
static void hang_stacks(void)
{
    char cmd[1400];
    if (access("/usr/bin/gdb", X_OK) != 0)
        return;
    snprintf(cmd, sizeof(cmd),
             "timeout 30 /usr/bin/gdb -p %d -batch -nx -ex 'thread apply all bt' "
             ">'%s/hang-stacks.txt' 2>&1 </dev/null",
             (int)broker_pid, opt.out);
    if (system(cmd) == 0)
        fprintf(stderr, "broker_fuzz: broker thread stacks in %s/hang-stacks.txt\n", opt.out);
}

static void dump_conn_logs(void)
{
    static bool dumped;
    if (dumped)
        return;
    dumped = true;
    for (unsigned i = 0; i < nconns; i++)
        sentlog_dump(conns[i]->log, "open at the failure");
    for (unsigned i = 0; i < GRAVE_KEEP; i++)
        if (grave[i])
            sentlog_dump(grave[i], "closed before the failure");
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGHUP, on_signal);
    master_rng = opt.seed;
    t_start = now_ms();

    char path[700];
    snprintf(path, sizeof(path), "%s/repro.txt", opt.out);
    FILE *rf = fopen(path, "w");
    if (rf) {
        fprintf(rf, "%s %s --seconds %d --seed %" PRIu64 " --conns %d --out %s\n", argv[0],
                opt.ternd, opt.seconds, opt.seed, opt.conns, opt.out);
        fclose(rf);
    }
    printf("broker_fuzz: seed %" PRIu64 ", %d s, %d connections, out %s\n", opt.seed, opt.seconds,
           opt.conns, opt.out);
    fflush(stdout);

    broker_start(&master_rng);
    pthread_t canary;
    if (pthread_create(&canary, NULL, canary_main, NULL) != 0)
        die("pthread_create");

    int64_t end = t_start + (int64_t)opt.seconds * 1000;
    while (!failed) {
        int64_t now = now_ms();
        if (now >= end)
            break;
        if (!broker_check())
            break;
        if (atomic_load(&canary_failed)) {
            if (broker_check()) /* a dead broker explains a failed canary better */
                set_fail("%s", canary_reason);
            break;
        }
        loop_once(true, now);
    }
    atomic_store(&stop_canary, 1);
    pthread_join(canary, NULL);

    bool hang = failed && broker_pid > 0;
    if (failed)
        dump_conn_logs();
    if (hang) {
        /* A hang or a protocol bug: the broker is alive. Stop it the hard way for a hang
         * (it may not answer SIGTERM), normally otherwise. */
        if (!strncmp(fail_reason, "hang", 4)) {
            hang_stacks();
            broker_kill();
        }
    }
    if (broker_pid > 0) {
        kill(broker_pid, SIGTERM);
        int64_t deadline = now_ms() + SHUTDOWN_MS;
        int status = 0;
        pid_t r;
        /* Keep reading for the connections that read, so that only the no-read ones stall. */
        while ((r = waitpid(broker_pid, &status, WNOHANG)) == 0 && now_ms() < deadline) {
            loop_once(false, now_ms());
            if (failed) /* a protocol finding while the broker shuts down */
                dump_conn_logs();
        }
        if (r == 0) {
            set_fail("broker did not exit within %d ms of SIGTERM", SHUTDOWN_MS);
            dump_conn_logs();
            broker_kill();
        } else {
            broker_pid = -1;
            if (WIFSIGNALED(status))
                set_fail("broker died on SIGTERM: signal %d (%s)", WTERMSIG(status),
                         strsignal(WTERMSIG(status)));
            else if (WEXITSTATUS(status) != 0)
                set_fail("broker exited with status %d after SIGTERM (a leak or a sanitizer "
                         "report?)",
                         WEXITSTATUS(status));
        }
    }
    const char *san = scan_log();
    if (san) {
        bool first = !failed;
        set_fail("sanitizer report in the broker log (%s)", san);
        if (first)
            dump_conn_logs();
    }
    while (nconns)
        conn_remove(nconns - 1, false);

    char sent[600], recv[600];
    summary_types(sent, sizeof(sent), st.sent, 17);
    summary_types(recv, sizeof(recv), st.recv, 16);
    double secs = (double)(now_ms() - t_start) / 1000.0;
    printf("broker_fuzz: %.1f s, seed %" PRIu64 ", %" PRIu64 " connections (%" PRIu64
           " closed by the broker), sent [%s] (%" PRIu64 " mutated, %" PRIu64
           " bytes), received [%s] (%" PRIu64 " bytes), %" PRIu64 " canary round trips, %" PRIu64
           " protocol findings\n",
           secs, opt.seed, st.opened, st.broker_closed, sent, st.mutated, st.bytes_sent, recv,
           st.bytes_recv, (uint64_t)atomic_load(&canary_rounds), st.bugs);
    if (!failed && st.bugs) /* --keep-going */
        set_fail("%" PRIu64 " protocol findings (see BUG lines above)", st.bugs);
    if (!failed && atomic_load(&canary_rounds) == 0)
        set_fail("no canary round trip completed");
    for (unsigned i = 0; i < GRAVE_KEEP; i++)
        if (grave[i])
            sentlog_free(grave[i]);
    bb_free(&frame);
    if (failed) {
        printf("broker_fuzz: reproduce with: %s %s --seconds %d --seed %" PRIu64
               " --conns %d; broker log and sent bytes in %s\n",
               argv[0], opt.ternd, opt.seconds, opt.seed, opt.conns, opt.out);
        printf("broker_fuzz: FAIL %s\n", fail_reason);
        return 1;
    }
    if (!opt.out_given)
        nftw(opt.out, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    printf("broker_fuzz: ok\n");
    return 0;
}
