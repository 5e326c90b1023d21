/* SPDX-License-Identifier: MIT */
/*
 * src/codec/framer.c - finds frame boundaries in a byte stream from the fixed header alone.
 *
 * Owns: nothing; the caller keeps the bytes it has received and calls tern_frame_peek again
 * when more arrive. Being stateless, feeding one byte at a time and feeding everything at
 * once cannot disagree. Thread: any.
 */
#include "codec_internal.h"

int tern_frame_peek(const uint8_t *buf, size_t len, uint32_t max_size, struct tern_frame *f,
                    uint8_t *rc)
{
    f->size = 0;
    if (len < 2)
        return 0;
    uint32_t rem;
    int k = tern_varint_decode(buf + 1, len - 1, &rem);
    if (k == 0)
        return 0;
    if (k < 0)
        return TN_MALFORMED(rc);
    f->type = (uint8_t)(buf[0] >> 4);
    f->flags = (uint8_t)(buf[0] & 0x0f);
    f->hdr_len = (uint8_t)(1 + k);
    f->remaining = rem;
    f->size = (uint32_t)(1 + k) + rem; /* at most 5 + 268435455: fits */
    /* Refuse an oversized frame before its body is read: a receiver's Maximum Packet Size
     * bounds the whole packet, fixed header included (5.0 3.1.2.11.4, 3.2.2.3.6). */
    if (max_size && f->size > max_size)
        return tn_fail(rc, TERN_RC_PACKET_TOO_LARGE, -TERN_ETOOBIG);
    return len >= f->size ? 1 : 0;
}

int tern_fixed_header_encode(uint8_t type, uint8_t flags, uint32_t remaining, uint8_t *out)
{
    if (remaining > TERN_VARINT_MAX || type > 15 || flags > 15)
        return -EINVAL;
    out[0] = (uint8_t)(type << 4 | flags);
    return 1 + (int)tern_varint_encode(remaining, out + 1);
}
