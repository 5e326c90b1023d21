/* SPDX-License-Identifier: MIT */
/*
 * src/cli/cli_json.c - the small JSON reader and writer behind %j / %J of tern sub.
 *
 * mosquitto_sub builds its JSON with cJSON; to print the same text (scripts and tests compare
 * the two) this file follows cJSON's rules: white space is any byte <= 0x20, numbers are read
 * with strtod and written as integers when they are whole ints, strings are re-escaped, arrays
 * print as [1, 2] and objects as {\n\t"k":\tv\n} when pretty. Nesting is limited to 1000
 * levels, cJSON's limit, so a hostile payload cannot exhaust the stack.
 *
 * Owns: temporary string buffers during one call.
 * Thread: any.
 */
#include "cli_format.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define JSON_DEPTH_MAX 1000

void tn_json_write_str(FILE *out, const uint8_t *p, size_t n)
{
    size_t i;

    fputc('"', out);
    for (i = 0; i < n; i++) {
        uint8_t c = p[i];

        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 32)
                fprintf(out, "\\u%04x", c);
            else
                fputc(c, out);
        }
    }
    fputc('"', out);
}

void tn_json_write_number(FILE *out, double d)
{
    char buf[64];
    double test = 0.0;
    int vi;

    if (isnan(d) || isinf(d)) {
        fputs("null", out);
        return;
    }
    /* cJSON keeps a saturated int copy and prints it when it equals the double. */
    vi = d >= (double)INT_MAX ? INT_MAX : d <= (double)INT_MIN ? INT_MIN : (int)d;
    if (d == (double)vi) {
        fprintf(out, "%d", vi);
        return;
    }
    snprintf(buf, sizeof(buf), "%1.15g", d);
    if (sscanf(buf, "%lg", &test) != 1 ||
        fabs(test - d) > (fabs(test) > fabs(d) ? fabs(test) : fabs(d)) * DBL_EPSILON)
        snprintf(buf, sizeof(buf), "%1.17g", d);
    fputs(buf, out);
}

/* ---- reader ------------------------------------------------------------------------------- */

struct jr {
    const uint8_t *p, *end;
    FILE *out; /* NULL: validate only */
    bool pretty;
    char *sbuf; /* scratch for unescaped strings */
    size_t scap;
};

static void jr_ws(struct jr *r)
{
    while (r->p < r->end && *r->p <= 32)
        r->p++;
}

static int hex4(const uint8_t *p, unsigned *out)
{
    unsigned v = 0;
    int i;

    for (i = 0; i < 4; i++) {
        uint8_t c = p[i];

        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return -1;
    }
    *out = v;
    return 0;
}

static size_t utf8_put(uint32_t cp, char *o)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A string at r->p (the opening quote). Unescapes into r->sbuf; prints it re-escaped. */
static int jr_string(struct jr *r)
{
    const uint8_t *q = r->p + 1, *close = q;
    size_t len = 0;

    while (close < r->end && *close != '"') {
        if (*close == '\\') {
            if (close + 1 >= r->end)
                return -EINVAL;
            close++;
        }
        close++;
    }
    if (close >= r->end)
        return -EINVAL;
    if ((size_t)(close - q) + 1 > r->scap) {
        size_t cap = (size_t)(close - q) + 1;
        char *b = realloc(r->sbuf, cap);

        if (!b)
            return -ENOMEM;
        r->sbuf = b;
        r->scap = cap;
    }
    while (q < close) {
        if (*q != '\\') {
            r->sbuf[len++] = (char)*q++;
            continue;
        }
        switch (q[1]) {
        case 'b': r->sbuf[len++] = '\b'; break;
        case 'f': r->sbuf[len++] = '\f'; break;
        case 'n': r->sbuf[len++] = '\n'; break;
        case 'r': r->sbuf[len++] = '\r'; break;
        case 't': r->sbuf[len++] = '\t'; break;
        case '"':
        case '\\':
        case '/': r->sbuf[len++] = (char)q[1]; break;
        case 'u': {
            unsigned a, b;
            uint32_t cp;

            if (close - q < 6 || hex4(q + 2, &a) < 0 || (a >= 0xDC00 && a <= 0xDFFF))
                return -EINVAL;
            if (a >= 0xD800 && a <= 0xDBFF) {
                if (close - q < 12 || q[6] != '\\' || q[7] != 'u' || hex4(q + 8, &b) < 0 ||
                    b < 0xDC00 || b > 0xDFFF)
                    return -EINVAL;
                cp = 0x10000 + (((a & 0x3FF) << 10) | (b & 0x3FF));
                q += 6;
            } else {
                cp = a;
            }
            /* A \uXXXX escape is at least as long as the UTF-8 it becomes. */
            len += utf8_put(cp, r->sbuf + len);
            q += 4;
            break;
        }
        default: return -EINVAL;
        }
        q += 2;
    }
    r->p = close + 1;
    if (r->out)
        tn_json_write_str(r->out, (const uint8_t *)r->sbuf, len);
    return 0;
}

static int jr_number(struct jr *r)
{
    char buf[128];
    size_t n = 0;
    char *after = NULL;
    double d;

    while (r->p + n < r->end && n + 1 < sizeof(buf) && strchr("0123456789+-eE.", r->p[n]) &&
           r->p[n])
        n++;
    memcpy(buf, r->p, n);
    buf[n] = '\0';
    d = strtod(buf, &after);
    if (after == buf)
        return -EINVAL;
    r->p += after - buf;
    if (r->out)
        tn_json_write_number(r->out, d);
    return 0;
}

static void indent(FILE *out, unsigned depth)
{
    while (depth--)
        fputc('\t', out);
}

static int jr_value(struct jr *r, unsigned depth);

static int jr_array(struct jr *r, unsigned depth)
{
    bool first = true;
    int e;

    r->p++;
    if (r->out)
        fputc('[', r->out);
    jr_ws(r);
    if (r->p < r->end && *r->p == ']') {
        r->p++;
        if (r->out)
            fputc(']', r->out);
        return 0;
    }
    for (;;) {
        jr_ws(r);
        if (r->out && !first)
            fputs(r->pretty ? ", " : ",", r->out);
        first = false;
        e = jr_value(r, depth + 1);
        if (e < 0)
            return e;
        jr_ws(r);
        if (r->p >= r->end)
            return -EINVAL;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p != ']')
            return -EINVAL;
        r->p++;
        if (r->out)
            fputc(']', r->out);
        return 0;
    }
}

static int jr_object(struct jr *r, unsigned depth)
{
    bool first = true;
    int e;

    r->p++;
    if (r->out)
        fputs(r->pretty ? "{\n" : "{", r->out);
    jr_ws(r);
    if (r->p < r->end && *r->p == '}') {
        r->p++;
        if (r->out) {
            if (r->pretty)
                indent(r->out, depth);
            fputc('}', r->out);
        }
        return 0;
    }
    for (;;) {
        jr_ws(r);
        if (r->p >= r->end || *r->p != '"')
            return -EINVAL;
        if (r->out) {
            if (!first)
                fputs(r->pretty ? ",\n" : ",", r->out);
            if (r->pretty)
                indent(r->out, depth + 1);
        }
        first = false;
        e = jr_string(r);
        if (e < 0)
            return e;
        jr_ws(r);
        if (r->p >= r->end || *r->p != ':')
            return -EINVAL;
        r->p++;
        if (r->out)
            fputs(r->pretty ? ":\t" : ":", r->out);
        jr_ws(r);
        e = jr_value(r, depth + 1);
        if (e < 0)
            return e;
        jr_ws(r);
        if (r->p >= r->end)
            return -EINVAL;
        if (*r->p == ',') {
            r->p++;
            continue;
        }
        if (*r->p != '}')
            return -EINVAL;
        r->p++;
        if (r->out) {
            if (r->pretty) {
                fputc('\n', r->out);
                indent(r->out, depth);
            }
            fputc('}', r->out);
        }
        return 0;
    }
}

static bool lit(struct jr *r, const char *w)
{
    size_t n = strlen(w);

    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n))
        return false;
    r->p += n;
    if (r->out)
        fputs(w, r->out);
    return true;
}

static int jr_value(struct jr *r, unsigned depth)
{
    if (depth > JSON_DEPTH_MAX || r->p >= r->end)
        return -EINVAL;
    if (lit(r, "null") || lit(r, "false") || lit(r, "true"))
        return 0;
    switch (*r->p) {
    case '"': return jr_string(r);
    case '[': return jr_array(r, depth);
    case '{': return jr_object(r, depth);
    default:
        if (*r->p == '-' || (*r->p >= '0' && *r->p <= '9'))
            return jr_number(r);
        return -EINVAL;
    }
}

static int jr_run(struct jr *r, unsigned depth)
{
    int e;

    jr_ws(r);
    e = jr_value(r, depth);
    if (e < 0)
        return e;
    jr_ws(r);
    return r->p == r->end ? 0 : -EINVAL;
}

bool tn_json_is_valid(const uint8_t *p, size_t n)
{
    struct jr r = {.p = p, .end = p + n};
    int e = jr_run(&r, 0);

    free(r.sbuf);
    return e == 0;
}

int tn_json_reprint(FILE *out, const uint8_t *p, size_t n, bool pretty, unsigned depth)
{
    struct jr r = {.p = p, .end = p + n, .pretty = pretty};
    int e;

    /* Validate first so that nothing is written for a bad payload. */
    if (!tn_json_is_valid(p, n))
        return -EINVAL;
    r.out = out;
    e = jr_run(&r, depth);
    free(r.sbuf);
    return e;
}
