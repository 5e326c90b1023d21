/* SPDX-License-Identifier: MIT */
/*
 * src/broker/internal.h - the broker core's own types: messages, deliveries, sessions,
 * connections, workers. Not seen above the broker layer (ternd uses broker.h).
 *
 * Ownership (one owner each):
 *  - struct tn_msg: immutable after creation, shared by reference (atomic refcount) across
 *    workers; the last unref frees it, on whichever thread.
 *  - struct tn_session, struct tn_conn: owned by one worker, the session's home worker
 *    (hash(client id) % workers); no other thread touches them. Other workers name a session
 *    by a 64-bit handle {worker, slot, generation} and send it work through the inbox.
 *  - struct tn_worker: its thread owns everything in it except the inbox, which other threads
 *    append to under inbox_mu.
 *  - struct tn_broker: created by the main thread; workers read it. The running settings are
 *    an immutable struct tn_broker_conf swapped by pointer on reload.
 * Thread: see above.
 */
#ifndef TN_BROKER_INTERNAL_H
#define TN_BROKER_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "broker.h"
#include "loop.h"
#include "retained.h"
#include "router.h"
#include "store.h"
#include "tern/codec.h"

struct tn_worker;
struct tn_session;

/* ---- messages ----------------------------------------------------------------------------- */

struct tn_msg {
    _Atomic uint32_t refs;
    uint8_t qos;
    bool retain;
    uint16_t topic_n;
    uint32_t props_n; /* forwarded 5.0 properties, pre-encoded (no length prefix) */
    uint32_t payload_n;
    uint64_t expiry_ms; /* monotonic deadline from Message Expiry Interval; 0: none */
    uint64_t origin;    /* handle of the publishing session (No Local); 0: the broker */
    const uint8_t *topic, *props, *payload;
    uint8_t data[];
};

struct tn_msg *tn_msg_new(tern_slice topic, tern_slice props, tern_slice payload, uint8_t qos,
                          bool retain, uint64_t expiry_ms, uint64_t origin);
static inline struct tn_msg *tn_msg_ref(struct tn_msg *m)
{
    atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed);
    return m;
}
/* k references at once: one atomic operation for a fan-out across workers */
static inline void tn_msg_ref_n(struct tn_msg *m, uint32_t k)
{
    atomic_fetch_add_explicit(&m->refs, k, memory_order_relaxed);
}
void tn_msg_unref(struct tn_msg *m);
void tn_msg_unref_n(struct tn_msg *m, uint32_t k);
/* Encode the properties of an incoming PUBLISH (or Will) that are forwarded unchanged:
 * Payload Format Indicator, Content Type, Response Topic, Correlation Data, User Properties
 * in their order [MQTT-3.3.2-17] [MQTT-3.3.2-18]. Returns the length of the property body
 * written to out (no length prefix; out needs props->raw.n + 5 bytes), or -errno. */
int tn_msg_forward_props(const struct tern_props *props, uint8_t *out, size_t cap);

/* ---- deliveries: one message on its way to one session -------------------------------------- */

enum {
    TN_DLV_RETAIN = 1, /* send with RETAIN set */
    TN_DLV_SHARED = 2, /* came through a shared subscription */
};

struct tn_delivery {
    struct tn_msg *msg;
    uint32_t sub_id;    /* first Subscription Identifier, 0: none */
    uint32_t *more_ids; /* further ones (heap), n_more of them */
    uint16_t n_more;
    uint8_t qos;
    uint8_t flags;
};

void tn_delivery_release(struct tn_delivery *d);

/* ---- sessions ----------------------------------------------------------------------------- */

struct tn_sub_rec {
    char *filter; /* as subscribed, NUL-terminated; "$share/g/f" for shared */
    uint16_t len;
    bool shared;
    struct tn_sub_opts o;
};

struct tn_inflight {
    struct tn_delivery d;
    uint64_t seq;
    uint16_t id;
    uint8_t state; /* enum tern_qos_state; TERN_QS_FREE: empty slot */
};

struct tn_queue {
    struct tn_delivery *v;
    uint32_t head, n, cap;
    uint64_t bytes;
};

struct tn_session {
    char *client_id;
    uint16_t cid_n;
    uint8_t version;
    struct tn_worker *w;
    uint64_t handle;
    struct tn_conn *conn;     /* NULL while offline */
    uint32_t expiry_s;        /* Session Expiry Interval; 0xFFFFFFFF: never */
    struct tn_session *hnext; /* worker's client id table */
    struct tn_sub_rec *subs;
    uint32_t n_subs, cap_subs;
    /* outgoing QoS 1/2, indexed by packet id & (inf_cap - 1) */
    struct tn_inflight *inf;
    uint32_t inf_cap, inf_n;
    uint16_t next_id;
    uint16_t window; /* min(client Receive Maximum, max_inflight_messages) */
    uint64_t seq;
    struct tn_queue q; /* waiting for the window or for the client to come back */
    /* retained messages found by a SUBSCRIBE, sent as flow control allows */
    struct tn_delivery *rbl;
    uint32_t rbl_n, rbl_i;
    /* incoming QoS 2 ids between PUBREC and PUBREL: a bitmap of 65536 bits, lazily made */
    uint8_t *qos2_in;
    uint32_t qos2_in_n;
    uint64_t last_ack_ms;  /* last completed QoS 1/2 delivery: is the client keeping up at all */
    uint64_t last_hint_ms; /* last time a publisher was asked to slow down for this session */
    uint64_t last_hint_to; /* ... and which one (its session handle) */
    struct tn_msg *will;
    uint32_t will_delay_s;
    struct tn_timer will_timer;
    struct tn_timer expiry_timer;
};

/* ---- connections -------------------------------------------------------------------------- */

enum { TN_CONN_NEW, TN_CONN_ACTIVE, TN_CONN_CLOSED };

struct tn_alias_out {
    char *topic; /* NULL: free */
    uint16_t n;
};

struct tn_conn {
    struct tn_io io; /* first: the loop hands us &io */
    struct tn_worker *w;
    struct tn_session *s;
    int fd;
    uint8_t state;
    uint8_t version;    /* 0 until CONNECT */
    bool will_on_close; /* close without a normal DISCONNECT: the will goes out */
    bool in_flush;      /* on the worker's flush list */
    bool req_problem_info;
    bool paused;        /* not reading: a subscriber it publishes to is falling behind */
    bool pacing;        /* publishers were paused for this one: resume them once it drains */
    bool want_out;      /* a write would block: waiting for EPOLLOUT */
    int16_t handoff_to; /* >= 0: hand to that worker after this frame (set by CONNECT) */
    uint16_t keepalive; /* seconds, as in force (Server Keep Alive applied) */
    uint64_t last_rx_ms;
    struct tn_timer ka_timer; /* connect timeout, then keep-alive */
    /* output rate: bytes written in the window that began at txw_ms, and in the last one */
    uint32_t txw_ms, txw_bytes, tx_rate;
    char peer[48]; /* "[v6 address]:port" is at most 47 */
    /* input: bytes of an incomplete frame, kept only between reads */
    uint8_t *rx;
    size_t rx_n, rx_cap;
    /* output */
    uint8_t *tx;
    size_t tx_head, tx_n, tx_cap;
    /* 5.0 limits the client gave */
    uint32_t max_out_packet; /* 0: none */
    uint16_t alias_out_max;
    struct tn_alias_out *alias_out; /* [alias_out_max], lazily */
    uint16_t alias_out_used;
    char **alias_in; /* [max_topic_alias + 1], lazily */
    uint16_t alias_in_max;
    uint16_t recv_max_in;        /* the Receive Maximum we announced */
    uint8_t max_qos;             /* max_qos in force when it connected (reload: new ones) */
    struct tn_conn *next, *prev; /* worker's list of connections */
    struct tn_conn *flush_next;  /* worker's flush list */
};

/* ---- workers ------------------------------------------------------------------------------ */

enum { TN_IB_DELIVER = 1, TN_IB_HANDOFF, TN_IB_STOP, TN_IB_SLOWDOWN };

struct tn_ib_item {
    uint8_t kind;
    uint64_t target;      /* TN_IB_DELIVER, TN_IB_SLOWDOWN: session handle */
    struct tn_delivery d; /* TN_IB_DELIVER */
    struct tn_conn *conn; /* TN_IB_HANDOFF */
};

struct tn_ib_vec {
    struct tn_ib_item *v;
    size_t n, cap;
};

/* Counters written only by their worker, read by $SYS with relaxed loads. */
struct tn_stats {
    _Atomic uint64_t msgs_recv, msgs_sent, bytes_recv, bytes_sent, pub_dropped;
    _Atomic uint64_t conns_total; /* connections accepted */
    _Atomic int64_t clients_connected, sessions;
};

struct tn_match {
    uint64_t h;
    struct tn_sub_opts o;
    bool shared;
};

struct tn_worker {
    struct tn_broker *b;
    unsigned idx;
    pthread_t th;
    struct tn_loop loop;
    struct tn_io lio[TN_BROKER_MAX_LISTENERS];
    int n_lio;
    /* inbox: appended to by any thread under inbox_mu; swapped out by the owner */
    pthread_mutex_t inbox_mu;
    struct tn_ib_vec inbox;
    struct tn_ib_vec *outbox; /* [n_workers]: deliveries for other workers, flushed per loop */
    /* sessions homed here */
    struct tn_session **tab;
    size_t tab_cap, n_sess;
    struct tn_session **slots;
    uint32_t *gens;
    uint32_t n_slots, cap_slots;
    uint32_t *free_slots;
    uint32_t n_free;
    /* connections */
    struct tn_conn *conns;
    struct tn_conn *flush;
    struct tn_conn *dead;
    struct tn_conn **paused; /* connections paused by tn_conn_pause */
    size_t paused_n, paused_cap;
    struct tn_timer pause_timer; /* resumes them all a tick after the first pause at most */
    uint8_t *scratch;            /* read buffer shared by this worker's connections */
    size_t scratch_cap;
    struct tn_match *m;
    size_t m_n, m_cap;
    uint64_t *dset; /* matches_distinct's table */
    size_t dset_cap;
    /* the last QoS 0 PUBLISH encoded here, reused byte for byte for the next subscriber of
     * the same message on the same wire layout: a fan-out encodes each distinct packet once */
    struct tn_msg *enc_msg;
    uint8_t enc_key; /* bit 0: 5.0 layout, bit 1: RETAIN */
    uint32_t enc_n;
    uint8_t *enc_buf; /* TN_ENC_CACHE_MAX bytes */
    struct tn_stats st;
    struct tn_timer sys_timer; /* worker 0 only */
    bool stopping;
};

#define TN_ENC_CACHE_MAX 4096u

/* ---- the broker --------------------------------------------------------------------------- */

struct tn_broker {
    struct tn_broker_conf *_Atomic conf; /* current settings, immutable */
    struct tn_broker_conf **old_confs;   /* kept until free: a worker may still read one */
    unsigned n_old;
    unsigned n_workers;
    struct tn_worker *workers;
    uint16_t ports[TN_BROKER_MAX_LISTENERS];
    struct tn_router *router;
    struct tn_retained *retained;
    struct tn_store *store;
    _Atomic uint64_t n_conns; /* open connections, for max_connections */
    _Atomic int64_t clients_max;
    uint64_t start_ms;
    double load[3][5]; /* $SYS load averages: 1/5/15 min for 5 counters, worker 0 only */
    uint64_t load_prev[5];
};

static inline const struct tn_broker_conf *tn_conf(const struct tn_broker *b)
{
    return atomic_load_explicit(&b->conf, memory_order_acquire);
}

#define TN_STAT_ADD(w, f, v) atomic_fetch_add_explicit(&(w)->st.f, (v), memory_order_relaxed)

/* handles */
static inline unsigned tn_handle_worker(uint64_t h)
{
    return (unsigned)(h >> 56);
}
static inline uint32_t tn_handle_slot(uint64_t h)
{
    return (uint32_t)(h >> 32) & 0xFFFFFFu;
}

/* worker.c */
int tn_worker_init(struct tn_worker *w, struct tn_broker *b, unsigned idx);
void tn_worker_fini(struct tn_worker *w);
int tn_worker_listen(struct tn_worker *w, const char *host, uint16_t port, uint16_t *bound);
int tn_worker_start(struct tn_worker *w);
void tn_worker_stop(struct tn_worker *w);
uint64_t tn_cid_hash(const uint8_t *p, size_t n);
struct tn_session *tn_worker_find_session(struct tn_worker *w, tern_slice cid);
struct tn_session *tn_worker_session_by_handle(struct tn_worker *w, uint64_t h);
struct tn_session *tn_worker_session_new(struct tn_worker *w, tern_slice cid);
void tn_worker_session_remove(struct tn_worker *w, struct tn_session *s);
void tn_worker_post(struct tn_worker *from, unsigned to, const struct tn_ib_item *it);
void tn_worker_handoff(struct tn_worker *w, struct tn_conn *c, unsigned to);

/* conn.c */
void tn_conn_accept(struct tn_worker *w, int fd, const char *peer);
void tn_conn_adopt(struct tn_worker *w, struct tn_conn *c);
int tn_conn_send(struct tn_conn *c, const struct tern_packet *p);
uint8_t *tn_conn_tx_reserve(struct tn_conn *c, size_t n);
void tn_conn_tx_commit(struct tn_conn *c, size_t n);
void tn_conn_close(struct tn_conn *c, int v5_rc, const char *why);
void tn_conn_flush(struct tn_conn *c);
void tn_conn_log_packet(struct tn_conn *c, bool out, const struct tern_packet *p);
bool tn_conn_tx_full(const struct tn_conn *c);
bool tn_conn_tx_behind(const struct tn_conn *c);
bool tn_conn_qos0_room(const struct tn_conn *c);
void tn_conn_pause(struct tn_conn *c);
void tn_worker_flush_all(struct tn_worker *w);
void tn_worker_free_dead(struct tn_worker *w);
const char *tn_conn_name(const struct tn_conn *c);

/* session.c */
void tn_session_deliver(struct tn_session *s, struct tn_delivery *d);
void tn_session_deliver_borrowed(struct tn_session *s, struct tn_delivery *d);
void tn_session_pump(struct tn_session *s);
uint32_t tn_session_pace_mark(const struct tn_session *s);
/* Stream retained messages found by a SUBSCRIBE (takes the deliveries' references). */
int tn_session_add_retained(struct tn_session *s, struct tn_delivery *v, uint32_t n);
void tn_session_resend(struct tn_session *s);
int tn_session_ack(struct tn_session *s, uint8_t type, uint16_t id, uint8_t rc);
void tn_session_attach(struct tn_session *s, struct tn_conn *c);
void tn_session_detach(struct tn_session *s, bool send_will);
void tn_session_destroy(struct tn_session *s, bool publish_will);
void tn_session_set_will(struct tn_session *s, struct tn_msg *will, uint32_t delay_s);
int tn_session_sub_put(struct tn_session *s, tern_slice filter, const struct tn_sub_opts *o,
                       bool shared);
int tn_session_sub_del(struct tn_session *s, tern_slice filter);
bool tn_qos2_in_test(struct tn_session *s, uint16_t id);
int tn_qos2_in_set(struct tn_session *s, uint16_t id);
void tn_qos2_in_clear(struct tn_session *s, uint16_t id);

/* handle.c */
void tn_handle_frame(struct tn_conn *c, const uint8_t *frame, size_t n);
size_t tn_route(struct tn_worker *w, struct tn_msg *m);
void tn_deliver_to(struct tn_worker *w, uint64_t h, struct tn_delivery *d);
bool tn_deliver_here_borrowed(struct tn_worker *w, uint64_t h, struct tn_delivery *d);
void tn_publish_internal(struct tn_worker *w, struct tn_msg *m);
void tn_slowdown(struct tn_worker *w, uint64_t publisher);

/* sys.c */
void tn_sys_start(struct tn_worker *w);

#endif
