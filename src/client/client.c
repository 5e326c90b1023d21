/* SPDX-License-Identifier: MIT */
/*
 * src/client/client.c - libtern's core: options, the outgoing queue and in-flight window,
 * packet handling for every packet a server can send, keep alive, reconnect scheduling.
 * Bytes in (rx buffer), bytes out (tx buffer), events (collected, dispatched unlocked), next
 * deadline. It never blocks: the transport in net.c does the system calls.
 *
 * Owns: struct tern_client and everything hanging off it.
 * Thread: public calls lock c->mu; tn_client_io runs with c->mu held, on the driver's thread.
 * Spec: MQTT 5.0 and 3.1.1 sections 3 (packets) and 4.3/4.4/4.6 (QoS flows, resending,
 * ordering).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"

#define TX_HIGH (64u * 1024u) /* stop moving queued messages into tx above this */
#define RX_CHUNK (32u * 1024u)

/* ---- small helpers ------------------------------------------------------------------------ */

int64_t tn_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t now_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int tn_buf_reserve(struct tn_buf *b, size_t more)
{
    if (b->off && b->off == b->len)
        b->off = b->len = 0;
    if (b->cap - b->len >= more)
        return 0;
    if (b->off) { /* compact first */
        memmove(b->p, b->p + b->off, b->len - b->off);
        b->len -= b->off;
        b->off = 0;
        if (b->cap - b->len >= more)
            return 0;
    }
    size_t nc = b->cap ? b->cap : 4096;
    while (nc - b->len < more)
        nc *= 2;
    uint8_t *np = realloc(b->p, nc);
    if (!np)
        return -ENOMEM;
    b->p = np;
    b->cap = nc;
    return 0;
}

void tn_buf_fini(struct tn_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static char *dupstr(const char *s, int *err)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *err = -ENOMEM;
    return d;
}

static void *dupmem(const void *p, size_t n, int *err)
{
    if (!p)
        return NULL;
    void *d = malloc(n ? n : 1);
    if (!d)
        *err = -ENOMEM;
    else if (n)
        memcpy(d, p, n);
    return d;
}

/* ---- queue ---------------------------------------------------------------------------------- */

struct tn_omsg *tn_omsg_alloc(size_t frame_len)
{
    struct tn_omsg *m = malloc(sizeof *m + frame_len);
    if (m) {
        memset(m, 0, sizeof *m);
        m->kind = TN_OBJ_PUB;
        m->len = (uint32_t)frame_len;
    }
    return m;
}

void tn_queue_append(tern_client *c, struct tn_omsg *m)
{
    m->next = NULL;
    m->prev = c->qtail;
    if (c->qtail)
        c->qtail->next = m;
    else
        c->qhead = m;
    c->qtail = m;
    if (!c->qnext)
        c->qnext = m;
    c->qcount++;
    c->qbytes += m->len;
}

static void queue_remove(tern_client *c, struct tn_omsg *m)
{
    if (c->qnext == m)
        c->qnext = m->next;
    if (m->prev)
        m->prev->next = m->next;
    else
        c->qhead = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        c->qtail = m->prev;
    c->qcount--;
    c->qbytes -= m->len;
}

/* A publish ended: event, store, free. */
static void pub_complete(tern_client *c, struct tn_omsg *m, uint8_t rc,
                         const struct tern_props *props)
{
    struct tn_ev *e = c->o.cb.on_publish ? tn_ev_add(c, TN_EV_PUBLISH) : NULL;
    if (e) {
        e->mid = m->mid;
        e->a = m->qos;
        e->b = rc;
        if (props)
            e->props = *props;
    }
    if (m->qos) {
        if (m->pid) { /* it was in flight (one refused before it went out had no id) */
            tn_pid_release(c, m->pid);
            if (c->inflight)
                c->inflight--;
        }
        if (c->store)
            tn_store_done(c, m->mid);
    }
    queue_remove(c, m);
    free(m);
}

static void patch_pid(struct tn_omsg *m)
{
    m->frame[m->pid_off] = (uint8_t)(m->pid >> 8);
    m->frame[m->pid_off + 1] = (uint8_t)m->pid;
}

static void alias_out_free(tern_client *c);

/* ---- options and lifecycle ------------------------------------------------------------------ */

void tern_client_opts_init(struct tern_client_opts *o)
{
    if (!o)
        return;
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->version = TERN_V311;
    o->clean = true;
    o->keepalive = 60;
    o->max_inflight = 65535;
    o->receive_maximum = 65535;
    o->topic_alias_maximum = 16;
    o->max_queued = 100000;
    o->max_queued_bytes = 64u << 20;
    o->queue_qos0_offline = true;
    o->auto_reconnect = true;
    o->reconnect_min_ms = 500;
    o->reconnect_max_ms = 30000;
    o->connect_timeout_ms = 10000;
    o->store_sync = TERN_SYNC_BATCH;
    o->store_sync_ms = 10;
}

static bool str_ok(const char *s, size_t max)
{
    if (!s)
        return true;
    size_t n = strlen(s);
    return n <= max && tern_utf8_is_valid((const uint8_t *)s, n);
}

static int opts_check(const struct tern_client_opts *o)
{
    if (o->version != TERN_V31 && o->version != TERN_V311 && o->version != TERN_V5)
        return tn_fail(-EINVAL, "client_new: version %u is not 3, 4 or 5", o->version);
    if (!o->host || !*o->host)
        return tn_fail(-EINVAL, "client_new: no host");
    if (!str_ok(o->client_id, 65535) || !str_ok(o->username, 65535))
        return tn_fail(-EINVAL, "client_new: client id or username not valid UTF-8");
    if (o->version == TERN_V31 && o->client_id && strlen(o->client_id) > 23)
        return tn_fail(-EINVAL, "client_new: MQTT 3.1 client ids are at most 23 bytes");
    if (o->password_len > 65535 || (!o->password && o->password_len))
        return tn_fail(-EINVAL, "client_new: bad password");
    if (o->password && !o->username && o->version != TERN_V5)
        return tn_fail(-EINVAL, "client_new: a password needs a username before MQTT 5");
    if (o->will_topic) {
        if (!tern_topic_name_is_valid((const uint8_t *)o->will_topic, strlen(o->will_topic)))
            return tn_fail(-EINVAL, "client_new: will topic '%s' is not a valid topic name",
                           o->will_topic);
        if (o->will_qos > 2)
            return tn_fail(-EINVAL, "client_new: will QoS %u", o->will_qos);
        if (o->will_payload_len > 65535 || (!o->will_payload && o->will_payload_len))
            return tn_fail(-EINVAL, "client_new: bad will payload");
    } else if (o->will_qos || o->will_retain || o->will_payload || o->will_props) {
        return tn_fail(-EINVAL, "client_new: will fields set without a will topic");
    }
    if (o->version != TERN_V5 && (o->will_props || o->connect_props || o->session_expiry))
        return tn_fail(-EINVAL, "client_new: properties and session expiry need MQTT 5");
    if (o->receive_maximum == 0 || o->max_inflight == 0)
        return tn_fail(-EINVAL, "client_new: receive maximum / max inflight must be > 0");
    if (o->max_queued == 0 || o->max_queued_bytes == 0)
        return tn_fail(-EINVAL, "client_new: queue limits must be > 0");
    if (o->reconnect_min_ms == 0 || o->reconnect_max_ms < o->reconnect_min_ms)
        return tn_fail(-EINVAL, "client_new: reconnect_min_ms must be > 0 and <= max");
    if (o->store_sync > TERN_SYNC_NONE)
        return tn_fail(-EINVAL, "client_new: bad store_sync");
    if (o->store_sync_ms > 60000)
        return tn_fail(-EINVAL, "client_new: store_sync_ms %u is over 60000",
                       (unsigned)o->store_sync_ms);
    if (o->topic_alias_auto && o->version != TERN_V5)
        return tn_fail(-EINVAL, "client_new: topic aliases need MQTT 5");
    if (o->tls_version && strcmp(o->tls_version, "tlsv1.2") && strcmp(o->tls_version, "tlsv1.3"))
        return tn_fail(-EINVAL, "client_new: tls_version must be tlsv1.2 or tlsv1.3");
    if (!o->tls && (o->tls_ca_file || o->tls_ca_path || o->tls_cert_file || o->tls_key_file))
        return tn_fail(-EINVAL, "client_new: TLS files given but tls is false");
    if (!o->tls_cert_file != !o->tls_key_file)
        return tn_fail(-EINVAL, "client_new: client certificate and key go together");
    if (o->store_dir && (!o->client_id || !*o->client_id))
        return tn_fail(-EINVAL, "client_new: a store needs a fixed client id");
    return 0;
}

int tern_client_new(const struct tern_client_opts *opts, tern_client **out)
{
    if (!out)
        return tn_fail(-EINVAL, "client_new: out is NULL");
    *out = NULL;
    if (!opts)
        return tn_fail(-EINVAL, "client_new: opts is NULL");
    int err = opts_check(opts);
    if (err)
        return err;
    tern_client *c = calloc(1, sizeof *c);
    if (!c)
        return tn_fail(-ENOMEM, "client_new");
    c->o = *opts;
    c->fd = -1;
    c->wakefd = -1;
    pthread_mutex_init(&c->mu, NULL);
    err = 0;
    c->host = dupstr(opts->host, &err);
    c->client_id = dupstr(opts->client_id, &err);
    c->username = dupstr(opts->username, &err);
    c->will_topic = dupstr(opts->will_topic, &err);
    c->store_dir = dupstr(opts->store_dir, &err);
    c->tls_ca_file = dupstr(opts->tls_ca_file, &err);
    c->tls_ca_path = dupstr(opts->tls_ca_path, &err);
    c->tls_cert_file = dupstr(opts->tls_cert_file, &err);
    c->tls_key_file = dupstr(opts->tls_key_file, &err);
    c->tls_server_name = dupstr(opts->tls_server_name, &err);
    c->password = dupmem(opts->password, opts->password_len, &err);
    c->will_payload = dupmem(opts->will_payload, opts->will_payload_len, &err);
    c->o.tls_version =
        opts->tls_version && !strcmp(opts->tls_version, "tlsv1.3") ? "tlsv1.3" : "tlsv1.2";
    if (err) {
        tern_client_free(c);
        return tn_fail(err, "client_new");
    }
    if ((opts->connect_props && !(c->connect_props = calloc(1, sizeof *c->connect_props))) ||
        (opts->will_props && !(c->will_props = calloc(1, sizeof *c->will_props)))) {
        tern_client_free(c);
        return tn_fail(-ENOMEM, "client_new");
    }
    if ((c->connect_props &&
         (err = tn_props_dup(opts->connect_props, TERN_CONNECT, c->connect_props))) ||
        (c->will_props &&
         (err = tn_props_dup(opts->will_props, TERN_PROP_CTX_WILL, c->will_props)))) {
        tern_client_free(c);
        return tn_fail(err, "client_new: invalid CONNECT or will properties");
    }
    /* c->o must not keep the caller's pointers: point at our copies */
    c->o.host = c->host;
    c->o.client_id = c->client_id;
    c->o.username = c->username;
    c->o.password = c->password;
    c->o.will_topic = c->will_topic;
    c->o.will_payload = c->will_payload;
    c->o.will_props = c->will_props ? &c->will_props->p : NULL;
    c->o.connect_props = c->connect_props ? &c->connect_props->p : NULL;
    c->o.store_dir = c->store_dir;
    c->o.tls_ca_file = c->tls_ca_file;
    c->o.tls_ca_path = c->tls_ca_path;
    c->o.tls_cert_file = c->tls_cert_file;
    c->o.tls_key_file = c->tls_key_file;
    c->o.tls_server_name = c->tls_server_name;
    if (!c->client_id && c->o.version == TERN_V31) {
        c->client_id = malloc(16);
        if (!c->client_id) {
            tern_client_free(c);
            return tn_fail(-ENOMEM, "client_new");
        }
        snprintf(c->client_id, 16, "tern-%08x", (unsigned)(now_ns(CLOCK_REALTIME) ^ getpid()));
    }
    c->rng = (uint32_t)(now_ns(CLOCK_REALTIME) ^ (uintptr_t)c ^ (uint32_t)getpid()) | 1u;
    if (!c->o.port)
        c->o.port = c->o.tls ? 8883 : 1883;
    c->window = c->o.max_inflight;
    c->srv_recv_max = 65535;
    c->next_mid = 1;
    c->pids.next = 1;
    if (c->store_dir && (err = tn_store_open(c)) < 0) {
        tern_client_free(c);
        return err; /* tn_store_open set the message */
    }
    *out = c;
    return 0;
}

static void req_free_list(struct tn_req *r)
{
    while (r) {
        struct tn_req *n = r->next;
        free(r);
        r = n;
    }
}

void tern_client_free(tern_client *c)
{
    if (!c)
        return;
    c->freeing = true;
    if (c->th_running)
        tern_client_stop(c);
    tn_net_close(c);
    tn_net_global_fini(c);
    if (c->store)
        tn_store_close(c);
    for (size_t i = 0; i < c->evn; i++)
        free(c->ev[i].owned);
    free(c->ev);
    for (struct tn_omsg *m = c->qhead, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    req_free_list(c->reqs);
    req_free_list(c->subs);
    alias_out_free(c);
    free(c->pids.slot);
    free(c->q2);
    if (c->alias_in) {
        for (unsigned i = 0; i <= c->o.topic_alias_maximum; i++)
            free(c->alias_in[i]);
        free(c->alias_in);
    }
    tn_buf_fini(&c->rx);
    tn_buf_fini(&c->tx);
    if (c->connect_props)
        tn_ownprops_fini(c->connect_props);
    if (c->will_props)
        tn_ownprops_fini(c->will_props);
    free(c->connect_props);
    free(c->will_props);
    free(c->host);
    free(c->client_id);
    free(c->username);
    free(c->will_topic);
    free(c->store_dir);
    free(c->tls_ca_file);
    free(c->tls_ca_path);
    free(c->tls_cert_file);
    free(c->tls_key_file);
    free(c->tls_server_name);
    free(c->password);
    free(c->will_payload);
    if (c->wakefd >= 0)
        close(c->wakefd);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

enum tern_client_state tern_client_state(const tern_client *c)
{
    if (!c)
        return TERN_CS_IDLE;
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    enum tern_client_state s = c->state;
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
    return s;
}

uint8_t tern_client_version(const tern_client *c)
{
    return c ? c->o.version : 0;
}

void tern_client_queued(const tern_client *c, size_t *count, size_t *bytes)
{
    if (!c)
        return;
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    if (count)
        *count = c->qcount;
    if (bytes)
        *bytes = c->qbytes;
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
}

/* ---- sending ------------------------------------------------------------------------------- */

static int send_packet(tern_client *c, const struct tern_packet *pkt)
{
    int n = tern_packet_size(pkt, c->o.version);
    if (n < 0)
        return n;
    if (tn_buf_reserve(&c->tx, (size_t)n))
        return -ENOMEM;
    int w = tern_packet_encode(pkt, c->o.version, c->tx.p + c->tx.len, c->tx.cap - c->tx.len);
    if (w < 0)
        return w;
    tn_trace(c, TERN_TRACE_OUT, c->tx.p + c->tx.len, (size_t)w);
    c->tx.len += (size_t)w;
    c->last_tx = tn_now_ms();
    return 0;
}

static int send_ack(tern_client *c, uint8_t type, uint16_t pid, uint8_t rc)
{
    struct tern_packet p = {.type = type};
    p.u.ack.packet_id = pid;
    /* a reason code makes a 5.0 ack 5 bytes; a server whose Maximum Packet Size is 4 gets the
     * 4-byte form (as if 0x00) rather than a packet it refuses [MQTT-3.2.2-15] */
    p.u.ack.rc = c->srv_max_packet && c->srv_max_packet < 5 ? 0 : rc;
    return send_packet(c, &p);
}

static int send_raw(tern_client *c, const uint8_t *frame, size_t n)
{
    if (tn_buf_reserve(&c->tx, n))
        return -ENOMEM;
    memcpy(c->tx.p + c->tx.len, frame, n);
    tn_trace(c, TERN_TRACE_OUT, frame, n);
    c->tx.len += n;
    return 0;
}

static int send_connect(tern_client *c)
{
    struct tern_packet p = {.type = TERN_CONNECT};
    struct tern_connect *k = &p.u.connect;
    k->version = c->o.version;
    k->clean = c->o.clean;
    if (c->ever_connected && c->o.version == TERN_V5 && c->o.session_expiry > 0)
        k->clean = false;
    k->keep_alive = c->o.keepalive;
    k->client_id = tern_slice_cstr(c->client_id);
    if (c->will_topic) {
        k->will = true;
        k->will_qos = c->o.will_qos;
        k->will_retain = c->o.will_retain;
        k->will_topic = tern_slice_cstr(c->will_topic);
        k->will_payload = (tern_slice){c->will_payload, c->o.will_payload_len};
        if (c->will_props && c->will_props->buf)
            k->will_props = c->will_props->p;
    }
    if (c->username) {
        k->has_username = true;
        k->username = tern_slice_cstr(c->username);
    }
    if (c->password) {
        k->has_password = true;
        k->password = (tern_slice){c->password, c->o.password_len};
    }
    if (c->o.version == TERN_V5) {
        struct tern_props *pp = &k->props;
        if (c->connect_props && c->connect_props->buf)
            *pp = c->connect_props->p;
        if (c->o.session_expiry && !tern_props_has(pp, TERN_PROP_SESSION_EXPIRY_INTERVAL)) {
            pp->session_expiry_interval = c->o.session_expiry;
            tern_props_set(pp, TERN_PROP_SESSION_EXPIRY_INTERVAL);
        }
        if (c->o.receive_maximum != 65535 && !tern_props_has(pp, TERN_PROP_RECEIVE_MAXIMUM)) {
            pp->receive_maximum = c->o.receive_maximum;
            tern_props_set(pp, TERN_PROP_RECEIVE_MAXIMUM);
        }
        if (c->o.topic_alias_maximum && !tern_props_has(pp, TERN_PROP_TOPIC_ALIAS_MAXIMUM)) {
            pp->topic_alias_maximum = c->o.topic_alias_maximum;
            tern_props_set(pp, TERN_PROP_TOPIC_ALIAS_MAXIMUM);
        }
        if (c->o.max_packet_size && !tern_props_has(pp, TERN_PROP_MAXIMUM_PACKET_SIZE)) {
            pp->maximum_packet_size = c->o.max_packet_size;
            tern_props_set(pp, TERN_PROP_MAXIMUM_PACKET_SIZE);
        }
    }
    c->connack_wait = true;
    return send_packet(c, &p);
}

/* ---- outgoing topic aliases (opts.topic_alias_auto, 5.0) ------------------------------------
 * Per connection: the first distinct topics (up to the server's Topic Alias Maximum, at most
 * 1024) get aliases 1..n; a topic's first PUBLISH carries topic + alias, later ones only the
 * alias. The queued frame is never changed: aliased frames are re-encoded into tx. */
struct tn_alias_out {
    uint32_t cap, n, max;
    struct tn_alias_ent {
        uint16_t alias;
        uint16_t len;
        uint8_t *topic;
    } e[];
};

static void alias_out_free(tern_client *c)
{
    if (!c->alias_out)
        return;
    for (uint32_t i = 0; i < c->alias_out->cap; i++)
        free(c->alias_out->e[i].topic);
    free(c->alias_out);
    c->alias_out = NULL;
}

static void alias_out_init(tern_client *c, uint16_t srv_max)
{
    alias_out_free(c);
    if (!c->o.topic_alias_auto || c->o.version != TERN_V5 || srv_max == 0)
        return;
    uint32_t max = srv_max < 1024 ? srv_max : 1024, cap = 4;
    while (cap < max * 2)
        cap *= 2;
    c->alias_out = calloc(1, sizeof *c->alias_out + cap * sizeof(struct tn_alias_ent));
    if (c->alias_out) {
        c->alias_out->cap = cap;
        c->alias_out->max = max;
    }
}

/* 0: encoded into tx with an alias; 1: not aliased (caller copies the frame); <0 error. */
static int send_aliased(tern_client *c, const struct tn_omsg *m)
{
    struct tn_alias_out *t = c->alias_out;
    struct tern_packet p;
    uint8_t rc;
    if (tern_packet_decode(m->frame, m->len, c->o.version, &p, &rc) ||
        tern_props_has(&p.u.publish.props, TERN_PROP_TOPIC_ALIAS) || !p.u.publish.topic.n)
        return 1; /* the caller chose its own alias */
    tern_slice tp = p.u.publish.topic;
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < tp.n; i++)
        h = (h ^ tp.p[i]) * 16777619u;
    uint32_t i = h & (t->cap - 1);
    while (t->e[i].topic && !(t->e[i].len == tp.n && !memcmp(t->e[i].topic, tp.p, tp.n)))
        i = (i + 1) & (t->cap - 1);
    struct tern_props *pp = &p.u.publish.props;
    bool fresh = false;
    if (t->e[i].topic) {
        pp->topic_alias = t->e[i].alias;
        p.u.publish.topic = (tern_slice){(const uint8_t *)"", 0};
    } else if (t->n < t->max) {
        fresh = true;
        pp->topic_alias = (uint16_t)(t->n + 1);
    } else {
        return 1;
    }
    tern_props_set(pp, TERN_PROP_TOPIC_ALIAS);
    int n = tern_packet_size(&p, c->o.version);
    /* the alias property makes a first use bigger than the frame checked against the
     * server's Maximum Packet Size: then it goes without one [MQTT-3.2.2-15] (5.0) */
    if (n < 0 || (c->srv_max_packet && (uint32_t)n > c->srv_max_packet))
        return 1;
    if (fresh) { /* registered only now that it goes out: the server learns it with this */
        if (!(t->e[i].topic = malloc(tp.n)))
            return 1;
        memcpy(t->e[i].topic, tp.p, tp.n);
        t->e[i].len = (uint16_t)tp.n;
        t->e[i].alias = (uint16_t)++t->n;
    }
    if (tn_buf_reserve(&c->tx, (size_t)n))
        return -ENOMEM;
    int w = tern_packet_encode(&p, c->o.version, c->tx.p + c->tx.len, c->tx.cap - c->tx.len);
    if (w < 0)
        return 1;
    tn_trace(c, TERN_TRACE_OUT, c->tx.p + c->tx.len, (size_t)w);
    c->tx.len += (size_t)w;
    return 0;
}

static void req_unlink(tern_client *c, struct tn_req *r)
{
    for (struct tn_req **pp = &c->reqs, *prev = NULL; *pp; prev = *pp, pp = &(*pp)->next)
        if (*pp == r) {
            *pp = r->next;
            if (c->reqs_tail == r)
                c->reqs_tail = prev;
            return;
        }
}

/* A SUBSCRIBE/UNSUBSCRIBE over the server's Maximum Packet Size is not sent: the application
 * gets its result with 0x95 (Packet too large) for every filter; a re-subscription made by
 * the library is dropped with a warning. */
static void req_too_large(tern_client *c, struct tn_req *r)
{
    struct tern_packet req;
    uint8_t rc;
    uint32_t n = 0;
    if (!tern_packet_decode(r->frame, r->len, c->o.version, &req, &rc))
        n = req.u.subscribe.count; /* UNSUBSCRIBE decodes into the same struct */
    tn_log(c, TERN_LOG_WARN, "%s of %u bytes is larger than the server's maximum packet size %u",
           r->type == TERN_SUBSCRIBE ? "SUBSCRIBE" : "UNSUBSCRIBE", (unsigned)r->len,
           (unsigned)c->srv_max_packet);
    if (!r->internal) {
        struct tn_ev *e = tn_ev_add(c, r->type == TERN_SUBSCRIBE ? TN_EV_SUB : TN_EV_UNSUB);
        if (e) {
            e->mid = r->mid;
            e->owned = malloc(n ? n : 1);
            if (e->owned)
                memset(e->owned, TERN_RC_PACKET_TOO_LARGE, n ? n : 1);
            e->rcs = e->owned;
            e->u32 = e->owned ? n : 0;
        }
    }
    req_unlink(c, r);
    free(r);
}

/* Move queued requests and messages into tx while the window allows. */
static int fill_tx(tern_client *c)
{
    if (c->state != TERN_CS_CONNECTED || c->disc_pending)
        return 0;
    for (struct tn_req *r = c->reqs, *nx; r; r = nx) {
        nx = r->next;
        if (r->sent)
            continue;
        if (c->srv_max_packet && r->len > c->srv_max_packet) {
            req_too_large(c, r); /* never sent [MQTT-3.2.2-15] (5.0) */
            continue;
        }
        int err = tn_pid_take(c, r, &r->pid);
        if (err)
            return 0; /* ids exhausted: wait for acks */
        r->frame[r->pid_off] = (uint8_t)(r->pid >> 8);
        r->frame[r->pid_off + 1] = (uint8_t)r->pid;
        if ((err = send_raw(c, r->frame, r->len)))
            return err;
        r->sent = true;
    }
    size_t start = c->tx.len;
    while (c->qnext && c->tx.len - c->tx.off < TX_HIGH) {
        struct tn_omsg *m = c->qnext;
        if (c->srv_max_packet && m->len > c->srv_max_packet) {
            tn_log(c, TERN_LOG_WARN, "message %llu larger than the server's maximum packet size",
                   (unsigned long long)m->mid);
            pub_complete(c, m, TERN_RC_PACKET_TOO_LARGE, NULL);
            continue;
        }
        if (m->qos) {
            if (c->inflight >= c->window)
                break;
            if (tn_pid_take(c, m, &m->pid))
                break;
            patch_pid(m);
            m->state = m->qos == 1 ? TERN_QS_WAIT_PUBACK : TERN_QS_WAIT_PUBREC;
            c->inflight++;
            if (c->store && m->qos == 2)
                tn_store_state(c, m);
        }
        int err = c->alias_out ? send_aliased(c, m) : 1;
        if (err < 0)
            return err;
        if (err > 0) {
            if (tn_buf_reserve(&c->tx, m->len))
                return -ENOMEM;
            memcpy(c->tx.p + c->tx.len, m->frame, m->len);
            if (c->o.cb.on_trace)
                tn_trace(c, TERN_TRACE_OUT, m->frame, m->len);
            c->tx.len += m->len;
        }
        m->sent = true;
        c->qnext = m->next;
        if (m->qos == 0)
            pub_complete(c, m, 0, NULL);
    }
    if (c->tx.len != start)
        c->last_tx = tn_now_ms();
    return 0;
}

/* Resend what the session had in flight [MQTT-4.4.0-1] (5.0) / [MQTT-4.4.0-1] (3.1.1), in
 * the original order [MQTT-4.6.0-1]. */
static int resend_inflight(tern_client *c)
{
    for (struct tn_omsg *m = c->qhead, *next; m && m != c->qnext; m = next) {
        next = m->next;
        uint8_t t = tern_qos_resend(m->state);
        int err;
        if (t == TERN_PUBREL) {
            err = send_ack(c, TERN_PUBREL, m->pid, 0);
        } else if (c->srv_max_packet && m->len > c->srv_max_packet) {
            /* the new connection's server takes less than when it went out: it cannot be
             * resent [MQTT-3.2.2-15] (5.0), so it ends here with 0x95 */
            tn_log(c, TERN_LOG_WARN, "message %llu larger than the server's maximum packet size",
                   (unsigned long long)m->mid);
            pub_complete(c, m, TERN_RC_PACKET_TOO_LARGE, NULL);
            continue;
        } else {
            m->frame[0] |= 0x08; /* DUP [MQTT-3.3.1-1] */
            err = c->alias_out ? send_aliased(c, m) : 1;
            if (err > 0)
                err = send_raw(c, m->frame, m->len);
        }
        if (err)
            return err;
    }
    return 0;
}

/* The server has no session for us: everything in flight starts over. */
static void reset_session(tern_client *c)
{
    for (struct tn_omsg *m = c->qhead; m && m != c->qnext; m = m->next) {
        tn_pid_release(c, m->pid);
        m->pid = 0;
        m->state = TERN_QS_FREE;
        m->sent = false;
        m->frame[0] &= (uint8_t)~0x08;
    }
    c->qnext = c->qhead;
    c->inflight = 0;
    if (c->store && c->q2n)
        tn_store_rx2_clear(c);
    free(c->q2);
    c->q2 = NULL;
    c->q2n = 0;
}

static struct tn_req *req_new(tern_client *c, const struct tern_packet *p, uint64_t mid, int *err)
{
    int n = tern_packet_size(p, c->o.version);
    if (n < 0) {
        *err = n;
        return NULL;
    }
    struct tn_req *r = calloc(1, sizeof *r + (size_t)n);
    if (!r) {
        *err = -ENOMEM;
        return NULL;
    }
    r->kind = TN_OBJ_REQ;
    r->type = p->type;
    r->mid = mid;
    r->len = (uint32_t)n;
    tern_packet_encode(p, c->o.version, r->frame, (size_t)n);
    struct tern_frame f; /* the packet id follows the fixed header */
    uint8_t rc;
    tern_frame_peek(r->frame, (size_t)n, 0, &f, &rc);
    r->pid_off = f.hdr_len;
    return r;
}

static void req_append(tern_client *c, struct tn_req *r)
{
    r->next = NULL;
    if (c->reqs_tail)
        c->reqs_tail->next = r;
    else
        c->reqs = r;
    c->reqs_tail = r;
}

static void resubscribe(tern_client *c)
{
    /* copies queued for an earlier connection that ended before they were acknowledged are
     * superseded: without this every reconnect of a flapping link added a full set */
    for (struct tn_req *r = c->reqs, *nx; r; r = nx) {
        nx = r->next;
        if (r->internal && !r->sent) {
            req_unlink(c, r);
            free(r);
        }
    }
    for (struct tn_req *s = c->subs; s; s = s->next) {
        struct tn_req *r = malloc(sizeof *r + s->len);
        if (!r)
            return;
        memcpy(r, s, sizeof *r + s->len);
        r->internal = true;
        r->sent = false;
        r->pid = 0;
        req_append(c, r);
    }
}

/* ---- connection lifecycle -------------------------------------------------------------------- */

static uint32_t backoff_ms(tern_client *c)
{
    uint64_t b = c->o.reconnect_min_ms;
    for (unsigned i = 0; i < c->attempt && b < c->o.reconnect_max_ms; i++)
        b *= 2;
    if (b > c->o.reconnect_max_ms)
        b = c->o.reconnect_max_ms;
    c->rng ^= c->rng << 13;
    c->rng ^= c->rng >> 17;
    c->rng ^= c->rng << 5;
    /* +-25% jitter so a fleet of clients does not reconnect in step */
    uint64_t j = b / 2 ? (uint64_t)(c->rng % (uint32_t)(b / 2 + 1)) : 0;
    b = b - b / 4 + j;
    return b ? (uint32_t)b : 1;
}

/* Close the connection after an error (err < 0) or a clean end (err == 0). */
static void conn_close(tern_client *c, int err, uint8_t rc, const struct tern_props *props)
{
    bool had = c->fd >= 0 || c->state != TERN_CS_IDLE;
    tn_net_close(c);
    c->tcp_pending = c->tls_hs = c->connack_wait = c->ping_out = c->disc_pending = false;
    c->tx.off = c->tx.len = 0;
    c->rx.off = c->rx.len; /* drop a partial frame; views of whole ones stay until dispatch */
    alias_out_free(c);     /* aliases do not outlive the connection [MQTT-3.3.2-7] (5.0) */
    if (c->alias_in)
        for (unsigned i = 0; i <= c->o.topic_alias_maximum; i++) {
            free(c->alias_in[i]);
            c->alias_in[i] = NULL;
        }
    /* requests in flight are sent again with new ids after the reconnect */
    for (struct tn_req *r = c->reqs; r; r = r->next)
        if (r->sent) {
            tn_pid_release(c, r->pid);
            r->sent = false;
        }
    bool again = c->o.auto_reconnect && !c->user_disc && !c->freeing;
    uint32_t in = 0;
    if (again) {
        in = backoff_ms(c);
        c->attempt++;
        c->reconnect_at = tn_now_ms() + in;
        c->state = TERN_CS_WAITING;
    } else {
        c->state = TERN_CS_IDLE;
    }
    if (!had)
        return;
    if (err)
        tn_log(c, TERN_LOG_INFO, "connection lost: %s%s", tern_client_strerror(err),
               again ? ", reconnecting" : "");
    struct tn_ev *e = tn_ev_add(c, TN_EV_DISC);
    if (e) {
        e->err = err;
        e->a = rc;
        e->b = again;
        e->u32 = in;
        if (props) { /* deep copy: the frame it points into may be dropped */
            struct tn_ownprops op;
            if (tn_props_dup(props, TERN_DISCONNECT, &op) == 0) {
                e->props = op.p;
                e->owned = op.buf ? op.buf : malloc(1);
            }
        }
    }
}

int tn_client_start_connect(tern_client *c)
{
    if (c->fd >= 0)
        return 0;
    c->state = TERN_CS_CONNECTING;
    c->deadline = tn_now_ms() + (c->o.connect_timeout_ms ? c->o.connect_timeout_ms : 10000);
    int err = tn_net_open(c);
    if (err < 0) {
        tn_fail(err, "connect to %s:%u", c->host, c->o.port);
        c->state = TERN_CS_CONNECTING; /* so conn_close reports it */
        conn_close(c, err, 0, NULL);
        return err;
    }
    c->tcp_pending = true;
    return 0;
}

/* TCP (and TLS) established: send CONNECT. */
static int conn_established(tern_client *c)
{
    c->tcp_pending = false;
    if (c->o.tls && !c->tls_hs && !c->tls) {
        int err = tn_net_tls_start(c);
        if (err)
            return err;
        c->tls_hs = true;
    }
    if (c->tls_hs) {
        int r = tn_net_tls_handshake(c);
        if (r <= 0)
            return r;
        c->tls_hs = false;
    }
    return send_connect(c);
}

/* ---- receiving ---------------------------------------------------------------------------- */

static int on_connack(tern_client *c, const struct tern_connack *a)
{
    if (!c->connack_wait)
        return -EPROTO;
    c->connack_wait = false;
    struct tn_ev *e = tn_ev_add(c, TN_EV_CONNECT);
    if (a->rc != 0) {
        if (e) {
            e->a = a->rc;
            e->props = a->props;
        }
        tn_log(c, TERN_LOG_WARN, "connection refused: 0x%02x %s", a->rc,
               c->o.version == TERN_V5 ? tern_rc_name(a->rc) : "");
        conn_close(c, -TERN_EREFUSED, a->rc, NULL);
        return 1; /* closed */
    }
    const struct tern_props *pp = &a->props;
    c->srv_recv_max = tern_props_has(pp, TERN_PROP_RECEIVE_MAXIMUM) ? pp->receive_maximum : 65535;
    c->srv_max_packet =
        tern_props_has(pp, TERN_PROP_MAXIMUM_PACKET_SIZE) ? pp->maximum_packet_size : 0;
    alias_out_init(c,
                   tern_props_has(pp, TERN_PROP_TOPIC_ALIAS_MAXIMUM) ? pp->topic_alias_maximum : 0);
    c->keepalive =
        tern_props_has(pp, TERN_PROP_SERVER_KEEP_ALIVE) ? pp->server_keep_alive : c->o.keepalive;
    c->window = c->o.max_inflight < c->srv_recv_max ? c->o.max_inflight : c->srv_recv_max;
    if (tern_props_has(pp, TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER) &&
        (!c->client_id || !*c->client_id)) {
        char *id = strndup((const char *)pp->assigned_client_identifier.p,
                           pp->assigned_client_identifier.n);
        if (id) { /* reconnects resume the session the server gave us */
            free(c->client_id);
            c->client_id = id;
        }
    }
    bool sp = a->session_present;
    c->state = TERN_CS_CONNECTED;
    c->attempt = 0;
    if (e) {
        e->b = a->session_present;
        e->props = a->props;
        e->u32 = (uint32_t)c->window << 16 | c->keepalive;
    }
    if (!sp)
        reset_session(c);
    int err = resend_inflight(c);
    if (!err && !a->session_present)
        resubscribe(c);
    c->ever_connected = true;
    return err;
}

static int on_publish_in(tern_client *c, struct tern_publish *p)
{
    /* topic aliases from the server (5.0 3.3.2.3.4) */
    if (c->o.version == TERN_V5 && tern_props_has(&p->props, TERN_PROP_TOPIC_ALIAS)) {
        uint16_t a = p->props.topic_alias;
        if (a == 0 || a > c->o.topic_alias_maximum) {
            c->close_rc = TERN_RC_TOPIC_ALIAS_INVALID; /* [MQTT-3.3.2-11] (5.0) */
            return -EPROTO;
        }
        if (!c->alias_in && !(c->alias_in = calloc(c->o.topic_alias_maximum + 1u, sizeof(void *))))
            return -ENOMEM;
        if (p->topic.n) {
            uint8_t *s = realloc(c->alias_in[a], 2 + p->topic.n);
            if (!s)
                return -ENOMEM;
            s[0] = (uint8_t)(p->topic.n >> 8);
            s[1] = (uint8_t)p->topic.n;
            memcpy(s + 2, p->topic.p, p->topic.n);
            c->alias_in[a] = s;
        } else {
            const uint8_t *s = c->alias_in[a];
            if (!s) {
                c->close_rc = TERN_RC_PROTOCOL_ERROR; /* an alias never set: 5.0 3.3.2.3.4 */
                return -EPROTO;
            }
            p->topic = (tern_slice){s + 2, (size_t)s[0] << 8 | s[1]};
        }
    }
    bool deliver = true;
    if (p->qos == 1) {
        int err = send_ack(c, TERN_PUBACK, p->packet_id, 0);
        if (err)
            return err;
    } else if (p->qos == 2) {
        if (!c->q2 && !(c->q2 = calloc(1024, sizeof(uint64_t))))
            return -ENOMEM;
        uint16_t id = p->packet_id;
        bool have = c->q2[id >> 6] >> (id & 63) & 1;
        struct tern_qos_step st;
        tern_qos_step(have ? TERN_QS_WAIT_PUBREL : TERN_QS_FREE, TERN_PUBLISH, 2, 0, &st);
        deliver = st.deliver;
        if (!have) {
            if (c->o.version == TERN_V5 && c->q2n >= c->o.receive_maximum) {
                c->close_rc = TERN_RC_RECEIVE_MAXIMUM_EXCEEDED; /* [MQTT-3.3.4-9] */
                return -EPROTO;
            }
            c->q2[id >> 6] |= 1ull << (id & 63);
            c->q2n++;
            if (c->store) /* durable before PUBREC leaves: no second delivery after a crash */
                tn_store_rx2(c, id, true);
        }
        int err = send_ack(c, TERN_PUBREC, id, 0);
        if (err)
            return err;
    }
    if (deliver && c->o.cb.on_message) {
        struct tn_ev *e = tn_ev_add(c, TN_EV_MESSAGE);
        if (e)
            e->pub = *p;
    }
    return 0;
}

static int on_ack_in(tern_client *c, uint8_t type, const struct tern_ack *a)
{
    if (type == TERN_PUBREL) { /* our side of an incoming QoS 2 */
        uint16_t id = a->packet_id;
        bool have = c->q2 && (c->q2[id >> 6] >> (id & 63) & 1);
        struct tern_qos_step st;
        tern_qos_step(have ? TERN_QS_WAIT_PUBREL : TERN_QS_FREE, TERN_PUBREL, 0, a->rc, &st);
        if (have) {
            c->q2[id >> 6] &= ~(1ull << (id & 63));
            c->q2n--;
            if (c->store)
                tn_store_rx2(c, id, false);
        }
        return send_ack(c, TERN_PUBCOMP, id, st.reply_rc);
    }
    void *o = tn_pid_get(c, a->packet_id);
    struct tn_omsg *m = o && *(uint8_t *)o == TN_OBJ_PUB ? o : NULL;
    struct tern_qos_step st;
    tern_qos_step(m ? m->state : TERN_QS_FREE, type, 0, a->rc, &st);
    if (st.protocol_error && m)
        return -EPROTO;
    if (!m) { /* unknown id: PUBREC gets PUBREL 0x92; stray PUBACK/PUBCOMP are ignored */
        if (st.reply)
            return send_ack(c, st.reply, a->packet_id, st.reply_rc);
        return 0;
    }
    if (st.complete) {
        pub_complete(c, m, a->rc, &a->props);
        return 0;
    }
    m->state = st.next;
    if (c->store)
        tn_store_state(c, m); /* PUBREC seen: WAIT_PUBCOMP, durable before PUBREL leaves */
    if (st.reply)
        return send_ack(c, st.reply, a->packet_id, st.reply_rc);
    return 0;
}

static void sub_record(tern_client *c, const struct tn_req *r, const struct tern_suback *sa)
{
    struct tern_packet req;
    uint8_t rc;
    if (tern_packet_decode(r->frame, r->len, c->o.version, &req, &rc))
        return;
    struct tern_sub_iter it;
    struct tern_sub_entry e;
    tern_sub_iter_init(&it, &req, c->o.version);
    for (size_t i = 0; tern_sub_iter_next(&it, &e); i++) {
        bool ok = r->type == TERN_UNSUBSCRIBE || (i < sa->rcs.n && sa->rcs.p[i] < 0x80);
        /* forget any earlier record of this filter */
        for (struct tn_req **pp = &c->subs; *pp;) {
            struct tern_packet sp;
            struct tern_sub_iter si;
            struct tern_sub_entry se;
            bool same = false;
            if (!tern_packet_decode((*pp)->frame, (*pp)->len, c->o.version, &sp, &rc)) {
                tern_sub_iter_init(&si, &sp, c->o.version);
                same = tern_sub_iter_next(&si, &se) && se.filter.n == e.filter.n &&
                       !memcmp(se.filter.p, e.filter.p, e.filter.n);
            }
            if (same) {
                struct tn_req *d = *pp;
                *pp = d->next;
                free(d);
            } else {
                pp = &(*pp)->next;
            }
        }
        if (r->type != TERN_SUBSCRIBE || !ok)
            continue;
        struct tern_packet one = {.type = TERN_SUBSCRIBE};
        one.u.subscribe.packet_id = 1;
        one.u.subscribe.props = req.u.subscribe.props;
        one.u.subscribe.count = 1;
        one.u.subscribe.list = &e;
        int err = 0;
        struct tn_req *s = req_new(c, &one, 0, &err);
        if (s) {
            s->next = c->subs;
            c->subs = s;
        }
    }
}

static int on_suback_in(tern_client *c, uint8_t type, const struct tern_suback *sa)
{
    void *o = tn_pid_get(c, sa->packet_id);
    struct tn_req *r = o && *(uint8_t *)o == TN_OBJ_REQ ? o : NULL;
    if (!r || r->type != (type == TERN_SUBACK ? TERN_SUBSCRIBE : TERN_UNSUBSCRIBE) || !r->sent)
        return 0; /* unknown or late ack (after a reconnect): ignore */
    tn_pid_release(c, r->pid);
    sub_record(c, r, sa);
    if (!r->internal) {
        struct tn_ev *e = tn_ev_add(c, type == TERN_SUBACK ? TN_EV_SUB : TN_EV_UNSUB);
        if (e) {
            e->mid = r->mid;
            e->props = sa->props;
            if (sa->rcs.n) {
                e->rcs = sa->rcs.p;
                e->u32 = (uint32_t)sa->rcs.n;
            } else { /* 3.x UNSUBACK: all succeeded */
                struct tern_packet req;
                uint8_t rc;
                uint32_t n = 0;
                if (!tern_packet_decode(r->frame, r->len, c->o.version, &req, &rc))
                    n = req.u.subscribe.count;
                e->owned = calloc(n ? n : 1, 1);
                e->rcs = e->owned;
                e->u32 = e->owned ? n : 0;
            }
        }
    }
    req_unlink(c, r);
    free(r);
    return 0;
}

/* Handle one whole frame. Returns 0, 1 when the connection was closed by it, or an error
 * (the caller closes). */
static int handle_frame(tern_client *c, const uint8_t *f, size_t n)
{
    struct tern_packet p;
    uint8_t rc = 0;
    if (c->o.cb.on_trace)
        tn_trace(c, TERN_TRACE_IN, f, n);
    int err = tern_packet_decode(f, n, c->o.version, &p, &rc);
    if (err) {
        tn_log(c, TERN_LOG_WARN, "bad packet from server: %s (0x%02x)", tern_client_strerror(err),
               rc);
        return err;
    }
    if (c->connack_wait && p.type != TERN_CONNACK && p.type != TERN_AUTH)
        return -EPROTO;
    switch (p.type) {
    case TERN_CONNACK: return on_connack(c, &p.u.connack);
    case TERN_PUBLISH: return on_publish_in(c, &p.u.publish);
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP: return on_ack_in(c, p.type, &p.u.ack);
    case TERN_SUBACK:
    case TERN_UNSUBACK: return on_suback_in(c, p.type, &p.u.suback);
    case TERN_PINGRESP: c->ping_out = false; return 0;
    case TERN_DISCONNECT:
        conn_close(c, -TERN_ESERVER, p.u.disconnect.rc, &p.u.disconnect.props);
        return 1;
    default: return -EPROTO; /* CONNECT, SUBSCRIBE, ... from a server; AUTH unsupported */
    }
}

/* Read what is there (bounded) and handle every whole frame. */
static int do_read(tern_client *c)
{
    if (c->rx.off == c->rx.len)
        c->rx.off = c->rx.len = 0;
    size_t budget = 256u * 1024u;
    int rd_err = 0; /* EOF or a read error: reported after the frames read before it */
    for (;;) {
        if (tn_buf_reserve(&c->rx, RX_CHUNK)) {
            rd_err = -ENOMEM;
            break;
        }
        ssize_t r = tn_net_read(c, c->rx.p + c->rx.len, c->rx.cap - c->rx.len);
        if (r == -EAGAIN)
            break;
        if (r <= 0) {
            rd_err = r == 0 ? -ECONNRESET : (int)r;
            break;
        }
        size_t room = c->rx.cap - c->rx.len;
        c->rx.len += (size_t)r;
        c->last_rx = tn_now_ms();
        /* a short read drained the socket: save the recv that would say EAGAIN */
        if ((size_t)r < room && !tn_net_pending(c))
            break;
        if ((size_t)r >= budget)
            break;
        budget -= (size_t)r;
    }
    uint32_t max = c->o.max_packet_size;
    while (c->rx.off < c->rx.len) {
        struct tern_frame f;
        uint8_t rc;
        int k = tern_frame_peek(c->rx.p + c->rx.off, c->rx.len - c->rx.off, max, &f, &rc);
        if (k < 0)
            return k;
        if (k == 0)
            break;
        const uint8_t *fp = c->rx.p + c->rx.off;
        c->rx.off += f.size;
        int err = handle_frame(c, fp, f.size);
        if (err)
            return err; /* 1: closed by a packet (a refused CONNACK): its EOF is no news */
    }
    return rd_err;
}

static int do_write(tern_client *c)
{
    c->wr_blocked = false;
    if (c->tx.off == c->tx.len)
        return 0;
    if (c->store)
        tn_store_sync(c);
    while (c->tx.off < c->tx.len) {
        ssize_t w = tn_net_write(c, c->tx.p + c->tx.off, c->tx.len - c->tx.off);
        if (w == -EAGAIN) {
            c->wr_blocked = true;
            return 0;
        }
        if (w < 0)
            return (int)w;
        c->tx.off += (size_t)w;
    }
    c->tx.off = c->tx.len = 0;
    return 0;
}

/* Keep alive, connect timeout, reconnect. */
static void timers(tern_client *c, int64_t now)
{
    if (c->state == TERN_CS_WAITING && now >= c->reconnect_at) {
        tn_client_start_connect(c);
        return;
    }
    if (c->fd < 0)
        return;
    if ((c->tcp_pending || c->tls_hs || c->connack_wait) && now >= c->deadline) {
        conn_close(c, -ETIMEDOUT, 0, NULL);
        return;
    }
    if (c->state != TERN_CS_CONNECTED || !c->keepalive)
        return;
    int64_t ka = (int64_t)c->keepalive * 1000;
    if (c->ping_out && now - c->ping_sent >= ka) {
        conn_close(c, -ETIMEDOUT, TERN_RC_KEEP_ALIVE_TIMEOUT, NULL);
        return;
    }
    if (!c->ping_out && now - c->last_tx >= ka) {
        struct tern_packet p = {.type = TERN_PINGREQ};
        if (send_packet(c, &p) == 0) {
            c->ping_out = true;
            c->ping_sent = now;
        }
    }
}

/* Release buffers and tables an idle client does not need (target: <= 1 KiB when idle). */
static void trim(tern_client *c)
{
    if (c->qnext || c->reqs)
        return;
    if (c->tx.off == c->tx.len && c->tx.p) {
        tn_buf_fini(&c->tx);
    }
    if (c->rx.off == c->rx.len && c->rx.p && c->evn == 0 && !c->dispatching)
        tn_buf_fini(&c->rx);
    if (c->pids.count == 0 && c->pids.slot) {
        free(c->pids.slot);
        c->pids.slot = NULL;
        c->pids.cap = 0;
    }
    if (c->q2n == 0 && c->q2) {
        free(c->q2);
        c->q2 = NULL;
    }
    if (c->evn == 0 && c->ev) {
        free(c->ev);
        c->ev = NULL;
        c->evcap = 0;
    }
}

int tn_client_io(tern_client *c, unsigned events)
{
    int err = 0;
    int64_t now = tn_now_ms();
    if (c->user_disc && (c->state == TERN_CS_WAITING || c->state == TERN_CS_CONNECTING))
        conn_close(c, 0, 0, NULL);
    if (c->fd >= 0 && c->tcp_pending && (events & TERN_WANT_WRITE)) {
        err = tn_net_connect_result(c);
        if (!err)
            err = conn_established(c);
    } else if (c->fd >= 0 && c->tls_hs && events) {
        err = conn_established(c);
    }
    if (!err && c->fd >= 0 && !c->tcp_pending && !c->tls_hs) {
        /* not from inside a callback (a nested tern_client_process): the events being
         * dispatched hold views into rx; the bytes wait for the next call */
        if ((events & TERN_WANT_READ || tn_net_pending(c)) && !c->dispatching)
            err = do_read(c);
        if (err == 1) /* closed by a packet (DISCONNECT, refused CONNACK) */
            err = 0;
        else if (!err && c->fd >= 0) {
            err = fill_tx(c);
            if (!err)
                err = do_write(c);
            if (!err && c->disc_pending && c->tx.off == c->tx.len) {
                conn_close(c, 0, 0, NULL);
                c->user_disc = true;
            }
        }
    }
    if (err < 0) {
        uint8_t rc = c->close_rc               ? c->close_rc
                     : err == -TERN_EMALFORMED ? TERN_RC_MALFORMED_PACKET
                     : err == -TERN_ETOOBIG    ? TERN_RC_PACKET_TOO_LARGE
                     : err == -EPROTO          ? TERN_RC_PROTOCOL_ERROR
                                               : 0;
        c->close_rc = 0;
        if (rc && c->o.version == TERN_V5 && c->fd >= 0 && c->state == TERN_CS_CONNECTED) {
            /* tell the server why, best effort [MQTT-4.13.1-1] (5.0) */
            struct tern_packet d = {.type = TERN_DISCONNECT};
            d.u.disconnect.rc = rc;
            uint8_t buf[8];
            int n = tern_packet_encode(&d, c->o.version, buf, sizeof buf);
            if (n > 0) {
                tn_trace(c, TERN_TRACE_OUT, buf, (size_t)n);
                (void)tn_net_write(c, buf, (size_t)n);
            }
        }
        conn_close(c, err, rc, NULL);
    } else if (err > 0) {
        err = 0;
    }
    timers(c, now);
    if (c->fd >= 0 && c->tx.off < c->tx.len && !c->tcp_pending && !c->tls_hs) {
        int e2 = do_write(c); /* a PINGREQ, or acks from the timers */
        if (e2 < 0)
            conn_close(c, e2, 0, NULL);
    }
    if (c->store) {
        tn_store_sync(c); /* a group commit that fell due */
        tn_store_maybe_compact(c);
    }
    trim(c);
    return err;
}

void tn_client_trim(tern_client *c)
{
    trim(c);
}

unsigned tn_client_want(const tern_client *c)
{
    if (c->fd < 0)
        return 0;
    if (c->tcp_pending)
        return TERN_WANT_WRITE;
    if (c->tls_hs)
        return tn_net_tls_want(c);
    unsigned w = c->dispatching ? 0 : TERN_WANT_READ; /* see tn_client_io */
    if (c->tx.off < c->tx.len)
        w |= TERN_WANT_WRITE;
    if (c->state == TERN_CS_CONNECTED && !c->disc_pending) {
        if (c->qnext && (c->qnext->qos == 0 || c->inflight < c->window))
            w |= TERN_WANT_WRITE;
        for (const struct tn_req *r = c->reqs; r; r = r->next)
            if (!r->sent) {
                w |= TERN_WANT_WRITE;
                break;
            }
    }
    return w;
}

int tn_client_timeout_ms(const tern_client *c)
{
    int64_t now = tn_now_ms(), at = -1;
    if (c->state == TERN_CS_WAITING) {
        at = c->reconnect_at;
    } else if (c->fd >= 0) {
        if (c->tcp_pending || c->tls_hs || c->connack_wait)
            at = c->deadline;
        else if (c->state == TERN_CS_CONNECTED && c->keepalive)
            at = c->ping_out ? c->ping_sent + (int64_t)c->keepalive * 1000
                             : c->last_tx + (int64_t)c->keepalive * 1000;
    }
    int64_t st = c->store ? tn_store_due_ms(c) : -1;
    if (st >= 0 && (at < 0 || st < at))
        at = st;
    if (at < 0)
        return -1;
    int64_t d = at - now;
    return d <= 0 ? 0 : d > 1000000000 ? 1000000000 : (int)d;
}

/* ---- the public calls ------------------------------------------------------------------------ */

/* Thread mode: make the network thread look at the client again (once per sleep). */
static void wake(tern_client *c)
{
    if (c->th_running && c->wakefd >= 0 && !c->wake_pending) {
        uint64_t one = 1;
        c->wake_pending = true;
        ssize_t w = write(c->wakefd, &one, sizeof one);
        (void)w;
    }
}

int tern_client_publish(tern_client *c, const char *topic, const void *payload, size_t len, int qos,
                        bool retain, const struct tern_props *props, uint64_t *mid)
{
    if (!c)
        return tn_fail(-EINVAL, "publish: client is NULL");
    if (!topic)
        return tn_fail(-EINVAL, "publish: topic is NULL");
    if (qos < 0 || qos > 2)
        return tn_fail(-EINVAL, "publish: QoS %d is not 0, 1 or 2", qos);
    if (!payload && len)
        return tn_fail(-EINVAL, "publish: payload is NULL but len is %zu", len);
    size_t tn = strlen(topic);
    bool alias = props && tern_props_has(props, TERN_PROP_TOPIC_ALIAS);
    if (props && (props->present || props->user_n || props->raw.n || props->extra.n) &&
        c->o.version != TERN_V5)
        return tn_fail(-EINVAL, "publish: properties need MQTT 5");
    if (!(tn == 0 && alias && c->o.version == TERN_V5) &&
        !tern_topic_name_is_valid((const uint8_t *)topic, tn))
        return tn_fail(-EINVAL, "publish: '%.64s' is not a valid topic name", topic);
    if (props && tern_props_has(props, TERN_PROP_PAYLOAD_FORMAT_INDICATOR) &&
        props->payload_format_indicator == 1 && !tern_utf8_is_valid(payload, len))
        return tn_fail(-EINVAL, "publish: payload format indicator says UTF-8 but it is not");
    struct tern_packet p = {.type = TERN_PUBLISH};
    p.u.publish.qos = (uint8_t)qos;
    p.u.publish.retain = retain;
    p.u.publish.packet_id = qos ? 1 : 0;
    p.u.publish.topic = (tern_slice){(const uint8_t *)topic, tn};
    if (props)
        p.u.publish.props = *props;
    p.u.publish.payload = (tern_slice){payload, len};
    int size = tern_packet_size(&p, c->o.version);
    if (size < 0)
        return tn_fail(size, "publish: cannot be encoded (properties or size)");
    pthread_mutex_lock(&c->mu);
    int err = 0;
    if (c->freeing) {
        err = tn_fail(-TERN_ECLOSED, "publish");
    } else if (c->srv_max_packet && (uint32_t)size > c->srv_max_packet) {
        err = tn_fail(-TERN_ETOOBIG, "publish: %d bytes, server maximum is %u", size,
                      c->srv_max_packet);
    } else if (c->qcount + 1 > c->o.max_queued ||
               c->qbytes + (size_t)size > c->o.max_queued_bytes) {
        err = tn_fail(-TERN_EQUEUEFULL, "publish: %zu messages / %zu bytes queued", c->qcount,
                      c->qbytes);
    } else if (qos == 0 && c->state != TERN_CS_CONNECTED && !c->o.queue_qos0_offline) {
        err = tn_fail(-ENOTCONN, "publish: QoS 0 while offline and queue_qos0_offline is off");
    }
    struct tn_omsg *m = NULL;
    if (!err && !(m = tn_omsg_alloc((size_t)size)))
        err = tn_fail(-ENOMEM, "publish");
    if (!err) {
        tern_packet_encode(&p, c->o.version, m->frame, (size_t)size);
        m->qos = (uint8_t)qos;
        m->mid = c->next_mid++;
        if (qos) {
            struct tern_frame f;
            uint8_t rc;
            tern_frame_peek(m->frame, (size_t)size, 0, &f, &rc);
            m->pid_off = (uint16_t)(f.hdr_len + 2 + tn);
        }
        if (c->store && qos && (err = tn_store_add(c, m)) < 0) {
            free(m);
            m = NULL;
            err = tn_fail(err, "publish: store");
        }
    }
    if (!err) {
        tn_queue_append(c, m);
        if (mid)
            *mid = m->mid;
        if (c->state == TERN_CS_CONNECTED)
            wake(c);
    }
    pthread_mutex_unlock(&c->mu);
    return err;
}

/* Queue a SUBSCRIBE or UNSUBSCRIBE of n entries (already validated) as a request. */
static int queue_sub_req(tern_client *c, uint8_t type, const struct tern_sub_entry *list, size_t n,
                         const struct tern_props *props, uint64_t *mid)
{
    struct tern_packet p = {.type = type};
    p.u.subscribe.packet_id = 1;
    p.u.subscribe.count = (uint32_t)n;
    p.u.subscribe.list = list;
    if (props)
        p.u.subscribe.props = *props;
    pthread_mutex_lock(&c->mu);
    int err = 0;
    struct tn_req *r = req_new(c, &p, c->next_mid, &err);
    if (r) {
        c->next_mid++;
        req_append(c, r);
        if (mid)
            *mid = r->mid;
        wake(c);
    }
    pthread_mutex_unlock(&c->mu);
    return err ? tn_fail(err, "%s: cannot be encoded",
                         type == TERN_SUBSCRIBE ? "subscribe" : "unsubscribe")
               : 0;
}

int tern_client_subscribe(tern_client *c, const struct tern_sub_entry *subs, size_t n,
                          const struct tern_props *props, uint64_t *mid)
{
    if (!c || !subs || n == 0 || n > 65535)
        return tn_fail(-EINVAL, "subscribe: need a client and 1..65535 filters");
    if (props && (props->present || props->user_n) && c->o.version != TERN_V5)
        return tn_fail(-EINVAL, "subscribe: properties need MQTT 5");
    for (size_t i = 0; i < n; i++) {
        const struct tern_sub_entry *e = &subs[i];
        if (!e->filter.p || !tern_topic_filter_is_valid(e->filter.p, e->filter.n))
            return tn_fail(-EINVAL, "subscribe: '%.*s' is not a valid topic filter",
                           (int)(e->filter.n > 64 ? 64 : e->filter.n),
                           e->filter.p ? (const char *)e->filter.p : "");
        if (e->qos > 2 || e->retain_handling > 2)
            return tn_fail(-EINVAL, "subscribe: QoS %u / retain handling %u", e->qos,
                           e->retain_handling);
        if (c->o.version != TERN_V5 &&
            (e->no_local || e->retain_as_published || e->retain_handling))
            return tn_fail(-EINVAL, "subscribe: subscription options need MQTT 5");
        if (e->no_local && tern_shared_parse(e->filter, &(tern_slice){0}, &(tern_slice){0}) == 1)
            return tn_fail(-EINVAL, "subscribe: no local on a shared subscription [MQTT-3.8.3-4]");
    }
    return queue_sub_req(c, TERN_SUBSCRIBE, subs, n, props, mid);
}

int tern_client_subscribe1(tern_client *c, const char *filter, int qos, uint64_t *mid)
{
    if (!filter || qos < 0 || qos > 2)
        return tn_fail(-EINVAL, "subscribe: filter NULL or QoS %d", qos);
    struct tern_sub_entry e = {.filter = tern_slice_cstr(filter), .qos = (uint8_t)qos};
    return tern_client_subscribe(c, &e, 1, NULL, mid);
}

int tern_client_unsubscribe(tern_client *c, const char *const *filters, size_t n,
                            const struct tern_props *props, uint64_t *mid)
{
    if (!c || !filters || n == 0 || n > 4096)
        return tn_fail(-EINVAL, "unsubscribe: need a client and 1..4096 filters");
    if (props && (props->present || props->user_n) && c->o.version != TERN_V5)
        return tn_fail(-EINVAL, "unsubscribe: properties need MQTT 5");
    struct tern_sub_entry *l = calloc(n, sizeof *l);
    if (!l)
        return tn_fail(-ENOMEM, "unsubscribe");
    for (size_t i = 0; i < n; i++) {
        l[i].filter = tern_slice_cstr(filters[i]);
        if (!filters[i] || !tern_topic_filter_is_valid(l[i].filter.p, l[i].filter.n)) {
            free(l);
            return tn_fail(-EINVAL, "unsubscribe: '%.64s' is not a valid topic filter",
                           filters[i] ? filters[i] : "(null)");
        }
    }
    int rc = queue_sub_req(c, TERN_UNSUBSCRIBE, l, n, props, mid);
    free(l);
    return rc;
}

int tern_client_disconnect(tern_client *c, uint8_t rc, const struct tern_props *props)
{
    if (!c)
        return tn_fail(-EINVAL, "disconnect: client is NULL");
    if (c->o.version == TERN_V5 && !tern_rc_is_valid_for(TERN_DISCONNECT, rc))
        return tn_fail(-EINVAL, "disconnect: 0x%02x is not a DISCONNECT reason code", rc);
    struct tern_packet p = {.type = TERN_DISCONNECT};
    p.u.disconnect.rc = rc;
    if (props)
        p.u.disconnect.props = *props;
    if (tern_packet_size(&p, c->o.version) < 0)
        return tn_fail(-EINVAL, "disconnect: properties cannot be encoded");
    pthread_mutex_lock(&c->mu);
    int err = 0;
    c->user_disc = true;
    if (c->th_running && c->state != TERN_CS_CONNECTED) {
        wake(c); /* the network thread closes it (events belong to the driver) */
    } else if (c->state == TERN_CS_CONNECTED) {
        err = send_packet(c, &p);
        c->disc_pending = true;
        c->state = TERN_CS_CLOSING;
        wake(c);
    } else if (c->fd >= 0 || c->state == TERN_CS_WAITING) {
        conn_close(c, 0, 0, NULL);
    } else {
        err = tn_fail(-ENOTCONN, "disconnect");
    }
    pthread_mutex_unlock(&c->mu);
    return err;
}
