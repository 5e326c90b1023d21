/* SPDX-License-Identifier: MIT */
/*
 * src/codec/utf8_test.c - unit tests for tern_utf8_is_valid: well-formedness as MQTT
 * requires it (RFC 3629 minus U+0000), including long inputs that exercise word-at-a-time
 * fast paths right up to the last byte of an exactly-sized heap buffer (ASan sees over-reads).
 *
 * Owns: nothing beyond its static tables and the buffers each test frees.
 * Thread: single-threaded test binary.
 * Spec: MQTT 5.0 1.5.4 [MQTT-1.5.4-1..3]; 3.1.1 1.5.3 [MQTT-1.5.3-1..3] (same rules).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"

#include <tern/codec.h>

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

struct utf8_row {
    const char *name;
    const char *s; /* may contain embedded NULs; length is n */
    size_t n;
};
/* clang-format off */
#define ROW(name, lit) {name, lit, sizeof(lit) - 1}
/* clang-format on */

/* Well-formed, and allowed by MQTT. Control characters and non-characters "SHOULD NOT" be
 * sent but a receiver must not reject them; U+FEFF is an ordinary character that must not be
 * stripped [MQTT-1.5.4-3] (3.1.1: [MQTT-1.5.3-3]). */
/* clang-format off */
static const struct utf8_row utf8_valid[] = {
    ROW("empty", ""),
    ROW("ascii", "hello/world 123"),
    ROW("U+0001", "\x01"),
    ROW("U+001F", "\x1f"),
    ROW("U+007F DEL", "\x7f"),
    ROW("U+0080 (lowest 2-byte)", "\xc2\x80"),
    ROW("U+009F C1 control", "\xc2\x9f"),
    ROW("U+00E9", "\xc3\xa9"),
    ROW("U+07FF (highest 2-byte)", "\xdf\xbf"),
    ROW("U+0800 (lowest 3-byte)", "\xe0\xa0\x80"),
    ROW("U+20AC euro", "\xe2\x82\xac"),
    ROW("U+D7FF (below surrogates)", "\xed\x9f\xbf"),
    ROW("U+E000 (above surrogates)", "\xee\x80\x80"),
    ROW("U+FDD0 non-character", "\xef\xb7\x90"),
    ROW("U+FEFF BOM kept", "\xef\xbb\xbf"),
    ROW("U+FEFF inside a string", "a\xef\xbb\xbf" "b"),
    ROW("U+FFFE non-character", "\xef\xbf\xbe"),
    ROW("U+FFFF non-character", "\xef\xbf\xbf"),
    ROW("U+10000 (lowest 4-byte)", "\xf0\x90\x80\x80"),
    ROW("U+1D11E", "\xf0\x9d\x84\x9e"),
    ROW("U+2A6D4 (spec example A + U+2A6D4)", "A\xf0\xaa\x9b\x94"),
    ROW("U+1FFFF non-character", "\xf0\x9f\xbf\xbf"),
    ROW("U+10FFFF (highest)", "\xf4\x8f\xbf\xbf"),
    ROW("mixed", "a\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9ez"),
};
/* clang-format on */

/* Not allowed: ill-formed UTF-8 [MQTT-1.5.4-1] (3.1.1 [MQTT-1.5.3-1]) and U+0000
 * [MQTT-1.5.4-2] (3.1.1 [MQTT-1.5.3-2]). */
/* clang-format off */
static const struct utf8_row utf8_invalid[] = {
    ROW("U+0000 alone [MQTT-1.5.4-2]", "\x00"),
    ROW("U+0000 inside [MQTT-1.5.4-2]", "a\x00" "b"),
    ROW("U+0000 at end [MQTT-1.5.4-2]", "abc\x00"),
    ROW("overlong U+0000 C0 80", "\xc0\x80"),
    ROW("overlong '/' C0 AF", "\xc0\xaf"),
    ROW("overlong C1 BF", "\xc1\xbf"),
    ROW("overlong 3-byte U+0000", "\xe0\x80\x80"),
    ROW("overlong 3-byte U+07FF", "\xe0\x9f\xbf"),
    ROW("overlong 4-byte U+0000", "\xf0\x80\x80\x80"),
    ROW("overlong 4-byte U+FFFF", "\xf0\x8f\xbf\xbf"),
    ROW("surrogate U+D800", "\xed\xa0\x80"),
    ROW("surrogate U+DBFF", "\xed\xaf\xbf"),
    ROW("surrogate U+DC00", "\xed\xb0\x80"),
    ROW("surrogate U+DFFF", "\xed\xbf\xbf"),
    ROW("surrogate pair (CESU-8)", "\xed\xa0\xbd\xed\xb8\x80"),
    ROW("U+110000", "\xf4\x90\x80\x80"),
    ROW("F5 lead", "\xf5\x80\x80\x80"),
    ROW("F7 BF BF BF (U+1FFFFF)", "\xf7\xbf\xbf\xbf"),
    ROW("5-byte form", "\xf8\x88\x80\x80\x80"),
    ROW("6-byte form", "\xfc\x84\x80\x80\x80\x80"),
    ROW("FE", "\xfe"),
    ROW("FF", "\xff"),
    ROW("truncated 2-byte", "\xc3"),
    ROW("truncated 3-byte (1 of 2)", "\xe2"),
    ROW("truncated 3-byte (2 of 2)", "\xe2\x82"),
    ROW("truncated 4-byte (3 of 3)", "\xf0\x9d\x84"),
    ROW("truncated after ascii", "ab\xe2\x82"),
    ROW("stray continuation 80", "\x80"),
    ROW("stray continuation BF", "\xbf"),
    ROW("stray continuation inside", "a\x80" "b"),
    ROW("continuation after complete char", "\xc3\xa9\xa9"),
    ROW("bad 2nd byte of 2", "\xc3\x28"),
    ROW("bad 2nd byte of 3", "\xe2\x28\xa1"),
    ROW("bad 3rd byte of 3", "\xe2\x82\x28"),
    ROW("bad 2nd byte of 4", "\xf0\x28\x8c\xbc"),
    ROW("bad 4th byte of 4", "\xf0\x90\x8c\x28"),
    ROW("lead followed by lead", "\xc3\xc3\xa9"),
};
/* clang-format on */

TN_TEST(utf8_valid_accepted_v5_1_5_4_3)
{
    for (size_t i = 0; i < NROWS(utf8_valid); i++) {
        const struct utf8_row *r = &utf8_valid[i];
        if (!tern_utf8_is_valid((const uint8_t *)r->s, r->n)) {
            TN_EXPECT(!"valid UTF-8 rejected");
            fprintf(stderr, "    row: %s\n", r->name);
        }
    }
}

TN_TEST(utf8_invalid_rejected_v5_1_5_4_1_and_2)
{
    for (size_t i = 0; i < NROWS(utf8_invalid); i++) {
        const struct utf8_row *r = &utf8_invalid[i];
        if (tern_utf8_is_valid((const uint8_t *)r->s, r->n)) {
            TN_EXPECT(!"invalid UTF-8 accepted");
            fprintf(stderr, "    row: %s\n", r->name);
        }
    }
}

/* The length bounds the check: a NUL or bad byte just past n is not looked at, and a valid
 * prefix of an invalid string is valid. */
TN_TEST(utf8_length_bounds_the_check)
{
    const uint8_t s[] = {'a', 'b', 0x00, 0xff};
    TN_EXPECT(tern_utf8_is_valid(s, 2));
    TN_EXPECT(!tern_utf8_is_valid(s, 3));
    TN_EXPECT(!tern_utf8_is_valid(s, 4));
    const uint8_t e[] = {0xe2, 0x82, 0xac};
    TN_EXPECT(!tern_utf8_is_valid(e, 1));
    TN_EXPECT(!tern_utf8_is_valid(e, 2));
    TN_EXPECT(tern_utf8_is_valid(e, 3));
    TN_EXPECT(tern_utf8_is_valid(e, 0));
}

/* Exhaustive over code points: every scalar value except U+0000 and the surrogates encodes to
 * bytes the validator accepts; each surrogate's 3-byte form is rejected [MQTT-1.5.4-1]. */
static size_t utf8_put(uint32_t c, uint8_t *o)
{
    if (c < 0x80) {
        o[0] = (uint8_t)c;
        return 1;
    }
    if (c < 0x800) {
        o[0] = (uint8_t)(0xc0 | (c >> 6));
        o[1] = (uint8_t)(0x80 | (c & 0x3f));
        return 2;
    }
    if (c < 0x10000) {
        o[0] = (uint8_t)(0xe0 | (c >> 12));
        o[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (uint8_t)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | (c >> 18));
    o[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (uint8_t)(0x80 | (c & 0x3f));
    return 4;
}

TN_TEST(utf8_every_code_point_v5_1_5_4_1)
{
    for (uint32_t c = 0; c <= 0x10ffff; c++) {
        uint8_t b[4];
        size_t n = utf8_put(c, b);
        bool want = c != 0 && !(c >= 0xd800 && c <= 0xdfff);
        if (tern_utf8_is_valid(b, n) != want) {
            TN_EXPECT(!"wrong verdict for a code point");
            fprintf(stderr, "    U+%04X -> %s\n", (unsigned)c, want ? "rejected" : "accepted");
            return;
        }
    }
}

/* Overlong forms of every code point that has a shorter form are rejected. */
TN_TEST(utf8_every_overlong_rejected_v5_1_5_4_1)
{
    for (uint32_t c = 0; c < 0x10000; c++) {
        uint8_t b[4];
        size_t n;
        if (c < 0x800) { /* as 3 bytes */
            b[0] = (uint8_t)(0xe0 | (c >> 12));
            b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
            b[2] = (uint8_t)(0x80 | (c & 0x3f));
            n = 3;
            if (tern_utf8_is_valid(b, n)) {
                TN_EXPECT(!"3-byte overlong accepted");
                fprintf(stderr, "    U+%04X\n", (unsigned)c);
                return;
            }
        }
        if (c < 0x80) { /* as 2 bytes */
            b[0] = (uint8_t)(0xc0 | (c >> 6));
            b[1] = (uint8_t)(0x80 | (c & 0x3f));
            if (tern_utf8_is_valid(b, 2)) {
                TN_EXPECT(!"2-byte overlong accepted");
                fprintf(stderr, "    U+%04X\n", (unsigned)c);
                return;
            }
        }
        /* as 4 bytes */
        b[0] = 0xf0;
        b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (c & 0x3f));
        if (tern_utf8_is_valid(b, 4)) {
            TN_EXPECT(!"4-byte overlong accepted");
            fprintf(stderr, "    U+%04X\n", (unsigned)c);
            return;
        }
    }
}

/* ---- long inputs: fast paths must still see the last byte --------------------------------- */

#define LONG_N (64u * 1024u)

static uint8_t *long_ascii(size_t n)
{
    uint8_t *p = malloc(n); /* exactly n: ASan flags any read past the end */
    if (!p)
        abort();
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)('a' + i % 26);
    return p;
}

TN_TEST(utf8_long_ascii_valid)
{
    uint8_t *p = long_ascii(LONG_N);
    TN_EXPECT(tern_utf8_is_valid(p, LONG_N));
    /* Every length near a word/vector boundary at the end. */
    for (size_t n = LONG_N - 70; n <= LONG_N; n++)
        TN_EXPECT(tern_utf8_is_valid(p, n));
    free(p);
}

/* The one bad byte is the very last one: a stray continuation, a NUL, a lone lead byte, 0xFF. */
TN_TEST(utf8_long_invalid_last_byte_v5_1_5_4_1)
{
    static const uint8_t last[] = {0x80, 0x00, 0xc3, 0xe2, 0xf0, 0xff, 0xbf};
    for (size_t k = 0; k < NROWS(last); k++) {
        for (size_t n = LONG_N - 33; n <= LONG_N; n++) {
            uint8_t *p = long_ascii(n);
            p[n - 1] = last[k];
            if (tern_utf8_is_valid(p, n)) {
                TN_EXPECT(!"bad last byte missed");
                fprintf(stderr, "    n=%zu last=%02x\n", n, last[k]);
                free(p);
                return;
            }
            free(p);
        }
    }
}

/* A single bad byte at each position of the first and last 80 bytes, and a few in between:
 * whatever alignment the fast path uses, it must not skip it. */
TN_TEST(utf8_long_invalid_every_position)
{
    static const uint8_t bad[] = {0x80, 0x00, 0xff};
    uint8_t *p = long_ascii(LONG_N);
    for (size_t k = 0; k < NROWS(bad); k++) {
        for (size_t i = 0; i < LONG_N; i++) {
            if (i >= 80 && i < LONG_N - 80 && i % 4093 != 0)
                continue;
            uint8_t save = p[i];
            p[i] = bad[k];
            bool v = tern_utf8_is_valid(p, LONG_N);
            p[i] = save;
            if (v) {
                TN_EXPECT(!"bad byte missed");
                fprintf(stderr, "    at %zu byte %02x\n", i, bad[k]);
                free(p);
                return;
            }
        }
    }
    TN_EXPECT(tern_utf8_is_valid(p, LONG_N)); /* restored */
    free(p);
}

/* Long multi-byte text (2-, 3- and 4-byte characters mixed with ASCII) is valid; cutting it in
 * the middle of the last character, or adding a surrogate at the end, is not. */
TN_TEST(utf8_long_multibyte)
{
    static const uint8_t unit[] = {'x', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9d, 0x84, 0x9e};
    size_t reps = LONG_N / sizeof(unit);
    size_t n = reps * sizeof(unit);
    uint8_t *p = malloc(n);
    TN_REQUIRE(p != NULL);
    for (size_t i = 0; i < reps; i++)
        memcpy(p + i * sizeof(unit), unit, sizeof(unit));
    TN_EXPECT(tern_utf8_is_valid(p, n));
    TN_EXPECT(!tern_utf8_is_valid(p, n - 1)); /* 4-byte char cut after 3 */
    TN_EXPECT(!tern_utf8_is_valid(p, n - 2));
    TN_EXPECT(!tern_utf8_is_valid(p, n - 3));
    TN_EXPECT(tern_utf8_is_valid(p, n - 4));
    TN_EXPECT(!tern_utf8_is_valid(p, n - 5)); /* 3-byte char cut */
    /* Turn the last 4-byte char into a surrogate + one byte: ED A0 80 'x'. */
    memcpy(p + n - 4, "\xed\xa0\x80x", 4);
    TN_EXPECT(!tern_utf8_is_valid(p, n));
    free(p);
}

/* A long run of ASCII followed by a multi-byte character that ends exactly at the buffer end
 * is valid for every alignment (no false positives from the fast path's tail handling). */
TN_TEST(utf8_long_ascii_then_multibyte_tail)
{
    static const struct {
        uint8_t n;
        uint8_t b[4];
    } tails[] = {{2, {0xc3, 0xa9}}, {3, {0xef, 0xbb, 0xbf}}, {4, {0xf4, 0x8f, 0xbf, 0xbf}}};
    for (size_t k = 0; k < NROWS(tails); k++) {
        for (size_t n = LONG_N - 17; n <= LONG_N; n++) {
            uint8_t *p = long_ascii(n);
            memcpy(p + n - tails[k].n, tails[k].b, tails[k].n);
            if (!tern_utf8_is_valid(p, n)) {
                TN_EXPECT(!"valid tail rejected");
                fprintf(stderr, "    n=%zu tail=%u bytes\n", n, tails[k].n);
                free(p);
                return;
            }
            free(p);
        }
    }
}

TN_TEST_MAIN()
