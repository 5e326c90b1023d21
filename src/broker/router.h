/* SPDX-License-Identifier: MIT */
/*
 * src/broker/router.h - the subscription trie: which subscribers (and which shared-subscription
 * groups) a PUBLISH topic reaches. Also declares the literal-children map (tn_lmap_*) that the
 * router and the retained store (retained.c) both build their tries from.
 *
 * Owns: the trie nodes, subscriber entries and shared groups (all inside struct tn_router).
 * Thread: any. Every worker matches concurrently (read lock); subscribe/unsubscribe take the
 * write lock (writer-preferring, so a stream of matches cannot starve them). Nothing here
 * blocks except on that lock. architecture.md asks for RCU; see the note in router.c.
 * Spec: MQTT 5.0 4.7 (topic names and filters), 4.8.2 (shared subscriptions), 3.8.4.
 */
#ifndef TN_ROUTER_H
#define TN_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tern/codec.h"

struct tn_router;
struct tn_share;

/* What a subscription was granted (SUBSCRIBE options, MQTT 5.0 3.8.3.1). */
struct tn_sub_opts {
    uint8_t qos;
    bool no_local;
    bool rap;        /* retain as published */
    uint8_t rh;      /* retain handling */
    uint32_t sub_id; /* 0 = none */
};

/* A subscriber is an opaque 64-bit handle chosen by the broker (it packs worker, slot,
 * generation); the router never interprets it. */

/* A new, empty router, or NULL when out of memory. */
struct tn_router *tn_router_new(void);
/* Frees the router and everything in it. Accepts NULL. No other thread may be using it. */
void tn_router_free(struct tn_router *r);

/* Adds (or replaces) subscriber `sub`'s subscription to `filter`, a topic filter or
 * "$share/GROUP/FILTER" (validated with tern_topic_filter_is_valid / tern_shared_parse).
 * Returns 1 when `sub` had no subscription to this exact filter (and group), 0 when it had one
 * and its options were replaced [MQTT-3.8.4-3], -EINVAL for an invalid filter, -ENOMEM (the
 * router is then unchanged). Borrows filter and o. Takes the write lock. */
int tn_router_subscribe(struct tn_router *r, tern_slice filter, uint64_t sub,
                        const struct tn_sub_opts *o);

/* Removes it again: 0, -ENOENT when `sub` had no such subscription, -EINVAL for an invalid
 * filter. Nodes left empty are freed. Takes the write lock. */
int tn_router_unsubscribe(struct tn_router *r, tern_slice filter, uint64_t sub);

/* Called once per matching subscription. For a shared group, one member is chosen per call
 * (round robin) and `share` identifies the group; `share` is NULL for ordinary subscriptions.
 * `o` and `share` are valid only during the call. */
typedef void (*tn_match_fn)(void *ctx, uint64_t sub, const struct tn_sub_opts *o,
                            const struct tn_share *share);

/* Calls fn for every subscription matching topic NAME `topic` (which the caller has
 * validated). A subscriber holding two matching filters ("a/+" and "a/#") gets two calls; the
 * broker merges them. Filters starting with '+' or '#' do not match topics starting with '$'
 * [MQTT-4.7.2-1]. Runs under the read lock: fn must not call into the router. Allocates
 * nothing, uses O(1) stack whatever the number of levels. */
void tn_router_match(struct tn_router *r, tern_slice topic, tn_match_fn fn, void *ctx);

/* The group name ("G" of "$share/G/F") and full filter ("$share/G/F") of a group passed to a
 * tn_match_fn. Valid only while that call runs (copy them to keep them). */
tern_slice tn_router_share_name(const struct tn_share *share);
tern_slice tn_router_share_filter(const struct tn_share *share);

/* Re-send support: picks a member of shared subscription `share_filter` ("$share/G/F") other
 * than `exclude`, round robin. 0 with *out and *o filled, -ENOENT when the group has no other
 * member (or does not exist), -EINVAL when share_filter is not a valid shared filter. */
int tn_router_share_pick(struct tn_router *r, tern_slice share_filter, uint64_t exclude,
                         uint64_t *out, struct tn_sub_opts *o);

/* Subscriptions held (ordinary ones plus shared-group memberships), for $SYS. */
size_t tn_router_count(struct tn_router *r);
/* Trie nodes allocated besides the root (debugging, tests: 0 once everything is gone). */
size_t tn_router_nodes(struct tn_router *r);

/* ---- internal: the literal-children map, shared by router.c and retained.c ----------------
 *
 * A trie node embeds struct tn_lnode as its LAST member (the level's bytes follow it). Its
 * children are kept in the node itself when there is one, in a small array scanned linearly
 * when there are at most TN_LMAP_LINEAR_MAX, and in an open-addressing hash table (linear
 * probing, power-of-two size, keyed by a seeded hash) beyond that, so 100,000
 * `devices/<id>/state` levels under one node stay O(1) to find. Not locked: the trie's owner
 * holds its lock. */
#define TN_LMAP_LINEAR_MAX 8

struct tn_lnode {
    struct tn_lnode *parent; /* NULL for a root */
    union {
        struct tn_lnode *one;  /* cap == 1 */
        struct tn_lnode **arr; /* cap 2..LINEAR_MAX: compact array; above: hash table */
    } kids;
    uint32_t nkids, cap;
    uint32_t hash; /* of key, with the trie's seed */
    uint16_t klen; /* a level is at most 65535 bytes: a topic is */
    uint8_t kind;  /* free for the trie's use */
    uint8_t spare;
    uint8_t key[];
};

/* A seed for one trie (from getrandom; keeps peers from choosing colliding level names). */
uint64_t tn_lmap_seed(void);
uint32_t tn_lmap_hash(uint64_t seed, const uint8_t *k, size_t n);
/* The child of p whose level is k[0..n), or NULL. */
struct tn_lnode *tn_lmap_find(const struct tn_lnode *p, const uint8_t *k, size_t n, uint64_t seed);
/* Adds c (key and hash already set, no equal key present) under p; sets c->parent.
 * 0 or -ENOMEM (nothing changed). */
int tn_lmap_insert(struct tn_lnode *p, struct tn_lnode *c);
/* Removes child c from p. Never fails (shrinking that cannot allocate keeps the old table). */
void tn_lmap_remove(struct tn_lnode *p, struct tn_lnode *c);
/* The child after `after` in p's iteration order (the first when after is NULL), or NULL.
 * Stable while p is not modified. */
struct tn_lnode *tn_lmap_next(const struct tn_lnode *p, const struct tn_lnode *after);
/* Frees p's child storage (not the children). */
void tn_lmap_fini(struct tn_lnode *p);

#endif
