/* SPDX-License-Identifier: MIT */
/*
 * tests/cli_bench/bench_hist_test.c - the latency histogram of tern bench (src/cli/bench_hist.c):
 * bucket boundaries, precision over the whole uint64_t range, percentiles, merging.
 *
 * Owns: its histograms. Thread: single-threaded test binary.
 */
#include "tn_test.h"

#include "bench_hist.h"

static tn_hist h1, h2; /* 60 KB each: not on the stack */

TN_TEST(small_values_are_exact)
{
    for (unsigned v = 0; v < TN_HIST_LINEAR; v++) {
        TN_EXPECT_EQ_U32(tn_hist_index(v), v);
        TN_EXPECT_EQ_U32((uint32_t)tn_hist_bucket_lo(v), v);
        TN_EXPECT_EQ_U32((uint32_t)tn_hist_bucket_hi(v), v);
    }
}

TN_TEST(buckets_tile_the_range)
{
    /* Every bucket starts right after the previous one ends, up to UINT64_MAX. */
    for (unsigned i = 1; i < TN_HIST_BUCKETS; i++)
        if (tn_hist_bucket_lo(i) != tn_hist_bucket_hi(i - 1) + 1) {
            TN_EXPECT_EQ_U32(i, 0);
            break;
        }
    TN_EXPECT(tn_hist_bucket_hi(TN_HIST_BUCKETS - 1) == UINT64_MAX);
    TN_EXPECT_EQ_U32(tn_hist_index(UINT64_MAX), TN_HIST_BUCKETS - 1);
    TN_EXPECT_EQ_U32(tn_hist_index(256), TN_HIST_LINEAR);
    TN_EXPECT_EQ_U32(tn_hist_index(257), TN_HIST_LINEAR); /* 256..257 share a bucket */
    TN_EXPECT_EQ_U32(tn_hist_index(258), TN_HIST_LINEAR + 1);
}

TN_TEST(every_value_lands_in_its_bucket_within_one_percent)
{
    uint64_t v = 1, next;
    unsigned steps = 0;

    for (;; v = next, steps++) {
        unsigned i = tn_hist_index(v);
        uint64_t lo = tn_hist_bucket_lo(i), hi = tn_hist_bucket_hi(i);

        TN_REQUIRE(lo <= v && v <= hi);
        TN_EXPECT((double)(hi - lo) <= (double)v / 100.0 + 1.0);
        next = v + v / 37 + 1; /* irregular steps over the whole range */
        if (next < v)
            break; /* past UINT64_MAX */
    }
    TN_EXPECT(steps > 1000);
}

TN_TEST(percentiles)
{
    tn_hist_init(&h1);
    TN_EXPECT(tn_hist_percentile(&h1, 50) == 0);
    for (uint64_t v = 1; v <= 1000; v++)
        tn_hist_add(&h1, v * 1000); /* 1 us .. 1 ms */
    TN_EXPECT(h1.count == 1000);
    TN_EXPECT(h1.min == 1000 && h1.max == 1000000);
    /* Within half a bucket (< 0.4%) of the exact order statistics. */
    TN_EXPECT(tn_hist_percentile(&h1, 50) >= 498000 && tn_hist_percentile(&h1, 50) <= 502000);
    TN_EXPECT(tn_hist_percentile(&h1, 90) >= 896000 && tn_hist_percentile(&h1, 90) <= 904000);
    TN_EXPECT(tn_hist_percentile(&h1, 99.9) >= 995000 && tn_hist_percentile(&h1, 99.9) <= 1000000);
    TN_EXPECT(tn_hist_percentile(&h1, 100) == 1000000);
    TN_EXPECT(tn_hist_percentile(&h1, 0.01) >= 1000 && tn_hist_percentile(&h1, 0.01) <= 1010);
    TN_EXPECT(tn_hist_mean(&h1) > 500499.0 && tn_hist_mean(&h1) < 500501.0);
}

TN_TEST(percentile_is_clamped_to_min_and_max)
{
    tn_hist_init(&h1);
    tn_hist_add(&h1, 123456789);
    TN_EXPECT(tn_hist_percentile(&h1, 50) == 123456789);
    TN_EXPECT(tn_hist_percentile(&h1, 99.9) == 123456789);
}

TN_TEST(merge_adds_counts)
{
    tn_hist_init(&h1);
    tn_hist_init(&h2);
    for (uint64_t v = 0; v < 100; v++)
        tn_hist_add(&h1, 10);
    for (uint64_t v = 0; v < 100; v++)
        tn_hist_add(&h2, 1000000);
    tn_hist_merge(&h1, &h2);
    TN_EXPECT(h1.count == 200);
    TN_EXPECT(h1.min == 10 && h1.max == 1000000);
    TN_EXPECT(tn_hist_percentile(&h1, 50) == 10);
    TN_EXPECT(tn_hist_percentile(&h1, 51) >= 996000);
}

TN_TEST_MAIN()
