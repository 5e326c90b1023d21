/* SPDX-License-Identifier: MIT */
/*
 * src/ternd/main.c - entry point of ternd, the MQTT broker.
 *
 * The broker itself arrives with the issue "ternd single-node broker". Until then this
 * program parses its command line, says plainly that the broker is not implemented, and
 * exits with status 1, so `make run` and any script starting ternd fail loudly instead of
 * pretending to serve.
 *
 * Owns: nothing beyond its arguments.
 * Thread: the main thread only.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef TERN_VERSION
#define TERN_VERSION "0.0.0"
#endif

#define DEFAULT_LISTEN "127.0.0.1:1883"

static void usage(FILE *out)
{
    fprintf(out, "Usage: ternd [-h] [-V] [-l HOST:PORT] [-c FILE]\n"
                 "\n"
                 "ternd is tern's MQTT 3.1 / 3.1.1 / 5.0 broker.\n"
                 "\n"
                 "  -l HOST:PORT  address to listen on (default " DEFAULT_LISTEN ")\n"
                 "  -c FILE       configuration file\n"
                 "  -V            print the version and exit\n"
                 "  -h            print this help and exit\n"
                 "\n"
                 "Status: the broker is not implemented yet; it arrives with the issue\n"
                 "\"ternd single-node broker\". This build provides the codec only.\n");
}

/* Accepts "HOST:PORT" or "[V6ADDR]:PORT" with a port of 1..65535. Only the shape is checked:
 * resolving HOST is the listener's job. */
static int listen_arg_is_valid(const char *s)
{
    const char *colon = strrchr(s, ':');
    char *end = NULL;
    long port;

    if (!colon || colon == s || colon[1] == '\0')
        return 0;
    port = strtol(colon + 1, &end, 10);
    return *end == '\0' && port >= 1 && port <= 65535;
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {"listen", required_argument, NULL, 'l'},
        {"config", required_argument, NULL, 'c'},
        {NULL, 0, NULL, 0},
    };
    const char *listen_addr = DEFAULT_LISTEN;
    int c;

    while ((c = getopt_long(argc, argv, "hVl:c:", longopts, NULL)) != -1) {
        switch (c) {
        case 'h': usage(stdout); return 0;
        case 'V':
            printf("ternd %s (MQTT 3.1, 3.1.1, 5.0 codec; broker not implemented yet)\n",
                   TERN_VERSION);
            return 0;
        case 'l': listen_addr = optarg; break;
        case 'c': break;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "ternd: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (!listen_arg_is_valid(listen_addr)) {
        fprintf(stderr, "ternd: -l wants HOST:PORT with a port of 1..65535, got '%s'\n",
                listen_addr);
        return 2;
    }

    fprintf(stderr, "ternd: the broker is not implemented yet (see issue: ternd single-node "
                    "broker); this build provides the codec only\n");
    return 1;
}
