/* SPDX-License-Identifier: MIT */
/*
 * src/client/driver.c - the two ways to drive a client: the fd driver (the caller's event
 * loop calls tern_client_process; tern_client_run is a ready-made poll() step) and the thread
 * driver (tern_client_start runs a network thread with poll() on the socket and an eventfd).
 *
 * Owns: the network thread and its eventfd. Thread: the fd driver runs on the caller's
 * thread; the thread driver on its own. Both hold c->mu only inside tn_client_io and release
 * it before callbacks run (tn_client_dispatch).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client_internal.h"

int tern_client_fd(const tern_client *c)
{
    if (!c)
        return -1;
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    int fd = c->fd;
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
    return fd;
}

unsigned tern_client_want(const tern_client *c)
{
    if (!c)
        return 0;
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    unsigned w = tn_client_want(c);
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
    return w;
}

int tern_client_next_timeout_ms(const tern_client *c)
{
    if (!c)
        return -1;
    pthread_mutex_lock((pthread_mutex_t *)&c->mu);
    int t = tn_client_timeout_ms(c);
    pthread_mutex_unlock((pthread_mutex_t *)&c->mu);
    return t;
}

int tern_client_process(tern_client *c, unsigned events)
{
    if (!c)
        return tn_fail(-EINVAL, "process: client is NULL");
    pthread_mutex_lock(&c->mu);
    int err = tn_client_io(c, events);
    bool evs = c->evn != 0;
    pthread_mutex_unlock(&c->mu);
    if (evs) {
        tn_client_dispatch(c);
        pthread_mutex_lock(&c->mu);
        tn_client_trim(c); /* the views the events held are gone: buffers may go too */
        pthread_mutex_unlock(&c->mu);
    }
    return err;
}

int tern_client_on_readable(tern_client *c)
{
    return tern_client_process(c, TERN_WANT_READ);
}

int tern_client_on_writable(tern_client *c)
{
    return tern_client_process(c, TERN_WANT_WRITE);
}

int tern_client_on_timeout(tern_client *c)
{
    return tern_client_process(c, 0);
}

int tern_client_connect(tern_client *c)
{
    if (!c)
        return tn_fail(-EINVAL, "connect: client is NULL");
    pthread_mutex_lock(&c->mu);
    int err = 0;
    bool th = c->th_running;
    if (th) {
        err = tn_fail(-EBUSY, "connect: the network thread connects by itself");
    } else {
        c->user_disc = false;
        c->attempt = 0;
        err = tn_client_start_connect(c);
    }
    pthread_mutex_unlock(&c->mu);
    if (!th) /* in thread mode the events are the network thread's to deliver */
        tn_client_dispatch(c);
    return err;
}

/* poll() the client's fd (and an extra fd, e.g. the thread's eventfd) once, then process. */
static int poll_once(tern_client *c, int timeout_ms, int extra_fd)
{
    pthread_mutex_lock(&c->mu);
    int fd = c->fd;
    unsigned want = tn_client_want(c);
    int t = tn_client_timeout_ms(c);
    /* connected, something to send and the socket took the last write whole: send now,
     * without a poll() that would only say "writable" */
    bool skip = fd >= 0 && (want & TERN_WANT_WRITE) && !c->wr_blocked && !c->tcp_pending &&
                !c->tls_hs && c->state == TERN_CS_CONNECTED && !c->wake_pending;
    pthread_mutex_unlock(&c->mu);
    if (skip)
        return tern_client_process(c, TERN_WANT_WRITE);
    if (t >= 0 && (timeout_ms < 0 || t < timeout_ms))
        timeout_ms = t;
    struct pollfd p[2];
    int n = 0;
    if (fd >= 0) {
        p[n].fd = fd;
        p[n].events =
            (short)((want & TERN_WANT_READ ? POLLIN : 0) | (want & TERN_WANT_WRITE ? POLLOUT : 0));
        p[n].revents = 0;
        n++;
    }
    if (extra_fd >= 0) {
        p[n].fd = extra_fd;
        p[n].events = POLLIN;
        p[n].revents = 0;
        n++;
    }
    if (n == 0 && timeout_ms < 0)
        return 0; /* no socket, no timer: nothing could wake us */
    int r = poll(p, (nfds_t)n, timeout_ms);
    if (r < 0 && errno != EINTR)
        return -errno;
    unsigned ev = 0;
    if (r > 0 && fd >= 0) {
        if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
            ev |= TERN_WANT_READ;
        if (p[0].revents & (POLLOUT | POLLHUP | POLLERR))
            ev |= TERN_WANT_WRITE;
    }
    if (r > 0 && extra_fd >= 0 && (p[n - 1].revents & POLLIN)) {
        uint64_t v;
        ssize_t rd = read(extra_fd, &v, sizeof v);
        (void)rd;
        pthread_mutex_lock(&c->mu);
        c->wake_pending = false;
        pthread_mutex_unlock(&c->mu);
    }
    return tern_client_process(c, ev);
}

int tern_client_run(tern_client *c, int timeout_ms)
{
    if (!c)
        return tn_fail(-EINVAL, "run: client is NULL");
    if (c->th_running)
        return tn_fail(-EBUSY, "run: a network thread drives this client");
    return poll_once(c, timeout_ms, -1);
}

static void *net_thread(void *arg)
{
    tern_client *c = arg;
    pthread_mutex_lock(&c->mu);
    c->user_disc = false;
    c->attempt = 0;
    tn_client_start_connect(c);
    pthread_mutex_unlock(&c->mu);
    tn_client_dispatch(c);
    int64_t stop_by = -1;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        bool stop = c->th_stop;
        bool draining = c->disc_pending && c->fd >= 0;
        pthread_mutex_unlock(&c->mu);
        if (stop) {
            if (!draining)
                break;
            if (stop_by < 0)
                stop_by = tn_now_ms() + 1000;
            else if (tn_now_ms() >= stop_by)
                break;
        }
        poll_once(c, stop ? 50 : -1, c->wakefd);
    }
    return NULL;
}

int tern_client_start(tern_client *c)
{
    if (!c)
        return tn_fail(-EINVAL, "start: client is NULL");
    pthread_mutex_lock(&c->mu);
    int err = 0;
    if (c->th_running) {
        err = tn_fail(-EBUSY, "start: already started");
    } else {
        if (c->wakefd < 0)
            c->wakefd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (c->wakefd < 0) {
            err = tn_fail(-errno, "start: eventfd");
        } else {
            c->th_stop = false;
            c->wake_pending = false;
            c->th_running = true;
            int e = pthread_create(&c->th, NULL, net_thread, c);
            if (e) {
                c->th_running = false;
                err = tn_fail(-e, "start: pthread_create");
            }
        }
    }
    pthread_mutex_unlock(&c->mu);
    return err;
}

int tern_client_stop(tern_client *c)
{
    if (!c)
        return tn_fail(-EINVAL, "stop: client is NULL");
    pthread_mutex_lock(&c->mu);
    if (!c->th_running) {
        pthread_mutex_unlock(&c->mu);
        return 0;
    }
    c->th_stop = true;
    uint64_t one = 1;
    ssize_t w = write(c->wakefd, &one, sizeof one);
    (void)w;
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->th, NULL);
    pthread_mutex_lock(&c->mu);
    c->th_running = false;
    pthread_mutex_unlock(&c->mu);
    return 0;
}
