/* SPDX-License-Identifier: MIT */
/*
 * examples/sensor.c - a small publisher on libtern: every interval it publishes a reading
 * (QoS 1) to sensors/<id>/temperature. It rides out broker restarts and network drops: the
 * library reconnects with back-off and buffers readings while offline (bounded; when the
 * buffer is full the reading is dropped and counted, never blocked on).
 *
 * Usage: sensor [-h host] [-p port] [-i id] [-n count] [-t interval_ms] [-s store_dir] [-5]
 * Prints one line per reading the broker acknowledged: "ack <seq>".
 * Owns: its client. Thread: main (fd mode, tern_client_run).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tern/client.h"

static volatile sig_atomic_t stop;

static void on_sig(int s)
{
    (void)s;
    stop = 1;
}

static void on_connect(tern_client *c, void *ud, const struct tern_connect_event *ev)
{
    (void)c;
    (void)ud;
    fprintf(stderr, "sensor: connected (rc %u, session present %d)\n", ev->rc, ev->session_present);
}

static void on_disconnect(tern_client *c, void *ud, const struct tern_disconnect_event *ev)
{
    (void)c;
    (void)ud;
    fprintf(stderr, "sensor: disconnected: %s%s\n", tern_client_strerror(ev->err),
            ev->will_reconnect ? " (will reconnect)" : "");
}

static void on_publish(tern_client *c, void *ud, const struct tern_publish_event *ev)
{
    (void)c;
    (void)ud;
    printf("ack %llu\n", (unsigned long long)ev->mid);
    fflush(stdout);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv)
{
    struct tern_client_opts o;
    tern_client_opts_init(&o);
    const char *id = "sensor-1";
    long count = -1, interval = 1000;
    int opt;
    while ((opt = getopt(argc, argv, "h:p:i:n:t:s:5")) != -1) {
        switch (opt) {
        case 'h': o.host = optarg; break;
        case 'p': o.port = (uint16_t)atoi(optarg); break;
        case 'i': id = optarg; break;
        case 'n': count = atol(optarg); break;
        case 't': interval = atol(optarg); break;
        case 's': o.store_dir = optarg; break;
        case '5': o.version = TERN_V5; break;
        default:
            fprintf(stderr, "usage: sensor [-h host] [-p port] [-i id] [-n count] "
                            "[-t interval_ms] [-s store_dir] [-5]\n");
            return 2;
        }
    }
    o.client_id = id;
    o.clean = false;
    o.session_expiry = o.version == TERN_V5 ? 3600 : 0;
    o.keepalive = 5; /* notice a silent network drop within ~10 s */
    o.reconnect_min_ms = 200;
    o.reconnect_max_ms = 5000;
    o.max_queued = 1000; /* about 16 minutes of readings at 1/s */
    o.cb.on_connect = on_connect;
    o.cb.on_disconnect = on_disconnect;
    o.cb.on_publish = on_publish;
    signal(SIGINT, on_sig);
    signal(SIGTERM, on_sig);
    tern_client *c;
    if (tern_client_new(&o, &c)) {
        fprintf(stderr, "sensor: %s\n", tern_client_last_error());
        return 1;
    }
    char topic[128];
    snprintf(topic, sizeof topic, "sensors/%s/temperature", id);
    tern_client_connect(c); /* failures are retried by the library */
    long long next = now_ms();
    long sent = 0, dropped = 0;
    while (!stop) {
        if ((count < 0 || sent < count) && now_ms() >= next) {
            char p[64];
            int n = snprintf(p, sizeof p, "%ld %.1f", sent, 20.0 + (double)(sent % 50) / 10.0);
            int err = tern_client_publish(c, topic, p, (size_t)n, 1, false, NULL, NULL);
            if (err == -TERN_EQUEUEFULL)
                dropped++; /* offline too long: the oldest readings are the ones kept */
            else if (err)
                fprintf(stderr, "sensor: %s\n", tern_client_last_error());
            sent++;
            next += interval;
        }
        size_t q = 0;
        tern_client_queued(c, &q, NULL);
        if (count >= 0 && sent >= count && q == 0)
            break;
        long long wait = next - now_ms();
        tern_client_run(c, wait < 0 ? 0 : wait > 1000 ? 1000 : (int)wait);
    }
    if (dropped)
        fprintf(stderr, "sensor: %ld readings dropped while offline\n", dropped);
    tern_client_disconnect(c, 0, NULL);
    for (int i = 0; i < 50 && tern_client_state(c) != TERN_CS_IDLE; i++)
        tern_client_run(c, 20);
    tern_client_free(c);
    return 0;
}
