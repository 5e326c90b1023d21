/* SPDX-License-Identifier: MIT */
/*
 * tests/client/tc_util.h - helpers for libtern's tests: start/stop Debian's mosquitto on a
 * free 127.0.0.1 port with a config file, drive a client until a condition holds (with a
 * deadline, never a blind sleep), run a command and capture its output.
 *
 * Owns: the broker processes it starts (each killed by tc_broker_stop, at exit, and - through
 * PR_SET_PDEATHSIG - when the test process dies). Thread: the test's main thread.
 */
#ifndef TC_UTIL_H
#define TC_UTIL_H

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tern/client.h"

static inline long long tc_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int tc_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(a.sin_port);
}

static inline bool tc_port_open(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bool ok = fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    if (fd >= 0)
        close(fd);
    return ok;
}

struct tc_broker {
    pid_t pid;
    int port;
    char dir[64];
    char extra[2048];
};

#define TC_MAX_PIDS 16
static pid_t tc_pids_[TC_MAX_PIDS];

static inline void tc_kill_all_(void)
{
    for (int i = 0; i < TC_MAX_PIDS; i++)
        if (tc_pids_[i] > 0) {
            kill(tc_pids_[i], SIGKILL);
            waitpid(tc_pids_[i], NULL, 0);
            tc_pids_[i] = 0;
        }
}

static inline void tc_track_(pid_t p, bool add)
{
    static bool reg;
    if (!reg) {
        atexit(tc_kill_all_);
        reg = true;
    }
    for (int i = 0; i < TC_MAX_PIDS; i++)
        if (add ? tc_pids_[i] == 0 : tc_pids_[i] == p) {
            tc_pids_[i] = add ? p : 0;
            return;
        }
}

/* Spawn argv with stdout/stderr to the given file (NULL: /dev/null). Dies with the test. */
static inline pid_t tc_spawn(char *const argv[], const char *out)
{
    pid_t p = fork();
    if (p == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execvp(argv[0], argv);
        _exit(127);
    }
    if (p > 0)
        tc_track_(p, true);
    return p;
}

static inline void tc_reap(pid_t p)
{
    tc_track_(p, false);
}

/* (Re)start mosquitto on b->port (chosen now if 0) with b->extra config lines. */
static inline bool tc_broker_start(struct tc_broker *b)
{
    if (!b->dir[0]) {
        snprintf(b->dir, sizeof b->dir, "/tmp/tern-client-test-XXXXXX");
        if (!mkdtemp(b->dir))
            return false;
    }
    if (!b->port)
        b->port = tc_free_port();
    char conf[128], log[128];
    snprintf(conf, sizeof conf, "%s/mosquitto.conf", b->dir);
    snprintf(log, sizeof log, "%s/mosquitto.log", b->dir);
    FILE *f = fopen(conf, "w");
    if (!f)
        return false;
    fprintf(f,
            "listener %d 127.0.0.1\nallow_anonymous true\npersistence true\n"
            "persistence_location %s/\nmax_queued_messages 100000\n%s%s\n",
            b->port, b->dir, getuid() == 0 ? "user root\n" : "", b->extra);
    fclose(f);
#ifndef TC_MOSQUITTO
#define TC_MOSQUITTO "mosquitto"
#endif
    char *argv[] = {TC_MOSQUITTO, "-c", conf, NULL};
    b->pid = tc_spawn(argv, log);
    long long until = tc_now_ms() + 10000;
    while (tc_now_ms() < until) {
        if (tc_port_open(b->port))
            return true;
        int st;
        if (waitpid(b->pid, &st, WNOHANG) == b->pid) {
            tc_reap(b->pid);
            b->pid = 0;
            fprintf(stderr, "mosquitto exited; see %s\n", log);
            return false;
        }
        poll(NULL, 0, 20);
    }
    return false;
}

/* SIGTERM (mosquitto saves its persistence file) and wait. */
static inline void tc_broker_stop(struct tc_broker *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        waitpid(b->pid, NULL, 0);
        tc_reap(b->pid);
        b->pid = 0;
    }
}

static inline void tc_broker_cleanup(struct tc_broker *b)
{
    tc_broker_stop(b);
    if (b->dir[0] && getenv("TC_KEEP")) {
        fprintf(stderr, "kept %s\n", b->dir);
        return;
    }
    if (b->dir[0]) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", b->dir);
        if (system(cmd)) {
        }
        b->dir[0] = 0;
    }
}

/* Drive c (fd mode) until *flag becomes true or ms pass. */
static inline bool tc_run_until(tern_client *c, volatile bool *flag, int ms)
{
    long long until = tc_now_ms() + ms;
    while (!*flag && tc_now_ms() < until)
        tern_client_run(c, 20);
    return *flag;
}

/* Drive two clients. */
static inline bool tc_run2_until(tern_client *a, tern_client *b, bool (*cond)(void *), void *arg,
                                 int ms)
{
    long long until = tc_now_ms() + ms;
    while (!cond(arg) && tc_now_ms() < until) {
        if (a)
            tern_client_run(a, b ? 5 : 20);
        if (b)
            tern_client_run(b, a ? 5 : 20);
    }
    return cond(arg);
}

/* Wait until a file contains at least `lines` lines (or ms pass); returns its content. */
static inline char *tc_wait_lines(const char *path, int lines, int ms)
{
    long long until = tc_now_ms() + ms;
    for (;;) {
        FILE *f = fopen(path, "r");
        char *buf = NULL;
        size_t n = 0;
        if (f) {
            buf = calloc(1, 1 << 20);
            n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
            fclose(f);
        }
        int cnt = 0;
        for (size_t i = 0; i < n; i++)
            cnt += buf[i] == '\n';
        if (cnt >= lines || tc_now_ms() >= until)
            return buf;
        free(buf);
        poll(NULL, 0, 20);
    }
}

#endif
