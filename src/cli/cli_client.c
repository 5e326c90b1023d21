/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_client.c - the part of tern pub / sub / rr that talks to libtern: builds the
 * client from the parsed options, drives it with poll() on the main thread (fd mode), words
 * connection failures for people ("tern: cannot connect to 127.0.0.1:1883: Connection
 * refused"), prints --trace lines, enforces -W and ends with an orderly DISCONNECT.
 *
 * Owns: the tern_client inside struct tn_cli_run; one process-wide signal flag (see below).
 * Thread: the main thread only.
 */
#include "cli_client.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_trace.h"

/* Set by SIGINT/SIGTERM. A signal handler can only reach static storage, hence the global;
 * the loop turns it into an orderly DISCONNECT. */
static volatile sig_atomic_t cli_signalled;

/* How long the final DISCONNECT may take before the loop gives up waiting. */
#define FINISH_GRACE_NS (2 * 1000000000LL)

void tn_cli_errf(const struct tn_cli_cfg *cfg, const char *fmt, ...)
{
    va_list ap;

    if (cfg->quiet)
        return;
    fprintf(stderr, "%s: ", cfg->prog);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

int64_t tn_cli_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

const struct tern_props *tn_cli_props(const struct tn_cli_cfg *cfg, enum tn_cli_pcmd which)
{
    return cfg->props[which].any ? &cfg->props[which].props : NULL;
}

/* errno values read better through strerror ("Connection refused"); tern's own codes through
 * libtern, which for TLS keeps the detail (OpenSSL's reason, the verification error) as the
 * calling thread's last error: in fd mode that is this thread. */
static const char *err_str(int err)
{
    const char *d;

    if (err < 0 && -err < 4096)
        return strerror(-err);
    d = err == -TERN_ETLS ? tern_client_last_error() : NULL;
    return d && *d ? d : tern_client_strerror(err);
}

/* "host:port", with brackets around an IPv6 literal. */
static void host_port(const struct tn_cli_cfg *cfg, char *buf, size_t cap)
{
    if (strchr(cfg->host, ':'))
        snprintf(buf, cap, "[%s]:%u", cfg->host, tn_cli_port(cfg));
    else
        snprintf(buf, cap, "%s:%u", cfg->host, tn_cli_port(cfg));
}

/* Connection-level errors are the tool's, not one subcommand's: "tern: ...". */
__attribute__((format(printf, 2, 3))) static void conn_err(const struct tn_cli_cfg *cfg,
                                                           const char *fmt, ...)
{
    va_list ap;

    if (cfg->quiet)
        return;
    fputs("tern: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Decode a whole frame and print it; nothing is printed when it does not decode. */
static int trace_decoded(const struct timespec *ts, bool sent, const uint8_t *frame, size_t n,
                         uint8_t version)
{
    struct tern_packet pkt;
    uint8_t rc = 0;

    memset(&pkt, 0, sizeof(pkt));
    if (tern_packet_decode(frame, n, version, &pkt, &rc) < 0)
        return -1;
    tn_cli_trace_packet(stderr, ts, sent, &pkt, version);
    return 0;
}

/* Incoming QoS 2: PUBLISH received opens an exchange, PUBCOMP sent closes it. */
static void track_qos2(struct tn_cli_run *r, const struct tern_trace_event *ev)
{
    const struct tern_packet *p = ev->pkt;
    uint16_t id;
    uint8_t bit;

    if (!p)
        return;
    if (ev->dir == TERN_TRACE_IN && p->type == TERN_PUBLISH && p->u.publish.qos == 2) {
        id = p->u.publish.packet_id;
        bit = (uint8_t)(1u << (id & 7));
        if (!(r->qos2_in[id >> 3] & bit)) {
            r->qos2_in[id >> 3] |= bit;
            r->qos2_pending++;
        }
    } else if (ev->dir == TERN_TRACE_OUT && p->type == TERN_PUBCOMP) {
        id = p->u.ack.packet_id;
        bit = (uint8_t)(1u << (id & 7));
        if (r->qos2_in[id >> 3] & bit) {
            r->qos2_in[id >> 3] &= (uint8_t)~bit;
            r->qos2_pending--;
        }
    }
}

static void on_trace(tern_client *c, void *ud, const struct tern_trace_event *ev)
{
    struct tn_cli_run *r = ud;
    struct timespec ts = {(time_t)(ev->real_ns / 1000000000LL), (long)(ev->real_ns % 1000000000LL)};
    bool sent = ev->dir == TERN_TRACE_OUT;

    (void)c;
    track_qos2(r, ev);
    if (!(r->cfg->trace || r->cfg->debug))
        return;
    /* Decode the bytes on the wire when we have them: what went out is then shown exactly as
     * the peer sees it (properties included). A sent PUBLISH may come as its header only,
     * with the payload beside it: then the two are joined first. */
    if (ev->raw && ev->raw_len > 0) {
        struct tern_frame f;
        uint8_t rc = 0;

        if (tern_frame_peek(ev->raw, ev->raw_len, 0, &f, &rc) == 1 && f.size == ev->raw_len) {
            if (trace_decoded(&ts, sent, ev->raw, ev->raw_len, ev->version) == 0)
                return;
        } else if (sent && ev->pkt && ev->pkt->type == TERN_PUBLISH) {
            const tern_slice pl = ev->pkt->u.publish.payload;
            uint8_t *buf = malloc(ev->raw_len + pl.n);

            if (buf) {
                int e;

                memcpy(buf, ev->raw, ev->raw_len);
                if (pl.n)
                    memcpy(buf + ev->raw_len, pl.p, pl.n);
                e = trace_decoded(&ts, sent, buf, ev->raw_len + pl.n, ev->version);
                free(buf);
                if (e == 0)
                    return;
            }
        }
    }
    if (ev->pkt)
        tn_cli_trace_packet(stderr, &ts, sent, ev->pkt, ev->version);
}

static void on_log(tern_client *c, void *ud, int level, const char *msg)
{
    struct tn_cli_run *r = ud;
    static const char *const names[] = {"error", "warning", "info", "debug"};

    (void)c;
    if (r->cfg->quiet || !(r->cfg->trace || r->cfg->debug))
        return;
    fprintf(stderr, "tern: %s: %s\n", level >= 0 && level <= 3 ? names[level] : "log", msg);
}

void tn_cli_on_connect(tern_client *c, void *ud, const struct tern_connect_event *ev)
{
    struct tn_cli_run *r = ud;
    char hp[300];

    (void)c;
    if (ev->rc != 0) {
        host_port(r->cfg, hp, sizeof(hp));
        if (ev->version == TERN_V5)
            conn_err(r->cfg, "%s refused the connection: %s (0x%02X)%s", hp, tern_rc_name(ev->rc),
                     ev->rc,
                     ev->rc == TERN_RC_UNSUPPORTED_PROTOCOL_VERSION
                         ? "; try -V 311 for an MQTT 3.1.1 broker"
                         : "");
        else
            conn_err(r->cfg, "%s refused the connection: %s (return code %u)", hp,
                     ev->rc == 1   ? "unacceptable protocol version"
                     : ev->rc == 2 ? "identifier rejected"
                     : ev->rc == 3 ? "server unavailable"
                     : ev->rc == 4 ? "bad user name or password"
                     : ev->rc == 5 ? "not authorized"
                                   : "unknown reason",
                     ev->rc);
        r->status = TN_CLI_EXIT_ERR;
        r->stop = true;
        return;
    }
    r->connected = true;
    if (ev->assigned_client_id.n > 0 && ev->assigned_client_id.n < sizeof(r->client_id)) {
        memcpy(r->client_id, ev->assigned_client_id.p, ev->assigned_client_id.n);
        r->client_id[ev->assigned_client_id.n] = '\0';
    }
    r->connect_seen = true; /* hooks.connected runs from the loop */
}

static void on_disconnect(tern_client *c, void *ud, const struct tern_disconnect_event *ev)
{
    struct tn_cli_run *r = ud;
    char hp[300];

    (void)c;
    r->closed = true;
    r->stop = true;
    if (ev->err == 0 || (r->finishing && ev->err == -TERN_ECLOSED))
        return;
    if (ev->err == -TERN_EREFUSED)
        return; /* tn_cli_on_connect has said why */
    r->status = r->timed_out ? TN_CLI_EXIT_TIMEOUT : TN_CLI_EXIT_ERR;
    host_port(r->cfg, hp, sizeof(hp));
    if (ev->err == -TERN_ESERVER) {
        if (ev->props && tern_props_has(ev->props, TERN_PROP_REASON_STRING))
            conn_err(r->cfg, "%s closed the connection: %s (0x%02X): %.*s", hp,
                     tern_rc_name(ev->rc), ev->rc, TERN_SLICE_FMT(ev->props->reason_string));
        else
            conn_err(r->cfg, "%s closed the connection: %s (0x%02X)", hp, tern_rc_name(ev->rc),
                     ev->rc);
    } else if (!r->connected) {
        conn_err(r->cfg, "cannot connect to %s: %s", hp, err_str(ev->err));
    } else {
        conn_err(r->cfg, "connection to %s lost: %s", hp, err_str(ev->err));
    }
}

static void on_signal(int sig)
{
    (void)sig;
    cli_signalled = 1;
}

static void install_signals(void)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() returns EINTR */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int tn_cli_start(struct tn_cli_run *r, struct tn_cli_cfg *cfg,
                 const struct tern_client_callbacks *cb, const struct tn_cli_hooks *hooks,
                 void *tool)
{
    struct tern_client_opts o;
    char hp[300];
    int e;

    memset(r, 0, sizeof(*r));
    r->cfg = cfg;
    r->tool = tool;
    r->extra_fd = -1;
    r->status = TN_CLI_EXIT_OK;
    if (hooks)
        r->hooks = *hooks;
    snprintf(r->client_id, sizeof(r->client_id), "%s", cfg->id ? cfg->id : "");

    tern_client_opts_init(&o);
    o.host = cfg->host;
    o.port = tn_cli_port(cfg);
    o.version = cfg->version;
    o.client_id = cfg->id;
    o.clean = cfg->clean;
    if (cfg->session_expiry_set)
        o.session_expiry = cfg->session_expiry;
    o.keepalive = cfg->keepalive;
    o.username = cfg->username;
    if (cfg->password) {
        o.password = cfg->password;
        o.password_len = strlen(cfg->password);
    }
    if (cfg->will_topic) {
        o.will_topic = cfg->will_topic;
        o.will_payload = cfg->will_payload;
        o.will_payload_len = cfg->will_payload ? strlen(cfg->will_payload) : 0;
        o.will_qos = cfg->will_qos;
        o.will_retain = cfg->will_retain;
        o.will_props = tn_cli_props(cfg, TN_CLI_PCMD_WILL);
    }
    o.connect_props = tn_cli_props(cfg, TN_CLI_PCMD_CONNECT);
    o.auto_reconnect = false; /* a command-line tool reports failure instead of retrying */
    o.tls = cfg->tls;
    o.tls_ca_file = cfg->cafile;
    o.tls_ca_path = cfg->capath;
    o.tls_cert_file = cfg->cert;
    o.tls_key_file = cfg->key;
    o.tls_insecure = cfg->insecure;
    if (cfg->tls_version)
        o.tls_version = cfg->tls_version;
    if (cb)
        o.cb = *cb;
    if (!o.cb.on_connect)
        o.cb.on_connect = tn_cli_on_connect;
    if (!o.cb.on_disconnect)
        o.cb.on_disconnect = on_disconnect;
    /* Traced always: for the QoS 2 bookkeeping of sub/rr (cheap: the packets are decoded
     * anyway); printed only with --trace / -d, which --quiet does not hide. */
    o.cb.on_trace = on_trace;
    o.cb.on_log = on_log;
    o.user_data = r;

    e = tern_client_new(&o, &r->c);
    if (e < 0) {
        const char *d = tern_client_last_error();

        tn_cli_errf(cfg, "%s", d && *d ? d : err_str(e));
        return -1;
    }
    install_signals();
    if (cfg->timeout > 0)
        r->deadline_ns = tn_cli_now_ns() + (int64_t)cfg->timeout * 1000000000LL;
    e = tern_client_connect(r->c);
    if (e < 0 && !r->closed) {
        host_port(cfg, hp, sizeof(hp));
        conn_err(cfg, "cannot connect to %s: %s", hp, err_str(e));
        r->closed = true;
        return -1;
    }
    if (r->closed)
        return -1; /* on_disconnect has reported it */
    return 0;
}

void tn_cli_finish(struct tn_cli_run *r)
{
    r->finish_req = true;
}

/* Act on tn_cli_finish: DISCONNECT now, or keep waiting for incoming QoS 2 exchanges. */
static void do_finish(struct tn_cli_run *r)
{
    if (r->finishing)
        return;
    if (r->qos2_pending > 0 && !r->closed && !r->timed_out && !cli_signalled) {
        if (!r->finish_wanted) {
            r->finish_wanted = true;
            r->finish_wait_until = tn_cli_now_ns() + FINISH_GRACE_NS;
        }
        if (tn_cli_now_ns() < r->finish_wait_until)
            return; /* asked again each turn, until the last PUBCOMP is out */
    }
    r->finishing = true;
    if (!r->c || r->closed ||
        tern_client_disconnect(r->c, 0, tn_cli_props(r->cfg, TN_CLI_PCMD_DISCONNECT)) < 0)
        r->stop = true;
}

/* What callbacks recorded, done outside them: the connected and step hooks, the finish. */
static void run_pending(struct tn_cli_run *r)
{
    if (r->connect_seen && !r->stop) {
        r->connect_seen = false;
        if (r->hooks.connected)
            r->hooks.connected(r);
    }
    if (r->hooks.step && !r->stop && !r->finishing)
        r->hooks.step(r);
    if (r->finish_req && !r->finishing && !r->stop)
        do_finish(r);
}

static int ms_until(int64_t when, int64_t now)
{
    int64_t d = when - now;

    if (d <= 0)
        return 0;
    d = (d + 999999) / 1000000;
    return d > 60000 ? 60000 : (int)d;
}

static int min_timeout(int a, int b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

int tn_cli_loop(struct tn_cli_run *r)
{
    int64_t finish_by = 0;

    while (!r->stop) {
        struct pollfd pfd[2];
        nfds_t n = 0;
        int fd, timeout, ci = -1, xi = -1, rc;
        unsigned want, events = 0;
        int64_t now;

        if (cli_signalled && !r->finishing)
            tn_cli_finish(r);
        now = tn_cli_now_ns();
        if (r->deadline_ns && now >= r->deadline_ns && !r->timed_out) {
            r->timed_out = true;
            r->status = TN_CLI_EXIT_TIMEOUT;
            if (!r->cfg->quiet)
                fprintf(stderr, "Timed out\n");
            tn_cli_finish(r);
        }
        run_pending(r);
        if (r->stop)
            break;
        now = tn_cli_now_ns();
        if (r->finishing && !finish_by)
            finish_by = now + FINISH_GRACE_NS;
        if (finish_by && now >= finish_by)
            break;
        if (r->timer_ns && now >= r->timer_ns && !r->finishing && r->hooks.timer) {
            r->timer_ns = 0;
            r->hooks.timer(r);
            continue;
        }

        fd = tern_client_fd(r->c);
        want = tern_client_want(r->c);
        timeout = tern_client_next_timeout_ms(r->c);
        if (fd >= 0 && want) {
            pfd[n].fd = fd;
            pfd[n].events = (short)(((want & TERN_WANT_READ) ? POLLIN : 0) |
                                    ((want & TERN_WANT_WRITE) ? POLLOUT : 0));
            pfd[n].revents = 0;
            ci = (int)n++;
        }
        if (r->extra_fd >= 0 && !r->finishing) {
            pfd[n].fd = r->extra_fd;
            pfd[n].events = POLLIN;
            pfd[n].revents = 0;
            xi = (int)n++;
        }
        if (r->deadline_ns && !r->timed_out)
            timeout = min_timeout(timeout, ms_until(r->deadline_ns, now));
        if (r->timer_ns && !r->finishing)
            timeout = min_timeout(timeout, ms_until(r->timer_ns, now));
        if (finish_by)
            timeout = min_timeout(timeout, ms_until(finish_by, now));
        if (r->finish_wanted && !r->finishing)
            timeout = min_timeout(timeout, ms_until(r->finish_wait_until, now));
        rc = poll(pfd, n, timeout);
        if (rc < 0) {
            if (errno == EINTR)
                continue;
            tn_cli_errf(r->cfg, "poll: %s", strerror(errno));
            r->status = TN_CLI_EXIT_ERR;
            break;
        }
        if (ci >= 0) {
            if (pfd[ci].revents & (POLLIN | POLLHUP | POLLERR))
                events |= TERN_WANT_READ;
            if (pfd[ci].revents & (POLLOUT | POLLERR))
                events |= TERN_WANT_WRITE;
        }
        tern_client_process(r->c, events);
        if (xi >= 0 && (pfd[xi].revents & (POLLIN | POLLHUP | POLLERR)) && !r->stop &&
            r->hooks.readable)
            r->hooks.readable(r);
    }
    return r->status;
}

void tn_cli_run_fini(struct tn_cli_run *r)
{
    tern_client_free(r->c);
    r->c = NULL;
}
