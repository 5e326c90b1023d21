/* SPDX-License-Identifier: MIT */
/*
 * src/codec/err.c - names of results, packet types and reason codes, and which reason codes
 * each packet type may carry (5.0 section 2.4 and the per-packet tables of chapter 3).
 *
 * Owns: static const tables only. Thread: any.
 */
#include "codec_internal.h"

#include <limits.h>

const char *tern_strerror(int err)
{
    if (err < 0)
        err = err == INT_MIN ? INT_MAX : -err;
    switch (err) {
    case 0: return "success";
    case TERN_EMALFORMED: return "malformed packet";
    case TERN_ENEEDMORE: return "need more bytes";
    case TERN_ETOOBIG: return "packet too large";
    case TERN_EVERSION: return "unsupported protocol version";
    case EPROTO: return "protocol error";
    case EINVAL: return "invalid argument";
    case ENOBUFS: return "buffer too small";
    case ENOMEM: return "out of memory";
    case EAGAIN: return "try again";
    case EPIPE: return "broken pipe";
    case ECONNRESET: return "connection reset by peer";
    case ECONNREFUSED: return "connection refused";
    case ETIMEDOUT: return "timed out";
    default: return "unknown error"; /* not strerror(): its buffer is not ours to share */
    }
}

static const char *const ptype_names[16] = {
    "RESERVED", "CONNECT",  "CONNACK",    "PUBLISH", "PUBACK",      "PUBREC",
    "PUBREL",   "PUBCOMP",  "SUBSCRIBE",  "SUBACK",  "UNSUBSCRIBE", "UNSUBACK",
    "PINGREQ",  "PINGRESP", "DISCONNECT", "AUTH",
};

const char *tern_ptype_name(unsigned type)
{
    return type < 16 ? ptype_names[type] : "RESERVED";
}

int tern_ptype_fixed_flags(unsigned type)
{
    switch (type) {
    case TERN_PUBLISH: return -1;
    case TERN_PUBREL:
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: return 0x02;
    default: return 0;
    }
}

const char *tern_rc_name(uint8_t rc)
{
    switch (rc) {
    case 0x00: return "Success";
    case 0x01: return "Granted QoS 1";
    case 0x02: return "Granted QoS 2";
    case 0x04: return "Disconnect with Will Message";
    case 0x10: return "No matching subscribers";
    case 0x11: return "No subscription existed";
    case 0x18: return "Continue authentication";
    case 0x19: return "Re-authenticate";
    case 0x80: return "Unspecified error";
    case 0x81: return "Malformed Packet";
    case 0x82: return "Protocol Error";
    case 0x83: return "Implementation specific error";
    case 0x84: return "Unsupported Protocol Version";
    case 0x85: return "Client Identifier not valid";
    case 0x86: return "Bad User Name or Password";
    case 0x87: return "Not authorized";
    case 0x88: return "Server unavailable";
    case 0x89: return "Server busy";
    case 0x8A: return "Banned";
    case 0x8B: return "Server shutting down";
    case 0x8C: return "Bad authentication method";
    case 0x8D: return "Keep Alive timeout";
    case 0x8E: return "Session taken over";
    case 0x8F: return "Topic Filter invalid";
    case 0x90: return "Topic Name invalid";
    case 0x91: return "Packet Identifier in use";
    case 0x92: return "Packet Identifier not found";
    case 0x93: return "Receive Maximum exceeded";
    case 0x94: return "Topic Alias invalid";
    case 0x95: return "Packet too large";
    case 0x96: return "Message rate too high";
    case 0x97: return "Quota exceeded";
    case 0x98: return "Administrative action";
    case 0x99: return "Payload format invalid";
    case 0x9A: return "Retain not supported";
    case 0x9B: return "QoS not supported";
    case 0x9C: return "Use another server";
    case 0x9D: return "Server moved";
    case 0x9E: return "Shared Subscriptions not supported";
    case 0x9F: return "Connection rate exceeded";
    case 0xA0: return "Maximum connect time";
    case 0xA1: return "Subscription Identifiers not supported";
    case 0xA2: return "Wildcard Subscriptions not supported";
    default: return "Unknown";
    }
}

/* Reason-code sets, one per packet family, as 256-bit maps. */
struct rc_set {
    uint64_t w[4];
};
#define RC(x) ((x) < 64 ? 1ull << (x) : 0)
#define RC_HI(x) ((x) >= 128 && (x) < 192 ? 1ull << ((x)-128) : 0)

/* CONNACK 3.2.2.2 */
static const struct rc_set rc_connack = {
    {RC(0x00), 0,
     RC_HI(0x80) | RC_HI(0x81) | RC_HI(0x82) | RC_HI(0x83) | RC_HI(0x84) | RC_HI(0x85) |
         RC_HI(0x86) | RC_HI(0x87) | RC_HI(0x88) | RC_HI(0x89) | RC_HI(0x8A) | RC_HI(0x8C) |
         RC_HI(0x90) | RC_HI(0x95) | RC_HI(0x97) | RC_HI(0x99) | RC_HI(0x9A) | RC_HI(0x9B) |
         RC_HI(0x9C) | RC_HI(0x9D) | RC_HI(0x9F),
     0}};
/* PUBACK 3.4.2.1, PUBREC 3.5.2.1 */
static const struct rc_set rc_puback = {{RC(0x00) | RC(0x10), 0,
                                         RC_HI(0x80) | RC_HI(0x83) | RC_HI(0x87) | RC_HI(0x90) |
                                             RC_HI(0x91) | RC_HI(0x97) | RC_HI(0x99),
                                         0}};
/* PUBREL 3.6.2.1, PUBCOMP 3.7.2.1 */
static const struct rc_set rc_pubrel = {{RC(0x00), 0, RC_HI(0x92), 0}};
/* SUBACK 3.9.3 */
static const struct rc_set rc_suback = {{RC(0x00) | RC(0x01) | RC(0x02), 0,
                                         RC_HI(0x80) | RC_HI(0x83) | RC_HI(0x87) | RC_HI(0x8F) |
                                             RC_HI(0x91) | RC_HI(0x97) | RC_HI(0x9E) | RC_HI(0xA1) |
                                             RC_HI(0xA2),
                                         0}};
/* UNSUBACK 3.11.3 */
static const struct rc_set rc_unsuback = {
    {RC(0x00) | RC(0x11), 0, RC_HI(0x80) | RC_HI(0x83) | RC_HI(0x87) | RC_HI(0x8F) | RC_HI(0x91),
     0}};
/* DISCONNECT 3.14.2.1 */
static const struct rc_set rc_disconnect = {
    {RC(0x00) | RC(0x04), 0,
     RC_HI(0x80) | RC_HI(0x81) | RC_HI(0x82) | RC_HI(0x83) | RC_HI(0x87) | RC_HI(0x89) |
         RC_HI(0x8B) | RC_HI(0x8D) | RC_HI(0x8E) | RC_HI(0x8F) | RC_HI(0x90) | RC_HI(0x93) |
         RC_HI(0x94) | RC_HI(0x95) | RC_HI(0x96) | RC_HI(0x97) | RC_HI(0x98) | RC_HI(0x99) |
         RC_HI(0x9A) | RC_HI(0x9B) | RC_HI(0x9C) | RC_HI(0x9D) | RC_HI(0x9E) | RC_HI(0x9F) |
         RC_HI(0xA0) | RC_HI(0xA1) | RC_HI(0xA2),
     0}};
/* AUTH 3.15.2.1 */
static const struct rc_set rc_auth = {{RC(0x00) | RC(0x18) | RC(0x19), 0, 0, 0}};

static bool rc_in(const struct rc_set *s, uint8_t rc)
{
    return (s->w[rc >> 6] >> (rc & 63)) & 1u;
}

bool tern_rc_is_valid_for(unsigned type, uint8_t rc)
{
    switch (type) {
    case TERN_CONNACK: return rc_in(&rc_connack, rc);
    case TERN_PUBACK:
    case TERN_PUBREC: return rc_in(&rc_puback, rc);
    case TERN_PUBREL:
    case TERN_PUBCOMP: return rc_in(&rc_pubrel, rc);
    case TERN_SUBACK: return rc_in(&rc_suback, rc);
    case TERN_UNSUBACK: return rc_in(&rc_unsuback, rc);
    case TERN_DISCONNECT: return rc_in(&rc_disconnect, rc);
    case TERN_AUTH: return rc_in(&rc_auth, rc);
    default: return false;
    }
}

uint8_t tern_rc_to_connack311(uint8_t rc)
{
    switch (rc) {
    case TERN_RC_SUCCESS: return TERN_CONNACK_ACCEPTED;
    case TERN_RC_UNSUPPORTED_PROTOCOL_VERSION: return TERN_CONNACK_BAD_PROTOCOL_VERSION;
    case TERN_RC_CLIENT_IDENTIFIER_NOT_VALID: return TERN_CONNACK_IDENTIFIER_REJECTED;
    case TERN_RC_BAD_USER_NAME_OR_PASSWORD:
    case TERN_RC_BAD_AUTHENTICATION_METHOD: return TERN_CONNACK_BAD_USERNAME_PASSWORD;
    case TERN_RC_NOT_AUTHORIZED:
    case TERN_RC_BANNED: return TERN_CONNACK_NOT_AUTHORIZED;
    default: return TERN_CONNACK_SERVER_UNAVAILABLE;
    }
}
