/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_trace.c - prints MQTT packets one per line for `--trace`:
 *     HH:MM:SS.uuuuuu -> TYPE field=value ... [props{name=value ...}]
 * Strings are printed with non-printable bytes escaped (\xNN) and cut after 64 bytes, so a
 * hostile topic cannot wreck the terminal; payloads are shown by length only. Passwords are
 * never printed, only their length.
 *
 * Owns: nothing. Thread: the caller's.
 */
#include "cli_trace.h"

#include <string.h>

#include "cli_opts.h"

#define TRACE_STR_MAX 64

static void put_str(FILE *out, tern_slice s)
{
    size_t i, n = s.n < TRACE_STR_MAX ? s.n : TRACE_STR_MAX;

    for (i = 0; i < n; i++) {
        uint8_t c = s.p[i];

        if (c < 0x20 || c == 0x7F || c == '\\')
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    if (n < s.n)
        fprintf(out, "...(%zuB)", s.n);
}

static void put_rc(FILE *out, uint8_t rc)
{
    fprintf(out, " rc=0x%02X(%s)", rc, tern_rc_name(rc));
}

/* Properties: from raw when decoded, else from the struct's fields (a packet we built). */
static void put_props(FILE *out, const struct tern_props *p)
{
    struct tern_prop_iter it;
    struct tern_prop pr;
    char name[48];
    bool first = true;

    if (p->raw.n == 0)
        return;
    tern_props_iter_init(&it, p);
    while (tern_props_iter_next(&it, &pr) == 1) {
        fputs(first ? " props{" : " ", out);
        first = false;
        if (!tn_cli_prop_name(pr.id, name, sizeof(name)))
            snprintf(name, sizeof(name), "0x%02x", pr.id);
        fprintf(out, "%s=", name);
        switch (pr.kind) {
        case TERN_PK_BYTE:
        case TERN_PK_U16:
        case TERN_PK_U32:
        case TERN_PK_VARINT: fprintf(out, "%u", pr.u); break;
        case TERN_PK_UTF8: put_str(out, pr.s); break;
        case TERN_PK_BINARY:
            if (pr.id == TERN_PROP_AUTHENTICATION_DATA)
                fprintf(out, "%zuB", pr.s.n);
            else
                put_str(out, pr.s);
            break;
        case TERN_PK_PAIR:
            put_str(out, pr.s);
            fputc(':', out);
            put_str(out, pr.v);
            break;
        case TERN_PK_NONE: break;
        }
    }
    if (!first)
        fputc('}', out);
}

static void put_time(FILE *out, const struct timespec *ts)
{
    struct timespec now;
    struct tm tm;
    time_t s;

    if (!ts) {
        clock_gettime(CLOCK_REALTIME, &now);
        ts = &now;
    }
    s = ts->tv_sec;
    if (!localtime_r(&s, &tm))
        memset(&tm, 0, sizeof(tm));
    fprintf(out, "%02d:%02d:%02d.%06ld", tm.tm_hour, tm.tm_min, tm.tm_sec, ts->tv_nsec / 1000);
}

static void trace_connect(FILE *out, const struct tern_connect *c)
{
    fprintf(out, " v=%u id=", c->version);
    put_str(out, c->client_id);
    fprintf(out, " clean=%d keepalive=%u", c->clean ? 1 : 0, c->keep_alive);
    if (c->has_username) {
        fputs(" user=", out);
        put_str(out, c->username);
    }
    if (c->has_password)
        fprintf(out, " password=%zuB", c->password.n);
    if (c->will) {
        fputs(" will=", out);
        put_str(out, c->will_topic);
        fprintf(out, " will-qos=%u will-retain=%d will-payload=%zuB", c->will_qos,
                c->will_retain ? 1 : 0, c->will_payload.n);
    }
    if (c->version == TERN_V5) {
        put_props(out, &c->props);
        if (c->will && c->will_props.raw.n) {
            fputs(" will-", out);
            put_props(out, &c->will_props);
        }
    }
}

static void trace_subscribe(FILE *out, const struct tern_packet *pkt, uint8_t version)
{
    const struct tern_subscribe *s = &pkt->u.subscribe;
    struct tern_sub_entry e;
    uint32_t i;

    fprintf(out, " id=%u", s->packet_id);
    if (s->list) {
        for (i = 0; i < s->count; i++) {
            fputc(' ', out);
            put_str(out, s->list[i].filter);
            if (pkt->type == TERN_SUBSCRIBE)
                fprintf(out, "(qos=%u)", s->list[i].qos);
        }
    } else {
        struct tern_sub_iter it;

        tern_sub_iter_init(&it, pkt, version);
        while (tern_sub_iter_next(&it, &e) == 1) {
            fputc(' ', out);
            put_str(out, e.filter);
            if (pkt->type == TERN_SUBSCRIBE) {
                fprintf(out, "(qos=%u", e.qos);
                if (version == TERN_V5 &&
                    (e.no_local || e.retain_as_published || e.retain_handling))
                    fprintf(out, " nl=%d rap=%d rh=%u", e.no_local ? 1 : 0,
                            e.retain_as_published ? 1 : 0, e.retain_handling);
                fputc(')', out);
            }
        }
    }
    if (version == TERN_V5)
        put_props(out, &s->props);
}

static void trace_suback(FILE *out, const struct tern_packet *pkt, uint8_t version)
{
    const struct tern_suback *s = &pkt->u.suback;
    size_t i;

    fprintf(out, " id=%u", s->packet_id);
    if (s->rcs.n) {
        fputs(" rcs=", out);
        for (i = 0; i < s->rcs.n; i++)
            fprintf(out, "%s0x%02X", i ? "," : "", s->rcs.p[i]);
    }
    if (version == TERN_V5)
        put_props(out, &s->props);
}

void tn_cli_trace_packet(FILE *out, const struct timespec *ts, bool sent,
                         const struct tern_packet *pkt, uint8_t version)
{
    put_time(out, ts);
    fprintf(out, " %s %s", sent ? "->" : "<-", tern_ptype_name(pkt->type));
    switch (pkt->type) {
    case TERN_CONNECT: trace_connect(out, &pkt->u.connect); break;
    case TERN_CONNACK:
        if (version == TERN_V5)
            put_rc(out, pkt->u.connack.rc);
        else
            fprintf(out, " rc=%u", pkt->u.connack.rc);
        fprintf(out, " session-present=%d", pkt->u.connack.session_present ? 1 : 0);
        if (version == TERN_V5)
            put_props(out, &pkt->u.connack.props);
        break;
    case TERN_PUBLISH: {
        const struct tern_publish *p = &pkt->u.publish;

        if (p->qos > 0)
            fprintf(out, " id=%u", p->packet_id);
        fprintf(out, " qos=%u", p->qos);
        if (p->retain)
            fputs(" retain=1", out);
        if (p->dup)
            fputs(" dup=1", out);
        fputs(" topic=", out);
        put_str(out, p->topic);
        fprintf(out, " payload=%zuB", p->payload.n);
        if (version == TERN_V5)
            put_props(out, &p->props);
        break;
    }
    case TERN_PUBACK:
    case TERN_PUBREC:
    case TERN_PUBREL:
    case TERN_PUBCOMP:
        fprintf(out, " id=%u", pkt->u.ack.packet_id);
        if (version == TERN_V5) {
            if (pkt->u.ack.rc)
                put_rc(out, pkt->u.ack.rc);
            put_props(out, &pkt->u.ack.props);
        }
        break;
    case TERN_SUBSCRIBE:
    case TERN_UNSUBSCRIBE: trace_subscribe(out, pkt, version); break;
    case TERN_SUBACK:
    case TERN_UNSUBACK: trace_suback(out, pkt, version); break;
    case TERN_DISCONNECT:
    case TERN_AUTH:
        if (version == TERN_V5) {
            put_rc(out, pkt->u.disconnect.rc);
            put_props(out, &pkt->u.disconnect.props);
        }
        break;
    default: break;
    }
    fputc('\n', out);
    fflush(out);
}

int tn_cli_trace_frame(FILE *out, const struct timespec *ts, bool sent, const uint8_t *frame,
                       size_t n, uint8_t version)
{
    struct tern_packet pkt;
    uint8_t rc = 0;
    int e;

    memset(&pkt, 0, sizeof(pkt));
    e = tern_packet_decode(frame, n, version, &pkt, &rc);
    if (e < 0) {
        put_time(out, ts);
        fprintf(out, " %s %s (undecodable: %s) %zuB\n", sent ? "->" : "<-",
                tern_ptype_name(n ? frame[0] >> 4 : 0), tern_strerror(e), n);
        fflush(out);
        return e;
    }
    tn_cli_trace_packet(out, ts, sent, &pkt, version);
    return 0;
}
