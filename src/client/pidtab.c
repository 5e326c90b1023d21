/* SPDX-License-Identifier: MIT */
/*
 * src/client/pidtab.c - packet id -> outgoing object (PUBLISH, SUBSCRIBE, UNSUBSCRIBE) in
 * O(1): slot[pid & (cap-1)], cap a power of two kept >= 2 x the ids in use, ids chosen so
 * that their slot is free. Doubling never makes two ids collide. Released when empty.
 *
 * Owns: the slot array (not the objects). Thread: the client's, with c->mu held.
 */
#include <errno.h>
#include <stdlib.h>

#include "client_internal.h"

/* ---- packet ids ----------------------------------------------------------------------------- */

static uint16_t obj_pid(const void *o)
{
    const uint8_t *k = o;
    return *k == TN_OBJ_PUB ? ((const struct tn_omsg *)o)->pid : ((const struct tn_req *)o)->pid;
}

static int pid_grow(struct tn_pidtab *t, uint32_t need)
{
    uint32_t nc = t->cap ? t->cap : 16;
    while (nc < 65536 && need * 2 > nc)
        nc *= 2;
    if (nc == t->cap)
        return 0;
    void **ns = calloc(nc, sizeof *ns);
    if (!ns)
        return -ENOMEM;
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slot[i])
            ns[obj_pid(t->slot[i]) & (nc - 1)] = t->slot[i];
    free(t->slot);
    t->slot = ns;
    t->cap = nc;
    return 0;
}

/* Give obj (whose pid field it sets) a free packet id. */
int tn_pid_take(tern_client *c, void *obj, uint16_t *pid)
{
    struct tn_pidtab *t = &c->pids;
    if (t->count >= 65535)
        return -EAGAIN;
    if ((t->count + 1) * 2 > t->cap && t->cap < 65536) {
        int err = pid_grow(t, t->count + 1);
        if (err)
            return err;
    }
    for (;;) {
        uint16_t p = t->next++;
        if (p == 0)
            continue;
        if (!t->slot[p & (t->cap - 1)]) {
            t->slot[p & (t->cap - 1)] = obj;
            t->count++;
            *pid = p;
            return 0;
        }
    }
}

/* Put obj under its already chosen pid (recovery). */
int tn_pid_put(tern_client *c, void *obj, uint16_t pid)
{
    struct tn_pidtab *t = &c->pids;
    for (;;) {
        if (t->cap && !t->slot[pid & (t->cap - 1)]) {
            t->slot[pid & (t->cap - 1)] = obj;
            t->count++;
            return 0;
        }
        if (t->cap == 65536)
            return -EEXIST;
        int err = pid_grow(t, t->cap ? t->cap : 8);
        if (err)
            return err;
    }
}

void *tn_pid_get(tern_client *c, uint16_t pid)
{
    struct tn_pidtab *t = &c->pids;
    if (!t->cap || pid == 0)
        return NULL;
    void *o = t->slot[pid & (t->cap - 1)];
    return o && obj_pid(o) == pid ? o : NULL;
}

void tn_pid_release(tern_client *c, uint16_t pid)
{
    struct tn_pidtab *t = &c->pids;
    if (t->cap && t->slot[pid & (t->cap - 1)]) {
        t->slot[pid & (t->cap - 1)] = NULL;
        t->count--;
    }
}
