/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_utf8.c - libFuzzer target for tern_utf8_is_valid (5.0 1.5.4, 3.1.1 1.5.3).
 *
 * Oracle: the codec's validator (which has an eight-bytes-at-a-time ASCII fast path) agrees
 * with the simple reference decoder below on the whole input and on every suffix of its first
 * bytes (so that multi-byte sequences straddle the fast path's word boundaries differently).
 * The reference follows RFC 3629's table of well-formed sequences, written out per lead byte
 * rather than as "decode then range-check" like the codec, plus MQTT's ban on U+0000
 * [MQTT-1.5.4-2]; surrogates and code points past U+10FFFF are ill-formed [MQTT-1.5.4-1].
 * Owns: nothing. Thread: the fuzz driver's.
 */
#include "fuzz_common.h"

static bool in(uint8_t c, uint8_t lo, uint8_t hi)
{
    return c >= lo && c <= hi;
}

/* RFC 3629 section 4 (UTF8-octets), byte by byte. */
static bool ref_utf8(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t c = p[i];
        size_t left = n - i;
        if (c == 0x00)
            return false;
        if (c <= 0x7f) {
            i += 1;
        } else if (in(c, 0xc2, 0xdf)) {
            if (left < 2 || !in(p[i + 1], 0x80, 0xbf))
                return false;
            i += 2;
        } else if (c == 0xe0) {
            if (left < 3 || !in(p[i + 1], 0xa0, 0xbf) || !in(p[i + 2], 0x80, 0xbf))
                return false;
            i += 3;
        } else if (in(c, 0xe1, 0xec) || in(c, 0xee, 0xef)) {
            if (left < 3 || !in(p[i + 1], 0x80, 0xbf) || !in(p[i + 2], 0x80, 0xbf))
                return false;
            i += 3;
        } else if (c == 0xed) { /* U+D000..U+D7FF; D800..DFFF are surrogates */
            if (left < 3 || !in(p[i + 1], 0x80, 0x9f) || !in(p[i + 2], 0x80, 0xbf))
                return false;
            i += 3;
        } else if (c == 0xf0) {
            if (left < 4 || !in(p[i + 1], 0x90, 0xbf) || !in(p[i + 2], 0x80, 0xbf) ||
                !in(p[i + 3], 0x80, 0xbf))
                return false;
            i += 4;
        } else if (in(c, 0xf1, 0xf3)) {
            if (left < 4 || !in(p[i + 1], 0x80, 0xbf) || !in(p[i + 2], 0x80, 0xbf) ||
                !in(p[i + 3], 0x80, 0xbf))
                return false;
            i += 4;
        } else if (c == 0xf4) { /* up to U+10FFFF */
            if (left < 4 || !in(p[i + 1], 0x80, 0x8f) || !in(p[i + 2], 0x80, 0xbf) ||
                !in(p[i + 3], 0x80, 0xbf))
                return false;
            i += 4;
        } else {
            return false; /* 80..c1 (continuation, overlong lead), f5..ff */
        }
    }
    return true;
}

static void check(const uint8_t *p, size_t n)
{
    uint8_t *buf = fz_dup(p, n);
    bool got = tern_utf8_is_valid(buf, n);
    bool want = ref_utf8(buf, n);
    if (got != want)
        fz_hexdump("utf8 input", buf, n);
    FZ_CHECK(got == want, "tern_utf8_is_valid says %d, reference %d", got, want);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check(data, size);
    for (size_t i = 1; i < size && i < 9; i++) {
        check(data + i, size - i);
        check(data, size - i);
    }
    return 0;
}
