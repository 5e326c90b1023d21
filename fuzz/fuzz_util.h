/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_util.h - property-list oracles shared by the `props` and `packet` fuzz targets:
 * checking a decoded struct tern_props against its own bytes, preparing it for re-encoding
 * in the three ways the API allows, and comparing two property sets by meaning.
 *
 * Owns: the arrays an fz_arena hands out, until fz_arena_fini. Thread: the fuzz driver's.
 */
#ifndef TN_FUZZ_UTIL_H
#define TN_FUZZ_UTIL_H

#include "fuzz_common.h"

/* How a decoded property set is turned back into something to encode. */
enum fz_enc_mode {
    FZ_ENC_ASIS,   /* the decoded struct unchanged: user/sub ids re-read from raw */
    FZ_ENC_ARRAYS, /* user[] and sub_ids[] filled from the iterator, raw emptied */
    FZ_ENC_EXTRA,  /* nothing but `extra` = the decoded raw bytes, verbatim */
};
#define FZ_ENC_MODES 3

/* Allocations to release together once a round trip is done. */
struct fz_arena {
    void *ptr[16];
    unsigned n;
};

void *fz_arena_alloc(struct fz_arena *a, size_t size);
void fz_arena_fini(struct fz_arena *a);

/* The value of one non-repeatable property id as its struct field holds it: integers in *u,
 * strings and binary data in *s. Returns false for ids that are not such a field. */
bool fz_prop_field(const struct tern_props *p, unsigned id, uint32_t *u, tern_slice *s);

/* Oracles on a freshly decoded property set of context ctx: every view inside buf[0..n),
 * raw iterates to exactly the properties `present`, user_n and sub_id_n announce, each
 * allowed in ctx, of its kind, valid UTF-8 where it must be, and equal to its field. */
void fz_props_check_decoded(const struct tern_props *p, unsigned ctx, const uint8_t *buf, size_t n);

/* dst = src prepared for encoding in the given mode (arrays come from a). */
void fz_props_prepare(struct tern_props *dst, const struct tern_props *src, enum fz_enc_mode mode,
                      struct fz_arena *a);

/* Oracle: a and b (both decoded) mean the same: same present mask, counts, values, User
 * Properties and Subscription Identifiers in the same order. what names the caller. */
void fz_props_expect_same(const struct tern_props *a, const struct tern_props *b, const char *what);

#endif
