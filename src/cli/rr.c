/* SPDX-License-Identifier: MIT */
/*
 * src/cli/rr.c - tern rr: request/response as mosquitto_rr does it. Subscribe to the response
 * topic (-e); once the SUBACK is in, publish the request to -t (in MQTT 5 with the Response
 * Topic property set to -e, so a responder knows where to answer); print the first message
 * that arrives on the response topic and exit. -W bounds the wait (exit status 27).
 *
 * Owns: the request payload read from a file or stdin.
 * Thread: the main thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_format.h"
#include "cli_opts.h"
#include "cmds.h"

struct rr {
    struct tn_cli_cfg *cfg;
    uint8_t *msg; /* -f / -s contents (owned) */
    size_t msg_len;
    struct tern_props props; /* PUBLISH properties: -D publish ... + Response Topic */
    bool subscribed;         /* SUBACK granted: rr_step sends the request */
    bool requested;
    bool answered;
};

static int rr_read_fd(int fd, uint8_t **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);

    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t got;

        if (n == cap) {
            uint8_t *b = cap < TERN_VARINT_MAX ? realloc(buf, cap * 2) : NULL;

            if (!b) {
                free(buf);
                return cap < TERN_VARINT_MAX ? -ENOMEM : -EFBIG;
            }
            buf = b;
            cap *= 2;
        }
        got = read(fd, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            int e = -errno;

            free(buf);
            return e;
        }
        if (got == 0)
            break;
        n += (size_t)got;
    }
    *out = buf;
    *len = n;
    return 0;
}

static void rr_connected(struct tn_cli_run *r)
{
    struct rr *q = r->tool;
    struct tn_cli_cfg *cfg = q->cfg;
    struct tern_sub_entry e = {.filter = tern_slice_cstr(cfg->response_topic), .qos = cfg->qos};
    int rc;

    rc = tern_client_subscribe(r->c, &e, 1, tn_cli_props(cfg, TN_CLI_PCMD_SUBSCRIBE), NULL);
    if (rc < 0) {
        const char *d = tern_client_last_error();

        tn_cli_errf(cfg, "cannot subscribe to '%s': %s", cfg->response_topic,
                    d && *d ? d : tern_client_strerror(rc));
        r->status = TN_CLI_EXIT_ERR;
        tn_cli_finish(r);
    }
}

static void rr_on_subscribe(tern_client *c, void *ud, const struct tern_sub_event *ev)
{
    struct tn_cli_run *r = ud;
    struct rr *q = r->tool;
    struct tn_cli_cfg *cfg = q->cfg;

    (void)c;
    if (ev->n < 1 || ev->rcs[0] >= 0x80) {
        tn_cli_errf(cfg, "subscription to '%s' refused: %s (0x%02X)", cfg->response_topic,
                    ev->n ? tern_rc_name(ev->rcs[0]) : "no reason code", ev->n ? ev->rcs[0] : 0);
        r->status = TN_CLI_EXIT_ERR;
        tn_cli_finish(r);
        return;
    }
    q->subscribed = true;
}

/* Send the request once the subscription to the response topic is in place. */
static void rr_step(struct tn_cli_run *r)
{
    struct rr *q = r->tool;
    struct tn_cli_cfg *cfg = q->cfg;
    const void *payload = NULL;
    size_t len = 0;
    int rc;

    if (!q->subscribed || q->requested)
        return;
    switch (cfg->msg_mode) {
    case TN_CLI_MSG_STRING:
        payload = cfg->message;
        len = strlen(cfg->message);
        break;
    case TN_CLI_MSG_FILE:
    case TN_CLI_MSG_STDIN:
        payload = q->msg;
        len = q->msg_len;
        break;
    default: break;
    }
    rc = tern_client_publish(r->c, cfg->topics.v[0], payload, len, cfg->qos, false,
                             cfg->version == TERN_V5 ? &q->props : NULL, NULL);
    if (rc < 0) {
        const char *d = tern_client_last_error();

        tn_cli_errf(cfg, "cannot publish the request to '%s': %s", cfg->topics.v[0],
                    d && *d ? d : tern_client_strerror(rc));
        r->status = TN_CLI_EXIT_ERR;
        tn_cli_finish(r);
        return;
    }
    q->requested = true;
}

static void rr_on_message(tern_client *c, void *ud, const struct tern_publish *msg, uint8_t version)
{
    struct tn_cli_run *r = ud;
    struct rr *q = r->tool;
    struct tn_cli_cfg *cfg = q->cfg;
    struct tn_cli_out out = {cfg->format, cfg->verbose, cfg->eol, cfg->pretty};
    struct tn_cli_msg m;
    struct timespec now;

    (void)c;
    /* Only the answer counts: a retained message on the response topic predates the request
     * (and with -R it is not even printed). */
    if (q->answered || !q->requested || (msg->retain && cfg->no_retain))
        return;
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
    q->answered = true;
    tn_cli_finish(r);
}

int tern_cmd_rr(int argc, char **argv)
{
    struct tn_cli_cfg cfg;
    struct tn_cli_run run;
    struct rr q;
    struct tern_client_callbacks cb;
    struct tn_cli_hooks hooks = {.connected = rr_connected, .step = rr_step};
    int r, fd;

    r = tn_cli_setup(&cfg, TN_CLI_RR, argc, argv);
    if (r >= 0)
        return r;
    memset(&q, 0, sizeof(q));
    q.cfg = &cfg;
    if (cfg.msg_mode == TN_CLI_MSG_NONE) {
        tn_cli_errf(&cfg, "no request: give one of -m MESSAGE, -f FILE, -n or -s");
        tn_cli_cfg_fini(&cfg);
        return TN_CLI_EXIT_ERR;
    }
    if (cfg.props[TN_CLI_PCMD_PUBLISH].any)
        q.props = cfg.props[TN_CLI_PCMD_PUBLISH].props;
    if (tern_props_has(&q.props, TERN_PROP_RESPONSE_TOPIC)) {
        tn_cli_errf(&cfg, "-D publish response-topic: tern rr sets the response topic from -e");
        tn_cli_cfg_fini(&cfg);
        return TN_CLI_EXIT_ERR;
    }
    tern_props_set(&q.props, TERN_PROP_RESPONSE_TOPIC);
    q.props.response_topic = tern_slice_cstr(cfg.response_topic);
    if (cfg.msg_mode == TN_CLI_MSG_FILE || cfg.msg_mode == TN_CLI_MSG_STDIN) {
        int e;

        fd = cfg.msg_mode == TN_CLI_MSG_FILE ? open(cfg.file, O_RDONLY | O_CLOEXEC) : STDIN_FILENO;
        e = fd < 0 ? -errno : rr_read_fd(fd, &q.msg, &q.msg_len);
        if (fd > STDIN_FILENO)
            close(fd);
        if (e < 0) {
            if (cfg.msg_mode == TN_CLI_MSG_FILE)
                tn_cli_errf(&cfg, "cannot read file '%s': %s", cfg.file, strerror(-e));
            else
                tn_cli_errf(&cfg, "cannot read stdin: %s", strerror(-e));
            tn_cli_cfg_fini(&cfg);
            return TN_CLI_EXIT_ERR;
        }
    }
    memset(&cb, 0, sizeof(cb));
    cb.on_subscribe = rr_on_subscribe;
    cb.on_message = rr_on_message;
    if (tn_cli_start(&run, &cfg, &cb, &hooks, &q) < 0)
        r = TN_CLI_EXIT_ERR;
    else
        r = tn_cli_loop(&run);
    tn_cli_run_fini(&run);
    free(q.msg);
    tn_cli_cfg_fini(&cfg);
    return r;
}
