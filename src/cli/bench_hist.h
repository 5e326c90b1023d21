/* SPDX-License-Identifier: MIT */
/*
 * src/cli/bench_hist.h - the latency histogram of tern bench: log-linear buckets in the
 * style of HdrHistogram, so percentiles up to p99.9 are read from counts, not from a sample.
 *
 * Values below 256 get a bucket each; above that every power of two is split into 128 equal
 * buckets, so a reported value is within 0.4% of the true one (half a bucket). 7,424 buckets
 * of 8 bytes cover the whole uint64_t range: no value is ever clipped.
 *
 * Owns: its bucket array (inline). Thread: one histogram per bench worker thread, written only
 * by it; the main thread merges them after the workers have been joined.
 */
#ifndef TERN_CLI_BENCH_HIST_H
#define TERN_CLI_BENCH_HIST_H

#include <stdint.h>

#define TN_HIST_LINEAR 256u /* values below this are exact */
#define TN_HIST_SUB 128u    /* buckets per power of two above it */
#define TN_HIST_BUCKETS (TN_HIST_LINEAR + (64u - 8u) * TN_HIST_SUB)

struct tn_hist {
    uint64_t count;
    uint64_t min, max; /* exact; min is UINT64_MAX while count is 0 */
    long double sum;   /* for the mean; long double keeps ns sums of long runs exact enough */
    uint64_t b[TN_HIST_BUCKETS];
};
typedef struct tn_hist tn_hist;

void tn_hist_init(tn_hist *h);
/* Bucket index of a value (exposed for the unit test). */
unsigned tn_hist_index(uint64_t v);
/* Smallest and largest value that fall into bucket i. */
uint64_t tn_hist_bucket_lo(unsigned i);
uint64_t tn_hist_bucket_hi(unsigned i);

static inline void tn_hist_add(tn_hist *h, uint64_t v)
{
    h->b[tn_hist_index(v)]++;
    h->count++;
    h->sum += (long double)v;
    if (v < h->min)
        h->min = v;
    if (v > h->max)
        h->max = v;
}

/* Add every count of src into dst. */
void tn_hist_merge(tn_hist *dst, const tn_hist *src);
/* The value at percentile p (0 < p <= 100): the midpoint of the bucket holding the
 * ceil(p% * count)-th smallest value, clamped to [min, max]. 0 for an empty histogram. */
uint64_t tn_hist_percentile(const tn_hist *h, double p);
/* Mean of the values added, 0 when empty. */
double tn_hist_mean(const tn_hist *h);

#endif
