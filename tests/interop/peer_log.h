/* SPDX-License-Identifier: MIT */
/*
 * tests/interop/peer_log.h - codec_peer's JSON log: one object per line for each frame
 * received or sent (every decoded field, properties by name, raw bytes in hex), each decode
 * error, and connections opened and closed. The interop tests read this file.
 *
 * Owns: nothing (writes to the caller's FILE, flushing after each line).
 * Thread: codec_peer's only thread.
 */
#ifndef PEER_LOG_H
#define PEER_LOG_H

#include <stdio.h>

#include "tern/codec.h"

/* {"event":EVENT,"conn":N}, e.g. "open", "close". */
void peer_log_event(FILE *f, unsigned conn, const char *event);

/* {"event":EVENT,"conn":N,"err":-4097,"error":"...","rc":129,"rc_name":"...","raw":"hex"}. */
void peer_log_error(FILE *f, unsigned conn, const char *event, int err, uint8_t rc, tern_slice raw);

/* {"event":EVENT,"conn":N,"type":"PUBLISH","version":5,"flags":..., the packet's fields,
 *  "props":{"content-type":"...","user-property":[[k,v],...],"order":[ids]},"raw":"hex"}.
 * k is a decoded packet whose views point into raw; version is the connection's level. */
void peer_log_packet(FILE *f, unsigned conn, const char *event, const struct tern_packet *k,
                     tern_slice raw, uint8_t version);

#endif
