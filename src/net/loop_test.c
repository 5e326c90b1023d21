/* SPDX-License-Identifier: MIT */
/*
 * src/net/loop_test.c - the event loop's timer wheel and wake-up: timers fire once, not early,
 * in due order across slots and turns, can be cancelled and re-armed from their callbacks.
 */
#include <pthread.h>

#include "clock.h"
#include "loop.h"
#include "tn_test.h"

struct rec {
    struct tn_timer t;
    int fired;
    uint64_t at;
    int order;
};
static int order_ctr;

static void on_fire(struct tn_loop *l, struct tn_timer *t)
{
    struct rec *r = (struct rec *)t;
    r->fired++;
    r->at = l->now_ms;
    r->order = ++order_ctr;
}

static void run_until(struct tn_loop *l, int *flag, uint64_t limit_ms)
{
    uint64_t end = tn_now_ms() + limit_ms;
    while (!*flag && tn_now_ms() < end)
        tn_loop_run_once(l, 50);
}

TN_TEST(timer_fires_once_not_early_and_in_order)
{
    struct tn_loop l;
    struct rec a, b, c;
    uint64_t t0;

    TN_REQUIRE(tn_loop_init(&l, NULL, NULL) == 0);
    tn_timer_init(&a.t, on_fire);
    tn_timer_init(&b.t, on_fire);
    tn_timer_init(&c.t, on_fire);
    a.fired = b.fired = c.fired = 0;
    order_ctr = 0;
    t0 = l.now_ms;
    tn_timer_arm(&l, &b.t, 300);
    tn_timer_arm(&l, &a.t, 150);
    tn_timer_arm(&l, &c.t, 400);
    tn_timer_cancel(&l, &c.t);
    run_until(&l, &b.fired, 3000);
    TN_EXPECT_EQ_INT(a.fired, 1);
    TN_EXPECT_EQ_INT(b.fired, 1);
    TN_EXPECT_EQ_INT(c.fired, 0);
    TN_EXPECT_EQ_INT(a.order, 1);
    TN_EXPECT_EQ_INT(b.order, 2);
    TN_EXPECT(a.at >= t0 + 150);
    TN_EXPECT(b.at >= t0 + 300);
    TN_EXPECT_EQ_U32(l.armed, 0);
    tn_loop_fini(&l);
}

/* A timer further away than one wheel turn waits for its own turn. */
TN_TEST(timer_beyond_one_turn_waits)
{
    struct tn_loop l;
    struct rec a;

    TN_REQUIRE(tn_loop_init(&l, NULL, NULL) == 0);
    tn_timer_init(&a.t, on_fire);
    a.fired = 0;
    tn_timer_arm(&l, &a.t, (uint64_t)TN_WHEEL_SLOTS * TN_TICK_MS + 200);
    /* Pretend time passed one turn: the slot is visited but the timer is not due. */
    l.now_ms += (uint64_t)TN_WHEEL_SLOTS * TN_TICK_MS;
    tn_loop_run_once(&l, 0);
    TN_EXPECT_EQ_INT(a.fired, 0);
    TN_EXPECT(tn_timer_armed(&a.t));
    tn_timer_cancel(&l, &a.t);
    tn_loop_fini(&l);
}

static void rearm(struct tn_loop *l, struct tn_timer *t)
{
    struct rec *r = (struct rec *)t;
    if (++r->fired < 3)
        tn_timer_arm(l, t, 10);
}

TN_TEST(timer_rearmed_from_its_callback)
{
    struct tn_loop l;
    struct rec a;
    int three = 0;

    TN_REQUIRE(tn_loop_init(&l, NULL, NULL) == 0);
    tn_timer_init(&a.t, rearm);
    a.fired = 0;
    tn_timer_arm(&l, &a.t, 10);
    for (uint64_t end = tn_now_ms() + 3000; a.fired < 3 && tn_now_ms() < end;)
        tn_loop_run_once(&l, 50);
    three = a.fired == 3;
    TN_EXPECT(three);
    TN_EXPECT(!tn_timer_armed(&a.t));
    tn_loop_fini(&l);
}

static int woken;
static void on_wake(struct tn_loop *l, void *ctx)
{
    (void)l;
    (void)ctx;
    woken = 1;
}
static void *waker(void *arg)
{
    tn_loop_wake(arg);
    return NULL;
}

/* Two timers due in the same tick, each cancelling the other when it fires (as closing a
 * connection cancels its other timers): whichever runs first, the other must not fire, though
 * it was already taken into the batch of due timers. Its owner may be gone. */
static struct rec pair[2];
static void cancel_other(struct tn_loop *l, struct tn_timer *t)
{
    on_fire(l, t);
    tn_timer_cancel(l, t == &pair[0].t ? &pair[1].t : &pair[0].t);
}

TN_TEST(timer_cancelled_by_an_earlier_callback_of_its_batch_does_not_fire)
{
    struct tn_loop l;
    int any = 0;

    TN_REQUIRE(tn_loop_init(&l, NULL, NULL) == 0);
    for (int i = 0; i < 2; i++) {
        pair[i].fired = 0;
        tn_timer_init(&pair[i].t, cancel_other);
        tn_timer_arm(&l, &pair[i].t, 100);
    }
    uint64_t end = tn_now_ms() + 3000;
    while (!any && tn_now_ms() < end) {
        tn_loop_run_once(&l, 50);
        any = pair[0].fired + pair[1].fired;
    }
    tn_loop_run_once(&l, 250);
    TN_EXPECT_EQ_INT(pair[0].fired + pair[1].fired, 1);
    TN_EXPECT_EQ_U32(l.armed, 0);
    tn_loop_fini(&l);
}

TN_TEST(wake_from_another_thread)
{
    struct tn_loop l;
    pthread_t th;

    TN_REQUIRE(tn_loop_init(&l, on_wake, NULL) == 0);
    woken = 0;
    pthread_create(&th, NULL, waker, &l);
    run_until(&l, &woken, 5000);
    pthread_join(th, NULL);
    TN_EXPECT_EQ_INT(woken, 1);
    tn_loop_fini(&l);
}

TN_TEST_MAIN()
