/* SPDX-License-Identifier: MIT */
/*
 * src/net/loop.c - see loop.h. The timer wheel is hashed by tick: a timer due at tick T sits
 * in slot T % TN_WHEEL_SLOTS and fires when the loop processes that slot at or after T; timers
 * further away than one turn stay in their slot until their turn comes round. Written by hand
 * because it is the event loop itself (the core of the product, see the brief).
 * Owns: see loop.h. Thread: the loop's own, except tn_loop_wake.
 */
#include "loop.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "clock.h"

static void wake_read(struct tn_loop *l, void *ctx, uint32_t events)
{
    uint64_t v;

    (void)ctx;
    (void)events;
    while (read(l->evfd, &v, sizeof(v)) == (ssize_t)sizeof(v)) {
    }
    if (l->on_wake)
        l->on_wake(l, l->wake_ctx);
}

int tn_loop_init(struct tn_loop *l, void (*on_wake)(struct tn_loop *, void *), void *wake_ctx)
{
    memset(l, 0, sizeof(*l));
    l->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (l->epfd < 0)
        return -errno;
    l->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (l->evfd < 0) {
        int e = -errno;
        close(l->epfd);
        return e;
    }
    l->on_wake = on_wake;
    l->wake_ctx = wake_ctx;
    l->wake_io = (struct tn_io){.fd = l->evfd, .fn = wake_read, .ctx = l};
    l->now_ms = tn_now_ms();
    l->tick = l->now_ms / TN_TICK_MS;
    return tn_loop_add(l, &l->wake_io, EPOLLIN);
}

void tn_loop_fini(struct tn_loop *l)
{
    if (l->evfd >= 0)
        close(l->evfd);
    if (l->epfd >= 0)
        close(l->epfd);
    l->evfd = l->epfd = -1;
}

int tn_loop_add(struct tn_loop *l, struct tn_io *io, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};

    io->events = events;
    return epoll_ctl(l->epfd, EPOLL_CTL_ADD, io->fd, &ev) < 0 ? -errno : 0;
}

int tn_loop_mod(struct tn_loop *l, struct tn_io *io, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = io};

    if (io->events == events)
        return 0;
    io->events = events;
    return epoll_ctl(l->epfd, EPOLL_CTL_MOD, io->fd, &ev) < 0 ? -errno : 0;
}

void tn_loop_del(struct tn_loop *l, struct tn_io *io)
{
    epoll_ctl(l->epfd, EPOLL_CTL_DEL, io->fd, NULL);
    io->events = 0;
}

void tn_loop_wake(struct tn_loop *l)
{
    uint64_t one = 1;
    (void)!write(l->evfd, &one, sizeof(one));
}

static void timer_unlink(struct tn_loop *l, struct tn_timer *t)
{
    if (!t->pprev)
        return;
    *t->pprev = t->next;
    if (t->next)
        t->next->pprev = t->pprev;
    t->next = NULL;
    t->pprev = NULL;
    l->armed--;
}

void tn_timer_cancel(struct tn_loop *l, struct tn_timer *t)
{
    timer_unlink(l, t);
    /* also when run_slot has already taken it into its batch of due timers: a timer cancelled
     * by an earlier callback of that batch (its owner closed, say) must not fire */
    t->due_ms = UINT64_MAX;
}

void tn_timer_arm(struct tn_loop *l, struct tn_timer *t, uint64_t delay_ms)
{
    uint64_t due_tick;
    struct tn_timer **slot;

    timer_unlink(l, t);
    t->due_ms = l->now_ms + delay_ms;
    /* Round up so a timer never fires early; never into the tick being processed. */
    due_tick = (t->due_ms + TN_TICK_MS - 1) / TN_TICK_MS;
    if (due_tick <= l->tick)
        due_tick = l->tick + 1;
    slot = &l->wheel[due_tick % TN_WHEEL_SLOTS];
    t->next = *slot;
    if (t->next)
        t->next->pprev = &t->next;
    t->pprev = slot;
    *slot = t;
    l->armed++;
}

/* Fire the due timers of one slot. A fired timer is unlinked before its callback runs, so
 * the callback may re-arm it (possibly into this same slot, for a later turn). */
static void run_slot(struct tn_loop *l, unsigned idx)
{
    struct tn_timer *t = l->wheel[idx], *next;
    struct tn_timer *due = NULL;

    /* Move the due ones to a private list first: callbacks may arm/cancel anything. */
    for (; t; t = next) {
        next = t->next;
        if (t->due_ms <= l->now_ms) {
            timer_unlink(l, t);
            t->next = due;
            due = t;
        }
    }
    while (due) {
        t = due;
        due = t->next;
        t->next = NULL;
        /* A callback run earlier in this batch may have re-armed or cancelled t. */
        if (t->pprev == NULL && t->due_ms <= l->now_ms)
            t->fn(l, t);
    }
}

static void run_timers(struct tn_loop *l)
{
    uint64_t now_tick = l->now_ms / TN_TICK_MS;
    uint64_t from = l->tick + 1, k;

    if (now_tick < from)
        return;
    if (now_tick - from >= TN_WHEEL_SLOTS)
        from = now_tick - TN_WHEEL_SLOTS + 1; /* every slot is visited once anyway */
    l->tick = now_tick;
    for (k = from; k <= now_tick && l->armed; k++)
        run_slot(l, (unsigned)(k % TN_WHEEL_SLOTS));
}

int tn_loop_run_once(struct tn_loop *l, int max_wait_ms)
{
    struct epoll_event evs[256];
    int n, i, wait = max_wait_ms;

    if (l->armed) {
        uint64_t next_tick_ms = (l->tick + 1) * TN_TICK_MS;
        uint64_t now = tn_now_ms();
        int until = next_tick_ms > now ? (int)(next_tick_ms - now) : 0;
        if (wait < 0 || until < wait)
            wait = until;
    }
    n = epoll_wait(l->epfd, evs, 256, wait);
    l->now_ms = tn_now_ms();
    if (n < 0)
        return errno == EINTR ? 0 : -errno;
    for (i = 0; i < n; i++) {
        struct tn_io *io = evs[i].data.ptr;
        io->fn(l, io->ctx, evs[i].events);
    }
    run_timers(l);
    return n;
}
