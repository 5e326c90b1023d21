/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_common.h - what every fuzz target shares: the libFuzzer entry point's prototype,
 * the oracle macro, exact-size copies of input (so that an over-read past a frame is a heap
 * overflow ASan sees) and manual ASan poisoning for the framer's "bytes not arrived yet".
 *
 * Owns: nothing (header-only, static inline). Thread: the fuzz driver's single thread.
 * An oracle failure prints what broke and abort()s: libFuzzer then saves the reproducer, and
 * the replay driver (replay_main.c) dies, failing its ctest.
 */
#ifndef TN_FUZZ_COMMON_H
#define TN_FUZZ_COMMON_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tern/codec.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TN_FUZZ_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TN_FUZZ_ASAN 1
#endif

#ifdef TN_FUZZ_ASAN
#include <sanitizer/asan_interface.h>
#define FZ_POISON(p, n) __asan_poison_memory_region((p), (n))
#define FZ_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
#else
#define FZ_POISON(p, n) ((void)(p), (void)(n))
#define FZ_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An oracle: when cond is false, say where and why, then abort (a crash for libFuzzer). */
#define FZ_CHECK(cond, ...)                                                                        \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: oracle failed: %s: ", __FILE__, __LINE__, #cond);              \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* A heap copy of exactly n bytes (at least one allocated byte, never read when n == 0). */
static inline uint8_t *fz_dup(const uint8_t *p, size_t n)
{
    uint8_t *d = malloc(n ? n : 1);
    if (!d)
        abort();
    d[0] = 0; /* gcc -O3 otherwise warns that an empty input's byte is uninitialised */
    if (n)
        memcpy(d, p, n);
    return d;
}

static inline void *fz_alloc(size_t n)
{
    void *d = calloc(n ? n : 1, 1);
    if (!d)
        abort();
    return d;
}

/* Whether s is empty or lies wholly inside buf[0..n). Empty slices may point anywhere. */
static inline bool fz_slice_inside(tern_slice s, const uint8_t *buf, size_t n)
{
    if (s.n == 0)
        return true;
    if (!s.p)
        return false;
    uintptr_t b = (uintptr_t)buf, p = (uintptr_t)s.p;
    return p >= b && s.n <= n && p - b <= n - s.n;
}

static inline bool fz_slice_eq(tern_slice a, tern_slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

static inline bool fz_slice_has_prefix(tern_slice s, const char *pre)
{
    size_t k = strlen(pre);
    return s.n >= k && memcmp(s.p, pre, k) == 0;
}

/* A small deterministic PRNG (xorshift64*) for chunk sizes and such. */
static inline uint64_t fz_rand(uint64_t *st)
{
    uint64_t x = *st ? *st : 0x9E3779B97F4A7C15ull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *st = x;
    return x * 0x2545F4914F6CDD1Dull;
}

static inline void fz_hexdump(const char *what, const uint8_t *p, size_t n)
{
    fprintf(stderr, "%s (%zu bytes):", what, n);
    for (size_t i = 0; i < n && i < 256; i++)
        fprintf(stderr, " %02x", p[i]);
    fprintf(stderr, n > 256 ? " ...\n" : "\n");
}

#endif
