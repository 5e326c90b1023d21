/* SPDX-License-Identifier: MIT */
/*
 * include/tern/client.h - libtern, tern's MQTT client library (MQTT 3.1, 3.1.1 and 5.0).
 *
 * Owns: the public client API. Built on include/tern/codec.h, whose types (struct tern_props,
 * struct tern_publish, struct tern_packet, struct tern_sub_entry, ...) appear here.
 * Thread: every tern_client_* call is thread-safe (one mutex per client). Callbacks are never
 * run while that mutex is held, so a callback may call any tern_client_* function on its own
 * client except tern_client_free and tern_client_stop. A tern_client_process/run called from
 * inside a callback does not read from the socket (the callback's views point into the
 * receive buffer); the events it causes are delivered after the current batch, in order.
 *
 * Caveats a user must know:
 *  - Two ways to drive a client, pick one per client:
 *     * fd mode: your event loop watches tern_client_fd() for tern_client_want() events and
 *       wakes after tern_client_next_timeout_ms(); it then calls tern_client_process() (or the
 *       on_readable/on_writable/on_timeout trio). The fd, the events and the timeout may change
 *       after ANY tern_client_* call (a publish makes the client want to write; a reconnect
 *       opens a new socket): re-read all three before you sleep again. Callbacks run inside
 *       those calls, on your thread. tern_client_run() is a ready-made poll() loop step.
 *     * thread mode: tern_client_start() runs a network thread; callbacks run on it.
 *  - tern_client_connect() resolves the host name with getaddrinfo(), which blocks; the TCP
 *    connect itself does not block. Reconnects resolve again (also blocking, on the thread that
 *    drives the client).
 *  - A publish returns exactly one of: 0 (queued: it will be delivered per its QoS, also across
 *    reconnects and, with a store, across a restart of the process) or a negative error saying
 *    why it was rejected (-TERN_EQUEUEFULL, -EINVAL, -TERN_ETOOBIG, -TERN_ECLOSED, -ENOMEM). A
 * queued message is never reported as failed; its on_publish callback reports the broker's answer.
 *  - Views handed to callbacks (topics, payloads, properties) are valid only during the call.
 *  - Exactly-once for QoS 2 across a crash needs a store (opts.store_dir), a fixed client id
 *    and a persistent session (clean = false; in 5.0 also a session expiry > 0).
 */
#ifndef TERN_CLIENT_H
#define TERN_CLIENT_H
/* API-READY */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/codec.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- results ---------------------------------------------------------------------------- */

/* libtern's own result codes (returned negated), beside -errno values and the codec's. */
enum tern_client_err {
    TERN_EQUEUEFULL = 4200, /* outgoing queue full (count or bytes limit): publish rejected */
    TERN_ECLOSED = 4201,    /* the client is disconnecting/stopped by its user or being freed */
    TERN_EREFUSED = 4202,   /* the server refused the connection (CONNACK reason code) */
    TERN_ESERVER = 4203,    /* the server sent DISCONNECT (reason code in the event) */
    TERN_ETLS = 4204,       /* TLS setup, handshake or verification failed */
    TERN_ESTORE = 4205,     /* the durable store could not be opened, read or written */
    TERN_ENOTSUP = 4206,    /* feature not available in this build or protocol version */
    TERN_EDNS = 4207,       /* host name could not be resolved */
};

/* Name of any result code libtern returns (client, codec, errno ones). Never NULL. */
const char *tern_client_strerror(int err);

/* A human-readable detail of the most recent failing tern_client_* / tern_propset_* call made
 * by the calling thread, e.g. "publish: topic name contains '+'". "" if none. Thread-local:
 * valid until the thread's next failing call. */
const char *tern_client_last_error(void);

/* ---- a property set (owned copy), for building MQTT 5 properties --------------------------- */

/* An owned, growable set of MQTT 5 properties for one context (a packet type such as
 * TERN_PUBLISH, or TERN_PROP_CTX_WILL). Anything that takes a `const struct tern_props *`
 * takes tern_propset_props(ps). Functions validate: id allowed in ctx, value range, UTF-8,
 * no duplicate of a non-repeatable property (a later add of the same id replaces it). */
struct tern_propset;

int tern_propset_new(unsigned ctx, struct tern_propset **out);
void tern_propset_free(struct tern_propset *ps);
/* Byte, u16, u32 or varint property. */
int tern_propset_add_int(struct tern_propset *ps, unsigned id, uint32_t value);
/* UTF-8 string or binary property (copied). */
int tern_propset_add_str(struct tern_propset *ps, unsigned id, const void *p, size_t n);
/* A User Property (copied; may repeat, order kept). */
int tern_propset_add_user(struct tern_propset *ps, const char *key, const char *value);
/* mosquitto's `-D command identifier value` form: name is the property name as mosquitto
 * spells it ("message-expiry-interval", "user-property", "correlation-data", "content-type",
 * "response-topic", "payload-format-indicator", "session-expiry-interval",
 * "receive-maximum", "topic-alias", "topic-alias-maximum", "maximum-packet-size",
 * "request-problem-information", "request-response-information", "will-delay-interval",
 * "subscription-identifier", "authentication-method", "authentication-data", "reason-string")
 * or the spec's name ("Message Expiry Interval") or a decimal id. value2 is used only for
 * user-property (its value). Numbers are decimal. */
int tern_propset_add_named(struct tern_propset *ps, const char *name, const char *value,
                           const char *value2);
/* The properties as the codec struct; views into ps, valid until ps changes or is freed. */
const struct tern_props *tern_propset_props(const struct tern_propset *ps);

/* ---- options ------------------------------------------------------------------------------ */

typedef struct tern_client tern_client;

/* How the durable store syncs its log. */
enum tern_store_sync {
    TERN_SYNC_ALWAYS = 0, /* the record is on disk (msync/fdatasync) before publish returns */
    TERN_SYNC_BATCH = 1,  /* default: the record is in the log (it survives the process being
                             killed) when publish returns; group commit: on disk at most
                             store_sync_ms later, and QoS 2 state (packet id taken, PUBREC seen,
                             incoming id) before the packet that depends on it goes on the wire */
    TERN_SYNC_NONE = 2,   /* in the log when publish returns; never synced by libtern:
                             survives a process crash, not a power cut */
};

/* Direction of a traced packet. */
enum tern_trace_dir { TERN_TRACE_OUT = 0, TERN_TRACE_IN = 1 };

/* Log levels of the log callback. */
enum tern_log_level { TERN_LOG_ERR = 0, TERN_LOG_WARN = 1, TERN_LOG_INFO = 2, TERN_LOG_DBG = 3 };

/* CONNACK received (accepted or refused). */
struct tern_connect_event {
    uint8_t version;                /* protocol level in use */
    uint8_t rc;                     /* 0 = accepted; else 5.0 reason code / 3.x return code */
    bool session_present;           /* the server resumed our session */
    const struct tern_props *props; /* CONNACK properties (5.0; empty otherwise) */
    uint16_t receive_maximum;       /* effective outgoing window after this CONNACK */
    uint16_t keep_alive;            /* effective keep alive (Server Keep Alive wins) */
    tern_slice assigned_client_id;  /* 5.0 Assigned Client Identifier, or empty */
};

/* A publish ended. Sent for every queued message exactly once (per process lifetime; a
 * message recovered from the store after a restart gets its event in the new process). */
struct tern_publish_event {
    uint64_t mid; /* the id tern_client_publish returned */
    uint8_t qos;
    uint8_t rc;                     /* reason code of PUBACK/PUBREC/PUBCOMP (0 for QoS 0 and 3.x);
                                       >= 0x80: the broker refused the message */
    const struct tern_props *props; /* the ack's properties (5.0), or NULL */
};

/* SUBACK or UNSUBACK received for a tern_client_subscribe/unsubscribe call. */
struct tern_sub_event {
    uint64_t mid;
    const uint8_t *rcs; /* one per filter: granted QoS or failure reason code
                           (UNSUBACK in 3.x has none: all 0x00) */
    size_t n;
    const struct tern_props *props; /* 5.0 properties, or NULL */
};

/* The connection ended (or a connect attempt failed). */
struct tern_disconnect_event {
    int err;                        /* 0: asked for by tern_client_disconnect; else the cause:
                                       -TERN_ESERVER (server DISCONNECT), -TERN_EREFUSED,
                                       -ETIMEDOUT (keep alive / connect timeout), -ECONNRESET,
                                       -ECONNREFUSED, -EPROTO, -TERN_EMALFORMED, -TERN_ETLS... */
    uint8_t rc;                     /* reason code of a DISCONNECT/CONNACK from the server */
    const struct tern_props *props; /* server DISCONNECT properties, or NULL */
    bool will_reconnect;            /* auto-reconnect is going to try again */
    uint32_t reconnect_in_ms;       /* when (if will_reconnect) */
};

/* One packet sent or received. pkt and raw (the whole frame as on the wire) are views valid
 * during the call. */
struct tern_trace_event {
    enum tern_trace_dir dir;
    uint8_t version;
    const struct tern_packet *pkt;
    const uint8_t *raw;
    size_t raw_len;
    int64_t mono_ns; /* CLOCK_MONOTONIC */
    int64_t real_ns; /* CLOCK_REALTIME (wall clock) */
};

/* Callbacks; any may be NULL. `ud` is opts.user_data. None runs with a library lock held. */
struct tern_client_callbacks {
    void (*on_connect)(tern_client *c, void *ud, const struct tern_connect_event *ev);
    /* A PUBLISH from the server: the whole packet as decoded, with the topic already resolved
     * from a Topic Alias, packet id, dup, retain and every property (raw and via iterators).
     * The QoS 1/2 acknowledgement is queued when the packet is processed (it may leave before
     * this runs); a QoS 2 message is delivered once even if the server repeats it. */
    void (*on_message)(tern_client *c, void *ud, const struct tern_publish *msg, uint8_t version);
    void (*on_publish)(tern_client *c, void *ud, const struct tern_publish_event *ev);
    void (*on_subscribe)(tern_client *c, void *ud, const struct tern_sub_event *ev);
    void (*on_unsubscribe)(tern_client *c, void *ud, const struct tern_sub_event *ev);
    void (*on_disconnect)(tern_client *c, void *ud, const struct tern_disconnect_event *ev);
    /* Every packet sent and received (for --trace). Costly: set only when wanted. */
    void (*on_trace)(tern_client *c, void *ud, const struct tern_trace_event *ev);
    /* libtern never writes to stderr itself. */
    void (*on_log)(tern_client *c, void *ud, int level, const char *msg);
};

/*
 * Client options. Fill with tern_client_opts_init() (defaults below), then set what you need.
 * Strings and property sets are copied by tern_client_new: the caller may free them after.
 */
struct tern_client_opts {
    /* where */
    const char *host; /* default "127.0.0.1"; name or address (getaddrinfo) */
    uint16_t port;    /* default 1883, or 8883 with TLS */
    /* the session */
    uint8_t version;         /* TERN_V31, TERN_V311 (default) or TERN_V5 */
    const char *client_id;   /* NULL/"": empty id (server assigns; 3.1 gets a random
                                "tern-XXXXXXXX" one since 3.1 forbids empty ids) */
    bool clean;              /* Clean Session / Clean Start, default true. On reconnects
                                5.0 clients send Clean Start 0 when session_expiry > 0. */
    uint32_t session_expiry; /* 5.0 Session Expiry Interval, seconds (0 default) */
    uint16_t keepalive;      /* seconds, default 60; 0 disables */
    const char *username;    /* NULL: none */
    const void *password;    /* NULL: none */
    size_t password_len;
    /* will (sent when will_topic is not NULL) */
    const char *will_topic; /* a topic name (no wildcards) */
    const void *will_payload;
    size_t will_payload_len;
    uint8_t will_qos;
    bool will_retain;
    const struct tern_props *will_props;    /* 5.0 Will Properties, or NULL */
    const struct tern_props *connect_props; /* 5.0 extra CONNECT properties, or NULL; fields
                                               set here win over session_expiry etc. */
    /* flow control */
    uint16_t max_inflight;        /* outgoing QoS 1/2 window, default 65535 (further capped
                                     by the server's Receive Maximum) */
    uint16_t receive_maximum;     /* 5.0 Receive Maximum we announce, default 65535 */
    uint16_t topic_alias_maximum; /* 5.0 aliases we accept from the server, default 16 */
    bool topic_alias_auto;        /* 5.0: give outgoing topics aliases automatically (the
                                     first distinct topics, up to the server's Topic Alias
                                     Maximum, at most 1024), default false */
    uint32_t max_packet_size;     /* largest packet we accept, default 0 = no limit
                                     (announced in 5.0 CONNECT when set) */
    size_t max_queued;            /* outgoing messages queued or in flight, default 100000 */
    size_t max_queued_bytes;      /* their payload+topic bytes, default 64 MiB */
    bool queue_qos0_offline;      /* buffer QoS 0 publishes while offline, default true */
    /* reconnect */
    bool auto_reconnect;         /* default true */
    uint32_t reconnect_min_ms;   /* first back-off, default 500 */
    uint32_t reconnect_max_ms;   /* cap, default 30000; each try doubles, +-25% jitter */
    uint32_t connect_timeout_ms; /* TCP+TLS+CONNACK, default 10000 */
    /* durable state (NULL: none) */
    const char *store_dir;           /* created if missing; one client per directory (locked) */
    enum tern_store_sync store_sync; /* default TERN_SYNC_BATCH */
    uint32_t store_sync_ms;          /* TERN_SYNC_BATCH: longest a message waits to reach the
                                        disk, default 10, at most 60000; 0: every loop turn */
    /* TLS (enabled when tls is true) */
    bool tls;
    const char *tls_ca_file;     /* PEM CA bundle; NULL and no ca_path: system defaults */
    const char *tls_ca_path;     /* directory of hashed CA certificates */
    const char *tls_cert_file;   /* client certificate (PEM), or NULL */
    const char *tls_key_file;    /* its private key (PEM), or NULL */
    const char *tls_server_name; /* SNI and name checked; default: host */
    bool tls_insecure;           /* do NOT check the server's name (chain is still checked
                                    unless tls_no_verify). Explicit, off by default. */
    bool tls_no_verify;          /* do NOT verify the certificate chain at all */
    const char *tls_version;     /* minimum: "tlsv1.2" (default) or "tlsv1.3" */
    /* callbacks */
    struct tern_client_callbacks cb;
    void *user_data;
};

/* Fill *o with the defaults documented above. */
void tern_client_opts_init(struct tern_client_opts *o);

/* ---- lifecycle ---------------------------------------------------------------------------- */

/* Validate opts and create a client (not connected). With a store, opens it and recovers the
 * messages a previous process left unfinished: they are queued again at once (and reported by
 * on_publish when they complete). Returns 0 or a negative error (see tern_client_last_error). */
int tern_client_new(const struct tern_client_opts *opts, tern_client **out);

/* Stop the thread if one runs, close the socket without DISCONNECT (the broker sends the will),
 * sync and close the store, free everything. Messages still queued are kept only in the store.
 * NULL is fine. Not from a callback. */
void tern_client_free(tern_client *c);

/* Start connecting (fd mode): resolve (blocking), open a non-blocking socket and begin the TCP
 * connect; CONNECT goes out when it is writable. Returns 0 (in progress) or an error. When it
 * fails and auto_reconnect is on, the client retries by itself (the error is also returned).
 * -EBUSY in thread mode (the network thread connects). Call it from the driving thread. */
int tern_client_connect(tern_client *c);

/* Send DISCONNECT (5.0: with reason code rc and props, may be NULL) after what is already
 * being written, then close; no reconnect after it. Queued messages stay queued (a later
 * tern_client_connect sends them). on_disconnect gets err 0. Returns 0 or -ENOTCONN. */
int tern_client_disconnect(tern_client *c, uint8_t rc, const struct tern_props *props);

/* Connection state. */
enum tern_client_state {
    TERN_CS_IDLE = 0,       /* never connected, or disconnected by the user */
    TERN_CS_CONNECTING = 1, /* TCP/TLS/CONNECT in progress */
    TERN_CS_CONNECTED = 2,  /* CONNACK accepted */
    TERN_CS_WAITING = 3,    /* lost; waiting to reconnect */
    TERN_CS_CLOSING = 4,    /* DISCONNECT being sent */
};
enum tern_client_state tern_client_state(const tern_client *c);

/* Protocol level in use (opts.version). */
uint8_t tern_client_version(const tern_client *c);

/* Messages queued or in flight, and their bytes. Either pointer may be NULL. */
void tern_client_queued(const tern_client *c, size_t *count, size_t *bytes);

/* ---- fd mode ------------------------------------------------------------------------------ */

enum { TERN_WANT_READ = 1, TERN_WANT_WRITE = 2 };

/* The socket to watch, or -1 when there is none (then wait only for the timeout). */
int tern_client_fd(const tern_client *c);
/* TERN_WANT_READ and/or TERN_WANT_WRITE (0 when there is no socket). */
unsigned tern_client_want(const tern_client *c);
/* Milliseconds until the client needs tern_client_on_timeout (keep alive, reconnect, connect
 * timeout): 0 = now, -1 = nothing scheduled. */
int tern_client_next_timeout_ms(const tern_client *c);

/* Handle readiness. Each returns 0, or a negative error when the connection was lost by it
 * (the loss is also reported through on_disconnect; reconnect is scheduled if enabled). */
int tern_client_on_readable(tern_client *c);
int tern_client_on_writable(tern_client *c);
int tern_client_on_timeout(tern_client *c);
/* All three as needed: events is a TERN_WANT_* mask of what the fd is ready for (0 if none). */
int tern_client_process(tern_client *c, unsigned events);
/* One step of a ready-made loop: poll() the fd for at most timeout_ms (-1: until something
 * happens; shorter if a timer is due), then process. Returns 0 or as tern_client_process. */
int tern_client_run(tern_client *c, int timeout_ms);

/* ---- thread mode -------------------------------------------------------------------------- */

/* Run a network thread that connects (with auto-reconnect as configured) and drives the
 * client; callbacks run on it. Returns 0, -EBUSY if already started, or an error. */
int tern_client_start(tern_client *c);
/* Stop and join the thread. If a tern_client_disconnect is pending it is flushed first (at
 * most 1 s). The client stays usable (fd mode or start again). Not from a callback. */
int tern_client_stop(tern_client *c);

/* ---- messaging ---------------------------------------------------------------------------- */

/* Queue a PUBLISH. topic: a valid topic name (UTF-8, no wildcards), or in 5.0 "" when props
 * carry a Topic Alias already known to the server. qos 0..2. props: 5.0 PUBLISH properties
 * (NULL: none; copied). On 0 the message is queued and *mid (may be NULL) holds its id; see the
 * caveats at the top of this file for the rejection codes. */
int tern_client_publish(tern_client *c, const char *topic, const void *payload, size_t len, int qos,
                        bool retain, const struct tern_props *props, uint64_t *mid);

/* Subscribe to n filters (codec entries: filter, qos, 5.0 options). Filters are validated with
 * the codec. Sent now if connected, else on connect. The client remembers acknowledged
 * subscriptions and subscribes again after a reconnect that did not resume the session. */
int tern_client_subscribe(tern_client *c, const struct tern_sub_entry *subs, size_t n,
                          const struct tern_props *props, uint64_t *mid);
/* Convenience: one filter with QoS qos and default options. */
int tern_client_subscribe1(tern_client *c, const char *filter, int qos, uint64_t *mid);
int tern_client_unsubscribe(tern_client *c, const char *const *filters, size_t n,
                            const struct tern_props *props, uint64_t *mid);

#ifdef __cplusplus
}
#endif
#endif
