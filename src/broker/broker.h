/* SPDX-License-Identifier: MIT */
/*
 * src/broker/broker.h - the broker core as the daemon sees it: settings, start, stop, reload.
 *
 * ternd (src/ternd) turns its configuration file into a struct tn_broker_conf; everything
 * protocol-related lives below this header.
 *
 * Owns: struct tn_broker_conf values handed to it (copied).
 * Thread: tn_broker_new/start/stop/reload/free from the main thread only.
 */
#ifndef TN_BROKER_H
#define TN_BROKER_H

#include <stdbool.h>
#include <stdint.h>

#define TN_BROKER_MAX_LISTENERS 16

struct tn_broker_listener {
    char host[64]; /* numeric address; "" = every address */
    uint16_t port; /* 0 = any free port (the bound port is logged and readable) */
};

struct tn_broker_conf {
    struct tn_broker_listener listeners[TN_BROKER_MAX_LISTENERS];
    int n_listeners;
    unsigned workers; /* 0: one per online CPU */
    bool allow_anonymous;
    uint32_t max_connections;       /* 0: unlimited */
    uint16_t max_keepalive;         /* 65535: no limit */
    uint32_t max_packet_size;       /* 0: the protocol's limit */
    uint32_t message_size_limit;    /* 0: none */
    uint16_t max_inflight_messages; /* 0: 65535 */
    uint32_t max_queued_messages;   /* 0: unlimited */
    uint64_t max_queued_bytes;      /* 0: unlimited */
    bool queue_qos0_messages;
    bool retain_available;
    int64_t persistent_client_expiration; /* seconds; < 0: never */
    uint32_t sys_interval;                /* seconds; 0: no $SYS */
    bool connection_messages;
    uint16_t max_topic_alias;   /* aliases a client may set (Topic Alias Maximum we announce) */
    char server_reference[256]; /* "": none; else sent with DISCONNECT 0x9C at a graceful stop */
    uint8_t max_qos;            /* 0..2: highest QoS a client may publish, subscribe (granted)
                                   and use for its will; read at CONNECT for that connection */
    bool allow_zero_length_clientid; /* false: refuse an empty client id instead of assigning */
    char auto_id_prefix[64];         /* assigned client ids: prefix + 16 hex digits */
    bool set_tcp_nodelay;            /* TCP_NODELAY on accepted sockets */
    bool upgrade_outgoing_qos;       /* non-standard: deliver at the subscription's QoS */
};

void tn_broker_conf_defaults(struct tn_broker_conf *c);

struct tn_broker;

/* Create workers and listeners (they listen at once). Returns NULL and an errno-style message
 * in err on failure. */
struct tn_broker *tn_broker_new(const struct tn_broker_conf *conf, char *err, unsigned errlen);
/* Start the worker threads. */
int tn_broker_start(struct tn_broker *b);
/* The port a listener actually bound (for listeners configured with port 0). */
uint16_t tn_broker_port(const struct tn_broker *b, int listener);
/* Apply the settings that can change while running (everything except listeners and
 * workers). */
void tn_broker_reload(struct tn_broker *b, const struct tn_broker_conf *conf);
/* Graceful stop: 5.0 clients get DISCONNECT 0x8B, connections are closed, threads joined. */
void tn_broker_stop(struct tn_broker *b);
void tn_broker_free(struct tn_broker *b);

#endif
