/* SPDX-License-Identifier: MIT */
/*
 * src/cli/pub.c - tern pub: publish one message (-m, -f, -s, -n), one per line of stdin (-l),
 * or the same message --repeat times, then disconnect. Flags as mosquitto_pub's.
 *
 * A message is published once the CONNACK is in; the tool exits when libtern has reported the
 * end of every publish (sent for QoS 0, PUBACK for 1, PUBCOMP for 2), after a DISCONNECT.
 *
 * Owns: the message buffer read from a file or stdin, the -l line buffer.
 * Thread: the main thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_client.h"
#include "cli_opts.h"
#include "cmds.h"

struct pub {
    struct tn_cli_cfg *cfg;
    uint8_t *msg; /* -f / -s contents (owned), else NULL */
    size_t msg_len;
    long sent;      /* publishes queued */
    long done;      /* publishes ended (on_publish) */
    bool input_end; /* nothing more to publish */
    bool failed;    /* a publish was refused */
    /* -l */
    char *line;
    size_t line_len, line_cap;
};

/* Read all of fd into *out. */
static int read_all(int fd, uint8_t **out, size_t *len)
{
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap);

    if (!buf)
        return -ENOMEM;
    for (;;) {
        ssize_t r;

        if (n == cap) {
            uint8_t *b;

            if (cap >= TERN_VARINT_MAX) {
                free(buf);
                return -EFBIG;
            }
            cap *= 2;
            b = realloc(buf, cap);
            if (!b) {
                free(buf);
                return -ENOMEM;
            }
            buf = b;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            r = -errno;
            free(buf);
            return (int)r;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    *out = buf;
    *len = n;
    return 0;
}

static int load_message(struct pub *p)
{
    struct tn_cli_cfg *cfg = p->cfg;
    int fd, e;

    if (cfg->msg_mode == TN_CLI_MSG_FILE) {
        fd = open(cfg->file, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            tn_cli_errf(cfg, "cannot read file '%s': %s", cfg->file, strerror(errno));
            return -1;
        }
        e = read_all(fd, &p->msg, &p->msg_len);
        close(fd);
        if (e < 0) {
            tn_cli_errf(cfg, "cannot read file '%s': %s", cfg->file, strerror(-e));
            return -1;
        }
    } else if (cfg->msg_mode == TN_CLI_MSG_STDIN) {
        e = read_all(STDIN_FILENO, &p->msg, &p->msg_len);
        if (e < 0) {
            tn_cli_errf(cfg, "cannot read stdin: %s", strerror(-e));
            return -1;
        }
    }
    return 0;
}

static void maybe_done(struct tn_cli_run *r)
{
    struct pub *p = r->tool;

    if (p->input_end && p->done >= p->sent)
        tn_cli_finish(r);
}

static void publish(struct tn_cli_run *r, const void *payload, size_t len)
{
    struct pub *p = r->tool;
    struct tn_cli_cfg *cfg = p->cfg;
    int e;

    e = tern_client_publish(r->c, cfg->topics.v[0], payload, len, cfg->qos, cfg->retain,
                            tn_cli_props(cfg, TN_CLI_PCMD_PUBLISH), NULL);
    if (e < 0) {
        const char *d = tern_client_last_error();

        tn_cli_errf(cfg, "cannot publish to '%s': %s", cfg->topics.v[0],
                    d && *d ? d : tern_client_strerror(e));
        r->status = TN_CLI_EXIT_ERR;
        p->input_end = true;
        tn_cli_finish(r);
        return;
    }
    p->sent++;
}

/* Publish the single message (again, with --repeat). */
static void publish_one(struct tn_cli_run *r)
{
    struct pub *p = r->tool;
    struct tn_cli_cfg *cfg = p->cfg;

    switch (cfg->msg_mode) {
    case TN_CLI_MSG_STRING: publish(r, cfg->message, strlen(cfg->message)); break;
    case TN_CLI_MSG_FILE:
    case TN_CLI_MSG_STDIN: publish(r, p->msg, p->msg_len); break;
    default: publish(r, NULL, 0); break;
    }
    if (p->sent >= cfg->repeat)
        p->input_end = true;
    else if (cfg->repeat_delay > 0)
        r->timer_ns = tn_cli_now_ns() + (int64_t)(cfg->repeat_delay * 1e9);
    else
        r->timer_ns = tn_cli_now_ns(); /* next one on the next loop turn */
}

static void pub_timer(struct tn_cli_run *r)
{
    publish_one(r);
    maybe_done(r);
}

/* -l: stdin readable; publish each complete line. */
static void pub_readable(struct tn_cli_run *r)
{
    struct pub *p = r->tool;
    char buf[65536];
    ssize_t n;
    size_t i, start = 0;

    n = read(STDIN_FILENO, buf, sizeof(buf));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n <= 0) {
        /* End of input: a last line without '\n' is still a message (mosquitto_pub reads
         * with fgets and does the same). */
        if (p->line_len > 0)
            publish(r, p->line, p->line_len);
        p->line_len = 0;
        r->extra_fd = -1;
        p->input_end = true;
        maybe_done(r);
        return;
    }
    for (i = 0; i < (size_t)n; i++) {
        if (buf[i] != '\n')
            continue;
        if (p->line_len == 0) {
            publish(r, buf + start, i - start);
        } else {
            /* join with the start kept from the previous read */
            size_t add = i - start;

            if (p->line_len + add > p->line_cap) {
                size_t cap = p->line_len + add;
                char *l = realloc(p->line, cap);

                if (!l) {
                    tn_cli_errf(p->cfg, "out of memory");
                    r->status = TN_CLI_EXIT_ERR;
                    tn_cli_finish(r);
                    return;
                }
                p->line = l;
                p->line_cap = cap;
            }
            memcpy(p->line + p->line_len, buf + start, add);
            publish(r, p->line, p->line_len + add);
            p->line_len = 0;
        }
        start = i + 1;
        if (r->finishing)
            return;
    }
    if (start < (size_t)n) {
        size_t add = (size_t)n - start;

        if (p->line_len + add > p->line_cap) {
            size_t cap = (p->line_len + add) * 2;
            char *l = realloc(p->line, cap);

            if (!l) {
                tn_cli_errf(p->cfg, "out of memory");
                r->status = TN_CLI_EXIT_ERR;
                tn_cli_finish(r);
                return;
            }
            p->line = l;
            p->line_cap = cap;
        }
        memcpy(p->line + p->line_len, buf + start, add);
        p->line_len += add;
    }
}

static void pub_connected(struct tn_cli_run *r)
{
    struct pub *p = r->tool;

    if (p->sent > 0 || p->input_end)
        return; /* already under way */
    if (p->cfg->msg_mode == TN_CLI_MSG_LINES) {
        r->extra_fd = STDIN_FILENO; /* the loop now polls stdin */
        return;
    }
    publish_one(r);
    maybe_done(r);
}

static void pub_on_publish(tern_client *c, void *ud, const struct tern_publish_event *ev)
{
    struct tn_cli_run *r = ud;
    struct pub *p = r->tool;

    (void)c;
    p->done++;
    if (ev->rc >= 0x80) {
        tn_cli_errf(p->cfg, "the broker refused the message to '%s': %s (0x%02X)",
                    p->cfg->topics.v[0], tern_rc_name(ev->rc), ev->rc);
        p->failed = true;
        r->status = TN_CLI_EXIT_ERR;
    }
    maybe_done(r);
}

int tern_cmd_pub(int argc, char **argv)
{
    struct tn_cli_cfg cfg;
    struct tn_cli_run run;
    struct pub p;
    struct tern_client_callbacks cb;
    struct tn_cli_hooks hooks = {
        .connected = pub_connected, .readable = pub_readable, .timer = pub_timer};
    int r;

    r = tn_cli_setup(&cfg, TN_CLI_PUB, argc, argv);
    if (r >= 0)
        return r;
    memset(&p, 0, sizeof(p));
    p.cfg = &cfg;
    if (load_message(&p) < 0) {
        tn_cli_cfg_fini(&cfg);
        return TN_CLI_EXIT_ERR;
    }
    memset(&cb, 0, sizeof(cb));
    cb.on_publish = pub_on_publish;
    if (tn_cli_start(&run, &cfg, &cb, &hooks, &p) < 0) {
        r = TN_CLI_EXIT_ERR;
    } else {
        r = tn_cli_loop(&run);
        if (r == TN_CLI_EXIT_OK && !p.failed && p.done < p.sent) {
            tn_cli_errf(&cfg, "%ld of %ld messages were not acknowledged", p.sent - p.done, p.sent);
            r = TN_CLI_EXIT_ERR;
        }
    }
    tn_cli_run_fini(&run);
    free(p.msg);
    free(p.line);
    tn_cli_cfg_fini(&cfg);
    return r;
}
