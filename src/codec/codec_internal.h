/* SPDX-License-Identifier: MIT */
/*
 * src/codec/codec_internal.h - helpers shared by the codec's files: a bounds-checked read
 * cursor over a frame and an unchecked write cursor over a buffer already sized by _size().
 *
 * Owns: nothing. Thread: any.
 */
#ifndef TN_CODEC_INTERNAL_H
#define TN_CODEC_INTERNAL_H

#include <errno.h>
#include <string.h>

#include "tern/codec.h"

/* Validate UTF-8 and look for '+' and '#' in one pass: -1 invalid, 1 valid with a wildcard,
 * 0 valid without. */
int tn_utf8_topic_scan(const uint8_t *p, size_t n);

/* Write a property list whose body size is already known (from tern_props_body_size): the
 * length prefix, then the body. */
void tn_props_encode_body(const struct tern_props *p, unsigned ctx, uint32_t body, uint8_t *out);

/* An empty property set, as decoders leave it (3.x packets, 5.0 short forms, and the start
 * of tern_props_decode). Only the fields that say what is present are set: values are read
 * only when present, and a 250-byte memset per PUBLISH showed in the decoder's profile. */
static inline void tn_props_clear(struct tern_props *p)
{
    p->present = 0;
    p->raw = p->extra = (tern_slice){NULL, 0};
    p->user_n = p->sub_id_n = 0;
    p->user = NULL;
    p->sub_ids = NULL;
}

/* Reading: every function returns false when the input is too short or invalid, and leaves
 * the cursor unspecified; callers then report malformed. */
struct tn_rd {
    const uint8_t *p, *end;
};

static inline size_t rd_left(const struct tn_rd *r)
{
    return (size_t)(r->end - r->p);
}

static inline bool rd_u8(struct tn_rd *r, uint8_t *v)
{
    if (r->p >= r->end)
        return false;
    *v = *r->p++;
    return true;
}

static inline bool rd_u16(struct tn_rd *r, uint16_t *v)
{
    if (rd_left(r) < 2)
        return false;
    *v = (uint16_t)((unsigned)r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return true;
}

static inline bool rd_u32(struct tn_rd *r, uint32_t *v)
{
    if (rd_left(r) < 4)
        return false;
    *v = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
    r->p += 4;
    return true;
}

static inline bool rd_varint(struct tn_rd *r, uint32_t *v)
{
    if (r->p < r->end && *r->p < 0x80) { /* one byte: by far the common case */
        *v = *r->p++;
        return true;
    }
    int k = tern_varint_decode(r->p, rd_left(r), v);
    if (k <= 0)
        return false;
    r->p += k;
    return true;
}

/* Binary Data: two-byte length then bytes. */
static inline bool rd_bin(struct tn_rd *r, tern_slice *s)
{
    uint16_t n;
    if (!rd_u16(r, &n) || rd_left(r) < n)
        return false;
    s->p = r->p;
    s->n = n;
    r->p += n;
    return true;
}

/* Whether a short string is plain ASCII without U+0000, checked inline: most property keys
 * and values are, and a call per string showed in the decoder's profile. */
static inline bool tn_short_ascii(const uint8_t *p, size_t n)
{
    if (n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((uint8_t)(p[i] - 1) >= 0x7f)
            return false;
    return true;
}

/* UTF-8 Encoded String: Binary Data that is also well-formed MQTT UTF-8. */
static inline bool rd_str(struct tn_rd *r, tern_slice *s)
{
    return rd_bin(r, s) && (tn_short_ascii(s->p, s->n) || tern_utf8_is_valid(s->p, s->n));
}

/* Writing: the caller has checked the room with the matching _size function. */
static inline uint8_t *wr_u8(uint8_t *w, uint8_t v)
{
    *w++ = v;
    return w;
}

static inline uint8_t *wr_u16(uint8_t *w, uint16_t v)
{
    w[0] = (uint8_t)(v >> 8);
    w[1] = (uint8_t)v;
    return w + 2;
}

static inline uint8_t *wr_u32(uint8_t *w, uint32_t v)
{
    w[0] = (uint8_t)(v >> 24);
    w[1] = (uint8_t)(v >> 16);
    w[2] = (uint8_t)(v >> 8);
    w[3] = (uint8_t)v;
    return w + 4;
}

static inline uint8_t *wr_varint(uint8_t *w, uint32_t v)
{
    return w + tern_varint_encode(v, w);
}

static inline uint8_t *wr_bin(uint8_t *w, tern_slice s)
{
    w = wr_u16(w, (uint16_t)s.n);
    if (s.n)
        memcpy(w, s.p, s.n);
    return w + s.n;
}

/* Set *rc and return err: keeps the failure paths one line each. */
static inline int tn_fail(uint8_t *rc, uint8_t code, int err)
{
    if (rc)
        *rc = code;
    return err;
}
#define TN_MALFORMED(rc) tn_fail((rc), TERN_RC_MALFORMED_PACKET, -TERN_EMALFORMED)
#define TN_PROTOCOL(rc) tn_fail((rc), TERN_RC_PROTOCOL_ERROR, -EPROTO)

#endif
