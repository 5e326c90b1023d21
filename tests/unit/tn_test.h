/* SPDX-License-Identifier: MIT */
/*
 * tests/unit/tn_test.h - the unit-test harness: test registration, typed expectations that
 * print both sides, and a main() that runs every test and ends with "N passed, N failed".
 *
 * Owns: the test registry (a static array in the one test binary including this header).
 * Thread: single-threaded test binaries only.
 *
 * Use:
 *     #include "tn_test.h"
 *     TN_TEST(varint_boundaries) { TN_EXPECT_EQ_U32(tern_varint_size(127), 1); }
 *     TN_TEST_MAIN()
 * A failed expectation marks the test failed and continues; TN_REQUIRE_* returns from the
 * test. Run one test with `./binary name`.
 */
#ifndef TN_TEST_H
#define TN_TEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef void (*tn_test_fn)(void);
struct tn_test_case {
    const char *name;
    tn_test_fn fn;
};

#define TN_TEST_MAX 1024
static struct tn_test_case tn_tests_[TN_TEST_MAX];
static int tn_ntests_;
static int tn_cur_failed_;
static const char *tn_cur_name_;

static inline void tn_test_register_(const char *name, tn_test_fn fn)
{
    if (tn_ntests_ >= TN_TEST_MAX) {
        fprintf(stderr, "tn_test: too many tests\n");
        abort();
    }
    tn_tests_[tn_ntests_].name = name;
    tn_tests_[tn_ntests_].fn = fn;
    tn_ntests_++;
}

#define TN_TEST(name)                                                                              \
    static void test_##name(void);                                                                 \
    __attribute__((constructor)) static void tn_reg_##name(void)                                   \
    {                                                                                              \
        tn_test_register_(#name, test_##name);                                                     \
    }                                                                                              \
    static void test_##name(void)

static inline void tn_fail_(const char *file, int line)
{
    if (!tn_cur_failed_)
        fprintf(stderr, "FAIL %s\n", tn_cur_name_);
    tn_cur_failed_ = 1;
    fprintf(stderr, "  %s:%d: ", file, line);
}

#define TN_EXPECT(cond)                                                                            \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            tn_fail_(__FILE__, __LINE__);                                                          \
            fprintf(stderr, "expected %s\n", #cond);                                               \
        }                                                                                          \
    } while (0)

#define TN_EXPECT_INT_(a, b, op, T, fmt)                                                           \
    do {                                                                                           \
        T a_ = (T)(a), b_ = (T)(b);                                                                \
        if (!(a_ op b_)) {                                                                         \
            tn_fail_(__FILE__, __LINE__);                                                          \
            fprintf(stderr, "expected %s %s %s: %" fmt " vs %" fmt "\n", #a, #op, #b, a_, b_);     \
        }                                                                                          \
    } while (0)

#define TN_EXPECT_EQ_INT(a, b) TN_EXPECT_INT_(a, b, ==, long long, "lld")
#define TN_EXPECT_NE_INT(a, b) TN_EXPECT_INT_(a, b, !=, long long, "lld")
#define TN_EXPECT_LT_INT(a, b) TN_EXPECT_INT_(a, b, <, long long, "lld")
#define TN_EXPECT_EQ_U32(a, b) TN_EXPECT_INT_(a, b, ==, uint32_t, PRIu32)
#define TN_EXPECT_EQ_U64(a, b) TN_EXPECT_INT_(a, b, ==, uint64_t, PRIu64)
#define TN_EXPECT_EQ_HEX(a, b) TN_EXPECT_INT_(a, b, ==, unsigned, "#x")

static inline void tn_dump_(const char *label, const void *p, size_t n)
{
    const uint8_t *b = (const uint8_t *)p;
    fprintf(stderr, "    %s (%zu):", label, n);
    for (size_t i = 0; i < n && i < 64; i++)
        fprintf(stderr, " %02x", b[i]);
    fprintf(stderr, n > 64 ? " ...\n" : "\n");
}

/* Compare byte ranges; prints both in hex when they differ. */
#define TN_EXPECT_MEM(a, an, b, bn)                                                                \
    do {                                                                                           \
        size_t an_ = (size_t)(an), bn_ = (size_t)(bn);                                             \
        if (an_ != bn_ || (an_ && memcmp((a), (b), an_) != 0)) {                                   \
            tn_fail_(__FILE__, __LINE__);                                                          \
            fprintf(stderr, "bytes differ: %s vs %s\n", #a, #b);                                   \
            tn_dump_("got", (a), an_);                                                             \
            tn_dump_("want", (b), bn_);                                                            \
        }                                                                                          \
    } while (0)

/* Compare a tern_slice with a C string literal. */
#define TN_EXPECT_SLICE_STR(s, str) TN_EXPECT_MEM((s).p, (s).n, (str), strlen(str))

#define TN_REQUIRE(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            tn_fail_(__FILE__, __LINE__);                                                          \
            fprintf(stderr, "required %s\n", #cond);                                               \
            return;                                                                                \
        }                                                                                          \
    } while (0)

#define TN_TEST_MAIN()                                                                             \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        int passed = 0, failed = 0;                                                                \
        for (int i = 0; i < tn_ntests_; i++) {                                                     \
            if (argc > 1 && strcmp(argv[1], tn_tests_[i].name) != 0)                               \
                continue;                                                                          \
            tn_cur_name_ = tn_tests_[i].name;                                                      \
            tn_cur_failed_ = 0;                                                                    \
            tn_tests_[i].fn();                                                                     \
            if (tn_cur_failed_)                                                                    \
                failed++;                                                                          \
            else                                                                                   \
                passed++;                                                                          \
        }                                                                                          \
        printf("%s: %d passed, %d failed\n", argv[0], passed, failed);                             \
        return failed || passed == 0 ? 1 : 0;                                                      \
    }

#endif
