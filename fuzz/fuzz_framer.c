/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_framer.c - libFuzzer target for tern_frame_peek, the incremental framer.
 *
 * Input: byte 0 picks max_size (0 = no limit, or a small limit so TERN_ETOOBIG is reached)
 * and byte 1 seeds the chunking PRNG; the rest is the stream.
 * Oracles:
 *  - each frame found is consistent: type/flags from byte 0, hdr_len 2..5, remaining equal to
 *    the Remaining Length varint, size = hdr_len + remaining, size within max_size;
 *  - feeding the stream byte at a time, and in random chunks, gives the same frames, the same
 *    final error and rc (or the same "need more" with the same announced size) as feeding it
 *    whole; while waiting for a body, the size announced equals the frame's eventual size.
 * Bytes not yet "received" are ASan-poisoned, so a peek that reads past its length crashes.
 * Owns: nothing. Thread: the fuzz driver's.
 */
#include "fuzz_common.h"

struct fr_result {
    struct tern_frame *frames; /* every frame is >= 2 bytes: room for n / 2 + 1 */
    size_t *offs;
    size_t nframes, cap;
    int end;           /* last result of tern_frame_peek: 0 (need more) or negative */
    uint8_t end_rc;    /* rc with a negative end */
    uint32_t end_size; /* f.size with end == 0 */
    size_t end_off;    /* offset of the last, incomplete or bad, frame */
};

static void check_frame(const uint8_t *p, const struct tern_frame *f, uint32_t max_size)
{
    FZ_CHECK(f->type == p[0] >> 4 && f->flags == (p[0] & 15), "type/flags");
    FZ_CHECK(f->hdr_len >= 2 && f->hdr_len <= 5, "hdr_len %u", f->hdr_len);
    uint32_t rem = 0;
    int k = tern_varint_decode(p + 1, (size_t)f->hdr_len - 1, &rem);
    FZ_CHECK(k == f->hdr_len - 1 && rem == f->remaining, "remaining %u, varint %u (%d)",
             f->remaining, rem, k);
    FZ_CHECK(f->size == f->hdr_len + f->remaining, "size %u", f->size);
    FZ_CHECK(f->size <= (max_size ? max_size : TERN_MAX_FRAME), "size %u over %u", f->size,
             max_size);
}

/* Whole buffer: peek, take the frame, repeat. */
static void run_whole(const uint8_t *s, size_t n, uint32_t max_size, struct fr_result *r)
{
    size_t off = 0;
    for (;;) {
        struct tern_frame f;
        uint8_t rc = 0;
        int k = tern_frame_peek(s + off, n - off, max_size, &f, &rc);
        if (k == 1) {
            FZ_CHECK(f.size <= n - off, "frame of %u with %zu bytes", f.size, n - off);
            check_frame(s + off, &f, max_size);
            FZ_CHECK(r->nframes < r->cap, "too many frames");
            r->offs[r->nframes] = off;
            r->frames[r->nframes++] = f;
            off += f.size;
            continue;
        }
        r->end = k;
        r->end_off = off;
        if (k == 0) {
            r->end_size = f.size;
            if (f.size) {
                FZ_CHECK(f.size > n - off, "need more, but %u <= %zu", f.size, n - off);
                check_frame(s + off, &f, max_size);
            }
        } else {
            FZ_CHECK(k == -TERN_EMALFORMED || k == -TERN_ETOOBIG, "peek returned %d", k);
            FZ_CHECK(
                rc == (k == -TERN_EMALFORMED ? TERN_RC_MALFORMED_PACKET : TERN_RC_PACKET_TOO_LARGE),
                "rc 0x%02x for %d", rc, k);
            r->end_rc = rc;
        }
        return;
    }
}

/* Incremental: bytes arrive in chunks (chunk 0 = random sizes 1..64, else that size). */
static void run_chunked(const uint8_t *data, size_t n, uint32_t max_size, size_t chunk,
                        uint64_t seed, const struct fr_result *whole)
{
    uint8_t *s = fz_dup(data, n);
    FZ_POISON(s, n);
    size_t got = 0, off = 0, nframes = 0;
    int end = 0;
    for (;;) {
        if (got < n) {
            size_t c = chunk ? chunk : 1 + (size_t)(fz_rand(&seed) % 64);
            if (c > n - got)
                c = n - got;
            FZ_UNPOISON(s + got, c);
            got += c;
        }
        struct tern_frame f;
        uint8_t rc = 0;
        int k;
        while ((k = tern_frame_peek(s + off, got - off, max_size, &f, &rc)) == 1) {
            FZ_CHECK(nframes < whole->nframes, "chunked found more frames than whole");
            FZ_CHECK(whole->offs[nframes] == off && whole->frames[nframes].size == f.size &&
                         whole->frames[nframes].type == f.type &&
                         whole->frames[nframes].flags == f.flags &&
                         whole->frames[nframes].hdr_len == f.hdr_len &&
                         whole->frames[nframes].remaining == f.remaining,
                     "frame %zu differs when chunked (chunk %zu)", nframes, chunk);
            nframes++;
            off += f.size;
        }
        if (k < 0) {
            FZ_CHECK(whole->end == k && whole->end_rc == rc && whole->end_off == off &&
                         nframes == whole->nframes,
                     "chunked error %d rc 0x%02x at %zu, whole %d rc 0x%02x at %zu", k, rc, off,
                     whole->end, whole->end_rc, whole->end_off);
            end = k;
            break;
        }
        /* Need more: an announced size must be the frame's real size. */
        if (f.size) {
            FZ_CHECK(f.size > got - off, "need more, but %u <= %zu", f.size, got - off);
            if (nframes < whole->nframes)
                FZ_CHECK(whole->frames[nframes].size == f.size, "announced %u, real %u", f.size,
                         whole->frames[nframes].size);
            else
                FZ_CHECK(whole->end == 0 && whole->end_size == f.size,
                         "announced %u, whole ends with %d size %u", f.size, whole->end,
                         whole->end_size);
        }
        if (got == n) {
            FZ_CHECK(whole->end == 0 && whole->end_off == off && whole->end_size == f.size &&
                         nframes == whole->nframes,
                     "chunked needs more at %zu (size %u), whole ends with %d at %zu", off, f.size,
                     whole->end, whole->end_off);
            break;
        }
    }
    (void)end;
    FZ_UNPOISON(s, n);
    free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const uint32_t limits[8] = {0, 0, 2, 5, 64, 128, 300, 16384 + 3};
    uint32_t max_size = limits[data[0] & 7];
    if (data[0] & 8)
        max_size = (uint32_t)data[0] * 3u; /* 24..765: near many small frame sizes */
    uint64_t seed = data[1] | (uint64_t)data[0] << 8;
    const uint8_t *s = data + 2;
    size_t n = size - 2;

    struct fr_result *whole = fz_alloc(sizeof(*whole));
    whole->cap = n / 2 + 1;
    whole->frames = fz_alloc(whole->cap * sizeof(*whole->frames));
    whole->offs = fz_alloc(whole->cap * sizeof(*whole->offs));
    uint8_t *exact = fz_dup(s, n);
    run_whole(exact, n, max_size, whole);
    free(exact);
    run_chunked(s, n, max_size, 1, seed, whole);
    run_chunked(s, n, max_size, 0, seed, whole);
    run_chunked(s, n, max_size, 1 + (data[1] & 7), seed, whole);
    free(whole->frames);
    free(whole->offs);
    free(whole);
    return 0;
}
