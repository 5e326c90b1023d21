/* SPDX-License-Identifier: MIT */
/*
 * src/store/store_mem.c - the in-memory store: the broker's own memory is the only copy, so
 * every operation is a no-op that "commits" at once. See store.h for why it exists.
 * Owns: its tn_store header. Thread: any.
 */
#include <stdlib.h>

#include "store.h"

static void nop_session_put(struct tn_store *s, tern_slice c, uint32_t e)
{
    (void)s, (void)c, (void)e;
}
static void nop_session_del(struct tn_store *s, tern_slice c)
{
    (void)s, (void)c;
}
static void nop_sub_put(struct tn_store *s, tern_slice c, tern_slice f, uint8_t o, uint32_t id)
{
    (void)s, (void)c, (void)f, (void)o, (void)id;
}
static void nop_sub_del(struct tn_store *s, tern_slice c, tern_slice f)
{
    (void)s, (void)c, (void)f;
}
static void nop_msg_queue(struct tn_store *s, tern_slice c, const struct tn_store_msg *m)
{
    (void)s, (void)c, (void)m;
}
static void nop_msg_done(struct tn_store *s, tern_slice c, uint64_t id)
{
    (void)s, (void)c, (void)id;
}
static void nop_retain_put(struct tn_store *s, const struct tn_store_msg *m)
{
    (void)s, (void)m;
}
static void nop_retain_del(struct tn_store *s, tern_slice t)
{
    (void)s, (void)t;
}
static void mem_free(struct tn_store *s)
{
    free(s);
}

static const struct tn_store_ops mem_ops = {
    .name = "memory",
    .durable = false,
    .session_put = nop_session_put,
    .session_del = nop_session_del,
    .sub_put = nop_sub_put,
    .sub_del = nop_sub_del,
    .msg_queue = nop_msg_queue,
    .msg_done = nop_msg_done,
    .retain_put = nop_retain_put,
    .retain_del = nop_retain_del,
    .free = mem_free,
};

struct tn_store *tn_store_mem_new(void)
{
    struct tn_store *s = calloc(1, sizeof(*s));
    if (s)
        s->ops = &mem_ops;
    return s;
}
