/* SPDX-License-Identifier: MIT */
/*
 * src/cli/sub.c - tern sub: subscribe to one or more filters and print each message as
 * mosquitto_sub does (payload, -v, -F), with -C/-W/-R/-E/-T/-U, --retained-only and
 * --remove-retained.
 *
 * Owns: nothing beyond its stack.
 * Thread: the main thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_client.h"
#include "cli_format.h"
#include "cli_opts.h"
#include "cmds.h"

struct sub {
    struct tn_cli_cfg *cfg;
    long printed;       /* messages printed (for -C) */
    long pending_clear; /* --remove-retained publishes not yet ended */
    char **to_clear;    /* --remove-retained topics not yet published (owned strings) */
    size_t to_clear_n, to_clear_cap;
    bool stop_printing; /* -C reached, or --retained-only met a fresh message */
    size_t subacks;     /* SUBACKs still expected */
};

static void sub_maybe_done(struct tn_cli_run *r)
{
    struct sub *s = r->tool;

    if (s->stop_printing && s->pending_clear == 0 && s->to_clear_n == 0)
        tn_cli_finish(r);
}

/* Like mosquitto_sub, subscribe again even when the session was resumed. */
static void sub_connected(struct tn_cli_run *r)
{
    struct sub *s = r->tool;
    struct tn_cli_cfg *cfg = s->cfg;
    struct tern_sub_entry *e;
    size_t i;
    int rc;

    e = calloc(cfg->topics.n, sizeof(*e));
    if (!e) {
        tn_cli_errf(cfg, "out of memory");
        r->status = TN_CLI_EXIT_ERR;
        tn_cli_finish(r);
        return;
    }
    for (i = 0; i < cfg->topics.n; i++) {
        e[i].filter = tern_slice_cstr(cfg->topics.v[i]);
        e[i].qos = cfg->qos;
    }
    rc = tern_client_subscribe(r->c, e, cfg->topics.n, tn_cli_props(cfg, TN_CLI_PCMD_SUBSCRIBE),
                               NULL);
    free(e);
    if (rc < 0) {
        const char *d = tern_client_last_error();

        tn_cli_errf(cfg, "cannot subscribe: %s", d && *d ? d : tern_client_strerror(rc));
        r->status = TN_CLI_EXIT_ERR;
        tn_cli_finish(r);
        return;
    }
    s->subacks = 1;
    if (cfg->unsub_topics.n > 0) {
        rc = tern_client_unsubscribe(r->c, cfg->unsub_topics.v, cfg->unsub_topics.n,
                                     tn_cli_props(cfg, TN_CLI_PCMD_UNSUBSCRIBE), NULL);
        if (rc < 0) {
            const char *d = tern_client_last_error();

            tn_cli_errf(cfg, "cannot unsubscribe: %s", d && *d ? d : tern_client_strerror(rc));
            r->status = TN_CLI_EXIT_ERR;
            tn_cli_finish(r);
        }
    }
}

static void sub_on_subscribe(tern_client *c, void *ud, const struct tern_sub_event *ev)
{
    struct tn_cli_run *r = ud;
    struct sub *s = r->tool;
    struct tn_cli_cfg *cfg = s->cfg;
    size_t i, refused = 0;

    (void)c;
    for (i = 0; i < ev->n; i++) {
        if (ev->rcs[i] < 0x80)
            continue;
        refused++;
        tn_cli_errf(cfg, "subscription to '%s' refused: %s (0x%02X)",
                    i < cfg->topics.n ? cfg->topics.v[i] : "?",
                    ev->rcs[i] == 0x80 && cfg->version != TERN_V5 ? "Failure"
                                                                  : tern_rc_name(ev->rcs[i]),
                    ev->rcs[i]);
    }
    if (cfg->debug || cfg->trace) {
        fprintf(stderr, "tern sub: subscribed:");
        for (i = 0; i < ev->n; i++)
            fprintf(stderr, " %s%u", i ? "," : "", ev->rcs[i]);
        fputc('\n', stderr);
    }
    if (s->subacks > 0)
        s->subacks--;
    if (refused == ev->n && ev->n > 0) {
        tn_cli_errf(cfg, "all subscriptions were refused");
        r->status = TN_CLI_EXIT_ERR;
        tn_cli_finish(r);
        return;
    }
    if (cfg->exit_after_sub && s->subacks == 0)
        tn_cli_finish(r);
}

static void queue_clear(struct tn_cli_run *r, tern_slice topic)
{
    struct sub *s = r->tool;
    char *t;

    if (s->to_clear_n == s->to_clear_cap) {
        size_t cap = s->to_clear_cap ? s->to_clear_cap * 2 : 8;
        char **v = realloc(s->to_clear, cap * sizeof(*v));

        if (!v)
            return;
        s->to_clear = v;
        s->to_clear_cap = cap;
    }
    t = strndup((const char *)topic.p, topic.n);
    if (t)
        s->to_clear[s->to_clear_n++] = t;
}

/* --remove-retained: an empty retained message clears the retained one [MQTT-3.3.1-10]
 * (3.1.1); QoS 1 as mosquitto_sub, so the tool knows when the broker has it. */
static void sub_step(struct tn_cli_run *r)
{
    struct sub *s = r->tool;
    size_t i;

    for (i = 0; i < s->to_clear_n; i++) {
        if (tern_client_publish(r->c, s->to_clear[i], NULL, 0, 1, true, NULL, NULL) == 0)
            s->pending_clear++;
        else
            tn_cli_errf(s->cfg, "cannot clear the retained message of '%s'", s->to_clear[i]);
        free(s->to_clear[i]);
    }
    s->to_clear_n = 0;
    sub_maybe_done(r);
}

static bool filtered_out(const struct tn_cli_cfg *cfg, tern_slice topic)
{
    size_t i;

    for (i = 0; i < cfg->filter_outs.n; i++)
        if (tern_topic_matches(tern_slice_cstr(cfg->filter_outs.v[i]), topic))
            return true;
    return false;
}

static void sub_on_message(tern_client *c, void *ud, const struct tern_publish *msg,
                           uint8_t version)
{
    struct tn_cli_run *r = ud;
    struct sub *s = r->tool;
    struct tn_cli_cfg *cfg = s->cfg;
    struct tn_cli_out out = {cfg->format, cfg->verbose, cfg->eol, cfg->pretty};
    struct tn_cli_msg m;
    struct timespec now;

    (void)c;
    if (s->stop_printing)
        return;
    if (cfg->retained_only && !msg->retain) {
        s->stop_printing = true;
        sub_maybe_done(r);
        return;
    }
    if (msg->retain && cfg->no_retain)
        return;
    if (filtered_out(cfg, msg->topic))
        return;
    if (cfg->remove_retained && msg->retain)
        queue_clear(r, msg->topic); /* published by sub_step, outside this callback */
    m.topic = msg->topic;
    m.payload = msg->payload;
    m.qos = msg->qos;
    m.retain = msg->retain;
    m.mid = msg->qos ? msg->packet_id : 0;
    m.props = version == TERN_V5 ? &msg->props : NULL;
    m.client_id = r->client_id;
    clock_gettime(CLOCK_REALTIME, &now);
    if (tn_cli_print_msg(stdout, &out, &m, &now) < 0)
        tn_cli_errf(cfg, "payload on topic '%.*s' is not valid JSON (%%J)",
                    TERN_SLICE_FMT(msg->topic));
    s->printed++;
    if (cfg->msg_count > 0 && s->printed >= cfg->msg_count) {
        s->stop_printing = true;
        sub_maybe_done(r);
    }
}

static void sub_on_publish(tern_client *c, void *ud, const struct tern_publish_event *ev)
{
    struct tn_cli_run *r = ud;
    struct sub *s = r->tool;

    (void)c;
    (void)ev;
    if (s->pending_clear > 0)
        s->pending_clear--;
    sub_maybe_done(r);
}

static void sub_on_unsubscribe(tern_client *c, void *ud, const struct tern_sub_event *ev)
{
    struct tn_cli_run *r = ud;
    struct sub *s = r->tool;
    size_t i;

    (void)c;
    for (i = 0; i < ev->n; i++)
        if (ev->rcs[i] >= 0x80)
            tn_cli_errf(s->cfg, "unsubscribe from '%s' refused: %s (0x%02X)",
                        i < s->cfg->unsub_topics.n ? s->cfg->unsub_topics.v[i] : "?",
                        tern_rc_name(ev->rcs[i]), ev->rcs[i]);
}

int tern_cmd_sub(int argc, char **argv)
{
    struct tn_cli_cfg cfg;
    struct tn_cli_run run;
    struct sub s;
    struct tern_client_callbacks cb;
    struct tn_cli_hooks hooks = {.connected = sub_connected, .step = sub_step};
    size_t i;
    int r;

    r = tn_cli_setup(&cfg, TN_CLI_SUB, argc, argv);
    if (r >= 0)
        return r;
    memset(&s, 0, sizeof(s));
    s.cfg = &cfg;
    memset(&cb, 0, sizeof(cb));
    cb.on_message = sub_on_message;
    cb.on_subscribe = sub_on_subscribe;
    cb.on_unsubscribe = sub_on_unsubscribe;
    cb.on_publish = sub_on_publish;
    if (tn_cli_start(&run, &cfg, &cb, &hooks, &s) < 0)
        r = TN_CLI_EXIT_ERR;
    else
        r = tn_cli_loop(&run);
    tn_cli_run_fini(&run);
    for (i = 0; i < s.to_clear_n; i++)
        free(s.to_clear[i]);
    free(s.to_clear);
    tn_cli_cfg_fini(&cfg);
    return r;
}
