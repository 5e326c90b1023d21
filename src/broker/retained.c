/* SPDX-License-Identifier: MIT */
/*
 * src/broker/retained.c - the retained-message store (see retained.h): a trie with one node
 * per topic level, built on the literal-children map of router.c (tn_lmap_*).
 *
 * Owns: every node and one reference on each stored message.
 * Thread: any; a writer-preferring pthread rwlock inside. architecture.md 3 plans RCU here;
 * see router.c.
 * Spec: MQTT 5.0 3.3.1.3 (RETAIN), 4.7 (matching) [MQTT-4.7.2-1].
 *
 * A node is 40 bytes plus its level's bytes (a single child is kept inline, so a chain like
 * `devices/<id>/state` costs two small allocations per message plus a table slot). Walks
 * (collect, foreach, free) never recurse: they move through parent pointers and ask the
 * parent's map for the next sibling, so a million messages under `#`, or a topic of 30,000
 * levels, need no stack.
 */
#include "retained.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "router.h"

struct knode {
    void *msg;          /* one reference, or NULL */
    struct tn_lnode ln; /* last: the level's bytes follow */
};

#define KN(l) ((struct knode *)((char *)(l)-offsetof(struct knode, ln)))

struct tn_retained {
    pthread_rwlock_t lock;
    uint64_t seed;
    size_t count; /* messages: under the lock */
    size_t nodes; /* nodes besides the root: under the lock */
    void (*ref)(void *msg);
    void (*unref)(void *msg);
    struct knode *root;
};

#define TOPIC_MAX 65535

struct tn_retained *tn_retained_new(void (*ref)(void *msg), void (*unref)(void *msg))
{
    if (!ref || !unref)
        return NULL;
    struct tn_retained *rs = calloc(1, sizeof *rs);
    if (!rs)
        return NULL;
    rs->seed = tn_lmap_seed();
    rs->ref = ref;
    rs->unref = unref;
    rs->root = calloc(1, sizeof *rs->root);
    pthread_rwlockattr_t a;
    if (!rs->root || pthread_rwlockattr_init(&a) != 0)
        goto fail;
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&rs->lock, &a);
    pthread_rwlockattr_destroy(&a);
    if (rc != 0)
        goto fail;
    return rs;
fail:
    free(rs->root);
    free(rs);
    return NULL;
}

static void knode_free(struct knode *x)
{
    tn_lmap_fini(&x->ln);
    free(x);
}

void tn_retained_free(struct tn_retained *rs)
{
    if (!rs)
        return;
    /* No recursion and no per-child removal (which would rescan big tables): a to-do list of
     * nodes threaded through their now useless parent pointers. */
    struct tn_lnode *todo = &rs->root->ln;
    todo->parent = NULL;
    while (todo) {
        struct knode *x = KN(todo);
        todo = todo->parent;
        for (struct tn_lnode *c = tn_lmap_next(&x->ln, NULL); c; c = tn_lmap_next(&x->ln, c)) {
            c->parent = todo;
            todo = c;
        }
        if (x->msg)
            rs->unref(x->msg);
        knode_free(x);
    }
    pthread_rwlock_destroy(&rs->lock);
    free(rs);
}

/* Frees x and its ancestors while they hold nothing. */
static void ret_prune(struct tn_retained *rs, struct knode *x)
{
    while (x != rs->root && !x->msg && x->ln.nkids == 0) {
        struct knode *p = KN(x->ln.parent);
        tn_lmap_remove(&p->ln, &x->ln);
        knode_free(x);
        rs->nodes--;
        x = p;
    }
}

/* The node of topic t, created with its ancestors when `create`. NULL when absent or out of
 * memory (then nothing new is left behind). */
static struct knode *ret_walk(struct tn_retained *rs, tern_slice t, bool create)
{
    struct knode *x = rs->root;
    size_t pos = 0;
    for (;;) {
        const uint8_t *s = t.p + pos;
        const uint8_t *e = memchr(s, '/', t.n - pos);
        size_t n = e ? (size_t)(e - s) : t.n - pos;
        struct tn_lnode *l = tn_lmap_find(&x->ln, s, n, rs->seed);
        if (!l) {
            if (!create)
                return NULL;
            struct knode *c = calloc(1, sizeof *c + n);
            if (!c) {
                ret_prune(rs, x);
                return NULL;
            }
            c->ln.klen = (uint16_t)n;
            if (n)
                memcpy(c->ln.key, s, n);
            c->ln.hash = tn_lmap_hash(rs->seed, s, n);
            if (tn_lmap_insert(&x->ln, &c->ln) < 0) {
                free(c);
                ret_prune(rs, x);
                return NULL;
            }
            rs->nodes++;
            l = &c->ln;
        }
        x = KN(l);
        if (!e)
            return x;
        pos += n + 1;
    }
}

int tn_retained_set(struct tn_retained *rs, tern_slice topic, void *msg)
{
    if (!topic.p || !tern_topic_name_is_valid(topic.p, topic.n) || topic.n > TOPIC_MAX)
        return -EINVAL;
    void *old = NULL;
    if (msg)
        rs->ref(msg);
    pthread_rwlock_wrlock(&rs->lock);
    struct knode *x = ret_walk(rs, topic, msg != NULL);
    if (msg && !x) {
        pthread_rwlock_unlock(&rs->lock);
        rs->unref(msg);
        return -ENOMEM;
    }
    if (x) {
        old = x->msg;
        x->msg = msg;
        if (!old && msg)
            rs->count++;
        else if (old && !msg)
            rs->count--;
        if (!msg)
            ret_prune(rs, x);
    }
    pthread_rwlock_unlock(&rs->lock);
    /* Outside the lock: the last unref may free a large message. */
    if (old)
        rs->unref(old);
    return 0;
}

/* ---- collect ------------------------------------------------------------------------------- */

struct collect {
    struct tn_retained *rs;
    struct knode *root;
    bool skip_dollar; /* the filter starts with a wildcard [MQTT-4.7.2-1] */
    void **v;
    size_t n, cap;
};

static int coll_add(struct collect *c, void *msg)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        void **nv = realloc(c->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        c->v = nv;
        c->cap = nc;
    }
    c->rs->ref(msg);
    c->v[c->n++] = msg;
    return 0;
}

/* p's child after `after`, leaving out the root's '$' children when the filter starts with a
 * wildcard. */
static struct tn_lnode *coll_next(const struct collect *c, const struct knode *p,
                                  const struct tn_lnode *after)
{
    struct tn_lnode *k = tn_lmap_next(&p->ln, after);
    if (c->skip_dollar && p == c->root)
        while (k && k->klen && k->key[0] == '$')
            k = tn_lmap_next(&p->ln, k);
    return k;
}

/* '#' at node s: s itself ("a/#" matches "a" [MQTT-4.7.1-2]) and everything below, pre-order. */
static int coll_subtree(struct collect *c, struct knode *s)
{
    struct knode *x = s;
    for (;;) {
        if (x->msg && coll_add(c, x->msg) < 0)
            return -ENOMEM;
        struct tn_lnode *k = coll_next(c, x, NULL);
        if (k) {
            x = KN(k);
            continue;
        }
        for (;;) {
            if (x == s)
                return 0;
            struct knode *p = KN(x->ln.parent);
            k = coll_next(c, p, &x->ln);
            if (k)
                break;
            x = p;
        }
        x = KN(k);
    }
}

static size_t filter_level_start(const uint8_t *f, size_t e)
{
    const uint8_t *q = e ? memrchr(f, '/', e) : NULL;
    return q ? (size_t)(q - f) + 1 : 0;
}

/* The filter walk: like the router's match, with the roles swapped (the wildcards are in the
 * key, the trie holds names). x has consumed the filter levels before f[pos]. */
static int coll_walk(struct collect *c, tern_slice filter)
{
    const uint8_t *f = filter.p;
    const size_t len = filter.n;
    struct knode *x = c->root;
    size_t pos = 0;
    for (;;) {
        struct tn_lnode *k = NULL;
        size_t next = 0;
        if (pos > len) {
            if (x->msg && coll_add(c, x->msg) < 0)
                return -ENOMEM;
        } else {
            const uint8_t *e = memchr(f + pos, '/', len - pos);
            size_t end = e ? (size_t)(e - f) : len;
            next = end + 1;
            if (end - pos == 1 && f[pos] == '#') {
                if (coll_subtree(c, x) < 0)
                    return -ENOMEM;
            } else if (end - pos == 1 && f[pos] == '+') {
                k = coll_next(c, x, NULL);
            } else {
                k = tn_lmap_find(&x->ln, f + pos, end - pos, c->rs->seed);
            }
        }
        if (k) {
            x = KN(k);
            pos = next;
            continue;
        }
        /* Backtrack: under a '+' level try the next sibling, otherwise go up. */
        for (;;) {
            if (x == c->root)
                return 0;
            struct knode *p = KN(x->ln.parent);
            size_t ppos = filter_level_start(f, pos - 1);
            if (f[ppos] == '+') {
                k = coll_next(c, p, &x->ln);
                if (k)
                    break;
            }
            x = p;
            pos = ppos;
        }
        x = KN(k); /* same level consumed: pos unchanged */
    }
}

ssize_t tn_retained_collect(struct tn_retained *rs, tern_slice filter, void ***out)
{
    *out = NULL;
    tern_slice g, pf;
    if (!filter.p || !tern_topic_filter_is_valid(filter.p, filter.n) ||
        tern_shared_parse(filter, &g, &pf) != 0)
        return -EINVAL;
    struct collect c = {
        .rs = rs,
        .root = rs->root,
        .skip_dollar = filter.p[0] == '+' || filter.p[0] == '#',
    };
    pthread_rwlock_rdlock(&rs->lock);
    int rc = coll_walk(&c, filter);
    pthread_rwlock_unlock(&rs->lock);
    if (rc < 0) {
        for (size_t i = 0; i < c.n; i++)
            rs->unref(c.v[i]);
        free(c.v);
        return rc;
    }
    if (c.n == 0) {
        free(c.v);
        return 0;
    }
    *out = c.v;
    return (ssize_t)c.n;
}

size_t tn_retained_count(struct tn_retained *rs)
{
    pthread_rwlock_rdlock(&rs->lock);
    size_t n = rs->count;
    pthread_rwlock_unlock(&rs->lock);
    return n;
}

size_t tn_retained_nodes(struct tn_retained *rs)
{
    pthread_rwlock_rdlock(&rs->lock);
    size_t n = rs->nodes;
    pthread_rwlock_unlock(&rs->lock);
    return n;
}

/* ---- foreach ------------------------------------------------------------------------------- */

/* Appends child k's level to the topic in buf (a '/' first unless the parent is the root). */
static void path_push(uint8_t *buf, size_t *plen, bool under_root, const struct tn_lnode *k)
{
    if (!under_root)
        buf[(*plen)++] = '/';
    memcpy(buf + *plen, k->key, k->klen);
    *plen += k->klen;
}

int tn_retained_foreach(struct tn_retained *rs, void (*fn)(void *ctx, tern_slice topic, void *msg),
                        void *ctx)
{
    /* Every stored topic passed tern_topic_name_is_valid, so it fits in TOPIC_MAX bytes. */
    uint8_t *buf = malloc(TOPIC_MAX + 1);
    if (!buf)
        return -ENOMEM;
    size_t plen = 0;
    pthread_rwlock_rdlock(&rs->lock);
    struct knode *root = rs->root, *x = root;
    for (;;) {
        if (x->msg)
            fn(ctx, (tern_slice){buf, plen}, x->msg);
        struct tn_lnode *k = tn_lmap_next(&x->ln, NULL);
        if (k) {
            path_push(buf, &plen, x == root, k);
            x = KN(k);
            continue;
        }
        for (;;) {
            if (x == root)
                goto done;
            struct knode *p = KN(x->ln.parent);
            plen -= x->ln.klen + (p != root ? 1u : 0u);
            k = tn_lmap_next(&p->ln, &x->ln);
            if (k) {
                path_push(buf, &plen, p == root, k);
                break;
            }
            x = p;
        }
        x = KN(k);
    }
done:
    pthread_rwlock_unlock(&rs->lock);
    free(buf);
    return 0;
}
