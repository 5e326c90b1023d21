/* SPDX-License-Identifier: MIT */
/*
 * src/codec/err_test.c - unit tests for the naming and classification helpers: tern_strerror,
 * tern_ptype_name, tern_rc_name, tern_rc_is_valid_for, tern_rc_to_connack311 and
 * tern_ptype_fixed_flags.
 *
 * Owns: nothing beyond its static tables (its own copies of the spec's reason-code tables,
 * written from 5.0 section 2.4 and the per-packet tables of chapter 3).
 * Thread: single-threaded test binary.
 * Spec: MQTT 5.0 2.4 (Table 2-6), 3.2.2.2, 3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1, 3.9.3, 3.11.3,
 * 3.14.2.1, 3.15.2.1, 2.1.3; 3.1.1 3.2.2.3 (CONNACK return codes).
 */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "tn_test.h"

#include <tern/codec.h>

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))

/* ---- tern_strerror ---------------------------------------------------------------------- */

TN_TEST(strerror_names_tern_errors)
{
    static const int errs[] = {TERN_EMALFORMED, TERN_ENEEDMORE, TERN_ETOOBIG, TERN_EVERSION};
    const char *names[NROWS(errs)];
    for (size_t i = 0; i < NROWS(errs); i++) {
        const char *a = tern_strerror(-errs[i]), *b = tern_strerror(errs[i]);
        TN_REQUIRE(a != NULL && b != NULL);
        TN_EXPECT(a[0] != '\0');
        TN_EXPECT(strcmp(a, b) == 0); /* "negative or positive" */
        names[i] = a;
        for (size_t j = 0; j < i; j++)
            TN_EXPECT(strcmp(names[j], a) != 0); /* each its own name */
    }
    TN_EXPECT(strstr(tern_strerror(-TERN_EMALFORMED), "malformed") != NULL);
    TN_EXPECT(strstr(tern_strerror(-TERN_ETOOBIG), "large") != NULL);
    TN_EXPECT(strstr(tern_strerror(-TERN_EVERSION), "version") != NULL);
}

TN_TEST(strerror_names_errnos)
{
    static const int errs[] = {EINVAL, ENOBUFS, EPROTO, ENOMEM, EAGAIN, ECONNRESET, EPIPE};
    for (size_t i = 0; i < NROWS(errs); i++) {
        const char *a = tern_strerror(-errs[i]);
        TN_REQUIRE(a != NULL);
        TN_EXPECT(a[0] != '\0');
        TN_EXPECT(strcmp(a, tern_strerror(errs[i])) == 0);
        for (size_t j = 0; j < i; j++)
            TN_EXPECT(strcmp(a, tern_strerror(-errs[j])) != 0);
        TN_EXPECT(strcmp(a, tern_strerror(-TERN_EMALFORMED)) != 0);
    }
    TN_EXPECT(strstr(tern_strerror(-EPROTO), "protocol") != NULL);
    const char *z = tern_strerror(0);
    TN_REQUIRE(z != NULL);
    TN_EXPECT(strcmp(z, tern_strerror(-EINVAL)) != 0);
}

/* "Never NULL", whatever int it is given. */
TN_TEST(strerror_never_null)
{
    static const int odd[] = {4096, -4096, 4101, -4101, 99999, -99999, INT_MAX, -INT_MAX};
    for (size_t i = 0; i < NROWS(odd); i++) {
        const char *s = tern_strerror(odd[i]);
        TN_EXPECT(s != NULL);
    }
}

/* ---- tern_ptype_name / tern_ptype_fixed_flags ------------------------------------------- */

TN_TEST(ptype_names)
{
    /* clang-format off */
    static const char *const want[16] = {
        "RESERVED", "CONNECT",  "CONNACK",     "PUBLISH",  "PUBACK",  "PUBREC",
        "PUBREL",   "PUBCOMP",  "SUBSCRIBE",   "SUBACK",   "UNSUBSCRIBE", "UNSUBACK",
        "PINGREQ",  "PINGRESP", "DISCONNECT",  "AUTH",
    };
    /* clang-format on */
    for (unsigned t = 0; t < 16; t++) {
        const char *s = tern_ptype_name(t);
        TN_REQUIRE(s != NULL);
        if (strcmp(s, want[t]) != 0) {
            TN_EXPECT(!"wrong packet type name");
            fprintf(stderr, "    %u: \"%s\" want \"%s\"\n", t, s, want[t]);
        }
    }
    static const unsigned out_of_range[] = {16, 17, 255, 256, 0xffffffffu};
    for (size_t i = 0; i < NROWS(out_of_range); i++) {
        const char *s = tern_ptype_name(out_of_range[i]);
        TN_REQUIRE(s != NULL);
        TN_EXPECT(strcmp(s, "RESERVED") == 0);
    }
}

/* Reserved fixed-header flags [MQTT-2.1.3-1] (3.1.1 [MQTT-2.2.2-1]): 0010 for PUBREL, SUBSCRIBE
 * and UNSUBSCRIBE, 0000 for the others; PUBLISH's are variable. */
TN_TEST(ptype_fixed_flags_v5_2_1_3_1)
{
    for (unsigned t = 1; t < 16; t++) {
        /* clang-format off */
        int want = t == TERN_PUBLISH ? -1
                   : (t == TERN_PUBREL || t == TERN_SUBSCRIBE || t == TERN_UNSUBSCRIBE) ? 2
                                                                                       : 0;
        /* clang-format on */
        TN_EXPECT_EQ_INT(tern_ptype_fixed_flags(t), want);
    }
}

/* ---- tern_rc_name ----------------------------------------------------------------------- */

/* 5.0 Table 2-6, names as the spec writes them (first name where a value has several). */
static const struct {
    uint8_t rc;
    const char *name;
} rc_names[] = {
    {0x00, "Success"},
    {0x01, "Granted QoS 1"},
    {0x02, "Granted QoS 2"},
    {0x04, "Disconnect with Will Message"},
    {0x10, "No matching subscribers"},
    {0x11, "No subscription existed"},
    {0x18, "Continue authentication"},
    {0x19, "Re-authenticate"},
    {0x80, "Unspecified error"},
    {0x81, "Malformed Packet"},
    {0x82, "Protocol Error"},
    {0x83, "Implementation specific error"},
    {0x84, "Unsupported Protocol Version"},
    {0x85, "Client Identifier not valid"},
    {0x86, "Bad User Name or Password"},
    {0x87, "Not authorized"},
    {0x88, "Server unavailable"},
    {0x89, "Server busy"},
    {0x8A, "Banned"},
    {0x8B, "Server shutting down"},
    {0x8C, "Bad authentication method"},
    {0x8D, "Keep Alive timeout"},
    {0x8E, "Session taken over"},
    {0x8F, "Topic Filter invalid"},
    {0x90, "Topic Name invalid"},
    {0x91, "Packet Identifier in use"},
    {0x92, "Packet Identifier not found"},
    {0x93, "Receive Maximum exceeded"},
    {0x94, "Topic Alias invalid"},
    {0x95, "Packet too large"},
    {0x96, "Message rate too high"},
    {0x97, "Quota exceeded"},
    {0x98, "Administrative action"},
    {0x99, "Payload format invalid"},
    {0x9A, "Retain not supported"},
    {0x9B, "QoS not supported"},
    {0x9C, "Use another server"},
    {0x9D, "Server moved"},
    {0x9E, "Shared Subscriptions not supported"},
    {0x9F, "Connection rate exceeded"},
    {0xA0, "Maximum connect time"},
    {0xA1, "Subscription Identifiers not supported"},
    {0xA2, "Wildcard Subscriptions not supported"},
};

TN_TEST(rc_names_table_2_6)
{
    for (unsigned rc = 0; rc < 256; rc++) {
        const char *want = "Unknown";
        for (size_t i = 0; i < NROWS(rc_names); i++)
            if (rc_names[i].rc == rc)
                want = rc_names[i].name;
        const char *got = tern_rc_name((uint8_t)rc);
        TN_REQUIRE(got != NULL);
        if (strcmp(got, want) != 0) {
            TN_EXPECT(!"wrong reason code name");
            fprintf(stderr, "    %#04x: \"%s\" want \"%s\"\n", rc, got, want);
        }
    }
}

/* ---- tern_rc_is_valid_for --------------------------------------------------------------- */

/* clang-format off */
static const uint8_t rcs_connack[] = {0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86,
                                      0x87, 0x88, 0x89, 0x8A, 0x8C, 0x90, 0x95, 0x97,
                                      0x99, 0x9A, 0x9B, 0x9C, 0x9D, 0x9F};
static const uint8_t rcs_puback[] = {0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99};
static const uint8_t rcs_pubrel[] = {0x00, 0x92};
static const uint8_t rcs_suback[] = {0x00, 0x01, 0x02, 0x80, 0x83, 0x87,
                                     0x8F, 0x91, 0x97, 0x9E, 0xA1, 0xA2};
static const uint8_t rcs_unsuback[] = {0x00, 0x11, 0x80, 0x83, 0x87, 0x8F, 0x91};
static const uint8_t rcs_disconnect[] = {0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89,
                                         0x8B, 0x8D, 0x8E, 0x8F, 0x90, 0x93, 0x94, 0x95,
                                         0x96, 0x97, 0x98, 0x99, 0x9A, 0x9B, 0x9C, 0x9D,
                                         0x9E, 0x9F, 0xA0, 0xA1, 0xA2};
static const uint8_t rcs_auth[] = {0x00, 0x18, 0x19};
/* clang-format on */

static const struct {
    unsigned type;
    const uint8_t *rcs;
    size_t n;
    const char *section;
} rc_tables[] = {
    {TERN_CONNACK, rcs_connack, sizeof(rcs_connack), "3.2.2.2"},
    {TERN_PUBACK, rcs_puback, sizeof(rcs_puback), "3.4.2.1"},
    {TERN_PUBREC, rcs_puback, sizeof(rcs_puback), "3.5.2.1"},
    {TERN_PUBREL, rcs_pubrel, sizeof(rcs_pubrel), "3.6.2.1"},
    {TERN_PUBCOMP, rcs_pubrel, sizeof(rcs_pubrel), "3.7.2.1"},
    {TERN_SUBACK, rcs_suback, sizeof(rcs_suback), "3.9.3"},
    {TERN_UNSUBACK, rcs_unsuback, sizeof(rcs_unsuback), "3.11.3"},
    {TERN_DISCONNECT, rcs_disconnect, sizeof(rcs_disconnect), "3.14.2.1"},
    {TERN_AUTH, rcs_auth, sizeof(rcs_auth), "3.15.2.1"},
};

/* Every (packet type, reason code) pair against the spec's per-packet tables. */
TN_TEST(rc_valid_for_every_packet_table_v5)
{
    for (size_t t = 0; t < NROWS(rc_tables); t++) {
        for (unsigned rc = 0; rc < 256; rc++) {
            bool want = memchr(rc_tables[t].rcs, (int)rc, rc_tables[t].n) != NULL;
            if (tern_rc_is_valid_for(rc_tables[t].type, (uint8_t)rc) != want) {
                TN_EXPECT(!"reason code validity disagrees with the spec");
                fprintf(stderr, "    %s (%s) rc %#04x: want %s\n",
                        tern_ptype_name(rc_tables[t].type), rc_tables[t].section, rc,
                        want ? "valid" : "invalid");
            }
        }
    }
}

/* The examples from the brief, spelled out. */
TN_TEST(rc_valid_for_spot_checks)
{
    TN_EXPECT(tern_rc_is_valid_for(TERN_PUBACK, 0x10));  /* No matching subscribers */
    TN_EXPECT(!tern_rc_is_valid_for(TERN_PUBACK, 0x8F)); /* Topic Filter invalid */
    TN_EXPECT(tern_rc_is_valid_for(TERN_PUBREL, 0x92));  /* Packet Identifier not found */
    TN_EXPECT(!tern_rc_is_valid_for(TERN_PUBREL, 0x10));
    TN_EXPECT(tern_rc_is_valid_for(TERN_DISCONNECT, 0x04)); /* with Will Message */
    TN_EXPECT(!tern_rc_is_valid_for(TERN_CONNACK, 0x04));
    TN_EXPECT(tern_rc_is_valid_for(TERN_AUTH, 0x18)); /* Continue authentication */
    TN_EXPECT(!tern_rc_is_valid_for(TERN_AUTH, 0x80));
    TN_EXPECT(tern_rc_is_valid_for(TERN_SUBACK, 0x02)); /* Granted QoS 2 */
    TN_EXPECT(!tern_rc_is_valid_for(TERN_SUBACK, 0x03));
    TN_EXPECT(!tern_rc_is_valid_for(TERN_UNSUBACK, 0x10));
    TN_EXPECT(tern_rc_is_valid_for(TERN_UNSUBACK, 0x11));
}

/* Packets that carry no reason code accept none. */
TN_TEST(rc_valid_for_packets_without_reason_codes)
{
    /* clang-format off */
    static const unsigned types[] = {0,           TERN_CONNECT, TERN_PUBLISH, TERN_SUBSCRIBE,
                                     TERN_UNSUBSCRIBE, TERN_PINGREQ, TERN_PINGRESP, 16, 255};
    /* clang-format on */
    for (size_t i = 0; i < NROWS(types); i++)
        for (unsigned rc = 0; rc < 256; rc++)
            TN_REQUIRE(!tern_rc_is_valid_for(types[i], (uint8_t)rc));
}

/* ---- tern_rc_to_connack311 -------------------------------------------------------------- */

/* 3.1.1 CONNACK return codes (3.1.1 3.2.2.3, Table 3.1): the 5.0 codes with a direct
 * counterpart map to it; every other failure becomes a refusal (1..5), never "accepted". */
TN_TEST(rc_to_connack311_mapping_311_3_2_2_3)
{
    TN_EXPECT_EQ_HEX(tern_rc_to_connack311(0x00), TERN_CONNACK_ACCEPTED);
    TN_EXPECT_EQ_HEX(tern_rc_to_connack311(0x84), TERN_CONNACK_BAD_PROTOCOL_VERSION);
    TN_EXPECT_EQ_HEX(tern_rc_to_connack311(0x85), TERN_CONNACK_IDENTIFIER_REJECTED);
    TN_EXPECT_EQ_HEX(tern_rc_to_connack311(0x86), TERN_CONNACK_BAD_USERNAME_PASSWORD);
    TN_EXPECT_EQ_HEX(tern_rc_to_connack311(0x87), TERN_CONNACK_NOT_AUTHORIZED);
    static const uint8_t unavailable[] = {0x80, 0x81, 0x82, 0x83, 0x88, 0x89, 0x97, 0x9F};
    for (size_t i = 0; i < NROWS(unavailable); i++)
        TN_EXPECT_EQ_HEX(tern_rc_to_connack311(unavailable[i]), TERN_CONNACK_SERVER_UNAVAILABLE);
    for (unsigned rc = 0x80; rc < 256; rc++) {
        uint8_t r = tern_rc_to_connack311((uint8_t)rc);
        TN_REQUIRE(r >= 1 && r <= 5);
    }
}

/* INT_MIN too: negating it is undefined, so a name lookup must not do `err = -err` on it.
 * Kept last: under UBSan a failure here aborts the binary, and tests run in file order. */
TN_TEST(strerror_int_min_no_undefined_behaviour)
{
    const char *s = tern_strerror(INT_MIN);
    TN_EXPECT(s != NULL && s[0] != '\0');
}

TN_TEST_MAIN()
