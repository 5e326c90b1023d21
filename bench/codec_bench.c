/* SPDX-License-Identifier: MIT */
/*
 * bench/codec_bench.c - micro-benchmark of the codec's PUBLISH hot path on one core: framing
 * and decoding (3.1.1 and 5.0 with two User Properties), encoding (size + encode, and the
 * payload-less head for gather writes), and decoding a stream of 1000 back-to-back frames.
 *
 * Owns: every buffer and packet it measures (static storage and locals of main).
 * Thread: single-threaded; pins itself to one CPU (--cpu, default the last one allowed).
 * Spec: none; the target is above 20 million PUBLISH decodes per second per core.
 *
 * Timed mode (default) runs each case for a warm-up, then `--reps` runs of `--seconds` each,
 * and prints the median and min/max rate. `--iters N` runs each case exactly N operations
 * once (for valgrind --tool=callgrind, and the ctest smoke test); `--case NAME` picks one.
 * Each case runs in its own noinline function named case_<name>, so
 *   valgrind --tool=callgrind --toggle-collect=case_decode311 ./codec_bench --case decode311
 * counts the instructions of that case only. The checksum of decoded fields is printed so
 * the compiler cannot drop the work; an empty asm barrier keeps it from hoisting it.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tern/codec.h"

#ifndef TN_BENCH_BUILD_TYPE
#define TN_BENCH_BUILD_TYPE "unknown"
#endif
#ifndef TN_BENCH_C_FLAGS
#define TN_BENCH_C_FLAGS ""
#endif

#define BENCH_TOPIC "home/livingroom/temperature"
#define BENCH_PAYLOAD_LEN 64
#define BENCH_PACKET_ID 0x1234
#define STREAM_FRAMES 1000
#define TARGET_DECODES 20e6 /* per second per core, from the issue */
#define MAX_REPS 64
#define FRAME_CAP 512

/* Tell the compiler that *p is read and written behind its back, so a loop cannot be
 * collapsed and loads cannot be hoisted out of it. Costs no instruction. */
static inline void bench_clobber(const void *p)
{
    __asm__ volatile("" : : "r"(p) : "memory");
}

/* Everything a case reads, set up once in bench_setup and never changed while timing. */
struct bench_ctx {
    uint8_t frame311[FRAME_CAP];
    size_t frame311_n;
    uint8_t frame5[FRAME_CAP];
    size_t frame5_n;
    struct tern_packet pkt311; /* the packet the 3.1.1 frame was encoded from */
    struct tern_packet pkt5;   /* the same with two User Properties */
    struct tern_strpair user[2];
    uint8_t payload[BENCH_PAYLOAD_LEN];
    uint8_t *stream311; /* STREAM_FRAMES frames back to back, packet ids 1..1000 */
    size_t stream311_n;
    uint8_t *stream5;
    size_t stream5_n;
    uint8_t out[FRAME_CAP]; /* encoder output */
    uint64_t errors;        /* codec failures seen while timing: must stay 0 */
};

/* ---- the cases ---------------------------------------------------------------------------- */

/* The fields a receiver looks at; summing them makes the decode's results live. */
static inline uint64_t publish_sum(const struct tern_packet *p)
{
    const struct tern_publish *pb = &p->u.publish;
    return (uint64_t)pb->packet_id + pb->topic.n + pb->payload.n + pb->payload.p[0] +
           pb->props.user_n + pb->qos;
}

/* One tern_frame_peek + tern_packet_decode of the frame in buf. */
static inline uint64_t decode_one(struct bench_ctx *c, const uint8_t *buf, size_t n, uint8_t ver)
{
    struct tern_frame f;
    struct tern_packet pkt;
    uint8_t rc = 0;
    bench_clobber(buf);
    if (tern_frame_peek(buf, n, 0, &f, &rc) != 1 ||
        tern_packet_decode(buf, f.size, ver, &pkt, &rc) != 0) {
        c->errors++;
        return 0;
    }
    return publish_sum(&pkt);
}

static uint64_t stream_decode(struct bench_ctx *c, const uint8_t *buf, size_t n, uint8_t ver)
{
    uint64_t sum = 0;
    size_t off = 0;
    bench_clobber(buf);
    while (off < n) {
        struct tern_frame f;
        struct tern_packet pkt;
        uint8_t rc = 0;
        if (tern_frame_peek(buf + off, n - off, 0, &f, &rc) != 1 ||
            tern_packet_decode(buf + off, f.size, ver, &pkt, &rc) != 0) {
            c->errors++;
            return sum;
        }
        sum += publish_sum(&pkt);
        off += f.size;
    }
    return sum;
}

static inline uint64_t encode_one(struct bench_ctx *c, const struct tern_packet *pkt, uint8_t ver)
{
    bench_clobber(pkt);
    int sz = tern_packet_size(pkt, ver);
    if (sz <= 0 || (size_t)sz > sizeof c->out) {
        c->errors++;
        return 0;
    }
    int w = tern_packet_encode(pkt, ver, c->out, (size_t)sz);
    if (w != sz) {
        c->errors++;
        return 0;
    }
    bench_clobber(c->out);
    return (uint64_t)w + c->out[w - 1];
}

static inline uint64_t head_one(struct bench_ctx *c, const struct tern_packet *pkt, uint8_t ver)
{
    bench_clobber(pkt);
    int w = tern_publish_encode_head(pkt, ver, c->out, sizeof c->out);
    if (w <= 0) {
        c->errors++;
        return 0;
    }
    bench_clobber(c->out);
    return (uint64_t)w + c->out[w - 1];
}

/* Each case runs n units of work and returns a checksum. noinline and external names (no
 * static) keep them visible to callgrind's --toggle-collect and to perf. */
#define BENCH_CASE(name)                                                                           \
    __attribute__((noinline)) uint64_t case_##name(struct bench_ctx *c, uint64_t n)
#define BENCH_PROTO(name) uint64_t case_##name(struct bench_ctx *c, uint64_t n)
BENCH_PROTO(decode311);
BENCH_PROTO(decode5);
BENCH_PROTO(encode311);
BENCH_PROTO(encode5);
BENCH_PROTO(head311);
BENCH_PROTO(head5);
BENCH_PROTO(stream311);
BENCH_PROTO(stream5);

BENCH_CASE(decode311)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += decode_one(c, c->frame311, c->frame311_n, TERN_V311);
    return s;
}

BENCH_CASE(decode5)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += decode_one(c, c->frame5, c->frame5_n, TERN_V5);
    return s;
}

BENCH_CASE(encode311)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += encode_one(c, &c->pkt311, TERN_V311);
    return s;
}

BENCH_CASE(encode5)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += encode_one(c, &c->pkt5, TERN_V5);
    return s;
}

BENCH_CASE(head311)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += head_one(c, &c->pkt311, TERN_V311);
    return s;
}

BENCH_CASE(head5)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += head_one(c, &c->pkt5, TERN_V5);
    return s;
}

/* n passes over the whole stream: n * STREAM_FRAMES frames. */
BENCH_CASE(stream311)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += stream_decode(c, c->stream311, c->stream311_n, TERN_V311);
    return s;
}

BENCH_CASE(stream5)
{
    uint64_t s = 0;
    for (uint64_t i = 0; i < n; i++)
        s += stream_decode(c, c->stream5, c->stream5_n, TERN_V5);
    return s;
}

struct bench_case {
    const char *name;
    const char *what;
    const char *unit; /* what one op is */
    uint64_t (*run)(struct bench_ctx *, uint64_t);
    uint64_t ops_per_unit; /* ops done by run(c, 1) */
    uint64_t batch;        /* units between clock reads */
    bool is_decode;        /* compared against the 20M/s target */
};

static const struct bench_case cases[] = {
    {"decode311", "peek+decode PUBLISH QoS1, 3.1.1", "decode", case_decode311, 1, 4096, true},
    {"decode5", "peek+decode PUBLISH QoS1, 5.0, 2 user props", "decode", case_decode5, 1, 4096,
     true},
    {"encode311", "size+encode PUBLISH QoS1, 3.1.1", "encode", case_encode311, 1, 4096, false},
    {"encode5", "size+encode PUBLISH QoS1, 5.0, 2 user props", "encode", case_encode5, 1, 4096,
     false},
    {"head311", "publish_encode_head QoS1, 3.1.1", "encode", case_head311, 1, 4096, false},
    {"head5", "publish_encode_head QoS1, 5.0, 2 user props", "encode", case_head5, 1, 4096, false},
    {"stream311", "stream of 1000 frames, 3.1.1 (peek+decode)", "frame", case_stream311,
     STREAM_FRAMES, 4, true},
    {"stream5", "stream of 1000 frames, 5.0 (peek+decode)", "frame", case_stream5, STREAM_FRAMES, 4,
     true},
};
#define NCASES (sizeof cases / sizeof cases[0])

/* ---- setup and checks --------------------------------------------------------------------- */

static void publish_init(struct bench_ctx *c, struct tern_packet *p, bool v5)
{
    memset(p, 0, sizeof *p);
    p->type = TERN_PUBLISH;
    p->u.publish.qos = 1;
    p->u.publish.packet_id = BENCH_PACKET_ID;
    p->u.publish.topic = TERN_SLICE_STR(BENCH_TOPIC);
    p->u.publish.payload = (tern_slice){c->payload, sizeof c->payload};
    if (v5) {
        p->u.publish.props.user = c->user;
        p->u.publish.props.user_n = 2;
    }
}

static bool slice_eq(tern_slice a, tern_slice b)
{
    return a.n == b.n && (a.n == 0 || memcmp(a.p, b.p, a.n) == 0);
}

/* Decode frame and check every field against pkt, so the timed work is the real work. */
static int check_decode(const uint8_t *frame, size_t n, uint8_t ver, const struct tern_packet *want)
{
    struct tern_frame f;
    struct tern_packet got;
    uint8_t rc = 0;
    int r = tern_frame_peek(frame, n, 0, &f, &rc);
    if (r != 1 || f.size != n || f.type != TERN_PUBLISH) {
        fprintf(stderr, "codec_bench: tern_frame_peek on a %zu-byte frame: %d (%s), size %u\n", n,
                r, tern_strerror(r), r == 1 ? f.size : 0);
        return -1;
    }
    r = tern_packet_decode(frame, n, ver, &got, &rc);
    if (r != 0) {
        fprintf(stderr, "codec_bench: tern_packet_decode v%u: %d (%s), rc 0x%02x\n", ver, r,
                tern_strerror(r), rc);
        return -1;
    }
    const struct tern_publish *g = &got.u.publish, *w = &want->u.publish;
    bool ok = got.type == TERN_PUBLISH && g->qos == w->qos && !g->dup && !g->retain &&
              g->packet_id == w->packet_id && slice_eq(g->topic, w->topic) &&
              slice_eq(g->payload, w->payload) && g->props.user_n == w->props.user_n;
    struct tern_prop_iter it;
    struct tern_strpair up;
    tern_props_iter_init(&it, &g->props);
    for (uint32_t i = 0; ok && i < w->props.user_n; i++)
        ok = tern_props_next_user(&it, &up) == 1 && slice_eq(up.k, w->props.user[i].k) &&
             slice_eq(up.v, w->props.user[i].v);
    if (ok && w->props.user_n)
        ok = tern_props_next_user(&it, &up) == 0;
    if (!ok) {
        fprintf(stderr, "codec_bench: v%u PUBLISH decoded with wrong fields\n", ver);
        return -1;
    }
    return 0;
}

static int encode_frame(const struct tern_packet *p, uint8_t ver, uint8_t *out, size_t cap)
{
    int sz = tern_packet_size(p, ver);
    int w = sz > 0 ? tern_packet_encode(p, ver, out, cap) : sz;
    if (sz <= 0 || w != sz) {
        fprintf(stderr, "codec_bench: encode v%u PUBLISH: size %d (%s), encode %d (%s)\n", ver, sz,
                tern_strerror(sz), w, tern_strerror(w));
        return -1;
    }
    return w;
}

/* STREAM_FRAMES copies of pkt with packet ids 1..STREAM_FRAMES, back to back. */
static uint8_t *build_stream(const struct tern_packet *pkt, uint8_t ver, size_t *len)
{
    struct tern_packet p = *pkt;
    int sz = tern_packet_size(&p, ver);
    if (sz <= 0)
        return NULL;
    size_t cap = (size_t)sz * STREAM_FRAMES, off = 0;
    uint8_t *buf = malloc(cap);
    if (!buf)
        return NULL;
    for (unsigned i = 1; i <= STREAM_FRAMES; i++) {
        p.u.publish.packet_id = (uint16_t)i;
        int w = tern_packet_encode(&p, ver, buf + off, cap - off);
        if (w != sz) {
            free(buf);
            return NULL;
        }
        off += (size_t)w;
    }
    *len = off;
    return buf;
}

static int bench_setup(struct bench_ctx *c)
{
    for (size_t i = 0; i < sizeof c->payload; i++)
        c->payload[i] = (uint8_t)('0' + i % 10); /* e.g. a JSON reading; content is opaque */
    memcpy(c->payload, "{\"t\":21.5,\"unit\":\"C\",", 21);
    c->user[0] = (struct tern_strpair){TERN_SLICE_STR("unit"), TERN_SLICE_STR("celsius")};
    c->user[1] = (struct tern_strpair){TERN_SLICE_STR("sensor"), TERN_SLICE_STR("dht22-3f9a")};
    publish_init(c, &c->pkt311, false);
    publish_init(c, &c->pkt5, true);

    int w = encode_frame(&c->pkt311, TERN_V311, c->frame311, sizeof c->frame311);
    if (w < 0)
        return -1;
    c->frame311_n = (size_t)w;
    w = encode_frame(&c->pkt5, TERN_V5, c->frame5, sizeof c->frame5);
    if (w < 0)
        return -1;
    c->frame5_n = (size_t)w;
    if (check_decode(c->frame311, c->frame311_n, TERN_V311, &c->pkt311) ||
        check_decode(c->frame5, c->frame5_n, TERN_V5, &c->pkt5))
        return -1;

    /* The head plus the payload must be the whole frame, byte for byte. */
    const struct {
        const struct tern_packet *p;
        uint8_t v;
        const uint8_t *f;
        size_t n;
    } hc[] = {
        {&c->pkt311, TERN_V311, c->frame311, c->frame311_n},
        {&c->pkt5, TERN_V5, c->frame5, c->frame5_n},
    };
    for (size_t i = 0; i < 2; i++) {
        int h = tern_publish_encode_head(hc[i].p, hc[i].v, c->out, sizeof c->out);
        if (h <= 0 || (size_t)h + BENCH_PAYLOAD_LEN != hc[i].n ||
            memcmp(c->out, hc[i].f, (size_t)h) != 0) {
            fprintf(stderr, "codec_bench: tern_publish_encode_head v%u: %d, frame %zu bytes\n",
                    hc[i].v, h, hc[i].n);
            return -1;
        }
    }

    c->stream311 = build_stream(&c->pkt311, TERN_V311, &c->stream311_n);
    c->stream5 = build_stream(&c->pkt5, TERN_V5, &c->stream5_n);
    if (!c->stream311 || !c->stream5) {
        fprintf(stderr, "codec_bench: cannot build the 1000-frame streams\n");
        return -1;
    }
    return 0;
}

static size_t case_frame_bytes(const struct bench_ctx *c, const struct bench_case *k)
{
    return strchr(k->name, '5') ? c->frame5_n : c->frame311_n;
}

/* ---- timing ------------------------------------------------------------------------------- */

/* CLOCK_MONOTONIC by default; --clock thread uses the thread's CPU time instead, which leaves
 * out the time another process held our CPU (useful on a shared machine, see README). */
static double now_s(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Run k for at least `secs` seconds, reading the clock every k->batch units. Returns ops/s. */
static double run_for(struct bench_ctx *c, const struct bench_case *k, clockid_t clk, double secs,
                      uint64_t *sum)
{
    uint64_t units = 0;
    double t0 = now_s(clk), t;
    do {
        *sum += k->run(c, k->batch);
        units += k->batch;
        t = now_s(clk);
    } while (t - t0 < secs);
    return (double)(units * k->ops_per_unit) / (t - t0);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct bench_result {
    double median, min, max; /* ops per second */
    uint64_t ops;            /* --iters mode: ops done */
    double elapsed;          /* --iters mode: seconds */
};

/* ---- CPU pinning -------------------------------------------------------------------------- */

/* Pin to `cpu`, or to the highest CPU we may run on when cpu < 0 and !explicit. Returns the
 * CPU pinned to, or -1 (with a warning) when pinning is impossible. */
static int pin_cpu(int cpu, bool explicit_cpu)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "codec_bench: sched_getaffinity: %s (not pinned)\n", strerror(errno));
        return -1;
    }
    if (!explicit_cpu) {
        cpu = -1;
        for (int i = CPU_SETSIZE - 1; i >= 0; i--)
            if (CPU_ISSET(i, &set)) {
                cpu = i;
                break;
            }
        if (cpu < 0)
            return -1;
    }
    if (cpu >= CPU_SETSIZE)
        return -1;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0) {
        fprintf(stderr, "codec_bench: sched_setaffinity(cpu %d): %s (not pinned)\n", cpu,
                strerror(errno));
        return -1;
    }
    return cpu;
}

/* ---- output ------------------------------------------------------------------------------- */

struct bench_opts {
    int cpu; /* -1: do not pin */
    bool cpu_given;
    bool json;
    double seconds; /* per repetition */
    double warmup;  /* seconds */
    int reps;
    uint64_t iters;   /* 0: timed mode */
    const char *only; /* --case */
    clockid_t clk;    /* --clock */
};

static bool build_is_optimised(void)
{
#if defined(__OPTIMIZE__)
    return true;
#else
    return false;
#endif
}

static bool build_is_sanitized(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
    return true;
#else
    return false;
#endif
#else
    return false;
#endif
}

static void print_table(const struct bench_ctx *c, const struct bench_opts *o,
                        const struct bench_result *res, const bool *ran, uint64_t sum, int cpu)
{
    printf("tern codec_bench: build %s [%s] (%s%s), cpu %d, ", TN_BENCH_BUILD_TYPE,
           TN_BENCH_C_FLAGS, build_is_optimised() ? "optimised" : "NOT optimised",
           build_is_sanitized() ? ", sanitizers" : "", cpu);
    if (o->iters)
        printf("--iters %" PRIu64 " (one run, timings indicative only)\n", o->iters);
    else
        printf("%d x %.2f s per case after %.2f s warm-up, %s clock\n", o->reps, o->seconds,
               o->warmup, o->clk == CLOCK_MONOTONIC ? "monotonic" : "thread CPU-time");
    printf("topic \"%s\", payload %d bytes, QoS 1; frame %zu bytes (3.1.1), %zu bytes (5.0)\n\n",
           BENCH_TOPIC, BENCH_PAYLOAD_LEN, c->frame311_n, c->frame5_n);
    printf("%-10s %-44s %6s %11s %11s %11s %8s\n", "case", "what", "frame", "median/s", "min/s",
           "max/s", "ns/op");
    for (size_t i = 0; i < NCASES; i++) {
        if (!ran[i])
            continue;
        const struct bench_case *k = &cases[i];
        printf("%-10s %-44s %6zu %10.2fM %10.2fM %10.2fM %8.1f%s\n", k->name, k->what,
               case_frame_bytes(c, k), res[i].median / 1e6, res[i].min / 1e6, res[i].max / 1e6,
               1e9 / res[i].median,
               !o->iters && k->is_decode && res[i].median < TARGET_DECODES ? "  < 20M target" : "");
    }
    printf("\nchecksum 0x%016" PRIx64 "\n", sum);
    if (!build_is_optimised() || build_is_sanitized())
        printf("warning: not a release build; these figures say nothing about speed\n");
}

static void print_json(const struct bench_ctx *c, const struct bench_opts *o,
                       const struct bench_result *res, const bool *ran, uint64_t sum, int cpu)
{
    printf("{\n  \"bench\": \"codec\",\n  \"build_type\": \"%s\",\n  \"c_flags\": \"%s\",\n"
           "  \"optimised\": %s,\n  \"sanitized\": %s,\n  \"cpu\": %d,\n",
           TN_BENCH_BUILD_TYPE, TN_BENCH_C_FLAGS, build_is_optimised() ? "true" : "false",
           build_is_sanitized() ? "true" : "false", cpu);
    printf("  \"clock\": \"%s\",\n", o->clk == CLOCK_MONOTONIC ? "monotonic" : "thread");
    printf("  \"mode\": \"%s\",\n  \"reps\": %d,\n  \"seconds\": %.3f,\n  \"iters\": %" PRIu64
           ",\n",
           o->iters ? "iters" : "timed", o->iters ? 1 : o->reps, o->seconds, o->iters);
    printf("  \"topic\": \"%s\",\n  \"payload_bytes\": %d,\n  \"target_decodes_per_s\": %.0f,\n",
           BENCH_TOPIC, BENCH_PAYLOAD_LEN, TARGET_DECODES);
    printf("  \"checksum\": \"0x%016" PRIx64 "\",\n  \"cases\": [", sum);
    bool first = true;
    for (size_t i = 0; i < NCASES; i++) {
        if (!ran[i])
            continue;
        const struct bench_case *k = &cases[i];
        printf("%s\n    {\"name\": \"%s\", \"what\": \"%s\", \"unit\": \"%s\", "
               "\"frame_bytes\": %zu, \"median_per_s\": %.0f, \"min_per_s\": %.0f, "
               "\"max_per_s\": %.0f, \"ns_per_op\": %.2f}",
               first ? "" : ",", k->name, k->what, k->unit, case_frame_bytes(c, k), res[i].median,
               res[i].min, res[i].max, 1e9 / res[i].median);
        first = false;
    }
    printf("\n  ]\n}\n");
}

/* ---- main --------------------------------------------------------------------------------- */

static void usage(FILE *to)
{
    fprintf(to,
            "usage: codec_bench [--cpu N] [--seconds S] [--warmup S] [--reps R] [--iters N]\n"
            "                   [--case NAME] [--clock monotonic|thread] [--json] [--list]\n"
            "  --cpu N      pin to CPU N (default: the last CPU allowed; -1: do not pin)\n"
            "  --seconds S  length of one timed run (default 1.0)\n"
            "  --warmup S   warm-up before the runs of each case (default 0.3)\n"
            "  --reps R     timed runs per case; the median is reported (default 5)\n"
            "  --iters N    run each case exactly N ops, once (for callgrind; rate indicative)\n"
            "  --case NAME  run only this case (see --list)\n"
            "  --clock C    monotonic (default) or thread (this thread's CPU time)\n"
            "  --json       print JSON instead of a table\n");
}

static int parse_opts(int argc, char **argv, struct bench_opts *o)
{
    static const struct option lopts[] = {
        {"cpu", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"reps", required_argument, NULL, 'r'},
        {"iters", required_argument, NULL, 'n'},
        {"case", required_argument, NULL, 'k'},
        {"json", no_argument, NULL, 'j'},
        {"list", no_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {"clock", required_argument, NULL, 't'},
        {NULL, 0, NULL, 0},
    };
    *o = (struct bench_opts){
        .cpu = -1, .seconds = 1.0, .warmup = 0.3, .reps = 5, .clk = CLOCK_MONOTONIC};
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "", lopts, NULL)) != -1) {
        errno = 0;
        end = NULL;
        switch (ch) {
        case 'c':
            o->cpu = (int)strtol(optarg, &end, 10);
            o->cpu_given = true;
            break;
        case 's': o->seconds = strtod(optarg, &end); break;
        case 'w': o->warmup = strtod(optarg, &end); break;
        case 'r': o->reps = (int)strtol(optarg, &end, 10); break;
        case 'n':
            o->iters = strtoull(optarg, &end, 10);
            if (optarg[0] == '-')
                end = optarg; /* strtoull would wrap it */
            break;
        case 'k': o->only = optarg; break;
        case 't':
            if (strcmp(optarg, "monotonic") == 0)
                o->clk = CLOCK_MONOTONIC;
            else if (strcmp(optarg, "thread") == 0)
                o->clk = CLOCK_THREAD_CPUTIME_ID;
            else
                end = optarg; /* reported as a bad argument below */
            break;
        case 'j': o->json = true; break;
        case 'l':
            for (size_t i = 0; i < NCASES; i++)
                printf("%-10s %s\n", cases[i].name, cases[i].what);
            exit(0);
        case 'h': usage(stdout); exit(0);
        default: usage(stderr); return -1;
        }
        if (end && (*end || errno || end == optarg)) {
            fprintf(stderr, "codec_bench: bad argument '%s'\n", optarg);
            return -1;
        }
    }
    if (optind != argc || o->reps < 1 || o->reps > MAX_REPS || !(o->seconds > 0) || o->warmup < 0 ||
        (o->cpu_given && o->cpu < -1)) {
        usage(stderr);
        return -1;
    }
    if (o->only) {
        bool found = false;
        for (size_t i = 0; i < NCASES; i++)
            found |= strcmp(o->only, cases[i].name) == 0;
        if (!found) {
            fprintf(stderr, "codec_bench: no case '%s' (see --list)\n", o->only);
            return -1;
        }
    }
    return 0;
}

static void run_case(struct bench_ctx *c, const struct bench_opts *o, const struct bench_case *k,
                     struct bench_result *r, uint64_t *sum)
{
    if (o->iters) {
        /* Whole units: a stream case runs ceil(iters / 1000) passes of 1000 frames. */
        uint64_t units = (o->iters + k->ops_per_unit - 1) / k->ops_per_unit;
        double t0 = now_s(o->clk);
        *sum += k->run(c, units);
        double dt = now_s(o->clk) - t0;
        r->ops = units * k->ops_per_unit;
        r->elapsed = dt;
        r->median = r->min = r->max = dt > 0 ? (double)r->ops / dt : 0;
        return;
    }
    double rates[MAX_REPS];
    if (o->warmup > 0)
        run_for(c, k, o->clk, o->warmup, sum);
    for (int i = 0; i < o->reps; i++)
        rates[i] = run_for(c, k, o->clk, o->seconds, sum);
    qsort(rates, (size_t)o->reps, sizeof rates[0], cmp_double);
    r->min = rates[0];
    r->max = rates[o->reps - 1];
    r->median =
        o->reps % 2 ? rates[o->reps / 2] : (rates[o->reps / 2 - 1] + rates[o->reps / 2]) / 2;
}

int main(int argc, char **argv)
{
    struct bench_opts o;
    if (parse_opts(argc, argv, &o) != 0)
        return 2;
    int cpu = -1;
    if (!o.cpu_given || o.cpu >= 0)
        cpu = pin_cpu(o.cpu, o.cpu_given);
    if (o.cpu_given && o.cpu >= 0 && cpu < 0)
        return 2; /* asked for a CPU we cannot have: the figures would mean something else */

    static struct bench_ctx ctx; /* static: ~2 KiB of buffers, kept off the stack */
    if (bench_setup(&ctx) != 0)
        return 1;

    struct bench_result res[NCASES];
    bool ran[NCASES] = {false};
    uint64_t sum = 0;
    memset(res, 0, sizeof res);
    for (size_t i = 0; i < NCASES; i++) {
        if (o.only && strcmp(o.only, cases[i].name) != 0)
            continue;
        run_case(&ctx, &o, &cases[i], &res[i], &sum);
        ran[i] = true;
        if (ctx.errors) {
            fprintf(stderr, "codec_bench: case %s: %" PRIu64 " codec failures while timing\n",
                    cases[i].name, ctx.errors);
            return 1;
        }
    }
    if (o.json)
        print_json(&ctx, &o, res, ran, sum, cpu);
    else
        print_table(&ctx, &o, res, ran, sum, cpu);
    free(ctx.stream311);
    free(ctx.stream5);
    return 0;
}
