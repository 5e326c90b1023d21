/* SPDX-License-Identifier: MIT */
/*
 * src/ternd/config.h - ternd's settings: defaults, the Mosquitto-format configuration file
 * (ternd.conf, reference in docs/ternd.conf.md) and the command line.
 *
 * Owns: struct tn_config, a plain value (no pointers, copyable with `=`). The broker gets an
 *       immutable copy; a SIGHUP reload builds a new one with tn_config_reload() and asks
 *       tn_config_restart_needed() which changes cannot apply at run time.
 * Thread: the main thread parses; nothing here keeps state between calls (no getopt).
 *
 * Use at start-up:
 *     struct tn_config c; char err[512];
 *     tn_config_defaults(&c);
 *     int r = tn_config_from_args(&c, argc, argv, err, sizeof err);
 *     if (r < 0) { fprintf(stderr, "ternd: %s\n", err); return 2; }   // usage or file error
 *     if (r > 0) return 0;                // -h, -V (c.print_version set) or --test-config done
 *     // c.listeners[0..n_listeners) are final; c.local_only says the loopback default is used.
 */
#ifndef TN_TERND_CONFIG_H
#define TN_TERND_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TN_MAX_LISTENERS 16
#define TN_CONFIG_PATH_MAX 4096

struct tn_listener_conf {
    char host[64]; /* numeric IPv4 or IPv6 (canonical inet_ntop form, no brackets), or ""
                      = all interfaces, IPv4 and IPv6 (like mosquitto) */
    uint16_t port; /* 1..65535 */
};

enum {
    TN_LOG_ERR = 1,
    TN_LOG_WARNING = 2,
    TN_LOG_NOTICE = 4,
    TN_LOG_INFO = 8,
    TN_LOG_DEBUG = 16,
    TN_LOG_SUBSCRIBE = 32,
    TN_LOG_UNSUBSCRIBE = 64,
    TN_LOG_WEBSOCKETS = 128,
    TN_LOG_ALL = 255
};

enum { TN_LOGDEST_STDERR = 1, TN_LOGDEST_STDOUT = 2, TN_LOGDEST_FILE = 4, TN_LOGDEST_SYSLOG = 8 };

struct tn_config {
    char
        path[TN_CONFIG_PATH_MAX]; /* config file (absolute when it could be resolved), "" if none */
    struct tn_listener_conf listeners[TN_MAX_LISTENERS];
    int n_listeners;
    bool local_only;             /* no listener was configured in the file: loopback only */
    bool allow_anonymous;        /* default false; true in local-only mode unless the file set it */
    uint32_t max_connections;    /* whole broker; 0 = unlimited (file: -1 or 0) */
    uint16_t max_keepalive;      /* 10..65535, default 65535 (v5 Server Keep Alive cap) */
    uint32_t max_packet_size;    /* 0 = no limit beyond the protocol's; else 20..268435460 */
    uint32_t message_size_limit; /* payload bytes; 0 = none; at most 268435455 */
    uint16_t max_inflight_messages;       /* per client outgoing QoS 1/2 window; default 20;
                                             0 = no limit of ours (the client's Receive Maximum) */
    uint32_t max_queued_messages;         /* default 1000; 0 = unlimited */
    uint64_t max_queued_bytes;            /* default 0 = unlimited */
    bool queue_qos0_messages;             /* default false */
    bool retain_available;                /* default true */
    int64_t persistent_client_expiration; /* seconds; -1 = never (default) */
    uint32_t sys_interval;             /* seconds, default 10; 0 = $SYS disabled; at most 65535 */
    unsigned log_dest;                 /* TN_LOGDEST_* bits, default stderr; 0 = none */
    char log_file[TN_CONFIG_PATH_MAX]; /* when log_dest has TN_LOGDEST_FILE */
    unsigned log_type;                 /* TN_LOG_* bits; default error|warning|notice|information */
    bool log_timestamp;                /* default true */
    bool connection_messages;          /* default true */
    int workers;                       /* tern's own; 0 = one per online CPU ("auto", default) */
    char server_reference[256];        /* tern's own; "" = none (see docs/ternd.conf.md) */
    char user[64];                     /* drop root to this user after binding; "" = stay */
    char pid_file[TN_CONFIG_PATH_MAX]; /* written once listening; "" = none (not reloaded) */
    uint8_t max_qos;                   /* 0..2, default 2: highest QoS a client may use */
    uint16_t max_topic_alias;          /* Topic Alias Maximum for 5.0 clients, default 10 */
    bool allow_zero_length_clientid;   /* default true: assign an id to an empty one */
    char auto_id_prefix[64];           /* default "auto-": prefix of assigned client ids */
    bool set_tcp_nodelay;              /* default true (mosquitto: false) */
    bool upgrade_outgoing_qos;         /* default false: deliver at the subscription's QoS */
    bool check_retain_source;          /* default true; no effect until access control exists */
    /* Persistence: accepted, not implemented yet (main logs one warning when true). */
    bool persistence;                              /* default false */
    char persistence_location[TN_CONFIG_PATH_MAX]; /* default "" (current directory) */
    char persistence_file[256];                    /* default "mosquitto.db" */
    uint32_t autosave_interval;                    /* seconds or changes, default 1800 */
    bool autosave_on_changes;                      /* default false */
    bool verbose; /* -v: log every packet (also sets log_type to all) */

    /* Command line, kept so that tn_config_reload() can apply it again on top of the file. */
    uint16_t cli_ports[TN_MAX_LISTENERS]; /* -p PORT, in order */
    int n_cli_ports;
    bool test_config;   /* --test-config was given */
    bool print_version; /* -V/--version: tn_config_from_args returned 1, main prints */

    /* Parser bookkeeping, read when the listeners are made final. Not for the broker. */
    bool anon_set;     /* allow_anonymous appeared in the file */
    bool def_listener; /* port or bind_address appeared in the file */
    uint16_t def_port; /* port (default 1883) */
    char def_host[64]; /* bind_address ("" = all; "localhost" = 127.0.0.1 + ::1) */
    unsigned def_line; /* line of the last port / bind_address, for messages */
    bool dup_msgs_set; /* allow_duplicate_messages appeared (deprecated; main says so) */
    bool finished;     /* tn_config_finish() ran */
};

/* Fill every field with its default (mosquitto's, unless docs/ternd.conf.md says otherwise).
 * No listener yet: they are made final by tn_config_from_args() / tn_config_reload(). */
void tn_config_defaults(struct tn_config *c);

/* Parse a file on top of what c holds (normally defaults). Sets c->path. On error returns a
 * negative errno (-EINVAL for a bad line, the open/read error otherwise) and writes
 * "FILE:LINE: option: reason" (or "FILE: reason" for open/read errors) into err. An
 * `include_dir DIR` line reads DIR's *.conf files there and then, in mosquitto's order; an
 * error in one of them names that file and its line. */
int tn_config_load_file(struct tn_config *c, const char *path, char *err, size_t errlen);

/* Parse ternd's command line (argv[0] is the program name):
 *   -c, --config FILE   load FILE          -p, --port PORT   listen on PORT (repeatable)
 *   -v, --verbose       log everything      -h, --help        print usage to stdout
 *   -V, --version       set print_version   --test-config     check, print a summary, exit
 *   -d, --daemon        rejected: "not supported" (run ternd under a service manager)
 * then load the file and make the listeners final. Returns 0 = run the broker, 1 = exit with
 * status 0 (help printed, version wanted, or --test-config passed and printed its summary to
 * stdout), negative = usage or configuration error (message in err, no trailing newline). */
int tn_config_from_args(struct tn_config *c, int argc, char **argv, char *err, size_t errlen);

/* Make the listener list final from the file's listeners, its default listener (port /
 * bind_address), the -p ports and the local-only rule (see docs/ternd.conf.md). Called by
 * tn_config_from_args() and tn_config_reload(); call it yourself only after a bare
 * tn_config_load_file(). Calling it twice is an error. 0 or -EINVAL (message in err). */
int tn_config_finish(struct tn_config *c, char *err, size_t errlen);

/* For SIGHUP: build `neu` from old's file path and old's command line (-p, -v), exactly as at
 * start-up. On error `neu` is unusable, old stays in force; message in err. */
int tn_config_reload(struct tn_config *neu, const struct tn_config *old, char *err, size_t errlen);

void tn_config_usage(FILE *out);

/* For SIGHUP reload: fill msg with one human line ('\n'-terminated) per setting that changed
 * but needs a restart (listeners, workers); return the number of such settings (0: all of
 * the new config can apply at run time). msg may be NULL when msglen is 0. */
int tn_config_restart_needed(const struct tn_config *old, const struct tn_config *neu, char *msg,
                             size_t msglen);

/* "127.0.0.1:1883", "[::1]:1883" or "*:1883" into buf (always terminated). Returns buf. */
const char *tn_config_listener_str(const struct tn_listener_conf *l, char *buf, size_t n);

#endif
