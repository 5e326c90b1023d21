/* SPDX-License-Identifier: MIT */
/*
 * src/client/client_internal.h - libtern's internal structures, shared by the core
 * (client.c), the transport (net.c), the drivers (driver.c) and the durable store (store.c).
 *
 * Owns: the layout of struct tern_client and of its queued objects.
 * Thread: fields are guarded by tern_client.mu unless noted; the rx buffer and the event list
 * belong to whoever drives the client (the caller of tern_client_process or the network
 * thread), one at a time.
 */
#ifndef TN_CLIENT_INTERNAL_H
#define TN_CLIENT_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/client.h"

/* Record a detail message for tern_client_last_error() and return err. */
int tn_fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int64_t tn_now_ms(void);

/* A byte buffer: bytes [off, len) are pending. */
struct tn_buf {
    uint8_t *p;
    size_t off, len, cap;
};
int tn_buf_reserve(struct tn_buf *b, size_t more);
void tn_buf_fini(struct tn_buf *b);

enum { TN_OBJ_PUB = 1, TN_OBJ_REQ = 2 };

/* One queued outgoing PUBLISH: its whole encoded frame, packet id patched in at send time. */
struct tn_omsg {
    uint8_t kind; /* TN_OBJ_PUB */
    uint8_t qos;
    uint8_t state; /* enum tern_qos_state (sender side) */
    bool sent;     /* sent at least once: DUP on resend */
    uint16_t pid;
    uint16_t pid_off; /* offset of the packet id in frame (QoS > 0) */
    uint32_t len;
    uint64_t mid;
    struct tn_omsg *prev, *next;
    uint8_t frame[];
};

/* One SUBSCRIBE/UNSUBSCRIBE request (user's or an internal re-subscribe), encoded. */
struct tn_req {
    uint8_t kind; /* TN_OBJ_REQ */
    uint8_t type; /* TERN_SUBSCRIBE or TERN_UNSUBSCRIBE */
    bool sent;
    bool internal; /* a re-subscribe: no callback */
    uint16_t pid;
    uint16_t pid_off;
    uint32_t len;
    uint64_t mid;
    struct tn_req *next;
    uint8_t frame[];
};

/* Packet id -> object, O(1): slot[pid & (cap-1)], cap a power of two >= 2 x in use, so ids
 * are chosen such that their slot is free. Grown by doubling (no collisions appear when the
 * mask widens); released when empty and idle. */
struct tn_pidtab {
    void **slot;
    uint32_t cap, count;
    uint16_t next;
};

/* An owned deep copy of a property set (encoded bytes + a decoded view into them). */
struct tn_ownprops {
    uint8_t *buf;
    struct tern_props p;
    bool set;
};
int tn_props_dup(const struct tern_props *src, unsigned ctx, struct tn_ownprops *out);
void tn_ownprops_fini(struct tn_ownprops *o);

/* Events collected under the lock and dispatched after it is released. */
enum {
    TN_EV_CONNECT = 1,
    TN_EV_MESSAGE,
    TN_EV_PUBLISH,
    TN_EV_SUB,
    TN_EV_UNSUB,
    TN_EV_DISC,
    TN_EV_TRACE,
    TN_EV_LOG
};
struct tn_ev {
    uint8_t type;
    uint8_t a, b; /* CONNECT: rc, session_present; PUBLISH: qos, rc; DISC: rc, reconnect;
                     TRACE: dir, version; LOG: level */
    int err;
    uint64_t mid;
    uint32_t u32; /* DISC: reconnect_in_ms; SUB: n */
    struct tern_props props;
    struct tern_publish pub; /* MESSAGE */
    const uint8_t *rcs;
    uint8_t *owned; /* freed after dispatch (trace copy, disconnect props, log text) */
    size_t owned_len;
    int64_t mono_ns, real_ns;
};

struct tn_tls;   /* net.c */
struct tn_store; /* store.c */

struct tern_client {
    pthread_mutex_t mu;
    struct tern_client_opts o; /* copied; the strings below are our copies */
    char *host, *client_id, *username, *will_topic, *store_dir;
    char *tls_ca_file, *tls_ca_path, *tls_cert_file, *tls_key_file, *tls_server_name;
    uint8_t *password, *will_payload;
    struct tn_ownprops *connect_props, *will_props; /* NULL when none */

    /* connection */
    enum tern_client_state state;
    int fd;
    bool tcp_pending;  /* non-blocking connect in progress */
    bool tls_hs;       /* TLS handshake in progress */
    unsigned tls_want; /* what the handshake waits for */
    bool connack_wait;
    bool user_disc;    /* tern_client_disconnect called: no reconnect */
    bool disc_pending; /* DISCONNECT queued: close once tx is flushed */
    bool ever_connected;
    struct tn_tls *tls;
    void *ssl_ctx;
    struct tn_buf rx, tx;
    int64_t deadline; /* connect timeout / ping timeout */
    int64_t last_tx, last_rx, ping_sent, reconnect_at, idle_since;
    bool ping_out;
    uint8_t close_rc; /* reason code for the DISCONNECT an error makes us send */
    bool wr_blocked;  /* the last send hit EAGAIN: wait for POLLOUT */
    unsigned attempt;
    uint32_t rng;
    uint16_t keepalive; /* effective */
    uint16_t srv_recv_max;
    uint32_t srv_max_packet;
    uint16_t window;

    /* outgoing publishes: one list in publish order; everything before qnext is in flight */
    struct tn_omsg *qhead, *qtail, *qnext;
    size_t qcount, qbytes;
    uint32_t inflight;
    struct tn_pidtab pids;
    uint64_t next_mid;
    struct tn_req *reqs, *reqs_tail; /* pending user/internal requests */
    struct tn_req *subs;             /* acknowledged subscriptions, one filter each */

    /* incoming */
    uint64_t *q2; /* bitmap of ids awaiting PUBREL (8 KiB), NULL when none */
    uint32_t q2n;
    uint8_t **alias_in;             /* [1..topic_alias_maximum]: u16 length + bytes */
    struct tn_alias_out *alias_out; /* outgoing aliases of this connection, or NULL */

    /* events: added under mu; the driver takes them out under mu and dispatches unlocked */
    struct tn_ev *ev;
    size_t evn, evcap;
    bool dispatching; /* callbacks are running: events hold views into rx, which must stay */

    /* thread mode */
    pthread_t th;
    bool th_running, th_stop;
    int wakefd;
    bool freeing;
    bool wake_pending; /* an eventfd write is outstanding */

    struct tn_store *store;
};

/* events.c */
struct tn_ev *tn_ev_add(tern_client *c, uint8_t type); /* NULL on OOM: the event is lost */
void tn_log(tern_client *c, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void tn_trace(tern_client *c, int dir, const uint8_t *frame, size_t n);

/* pidtab.c */
int tn_pid_take(tern_client *c, void *obj, uint16_t *pid); /* obj's pid field is set */
void *tn_pid_get(tern_client *c, uint16_t pid);
void tn_pid_release(tern_client *c, uint16_t pid);

/* client.c */
int tn_client_start_connect(tern_client *c); /* locked */
void tn_client_dispatch(tern_client *c);     /* unlocked: run and clear collected events */
void tn_client_trim(tern_client *c);         /* locked: release what an idle client needs not */
int tn_client_io(tern_client *c, unsigned events); /* locked: one step */
int tn_client_timeout_ms(const tern_client *c);    /* locked */
unsigned tn_client_want(const tern_client *c);     /* locked */

/* net.c: sockets and TLS */
int tn_net_open(tern_client *c);                           /* resolve, socket, connect(2) begun */
int tn_net_connect_result(tern_client *c);                 /* 0 when the TCP connect succeeded */
bool tn_net_pending(const tern_client *c);                 /* TLS holds decrypted bytes unread */
int tn_net_tls_start(tern_client *c);                      /* after TCP is up */
int tn_net_tls_handshake(tern_client *c);                  /* 1 done, 0 in progress, <0 error */
ssize_t tn_net_read(tern_client *c, uint8_t *p, size_t n); /* -EAGAIN, 0 EOF */
ssize_t tn_net_write(tern_client *c, const uint8_t *p, size_t n); /* -EAGAIN */
unsigned tn_net_tls_want(const tern_client *c); /* extra wants of TLS (0 when none) */
void tn_net_close(tern_client *c);
void tn_net_global_fini(tern_client *c); /* free the SSL_CTX */

/* store.c: the durable append-only log */
enum { TN_REC_ADD = 1, TN_REC_STATE = 2, TN_REC_DONE = 3, TN_REC_RX2 = 4, TN_REC_RX2_CLEAR = 5 };
int tn_store_open(tern_client *c);
void tn_store_close(tern_client *c);
int tn_store_add(tern_client *c, const struct tn_omsg *m);
int tn_store_state(tern_client *c, const struct tn_omsg *m);
int tn_store_done(tern_client *c, uint64_t mid);
int tn_store_rx2(tern_client *c, uint16_t pid, bool on); /* incoming QoS 2 awaiting PUBREL */
int tn_store_rx2_clear(tern_client *c);                  /* the session is gone */
int tn_store_sync(tern_client *c); /* before the wire, and each turn: what is due (BATCH) */
int64_t tn_store_due_ms(const tern_client *c); /* when a group commit falls due, or -1 */
void tn_store_maybe_compact(tern_client *c);

/* core helpers the store uses during recovery */
struct tn_omsg *tn_omsg_alloc(size_t frame_len);
void tn_queue_append(tern_client *c, struct tn_omsg *m);
int tn_pid_put(tern_client *c, void *obj, uint16_t pid); /* pidtab.c: a chosen pid */

#endif
