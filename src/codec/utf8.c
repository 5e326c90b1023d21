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

/* Whether any byte of x is zero or has its top bit set. */
static inline bool utf8_word_needs_care(uint64_t x)
{
    return ((x - ONES) & ~x & HIGHS) != 0 || (x & HIGHS) != 0;
}

bool tern_utf8_is_valid(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, 8);
            if (!utf8_word_needs_care(x)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (c < 0x80) {
            if (c == 0) /* U+0000 [MQTT-1.5.4-2] */
                return false;
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
            return false; /* continuation byte, overlong lead (c0, c1), or f5..ff */
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            uint8_t cc = p[i + k];
            if ((cc & 0xc0) != 0x80)
                return false;
            cp = cp << 6 | (cc & 0x3fu);
        }
        /* Overlong forms, surrogates and code points past U+10FFFF are ill-formed
         * [MQTT-1.5.4-1]. */
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += len;
    }
    return true;
}
