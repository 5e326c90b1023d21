/* SPDX-License-Identifier: MIT */
/*
 * tests/broker/harness.h - the harness of the raw-byte broker tests: start and stop a broker
 * process on a free port with a generated config file, and talk MQTT to it over plain TCP
 * sockets with every packet built and parsed by the tern codec (never by hand, except the
 * deliberately malformed bytes of tb_send_raw).
 *
 * Owns: the broker processes it starts (stopped at the end of each test, the shared one at
 * exit; the child also gets PR_SET_PDEATHSIG so a crashed test leaves no broker behind), their
 * temp dirs, and every client it opens (closed at the end of each test).
 * Thread: the test's main thread only. Test-only code: names are prefixed tb_ ("test broker")
 * and never linked into tern itself.
 *
 * Which broker: env TERN_TEST_BROKER (a path to ternd or mosquitto), else argv[1] as passed by
 * ctest ($<TARGET_FILE:ternd>). Its kind: env TERN_TEST_BROKER_KIND (ternd | mosquitto), else
 * "mosquitto" when the path's file name contains "mosquitto", else "ternd". Only a ternd gets
 * the tern-only config lines. Env TB_TRACE=1 prints every frame sent and received, in hex.
 *
 * A test binary: include tn_test.h, then this header, write TN_TEST()s and end with TB_MAIN()
 * (not TN_TEST_MAIN: argv[1] is the broker path here). `bin [BROKER] [TEST_NAME]` runs one test.
 */
#ifndef TB_HARNESS_H
#define TB_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "tern/codec.h"

/* Default wait for a packet the broker must send. Generous: sanitizer builds on a loaded
 * 2-core machine. A passing test never waits this long. */
#define TB_WAIT_MS 5000

/* ---- run control ------------------------------------------------------------------------- */

/* Reads the broker path and kind (see above); returns the index of the first argument left
 * for the test runner (a test name), i.e. 1 or 2. */
int tb_init(int argc, char **argv);
/* Whether the broker under test is ternd (else mosquitto). */
bool tb_is_ternd(void);
/* Called by TB_MAIN around each test. tb_test_end closes the test's clients, stops the
 * brokers it started, checks they did not crash, and prints their log tails when failed. It
 * returns true if the harness itself saw a failure during the test. */
void tb_test_begin(const char *name);
bool tb_test_end(bool failed);
/* Stop the shared broker; true if it was healthy. */
bool tb_finish(void);

/* Record a failure found inside the harness (a helper's expectation). Prints the message. */
void tb_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Whether tb_fail was called during the current test. */
bool tb_failed(void);

/* Let time pass, for tests where elapsed time itself is under test (Message Expiry, Session
 * Expiry): there is no event to wait for. Never use it to wait for the broker to act. */
void tb_let_time_pass(int ms);

/* Monotonic milliseconds. */
int64_t tb_now_ms(void);

/* A string unique to the current test: "<test name>/<s>" (for client ids and topics, since
 * tests share one broker). Returns one of 16 rotating static buffers. */
const char *tb_uniq(const char *s);

/* ---- brokers ----------------------------------------------------------------------------- */

struct tb_broker {
    pid_t pid;
    uint16_t port;
    bool shared;   /* the per-binary broker, stopped by tb_finish */
    char dir[256]; /* mkdtemp dir: broker.conf, broker.log (stdout+stderr) */
    struct tb_broker *next;
};

/* Start a broker whose config is "listener PORT 127.0.0.1", "allow_anonymous true", then
 * `extra` (newline-separated lines, may be NULL), then `tern_extra` when the broker is ternd.
 * Waits until the port accepts connections (10 s). Stopped at the end of the current test.
 * Returns NULL (after tb_fail) if it does not come up. */
struct tb_broker *tb_broker_start(const char *extra, const char *tern_extra);
/* The broker shared by all tests of the binary (default config, ternd with `workers 2`). */
struct tb_broker *tb_shared(void);
/* SIGTERM, then SIGKILL after 5 s; waitpid; remove the temp dir. Returns false (and prints the
 * log tail) if the broker had died before or exited abnormally (e.g. a sanitizer report). */
bool tb_broker_stop(struct tb_broker *b);
/* Whether the process is still running. */
bool tb_broker_alive(struct tb_broker *b);
/* Print the last bytes of the broker's log to stderr. */
void tb_broker_dump_log(struct tb_broker *b);

/* ---- raw clients ------------------------------------------------------------------------- */

struct tb_frame;

struct tb_client {
    int fd;
    uint8_t version;   /* protocol level used to encode and decode */
    uint16_t next_pid; /* for the helpers' SUBSCRIBE/PUBLISH packet ids */
    char name[64];     /* for messages */
    uint8_t *rbuf;     /* bytes received, not yet framed */
    size_t rlen, rcap;
    uint8_t *cur; /* the frame last returned by tb_recv (owned) */
    size_t cur_n;
    struct tb_frame *stash, *stash_tail; /* frames set aside by tb_recv_type */
    bool closed;                         /* EOF or reset seen */
    struct tb_client *next;
};

/* TCP connect to the broker (no MQTT yet). `version` is used to encode and decode. */
struct tb_client *tb_open(struct tb_broker *b, uint8_t version, const char *name);
/* Same with SO_RCVBUF set to rcvbuf bytes before connecting (0: default). */
struct tb_client *tb_open_rcvbuf(struct tb_broker *b, uint8_t version, const char *name,
                                 int rcvbuf);
/* Close now (otherwise done at the end of the test). Abrupt: no DISCONNECT is sent. */
void tb_close(struct tb_client *c);

/* Encode with the codec for c->version and write. 0 or negative. */
int tb_send(struct tb_client *c, const struct tern_packet *pkt);
/* Encode pkt for `version` into out; returns the frame length (tb_fail and 0 if it cannot).
 * For tests that alter one byte of an otherwise valid frame. */
size_t tb_encode(const struct tern_packet *pkt, uint8_t version, uint8_t *out, size_t cap);
/* Write bytes as they are (malformed tests). 0 or negative. */
int tb_send_raw(struct tb_client *c, const void *p, size_t n);

/* Receive the next frame (set-aside frames first) and decode it into *out; views into the
 * frame stay valid until the next receive on c. 0; -ETIMEDOUT; -EPIPE when the connection was
 * closed; -EBADMSG when the frame does not decode (tb_fail is called). */
int tb_recv(struct tb_client *c, struct tern_packet *out, int timeout_ms);
/* Wait until one of the n clients has a frame to read (or is closed), up to timeout_ms.
 * Returns true if one has. For loops that serve several clients at once. */
bool tb_wait_any(struct tb_client *const *cs, int n, int timeout_ms);
/* Receive the next frame without decoding it (read it with tb_frame_bytes). 0 or negative. */
int tb_recv_frame(struct tb_client *c, int timeout_ms);
/* Like tb_recv, but for the first frame of `type`; other frames are set aside, in order, for
 * later tb_recv calls. */
int tb_recv_type(struct tb_client *c, uint8_t type, struct tern_packet *out, int timeout_ms);
/* The bytes of the frame last returned. */
const uint8_t *tb_frame_bytes(struct tb_client *c, size_t *n);
/* Whether the frame last returned is byte for byte `want` encoded for c->version (tb_fail
 * with both in hex if not). Use where the spec leaves the encoding no choice (3.1.1 always;
 * 5.0 acks may drop a 0x00 reason code and empty properties, so compare fields there). */
bool tb_frame_is(struct tb_client *c, const struct tern_packet *want);
/* Same against literal bytes. */
bool tb_frame_is_bytes(struct tb_client *c, const void *want, size_t n);

/* True if the connection is closed (EOF or ECONNRESET) within timeout_ms. Frames arriving
 * first are read and reported on stderr (not a failure by themselves). */
bool tb_expect_closed(struct tb_client *c, int timeout_ms);
/* 5.0: the next frame is DISCONNECT with reason code rc, then the connection closes.
 * 3.x: the connection closes (no packet, as 3.1.1 has no way to say why). Calls tb_fail with
 * details and returns false otherwise. */
bool tb_expect_disconnect(struct tb_client *c, uint8_t rc, int timeout_ms);
/* True if no frame arrives and the connection stays open for `ms`. This fixed wait is the only
 * one in the tests: a "must not be sent" rule can only be checked over a bounded time. Keep
 * ms short (100-500). Set-aside frames count as received. */
bool tb_expect_nothing(struct tb_client *c, int ms);

/* ---- MQTT helpers ------------------------------------------------------------------------ */

struct tb_conn_opts {
    uint8_t version;       /* TERN_V311 when 0 */
    const char *client_id; /* NULL: empty */
    bool clean;
    uint16_t keepalive;
    const struct tern_props *props; /* 5.0 CONNECT properties, or NULL */
    const char *will_topic;         /* NULL: no will */
    const char *will_payload;
    uint8_t will_qos;
    bool will_retain;
    const struct tern_props *will_props;
    const char *username, *password;
    int rcvbuf; /* SO_RCVBUF set before connecting (0: the default), for slow-reader tests */
};

/* Open, send CONNECT, receive the CONNACK into *connack (may be NULL; valid until the next
 * receive). Returns the client whatever the CONNACK's code; NULL (after tb_fail) when no
 * CONNACK arrives. */
struct tb_client *tb_connect(struct tb_broker *b, const struct tb_conn_opts *o,
                             struct tern_packet *connack);
/* tb_connect and require return code 0 (tb_fail and NULL otherwise). */
struct tb_client *tb_connect_ok(struct tb_broker *b, uint8_t version, const char *client_id,
                                bool clean, uint16_t keepalive, const struct tern_props *props);
/* Short form: a clean session, keep-alive 60, client id tb_uniq(name), rc 0 required. */
struct tb_client *tb_client(struct tb_broker *b, uint8_t version, const char *name);

/* Subscription options byte: QoS | No Local << 2 | Retain As Published << 3 | Retain
 * Handling << 4. */
#define TB_SUBOPT(qos, nl, rap, rh) ((uint8_t)((qos) | (nl) << 2 | (rap) << 3 | (rh) << 4))

/* SUBSCRIBE one filter (options as TB_SUBOPT; sub_id 0: none) and wait for the SUBACK with the
 * same packet id. Returns its reason code, or negative (after tb_fail). */
int tb_subscribe(struct tb_client *c, const char *filter, uint8_t opts, uint32_t sub_id);
/* UNSUBSCRIBE one filter; returns the UNSUBACK reason code (0 for 3.x) or negative. */
int tb_unsubscribe(struct tb_client *c, const char *filter);

/* PUBLISH and complete the handshake: QoS 1 waits for PUBACK; QoS 2 waits for PUBREC, sends
 * PUBREL, waits for PUBCOMP. Returns the PUBACK/PUBREC reason code (0 for QoS 0 and 3.x), or
 * negative (after tb_fail). props may be NULL. */
int tb_publish(struct tb_client *c, const char *topic, const void *payload, size_t n, uint8_t qos,
               bool retain, const struct tern_props *props);
/* Same with a string payload. */
int tb_publish_str(struct tb_client *c, const char *topic, const char *payload, uint8_t qos,
                   bool retain);

/* Receive the next PUBLISH (other frames set aside). 0 or negative as tb_recv. */
int tb_recv_publish(struct tb_client *c, struct tern_packet *out, int timeout_ms);
/* Acknowledge a received PUBLISH: QoS 1 PUBACK; QoS 2 PUBREC, wait PUBREL, PUBCOMP. 0 or
 * negative (after tb_fail). Copies what it needs from pub first. */
int tb_ack(struct tb_client *c, const struct tern_packet *pub);
/* Send DISCONNECT (5.0 with reason code rc) and close. */
void tb_disconnect(struct tb_client *c, uint8_t rc);

/* Whether a slice equals a C string. */
bool tb_slice_eq(tern_slice s, const char *str);

/* ---- main -------------------------------------------------------------------------------- */

#define TB_MAIN()                                                                                  \
    int main(int argc, char **argv)                                                                \
    {                                                                                              \
        int passed = 0, failed = 0, first = tb_init(argc, argv);                                   \
        for (int i = 0; i < tn_ntests_; i++) {                                                     \
            if (argc > first && strcmp(argv[first], tn_tests_[i].name) != 0)                       \
                continue;                                                                          \
            tn_cur_name_ = tn_tests_[i].name;                                                      \
            tn_cur_failed_ = 0;                                                                    \
            tb_test_begin(tn_cur_name_);                                                           \
            tn_tests_[i].fn();                                                                     \
            if (tb_test_end(tn_cur_failed_ != 0) || tn_cur_failed_) {                              \
                if (!tn_cur_failed_)                                                               \
                    fprintf(stderr, "FAIL %s\n", tn_cur_name_);                                    \
                failed++;                                                                          \
            } else {                                                                               \
                passed++;                                                                          \
            }                                                                                      \
        }                                                                                          \
        if (!tb_finish())                                                                          \
            failed++;                                                                              \
        printf("%s: %d passed, %d failed\n", argv[0], passed, failed);                             \
        return failed || passed == 0 ? 1 : 0;                                                      \
    }

#endif
