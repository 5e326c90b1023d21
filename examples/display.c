/* SPDX-License-Identifier: MIT */
/*
 * examples/display.c - a small subscriber on libtern's thread mode: it prints every reading
 * published under sensors/+/temperature. It rides out broker restarts and network drops: the
 * library reconnects with back-off, resumes its persistent session (QoS 1 messages published
 * meanwhile arrive after the reconnect), and subscribes again if the session was lost.
 *
 * Usage: display [-h host] [-p port] [-i id] [-5]
 * Prints "<topic> <payload>" per message. Owns: its client. Thread: main waits for a signal;
 * callbacks run on libtern's network thread.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tern/client.h"

static void on_connect(tern_client *c, void *ud, const struct tern_connect_event *ev)
{
    (void)c;
    (void)ud;
    fprintf(stderr, "display: connected (rc %u, session present %d)\n", ev->rc,
            ev->session_present);
}

static void on_disconnect(tern_client *c, void *ud, const struct tern_disconnect_event *ev)
{
    (void)c;
    (void)ud;
    fprintf(stderr, "display: disconnected: %s%s\n", tern_client_strerror(ev->err),
            ev->will_reconnect ? " (will reconnect)" : "");
}

static void on_message(tern_client *c, void *ud, const struct tern_publish *m, uint8_t ver)
{
    (void)c;
    (void)ud;
    (void)ver;
    printf("%.*s %.*s\n", TERN_SLICE_FMT(m->topic), TERN_SLICE_FMT(m->payload));
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    o.client_id = "display-1";
    int opt;
    while ((opt = getopt(argc, argv, "h:p:i:5")) != -1) {
        switch (opt) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = (uint16_t)atoi(optarg); break;
        case 'i': o.client_id = optarg; break;
        case '5': o.version = TERN_V5; break;
        default: fprintf(stderr, "usage: display [-h host] [-p port] [-i id] [-5]\n"); return 2;
        }
    }
    o.clean = false;
    o.session_expiry = o.version == TERN_V5 ? 3600 : 0;
    o.keepalive = 5;
    o.reconnect_min_ms = 200;
    o.reconnect_max_ms = 5000;
    o.cb.on_connect = on_connect;
    o.cb.on_disconnect = on_disconnect;
    o.cb.on_message = on_message;
    tern_client *c;
    if (tern_client_new(&o, &c)) {
        fprintf(stderr, "display: %s\n", tern_client_last_error());
        return 1;
    }
    /* remembered by the library and sent again after a reconnect without a session */
    tern_client_subscribe1(c, "sensors/+/temperature", 1, NULL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* the network thread inherits the mask */
    if (tern_client_start(c)) {
        fprintf(stderr, "display: %s\n", tern_client_last_error());
        return 1;
    }
    int sig;
    sigwait(&set, &sig);
    tern_client_disconnect(c, 0, NULL);
    tern_client_stop(c);
    tern_client_free(c);
    return 0;
}
