/* SPDX-License-Identifier: MIT */
/*
 * src/cli/bench.h - what the parts of tern bench share: the options, the run shared by all
 * threads, and the worker threads that drive the connections.
 *
 * bench.c parses options, starts the workers, prints the live line and the report.
 * bench_loop.c is one worker: its own epoll loop over its share of the connections, speaking
 * MQTT through the codec (no libtern), with batched writes and large reads.
 *
 * Owns: the declarations only.
 * Thread: struct tn_bench is written by the main thread before the workers start, except the
 * atomics (phase, ready, counters), which are the only things that cross threads while running.
 */
#ifndef TERN_CLI_BENCH_H
#define TERN_CLI_BENCH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "bench_hist.h"

enum tn_bench_mode {
    TN_BENCH_THROUGHPUT,
    TN_BENCH_FANOUT,
    TN_BENCH_FANIN,
    TN_BENCH_LATENCY,
    TN_BENCH_IDLE,
};

/* Every payload starts with this header (little endian, 24 bytes): the run id tells our
 * messages from anyone else's on the same broker. */
#define TN_BENCH_HDR 24u

struct tn_bench_opts {
    enum tn_bench_mode mode;
    const char *host;
    const char *port_str;
    uint16_t port;
    uint8_t qos;
    uint8_t version;  /* TERN_V311 or TERN_V5 */
    unsigned pubs;    /* publisher connections */
    unsigned subs;    /* subscriber connections */
    unsigned clients; /* idle mode: connections */
    uint64_t count;   /* messages per publisher, 0: unbounded (duration decides) */
    double duration;  /* seconds publishers publish (idle: seconds to hold), 0: unbounded */
    uint32_t size;    /* payload bytes, >= TN_BENCH_HDR */
    double rate;      /* messages per second over all publishers, 0: as fast as possible */
    unsigned window;  /* QoS 1/2 in-flight messages per publisher */
    unsigned threads;
    unsigned keepalive;
    double drain;           /* seconds without progress before the end gives up waiting */
    double drain_max;       /* seconds after publishing ends to stop waiting anyway (0: none) */
    double sub_stall;       /* seconds subscribers do not read after the start */
    double connect_timeout; /* seconds for every connection to be ready */
    int broker_pid;         /* 0: none */
    unsigned source_addrs;  /* connect from 127.0.0.1..N, 0: automatic */
    bool json;
    const char *topic;    /* prefix */
    const char *username; /* or NULL */
    const char *password; /* or NULL */
};

enum tn_bench_phase {
    TN_PH_CONNECT = 0, /* connecting and subscribing */
    TN_PH_RUN = 1,     /* publishers publish */
    TN_PH_STOP = 2,    /* disconnect everything and leave */
};

struct tn_bench_worker;

/* The run: options, addresses, and what the main thread and the workers exchange. */
struct tn_bench {
    struct tn_bench_opts o;
    struct sockaddr_storage addr; /* the broker */
    socklen_t addrlen;
    unsigned nsrc; /* idle mode: source addresses 127.0.0.1.. to spread over, 0: none */
    uint32_t run_id;
    char topic[256];        /* publisher i publishes to "<topic>/<i>" */
    char client_id[64];     /* prefix of client ids */
    uint64_t t_start;       /* CLOCK_MONOTONIC ns when publishing started (set before RUN) */
    _Atomic uint64_t t_end; /* t_start + duration, or UINT64_MAX; Ctrl-C moves it */
    uint64_t per_pub_ns;    /* pacing interval per publisher, 0: unpaced */
    unsigned nconns;
    _Atomic int phase;
    atomic_uint ready;  /* connections ready (CONNACK, and SUBACK for subscribers) */
    atomic_uint failed; /* connections that failed (idle mode keeps going) */
    atomic_uint pubs_done;
    atomic_bool fatal; /* a worker hit an error that ends the run */
    struct tn_bench_worker *w;
    /* Written by the owning worker as it ends, read by the main thread after join. */
    uint64_t *pub_sent; /* [pubs]: messages publisher p sent */
    uint64_t *sub_uniq; /* [subs * pubs]: distinct messages of publisher p that sub s got */
};

/* One connection's role. */
enum tn_bench_role {
    TN_ROLE_PUB,
    TN_ROLE_SUB,
    TN_ROLE_IDLE,
};

/* Per-worker counters: written by the worker only (relaxed atomics so the main thread can read
 * them for the live line), read exactly after join. */
struct tn_bench_counters {
    _Atomic uint64_t sent;      /* PUBLISH written by publishers (first transmission) */
    _Atomic uint64_t completed; /* QoS 1/2 exchanges finished (PUBACK / PUBCOMP) */
    _Atomic uint64_t received;  /* our PUBLISHes delivered to subscribers, duplicates included */
    _Atomic uint64_t inflight;  /* publishers' unacknowledged QoS 1/2 messages */
    _Atomic uint64_t errors;
    _Atomic uint64_t connected;
};

struct tn_bench_conn;

struct tn_bench_worker {
    struct tn_bench *b;
    unsigned id;
    pthread_t th;
    int ep;   /* epoll */
    int evfd; /* the main thread writes it on a phase change */
    int tfd;  /* timerfd: pacing, keep-alive, the end of the duration */
    struct tn_bench_conn **conns;
    unsigned nconns;
    unsigned next_start; /* conns[next_start..] not yet connecting */
    unsigned connecting; /* connects under way */
    uint64_t timer_at;   /* when the timerfd is armed to fire (pacing) */
    struct tn_bench_counters c;
    tn_hist lat;  /* PUBLISH send to receive, ns */
    tn_hist conn; /* CONNECT sent to CONNACK received, ns */
    /* Final tallies, filled when the worker ends (subscribers' view). */
    uint64_t unique, dups, foreign, rejected;
    uint64_t last_rx_ns; /* when a subscriber last received one of our messages */
    uint64_t first_connect_ns, last_connack_ns;
    bool downgraded; /* a SUBACK granted less than the QoS asked for */
    char err[256];   /* the first fatal error, for the user */
};

/* Set up worker id of run b (no connections yet). */
int tn_bench_worker_init(struct tn_bench_worker *w, struct tn_bench *b, unsigned id);
void tn_bench_worker_fini(struct tn_bench_worker *w);
/* Give worker w a new connection with this role and index; it connects when w runs. */
int tn_bench_worker_add(struct tn_bench_worker *w, enum tn_bench_role role, unsigned idx);
/* The thread body. */
void *tn_bench_worker_main(void *arg);
/* Wake a worker after a phase change. */
void tn_bench_worker_wake(struct tn_bench_worker *w);

uint64_t tn_bench_now(void);

#endif
