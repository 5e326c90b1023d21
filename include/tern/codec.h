/* SPDX-License-Identifier: MIT */
/*
 * include/tern/codec.h - the MQTT 3.1 / 3.1.1 / 5.0 codec: framing, decoding, encoding and
 * validation of every control packet and every MQTT 5 property.
 *
 * Owns: nothing. Every function is pure: no I/O, no global state, no allocation. Decoders
 * return views (struct tern_slice) into the caller's buffer, valid while that buffer is.
 * Thread: any; nothing here is shared.
 * Spec: OASIS MQTT 3.1.1 (2014) and MQTT 5.0 (2019); MQTT 3.1 (IBM, 2010) for level 3.
 *
 * Caveats a user must know:
 *  - Decoders work on whole frames only. Use tern_frame_peek() on the bytes received so far
 *    to learn whether a whole frame is there and how large it will be.
 *  - A decoded struct points into the input; copy what you keep.
 *  - Fields of struct tern_props are meaningful only when tern_props_has() says so.
 *  - Results: 0 or a positive count on success, a negative TERN_E* / -errno on failure. When
 *    a decoder fails it also stores the MQTT reason code the peer should get in *rc (for a
 *    3.1/3.1.1 connection, which has no DISCONNECT reason, the caller logs it and closes).
 */
#ifndef TERN_CODEC_H
#define TERN_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- results ---------------------------------------------------------------------------- */

/* Negative errno values are used where one fits (-EINVAL: bad argument to an encoder,
 * -ENOBUFS: caller buffer too small, -EPROTO: MQTT protocol error). These are tern's own. */
enum tern_err {
    TERN_EMALFORMED = 4097, /* bytes that cannot be parsed as the spec says (rc 0x81) */
    TERN_ENEEDMORE = 4098,  /* not an error from tern_frame_peek, which returns 0 instead */
    TERN_ETOOBIG = 4099,    /* frame larger than the allowed maximum (rc 0x95) */
    TERN_EVERSION = 4100,   /* CONNECT with an unknown protocol name or level (rc 0x84) */
};

/* Name of a result code (negative or positive), e.g. "malformed packet". Never NULL. */
const char *tern_strerror(int err);

/* ---- basic types -------------------------------------------------------------------------- */

/* A view of bytes someone else owns. Not NUL-terminated. */
struct tern_slice {
    const uint8_t *p;
    size_t n;
};
typedef struct tern_slice tern_slice;

#define TERN_SLICE_STR(s) ((tern_slice){(const uint8_t *)(s), sizeof(s) - 1})
#define TERN_SLICE_FMT(s) (int)(s).n, (const char *)(s).p /* for "%.*s" */

static inline tern_slice tern_slice_cstr(const char *s)
{
    size_t n = 0;
    if (s)
        while (s[n])
            n++;
    return (tern_slice){(const uint8_t *)s, n};
}

/* Protocol levels as they appear in CONNECT. */
enum tern_version {
    TERN_V31 = 3,  /* MQTT 3.1, protocol name "MQIsdp" */
    TERN_V311 = 4, /* MQTT 3.1.1, protocol name "MQTT" */
    TERN_V5 = 5,   /* MQTT 5.0, protocol name "MQTT" */
};

/* Control packet types (the high nibble of the first byte). */
enum tern_ptype {
    TERN_CONNECT = 1,
    TERN_CONNACK = 2,
    TERN_PUBLISH = 3,
    TERN_PUBACK = 4,
    TERN_PUBREC = 5,
    TERN_PUBREL = 6,
    TERN_PUBCOMP = 7,
    TERN_SUBSCRIBE = 8,
    TERN_SUBACK = 9,
    TERN_UNSUBSCRIBE = 10,
    TERN_UNSUBACK = 11,
    TERN_PINGREQ = 12,
    TERN_PINGRESP = 13,
    TERN_DISCONNECT = 14,
    TERN_AUTH = 15, /* MQTT 5.0 only; reserved (malformed) in 3.1/3.1.1 */
};

/* "CONNECT", "PUBLISH", ...; "RESERVED" for 0 and anything out of range. */
const char *tern_ptype_name(unsigned type);

/* MQTT 5.0 reason codes (section 2.4) and, where the values coincide, the 3.1.1 CONNACK
 * return codes (0x01..0x05) and the 3.1.1 SUBACK failure (0x80). */
enum tern_rc {
    TERN_RC_SUCCESS = 0x00, /* also: normal disconnection, granted QoS 0 */
    TERN_RC_GRANTED_QOS1 = 0x01,
    TERN_RC_GRANTED_QOS2 = 0x02,
    TERN_RC_DISCONNECT_WITH_WILL = 0x04,
    TERN_RC_NO_MATCHING_SUBSCRIBERS = 0x10,
    TERN_RC_NO_SUBSCRIPTION_EXISTED = 0x11,
    TERN_RC_CONTINUE_AUTHENTICATION = 0x18,
    TERN_RC_REAUTHENTICATE = 0x19,
    TERN_RC_UNSPECIFIED_ERROR = 0x80,
    TERN_RC_MALFORMED_PACKET = 0x81,
    TERN_RC_PROTOCOL_ERROR = 0x82,
    TERN_RC_IMPLEMENTATION_SPECIFIC_ERROR = 0x83,
    TERN_RC_UNSUPPORTED_PROTOCOL_VERSION = 0x84,
    TERN_RC_CLIENT_IDENTIFIER_NOT_VALID = 0x85,
    TERN_RC_BAD_USER_NAME_OR_PASSWORD = 0x86,
    TERN_RC_NOT_AUTHORIZED = 0x87,
    TERN_RC_SERVER_UNAVAILABLE = 0x88,
    TERN_RC_SERVER_BUSY = 0x89,
    TERN_RC_BANNED = 0x8A,
    TERN_RC_SERVER_SHUTTING_DOWN = 0x8B,
    TERN_RC_BAD_AUTHENTICATION_METHOD = 0x8C,
    TERN_RC_KEEP_ALIVE_TIMEOUT = 0x8D,
    TERN_RC_SESSION_TAKEN_OVER = 0x8E,
    TERN_RC_TOPIC_FILTER_INVALID = 0x8F,
    TERN_RC_TOPIC_NAME_INVALID = 0x90,
    TERN_RC_PACKET_IDENTIFIER_IN_USE = 0x91,
    TERN_RC_PACKET_IDENTIFIER_NOT_FOUND = 0x92,
    TERN_RC_RECEIVE_MAXIMUM_EXCEEDED = 0x93,
    TERN_RC_TOPIC_ALIAS_INVALID = 0x94,
    TERN_RC_PACKET_TOO_LARGE = 0x95,
    TERN_RC_MESSAGE_RATE_TOO_HIGH = 0x96,
    TERN_RC_QUOTA_EXCEEDED = 0x97,
    TERN_RC_ADMINISTRATIVE_ACTION = 0x98,
    TERN_RC_PAYLOAD_FORMAT_INVALID = 0x99,
    TERN_RC_RETAIN_NOT_SUPPORTED = 0x9A,
    TERN_RC_QOS_NOT_SUPPORTED = 0x9B,
    TERN_RC_USE_ANOTHER_SERVER = 0x9C,
    TERN_RC_SERVER_MOVED = 0x9D,
    TERN_RC_SHARED_SUBSCRIPTIONS_NOT_SUPPORTED = 0x9E,
    TERN_RC_CONNECTION_RATE_EXCEEDED = 0x9F,
    TERN_RC_MAXIMUM_CONNECT_TIME = 0xA0,
    TERN_RC_SUBSCRIPTION_IDENTIFIERS_NOT_SUPPORTED = 0xA1,
    TERN_RC_WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED = 0xA2,
};

/* MQTT 3.1 / 3.1.1 CONNACK return codes. */
enum tern_connack_rc311 {
    TERN_CONNACK_ACCEPTED = 0x00,
    TERN_CONNACK_BAD_PROTOCOL_VERSION = 0x01,
    TERN_CONNACK_IDENTIFIER_REJECTED = 0x02,
    TERN_CONNACK_SERVER_UNAVAILABLE = 0x03,
    TERN_CONNACK_BAD_USERNAME_PASSWORD = 0x04,
    TERN_CONNACK_NOT_AUTHORIZED = 0x05,
};

/* Name of a 5.0 reason code as the spec writes it ("Malformed Packet"); "Unknown" if none.
 * For 0x00, 0x01 and 0x02, which have several names, the first one the spec gives. */
const char *tern_rc_name(uint8_t rc);

/* Whether rc is a reason code the spec allows in a packet of this type (5.0 section 2.4 and
 * each packet's reason-code table). For SUBACK: 0x00-0x02 and the failures listed there. */
bool tern_rc_is_valid_for(unsigned type, uint8_t rc);

/* The 3.1.1 CONNACK return code closest in meaning to a 5.0 reason code: 0x84 -> 0x01,
 * 0x85 -> 0x02, 0x86 and 0x8C -> 0x04, 0x87 and 0x8A -> 0x05, any other failure -> 0x03. */
uint8_t tern_rc_to_connack311(uint8_t rc);

/* ---- primitives --------------------------------------------------------------------------- */

#define TERN_VARINT_MAX 268435455u /* largest Variable Byte Integer, 4 bytes */
#define TERN_MAX_FRAME (1u + 4u + TERN_VARINT_MAX)

/* Decode a Variable Byte Integer from p[0..n). Returns the number of bytes used (1..4),
 * 0 when n is too short to tell, or -TERN_EMALFORMED (more than 4 bytes, or not the
 * minimal encoding [MQTT-1.5.5-1]). */
int tern_varint_decode(const uint8_t *p, size_t n, uint32_t *out);
/* Bytes needed to encode v (1..4), or 0 if v > TERN_VARINT_MAX. */
unsigned tern_varint_size(uint32_t v);
/* Encode v into out (room for 4 bytes). Returns the bytes written, 0 if v is too large. */
unsigned tern_varint_encode(uint32_t v, uint8_t *out);

/* Whether p[0..n) is well-formed UTF-8 as MQTT requires: no surrogates, no overlong forms,
 * nothing above U+10FFFF [MQTT-1.5.4-1], and no U+0000 [MQTT-1.5.4-2] (3.1.1: MQTT-1.5.3-1,
 * MQTT-1.5.3-2). Control characters and non-characters are allowed [MQTT-1.5.4-3]. */
bool tern_utf8_is_valid(const uint8_t *p, size_t n);

/* Topic names: at least one byte, at most 65535, valid UTF-8, no '+' or '#' [MQTT-4.7.3-1]
 * [MQTT-3.3.2-2]. */
bool tern_topic_name_is_valid(const uint8_t *p, size_t n);

/* Topic filters: at least one byte, valid UTF-8, '+' only as a whole level, '#' only as a
 * whole last level [MQTT-4.7.1-2] [MQTT-4.7.1-3]. A "$share/" filter must also be a valid
 * shared subscription (see tern_shared_parse). */
bool tern_topic_filter_is_valid(const uint8_t *p, size_t n);

/* Split "$share/{group}/{filter}" [MQTT-4.8.2-1] [MQTT-4.8.2-2]. Returns 1 and fills group and
 * filter when f is a valid shared subscription, 0 when f does not start with "$share/" (group
 * and filter untouched), -EINVAL when it does but is not valid (empty or wildcard group, no
 * filter, invalid filter). */
int tern_shared_parse(tern_slice f, tern_slice *group, tern_slice *filter);

/* Whether topic name t matches filter f (4.7). Filters starting with a wildcard do not match
 * topics starting with '$' [MQTT-4.7.2-1]. A "$share/" filter is matched by its filter part. */
bool tern_topic_matches(tern_slice f, tern_slice t);

/* ---- framing ------------------------------------------------------------------------------ */

/* What tern_frame_peek learned about the frame at the start of a buffer. */
struct tern_frame {
    uint8_t type;       /* high nibble of byte 0 */
    uint8_t flags;      /* low nibble of byte 0 */
    uint8_t hdr_len;    /* fixed header length: 1 + varint length (2..5) */
    uint32_t remaining; /* Remaining Length */
    uint32_t size;      /* hdr_len + remaining: the whole frame */
};

/* Look at the first bytes of a stream. Returns
 *   1  a whole frame of f->size bytes is at buf[0..f->size);
 *   0  need more bytes. If the fixed header is complete, f->size already holds the frame's
 *      full size (so a reader can refuse a frame larger than it accepts before buffering the
 *      body); otherwise f->size is 0;
 *  <0  -TERN_EMALFORMED (bad Remaining Length; *rc = 0x81) or -TERN_ETOOBIG (frame larger
 *      than max_size; *rc = 0x95). max_size 0 means TERN_MAX_FRAME.
 * It checks the Remaining Length only; the packet type and flags are checked by the decoder.
 * Feeding it the stream one byte at a time gives the same frames as feeding it at once. */
int tern_frame_peek(const uint8_t *buf, size_t len, uint32_t max_size, struct tern_frame *f,
                    uint8_t *rc);

/* Encode a fixed header (first byte = type << 4 | flags) with the given Remaining Length into
 * out (room for 5 bytes). Returns bytes written (2..5), or -EINVAL if remaining is too large. */
int tern_fixed_header_encode(uint8_t type, uint8_t flags, uint32_t remaining, uint8_t *out);

/* ---- MQTT 5 properties -------------------------------------------------------------------- */

enum tern_prop_id {
    TERN_PROP_PAYLOAD_FORMAT_INDICATOR = 0x01,          /* byte */
    TERN_PROP_MESSAGE_EXPIRY_INTERVAL = 0x02,           /* u32 */
    TERN_PROP_CONTENT_TYPE = 0x03,                      /* utf8 */
    TERN_PROP_RESPONSE_TOPIC = 0x08,                    /* utf8 */
    TERN_PROP_CORRELATION_DATA = 0x09,                  /* binary */
    TERN_PROP_SUBSCRIPTION_IDENTIFIER = 0x0B,           /* varint */
    TERN_PROP_SESSION_EXPIRY_INTERVAL = 0x11,           /* u32 */
    TERN_PROP_ASSIGNED_CLIENT_IDENTIFIER = 0x12,        /* utf8 */
    TERN_PROP_SERVER_KEEP_ALIVE = 0x13,                 /* u16 */
    TERN_PROP_AUTHENTICATION_METHOD = 0x15,             /* utf8 */
    TERN_PROP_AUTHENTICATION_DATA = 0x16,               /* binary */
    TERN_PROP_REQUEST_PROBLEM_INFORMATION = 0x17,       /* byte */
    TERN_PROP_WILL_DELAY_INTERVAL = 0x18,               /* u32 */
    TERN_PROP_REQUEST_RESPONSE_INFORMATION = 0x19,      /* byte */
    TERN_PROP_RESPONSE_INFORMATION = 0x1A,              /* utf8 */
    TERN_PROP_SERVER_REFERENCE = 0x1C,                  /* utf8 */
    TERN_PROP_REASON_STRING = 0x1F,                     /* utf8 */
    TERN_PROP_RECEIVE_MAXIMUM = 0x21,                   /* u16 */
    TERN_PROP_TOPIC_ALIAS_MAXIMUM = 0x22,               /* u16 */
    TERN_PROP_TOPIC_ALIAS = 0x23,                       /* u16 */
    TERN_PROP_MAXIMUM_QOS = 0x24,                       /* byte */
    TERN_PROP_RETAIN_AVAILABLE = 0x25,                  /* byte */
    TERN_PROP_USER_PROPERTY = 0x26,                     /* utf8 pair, may repeat */
    TERN_PROP_MAXIMUM_PACKET_SIZE = 0x27,               /* u32 */
    TERN_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE = 0x28,   /* byte */
    TERN_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE = 0x29, /* byte */
    TERN_PROP_SHARED_SUBSCRIPTION_AVAILABLE = 0x2A,     /* byte */
};
#define TERN_PROP_ID_MAX 0x2A

/* The context a property list appears in: a packet type, or TERN_PROP_CTX_WILL for the Will
 * Properties of a CONNECT. */
#define TERN_PROP_CTX_WILL 0

/* Value kinds of properties. */
enum tern_prop_kind {
    TERN_PK_NONE = 0, /* not a property id */
    TERN_PK_BYTE,
    TERN_PK_U16,
    TERN_PK_U32,
    TERN_PK_VARINT,
    TERN_PK_UTF8,
    TERN_PK_BINARY,
    TERN_PK_PAIR,
};

/* Spec name of a property ("Message Expiry Interval"), or NULL for an unknown id. */
const char *tern_prop_name(unsigned id);
/* Kind of a property id (TERN_PK_NONE if unknown). */
enum tern_prop_kind tern_prop_kind(unsigned id);
/* Whether property id may appear in context ctx (a packet type or TERN_PROP_CTX_WILL). */
bool tern_prop_allowed(unsigned id, unsigned ctx);

struct tern_strpair {
    tern_slice k, v;
};

/*
 * The properties of one packet (or of a Will).
 *
 * Decoding fills `present` (bit i set when property id i appeared), the scalar fields of the
 * properties present, `raw` (the property bytes without the length prefix, a view into the
 * frame), user_n and sub_id_n. User Properties and repeated Subscription Identifiers are read
 * back in order with tern_props_iter; `user`, `sub_ids` and `extra` are NULL/empty after
 * decoding, so a decoded struct re-encodes as it is.
 *
 * Encoding writes, in this order: every property whose bit is set in `present`, by ascending
 * id (TERN_PROP_USER_PROPERTY's bit is ignored: user_n says how many there are), where
 * Subscription Identifiers come from sub_id (sub_id_n == 1) or sub_ids[0..sub_id_n) or, when
 * sub_ids is NULL, from `raw`; then the user_n User Properties from user[] or, when user is
 * NULL, from `raw` (in their original order); then `extra` verbatim (pre-encoded property
 * bytes, e.g. ones being forwarded). A zeroed struct encodes as no properties.
 */
struct tern_props {
    uint64_t present;                /* 1ull << id for each property present */
    tern_slice raw;                  /* decoded property bytes, see above */
    tern_slice extra;                /* encode only: appended verbatim */
    uint32_t user_n;                 /* number of User Properties */
    uint32_t sub_id_n;               /* number of Subscription Identifiers */
    const struct tern_strpair *user; /* encode only: the User Properties, or NULL */
    const uint32_t *sub_ids;         /* encode only: if sub_id_n > 1 (PUBLISH), or NULL */

    uint32_t message_expiry_interval;
    uint32_t session_expiry_interval;
    uint32_t will_delay_interval;
    uint32_t maximum_packet_size;
    uint32_t sub_id; /* decode: the first one; encode: used when sub_id_n == 1 */
    uint16_t server_keep_alive;
    uint16_t receive_maximum;
    uint16_t topic_alias_maximum;
    uint16_t topic_alias;
    uint8_t payload_format_indicator;
    uint8_t request_problem_information;
    uint8_t request_response_information;
    uint8_t maximum_qos;
    uint8_t retain_available;
    uint8_t wildcard_subscription_available;
    uint8_t subscription_identifier_available;
    uint8_t shared_subscription_available;
    tern_slice content_type;
    tern_slice response_topic;
    tern_slice correlation_data;
    tern_slice assigned_client_identifier;
    tern_slice authentication_method;
    tern_slice authentication_data;
    tern_slice response_information;
    tern_slice server_reference;
    tern_slice reason_string;
};

static inline bool tern_props_has(const struct tern_props *p, unsigned id)
{
    return id <= TERN_PROP_ID_MAX && (p->present >> id) & 1u;
}
static inline void tern_props_set(struct tern_props *p, unsigned id)
{
    p->present |= 1ull << id;
}

/* One property as read by tern_props_iter_next. */
struct tern_prop {
    uint8_t id;
    enum tern_prop_kind kind;
    uint32_t u;   /* byte, u16, u32, varint values */
    tern_slice s; /* utf8, binary, and the key of a pair */
    tern_slice v; /* the value of a pair */
};

struct tern_prop_iter {
    const uint8_t *p, *end;
};

/* Iterate over already-validated property bytes (a decoded props->raw). */
void tern_props_iter_init(struct tern_prop_iter *it, const struct tern_props *props);
/* Returns 1 and fills *out, or 0 at the end. */
int tern_props_iter_next(struct tern_prop_iter *it, struct tern_prop *out);
/* Convenience: next User Property in order. Returns 1 and fills *out, or 0 at the end. */
int tern_props_next_user(struct tern_prop_iter *it, struct tern_strpair *out);

/* Decode a property list: p points at the Property Length varint, n bytes are available.
 * Validates ids for ctx, kinds, lengths, UTF-8, duplicates of non-repeatable properties
 * (protocol error) and the value ranges the spec fixes (e.g. Receive Maximum 0, Maximum QoS 2,
 * a byte flag other than 0/1: protocol error; Subscription Identifier 0: protocol error).
 * Returns bytes consumed (length varint included) or a negative error with *rc set. */
int tern_props_decode(const uint8_t *p, size_t n, unsigned ctx, struct tern_props *out,
                      uint8_t *rc);
/* Bytes of the property list, without its length prefix; negative on an invalid struct
 * (-EINVAL: string > 65535 bytes, a value the decoder would reject such as Receive Maximum 0
 * or Maximum QoS 2, a property not allowed in ctx). */
int tern_props_body_size(const struct tern_props *p, unsigned ctx);
/* Encode the property list with its length prefix. Returns bytes written or negative. */
int tern_props_encode(const struct tern_props *p, unsigned ctx, uint8_t *out, size_t cap);

/* ---- packets ------------------------------------------------------------------------------ */

struct tern_connect {
    uint8_t version;          /* 3, 4 or 5 (the Protocol Level) */
    tern_slice protocol_name; /* "MQTT" or "MQIsdp" */
    bool clean;               /* Clean Session (3.x) / Clean Start (5.0) */
    bool will;
    uint8_t will_qos;
    bool will_retain;
    bool has_username;
    bool has_password;
    uint16_t keep_alive;
    struct tern_props props;      /* 5.0 */
    tern_slice client_id;         /* may be empty; policy is the broker's */
    struct tern_props will_props; /* 5.0, when will */
    tern_slice will_topic;        /* when will */
    tern_slice will_payload;      /* when will */
    tern_slice username;          /* when has_username */
    tern_slice password;          /* when has_password */
};

struct tern_connack {
    bool session_present;
    uint8_t rc; /* 5.0 reason code, or 3.x return code */
    struct tern_props props;
};

struct tern_publish {
    uint8_t qos;
    bool dup;
    bool retain;
    uint16_t packet_id; /* when qos > 0 */
    tern_slice topic;   /* may be empty in 5.0 when a Topic Alias is present */
    struct tern_props props;
    tern_slice payload;
};

/* PUBACK, PUBREC, PUBREL, PUBCOMP. */
struct tern_ack {
    uint16_t packet_id;
    uint8_t rc; /* 5.0; 0 otherwise */
    struct tern_props props;
};

/* Subscription options byte of a SUBSCRIBE entry. */
struct tern_sub_entry {
    tern_slice filter;
    uint8_t qos;
    bool no_local;            /* 5.0 */
    bool retain_as_published; /* 5.0 */
    uint8_t retain_handling;  /* 5.0: 0, 1 or 2 */
};

/* SUBSCRIBE and UNSUBSCRIBE. Decoding sets `raw` (the payload bytes) and `count`, and leaves
 * `list` NULL: read the entries with tern_sub_iter. Encoding reads list[0..count). For
 * UNSUBSCRIBE only the filter of each entry is used. */
struct tern_subscribe {
    uint16_t packet_id;
    struct tern_props props;
    uint32_t count;
    tern_slice raw;
    const struct tern_sub_entry *list;
};

/* SUBACK and UNSUBACK: one reason/return code per filter (UNSUBACK in 3.x has none).
 * Encoding a 3.x UNSUBACK ignores rcs. */
struct tern_suback {
    uint16_t packet_id;
    struct tern_props props;
    tern_slice rcs;
};

/* DISCONNECT and AUTH (5.0 fields; a 3.x DISCONNECT has none). */
struct tern_disconnect {
    uint8_t rc;
    struct tern_props props;
};

struct tern_packet {
    uint8_t type;  /* enum tern_ptype */
    uint8_t flags; /* low nibble of the first byte, as decoded or as encoded (see below) */
    union {
        struct tern_connect connect;
        struct tern_connack connack;
        struct tern_publish publish;
        struct tern_ack ack;               /* PUBACK PUBREC PUBREL PUBCOMP */
        struct tern_subscribe subscribe;   /* SUBSCRIBE UNSUBSCRIBE */
        struct tern_suback suback;         /* SUBACK UNSUBACK */
        struct tern_disconnect disconnect; /* DISCONNECT AUTH */
    } u;
};

struct tern_sub_iter {
    const uint8_t *p, *end;
    uint8_t type; /* TERN_SUBSCRIBE or TERN_UNSUBSCRIBE */
    uint8_t version;
};

/* Iterate over the entries of a decoded SUBSCRIBE/UNSUBSCRIBE. */
void tern_sub_iter_init(struct tern_sub_iter *it, const struct tern_packet *pkt, uint8_t version);
/* Returns 1 and fills *out, 0 at the end. */
int tern_sub_iter_next(struct tern_sub_iter *it, struct tern_sub_entry *out);

/*
 * Decode one whole frame (as delimited by tern_frame_peek) of a connection speaking `version`
 * (ignored for CONNECT, which carries its own). On success returns 0 and fills *out with views
 * into frame. On failure returns a negative error and sets *rc:
 *   -TERN_EMALFORMED, rc 0x81: the bytes do not parse (bad flags, lengths, reserved bits,
 *                    QoS 3, invalid UTF-8, a property not allowed in this packet, trailing
 *                    bytes, AUTH in 3.x, ...);
 *   -EPROTO, rc 0x82 (or a more precise code: 0x90 Topic Name invalid for a wildcard in a
 *                    PUBLISH or Will topic, 0x94 for Topic Alias 0): parsed but violates the
 *                    protocol (packet id 0, SUBSCRIBE with no entries, duplicate property,
 *                    Retain Handling 3, an empty PUBLISH topic without a Topic Alias, ...);
 *   -TERN_EVERSION, rc 0x84: CONNECT with an unknown protocol name/level; out->u.connect.version
 *                    holds the level seen so the caller can answer in kind (3.1.1: CONNACK 0x01).
 * The decoder does not apply session policy (client id length, topic aliases, Receive Maximum,
 * payload format checking of payload bytes): that belongs to the broker or client. Nor does
 * it reject a SUBSCRIBE/UNSUBSCRIBE because one filter's syntax is invalid: the receiver checks
 * each entry with tern_topic_filter_is_valid and answers that entry (SUBACK 0x8F in 5.0, 0x80
 * in 3.1.1), keeping the others.
 */
int tern_packet_decode(const uint8_t *frame, size_t n, uint8_t version, struct tern_packet *out,
                       uint8_t *rc);

/*
 * Size and encoding. `pkt->flags` is ignored except for PUBLISH, whose flags are computed from
 * qos/dup/retain; the fixed flags of PUBREL/SUBSCRIBE/UNSUBSCRIBE are supplied by the encoder.
 * For 3.x connections properties, reason codes of acks and DISCONNECT/AUTH fields are omitted.
 * tern_packet_size returns the whole frame's size, or a negative error (-EINVAL for a packet
 * that cannot be encoded: QoS 3, a string over 65535 bytes, too large for a frame, AUTH in 3.x,
 * a property not allowed in the packet). tern_packet_encode returns bytes written, -ENOBUFS if
 * cap is too small, or the same errors.
 */
int tern_packet_size(const struct tern_packet *pkt, uint8_t version);
int tern_packet_encode(const struct tern_packet *pkt, uint8_t version, uint8_t *out, size_t cap);

/* Encode a PUBLISH without its payload, for a gather write: out receives the fixed header,
 * topic, packet id and properties; the payload follows it on the wire unchanged. Returns the
 * bytes written to out; the frame is that plus pkt->u.publish.payload.n bytes. */
int tern_publish_encode_head(const struct tern_packet *pkt, uint8_t version, uint8_t *out,
                             size_t cap);

/* Fixed-header flags a packet type must carry (0x02 for PUBREL, SUBSCRIBE, UNSUBSCRIBE, 0
 * otherwise) [MQTT-2.1.3-1]; PUBLISH has variable flags and returns -1. */
int tern_ptype_fixed_flags(unsigned type);

/* ---- QoS 1/2 exchange --------------------------------------------------------------------- */

/*
 * The QoS 1 and 2 flows (5.0 section 4.3, 3.1.1 section 4.3) as one pure table, so the broker
 * and the client library cannot disagree about which packet may follow which. The state is
 * one side's view of one Packet Identifier in one direction.
 */
enum tern_qos_state {
    TERN_QS_FREE = 0,         /* the id is not in use */
    TERN_QS_WAIT_PUBACK = 1,  /* sender: PUBLISH QoS 1 sent */
    TERN_QS_WAIT_PUBREC = 2,  /* sender: PUBLISH QoS 2 sent */
    TERN_QS_WAIT_PUBCOMP = 3, /* sender: PUBREC received, PUBREL sent */
    TERN_QS_WAIT_PUBREL = 4,  /* receiver: PUBLISH QoS 2 received, PUBREC sent */
};

struct tern_qos_step {
    uint8_t next;        /* enum tern_qos_state after the event */
    uint8_t reply;       /* packet type to send back with the same id (0: none) */
    uint8_t reply_rc;    /* its reason code (5.0), e.g. 0x92 Packet Identifier not found */
    bool deliver;        /* receiver: pass the message on now (once per message) */
    bool complete;       /* sender: the exchange has ended; the id is free again */
    bool failed;         /* sender: ended by a reason code >= 0x80 in PUBACK/PUBREC */
    bool protocol_error; /* the event cannot happen in this state: 5.0 DISCONNECT 0x82 */
};

/*
 * One step: `state` is the current state for the event's Packet Identifier, `type` the packet
 * received (PUBLISH with `qos` > 0, PUBACK, PUBREC, PUBREL or PUBCOMP) and `rc` its reason
 * code (0 for 3.x). Fills *out and returns 0, or -EINVAL for an event outside the QoS flows.
 * The receiver delivers a QoS 2 message on the first PUBLISH and never again until PUBREL
 * frees the id [MQTT-4.3.3-10] (5.0), whether or not DUP is set.
 */
int tern_qos_step(uint8_t state, uint8_t type, uint8_t qos, uint8_t rc, struct tern_qos_step *out);

/* What a sender re-sends for an id in this state when a session resumes: PUBLISH (with DUP
 * set) for WAIT_PUBACK and WAIT_PUBREC, PUBREL for WAIT_PUBCOMP [MQTT-4.4.0-1]; 0 otherwise. */
uint8_t tern_qos_resend(uint8_t state);

#ifdef __cplusplus
}
#endif
#endif
