/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_format.c - prints a received message for tern sub / tern rr: plain, -v, or
 * -F FORMAT.
 *
 * The -F language is mosquitto_sub's (2.0): %-sequences with optional '-' (left align), '0'
 * (zero pad), field width and .precision; @X passed to strftime as %X (@N: nanoseconds, @@: @);
 * \-escapes. Widths and truncation behave as mosquitto_sub's do, quirks included (a width on
 * %p also caps the bytes printed), so that output compares equal. tern adds %i, the client id.
 *
 * Owns: nothing. Thread: the caller's.
 */
#include "cli_format.h"

#include <errno.h>
#include <string.h>

#include "cli_opts.h"

struct spec {
    char align; /* '-' or 0 */
    char pad;   /* ' ' or '0' */
    int width;
    int precision; /* -1: none */
};

static void print_blank(FILE *out, char pad, int width)
{
    while (width-- > 0)
        fputc(pad, out);
}

static void print_int(FILE *out, long v, const struct spec *s)
{
    if (s->width == 0)
        fprintf(out, "%ld", v);
    else if (s->align == '-')
        fprintf(out, "%-*ld", s->width, v);
    else if (s->pad == '0')
        fprintf(out, "%0*ld", s->width, v);
    else
        fprintf(out, "%*ld", s->width, v);
}

/* A string of n bytes (not NUL-terminated) with width/precision as printf's %*.*s. */
static void print_str(FILE *out, const char *p, size_t n, const struct spec *s)
{
    size_t shown = n;
    int padn;

    if (s->precision >= 0 && (size_t)s->precision < shown)
        shown = (size_t)s->precision;
    padn = s->width > (int)shown ? s->width - (int)shown : 0;
    if (s->align != '-')
        print_blank(out, ' ', padn);
    fwrite(p, 1, shown, out);
    if (s->align == '-')
        print_blank(out, ' ', padn);
}

/* mosquitto_sub's write_payload: hex 0 raw, 1 lower, 2 upper. */
static void print_payload(FILE *out, tern_slice pl, int hex, const struct spec *s)
{
    size_t len = pl.n, i;
    long padlen;

    if (s->width > 0) {
        if (len > (size_t)s->width)
            len = (size_t)s->width;
        if (hex) {
            len /= 2;
            padlen = s->width - (long)len * 2;
        } else {
            padlen = s->width - (long)len;
        }
    } else {
        padlen = 0;
    }
    if (s->align != '-')
        print_blank(out, s->pad, (int)padlen);
    if (hex == 0)
        fwrite(pl.p, 1, len, out);
    else
        for (i = 0; i < len; i++)
            fprintf(out, hex == 1 ? "%02x" : "%02X", pl.p[i]);
    if (s->align == '-')
        print_blank(out, ' ', (int)padlen);
}

static bool has(const struct tn_cli_msg *m, unsigned id)
{
    return m->props && tern_props_has(m->props, id);
}

/* "2020-05-06T22:12:00.123456Z+0100": mosquitto_sub's %j time stamp, stray 'Z' included. */
static void json_tst(char *buf, size_t cap, const struct tm *tm, long ns)
{
    char z[16];

    if (strftime(z, sizeof(z), "%z", tm) == 0)
        z[0] = '\0';
    snprintf(buf, cap, "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ%s", tm->tm_year + 1900, tm->tm_mon + 1,
             tm->tm_mday, tm->tm_hour, tm->tm_min, tm->tm_sec, ns / 1000, z);
}

static void json_key_n(FILE *out, bool pretty, unsigned depth, bool first, tern_slice k)
{
    if (!first)
        fputs(pretty ? ",\n" : ",", out);
    if (pretty)
        while (depth--)
            fputc('\t', out);
    tn_json_write_str(out, k.p, k.n);
    fputs(pretty ? ":\t" : ":", out);
}

static void json_key(FILE *out, bool pretty, unsigned depth, bool first, const char *k)
{
    json_key_n(out, pretty, depth, first, tern_slice_cstr(k));
}

/* The "properties" object of %j: the properties mosquitto_sub shows, in wire order. */
static void json_props(FILE *out, const struct tern_props *props, bool pretty)
{
    struct tern_prop_iter it;
    struct tern_prop pr;
    bool first = true, user_open = false, user_first = true;
    char name[48];

    fputs(pretty ? "{\n" : "{", out);
    tern_props_iter_init(&it, props);
    while (tern_props_iter_next(&it, &pr) == 1) {
        if (pr.id == TERN_PROP_USER_PROPERTY) {
            /* mosquitto groups all User Properties into one object at the first one's place;
             * everything after it is printed inside that object's parent as usual. */
            if (user_open)
                continue;
            json_key(out, pretty, 2, first, "user-properties");
            first = false;
            user_open = true;
            {
                struct tern_prop_iter it2;
                struct tern_strpair kv;

                fputs(pretty ? "{\n" : "{", out);
                tern_props_iter_init(&it2, props);
                while (tern_props_next_user(&it2, &kv) == 1) {
                    json_key_n(out, pretty, 3, user_first, kv.k);
                    user_first = false;
                    tn_json_write_str(out, kv.v.p, kv.v.n);
                }
                if (pretty)
                    fputs(user_first ? "\t\t}" : "\n\t\t}", out);
                else
                    fputc('}', out);
            }
            continue;
        }
        switch (pr.id) {
        case TERN_PROP_PAYLOAD_FORMAT_INDICATOR:
        case TERN_PROP_MESSAGE_EXPIRY_INTERVAL:
        case TERN_PROP_SUBSCRIPTION_IDENTIFIER:
        case TERN_PROP_TOPIC_ALIAS:
            json_key(out, pretty, 2, first, tn_cli_prop_name(pr.id, name, sizeof(name)));
            tn_json_write_number(out, (double)pr.u);
            break;
        case TERN_PROP_CONTENT_TYPE:
        case TERN_PROP_RESPONSE_TOPIC:
        case TERN_PROP_CORRELATION_DATA:
            json_key(out, pretty, 2, first, tn_cli_prop_name(pr.id, name, sizeof(name)));
            tn_json_write_str(out, pr.s.p, pr.s.n);
            break;
        default: continue;
        }
        first = false;
    }
    if (pretty)
        fputs(first ? "\t}" : "\n\t}", out);
    else
        fputc('}', out);
}

/* %j (escaped = true) and %J. Returns -EINVAL, printing nothing, if %J's payload is not JSON. */
static int json_print(FILE *out, const struct tn_cli_msg *m, const struct tm *tm, long ns,
                      bool escaped, bool pretty)
{
    char tst[64];

    if (!escaped && m->payload.n > 0 && !tn_json_is_valid(m->payload.p, m->payload.n))
        return -EINVAL;
    json_tst(tst, sizeof(tst), tm, ns);
    fputs(pretty ? "{\n" : "{", out);
    json_key(out, pretty, 1, true, "tst");
    tn_json_write_str(out, (const uint8_t *)tst, strlen(tst));
    json_key(out, pretty, 1, false, "topic");
    tn_json_write_str(out, m->topic.p, m->topic.n);
    json_key(out, pretty, 1, false, "qos");
    fprintf(out, "%u", m->qos);
    json_key(out, pretty, 1, false, "retain");
    fprintf(out, "%d", m->retain ? 1 : 0);
    json_key(out, pretty, 1, false, "payloadlen");
    fprintf(out, "%zu", m->payload.n);
    if (m->qos > 0) {
        json_key(out, pretty, 1, false, "mid");
        fprintf(out, "%u", m->mid);
    }
    if (m->props && m->props->raw.n > 0) {
        json_key(out, pretty, 1, false, "properties");
        json_props(out, m->props, pretty);
    }
    json_key(out, pretty, 1, false, "payload");
    if (m->payload.n == 0)
        fputs("null", out); /* mosquitto has no payload buffer for an empty message */
    else if (escaped)
        tn_json_write_str(out, m->payload.p, m->payload.n);
    else
        tn_json_reprint(out, m->payload.p, m->payload.n, pretty, 1);
    fputs(pretty ? "\n}" : "}", out);
    return 0;
}

static int print_percent(FILE *out, const struct tn_cli_out *o, const struct tn_cli_msg *m,
                         char conv, const struct spec *s, const struct tm *tm, long ns)
{
    char buf[128];
    struct tern_prop_iter it;
    struct tern_strpair kv;
    bool first = true;

    switch (conv) {
    case '%': fputc('%', out); break;
    case 'A':
        if (has(m, TERN_PROP_TOPIC_ALIAS))
            print_int(out, m->props->topic_alias, s);
        else
            print_blank(out, s->pad, s->width);
        break;
    case 'C':
        if (has(m, TERN_PROP_CONTENT_TYPE))
            print_str(out, (const char *)m->props->content_type.p, m->props->content_type.n, s);
        else
            print_blank(out, ' ', s->width);
        break;
    case 'D':
        if (has(m, TERN_PROP_CORRELATION_DATA))
            fwrite(m->props->correlation_data.p, 1, m->props->correlation_data.n, out);
        break;
    case 'E':
        if (has(m, TERN_PROP_MESSAGE_EXPIRY_INTERVAL))
            print_int(out, (long)m->props->message_expiry_interval, s);
        else
            print_blank(out, s->pad, s->width);
        break;
    case 'F':
        if (has(m, TERN_PROP_PAYLOAD_FORMAT_INDICATOR))
            print_int(out, m->props->payload_format_indicator, s);
        else
            print_blank(out, s->pad, s->width);
        break;
    case 'i': {
        const char *id = m->client_id ? m->client_id : "";

        print_str(out, id, strlen(id), s);
        break;
    }
    case 'I':
        if (strftime(buf, sizeof(buf), "%FT%T%z", tm) != 0)
            print_str(out, buf, strlen(buf), s);
        else
            print_blank(out, ' ', s->width);
        break;
    case 'j':
    case 'J': return json_print(out, m, tm, ns, conv == 'j', o->pretty);
    case 'l': print_int(out, (long)m->payload.n, s); break;
    case 'm': print_int(out, m->mid, s); break;
    case 'P':
        if (!m->props)
            break;
        tern_props_iter_init(&it, m->props);
        while (tern_props_next_user(&it, &kv) == 1) {
            if (!first)
                fputc(' ', out);
            first = false;
            fprintf(out, "%.*s:%.*s", TERN_SLICE_FMT(kv.k), TERN_SLICE_FMT(kv.v));
        }
        break;
    case 'p': print_payload(out, m->payload, 0, s); break;
    case 'q': fputc('0' + m->qos, out); break;
    case 'R':
        if (has(m, TERN_PROP_RESPONSE_TOPIC))
            print_str(out, (const char *)m->props->response_topic.p, m->props->response_topic.n, s);
        break;
    case 'r': fputc(m->retain ? '1' : '0', out); break;
    case 'S':
        if (has(m, TERN_PROP_SUBSCRIPTION_IDENTIFIER))
            print_int(out, (long)m->props->sub_id, s);
        else
            print_blank(out, s->pad, s->width);
        break;
    case 't': print_str(out, (const char *)m->topic.p, m->topic.n, s); break;
    case 'U':
        if (strftime(buf, sizeof(buf), "%s", tm) != 0)
            fprintf(out, "%s.%09ld", buf, ns);
        break;
    case 'x': print_payload(out, m->payload, 1, s); break;
    case 'X': print_payload(out, m->payload, 2, s); break;
    default: break; /* unknown: nothing, as mosquitto_sub */
    }
    return 0;
}

static int formatted_print(FILE *out, const struct tn_cli_out *o, const struct tn_cli_msg *m,
                           const struct tm *tm, long ns)
{
    const char *f = o->format;
    size_t len = strlen(f), i;
    int result = 0;

    for (i = 0; i < len; i++) {
        char c = f[i];

        if (c == '%') {
            struct spec s = {0, ' ', 0, -1};

            if (i + 1 >= len)
                break;
            i++;
            if (f[i] == '-') {
                s.align = '-';
                if (i + 1 < len)
                    i++;
            }
            if (f[i] == '0') {
                s.pad = '0';
                if (i + 1 < len)
                    i++;
            }
            while (i + 1 < len && f[i] >= '0' && f[i] <= '9') {
                if (s.width < 100000)
                    s.width = s.width * 10 + (f[i] - '0');
                i++;
            }
            if (f[i] == '.' && i + 1 < len) {
                i++;
                s.precision = 0;
                while (i + 1 < len && f[i] >= '0' && f[i] <= '9') {
                    if (s.precision < 100000)
                        s.precision = s.precision * 10 + (f[i] - '0');
                    i++;
                }
            }
            if (print_percent(out, o, m, f[i], &s, tm, ns) < 0)
                result = -EINVAL;
        } else if (c == '@') {
            if (i + 1 >= len)
                break;
            i++;
            if (f[i] == '@') {
                fputc('@', out);
            } else if (f[i] == 'N') {
                fprintf(out, "%09ld", ns);
            } else {
                char strf[3] = {'%', f[i], '\0'};
                char buf[128];

                /* The user's @X is strftime's %X by design (mosquitto_sub's @ sequences). */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
                if (strftime(buf, sizeof(buf), strf, tm) != 0)
                    fputs(buf, out);
#pragma GCC diagnostic pop
            }
        } else if (c == '\\') {
            if (i + 1 >= len)
                break;
            i++;
            switch (f[i]) {
            case '\\': fputc('\\', out); break;
            case '0': fputc('\0', out); break;
            case 'a': fputc('\a', out); break;
            case 'e': fputc('\033', out); break;
            case 'n': fputc('\n', out); break;
            case 'r': fputc('\r', out); break;
            case 't': fputc('\t', out); break;
            case 'v': fputc('\v', out); break;
            default: break;
            }
        } else {
            fputc(c, out);
        }
    }
    if (o->eol)
        fputc('\n', out);
    return result;
}

int tn_cli_format_check(const char *f, char *err, size_t cap)
{
    size_t len = strlen(f), i;

    for (i = 0; i < len; i++) {
        if (f[i] == '%') {
            if (i + 1 >= len)
                goto incomplete;
            if (f[i + 1] == '0' || f[i + 1] == '-')
                if (++i + 1 >= len)
                    goto incomplete;
            while (f[i + 1] >= '0' && f[i + 1] <= '9')
                if (++i + 1 >= len)
                    goto incomplete;
            if (f[i + 1] == '.') {
                if (++i + 1 >= len)
                    goto incomplete;
                while (f[i + 1] >= '0' && f[i + 1] <= '9')
                    if (++i + 1 >= len)
                        goto incomplete;
            }
            if (!strchr("%ACDEFIilmPpqRSrtjJUxX", f[i + 1]) || f[i + 1] == '\0') {
                snprintf(err, cap, "unknown format specifier '%%%c'", f[i + 1]);
                return -EINVAL;
            }
            i++;
        } else if (f[i] == '@') {
            if (i + 1 >= len)
                goto incomplete;
            i++;
        } else if (f[i] == '\\') {
            if (i + 1 >= len) {
                snprintf(err, cap, "incomplete escape at the end ('\\' alone)");
                return -EINVAL;
            }
            if (!strchr("\\0aenrtv", f[i + 1])) {
                snprintf(err, cap, "unknown escape '\\%c' (\\\\ \\0 \\a \\e \\n \\r \\t \\v)",
                         f[i + 1]);
                return -EINVAL;
            }
            i++;
        }
    }
    return 0;
incomplete:
    snprintf(err, cap, "incomplete format specifier at the end");
    return -EINVAL;
}

int tn_cli_print_msg(FILE *out, const struct tn_cli_out *o, const struct tn_cli_msg *m,
                     const struct timespec *now)
{
    struct tm tm;
    time_t secs = now->tv_sec;
    int r = 0;

    if (!localtime_r(&secs, &tm))
        memset(&tm, 0, sizeof(tm));
    if (o->format) {
        r = formatted_print(out, o, m, &tm, now->tv_nsec);
    } else if (o->verbose) {
        if (m->payload.n) {
            fprintf(out, "%.*s ", TERN_SLICE_FMT(m->topic));
            fwrite(m->payload.p, 1, m->payload.n, out);
            if (o->eol)
                fputc('\n', out);
        } else if (o->eol) {
            fprintf(out, "%.*s (null)\n", TERN_SLICE_FMT(m->topic));
        }
    } else if (m->payload.n) {
        fwrite(m->payload.p, 1, m->payload.n, out);
        if (o->eol)
            fputc('\n', out);
    }
    fflush(out);
    return r;
}
