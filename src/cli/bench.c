/* SPDX-License-Identifier: MIT */
/*
 * src/cli/bench.c - tern bench: a load generator for MQTT brokers in one command.
 *
 * Modes: throughput (P publishers -> S subscribers, every subscriber gets every message),
 * fanout (1 -> S), fanin (P -> 1), latency (1 -> 1 at a fixed rate) and idle (many connections
 * that only keep alive: connection rate, and the broker's memory per connection).
 *
 * This file: options, the run's set-up, the main thread's control loop (phases, the live line
 * on a terminal, the end of the run) and the report (text or --json). The connections are
 * driven by worker threads (bench_loop.c); latencies go to log-linear histograms
 * (bench_hist.c). See docs/bench.md.
 *
 * Owns: struct tn_bench and its workers. Thread: the main thread.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <dirent.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "cmds.h"
#include "tern/codec.h"

#define PROG "tern bench"
#define EXIT_USAGE 2

/* Ctrl-C ends the publishing early and still prints the report. A signal handler can only
 * reach a global; this is the one global of tern bench, written by the handler only. */
static volatile sig_atomic_t bench_interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    bench_interrupted = 1;
}

static const char *const mode_names[] = {"throughput", "fanout", "fanin", "latency", "idle"};

static void usage(FILE *out)
{
    fprintf(out,
            "Usage: tern bench [OPTIONS]\n"
            "Load-test an MQTT broker: publishers, subscribers, or many idle connections.\n"
            "\n"
            "  --mode MODE        throughput (default: P publishers -> S subscribers),\n"
            "                     fanout (1 -> S), fanin (P -> 1), latency (1 -> 1 at\n"
            "                     --rate, default 1000 msg/s), idle (--clients connections)\n"
            "  -h, --host HOST    broker host (default localhost)\n"
            "  -p, --port PORT    broker port (default 1883)\n"
            "  -q, --qos 0|1|2    QoS of publications and subscriptions (default 0)\n"
            "  -V, --protocol-version 311|5   MQTT version (default 311)\n"
            "  -u, --username U   -P, --password P\n"
            "  --pubs N           publishers (throughput 1, fanin 10)\n"
            "  --subs N           subscribers (throughput 1, fanout 10)\n"
            "  --count N          messages per publisher (k, M suffixes: 10k = 10000)\n"
            "  --duration T       seconds to publish (or 500ms, 2m); default 10s without\n"
            "                     --count; idle mode: how long to hold the connections\n"
            "  --size BYTES       payload size, at least %u (default 64; k = 1024)\n"
            "  --rate R           messages per second over all publishers (default: as fast\n"
            "                     as possible); paced messages are stamped when due\n"
            "  --window N         QoS 1/2 messages in flight per publisher (default 64)\n"
            "  --topic PREFIX     publisher i publishes to PREFIX/i, subscribers take\n"
            "                     PREFIX/# (default tern/bench/RUNID)\n"
            "  --threads N        worker threads; connections are spread over them (1)\n"
            "  --clients N        idle mode: connections (default 1000); above 20000 they\n"
            "                     come from several 127.0.0.x source addresses\n"
            "  --source-addrs N   connect from 127.0.0.1..127.0.0.N (a loopback broker only;\n"
            "                     default: one per 20000 idle clients)\n"
            "  --broker-pid PID   report the broker's CPU use and, in idle mode, its memory\n"
            "                     per connection (VmRSS from /proc/PID/status)\n"
            "  --keepalive S      MQTT keep-alive seconds (default 60; 0 disables)\n"
            "  --drain T          at the end, how long to wait for missing messages with\n"
            "                     no progress before counting them lost (default 2s)\n"
            "  --drain-max T      wait at most T for missing messages once publishing ends,\n"
            "                     even while they still arrive (default: no limit); what has\n"
            "                     not arrived by then is counted lost\n"
            "  --sub-stall T      subscribers do not read for T after the start: a slow\n"
            "                     consumer, to see what the broker queues or drops\n"
            "  --connect-timeout T  time for all connections to be ready (default 30s)\n"
            "  --json             print one JSON object instead of the text report\n"
            "  --help             print this help\n"
            "\n"
            "On a terminal a live line shows every second what was sent and received.\n"
            "Exit status: 0; 1 if a connection failed, the broker misbehaved, or a QoS 1/2\n"
            "message was lost (or a QoS 2 message duplicated); 2 for bad options.\n",
            TN_BENCH_HDR);
}

/* ---- option parsing --------------------------------------------------------------------- */

__attribute__((format(printf, 1, 2))) static int bad(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, " (see tern bench --help)\n");
    return -1;
}

/* An unsigned integer with an optional suffix: k/M/G multiply by 1000 (or 1024 when binary),
 * within [min, max]. */
static int parse_u64(const char *opt, const char *s, uint64_t min, uint64_t max, bool binary,
                     uint64_t *out)
{
    uint64_t k = binary ? 1024 : 1000, mul = 1;
    unsigned long long v;
    char *end = NULL;

    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return bad("%s needs a number, got '%s'", opt, s ? s : "");
    errno = 0;
    v = strtoull(s, &end, 10);
    if (end == s || errno)
        return bad("%s needs a number, got '%s'", opt, s);
    if (*end == 'k' || *end == 'K')
        mul = k, end++;
    else if (*end == 'M' || *end == 'm')
        mul = k * k, end++;
    else if (*end == 'G' || *end == 'g')
        mul = k * k * k, end++;
    if (*end || v > max / mul || v * mul < min || v * mul > max)
        return bad("%s must be a whole number from %" PRIu64 " to %" PRIu64 ", got '%s'", opt, min,
                   max, s);
    *out = v * mul;
    return 0;
}

static int parse_uint(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
    uint64_t v;

    if (parse_u64(opt, s, min, max, false, &v) < 0)
        return -1;
    *out = (unsigned)v;
    return 0;
}

/* Seconds: "10", "2.5", "10s", "500ms", "2m". */
static int parse_seconds(const char *opt, const char *s, double *out)
{
    char *end = NULL;
    double v;

    if (!s || !*s)
        return bad("%s needs a time, got ''", opt);
    errno = 0;
    v = strtod(s, &end);
    if (end == s || errno || v < 0 || v != v)
        return bad("%s needs a time such as 10, 2.5s, 500ms or 2m, got '%s'", opt, s);
    if (!strcmp(end, "ms"))
        v /= 1000.0;
    else if (!strcmp(end, "m"))
        v *= 60.0;
    else if (*end && strcmp(end, "s"))
        return bad("%s needs a time such as 10, 2.5s, 500ms or 2m, got '%s'", opt, s);
    if (v > 1e7)
        return bad("%s is too long: '%s'", opt, s);
    *out = v;
    return 0;
}

enum {
    OPT_MODE = 256,
    OPT_PUBS,
    OPT_SUBS,
    OPT_COUNT,
    OPT_DURATION,
    OPT_SIZE,
    OPT_RATE,
    OPT_WINDOW,
    OPT_JSON,
    OPT_TOPIC,
    OPT_THREADS,
    OPT_CLIENTS,
    OPT_BROKER_PID,
    OPT_KEEPALIVE,
    OPT_DRAIN,
    OPT_DRAIN_MAX,
    OPT_SUB_STALL,
    OPT_CONNECT_TIMEOUT,
    OPT_SOURCE_ADDRS,
    OPT_HELP,
};

static const struct option longopts[] = {
    {"host", required_argument, NULL, 'h'},
    {"port", required_argument, NULL, 'p'},
    {"qos", required_argument, NULL, 'q'},
    {"protocol-version", required_argument, NULL, 'V'},
    {"username", required_argument, NULL, 'u'},
    {"password", required_argument, NULL, 'P'},
    {"mode", required_argument, NULL, OPT_MODE},
    {"pubs", required_argument, NULL, OPT_PUBS},
    {"subs", required_argument, NULL, OPT_SUBS},
    {"count", required_argument, NULL, OPT_COUNT},
    {"duration", required_argument, NULL, OPT_DURATION},
    {"size", required_argument, NULL, OPT_SIZE},
    {"rate", required_argument, NULL, OPT_RATE},
    {"window", required_argument, NULL, OPT_WINDOW},
    {"json", no_argument, NULL, OPT_JSON},
    {"topic", required_argument, NULL, OPT_TOPIC},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"clients", required_argument, NULL, OPT_CLIENTS},
    {"broker-pid", required_argument, NULL, OPT_BROKER_PID},
    {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
    {"drain", required_argument, NULL, OPT_DRAIN},
    {"drain-max", required_argument, NULL, OPT_DRAIN_MAX},
    {"sub-stall", required_argument, NULL, OPT_SUB_STALL},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"source-addrs", required_argument, NULL, OPT_SOURCE_ADDRS},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

/* Which options the user gave, for defaults that depend on the mode. */
struct given {
    bool pubs, subs, duration, count, rate, clients, window;
};

static int check_opts(struct tn_bench_opts *o, const struct given *g)
{
    enum tn_bench_mode m = o->mode;

    if (m == TN_BENCH_IDLE) {
        if (g->pubs || g->subs || g->count || g->rate || g->window)
            return bad("--mode idle takes --clients and --duration, not --pubs, --subs, "
                       "--count, --rate or --window");
        if (!g->clients)
            o->clients = 1000;
        return 0;
    }
    if (g->clients)
        return bad("--clients is for --mode idle");
    if (!g->pubs)
        o->pubs = m == TN_BENCH_FANIN ? 10 : 1;
    if (!g->subs)
        o->subs = m == TN_BENCH_FANOUT ? 10 : 1;
    if (m == TN_BENCH_FANOUT && o->pubs != 1)
        return bad("--mode fanout has one publisher; use --mode throughput for --pubs %u", o->pubs);
    if (m == TN_BENCH_FANIN && o->subs != 1)
        return bad("--mode fanin has one subscriber; use --mode throughput for --subs %u", o->subs);
    if (m == TN_BENCH_LATENCY && !g->rate)
        o->rate = 1000;
    if (m == TN_BENCH_LATENCY && o->rate <= 0)
        return bad("--mode latency needs a --rate above 0");
    if (!g->duration && !g->count)
        o->duration = 10;
    if (o->pubs == 0)
        return bad("--pubs 0: nothing would be published");
    if ((uint64_t)o->pubs * o->subs > 10000000u)
        return bad("--pubs x --subs must be at most 10000000: each subscriber keeps track of "
                   "every publisher");
    return 0;
}

/* Returns 0, 1 for --help, or -1 after an error message. */
static int parse_opts(struct tn_bench_opts *o, int argc, char **argv)
{
    struct given g = {0};
    uint64_t v;
    unsigned u;
    int c;

    memset(o, 0, sizeof(*o));
    o->host = "localhost";
    o->port_str = "1883";
    o->port = 1883;
    o->version = TERN_V311;
    o->size = 64;
    o->window = 64;
    o->threads = 1;
    o->keepalive = 60;
    o->drain = 2;
    o->connect_timeout = 30;
    optind = 0; /* glibc: 0 re-initialises getopt completely */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "+:h:p:q:V:u:P:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': o->host = optarg; break;
        case 'p':
            if (parse_uint("-p", optarg, 1, 65535, &u) < 0)
                return -1;
            o->port = (uint16_t)u;
            o->port_str = optarg;
            break;
        case 'q':
            if (strcmp(optarg, "0") && strcmp(optarg, "1") && strcmp(optarg, "2"))
                return bad("-q must be 0, 1 or 2, got '%s'", optarg);
            o->qos = (uint8_t)(optarg[0] - '0');
            break;
        case 'V':
            if (!strcmp(optarg, "311") || !strcmp(optarg, "mqttv311") || !strcmp(optarg, "4"))
                o->version = TERN_V311;
            else if (!strcmp(optarg, "5") || !strcmp(optarg, "mqttv5"))
                o->version = TERN_V5;
            else
                return bad("-V must be 311 or 5, got '%s'", optarg);
            break;
        case 'u': o->username = optarg; break;
        case 'P': o->password = optarg; break;
        case OPT_MODE:
            for (u = 0; u < sizeof(mode_names) / sizeof(mode_names[0]); u++)
                if (!strcmp(optarg, mode_names[u]))
                    break;
            if (u == sizeof(mode_names) / sizeof(mode_names[0]))
                return bad("--mode must be throughput, fanout, fanin, latency or idle, got '%s'",
                           optarg);
            o->mode = (enum tn_bench_mode)u;
            break;
        case OPT_PUBS:
            if (parse_uint("--pubs", optarg, 0, 100000, &o->pubs) < 0)
                return -1;
            g.pubs = true;
            break;
        case OPT_SUBS:
            if (parse_uint("--subs", optarg, 0, 100000, &o->subs) < 0)
                return -1;
            g.subs = true;
            break;
        case OPT_COUNT:
            if (parse_u64("--count", optarg, 1, 1ull << 40, false, &o->count) < 0)
                return -1;
            g.count = true;
            break;
        case OPT_DURATION:
            if (parse_seconds("--duration", optarg, &o->duration) < 0)
                return -1;
            g.duration = true;
            break;
        case OPT_SIZE:
            if (parse_u64("--size", optarg, 0, 64u << 20, true, &v) < 0)
                return -1;
            if (v < TN_BENCH_HDR)
                return bad("--size must be at least %u: each payload carries the run, "
                           "publisher, sequence number and send time, got '%s'",
                           TN_BENCH_HDR, optarg);
            o->size = (uint32_t)v;
            break;
        case OPT_RATE: {
            char *end = NULL;
            errno = 0;
            o->rate = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(o->rate > 0) || o->rate > 1e9)
                return bad("--rate needs messages per second above 0, got '%s'", optarg);
            g.rate = true;
            break;
        }
        case OPT_WINDOW:
            if (parse_uint("--window", optarg, 1, 65535, &o->window) < 0)
                return -1;
            g.window = true;
            break;
        case OPT_JSON: o->json = true; break;
        case OPT_TOPIC:
            if (!*optarg || strlen(optarg) > 200 ||
                !tern_topic_name_is_valid((const uint8_t *)optarg, strlen(optarg)))
                return bad("--topic must be a topic name without + or # (up to 200 bytes), "
                           "got '%s'",
                           optarg);
            o->topic = optarg;
            break;
        case OPT_THREADS:
            if (parse_uint("--threads", optarg, 1, 256, &o->threads) < 0)
                return -1;
            break;
        case OPT_CLIENTS:
            if (parse_uint("--clients", optarg, 1, 5000000, &o->clients) < 0)
                return -1;
            g.clients = true;
            break;
        case OPT_BROKER_PID:
            if (parse_uint("--broker-pid", optarg, 1, 1u << 30, &u) < 0)
                return -1;
            o->broker_pid = (int)u;
            break;
        case OPT_KEEPALIVE:
            if (parse_uint("--keepalive", optarg, 0, 65535, &o->keepalive) < 0)
                return -1;
            break;
        case OPT_DRAIN:
            if (parse_seconds("--drain", optarg, &o->drain) < 0)
                return -1;
            break;
        case OPT_DRAIN_MAX:
            if (parse_seconds("--drain-max", optarg, &o->drain_max) < 0)
                return -1;
            break;
        case OPT_SUB_STALL:
            if (parse_seconds("--sub-stall", optarg, &o->sub_stall) < 0)
                return -1;
            break;
        case OPT_CONNECT_TIMEOUT:
            if (parse_seconds("--connect-timeout", optarg, &o->connect_timeout) < 0)
                return -1;
            break;
        case OPT_SOURCE_ADDRS:
            if (parse_uint("--source-addrs", optarg, 1, 250, &o->source_addrs) < 0)
                return -1;
            break;
        case OPT_HELP: return 1;
        case ':': return bad("%s needs a value", argv[optind - 1]);
        default:
            if (optopt && optopt < 256)
                return bad("unknown option '-%c'", optopt);
            return bad("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return bad("unexpected argument '%s'", argv[optind]);
    return check_opts(o, &g);
}

/* ---- the broker process (/proc) ------------------------------------------------------- */

struct proc_sample {
    bool ok;
    uint64_t ticks;   /* utime + stime */
    uint64_t rss_kb;  /* VmRSS */
    uint64_t run_ns;  /* schedstat, all threads: time on a CPU */
    uint64_t wait_ns; /* schedstat, all threads: time runnable but waiting for a CPU */
    bool sched;       /* run_ns and wait_ns are known */
};

/* Sum the scheduler statistics of every thread: how long the broker ran, and how long it
 * was ready to run but another process had the CPU (a shared machine makes that large). */
static void proc_schedstat(int pid, struct proc_sample *s)
{
    char path[96];
    struct dirent *d;
    DIR *dir;

    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    dir = opendir(path);
    if (!dir)
        return;
    s->sched = true;
    while ((d = readdir(dir)) != NULL) {
        unsigned long long run, wait;
        FILE *f;

        if (d->d_name[0] == '.')
            continue;
        snprintf(path, sizeof(path), "/proc/%d/task/%.20s/schedstat", pid, d->d_name);
        f = fopen(path, "r");
        if (!f)
            continue;
        if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
            s->run_ns += run;
            s->wait_ns += wait;
        } else {
            s->sched = false;
        }
        fclose(f);
    }
    closedir(dir);
}

static struct proc_sample proc_read(int pid)
{
    struct proc_sample s = {0};
    char path[64], buf[4096], *p;
    unsigned long long ut, st;
    FILE *f;
    size_t n;

    if (pid <= 0)
        return s;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return s;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* The command name may hold spaces and parentheses: fields count from the last ')'. */
    p = strrchr(buf, ')');
    if (!p ||
        sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return s;
    s.ticks = ut + st;
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (!f)
        return s;
    while (fgets(buf, sizeof(buf), f))
        if (sscanf(buf, "VmRSS: %llu kB", &ut) == 1)
            s.rss_kb = ut;
    fclose(f);
    proc_schedstat(pid, &s);
    s.ok = true;
    return s;
}

static uint64_t self_cpu_ns(void)
{
    struct rusage ru;

    if (getrusage(RUSAGE_SELF, &ru) < 0)
        return 0;
    return ((uint64_t)ru.ru_utime.tv_sec + (uint64_t)ru.ru_stime.tv_sec) * 1000000000u +
           ((uint64_t)ru.ru_utime.tv_usec + (uint64_t)ru.ru_stime.tv_usec) * 1000u;
}

/* Time our own threads spent runnable but waiting for a CPU: with the broker's, it tells
 * which side a shared machine slowed down. */
static uint64_t self_wait_ns(void)
{
    struct proc_sample s = {0};

    proc_schedstat(getpid(), &s);
    return s.sched ? s.wait_ns : UINT64_MAX;
}

/* ---- set-up ---------------------------------------------------------------------------- */

static int resolve(struct tn_bench *b)
{
    struct addrinfo hints, *res = NULL, *ai, *pick = NULL;
    bool loopback;
    int r;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r = getaddrinfo(b->o.host, b->o.port_str, &hints, &res);
    if (r != 0) {
        fprintf(stderr, PROG ": cannot resolve %s: %s\n", b->o.host, gai_strerror(r));
        return -1;
    }
    /* Prefer IPv4: "localhost" usually means 127.0.0.1 to a broker's default listener. */
    for (ai = res; ai; ai = ai->ai_next)
        if (ai->ai_family == AF_INET && !pick)
            pick = ai;
    if (!pick)
        pick = res;
    memcpy(&b->addr, pick->ai_addr, pick->ai_addrlen);
    b->addrlen = pick->ai_addrlen;
    freeaddrinfo(res);
    /* One source address has ~28000 ephemeral ports (per broker address and port): beyond
     * that, connect from several loopback addresses. */
    loopback = b->addr.ss_family == AF_INET &&
               (ntohl(((const struct sockaddr_in *)&b->addr)->sin_addr.s_addr) >> 24) == 127;
    if (b->o.source_addrs) {
        if (!loopback) {
            fprintf(stderr,
                    PROG ": --source-addrs needs a broker on a 127.x.x.x address; %s "
                         "is not one\n",
                    b->o.host);
            return -1;
        }
        b->nsrc = b->o.source_addrs;
    } else if (loopback && b->o.mode == TN_BENCH_IDLE && b->o.clients > 20000) {
        b->nsrc = (b->o.clients + 19999) / 20000;
        if (b->nsrc > 250)
            b->nsrc = 250;
    }
    return 0;
}

/* Every connection is a descriptor: ask for enough of them up front, with a clear message. */
static int raise_fd_limit(unsigned need)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return 0;
    if (rl.rlim_cur >= need)
        return 0;
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
        fprintf(stderr,
                PROG ": %u connections need %u file descriptors; the limit is %llu "
                     "(raise it: ulimit -n)\n",
                need - 64, need, (unsigned long long)rl.rlim_cur);
        return -1;
    }
    return 0;
}

static int setup(struct tn_bench *b, unsigned *nworkers)
{
    unsigned i, t = 0, nw;
    uint32_t rnd = 0;
    int r;

    if (getrandom(&rnd, sizeof(rnd), GRND_NONBLOCK) != sizeof(rnd))
        rnd = (uint32_t)tn_bench_now() ^ ((uint32_t)getpid() << 16);
    b->run_id = rnd ? rnd : 1;
    if (b->o.topic)
        snprintf(b->topic, sizeof(b->topic), "%s", b->o.topic);
    else
        snprintf(b->topic, sizeof(b->topic), "tern/bench/%08x", b->run_id);
    snprintf(b->client_id, sizeof(b->client_id), "tb-%08x", b->run_id);
    b->nconns = b->o.mode == TN_BENCH_IDLE ? b->o.clients : b->o.pubs + b->o.subs;
    if (resolve(b) < 0 || raise_fd_limit(b->nconns + 64) < 0)
        return -1;
    atomic_store(&b->t_end, UINT64_MAX);
    if (b->o.rate > 0)
        b->per_pub_ns = (uint64_t)((double)b->o.pubs * 1e9 / b->o.rate);
    if (b->o.rate > 0 && b->per_pub_ns == 0)
        b->per_pub_ns = 1;
    nw = b->o.threads < b->nconns ? b->o.threads : b->nconns;
    b->o.threads = nw; /* the report shows the threads that ran */
    b->pub_sent = calloc(b->o.pubs ? b->o.pubs : 1, sizeof(*b->pub_sent));
    b->sub_uniq = calloc((size_t)(b->o.subs ? b->o.subs : 1) * (b->o.pubs ? b->o.pubs : 1),
                         sizeof(*b->sub_uniq));
    b->w = calloc(nw, sizeof(*b->w));
    if (!b->pub_sent || !b->sub_uniq || !b->w)
        goto nomem;
    for (i = 0; i < nw; i++) {
        b->w[i].ep = b->w[i].evfd = b->w[i].tfd = -1;
        *nworkers = i + 1;
        r = tn_bench_worker_init(&b->w[i], b, i);
        if (r < 0) {
            fprintf(stderr, PROG ": cannot set up a worker: %s\n", strerror(-r));
            return -1;
        }
    }
    /* Round-robin: subscribers first so every thread gets its share of each role. */
    if (b->o.mode == TN_BENCH_IDLE) {
        for (i = 0; i < b->o.clients; i++)
            if ((r = tn_bench_worker_add(&b->w[t++ % nw], TN_ROLE_IDLE, i)) < 0)
                goto fail;
    } else {
        for (i = 0; i < b->o.subs; i++)
            if ((r = tn_bench_worker_add(&b->w[t++ % nw], TN_ROLE_SUB, i)) < 0)
                goto fail;
        for (i = 0; i < b->o.pubs; i++)
            if ((r = tn_bench_worker_add(&b->w[t++ % nw], TN_ROLE_PUB, i)) < 0)
                goto fail;
    }
    return 0;
nomem:
    r = -ENOMEM;
fail:
    fprintf(stderr, PROG ": cannot set up the connections: %s\n",
            r == -EINVAL ? "PUBLISH too large to encode (--size, --topic)" : tern_strerror(r));
    return -1;
}

/* ---- the run ---------------------------------------------------------------------------- */

struct totals {
    uint64_t sent, completed, received, inflight, errors, connected;
};

static struct totals sum_counters(const struct tn_bench *b, unsigned nw)
{
    struct totals t = {0};

    for (unsigned i = 0; i < nw; i++) {
        const struct tn_bench_counters *c = &b->w[i].c;
        t.sent += atomic_load_explicit(&c->sent, memory_order_relaxed);
        t.completed += atomic_load_explicit(&c->completed, memory_order_relaxed);
        t.received += atomic_load_explicit(&c->received, memory_order_relaxed);
        t.inflight += atomic_load_explicit(&c->inflight, memory_order_relaxed);
        t.errors += atomic_load_explicit(&c->errors, memory_order_relaxed);
        t.connected += atomic_load_explicit(&c->connected, memory_order_relaxed);
    }
    return t;
}

static void set_phase(struct tn_bench *b, unsigned nw, int phase)
{
    atomic_store(&b->phase, phase);
    for (unsigned i = 0; i < nw; i++)
        tn_bench_worker_wake(&b->w[i]);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* What the main thread measured, for the report. */
struct run_result {
    uint64_t t_conn0, t_conn1;   /* connect phase */
    uint64_t t_start, t_pub_end; /* publishing */
    uint64_t t_end;              /* after the drain */
    struct proc_sample broker0, broker_conn, broker1;
    uint64_t cpu0, cpu1;   /* our own CPU time */
    uint64_t wait0, wait1; /* our own time waiting for a CPU (schedstat), UINT64_MAX: unknown */
    bool interrupted, timed_out;
    bool drain_cut;   /* --drain-max ended the wait while messages were still arriving */
    char errbuf[256]; /* the time-out message */
};

static void live_line(const struct tn_bench *b, const struct totals *now, const struct totals *prev,
                      double secs, double dt)
{
    uint64_t expect = now->sent * b->o.subs;

    if (b->o.mode == TN_BENCH_IDLE) {
        fprintf(stderr, "[%6.1fs] connected %" PRIu64 " of %u  %.0f conn/s  errors %" PRIu64 "\n",
                secs, now->connected, b->nconns, (double)(now->connected - prev->connected) / dt,
                now->errors);
        return;
    }
    fprintf(stderr,
            "[%6.1fs] sent %.0f msg/s  received %.0f msg/s  in flight %" PRIu64 "  errors %" PRIu64
            "\n",
            secs, (double)(now->sent - prev->sent) / dt,
            (double)(now->received - prev->received) / dt,
            expect > now->received ? expect - now->received : 0, now->errors);
}

/* Connect everything. Returns 0 when every connection is ready (idle mode: or failed). */
static int run_connect(struct tn_bench *b, unsigned nw, struct run_result *rr, bool live)
{
    uint64_t deadline = rr->t_conn0 + (uint64_t)(b->o.connect_timeout * 1e9);
    uint64_t next_live = rr->t_conn0 + 1000000000u;
    struct totals prev = {0}, t;

    for (;;) {
        unsigned done = atomic_load(&b->ready) + atomic_load(&b->failed);
        uint64_t now = tn_bench_now();

        if (done >= b->nconns)
            break;
        if (atomic_load(&b->fatal))
            return -1;
        if (bench_interrupted) {
            rr->interrupted = true;
            return -1;
        }
        if (now >= deadline) {
            rr->timed_out = true;
            snprintf(rr->errbuf, sizeof(rr->errbuf),
                     "timed out connecting to %s:%u: %u of %u connections ready after %g s",
                     b->o.host, b->o.port, atomic_load(&b->ready), b->nconns, b->o.connect_timeout);
            return -1;
        }
        if (live && now >= next_live) {
            t = sum_counters(b, nw);
            live_line(b, &t, &prev, (double)(now - rr->t_conn0) / 1e9, 1.0);
            prev = t;
            next_live += 1000000000u;
        }
        sleep_ms(2);
    }
    rr->t_conn1 = tn_bench_now();
    return atomic_load(&b->failed) ? -1 : 0;
}

static void run_idle(struct tn_bench *b, unsigned nw, struct run_result *rr, bool live)
{
    uint64_t end = rr->t_conn1 + (uint64_t)(b->o.duration * 1e9);
    uint64_t next_live = rr->t_conn1 + 1000000000u;
    struct totals prev = sum_counters(b, nw), t;

    rr->broker_conn = proc_read(b->o.broker_pid);
    rr->cpu1 = self_cpu_ns();
    rr->wait1 = self_wait_ns();
    rr->t_start = rr->t_conn1;
    while (tn_bench_now() < end && !bench_interrupted && !atomic_load(&b->fatal)) {
        uint64_t now = tn_bench_now();
        if (live && now >= next_live) {
            t = sum_counters(b, nw);
            live_line(b, &t, &prev, (double)(now - rr->t_conn0) / 1e9, 1.0);
            prev = t;
            next_live += 1000000000u;
        }
        sleep_ms(10);
    }
    rr->t_pub_end = rr->t_end = tn_bench_now();
}

static void run_publish(struct tn_bench *b, unsigned nw, struct run_result *rr, bool live)
{
    uint64_t now = tn_bench_now(), last_progress, last_live, stop_at = 0;
    uint64_t drain_ns = (uint64_t)(b->o.drain * 1e9);
    uint64_t drain_max_ns = (uint64_t)(b->o.drain_max * 1e9);
    struct totals prev = {0}, t, last = {0};

    rr->broker0 = proc_read(b->o.broker_pid);
    rr->cpu0 = self_cpu_ns();
    rr->wait0 = self_wait_ns();
    b->t_start = rr->t_start = now;
    if (b->o.duration > 0)
        atomic_store(&b->t_end, b->t_start + (uint64_t)(b->o.duration * 1e9));
    set_phase(b, nw, TN_PH_RUN);
    last_live = b->t_start;
    last_progress = now;
    for (;;) {
        sleep_ms(5);
        now = tn_bench_now();
        t = sum_counters(b, nw);
        if (live && now >= last_live + 1000000000u) {
            live_line(b, &t, &prev, (double)(now - b->t_start) / 1e9,
                      (double)(now - last_live) / 1e9);
            prev = t;
            last_live = now;
        }
        if (atomic_load(&b->fatal))
            break;
        if (bench_interrupted && !rr->interrupted) {
            /* Ctrl-C: no new messages; what is under way may still arrive. A second
             * Ctrl-C (default action restored) ends the process. */
            rr->interrupted = true;
            signal(SIGINT, SIG_DFL);
            atomic_store(&b->t_end, now);
        }
        if (t.received != last.received || t.completed != last.completed) {
            last_progress = now;
            last = t;
        }
        if (!rr->t_pub_end && atomic_load(&b->pubs_done) >= b->o.pubs) {
            rr->t_pub_end = now;
            stop_at = now;
        }
        if (stop_at) {
            /* Publishers are done: wait for the subscribers until everything arrived or
             * nothing has moved for --drain. */
            if (t.received >= t.sent * b->o.subs || now - last_progress >= drain_ns)
                break;
            if (drain_max_ns && now - stop_at >= drain_max_ns) {
                rr->drain_cut = true;
                break;
            }
        } else if (rr->interrupted && now - last_progress >= drain_ns + 1000000000u) {
            break; /* an acknowledgement that never comes must not hang us */
        }
    }
    if (!rr->t_pub_end)
        rr->t_pub_end = now;
    rr->t_end = now;
    rr->cpu1 = self_cpu_ns();
    rr->wait1 = self_wait_ns();
    rr->broker1 = proc_read(b->o.broker_pid);
}

/* ---- the report ------------------------------------------------------------------------- */

struct report {
    uint64_t sent, completed, received, unique, expected, lost, dups, foreign, rejected, errors;
    unsigned connected, failed;
    double send_s, recv_s, conn_s;
    double broker_cpu;  /* percent of one core, < 0 when unknown */
    double broker_wait; /* percent of the run the broker waited for a CPU, < 0: unknown */
    double self_cpu;
    double self_wait; /* percent, < 0 when unknown */
    tn_hist lat, conn;
    const char *error; /* the first fatal error, or NULL */
    bool downgraded;   /* some subscription was granted a lower QoS */
    bool ok;
};

static void report_build(struct tn_bench *b, unsigned nw, const struct run_result *rr,
                         struct report *r)
{
    struct totals t = sum_counters(b, nw);
    uint64_t last_rx = 0, first_conn = UINT64_MAX, last_conn = 0;
    const struct proc_sample *b0 = &rr->broker0, *b1 = &rr->broker1;
    double wall;

    memset(r, 0, sizeof(*r));
    tn_hist_init(&r->lat);
    tn_hist_init(&r->conn);
    for (unsigned i = 0; i < nw; i++) {
        struct tn_bench_worker *w = &b->w[i];
        tn_hist_merge(&r->lat, &w->lat);
        tn_hist_merge(&r->conn, &w->conn);
        r->dups += w->dups;
        r->foreign += w->foreign;
        r->rejected += w->rejected;
        if (w->last_rx_ns > last_rx)
            last_rx = w->last_rx_ns;
        if (w->first_connect_ns && w->first_connect_ns < first_conn)
            first_conn = w->first_connect_ns;
        if (w->last_connack_ns > last_conn)
            last_conn = w->last_connack_ns;
        if (!r->error && w->err[0])
            r->error = w->err;
        r->downgraded |= w->downgraded;
    }
    r->sent = t.sent;
    r->completed = t.completed;
    r->received = t.received;
    r->errors = t.errors;
    r->connected = atomic_load(&b->ready);
    r->failed = atomic_load(&b->failed);
    r->expected = t.sent * b->o.subs;
    for (unsigned s = 0; s < b->o.subs; s++)
        for (unsigned p = 0; p < b->o.pubs; p++) {
            uint64_t got = b->sub_uniq[(size_t)s * b->o.pubs + p];
            r->unique += got;
            if (b->pub_sent[p] > got)
                r->lost += b->pub_sent[p] - got;
        }
    r->send_s = rr->t_pub_end > rr->t_start ? (double)(rr->t_pub_end - rr->t_start) / 1e9 : 0;
    r->recv_s = last_rx > rr->t_start ? (double)(last_rx - rr->t_start) / 1e9 : 0;
    r->conn_s = last_conn > first_conn ? (double)(last_conn - first_conn) / 1e9 : 0;
    /* CPU use over the publishing, or in idle mode over the connecting. */
    wall = rr->t_end > rr->t_start ? (double)(rr->t_end - rr->t_start) / 1e9 : 0;
    if (b->o.mode == TN_BENCH_IDLE) {
        wall = rr->t_conn1 > rr->t_conn0 ? (double)(rr->t_conn1 - rr->t_conn0) / 1e9 : 0;
        b0 = &rr->broker0;
        b1 = &rr->broker_conn;
    }
    r->broker_cpu = r->broker_wait = -1;
    if (b0->ok && b1->ok && wall > 0) {
        r->broker_cpu =
            (double)(b1->ticks - b0->ticks) / (double)sysconf(_SC_CLK_TCK) / wall * 100.0;
        if (b0->sched && b1->sched) { /* ns instead of clock ticks */
            r->broker_cpu = (double)(b1->run_ns - b0->run_ns) / 1e9 / wall * 100.0;
            r->broker_wait = (double)(b1->wait_ns - b0->wait_ns) / 1e9 / wall * 100.0;
        }
    }
    r->self_cpu = wall > 0 && rr->cpu1 ? (double)(rr->cpu1 - rr->cpu0) / 1e9 / wall * 100.0 : -1;
    r->self_wait =
        wall > 0 && rr->wait0 != UINT64_MAX && rr->wait1 != UINT64_MAX && rr->wait1 >= rr->wait0
            ? (double)(rr->wait1 - rr->wait0) / 1e9 / wall * 100.0
            : -1;
    if (rr->timed_out) /* the stall explains more than what any one connection saw */
        r->error = rr->errbuf;
    if (rr->interrupted && !rr->t_start && !r->error)
        r->error = "interrupted while connecting";
    r->ok = !r->error && r->failed == 0 && !atomic_load(&b->fatal) &&
            (b->o.qos == 0 || r->lost == 0) && !(b->o.qos == 2 && r->dups > 0) && r->rejected == 0;
}

/* Latency for people: 850 ns, 12.3 us, 4.56 ms, 1.234 s. */
static const char *fmt_ns(char *buf, size_t n, uint64_t ns)
{
    if (ns < 1000)
        snprintf(buf, n, "%" PRIu64 " ns", ns);
    else if (ns < 1000000)
        snprintf(buf, n, "%.1f us", (double)ns / 1e3);
    else if (ns < 1000000000)
        snprintf(buf, n, "%.2f ms", (double)ns / 1e6);
    else
        snprintf(buf, n, "%.3f s", (double)ns / 1e9);
    return buf;
}

static void print_hist(FILE *out, const tn_hist *h)
{
    static const double pct[] = {50, 90, 99, 99.9};
    static const char *const name[] = {"p50", "p90", "p99", "p99.9"};
    char buf[32];

    for (unsigned i = 0; i < 4; i++)
        fprintf(out, " %s %s ", name[i], fmt_ns(buf, sizeof(buf), tn_hist_percentile(h, pct[i])));
    fprintf(out, " max %s", fmt_ns(buf, sizeof(buf), h->max));
    fprintf(out, "  (mean %s, %" PRIu64 " samples)\n",
            fmt_ns(buf, sizeof(buf), (uint64_t)tn_hist_mean(h)), h->count);
}

static double per_s(uint64_t n, double s)
{
    return s > 0 ? (double)n / s : 0;
}

static void print_cpu(FILE *out, const struct tn_bench_opts *o, const struct report *r)
{
    if (r->broker_cpu >= 0) {
        fprintf(out, "  cpu        broker %.0f%% (pid %d", r->broker_cpu, o->broker_pid);
        if (r->broker_wait >= 0)
            fprintf(out, "; waited for a CPU %.0f%% of the time", r->broker_wait);
        fprintf(out, "), tern bench %.0f%%", r->self_cpu);
    } else if (r->self_cpu >= 0) {
        fprintf(out, "  cpu        tern bench %.0f%%", r->self_cpu);
    } else {
        return;
    }
    if (r->self_wait >= 0)
        fprintf(out, " (waited for a CPU %.0f%%)", r->self_wait);
    fprintf(out, o->mode == TN_BENCH_IDLE ? " (while connecting)\n" : "\n");
}

static void print_text(const struct tn_bench *b, const struct run_result *rr,
                       const struct report *r)
{
    const struct tn_bench_opts *o = &b->o;
    FILE *out = stdout;

    fprintf(out, PROG ": %s, MQTT %s, ", mode_names[o->mode],
            o->version == TERN_V5 ? "5.0" : "3.1.1");
    if (o->mode == TN_BENCH_IDLE)
        fprintf(out, "%u clients", o->clients);
    else
        fprintf(out, "QoS %u, %u pub%s -> %u sub%s, %u B", o->qos, o->pubs, o->pubs == 1 ? "" : "s",
                o->subs, o->subs == 1 ? "" : "s", o->size);
    if (o->qos && o->mode != TN_BENCH_IDLE)
        fprintf(out, ", window %u", o->window);
    if (o->rate > 0)
        fprintf(out, ", %.0f msg/s", o->rate);
    fprintf(out, ", %u thread%s\n", o->threads, o->threads == 1 ? "" : "s");
    fprintf(out, "  connect    %u of %u in %.3f s: %.0f conn/s", r->connected, b->nconns, r->conn_s,
            per_s(r->connected, r->conn_s));
    if (b->nsrc)
        fprintf(out, " from %u source addresses", b->nsrc);
    fprintf(out, "\n  CONNACK   ");
    print_hist(out, &r->conn);
    if (o->mode == TN_BENCH_IDLE) {
        if (rr->broker0.ok && rr->broker_conn.ok && r->connected)
            fprintf(out,
                    "  broker     RSS %" PRIu64 " kB -> %" PRIu64 " kB: %.0f bytes per "
                    "connection (pid %d)\n",
                    rr->broker0.rss_kb, rr->broker_conn.rss_kb,
                    ((double)rr->broker_conn.rss_kb - (double)rr->broker0.rss_kb) * 1024.0 /
                        r->connected,
                    o->broker_pid);
        print_cpu(out, o, r);
        return;
    }
    fprintf(out, "  sent       %" PRIu64 " in %.3f s: %.0f msg/s", r->sent, r->send_s,
            per_s(r->sent, r->send_s));
    if (o->qos)
        fprintf(out, " (%" PRIu64 " acknowledged)", r->completed);
    fprintf(out, "\n  received   %" PRIu64 " of %" PRIu64 " in %.3f s: %.0f msg/s\n", r->received,
            r->expected, r->recv_s, per_s(r->received, r->recv_s));
    fprintf(out, "  QoS %u      lost %" PRIu64 ", duplicates %" PRIu64, o->qos, r->lost, r->dups);
    if (o->qos)
        fprintf(out, ", rejected %" PRIu64, r->rejected);
    fprintf(out, ", errors %" PRIu64, r->errors);
    if (r->foreign)
        fprintf(out, ", not ours %" PRIu64, r->foreign);
    if (rr->drain_cut)
        fprintf(out, "\n             (--drain-max: stopped waiting while messages still arrived)");
    fprintf(out, "\n  latency   ");
    print_hist(out, &r->lat);
    print_cpu(out, o, r);
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(out, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(out, "\\u%04x", ch);
        else
            fputc(ch, out);
    }
    fputc('"', out);
}

static void json_hist(FILE *out, const char *name, const tn_hist *h)
{
    fprintf(out,
            "\"%s\":{\"count\":%" PRIu64 ",\"min\":%.3f,\"mean\":%.3f,\"p50\":%.3f,"
            "\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f}",
            name, h->count, h->count ? (double)h->min / 1e3 : 0.0, tn_hist_mean(h) / 1e3,
            (double)tn_hist_percentile(h, 50) / 1e3, (double)tn_hist_percentile(h, 90) / 1e3,
            (double)tn_hist_percentile(h, 99) / 1e3, (double)tn_hist_percentile(h, 99.9) / 1e3,
            (double)h->max / 1e3);
}

static void print_json(const struct tn_bench *b, const struct run_result *rr,
                       const struct report *r)
{
    const struct tn_bench_opts *o = &b->o;
    FILE *out = stdout;

    fprintf(out, "{\"mode\":\"%s\",\"host\":", mode_names[o->mode]);
    json_str(out, o->host);
    fprintf(out,
            ",\"port\":%u,\"version\":\"%s\",\"qos\":%u,\"pubs\":%u,\"subs\":%u,"
            "\"clients\":%u,\"threads\":%u,\"size\":%u,\"window\":%u,\"rate\":%.3f,"
            "\"count\":%" PRIu64 ",\"duration\":%.3f,\"topic\":",
            o->port, o->version == TERN_V5 ? "5.0" : "3.1.1", o->qos, o->pubs, o->subs,
            o->mode == TN_BENCH_IDLE ? o->clients : 0, o->threads, o->size, o->window, o->rate,
            o->count, o->duration);
    json_str(out, b->topic);
    fprintf(out,
            ",\"connections\":{\"ok\":%u,\"failed\":%u,\"seconds\":%.6f,\"per_second\":%.1f,"
            "\"source_addresses\":%u,",
            r->connected, r->failed, r->conn_s, per_s(r->connected, r->conn_s),
            b->nsrc ? b->nsrc : 1);
    json_hist(out, "connack_us", &r->conn);
    fprintf(out,
            "},\"sent\":%" PRIu64 ",\"acked\":%" PRIu64 ",\"expected\":%" PRIu64
            ",\"received\":%" PRIu64 ",\"unique\":%" PRIu64 ",\"lost\":%" PRIu64
            ",\"duplicates\":%" PRIu64 ",\"foreign\":%" PRIu64 ",\"rejected\":%" PRIu64
            ",\"errors\":%" PRIu64 ",\"send_seconds\":%.6f,\"send_rate\":%.1f"
            ",\"recv_seconds\":%.6f,\"recv_rate\":%.1f,",
            r->sent, r->completed, r->expected, r->received, r->unique, r->lost, r->dups,
            r->foreign, r->rejected, r->errors, r->send_s, per_s(r->sent, r->send_s), r->recv_s,
            per_s(r->received, r->recv_s));
    json_hist(out, "latency_us", &r->lat);
    fprintf(out, ",\"broker\":");
    if (o->broker_pid && rr->broker0.ok) {
        const struct proc_sample *after =
            o->mode == TN_BENCH_IDLE ? &rr->broker_conn : &rr->broker1;
        fprintf(out, "{\"pid\":%d,\"cpu_percent\":", o->broker_pid);
        if (r->broker_cpu >= 0)
            fprintf(out, "%.1f", r->broker_cpu);
        else
            fprintf(out, "null");
        fprintf(out, ",\"cpu_wait_percent\":");
        if (r->broker_wait >= 0)
            fprintf(out, "%.1f", r->broker_wait);
        else
            fprintf(out, "null");
        fprintf(out,
                ",\"rss_kb_before\":%" PRIu64 ",\"rss_kb_after\":%" PRIu64
                ",\"rss_per_connection_bytes\":",
                rr->broker0.rss_kb, after->rss_kb);
        if (after->ok && r->connected)
            fprintf(out, "%.0f}",
                    ((double)after->rss_kb - (double)rr->broker0.rss_kb) * 1024.0 / r->connected);
        else
            fprintf(out, "null}");
    } else {
        fprintf(out, "null");
    }
    fprintf(out, ",\"bench_cpu_percent\":");
    if (r->self_cpu >= 0)
        fprintf(out, "%.1f", r->self_cpu);
    else
        fprintf(out, "null");
    fprintf(out, ",\"bench_cpu_wait_percent\":");
    if (r->self_wait >= 0)
        fprintf(out, "%.1f", r->self_wait);
    else
        fprintf(out, "null");
    fprintf(out, ",\"qos_downgraded\":%s", r->downgraded ? "true" : "false");
    fprintf(out, ",\"drain_cut\":%s", rr->drain_cut ? "true" : "false");
    fprintf(out, ",\"interrupted\":%s,\"ok\":%s,\"error\":", rr->interrupted ? "true" : "false",
            r->ok ? "true" : "false");
    if (r->error)
        json_str(out, r->error);
    else
        fprintf(out, "null");
    fprintf(out, "}\n");
}

/* Errors on stderr, the report on stdout. Returns the exit status. */
static int report_print(const struct tn_bench *b, const struct run_result *rr,
                        const struct report *rep)
{
    if (rep->error)
        fprintf(stderr, PROG ": %s\n", rep->error);
    else if (rep->failed)
        fprintf(stderr, PROG ": %u connections failed\n", rep->failed);
    if (b->o.json)
        print_json(b, rr, rep);
    else if (!rep->error || rep->sent || (b->o.mode == TN_BENCH_IDLE && rep->connected))
        print_text(b, rr, rep);
    if (rep->downgraded)
        fprintf(stderr, PROG ": warning: the broker granted some subscriptions a QoS below %u\n",
                b->o.qos);
    if (!rep->ok && !rep->error && b->o.qos && rep->lost)
        fprintf(stderr, PROG ": %" PRIu64 " QoS %u messages lost\n", rep->lost, b->o.qos);
    if (!rep->ok && !rep->error && b->o.qos == 2 && rep->dups)
        fprintf(stderr, PROG ": %" PRIu64 " QoS 2 messages delivered twice\n", rep->dups);
    return rep->ok ? 0 : 1;
}

/* ---- entry point ---------------------------------------------------------------------- */

int tern_cmd_bench(int argc, char **argv)
{
    struct tn_bench *b;
    struct run_result rr;
    struct report *rep = NULL;
    unsigned nw = 0, started = 0;
    bool live;
    int status = 1, r;

    b = calloc(1, sizeof(*b));
    if (!b) {
        fprintf(stderr, PROG ": out of memory\n");
        return 1;
    }
    r = parse_opts(&b->o, argc, argv);
    if (r != 0) {
        if (r > 0)
            usage(stdout);
        free(b);
        return r > 0 ? 0 : EXIT_USAGE;
    }
    memset(&rr, 0, sizeof(rr));
    if (setup(b, &nw) < 0)
        goto out;
    live = isatty(STDERR_FILENO);
    signal(SIGINT, on_sigint);
    signal(SIGPIPE, SIG_IGN);
    rr.broker0 = proc_read(b->o.broker_pid);
    if (b->o.broker_pid && !rr.broker0.ok)
        fprintf(stderr, PROG ": warning: cannot read /proc/%d: %s\n", b->o.broker_pid,
                strerror(errno));
    rr.t_conn0 = tn_bench_now();
    rr.cpu0 = self_cpu_ns();
    rr.wait0 = self_wait_ns();
    for (started = 0; started < nw; started++) {
        r = pthread_create(&b->w[started].th, NULL, tn_bench_worker_main, &b->w[started]);
        if (r != 0) {
            fprintf(stderr, PROG ": cannot start a thread: %s\n", strerror(r));
            atomic_store(&b->fatal, true);
            break;
        }
    }
    if (started == nw && run_connect(b, nw, &rr, live) == 0) {
        if (b->o.mode == TN_BENCH_IDLE)
            run_idle(b, nw, &rr, live);
        else
            run_publish(b, nw, &rr, live);
    } else if (b->o.mode == TN_BENCH_IDLE && !rr.timed_out && !rr.interrupted &&
               !atomic_load(&b->fatal)) {
        /* Some idle clients failed: still report what the others measured. */
        rr.t_conn1 = tn_bench_now();
        rr.broker_conn = proc_read(b->o.broker_pid);
        rr.cpu1 = self_cpu_ns();
        rr.wait1 = self_wait_ns();
        rr.t_start = rr.t_pub_end = rr.t_end = rr.t_conn1;
    }
    set_phase(b, nw, TN_PH_STOP);
    for (unsigned i = 0; i < started; i++)
        pthread_join(b->w[i].th, NULL);
    signal(SIGINT, SIG_DFL);

    rep = malloc(sizeof(*rep));
    if (!rep) {
        fprintf(stderr, PROG ": out of memory\n");
        goto out;
    }
    report_build(b, nw, &rr, rep);
    status = report_print(b, &rr, rep);
out:
    for (unsigned i = 0; i < nw; i++)
        tn_bench_worker_fini(&b->w[i]);
    free(rep);
    free(b->w);
    free(b->pub_sent);
    free(b->sub_uniq);
    free(b);
    return status;
}
