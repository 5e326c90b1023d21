/* SPDX-License-Identifier: MIT */
/*
 * src/cli/bench_hist.c - log-linear latency histogram for tern bench (see bench_hist.h).
 *
 * Owns: nothing beyond the caller's struct. Thread: whichever thread owns the histogram.
 */
#include "bench_hist.h"

#include <string.h>

void tn_hist_init(tn_hist *h)
{
    memset(h, 0, sizeof(*h));
    h->min = UINT64_MAX;
}

unsigned tn_hist_index(uint64_t v)
{
    unsigned e;

    if (v < TN_HIST_LINEAR)
        return (unsigned)v;
    e = 63u - (unsigned)__builtin_clzll(v); /* 8..63: position of the leading 1 */
    /* The 7 bits after the leading 1 pick one of 128 equal parts of [2^e, 2^(e+1)). */
    return TN_HIST_LINEAR + (e - 8u) * TN_HIST_SUB + (unsigned)((v >> (e - 7u)) & 127u);
}

uint64_t tn_hist_bucket_lo(unsigned i)
{
    unsigned e, m;

    if (i < TN_HIST_LINEAR)
        return i;
    e = (i - TN_HIST_LINEAR) / TN_HIST_SUB + 8u;
    m = (i - TN_HIST_LINEAR) % TN_HIST_SUB;
    return (1ull << e) + ((uint64_t)m << (e - 7u));
}

uint64_t tn_hist_bucket_hi(unsigned i)
{
    unsigned e;

    if (i < TN_HIST_LINEAR)
        return i;
    e = (i - TN_HIST_LINEAR) / TN_HIST_SUB + 8u;
    return tn_hist_bucket_lo(i) + ((1ull << (e - 7u)) - 1u);
}

void tn_hist_merge(tn_hist *dst, const tn_hist *src)
{
    unsigned i;

    if (src->count == 0)
        return;
    for (i = 0; i < TN_HIST_BUCKETS; i++)
        dst->b[i] += src->b[i];
    dst->count += src->count;
    dst->sum += src->sum;
    if (src->min < dst->min)
        dst->min = src->min;
    if (src->max > dst->max)
        dst->max = src->max;
}

uint64_t tn_hist_percentile(const tn_hist *h, double p)
{
    uint64_t want, seen = 0, v;
    double x;
    unsigned i;

    if (h->count == 0)
        return 0;
    if (p >= 100.0)
        return h->max;
    x = p / 100.0 * (double)h->count;
    want = (uint64_t)x;
    if ((double)want < x) /* ceil without libm */
        want++;
    if (want == 0)
        want = 1;
    for (i = 0; i < TN_HIST_BUCKETS; i++) {
        seen += h->b[i];
        if (seen >= want)
            break;
    }
    if (i == TN_HIST_BUCKETS)
        return h->max;
    v = tn_hist_bucket_lo(i) + (tn_hist_bucket_hi(i) - tn_hist_bucket_lo(i)) / 2u;
    if (v < h->min)
        v = h->min;
    if (v > h->max)
        v = h->max;
    return v;
}

double tn_hist_mean(const tn_hist *h)
{
    return h->count ? (double)(h->sum / (long double)h->count) : 0.0;
}
