/* SPDX-License-Identifier: MIT */
/*
 * src/codec/varint_test.c - unit tests for the Variable Byte Integer primitives
 * (tern_varint_decode, tern_varint_size, tern_varint_encode).
 *
 * Owns: nothing beyond its static test tables.
 * Thread: single-threaded test binary.
 * Spec: MQTT 5.0 1.5.5 (Variable Byte Integer), 3.1.1 2.2.3 (Remaining Length).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"

#include <tern/codec.h>

/* Boundaries of each encoded length, with the bytes the spec's algorithm gives. */
static const struct varint_row {
    uint32_t v;
    uint8_t n;
    uint8_t bytes[4];
} varint_rows[] = {
    {0, 1, {0x00}},
    {1, 1, {0x01}},
    {127, 1, {0x7f}},
    {128, 2, {0x80, 0x01}},
    {129, 2, {0x81, 0x01}},
    {321, 2, {0xc1, 0x02}},
    {16383, 2, {0xff, 0x7f}},
    {16384, 3, {0x80, 0x80, 0x01}},
    {2097151, 3, {0xff, 0xff, 0x7f}},
    {2097152, 4, {0x80, 0x80, 0x80, 0x01}},
    {268435455, 4, {0xff, 0xff, 0xff, 0x7f}},
};
#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

TN_TEST(varint_boundaries_encode_exact_bytes)
{
    for (size_t i = 0; i < NROWS(varint_rows); i++) {
        const struct varint_row *r = &varint_rows[i];
        uint8_t out[8];
        memset(out, 0xee, sizeof(out));
        TN_EXPECT_EQ_U32(tern_varint_size(r->v), r->n);
        TN_EXPECT_EQ_U32(tern_varint_encode(r->v, out), r->n);
        TN_EXPECT_MEM(out, r->n, r->bytes, r->n);
        /* Nothing written past the encoding (the caller promised 4 bytes, not more). */
        for (size_t k = r->n; k < sizeof(out); k++)
            TN_EXPECT_EQ_HEX(out[k], 0xee);
    }
}

TN_TEST(varint_boundaries_decode)
{
    for (size_t i = 0; i < NROWS(varint_rows); i++) {
        const struct varint_row *r = &varint_rows[i];
        uint32_t v = 0xdeadbeef;
        TN_EXPECT_EQ_INT(tern_varint_decode(r->bytes, r->n, &v), r->n);
        TN_EXPECT_EQ_U32(v, r->v);
    }
}

/* Trailing bytes after a complete varint are not consumed. */
TN_TEST(varint_decode_ignores_trailing_bytes)
{
    for (size_t i = 0; i < NROWS(varint_rows); i++) {
        const struct varint_row *r = &varint_rows[i];
        uint8_t buf[8];
        memcpy(buf, r->bytes, r->n);
        memset(buf + r->n, 0xff, sizeof(buf) - r->n); /* continuation bits set */
        uint32_t v = 0;
        TN_EXPECT_EQ_INT(tern_varint_decode(buf, sizeof(buf), &v), r->n);
        TN_EXPECT_EQ_U32(v, r->v);
    }
}

/* Every proper prefix of a multi-byte varint is "need more" (0), including the empty one. */
TN_TEST(varint_short_input_returns_0)
{
    for (size_t i = 0; i < NROWS(varint_rows); i++) {
        const struct varint_row *r = &varint_rows[i];
        for (size_t k = 0; k < r->n; k++) {
            uint32_t v = 0;
            TN_EXPECT_EQ_INT(tern_varint_decode(r->bytes, k, &v), 0);
        }
    }
    uint32_t v;
    TN_EXPECT_EQ_INT(tern_varint_decode(NULL, 0, &v), 0);
}

TN_TEST(varint_too_large_not_encodable)
{
    static const uint32_t big[] = {268435456u, 268435457u, 0x7fffffffu, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < NROWS(big); i++) {
        uint8_t out[8];
        memset(out, 0xee, sizeof(out));
        TN_EXPECT_EQ_U32(tern_varint_size(big[i]), 0);
        TN_EXPECT_EQ_U32(tern_varint_encode(big[i], out), 0);
        TN_EXPECT_EQ_HEX(out[4], 0xee); /* never writes a fifth byte */
    }
    TN_EXPECT_EQ_U32(TERN_VARINT_MAX, 268435455u);
}

/* More than four bytes can never be a Variable Byte Integer: the fourth byte has the
 * continuation bit, so it is malformed as soon as four bytes are seen [MQTT-1.5.5-1]. */
TN_TEST(varint_five_bytes_malformed_v5_1_5_5)
{
    static const uint8_t five[][5] = {
        {0xff, 0xff, 0xff, 0xff, 0x7f},
        {0x80, 0x80, 0x80, 0x80, 0x01},
        {0xff, 0xff, 0xff, 0xff, 0x00},
        {0x80, 0x80, 0x80, 0x80, 0x00},
    };
    for (size_t i = 0; i < NROWS(five); i++) {
        uint32_t v = 0;
        TN_EXPECT_EQ_INT(tern_varint_decode(five[i], 5, &v), -TERN_EMALFORMED);
        /* Four bytes are enough to know. */
        TN_EXPECT_EQ_INT(tern_varint_decode(five[i], 4, &v), -TERN_EMALFORMED);
    }
}

/* "The encoded value MUST use the minimum number of bytes necessary to represent the value"
 * [MQTT-1.5.5-1]: a last byte of 0 after a continuation means a longer form than needed. */
TN_TEST(varint_non_minimal_malformed_v5_1_5_5_1)
{
    static const struct {
        uint8_t n;
        uint8_t b[4];
    } bad[] = {
        {2, {0x80, 0x00}},             /* 0 in two bytes */
        {2, {0x81, 0x00}},             /* 1 in two bytes */
        {2, {0xff, 0x00}},             /* 127 in two bytes */
        {3, {0xff, 0x80, 0x00}},       /* 127 in three bytes */
        {3, {0x80, 0x80, 0x00}},       /* 0 in three bytes */
        {3, {0x80, 0x81, 0x00}},       /* 128 in three bytes */
        {3, {0xff, 0xff, 0x00}},       /* 16383 in three bytes */
        {4, {0x80, 0x80, 0x80, 0x00}}, /* 0 in four bytes */
        {4, {0xff, 0xff, 0xff, 0x00}}, /* 2097151 in four bytes */
        {4, {0x80, 0x80, 0x81, 0x00}}, /* 16384 in four bytes */
    };
    for (size_t i = 0; i < NROWS(bad); i++) {
        uint32_t v = 0;
        int r = tern_varint_decode(bad[i].b, bad[i].n, &v);
        if (r != -TERN_EMALFORMED)
            tn_dump_("input", bad[i].b, bad[i].n);
        TN_EXPECT_EQ_INT(r, -TERN_EMALFORMED);
    }
}

/* A deterministic sweep: every value encodes to its size and decodes back. */
TN_TEST(varint_sweep_round_trip)
{
    uint32_t x = 2463534242u; /* xorshift32, fixed seed */
    for (int i = 0; i < 200000; i++) {
        uint32_t v;
        if (i < 28 * 3) {
            /* 2^k - 1, 2^k, 2^k + 1 for every k up to 27 */
            uint32_t p = 1u << (i / 3);
            v = p - 1 + (uint32_t)(i % 3);
        } else {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            v = x >> (x & 7); /* spread over all magnitudes */
        }
        if (v > TERN_VARINT_MAX) {
            TN_EXPECT_EQ_U32(tern_varint_size(v), 0);
            continue;
        }
        unsigned want = v < 128u ? 1 : v < 16384u ? 2 : v < 2097152u ? 3 : 4;
        uint8_t buf[4];
        unsigned n = tern_varint_encode(v, buf);
        uint32_t back = ~v;
        int d = tern_varint_decode(buf, n, &back);
        if (n != want || tern_varint_size(v) != want || d != (int)want || back != v) {
            TN_EXPECT_EQ_U32(n, want);
            TN_EXPECT_EQ_U32(tern_varint_size(v), want);
            TN_EXPECT_EQ_INT(d, (int)want);
            TN_EXPECT_EQ_U32(back, v);
            return;
        }
        /* The last byte has no continuation bit, all others do. */
        for (unsigned k = 0; k < n; k++)
            TN_REQUIRE(((buf[k] & 0x80) != 0) == (k + 1 < n));
    }
}

/* Every 1- and 2-byte input: decoding either fails, needs more, or gives a value whose
 * canonical encoding is exactly the bytes consumed (so non-minimal forms never decode). */
TN_TEST(varint_all_two_byte_inputs_canonical)
{
    for (unsigned a = 0; a < 256; a++) {
        for (unsigned b = 0; b < 256; b++) {
            const uint8_t in[2] = {(uint8_t)a, (uint8_t)b};
            uint32_t v = 0;
            int r = tern_varint_decode(in, 2, &v);
            if (a < 0x80) {
                TN_REQUIRE(r == 1 && v == a);
                continue;
            }
            if (b >= 0x80) {
                TN_REQUIRE(r == 0); /* third byte needed */
                continue;
            }
            if (b == 0) {
                TN_REQUIRE(r == -TERN_EMALFORMED);
                continue;
            }
            TN_REQUIRE(r == 2);
            TN_REQUIRE(v == ((a & 0x7fu) | (b << 7)));
            uint8_t re[4];
            TN_REQUIRE(tern_varint_encode(v, re) == 2);
            TN_REQUIRE(memcmp(re, in, 2) == 0);
        }
    }
}

TN_TEST_MAIN()
