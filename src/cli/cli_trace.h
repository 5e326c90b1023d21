/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_trace.h - `--trace` (and -d): one line per MQTT packet sent or received, with a
 * time stamp and the packet's fields, e.g.
 *     12:00:01.123456 -> PUBLISH id=1 qos=2 topic=a payload=5B
 *     12:00:01.124001 <- PUBREC id=1
 *
 * Owns: nothing; prints into the caller's FILE.
 * Thread: the thread that owns `out`.
 */
#ifndef TERN_CLI_TRACE_H
#define TERN_CLI_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "tern/codec.h"

/* Print one decoded packet. `sent`: "->" (we sent it) or "<-". `version` is the connection's
 * protocol level (reason codes and properties exist only in 5). ts NULL: the current time. */
void tn_cli_trace_packet(FILE *out, const struct timespec *ts, bool sent,
                         const struct tern_packet *pkt, uint8_t version);

/* Decode one whole frame and print it; a frame that does not decode is printed as
 * "<type> (undecodable: reason) NB". Returns 0 or the decoder's error. */
int tn_cli_trace_frame(FILE *out, const struct timespec *ts, bool sent, const uint8_t *frame,
                       size_t n, uint8_t version);

#endif
