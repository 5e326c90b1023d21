/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_varint.c - libFuzzer target for Variable Byte Integers (5.0 1.5.5, 3.1.1 2.2.3)
 * and the fixed header encoder built on them.
 *
 * Oracles: tern_varint_decode agrees with a reference decoder written here (too short -> 0,
 * five bytes or a non-minimal form -> -TERN_EMALFORMED [MQTT-1.5.5-1]); a decoded value
 * re-encodes to the same bytes; any 32-bit value taken from the input round-trips through
 * size/encode/decode, or is refused when above TERN_VARINT_MAX; tern_fixed_header_encode
 * writes what tern_frame_peek then reads back.
 * Owns: nothing. Thread: the fuzz driver's.
 */
#include "fuzz_common.h"

/* Reference: bytes used (1..4), 0 when more are needed, -1 when malformed. */
static int ref_varint(const uint8_t *p, size_t n, uint32_t *out)
{
    uint64_t v = 0, mul = 1;
    for (size_t i = 0;; i++) {
        if (i == 4)
            return -1;
        if (i == n)
            return 0;
        v += (uint64_t)(p[i] & 0x7f) * mul;
        mul *= 128;
        if ((p[i] & 0x80) == 0) {
            if (i > 0 && p[i] == 0)
                return -1; /* the minimal form would have stopped a byte earlier */
            *out = (uint32_t)v;
            return (int)i + 1;
        }
    }
}

static void check_decode(const uint8_t *p, size_t n)
{
    uint8_t *buf = fz_dup(p, n);
    uint32_t v = 0xdeadbeef, rv = 0;
    int r = tern_varint_decode(buf, n, &v);
    int rr = ref_varint(buf, n, &rv);
    if (rr < 0)
        FZ_CHECK(r == -TERN_EMALFORMED, "decode gave %d, reference says malformed", r);
    else
        FZ_CHECK(r == rr, "decode gave %d, reference %d", r, rr);
    if (r > 0) {
        FZ_CHECK(v == rv, "value %u, reference %u", v, rv);
        FZ_CHECK(v <= TERN_VARINT_MAX, "value %u too large", v);
        FZ_CHECK(tern_varint_size(v) == (unsigned)r, "size(%u) = %u, decoded %d bytes", v,
                 tern_varint_size(v), r);
        uint8_t enc[8];
        unsigned k = tern_varint_encode(v, enc);
        FZ_CHECK(k == (unsigned)r && memcmp(enc, buf, k) == 0, "re-encoding %u differs", v);
    }
    free(buf);
}

static void check_value(uint32_t v)
{
    uint8_t enc[8] = {0};
    unsigned s = tern_varint_size(v);
    unsigned k = tern_varint_encode(v, enc);
    if (v > TERN_VARINT_MAX) {
        FZ_CHECK(s == 0 && k == 0, "value %u above the maximum: size %u encode %u", v, s, k);
        uint8_t hdr[8];
        FZ_CHECK(tern_fixed_header_encode(3, 0, v, hdr) == -EINVAL, "header for %u", v);
        return;
    }
    unsigned want = v < 128 ? 1 : v < 16384 ? 2 : v < 2097152 ? 3 : 4;
    FZ_CHECK(s == want && k == want, "value %u: size %u encode %u want %u", v, s, k, want);
    uint8_t *exact = fz_dup(enc, k);
    uint32_t back = 0;
    FZ_CHECK(tern_varint_decode(exact, k, &back) == (int)k && back == v, "round trip of %u", v);
    /* Every proper prefix is "need more". */
    for (unsigned i = 0; i < k; i++)
        FZ_CHECK(tern_varint_decode(exact, i, &back) == 0, "prefix %u of %u", i, v);
    free(exact);

    /* Fixed header: type/flags from v's low bits, remaining = v. */
    uint8_t hdr[8];
    uint8_t type = (uint8_t)(v & 15), flags = (uint8_t)((v >> 4) & 15);
    int h = tern_fixed_header_encode(type, flags, v, hdr);
    FZ_CHECK(h == (int)(1 + want), "fixed header of %u: %d", v, h);
    struct tern_frame f;
    uint8_t rc = 0;
    uint8_t *hx = fz_dup(hdr, (size_t)h);
    int pr = tern_frame_peek(hx, (size_t)h, 0, &f, &rc);
    FZ_CHECK(pr == (v == 0 ? 1 : 0), "peek of a bare header for %u: %d", v, pr);
    FZ_CHECK(f.size == (uint32_t)h + v && f.remaining == v && f.hdr_len == h && f.type == type &&
                 f.flags == flags,
             "peek fields for %u", v);
    free(hx);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_decode(data, size);
    /* Also decode at every offset of short inputs: different splits of the same bytes. */
    for (size_t i = 1; i < size && i < 8; i++)
        check_decode(data + i, size - i);
    for (size_t i = 0; i + 4 <= size && i < 16; i += 4) {
        uint32_t v = (uint32_t)data[i] << 24 | (uint32_t)data[i + 1] << 16 |
                     (uint32_t)data[i + 2] << 8 | data[i + 3];
        check_value(v);
        check_value(v & TERN_VARINT_MAX);
        check_value(v >> (data[i] & 31));
    }
    return 0;
}
