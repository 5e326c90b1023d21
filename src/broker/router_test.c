/* SPDX-License-Identifier: MIT */
/*
 * src/broker/router_test.c - unit tests of the subscription trie (router.c): matching checked
 * against tern_topic_matches() as the oracle (tables and seeded random filters/topics), '$'
 * topics, wildcard edge cases, shared groups, replace/unsubscribe semantics, pruning, very deep
 * topics, the literal-children map, and concurrent matching while subscriptions change.
 *
 * Owns: the routers it creates. Thread: main, plus the threads of the concurrency test.
 */
#include "router.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "tn_test.h"

/* ---- helpers -------------------------------------------------------------------------------- */

#define MAXHIT 4096

struct hits {
    size_t n;
    uint64_t sub[MAXHIT];
    struct tn_sub_opts o[MAXHIT];
    const struct tn_share *share[MAXHIT];
};

static void on_hit(void *ctx, uint64_t sub, const struct tn_sub_opts *o,
                   const struct tn_share *share)
{
    struct hits *h = ctx;
    if (h->n < MAXHIT) {
        h->sub[h->n] = sub;
        h->o[h->n] = *o;
        h->share[h->n] = share;
    }
    h->n++;
}

static struct hits *match(struct tn_router *r, const char *topic)
{
    static struct hits h;
    h.n = 0;
    tn_router_match(r, tern_slice_cstr(topic), on_hit, &h);
    return &h;
}

static size_t hits_of(const struct hits *h, uint64_t sub)
{
    size_t k = 0;
    for (size_t i = 0; i < h->n && i < MAXHIT; i++)
        k += h->sub[i] == sub;
    return k;
}

static int sub(struct tn_router *r, const char *f, uint64_t s, uint8_t qos)
{
    struct tn_sub_opts o = {.qos = qos};
    return tn_router_subscribe(r, tern_slice_cstr(f), s, &o);
}

static int unsub(struct tn_router *r, const char *f, uint64_t s)
{
    return tn_router_unsubscribe(r, tern_slice_cstr(f), s);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static uint32_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 16);
}

/* ---- matching ------------------------------------------------------------------------------- */

struct row {
    const char *filter, *topic;
    bool match;
};

static const struct row rows[] = {
    {"a", "a", true},
    {"a", "b", false},
    {"a/b", "a/b", true},
    {"a/b", "a", false},
    {"a", "a/b", false},
    {"a/+", "a/b", true},
    {"a/+", "a", false},
    {"a/+", "a/b/c", false},
    {"a/+", "a/", true}, /* '+' matches an empty level */
    {"+/+", "/", true},
    {"+", "/", false},
    {"/+", "/a", true},
    {"+/a", "/a", true},
    {"a/#", "a", true}, /* '#' matches the parent level [MQTT-4.7.1-2] */
    {"a/#", "a/b/c", true},
    {"a/#", "ab", false},
    {"a/#", "a/", true},
    {"#", "a", true},
    {"#", "/", true},
    {"#", "a/b/c", true},
    {"+/#", "a", true},
    {"+/#", "a/b", true},
    {"a/+/#", "a/b", true},
    {"a/+/#", "a", false},
    {"a/+/c", "a/b/c", true},
    {"a/+/c", "a//c", true},
    {"a/+/c", "a/b/d", false},
    {"+/+/+", "a/b/c", true},
    {"+/+/+", "a/b", false},
    {"a//b", "a//b", true},
    {"a//b", "a/b", false},
    {"a/", "a/", true},
    {"a/", "a", false},
    {"/", "/", true},
    {"/#", "/a", true},
    {"/#", "a", false},
    /* '$' topics: no match by filters starting with a wildcard [MQTT-4.7.2-1] */
    {"#", "$SYS/x", false},
    {"+/x", "$SYS/x", false},
    {"+", "$SYS", false},
    {"+/#", "$SYS", false},
    {"$SYS/#", "$SYS/x", true},
    {"$SYS/#", "$SYS", true},
    {"$SYS/+", "$SYS/x", true},
    {"$SYS", "$SYS", true},
    {"a/+", "a/$b", true},
    {"a/#", "a/$b", true},
    {"$share", "$share", true},
};

TN_TEST(table_matches_oracle)
{
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    size_t nrows = sizeof rows / sizeof rows[0];
    for (size_t i = 0; i < nrows; i++) {
        /* The table itself must agree with the codec's matcher. */
        bool oracle =
            tern_topic_matches(tern_slice_cstr(rows[i].filter), tern_slice_cstr(rows[i].topic));
        if (oracle != rows[i].match)
            fprintf(stderr, "  row %zu: %s vs %s\n", i, rows[i].filter, rows[i].topic);
        TN_EXPECT_EQ_INT(oracle, rows[i].match);
        TN_EXPECT_EQ_INT(sub(r, rows[i].filter, 1000 + i, 1), 1);
    }
    /* Every topic against all filters at once. */
    for (size_t j = 0; j < nrows; j++) {
        struct hits *h = match(r, rows[j].topic);
        for (size_t i = 0; i < nrows; i++) {
            bool want =
                tern_topic_matches(tern_slice_cstr(rows[i].filter), tern_slice_cstr(rows[j].topic));
            size_t got = hits_of(h, 1000 + i);
            if (got != (want ? 1u : 0u))
                fprintf(stderr, "  filter %s topic %s: %zu callbacks\n", rows[i].filter,
                        rows[j].topic, got);
            TN_EXPECT_EQ_INT(got, want ? 1 : 0);
        }
    }
    tn_router_free(r);
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
            if (l[0] == '$' && i != 0 && rnd() % 2)
                continue;
            break;
        }
        if (i)
            buf[len++] = '/';
        memcpy(buf + len, l, strlen(l));
        len += strlen(l);
    }
    buf[len] = 0;
    if (len == 0) /* "" is neither a filter nor a name */
        goto again;
}

TN_TEST(random_filters_match_oracle)
{
    enum { NF = 400, NT = 3000 };
    static char filters[NF][64];
    rng_state = 12345;
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    for (int i = 0; i < NF; i++) {
        rand_name(filters[i], true);
        if (!tern_topic_filter_is_valid((const uint8_t *)filters[i], strlen(filters[i])))
            fprintf(stderr, "  invalid: \"%s\"\n", filters[i]);
        TN_REQUIRE(tern_topic_filter_is_valid((const uint8_t *)filters[i], strlen(filters[i])));
        /* A handle per filter index; duplicates of a filter string replace nothing (new sub). */
        TN_EXPECT_EQ_INT(sub(r, filters[i], (uint64_t)i, 0), 1);
    }
    TN_EXPECT_EQ_INT(tn_router_count(r), NF);
    size_t total = 0;
    for (int t = 0; t < NT; t++) {
        char topic[64];
        rand_name(topic, false);
        TN_REQUIRE(tern_topic_name_is_valid((const uint8_t *)topic, strlen(topic)));
        struct hits *h = match(r, topic);
        total += h->n;
        size_t want_n = 0;
        for (int i = 0; i < NF; i++) {
            bool want = tern_topic_matches(tern_slice_cstr(filters[i]), tern_slice_cstr(topic));
            want_n += want;
            size_t got = hits_of(h, (uint64_t)i);
            if (got != (want ? 1u : 0u)) {
                fprintf(stderr, "  filter %s topic %s: %zu callbacks\n", filters[i], topic, got);
                TN_EXPECT_EQ_INT(got, want ? 1 : 0);
                break;
            }
        }
        TN_EXPECT_EQ_INT(h->n, want_n);
    }
    TN_EXPECT(total > NT); /* the generator does produce matches */
    /* Remove half at random, re-check a sample. */
    for (int i = 0; i < NF; i += 2)
        TN_EXPECT_EQ_INT(unsub(r, filters[i], (uint64_t)i), 0);
    for (int t = 0; t < 500; t++) {
        char topic[64];
        rand_name(topic, false);
        struct hits *h = match(r, topic);
        size_t want_n = 0;
        for (int i = 1; i < NF; i += 2)
            want_n += tern_topic_matches(tern_slice_cstr(filters[i]), tern_slice_cstr(topic));
        TN_EXPECT_EQ_INT(h->n, want_n);
        TN_EXPECT_EQ_INT(hits_of(h, 0), 0);
    }
    for (int i = 1; i < NF; i += 2)
        TN_EXPECT_EQ_INT(unsub(r, filters[i], (uint64_t)i), 0);
    TN_EXPECT_EQ_INT(tn_router_count(r), 0);
    TN_EXPECT_EQ_INT(tn_router_nodes(r), 0);
    tn_router_free(r);
}

TN_TEST(dollar_topics_skip_leading_wildcards_4_7_2_1)
{
    /* [MQTT-4.7.2-1] The Server MUST NOT match Topic Filters starting with a wildcard
     * character (# or +) with Topic Names beginning with a $ character. */
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    TN_EXPECT_EQ_INT(sub(r, "#", 1, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "+/info", 2, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "$SYS/#", 3, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "$SYS/+", 4, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "$share/g/#", 5, 0), 1);
    struct hits *h = match(r, "$SYS/info");
    TN_EXPECT_EQ_INT(h->n, 2);
    TN_EXPECT_EQ_INT(hits_of(h, 3), 1);
    TN_EXPECT_EQ_INT(hits_of(h, 4), 1);
    h = match(r, "x/info");
    TN_EXPECT_EQ_INT(h->n, 3);
    TN_EXPECT_EQ_INT(hits_of(h, 1), 1);
    TN_EXPECT_EQ_INT(hits_of(h, 2), 1);
    TN_EXPECT_EQ_INT(hits_of(h, 5), 1);
    tn_router_free(r);
}

TN_TEST(overlapping_filters_give_one_callback_each)
{
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    TN_EXPECT_EQ_INT(sub(r, "a/+", 7, 1), 1);
    TN_EXPECT_EQ_INT(sub(r, "a/#", 7, 2), 1);
    TN_EXPECT_EQ_INT(sub(r, "a/b", 7, 0), 1);
    TN_EXPECT_EQ_INT(tn_router_count(r), 3);
    struct hits *h = match(r, "a/b");
    TN_EXPECT_EQ_INT(h->n, 3);
    TN_EXPECT_EQ_INT(hits_of(h, 7), 3);
    unsigned qmask = 0;
    for (size_t i = 0; i < h->n; i++) {
        qmask |= 1u << h->o[i].qos;
        TN_EXPECT(h->share[i] == NULL);
    }
    TN_EXPECT_EQ_HEX(qmask, 7);
    tn_router_free(r);
}

TN_TEST(resubscribe_replaces_options_3_8_4_3)
{
    /* [MQTT-3.8.4-3] A new subscription to an existing filter replaces it; options replaced. */
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    struct tn_sub_opts o = {.qos = 1, .no_local = true, .sub_id = 5};
    TN_EXPECT_EQ_INT(tn_router_subscribe(r, TERN_SLICE_STR("x/y"), 9, &o), 1);
    o = (struct tn_sub_opts){.qos = 2, .rap = true, .rh = 2, .sub_id = 77};
    TN_EXPECT_EQ_INT(tn_router_subscribe(r, TERN_SLICE_STR("x/y"), 9, &o), 0);
    TN_EXPECT_EQ_INT(tn_router_count(r), 1);
    struct hits *h = match(r, "x/y");
    TN_REQUIRE(h->n == 1);
    TN_EXPECT_EQ_INT(h->o[0].qos, 2);
    TN_EXPECT_EQ_INT(h->o[0].no_local, false);
    TN_EXPECT_EQ_INT(h->o[0].rap, true);
    TN_EXPECT_EQ_INT(h->o[0].rh, 2);
    TN_EXPECT_EQ_U32(h->o[0].sub_id, 77);
    /* Another subscriber on the same filter is a new subscription. */
    TN_EXPECT_EQ_INT(sub(r, "x/y", 10, 0), 1);
    TN_EXPECT_EQ_INT(tn_router_count(r), 2);
    /* Same group twice replaces; same filter in another group or unshared is new. */
    TN_EXPECT_EQ_INT(sub(r, "$share/g/x/y", 9, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "$share/g/x/y", 9, 1), 0);
    TN_EXPECT_EQ_INT(sub(r, "$share/h/x/y", 9, 1), 1);
    TN_EXPECT_EQ_INT(tn_router_count(r), 4);
    tn_router_free(r);
}

TN_TEST(unsubscribe_enoent_and_invalid)
{
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    TN_EXPECT_EQ_INT(unsub(r, "a/b", 1), -ENOENT);
    TN_EXPECT_EQ_INT(sub(r, "a/b", 1, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "$share/g/a/b", 1, 0), 1);
    TN_EXPECT_EQ_INT(unsub(r, "a/b", 2), -ENOENT);   /* other subscriber */
    TN_EXPECT_EQ_INT(unsub(r, "a", 1), -ENOENT);     /* a prefix node */
    TN_EXPECT_EQ_INT(unsub(r, "a/b/c", 1), -ENOENT); /* deeper */
    TN_EXPECT_EQ_INT(unsub(r, "a/+", 1), -ENOENT);
    TN_EXPECT_EQ_INT(unsub(r, "$share/h/a/b", 1), -ENOENT); /* other group */
    TN_EXPECT_EQ_INT(unsub(r, "$share/g/a/b", 2), -ENOENT);
    TN_EXPECT_EQ_INT(unsub(r, "a/b", 1), 0);
    TN_EXPECT_EQ_INT(unsub(r, "a/b", 1), -ENOENT);
    TN_EXPECT_EQ_INT(tn_router_count(r), 1);
    TN_EXPECT_EQ_INT(unsub(r, "$share/g/a/b", 1), 0);
    TN_EXPECT_EQ_INT(unsub(r, "$share/g/a/b", 1), -ENOENT);
    TN_EXPECT_EQ_INT(tn_router_count(r), 0);
    TN_EXPECT_EQ_INT(tn_router_nodes(r), 0);

    static const char *bad[] = {"",         "a/#/b",     "a+",        "a/b#",        "#/a",
                                "$share/g", "$share//a", "$share/g/", "$share/g+/a", "$share/g#/a"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        TN_EXPECT_EQ_INT(sub(r, bad[i], 1, 0), -EINVAL);
        TN_EXPECT_EQ_INT(unsub(r, bad[i], 1), -EINVAL);
    }
    TN_EXPECT_EQ_INT(tn_router_subscribe(r, (tern_slice){NULL, 0}, 1, NULL), -EINVAL);
    static const uint8_t badutf8[] = {'a', '/', 0xff};
    TN_EXPECT_EQ_INT(tn_router_subscribe(r, (tern_slice){badutf8, 3}, 1, NULL), -EINVAL);
    /* NULL options are all-zero options. */
    TN_EXPECT_EQ_INT(tn_router_subscribe(r, TERN_SLICE_STR("q"), 1, NULL), 1);
    TN_EXPECT_EQ_INT(match(r, "q")->o[0].qos, 0);
    TN_EXPECT_EQ_INT(tn_router_count(r), 1);
    tn_router_free(r);
}

/* ---- shared subscriptions ------------------------------------------------------------------- */

TN_TEST(shared_groups_round_robin_4_8_2)
{
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    for (uint64_t m = 1; m <= 3; m++)
        TN_EXPECT_EQ_INT(sub(r, "$share/g1/a/b", m, 1), 1);
    TN_EXPECT_EQ_INT(sub(r, "$share/g2/a/b", 4, 2), 1);
    TN_EXPECT_EQ_INT(sub(r, "$share/g3/a/+", 5, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "a/b", 6, 0), 1);
    TN_EXPECT_EQ_INT(tn_router_count(r), 6);
    size_t cnt[8] = {0};
    for (int i = 0; i < 300; i++) {
        struct hits *h = match(r, "a/b");
        /* One member of each of the three groups plus the plain subscriber. */
        TN_REQUIRE(h->n == 4);
        size_t g1 = 0;
        for (size_t k = 0; k < h->n; k++) {
            cnt[h->sub[k]]++;
            if (h->sub[k] == 6) {
                TN_EXPECT(h->share[k] == NULL);
                continue;
            }
            TN_REQUIRE(h->share[k] != NULL);
            tern_slice name = tn_router_share_name(h->share[k]);
            if (h->sub[k] <= 3) {
                g1++;
                TN_EXPECT_SLICE_STR(name, "g1");
                TN_EXPECT_SLICE_STR(tn_router_share_filter(h->share[k]), "$share/g1/a/b");
                TN_EXPECT_EQ_INT(h->o[k].qos, 1);
            } else if (h->sub[k] == 4) {
                TN_EXPECT_SLICE_STR(name, "g2");
                TN_EXPECT_EQ_INT(h->o[k].qos, 2);
            } else {
                TN_EXPECT_SLICE_STR(name, "g3");
            }
        }
        TN_EXPECT_EQ_INT(g1, 1);
    }
    /* Single-threaded, the cursor advances by one per match: an exact spread. */
    TN_EXPECT_EQ_INT(cnt[1], 100);
    TN_EXPECT_EQ_INT(cnt[2], 100);
    TN_EXPECT_EQ_INT(cnt[3], 100);
    TN_EXPECT_EQ_INT(cnt[4], 300);
    TN_EXPECT_EQ_INT(cnt[5], 300);
    TN_EXPECT_EQ_INT(cnt[6], 300);

    /* A member leaving: the others share the load. */
    TN_EXPECT_EQ_INT(unsub(r, "$share/g1/a/b", 2), 0);
    memset(cnt, 0, sizeof cnt);
    for (int i = 0; i < 100; i++) {
        struct hits *h = match(r, "a/b");
        for (size_t k = 0; k < h->n; k++)
            cnt[h->sub[k]]++;
    }
    TN_EXPECT_EQ_INT(cnt[1], 50);
    TN_EXPECT_EQ_INT(cnt[2], 0);
    TN_EXPECT_EQ_INT(cnt[3], 50);
    tn_router_free(r);
}

TN_TEST(many_groups_on_one_filter)
{
    enum { G = 1000 };
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    char f[64];
    for (int g = 0; g < G; g++)
        for (uint64_t m = 0; m < 2; m++) {
            snprintf(f, sizeof f, "$share/grp%d/x/+", g);
            TN_REQUIRE(sub(r, f, (uint64_t)g * 2 + m, 0) == 1);
        }
    TN_EXPECT_EQ_INT(sub(r, "$share/grp7/x/+", 14, 2), 0);
    struct hits *h = match(r, "x/y");
    TN_EXPECT_EQ_INT(h->n, G);
    static bool seen[G];
    memset(seen, 0, sizeof seen);
    for (size_t k = 0; k < h->n && k < MAXHIT; k++) {
        int g = (int)(h->sub[k] / 2);
        TN_REQUIRE(g < G && !seen[g]);
        seen[g] = true;
        char want[16];
        snprintf(want, sizeof want, "grp%d", g);
        TN_EXPECT_SLICE_STR(tn_router_share_name(h->share[k]), want);
    }
    for (int g = 0; g < G; g += 2) /* every other group loses one member, then the other */
        for (uint64_t m = 0; m < 2; m++) {
            snprintf(f, sizeof f, "$share/grp%d/x/+", g);
            TN_REQUIRE(unsub(r, f, (uint64_t)g * 2 + m) == 0);
        }
    TN_EXPECT_EQ_INT(match(r, "x/y")->n, G / 2);
    for (int g = 1; g < G; g += 2)
        for (uint64_t m = 0; m < 2; m++) {
            snprintf(f, sizeof f, "$share/grp%d/x/+", g);
            TN_REQUIRE(unsub(r, f, (uint64_t)g * 2 + m) == 0);
        }
    TN_EXPECT_EQ_INT(match(r, "x/y")->n, 0);
    TN_EXPECT_EQ_INT(tn_router_count(r), 0);
    TN_EXPECT_EQ_INT(tn_router_nodes(r), 0);
    tn_router_free(r);
}

TN_TEST(shared_pick_other_member)
{
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    uint64_t out = 0;
    struct tn_sub_opts o;
    TN_EXPECT_EQ_INT(tn_router_share_pick(r, TERN_SLICE_STR("$share/g/a"), 1, &out, &o), -ENOENT);
    TN_EXPECT_EQ_INT(tn_router_share_pick(r, TERN_SLICE_STR("a"), 1, &out, &o), -EINVAL);
    TN_EXPECT_EQ_INT(sub(r, "$share/g/a", 1, 1), 1);
    TN_EXPECT_EQ_INT(tn_router_share_pick(r, TERN_SLICE_STR("$share/g/a"), 1, &out, &o), -ENOENT);
    TN_EXPECT_EQ_INT(tn_router_share_pick(r, TERN_SLICE_STR("$share/g/a"), 9, &out, &o), 0);
    TN_EXPECT_EQ_U64(out, 1);
    TN_EXPECT_EQ_INT(o.qos, 1);
    for (uint64_t m = 2; m <= 4; m++)
        TN_EXPECT_EQ_INT(sub(r, "$share/g/a", m, (uint8_t)(m % 3)), 1);
    size_t cnt[5] = {0};
    for (int i = 0; i < 300; i++) {
        TN_REQUIRE(tn_router_share_pick(r, TERN_SLICE_STR("$share/g/a"), 2, &out, &o) == 0);
        TN_REQUIRE(out >= 1 && out <= 4);
        TN_EXPECT_EQ_INT(o.qos, out == 1 ? 1 : out % 3);
        cnt[out]++;
    }
    TN_EXPECT_EQ_INT(cnt[2], 0);
    TN_EXPECT(cnt[1] >= 50 && cnt[3] >= 50 && cnt[4] >= 50);
    TN_EXPECT_EQ_INT(tn_router_share_pick(r, TERN_SLICE_STR("$share/h/a"), 2, &out, &o), -ENOENT);
    TN_EXPECT_EQ_INT(tn_router_share_pick(r, TERN_SLICE_STR("$share/g/a/b"), 2, &out, &o), -ENOENT);
    tn_router_free(r);
}

/* ---- scale, pruning, depth ------------------------------------------------------------------ */

TN_TEST(prune_100k_distinct_filters)
{
    enum { N = 100000 };
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    char f[64];
    for (int round = 0; round < 2; round++) {
        for (int i = 0; i < N; i++) {
            snprintf(f, sizeof f, "devices/%d/state", i);
            TN_REQUIRE(sub(r, f, (uint64_t)i, 0) == 1);
        }
        for (int i = 0; i < N; i += 1000) {
            snprintf(f, sizeof f, i % 2 ? "x/%d/+/#" : "$share/g/y/%d", i);
            TN_REQUIRE(sub(r, f, (uint64_t)i, 0) == 1);
        }
        TN_EXPECT_EQ_INT(tn_router_count(r), N + N / 1000);
        TN_EXPECT(tn_router_nodes(r) >= 2 * N + 1);
        for (int i = 0; i < N; i += 997) {
            snprintf(f, sizeof f, "devices/%d/state", i);
            struct hits *h = match(r, f);
            TN_EXPECT_EQ_INT(h->n, 1);
            TN_EXPECT_EQ_INT(hits_of(h, (uint64_t)i), 1);
        }
        TN_EXPECT_EQ_INT(match(r, "devices/100000/state")->n, 0);
        TN_EXPECT_EQ_INT(match(r, "devices/7")->n, 0);
        /* Unsubscribe in a scrambled order. */
        for (int k = 0; k < N; k++) {
            int i = (int)(((uint64_t)k * 7919) % N);
            snprintf(f, sizeof f, "devices/%d/state", i);
            TN_REQUIRE(unsub(r, f, (uint64_t)i) == 0);
        }
        for (int i = 0; i < N; i += 1000) {
            snprintf(f, sizeof f, i % 2 ? "x/%d/+/#" : "$share/g/y/%d", i);
            TN_REQUIRE(unsub(r, f, (uint64_t)i) == 0);
        }
        TN_EXPECT_EQ_INT(tn_router_count(r), 0);
        TN_EXPECT_EQ_INT(tn_router_nodes(r), 0);
    }
    tn_router_free(r);
}

TN_TEST(free_with_100k_inside)
{
    /* Freed in place (ASan checks nothing leaks), in time linear in its size. */
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    char f[64];
    for (int i = 0; i < 100000; i++) {
        snprintf(f, sizeof f, i % 3 ? "d/%d/+" : "$share/g%d/d/#", i);
        TN_REQUIRE(sub(r, f, (uint64_t)i, 0) == 1);
        TN_REQUIRE(sub(r, "d/#", (uint64_t)i, 0) == 1);
    }
    TN_EXPECT_EQ_INT(tn_router_count(r), 200000);
    /* "d/#" of every subscriber, one member of each of the 33334 groups; "d/3/+" is not there. */
    TN_EXPECT_EQ_INT(match(r, "d/3/x")->n, 100000 + 33334);
    tn_router_free(r);
}

TN_TEST(many_subscribers_on_one_filter)
{
    enum { N = 3000 };
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    static bool in[N];
    memset(in, 0, sizeof in);
    for (int i = 0; i < N; i++) {
        TN_REQUIRE(sub(r, "s/t", (uint64_t)i * 0x10001, 0) == 1);
        in[i] = true;
    }
    TN_EXPECT_EQ_INT(sub(r, "s/t", 5 * 0x10001, 2), 0);
    rng_state = 99;
    int left = N;
    while (left > 0) {
        int i = (int)(rnd() % N);
        if (!in[i]) {
            TN_EXPECT_EQ_INT(unsub(r, "s/t", (uint64_t)i * 0x10001), -ENOENT);
            continue;
        }
        TN_REQUIRE(unsub(r, "s/t", (uint64_t)i * 0x10001) == 0);
        in[i] = false;
        left--;
        if (left % 101 == 0 || left < 20) {
            struct hits *h = match(r, "s/t");
            TN_REQUIRE(h->n == (size_t)left);
            static bool seen[N];
            memset(seen, 0, sizeof seen);
            for (size_t k = 0; k < h->n; k++) {
                uint64_t s = h->sub[k] / 0x10001;
                TN_REQUIRE(s < N && in[s] && !seen[s]);
                seen[s] = true;
            }
        }
    }
    TN_EXPECT_EQ_INT(tn_router_count(r), 0);
    TN_EXPECT_EQ_INT(tn_router_nodes(r), 0);
    tn_router_free(r);
}

TN_TEST(deep_topics_do_not_recurse)
{
    /* 32767 levels: "a/a/.../a" (65533 bytes) and filters as deep. */
    enum { LV = 32767 };
    size_t n = 2 * LV - 1;
    char *t = malloc(n + 1), *fp = malloc(n + 1), *fh = malloc(n + 1);
    TN_REQUIRE(t && fp && fh);
    for (size_t i = 0; i < n; i++) {
        t[i] = i % 2 ? '/' : 'a';
        fp[i] = i % 2 ? '/' : (i % 4 == 0 ? '+' : 'a');
        fh[i] = t[i];
    }
    t[n] = fp[n] = fh[n] = 0;
    fh[n - 1] = '#'; /* "a/a/.../#" */
    struct tn_router *r = tn_router_new();
    TN_REQUIRE(r);
    TN_EXPECT_EQ_INT(sub(r, t, 1, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, fp, 2, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, fh, 3, 0), 1);
    TN_EXPECT_EQ_INT(sub(r, "#", 4, 0), 1);
    struct hits *h = match(r, t);
    TN_EXPECT_EQ_INT(h->n, 4);
    for (uint64_t s = 1; s <= 4; s++)
        TN_EXPECT_EQ_INT(hits_of(h, s), 1);
    TN_EXPECT_EQ_INT(match(r, "a/a")->n, 1);
    TN_EXPECT_EQ_INT(unsub(r, t, 1), 0);
    TN_EXPECT_EQ_INT(unsub(r, fp, 2), 0);
    TN_EXPECT_EQ_INT(unsub(r, "#", 4), 0);
    TN_EXPECT(tn_router_nodes(r) >= LV);
    tn_router_free(r); /* frees the remaining deep chain without recursion */
    free(t);
    free(fp);
    free(fh);
}

/* ---- the literal-children map --------------------------------------------------------------- */

struct tnode {
    int id;
    struct tn_lnode ln;
};

TN_TEST(lmap_insert_find_remove_iterate)
{
    enum { N = 2000 };
    uint64_t seed = tn_lmap_seed();
    struct tnode *root = calloc(1, sizeof *root);
    static struct tnode *nodes[N];
    static bool in[N];
    char k[16];
    TN_REQUIRE(root);
    for (int i = 0; i < N; i++) {
        int kl = snprintf(k, sizeof k, "k%d", i);
        nodes[i] = calloc(1, sizeof(struct tnode) + (size_t)kl);
        TN_REQUIRE(nodes[i]);
        nodes[i]->id = i;
        nodes[i]->ln.klen = (uint16_t)kl;
        memcpy(nodes[i]->ln.key, k, (size_t)kl);
        nodes[i]->ln.hash = tn_lmap_hash(seed, (const uint8_t *)k, (size_t)kl);
    }
    rng_state = 7;
    int ops = 0;
    /* Grow to N, shrink to 0, twice, with random interleaving; check all at checkpoints. */
    for (int phase = 0; phase < 4; phase++) {
        bool grow = phase % 2 == 0;
        for (;;) {
            if ((int)root->ln.nkids == (grow ? N : 0))
                break;
            int i = (int)(rnd() % N);
            if (in[i] == grow)
                continue;
            if (grow) {
                TN_REQUIRE(tn_lmap_insert(&root->ln, &nodes[i]->ln) == 0);
                TN_EXPECT(nodes[i]->ln.parent == &root->ln);
            } else {
                tn_lmap_remove(&root->ln, &nodes[i]->ln);
            }
            in[i] = grow;
            if (++ops % 97 && root->ln.nkids > 20 && root->ln.nkids < N - 20)
                continue;
            size_t seen = 0;
            for (struct tn_lnode *c = tn_lmap_next(&root->ln, NULL); c;
                 c = tn_lmap_next(&root->ln, c)) {
                int id = ((struct tnode *)((char *)c - offsetof(struct tnode, ln)))->id;
                TN_REQUIRE(in[id]);
                seen++;
            }
            TN_REQUIRE(seen == root->ln.nkids);
            for (int j = 0; j < N; j++) {
                int kl = snprintf(k, sizeof k, "k%d", j);
                struct tn_lnode *c = tn_lmap_find(&root->ln, (const uint8_t *)k, (size_t)kl, seed);
                TN_REQUIRE(c == (in[j] ? &nodes[j]->ln : NULL));
            }
        }
    }
    TN_EXPECT_EQ_INT(root->ln.cap, 0);
    tn_lmap_fini(&root->ln);
    free(root);
    for (int i = 0; i < N; i++)
        free(nodes[i]);
}

/* ---- concurrency ---------------------------------------------------------------------------- */

struct mt {
    struct tn_router *r;
    atomic_int done;
    atomic_long rounds; /* writer rounds completed */
    atomic_long errors;
    atomic_long matches;
};

struct mt_hits {
    int plain, hash, shared, churn;
};

static void mt_hit(void *ctx, uint64_t s, const struct tn_sub_opts *o, const struct tn_share *sh)
{
    struct mt_hits *h = ctx;
    (void)o;
    if (s == 1)
        h->plain++;
    else if (s == 2)
        h->hash++;
    else if ((s == 3 || s == 4) && sh)
        h->shared++;
    else
        h->churn++;
}

static void *mt_reader(void *arg)
{
    struct mt *m = arg;
    static const char *topics[] = {"s/a/x", "s/b/x", "s/c/x", "s/a/x"};
    /* At least 20000 matches, and until the writer has done 50 rounds meanwhile. */
    for (long i = 0; i < 20000 || atomic_load(&m->rounds) < 50; i++) {
        struct mt_hits h = {0};
        tn_router_match(m->r, tern_slice_cstr(topics[i % 4]), mt_hit, &h);
        /* The stable subscriptions are always there exactly once, whatever churns. */
        if (h.plain != 1 || h.hash != 1 || h.shared != 1)
            atomic_fetch_add(&m->errors, 1);
        atomic_fetch_add_explicit(&m->matches, 1, memory_order_relaxed);
    }
    return NULL;
}

static void *mt_writer(void *arg)
{
    struct mt *m = arg;
    char f[64];
    uint64_t x = 42;
    long rounds = 0;
    while (!atomic_load(&m->done) || rounds < 200) {
        for (int i = 0; i < 50; i++) {
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
            int k = (int)((x >> 33) % 64);
            switch (k % 4) {
            case 0: snprintf(f, sizeof f, "s/%c/x", 'a' + k % 3); break;
            case 1: snprintf(f, sizeof f, "s/+/%d", k); break;
            case 2: snprintf(f, sizeof f, "$share/c%d/s/#", k % 5); break;
            default: snprintf(f, sizeof f, "s/n%d/x/#", k); break;
            }
            if (sub(m->r, f, 100 + (uint64_t)k, 0) < 0)
                atomic_fetch_add(&m->errors, 1);
        }
        for (int k = 0; k < 64; k++) {
            switch (k % 4) {
            case 0: snprintf(f, sizeof f, "s/%c/x", 'a' + k % 3); break;
            case 1: snprintf(f, sizeof f, "s/+/%d", k); break;
            case 2: snprintf(f, sizeof f, "$share/c%d/s/#", k % 5); break;
            default: snprintf(f, sizeof f, "s/n%d/x/#", k); break;
            }
            int rc = unsub(m->r, f, 100 + (uint64_t)k);
            if (rc != 0 && rc != -ENOENT)
                atomic_fetch_add(&m->errors, 1);
        }
        rounds++;
        atomic_store(&m->rounds, rounds);
    }
    return NULL;
}

TN_TEST(concurrent_match_while_subscribing)
{
    struct mt m = {.r = tn_router_new()};
    TN_REQUIRE(m.r);
    TN_EXPECT_EQ_INT(sub(m.r, "s/+/x", 1, 0), 1);
    TN_EXPECT_EQ_INT(sub(m.r, "s/#", 2, 0), 1);
    TN_EXPECT_EQ_INT(sub(m.r, "$share/g/s/+/x", 3, 0), 1);
    TN_EXPECT_EQ_INT(sub(m.r, "$share/g/s/+/x", 4, 0), 1);
    pthread_t rd[4], wr;
    TN_REQUIRE(pthread_create(&wr, NULL, mt_writer, &m) == 0);
    for (int i = 0; i < 4; i++)
        TN_REQUIRE(pthread_create(&rd[i], NULL, mt_reader, &m) == 0);
    for (int i = 0; i < 4; i++)
        pthread_join(rd[i], NULL);
    atomic_store(&m.done, 1);
    pthread_join(wr, NULL);
    TN_EXPECT_EQ_INT(atomic_load(&m.errors), 0);
    TN_EXPECT(atomic_load(&m.matches) >= 80000);
    TN_EXPECT_EQ_INT(tn_router_count(m.r), 4);
    TN_EXPECT_EQ_INT(unsub(m.r, "s/+/x", 1), 0);
    TN_EXPECT_EQ_INT(unsub(m.r, "s/#", 2), 0);
    TN_EXPECT_EQ_INT(unsub(m.r, "$share/g/s/+/x", 3), 0);
    TN_EXPECT_EQ_INT(unsub(m.r, "$share/g/s/+/x", 4), 0);
    TN_EXPECT_EQ_INT(tn_router_nodes(m.r), 0);
    tn_router_free(m.r);
}

TN_TEST_MAIN()
