/* SPDX-License-Identifier: MIT */
/*
 * src/codec/topic.c - topic name and topic filter rules, shared subscription syntax and
 * filter matching (4.7 and 4.8.2 in 5.0; 4.7 in 3.1.1).
 *
 * Owns: nothing. Thread: any.
 */
#include "codec_internal.h"

bool tern_topic_name_is_valid(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 65535)
        return false;
    /* No wildcard in a topic name [MQTT-3.3.2-2] [MQTT-4.7.3-1]. */
    if (memchr(p, '+', n) || memchr(p, '#', n))
        return false;
    return tern_utf8_is_valid(p, n);
}

/* Filter syntax without the "$share/" treatment. */
static bool topic_plain_filter_is_valid(const uint8_t *p, size_t n)
{
    if (n == 0 || n > 65535)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '+') {
            /* '+' occupies an entire level [MQTT-4.7.1-2]. */
            if ((i > 0 && p[i - 1] != '/') || (i + 1 < n && p[i + 1] != '/'))
                return false;
        } else if (p[i] == '#') {
            /* '#' is a whole level and the last character [MQTT-4.7.1-1]. */
            if ((i > 0 && p[i - 1] != '/') || i + 1 != n)
                return false;
        }
    }
    return tern_utf8_is_valid(p, n);
}

#define SHARE_PREFIX "$share/"
#define SHARE_PREFIX_LEN (sizeof(SHARE_PREFIX) - 1)

int tern_shared_parse(tern_slice f, tern_slice *group, tern_slice *filter)
{
    if (f.n < SHARE_PREFIX_LEN || memcmp(f.p, SHARE_PREFIX, SHARE_PREFIX_LEN) != 0)
        return 0;
    const uint8_t *g = f.p + SHARE_PREFIX_LEN;
    size_t left = f.n - SHARE_PREFIX_LEN;
    const uint8_t *slash = memchr(g, '/', left);
    if (!slash)
        return -EINVAL;
    size_t gn = (size_t)(slash - g);
    /* ShareName: at least one character, no '/', '+' or '#' [MQTT-4.8.2-1] [MQTT-4.8.2-2]. */
    if (gn == 0 || memchr(g, '+', gn) || memchr(g, '#', gn))
        return -EINVAL;
    const uint8_t *fp = slash + 1;
    size_t fn = left - gn - 1;
    if (!topic_plain_filter_is_valid(fp, fn) || !tern_utf8_is_valid(g, gn))
        return -EINVAL;
    group->p = g;
    group->n = gn;
    filter->p = fp;
    filter->n = fn;
    return 1;
}

bool tern_topic_filter_is_valid(const uint8_t *p, size_t n)
{
    tern_slice g, f;
    int r = tern_shared_parse((tern_slice){p, n}, &g, &f);
    if (r < 0)
        return false;
    if (r == 1)
        return n <= 65535;
    return topic_plain_filter_is_valid(p, n);
}

bool tern_topic_matches(tern_slice f, tern_slice t)
{
    tern_slice g, sf;
    if (tern_shared_parse(f, &g, &sf) == 1)
        f = sf;
    /* A filter starting with a wildcard never matches a $-topic [MQTT-4.7.2-1]. */
    if (t.n > 0 && t.p[0] == '$' && f.n > 0 && (f.p[0] == '+' || f.p[0] == '#'))
        return false;
    size_t i = 0, j = 0;
    while (i < f.n) {
        uint8_t c = f.p[i];
        if (c == '#')
            return true; /* matches the parent level and everything below [MQTT-4.7.1-2] */
        if (c == '+') {
            while (j < t.n && t.p[j] != '/')
                j++;
            i++;
        } else {
            if (j >= t.n || t.p[j] != c) {
                /* "a/#" also matches "a": the filter continues "/#" at the topic's end. */
                return j == t.n && i + 2 == f.n && c == '/' && f.p[i + 1] == '#';
            }
            i++;
            j++;
        }
    }
    return j == t.n;
}
