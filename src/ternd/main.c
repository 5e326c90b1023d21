/* SPDX-License-Identifier: MIT */
/*
 * src/ternd/main.c - ternd, the MQTT broker daemon: command line and configuration file
 * (config.c), logging, signals, and the broker core's start and stop.
 *
 * Signals: SIGINT/SIGTERM stop gracefully (5.0 clients get DISCONNECT 0x8B); SIGHUP reloads
 * the configuration file: a file with an error is rejected whole and the running settings
 * stay; settings that need a restart (listeners, workers) are logged and left as they were.
 * The main thread waits for signals with sigwait; every other thread has them blocked.
 *
 * Owns: the running tn_config and the broker. Thread: the main thread.
 */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"
#include "config.h"
#include "log.h"

#ifndef TERN_VERSION
#define TERN_VERSION "0.0.0"
#endif

static void to_broker_conf(const struct tn_config *c, struct tn_broker_conf *b)
{
    tn_broker_conf_defaults(b);
    for (int i = 0; i < c->n_listeners && i < TN_BROKER_MAX_LISTENERS; i++) {
        snprintf(b->listeners[i].host, sizeof(b->listeners[i].host), "%s", c->listeners[i].host);
        b->listeners[i].port = c->listeners[i].port;
    }
    b->n_listeners =
        c->n_listeners < TN_BROKER_MAX_LISTENERS ? c->n_listeners : TN_BROKER_MAX_LISTENERS;
    b->workers = c->workers > 0 ? (unsigned)c->workers : 0;
    b->allow_anonymous = c->allow_anonymous;
    b->max_connections = c->max_connections;
    b->max_keepalive = c->max_keepalive;
    b->max_packet_size = c->max_packet_size;
    b->message_size_limit = c->message_size_limit;
    b->max_inflight_messages = c->max_inflight_messages;
    b->max_queued_messages = c->max_queued_messages;
    b->max_queued_bytes = c->max_queued_bytes;
    b->queue_qos0_messages = c->queue_qos0_messages;
    b->retain_available = c->retain_available;
    b->persistent_client_expiration = c->persistent_client_expiration;
    b->sys_interval = c->sys_interval;
    b->connection_messages = c->connection_messages;
    snprintf(b->server_reference, sizeof(b->server_reference), "%s", c->server_reference);
    b->max_qos = c->max_qos;
    b->max_topic_alias = c->max_topic_alias;
    b->allow_zero_length_clientid = c->allow_zero_length_clientid;
    snprintf(b->auto_id_prefix, sizeof(b->auto_id_prefix), "%s", c->auto_id_prefix);
    b->set_tcp_nodelay = c->set_tcp_nodelay;
    b->upgrade_outgoing_qos = c->upgrade_outgoing_qos;
}

/* Options accepted for mosquitto files whose effect is not there (yet): say so once. */
static void log_accepted_only(const struct tn_config *c, const struct tn_config *old)
{
    if (c->persistence && !(old && old->persistence))
        tn_log(TN_L_WARNING,
               "Warning: persistence true: durable persistence is not supported yet; sessions "
               "and retained messages are kept in memory only and lost at a restart "
               "(nothing is written to %s).",
               c->persistence_location[0] ? c->persistence_location : "the current directory");
    if (c->dup_msgs_set && !old)
        tn_log(TN_L_NOTICE, "allow_duplicate_messages is deprecated (mosquitto 2 ignores it) and "
                            "has no effect: ternd sends a message once per client however many "
                            "of its subscriptions match.");
}

/* mosquitto's pid_file: written once the listeners are open, removed at a graceful stop. */
static int pid_file_write(const char *path)
{
    FILE *f;

    if (!path[0])
        return 0;
    f = fopen(path, "w");
    if (!f || fprintf(f, "%ld\n", (long)getpid()) < 0 || fclose(f) != 0) {
        int e = errno;
        tn_log(TN_L_ERR, "Error: cannot write pid file %s: %s", path, strerror(e));
        fprintf(stderr, "ternd: cannot write pid file %s (option pid_file): %s\n", path,
                strerror(e));
        return -1;
    }
    return 0;
}

static void pid_file_remove(const char *path)
{
    if (path[0] && unlink(path) < 0 && errno != ENOENT)
        tn_log(TN_L_WARNING, "Warning: cannot remove pid file %s: %s", path, strerror(errno));
}

static int apply_log(const struct tn_config *c)
{
    /* config.h's TN_LOG_* bits are log.h's TN_L_* bits; -v adds the per-packet lines */
    unsigned types = c->log_type | (c->verbose ? TN_L_PACKET | TN_L_DEBUG : 0);
    return tn_log_setup(types, c->log_dest, c->log_file, c->log_timestamp);
}

/* mosquitto's `user`: started as root, become `user` (and its primary group) now that the
 * listening sockets are open. Not root, or "root", or no `user` line: nothing to do. */
static int drop_privileges(const char *user)
{
    struct passwd *pw;

    if (!user[0] || strcmp(user, "root") == 0 || geteuid() != 0)
        return 0;
    pw = getpwnam(user);
    if (!pw) {
        tn_log(TN_L_ERR, "Error: user '%s' (option user) does not exist.", user);
        fprintf(stderr, "ternd: user '%s' (option user) does not exist\n", user);
        return -1;
    }
    if (initgroups(user, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        tn_log(TN_L_ERR, "Error: cannot become user '%s': %s", user, strerror(errno));
        fprintf(stderr, "ternd: cannot become user '%s': %s\n", user, strerror(errno));
        return -1;
    }
    tn_log(TN_L_NOTICE, "Running as user %s.", user);
    return 0;
}

/* Every connection is a descriptor: raise the soft limit to the hard one (what a service
 * manager's LimitNOFILE= grants) so that 100,000 clients need no `ulimit -n` by hand. */
static void raise_fd_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
        return;
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
        tn_log(TN_L_WARNING, "Warning: cannot raise the open file limit: %s", strerror(errno));
}

/* Output buffers come and go with every burst (a connection keeps none while idle). glibc's
 * defaults give the top of the heap back to the kernel, or mmap a buffer past 128 KiB, and
 * then fault the pages in again, zeroed, on the next burst: a tenth of a fan-out's time went
 * to page faults. Keep up to 64 MiB of freed heap for reuse instead. */
static void tune_malloc(void)
{
    mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
}

int main(int argc, char **argv)
{
    static struct tn_config cfg, neu;
    struct tn_broker_conf bc;
    struct tn_broker *b;
    char err[1024], buf[96];
    sigset_t set;
    int rc, sig;

    tn_config_defaults(&cfg);
    rc = tn_config_from_args(&cfg, argc, argv, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "ternd: %s\n", err);
        return 2;
    }
    if (rc == 1) {
        if (cfg.print_version)
            printf("ternd %s\n", TERN_VERSION);
        return 0;
    }
    rc = apply_log(&cfg);
    if (rc < 0) {
        fprintf(stderr, "ternd: cannot open log file %s: %s\n", cfg.log_file, strerror(-rc));
        return 1;
    }

    /* block the signals before any thread exists, so only sigwait below sees them */
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    tn_log(TN_L_NOTICE, "ternd version %s starting", TERN_VERSION);
    if (cfg.path[0])
        tn_log(TN_L_NOTICE, "Config loaded from %s.", cfg.path);
    if (cfg.local_only)
        tn_log(TN_L_NOTICE, "Starting in local only mode. Connections will only be possible "
                            "from clients running on this machine.");
    log_accepted_only(&cfg, NULL);
    raise_fd_limit();
    tune_malloc();
    to_broker_conf(&cfg, &bc);
    b = tn_broker_new(&bc, err, sizeof(err));
    if (!b) {
        tn_log(TN_L_ERR, "Error: %s", err);
        fprintf(stderr, "ternd: %s\n", err);
        return 1;
    }
    for (int i = 0; i < cfg.n_listeners; i++) {
        struct tn_listener_conf l = cfg.listeners[i];
        l.port = tn_broker_port(b, i);
        tn_log(TN_L_NOTICE, "Opening listen socket on %s.",
               tn_config_listener_str(&l, buf, sizeof(buf)));
    }
    /* before dropping root: /run/mosquitto-like directories are often root's */
    if (pid_file_write(cfg.pid_file) < 0) {
        tn_broker_free(b);
        return 1;
    }
    if (drop_privileges(cfg.user) < 0) {
        pid_file_remove(cfg.pid_file);
        tn_broker_free(b);
        return 1;
    }
    rc = tn_broker_start(b);
    if (rc < 0) {
        tn_log(TN_L_ERR, "Error: cannot start workers: %s", strerror(-rc));
        return 1;
    }
    tn_log(TN_L_NOTICE, "ternd version %s running", TERN_VERSION);

    for (;;) {
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            char msg[1024] = "";
            tn_log(TN_L_NOTICE, "Reloading config.");
            if (!cfg.path[0]) {
                tn_log(TN_L_NOTICE, "No config file: nothing to reload.");
                continue;
            }
            if (tn_config_reload(&neu, &cfg, err, sizeof(err)) < 0) {
                tn_log(TN_L_ERR, "Error: config not reloaded, keeping the running one: %s", err);
                continue;
            }
            if (tn_config_restart_needed(&cfg, &neu, msg, sizeof(msg)) > 0) {
                char *line = strtok(msg, "\n");
                for (; line; line = strtok(NULL, "\n"))
                    tn_log(TN_L_WARNING, "Needs a restart, not applied: %s", line);
                /* keep what cannot change while running */
                memcpy(neu.listeners, cfg.listeners, sizeof(neu.listeners));
                neu.n_listeners = cfg.n_listeners;
                neu.workers = cfg.workers;
                memcpy(neu.pid_file, cfg.pid_file, sizeof(neu.pid_file));
            }
            log_accepted_only(&neu, &cfg);
            cfg = neu;
            apply_log(&cfg);
            to_broker_conf(&cfg, &bc);
            tn_broker_reload(b, &bc);
            tn_log(TN_L_NOTICE, "Config reloaded.");
            continue;
        }
        tn_log(TN_L_NOTICE, "ternd version %s terminating", TERN_VERSION);
        break;
    }
    tn_broker_stop(b);
    tn_broker_free(b);
    pid_file_remove(cfg.pid_file);
    return 0;
}
