/* tests/fuzz/lp_parse.h — a small, strict reader of one line of InfluxDB line protocol, shared by
 * the unit test (tests/unit/test_lineproto.c) and the fuzz harness (tests/fuzz/lp_harness.h) to
 * read back what store/lineproto.c wrote. It follows the line-protocol reference and the grammar of
 * influxdata/line-protocol, not the formatter:
 *
 *   line        = measurement { "," tag_key "=" tag_value } " " field { "," field } " " timestamp "\n"
 *   measurement   ends at an unescaped ',' or ' '; "\," and "\ " stand for ',' and ' '
 *   tag keys, tag values, field keys   the same, and "\=" stands for '='
 *                 (in all of these a backslash before any other byte is a plain backslash)
 *   field value = float | integer "i" | unsigned "u" | boolean | '"' string '"'
 *   string        "\\" and "\"" stand for '\' and '"'
 *   float         [-] digits [. [digits]] [exponent] | [-] . digits [exponent]; 1 is a float
 *   boolean       t T true True TRUE f F false False FALSE
 *   timestamp     [-] digits, within ±9223372036854775806
 *
 * It is stricter than InfluxDB wherever the formatter promises more, so that a sloppy line fails
 * here: exactly one line ending in '\n' with no other '\n' or '\r'; single spaces between sections;
 * a timestamp always; UTF-8 throughout; no control character in names; no empty name or tag value;
 * a measurement not starting with '#'; tags strictly ascending by their escaped bytes (Go's
 * bytes.Compare, which also means no duplicates); no backslash in a string other than the two
 * escapes; and no plain backslash right before an escape sequence in a name ("\\,": InfluxDB 1.x
 * reads a field key's "\\" as one escaped pair and the ',' after it as a separator).
 *
 * Everything is static inline: include it where it is used. No allocation: the unescaped strings go
 * to an arena the caller provides (2 × the line's length + 16 bytes is always enough). */
#ifndef VW_LP_PARSE_H
#define VW_LP_PARSE_H

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LP_PARSE_MAX_TAGS 64
#define LP_PARSE_MAX_FIELDS 128

enum lp_ptype { LP_P_FLOAT, LP_P_INT, LP_P_UINT, LP_P_BOOL, LP_P_STRING };

typedef struct lp_pfield {
    const char *key;
    enum lp_ptype type;
    double f;
    int64_t i;
    uint64_t u;
    bool b;
    const char *s;
} lp_pfield;

typedef struct lp_parsed {
    const char *measurement;
    size_t ntags, nfields;
    const char *tag_key[LP_PARSE_MAX_TAGS], *tag_value[LP_PARSE_MAX_TAGS];
    lp_pfield fields[LP_PARSE_MAX_FIELDS];
    int64_t t_ns;
    char why[200]; /* why the line was refused */
} lp_parsed;

typedef struct lp_reader {
    const unsigned char *s;
    size_t len, pos;
    char *arena;
    size_t alen, aused;
    lp_parsed *p;
} lp_reader;

__attribute__((format(printf, 2, 3))) static inline int lp_p_fail(lp_reader *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(r->p->why, sizeof r->p->why, fmt, ap);
    va_end(ap);
    size_t at = k > 0 ? ((size_t)k < sizeof r->p->why ? (size_t)k : sizeof r->p->why - 1) : 0;
    snprintf(r->p->why + at, sizeof r->p->why - at, " (at byte %zu)", r->pos);
    return -1;
}

/* UTF-8 by decoding: each sequence gives a code point, which must be the shortest encoding of it,
 * not a surrogate, and at most U+10FFFF. */
static inline bool lp_p_utf8_ok(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        size_t k;
        uint32_t cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0) {
            k = 2, cp = c & 0x1Fu, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            k = 3, cp = c & 0x0Fu, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            k = 4, cp = c & 0x07u, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < k)
            return false;
        for (size_t j = 1; j < k; j++) {
            if ((s[i + j] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + j] & 0x3Fu);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += k;
    }
    return true;
}

/* A name: measurement (eq_special false) or tag key, tag value, field key (true). Its escaped bytes
 * in the line are [*raw0, *raw1). */
static inline int lp_p_name(lp_reader *r, const char *what, bool eq_special, const char **out, size_t *raw0,
                            size_t *raw1)
{
    char *o = r->arena + r->aused;
    size_t n = 0;
    bool after_plain_backslash = false;
    *raw0 = r->pos;
    while (r->pos < r->len) {
        unsigned char c = r->s[r->pos];
        if (c == '\\' && r->pos + 1 < r->len) {
            unsigned char d = r->s[r->pos + 1];
            if (d == ',' || d == ' ' || (eq_special && d == '=')) {
                if (after_plain_backslash)
                    return lp_p_fail(r, "%s: a plain backslash before the escape sequence \"\\%c\" "
                                        "(InfluxDB 1.x reads it differently)", what, d);
                o[n++] = (char)d;
                r->pos += 2;
                continue;
            }
            o[n++] = '\\';
            r->pos++;
            after_plain_backslash = true;
            continue;
        }
        if (c == ',' || c == ' ' || c == '\n' || (eq_special && c == '='))
            break;
        if (c < 0x20 || c == 0x7F)
            return lp_p_fail(r, "%s: control character 0x%02x", what, c);
        o[n++] = (char)c;
        r->pos++;
        after_plain_backslash = false;
    }
    *raw1 = r->pos;
    if (!n)
        return lp_p_fail(r, "%s is empty", what);
    o[n] = 0;
    r->aused += n + 1;
    *out = o;
    return 0;
}

static inline int lp_p_expect(lp_reader *r, char c, const char *where)
{
    if (r->pos >= r->len || r->s[r->pos] != (unsigned char)c)
        return lp_p_fail(r, "expected '%c' %s", c == '\n' ? 'n' : c, where);
    r->pos++;
    return 0;
}

static inline int lp_p_string(lp_reader *r, const char **out)
{
    char *o = r->arena + r->aused;
    size_t n = 0;
    r->pos++; /* the opening quote */
    for (;;) {
        if (r->pos >= r->len || r->s[r->pos] == '\n')
            return lp_p_fail(r, "string value without its closing quote");
        unsigned char c = r->s[r->pos];
        if (c == '"')
            break;
        if (c == '\\') {
            unsigned char d = r->pos + 1 < r->len ? r->s[r->pos + 1] : 0;
            if (d != '\\' && d != '"')
                return lp_p_fail(r, "a backslash in a string value that escapes neither '\\' nor '\"'");
            o[n++] = (char)d;
            r->pos += 2;
            continue;
        }
        o[n++] = (char)c;
        r->pos++;
    }
    r->pos++; /* the closing quote */
    o[n] = 0;
    r->aused += n + 1;
    *out = o;
    return 0;
}

static inline bool lp_p_digit(unsigned char c) { return c >= '0' && c <= '9'; }

/* Decimal digits [t, t+n) into a magnitude; false on overflow past max or when there are none. */
static inline bool lp_p_magnitude(const unsigned char *t, size_t n, uint64_t max, uint64_t *v)
{
    if (!n)
        return false;
    uint64_t m = 0;
    for (size_t k = 0; k < n; k++) {
        if (!lp_p_digit(t[k]))
            return false;
        unsigned d = t[k] - '0';
        if (m > (max - d) / 10)
            return false;
        m = m * 10 + d;
    }
    *v = m;
    return true;
}

/* A signed decimal into [-lim_neg, lim_pos]. */
static inline bool lp_p_signed(const unsigned char *t, size_t n, uint64_t lim_neg, uint64_t lim_pos, int64_t *v)
{
    bool neg = n > 0 && t[0] == '-';
    uint64_t m;
    if (!lp_p_magnitude(t + neg, n - neg, neg ? lim_neg : lim_pos, &m))
        return false;
    if (neg)
        *v = m == (uint64_t)1 << 63 ? INT64_MIN : -(int64_t)m;
    else
        *v = (int64_t)m;
    return true;
}

static inline bool lp_p_float_syntax(const unsigned char *t, size_t n)
{
    size_t i = 0, d1 = 0, d2 = 0;
    if (i < n && t[i] == '-')
        i++;
    while (i < n && lp_p_digit(t[i]))
        i++, d1++;
    if (i < n && t[i] == '.') {
        i++;
        while (i < n && lp_p_digit(t[i]))
            i++, d2++;
    }
    if (d1 + d2 == 0)
        return false;
    if (i < n && (t[i] == 'e' || t[i] == 'E')) {
        size_t de = 0;
        i++;
        if (i < n && (t[i] == '+' || t[i] == '-'))
            i++;
        while (i < n && lp_p_digit(t[i]))
            i++, de++;
        if (!de)
            return false;
    }
    return i == n;
}

static inline int lp_p_value(lp_reader *r, lp_pfield *f)
{
    if (r->pos < r->len && r->s[r->pos] == '"') {
        f->type = LP_P_STRING;
        return lp_p_string(r, &f->s);
    }
    size_t start = r->pos;
    while (r->pos < r->len && r->s[r->pos] != ',' && r->s[r->pos] != ' ' && r->s[r->pos] != '\n')
        r->pos++;
    const unsigned char *t = r->s + start;
    size_t n = r->pos - start;
    if (!n)
        return lp_p_fail(r, "field %s has no value", f->key);
    static const char *const trues[] = {"t", "T", "true", "True", "TRUE"};
    static const char *const falses[] = {"f", "F", "false", "False", "FALSE"};
    for (size_t k = 0; k < 5; k++) {
        if (strlen(trues[k]) == n && memcmp(t, trues[k], n) == 0) {
            f->type = LP_P_BOOL, f->b = true;
            return 0;
        }
        if (strlen(falses[k]) == n && memcmp(t, falses[k], n) == 0) {
            f->type = LP_P_BOOL, f->b = false;
            return 0;
        }
    }
    if (t[n - 1] == 'i') {
        f->type = LP_P_INT;
        if (!lp_p_signed(t, n - 1, (uint64_t)1 << 63, (uint64_t)INT64_MAX, &f->i))
            return lp_p_fail(r, "field %s: \"%.*s\" is not an int64 with 'i'", f->key, (int)n, (const char *)t);
        return 0;
    }
    if (t[n - 1] == 'u') {
        f->type = LP_P_UINT;
        if (!lp_p_magnitude(t, n - 1, UINT64_MAX, &f->u))
            return lp_p_fail(r, "field %s: \"%.*s\" is not a uint64 with 'u'", f->key, (int)n, (const char *)t);
        return 0;
    }
    f->type = LP_P_FLOAT;
    if (!lp_p_float_syntax(t, n))
        return lp_p_fail(r, "field %s: \"%.*s\" is not a float", f->key, (int)n, (const char *)t);
    char tmp[400];
    if (n >= sizeof tmp)
        return lp_p_fail(r, "field %s: a float of %zu characters", f->key, n);
    memcpy(tmp, t, n);
    tmp[n] = 0;
    char *end;
    f->f = strtod(tmp, &end);
    if (*end || !isfinite(f->f))
        return lp_p_fail(r, "field %s: float \"%s\" does not read as a finite double", f->key, tmp);
    return 0;
}

/* Reads line[0, len), which must be exactly one line ending in '\n', into p (strings in arena).
 * 0, or -1 with the reason in p->why. */
static inline int lp_parse_line(const char *line, size_t len, lp_parsed *p, char *arena, size_t arena_len)
{
    lp_reader rd = {(const unsigned char *)line, len, 0, arena, arena_len, 0, p}, *r = &rd;
    memset(p, 0, sizeof *p);
    if (arena_len < 2 * len + 16)
        return lp_p_fail(r, "arena of %zu bytes for a line of %zu", arena_len, len);
    if (len < 2 || line[len - 1] != '\n')
        return lp_p_fail(r, "the line does not end in a newline");
    for (size_t k = 0; k < len; k++) {
        if ((line[k] == '\n' && k != len - 1) || line[k] == '\r' || line[k] == 0) {
            r->pos = k;
            return lp_p_fail(r, "a raw 0x%02x inside the line", (unsigned char)line[k]);
        }
    }
    if (!lp_p_utf8_ok(r->s, len))
        return lp_p_fail(r, "the line is not valid UTF-8");
    if (line[0] == '#')
        return lp_p_fail(r, "the line is a comment");
    size_t a0, a1, prev0 = 0, prev1 = 0;
    if (lp_p_name(r, "measurement", false, &p->measurement, &a0, &a1))
        return -1;
    while (r->pos < len && r->s[r->pos] == ',') {
        r->pos++;
        if (p->ntags == LP_PARSE_MAX_TAGS)
            return lp_p_fail(r, "more than %d tags", LP_PARSE_MAX_TAGS);
        size_t k = p->ntags;
        if (lp_p_name(r, "tag key", true, &p->tag_key[k], &a0, &a1))
            return -1;
        if (k > 0) { /* strictly ascending by escaped bytes */
            size_t la = prev1 - prev0, lb = a1 - a0;
            int c = memcmp(line + prev0, line + a0, la < lb ? la : lb);
            if (c > 0 || (c == 0 && la >= lb))
                return lp_p_fail(r, "tag key \"%s\" is not after \"%s\"", p->tag_key[k], p->tag_key[k - 1]);
        }
        prev0 = a0, prev1 = a1;
        if (lp_p_expect(r, '=', "after a tag key"))
            return -1;
        if (lp_p_name(r, "tag value", true, &p->tag_value[k], &a0, &a1))
            return -1;
        p->ntags++;
    }
    if (lp_p_expect(r, ' ', "after the measurement and tags"))
        return -1;
    for (;;) {
        if (p->nfields == LP_PARSE_MAX_FIELDS)
            return lp_p_fail(r, "more than %d fields", LP_PARSE_MAX_FIELDS);
        lp_pfield *f = &p->fields[p->nfields];
        if (lp_p_name(r, "field key", true, &f->key, &a0, &a1))
            return -1;
        if (lp_p_expect(r, '=', "after a field key"))
            return -1;
        if (lp_p_value(r, f))
            return -1;
        p->nfields++;
        if (r->pos < len && r->s[r->pos] == ',') {
            r->pos++;
            continue;
        }
        break;
    }
    if (lp_p_expect(r, ' ', "before the timestamp"))
        return -1;
    size_t t0 = r->pos;
    while (r->pos < len && (lp_p_digit(r->s[r->pos]) || (r->pos == t0 && r->s[r->pos] == '-')))
        r->pos++;
    if (!lp_p_signed(r->s + t0, r->pos - t0, (uint64_t)INT64_MAX - 1, (uint64_t)INT64_MAX - 1, &p->t_ns))
        return lp_p_fail(r, "no timestamp within ±9223372036854775806");
    if (r->pos != len - 1)
        return lp_p_fail(r, "text after the timestamp");
    return 0;
}

#endif
