/* SPDX-License-Identifier: MIT */
/*
 * tests/broker/harness.c - broker processes and raw MQTT clients for the broker tests (see
 * harness.h for the contract).
 *
 * Owns: the broker list and the client list below. They are file-level state because a test
 * binary is one process running one test at a time, and the lists are what lets the harness
 * clean up after a test that returned early on a failed TN_REQUIRE.
 * Thread: the test's main thread only.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct tb_frame {
    uint8_t *p;
    size_t n;
    struct tb_frame *next;
};

static const char *broker_path;
static bool broker_is_ternd = true;
static bool trace;
static const char *test_name = "?";
static bool test_failed;
static struct tb_broker *brokers; /* every running broker, shared one included */
static struct tb_broker *shared;
static struct tb_client *clients; /* open clients of the current test */

/* ---- run control ------------------------------------------------------------------------- */

void tb_fail(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "FAIL %s: ", test_name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    test_failed = true;
}

bool tb_failed(void)
{
    return test_failed;
}

int64_t tb_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void remove_all_brokers(void)
{
    while (brokers)
        tb_broker_stop(brokers);
}

int tb_init(int argc, char **argv)
{
    int first = 1;
    const char *env = getenv("TERN_TEST_BROKER");
    const char *kind = getenv("TERN_TEST_BROKER_KIND");

    /* argv[1] is the broker path when it looks like a path (ctest passes one); otherwise
     * it is a test name. */
    if (argc > 1 && strchr(argv[1], '/')) {
        broker_path = argv[1];
        first = 2;
    }
    if (env && *env)
        broker_path = env;
    if (!broker_path) {
        fprintf(stderr, "usage: %s BROKER_PATH [TEST] (or set TERN_TEST_BROKER)\n", argv[0]);
        exit(2);
    }
    if (kind && *kind)
        broker_is_ternd = strcmp(kind, "mosquitto") != 0;
    else {
        const char *base = strrchr(broker_path, '/');
        broker_is_ternd = !strstr(base ? base + 1 : broker_path, "mosquitto");
    }
    trace = getenv("TB_TRACE") && *getenv("TB_TRACE") == '1';
    signal(SIGPIPE, SIG_IGN);
    atexit(remove_all_brokers);
    return first;
}

bool tb_is_ternd(void)
{
    return broker_is_ternd;
}

void tb_test_begin(const char *name)
{
    test_name = name;
    test_failed = false;
}

bool tb_test_end(bool failed)
{
    while (clients)
        tb_close(clients);
    /* Stop this test's own brokers; check that the shared one is still alive. */
    for (struct tb_broker *b = brokers, *nx; b; b = nx) {
        nx = b->next;
        if (b->shared)
            continue;
        if (failed || test_failed)
            tb_broker_dump_log(b);
        if (!tb_broker_stop(b))
            tb_fail("broker stopped abnormally");
    }
    if (shared && !tb_broker_alive(shared)) {
        tb_fail("the shared broker died");
        tb_broker_stop(shared);
    } else if (shared && (failed || test_failed)) {
        tb_broker_dump_log(shared);
    }
    test_name = "?";
    return test_failed;
}

bool tb_finish(void)
{
    bool ok = true;
    test_name = "(exit)";
    if (shared)
        ok = tb_broker_stop(shared);
    return ok;
}

const char *tb_uniq(const char *s)
{
    static char bufs[16][256];
    static unsigned next;
    char *b = bufs[next++ % 16];
    snprintf(b, sizeof(bufs[0]), "%s/%s", test_name, s);
    return b;
}

bool tb_slice_eq(tern_slice s, const char *str)
{
    size_t n = strlen(str);
    return s.n == n && (n == 0 || memcmp(s.p, str, n) == 0);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

void tb_let_time_pass(int ms)
{
    sleep_ms(ms);
}

/* ---- brokers ----------------------------------------------------------------------------- */

static int free_port(void)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int port = -1;
    if (fd < 0)
        return -1;
    if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static int tcp_connect_buf(uint16_t port, int rcvbuf)
{
    struct sockaddr_in a = {
        .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    if (rcvbuf > 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = -errno;
        close(fd);
        return e;
    }
    return fd;
}

static int tcp_connect(uint16_t port)
{
    return tcp_connect_buf(port, 0);
}

bool tb_broker_alive(struct tb_broker *b)
{
    return b && b->pid > 0 && kill(b->pid, 0) == 0 && waitpid(b->pid, NULL, WNOHANG) == 0;
}

void tb_broker_dump_log(struct tb_broker *b)
{
    char path[300], buf[4097];
    snprintf(path, sizeof(path), "%s/broker.log", b->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    long end = ftell(f);
    fseek(f, end > 4096 ? end - 4096 : 0, SEEK_SET);
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    fprintf(stderr, "---- broker log tail (%s, port %u) ----\n%s---- end of broker log ----\n",
            b->dir, b->port, buf);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void broker_unlink(struct tb_broker *b)
{
    for (struct tb_broker **pp = &brokers; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    if (shared == b)
        shared = NULL;
}

bool tb_broker_stop(struct tb_broker *b)
{
    bool ok = true;
    int status = 0;
    if (!b)
        return true;
    broker_unlink(b);
    if (b->pid > 0) {
        pid_t r = waitpid(b->pid, &status, WNOHANG);
        if (r == b->pid) {
            fprintf(stderr, "broker (port %u) had exited before the end of %s: status %#x\n",
                    b->port, test_name, status);
            ok = false;
        } else {
            kill(b->pid, SIGTERM);
            int64_t deadline = tb_now_ms() + 5000;
            while ((r = waitpid(b->pid, &status, WNOHANG)) == 0 && tb_now_ms() < deadline)
                sleep_ms(10); /* polling for the exit, bounded by the deadline */
            if (r == 0) {
                fprintf(stderr, "broker (port %u) ignored SIGTERM for 5 s; SIGKILL\n", b->port);
                kill(b->pid, SIGKILL);
                waitpid(b->pid, &status, 0);
                ok = false;
            } else if (!(WIFEXITED(status) && WEXITSTATUS(status) == 0) &&
                       !(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM)) {
                fprintf(stderr, "broker (port %u) exited abnormally on SIGTERM: status %#x\n",
                        b->port, status);
                ok = false;
            }
        }
    }
    if (!ok)
        tb_broker_dump_log(b);
    if (b->dir[0])
        nftw(b->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(b);
    return ok;
}

struct tb_broker *tb_broker_start(const char *extra, const char *tern_extra)
{
    struct tb_broker *b = calloc(1, sizeof(*b));
    char conf[300], log[300];
    int port = free_port();
    if (!b || port <= 0) {
        tb_fail("no memory or no free port");
        free(b);
        return NULL;
    }
    b->port = (uint16_t)port;
    snprintf(b->dir, sizeof(b->dir), "/tmp/tb-broker-XXXXXX");
    if (!mkdtemp(b->dir)) {
        tb_fail("mkdtemp: %s", strerror(errno));
        free(b);
        return NULL;
    }
    b->next = brokers;
    brokers = b;
    snprintf(conf, sizeof(conf), "%s/broker.conf", b->dir);
    snprintf(log, sizeof(log), "%s/broker.log", b->dir);
    FILE *f = fopen(conf, "w");
    if (!f) {
        tb_fail("cannot write %s", conf);
        tb_broker_stop(b);
        return NULL;
    }
    fprintf(f, "listener %u 127.0.0.1\nallow_anonymous true\n", b->port);
    if (extra)
        fprintf(f, "%s\n", extra);
    if (tern_extra && broker_is_ternd)
        fprintf(f, "%s\n", tern_extra);
    fclose(f);

    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        tb_fail("fork: %s", strerror(errno));
        tb_broker_stop(b);
        return NULL;
    }
    if (pid == 0) {
        /* The broker must not outlive a test that crashed or was killed by ctest. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
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
        execl(broker_path, broker_path, "-c", conf, (char *)NULL);
        fprintf(stderr, "exec %s: %s\n", broker_path, strerror(errno));
        _exit(127);
    }
    b->pid = pid;

    /* Poll until the port accepts a connection or the broker exits (10 s). */
    int64_t deadline = tb_now_ms() + 10000;
    for (;;) {
        int fd = tcp_connect(b->port);
        if (fd >= 0) {
            close(fd);
            return b;
        }
        if (!tb_broker_alive(b) || tb_now_ms() > deadline) {
            tb_fail("broker %s did not start listening on 127.0.0.1:%u", broker_path, b->port);
            tb_broker_dump_log(b);
            tb_broker_stop(b);
            return NULL;
        }
        sleep_ms(10);
    }
}

struct tb_broker *tb_shared(void)
{
    if (!shared) {
        shared = tb_broker_start(NULL, "workers 2");
        if (shared)
            shared->shared = true;
    }
    return shared;
}

/* ---- raw clients ------------------------------------------------------------------------- */

static void trace_frame(struct tb_client *c, const char *dir, const uint8_t *p, size_t n)
{
    if (!trace)
        return;
    fprintf(stderr, "  [%s %s %s %zu]", c->name, dir, n ? tern_ptype_name(p[0] >> 4) : "-", n);
    for (size_t i = 0; i < n && i < 48; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, n > 48 ? " ...\n" : "\n");
}

struct tb_client *tb_open(struct tb_broker *b, uint8_t version, const char *name)
{
    return tb_open_rcvbuf(b, version, name, 0);
}

struct tb_client *tb_open_rcvbuf(struct tb_broker *b, uint8_t version, const char *name, int rcvbuf)
{
    if (!b)
        return NULL;
    int fd = tcp_connect_buf(b->port, rcvbuf);
    if (fd < 0) {
        tb_fail("connect to port %u: %s", b->port, strerror(-fd));
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    struct tb_client *c = calloc(1, sizeof(*c));
    if (!c) {
        close(fd);
        return NULL;
    }
    c->fd = fd;
    c->version = version ? version : TERN_V311;
    c->next_pid = 1;
    snprintf(c->name, sizeof(c->name), "%s", name ? name : "client");
    c->next = clients;
    clients = c;
    return c;
}

void tb_close(struct tb_client *c)
{
    if (!c)
        return;
    for (struct tb_client **pp = &clients; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            break;
        }
    if (c->fd >= 0)
        close(c->fd);
    while (c->stash) {
        struct tb_frame *f = c->stash;
        c->stash = f->next;
        free(f->p);
        free(f);
    }
    free(c->rbuf);
    free(c->cur);
    free(c);
}

int tb_send_raw(struct tb_client *c, const void *p, size_t n)
{
    const uint8_t *b = p;
    int64_t deadline = tb_now_ms() + TB_WAIT_MS;
    trace_frame(c, "->", b, n);
    while (n) {
        ssize_t w = send(c->fd, b, n, MSG_NOSIGNAL);
        if (w > 0) {
            b += w;
            n -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            int left = (int)(deadline - tb_now_ms());
            struct pollfd pfd = {.fd = c->fd, .events = POLLOUT};
            if (left <= 0 || poll(&pfd, 1, left) == 0)
                return -ETIMEDOUT;
            continue;
        }
        return -errno;
    }
    return 0;
}

size_t tb_encode(const struct tern_packet *pkt, uint8_t version, uint8_t *out, size_t cap)
{
    int n = tern_packet_encode(pkt, version, out, cap);
    if (n <= 0) {
        tb_fail("cannot encode %s: %s", tern_ptype_name(pkt->type), tern_strerror(n));
        return 0;
    }
    return (size_t)n;
}

int tb_send(struct tb_client *c, const struct tern_packet *pkt)
{
    int size = tern_packet_size(pkt, c->version);
    if (size <= 0) {
        tb_fail("%s: cannot encode %s: %s", c->name, tern_ptype_name(pkt->type),
                tern_strerror(size));
        return size < 0 ? size : -EINVAL;
    }
    uint8_t *b = malloc((size_t)size);
    if (!b)
        return -ENOMEM;
    int n = tern_packet_encode(pkt, c->version, b, (size_t)size);
    int r = n == size ? tb_send_raw(c, b, (size_t)n) : -EINVAL;
    free(b);
    return r;
}

/* Take a whole frame off the front of rbuf into a new tb_frame, or return NULL. */
static struct tb_frame *take_frame(struct tb_client *c, int *err)
{
    struct tern_frame f;
    uint8_t rc = 0;
    int r = tern_frame_peek(c->rbuf, c->rlen, 0, &f, &rc);
    *err = 0;
    if (r < 0) {
        *err = -EBADMSG;
        return NULL;
    }
    if (r == 0)
        return NULL;
    struct tb_frame *fr = calloc(1, sizeof(*fr));
    fr->p = malloc(f.size);
    if (!fr || !fr->p)
        abort();
    memcpy(fr->p, c->rbuf, f.size);
    fr->n = f.size;
    memmove(c->rbuf, c->rbuf + f.size, c->rlen - f.size);
    c->rlen -= f.size;
    trace_frame(c, "<-", fr->p, fr->n);
    return fr;
}

/* Read what the socket has, waiting up to `ms`. 1: got bytes; 0: timeout; -EPIPE: closed. */
static int fill(struct tb_client *c, int ms)
{
    if (c->closed)
        return -EPIPE;
    struct pollfd pfd = {.fd = c->fd, .events = POLLIN};
    int pr = poll(&pfd, 1, ms < 0 ? 0 : ms);
    if (pr <= 0)
        return 0;
    if (c->rcap - c->rlen < 65536) {
        size_t ncap = c->rcap ? c->rcap * 2 : 131072;
        uint8_t *nb = realloc(c->rbuf, ncap);
        if (!nb)
            abort();
        c->rbuf = nb;
        c->rcap = ncap;
    }
    ssize_t r = recv(c->fd, c->rbuf + c->rlen, c->rcap - c->rlen, 0);
    if (r > 0) {
        c->rlen += (size_t)r;
        return 1;
    }
    if (r < 0 && (errno == EAGAIN || errno == EINTR))
        return 1;
    c->closed = true;
    if (trace)
        fprintf(stderr, "  [%s closed: %s]\n", c->name, r == 0 ? "EOF" : strerror(errno));
    return -EPIPE;
}

/* Next frame from the socket (not the stash). */
static int read_frame(struct tb_client *c, struct tb_frame **out, int timeout_ms)
{
    int64_t deadline = tb_now_ms() + timeout_ms;
    for (;;) {
        int err;
        struct tb_frame *f = take_frame(c, &err);
        if (err) {
            tb_fail("%s: the broker sent a bad frame header", c->name);
            return err;
        }
        if (f) {
            *out = f;
            return 0;
        }
        int left = (int)(deadline - tb_now_ms());
        int r = fill(c, left < 0 ? 0 : left);
        if (r < 0)
            return r;
        if (r == 0)
            return -ETIMEDOUT;
    }
}

static int use_frame(struct tb_client *c, struct tb_frame *f, struct tern_packet *out)
{
    uint8_t rc = 0;
    free(c->cur);
    c->cur = f->p;
    c->cur_n = f->n;
    free(f);
    int r = tern_packet_decode(c->cur, c->cur_n, c->version, out, &rc);
    if (r < 0) {
        tb_fail("%s: the broker sent a frame that does not decode (%s, rc %#x): type %s", c->name,
                tern_strerror(r), rc, tern_ptype_name(c->cur[0] >> 4));
        return -EBADMSG;
    }
    return 0;
}

int tb_recv(struct tb_client *c, struct tern_packet *out, int timeout_ms)
{
    struct tb_frame *f;
    if (c->stash) {
        f = c->stash;
        c->stash = f->next;
        if (!c->stash)
            c->stash_tail = NULL;
        return use_frame(c, f, out);
    }
    int r = read_frame(c, &f, timeout_ms);
    if (r < 0)
        return r;
    return use_frame(c, f, out);
}

static bool has_frame(struct tb_client *c)
{
    struct tern_frame f;
    uint8_t rc;
    return c->stash || c->closed || tern_frame_peek(c->rbuf, c->rlen, 0, &f, &rc) != 0;
}

bool tb_wait_any(struct tb_client *const *cs, int n, int timeout_ms)
{
    int64_t deadline = tb_now_ms() + timeout_ms;
    struct pollfd pfd[16];
    if (n > 16)
        n = 16;
    for (;;) {
        for (int i = 0; i < n; i++) {
            if (has_frame(cs[i]))
                return true;
            pfd[i] = (struct pollfd){.fd = cs[i]->fd, .events = POLLIN};
        }
        int left = (int)(deadline - tb_now_ms());
        if (left < 0 || poll(pfd, (nfds_t)n, left) <= 0)
            return false;
        for (int i = 0; i < n; i++)
            if (pfd[i].revents && fill(cs[i], 0) < 0)
                return true;
    }
}

int tb_recv_frame(struct tb_client *c, int timeout_ms)
{
    struct tb_frame *f;
    if (c->stash) {
        f = c->stash;
        c->stash = f->next;
        if (!c->stash)
            c->stash_tail = NULL;
    } else {
        int r = read_frame(c, &f, timeout_ms);
        if (r < 0)
            return r;
    }
    free(c->cur);
    c->cur = f->p;
    c->cur_n = f->n;
    free(f);
    return 0;
}

int tb_recv_type(struct tb_client *c, uint8_t type, struct tern_packet *out, int timeout_ms)
{
    struct tb_frame *f, *prev = NULL;
    for (f = c->stash; f; prev = f, f = f->next)
        if (f->p[0] >> 4 == type) {
            if (prev)
                prev->next = f->next;
            else
                c->stash = f->next;
            if (c->stash_tail == f)
                c->stash_tail = prev;
            return use_frame(c, f, out);
        }
    int64_t deadline = tb_now_ms() + timeout_ms;
    for (;;) {
        int left = (int)(deadline - tb_now_ms());
        int r = read_frame(c, &f, left < 0 ? 0 : left);
        if (r < 0)
            return r;
        if (f->p[0] >> 4 == type)
            return use_frame(c, f, out);
        f->next = NULL;
        if (c->stash_tail)
            c->stash_tail->next = f;
        else
            c->stash = f;
        c->stash_tail = f;
    }
}

const uint8_t *tb_frame_bytes(struct tb_client *c, size_t *n)
{
    *n = c->cur_n;
    return c->cur;
}

static void dump_hex(const char *label, const uint8_t *p, size_t n)
{
    fprintf(stderr, "    %s (%zu):", label, n);
    for (size_t i = 0; i < n && i < 96; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, n > 96 ? " ...\n" : "\n");
}

bool tb_frame_is_bytes(struct tb_client *c, const void *want, size_t n)
{
    if (c->cur && c->cur_n == n && memcmp(c->cur, want, n) == 0)
        return true;
    tb_fail("%s: frame differs from the expected bytes", c->name);
    dump_hex("got ", c->cur, c->cur ? c->cur_n : 0);
    dump_hex("want", want, n);
    return false;
}

bool tb_frame_is(struct tb_client *c, const struct tern_packet *want)
{
    uint8_t buf[4096];
    size_t n = tb_encode(want, c->version, buf, sizeof(buf));
    return n && tb_frame_is_bytes(c, buf, n);
}

bool tb_expect_closed(struct tb_client *c, int timeout_ms)
{
    int64_t deadline = tb_now_ms() + timeout_ms;
    for (;;) {
        struct tb_frame *f;
        int left = (int)(deadline - tb_now_ms());
        int r = read_frame(c, &f, left < 0 ? 0 : left);
        if (r == -EPIPE)
            return true;
        if (r == -ETIMEDOUT)
            return false;
        if (r < 0) {
            /* Undecodable bytes: drop them and keep waiting for the close. */
            c->rlen = 0;
            continue;
        }
        fprintf(stderr, "  (%s: %s received while waiting for the close)\n", c->name,
                tern_ptype_name(f->p[0] >> 4));
        free(f->p);
        free(f);
    }
}

bool tb_expect_disconnect(struct tb_client *c, uint8_t rc, int timeout_ms)
{
    if (c->version == TERN_V5) {
        struct tern_packet p;
        int r = tb_recv(c, &p, timeout_ms);
        if (r == -EPIPE) {
            tb_fail("%s: closed without DISCONNECT (reason %#x expected)", c->name, rc);
            return false;
        }
        if (r < 0) {
            tb_fail("%s: no DISCONNECT %#x: %s", c->name, rc, strerror(-r));
            return false;
        }
        if (p.type != TERN_DISCONNECT) {
            tb_fail("%s: got %s instead of DISCONNECT %#x", c->name, tern_ptype_name(p.type), rc);
            return false;
        }
        if (p.u.disconnect.rc != rc) {
            tb_fail("%s: DISCONNECT reason %#x (%s), expected %#x (%s)", c->name, p.u.disconnect.rc,
                    tern_rc_name(p.u.disconnect.rc), rc, tern_rc_name(rc));
            return false;
        }
    }
    if (!tb_expect_closed(c, timeout_ms)) {
        tb_fail("%s: connection not closed (after reason %#x)", c->name, rc);
        return false;
    }
    return true;
}

bool tb_expect_nothing(struct tb_client *c, int ms)
{
    struct tern_packet p;
    if (c->stash) {
        fprintf(stderr, "  (%s: %s was received earlier)\n", c->name,
                tern_ptype_name(c->stash->p[0] >> 4));
        return false;
    }
    int r = tb_recv(c, &p, ms);
    if (r == -ETIMEDOUT)
        return true;
    if (r == 0)
        fprintf(stderr, "  (%s: unexpected %s)\n", c->name, tern_ptype_name(p.type));
    else
        fprintf(stderr, "  (%s: %s while expecting nothing)\n", c->name, strerror(-r));
    return false;
}

/* ---- MQTT helpers ------------------------------------------------------------------------ */

struct tb_client *tb_connect(struct tb_broker *b, const struct tb_conn_opts *o,
                             struct tern_packet *connack)
{
    struct tern_packet k = {.type = TERN_CONNECT}, ack;
    struct tern_connect *cn = &k.u.connect;
    uint8_t v = o->version ? o->version : TERN_V311;
    struct tb_client *c =
        tb_open_rcvbuf(b, v, o->client_id ? o->client_id : "(empty id)", o->rcvbuf);
    if (!c)
        return NULL;
    cn->version = v;
    cn->protocol_name = v == TERN_V31 ? TERN_SLICE_STR("MQIsdp") : TERN_SLICE_STR("MQTT");
    cn->clean = o->clean;
    cn->keep_alive = o->keepalive;
    if (o->props)
        cn->props = *o->props;
    cn->client_id = tern_slice_cstr(o->client_id);
    if (o->will_topic) {
        cn->will = true;
        cn->will_qos = o->will_qos;
        cn->will_retain = o->will_retain;
        cn->will_topic = tern_slice_cstr(o->will_topic);
        cn->will_payload = tern_slice_cstr(o->will_payload ? o->will_payload : "");
        if (o->will_props)
            cn->will_props = *o->will_props;
    }
    if (o->username) {
        cn->has_username = true;
        cn->username = tern_slice_cstr(o->username);
    }
    if (o->password) {
        cn->has_password = true;
        cn->password = tern_slice_cstr(o->password);
    }
    if (tb_send(c, &k) < 0) {
        tb_fail("%s: cannot send CONNECT", c->name);
        return NULL;
    }
    int r = tb_recv(c, connack ? connack : &ack, TB_WAIT_MS);
    if (r < 0 || (connack ? connack : &ack)->type != TERN_CONNACK) {
        tb_fail("%s: no CONNACK (%s)", c->name, r < 0 ? strerror(-r) : "other packet");
        tb_close(c);
        return NULL;
    }
    return c;
}

struct tb_client *tb_connect_ok(struct tb_broker *b, uint8_t version, const char *client_id,
                                bool clean, uint16_t keepalive, const struct tern_props *props)
{
    struct tern_packet ack;
    struct tb_conn_opts o = {.version = version,
                             .client_id = client_id,
                             .clean = clean,
                             .keepalive = keepalive,
                             .props = props};
    struct tb_client *c = tb_connect(b, &o, &ack);
    if (c && ack.u.connack.rc != 0) {
        tb_fail("%s: CONNACK code %#x", c->name, ack.u.connack.rc);
        tb_close(c);
        return NULL;
    }
    return c;
}

struct tb_client *tb_client(struct tb_broker *b, uint8_t version, const char *name)
{
    return tb_connect_ok(b, version, tb_uniq(name), true, 60, NULL);
}

static uint16_t take_pid(struct tb_client *c)
{
    uint16_t id = c->next_pid++;
    if (c->next_pid == 0)
        c->next_pid = 1;
    return id;
}

int tb_subscribe(struct tb_client *c, const char *filter, uint8_t opts, uint32_t sub_id)
{
    struct tern_sub_entry e = {.filter = tern_slice_cstr(filter),
                               .qos = opts & 3,
                               .no_local = opts >> 2 & 1,
                               .retain_as_published = opts >> 3 & 1,
                               .retain_handling = opts >> 4 & 3};
    struct tern_packet k = {.type = TERN_SUBSCRIBE}, ack;
    if (!c)
        return -EINVAL;
    k.u.subscribe.packet_id = take_pid(c);
    k.u.subscribe.count = 1;
    k.u.subscribe.list = &e;
    if (sub_id) {
        tern_props_set(&k.u.subscribe.props, TERN_PROP_SUBSCRIPTION_IDENTIFIER);
        k.u.subscribe.props.sub_id = sub_id;
        k.u.subscribe.props.sub_id_n = 1;
    }
    if (tb_send(c, &k) < 0)
        return -EIO;
    int r = tb_recv_type(c, TERN_SUBACK, &ack, TB_WAIT_MS);
    if (r < 0) {
        tb_fail("%s: no SUBACK for %s: %s", c->name, filter, strerror(-r));
        return r;
    }
    if (ack.u.suback.packet_id != k.u.subscribe.packet_id || ack.u.suback.rcs.n != 1) {
        tb_fail("%s: SUBACK id %u (want %u) with %zu codes", c->name, ack.u.suback.packet_id,
                k.u.subscribe.packet_id, ack.u.suback.rcs.n);
        return -EBADMSG;
    }
    return ack.u.suback.rcs.p[0];
}

int tb_unsubscribe(struct tb_client *c, const char *filter)
{
    struct tern_sub_entry e = {.filter = tern_slice_cstr(filter)};
    struct tern_packet k = {.type = TERN_UNSUBSCRIBE}, ack;
    k.u.subscribe.packet_id = take_pid(c);
    k.u.subscribe.count = 1;
    k.u.subscribe.list = &e;
    if (tb_send(c, &k) < 0)
        return -EIO;
    int r = tb_recv_type(c, TERN_UNSUBACK, &ack, TB_WAIT_MS);
    if (r < 0) {
        tb_fail("%s: no UNSUBACK for %s: %s", c->name, filter, strerror(-r));
        return r;
    }
    if (ack.u.suback.packet_id != k.u.subscribe.packet_id) {
        tb_fail("%s: UNSUBACK id %u, want %u", c->name, ack.u.suback.packet_id,
                k.u.subscribe.packet_id);
        return -EBADMSG;
    }
    if (c->version == TERN_V5)
        return ack.u.suback.rcs.n == 1 ? ack.u.suback.rcs.p[0] : -EBADMSG;
    return 0;
}

/* Wait for an ack of `type` with packet id `pid`; returns its reason code or negative. */
static int wait_ack(struct tb_client *c, uint8_t type, uint16_t pid)
{
    struct tern_packet a;
    int r = tb_recv_type(c, type, &a, TB_WAIT_MS);
    if (r < 0) {
        tb_fail("%s: no %s for packet id %u: %s", c->name, tern_ptype_name(type), pid,
                strerror(-r));
        return r;
    }
    if (a.u.ack.packet_id != pid) {
        tb_fail("%s: %s for packet id %u, expected %u", c->name, tern_ptype_name(type),
                a.u.ack.packet_id, pid);
        return -EBADMSG;
    }
    return a.u.ack.rc;
}

int tb_publish(struct tb_client *c, const char *topic, const void *payload, size_t n, uint8_t qos,
               bool retain, const struct tern_props *props)
{
    struct tern_packet k = {.type = TERN_PUBLISH};
    if (!c)
        return -EINVAL;
    k.u.publish.qos = qos;
    k.u.publish.retain = retain;
    k.u.publish.topic = tern_slice_cstr(topic);
    k.u.publish.payload = (tern_slice){payload, n};
    if (props)
        k.u.publish.props = *props;
    if (qos)
        k.u.publish.packet_id = take_pid(c);
    if (tb_send(c, &k) < 0)
        return -EIO;
    if (qos == 1)
        return wait_ack(c, TERN_PUBACK, k.u.publish.packet_id);
    if (qos == 2) {
        int rc = wait_ack(c, TERN_PUBREC, k.u.publish.packet_id);
        if (rc < 0 || rc >= 0x80)
            return rc;
        struct tern_packet rel = {.type = TERN_PUBREL};
        rel.u.ack.packet_id = k.u.publish.packet_id;
        if (tb_send(c, &rel) < 0)
            return -EIO;
        int rc2 = wait_ack(c, TERN_PUBCOMP, k.u.publish.packet_id);
        return rc2 < 0 ? rc2 : (rc2 ? rc2 : rc);
    }
    return 0;
}

int tb_publish_str(struct tb_client *c, const char *topic, const char *payload, uint8_t qos,
                   bool retain)
{
    return tb_publish(c, topic, payload, strlen(payload), qos, retain, NULL);
}

int tb_recv_publish(struct tb_client *c, struct tern_packet *out, int timeout_ms)
{
    return tb_recv_type(c, TERN_PUBLISH, out, timeout_ms);
}

int tb_ack(struct tb_client *c, const struct tern_packet *pub)
{
    uint8_t qos = pub->u.publish.qos;
    uint16_t pid = pub->u.publish.packet_id;
    struct tern_packet k = {0};
    if (qos == 0)
        return 0;
    k.type = qos == 1 ? TERN_PUBACK : TERN_PUBREC;
    k.u.ack.packet_id = pid;
    if (tb_send(c, &k) < 0)
        return -EIO;
    if (qos == 1)
        return 0;
    int r = wait_ack(c, TERN_PUBREL, pid);
    if (r < 0)
        return r;
    k.type = TERN_PUBCOMP;
    return tb_send(c, &k);
}

void tb_disconnect(struct tb_client *c, uint8_t rc)
{
    struct tern_packet k = {.type = TERN_DISCONNECT};
    if (!c)
        return;
    k.u.disconnect.rc = rc;
    /* Half-close and wait for the broker to close: closing with unread bytes would reset the
     * connection, and the broker might then never see the DISCONNECT. */
    if (tb_send(c, &k) == 0 && shutdown(c->fd, SHUT_WR) == 0) {
        int64_t deadline = tb_now_ms() + TB_WAIT_MS;
        while (fill(c, (int)(deadline - tb_now_ms())) > 0 && tb_now_ms() < deadline)
            c->rlen = 0;
    }
    tb_close(c);
}
