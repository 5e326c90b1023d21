/* SPDX-License-Identifier: MIT */
/*
 * src/codec/framer_test.c - unit tests for tern_frame_peek (finding frame boundaries in a
 * stream from the fixed header alone) and tern_fixed_header_encode.
 *
 * Owns: nothing beyond its static tables and the buffers each test frees.
 * Thread: single-threaded test binary.
 * Spec: MQTT 5.0 2.1.4 (Remaining Length), 1.5.5 [MQTT-1.5.5-1]; 3.1.1 2.2.3.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tn_test.h"

#include <tern/codec.h>

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* Fixed headers at every boundary of the Remaining Length encoding. */
static const struct hdr_row {
    uint8_t hdr_len;
    uint8_t hdr[5];
    uint32_t remaining;
} hdr_rows[] = {
    {2, {0x30, 0x00}, 0},
    {2, {0x30, 0x7f}, 127},
    {3, {0x30, 0x80, 0x01}, 128},
    {3, {0x30, 0xff, 0x7f}, 16383},
    {4, {0x30, 0x80, 0x80, 0x01}, 16384},
    {4, {0x30, 0xff, 0xff, 0x7f}, 2097151},
    {5, {0x30, 0x80, 0x80, 0x80, 0x01}, 2097152},
    {5, {0x30, 0xff, 0xff, 0xff, 0x7f}, 268435455},
};

/* A fixed header alone: "need more" (0), but the frame's size is already known. */
TN_TEST(frame_header_only_gives_size)
{
    for (size_t i = 0; i < NROWS(hdr_rows); i++) {
        const struct hdr_row *r = &hdr_rows[i];
        uint8_t *buf = malloc(r->hdr_len); /* exact size: ASan sees an over-read */
        TN_REQUIRE(buf != NULL);
        memcpy(buf, r->hdr, r->hdr_len);
        struct tern_frame f;
        memset(&f, 0xaa, sizeof(f));
        uint8_t rc = 0xee;
        int ret = tern_frame_peek(buf, r->hdr_len, 0, &f, &rc);
        TN_EXPECT_EQ_INT(ret, r->remaining == 0 ? 1 : 0);
        TN_EXPECT_EQ_U32(f.type, 3);
        TN_EXPECT_EQ_U32(f.flags, 0);
        TN_EXPECT_EQ_U32(f.hdr_len, r->hdr_len);
        TN_EXPECT_EQ_U32(f.remaining, r->remaining);
        TN_EXPECT_EQ_U32(f.size, r->hdr_len + r->remaining);
        TN_EXPECT_EQ_HEX(rc, 0xee); /* untouched on success */
        free(buf);
    }
}

/* Fewer bytes than the fixed header: 0 and f->size == 0. */
TN_TEST(frame_partial_header_needs_more)
{
    for (size_t i = 0; i < NROWS(hdr_rows); i++) {
        const struct hdr_row *r = &hdr_rows[i];
        for (uint8_t k = 0; k < r->hdr_len; k++) {
            uint8_t *buf = malloc(k ? k : 1);
            TN_REQUIRE(buf != NULL);
            memcpy(buf, r->hdr, k);
            struct tern_frame f;
            memset(&f, 0xaa, sizeof(f));
            uint8_t rc = 0xee;
            TN_EXPECT_EQ_INT(tern_frame_peek(buf, k, 0, &f, &rc), 0);
            TN_EXPECT_EQ_U32(f.size, 0);
            free(buf);
        }
    }
}

/* Whole frames at the boundaries up to 2097152: one byte short is 0, complete is 1, and bytes
 * of the next frame after it do not change the answer. */
TN_TEST(frame_whole_frames_at_boundaries)
{
    for (size_t i = 0; i < NROWS(hdr_rows); i++) {
        const struct hdr_row *r = &hdr_rows[i];
        if (r->remaining > 2097152)
            continue;
        size_t size = r->hdr_len + (size_t)r->remaining;
        uint8_t *buf = malloc(size + 2);
        TN_REQUIRE(buf != NULL);
        memcpy(buf, r->hdr, r->hdr_len);
        memset(buf + r->hdr_len, 0xff, r->remaining); /* looks like continuation bytes */
        buf[size] = 0xc0;
        buf[size + 1] = 0x00;
        struct tern_frame f;
        uint8_t rc = 0;
        if (size > r->hdr_len) {
            TN_EXPECT_EQ_INT(tern_frame_peek(buf, size - 1, 0, &f, &rc), 0);
            TN_EXPECT_EQ_U32(f.size, size);
        }
        TN_EXPECT_EQ_INT(tern_frame_peek(buf, size, 0, &f, &rc), 1);
        TN_EXPECT_EQ_U32(f.size, size);
        TN_EXPECT_EQ_INT(tern_frame_peek(buf, size + 2, 0, &f, &rc), 1);
        TN_EXPECT_EQ_U32(f.size, size);
        TN_EXPECT_EQ_U32(f.remaining, r->remaining);
        /* and the next frame follows */
        TN_EXPECT_EQ_INT(tern_frame_peek(buf + size, 2, 0, &f, &rc), 1);
        TN_EXPECT_EQ_U32(f.type, TERN_PINGREQ);
        TN_EXPECT_EQ_U32(f.size, 2);
        free(buf);
    }
}

/* The largest Remaining Length is a valid header; the default maximum (0) and an explicit
 * TERN_MAX_FRAME both accept it. */
TN_TEST(frame_max_remaining_268435455_accepted)
{
    const uint8_t h[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
    struct tern_frame f;
    uint8_t rc = 0;
    TN_EXPECT_EQ_INT(tern_frame_peek(h, sizeof(h), 0, &f, &rc), 0);
    TN_EXPECT_EQ_U32(f.size, 268435460u);
    TN_EXPECT_EQ_U32(f.size, TERN_MAX_FRAME);
    TN_EXPECT_EQ_INT(tern_frame_peek(h, sizeof(h), TERN_MAX_FRAME, &f, &rc), 0);
    TN_EXPECT_EQ_U32(f.size, TERN_MAX_FRAME);
    rc = 0;
    TN_EXPECT_EQ_INT(tern_frame_peek(h, sizeof(h), TERN_MAX_FRAME - 1, &f, &rc), -TERN_ETOOBIG);
    TN_EXPECT_EQ_HEX(rc, TERN_RC_PACKET_TOO_LARGE);
}

/* Type and flags are reported, not judged: reserved type 0, AUTH, odd flags all frame. */
TN_TEST(frame_type_and_flags_not_checked)
{
    static const uint8_t b0[] = {0x00, 0x0f, 0x32, 0x3f, 0x62, 0x82, 0xf0, 0xf5, 0xff};
    for (size_t i = 0; i < NROWS(b0); i++) {
        const uint8_t buf[3] = {b0[i], 0x01, 0x00};
        struct tern_frame f;
        uint8_t rc = 0;
        TN_EXPECT_EQ_INT(tern_frame_peek(buf, sizeof(buf), 0, &f, &rc), 1);
        TN_EXPECT_EQ_U32(f.type, b0[i] >> 4);
        TN_EXPECT_EQ_U32(f.flags, b0[i] & 0x0f);
        TN_EXPECT_EQ_U32(f.size, 3);
    }
}

/* A Remaining Length of more than four bytes, or not in its minimal form [MQTT-1.5.5-1], is
 * malformed (rc 0x81) as soon as it is seen, whatever follows. */
TN_TEST(frame_bad_remaining_length_malformed_v5_1_5_5_1)
{
    static const struct {
        uint8_t n;
        uint8_t b[6];
    } bad[] = {
        {3, {0x30, 0x80, 0x00}},
        {3, {0x30, 0xff, 0x00}},
        {4, {0x30, 0xff, 0x80, 0x00}},
        {4, {0x30, 0x80, 0x80, 0x00}},
        {5, {0x30, 0x80, 0x80, 0x80, 0x00}},
        {5, {0x30, 0xff, 0xff, 0xff, 0x00}},
        {6, {0x30, 0xff, 0xff, 0xff, 0xff, 0x01}},
        {6, {0x30, 0x80, 0x80, 0x80, 0x80, 0x01}},
        {5, {0x30, 0xff, 0xff, 0xff, 0xff}}, /* fourth length byte continues */
        {3, {0xc0, 0x80, 0x00}},
    };
    for (size_t i = 0; i < NROWS(bad); i++) {
        uint8_t buf[16];
        memset(buf, 0x00, sizeof(buf));
        memcpy(buf, bad[i].b, bad[i].n);
        for (size_t len = bad[i].n; len <= sizeof(buf); len += sizeof(buf) - bad[i].n) {
            struct tern_frame f;
            uint8_t rc = 0;
            int ret = tern_frame_peek(buf, len, 0, &f, &rc);
            if (ret != -TERN_EMALFORMED || rc != TERN_RC_MALFORMED_PACKET) {
                TN_EXPECT_EQ_INT(ret, -TERN_EMALFORMED);
                TN_EXPECT_EQ_HEX(rc, TERN_RC_MALFORMED_PACKET);
                tn_dump_("input", buf, len);
            }
        }
    }
}

/* max_size bounds the whole frame: refused with 0x95 as soon as the header is complete,
 * before the body arrives; a frame of exactly max_size is fine. */
TN_TEST(frame_too_big_rejected_from_header_v5_rc_0x95)
{
    static const struct {
        uint8_t n;
        uint8_t b[5];
        uint32_t size;
    } rows[] = {
        {2, {0x30, 0x00}, 2},
        {2, {0x30, 0x7e}, 128},
        {2, {0x30, 0x7f}, 129},
        {3, {0x30, 0xff, 0x7f}, 16386},
        {4, {0x30, 0x80, 0x80, 0x01}, 16388},
        {5, {0x30, 0x80, 0x80, 0x80, 0x01}, 2097157},
    };
    for (size_t i = 0; i < NROWS(rows); i++) {
        struct tern_frame f;
        uint8_t rc = 0;
        uint32_t size = rows[i].size;
        /* exactly at the limit: accepted (1 only for the empty body) */
        int ret = tern_frame_peek(rows[i].b, rows[i].n, size, &f, &rc);
        TN_EXPECT_EQ_INT(ret, size == rows[i].n ? 1 : 0);
        TN_EXPECT_EQ_U32(f.size, size);
        /* one below: refused, though only the header is there */
        rc = 0;
        ret = tern_frame_peek(rows[i].b, rows[i].n, size - 1, &f, &rc);
        TN_EXPECT_EQ_INT(ret, -TERN_ETOOBIG);
        TN_EXPECT_EQ_HEX(rc, TERN_RC_PACKET_TOO_LARGE);
    }
}

/* ---- stream reassembly ------------------------------------------------------------------- */

struct rec {
    uint8_t type, flags, hdr_len;
    uint32_t remaining, size;
    size_t off; /* offset in the stream */
};

struct stream {
    uint8_t *p;
    size_t n;
    struct rec want[32];
    size_t nwant;
};

static void stream_add(struct stream *s, uint8_t b0, uint32_t remaining)
{
    uint8_t h[5];
    int k = tern_fixed_header_encode((uint8_t)(b0 >> 4), (uint8_t)(b0 & 15), remaining, h);
    if (k < 2)
        abort();
    struct rec *r = &s->want[s->nwant++];
    *r = (struct rec){(uint8_t)(b0 >> 4), (uint8_t)(b0 & 15),      (uint8_t)k,
                      remaining,          (uint32_t)k + remaining, s->n};
    s->p = realloc(s->p, s->n + (size_t)k + remaining);
    if (!s->p)
        abort();
    memcpy(s->p + s->n, h, (size_t)k);
    /* Bodies full of bytes that would be valid headers, to catch a reader that looks there. */
    for (uint32_t i = 0; i < remaining; i++)
        s->p[s->n + (size_t)k + i] = (uint8_t)(i % 3 == 0 ? 0x30 : 0x80 | (i & 0x7f));
    s->n += (size_t)k + remaining;
}

static void stream_build(struct stream *s)
{
    memset(s, 0, sizeof(*s));
    stream_add(s, 0xc0, 0);       /* PINGREQ */
    stream_add(s, 0x30, 127);     /* PUBLISH */
    stream_add(s, 0x3b, 128);     /* PUBLISH dup qos1 retain */
    stream_add(s, 0x82, 16383);   /* SUBSCRIBE */
    stream_add(s, 0xe0, 0);       /* DISCONNECT */
    stream_add(s, 0x34, 16384);   /* PUBLISH qos2 */
    stream_add(s, 0x62, 2);       /* PUBREL */
    stream_add(s, 0x10, 300);     /* CONNECT */
    stream_add(s, 0x30, 2097151); /* PUBLISH, 4-byte header */
    stream_add(s, 0xd0, 0);       /* PINGRESP */
    stream_add(s, 0x30, 2097152); /* PUBLISH, 5-byte header */
    stream_add(s, 0x40, 2);       /* PUBACK */
    stream_add(s, 0xf0, 0);       /* AUTH */
}

static uint32_t xorshift32(uint32_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 17;
    *x ^= *x << 5;
    return *x;
}

/* Feed the stream in chunks (size from next_chunk) into a receive buffer whose unreceived part
 * holds junk, peeking after each chunk as a reader would. Records frames into got. While a
 * frame is incomplete, f->size must be 0 before its header is complete and the frame's size
 * after. Returns the number of frames, or -1 on an error return. */
static int stream_feed(const struct stream *s, size_t (*next_chunk)(uint32_t *), uint32_t seed,
                       struct rec *got, size_t maxgot)
{
    uint8_t *acc = malloc(s->n);
    if (!acc)
        abort();
    memset(acc, 0xff, s->n);
    size_t have = 0, start = 0, ngot = 0;
    uint32_t st = seed;
    while (have < s->n) {
        size_t c = next_chunk(&st);
        if (c > s->n - have)
            c = s->n - have;
        memcpy(acc + have, s->p + have, c);
        have += c;
        for (;;) {
            struct tern_frame f;
            uint8_t rc = 0;
            int ret = tern_frame_peek(acc + start, have - start, 0, &f, &rc);
            if (ret < 0) {
                free(acc);
                return -1;
            }
            if (ret == 0) {
                /* The header is complete iff the bytes so far reach past its varint. */
                const struct rec *w = ngot < s->nwant ? &s->want[ngot] : NULL;
                uint32_t want_size = w && have - start >= w->hdr_len ? w->size : 0;
                if (f.size != want_size) {
                    fprintf(stderr, "  frame %zu: have %zu, f.size %u want %u\n", ngot,
                            have - start, (unsigned)f.size, (unsigned)want_size);
                    free(acc);
                    return -1;
                }
                break;
            }
            if (ngot < maxgot)
                got[ngot] = (struct rec){f.type, f.flags, f.hdr_len, f.remaining, f.size, start};
            ngot++;
            start += f.size;
        }
    }
    free(acc);
    return start == s->n ? (int)ngot : -1;
}

static size_t chunk_whole(uint32_t *st)
{
    (void)st;
    return SIZE_MAX;
}
static size_t chunk_one(uint32_t *st)
{
    (void)st;
    return 1;
}
static size_t chunk_small(uint32_t *st)
{
    return 1 + xorshift32(st) % 7;
}
static size_t chunk_mixed(uint32_t *st)
{
    uint32_t r = xorshift32(st);
    return 1 + (r & 1 ? r % 9 : r % 70000);
}

static void check_recs(const struct stream *s, const struct rec *got, int ngot, const char *how)
{
    TN_EXPECT_EQ_INT(ngot, (int)s->nwant);
    if (ngot != (int)s->nwant) {
        fprintf(stderr, "    feeding: %s\n", how);
        return;
    }
    for (size_t i = 0; i < s->nwant; i++) {
        const struct rec *a = &got[i], *b = &s->want[i];
        if (a->type != b->type || a->flags != b->flags || a->hdr_len != b->hdr_len ||
            a->remaining != b->remaining || a->size != b->size || a->off != b->off) {
            TN_EXPECT(!"frame differs");
            fprintf(stderr,
                    "    feeding %s, frame %zu: type %u/%u flags %u/%u size %u/%u off %zu/%zu\n",
                    how, i, a->type, b->type, a->flags, b->flags, (unsigned)a->size,
                    (unsigned)b->size, a->off, b->off);
            return;
        }
    }
}

/* Whole, one byte at a time, and in random pieces (fixed seeds): the same frames. */
TN_TEST(frame_stream_byte_at_a_time_equals_whole)
{
    struct stream s;
    stream_build(&s);
    struct rec got[32];
    int n = stream_feed(&s, chunk_whole, 1, got, 32);
    check_recs(&s, got, n, "whole");
    n = stream_feed(&s, chunk_one, 1, got, 32);
    check_recs(&s, got, n, "one byte at a time");
    static const uint32_t seeds[] = {1, 0x12345678u, 0xdeadbeefu, 42, 7777};
    for (size_t i = 0; i < NROWS(seeds); i++) {
        n = stream_feed(&s, chunk_small, seeds[i], got, 32);
        check_recs(&s, got, n, "small random pieces");
        n = stream_feed(&s, chunk_mixed, seeds[i], got, 32);
        check_recs(&s, got, n, "mixed random pieces");
    }
    free(s.p);
}

/* ---- fixed header encoding --------------------------------------------------------------- */

TN_TEST(fixed_header_encode_boundaries)
{
    for (size_t i = 0; i < NROWS(hdr_rows); i++) {
        const struct hdr_row *r = &hdr_rows[i];
        uint8_t out[8];
        memset(out, 0xee, sizeof(out));
        int k = tern_fixed_header_encode(TERN_PUBLISH, 0, r->remaining, out);
        TN_EXPECT_EQ_INT(k, r->hdr_len);
        TN_EXPECT_MEM(out, (size_t)(k > 0 ? k : 0), r->hdr, r->hdr_len);
        TN_EXPECT_EQ_HEX(out[5], 0xee);
    }
    uint8_t out[8];
    TN_EXPECT_EQ_INT(tern_fixed_header_encode(TERN_PUBREL, 2, 2, out), 2);
    TN_EXPECT_EQ_HEX(out[0], 0x62);
    TN_EXPECT_EQ_HEX(out[1], 0x02);
    TN_EXPECT_EQ_INT(tern_fixed_header_encode(TERN_AUTH, 0, 0, out), 2);
    TN_EXPECT_EQ_HEX(out[0], 0xf0);
}

TN_TEST(fixed_header_encode_too_large_einval)
{
    uint8_t out[8];
    TN_EXPECT_EQ_INT(tern_fixed_header_encode(TERN_PUBLISH, 0, 268435456u, out), -EINVAL);
    TN_EXPECT_EQ_INT(tern_fixed_header_encode(TERN_PUBLISH, 0, 0xffffffffu, out), -EINVAL);
}

TN_TEST_MAIN()
