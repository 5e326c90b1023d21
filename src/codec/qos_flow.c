/* SPDX-License-Identifier: MIT */
/*
 * src/codec/qos_flow.c - the QoS 1 and QoS 2 exchanges as a pure state table, shared by the
 * broker and the client library (5.0 section 4.3, 3.1.1 section 4.3).
 *
 * Owns: nothing. Thread: any.
 */
#include "codec_internal.h"

/* Reply-and-move shorthands for the table below. */
static void qos_set(struct tern_qos_step *o, uint8_t next, uint8_t reply, uint8_t reply_rc)
{
    *o = (struct tern_qos_step){.next = next, .reply = reply, .reply_rc = reply_rc};
}

/* Receiver side: PUBLISH and PUBREL. */
static int qos_receiver(uint8_t state, uint8_t type, uint8_t qos, struct tern_qos_step *o)
{
    if (type == TERN_PUBLISH) {
        if (qos == 1) {
            /* QoS 1: acknowledge and deliver every time; a DUP copy may be delivered again
             * (at least once) [MQTT-4.3.2-5]. */
            qos_set(o, state, TERN_PUBACK, 0);
            o->deliver = true;
            return 0;
        }
        if (state == TERN_QS_WAIT_PUBREL) {
            /* A repeat before PUBREL: PUBREC again, no second delivery [MQTT-4.3.3-10]. */
            qos_set(o, TERN_QS_WAIT_PUBREL, TERN_PUBREC, 0);
            return 0;
        }
        qos_set(o, TERN_QS_WAIT_PUBREL, TERN_PUBREC, 0);
        o->deliver = true;
        return 0;
    }
    /* PUBREL: always answered with PUBCOMP [MQTT-4.3.3-11] (5.0); for an id we do not hold,
     * with 0x92 Packet Identifier not found, since a resumed session re-sends PUBREL for
     * exchanges the receiver may have completed already. */
    if (state == TERN_QS_WAIT_PUBREL)
        qos_set(o, TERN_QS_FREE, TERN_PUBCOMP, 0);
    else
        qos_set(o, state, TERN_PUBCOMP, TERN_RC_PACKET_IDENTIFIER_NOT_FOUND);
    return 0;
}

int tern_qos_step(uint8_t state, uint8_t type, uint8_t qos, uint8_t rc, struct tern_qos_step *o)
{
    if (state > TERN_QS_WAIT_PUBREL)
        return -EINVAL;
    switch (type) {
    case TERN_PUBLISH:
        if (qos < 1 || qos > 2)
            return -EINVAL;
        return qos_receiver(state, type, qos, o);
    case TERN_PUBREL: return qos_receiver(state, type, qos, o);
    case TERN_PUBACK:
        if (state == TERN_QS_WAIT_PUBACK) {
            qos_set(o, TERN_QS_FREE, 0, 0);
            o->complete = true;
            o->failed = rc >= 0x80;
        } else if (state == TERN_QS_FREE) {
            qos_set(o, state, 0, 0); /* a late duplicate: nothing to do */
        } else {
            qos_set(o, state, 0, 0);
            o->protocol_error = true; /* PUBACK for a QoS 2 exchange */
        }
        return 0;
    case TERN_PUBREC:
        if (state == TERN_QS_WAIT_PUBREC || state == TERN_QS_WAIT_PUBCOMP) {
            if (rc >= 0x80) {
                /* A failing PUBREC ends the exchange; the id is free (4.3.3, 5.0). */
                qos_set(o, TERN_QS_FREE, 0, 0);
                o->complete = o->failed = true;
            } else {
                /* PUBREL after PUBREC, again for a repeated PUBREC [MQTT-4.3.3-4]. */
                qos_set(o, TERN_QS_WAIT_PUBCOMP, TERN_PUBREL, 0);
            }
        } else if (state == TERN_QS_FREE) {
            /* Unknown id: release it so the receiver frees its side (5.0 0x92). */
            qos_set(o, state, TERN_PUBREL, TERN_RC_PACKET_IDENTIFIER_NOT_FOUND);
        } else {
            qos_set(o, state, 0, 0);
            o->protocol_error = true;
        }
        return 0;
    case TERN_PUBCOMP:
        if (state == TERN_QS_WAIT_PUBCOMP) {
            qos_set(o, TERN_QS_FREE, 0, 0);
            o->complete = true;
            o->failed = rc >= 0x80;
        } else if (state == TERN_QS_FREE) {
            qos_set(o, state, 0, 0);
        } else {
            qos_set(o, state, 0, 0);
            o->protocol_error = true; /* PUBCOMP before PUBREC was even received */
        }
        return 0;
    default: return -EINVAL;
    }
}

uint8_t tern_qos_resend(uint8_t state)
{
    switch (state) {
    case TERN_QS_WAIT_PUBACK:
    case TERN_QS_WAIT_PUBREC: return TERN_PUBLISH;
    case TERN_QS_WAIT_PUBCOMP: return TERN_PUBREL;
    default: return 0;
    }
}
