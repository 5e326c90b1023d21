/* SPDX-License-Identifier: MIT */
/*
 * src/codec/utf8.c - validation of MQTT UTF-8 Encoded Strings (1.5.4 in 5.0, 1.5.3 in 3.1.1).
 *
 * Owns: nothing. Thread: any.
 * Hand-written rather than a library call: topics are checked on every PUBLISH, so the ASCII
 * fast path (eight bytes per step) matters for the decoder's speed.
 */
#include "codec_internal.h"

#define ONES 0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/* Whether any byte of x is zero. */
static inline uint64_t utf8_has_zero(uint64_t x)
{
    return (x - ONES) & ~x & HIGHS;
}

/*
 * One pass that validates and, when topic is set, also notes a '+' or '#' (so a PUBLISH topic
 * is read once, not three times). Returns -1 if invalid, else 1 if a wildcard was seen, else 0.
 * Inlined into two callers so the topic test costs nothing when it is not wanted.
 */
static inline __attribute__((always_inline)) int utf8_scan(const uint8_t *p, size_t n, bool topic)
{
    size_t i = 0;
    int wild = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            uint64_t care = utf8_has_zero(x) | (x & HIGHS);
            if (topic)
                care |= utf8_has_zero(x ^ (ONES * '+')) | utf8_has_zero(x ^ (ONES * '#'));
            if (!care) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == 0) /* U+0000 [MQTT-1.5.4-2] */
                return -1;
            if (topic && (c == '+' || c == '#'))
                wild = 1;
            i++;
            continue;
        }
        uint32_t cp;
        size_t len;
        uint32_t min;
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2, cp = c & 0x1fu, min = 0x80;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3, cp = c & 0x0fu, min = 0x800;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return -1; /* continuation byte, overlong lead (c0, c1), or f5..ff */
        }
        if (n - i < len)
            return -1;
        for (size_t k = 1; k < len; k++) {
            uint8_t cc = p[i + k];
            if ((cc & 0xc0) != 0x80)
                return -1;
            cp = cp << 6 | (cc & 0x3fu);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are ill-formed
         * [MQTT-1.5.4-1]. */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return -1;
        i += len;
    }
    return wild;
}

bool tern_utf8_is_valid(const uint8_t *p, size_t n)
{
    return utf8_scan(p, n, false) >= 0;
}

int tn_utf8_topic_scan(const uint8_t *p, size_t n)
{
    return utf8_scan(p, n, true);
}
