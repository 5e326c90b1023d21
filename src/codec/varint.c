/* SPDX-License-Identifier: MIT */
/*
 * src/codec/varint.c - MQTT Variable Byte Integers (1.5.5 in 5.0, 2.2.3 in 3.1.1).
 *
 * Owns: nothing. Thread: any.
 */
#include "codec_internal.h"

int tern_varint_decode(const uint8_t *p, size_t n, uint32_t *out)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++) {
        if (i >= n)
            return 0;
        v |= (uint32_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            /* A last byte of 0 after the first means a longer form than needed
             * [MQTT-1.5.5-1]. */
            if (i > 0 && p[i] == 0)
                return -TERN_EMALFORMED;
            *out = v;
            return (int)i + 1;
        }
    }
    return -TERN_EMALFORMED; /* a fifth byte would be needed */
}

unsigned tern_varint_size(uint32_t v)
{
    if (v < 128u)
        return 1;
    if (v < 16384u)
        return 2;
    if (v < 2097152u)
        return 3;
    if (v <= TERN_VARINT_MAX)
        return 4;
    return 0;
}

unsigned tern_varint_encode(uint32_t v, uint8_t *out)
{
    unsigned n = 0;
    if (v > TERN_VARINT_MAX)
        return 0;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        if (v)
            b |= 0x80;
        out[n++] = b;
    } while (v);
    return n;
}
