/* store/lineproto.c — the InfluxDB line-protocol formatter (store/lineproto.h).
 *
 * Pure: no I/O, no allocation, no global state; any thread may call it at any time. A line is made
 * in three steps: everything is validated first (and the tags are put in order through an index
 * array on the stack), then one emitter runs twice, once only counting bytes and once writing them
 * when they fit. Counting first formats each float twice, but a refused or oversized line never
 * touches the caller's buffer at all, not even past *len.
 *
 * Names (measurement, tag keys, tag values, field keys) have no escape for the backslash itself:
 * InfluxDB 1.x takes whatever byte follows a backslash as escaped, newer parsers only ',', '=' and
 * ' '. Both read a backslash followed by any other byte as a plain backslash, so that is how one is
 * written; a backslash at the end of a name, or before a byte that itself needs escaping, has no
 * spelling both read back the same way, and such a name is refused. So are control characters in
 * names (the grammar has no place for them; InfluxDB 1.x even strips a leading tab). String field
 * values escape both '"' and '\', which every parser reads back. */
#include "store/lineproto.h"

#include "common/utf8.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* InfluxDB's valid time range is ±9223372036854775806 ns: the int64 values past it are its own
 * sentinels, and a point stamped with them is refused by the server. */
#define LP_MIN_T_NS (INT64_MIN + 2)
#define LP_MAX_T_NS (INT64_MAX - 1)

#define LP_WHY_MAX 96    /* a reason, e.g. "contains control character 0x09 (byte 12)" */
#define LP_QUOTE_MAX 200 /* a name quoted for a message: ≤ 40 input bytes, ≤ 4 chars each */
#define LP_NUM_MAX 64    /* a number's text; a float needs ≤ 24 bytes in the C locale */

/* Measurements escape ',' and ' '; tag keys, tag values and field keys also '='. */
enum name_kind { NAME_MEASUREMENT, NAME_KEY };

static bool must_escape(enum name_kind kind, unsigned char c)
{
    return c == ',' || c == ' ' || (kind == NAME_KEY && c == '=');
}

/* Whether s can be carried as a name of the given kind (is_name) or as a string field value; if
 * not, why says so in words. */
static bool text_ok(const char *s, bool is_name, enum name_kind kind, char *why, size_t whylen)
{
    if (!s) {
        snprintf(why, whylen, "is NULL");
        return false;
    }
    if (is_name && !s[0]) {
        snprintf(why, whylen, "is empty");
        return false;
    }
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; u[i];) {
        unsigned char c = u[i];
        if (c == '\n') {
            snprintf(why, whylen, "contains a newline (byte %zu)", i);
            return false;
        }
        if (c == '\r') {
            snprintf(why, whylen, "contains a carriage return (byte %zu)", i);
            return false;
        }
        if (is_name && (c < 0x20 || c == 0x7F)) {
            snprintf(why, whylen, "contains control character 0x%02x (byte %zu)", c, i);
            return false;
        }
        if (is_name && c == '\\' && !u[i + 1]) {
            snprintf(why, whylen, "ends with a backslash, which line protocol cannot carry");
            return false;
        }
        if (is_name && c == '\\' && must_escape(kind, u[i + 1])) {
            snprintf(why, whylen, "has a backslash before '%c' (byte %zu), which line protocol cannot carry",
                     u[i + 1], i);
            return false;
        }
        size_t n = vw_utf8_seq_str(u + i, NULL);
        if (!n) {
            snprintf(why, whylen, "is not valid UTF-8 (byte %zu)", i);
            return false;
        }
        i += n;
    }
    return true;
}

/* s for a message, quoted: printable ASCII and well-formed UTF-8 as they are, '"' and '\' escaped,
 * anything else as \xHH; at most about 40 input bytes, then "...". */
static const char *quoted(const char *s, char out[LP_QUOTE_MAX])
{
    if (!s)
        return "(null)";
    const unsigned char *u = (const unsigned char *)s;
    size_t o = 0, i = 0;
    out[o++] = '"';
    while (u[i] && i < 40) {
        size_t n = u[i] >= 0x80 ? vw_utf8_seq_str(u + i, NULL) : 0;
        if (n) {
            memcpy(out + o, u + i, n);
            o += n;
            i += n;
        } else if (u[i] == '"' || u[i] == '\\') {
            out[o++] = '\\';
            out[o++] = (char)u[i++];
        } else if (u[i] >= 0x20 && u[i] < 0x7F) {
            out[o++] = (char)u[i++];
        } else {
            snprintf(out + o, 5, "\\x%02x", u[i++]);
            o += 4;
        }
    }
    if (u[i]) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o++] = '"';
    out[o] = 0;
    return out;
}

__attribute__((format(printf, 4, 5))) static int fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* Compares two tag keys as they appear escaped in the line, byte by byte (Go's bytes.Compare, the
 * order InfluxDB checks for), without making the escaped copies. */
static int next_escaped(const char **s, unsigned char *pending)
{
    if (*pending) {
        int c = *pending;
        *pending = 0;
        return c;
    }
    unsigned char c = (unsigned char)**s;
    if (!c)
        return -1;
    (*s)++;
    if (must_escape(NAME_KEY, c)) {
        *pending = c;
        return '\\';
    }
    return c;
}

static int key_cmp(const char *a, const char *b)
{
    unsigned char pa = 0, pb = 0;
    for (;;) {
        int ca = next_escaped(&a, &pa), cb = next_escaped(&b, &pb);
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (ca < 0)
            return 0;
    }
}

/* ---- the emitter: counts when p is NULL, writes otherwise ------------------------------------- */

typedef struct lp_sink {
    char *p;
    size_t n;
} lp_sink;

static void put(lp_sink *o, const char *s, size_t k)
{
    if (o->p)
        memcpy(o->p + o->n, s, k);
    o->n += k;
}

static void put_c(lp_sink *o, char c)
{
    if (o->p)
        o->p[o->n] = c;
    o->n++;
}

static void put_name(lp_sink *o, const char *s, enum name_kind kind)
{
    for (; *s; s++) {
        if (must_escape(kind, (unsigned char)*s))
            put_c(o, '\\');
        put_c(o, *s);
    }
}

static void put_string(lp_sink *o, const char *s)
{
    put_c(o, '"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            put_c(o, '\\');
        put_c(o, *s);
    }
    put_c(o, '"');
}

/* The shortest of "%.15g", "%.16g", "%.17g" that strtod reads back to the same bits (17 digits
 * always do). The text has digits, '-', 'e', '+' and a decimal point only — never "inf" or "nan",
 * which are not passed here — and reads as a float in line protocol even without a '.' ("1").
 * Should LC_NUMERIC not be "C", its decimal point (found by strtod all the same) becomes '.'. */
static size_t format_float(double v, char out[LP_NUM_MAX])
{
    char tmp[LP_NUM_MAX];
    int k = 0;
    for (int prec = 15; prec <= 17; prec++) {
        k = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
        if (prec == 17)
            break;
        double back = strtod(tmp, NULL);
        if (memcmp(&back, &v, sizeof v) == 0)
            break;
    }
    if (k < 0)
        k = 0;
    if (k >= LP_NUM_MAX)
        k = LP_NUM_MAX - 1;
    size_t n = 0;
    for (int i = 0; i < k;) {
        char c = tmp[i];
        if ((c >= '0' && c <= '9') || c == '-' || c == '+' || c == 'e' || c == 'E') {
            out[n++] = c;
            i++;
        } else { /* the decimal point, one or more bytes */
            out[n++] = '.';
            while (i < k && !((tmp[i] >= '0' && tmp[i] <= '9') || tmp[i] == 'e' || tmp[i] == 'E'))
                i++;
        }
    }
    return n;
}

static bool field_written(const store_lp_field *f)
{
    return f->type != STORE_LP_FLOAT || isfinite(f->v.f);
}

static void put_field_value(lp_sink *o, const store_lp_field *f)
{
    char num[LP_NUM_MAX];
    int k;
    switch (f->type) {
    case STORE_LP_FLOAT:
        put(o, num, format_float(f->v.f, num));
        break;
    case STORE_LP_INT:
        k = snprintf(num, sizeof num, "%" PRId64 "i", f->v.i);
        put(o, num, (size_t)k);
        break;
    case STORE_LP_UINT:
        k = snprintf(num, sizeof num, "%" PRIu64 "u", f->v.u);
        put(o, num, (size_t)k);
        break;
    case STORE_LP_BOOL:
        if (f->v.b)
            put(o, "true", 4);
        else
            put(o, "false", 5);
        break;
    case STORE_LP_STRING:
        put_string(o, f->v.s);
        break;
    }
}

static void emit(lp_sink *o, const char *measurement, const store_lp_tag *tags, const unsigned char *order,
                 size_t norder, const store_lp_field *fields, size_t nfields, int64_t t_ns)
{
    put_name(o, measurement, NAME_MEASUREMENT);
    for (size_t k = 0; k < norder; k++) {
        put_c(o, ',');
        put_name(o, tags[order[k]].key, NAME_KEY);
        put_c(o, '=');
        put_name(o, tags[order[k]].value, NAME_KEY);
    }
    char sep = ' ';
    for (size_t i = 0; i < nfields; i++) {
        if (!field_written(&fields[i]))
            continue;
        put_c(o, sep);
        sep = ',';
        put_name(o, fields[i].key, NAME_KEY);
        put_c(o, '=');
        put_field_value(o, &fields[i]);
    }
    char ts[32];
    int k = snprintf(ts, sizeof ts, " %" PRId64 "\n", t_ns);
    put(o, ts, (size_t)k);
}

int store_lp_line(char *buf, size_t cap, size_t *len, const char *measurement, const store_lp_tag *tags,
                  size_t ntags, const store_lp_field *fields, size_t nfields, int64_t t_ns, char *err,
                  size_t errlen)
{
    char why[LP_WHY_MAX], q[LP_QUOTE_MAX];
    if (err && errlen)
        err[0] = 0;
    if (!len)
        return fail(err, errlen, -EINVAL, "lineproto: len is NULL");
    if (*len > cap)
        return fail(err, errlen, -EINVAL, "lineproto: *len (%zu) is past cap (%zu)", *len, cap);
    if (!buf && cap)
        return fail(err, errlen, -EINVAL, "lineproto: buf is NULL with cap %zu", cap);
    if (ntags > STORE_LP_MAX_TAGS)
        return fail(err, errlen, -EINVAL, "lineproto: %zu tags, more than STORE_LP_MAX_TAGS (%d)", ntags,
                    STORE_LP_MAX_TAGS);
    if (ntags && !tags)
        return fail(err, errlen, -EINVAL, "lineproto: tags is NULL with ntags %zu", ntags);
    if (nfields && !fields)
        return fail(err, errlen, -EINVAL, "lineproto: fields is NULL with nfields %zu", nfields);

    if (!text_ok(measurement, true, NAME_MEASUREMENT, why, sizeof why))
        return fail(err, errlen, -EINVAL, "lineproto: measurement %s: %s", quoted(measurement, q), why);
    if (measurement[0] == '#')
        return fail(err, errlen, -EINVAL, "lineproto: measurement %s: starts with '#', which makes the line a comment",
                    quoted(measurement, q));

    /* order[] lists the tags that are written (non-empty value) sorted by escaped key */
    unsigned char order[STORE_LP_MAX_TAGS];
    size_t norder = 0;
    for (size_t i = 0; i < ntags; i++) {
        const store_lp_tag *t = &tags[i];
        if (!text_ok(t->key, true, NAME_KEY, why, sizeof why))
            return fail(err, errlen, -EINVAL, "lineproto: tags[%zu] key %s: %s", i, quoted(t->key, q), why);
        if (!t->value || !t->value[0])
            continue; /* the protocol has no empty tag value: the tag is left out */
        if (!text_ok(t->value, true, NAME_KEY, why, sizeof why))
            return fail(err, errlen, -EINVAL, "lineproto: tags[%zu] (key %s) value: %s", i, quoted(t->key, q), why);
        size_t j = norder++;
        while (j > 0 && key_cmp(tags[order[j - 1]].key, t->key) > 0) {
            order[j] = order[j - 1];
            j--;
        }
        if (j > 0 && key_cmp(tags[order[j - 1]].key, t->key) == 0)
            return fail(err, errlen, -EINVAL, "lineproto: tags[%u] and tags[%zu] have the same key %s (InfluxDB "
                        "refuses duplicate tags)", (unsigned)order[j - 1], i, quoted(t->key, q));
        order[j] = (unsigned char)i;
    }

    size_t nwritten = 0;
    for (size_t i = 0; i < nfields; i++) {
        const store_lp_field *f = &fields[i];
        if (!text_ok(f->key, true, NAME_KEY, why, sizeof why))
            return fail(err, errlen, -EINVAL, "lineproto: fields[%zu] key %s: %s", i, quoted(f->key, q), why);
        switch (f->type) {
        case STORE_LP_FLOAT:
        case STORE_LP_INT:
        case STORE_LP_UINT:
        case STORE_LP_BOOL:
            break;
        case STORE_LP_STRING:
            if (!text_ok(f->v.s, false, NAME_KEY, why, sizeof why))
                return fail(err, errlen, -EINVAL, "lineproto: fields[%zu] (key %s) string value: %s", i,
                            quoted(f->key, q), why);
            break;
        default:
            return fail(err, errlen, -EINVAL, "lineproto: fields[%zu] (key %s): unknown type %d", i,
                        quoted(f->key, q), (int)f->type);
        }
        nwritten += field_written(f);
    }
    if (t_ns < LP_MIN_T_NS || t_ns > LP_MAX_T_NS)
        return fail(err, errlen, -EINVAL, "lineproto: timestamp %" PRId64 " ns is outside InfluxDB's range "
                    "(-9223372036854775806 to 9223372036854775806)", t_ns);
    if (!nwritten)
        return fail(err, errlen, -ENODATA, "lineproto: measurement %s: no field to write (%zu given, none finite)",
                    quoted(measurement, q), nfields);

    lp_sink count = {NULL, 0};
    emit(&count, measurement, tags, order, norder, fields, nfields, t_ns);
    if (count.n > cap - *len)
        return fail(err, errlen, -ENOSPC, "lineproto: a line of %zu bytes does not fit in the %zu bytes left",
                    count.n, cap - *len);
    lp_sink out = {buf + *len, 0};
    emit(&out, measurement, tags, order, norder, fields, nfields, t_ns);
    *len += out.n;
    return 0;
}
