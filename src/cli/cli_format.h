/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_format.h - how tern sub and tern rr print a received message: payload only,
 * -v (topic and payload), or -F FORMAT with mosquitto_sub's %, @ and \ sequences, including
 * the %j / %J JSON objects (compact, or indented with --pretty, laid out as mosquitto_sub's
 * cJSON output so scripts parsing one parse the other).
 *
 * Owns: nothing; prints into the caller's FILE.
 * Thread: the thread that owns `out`.
 */
#ifndef TERN_CLI_FORMAT_H
#define TERN_CLI_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "tern/codec.h"

/* One received message, borrowed from the caller for the duration of the call. */
struct tn_cli_msg {
    tern_slice topic;
    tern_slice payload;
    uint8_t qos;
    bool retain;
    uint16_t mid;                   /* packet id; 0 for QoS 0 */
    const struct tern_props *props; /* as decoded (props->raw valid), or NULL (3.1.1) */
    const char *client_id;          /* for %i; may be NULL */
};

/* How to print. */
struct tn_cli_out {
    const char *format; /* -F, or NULL */
    bool verbose;       /* -v */
    bool eol;           /* newline after each message (false with -N) */
    bool pretty;        /* --pretty */
};

/* Print one message. `now` is the time stamp used by %I %U %j %J and @ sequences. Returns 0,
 * or -EINVAL when %J met a payload that is not JSON (the rest of the format is printed; the
 * caller reports the error). */
int tn_cli_print_msg(FILE *out, const struct tn_cli_out *o, const struct tn_cli_msg *m,
                     const struct timespec *now);

/* Check a -F format as mosquitto_sub does before connecting: every % sequence complete and
 * known, every \ escape known, no lone @ at the end. Returns 0, or -EINVAL with a message in
 * err. */
int tn_cli_format_check(const char *fmt, char *err, size_t cap);

/* ---- JSON (cli_json.c) -------------------------------------------------------------------- */

/* Write p[0..n) as a quoted JSON string, escaped as cJSON does (\" \\ \b \f \n \r \t, other
 * bytes below 0x20 as \u00XX, everything else as it is). */
void tn_json_write_str(FILE *out, const uint8_t *p, size_t n);

/* Whether p[0..n) is one JSON value (surrounding white space allowed). */
bool tn_json_is_valid(const uint8_t *p, size_t n);

/* Parse p[0..n) as one JSON value and print it again, compact or (pretty) indented with tabs
 * starting at `depth` as cJSON_Print does. Returns 0, or -EINVAL (nothing written) if p is not
 * JSON. */
int tn_json_reprint(FILE *out, const uint8_t *p, size_t n, bool pretty, unsigned depth);

/* Print a number as cJSON does (integers plainly, others with %1.15g or %1.17g). */
void tn_json_write_number(FILE *out, double d);

#endif
