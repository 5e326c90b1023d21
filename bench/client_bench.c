/* SPDX-License-Identifier: MIT */
/*
 * bench/client_bench.c - libtern against libmosquitto (Debian libmosquitto-dev): one client,
 * one local mosquitto broker started here on a free 127.0.0.1 port, 64-byte payloads, QoS 1.
 * Reports the client process's CPU time per acknowledged message (the broker is another
 * process, so it is not counted), throughput with 10k vs 1M messages queued at once, across
 * in-flight windows 10..65535, with and without the durable store, and heap per idle
 * connected client. Not a test: figures only mean something in a Release build.
 *
 * Usage: client_bench [--quick] [--compare (only libtern vs libmosquitto)] [--mosquitto PATH]
 *                     [--window W (--compare: only this window)] [--n N (messages per run)]
 * CPU time is the process's user + system time (getrusage), printed split as "(u+s)".
 * Owns: the broker it starts (SIGKILLed at exit). Thread: main (fd mode for both libraries).
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tern/client.h"
#ifdef TN_HAVE_MOSQUITTO
#include <mosquitto.h>
#endif

static pid_t broker;
static int port;
static char dir[64];

/* user and system CPU seconds of this process so far */
static void cpu_s(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

static double now_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void kill_broker(void)
{
    if (broker > 0) {
        kill(broker, SIGKILL);
        waitpid(broker, NULL, 0);
        broker = 0;
    }
    if (dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd)) {
        }
    }
}

static int start_broker(const char *path)
{
    snprintf(dir, sizeof dir, "/tmp/tern-client-bench-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &l);
    close(fd);
    port = ntohs(a.sin_port);
    char conf[128];
    snprintf(conf, sizeof conf, "%s/m.conf", dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    fprintf(f, "listener %d 127.0.0.1\nallow_anonymous true\nmax_connections -1\n%s", port,
            getuid() == 0 ? "user root\n" : "");
    fclose(f);
    broker = fork();
    if (broker == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int nul = open("/dev/null", O_WRONLY);
        dup2(nul, 1);
        dup2(nul, 2);
        execl(path, "mosquitto", "-c", conf, (char *)NULL);
        _exit(127);
    }
    atexit(kill_broker);
    for (int i = 0; i < 500; i++) {
        int s = socket(AF_INET, SOCK_STREAM, 0);
        a.sin_port = htons((uint16_t)port);
        int ok = connect(s, (struct sockaddr *)&a, sizeof a) == 0;
        close(s);
        if (ok)
            return 0;
        poll(NULL, 0, 10);
    }
    return -1;
}

/* ---- libtern ---------------------------------------------------------------------------- */

struct tctx {
    long acked;
    bool connected;
};

static void t_pub(tern_client *c, void *ud, const struct tern_publish_event *ev)
{
    (void)c;
    (void)ev;
    ((struct tctx *)ud)->acked++;
}
static void t_conn(tern_client *c, void *ud, const struct tern_connect_event *ev)
{
    (void)c;
    ((struct tctx *)ud)->connected = ev->rc == 0;
}

struct result {
    double cpu_us_per_msg, msgs_per_s;
    double user_us, sys_us; /* per message */
};

struct meter {
    double u, s, t;
};

static void meter_start(struct meter *m)
{
    cpu_s(&m->u, &m->s);
    m->t = now_s(CLOCK_MONOTONIC);
}

static void meter_stop(const struct meter *m, long n, struct result *r)
{
    double u, s, t = now_s(CLOCK_MONOTONIC);
    cpu_s(&u, &s);
    r->user_us = (u - m->u) * 1e6 / (double)n;
    r->sys_us = (s - m->s) * 1e6 / (double)n;
    r->cpu_us_per_msg = r->user_us + r->sys_us;
    r->msgs_per_s = (double)n / (t - m->t);
}

/* n messages at QoS 1; `upfront`: all queued before connecting, else paced (<= 2 windows
 * outstanding). store: a store directory or NULL. */
static int run_tern(long n, unsigned window, bool upfront, const char *store, struct result *r)
{
    struct tctx x = {0};
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.port = (uint16_t)port;
    o.client_id = "bench-tern";
    o.max_inflight = (uint16_t)window;
    o.max_queued = (size_t)n + 1;
    o.max_queued_bytes = (size_t)n * 128 + 1024;
    o.store_dir = store;
    o.cb.on_publish = t_pub;
    o.cb.on_connect = t_conn;
    o.user_data = &x;
    tern_client *c;
    if (tern_client_new(&o, &c)) {
        fprintf(stderr, "tern: %s\n", tern_client_last_error());
        return -1;
    }
    static const char payload[64] = "0123456789012345678901234567890123456789012345678901234567890";
    struct meter mt;
    meter_start(&mt);
    long sent = 0;
    if (upfront)
        for (; sent < n; sent++)
            if (tern_client_publish(c, "bench/tern", payload, 64, 1, false, NULL, NULL))
                return -1;
    tern_client_connect(c);
    while (x.acked < n) {
        while (sent < n && sent - x.acked < 2L * window) {
            if (tern_client_publish(c, "bench/tern", payload, 64, 1, false, NULL, NULL))
                return -1;
            sent++;
        }
        tern_client_run(c, 100);
    }
    meter_stop(&mt, n, r);
    tern_client_free(c);
    return 0;
}

#ifdef TN_HAVE_MOSQUITTO
static void m_pub(struct mosquitto *m, void *ud, int mid)
{
    (void)m;
    (void)mid;
    ((struct tctx *)ud)->acked++;
}

static int run_mosq(long n, unsigned window, struct result *r)
{
    struct tctx x = {0};
    mosquitto_lib_init();
    struct mosquitto *m = mosquitto_new("bench-mosq", true, &x);
    if (!m)
        return -1;
    mosquitto_max_inflight_messages_set(m, window);
    mosquitto_publish_callback_set(m, m_pub);
    static const char payload[64] = "0123456789012345678901234567890123456789012345678901234567890";
    struct meter mt;
    meter_start(&mt);
    if (mosquitto_connect(m, "127.0.0.1", port, 60) != MOSQ_ERR_SUCCESS)
        return -1;
    long sent = 0;
    while (x.acked < n) {
        while (sent < n && sent - x.acked < 2L * window) {
            if (mosquitto_publish(m, NULL, "bench/mosq", 64, payload, 1, false))
                return -1;
            sent++;
        }
        mosquitto_loop(m, 100, 1);
    }
    meter_stop(&mt, n, r);
    mosquitto_disconnect(m);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    return 0;
}
#endif

/* Heap per connected idle client (after its buffers were released). */
static double idle_bytes(int count)
{
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    if ((rlim_t)count + 64 > rl.rlim_cur)
        count = (int)rl.rlim_cur - 64;
    if (count < 1 || count > 100000)
        return 0;
    tern_client **cs = calloc((size_t)count, sizeof *cs);
    struct tctx *xs = calloc((size_t)count, sizeof *xs);
    char id[32];
    size_t before = mallinfo2().uordblks;
    for (int i = 0; i < count; i++) {
        struct tern_client_opts o;
        tern_client_opts_init(&o);
        o.port = (uint16_t)port;
        snprintf(id, sizeof id, "idle-%d", i);
        o.client_id = id;
        o.cb.on_connect = t_conn;
        o.user_data = &xs[i];
        if (tern_client_new(&o, &cs[i]))
            return -1;
        tern_client_connect(cs[i]);
    }
    /* drive all until connected (poll over every fd: no select, no fd limit) */
    struct pollfd *pf = calloc((size_t)count, sizeof *pf);
    for (int round = 0; round < 2000; round++) {
        int done = 0;
        for (int i = 0; i < count; i++) {
            pf[i].fd = tern_client_fd(cs[i]);
            unsigned w = tern_client_want(cs[i]);
            pf[i].events =
                (short)((w & TERN_WANT_READ ? POLLIN : 0) | (w & TERN_WANT_WRITE ? POLLOUT : 0));
            pf[i].revents = 0;
            done += xs[i].connected;
        }
        if (done == count)
            break;
        poll(pf, (nfds_t)count, 10);
        for (int i = 0; i < count; i++)
            if (pf[i].revents)
                tern_client_process(
                    cs[i], (pf[i].revents & (POLLIN | POLLHUP | POLLERR) ? TERN_WANT_READ : 0) |
                               (pf[i].revents & POLLOUT ? TERN_WANT_WRITE : 0));
    }
    int connected = 0;
    for (int i = 0; i < count; i++)
        connected += xs[i].connected;
    size_t after = mallinfo2().uordblks;
    for (int i = 0; i < count; i++)
        tern_client_free(cs[i]);
    free(pf);
    free(cs);
    free(xs);
    if (connected != count)
        fprintf(stderr, "idle: only %d of %d connected\n", connected, count);
    return (double)(after - before) / count;
}

int main(int argc, char **argv)
{
    bool quick = false, compare = false, store_only = false;
    const char *mpath = "/usr/sbin/mosquitto";
    unsigned only_w = 0;
    long nopt = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--quick"))
            quick = true;
        else if (!strcmp(argv[i], "--compare"))
            compare = true;
        else if (!strcmp(argv[i], "--store"))
            store_only = true;
        else if (!strcmp(argv[i], "--mosquitto") && i + 1 < argc)
            mpath = argv[++i];
        else if (!strcmp(argv[i], "--window") && i + 1 < argc)
            only_w = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--n") && i + 1 < argc)
            nopt = strtol(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: client_bench [--quick] [--compare] [--store] [--mosquitto PATH] "
                    "[--window W] [--n N]\n"
                    "  --store: only the store rows (no store / store, upfront and paced)\n"
                    "  env TN_BENCH_ONLY_TERN / TN_BENCH_ONLY_MOSQ: run one library\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    if (start_broker(mpath)) {
        fprintf(stderr, "client_bench: cannot start mosquitto (%s)\n", mpath);
        return 1;
    }
    long n = nopt > 0 ? nopt : quick ? 2000 : 200000;
    struct result r, m;
    printf("libtern client bench (QoS 1, 64-byte payloads, one client, mosquitto broker)\n");
    unsigned cw[] = {20, 100, 1000};
    for (int w = 0; w < 3 && !store_only; w++) {
        if (only_w) {
            if (w)
                break;
            cw[0] = only_w;
        }
        char name[64];
        if (!getenv("TN_BENCH_ONLY_MOSQ")) {
            if (run_tern(n, cw[w], false, NULL, &r))
                return 1;
            snprintf(name, sizeof name, "libtern      window %u", cw[w]);
            printf("%-44s %8.2f us CPU/msg %10.0f msg/s (%.2f+%.2f)\n", name, r.cpu_us_per_msg,
                   r.msgs_per_s, r.user_us, r.sys_us);
        }
        if (getenv("TN_BENCH_ONLY_TERN"))
            continue;
#ifdef TN_HAVE_MOSQUITTO
        if (run_mosq(n, cw[w], &m))
            return 1;
        snprintf(name, sizeof name, "libmosquitto window %u", cw[w]);
        printf("%-44s %8.2f us CPU/msg %10.0f msg/s (%.2f+%.2f)\n", name, m.cpu_us_per_msg,
               m.msgs_per_s, m.user_us, m.sys_us);
        printf("CPU ratio libtern/libmosquitto (window %u): %.2f\n", cw[w],
               r.cpu_us_per_msg / m.cpu_us_per_msg);
#else
        (void)m;
        printf("(libmosquitto-dev not found at build time: no comparison)\n");
#endif
    }
    if (compare)
        return 0;
    long sizes[2] = {quick ? 1000 : 10000, quick ? 10000 : 1000000};
    for (int i = 0; i < 2 && !store_only; i++) {
        if (run_tern(sizes[i], 100, true, NULL, &r))
            return 1;
        char name[64];
        snprintf(name, sizeof name, "libtern      %ld queued at once", sizes[i]);
        printf("%-44s %8.2f us CPU/msg %10.0f msg/s\n", name, r.cpu_us_per_msg, r.msgs_per_s);
    }
    unsigned windows[] = {10, 100, 1000, 65535};
    for (int i = 0; i < 4 && !store_only; i++) {
        if (run_tern(n, windows[i], true, NULL, &r))
            return 1;
        char name[64];
        snprintf(name, sizeof name, "libtern      window %u", windows[i]);
        printf("%-44s %8.2f us CPU/msg %10.0f msg/s\n", name, r.cpu_us_per_msg, r.msgs_per_s);
    }
    char store[96];
    snprintf(store, sizeof store, "%s/store", dir);
    struct result s0, s1;
    if (run_tern(n, 100, true, NULL, &s0) || run_tern(n, 100, true, store, &s1))
        return 1;
    printf("%-44s %8.2f us CPU/msg %10.0f msg/s\n", "libtern      no store", s0.cpu_us_per_msg,
           s0.msgs_per_s);
    printf("%-44s %8.2f us CPU/msg %10.0f msg/s\n", "libtern      store (sync batch)",
           s1.cpu_us_per_msg, s1.msgs_per_s);
    printf("store slowdown: %.2fx\n", s0.msgs_per_s / s1.msgs_per_s);
    /* paced: every loop turn appends new records (the group commit syncs them per interval) */
    snprintf(store, sizeof store, "%s/store-paced", dir);
    if (run_tern(n, 100, false, NULL, &s0) || run_tern(n, 100, false, store, &s1))
        return 1;
    printf("%-44s %8.2f us CPU/msg %10.0f msg/s\n", "libtern      no store, paced",
           s0.cpu_us_per_msg, s0.msgs_per_s);
    printf("%-44s %8.2f us CPU/msg %10.0f msg/s\n", "libtern      store (sync batch), paced",
           s1.cpu_us_per_msg, s1.msgs_per_s);
    printf("store slowdown, paced: %.2fx\n", s0.msgs_per_s / s1.msgs_per_s);
    if (store_only)
        return 0;
    int idle = quick ? 50 : 1000;
    printf("heap per idle connected client (%d clients): %.0f bytes\n", idle, idle_bytes(idle));
    return 0;
}
