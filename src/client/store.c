/* SPDX-License-Identifier: MIT */
/*
 * src/client/store.c - libtern's durable client state: one append-only log per client
 * (store_dir/tern.log), memory-mapped, so that appending a record is a memcpy and survives the
 * process being killed at any point; msync makes it survive a power cut (per store_sync).
 *
 * Records (little endian): u32 body length (written last: a record is visible only when
 * whole), u32 FNV-1a of the body, body = u8 type, u64 mid, then
 *   ADD    u8 qos, u16 pid offset, the PUBLISH frame (packet id patched in later)
 *   STATE  u16 packet id, u8 enum tern_qos_state  (QoS 2 only: id chosen, PUBREC seen)
 *   DONE   -                                       (the exchange ended)
 *   RX2    (mid field = packet id) u8 on/off      (incoming QoS 2 awaiting PUBREL)
 *   RX2_CLEAR                                      (the server had no session: forget them)
 * A zero length ends the log; a record whose checksum does not match (torn by a power cut)
 * ends it too. When the live records are under a quarter of the log, it is rewritten
 * (compacted) into tern.log.tmp, synced and renamed over tern.log.
 *
 * Syncing (TERN_SYNC_BATCH) is a group commit. "Hard" records must be on disk before the
 * packet that depends on them goes on the wire, and tn_store_sync (called before each write)
 * msyncs when one was appended since the last sync: STATE (a QoS 2 packet id is taken, or
 * PUBREC was seen: a restart must not reuse the id or resend a PUBLISH the server has
 * released), RX2 and RX2_CLEAR (an incoming QoS 2 id, before its PUBREC). ADD records are
 * "soft": a message not on disk is lost by a power cut whether or not it went out (and one
 * that went out may have been delivered), so its PUBLISH need not wait; it reaches the disk
 * with the next hard sync or at most store_sync_ms after it was appended, which bounds what a
 * power cut can take and makes a steady stream cost one msync per interval, not per message.
 * DONE records force nothing: a lost DONE only makes a replay resend a finished message
 * (QoS 1: at least once; QoS 2: a PUBREL the server answers). msync covers a contiguous
 * range, so everything before a synced record is on disk with it.
 *
 * Owns: the log's fd, its mapping, the lock file. Thread: the client's, with c->mu held.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client_internal.h"

#define HDR 16
#define MAGIC "TERNLOG1"
#define REC_HDR 8
#define MIN_MAP (1u << 20)

struct tn_store {
    int fd, lockfd;
    uint8_t *map;
    size_t cap;      /* mapped/file size */
    size_t tail;     /* end of the last record */
    size_t synced;   /* everything below is on disk */
    size_t hard;     /* end of the last record that must be synced before the wire */
    int64_t soft_at; /* when the oldest unsynced ADD was appended (ms), 0: none */
    size_t live;     /* bytes of records of live messages */
    char *path, *tmp;
};

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}
static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static int map_file(struct tn_store *s, size_t cap)
{
    if (ftruncate(s->fd, (off_t)cap) < 0)
        return -errno;
    void *m = s->map ? mremap(s->map, s->cap, cap, MREMAP_MAYMOVE)
                     : mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
    if (m == MAP_FAILED)
        return -errno;
    s->map = m;
    s->cap = cap;
    return 0;
}

/* Append one record; body parts a (type+mid+fixed fields) and b (frame, may be NULL). */
static int append(struct tn_store *s, const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    size_t need = REC_HDR + an + bn;
    if (s->tail + need + REC_HDR > s->cap) {
        size_t nc = s->cap * 2;
        while (s->tail + need + REC_HDR > nc)
            nc *= 2;
        int err = map_file(s, nc);
        if (err)
            return err;
    }
    uint8_t *r = s->map + s->tail;
    memcpy(r + REC_HDR, a, an);
    if (bn)
        memcpy(r + REC_HDR + an, b, bn);
    put32(r + 4, fnv(r + REC_HDR, an + bn));
    __atomic_store_n((uint32_t *)(void *)r, (uint32_t)(an + bn), __ATOMIC_RELEASE);
    s->tail += need;
    if (a[0] == TN_REC_ADD) {
        if (!s->soft_at)
            s->soft_at = tn_now_ms();
    } else if (a[0] != TN_REC_DONE) {
        s->hard = s->tail;
    }
    return (int)need;
}

static int sync_range(struct tn_store *s)
{
    if (s->synced >= s->tail)
        return 0;
    size_t pg = (size_t)sysconf(_SC_PAGESIZE);
    size_t from = s->synced & ~(pg - 1);
    if (msync(s->map + from, s->tail - from, MS_SYNC) < 0)
        return -errno;
    s->synced = s->tail;
    s->soft_at = 0;
    return 0;
}

int64_t tn_store_due_ms(const tern_client *c)
{
    const struct tn_store *s = c->store;
    if (!s || c->o.store_sync != TERN_SYNC_BATCH || !s->soft_at)
        return -1;
    return s->soft_at + (int64_t)c->o.store_sync_ms;
}

int tn_store_sync(tern_client *c)
{
    struct tn_store *s = c->store;
    if (!s || c->o.store_sync == TERN_SYNC_NONE)
        return 0;
    if (s->hard > s->synced)
        return sync_range(s);
    int64_t due = tn_store_due_ms(c);
    if (due >= 0 && tn_now_ms() >= due)
        return sync_range(s);
    return 0; /* only DONE records, or ADDs not yet due: they ride along with a later sync */
}

static int rec_add(struct tn_store *s, const struct tn_omsg *m)
{
    uint8_t a[12];
    a[0] = TN_REC_ADD;
    memcpy(a + 1, &m->mid, 8);
    a[9] = m->qos;
    memcpy(a + 10, &m->pid_off, 2);
    return append(s, a, sizeof a, m->frame, m->len);
}

static int rec_state(struct tn_store *s, const struct tn_omsg *m)
{
    uint8_t a[12];
    a[0] = TN_REC_STATE;
    memcpy(a + 1, &m->mid, 8);
    memcpy(a + 9, &m->pid, 2);
    a[11] = m->state;
    return append(s, a, sizeof a, NULL, 0);
}

int tn_store_add(tern_client *c, const struct tn_omsg *m)
{
    struct tn_store *s = c->store;
    int n = rec_add(s, m);
    if (n < 0)
        return -TERN_ESTORE;
    s->live += (size_t)n;
    if (c->o.store_sync == TERN_SYNC_ALWAYS && sync_range(s) < 0)
        return -TERN_ESTORE;
    return 0;
}

int tn_store_state(tern_client *c, const struct tn_omsg *m)
{
    int n = rec_state(c->store, m);
    return n < 0 ? -TERN_ESTORE : 0;
}

int tn_store_done(tern_client *c, uint64_t mid)
{
    struct tn_store *s = c->store;
    uint8_t a[9];
    a[0] = TN_REC_DONE;
    memcpy(a + 1, &mid, 8);
    int n = append(s, a, sizeof a, NULL, 0);
    if (n < 0)
        return -TERN_ESTORE;
    /* the ADD record of this message is dead now; approximate its size from the queue */
    return 0;
}

static int rec_rx2(struct tn_store *s, uint8_t type, uint16_t pid, bool on)
{
    uint8_t a[10] = {type};
    uint64_t v = pid;
    memcpy(a + 1, &v, 8);
    a[9] = on;
    return append(s, a, sizeof a, NULL, 0);
}

int tn_store_rx2(tern_client *c, uint16_t pid, bool on)
{
    return rec_rx2(c->store, TN_REC_RX2, pid, on) < 0 ? -TERN_ESTORE : 0;
}

int tn_store_rx2_clear(tern_client *c)
{
    return rec_rx2(c->store, TN_REC_RX2_CLEAR, 0, false) < 0 ? -TERN_ESTORE : 0;
}

static void replay_rx2(tern_client *c, const uint8_t *b, uint32_t len)
{
    if (b[0] == TN_REC_RX2_CLEAR) {
        free(c->q2);
        c->q2 = NULL;
        c->q2n = 0;
        return;
    }
    if (len < 10)
        return;
    uint64_t v;
    memcpy(&v, b + 1, 8);
    uint16_t id = (uint16_t)v;
    if (!c->q2 && !(c->q2 = calloc(1024, sizeof(uint64_t))))
        return;
    bool have = c->q2[id >> 6] >> (id & 63) & 1;
    if (b[9] && !have) {
        c->q2[id >> 6] |= 1ull << (id & 63);
        c->q2n++;
    } else if (!b[9] && have) {
        c->q2[id >> 6] &= ~(1ull << (id & 63));
        c->q2n--;
    }
}

/* ---- recovery ---------------------------------------------------------------------------- */

struct midmap {
    uint64_t *k;
    struct tn_omsg **v;
    size_t cap, n;
};

static struct tn_omsg **mm_slot(struct midmap *mm, uint64_t mid)
{
    size_t i = (size_t)(mid * 0x9E3779B97F4A7C15ull) & (mm->cap - 1);
    while (mm->v[i] && mm->k[i] != mid)
        i = (i + 1) & (mm->cap - 1);
    mm->k[i] = mid;
    return &mm->v[i];
}

static int mm_grow(struct midmap *mm)
{
    struct midmap n = {.cap = mm->cap ? mm->cap * 2 : 1024};
    n.k = calloc(n.cap, sizeof *n.k);
    n.v = calloc(n.cap, sizeof *n.v);
    if (!n.k || !n.v) {
        free(n.k);
        free(n.v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < mm->cap; i++)
        if (mm->v[i])
            *mm_slot(&n, mm->k[i]) = mm->v[i];
    n.n = mm->n;
    free(mm->k);
    free(mm->v);
    *mm = n;
    return 0;
}

/* Replay the log into c's queue. */
static int replay(tern_client *c, struct tn_store *s)
{
    struct midmap mm = {0};
    struct tn_omsg **order = NULL;
    size_t on = 0, ocap = 0;
    int err = 0;
    size_t off = HDR;
    uint64_t maxmid = 0;
    while (off + REC_HDR <= s->cap) {
        uint32_t len = get32(s->map + off);
        if (len == 0 || off + REC_HDR + len > s->cap)
            break;
        const uint8_t *b = s->map + off + REC_HDR;
        if (fnv(b, len) != get32(s->map + off + 4) || len < 9)
            break; /* torn record: the log ends here */
        if (b[0] == TN_REC_RX2 || b[0] == TN_REC_RX2_CLEAR) {
            replay_rx2(c, b, len);
            off += REC_HDR + len;
            continue;
        }
        uint64_t mid;
        memcpy(&mid, b + 1, 8);
        if (mid > maxmid)
            maxmid = mid;
        if (b[0] == TN_REC_ADD && len >= 12) {
            size_t fl = len - 12;
            struct tn_omsg *m = tn_omsg_alloc(fl);
            if (!m || ((mm.n + 1) * 2 > mm.cap && mm_grow(&mm))) {
                free(m);
                err = -ENOMEM;
                goto out;
            }
            m->mid = mid;
            m->qos = b[9];
            memcpy(&m->pid_off, b + 10, 2);
            memcpy(m->frame, b + 12, fl);
            struct tn_omsg **slot = mm_slot(&mm, mid);
            if (*slot) { /* a duplicate ADD cannot happen (mids are unique): skip it */
                free(m);
                off += REC_HDR + len;
                continue;
            }
            mm.n++;
            *slot = m;
            if (on == ocap) {
                ocap = ocap ? ocap * 2 : 256;
                struct tn_omsg **no = realloc(order, ocap * sizeof *no);
                if (!no) {
                    err = -ENOMEM;
                    goto out;
                }
                order = no;
            }
            order[on++] = m;
        } else if ((b[0] == TN_REC_STATE || b[0] == TN_REC_DONE) && mm.cap) {
            struct tn_omsg **slot = mm_slot(&mm, mid);
            if (*slot && b[0] == TN_REC_STATE && len >= 12) {
                memcpy(&(*slot)->pid, b + 9, 2);
                (*slot)->state = b[11];
            } else if (*slot) {
                (*slot)->kind = 0; /* done */
            }
        }
        off += REC_HDR + len;
    }
    s->tail = off;
    /* in-flight QoS 2 first (they hold packet ids), then the rest, each in mid order */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < on; i++) {
            struct tn_omsg *m = order[i];
            if (!m || m->kind != TN_OBJ_PUB)
                continue;
            bool infl = m->qos == 2 && m->pid && m->state != TERN_QS_FREE;
            if (infl != (pass == 0))
                continue;
            if (infl && tn_pid_put(c, m, m->pid) == 0) {
                m->frame[m->pid_off] = (uint8_t)(m->pid >> 8);
                m->frame[m->pid_off + 1] = (uint8_t)m->pid;
                m->sent = true;
                c->inflight++;
            } else {
                m->pid = 0;
                m->state = TERN_QS_FREE;
            }
            tn_queue_append(c, m);
            order[i] = NULL;
        }
    /* qnext: first message without a packet id */
    c->qnext = NULL;
    for (struct tn_omsg *m = c->qhead; m; m = m->next)
        if (!m->sent) {
            c->qnext = m;
            break;
        }
    c->next_mid = maxmid + 1;
out:
    for (size_t i = 0; i < on; i++)
        if (order[i] && order[i]->kind != TN_OBJ_PUB)
            free(order[i]);
        else if (order[i] && err)
            free(order[i]);
    free(order);
    free(mm.k);
    free(mm.v);
    return err;
}

/* Header: MAGIC, then the protocol level the stored PUBLISH frames are encoded for (0 in logs
 * written before it was recorded), then zeros. */
static int write_header(struct tn_store *s, uint8_t version)
{
    memcpy(s->map, MAGIC, 8);
    memset(s->map + 8, 0, 8);
    s->map[8] = version;
    s->tail = HDR;
    return 0;
}

static const char *level_name(uint8_t v)
{
    return v == TERN_V5 ? "5.0" : v == TERN_V31 ? "3.1" : "3.1.1";
}

int tn_store_open(tern_client *c)
{
    if (mkdir(c->store_dir, 0700) < 0 && errno != EEXIST)
        return tn_fail(-TERN_ESTORE, "store: mkdir %s: %s", c->store_dir, strerror(errno));
    struct tn_store *s = calloc(1, sizeof *s);
    if (!s)
        return tn_fail(-ENOMEM, "store");
    s->fd = s->lockfd = -1;
    size_t pl = strlen(c->store_dir) + 32;
    s->path = malloc(pl);
    s->tmp = malloc(pl);
    char *lock = malloc(pl);
    int err = 0;
    if (!s->path || !s->tmp || !lock) {
        err = -ENOMEM;
        goto fail;
    }
    snprintf(s->path, pl, "%s/tern.log", c->store_dir);
    snprintf(s->tmp, pl, "%s/tern.log.tmp", c->store_dir);
    snprintf(lock, pl, "%s/lock", c->store_dir);
    s->lockfd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (s->lockfd < 0 || flock(s->lockfd, LOCK_EX | LOCK_NB) < 0) {
        err = errno == EWOULDBLOCK ? -EBUSY : -errno;
        tn_fail(-TERN_ESTORE, "store %s: %s", c->store_dir,
                err == -EBUSY ? "in use by another client" : strerror(-err));
        err = -TERN_ESTORE;
        goto fail;
    }
    s->fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    struct stat st;
    if (s->fd < 0 || fstat(s->fd, &st) < 0) {
        err = tn_fail(-TERN_ESTORE, "store: open %s: %s", s->path, strerror(errno));
        goto fail;
    }
    size_t size = (size_t)st.st_size;
    if ((err = map_file(s, size < MIN_MAP ? MIN_MAP : size))) {
        err = tn_fail(-TERN_ESTORE, "store: map %s: %s", s->path, strerror(-err));
        goto fail;
    }
    if (size >= HDR && !memcmp(s->map, MAGIC, 8) && s->map[8] && s->map[8] != c->o.version) {
        /* its frames are encoded for another protocol level: sent as they are they would be
         * malformed on this connection. Keep them; say what to do. */
        err = tn_fail(-TERN_ESTORE,
                      "store: %s holds messages of an MQTT %s client; this one is MQTT %s (use "
                      "the same version, or another store_dir)",
                      s->path, level_name(s->map[8]), level_name(c->o.version));
        goto fail;
    }
    if (size >= HDR && !memcmp(s->map, MAGIC, 8)) {
        c->store = s;
        s->map[8] = c->o.version; /* a log from before the level was recorded */
        if ((err = replay(c, s))) {
            c->store = NULL;
            err = tn_fail(err, "store: replay");
            goto fail;
        }
    } else if (size >= HDR && memcmp(s->map, "\0\0\0\0\0\0\0\0", 8)) {
        err = tn_fail(-TERN_ESTORE, "store: %s is not a tern log", s->path);
        goto fail;
    } else {
        write_header(s, c->o.version);
    }
    s->synced = 0;
    s->hard = s->tail; /* the replayed log must be on disk before anything is resent */
    c->store = s;
    for (struct tn_omsg *m = c->qhead; m; m = m->next)
        s->live += REC_HDR + 12 + m->len;
    sync_range(s);
    free(lock);
    return 0;
fail:
    free(lock);
    if (s->map)
        munmap(s->map, s->cap);
    if (s->fd >= 0)
        close(s->fd);
    if (s->lockfd >= 0)
        close(s->lockfd);
    free(s->path);
    free(s->tmp);
    free(s);
    return err;
}

void tn_store_close(tern_client *c)
{
    struct tn_store *s = c->store;
    if (!s)
        return;
    if (c->o.store_sync != TERN_SYNC_NONE)
        sync_range(s);
    munmap(s->map, s->cap);
    close(s->fd);
    close(s->lockfd);
    free(s->path);
    free(s->tmp);
    free(s);
    c->store = NULL;
}

/* Rewrite the log with only the live messages when it is mostly dead. */
void tn_store_maybe_compact(tern_client *c)
{
    struct tn_store *s = c->store;
    size_t live = 0;
    if (s->tail < 4 * MIN_MAP)
        return;
    /* cheap estimate of live bytes: queued bytes plus record overhead */
    live = c->qbytes + c->qcount * (REC_HDR * 2 + 24);
    if (live * 4 > s->tail)
        return;
    struct tn_store n = {.fd = -1};
    n.fd = open(s->tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (n.fd < 0)
        return;
    size_t cap = MIN_MAP;
    while (cap < live * 2 + HDR)
        cap *= 2;
    if (map_file(&n, cap)) {
        close(n.fd);
        unlink(s->tmp);
        return;
    }
    write_header(&n, c->o.version);
    for (struct tn_omsg *m = c->qhead; m; m = m->next) {
        if (rec_add(&n, m) < 0)
            goto fail;
        if (m->qos == 2 && m->pid && m->state != TERN_QS_FREE && rec_state(&n, m) < 0)
            goto fail;
    }
    for (uint32_t id = 1; c->q2 && id < 65536; id++)
        if (c->q2[id >> 6] >> (id & 63) & 1 && rec_rx2(&n, TN_REC_RX2, (uint16_t)id, true) < 0)
            goto fail;
    if (sync_range(&n) < 0 || fsync(n.fd) < 0 || rename(s->tmp, s->path) < 0)
        goto fail;
    int dfd = open(c->store_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    munmap(s->map, s->cap);
    close(s->fd);
    s->fd = n.fd;
    s->map = n.map;
    s->cap = n.cap;
    s->tail = n.tail;
    s->synced = n.tail;
    s->soft_at = 0;
    s->hard = n.tail;
    s->live = n.tail;
    return;
fail:
    munmap(n.map, n.cap);
    close(n.fd);
    unlink(s->tmp);
}
