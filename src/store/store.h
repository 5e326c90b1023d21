/* SPDX-License-Identifier: MIT */
/*
 * src/store/store.h - the storage interface of the broker: what must survive a restart
 * (persistent sessions, their subscriptions, queued and in-flight messages, retained
 * messages) is reported here as it changes. The broker keeps its working state in memory
 * either way; a store only has to be able to give it back at start-up.
 *
 * The in-memory store (store_mem.c) remembers nothing across a restart: that is what this
 * issue ships, and it lets protocol code call the interface at every point a durable store
 * (LMDB, a later issue) will need, without touching protocol code then.
 *
 * Calls are made from worker threads; an implementation batches them (one commit per loop
 * iteration) and reports durability through `on_commit`, after which acknowledgements that
 * depend on it may be sent. The memory store commits at once.
 *
 * Owns: nothing the broker owns; records are copied by the implementation if it keeps them.
 * Thread: any worker; implementations serialise internally.
 */
#ifndef TN_STORE_H
#define TN_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "tern/codec.h"

struct tn_store;

/* A message as stored: the broker's tn_msg encodes itself into this flat form. */
struct tn_store_msg {
    uint64_t id; /* broker-wide unique message id */
    tern_slice topic, payload, props;
    uint8_t qos;
    bool retain;
    uint64_t expiry_wall_s; /* 0: never */
};

struct tn_store_ops {
    const char *name;
    bool durable; /* false: acknowledgements need not wait for commits */
    void (*session_put)(struct tn_store *s, tern_slice client_id, uint32_t expiry_s);
    void (*session_del)(struct tn_store *s, tern_slice client_id);
    void (*sub_put)(struct tn_store *s, tern_slice client_id, tern_slice filter, uint8_t opts,
                    uint32_t sub_id);
    void (*sub_del)(struct tn_store *s, tern_slice client_id, tern_slice filter);
    void (*msg_queue)(struct tn_store *s, tern_slice client_id, const struct tn_store_msg *m);
    void (*msg_done)(struct tn_store *s, tern_slice client_id, uint64_t msg_id);
    void (*retain_put)(struct tn_store *s, const struct tn_store_msg *m);
    void (*retain_del)(struct tn_store *s, tern_slice topic);
    void (*free)(struct tn_store *s);
};

struct tn_store {
    const struct tn_store_ops *ops;
};

/* The in-memory store (keeps nothing; never fails). */
struct tn_store *tn_store_mem_new(void);

#endif
