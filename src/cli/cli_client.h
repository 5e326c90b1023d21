/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_client.h - what tern pub, sub and rr share once the command line is parsed: a
 * libtern client made from struct tn_cli_cfg, the poll() loop that drives it (fd mode, on the
 * main thread, optionally also watching stdin), connection errors worded for people, --trace,
 * -W deadlines, and an orderly DISCONNECT at the end.
 *
 * Owns: struct tn_cli_run owns its tern_client.
 * Thread: the main thread only; libtern callbacks run inside tn_cli_loop on that thread.
 *
 * Rule: libtern callbacks only record what happened; every tern_client_* call (subscribe,
 * publish, disconnect) is made from the loop, in a hook, after tern_client_process has
 * returned. That keeps each step in one place, and it sidesteps re-entering the library from
 * its own dispatch loop.
 */
#ifndef TERN_CLI_CLIENT_H
#define TERN_CLI_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include "cli_opts.h"
#include "tern/client.h"

struct tn_cli_run;

/* A tool's hooks into the loop, all called from the loop (never from a libtern callback), so
 * they may call tern_client_*. Any may be NULL. */
struct tn_cli_hooks {
    /* CONNACK accepted (once). */
    void (*connected)(struct tn_cli_run *r);
    /* After every turn of the loop: do what callbacks have recorded (publish, ...). */
    void (*step)(struct tn_cli_run *r);
    /* extra_fd is readable (or hung up). */
    void (*readable)(struct tn_cli_run *r);
    /* r->timer_ns (CLOCK_MONOTONIC) has passed; the hook re-arms it or sets it to 0. */
    void (*timer)(struct tn_cli_run *r);
};

struct tn_cli_run {
    struct tn_cli_cfg *cfg; /* borrowed */
    tern_client *c;         /* owned */
    struct tn_cli_hooks hooks;
    void *tool; /* the tool's own state, borrowed */

    int extra_fd;        /* also polled for reading when >= 0 (pub -l: stdin) */
    int64_t timer_ns;    /* CLOCK_MONOTONIC deadline for hooks.timer, 0: none */
    int64_t deadline_ns; /* -W: CLOCK_MONOTONIC deadline, 0: none */

    bool connected;      /* CONNACK accepted at least once */
    bool stop;           /* leave tn_cli_loop */
    bool closed;         /* the connection has ended (on_disconnect seen) */
    bool connect_seen;   /* CONNACK accepted, hooks.connected not yet called */
    bool finish_req;     /* tn_cli_finish called; acted on by the loop */
    bool finishing;      /* DISCONNECT requested */
    bool timed_out;      /* -W expired */
    int status;          /* exit status so far (TN_CLI_EXIT_*) */
    char client_id[256]; /* the id in use (server-assigned in 5.0 when it assigns one) */
    /* Incoming QoS 2 exchanges not yet completed (PUBLISH seen, PUBCOMP not sent): a finish
     * requested meanwhile waits for them (at most FINISH_GRACE), so that, like mosquitto_sub,
     * tern sub -C 1 -q 2 completes the exchange before it disconnects. */
    uint8_t qos2_in[65536 / 8];
    unsigned qos2_pending;
    bool finish_wanted;
    int64_t finish_wait_until;
};

/* Print "<prog>: message" to stderr unless --quiet. */
void tn_cli_errf(const struct tn_cli_cfg *cfg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* CLOCK_MONOTONIC now, in nanoseconds. */
int64_t tn_cli_now_ns(void);

/* Create r->c from r->cfg with the tool's callbacks: cb.on_connect / on_disconnect / on_trace /
 * on_log are supplied here when NULL in cb (the tool's on_connect, if any, should call
 * tn_cli_on_connect first). Starts connecting. Returns 0, or -1 after printing why. */
int tn_cli_start(struct tn_cli_run *r, struct tn_cli_cfg *cfg,
                 const struct tern_client_callbacks *cb, const struct tn_cli_hooks *hooks,
                 void *tool);

/* The shared CONNACK handling: on refusal prints the reason and stops with status 1; on
 * success records the client id, and the loop then calls hooks.connected. */
void tn_cli_on_connect(tern_client *c, void *ud, const struct tern_connect_event *ev);

/* Run until r->stop. Handles SIGINT/SIGTERM (orderly DISCONNECT) and -W (prints "Timed out",
 * status 27). Returns r->status. */
int tn_cli_loop(struct tn_cli_run *r);

/* Ask for the end: the loop sends DISCONNECT (with -D disconnect properties), once incoming
 * QoS 2 exchanges are complete, and stops when it is out. Safe to call more than once and
 * from callbacks (it only records the request). */
void tn_cli_finish(struct tn_cli_run *r);

/* Free the client. */
void tn_cli_run_fini(struct tn_cli_run *r);

/* The -D properties given for packet `which`, or NULL when none were. */
const struct tern_props *tn_cli_props(const struct tn_cli_cfg *cfg, enum tn_cli_pcmd which);

#endif
