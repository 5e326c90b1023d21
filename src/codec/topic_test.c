/* SPDX-License-Identifier: MIT */
/*
 * src/codec/topic_test.c - unit tests for topic names, topic filters, shared subscriptions
 * and filter matching (tern_topic_name_is_valid, tern_topic_filter_is_valid,
 * tern_shared_parse, tern_topic_matches).
 *
 * Owns: nothing beyond its static tables and the buffers each test frees.
 * Thread: single-threaded test binary.
 * Spec: MQTT 5.0 4.7 (topics), 4.8.2 (shared subscriptions); 3.1.1 4.7. The two versions
 * number the wildcard rules differently: '#' is [MQTT-4.7.1-2] in 3.1.1 and [MQTT-4.7.1-1]
 * in 5.0, '+' is [MQTT-4.7.1-3] in 3.1.1 and [MQTT-4.7.1-2] in 5.0.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"

#include <tern/codec.h>

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

struct topic_row {
    const char *s;
    size_t n; /* strings may hold a NUL */
    bool ok;
};
/* clang-format off */
#define T(lit, ok) {lit, sizeof(lit) - 1, ok}
/* clang-format on */

static bool name_ok(const struct topic_row *r)
{
    return tern_topic_name_is_valid((const uint8_t *)r->s, r->n);
}
static bool filter_ok(const struct topic_row *r)
{
    return tern_topic_filter_is_valid((const uint8_t *)r->s, r->n);
}

static void check_rows(const struct topic_row *rows, size_t n, bool (*fn)(const struct topic_row *),
                       const char *what)
{
    for (size_t i = 0; i < n; i++) {
        if (fn(&rows[i]) != rows[i].ok) {
            TN_EXPECT(!"wrong verdict");
            fprintf(stderr, "    %s \"%.*s\" should be %s\n", what, (int)rows[i].n, rows[i].s,
                    rows[i].ok ? "valid" : "invalid");
        }
    }
}

/* ---- topic names ---------------------------------------------------------------------------- */

/* Topic names carry no wildcards [MQTT-3.3.2-2] (both versions; 5.0 also [MQTT-4.7.0-1],
 * 3.1.1 [MQTT-4.7.1-1]), are at least one character [MQTT-4.7.3-1], valid UTF-8 without U+0000
 * [MQTT-4.7.3-2]. '$' topics are ordinary names for the codec. */
/* clang-format off */
static const struct topic_row name_rows[] = {
    T("a", true),
    T("sport/tennis/player1", true),
    T("/", true),
    T("//", true),
    T("/finance", true),
    T("a/", true),
    T(" ", true),
    T("a b/c d", true),
    T("$SYS/x", true),
    T("$SYS", true),
    T("$share/g/a", true), /* not special in a PUBLISH topic */
    T("caf\xc3\xa9/\xe2\x82\xac", true),
    T("", false),
    T("+", false),
    T("#", false),
    T("a/+", false),
    T("a/#", false),
    T("+/a", false),
    T("sport+", false),
    T("a#b", false),
    T("a/b+c/d", false),
    T("a\x00" "b", false),
    T("a\xff", false),
    T("\xed\xa0\x80", false),
};
/* clang-format on */

TN_TEST(topic_name_table_v5_3_3_2_2_and_4_7_3_1)
{
    check_rows(name_rows, NROWS(name_rows), name_ok, "name");
}

/* A UTF-8 Encoded String is at most 65535 bytes [MQTT-1.5.4] / 4.7.3. */
TN_TEST(topic_name_length_limit_65535)
{
    size_t n = 65536;
    uint8_t *p = malloc(n);
    TN_REQUIRE(p != NULL);
    memset(p, 'a', n);
    TN_EXPECT(tern_topic_name_is_valid(p, 65535));
    TN_EXPECT(!tern_topic_name_is_valid(p, 65536));
    TN_EXPECT(tern_topic_filter_is_valid(p, 65535));
    p[65534] = '#'; /* wildcard in the very last byte */
    TN_EXPECT(!tern_topic_name_is_valid(p, 65535));
    free(p);
}

/* ---- topic filters -------------------------------------------------------------------------- */

/* clang-format off */
static const struct topic_row filter_rows[] = {
    T("a", true),
    T("+", true),
    T("#", true),
    T("/", true),
    T("//", true),
    T("a//b", true),
    T("+/+", true),
    T("/+", true),
    T("+/", true),
    T("+/+/+", true),
    T("a/+", true),
    T("a/#", true),
    T("/#", true),
    T("+/#", true),
    T("sport/tennis/player1/#", true),
    T("sport/tennis/+", true),
    T("+/tennis/#", true),
    T("sport/+/player1", true),
    T("$SYS/#", true),
    T("$SYS/monitor/+", true),
    T("$shared/g/a", true), /* not "$share/": an ordinary filter */
    T("$share", true),      /* likewise */
    T("$SHARE/g/#", true),  /* the prefix is case-sensitive */
    /* [MQTT-4.7.3-1] */
    T("", false),
    /* '#' last and alone in its level: 3.1.1 [MQTT-4.7.1-2], 5.0 [MQTT-4.7.1-1] */
    T("a/#/b", false),
    T("#/a", false),
    T("#/", false),
    T("a#", false),
    T("a/b#", false),
    T("##", false),
    T("#+", false),
    T("sport/tennis#", false),
    /* '+' a whole level: 3.1.1 [MQTT-4.7.1-3], 5.0 [MQTT-4.7.1-2] */
    T("sport+", false),
    T("sport/+tennis", false),
    T("+a", false),
    T("a+/b", false),
    T("++", false),
    T("+#", false),
    /* [MQTT-4.7.3-2] and [MQTT-1.5.4-1] */
    T("a\x00", false),
    T("\xc0\xaf", false),
    /* a "$share/" filter must be a valid shared subscription [MQTT-4.8.2-1] [MQTT-4.8.2-2] */
    T("$share/g/a", true),
    T("$share/g/#", true),
    T("$share/g/+/x", true),
    T("$share/g", false),
    T("$share/", false),
    T("$share//a", false),
    T("$share/g/", false),
    T("$share/g+/a", false),
    T("$share/g#/a", false),
    T("$share/+/a", false),
    T("$share/g/a/#/b", false),
    T("$share/g/sport+", false),
};
/* clang-format on */

TN_TEST(topic_filter_table_311_4_7_1_2_and_4_7_1_3)
{
    check_rows(filter_rows, NROWS(filter_rows), filter_ok, "filter");
}

/* ---- shared subscriptions ------------------------------------------------------------------- */

struct share_row {
    const char *f;
    int rc;
    const char *group, *filter;
};

static const struct share_row share_rows[] = {
    {"$share/g/a/b", 1, "g", "a/b"},
    {"$share/consumer1/sport/tennis/+", 1, "consumer1", "sport/tennis/+"},
    {"$share/consumer2/sport/tennis/+", 1, "consumer2", "sport/tennis/+"},
    {"$share/g//finance", 1, "g", "/finance"},
    {"$share/g/#", 1, "g", "#"},
    {"$share/g/+", 1, "g", "+"},
    {"$share/g/$SYS/x", 1, "g", "$SYS/x"},
    {"$share/gr\xc3\xa9/a", 1, "gr\xc3\xa9", "a"},
    /* ShareName at least one character [MQTT-4.8.2-1] */
    {"$share//a", -EINVAL, NULL, NULL},
    {"$share/", -EINVAL, NULL, NULL},
    /* no '+' or '#' in the ShareName, followed by '/' and a filter [MQTT-4.8.2-2] */
    {"$share/g", -EINVAL, NULL, NULL},
    {"$share/g/", -EINVAL, NULL, NULL},
    {"$share/g+/a", -EINVAL, NULL, NULL},
    {"$share/+/a", -EINVAL, NULL, NULL},
    {"$share/g#/a", -EINVAL, NULL, NULL},
    {"$share/#/a", -EINVAL, NULL, NULL},
    {"$share/g/a/#/b", -EINVAL, NULL, NULL},
    {"$share/g/sport+", -EINVAL, NULL, NULL},
    /* not a shared subscription at all */
    {"$shared/g/a", 0, NULL, NULL},
    {"$share", 0, NULL, NULL},
    {"$SHARE/g/a", 0, NULL, NULL},
    {"share/g/a", 0, NULL, NULL},
    {"a/$share/g/b", 0, NULL, NULL},
    {"#", 0, NULL, NULL},
};

TN_TEST(shared_parse_table_v5_4_8_2_1_and_4_8_2_2)
{
    static const uint8_t sentinel[] = "untouched";
    for (size_t i = 0; i < NROWS(share_rows); i++) {
        const struct share_row *r = &share_rows[i];
        tern_slice f = tern_slice_cstr(r->f);
        tern_slice g = {sentinel, 3}, flt = {sentinel, 4};
        int rc = tern_shared_parse(f, &g, &flt);
        if (rc != r->rc) {
            TN_EXPECT_EQ_INT(rc, r->rc);
            fprintf(stderr, "    row \"%s\"\n", r->f);
            continue;
        }
        if (rc == 1) {
            TN_EXPECT_SLICE_STR(g, r->group);
            TN_EXPECT_SLICE_STR(flt, r->filter);
            /* views into the input, not copies */
            TN_EXPECT(g.p == f.p + 7);
            TN_EXPECT(flt.p + flt.n == f.p + f.n);
        } else if (rc == 0) {
            TN_EXPECT(g.p == sentinel && g.n == 3);
            TN_EXPECT(flt.p == sentinel && flt.n == 4);
        }
    }
}

/* ---- matching ------------------------------------------------------------------------------- */

struct match_row {
    const char *f, *t;
    bool m;
};

/* The examples of 5.0 4.7.1 / 4.7.2 (same in 3.1.1), then edge cases. */
static const struct match_row match_rows[] = {
    /* 4.7.1.2 multi-level wildcard */
    {"sport/tennis/player1/#", "sport/tennis/player1", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
    {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
    {"sport/tennis/player1/#", "sport/tennis/player2", false},
    {"sport/tennis/player1/#", "sport/tennis", false},
    {"sport/#", "sport", true}, /* '#' includes the parent level */
    {"sport/#", "sport/tennis", true},
    {"sport/#", "sport/", true},
    {"sport/#", "sports", false},
    {"sport/#", "sport2/a", false},
    {"#", "sport", true},
    {"#", "sport/tennis/player1", true},
    {"#", "/", true},
    {"#", "/finance", true},
    {"/#", "/", true},
    {"/#", "/a/b", true},
    {"/#", "a", false},
    {"sport/tennis/#", "sport/tennisX", false},
    {"sport/tennis/#", "sport/tennis/x/y/z", true},
    /* 4.7.1.3 single-level wildcard */
    {"sport/tennis/+", "sport/tennis/player1", true},
    {"sport/tennis/+", "sport/tennis/player2", true},
    {"sport/tennis/+", "sport/tennis/player1/ranking", false},
    {"sport/+", "sport", false},
    {"sport/+", "sport/", true}, /* an empty level matches '+' */
    {"sport/+", "sport/a/", false},
    {"+", "sport", true},
    {"+", "/finance", false},
    {"+/+", "/finance", true},
    {"/+", "/finance", true},
    {"+/+", "a", false},
    {"+/+", "/", true},
    {"+/+/+", "a/b", false},
    {"+/tennis/#", "sport/tennis/player1", true},
    {"+/tennis/#", "sport/tennis", true},
    {"+/tennis/#", "sport/golf/x", false},
    {"sport/+/player1", "sport/tennis/player1", true},
    {"sport/+/player1", "sport//player1", true},
    {"sport/+/player1", "sport/tennis/player2", false},
    {"a/+/#", "a/b", true},
    {"a/+/#", "a", false},
    /* exact, empty levels, case */
    {"a/b", "a/b", true},
    {"a/b", "a/b/c", false},
    {"a/b", "a", false},
    {"a/b", "a/bc", false},
    {"a/b", "a/b/", false},
    {"a/b/", "a/b", false},
    {"a/b", "A/b", false},
    {"/", "/", true},
    {"//", "//", true},
    {"//", "/", false},
    {"a//b", "a//b", true},
    {"a//b", "a/b", false},
    /* 4.7.2: wildcards at the start do not match '$' topics [MQTT-4.7.2-1] */
    {"#", "$SYS", false},
    {"#", "$SYS/monitor/Clients", false},
    {"+", "$SYS", false},
    {"+/monitor/Clients", "$SYS/monitor/Clients", false},
    {"+/#", "$SYS/x", false},
    {"$SYS/#", "$SYS/monitor/Clients", true},
    {"$SYS/#", "$SYS", true},
    {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
    {"$SYS/#", "SYS/x", false},
    {"$SYS/#", "a", false},
    {"#", "a$", true}, /* only a leading '$' is special */
    {"+/$x", "a/$x", true},
    {"$foo", "$foo", true},
    /* a "$share/" filter is matched by its filter part */
    {"$share/g/sport/#", "sport/tennis", true},
    {"$share/g/sport/#", "g/sport/tennis", false},
    {"$share/g/a", "a", true},
    {"$share/g/a", "b", false},
    {"$share/g/+", "x", true},
    {"$share/g/#", "$SYS/x", false}, /* [MQTT-4.7.2-1] still applies */
    {"$share/g/$SYS/#", "$SYS/x", true},
};

TN_TEST(topic_matches_spec_examples_v5_4_7_2_1)
{
    for (size_t i = 0; i < NROWS(match_rows); i++) {
        const struct match_row *r = &match_rows[i];
        bool m = tern_topic_matches(tern_slice_cstr(r->f), tern_slice_cstr(r->t));
        if (m != r->m) {
            TN_EXPECT(!"wrong match result");
            fprintf(stderr, "    filter \"%s\" topic \"%s\" should %smatch\n", r->f, r->t,
                    r->m ? "" : "not ");
        }
    }
}

/* Slices are length-delimited: bytes beyond n never influence the answer. */
TN_TEST(topic_matches_uses_slice_lengths)
{
    const char *f = "a/b/#xyz", *t = "a/b/cdef";
    TN_EXPECT(tern_topic_matches((tern_slice){(const uint8_t *)f, 5},
                                 (tern_slice){(const uint8_t *)t, 3})); /* "a/b/#" vs "a/b" */
    TN_EXPECT(!tern_topic_matches((tern_slice){(const uint8_t *)f, 3},
                                  (tern_slice){(const uint8_t *)t, 4})); /* "a/b" vs "a/b/" */
    TN_EXPECT(tern_topic_matches((tern_slice){(const uint8_t *)f, 3},
                                 (tern_slice){(const uint8_t *)t, 3}));
    TN_EXPECT(!tern_topic_name_is_valid((const uint8_t *)f, 5));
    TN_EXPECT(tern_topic_name_is_valid((const uint8_t *)f, 4));
    TN_EXPECT(tern_topic_filter_is_valid((const uint8_t *)f, 5));
    TN_EXPECT(!tern_topic_filter_is_valid((const uint8_t *)f, 6));
}

/* Every filter that is a valid topic name (no wildcards) matches exactly itself. */
TN_TEST(topic_matches_literal_filter_is_equality)
{
    for (size_t i = 0; i < NROWS(name_rows); i++) {
        if (!name_rows[i].ok)
            continue;
        tern_slice a = {(const uint8_t *)name_rows[i].s, name_rows[i].n};
        for (size_t j = 0; j < NROWS(name_rows); j++) {
            if (!name_rows[j].ok)
                continue;
            tern_slice b = {(const uint8_t *)name_rows[j].s, name_rows[j].n};
            if (a.n >= 7 && memcmp(a.p, "$share/", 7) == 0)
                continue; /* "$share/g/a" as a filter is a share of "a" */
            bool want = a.n == b.n && memcmp(a.p, b.p, a.n) == 0;
            if (tern_topic_matches(a, b) != want) {
                TN_EXPECT(!"literal filter mismatch");
                fprintf(stderr, "    \"%.*s\" vs \"%.*s\"\n", TERN_SLICE_FMT(a), TERN_SLICE_FMT(b));
            }
        }
    }
}

TN_TEST_MAIN()
