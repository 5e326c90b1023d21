/* SPDX-License-Identifier: MIT */
/*
 * src/broker/retained.h - the retained-message store: a trie keyed by topic name whose values
 * are opaque refcounted message pointers (the broker's struct tn_msg).
 *
 * Owns: the trie and one reference on each stored message.
 * Thread: any; a writer-preferring pthread rwlock inside (collect/foreach/count shared,
 * set exclusive). The ref/unref callbacks may run on any calling thread (the message's
 * refcount must be atomic); ref runs under the lock, unref never does.
 * Spec: MQTT 5.0 3.3.1.3 (RETAIN), 4.7 (matching) [MQTT-4.7.2-1].
 */
#ifndef TN_RETAINED_H
#define TN_RETAINED_H

#include <stddef.h>
#include <sys/types.h>

#include "tern/codec.h"

struct tn_retained;

/* A new empty store, or NULL when out of memory. ref/unref add and drop one reference on a
 * message. */
struct tn_retained *tn_retained_new(void (*ref)(void *msg), void (*unref)(void *msg));
/* Unrefs every message and frees the store. Accepts NULL. No other thread may be using it. */
void tn_retained_free(struct tn_retained *rs);

/* Sets (msg != NULL: takes its own ref, drops the ref of any previous message) or clears
 * (msg == NULL; clearing an absent topic is fine) the retained message of topic NAME `topic`.
 * Returns 0, -EINVAL (invalid topic name), -ENOMEM (store unchanged). */
int tn_retained_set(struct tn_retained *rs, tern_slice topic, void *msg);

/* Collects every retained message whose topic matches plain filter `filter` into a malloc'd
 * array, with a new ref on each. Returns the count (*out NULL when 0), -EINVAL (invalid or
 * "$share/" filter) or -ENOMEM. The caller unrefs each and free()s the array. Filters starting
 * with a wildcard do not match '$' topics [MQTT-4.7.2-1]. Iterative: any depth, any size. */
ssize_t tn_retained_collect(struct tn_retained *rs, tern_slice filter, void ***out);

/* Messages stored. */
size_t tn_retained_count(struct tn_retained *rs);
/* Trie nodes besides the root (debugging, tests). */
size_t tn_retained_nodes(struct tn_retained *rs);

/* Visits every retained message with its topic (valid during the call) under the read lock;
 * fn must not call back into rs. Allocates a 64 KiB topic buffer; returns 0 or -ENOMEM. */
int tn_retained_foreach(struct tn_retained *rs, void (*fn)(void *ctx, tern_slice topic, void *msg),
                        void *ctx);

#endif
