/* SPDX-License-Identifier: MIT */
/*
 * src/codec/qos_flow_test.c - the QoS 1/2 state table: every (state, packet) pair, and whole
 * exchanges driven end to end between a sender and a receiver table.
 *
 * Owns: nothing. Thread: the test's only.
 * Spec: 5.0 section 4.3 (ids below are 5.0's unless marked).
 */
#include "tn_test.h"

#include <errno.h>

#include "tern/codec.h"

struct qrow {
    const char *name;
    uint8_t state, type, qos, rc;
    uint8_t next, reply, reply_rc;
    bool deliver, complete, failed, perr;
};

static const struct qrow qrows[] = {
    /* receiver */
    {"qos1_publish_acked_delivered_4_3_2_4", TERN_QS_FREE, TERN_PUBLISH, 1, 0, TERN_QS_FREE,
     TERN_PUBACK, 0, true, false, false, false},
    {"qos2_publish_pubrec_delivered_4_3_3_8", TERN_QS_FREE, TERN_PUBLISH, 2, 0, TERN_QS_WAIT_PUBREL,
     TERN_PUBREC, 0, true, false, false, false},
    {"qos2_repeat_before_pubrel_not_delivered_4_3_3_10", TERN_QS_WAIT_PUBREL, TERN_PUBLISH, 2, 0,
     TERN_QS_WAIT_PUBREL, TERN_PUBREC, 0, false, false, false, false},
    {"pubrel_answered_pubcomp_4_3_3_11", TERN_QS_WAIT_PUBREL, TERN_PUBREL, 0, 0, TERN_QS_FREE,
     TERN_PUBCOMP, 0, false, false, false, false},
    {"pubrel_unknown_id_pubcomp_0x92", TERN_QS_FREE, TERN_PUBREL, 0, 0, TERN_QS_FREE, TERN_PUBCOMP,
     0x92, false, false, false, false},
    /* sender */
    {"puback_completes_qos1", TERN_QS_WAIT_PUBACK, TERN_PUBACK, 0, 0, TERN_QS_FREE, 0, 0, false,
     true, false, false},
    {"puback_failure_completes_failed", TERN_QS_WAIT_PUBACK, TERN_PUBACK, 0, 0x87, TERN_QS_FREE, 0,
     0, false, true, true, false},
    {"puback_late_duplicate_ignored", TERN_QS_FREE, TERN_PUBACK, 0, 0, TERN_QS_FREE, 0, 0, false,
     false, false, false},
    {"puback_in_qos2_exchange_protocol_error", TERN_QS_WAIT_PUBREC, TERN_PUBACK, 0, 0,
     TERN_QS_WAIT_PUBREC, 0, 0, false, false, false, true},
    {"pubrec_answered_pubrel_4_3_3_4", TERN_QS_WAIT_PUBREC, TERN_PUBREC, 0, 0, TERN_QS_WAIT_PUBCOMP,
     TERN_PUBREL, 0, false, false, false, false},
    {"pubrec_repeat_pubrel_again", TERN_QS_WAIT_PUBCOMP, TERN_PUBREC, 0, 0, TERN_QS_WAIT_PUBCOMP,
     TERN_PUBREL, 0, false, false, false, false},
    {"pubrec_failure_frees_id_no_pubrel", TERN_QS_WAIT_PUBREC, TERN_PUBREC, 0, 0x80, TERN_QS_FREE,
     0, 0, false, true, true, false},
    {"pubrec_unknown_id_pubrel_0x92", TERN_QS_FREE, TERN_PUBREC, 0, 0, TERN_QS_FREE, TERN_PUBREL,
     0x92, false, false, false, false},
    {"pubrec_in_qos1_exchange_protocol_error", TERN_QS_WAIT_PUBACK, TERN_PUBREC, 0, 0,
     TERN_QS_WAIT_PUBACK, 0, 0, false, false, false, true},
    {"pubcomp_completes_qos2", TERN_QS_WAIT_PUBCOMP, TERN_PUBCOMP, 0, 0, TERN_QS_FREE, 0, 0, false,
     true, false, false},
    {"pubcomp_before_pubrec_protocol_error", TERN_QS_WAIT_PUBREC, TERN_PUBCOMP, 0, 0,
     TERN_QS_WAIT_PUBREC, 0, 0, false, false, false, true},
};

TN_TEST(qos_table_rows)
{
    for (size_t i = 0; i < sizeof qrows / sizeof qrows[0]; i++) {
        const struct qrow *q = &qrows[i];
        struct tern_qos_step s;
        memset(&s, 0xa5, sizeof s);
        int r = tern_qos_step(q->state, q->type, q->qos, q->rc, &s);
        TN_EXPECT_EQ_INT(r, 0);
        TN_EXPECT_EQ_U32(s.next, q->next);
        TN_EXPECT_EQ_U32(s.reply, q->reply);
        TN_EXPECT_EQ_HEX(s.reply_rc, q->reply_rc);
        TN_EXPECT_EQ_INT(s.deliver, q->deliver);
        TN_EXPECT_EQ_INT(s.complete, q->complete);
        TN_EXPECT_EQ_INT(s.failed, q->failed);
        TN_EXPECT_EQ_INT(s.protocol_error, q->perr);
        if (tn_cur_failed_) {
            fprintf(stderr, "    ^ row %s\n", q->name);
            return;
        }
    }
}

TN_TEST(qos_bad_events_einval)
{
    struct tern_qos_step s;
    TN_EXPECT_EQ_INT(tern_qos_step(TERN_QS_FREE, TERN_PUBLISH, 0, 0, &s), -EINVAL);
    TN_EXPECT_EQ_INT(tern_qos_step(TERN_QS_FREE, TERN_PUBLISH, 3, 0, &s), -EINVAL);
    TN_EXPECT_EQ_INT(tern_qos_step(TERN_QS_FREE, TERN_SUBSCRIBE, 0, 0, &s), -EINVAL);
    TN_EXPECT_EQ_INT(tern_qos_step(9, TERN_PUBACK, 0, 0, &s), -EINVAL);
}

/* Resend on session resume: PUBLISH for unacknowledged publishes, PUBREL once PUBREC came
 * [MQTT-4.4.0-1]. */
TN_TEST(qos_resend_on_resume_4_4_0_1)
{
    TN_EXPECT_EQ_U32(tern_qos_resend(TERN_QS_WAIT_PUBACK), TERN_PUBLISH);
    TN_EXPECT_EQ_U32(tern_qos_resend(TERN_QS_WAIT_PUBREC), TERN_PUBLISH);
    TN_EXPECT_EQ_U32(tern_qos_resend(TERN_QS_WAIT_PUBCOMP), TERN_PUBREL);
    TN_EXPECT_EQ_U32(tern_qos_resend(TERN_QS_FREE), 0);
    TN_EXPECT_EQ_U32(tern_qos_resend(TERN_QS_WAIT_PUBREL), 0);
}

/*
 * A whole QoS 2 exchange where the link drops after every packet and each side re-sends what
 * tern_qos_resend says: the receiver must deliver exactly once, and both ends finish free.
 * drop_mask bit k set = the k-th packet sent is lost and the sender re-sends on "reconnect".
 */
static void qos2_run(unsigned drop_mask, int *delivered, uint8_t *snd, uint8_t *rcv)
{
    uint8_t sender = TERN_QS_WAIT_PUBREC, receiver = TERN_QS_FREE;
    uint8_t in_flight = TERN_PUBLISH; /* the packet on the wire */
    unsigned k = 0;
    *delivered = 0;
    for (int guard = 0; guard < 64 && in_flight; guard++, k++) {
        if (drop_mask >> k & 1u) {
            /* Lost: on reconnect the sender re-sends by its state; the receiver's answers are
             * driven by what it receives. */
            in_flight = tern_qos_resend(sender);
            continue;
        }
        struct tern_qos_step s;
        if (in_flight == TERN_PUBLISH || in_flight == TERN_PUBREL) {
            TN_REQUIRE(tern_qos_step(receiver, in_flight, 2, 0, &s) == 0);
            receiver = s.next;
            *delivered += s.deliver;
        } else {
            TN_REQUIRE(tern_qos_step(sender, in_flight, 2, 0, &s) == 0);
            sender = s.next;
        }
        TN_REQUIRE(!s.protocol_error);
        in_flight = s.reply;
    }
    *snd = sender;
    *rcv = receiver;
}

TN_TEST(qos2_exactly_once_under_every_loss_pattern_4_3_3_10)
{
    for (unsigned mask = 0; mask < 64; mask++) {
        int delivered = -1;
        uint8_t snd = 0xff, rcv = 0xff;
        qos2_run(mask, &delivered, &snd, &rcv);
        TN_EXPECT_EQ_INT(delivered, 1);
        TN_EXPECT_EQ_U32(snd, TERN_QS_FREE);
        TN_EXPECT_EQ_U32(rcv, TERN_QS_FREE);
        if (tn_cur_failed_) {
            fprintf(stderr, "    ^ drop mask %#x\n", mask);
            return;
        }
    }
}

TN_TEST_MAIN()
