/* SPDX-License-Identifier: MIT */
/*
 * src/net/loop.h - one event loop per thread: epoll for sockets, an eventfd other threads
 * write to wake it, and a timer wheel with 100 ms ticks (MQTT timers are in seconds; a tick
 * of 100 ms keeps a 1.5 s keep-alive within 0.1 s of its deadline).
 *
 * Owns: the epoll and eventfd descriptors and the timer wheel. The tn_io and tn_timer structs
 * are embedded in their owners (connections, sessions) and only linked here.
 * Thread: everything runs on the loop's own thread except tn_loop_wake, which any thread may
 * call.
 */
#ifndef TN_LOOP_H
#define TN_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/epoll.h>

struct tn_loop;

typedef void (*tn_io_fn)(struct tn_loop *l, void *ctx, uint32_t events);

/* A registered descriptor. */
struct tn_io {
    int fd;
    uint32_t events; /* EPOLLIN / EPOLLOUT as registered */
    tn_io_fn fn;
    void *ctx;
};

struct tn_timer;
typedef void (*tn_timer_fn)(struct tn_loop *l, struct tn_timer *t);

/* A one-shot timer; embed it and tn_timer_init it once. */
struct tn_timer {
    struct tn_timer *next, **pprev; /* pprev == NULL: not armed */
    uint64_t due_ms;
    tn_timer_fn fn;
};

#define TN_WHEEL_SLOTS 1024u
#define TN_TICK_MS 100u

struct tn_loop {
    int epfd;
    int evfd;
    struct tn_io wake_io;
    void (*on_wake)(struct tn_loop *l, void *ctx);
    void *wake_ctx;
    struct tn_timer *wheel[TN_WHEEL_SLOTS];
    uint64_t tick;   /* last processed tick (now_ms / TN_TICK_MS) */
    unsigned armed;  /* timers armed */
    uint64_t now_ms; /* updated once per iteration */
    bool stop;
};

int tn_loop_init(struct tn_loop *l, void (*on_wake)(struct tn_loop *, void *), void *wake_ctx);
void tn_loop_fini(struct tn_loop *l);

int tn_loop_add(struct tn_loop *l, struct tn_io *io, uint32_t events);
int tn_loop_mod(struct tn_loop *l, struct tn_io *io, uint32_t events);
void tn_loop_del(struct tn_loop *l, struct tn_io *io);

/* Wake the loop from any thread (on_wake runs on the loop's thread). */
void tn_loop_wake(struct tn_loop *l);

static inline void tn_timer_init(struct tn_timer *t, tn_timer_fn fn)
{
    t->next = NULL;
    t->pprev = NULL;
    t->due_ms = 0;
    t->fn = fn;
}
static inline bool tn_timer_armed(const struct tn_timer *t)
{
    return t->pprev != NULL;
}
/* Arm (or re-arm) to fire at least delay_ms from now. */
void tn_timer_arm(struct tn_loop *l, struct tn_timer *t, uint64_t delay_ms);
void tn_timer_cancel(struct tn_loop *l, struct tn_timer *t);

/* One iteration: wait up to max_wait_ms (capped to the next tick when timers are armed),
 * dispatch I/O, then fire due timers. Returns the number of events handled or -errno. */
int tn_loop_run_once(struct tn_loop *l, int max_wait_ms);

#endif
