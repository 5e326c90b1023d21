/* SPDX-License-Identifier: MIT */
/*
 * src/cli/main.c - entry point of tern, the command-line tool.
 *
 * Subcommands: pub, sub and rr (mosquitto_pub / mosquitto_sub / mosquitto_rr work-alikes over
 * libtern), bench (load generator), rc (names MQTT reason codes, handy when reading a log that
 * says "disconnect rc=0x87") and version. passwd is planned and says so.
 *
 * Owns: nothing beyond its arguments.
 * Thread: the main thread only.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "tern/codec.h"

#ifndef TERN_VERSION
#define TERN_VERSION "0.0.0"
#endif

/* Subcommands that exist in the plan but not yet in the code. */
static const struct {
    const char *name;
    const char *what;
} planned[] = {
    {"passwd", "manage a ternd password file"},
};

static void usage(FILE *out)
{
    size_t i;

    fprintf(out, "Usage: tern COMMAND [ARGS]\n"
                 "\n"
                 "Commands:\n"
                 "  pub                publish a message (like mosquitto_pub)\n"
                 "  sub                subscribe and print messages (like mosquitto_sub)\n"
                 "  rr                 send a request, print the response (like mosquitto_rr)\n"
                 "  bench              load-test a broker\n"
                 "  rc [-v] [CODE...]  name MQTT 5 reason codes (0x87 or 135); all of them\n"
                 "                     when no CODE is given; -v adds the packets that may\n"
                 "                     carry each code and the closest 3.1.1 CONNACK code\n"
                 "  version            print the version\n"
                 "  help               print this help\n"
                 "'tern COMMAND --help' describes a command's options.\n"
                 "\n"
                 "Planned, not implemented yet:\n");
    for (i = 0; i < sizeof(planned) / sizeof(planned[0]); i++)
        fprintf(out, "  %-18s %s\n", planned[i].name, planned[i].what);
}

/* "0x87" (hex) or "135" (decimal) -> 0..255. */
static int parse_rc(const char *s, uint8_t *out)
{
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    const char *digits = hex ? s + 2 : s;
    char *end = NULL;
    unsigned long v;

    if (*digits == '\0' || *digits == '-' || *digits == '+')
        return -EINVAL;
    errno = 0;
    v = strtoul(digits, &end, hex ? 16 : 10);
    if (errno || *end != '\0' || v > 0xFF)
        return -EINVAL;
    *out = (uint8_t)v;
    return 0;
}

static bool rc_is_known(uint8_t rc)
{
    return strcmp(tern_rc_name(rc), "Unknown") != 0;
}

static void print_rc(uint8_t rc, bool verbose)
{
    unsigned t;
    bool any = false;

    if (!verbose) {
        printf("0x%02X %s\n", rc, tern_rc_name(rc));
        return;
    }
    printf("0x%02X %-40s", rc, tern_rc_name(rc));
    for (t = TERN_CONNACK; t <= TERN_AUTH; t++) {
        if (tern_rc_is_valid_for(t, rc)) {
            printf("%s%s", any ? " " : "in: ", tern_ptype_name(t));
            any = true;
        }
    }
    if (tern_rc_is_valid_for(TERN_CONNACK, rc))
        printf("; 3.1.1 CONNACK 0x%02X", tern_rc_to_connack311(rc));
    printf("\n");
}

static int cmd_rc(int argc, char **argv)
{
    bool verbose = false;
    int i = 1, status = 0;
    unsigned v;

    if (i < argc && (strcmp(argv[i], "-v") == 0 || strcmp(argv[i], "--verbose") == 0)) {
        verbose = true;
        i++;
    }
    if (i == argc) {
        for (v = 0; v <= 0xFF; v++)
            if (rc_is_known((uint8_t)v))
                print_rc((uint8_t)v, verbose);
        return 0;
    }
    for (; i < argc; i++) {
        uint8_t rc;

        if (parse_rc(argv[i], &rc) < 0) {
            fprintf(stderr, "tern rc: '%s' is not a reason code (0x00-0xFF or 0-255)\n", argv[i]);
            status = 2;
            continue;
        }
        print_rc(rc, verbose);
        if (!rc_is_known(rc) && status == 0)
            status = 1;
    }
    return status;
}

int main(int argc, char **argv)
{
    const char *cmd = argc > 1 ? argv[1] : NULL;
    size_t i;

    if (!cmd) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version") || !strcmp(cmd, "-V")) {
        printf("tern %s\n", TERN_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "rc"))
        return cmd_rc(argc - 1, argv + 1);
    if (!strcmp(cmd, "pub"))
        return tern_cmd_pub(argc - 1, argv + 1);
    if (!strcmp(cmd, "sub"))
        return tern_cmd_sub(argc - 1, argv + 1);
    if (!strcmp(cmd, "rr"))
        return tern_cmd_rr(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return tern_cmd_bench(argc - 1, argv + 1);
    for (i = 0; i < sizeof(planned) / sizeof(planned[0]); i++) {
        if (!strcmp(cmd, planned[i].name)) {
            fprintf(stderr, "tern %s: not implemented yet\n", cmd);
            return 1;
        }
    }
    fprintf(stderr, "tern: unknown command '%s' (try 'tern help')\n", cmd);
    return 2;
}
