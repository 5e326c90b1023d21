/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_topic.c - libFuzzer target for topic names, topic filters, shared subscriptions
 * and matching (5.0 4.7 and 4.8.2; 3.1.1 4.7).
 *
 * Input: two strings split at the first 0xFF byte (a byte that never occurs in valid UTF-8, so
 * no valid string is lost); without one, both strings are the whole input.
 * Oracles, for each string and pair:
 *  - tern_topic_name_is_valid == (1..65535 bytes, valid UTF-8, no '+' or '#') [MQTT-4.7.3-1];
 *  - tern_topic_filter_is_valid agrees with a level-by-level reference [MQTT-4.7.1-2]
 *    [MQTT-4.7.1-3], "$share/" filters with the shared-subscription rules [MQTT-4.8.2-1]
 *    [MQTT-4.8.2-2]; tern_shared_parse returns 0 exactly without the prefix, and on 1 gives
 *    views inside the input that reassemble it;
 *  - a valid filter without wildcards is a valid name and matches itself;
 *  - "#" matches every valid name not starting with '$', and no '$' name [MQTT-4.7.2-1];
 *  - for a valid filter and a valid name, tern_topic_matches agrees with a reference matcher.
 * Owns: nothing. Thread: the fuzz driver's.
 */
#include "fuzz_common.h"

static bool has_wild(const uint8_t *p, size_t n)
{
    return n && (memchr(p, '+', n) || memchr(p, '#', n));
}

/* Length of the level starting at p (up to the next '/' or the end). */
static size_t level_len(const uint8_t *p, size_t n)
{
    const uint8_t *s = n ? memchr(p, '/', n) : NULL;
    return s ? (size_t)(s - p) : n;
}

/* Filter syntax without "$share/": every level is "+", "#" (last only) or wildcard-free. */
static bool ref_plain_filter(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 65535 || !tern_utf8_is_valid(p, n))
        return false;
    size_t i = 0;
    for (;;) {
        size_t l = level_len(p + i, n - i);
        bool last = i + l == n;
        if (l == 1 && p[i] == '#') {
            if (!last)
                return false;
        } else if (!(l == 1 && p[i] == '+') && has_wild(p + i, l)) {
            return false;
        }
        if (last)
            return true;
        i += l + 1;
    }
}

/* "$share/{group}/{filter}": 1 valid, 0 no prefix, -1 invalid. */
static int ref_shared(tern_slice s, tern_slice *g, tern_slice *f)
{
    if (!fz_slice_has_prefix(s, "$share/"))
        return 0;
    const uint8_t *p = s.p + 7;
    size_t n = s.n - 7;
    size_t gl = level_len(p, n);
    if (gl == n || gl == 0 || has_wild(p, gl) || !tern_utf8_is_valid(p, gl))
        return -1;
    if (!ref_plain_filter(p + gl + 1, n - gl - 1))
        return -1;
    *g = (tern_slice){p, gl};
    *f = (tern_slice){p + gl + 1, n - gl - 1};
    return 1;
}

static bool ref_filter(tern_slice s)
{
    tern_slice g, f;
    int r = ref_shared(s, &g, &f);
    if (r)
        return r > 0 && s.n <= 65535;
    return ref_plain_filter(s.p, s.n);
}

/* Level-by-level matching of a valid filter against a valid name (4.7.1). */
static bool ref_match_levels(const uint8_t *f, size_t fn, const uint8_t *t, size_t tn)
{
    bool t_done = false; /* every level of t consumed */
    for (;;) {
        size_t fl = level_len(f, fn);
        if (fl == 1 && f[0] == '#')
            return true; /* the rest, including no level at all ("a/#" matches "a") */
        if (t_done)
            return false;
        size_t tl = level_len(t, tn);
        if (!(fl == 1 && f[0] == '+') && (fl != tl || memcmp(f, t, fl) != 0))
            return false;
        bool t_last = tl == tn;
        if (fl == fn)
            return t_last;
        f += fl + 1;
        fn -= fl + 1;
        if (t_last) {
            t_done = true;
        } else {
            t += tl + 1;
            tn -= tl + 1;
        }
    }
}

static bool ref_match(tern_slice f, tern_slice t)
{
    tern_slice g, sf;
    if (ref_shared(f, &g, &sf) == 1)
        f = sf;
    if (t.p[0] == '$' && (f.p[0] == '+' || f.p[0] == '#'))
        return false; /* [MQTT-4.7.2-1] */
    return ref_match_levels(f.p, f.n, t.p, t.n);
}

/* Checks on one string alone; returns whether it is a valid name / filter. */
static void check_one(tern_slice s, bool *name_ok, bool *filter_ok)
{
    bool nv = tern_topic_name_is_valid(s.p, s.n);
    bool nv_ref = s.n >= 1 && s.n <= 65535 && !has_wild(s.p, s.n) && tern_utf8_is_valid(s.p, s.n);
    FZ_CHECK(nv == nv_ref, "name_is_valid %d, reference %d", nv, nv_ref);

    bool fv = tern_topic_filter_is_valid(s.p, s.n);
    bool fv_ref = ref_filter(s);
    FZ_CHECK(fv == fv_ref, "filter_is_valid %d, reference %d", fv, fv_ref);

    tern_slice g = {NULL, 12345}, f = {NULL, 12345}, rg, rf;
    int r = tern_shared_parse(s, &g, &f);
    int rr = ref_shared(s, &rg, &rf);
    FZ_CHECK(r == 0 || r == 1 || r == -EINVAL, "shared_parse returned %d", r);
    FZ_CHECK((r == 0) == (rr == 0), "shared_parse %d, prefix check %d", r, rr);
    FZ_CHECK((r == 1) == (rr == 1), "shared_parse %d, reference %d", r, rr);
    if (r == 0) {
        FZ_CHECK(g.p == NULL && g.n == 12345 && f.p == NULL && f.n == 12345,
                 "shared_parse touched group/filter without the prefix");
    } else if (r == 1) {
        FZ_CHECK(fz_slice_inside(g, s.p, s.n) && fz_slice_inside(f, s.p, s.n),
                 "shared_parse views outside the input");
        FZ_CHECK(g.n >= 1 && f.n >= 1 && g.p == s.p + 7 && f.p == g.p + g.n + 1 &&
                     g.p[g.n] == '/' && 7 + g.n + 1 + f.n == s.n,
                 "shared_parse views do not reassemble the input");
        FZ_CHECK(memchr(g.p, '/', g.n) == NULL, "group contains '/'");
        /* The filter part is checked as a plain filter (even if it starts "$share/"). */
        FZ_CHECK(ref_plain_filter(f.p, f.n), "shared filter part invalid");
    }

    if (fv && !has_wild(s.p, s.n)) {
        if (r == 1) {
            FZ_CHECK(tern_topic_matches(s, f), "shared filter does not match its filter");
        } else {
            FZ_CHECK(nv, "wildcard-free filter is not a valid name");
            FZ_CHECK(tern_topic_matches(s, s), "wildcard-free filter does not match itself");
        }
    }
    if (nv) {
        bool m = tern_topic_matches(TERN_SLICE_STR("#"), s);
        FZ_CHECK(m == (s.p[0] != '$'), "\"#\" vs name: %d", m);
        if (!fz_slice_has_prefix(s, "$share/"))
            FZ_CHECK(fv, "a valid name without $share/ is not a valid filter");
    }
    *name_ok = nv;
    *filter_ok = fv;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = fz_dup(data, size);
    const uint8_t *sep = size ? memchr(buf, 0xff, size) : NULL;
    tern_slice a = {buf, size}, b = a;
    if (sep) {
        a.n = (size_t)(sep - buf);
        b = (tern_slice){sep + 1, size - a.n - 1};
    }
    bool an, af, bn, bf;
    check_one(a, &an, &af);
    check_one(b, &bn, &bf);

    bool m = tern_topic_matches(a, b); /* never crashes, whatever the inputs */
    if (af && bn) {
        bool want = ref_match(a, b);
        FZ_CHECK(m == want, "topic_matches(filter, name) %d, reference %d", m, want);
    }
    m = tern_topic_matches(b, a);
    if (bf && an) {
        bool want = ref_match(b, a);
        FZ_CHECK(m == want, "topic_matches(name, filter) %d, reference %d", m, want);
    }
    free(buf);
    return 0;
}
