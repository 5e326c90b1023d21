/* SPDX-License-Identifier: MIT */
/*
 * bench/router_bench.c - matches per second of the subscription trie (src/broker/router.c)
 * with 10k and 100k subscriptions, single-threaded and with several threads matching at once
 * (the read side of the router's rwlock), plus the subscribe/unsubscribe rate.
 *
 * Owns: the routers it builds. Thread: main plus --threads matcher threads.
 * Spec: none. Prints figures; asserts nothing but that every match found its subscriber.
 *
 * Cases, each at 10k and 100k subscriptions:
 *   exact  - N filters `devices/<i>/state`, one subscriber each; topics hit one of them.
 *   mixed  - the exact filters plus, per 100 devices, `devices/<i>/+` and `devices/<i>/#`,
 *            `+/+/state`, `#`, and 10 shared groups `$share/gK/devices/+/state`.
 * Usage: router_bench [--seconds S] [--iters N] [--threads T]
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "router.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct run {
    struct tn_router *r;
    int n;      /* devices */
    long iters; /* 0: run for `seconds` */
    double seconds;
    uint64_t seed;
    long done, calls, misses;
};

static void on_match(void *ctx, uint64_t sub, const struct tn_sub_opts *o,
                     const struct tn_share *share)
{
    (void)sub;
    (void)o;
    (void)share;
    (*(long *)ctx)++;
}

/* Topics are made before timing so the figures are the router's, not snprintf's. */
#define NTOPICS 4096
static char topics[NTOPICS][32];
static size_t topic_len[NTOPICS];

static void make_topics(int n, uint64_t x)
{
    for (int i = 0; i < NTOPICS; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int id = (int)((x >> 33) % (uint64_t)n);
        topic_len[i] = (size_t)snprintf(topics[i], sizeof topics[i], "devices/%d/state", id);
    }
}

static void *run_matches(void *arg)
{
    struct run *ru = arg;
    double end = now_s() + ru->seconds;
    long i = 0;
    unsigned k = (unsigned)ru->seed;
    for (;; i++) {
        if (ru->iters ? i >= ru->iters : (i % 1024 == 0 && now_s() >= end))
            break;
        k = (k + 1) % NTOPICS;
        long calls = 0;
        tn_router_match(ru->r, (tern_slice){(const uint8_t *)topics[k], topic_len[k]}, on_match,
                        &calls);
        ru->calls += calls;
        ru->misses += calls == 0;
    }
    ru->done = i;
    return NULL;
}

static int build(struct tn_router *r, int n, bool mixed)
{
    char f[64];
    struct tn_sub_opts o = {.qos = 1};
    for (int i = 0; i < n; i++) {
        snprintf(f, sizeof f, "devices/%d/state", i);
        if (tn_router_subscribe(r, tern_slice_cstr(f), (uint64_t)i, &o) < 0)
            return -ENOMEM;
        if (mixed && i % 100 == 0) {
            snprintf(f, sizeof f, "devices/%d/+", i);
            if (tn_router_subscribe(r, tern_slice_cstr(f), (uint64_t)i + 1000000, &o) < 0)
                return -ENOMEM;
            snprintf(f, sizeof f, "devices/%d/#", i);
            if (tn_router_subscribe(r, tern_slice_cstr(f), (uint64_t)i + 2000000, &o) < 0)
                return -ENOMEM;
        }
    }
    if (mixed) {
        if (tn_router_subscribe(r, TERN_SLICE_STR("+/+/state"), 3000000, &o) < 0 ||
            tn_router_subscribe(r, TERN_SLICE_STR("#"), 3000001, &o) < 0)
            return -ENOMEM;
        for (int g = 0; g < 10; g++)
            for (int m = 0; m < 4; m++) {
                snprintf(f, sizeof f, "$share/g%d/devices/+/state", g);
                if (tn_router_subscribe(r, tern_slice_cstr(f), 4000000 + (uint64_t)(g * 4 + m),
                                        &o) < 0)
                    return -ENOMEM;
            }
    }
    return 0;
}

static int bench_case(int n, bool mixed, int threads, double seconds, long iters)
{
    struct tn_router *r = tn_router_new();
    if (!r)
        return 1;
    double t0 = now_s();
    if (build(r, n, mixed) < 0) {
        fprintf(stderr, "out of memory\n");
        tn_router_free(r);
        return 1;
    }
    double t_build = now_s() - t0;
    make_topics(n, 77);
    size_t subs = tn_router_count(r);

    struct run ru[16];
    pthread_t th[16];
    int bad = 0;
    for (int t = 1; t <= threads; t = t == threads ? t + 1 : (t * 2 > threads ? threads : t * 2)) {
        for (int k = 0; k < t; k++) {
            ru[k] = (struct run){
                .r = r, .n = n, .iters = iters, .seconds = seconds, .seed = (uint64_t)k * 997};
        }
        t0 = now_s();
        for (int k = 0; k < t; k++)
            if (pthread_create(&th[k], NULL, run_matches, &ru[k]) != 0)
                return 1;
        long total = 0, calls = 0, misses = 0;
        for (int k = 0; k < t; k++) {
            pthread_join(th[k], NULL);
            total += ru[k].done;
            calls += ru[k].calls;
            misses += ru[k].misses;
        }
        double el = now_s() - t0;
        printf("%-5s %6zu subs  %d thread%s  %10.0f matches/s  %5.1f callbacks/match"
               "  (%ld matches in %.2fs)\n",
               mixed ? "mixed" : "exact", subs, t, t == 1 ? " " : "s", (double)total / el,
               total ? (double)calls / (double)total : 0.0, total, el);
        bad |= misses != 0;
    }

    /* Churn: unsubscribe and resubscribe every exact filter. */
    char f[64];
    t0 = now_s();
    for (int i = 0; i < n; i++) {
        snprintf(f, sizeof f, "devices/%d/state", i);
        tn_router_unsubscribe(r, tern_slice_cstr(f), (uint64_t)i);
        tn_router_subscribe(r, tern_slice_cstr(f), (uint64_t)i, NULL);
    }
    double t_churn = now_s() - t0;
    printf("%-5s %6zu subs  build %.0f subscribes/s, churn %.0f unsub+sub pairs/s, %zu nodes\n",
           mixed ? "mixed" : "exact", subs, (double)subs / t_build, (double)n / t_churn,
           tn_router_nodes(r));
    tn_router_free(r);
    if (bad)
        fprintf(stderr, "a match found no subscriber\n");
    return bad;
}

int main(int argc, char **argv)
{
    double seconds = 1.0;
    long iters = 0;
    int threads = 2;
    static const struct option opts[] = {{"seconds", required_argument, NULL, 's'},
                                         {"iters", required_argument, NULL, 'i'},
                                         {"threads", required_argument, NULL, 't'},
                                         {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "s:i:t:", opts, NULL)) != -1) {
        switch (c) {
        case 's': seconds = atof(optarg); break;
        case 'i': iters = atol(optarg); break;
        case 't': threads = atoi(optarg); break;
        default:
            fprintf(stderr, "usage: %s [--seconds S] [--iters N] [--threads T]\n", argv[0]);
            return 2;
        }
    }
    if (threads < 1 || threads > 16) {
        fprintf(stderr, "--threads: 1..16\n");
        return 2;
    }
    int rc = 0;
    static const int sizes[] = {10000, 100000};
    for (int s = 0; s < 2; s++) {
        rc |= bench_case(sizes[s], false, threads, seconds, iters);
        rc |= bench_case(sizes[s], true, threads, seconds, iters);
    }
    return rc;
}
