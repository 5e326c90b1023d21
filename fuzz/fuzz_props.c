/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_props.c - libFuzzer target for MQTT 5 property lists (5.0 2.2.2):
 * tern_props_decode, tern_props_body_size, tern_props_encode and the iterator.
 *
 * Input: byte 0 picks the context (low nibble: 0 = Will Properties, else a packet type); the
 * rest starts with the Property Length varint.
 * Oracles: a failure sets a reason code >= 0x80; a success consumed varint + length bytes,
 * and the decoded struct passes fz_props_check_decoded (views inside the input, iterator and
 * fields agree, ids allowed in the context). Then it is re-encoded three ways (as decoded,
 * from arrays, as `extra` bytes): the size functions agree with the encoder, one byte less of
 * room gives -ENOBUFS, the `extra` form reproduces the input bytes exactly, the other two
 * give the same canonical bytes, and each decodes again to the same meaning.
 * Owns: nothing. Thread: the fuzz driver's.
 */
#include "fuzz_util.h"

/* Encode in one mode, check sizes, decode again, compare; returns the encoding (caller frees)
 * and its size in *len. */
static uint8_t *roundtrip(const struct tern_props *dec, unsigned ctx, enum fz_enc_mode mode,
                          size_t *len)
{
    struct fz_arena a = {0};
    struct tern_props enc;
    fz_props_prepare(&enc, dec, mode, &a);
    int body = tern_props_body_size(&enc, ctx);
    FZ_CHECK(body >= 0 && (size_t)body == dec->raw.n, "mode %d: body_size %d, decoded %zu", mode,
             body, dec->raw.n);
    size_t total = tern_varint_size((uint32_t)body) + (size_t)body;
    uint8_t *out = fz_alloc(total);
    if (total > 1) {
        uint8_t *small = fz_alloc(total - 1);
        int r = tern_props_encode(&enc, ctx, small, total - 1);
        FZ_CHECK(r == -ENOBUFS, "mode %d: encode into %zu bytes gave %d", mode, total - 1, r);
        free(small);
    }
    int w = tern_props_encode(&enc, ctx, out, total);
    FZ_CHECK(w >= 0 && (size_t)w == total, "mode %d: encode gave %d, want %zu", mode, w, total);

    struct tern_props again;
    memset(&again, 0xa5, sizeof(again));
    uint8_t rc = 0;
    int k = tern_props_decode(out, total, ctx, &again, &rc);
    if (k < 0)
        fz_hexdump("re-encoded props", out, total);
    FZ_CHECK(k >= 0 && (size_t)k == total, "mode %d: re-decode gave %d rc 0x%02x", mode, k, rc);
    fz_props_check_decoded(&again, ctx, out, total);
    fz_props_expect_same(dec, &again, "props round trip");
    fz_arena_fini(&a);
    *len = total;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned ctx = data[0] & 15;
    size_t n = size - 1;
    uint8_t *buf = fz_dup(data + 1, n);

    struct tern_props p;
    memset(&p, 0xa5, sizeof(p));
    uint8_t rc = 0;
    int k = tern_props_decode(buf, n, ctx, &p, &rc);
    if (k < 0) {
        FZ_CHECK(k == -TERN_EMALFORMED || k == -EPROTO, "decode returned %d", k);
        FZ_CHECK(k != -TERN_EMALFORMED || rc == TERN_RC_MALFORMED_PACKET, "malformed, rc 0x%02x",
                 rc);
        FZ_CHECK(k != -EPROTO || (rc >= 0x80 && rc != TERN_RC_MALFORMED_PACKET),
                 "protocol error, rc 0x%02x", rc);
        FZ_CHECK(strcmp(tern_strerror(k), "") != 0, "no name for %d", k);
        free(buf);
        return 0;
    }
    uint32_t len = 0;
    int vk = tern_varint_decode(buf, n, &len);
    FZ_CHECK(vk > 0 && (size_t)k == (size_t)vk + len, "consumed %d, length %u (+%d)", k, len, vk);
    FZ_CHECK(p.raw.n == len && (len == 0 || p.raw.p == buf + vk), "raw does not follow length");
    fz_props_check_decoded(&p, ctx, buf, n);

    size_t la, lb, le;
    uint8_t *ea = roundtrip(&p, ctx, FZ_ENC_ASIS, &la);
    uint8_t *eb = roundtrip(&p, ctx, FZ_ENC_ARRAYS, &lb);
    uint8_t *ee = roundtrip(&p, ctx, FZ_ENC_EXTRA, &le);
    FZ_CHECK(la == lb && memcmp(ea, eb, la) == 0, "as-decoded and array encodings differ");
    FZ_CHECK(le == (size_t)k && memcmp(ee, buf, le) == 0, "extra encoding is not the input");

    /* The canonical encoding is a fixed point: decoding and re-encoding it changes nothing. */
    struct tern_props q;
    uint8_t *buf2 = fz_dup(ea, la);
    FZ_CHECK(tern_props_decode(buf2, la, ctx, &q, &rc) == (int)la, "canonical re-decode");
    size_t l2;
    uint8_t *e2 = roundtrip(&q, ctx, FZ_ENC_ASIS, &l2);
    FZ_CHECK(l2 == la && memcmp(e2, ea, la) == 0, "canonical encoding is not a fixed point");

    /* Every proper prefix of the list is not a whole list. */
    for (size_t cut = 0; cut < (size_t)k && cut < 8; cut++) {
        uint8_t *pre = fz_dup(buf, cut);
        struct tern_props t;
        FZ_CHECK(tern_props_decode(pre, cut, ctx, &t, &rc) < 0, "prefix %zu decoded", cut);
        free(pre);
    }
    free(e2);
    free(buf2);
    free(ea);
    free(eb);
    free(ee);
    free(buf);
    return 0;
}
