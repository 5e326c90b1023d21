/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_opts.h - the command line of tern pub, tern sub and tern rr: one configuration
 * struct and one parser, with the flags of mosquitto_pub / mosquitto_sub / mosquitto_rr and
 * the same meanings, so a user can swap the program name and keep the rest.
 *
 * Owns: struct tn_cli_cfg owns the arrays it allocates (topic lists, User Property arrays,
 * the generated client id); every string in it is borrowed from argv, which outlives it.
 * Thread: the main thread only.
 */
#ifndef TERN_CLI_OPTS_H
#define TERN_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "tern/codec.h"

/* Exit statuses. mosquitto_sub exits 27 when -W expires; tern keeps that number. */
#define TN_CLI_EXIT_OK 0
#define TN_CLI_EXIT_ERR 1
#define TN_CLI_EXIT_TIMEOUT 27

/* tn_cli_parse result for --help (not an error: print usage, exit 0). */
#define TN_CLI_HELP 1

enum tn_cli_tool {
    TN_CLI_PUB,
    TN_CLI_SUB,
    TN_CLI_RR,
};

/* What tern pub sends: -m, -f, -l, -n, -s. */
enum tn_cli_msg_mode {
    TN_CLI_MSG_NONE = 0,
    TN_CLI_MSG_STRING, /* -m */
    TN_CLI_MSG_FILE,   /* -f: the whole file as one message */
    TN_CLI_MSG_LINES,  /* -l: one message per line of stdin */
    TN_CLI_MSG_NULL,   /* -n: a zero-length message */
    TN_CLI_MSG_STDIN,  /* -s: all of stdin as one message */
};

/* The packets -D may put properties in (its "command" word). */
enum tn_cli_pcmd {
    TN_CLI_PCMD_CONNECT = 0,
    TN_CLI_PCMD_PUBLISH,
    TN_CLI_PCMD_SUBSCRIBE,
    TN_CLI_PCMD_UNSUBSCRIBE,
    TN_CLI_PCMD_DISCONNECT,
    TN_CLI_PCMD_WILL,
    TN_CLI_PCMD_COUNT,
};

/* The properties given with -D for one packet. props.user points at user[] (owned). */
struct tn_cli_props {
    struct tern_props props;
    struct tern_strpair *user; /* owned array, user_n entries (props.user_n) */
    size_t user_cap;
    bool any; /* a -D was given for this packet */
};

/* A growable list of borrowed strings (-t, -U, -T). */
struct tn_cli_strv {
    const char **v; /* owned array of borrowed strings */
    size_t n, cap;
};

struct tn_cli_cfg {
    enum tn_cli_tool tool;
    const char *prog; /* "tern pub", for messages */

    /* connection */
    const char *host;
    uint16_t port;         /* 0: 1883, or 8883 with TLS */
    uint8_t version;       /* TERN_V31, TERN_V311 or TERN_V5 */
    const char *id;        /* -i, or the generated id (id_buf) */
    const char *id_prefix; /* -I */
    char id_buf[64];
    const char *username, *password;
    uint16_t keepalive;
    bool clean;              /* false with -c */
    bool session_expiry_set; /* -x given */
    uint32_t session_expiry; /* -x; 0xFFFFFFFF for "never" */
    bool nodelay;            /* accepted for compatibility; libtern always sets TCP_NODELAY */

    /* will */
    const char *will_topic;
    const char *will_payload;
    uint8_t will_qos;
    bool will_retain;

    /* TLS */
    bool tls; /* any TLS option given, or an mqtts:// URL */
    const char *cafile, *capath, *cert, *key, *tls_version;
    bool insecure;

    /* messages */
    uint8_t qos;
    bool retain;
    struct tn_cli_strv topics;       /* -t */
    struct tn_cli_strv unsub_topics; /* -U (sub) */
    struct tn_cli_strv filter_outs;  /* -T (sub) */
    enum tn_cli_msg_mode msg_mode;
    const char *message;        /* -m */
    const char *file;           /* -f */
    long repeat;                /* --repeat: publish this many times (>= 1) */
    double repeat_delay;        /* --repeat-delay: seconds between repeats */
    const char *response_topic; /* -e (rr) */

    /* output */
    bool debug, quiet, verbose, pretty, trace;
    bool eol;            /* false with -N */
    const char *format;  /* -F */
    long msg_count;      /* -C: 0 = unlimited */
    long timeout;        /* -W seconds: 0 = none */
    bool no_retain;      /* -R */
    bool exit_after_sub; /* -E */
    bool retained_only, remove_retained;

    struct tn_cli_props props[TN_CLI_PCMD_COUNT];
};

/* Zero the struct and set mosquitto's defaults for `tool` (host localhost, keepalive 60,
 * clean session, MQTT 3.1.1 for pub/sub and 5 for rr). */
void tn_cli_cfg_init(struct tn_cli_cfg *cfg, enum tn_cli_tool tool);
/* Free what the struct owns. Accepts a zeroed struct. */
void tn_cli_cfg_fini(struct tn_cli_cfg *cfg);

/* Parse argv[1..argc) (argv[0] is the subcommand name). Returns 0 on success, TN_CLI_HELP
 * for --help, or -1 after printing what is wrong to stderr. On success every cross-option rule
 * of mosquitto's tools has been checked and the client id, if none was given, generated. */
int tn_cli_parse(struct tn_cli_cfg *cfg, int argc, char **argv);

/* What every subcommand does first: init cfg for tool and parse argv. Returns -1 when the
 * command should run (cfg is ready), otherwise the exit status to return at once (usage
 * printed for --help, or the error already reported); cfg is then released. */
int tn_cli_setup(struct tn_cli_cfg *cfg, enum tn_cli_tool tool, int argc, char **argv);

/* Print the usage of cfg->tool to out. */
void tn_cli_usage(enum tn_cli_tool tool, FILE *out);

/* The port to connect to: -p, or the default for plain or TLS. */
uint16_t tn_cli_port(const struct tn_cli_cfg *cfg);

/* Name of a -D property ("message-expiry-interval") for a property id, or NULL. Writes into
 * buf (at least 48 bytes). */
const char *tn_cli_prop_name(unsigned id, char *buf, size_t cap);

#endif
