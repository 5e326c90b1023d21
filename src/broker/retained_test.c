/* SPDX-License-Identifier: MIT */
/*
 * src/broker/retained_test.c - unit tests of the retained-message store (retained.c): set,
 * replace, clear, collect checked against tern_topic_matches() as the oracle, '$' topics,
 * 100k entries (memory per message, pruning), very deep topics, foreach, concurrent collects,
 * and balanced reference counts throughout.
 *
 * Owns: the stores and fake messages it creates. Thread: main, plus the concurrency test's.
 */
#include "retained.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>

#include "tn_test.h"

/* A fake message: a refcount and the topic it was stored under (for checking). */
struct fmsg {
    atomic_int refs;
    int id;
    char topic[64];
};

static atomic_long n_ref, n_unref;

static void f_ref(void *m)
{
    atomic_fetch_add(&((struct fmsg *)m)->refs, 1);
    atomic_fetch_add(&n_ref, 1);
}

static void f_unref(void *m)
{
    int old = atomic_fetch_sub(&((struct fmsg *)m)->refs, 1);
    if (old <= 0)
        fprintf(stderr, "  refcount underflow on message %d\n", ((struct fmsg *)m)->id);
    atomic_fetch_add(&n_unref, 1);
}

static struct fmsg *fmsg_new(int id, const char *topic)
{
    struct fmsg *m = calloc(1, sizeof *m);
    if (m) {
        m->id = id;
        snprintf(m->topic, sizeof m->topic, "%s", topic);
    }
    return m;
}

static struct tn_retained *store_new(void)
{
    atomic_store(&n_ref, 0);
    atomic_store(&n_unref, 0);
    return tn_retained_new(f_ref, f_unref);
}

static int set(struct tn_retained *rs, const char *t, struct fmsg *m)
{
    return tn_retained_set(rs, tern_slice_cstr(t), m);
}

/* Collects, checks each result once, returns the count (or the error) and unrefs them. */
static ssize_t collect(struct tn_retained *rs, const char *f, struct fmsg ***keep)
{
    void **v = NULL;
    ssize_t n = tn_retained_collect(rs, tern_slice_cstr(f), &v);
    if (n <= 0 && v != NULL)
        fprintf(stderr, "  collect %s: %zd but *out set\n", f, n);
    if (keep) {
        *keep = (struct fmsg **)v;
        return n;
    }
    for (ssize_t i = 0; i < n; i++)
        f_unref(v[i]);
    free(v);
    return n;
}

static void release(struct fmsg **v, ssize_t n)
{
    for (ssize_t i = 0; i < n; i++)
        f_unref(v[i]);
    free(v);
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

TN_TEST(set_replace_clear_refcounts)
{
    struct tn_retained *rs = store_new();
    TN_REQUIRE(rs);
    struct fmsg *a = fmsg_new(1, "a/b"), *b = fmsg_new(2, "a/b"), *c = fmsg_new(3, "a");
    TN_REQUIRE(a && b && c);
    TN_EXPECT_EQ_INT(set(rs, "a/b", a), 0);
    TN_EXPECT_EQ_INT(a->refs, 1);
    TN_EXPECT_EQ_INT(tn_retained_count(rs), 1);
    TN_EXPECT_EQ_INT(set(rs, "a/b", b), 0); /* replace: the old one is released */
    TN_EXPECT_EQ_INT(a->refs, 0);
    TN_EXPECT_EQ_INT(b->refs, 1);
    TN_EXPECT_EQ_INT(tn_retained_count(rs), 1);
    TN_EXPECT_EQ_INT(set(rs, "a/b", b), 0); /* same message again: still one ref */
    TN_EXPECT_EQ_INT(b->refs, 1);
    TN_EXPECT_EQ_INT(set(rs, "a", c), 0);
    TN_EXPECT_EQ_INT(tn_retained_count(rs), 2);

    struct fmsg **v;
    ssize_t n = collect(rs, "a/b", &v);
    TN_REQUIRE(n == 1);
    TN_EXPECT(v[0] == b);
    TN_EXPECT_EQ_INT(b->refs, 2); /* the caller's ref */
    release(v, n);
    TN_EXPECT_EQ_INT(b->refs, 1);
    TN_EXPECT_EQ_INT(collect(rs, "a/#", NULL), 2);
    TN_EXPECT_EQ_INT(collect(rs, "a/c", NULL), 0);
    TN_EXPECT_EQ_INT(collect(rs, "b/#", NULL), 0);

    TN_EXPECT_EQ_INT(set(rs, "a/b", NULL), 0); /* clear */
    TN_EXPECT_EQ_INT(b->refs, 0);
    TN_EXPECT_EQ_INT(tn_retained_count(rs), 1);
    TN_EXPECT_EQ_INT(set(rs, "a/b", NULL), 0); /* clearing an absent topic is fine */
    TN_EXPECT_EQ_INT(set(rs, "x/y/z", NULL), 0);
    TN_EXPECT_EQ_INT(tn_retained_nodes(rs), 1); /* only "a" left: "a/b" and "x..." pruned */
    TN_EXPECT_EQ_INT(collect(rs, "#", NULL), 1);

    TN_EXPECT_EQ_INT(set(rs, "a/+", a), -EINVAL);
    TN_EXPECT_EQ_INT(set(rs, "a/#", a), -EINVAL);
    TN_EXPECT_EQ_INT(set(rs, "", a), -EINVAL);
    TN_EXPECT_EQ_INT(a->refs, 0);
    void **out = (void **)&out;
    TN_EXPECT_EQ_INT(tn_retained_collect(rs, TERN_SLICE_STR("$share/g/a"), &out), -EINVAL);
    TN_EXPECT(out == NULL);
    TN_EXPECT_EQ_INT(tn_retained_collect(rs, TERN_SLICE_STR("a/#/b"), &out), -EINVAL);
    TN_EXPECT_EQ_INT(tn_retained_collect(rs, TERN_SLICE_STR(""), &out), -EINVAL);

    tn_retained_free(rs); /* unrefs c */
    TN_EXPECT_EQ_INT(c->refs, 0);
    TN_EXPECT_EQ_INT(atomic_load(&n_ref), atomic_load(&n_unref));
    free(a);
    free(b);
    free(c);
}

TN_TEST(wildcard_edges_and_dollar_topics_4_7_2_1)
{
    static const char *topics[] = {"a",    "a/b",    "a/b/c",    "a/",   "/", "/a",
                                   "$SYS", "$SYS/x", "$SYS/x/y", "b/$c", "$", "a//b"};
    enum { NT = sizeof topics / sizeof topics[0] };
    static const char *filters[] = {"#",      "+",      "+/+",   "a/#",   "a/+", "+/#",
                                    "$SYS/#", "$SYS/+", "$SYS",  "/#",    "/+",  "+/$c",
                                    "$+",     "a//+",   "a/+/+", "a/b/#", "$/#", "+/+/+"};
    struct tn_retained *rs = store_new();
    TN_REQUIRE(rs);
    struct fmsg *m[NT];
    for (int i = 0; i < NT; i++) {
        m[i] = fmsg_new(i, topics[i]);
        TN_REQUIRE(m[i]);
        TN_EXPECT_EQ_INT(set(rs, topics[i], m[i]), 0);
    }
    for (size_t f = 0; f < sizeof filters / sizeof filters[0]; f++) {
        if (!tern_topic_filter_is_valid((const uint8_t *)filters[f], strlen(filters[f])))
            continue; /* "$+" */
        struct fmsg **v;
        ssize_t n = collect(rs, filters[f], &v);
        TN_REQUIRE(n >= 0);
        size_t want = 0;
        for (int i = 0; i < NT; i++) {
            bool match =
                tern_topic_matches(tern_slice_cstr(filters[f]), tern_slice_cstr(topics[i]));
            want += match;
            int got = 0;
            for (ssize_t k = 0; k < n; k++)
                got += v[k] == m[i];
            if (got != (match ? 1 : 0))
                fprintf(stderr, "  filter %s topic %s: collected %d times\n", filters[f], topics[i],
                        got);
            TN_EXPECT_EQ_INT(got, match ? 1 : 0);
        }
        TN_EXPECT_EQ_INT(n, want);
        release(v, n);
    }
    /* The rules this table exists for. */
    TN_EXPECT_EQ_INT(collect(rs, "#", NULL), NT - 4); /* not $SYS, $SYS/x, $SYS/x/y, $ */
    TN_EXPECT_EQ_INT(collect(rs, "$SYS/#", NULL), 3); /* "$SYS/#" includes "$SYS" */
    TN_EXPECT_EQ_INT(collect(rs, "a/#", NULL), 5);    /* a, a/b, a/b/c, a/, a//b */
    tn_retained_free(rs);
    TN_EXPECT_EQ_INT(atomic_load(&n_ref), atomic_load(&n_unref));
    for (int i = 0; i < NT; i++) {
        TN_EXPECT_EQ_INT(m[i]->refs, 0);
        free(m[i]);
    }
}

static const char *levels[] = {"a", "b", "c", "", "$x", "ab", "+", "#"};

static void rand_name(char *buf, bool filter)
{
again:;
    int n = 1 + (int)(rnd() % 5);
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        const char *l;
        for (;;) {
            l = levels[rnd() % (filter ? 8 : 6)];
            if (l[0] == '#' && i != n - 1)
                continue;
            break;
        }
        if (i)
            buf[len++] = '/';
        memcpy(buf + len, l, strlen(l));
        len += strlen(l);
    }
    buf[len] = 0;
    if (len == 0)
        goto again;
}

TN_TEST(random_collect_matches_oracle)
{
    enum { NT = 600, NF = 2000 };
    static struct fmsg *m[NT];
    rng_state = 4242;
    struct tn_retained *rs = store_new();
    TN_REQUIRE(rs);
    int stored = 0;
    for (int i = 0; i < NT; i++) {
        char t[64];
        rand_name(t, false);
        m[i] = fmsg_new(i, t);
        TN_REQUIRE(m[i]);
        TN_REQUIRE(set(rs, t, m[i]) == 0);
    }
    /* Later duplicates replaced earlier ones: the live ones are those holding a ref. */
    for (int i = 0; i < NT; i++)
        stored += m[i]->refs == 1;
    TN_EXPECT_EQ_INT(tn_retained_count(rs), stored);
    size_t total = 0;
    for (int k = 0; k < NF; k++) {
        char f[64];
        rand_name(f, true);
        struct fmsg **v;
        ssize_t n = collect(rs, f, &v);
        TN_REQUIRE(n >= 0);
        total += (size_t)n;
        ssize_t want = 0;
        for (int i = 0; i < NT; i++)
            if (m[i]->refs >= 1 &&
                tern_topic_matches(tern_slice_cstr(f), tern_slice_cstr(m[i]->topic)))
                want++;
        if (n != want)
            fprintf(stderr, "  filter %s: %zd collected, %zd expected\n", f, n, want);
        TN_EXPECT_EQ_INT(n, want);
        for (ssize_t j = 0; j < n; j++) {
            TN_EXPECT(tern_topic_matches(tern_slice_cstr(f), tern_slice_cstr(v[j]->topic)));
            TN_EXPECT_EQ_INT(v[j]->refs, 2);
        }
        release(v, n);
    }
    TN_EXPECT(total > NF);
    /* Clear everything: the trie must be empty again. */
    for (int i = 0; i < NT; i++)
        TN_EXPECT_EQ_INT(tn_retained_set(rs, tern_slice_cstr(m[i]->topic), NULL), 0);
    TN_EXPECT_EQ_INT(tn_retained_count(rs), 0);
    TN_EXPECT_EQ_INT(tn_retained_nodes(rs), 0);
    tn_retained_free(rs);
    TN_EXPECT_EQ_INT(atomic_load(&n_ref), atomic_load(&n_unref));
    for (int i = 0; i < NT; i++) {
        TN_EXPECT_EQ_INT(m[i]->refs, 0);
        free(m[i]);
    }
}

struct fe {
    size_t n;
    int bad;
};

static void fe_fn(void *ctx, tern_slice topic, void *msg)
{
    struct fe *e = ctx;
    struct fmsg *m = msg;
    e->n++;
    if (topic.n != strlen(m->topic) || memcmp(topic.p, m->topic, topic.n) != 0) {
        if (e->bad++ < 5)
            fprintf(stderr, "  foreach: %.*s for %s\n", (int)(topic.n < 60 ? topic.n : 60),
                    (const char *)topic.p, m->topic);
    }
}

TN_TEST(hundred_thousand_retained)
{
    enum { N = 100000 };
    struct fmsg *m = calloc(N, sizeof *m), *m2 = calloc(N, sizeof *m2);
    struct fmsg *o1 = fmsg_new(-1, "other"), *o2 = fmsg_new(-2, "$SYS/x");
    TN_REQUIRE(m && m2 && o1 && o2);
    struct tn_retained *rs = store_new();
    TN_REQUIRE(rs);
    struct mallinfo2 before = mallinfo2();
    for (int i = 0; i < N; i++) {
        m[i].id = i;
        snprintf(m[i].topic, sizeof m[i].topic, "devices/%d/state", i);
        TN_REQUIRE(set(rs, m[i].topic, &m[i]) == 0);
    }
    struct mallinfo2 after = mallinfo2();
    size_t per = (after.uordblks - before.uordblks) / N;
    /* Under ASan malloc statistics are not glibc's; check only where they are real. */
    if (after.uordblks > before.uordblks) {
        printf("retained: %zu bytes of trie per message (devices/<id>/state)\n", per);
        TN_EXPECT(per < 150);
    }
    TN_EXPECT_EQ_INT(tn_retained_count(rs), N);
    TN_EXPECT_EQ_INT(set(rs, "other", o1), 0);
    TN_EXPECT_EQ_INT(set(rs, "$SYS/x", o2), 0);
    TN_EXPECT_EQ_INT(collect(rs, "devices/+/state", NULL), N);
    TN_EXPECT_EQ_INT(collect(rs, "#", NULL), N + 1);
    TN_EXPECT_EQ_INT(collect(rs, "devices/#", NULL), N);
    TN_EXPECT_EQ_INT(collect(rs, "+/+/+", NULL), N);
    TN_EXPECT_EQ_INT(collect(rs, "devices/77777/state", NULL), 1);
    TN_EXPECT_EQ_INT(collect(rs, "devices/77777/+", NULL), 1);
    TN_EXPECT_EQ_INT(collect(rs, "devices/+", NULL), 0);
    struct fe e = {0};
    TN_EXPECT_EQ_INT(tn_retained_foreach(rs, fe_fn, &e), 0);
    TN_EXPECT_EQ_INT(e.n, N + 2);
    TN_EXPECT_EQ_INT(e.bad, 0);
    /* Replace all: every first message released. */
    for (int i = 0; i < N; i++) {
        m2[i].id = i;
        snprintf(m2[i].topic, sizeof m2[i].topic, "devices/%d/state", i);
        TN_REQUIRE(set(rs, m2[i].topic, &m2[i]) == 0);
    }
    for (int i = 0; i < N; i++)
        TN_REQUIRE(m[i].refs == 0 && m2[i].refs == 1);
    TN_EXPECT_EQ_INT(tn_retained_count(rs), N + 2);
    /* Clear in a scrambled order. */
    for (int k = 0; k < N; k++) {
        int i = (int)(((uint64_t)k * 7919) % N);
        TN_REQUIRE(set(rs, m2[i].topic, NULL) == 0);
    }
    TN_EXPECT_EQ_INT(tn_retained_count(rs), 2);
    TN_EXPECT_EQ_INT(tn_retained_nodes(rs), 3); /* other, $SYS, $SYS/x */
    TN_EXPECT_EQ_INT(set(rs, "other", NULL), 0);
    TN_EXPECT_EQ_INT(set(rs, "$SYS/x", NULL), 0);
    TN_EXPECT_EQ_INT(tn_retained_nodes(rs), 0);
    tn_retained_free(rs);
    TN_EXPECT_EQ_INT(atomic_load(&n_ref), atomic_load(&n_unref));
    TN_EXPECT_EQ_INT(o1->refs + o2->refs, 0);
    free(m);
    free(m2);
    free(o1);
    free(o2);
}

struct deep_fe {
    const char *deep;
    size_t n, ok;
};

static void deep_fe_fn(void *ctx, tern_slice topic, void *msg)
{
    struct deep_fe *e = ctx;
    const char *want = ((struct fmsg *)msg)->id == 1 ? e->deep : ((struct fmsg *)msg)->topic;
    e->n++;
    e->ok += topic.n == strlen(want) && memcmp(topic.p, want, topic.n) == 0;
}

TN_TEST(free_with_100k_inside_unrefs_all)
{
    enum { N = 100000 };
    struct fmsg *m = calloc(N, sizeof *m);
    TN_REQUIRE(m);
    struct tn_retained *rs = store_new();
    TN_REQUIRE(rs);
    char t[64];
    for (int i = 0; i < N; i++) {
        snprintf(t, sizeof t, i % 2 ? "d/%d/s" : "d/%d", i);
        TN_REQUIRE(set(rs, t, &m[i]) == 0);
    }
    tn_retained_free(rs);
    TN_EXPECT_EQ_INT(atomic_load(&n_ref), N);
    TN_EXPECT_EQ_INT(atomic_load(&n_unref), N);
    for (int i = 0; i < N; i++)
        TN_REQUIRE(m[i].refs == 0);
    free(m);
}

TN_TEST(deep_topics_do_not_recurse)
{
    enum { LV = 32767 };
    size_t n = 2 * LV - 1;
    char *t = malloc(n + 1), *fp = malloc(n + 1);
    TN_REQUIRE(t && fp);
    for (size_t i = 0; i < n; i++) {
        t[i] = i % 2 ? '/' : 'a';
        fp[i] = i % 2 ? '/' : '+';
    }
    t[n] = fp[n] = 0;
    struct fmsg *a = fmsg_new(1, "deep"), *b = fmsg_new(2, "a/a");
    TN_REQUIRE(a && b);
    struct tn_retained *rs = store_new();
    TN_REQUIRE(rs);
    TN_EXPECT_EQ_INT(set(rs, t, a), 0);
    TN_EXPECT_EQ_INT(set(rs, "a/a", b), 0);
    TN_EXPECT_EQ_INT(collect(rs, "#", NULL), 2);
    TN_EXPECT_EQ_INT(collect(rs, fp, NULL), 1);
    TN_EXPECT_EQ_INT(collect(rs, t, NULL), 1);
    TN_EXPECT_EQ_INT(collect(rs, "a/+/#", NULL), 2);
    struct deep_fe e = {.deep = t};
    TN_EXPECT_EQ_INT(tn_retained_foreach(rs, deep_fe_fn, &e), 0);
    TN_EXPECT_EQ_INT(e.n, 2);
    TN_EXPECT_EQ_INT(e.ok, 2);
    tn_retained_free(rs); /* frees the deep chain without recursion */
    TN_EXPECT_EQ_INT(a->refs, 0);
    TN_EXPECT_EQ_INT(atomic_load(&n_ref), atomic_load(&n_unref));
    free(a);
    free(b);
    free(t);
    free(fp);
}

/* ---- concurrency ---------------------------------------------------------------------------- */

struct mt {
    struct tn_retained *rs;
    struct fmsg *msgs;
    atomic_int done;
    atomic_long rounds; /* writer sets done */
    atomic_long errors;
};

static void *mt_reader(void *arg)
{
    struct mt *m = arg;
    static const char *filters[] = {"t/#", "t/+/x", "#", "t/stable/x"};
    /* At least 3000 collects, and until the writer has done 500 sets meanwhile. */
    for (int i = 0; i < 3000 || atomic_load(&m->rounds) < 500; i++) {
        void **v;
        ssize_t n = tn_retained_collect(m->rs, tern_slice_cstr(filters[i % 4]), &v);
        bool stable = false;
        for (ssize_t k = 0; k < n; k++) {
            stable |= ((struct fmsg *)v[k])->id == -1;
            if (((struct fmsg *)v[k])->refs < 1)
                atomic_fetch_add(&m->errors, 1);
            f_unref(v[k]);
        }
        free(v);
        if (n < 1 || !stable)
            atomic_fetch_add(&m->errors, 1);
    }
    return NULL;
}

static void *mt_writer(void *arg)
{
    struct mt *m = arg;
    uint64_t x = 7;
    char t[64];
    long rounds = 0;
    while (!atomic_load(&m->done) || rounds < 2000) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        int k = (int)((x >> 33) % 200);
        snprintf(t, sizeof t, "t/%d/x", k % 50);
        if (tn_retained_set(m->rs, tern_slice_cstr(t), k < 150 ? &m->msgs[k] : NULL) != 0)
            atomic_fetch_add(&m->errors, 1);
        rounds++;
        atomic_store(&m->rounds, rounds);
    }
    return NULL;
}

TN_TEST(concurrent_collect_while_setting)
{
    struct mt m = {.rs = store_new(), .msgs = calloc(151, sizeof(struct fmsg))};
    TN_REQUIRE(m.rs && m.msgs);
    for (int i = 0; i < 151; i++)
        m.msgs[i].id = i;
    m.msgs[150].id = -1;
    TN_REQUIRE(set(m.rs, "t/stable/x", &m.msgs[150]) == 0);
    pthread_t rd[4], wr;
    TN_REQUIRE(pthread_create(&wr, NULL, mt_writer, &m) == 0);
    for (int i = 0; i < 4; i++)
        TN_REQUIRE(pthread_create(&rd[i], NULL, mt_reader, &m) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(rd[i], NULL);
    atomic_store(&m.done, 1);
    pthread_join(wr, NULL);
    TN_EXPECT_EQ_INT(atomic_load(&m.errors), 0);
    tn_retained_free(m.rs);
    TN_EXPECT_EQ_INT(atomic_load(&n_ref), atomic_load(&n_unref));
    for (int i = 0; i < 151; i++)
        TN_EXPECT_EQ_INT(m.msgs[i].refs, 0);
    free(m.msgs);
}

TN_TEST_MAIN()
