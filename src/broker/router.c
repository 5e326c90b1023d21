/* SPDX-License-Identifier: MIT */
/*
 * src/broker/router.c - the subscription trie (see router.h) and the literal-children map the
 * retained store shares.
 *
 * Owns: every node, subscriber array and shared group of a struct tn_router.
 * Thread: any; a pthread rwlock inside the router. Matching takes it shared, subscribe and
 * unsubscribe exclusive. The lock prefers writers so a steady stream of matches from every
 * worker cannot starve a SUBSCRIBE. architecture.md 3 plans RCU (liburcu QSBR) here; the lock
 * is the first step the task asked for, and the API (callbacks under the lock, no pointers
 * escaping it) does not change when it is replaced.
 * Spec: MQTT 5.0 4.7 (topic names and filters), 4.8.2 (shared subscriptions), 3.8.4.
 *
 * Shape: one node per filter level. A node has its literal children (tn_lmap), one '+' child,
 * one '#' child, the ordinary subscribers of the filter ending there and its shared groups.
 * Every node keeps its parent pointer, which is what lets matching walk the trie without a
 * stack: a topic may have 65535 levels and so may a filter, and backtracking recomputes the
 * level a node consumed by scanning the topic backwards instead of remembering it. Matching
 * therefore uses O(1) memory and visits each matching node once.
 */
#include "router.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* ---- literal-children map ------------------------------------------------------------------ */

#define LMAP_TABLE_MIN 32

uint64_t tn_lmap_seed(void)
{
    uint64_t s = 0;
    if (getrandom(&s, sizeof s, GRND_NONBLOCK) != (ssize_t)sizeof s) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)(uintptr_t)&s;
    }
    return s;
}

static inline uint64_t lmap_mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

/* Fast seeded hash of a level (not cryptographic: the seed only keeps a peer from picking a
 * fixed set of colliding names offline). */
uint32_t tn_lmap_hash(uint64_t seed, const uint8_t *k, size_t n)
{
    uint64_t h = seed ^ ((uint64_t)n * 0x9e3779b97f4a7c15ULL);
    while (n >= 8) {
        uint64_t w;
        memcpy(&w, k, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ULL;
        h ^= h >> 29;
        k += 8;
        n -= 8;
    }
    uint64_t w = 0;
    if (n)
        memcpy(&w, k, n);
    return (uint32_t)lmap_mix(h ^ w);
}

static inline bool lmap_key_eq(const struct tn_lnode *c, const uint8_t *k, size_t n)
{
    return c->klen == n && (n == 0 || memcmp(c->key, k, n) == 0);
}

struct tn_lnode *tn_lmap_find(const struct tn_lnode *p, const uint8_t *k, size_t n, uint64_t seed)
{
    if (p->cap == 0)
        return NULL;
    if (p->cap == 1)
        return lmap_key_eq(p->kids.one, k, n) ? p->kids.one : NULL;
    struct tn_lnode **a = p->kids.arr;
    if (p->cap <= TN_LMAP_LINEAR_MAX) {
        for (uint32_t i = 0; i < p->nkids; i++)
            if (lmap_key_eq(a[i], k, n))
                return a[i];
        return NULL;
    }
    uint32_t h = tn_lmap_hash(seed, k, n), mask = p->cap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        struct tn_lnode *c = a[i];
        if (!c)
            return NULL;
        if (c->hash == h && lmap_key_eq(c, k, n))
            return c;
    }
}

static void lmap_table_put(struct tn_lnode **t, uint32_t cap, struct tn_lnode *c)
{
    uint32_t i = c->hash & (cap - 1);
    while (t[i])
        i = (i + 1) & (cap - 1);
    t[i] = c;
}

static uint32_t lmap_table_slot(const struct tn_lnode *p, const struct tn_lnode *c)
{
    uint32_t mask = p->cap - 1, i = c->hash & mask;
    while (p->kids.arr[i] != c)
        i = (i + 1) & mask;
    return i;
}

/* Moves the children into storage of capacity newcap (1: inline, 2..LINEAR_MAX: array,
 * above: table). Only newcap >= 2 allocates; on failure nothing changes. */
static int lmap_resize(struct tn_lnode *p, uint32_t newcap)
{
    struct tn_lnode **nt = NULL, *one = NULL;
    if (newcap >= 2) {
        nt = calloc(newcap, sizeof *nt);
        if (!nt)
            return -ENOMEM;
    }
    uint32_t j = 0;
    uint32_t scan = p->cap <= TN_LMAP_LINEAR_MAX ? p->nkids : p->cap;
    for (uint32_t i = 0; i < scan; i++) {
        struct tn_lnode *c = p->cap == 1 ? p->kids.one : p->kids.arr[i];
        if (!c)
            continue;
        if (newcap == 1)
            one = c;
        else if (newcap <= TN_LMAP_LINEAR_MAX)
            nt[j++] = c;
        else
            lmap_table_put(nt, newcap, c);
    }
    if (p->cap >= 2)
        free(p->kids.arr);
    p->cap = newcap;
    if (newcap == 1)
        p->kids.one = one;
    else
        p->kids.arr = nt;
    return 0;
}

int tn_lmap_insert(struct tn_lnode *p, struct tn_lnode *c)
{
    uint32_t newcap = 0;
    if (p->cap == 1)
        newcap = 2;
    else if (p->cap >= 2 && p->cap <= TN_LMAP_LINEAR_MAX && p->nkids == p->cap)
        newcap = p->cap * 2 <= TN_LMAP_LINEAR_MAX ? p->cap * 2 : LMAP_TABLE_MIN;
    else if (p->cap > TN_LMAP_LINEAR_MAX && (uint64_t)(p->nkids + 1) * 4 > (uint64_t)p->cap * 3)
        newcap = p->cap * 2;
    if (newcap) {
        if (newcap < p->cap) /* uint32 overflow: 2^31 children */
            return -ENOMEM;
        int rc = lmap_resize(p, newcap);
        if (rc < 0)
            return rc;
    }
    if (p->cap == 0) {
        p->kids.one = c;
        p->cap = 1;
    } else if (p->cap <= TN_LMAP_LINEAR_MAX) {
        p->kids.arr[p->nkids] = c;
    } else {
        lmap_table_put(p->kids.arr, p->cap, c);
    }
    p->nkids++;
    c->parent = p;
    return 0;
}

void tn_lmap_remove(struct tn_lnode *p, struct tn_lnode *c)
{
    if (p->cap == 1) {
        p->kids.one = NULL;
        p->cap = 0;
        p->nkids = 0;
        return;
    }
    struct tn_lnode **a = p->kids.arr;
    if (p->cap <= TN_LMAP_LINEAR_MAX) {
        uint32_t i = 0;
        while (a[i] != c)
            i++;
        a[i] = a[p->nkids - 1];
        a[p->nkids - 1] = NULL;
        p->nkids--;
        if (p->nkids == 1)
            (void)lmap_resize(p, 1);
        else if (p->nkids * 4 <= p->cap && p->cap > 2)
            (void)lmap_resize(p, p->cap / 2); /* failure keeps the bigger array */
        return;
    }
    /* Linear probing: backward-shift deletion keeps every probe chain unbroken. */
    uint32_t mask = p->cap - 1, i = lmap_table_slot(p, c), j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!a[j])
            break;
        uint32_t k = a[j]->hash & mask;
        /* a[j] may move to the hole at i unless its home k lies cyclically in (i, j]. */
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            a[i] = a[j];
            i = j;
        }
    }
    a[i] = NULL;
    p->nkids--;
    if (p->nkids <= TN_LMAP_LINEAR_MAX / 2)
        (void)lmap_resize(p, TN_LMAP_LINEAR_MAX);
    else if (p->cap > LMAP_TABLE_MIN && (uint64_t)p->nkids * 8 < p->cap)
        (void)lmap_resize(p, p->cap / 4 > LMAP_TABLE_MIN ? p->cap / 4 : LMAP_TABLE_MIN);
}

struct tn_lnode *tn_lmap_next(const struct tn_lnode *p, const struct tn_lnode *after)
{
    if (p->cap == 0)
        return NULL;
    if (p->cap == 1)
        return after ? NULL : p->kids.one;
    struct tn_lnode **a = p->kids.arr;
    if (p->cap <= TN_LMAP_LINEAR_MAX) {
        if (!after)
            return p->nkids ? a[0] : NULL;
        uint32_t i = 0;
        while (a[i] != after)
            i++;
        return i + 1 < p->nkids ? a[i + 1] : NULL;
    }
    for (uint32_t i = after ? lmap_table_slot(p, after) + 1 : 0; i < p->cap; i++)
        if (a[i])
            return a[i];
    return NULL;
}

void tn_lmap_fini(struct tn_lnode *p)
{
    if (p->cap >= 2)
        free(p->kids.arr);
    p->kids.arr = NULL;
    p->cap = p->nkids = 0;
}

/* ---- subscriber sets ------------------------------------------------------------------------ */

/* An array of {subscriber, options}; past SUBSET_INDEX_MIN entries an open-addressing index
 * (positions + 1, 0 = empty) finds a subscriber in O(1), so 100,000 clients subscribing to the
 * same filter do not cost O(n^2). Matching only ever scans the array. */
#define SUBSET_INDEX_MIN 16

struct sub_ent {
    uint64_t sub;
    struct tn_sub_opts o;
};

struct subset {
    struct sub_ent *v;
    uint32_t *idx;
    uint32_t n, cap, icap;
};

static inline uint32_t subset_hash(uint64_t sub)
{
    return (uint32_t)lmap_mix(sub);
}

static void subset_fini(struct subset *s)
{
    free(s->v);
    free(s->idx);
    memset(s, 0, sizeof *s);
}

static uint32_t subset_slot(const struct subset *s, uint64_t sub, bool *found)
{
    uint32_t mask = s->icap - 1;
    for (uint32_t i = subset_hash(sub) & mask;; i = (i + 1) & mask) {
        if (!s->idx[i] || s->v[s->idx[i] - 1].sub == sub) {
            *found = s->idx[i] != 0;
            return i;
        }
    }
}

static long subset_find(const struct subset *s, uint64_t sub)
{
    if (!s->idx) {
        for (uint32_t i = 0; i < s->n; i++)
            if (s->v[i].sub == sub)
                return i;
        return -1;
    }
    bool found;
    uint32_t i = subset_slot(s, sub, &found);
    return found ? (long)s->idx[i] - 1 : -1;
}

/* (Re)builds the index with icap slots for the first s->n entries. */
static int subset_reindex(struct subset *s, uint32_t icap)
{
    uint32_t *t = calloc(icap, sizeof *t);
    if (!t)
        return -ENOMEM;
    free(s->idx);
    s->idx = t;
    s->icap = icap;
    for (uint32_t p = 0; p < s->n; p++) {
        bool found;
        t[subset_slot(s, s->v[p].sub, &found)] = p + 1;
    }
    return 0;
}

/* 1 added, 0 options replaced, -ENOMEM (unchanged). */
static int subset_put(struct subset *s, uint64_t sub, const struct tn_sub_opts *o)
{
    long pos = subset_find(s, sub);
    if (pos >= 0) {
        s->v[pos].o = *o;
        return 0;
    }
    if (s->n == UINT32_MAX / 4)
        return -ENOMEM;
    if (s->n == s->cap) {
        uint32_t nc = s->cap ? s->cap * 2 : 2;
        struct sub_ent *nv = realloc(s->v, nc * sizeof *nv);
        if (!nv)
            return -ENOMEM;
        s->v = nv;
        s->cap = nc;
    }
    uint32_t n1 = s->n + 1;
    if (n1 > SUBSET_INDEX_MIN && (!s->idx || (uint64_t)n1 * 2 > s->icap)) {
        uint32_t ic = 64;
        while (ic < n1 * 4)
            ic *= 2;
        if (subset_reindex(s, ic) < 0)
            return -ENOMEM;
    }
    s->v[s->n] = (struct sub_ent){.sub = sub, .o = *o};
    if (s->idx) {
        bool found;
        s->idx[subset_slot(s, sub, &found)] = s->n + 1;
    }
    s->n = n1;
    return 1;
}

static void subset_unindex(struct subset *s, uint32_t i)
{
    uint32_t mask = s->icap - 1, j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!s->idx[j])
            break;
        uint32_t k = subset_hash(s->v[s->idx[j] - 1].sub) & mask;
        bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
        if (!stays) {
            s->idx[i] = s->idx[j];
            i = j;
        }
    }
    s->idx[i] = 0;
}

/* 0 or -ENOENT. */
static int subset_del(struct subset *s, uint64_t sub)
{
    long pos = subset_find(s, sub);
    if (pos < 0)
        return -ENOENT;
    uint32_t last = s->n - 1;
    bool found;
    if (s->idx)
        subset_unindex(s, subset_slot(s, sub, &found));
    if ((uint32_t)pos != last) {
        s->v[pos] = s->v[last];
        if (s->idx)
            s->idx[subset_slot(s, s->v[pos].sub, &found)] = (uint32_t)pos + 1;
    }
    s->n = last;
    if (s->n == 0) {
        subset_fini(s);
        return 0;
    }
    if (s->idx && s->n <= SUBSET_INDEX_MIN / 2) {
        free(s->idx);
        s->idx = NULL;
        s->icap = 0;
    } else if (s->idx && s->icap > 64 && (uint64_t)s->n * 16 < s->icap) {
        (void)subset_reindex(s, s->icap / 4); /* failure keeps the bigger index */
    }
    if (s->cap > 4 && s->n * 4 <= s->cap) {
        struct sub_ent *nv = realloc(s->v, (s->cap / 2) * sizeof *nv);
        if (nv) {
            s->v = nv;
            s->cap /= 2;
        }
    }
    return 0;
}

/* ---- the trie ------------------------------------------------------------------------------ */

enum { RK_ROOT, RK_LIT, RK_PLUS, RK_HASH };

/* A shared group at its filter's node, in that node's group map keyed by the full filter
 * "$share/G/F" (unique per node and group), so thousands of groups on one filter stay O(1). */
struct tn_share {
    struct subset members;
    _Atomic uint32_t rr; /* round-robin cursor; relaxed: fairness, not exactness */
    uint16_t glen;       /* the group name is key[7 .. 7 + glen) */
    struct tn_lnode ln;  /* last: key "$share/G/F" */
};

struct rnode {
    struct subset subs;
    struct tn_lnode *shares; /* the group map's head (no key), NULL without groups */
    struct rnode *plus, *hash;
    struct tn_lnode ln; /* last: the level's bytes follow */
};

#define RN(l) ((struct rnode *)((char *)(l)-offsetof(struct rnode, ln)))
#define SH(l) ((struct tn_share *)((char *)(l)-offsetof(struct tn_share, ln)))

struct tn_router {
    pthread_rwlock_t lock;
    uint64_t seed;
    size_t count; /* subscriptions: under the lock */
    size_t nodes; /* nodes besides the root: under the lock */
    struct rnode *root;
};

#define SHARE_PREFIX_LEN 7 /* "$share/" */

tern_slice tn_router_share_name(const struct tn_share *g)
{
    return (tern_slice){g->ln.key + SHARE_PREFIX_LEN, g->glen};
}

tern_slice tn_router_share_filter(const struct tn_share *g)
{
    return (tern_slice){g->ln.key, g->ln.klen};
}

static struct rnode *rnode_new(struct tn_router *r, uint8_t kind, const uint8_t *k, size_t n)
{
    struct rnode *x = calloc(1, sizeof *x + n);
    if (!x)
        return NULL;
    x->ln.kind = kind;
    x->ln.klen = (uint16_t)n;
    if (n)
        memcpy(x->ln.key, k, n);
    x->ln.hash = tn_lmap_hash(r->seed, k, n);
    return x;
}

static void rnode_free(struct rnode *x)
{
    if (x->shares) {
        struct tn_lnode *l = tn_lmap_next(x->shares, NULL);
        while (l) {
            struct tn_lnode *next = tn_lmap_next(x->shares, l);
            subset_fini(&SH(l)->members);
            free(SH(l));
            l = next;
        }
        tn_lmap_fini(x->shares);
        free(x->shares);
    }
    subset_fini(&x->subs);
    tn_lmap_fini(&x->ln);
    free(x);
}

static inline bool rnode_is_empty(const struct rnode *x)
{
    return x->subs.n == 0 && !x->shares && !x->plus && !x->hash && x->ln.nkids == 0;
}

static void rnode_detach(struct rnode *p, struct rnode *x)
{
    if (x->ln.kind == RK_PLUS)
        p->plus = NULL;
    else if (x->ln.kind == RK_HASH)
        p->hash = NULL;
    else
        tn_lmap_remove(&p->ln, &x->ln);
}

/* Frees x and its ancestors while they hold nothing. */
static void router_prune(struct tn_router *r, struct rnode *x)
{
    while (x != r->root && rnode_is_empty(x)) {
        struct rnode *p = RN(x->ln.parent);
        rnode_detach(p, x);
        rnode_free(x);
        r->nodes--;
        x = p;
    }
}

/* The node of plain filter f, created (with its ancestors) when `create`. NULL when absent,
 * or out of memory (then nothing was left behind). */
static struct rnode *router_walk(struct tn_router *r, tern_slice f, bool create)
{
    struct rnode *x = r->root;
    size_t pos = 0;
    for (;;) {
        const uint8_t *s = f.p + pos;
        const uint8_t *e = memchr(s, '/', f.n - pos);
        size_t n = e ? (size_t)(e - s) : f.n - pos;
        struct rnode *c;
        if (n == 1 && s[0] == '+')
            c = x->plus;
        else if (n == 1 && s[0] == '#')
            c = x->hash;
        else {
            struct tn_lnode *l = tn_lmap_find(&x->ln, s, n, r->seed);
            c = l ? RN(l) : NULL;
        }
        if (!c) {
            if (!create)
                return NULL;
            uint8_t kind = RK_LIT;
            if (n == 1 && s[0] == '+')
                kind = RK_PLUS;
            else if (n == 1 && s[0] == '#')
                kind = RK_HASH;
            c = rnode_new(r, kind, s, n);
            if (!c) {
                router_prune(r, x);
                return NULL;
            }
            if (kind == RK_LIT) {
                if (tn_lmap_insert(&x->ln, &c->ln) < 0) {
                    free(c);
                    router_prune(r, x);
                    return NULL;
                }
            } else {
                c->ln.parent = &x->ln;
                if (kind == RK_PLUS)
                    x->plus = c;
                else
                    x->hash = c;
            }
            r->nodes++;
        }
        x = c;
        if (!e)
            return x;
        pos += n + 1;
    }
}

/* The group of shared filter `filter` ("$share/G/F") at F's node x, or NULL. */
static struct tn_share *share_find(struct tn_router *r, struct rnode *x, tern_slice filter)
{
    struct tn_lnode *l = x->shares ? tn_lmap_find(x->shares, filter.p, filter.n, r->seed) : NULL;
    return l ? SH(l) : NULL;
}

/* A new, empty group for `filter` with group name length glen, linked in at x. */
static struct tn_share *share_add(struct tn_router *r, struct rnode *x, tern_slice filter,
                                  size_t glen)
{
    if (!x->shares && !(x->shares = calloc(1, sizeof *x->shares)))
        return NULL;
    struct tn_share *g = calloc(1, sizeof *g + filter.n);
    if (!g)
        goto fail;
    memcpy(g->ln.key, filter.p, filter.n);
    g->ln.klen = (uint16_t)filter.n;
    g->ln.hash = tn_lmap_hash(r->seed, filter.p, filter.n);
    g->glen = (uint16_t)glen;
    if (tn_lmap_insert(x->shares, &g->ln) == 0)
        return g;
    free(g);
fail:
    if (x->shares->nkids == 0) {
        free(x->shares);
        x->shares = NULL;
    }
    return NULL;
}

static void share_del(struct rnode *x, struct tn_share *g)
{
    tn_lmap_remove(x->shares, &g->ln);
    subset_fini(&g->members);
    free(g);
    if (x->shares->nkids == 0) {
        tn_lmap_fini(x->shares);
        free(x->shares);
        x->shares = NULL;
    }
}

/* Splits and validates a filter: 1 shared (group, plain filled), 0 plain, -EINVAL. */
static int router_parse(tern_slice filter, tern_slice *group, tern_slice *plain)
{
    if (!filter.p || !tern_topic_filter_is_valid(filter.p, filter.n) || filter.n > 65535)
        return -EINVAL;
    int sh = tern_shared_parse(filter, group, plain);
    if (sh < 0)
        return -EINVAL;
    if (sh == 0)
        *plain = filter;
    return sh;
}

struct tn_router *tn_router_new(void)
{
    struct tn_router *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->seed = tn_lmap_seed();
    r->root = rnode_new(r, RK_ROOT, NULL, 0);
    pthread_rwlockattr_t a;
    if (!r->root || pthread_rwlockattr_init(&a) != 0)
        goto fail;
    pthread_rwlockattr_setkind_np(&a, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    int rc = pthread_rwlock_init(&r->lock, &a);
    pthread_rwlockattr_destroy(&a);
    if (rc != 0)
        goto fail;
    return r;
fail:
    free(r->root);
    free(r);
    return NULL;
}

void tn_router_free(struct tn_router *r)
{
    if (!r)
        return;
    /* No recursion and no per-child removal (which would rescan big tables): a to-do list of
     * nodes threaded through their now useless parent pointers. */
    struct tn_lnode *todo = &r->root->ln;
    todo->parent = NULL;
    while (todo) {
        struct rnode *x = RN(todo);
        todo = todo->parent;
        struct rnode *extra[2] = {x->plus, x->hash};
        for (int i = 0; i < 2; i++) {
            if (extra[i]) {
                extra[i]->ln.parent = todo;
                todo = &extra[i]->ln;
            }
        }
        for (struct tn_lnode *c = tn_lmap_next(&x->ln, NULL); c; c = tn_lmap_next(&x->ln, c)) {
            c->parent = todo;
            todo = c;
        }
        rnode_free(x);
    }
    pthread_rwlock_destroy(&r->lock);
    free(r);
}

int tn_router_subscribe(struct tn_router *r, tern_slice filter, uint64_t sub,
                        const struct tn_sub_opts *o)
{
    static const struct tn_sub_opts zero;
    tern_slice group = {0}, plain;
    int sh = router_parse(filter, &group, &plain);
    if (sh < 0)
        return sh;
    if (!o)
        o = &zero;
    int ret = -ENOMEM;
    pthread_rwlock_wrlock(&r->lock);
    struct rnode *x = router_walk(r, plain, true);
    if (!x)
        goto out;
    if (sh) {
        struct tn_share *g = share_find(r, x, filter);
        bool fresh = !g;
        if (fresh && !(g = share_add(r, x, filter, group.n))) {
            router_prune(r, x);
            goto out;
        }
        ret = subset_put(&g->members, sub, o);
        if (ret < 0 && fresh)
            share_del(x, g);
    } else {
        ret = subset_put(&x->subs, sub, o);
    }
    if (ret < 0)
        router_prune(r, x);
    else if (ret == 1)
        r->count++;
out:
    pthread_rwlock_unlock(&r->lock);
    return ret;
}

int tn_router_unsubscribe(struct tn_router *r, tern_slice filter, uint64_t sub)
{
    tern_slice group = {0}, plain;
    int sh = router_parse(filter, &group, &plain);
    if (sh < 0)
        return sh;
    int ret = -ENOENT;
    pthread_rwlock_wrlock(&r->lock);
    struct rnode *x = router_walk(r, plain, false);
    if (!x)
        goto out;
    if (sh) {
        struct tn_share *g = share_find(r, x, filter);
        if (!g)
            goto out;
        ret = subset_del(&g->members, sub);
        if (ret == 0 && g->members.n == 0)
            share_del(x, g);
    } else {
        ret = subset_del(&x->subs, sub);
    }
    if (ret == 0) {
        r->count--;
        router_prune(r, x);
    }
out:
    pthread_rwlock_unlock(&r->lock);
    return ret;
}

static void router_emit(const struct rnode *x, tn_match_fn fn, void *ctx)
{
    const struct subset *s = &x->subs;
    for (uint32_t i = 0; i < s->n; i++)
        fn(ctx, s->v[i].sub, &s->v[i].o, NULL);
    if (!x->shares)
        return;
    for (struct tn_lnode *l = tn_lmap_next(x->shares, NULL); l; l = tn_lmap_next(x->shares, l)) {
        struct tn_share *g = SH(l);
        uint32_t k = atomic_fetch_add_explicit(&g->rr, 1, memory_order_relaxed) % g->members.n;
        const struct sub_ent *e = &g->members.v[k];
        fn(ctx, e->sub, &e->o, g);
    }
}

/* Start of the level ending at t[e] ('/' or the end). */
static inline size_t level_start(const uint8_t *t, size_t e)
{
    const uint8_t *q = e ? memrchr(t, '/', e) : NULL;
    return q ? (size_t)(q - t) + 1 : 0;
}

void tn_router_match(struct tn_router *r, tern_slice topic, tn_match_fn fn, void *ctx)
{
    if (!topic.p || topic.n == 0)
        return;
    const uint8_t *t = topic.p;
    const size_t len = topic.n;
    /* Wildcards at the first level never match a $-topic [MQTT-4.7.2-1]. */
    const bool dollar = t[0] == '$';
    pthread_rwlock_rdlock(&r->lock);
    struct rnode *root = r->root, *x = root;
    /* Invariant: x has consumed the levels before t[pos]; pos == len + 1 once all are. */
    size_t pos = 0;
    /* '+' siblings of literal levels on the current path not tried yet: with none, a dead
     * end ends the walk instead of climbing back to the root */
    size_t alts = 0;
    for (;;) {
        bool wild = x != root || !dollar;
        if (x->hash && wild)
            router_emit(x->hash, fn, ctx); /* "a/#" matches "a" and all below [MQTT-4.7.1-2] */
        struct rnode *c = NULL;
        size_t next = 0;
        if (pos > len) {
            router_emit(x, fn, ctx);
        } else {
            const uint8_t *e = memchr(t + pos, '/', len - pos);
            size_t end = e ? (size_t)(e - t) : len;
            next = end + 1;
            struct tn_lnode *l = tn_lmap_find(&x->ln, t + pos, end - pos, r->seed);
            c = l ? RN(l) : wild ? x->plus : NULL;
            if (l && wild && x->plus)
                alts++;
        }
        if (c) {
            x = c;
            pos = next;
            continue;
        }
        /* Backtrack: after a literal child comes its sibling '+'; otherwise go up. */
        for (;;) {
            if (x == root || alts == 0)
                goto done;
            struct rnode *p = RN(x->ln.parent);
            if (x->ln.kind == RK_LIT && p->plus && (p != root || !dollar)) {
                c = p->plus;
                alts--;
                break;
            }
            pos = level_start(t, pos - 1);
            x = p;
        }
        x = c; /* same level consumed: pos unchanged */
    }
done:
    pthread_rwlock_unlock(&r->lock);
}

int tn_router_share_pick(struct tn_router *r, tern_slice share_filter, uint64_t exclude,
                         uint64_t *out, struct tn_sub_opts *o)
{
    tern_slice group = {0}, plain;
    int sh = router_parse(share_filter, &group, &plain);
    if (sh != 1)
        return -EINVAL;
    int ret = -ENOENT;
    pthread_rwlock_rdlock(&r->lock);
    struct rnode *x = router_walk(r, plain, false);
    struct tn_share *g = x ? share_find(r, x, share_filter) : NULL;
    if (g) {
        uint32_t n = g->members.n;
        uint32_t start = atomic_fetch_add_explicit(&g->rr, 1, memory_order_relaxed);
        for (uint32_t i = 0; i < n; i++) {
            const struct sub_ent *e = &g->members.v[(start + i) % n];
            if (e->sub != exclude) {
                *out = e->sub;
                if (o)
                    *o = e->o;
                ret = 0;
                break;
            }
        }
    }
    pthread_rwlock_unlock(&r->lock);
    return ret;
}

size_t tn_router_count(struct tn_router *r)
{
    pthread_rwlock_rdlock(&r->lock);
    size_t n = r->count;
    pthread_rwlock_unlock(&r->lock);
    return n;
}

size_t tn_router_nodes(struct tn_router *r)
{
    pthread_rwlock_rdlock(&r->lock);
    size_t n = r->nodes;
    pthread_rwlock_unlock(&r->lock);
    return n;
}
